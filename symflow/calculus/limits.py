"""Limits computed by SymPy, cross-examined by a numeric limit before a verdict rests on them.

``cross_examined_limit`` takes SymPy's ``limit`` (under its budget) and
compares it, at random parameter points (and random values of any other
variable), with the values of the expression along a sequence approaching
the edge: x = +-10, +-100, ... +-1e16 for an infinite edge, e +- 10^-2 ...
10^-24 (relative) for a finite one, at 60 digits.

* the sequence settles (its last three values agree to 1e-8) on a value
  that differs from SymPy's by more than 1e-6 (relative, at least 1): the
  limit is contradicted, ``LimitDisagreement`` is raised with both numbers,
  and the caller reports ``unknown``;
* an infinite limit whose sequence settles on a finite value, shrinks
  (its last three magnitudes fall: p u ~ |x|^-nu -> 0 was "oo" for the
  Student t) or has the other sign, or an oscillating one (``AccumBounds``)
  whose sequence settles, is contradicted too;
* otherwise SymPy's limit is returned.  A sequence can approach slowly
  (1/log x) or oscillate, so a numeric limit can contradict SymPy but not
  confirm it: this check only ever removes a verdict.

``confirmed_nonzero_limit`` is the other direction, for a refutation: a
nonzero limit is used as a witness only when the sequence at a parameter
point agrees with it at two precisions (settles on the finite value; grows
in magnitude, with its sign, for an infinite one; stays away from 0 for an
oscillating one).
"""

from __future__ import annotations

import mpmath
import sympy as sp

from ..core import budget as budgets
from ..core.budget import BudgetExceeded, resolve_timeout, run_with_budget
from ..core.convert import at_values
from ..core.domain import Domain, exact_number
from ..numeric.evaluate import mpmath_function
from ..zero.points import sample_points
from ..zero.timing import EvaluationTimeout, time_limit

__all__ = ["LimitDisagreement", "confirmed_nonzero_limit", "cross_examined_limit", "numeric_limit_values"]

LIMIT_DPS = 60
# The lower precision a refutation is confirmed at (the sequence must tell the same story at both).
LIMIT_DPS_LOW = 30
_INFINITE_STEPS = (1, 2, 4, 8, 12, 16)
_FINITE_STEPS = (2, 4, 8, 12, 16, 24)
SETTLED_REL = mpmath.mpf(10) ** -8
DIFFER_REL = mpmath.mpf(10) ** -6
# Parameter points compared, seconds per evaluation, and seconds for the whole numeric check.
POINTS = 2
EVAL_SECONDS = 0.5
CHECK_SECONDS = 5.0


class LimitDisagreement(ArithmeticError):
    """SymPy's limit is contradicted by the numeric sequence (the message names both numbers)."""

    def __init__(self, message: str, symbolic: object, numeric: object, point: dict) -> None:
        super().__init__(message)
        self.symbolic = symbolic
        self.numeric = numeric
        self.point = point


def _sequence(edge: sp.Expr, direction: str, point: dict, dps: int = LIMIT_DPS) -> list[mpmath.mpf] | None:
    if edge is sp.oo:
        return [mpmath.mpf(10) ** k for k in _INFINITE_STEPS]
    if edge is sp.S.NegativeInfinity:
        return [-(mpmath.mpf(10) ** k) for k in _INFINITE_STEPS]
    value = edge.xreplace({k: exact_number(v) for k, v in point.items()})
    if value.free_symbols:
        return None
    with mpmath.workdps(dps):
        e = mpmath.mpf(sp.N(value, dps))
        side = -1 if direction == "-" else 1
        return [e + side * mpmath.mpf(10) ** -k * max(1, abs(e)) for k in _FINITE_STEPS]


def numeric_limit_values(
    expr: sp.Expr, x: sp.Symbol, edge: sp.Expr, direction: str, point: dict, dps: int = LIMIT_DPS
) -> list:
    """The values of ``expr`` (other symbols at ``point``) along a sequence approaching ``edge`` (None: failed)."""
    seq = _sequence(edge, direction, point, dps)
    if seq is None:
        return []
    others = sorted(expr.free_symbols - {x}, key=str)
    fn = mpmath_function([x, *others], expr)
    rest = [point.get(s) for s in others]
    if any(v is None for v in rest):
        return []
    out = []
    with mpmath.workdps(dps):
        for t in seq:
            try:
                with time_limit(EVAL_SECONDS):
                    v = mpmath.mpmathify(fn(t, *rest)[0])
                out.append(v if mpmath.isfinite(abs(v)) else None)
            except (EvaluationTimeout, ArithmeticError, ValueError, TypeError, ZeroDivisionError):
                out.append(None)
    return out


