"""Working precisions, the tolerances tied to them, and the one two-precision decision.

Every numeric verdict in symflow is decided the same way: evaluate at a high
precision; a value below the zero tolerance counts as zero (``consistent``,
never ``proved``); a value above the nonzero threshold is evaluated again at a
lower precision, and only a value that survives the change of precision (the
two agree to ``agree_rel``) is a real nonzero (``refuted``, with both numbers
as the witness).  Round-off changes with the precision; a true value does not.
Anything else is ambiguous (``unknown``).

The tolerances are functions of the precisions (mpmath's habit, ``ae`` uses
``10**(-mp.dps + 5)``), so one place says how many digits each route trusts:

==================  ====  ===  =====================  =====================
route               high  low  zero below             nonzero above
==================  ====  ===  =====================  =====================
``POINTWISE``        rising    1e-40 (see below)      stable value
``QUADRATURE``       50   30   1e-30 (relative)       1e-30
``QUADRATURE_FAST``  30   20   1e-20 (relative)       1e-20
``CROSS_CHECK``      30   20   1e-14 (relative)       1e-6 (relative)
``CUBATURE``         15   12   1e-9 (relative)        1e-7 (relative)
==================  ====  ===  =====================  =====================

Agreement between the two precisions is required to 10^-(low/3) relative
(1e-10 at 30 digits, 1e-6 at 20).  Quadrature of a smooth integrand keeps
about 3/5 of the working digits.  ``CROSS_CHECK`` compares a symbolic result
(an integral, sum or limit computed by SymPy) with an independent numeric
route: agreement to 14 digits accepts it, a gap above 1e-6 that the numeric
route reproduces at both precisions contradicts it, anything between is
inconclusive.  ``CUBATURE`` is 2-D float64 quadrature at two rule orders
(the "precisions" are the orders' digits).

**Pointwise evaluation rises in precision** (``POINTWISE.rising``): an
expression is evaluated at 30 digits, then at higher precisions, each chosen
so that the round-off of terms of size S falls below the zero tolerance
(digits >= 40 + 5 + log10 S, rounded up to 50, 80, 130, 200 or 300), until the value settles:

* two successive values that agree to 1e-10 relative are a real value
  (``nonzero``, however tiny: round-off changes with the precision, a true
  value does not);
* a value that shrank from the previous precision, is below 1e-40 times
  what survived cancellation there (at least 1) and is within the round-off
  floor of its own precision (10^-(d - 10) of the terms) is ``zero``: a
  residual 1 hidden under terms of size 1e50 or 1e73 survives at 100 or 130
  digits, far above that floor; round-off does not;
* a stable value below the round-off floor of its precision (10^-(d - 10) of
  the terms) is chased to higher precision (lowergamma(a, 10^3) rounds to
  gamma(a) at 30 and at 50 digits, so a far-below-round-off value can repeat
  exactly); one that would need more than 130 digits is zero;
* a value whose precision would have to exceed ``max_dps`` (300) is out of reach;
* otherwise, after the last rung, ambiguous.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mpmath

__all__ = [
    "CROSS_CHECK",
    "CUBATURE",
    "FLOAT64_AGREE_REL",
    "POINTWISE",
    "QUADRATURE",
    "QUADRATURE_FAST",
    "Decision",
    "Outcome",
    "Precision",
    "agree",
    "decide",
    "input_resolution",
]

# float64 routes (2-D Gauss-Legendre at two orders): relative agreement required.
FLOAT64_AGREE_REL = 1e-10


class Outcome(str, enum.Enum):
    """What two evaluations of a quantity that should vanish say about it."""

    ZERO = "zero"
    NONZERO = "nonzero"
    AMBIGUOUS = "ambiguous"
    UNDEFINED = "undefined"  # nan, infinite, or the evaluation failed
    OUT_OF_REACH = "out of reach"  # round-off could only be beaten above the precision cap

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Precision:
    """Two working precisions (decimal digits) and the tolerances tied to them.

    ``zero_digits``: |value| <= 10^-zero_digits * scale is zero.  ``nonzero_digits``:
    |value| > 10^-nonzero_digits * scale is a candidate nonzero, confirmed at ``low``.
    ``tiny_is_checked``: a value below the zero tolerance that is not exactly 0 is
    evaluated at ``low`` too, and counts as nonzero when it does not move (a residual
    1e-60 exp(-x**2) is tiny, not zero; only pointwise evaluation is exact enough).
    ``rising``: the ladder of precisions of the rising decision (pointwise only;
    empty for the two-precision routes), capped at ``max_dps``.
    """

    high: int
    low: int
    zero_digits: int
    nonzero_digits: int
    tiny_is_checked: bool = False
    rising: tuple[int, ...] = ()
    max_dps: int = 0

    @property
    def zero_tol(self) -> mpmath.mpf:
        return mpmath.mpf(10) ** (-self.zero_digits)

    @property
    def nonzero_tol(self) -> mpmath.mpf:
        return mpmath.mpf(10) ** (-self.nonzero_digits)

    @property
    def agree_rel(self) -> mpmath.mpf:
        """Relative agreement the two precisions must reach for a value to count as real."""
        return mpmath.mpf(10) ** (-(self.low // 3))

    @property
    def digits(self) -> tuple[int, int]:
        """(low, high), as a witness records them."""
        return (self.low, self.high)


POINTWISE = Precision(
    high=50, low=30, zero_digits=40, nonzero_digits=25, tiny_is_checked=True, rising=(30, 50, 80, 130), max_dps=300
)
QUADRATURE = Precision(high=50, low=30, zero_digits=30, nonzero_digits=30)
QUADRATURE_FAST = Precision(high=30, low=20, zero_digits=20, nonzero_digits=20)
CROSS_CHECK = Precision(high=30, low=20, zero_digits=14, nonzero_digits=6)
CUBATURE = Precision(high=15, low=12, zero_digits=9, nonzero_digits=7)

# Digits of margin between the zero tolerance and the round-off a rising precision aims for,
# and between a stable value and the round-off floor it must clear to count as real.
NEED_GUARD_DIGITS = 5
GUARD_DIGITS = 10
# A stable value so far below its terms that seeing it would take more digits than this is zero.
FLOOR_CHASE_DPS = 130


def agree(a: Any, b: Any, rel: Any) -> bool:
    """Whether two numbers agree to ``rel`` relative (of the larger), both finite; 0 agrees only with 0."""
    try:
        a, b = mpmath.mpmathify(a), mpmath.mpmathify(b)
    except (TypeError, ValueError):
        return False
    if not (_finite(a) and _finite(b)):
        return False
    with mpmath.workdps(max(mpmath.mp.dps, 60)):
        return abs(a - b) <= mpmath.mpmathify(rel) * max(abs(a), abs(b))


@dataclass(frozen=True)
class Decision:
    """The outcome, with the value at the high precision and (when computed) at the low one."""

    outcome: Outcome
    high: Any = None
    low: Any = None
    scale: Any = 1
    digits: tuple[int, int] = (0, 0)  # (low, high): the precisions the two values were taken at

    @property
    def zero(self) -> bool:
        return self.outcome is Outcome.ZERO

    @property
    def nonzero(self) -> bool:
        return self.outcome is Outcome.NONZERO


def _split(result: Any) -> tuple[Any, Any]:
    """``evaluate`` may return a value or (value, scale)."""
    if isinstance(result, tuple):
        return result[0], result[1]
    return result, 1


def _finite(value: Any) -> bool:
    try:
        return bool(mpmath.isfinite(abs(mpmath.mpmathify(value))))
    except (TypeError, ValueError):
        return False


# A Float written by the user (0.3, a jump at 0.5) stands for its decimal to about 15 digits, and its binary value
# carries it exactly into both precisions: 0.3 + (1 - 0.3) - 1 is 5.6e-17 at 30 and at 50 digits, real at both
# and meaningless.  A quantity built from Floats is therefore only read to their precision, with 2**10 of room
# for the error the rest of the computation multiplies it by.
_FLOAT_ROOM_BITS = 10


def input_resolution(*exprs: Any) -> Any:
    """The relative resolution of the inputs: None when they hold no Float, else 2**-(bits - 10) of the coarsest.

    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> input_resolution(x + sp.Rational(3, 10)) is None, float(input_resolution(x + 0.3)) < 1e-12
    (True, True)
    """
    import sympy as sp  # the precision rules themselves need only mpmath

    bits = [f._prec for e in exprs if isinstance(e, sp.Basic) for f in e.atoms(sp.Float)]
    if not bits:
        return None
    return mpmath.mpf(2) ** (_FLOAT_ROOM_BITS - min(bits))


def decide(
    evaluate: Callable[[int], Any], precision: Precision, *, scale: Any = None, resolution: Any = None
) -> Decision:
    """Decide whether a quantity vanishes from its values at two precisions.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(dps)`` computes the quantity at ``dps`` decimal digits and returns
        it (or ``(value, scale)``, the scale being the size of the terms it is a
        sum of); None, an exception from numbers (``ArithmeticError``,
        ``ValueError``, ``TypeError``) or a non-finite value make it undefined.
    precision : Precision
        The pair of precisions and their tolerances (``POINTWISE``, ``QUADRATURE``, ...).
    scale : number, optional
        The size the value is compared with (default: the scale ``evaluate``
        returns, else 1; never below 1).
    resolution : number, optional
        The relative resolution of the inputs (``input_resolution``): a value within
        ``resolution * scale`` of zero is zero, whatever the two precisions say,
        since inputs written as Floats are not known more finely.

    Examples
    --------
    A value that does not move between 30 and 50 digits is real; round-off is not:

    >>> import mpmath
    >>> decide(lambda dps: mpmath.mpf(1) / 3 - mpmath.mpf("0.333"), POINTWISE).outcome.value
    'nonzero'
    >>> decide(lambda dps: mpmath.mpf(10) ** (-dps + 2), POINTWISE).outcome.value
    'zero'
    """

    def at(dps: int) -> tuple[Any, Any] | None:
        try:
            got = evaluate(dps)
        except (ArithmeticError, ValueError, TypeError):
            return None
        if got is None:
            return None
        value, own_scale = _split(got)
        if value is None or not _finite(value):
            return None
        return mpmath.mpmathify(value), own_scale

    if precision.rising:
        return _decide_rising(at, precision, resolution)
    digits = precision.digits
    high = at(precision.high)
    if high is None:
        return Decision(Outcome.UNDEFINED)
    value, own_scale = high
    # Compare at the higher precision: mpf arithmetic rounds to the current one.
    with mpmath.workdps(precision.high + 10):
        size = max(mpmath.mpf(1), abs(mpmath.mpmathify(scale if scale is not None else own_scale)))
        magnitude = abs(value)
        if resolution is not None and magnitude <= resolution * size:
            return Decision(Outcome.ZERO, value, None, size, digits)
        if magnitude <= precision.zero_tol * size:
            if not (precision.tiny_is_checked and value != 0):
                return Decision(Outcome.ZERO, value, None, size, digits)
            low = at(precision.low)
            if low is not None and abs(low[0] - value) <= precision.agree_rel * magnitude:
                return Decision(Outcome.NONZERO, value, low[0], size, digits)
            return Decision(Outcome.ZERO, value, None if low is None else low[0], size, digits)
        if magnitude <= precision.nonzero_tol * size:
            return Decision(Outcome.AMBIGUOUS, value, None, size, digits)
        low = at(precision.low)
        if low is not None and abs(low[0] - value) <= precision.agree_rel * magnitude:
            return Decision(Outcome.NONZERO, value, low[0], size, digits)
        return Decision(Outcome.AMBIGUOUS, value, None if low is None else low[0], size, digits)


def _magnitude(value: Any) -> int:
    """ceil(log10 |value|), at least 0."""
    v = abs(mpmath.mpmathify(value))
    if v <= 1:
        return 0
    return int(mpmath.ceil(mpmath.log10(v)))


# Precisions a rising decision may use: few distinct ones, so mpmath's per-precision tables
# (the gamma function's Taylor coefficients cost seconds at a new precision) are reused.
_RUNGS = (30, 50, 80, 130, 200, 300)


def _rung(dps: int) -> int:
    """The smallest standard precision at least ``dps`` (``dps`` itself beyond the last one)."""
    return next((r for r in _RUNGS if r >= dps), dps)


def _decide_rising(
    at: Callable[[int], tuple[Any, Any] | None], precision: Precision, resolution: Any = None
) -> Decision:
    """The pointwise decision: raise the precision until the value is stable (see the module docstring)."""
    ladder = precision.rising
    dps_prev = ladder[0]
    first = at(dps_prev)
    if first is None:
        return Decision(Outcome.UNDEFINED)
    v_prev, s_prev = first
    rung, floor_need = 1, 0
    while rung < len(ladder) or floor_need:
        # Round-off of terms of size S at d digits is about S 10^-d: aim it GUARD digits below the tolerance.
        need = precision.zero_digits + NEED_GUARD_DIGITS + max(_magnitude(s_prev), _magnitude(v_prev))
        dps = _rung(max(ladder[min(rung, len(ladder) - 1)], need, floor_need, dps_prev + 10))
        if dps > precision.max_dps:
            return Decision(Outcome.OUT_OF_REACH, v_prev, None, s_prev, (dps_prev, dps_prev))
        got = at(dps)
        if got is None:
            return Decision(Outcome.UNDEFINED, None, v_prev, s_prev, (dps_prev, dps))
        v, s = got
        rung, floor_need = rung + 1, 0
        with mpmath.workdps(dps + 10):
            size = max(mpmath.mpf(1), abs(mpmath.mpmathify(s)))
            if resolution is not None and abs(v) <= resolution * size:
                return Decision(Outcome.ZERO, v, v_prev, s, (dps_prev, dps))  # below what Floats in it resolve
            if v != 0 and abs(v - v_prev) <= precision.agree_rel * abs(v):
                # Stable.  Real only above the round-off floor of this precision: a value far below
                # it can repeat exactly at every precision (lowergamma(a, 10^5) rounds to gamma(a)
                # at 30 and at 50 digits, leaving uppergamma's 1e-24418 as a "stable" artifact).
                if abs(v) > mpmath.mpf(10) ** (GUARD_DIGITS - dps) * size:
                    return Decision(Outcome.NONZERO, v, v_prev, s, (dps_prev, dps))
                floor_need = int(mpmath.ceil(mpmath.log10(size / abs(v)))) + GUARD_DIGITS + 1
                if floor_need > FLOOR_CHASE_DPS:
                    # Below 10^-(FLOOR_CHASE_DPS - 11) of the terms: zero to far more than the
                    # 40 digits 'zero' promises, whether real or an artifact of rounding.
                    return Decision(Outcome.ZERO, v, v_prev, s, (dps_prev, dps))
            else:
                survived = max(mpmath.mpf(1), abs(mpmath.mpmathify(v_prev)))
                shrank = v == 0 or abs(v) < abs(v_prev)
                # ... and at the round-off floor of this precision: a value far above it is real, however
                # small beside the lower precision's round-off (1 under terms of 1e73 was 1e43 of
                # round-off at 30 digits, and 1 <= 1e-40 * 1e43 made it "zero" at 130).
                roundoff = v == 0 or abs(v) <= mpmath.mpf(10) ** (GUARD_DIGITS - dps) * size
                # ... or shrinking as round-off does, by about the digits added: a value amplified by an
                # ill-conditioned step ((x^a)^(1/a) at a = 2e-8 turns round-off 1e-130 into 1e-116) is round-off
                # whatever its size beside the floor, while a real value does not move with the precision.
                scaled = abs(v) <= abs(v_prev) * mpmath.mpf(10) ** (dps_prev - dps + NEED_GUARD_DIGITS)
                if shrank and (roundoff or scaled) and abs(v) <= precision.zero_tol * survived:
                    return Decision(Outcome.ZERO, v, v_prev, s, (dps_prev, dps))
        v_prev, s_prev, dps_prev = v, s, dps
    return Decision(Outcome.AMBIGUOUS, v_prev, None, s_prev, (dps_prev, dps_prev))
