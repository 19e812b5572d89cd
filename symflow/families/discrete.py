"""Discrete families: pmfs over sets of integers.

Each function returns a ``Density`` whose support is ``sympy.Naturals0`` or
a ``sympy.Range`` (so ``is_discrete`` is True and ``expr`` is the pmf), with
a numpy sampler and, where SymPy has one, the CDF Q(y) = sum_{i <= y} p(i)
that the GO gradient (Eq. 73) differentiates.  They are built by the same
``Family`` recipe as the continuous ones, so ties and expressions work
(``negative_binomial(r=k, p=1/(1 + k))``).

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

import sympy as sp

from ..core.density import Density
from ..errors import DensityError
from ._common import RATE, UNIT, Family, Slot, symbol_or_default
from .samplers import Draw, bernoulli_draw

__all__ = ["bernoulli", "binomial", "geometric", "negative_binomial", "poisson"]

# integer variable shared by the discrete families (integer assumptions let SymPy sum and simplify factorials)
Y = sp.Symbol("y", integer=True, nonnegative=True)
PROB = sp.Symbol("p", positive=True)
R = sp.Symbol("r", positive=True)

_P = Slot("p", PROB, UNIT)


def _naturals(*theta: sp.Expr) -> sp.Set:
    return sp.Naturals0


_POISSON = Family(
    "poisson",
    (Slot("rate", RATE),),
    density=lambda y, lam: lam**y * sp.exp(-lam) / sp.factorial(y),
    support=_naturals,
    draw=lambda lam: Draw("poisson", (lam,)),
    cdf=lambda y, lam: sp.uppergamma(y + 1, lam) / sp.factorial(y),
)

_GEOMETRIC = Family(
    "geometric",
    (_P,),
    density=lambda y, p: (1 - p) ** y * p,
    support=_naturals,
    draw=lambda p: Draw("geometric", (p,), loc=sp.Integer(-1)),  # numpy counts trials, not failures
    cdf=lambda y, p: 1 - (1 - p) ** (y + 1),
)

_NEGATIVE_BINOMIAL = Family(
    "negative_binomial",
    (Slot("r", R), _P),
    density=lambda y, r, p: sp.gamma(y + r) / (sp.factorial(y) * sp.gamma(r)) * p**r * (1 - p) ** y,
    support=_naturals,
    draw=lambda r, p: Draw("negative_binomial", (r, p)),
)

_BERNOULLI = Family(
    "bernoulli",
    (_P,),
    density=lambda y, p: p**y * (1 - p) ** (1 - y),
    support=lambda p: sp.Range(0, 2),
    draw=lambda p: Draw(bernoulli_draw, (p,)),
)


def _binomial_family(n: int) -> Family:
    return Family(
        f"binomial{n}",
        (_P,),
        density=lambda y, p: sp.binomial(n, y) * p**y * (1 - p) ** (n - y),
        support=lambda p: sp.Range(0, n + 1),
        draw=lambda p: Draw("binomial", (sp.Integer(n), p)),
    )


def _y(y: object) -> sp.Symbol:
    return symbol_or_default(y, Y, "y")


def poisson(y: sp.Symbol | None = None, rate: sp.Expr | None = None) -> Density:
    r"""Poisson(lambda): :math:`p(y;\lambda) = \lambda^y e^{-\lambda}/y!` on y = 0, 1, ...

    CDF Q(y) = Gamma(y + 1, lambda)/y! (regularized upper incomplete gamma),
    so the GO weight -(dQ/dlambda)/p is 1 (REFERENCE-CASES).
    """
    return _POISSON(_y(y), (rate,))


def geometric(y: sp.Symbol | None = None, p: sp.Expr | None = None) -> Density:
    r"""Geometric(p), failures before the first success: :math:`(1-p)^y p` on y = 0, 1, ...

    CDF Q(y) = 1 - (1 - p)^(y + 1); constraint p < 1.
    """
    return _GEOMETRIC(_y(y), (p,))


def negative_binomial(y: sp.Symbol | None = None, r: sp.Expr | None = None, p: sp.Expr | None = None) -> Density:
    r"""NegativeBinomial(r, p), failures before the r-th success.

    .. math:: p(y; r, p) = \frac{\Gamma(y + r)}{y!\,\Gamma(r)} p^r (1 - p)^y, \quad y = 0, 1, \ldots

    Parameter order ``(r, p)``; r > 0 need not be an integer; constraint
    p < 1.  No closed-form CDF is attached (it is a regularized incomplete
    beta in p); ``go_estimator`` sums the pmf instead.
    """
    return _NEGATIVE_BINOMIAL(_y(y), (r, p))


def binomial(n: int, y: sp.Symbol | None = None, p: sp.Expr | None = None) -> Density:
    r"""Binomial(n, p) with a fixed number of trials n: :math:`\binom{n}{y} p^y (1-p)^{n-y}` on 0..n."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise DensityError(f"n must be a positive int (the number of trials), got {n!r}")
    return _binomial_family(int(n))(_y(y), (p,))


def bernoulli(y: sp.Symbol | None = None, p: sp.Expr | None = None) -> Density:
    r"""Bernoulli(p): :math:`p^y (1-p)^{1-y}` on {0, 1}; CDF Q(0) = 1 - p, Q(1) = 1."""
    return _BERNOULLI(_y(y), (p,))