def _settled(vals: list) -> mpmath.mpf | None:
    last = vals[-3:]
    if len(last) < 3 or any(v is None for v in last):
        return None
    with mpmath.workdps(LIMIT_DPS):
        ref = last[-1]
        if all(abs(v - ref) <= SETTLED_REL * max(abs(ref), mpmath.mpf(10) ** -30) for v in last):
            return ref
    return None


def _shrinking(vals: list) -> bool:
    """The last three values are finite and strictly falling in magnitude (heading for a finite value or 0)."""
    last = vals[-3:]
    if len(last) < 3 or any(v is None for v in last):
        return False
    return abs(last[0]) > abs(last[1]) > abs(last[2])


def _growing(vals: list) -> bool:
    """The last three values are finite, of one sign and strictly growing in magnitude."""
    last = vals[-3:]
    if len(last) < 3 or any(v is None for v in last):
        return False
    same_sign = all(v > 0 for v in last) or all(v < 0 for v in last)
    return same_sign and abs(last[0]) < abs(last[1]) < abs(last[2])


def _contradiction(lim: sp.Expr, expr: sp.Expr, x, edge, direction, point: dict) -> tuple | None:
    """(symbolic, numeric) when the sequence at ``point`` contradicts ``lim``, else None."""
    vals = numeric_limit_values(expr, x, edge, direction, point)
    target = at_values(lim, {k: exact_number(v) for k, v in point.items()})
    settled = _settled(vals)
    if settled is None:
        if target in (sp.oo, sp.S.NegativeInfinity, sp.zoo) and _shrinking(vals):
            return (target, vals[-1], "fall steadily in magnitude, to")  # no sign of blowing up
        if target in (sp.oo, sp.S.NegativeInfinity) and _growing(vals) and (vals[-1] > 0) != (target is sp.oo):
            return (target, vals[-1], "grow with the other sign, to")
        return None
    if target.has(sp.AccumBounds):
        return (target, settled, "settle on")  # an oscillating limit cannot settle on one value
    if target in (sp.oo, sp.S.NegativeInfinity, sp.zoo):
        return (target, settled, "settle on")
    if target.free_symbols:
        return None
    try:
        with mpmath.workdps(LIMIT_DPS):
            want = mpmath.mpmathify(sp.N(target, LIMIT_DPS))
    except (TypeError, ValueError):
        return None
    with mpmath.workdps(LIMIT_DPS):
        if abs(settled - want) > DIFFER_REL * max(mpmath.mpf(1), abs(want), abs(settled)):
            return (want, settled, "settle on")
    return None


def _examine(lim, expr, x, edge, direction, domain: Domain) -> tuple | None:
    symbols = (expr.free_symbols | lim.free_symbols | edge.free_symbols) - {x}
    points = sample_points(domain, symbols, draws=POINTS + 2)[: POINTS + 2] if symbols else [{}]
    for point in points[: POINTS if symbols else 1]:
        found = _contradiction(lim, expr, x, edge, direction, point)
        if found is not None:
            return (*found, point)
    return None


def cross_examined_limit(
    expr: sp.Expr,
    x: sp.Symbol,
    edge: sp.Expr,
    direction: str = "+-",
    *,
    timeout: float | None = None,
    domain: Domain | None = None,
    what: str = "limit",
) -> sp.Expr:
    """SymPy's ``limit(expr, x, edge, direction)`` under the budget, after a numeric limit had its say.

    Raises ``BudgetExceeded`` when SymPy runs out of budget (as
    ``budget.limit``) and ``LimitDisagreement`` when the numeric sequence
    settles on another value at some parameter point.  ``domain`` gives the
    intervals of the other symbols (parameters and other coordinates).
    """
    lim = budgets.limit(expr, x, edge, direction, timeout=timeout, what=what)
    if not isinstance(lim, sp.Basic) or lim.has(sp.Limit) or lim.has(sp.nan):
        return lim
    domain = (domain or Domain()).extended(set(expr.free_symbols | lim.free_symbols) - {x})
    domain = Domain(tuple((s, iv) for s, iv in domain.variables if s != x), domain.parameters, domain.constraints)
    try:
        found = run_with_budget(
            _examine,
            lim,
            expr,
            x,
            edge,
            direction,
            domain,
            timeout=min(resolve_timeout(timeout), CHECK_SECONDS),
            what="numeric limit",
        )
    except BudgetExceeded:
        return lim
    if found is None:
        return lim
    sym, num, how, point = found
    where = ", ".join(f"{k} = {mpmath.nstr(v, 12)}" for k, v in point.items()) or "every parameter value"
    raise LimitDisagreement(
        f"SymPy's limit of {sp.sstr(expr)} at {x} -> {edge} is {sp.sstr(lim)} ({_show(sym)} at {where}), but "
        f"the values along {x} -> {edge} {how} {mpmath.nstr(num, 15)}: the symbolic limit is not used",
        sym,
        num,
        point,
    )


