"""Symbolic canonical forms: rewrite, then look for a structural zero.

Each strategy maps an expression to an equivalent one; a strategy succeeds
when the result is the literal 0.  They are tried cheapest first.  Rewriting
special functions into one family (``lowergamma`` -> ``uppergamma``) lets
``simplify`` see identities such as lowergamma + uppergamma = gamma.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from ..core import budget
from ..structured.ops import has_any

__all__ = ["STRATEGIES", "strategies_for"]


@budget.pure  # a deterministic rewrite of expr alone: decide_zero's budgeted step of it is remembered
def _cancel(expr: sp.Expr) -> sp.Expr:
    return sp.cancel(sp.together(expr))


@budget.pure
def _simplify(expr: sp.Expr) -> sp.Expr:
    return budget.simplify(expr)  # decide_zero runs every strategy under its own budget


@budget.pure
def _special_families(expr: sp.Expr) -> sp.Expr:
    # Express lower/upper incomplete gamma and meijerg through one family, then simplify.
    out = expr
    if out.has(sp.meijerg):
        out = out.replace(lambda e: isinstance(e, sp.meijerg), lambda e: sp.hyperexpand(e))
    if out.has(sp.lowergamma):
        out = out.rewrite(sp.uppergamma)
    return budget.simplify(out)


@budget.pure
def _expand_all(expr: sp.Expr) -> sp.Expr:
    return sp.expand(sp.powsimp(sp.expand_log(expr, force=False)))


STRATEGIES: tuple[tuple[str, Callable[[sp.Expr], sp.Expr]], ...] = (
    ("cancel(together(.))", _cancel),
    ("simplify", _simplify),
    ("special-function rewrite + simplify", _special_families),
    ("expand", _expand_all),
)

_SPECIAL = (sp.lowergamma, sp.uppergamma, sp.meijerg, sp.hyper)


def strategies_for(expr: sp.Expr) -> tuple[tuple[str, Callable[[sp.Expr], sp.Expr]], ...]:
    """The strategies in the order worth trying for this expression.

    Plain ``simplify`` can spend its whole budget on incomplete-gamma and
    Meijer-G expressions that the family rewrite settles at once, so those
    go first when such functions are present.
    """
    if has_any(expr, *_SPECIAL):  # a DAG walk: SymPy's has walks a shared subexpression once per use
        return (STRATEGIES[0], STRATEGIES[2], STRATEGIES[1], STRATEGIES[3])
    return STRATEGIES
