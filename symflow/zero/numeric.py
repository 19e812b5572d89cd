"""High-precision numeric zero testing at points spread over a domain.

A residual that SymPy cannot prove zero may still be checked at many points
with mpmath.  The ways of fooling such a test are closed one by one:

* **where it looks**: random points over the whole support, far ranges and
  log-spaced magnitudes included (``points.py``), plus both sides of every
  kink or jump and every place the residual may peak, located numerically
  for any expression (``landmarks.py``); only distinct points count;
* **how closely it looks**: the precision rises until the value is stable
  (``symflow.core.precision.decide`` with ``POINTWISE``), and a value counts
  as zero only when it shrank with the precision and is below 1e-40 times
  what survived cancellation at the lower precision: a residual 1 hidden
  under terms of size 1e50 is seen at 100 digits, round-off is not.

Classification at a point is ``nonzero`` (two successive precisions agree on
a value, and SymPy's ``evalf`` of the original expression at the exact point
agrees too: ``witness.py``), ``zero``, ``ambiguous``, ``undefined`` (nan, infinite, an error) or
``out of reach`` (more than 600 digits would be needed).  'zero' overall
needs at least 16 distinct zero points, no ambiguous one, and at most a
quarter of the points undefined or out of reach.  A point whose evaluation
takes much longer than the typical one (``_point_limit``: mpmath's Meijer G
far out can take minutes) is skipped and not counted, so the budget goes to
points that can be decided.

Only points inside the support are used (members of a finite set, integers
of an integer support); a parameter draw whose support is empty is skipped.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import mpmath
import sympy as sp

from ..core.domain import Domain
from ..core.precision import POINTWISE, Outcome, decide, input_resolution
from ..numeric.evaluate import mpmath_function
from .landmarks import LandmarkFinder, kink_expressions, peak_expressions
from .points import iter_points, sample_points
from .timing import Clock, EvaluationTimeout, time_limit
from .witness import confirm_witness

__all__ = ["NumericResult", "kink_expressions", "numeric_zero_test", "peak_expressions", "sample_points"]

HIGH_DPS = POINTWISE.high
LOW_DPS = POINTWISE.low
ZERO_DIGITS = POINTWISE.zero_digits
MIN_POINTS = 16
# At most this share of the test points may be poles (undefined values) or out of reach for 'zero'.
MAX_UNDEFINED_SHARE = 0.25
# Seconds one point's evaluation (every precision of it) may take: up to FIRST_POINT_SECONDS for
# the first three, then max(POINT_SECONDS, SLOW_FACTOR x the median so far); a slower point is skipped.
FIRST_POINT_SECONDS = 3.0
POINT_SECONDS = 0.25
SLOW_FACTOR = 5.0
# Nonzero values that evalf does not reproduce: after this many the test stops ('disputed').
MAX_DISPUTES = 4


@dataclass(frozen=True)
class NumericResult:
    """Outcome of the numeric test: 'zero', 'nonzero', 'disputed' or 'ambiguous'.

    For 'nonzero', ``digits`` are the two precisions (low, high) at which the
    witness value was read, and ``confirmed_by`` the independent values
    (evalf) that confirmed it.  'disputed': the numeric code found a stable
    nonzero value that evalf does not reproduce (``note`` names both values).
    """

    outcome: str
    points_zero: int
    points_tried: int
    witness_point: dict | None = None
    value_high: object = None
    value_low: object = None
    note: str = ""
    digits: tuple[int, int] = (LOW_DPS, HIGH_DPS)
    confirmed_by: tuple = ()


def _compile(expr: sp.Expr, symbols: list):
    """An mpmath evaluator of the residual's top-level terms (values -> one value per term)."""
    terms = list(sp.Add.make_args(expr)) if expr.is_Add and len(expr.args) <= 200 else [expr]
    fn = mpmath_function(symbols, terms)

    def evaluate(values: list) -> list:
        return fn(*values)

    return evaluate


def _value_and_scale(evaluate, values: list, dps: int):
    with mpmath.workdps(dps):
        terms = evaluate(values)
        terms = [mpmath.mpmathify(t) for t in terms]
        total = mpmath.fsum(terms)
        scale = max([mpmath.mpf(1)] + [abs(t) for t in terms])
    return total, scale


