r"""One-dimensional families with shape, rate or edge parameters (not location-scale).

Each family is one ``Family`` recipe (``_common``), built by the same
code: density, support, numpy draw, and whichever of CDF, explicit
reparameterization x = g(eps; theta) and standardization S(x; theta) it
has.  A family without a reparameterization gets its flow from the CDF
through ``flows.implicit`` (Eq. 56: u = -(dF/dtheta)/p in 1-D).

============ =========== ============================ ========================== ==================
family       params      reparameterization           standardize                cdf
============ =========== ============================ ========================== ==================
exponential  lambda      eps/lambda, eps ~ Exp(1)     lambda x                   1 - exp
uniform      a, b        a + (b - a) eps, U(0, 1)     (x - a)/(b - a)            (x - a)/(b - a)
gamma        alpha, beta --                           --                         P(alpha, beta x)
beta         alpha, beta --                           --                         I_x(alpha, beta)
chi_squared  k           --                           --                         P(k/2, x/2)
weibull      lambda, k   lambda eps^(1/k), Exp(1)     (x/lambda)^k               1 - exp(-(x/lambda)^k)
log_normal   mu, sigma   exp(mu + sigma eps), N(0,1)  (log x - mu)/sigma         erf
kumaraswamy  a, b        (1-exp(-eps/b))^(1/a),Exp(1) -b log(1 - x^a)            1 - (1 - x^a)^b
von_mises    mu, kappa   --                           --                         Integral (no closed form)
============ =========== ============================ ========================== ==================

Every parameter may be a Symbol or an expression in Symbols: ``beta(alpha=a,
beta=a)`` is Beta(a, a) with params ``(a,)`` (see ``_common``).
"""

from __future__ import annotations

import sympy as sp

from ..core.density import Density
from ..numeric.special import RegularizedLowerGamma
from ._common import (
    A_POSITIVE,
    ALPHA,
    B_POSITIVE,
    BETA,
    EPS,
    KAPPA,
    MU,
    POSITIVE_REALS,
    RATE,
    REAL,
    SIGMA,
    UNIT_INTERVAL,
    A,
    B,
    Family,
    K,
    Slot,
    X,
    symbol_or_default,
)
from .bases import SQRT2PI, base
from .samplers import Draw, kumaraswamy_draw

__all__ = [
    "beta",
    "chi_squared",
    "exponential",
    "gamma",
    "kumaraswamy",
    "log_normal",
    "uniform",
    "von_mises",
    "weibull",
]


def _positive(*theta: sp.Expr) -> sp.Set:
    return POSITIVE_REALS


def _unit(*theta: sp.Expr) -> sp.Set:
    return UNIT_INTERVAL


def _regularized_lower_gamma(s: sp.Expr, z: sp.Expr) -> sp.Expr:
    # P(s, z) = lowergamma(s, z)/Gamma(s) as the named function P: its s-derivative is the named
    # dP/ds (evaluated by the numeric layer's kernels, no Meijer G), and its z-derivative the
    # density, so the implicit flow's transport residual cancels by cancel(together(.)).
    return RegularizedLowerGamma(s, z)


_EXPONENTIAL = Family(
    "exponential",
    (Slot("rate", RATE),),
    density=lambda x, lam: lam * sp.exp(-lam * x),
    support=_positive,
    draw=lambda lam: Draw("exponential", (1 / lam,)),
    cdf=lambda x, lam: 1 - sp.exp(-lam * x),
    reparam=lambda lam: (EPS / lam, base("exponential")),
    standardize=lambda x, lam: lam * x,
)

_UNIFORM = Family(
    "uniform",
    (Slot("a", A, REAL), Slot("b", B, REAL)),
    density=lambda x, a, b: 1 / (b - a),
    support=lambda a, b: sp.Interval(a, b),
    draw=lambda a, b: Draw("uniform", (a, b)),
    cdf=lambda x, a, b: (x - a) / (b - a),
    reparam=lambda a, b: (a + (b - a) * EPS, base("uniform")),
    standardize=lambda x, a, b: (x - a) / (b - a),
    constraints=lambda a, b: (sp.StrictLessThan(a, b),),
)

_GAMMA = Family(
    "gamma",
    (Slot("alpha", ALPHA), Slot("beta", BETA)),
    density=lambda x, a, b: b**a * x ** (a - 1) * sp.exp(-b * x) / sp.gamma(a),
    support=_positive,
    draw=lambda a, b: Draw("gamma", (a, 1 / b)),
    cdf=lambda x, a, b: _regularized_lower_gamma(a, b * x),
)

