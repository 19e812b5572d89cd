#!/usr/bin/env python3
"""CI step: no ``eval``, ``exec``, ``compile``, ``__import__``, ``sympify``, ``parse_expr`` or ``S(text)`` in symflow/.

symflow reads typed expressions only through ``symflow.core.parsing`` (a whitelist over Python's
``ast``); anything that turns text into running code or into a SymPy expression by evaluation
is refused here unless it is on ``TRUSTED`` below, with the function it sits in and why.

The scan reads the syntax tree of every ``.py`` file rather than grepping the text, so it is
not fooled by docstrings (``eps = S(x)``), by SymPy's ``def eval(cls, ...)`` classmethods or by
``spec.loader.exec_module``, and it sees through ``import ... as`` and ``f = eval``.  Flagged:

* a use of the names ``eval``, ``exec``, ``compile``, ``__import__``, ``sympify``,
  ``parse_expr`` (called or not: ``f = eval`` counts), or an import of them;
* the attributes ``.sympify``, ``.parse_expr``, ``.__import__``, and ``builtins.eval`` /
  ``builtins.exec`` / ``builtins.compile``;
* a call ``S(arg)`` / ``sp.S(arg)`` / ``sympy.S(arg)`` whose argument is not a number literal
  (``S`` sympifies whatever it gets, strings included).

Usage: ``python .ci/no_eval.py [ROOT]`` (ROOT defaults to the repository; scans ROOT/symflow).
Exit 0 when every finding is trusted and every trusted entry still matches; 1 otherwise.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import NamedTuple

NAMES = frozenset({"eval", "exec", "compile", "__import__", "sympify", "parse_expr"})
ATTRIBUTES = frozenset({"sympify", "parse_expr", "__import__"})
BUILTIN_ATTRIBUTES = frozenset({"eval", "exec", "compile"})


class Trusted(NamedTuple):
    path: str  # relative to ROOT, with /
    function: str  # qualified name of the enclosing function, e.g. "Printer.render"
    name: str  # the flagged name
    reason: str


# Each entry: a place that runs only code symflow generated itself from SymPy objects, never text
# from a user.  Keep the reason specific; remove the entry when the code goes.
TRUSTED: tuple[Trusted, ...] = ()


class Finding(NamedTuple):
    path: str
    line: int
    function: str
    name: str
    what: str


class _Scanner(ast.NodeVisitor):
    def __init__(self, path: str) -> None:
        self.path = path
        self.scope: list[str] = []
        self.findings: list[Finding] = []

    def flag(self, node: ast.AST, name: str, what: str) -> None:
        function = ".".join(self.scope) or "<module>"
        self.findings.append(Finding(self.path, node.lineno, function, name, what))

    def _scoped(self, node) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scoped

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in NAMES:
            self.flag(node, node.id, f"use of {node.id}")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in ATTRIBUTES:
            self.flag(node, node.attr, f"attribute .{node.attr}")
        elif node.attr in BUILTIN_ATTRIBUTES and isinstance(node.value, ast.Name) and node.value.id == "builtins":
            self.flag(node, node.attr, f"builtins.{node.attr}")
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name in NAMES:
                self.flag(node, alias.name, f"import of {alias.name} from {node.module}")

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        is_s = (isinstance(func, ast.Name) and func.id == "S") or (
            isinstance(func, ast.Attribute) and func.attr == "S" and isinstance(func.value, ast.Name)
        )
        if is_s and not all(_is_number_literal(a) for a in node.args):
            self.flag(node, "S", "S(...) of something other than a number literal")
        self.generic_visit(node)


def _is_number_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def scan(root: Path) -> list[Finding]:
    """Every flagged use under root/symflow, in file and line order."""
    findings = []
    for path in sorted((root / "symflow").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        scanner = _Scanner(rel)
        scanner.visit(tree)
        findings.extend(scanner.findings)
    return findings


def check(root: Path, trusted: tuple[Trusted, ...] = TRUSTED) -> list[str]:
    """Problems: untrusted findings and trusted entries that no longer match anything."""
    findings = scan(root)
    problems = []
    used = set()
    for f in findings:
        match = next((t for t in trusted if (t.path, t.function, t.name) == (f.path, f.function, f.name)), None)
        if match is None:
            problems.append(
                f"{f.path}:{f.line}: {f.what} in {f.function}; read typed text with symflow.core.parsing, build "
                "expressions with SymPy, or add a Trusted entry (file, function, reason) in .ci/no_eval.py"
            )
        else:
            used.add(match)
    for t in trusted:
        if t not in used:
            problems.append(f"stale trusted entry {t.path} {t.function} {t.name}: nothing matches it; remove it")
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1]
    if not (root / "symflow").is_dir():
        print(f"no_eval: {root}/symflow is not a folder", file=sys.stderr)
        return 2
    problems = check(root)
    for p in problems:
        print(p, file=sys.stderr)
    print(f"no_eval: {len(scan(root))} flagged use(s), {len(problems)} problem(s) in {root / 'symflow'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
