"""Discrete families: pmfs over sets of integers.

Each function returns a ``Density`` whose support is ``sympy.Naturals0`` or
a ``sympy.Range`` (so ``is_discrete`` is True and ``expr`` is the pmf), with
a numpy sampler and, where SymPy has one, the CDF Q(y) = sum_{i <= y} p(i)
that the GO gradient (Eq. 73) differentiates.

============== ============== ========= ============================================
family         params         support   pmf
============== ============== ========= ============================================
poisson        lambda         0, 1, ... lambda^y e^-lambda / y!
geometric      p              0, 1, ... (1 - p)^y p   (failures before a success)
neg. binomial  r, p           0, 1, ... C(y + r - 1, y) p^r (1 - p)^y
binomial       p (n fixed)    0..n      C(n, y) p^y (1 - p)^(n - y)
bernoulli      p              0, 1      p^y (1 - p)^(1 - y)
============== ============== ========= ============================================
"""

from __future__ import annotations

import numbers

import numpy as np
import sympy as sp

from ..core.density import Density
from ..errors import DensityError
from ._common import RATE, symbol_or_default

__all__ = ["bernoulli", "binomial", "geometric", "negative_binomial", "poisson"]

# integer variable shared by the discrete families (integer assumptions let SymPy sum and simplify factorials)
Y = sp.Symbol("y", integer=True, nonnegative=True)
PROB = sp.Symbol("p", positive=True)
R = sp.Symbol("r", positive=True)


def _column(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=float).reshape(-1, 1)


def _unit(p: sp.Symbol) -> tuple[sp.Basic, ...]:
    return (sp.StrictLessThan(p, 1),)


def poisson(y: sp.Symbol | None = None, rate: sp.Symbol | None = None) -> Density:
    r"""Poisson(lambda): :math:`p(y;\lambda) = \lambda^y e^{-\lambda}/y!` on y = 0, 1, ...

    CDF Q(y) = Gamma(y + 1, lambda)/y! (regularized upper incomplete gamma),
    so the GO weight -(dQ/dlambda)/p is 1 (REFERENCE-CASES).
    """
    y, lam = symbol_or_default(y, Y, "y"), symbol_or_default(rate, RATE, "rate")

    def sample(n: int, params: dict, rng: np.random.Generator) -> np.ndarray:
        return _column(rng.poisson(params[lam], n))

    return Density(
        lam**y * sp.exp(-lam) / sp.factorial(y),
        (y,),
        (lam,),
        support=sp.Naturals0,
        sampler=sample,
        cdf=sp.uppergamma(y + 1, lam) / sp.factorial(y),
        name="poisson",
    )


def geometric(y: sp.Symbol | None = None, p: sp.Symbol | None = None) -> Density:
    r"""Geometric(p), failures before the first success: :math:`(1-p)^y p` on y = 0, 1, ...

    CDF Q(y) = 1 - (1 - p)^(y + 1); constraint p < 1.
    """
    y, p = symbol_or_default(y, Y, "y"), symbol_or_default(p, PROB, "p")

    def sample(n: int, params: dict, rng: np.random.Generator) -> np.ndarray:
        return _column(rng.geometric(params[p], n) - 1)  # numpy counts trials, not failures

    return Density(
        (1 - p) ** y * p,
        (y,),
        (p,),
        support=sp.Naturals0,
        sampler=sample,
        cdf=1 - (1 - p) ** (y + 1),
        constraints=_unit(p),
        name="geometric",
    )


def negative_binomial(y: sp.Symbol | None = None, r: sp.Symbol | None = None, p: sp.Symbol | None = None) -> Density:
    r"""NegativeBinomial(r, p), failures before the r-th success.

    .. math:: p(y; r, p) = \frac{\Gamma(y + r)}{y!\,\Gamma(r)} p^r (1 - p)^y, \quad y = 0, 1, \ldots

    Parameter order ``(r, p)``; r > 0 need not be an integer; constraint
    p < 1.  No closed-form CDF is attached (it is a regularized incomplete
    beta in p); ``go_estimator`` sums the pmf instead.
    """
    y, r, p = symbol_or_default(y, Y, "y"), symbol_or_default(r, R, "r"), symbol_or_default(p, PROB, "p")

    def sample(n: int, params: dict, rng: np.random.Generator) -> np.ndarray:
        return _column(rng.negative_binomial(params[r], params[p], n))

    return Density(
        sp.gamma(y + r) / (sp.factorial(y) * sp.gamma(r)) * p**r * (1 - p) ** y,
        (y,),
        (r, p),
        support=sp.Naturals0,
        sampler=sample,
        constraints=_unit(p),
        name="negative_binomial",
    )


def binomial(n: int, y: sp.Symbol | None = None, p: sp.Symbol | None = None) -> Density:
    r"""Binomial(n, p) with a fixed number of trials n: :math:`\binom{n}{y} p^y (1-p)^{n-y}` on 0..n."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise DensityError(f"n must be a positive int (the number of trials), got {n!r}")
    n = int(n)
    y, p = symbol_or_default(y, Y, "y"), symbol_or_default(p, PROB, "p")

    def sample(m: int, params: dict, rng: np.random.Generator) -> np.ndarray:
        return _column(rng.binomial(n, params[p], m))

    return Density(
        sp.binomial(n, y) * p**y * (1 - p) ** (n - y),
        (y,),
        (p,),
        support=sp.Range(0, n + 1),
        sampler=sample,
        constraints=_unit(p),
        name=f"binomial{n}",
    )


def bernoulli(y: sp.Symbol | None = None, p: sp.Symbol | None = None) -> Density:
    r"""Bernoulli(p): :math:`p^y (1-p)^{1-y}` on {0, 1}; CDF Q(0) = 1 - p, Q(1) = 1."""
    y, p = symbol_or_default(y, Y, "y"), symbol_or_default(p, PROB, "p")

    def sample(n: int, params: dict, rng: np.random.Generator) -> np.ndarray:
        return _column(rng.random(n) < params[p])

    return Density(
        p**y * (1 - p) ** (1 - y),
        (y,),
        (p,),
        support=sp.Range(0, 2),
        sampler=sample,
        constraints=_unit(p),
        name="bernoulli",
    )