# Gamma functions rather than sympy.beta(a, b): a Symbol named "beta" next to
# the function beta() would clash in lambdified code.
_BETA = Family(
    "beta",
    (Slot("alpha", ALPHA), Slot("beta", BETA)),
    density=lambda x, a, b: sp.gamma(a + b) / (sp.gamma(a) * sp.gamma(b)) * x ** (a - 1) * (1 - x) ** (b - 1),
    support=_unit,
    draw=lambda a, b: Draw("beta", (a, b)),
    cdf=lambda x, a, b: sp.betainc_regularized(a, b, 0, x),
)

_CHI_SQUARED = Family(
    "chi_squared",
    (Slot("k", K),),
    density=lambda x, k: x ** (k / 2 - 1) * sp.exp(-x / 2) / (2 ** (k / 2) * sp.gamma(k / 2)),
    support=_positive,
    draw=lambda k: Draw("chisquare", (k,)),
    cdf=lambda x, k: _regularized_lower_gamma(k / 2, x / 2),
)

_WEIBULL = Family(
    "weibull",
    (Slot("lam", RATE), Slot("k", K)),
    density=lambda x, lam, k: k / lam * (x / lam) ** (k - 1) * sp.exp(-((x / lam) ** k)),
    support=_positive,
    draw=lambda lam, k: Draw("weibull", (k,), scale=lam),
    cdf=lambda x, lam, k: 1 - sp.exp(-((x / lam) ** k)),
    # eps = (x/lambda)^k ~ Exp(1), i.e. eps = -log(1 - U) for the inverse CDF at U ~ U(0, 1).
    reparam=lambda lam, k: (lam * EPS ** (1 / k), base("exponential")),
    standardize=lambda x, lam, k: (x / lam) ** k,
)

_LOG_NORMAL = Family(
    "log_normal",
    (Slot("mu", MU, REAL), Slot("sigma", SIGMA)),
    density=lambda x, mu, s: sp.exp(-((sp.log(x) - mu) ** 2) / (2 * s**2)) / (SQRT2PI * s * x),
    support=_positive,
    draw=lambda mu, s: Draw("lognormal", (mu, s)),
    cdf=lambda x, mu, s: (1 + sp.erf((sp.log(x) - mu) / (sp.sqrt(2) * s))) / 2,
    reparam=lambda mu, s: (sp.exp(mu + s * EPS), base("normal")),
    standardize=lambda x, mu, s: (sp.log(x) - mu) / s,
)

_KUMARASWAMY = Family(
    "kumaraswamy",
    (Slot("a", A_POSITIVE), Slot("b", B_POSITIVE)),
    density=lambda x, a, b: a * b * x ** (a - 1) * (1 - x**a) ** (b - 1),
    support=_unit,
    draw=lambda a, b: Draw(kumaraswamy_draw, (a, b)),
    cdf=lambda x, a, b: 1 - (1 - x**a) ** b,
    # The inverse CDF at U = 1 - exp(-eps), eps ~ Exp(1): at eps = S(x), exp(-eps/b) is
    # 1 - x^a exactly, so the flow needs no ((1 - x^a)^b)^(1/b), which SymPy cannot
    # reduce for a real x and which loses every digit near x = 0.
    reparam=lambda a, b: ((1 - sp.exp(-EPS / b)) ** (1 / a), base("exponential")),
    standardize=lambda x, a, b: -b * sp.log(1 - x**a),
)

# The CDF's integration variable; another Symbol is used when a user's x or parameter is named xi.
_XI = sp.Symbol("xi", real=True)


def _von_mises_density(x: sp.Expr, mu: sp.Expr, kappa: sp.Expr) -> sp.Expr:
    return sp.exp(kappa * sp.cos(x - mu)) / (2 * sp.pi * sp.besseli(0, kappa))


def _von_mises_cdf(x: sp.Symbol, mu: sp.Expr, kappa: sp.Expr) -> sp.Expr:
    xi = _XI if _XI not in ({x} | mu.free_symbols | kappa.free_symbols) else sp.Dummy("xi", real=True)
    return sp.Integral(_von_mises_density(xi, mu, kappa), (xi, -sp.pi, x))


_VON_MISES = Family(
    "von_mises",
    (Slot("mu", MU, REAL), Slot("kappa", KAPPA)),
    density=_von_mises_density,
    support=lambda mu, kappa: sp.Interval(-sp.pi, sp.pi),
    draw=lambda mu, kappa: Draw("vonmises", (mu, kappa)),
    cdf=_von_mises_cdf,
)


def _x(x: object) -> sp.Symbol:
    return symbol_or_default(x, X, "x")


