"""Cross-examination: a symbolic result is used only after an independent numeric route agrees with it.

SymPy 1.14 integrates 1/(b + cos(pi x)) over [0, 2] to 0 for b > 1 (the truth
is 2/sqrt(b^2 - 1)); a check that took that on SymPy's word would refute a
normalized density and prove biased estimators.  So every integral, sum and
limit that SymPy computes for a verdict is compared, at several random
parameter points (and at the caller's own values), with a numeric route that
shares none of SymPy's algorithms (mpmath quadrature, ``nsum``, a numeric
limit):

* every compared point agrees (``CROSS_CHECK``: to 14 digits for 1-D
  quadrature and sums, ``CUBATURE`` for 2-D): ``agreed``, the result may be
  used;
* a point where the numeric route reproduces, at two precisions, a value
  that differs from SymPy's by more than 1e-6 relative: ``disagreed``; the
  caller reports ``unknown`` naming both numbers, never proved or refuted;
* otherwise (the numeric route failed or was inconclusive at too many
  points): ``unchecked``, and the symbolic result is not used either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import mpmath
import sympy as sp

from ..core.budget import SYMPY_GAVE_UP, BudgetExceeded, remaining, run_with_budget
from ..core.convert import at_values, evalf_or_none
from ..core.domain import Domain, exact_number
from ..core.precision import CROSS_CHECK, Outcome, Precision, decide
from ..zero.points import sample_points

__all__ = ["AGREED", "DISAGREED", "UNCHECKED", "CrossCheck", "cross_examine", "symbolic_value"]

AGREED, DISAGREED, UNCHECKED = "agreed", "disagreed", "unchecked"
# Random parameter points compared (besides the caller's own), and at most how many are tried.
POINTS = 2
MAX_TRIES = 5


@dataclass(frozen=True)
class CrossCheck:
    """The outcome of a cross-examination, with the numbers compared.

    ``comparisons`` holds ``(point, symbolic value, numeric value)`` for each
    point compared (point as ``(Symbol, value)`` pairs).
    """

    status: str
    comparisons: tuple = ()
    reason: str = ""

    @property
    def agreed(self) -> bool:
        return self.status == AGREED

    @property
    def disagreed(self) -> bool:
        return self.status == DISAGREED

    def describe(self, what: str) -> str:
        """A sentence for a verdict's reason: what was compared and where."""
        if self.status == DISAGREED:
            point, sym, num = self.comparisons[-1]
            where = ", ".join(f"{k} = {_num(v)}" for k, v in point) or "the given values"
            return (
                f"SymPy's {what} gives {_num(sym)} but the independent numeric route gives {_num(num)} at "
                f"{where}: the symbolic result is wrong and is not used"
            )
        if self.status == UNCHECKED:
            return f"SymPy's {what} could not be cross-examined numerically ({self.reason}), so it is not used"
        return f"SymPy's {what} agrees with the numeric route at {len(self.comparisons)} point(s)"


def _num(v: object) -> str:
    try:
        return mpmath.nstr(mpmath.mpmathify(v), 15)
    except (TypeError, ValueError):
        return sp.sstr(v)


# Seconds the symbolic side may take at one point (evalf of SymPy's closed form there).
POINT_SECONDS = 10.0


def symbolic_value(expr: sp.Expr, point: dict, dps: int) -> mpmath.mpf | mpmath.mpc | None:
    """``expr`` at ``point`` by evalf (exact coordinates), or None when it is not a finite number."""
    num = evalf_or_none(at_values(expr, {k: exact_number(v) for k, v in point.items()}), dps)
    if num is None or not num.is_number or num.has(sp.nan, sp.zoo, sp.oo, sp.S.NegativeInfinity, sp.AccumBounds):
        return None
    re, im = num.as_real_imag()
    with mpmath.workdps(dps):
        try:
            return mpmath.mpf(re) if im == 0 else mpmath.mpc(re, im)
        except (TypeError, ValueError):
            return None


def _points(domain: Domain, symbols: set, at: tuple[dict, ...], need: int) -> list[dict]:
    """The caller's own points first, then random ones: enough to reach ``need``, or any symbol they leave free.

    The caller's values alone used to make one point of the two needed, and
    no random point was drawn to make up the second ("no parameter point could
    be drawn"), so SymPy's right answer was never used with values given.
    """
    pts = [dict(p) for p in at]
    if symbols - set().union(*(set(p) for p in pts)) or len(pts) < need:
        pts += sample_points(domain, symbols, draws=MAX_TRIES)
    return pts


def cross_examine(
    symbolic: sp.Expr,
    numeric: Callable[[dict, int], object],
    domain: Domain,
    *,
    at: tuple[dict, ...] = (),
    points: int = POINTS,
    precision: Precision = CROSS_CHECK,
    symbols: set | None = None,
) -> CrossCheck:
    """Compare ``symbolic`` (an expression in parameters) with ``numeric(point, dps)`` at parameter points.

    Parameters
    ----------
    symbolic : sympy.Expr
        SymPy's result, a function of the parameters (or a number).
    numeric : callable
        ``numeric(point, dps)``: the same quantity by an independent route at
        ``point`` (Symbol -> number), to ``dps`` digits; None when it fails.
    domain : Domain
        Where the parameters live (random points are drawn from it).
    at : tuple of dicts
        Points to compare first (the caller's own parameter values).
    points : int
        How many points must agree (1 when the result has no free symbols).
    precision : Precision
        The two precisions of the numeric route and the agreement tolerances.
    symbols : set, optional
        The symbols a point must give values to (those the numeric route
        needs; default: the free symbols of ``symbolic``).
    """
    symbols = set(symbolic.free_symbols) | set(symbols or ())
    need = points if symbols else 1
    candidates = _points(domain, symbols, at, need) if symbols else [{}]
    comparisons = []
    failures = 0
    for point in candidates:
        if len(comparisons) >= need or failures >= MAX_TRIES:
            break
        point = {k: exact_number(v) for k, v in point.items() if k in symbols} if symbols else {}
        try:
            # a budgeted step: exact coordinates can make SymPy's evaluation build enormous exact powers (a
            # Student t's expectation at a random rational point ran for minutes in the calling process)
            sym = run_with_budget(
                symbolic_value, symbolic, point, precision.high + 10, timeout=min(remaining(), POINT_SECONDS)
            )
        except (BudgetExceeded, *SYMPY_GAVE_UP):
            sym = None
        if sym is None:
            failures += 1
            continue

        def gap(dps: int, point: dict = point, sym=sym):
            value = numeric(point, dps)
            return None if value is None else mpmath.mpmathify(value) - sym

        decision = decide(gap, precision, scale=max(mpmath.mpf(1), abs(sym)))
        if decision.outcome is Outcome.ZERO:
            comparisons.append((tuple(point.items()), sym, sym + decision.high))
        elif decision.outcome is Outcome.NONZERO:
            comparisons.append((tuple(point.items()), sym, sym + decision.high))
            return CrossCheck(DISAGREED, tuple(comparisons))
        else:
            failures += 1
    if len(comparisons) >= need:
        return CrossCheck(AGREED, tuple(comparisons))
    if failures:
        why = f"the numeric route failed or was inconclusive at {failures} point(s)"
    else:
        why = "no parameter point could be drawn from the parameters' domain; give parameter values (params=)"
    return CrossCheck(UNCHECKED, tuple(comparisons), why)
