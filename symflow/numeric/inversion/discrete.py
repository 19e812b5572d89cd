"""Sampling a pmf on the integers: cumulative sums up to a tail mass below 1e-14, then ``searchsorted``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...errors import SymflowError
from .table import _FIX, _values

__all__ = ["InversePmfSampler", "inverse_pmf_sampler"]


# -- discrete ---------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class InversePmfSampler:
    """k = min{k : Q(k) > u}, u ~ U(0, 1), for a pmf on lo, lo + 1, ..., built by ``inverse_pmf_sampler``.

    ``cum[j]`` is Q(lo + j) (the last entry is 1); ``tail`` is the mass cut off beyond
    ``lo + len(cum) - 1``, relative to the total (below 1e-14 by construction).
    """

    lo: int
    cum: np.ndarray
    tail: float

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """The smallest k with Q(k) > u (u in [0, 1))."""
        j = np.searchsorted(self.cum, np.asarray(u, dtype=float), side="right")
        return self.lo + np.minimum(j, self.cum.size - 1)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws as an (n,) int64 array."""
        return self.ppf(rng.random(int(n)))

    def cdf(self, k: np.ndarray) -> np.ndarray:
        """Q(k) = P(X <= k) (0 below lo, 1 beyond the table)."""
        j = np.floor(np.asarray(k, dtype=float)) - self.lo
        inside = np.clip(j, 0, self.cum.size - 1).astype(np.int64)
        return np.where(j < 0, 0.0, np.where(j >= self.cum.size - 1, 1.0, self.cum[inside]))


def _tail_left(p: np.ndarray, k_from_lo: np.ndarray) -> float:
    """The mass beyond the last term, estimated as geometric and as power law (the larger).

    A log-concave tail has falling ratios p_{k+1}/p_k, so p_k r/(1 - r) bounds it; a power
    law p ~ k^{-s} has ratios tending to 1, for which p_k k/(s - 1) is the estimate.
    """
    if p[-1] == 0 and p[-2] == 0:
        return 0.0
    r = p[-1] / p[-2] if p[-2] > 0 else np.inf
    if not r < 1:
        return np.inf
    geometric = p[-1] * r / (1 - r)
    half = k_from_lo.size // 2
    if p[half] <= 0:
        return geometric
    s = np.log(p[half] / p[-1]) / np.log(k_from_lo[-1] / k_from_lo[half])
    return max(geometric, p[-1] * k_from_lo[-1] / (s - 1) if s > 1 else np.inf)


def inverse_pmf_sampler(
    pmf: Callable[[np.ndarray], np.ndarray], lo: int, hi: float = np.inf, *, tail: float = 1e-14, max_terms: int = 10**7
) -> InversePmfSampler:
    """A sampler for the pmf on the integers lo, lo + 1, ..., hi (hi may be infinite).

    Parameters
    ----------
    pmf : callable
        ``pmf(k: ndarray) -> ndarray``: vectorized, >= 0, possibly unnormalized; ``k`` holds
        integers as float64.
    lo, hi : int (hi may be ``numpy.inf``)
        The support.
    tail : float
        Terms are summed until the mass left (relative to the total) is below ``tail``.
    max_terms : int
        Refuse when that many terms do not reach ``tail``.

    Examples
    --------
    >>> from scipy.special import factorial
    >>> s = inverse_pmf_sampler(lambda k: 3.0**k / factorial(k), 0)
    >>> bool(abs(s.cdf(2) - 8.5 * 2.718281828459045**-3) < 1e-14)
    True
    """
    if not (np.isfinite(lo) and float(lo) == int(lo)):
        raise SymflowError(f"lo = {lo} must be a finite integer; a support infinite to the left is not supported")
    lo = int(lo)
    if hi != np.inf and not float(hi) == int(hi):
        raise SymflowError(f"hi = {hi} must be an integer or numpy.inf")
    if hi < lo:
        raise SymflowError(f"the support {lo}..{hi} is empty; give hi >= lo")
    chunks, left, size, start = [], np.inf, 1024, lo
    while True:
        stop = start + size if hi == np.inf else min(start + size, int(hi) + 1)
        p = _values(pmf, np.arange(start, stop, dtype=float))
        cut = not np.isfinite(p).all()
        if cut:  # nan/inf once the terms have died out is overflow in the tail (inf/inf): the sum ends there
            j = int(np.argmax(~np.isfinite(p)))
            before = np.concatenate([*chunks, p[:j]])
            if before.size < 2 or before[-2:].max() > 1e-30 * before.max():
                raise SymflowError(f"the pmf is {p[j]} at k = {start + j}; fix the expression or " + _FIX)
            p, stop = p[:j], start + j
        chunks.append(p)
        start = stop
        total = float(sum(c.sum() for c in chunks))
        if cut or (hi != np.inf and start > hi):
            left = 0.0
            break
        allp = np.concatenate(chunks[-2:])
        left = _tail_left(allp, np.arange(start - allp.size, start, dtype=float) - lo + 1)
        if total > 0 and left <= tail * total:
            break
        if start - lo >= max_terms:
            raise SymflowError(
                f"the pmf's terms up to k = {start - 1} hold {total:.6g} and the tail beyond is estimated at "
                f"{left:.3g}: not below {tail} of the total within {max_terms} terms (a tail too heavy, a pmf that "
                "is 0 everywhere so far, or one not summable); " + _FIX
            )
        size = min(2 * size, 1 << 20)
    p = np.concatenate(chunks)
    if not total > 0:
        raise SymflowError(f"the pmf is 0 on all of {lo}..{hi}; check the expression and the support")
    cum = np.cumsum(p) / total
    cum[-1] = 1.0
    return InversePmfSampler(lo, cum, left / total)
