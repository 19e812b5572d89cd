"""The package's shape: layers, no import cycles, one evaluator and one budget helper, a public surface.

The CI gates live in ``.ci/`` (run by ``.ci/run``); these tests run them too and
plant violations to show each gate catches its own kind.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pkgutil
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

import symflow

REPO = Path(__file__).resolve().parents[1]
OPTIONAL = ("symflow.numeric.torch_backend", "symflow.numeric.jax_backend", "symflow.__main__")


def _ci(name: str):
    spec = importlib.util.spec_from_file_location(f"ci_{name}", REPO / ".ci" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_layers_contract_is_kept():
    if importlib.util.find_spec("importlinter") is None:
        pytest.fail("import-linter is in the test extra: pip install '.[test]'")
    out = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 kept, 0 broken" in out.stdout


def test_no_import_cycles():
    assert _ci("import_cycles").cycles("symflow") == []


def test_import_cycle_finder_finds_a_planted_cycle(tmp_path, monkeypatch):
    pkg = tmp_path / "planted_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from . import b\n")
    (pkg / "b.py").write_text("from . import a\n")
    (pkg / "c.py").write_text("from . import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _ci("import_cycles").cycles("planted_pkg") == [["planted_pkg.a", "planted_pkg.b"]]


@pytest.mark.slow
def test_no_lambdify_or_unbudgeted_sympy_outside_their_modules():
    assert _ci("no_unbudgeted").scan(REPO) == []


def test_the_budget_gate_catches_planted_calls(tmp_path):
    (tmp_path / "symflow" / "core").mkdir(parents=True)
    (tmp_path / "symflow" / "numeric").mkdir()
    (tmp_path / "symflow" / "core" / "budget.py").write_text("import sympy as sp\nsp.simplify\n")
    (tmp_path / "symflow" / "numeric" / "ok.py").write_text("import sympy as sp\nsp.lambdify\n")
    (tmp_path / "symflow" / "bad.py").write_text(
        textwrap.dedent(
            """
            import sympy as sp
            from sympy import integrate as integ
            from ..core import budget
            def f(e, x):
                sp.simplify(e)
                e.simplify()
                e.integrate(x)
                integ(e, x)
                sp.lambdify(x, e)
                budget.simplify(e, timeout=1)
                return sp.Integral(e, x)
            """
        )
    )
    found = _ci("no_unbudgeted").scan(tmp_path)
    names = sorted(line.rsplit(": ", 1)[1] for line in found)
    assert all(line.startswith("symflow/bad.py") for line in found)
    assert names == ["integ", "integrate", "integrate", "lambdify", "simplify", "simplify"]


def _symflow_imports(path: Path) -> list[str]:
    bad = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "symflow":
            bad.append(f"line {node.lineno}: from {node.module} import ...")
        if isinstance(node, ast.Import):
            bad.extend(f"line {node.lineno}: import {a.name}" for a in node.names if a.name.startswith("symflow."))
    return bad


@pytest.mark.parametrize("path", sorted((REPO / "derivations").glob("*.py")), ids=lambda p: p.stem)
def test_derivations_use_only_the_top_level(path: Path):
    """The paper's claims are written against the public surface: ``import symflow as sf`` and nothing deeper."""
    assert _symflow_imports(path) == []


def test_the_derivation_import_check_sees_internal_imports(tmp_path):
    f = tmp_path / "d.py"
    f.write_text("import symflow as sf\nfrom symflow.zero import decide_zero\nimport symflow.core.budget\n")
    assert len(_symflow_imports(f)) == 2


def _packages() -> list[types.ModuleType]:
    out = [symflow]
    for info in pkgutil.walk_packages(symflow.__path__, "symflow."):
        if info.name in OPTIONAL:
            continue
        module = importlib.import_module(info.name)
        if info.ispkg:
            out.append(module)
    return out


def test_no_name_shadows_a_module():
    """``symflow.cli.app`` is the module, never a function of the same name exported by the package."""
    shadowed = [
        f"{pkg.__name__}.{sub.name}"
        for pkg in _packages()
        for sub in pkgutil.iter_modules(pkg.__path__)
        if not isinstance(getattr(pkg, sub.name, types.ModuleType("unset")), types.ModuleType)
    ]
    assert shadowed == []


def test_every_public_name_exists():
    assert sorted(symflow.__all__) == sorted(set(symflow.__all__))
    assert [n for n in symflow.__all__ if not hasattr(symflow, n)] == []