def _point_limit(costs: list[float]) -> float:
    """Seconds the next point may take: generous until a typical cost is known, then a few times it.

    An expression that is slow everywhere (structured atoms evaluated by evalf) is
    still tested; one far point that is a hundred times slower than the rest is skipped.
    """
    if len(costs) < 3:
        return FIRST_POINT_SECONDS
    typical = sorted(costs)[len(costs) // 2]
    return max(POINT_SECONDS, SLOW_FACTOR * typical)


def numeric_zero_test(
    expr: sp.Expr,
    domain: Domain,
    *,
    min_points: int = MIN_POINTS,
    seed: int | None = None,
    until: float | None = None,
    quick: bool = False,
) -> NumericResult:
    """Evaluate ``expr`` at distinct points over ``domain``, raising the precision until each value is stable.

    ``until`` (a ``time.monotonic`` end) stops the test early: it is then
    'ambiguous' unless a confirmed nonzero value was found.  One evaluation
    that takes longer than ``POINT_SECONDS`` is abandoned (``timing.py``);
    such a point is not counted.  ``quick``: random points of two draws only,
    no landmarks, and never 'zero' (a first pass that refutes most wrong
    claims before any symbolic work).
    """
    clock = Clock(until)
    resolution = input_resolution(expr)
    symbols = sorted(expr.free_symbols, key=str)
    finder = None if quick else LandmarkFinder(expr, symbols, tuple(domain.kinks), until=until)
    points = iter_points(domain, set(symbols), seed=seed, landmarks=finder, draws=2 if quick else 4)
    evaluate = _compile(expr, symbols)
    zero = tried = 0
    ambiguous = undefined = unreachable = slow = 0
    costs: list[float] = []
    disputed, disputes = None, 0
    for pt in points:
        if clock.left() <= 0:
            if disputed is not None:
                return dataclasses.replace(disputed, points_zero=zero, points_tried=tried)
            note = f"the numeric test ran out of time after {tried} points ({zero} vanished)"
            return NumericResult("ambiguous", zero, tried, note=note)
        values = [pt.get(s, mpmath.mpf("0.37")) for s in symbols]
        start = time.monotonic()
        try:
            with time_limit(clock.per_evaluation(_point_limit(costs))):
                decision = decide(
                    lambda dps, v=values: _value_and_scale(evaluate, v, dps), POINTWISE, resolution=resolution
                )
        except EvaluationTimeout:
            slow += 1
            continue
        costs.append(time.monotonic() - start)
        tried += 1
        if decision.outcome is Outcome.NONZERO:
            # the whole point: parameters the residual does not hold may be what a constraint needs
            witness = {**pt, **{s: pt.get(s) for s in symbols}}
            conf = confirm_witness(expr, witness, decision.high, domain, timeout=max(clock.per_evaluation(10.0), 0.1))
            if not conf.confirmed:
                # Not evidence either way (a wrong function mapping, or a point on a jump where
                # SymPy's value is nan); after a few such points the numeric code is not trusted.
                disputed = disputed or NumericResult(
                    "disputed", zero, tried, witness, decision.high, decision.low, conf.reason, decision.digits
                )
                disputes += 1
                if disputes >= MAX_DISPUTES:
                    return dataclasses.replace(disputed, points_zero=zero, points_tried=tried)
                continue
            return NumericResult(
                "nonzero",
                zero,
                tried,
                witness,
                decision.high,
                decision.low,
                digits=decision.digits,
                confirmed_by=conf.values,
            )
        if decision.outcome is Outcome.ZERO:
            zero += 1
        elif decision.outcome is Outcome.UNDEFINED:
            undefined += 1
        elif decision.outcome is Outcome.OUT_OF_REACH:
            unreachable += 1
        else:
            ambiguous += 1
    # A pole hit exactly is skipped; a residual that is nan or infinite on a good part
    # of the support (Piecewise((nan, x > 0), (0, True))) is not 'zero' there.
    mostly_defined = undefined + unreachable <= MAX_UNDEFINED_SHARE * tried
    if disputed is not None:
        return dataclasses.replace(disputed, points_zero=zero, points_tried=tried)
    if quick:
        return NumericResult("ambiguous", zero, tried, note="quick pass: no nonzero value at the random points")
    if ambiguous == 0 and zero >= min_points and mostly_defined:
        skipped = f"{slow} point(s) too slow to evaluate were skipped" if slow else ""
        return NumericResult("zero", zero, tried, note=skipped)
    note = f"{zero} of {tried} distinct points vanished to {ZERO_DIGITS} digits"
    if ambiguous:
        note += f", {ambiguous} were neither clearly zero nor clearly nonzero"
    if not mostly_defined:
        note += f", the residual was undefined (nan, infinite or an error) at {undefined}"
        if unreachable:
            note += f" and beyond {POINTWISE.max_dps} digits' reach at {unreachable}"
    if zero < min_points:
        note += f" (at least {min_points} are needed)"
    if slow:
        note += f"; {slow} point(s) took over {POINT_SECONDS:g} s to evaluate and were skipped"
    return NumericResult("ambiguous", zero, tried, note=note)