def _show(v: object) -> str:
    try:
        return mpmath.nstr(v, 15)
    except (TypeError, ValueError):
        return sp.sstr(v)


def _confirms(target: sp.Expr, vals: list) -> bool:
    """Whether a sequence tells of the nonzero limit ``target`` (a number, +-oo, zoo or AccumBounds)."""
    if target in (sp.oo, sp.S.NegativeInfinity):
        return _growing(vals) and (vals[-1] > 0) == (target is sp.oo)
    if target is sp.zoo:
        last = vals[-3:]
        return len(last) == 3 and None not in last and abs(last[0]) < abs(last[1]) < abs(last[2])
    if target.has(sp.AccumBounds):
        # oscillating between bounds that are not both 0: the values change sign, do not settle, do not fade
        last = vals[-3:]
        if len(last) < 3 or None in last or _settled(vals) is not None:
            return False
        if all(v > 0 for v in last) or all(v < 0 for v in last):
            return False
        width = target.replace(lambda e: isinstance(e, sp.AccumBounds), lambda e: sp.Max(abs(e.min), abs(e.max)))
        return max(abs(v) for v in last) > DIFFER_REL * abs(mpmath.mpmathify(sp.N(width, LIMIT_DPS)))
    settled = _settled(vals)
    if settled is None:
        return False
    want = mpmath.mpmathify(sp.N(target, LIMIT_DPS))
    return want != 0 and abs(settled - want) <= DIFFER_REL * max(abs(want), abs(settled))


def _confirm(expr, x, edge, direction, lim, point: dict) -> tuple | None:
    target = lim.xreplace({k: exact_number(v) for k, v in point.items()})
    if target.free_symbols or target.has(sp.nan):
        return None
    high = numeric_limit_values(expr, x, edge, direction, point, LIMIT_DPS)
    if not high or not _confirms(target, high):
        return None
    low = numeric_limit_values(expr, x, edge, direction, point, LIMIT_DPS_LOW)
    if not low or not _confirms(target, low) or low[-1] is None:
        return None
    with mpmath.workdps(LIMIT_DPS):
        if abs(high[-1] - low[-1]) > mpmath.mpf(10) ** -(LIMIT_DPS_LOW // 3) * abs(high[-1]):
            return None
    return high[-1], low[-1], tuple(high)


def confirmed_nonzero_limit(
    expr: sp.Expr, x: sp.Symbol, edge: sp.Expr, direction: str, lim: sp.Expr, point: dict, *, timeout: float | None
) -> tuple | None:
    """(value, value at the lower precision, the sequence) when the numbers at ``point`` confirm ``lim``, else None.

    ``lim`` is SymPy's nonzero limit (a function of the other symbols, or
    +-oo, zoo, AccumBounds).  The values of ``expr`` along the sequence
    approaching ``edge`` must, at 60 and at 30 digits, settle on ``lim``'s
    value at ``point``, grow with its sign (+-oo), grow (zoo), or oscillate
    without fading (AccumBounds); the value returned is the last one of the
    sequence.  A refutation that rests on SymPy's limit needs this: SymPy said
    oo for the Student t's p u, which falls like |x|^-nu.
    """
    try:
        return run_with_budget(
            _confirm,
            expr,
            x,
            edge,
            direction,
            lim,
            point,
            timeout=min(resolve_timeout(timeout), CHECK_SECONDS),
            what="numeric limit",
        )
    except BudgetExceeded:
        return None
