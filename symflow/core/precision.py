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
``POINTWISE``        50   30   1e-40 (relative)       1e-25 (relative)
``QUADRATURE``       50   30   1e-30 (relative)       1e-30
``QUADRATURE_FAST``  30   20   1e-20 (relative)       1e-20
==================  ====  ===  =====================  =====================

Agreement between the two precisions is required to 10^-(low/3) relative
(1e-10 at 30 digits, 1e-6 at 20).  Pointwise evaluation is exact to nearly
the working precision, so its zero tolerance keeps 10 digits of margin;
quadrature of a smooth integrand keeps about 3/5 of them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mpmath

__all__ = [
    "FLOAT64_AGREE_REL",
    "POINTWISE",
    "QUADRATURE",
    "QUADRATURE_FAST",
    "Decision",
    "Outcome",
    "Precision",
    "decide",
]

# float64 routes (2-D Gauss-Legendre at two orders): relative agreement required.
FLOAT64_AGREE_REL = 1e-10


class Outcome(str, enum.Enum):
    """What two evaluations of a quantity that should vanish say about it."""

    ZERO = "zero"
    NONZERO = "nonzero"
    AMBIGUOUS = "ambiguous"
    UNDEFINED = "undefined"  # nan, infinite, or the evaluation failed

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
    """

    high: int
    low: int
    zero_digits: int
    nonzero_digits: int
    tiny_is_checked: bool = False

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


POINTWISE = Precision(high=50, low=30, zero_digits=40, nonzero_digits=25, tiny_is_checked=True)
QUADRATURE = Precision(high=50, low=30, zero_digits=30, nonzero_digits=30)
QUADRATURE_FAST = Precision(high=30, low=20, zero_digits=20, nonzero_digits=20)


@dataclass(frozen=True)
class Decision:
    """The outcome, with the value at the high precision and (when computed) at the low one."""

    outcome: Outcome
    high: Any = None
    low: Any = None
    scale: Any = 1

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


def decide(evaluate: Callable[[int], Any], precision: Precision, *, scale: Any = None) -> Decision:
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

    high = at(precision.high)
    if high is None:
        return Decision(Outcome.UNDEFINED)
    value, own_scale = high
    # Compare at the higher precision: mpf arithmetic rounds to the current one.
    with mpmath.workdps(precision.high + 10):
        size = max(mpmath.mpf(1), abs(mpmath.mpmathify(scale if scale is not None else own_scale)))
        magnitude = abs(value)
        if magnitude <= precision.zero_tol * size:
            if not (precision.tiny_is_checked and value != 0):
                return Decision(Outcome.ZERO, value, None, size)
            low = at(precision.low)
            if low is not None and abs(low[0] - value) <= precision.agree_rel * magnitude:
                return Decision(Outcome.NONZERO, value, low[0], size)
            return Decision(Outcome.ZERO, value, None if low is None else low[0], size)
        if magnitude <= precision.nonzero_tol * size:
            return Decision(Outcome.AMBIGUOUS, value, None, size)
        low = at(precision.low)
        if low is not None and abs(low[0] - value) <= precision.agree_rel * magnitude:
            return Decision(Outcome.NONZERO, value, low[0], size)
        return Decision(Outcome.AMBIGUOUS, value, None if low is None else low[0], size)