def exponential(x: sp.Symbol | None = None, rate: sp.Expr | None = None) -> Density:
    r"""The exponential density with rate lambda on [0, oo).

    .. math:: p(x;\lambda) = \lambda e^{-\lambda x}, \quad x \ge 0

    Parameter order: ``(lambda,)`` (the rate; mean 1/lambda, variance
    1/lambda^2).  Reparameterization x = eps/lambda, eps ~ Exp(1);
    standardization lambda x; CDF 1 - exp(-lambda x).

    Parameters
    ----------
    x : Symbol, optional
        Replaces the default x (real; the support is given separately).
    rate : Symbol or expression in Symbols, optional
        Replaces the default rate Symbol ``lambda`` (positive).
    """
    return _EXPONENTIAL(_x(x), (rate,))


def uniform(x: sp.Symbol | None = None, a: sp.Expr | None = None, b: sp.Expr | None = None) -> Density:
    r"""The uniform density on [a, b]: a support that moves with the parameters.

    .. math:: p(x;a,b) = \frac{1}{b-a}, \quad a \le x \le b

    Parameter order: ``(a, b)``, with the constraint a < b.  Mean (a + b)/2,
    variance (b - a)^2/12.  Reparameterization x = a + (b - a) eps,
    eps ~ U(0, 1); standardization and CDF (x - a)/(b - a).  The flow moves
    the edges with the support, so no boundary term arises.

    Parameters
    ----------
    x : Symbol, optional
        Replaces the default variable x (real).
    a, b : Symbol or expression in Symbols, optional
        Replace the default Symbols a, b (real).
    """
    return _UNIFORM(_x(x), (a, b))


def gamma(x: sp.Symbol | None = None, alpha: sp.Expr | None = None, beta: sp.Expr | None = None) -> Density:
    r"""The gamma density with shape alpha and *rate* beta on [0, oo).

    .. math:: p(x;\alpha,\beta) = \frac{\beta^\alpha}{\Gamma(\alpha)} x^{\alpha-1} e^{-\beta x}, \quad x > 0

    Parameter order: ``(alpha, beta)`` (shape, rate; mean alpha/beta,
    variance alpha/beta^2).  No explicit reparameterization: the CDF
    P(alpha, beta x) = lowergamma(alpha, beta x)/Gamma(alpha), written as the
    named function ``RegularizedLowerGamma`` (``symflow.numeric.special``: its
    alpha-derivative is a named function too, evaluated by vectorized kernels),
    gives the implicit flow (Eq. 56) through ``flows.implicit``.  ``gamma(alpha=k,
    beta=k)`` ties shape and rate (params ``(k,)``).

    Parameters
    ----------
    x : Symbol, optional
        Replaces the default x (real; the support is given separately).
    alpha, beta : Symbol or expression in Symbols, optional
        Replace the default shape and rate Symbols (positive).
    """
    return _GAMMA(_x(x), (alpha, beta))


def beta(x: sp.Symbol | None = None, alpha: sp.Expr | None = None, beta: sp.Expr | None = None) -> Density:
    r"""The beta density on [0, 1].

    .. math:: p(x;\alpha,\beta) = \frac{\Gamma(\alpha+\beta)}{\Gamma(\alpha)\Gamma(\beta)}
              x^{\alpha-1}(1-x)^{\beta-1}, \quad 0 < x < 1

    Parameter order: ``(alpha, beta)``.  Mean alpha/(alpha + beta), variance
    alpha beta / ((alpha + beta)^2 (alpha + beta + 1)).  No explicit
    reparameterization: the CDF is the regularized incomplete beta function
    I_x(alpha, beta) (``sympy.betainc_regularized``), which gives the implicit
    flow (Eq. 56).  SymPy keeps dI/dalpha as an unevaluated ``Derivative``.
    ``beta(alpha=a, beta=a)`` is the symmetric Beta(a, a) with params ``(a,)``.

    Parameters
    ----------
    x : Symbol, optional
        Replaces the default x (real; the support is given separately).
    alpha, beta : Symbol or expression in Symbols, optional
        Replace the default Symbols (positive).
    """
    return _BETA(_x(x), (alpha, beta))


def chi_squared(x: sp.Symbol | None = None, k: sp.Expr | None = None) -> Density:
    r"""The chi-squared density with k degrees of freedom (k a parameter, not only an integer).

    .. math:: p(x;k) = \frac{x^{k/2-1} e^{-x/2}}{2^{k/2}\,\Gamma(k/2)}, \quad x > 0

    Parameter order: ``(k,)``; mean k, variance 2k.  The Gamma(k/2, rate 1/2).
    CDF P(k/2, x/2) = lowergamma(k/2, x/2)/Gamma(k/2), written as the named
    function ``RegularizedLowerGamma`` (as for ``gamma``; the implicit flow's
    transport (Eq. 56) then cancels by ``cancel(together(.))``).  No explicit
    reparameterization.

    Parameters
    ----------
    x : Symbol, optional
        Replaces the default x (real; the support is given separately).
    k : Symbol or expression in Symbols, optional
        Replaces the default Symbol ``k`` (positive).
    """
    return _CHI_SQUARED(_x(x), (k,))


