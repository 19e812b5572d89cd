#!/usr/bin/env python3
"""CI step: one numeric evaluator and one budget helper.

* ``lambdify`` is used only inside ``symflow/numeric/`` (the one numeric evaluator,
  whose special-function mappings are tested against ``evalf``);
* SymPy's calls that can run without bound -- ``simplify``, ``integrate``, ``limit``,
  ``solve``, ``summation`` -- are used only in ``symflow/core/budget.py``, which runs
  each under a time budget; everything else calls ``budget.simplify(...)`` and so on.

The scan reads the syntax tree of every ``.py`` file under ``symflow/`` (so docstrings
and comments do not count) and flags a use of one of those names as an attribute of
``sympy``/``sp`` (``sp.simplify``), as a bare name imported from SymPy, or as a method
call on an expression (``expr.simplify()``, ``expr.integrate(x)``).  Calls through
symflow's own helper modules (``budget.simplify``, ``budgets.integrate``) are fine.

Usage: ``python .ci/no_unbudgeted.py [ROOT]``; exit 0 when nothing is flagged, 1 otherwise.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

UNBOUNDED = frozenset({"simplify", "integrate", "limit", "solve", "summation"})
EVALUATOR = frozenset({"lambdify"})
# The modules allowed to use each group, relative to ROOT/symflow.
ALLOWED = {"budget": ("core/budget.py",), "numeric": ("numeric/",)}
# Names under which symflow imports its own helper modules: calls through them are the point.
HELPERS = frozenset({"budget", "budgets"})
SYMPY = frozenset({"sp", "sympy"})


def _allowed(rel: str, group: str) -> bool:
    return any(rel == a or (a.endswith("/") and rel.startswith(a)) for a in ALLOWED[group])


class _Scanner(ast.NodeVisitor):
    def __init__(self, rel: str) -> None:
        self.rel = rel
        self.found: list[tuple[int, str]] = []
        self.from_sympy: set[str] = set()

    def _flag(self, node: ast.AST, name: str) -> None:
        group = "numeric" if name in EVALUATOR else "budget"
        if not _allowed(self.rel, group):
            self.found.append((node.lineno, name))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module and node.module.split(".")[0] == "sympy":
            for alias in node.names:
                if alias.name in UNBOUNDED | EVALUATOR:
                    self._flag(node, alias.name)
                    self.from_sympy.add(alias.asname or alias.name)
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in UNBOUNDED | EVALUATOR:
            base = node.value
            if isinstance(base, ast.Name) and base.id in HELPERS:
                pass  # budget.simplify(...): the helper itself
            elif isinstance(base, ast.Name) and base.id in SYMPY:
                self._flag(node, node.attr)
            elif node.attr in UNBOUNDED and not (isinstance(base, ast.Name) and base.id[0].isupper()):
                # expr.simplify(), expr.integrate(x): SymPy's methods run the same algorithms
                self._flag(node, node.attr)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in self.from_sympy:
            self._flag(node, node.id)
        self.generic_visit(node)


def scan(root: Path) -> list[str]:
    package = root / "symflow"
    out = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).as_posix()
        scanner = _Scanner(rel)
        scanner.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        out.extend(f"symflow/{rel}:{line}: {name}" for line, name in scanner.found)
    return out


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]
    found = scan(root)
    for line in found:
        print(line)
    print(
        f"{len(found)} use(s) of lambdify outside symflow/numeric or of SymPy's unbounded calls outside "
        "symflow/core/budget.py"
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