def weibull(x: sp.Symbol | None = None, lam: sp.Expr | None = None, k: sp.Expr | None = None) -> Density:
    r"""The Weibull density with scale lambda and shape k on [0, oo).

    .. math:: p(x;\lambda,k) = \frac{k}{\lambda}\left(\frac{x}{\lambda}\right)^{k-1}
              e^{-(x/\lambda)^k}, \quad x \ge 0

    Parameter order: ``(lambda, k)`` (scale, shape; the Symbol ``lambda`` is
    the one the exponential uses for its rate: Weibull(lambda, 1) is the
    exponential with rate 1/lambda).  CDF 1 - exp(-(x/lambda)^k).
    Reparameterization x = lambda eps^(1/k), eps ~ Exp(1) (the inverse CDF
    lambda (-log(1 - U))^(1/k) at U ~ U(0, 1)), standardization (x/lambda)^k.

    Parameters
    ----------
    x : Symbol, optional
        Replaces the default x (real; the support is given separately).
    lam, k : Symbol or expression in Symbols, optional
        Replace the default Symbols ``lambda`` and ``k`` (positive).
    """
    return _WEIBULL(_x(x), (lam, k))


def log_normal(x: sp.Symbol | None = None, mu: sp.Expr | None = None, sigma: sp.Expr | None = None) -> Density:
    r"""The log-normal density: log x ~ N(mu, sigma^2).

    .. math:: p(x;\mu,\sigma) = \frac{1}{\sqrt{2\pi}\,\sigma x}
              \exp\!\left(-\frac{(\log x-\mu)^2}{2\sigma^2}\right), \quad x > 0

    Parameter order: ``(mu, sigma)`` (the normal's Symbols).  Reparameterization
    x = exp(mu + sigma eps), eps ~ N(0, 1); standardization (log x - mu)/sigma;
    CDF (1 + erf((log x - mu)/(sqrt(2) sigma)))/2.

    Parameters
    ----------
    x : Symbol, optional
        Replaces the default x (real; the support is given separately).
    mu, sigma : Symbol or expression in Symbols, optional
        Replace the default Symbols mu (real), sigma (positive).
    """
    return _LOG_NORMAL(_x(x), (mu, sigma))


def kumaraswamy(x: sp.Symbol | None = None, a: sp.Expr | None = None, b: sp.Expr | None = None) -> Density:
    r"""The Kumaraswamy density on [0, 1].

    .. math:: p(x;a,b) = a b\, x^{a-1} (1 - x^a)^{b-1}, \quad 0 < x < 1

    Parameter order: ``(a, b)``, both > 0.  The default Symbols are named
    ``a`` and ``b`` but are positive, so they are not the uniform's real
    edges ``a``, ``b``.  CDF 1 - (1 - x^a)^b.  Reparameterization by
    the inverse CDF: x = (1 - (1 - U)^(1/b))^(1/a), U ~ U(0, 1), written with
    eps = -log(1 - U) ~ Exp(1) as x = (1 - exp(-eps/b))^(1/a), standardization
    -b log(1 - x^a).

    Parameters
    ----------
    x : Symbol, optional
        Replaces the default x (real; the support is given separately).
    a, b : Symbol or expression in Symbols, optional
        Replace the default Symbols ``a``, ``b`` (positive).
    """
    return _KUMARASWAMY(_x(x), (a, b))


def von_mises(x: sp.Symbol | None = None, mu: sp.Expr | None = None, kappa: sp.Expr | None = None) -> Density:
    r"""The von Mises density (circular normal) on (-pi, pi).

    .. math:: p(x;\mu,\kappa) = \frac{e^{\kappa\cos(x-\mu)}}{2\pi I_0(\kappa)}, \quad -\pi < x < \pi

    Parameter order: ``(mu, kappa)`` (location, concentration).  ``I_0`` is
    ``sympy.besseli(0, kappa)``.  The support's edges are symbolic (-pi, pi).
    The CDF has no closed form in SymPy: it is the unevaluated
    ``Integral(p(xi), (xi, -pi, x))``, which SymPy differentiates under the
    integral sign, so ``flows.implicit`` (Eq. 56) works (for mu it reduces to
    u = 1 - p(-pi)/p(x): the support stays put while the mode moves).  Its
    simplify step tries to integrate the kappa-derivative and spends the
    budget doing so; pass ``timeout=`` (1 s is plenty).  The sampler is numpy's
    ``vonmises``, which wraps into [-pi, pi] for any mu.

    Parameters
    ----------
    x : Symbol, optional
        Replaces the default x (real; the support is given separately).
    mu, kappa : Symbol or expression in Symbols, optional
        Replace the default Symbols mu (real), kappa (positive).
    """
    return _VON_MISES(_x(x), (mu, kappa))
