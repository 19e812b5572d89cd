"""One-dimensional continuous families.

Each function returns a ``Density`` over the shared variable ``x`` (real; a
positive support is stated by ``support``, not by the Symbol).  Location-scale
families share ``mu`` (real) and ``sigma`` (positive), so their estimators can
be mixed; ``sigma`` is always the *scale* of the family, which is the standard
deviation only for the normal.

What each family carries, and so which flows it supports:

============== ============ ================= =============== ===============
family         params       reparameterization standardize     cdf
============== ============ ================= =============== ===============
normal         mu, sigma    mu + sigma eps     (x - mu)/sigma  erf
laplace        mu, sigma    mu + sigma eps     (x - mu)/sigma  piecewise exp
logistic       mu, sigma    mu + sigma eps     (x - mu)/sigma  sigmoid
l_distribution mu, sigma    mu + sigma eps     (x - mu)/sigma  Phi(z) - z phi(z)
student_t      mu, sigma,nu only for fixed nu  only fixed nu   2F1
exponential    lambda       eps / lambda       lambda x        1 - exp
uniform        a, b         a + (b - a) eps    (x - a)/(b - a) (x - a)/(b - a)
gamma          alpha, beta  --                 --              P(alpha, beta x)
beta           alpha, beta  --                 --              I_x(alpha, beta)
============== ============ ================= =============== ===============

Families without an explicit reparameterization get their flow from the CDF
through ``flows.implicit`` (Eq. 56).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import sympy as sp

from ..core.density import Density, Reparameterization
from ._common import ALPHA, BETA, EPS, MU, NU, RATE, SIGMA, A, B, X, positive_number, symbol_or_default

__all__ = [
    "beta",
    "exponential",
    "gamma",
    "l_distribution",
    "laplace",
    "logistic",
    "normal",
    "student_t",
    "uniform",
]

_SQRT2PI = sp.sqrt(2 * sp.pi)
_POSITIVE_REALS = sp.Interval(0, sp.oo)


def _column(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=float).reshape(-1, 1)


# -- standard (theta-free) base densities over eps ------------------------------
# Built once: every location-scale family with these Symbols shares its base.


def _std_normal_expr(z: sp.Expr) -> sp.Expr:
    return sp.exp(-(z**2) / 2) / _SQRT2PI


def _std_laplace_expr(z: sp.Expr) -> sp.Expr:
    return sp.exp(-sp.Abs(z)) / 2


def _std_logistic_expr(z: sp.Expr) -> sp.Expr:
    return sp.exp(-z) / (1 + sp.exp(-z)) ** 2


def _std_l_expr(z: sp.Expr) -> sp.Expr:
    return z**2 * sp.exp(-(z**2) / 2) / _SQRT2PI


def _std_t_expr(z: sp.Expr, nu: sp.Expr) -> sp.Expr:
    return sp.gamma((nu + 1) / 2) / (sp.sqrt(nu * sp.pi) * sp.gamma(nu / 2)) * (1 + z**2 / nu) ** (-(nu + 1) / 2)


def _sample_std_l(n: int, rng: np.random.Generator) -> np.ndarray:
    """Eq. (79) with mu = 0, sigma = 1: +-sqrt(-2 log eps_h + eps_x^2)."""
    eps_x = rng.standard_normal(n)
    eps_h = 1.0 - rng.random(n)  # in (0, 1]: log(0) cannot occur
    sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    return sign * np.sqrt(-2.0 * np.log(eps_h) + eps_x**2)


@cache
def _base(kind: str, nu: sp.Expr | None = None) -> Density:
    """The theta-free density of eps for the reparameterizations below."""
    if kind == "normal":
        return Density(
            _std_normal_expr(EPS), (EPS,), (), sampler=lambda n, _p, rng: _column(rng.standard_normal(n)), name="N(0,1)"
        )
    if kind == "laplace":
        return Density(
            _std_laplace_expr(EPS),
            (EPS,),
            (),
            sampler=lambda n, _p, rng: _column(rng.laplace(size=n)),
            name="Laplace(0,1)",
        )
    if kind == "logistic":
        return Density(
            _std_logistic_expr(EPS),
            (EPS,),
            (),
            sampler=lambda n, _p, rng: _column(rng.logistic(size=n)),
            name="Logistic(0,1)",
        )
    if kind == "l":
        return Density(
            _std_l_expr(EPS), (EPS,), (), sampler=lambda n, _p, rng: _column(_sample_std_l(n, rng)), name="L(0,1)"
        )
    if kind == "exponential":
        return Density(
            sp.exp(-EPS),
            (EPS,),
            (),
            support=_POSITIVE_REALS,
            sampler=lambda n, _p, rng: _column(rng.standard_exponential(n)),
            name="Exp(1)",
        )
    if kind == "uniform":
        return Density(
            sp.S.One,
            (EPS,),
            (),
            support=sp.Interval(0, 1),
            sampler=lambda n, _p, rng: _column(rng.random(n)),
            name="U(0,1)",
        )
    if kind == "t":
        nu_float = float(nu)
        return Density(
            _std_t_expr(EPS, nu),
            (EPS,),
            (),
            sampler=lambda n, _p, rng: _column(rng.standard_t(nu_float, n)),
            name=f"t({nu})",
        )
    raise AssertionError(kind)  # pragma: no cover - private helper


def _loc_scale_symbols(x: object, mu: object, sigma: object) -> tuple[sp.Symbol, sp.Symbol, sp.Symbol]:
    return symbol_or_default(x, X, "x"), symbol_or_default(mu, MU, "mu"), symbol_or_default(sigma, SIGMA, "sigma")


def _location_scale(
    name: str,
    std_expr: Callable[[sp.Expr], sp.Expr],
    std_cdf: Callable[[sp.Expr], sp.Expr] | None,
    base: Density | None,
    sampler: Callable[[int, dict, np.random.Generator], np.ndarray],
    x: sp.Symbol,
    mu: sp.Symbol,
    sigma: sp.Symbol,
    extra: tuple[sp.Symbol, ...] = (),
) -> Density:
    """p(x) = f((x - mu)/sigma)/sigma with x = mu + sigma eps, eps ~ f (when ``base`` is given)."""
    z = (x - mu) / sigma
    reparam = None if base is None else Reparameterization((mu + sigma * EPS,), (EPS,), base)
    return Density(
        std_expr(z) / sigma,
        (x,),
        (mu, sigma, *extra),
        sampler=sampler,
        reparam=reparam,
        standardize=None if base is None else (z,),
        cdf=None if std_cdf is None else std_cdf(z),
        name=name,
    )


def normal(x: sp.Symbol | None = None, mu: sp.Symbol | None = None, sigma: sp.Symbol | None = None) -> Density:
    r"""The normal density N(mu, sigma^2).

    .. math:: p(x;\mu,\sigma) = \frac{1}{\sqrt{2\pi}\sigma}\exp\!\left(-\frac{(x-\mu)^2}{2\sigma^2}\right)

    Parameter order: ``(mu, sigma)`` (mean, standard deviation).  Reparameterization
    x = mu + sigma eps, eps ~ N(0, 1) (Sec. 2.2); standardization (x - mu)/sigma;
    CDF (1 + erf((x - mu)/(sqrt(2) sigma)))/2.  Its score is Eq. (21).

    Parameters
    ----------
    x, mu, sigma : Symbol, optional
        Replace the default Symbols x (real), mu (real), sigma (positive).
    """
    x, mu, sigma = _loc_scale_symbols(x, mu, sigma)

    def sample(n: int, params: dict, rng: np.random.Generator) -> np.ndarray:
        return _column(rng.normal(params[mu], params[sigma], n))

    return _location_scale(
        "normal",
        _std_normal_expr,
        lambda z: (1 + sp.erf(z / sp.sqrt(2))) / 2,
        _base("normal"),
        sample,
        x,
        mu,
        sigma,
    )


def laplace(x: sp.Symbol | None = None, mu: sp.Symbol | None = None, sigma: sp.Symbol | None = None) -> Density:
    r"""The Laplace density with location mu and scale sigma (often written b).

    .. math:: p(x;\mu,\sigma) = \frac{1}{2\sigma}\exp\!\left(-\frac{|x-\mu|}{\sigma}\right)

    Parameter order: ``(mu, sigma)``.  Mean mu, variance 2 sigma^2.
    Reparameterization x = mu + sigma eps, eps ~ Laplace(0, 1); CDF
    exp(z)/2 for z < 0 and 1 - exp(-z)/2 otherwise, z = (x - mu)/sigma.

    Parameters
    ----------
    x, mu, sigma : Symbol, optional
        Replace the default Symbols x (real), mu (real), sigma (positive).
    """
    x, mu, sigma = _loc_scale_symbols(x, mu, sigma)

    def sample(n: int, params: dict, rng: np.random.Generator) -> np.ndarray:
        return _column(rng.laplace(params[mu], params[sigma], n))

    return _location_scale(
        "laplace",
        _std_laplace_expr,
        lambda z: sp.Piecewise((sp.exp(z) / 2, z < 0), (1 - sp.exp(-z) / 2, True)),
        _base("laplace"),
        sample,
        x,
        mu,
        sigma,
    )


def logistic(x: sp.Symbol | None = None, mu: sp.Symbol | None = None, sigma: sp.Symbol | None = None) -> Density:
    r"""The logistic density with location mu and scale sigma (often written s).

    .. math:: p(x;\mu,\sigma) = \frac{e^{-(x-\mu)/\sigma}}{\sigma\,(1 + e^{-(x-\mu)/\sigma})^2}

    Parameter order: ``(mu, sigma)``.  Mean mu, variance pi^2 sigma^2 / 3.
    Reparameterization x = mu + sigma eps, eps ~ Logistic(0, 1); CDF
    1/(1 + exp(-(x - mu)/sigma)).

    Parameters
    ----------
    x, mu, sigma : Symbol, optional
        Replace the default Symbols x (real), mu (real), sigma (positive).
    """
    x, mu, sigma = _loc_scale_symbols(x, mu, sigma)

    def sample(n: int, params: dict, rng: np.random.Generator) -> np.ndarray:
        return _column(rng.logistic(params[mu], params[sigma], n))

    return _location_scale(
        "logistic", _std_logistic_expr, lambda z: 1 / (1 + sp.exp(-z)), _base("logistic"), sample, x, mu, sigma
    )


def l_distribution(x: sp.Symbol | None = None, mu: sp.Symbol | None = None, sigma: sp.Symbol | None = None) -> Density:
    r"""The L-distribution of Eq. (78), the "slice" distribution of N(mu, sigma^2).

    .. math:: q_L(x;\mu,\sigma) = \frac{(x-\mu)^2}{\sqrt{2\pi}\,\sigma^3}
              \exp\!\left(-\frac{(x-\mu)^2}{2\sigma^2}\right)

    Parameter order: ``(mu, sigma)`` -- the same Symbols as ``normal()``, so
    it can serve as the sampling density q of an estimator for the normal
    (Eq. 80).  Mean mu, variance 3 sigma^2.  The sampler is Eq. (79):
    x = mu +- sigma sqrt(-2 log eps_h + eps_x^2), eps_x ~ N(0, 1),
    eps_h ~ U(0, 1), each sign with probability 1/2.  Being a location-scale
    family it also has the 1-D reparameterization x = mu + sigma eps with eps
    from the standard L-distribution, and the CDF Phi(z) - z phi(z),
    z = (x - mu)/sigma.

    Parameters
    ----------
    x, mu, sigma : Symbol, optional
        Replace the default Symbols x (real), mu (real), sigma (positive).
    """
    x, mu, sigma = _loc_scale_symbols(x, mu, sigma)

    def sample(n: int, params: dict, rng: np.random.Generator) -> np.ndarray:
        return _column(params[mu] + params[sigma] * _sample_std_l(n, rng))

    return _location_scale(
        "l_distribution",
        _std_l_expr,
        lambda z: (1 + sp.erf(z / sp.sqrt(2))) / 2 - z * sp.exp(-(z**2) / 2) / _SQRT2PI,
        _base("l"),
        sample,
        x,
        mu,
        sigma,
    )


def student_t(
    x: sp.Symbol | None = None,
    mu: sp.Symbol | None = None,
    sigma: sp.Symbol | None = None,
    nu: sp.Symbol | int | float | None = None,
) -> Density:
    r"""Student's t with location mu, scale sigma and nu degrees of freedom.

    .. math:: p(x;\mu,\sigma,\nu) = \frac{\Gamma(\frac{\nu+1}{2})}{\sqrt{\nu\pi}\,\sigma\,\Gamma(\frac{\nu}{2})}
              \left(1 + \frac{z^2}{\nu}\right)^{-\frac{\nu+1}{2}}, \quad z = \frac{x-\mu}{\sigma}

    Parameter order: ``(mu, sigma, nu)``, or ``(mu, sigma)`` when ``nu`` is a
    number.  Mean mu (nu > 1), variance sigma^2 nu/(nu - 2) (nu > 2).  CDF
    1/2 + z Gamma((nu+1)/2) 2F1(1/2, (nu+1)/2; 3/2; -z^2/nu) / (sqrt(pi nu) Gamma(nu/2)).

    The reparameterization x = mu + sigma eps needs eps ~ t(nu) to be free of
    every parameter, so it (and the standardization (x - mu)/sigma) is attached
    only when ``nu`` is a fixed number.  With nu a parameter use
    ``flows.implicit`` (CDF) instead.

    Parameters
    ----------
    x, mu, sigma : Symbol, optional
        Replace the default Symbols x (real), mu (real), sigma (positive).
    nu : Symbol or positive number, optional
        The degrees of freedom: a Symbol (default ``nu``, positive) makes it a
        parameter; a number fixes it.
    """
    x, mu, sigma = _loc_scale_symbols(x, mu, sigma)
    nu_val = NU if nu is None else (nu if isinstance(nu, sp.Symbol) else positive_number(nu, "nu"))
    fixed = not isinstance(nu_val, sp.Symbol)

    def sample(n: int, params: dict, rng: np.random.Generator) -> np.ndarray:
        dof = float(nu_val) if fixed else params[nu_val]
        return _column(params[mu] + params[sigma] * rng.standard_t(dof, n))

    def cdf(z: sp.Expr) -> sp.Expr:
        return sp.S.Half + z * sp.gamma((nu_val + 1) / 2) * sp.hyper(
            (sp.S.Half, (nu_val + 1) / 2), (sp.Rational(3, 2),), -(z**2) / nu_val
        ) / (sp.sqrt(sp.pi * nu_val) * sp.gamma(nu_val / 2))

    return _location_scale(
        "student_t" if not fixed else f"student_t(nu={nu_val})",
        lambda z: _std_t_expr(z, nu_val),
        cdf,
        _base("t", nu_val) if fixed else None,
        sample,
        x,
        mu,
        sigma,
        extra=() if fixed else (nu_val,),
    )


def exponential(x: sp.Symbol | None = None, rate: sp.Symbol | None = None) -> Density:
    r"""The exponential density with rate lambda on [0, oo).

    .. math:: p(x;\lambda) = \lambda e^{-\lambda x}, \quad x \ge 0

    Parameter order: ``(lambda,)`` (the rate; mean 1/lambda, variance
    1/lambda^2).  Reparameterization x = eps/lambda, eps ~ Exp(1);
    standardization lambda x; CDF 1 - exp(-lambda x).

    Parameters
    ----------
    x : Symbol, optional
        Replaces the default x (real; the support is given separately).
    rate : Symbol, optional
        Replaces the default rate Symbol ``lambda`` (positive).
    """
    x, rate = symbol_or_default(x, X, "x"), symbol_or_default(rate, RATE, "rate")

    def sample(n: int, params: dict, rng: np.random.Generator) -> np.ndarray:
        return _column(rng.exponential(1.0 / params[rate], n))

    return Density(
        rate * sp.exp(-rate * x),
        (x,),
        (rate,),
        support=_POSITIVE_REALS,
        sampler=sample,
        reparam=Reparameterization((EPS / rate,), (EPS,), _base("exponential")),
        standardize=(rate * x,),
        cdf=1 - sp.exp(-rate * x),
        name="exponential",
    )


def uniform(x: sp.Symbol | None = None, a: sp.Symbol | None = None, b: sp.Symbol | None = None) -> Density:
    r"""The uniform density on [a, b]: a support that moves with the parameters.

    .. math:: p(x;a,b) = \frac{1}{b-a}, \quad a \le x \le b

    Parameter order: ``(a, b)``, with the constraint a < b.  Mean (a + b)/2,
    variance (b - a)^2/12.  Reparameterization x = a + (b - a) eps,
    eps ~ U(0, 1); standardization and CDF (x - a)/(b - a).  The flow moves
    the edges with the support, so no boundary term arises.

    Parameters
    ----------
    x, a, b : Symbol, optional
        Replace the default Symbols x, a, b (all real).
    """
    x, a, b = symbol_or_default(x, X, "x"), symbol_or_default(a, A, "a"), symbol_or_default(b, B, "b")

    def sample(n: int, params: dict, rng: np.random.Generator) -> np.ndarray:
        return _column(rng.uniform(params[a], params[b], n))

    return Density(
        1 / (b - a),
        (x,),
        (a, b),
        support=sp.Interval(a, b),
        sampler=sample,
        reparam=Reparameterization((a + (b - a) * EPS,), (EPS,), _base("uniform")),
        standardize=((x - a) / (b - a),),
        cdf=(x - a) / (b - a),
        constraints=(sp.StrictLessThan(a, b),),
        name="uniform",
    )


def gamma(x: sp.Symbol | None = None, alpha: sp.Symbol | None = None, beta: sp.Symbol | None = None) -> Density:
    r"""The gamma density with shape alpha and *rate* beta on [0, oo).

    .. math:: p(x;\alpha,\beta) = \frac{\beta^\alpha}{\Gamma(\alpha)} x^{\alpha-1} e^{-\beta x}, \quad x > 0

    Parameter order: ``(alpha, beta)`` (shape, rate; mean alpha/beta,
    variance alpha/beta^2).  No explicit reparameterization: the CDF
    P(alpha, beta x) = lowergamma(alpha, beta x)/Gamma(alpha) gives the
    implicit flow (Eq. 56) through ``flows.implicit``.

    Parameters
    ----------
    x : Symbol, optional
        Replaces the default x (real; the support is given separately).
    alpha, beta : Symbol, optional
        Replace the default shape and rate Symbols (positive).
    """
    x = symbol_or_default(x, X, "x")
    alpha, beta = symbol_or_default(alpha, ALPHA, "alpha"), symbol_or_default(beta, BETA, "beta")

    def sample(n: int, params: dict, rng: np.random.Generator) -> np.ndarray:
        return _column(rng.gamma(params[alpha], 1.0 / params[beta], n))

    return Density(
        beta**alpha * x ** (alpha - 1) * sp.exp(-beta * x) / sp.gamma(alpha),
        (x,),
        (alpha, beta),
        support=_POSITIVE_REALS,
        sampler=sample,
        cdf=1 - sp.uppergamma(alpha, beta * x) / sp.gamma(alpha),
        name="gamma",
    )


def beta(x: sp.Symbol | None = None, alpha: sp.Symbol | None = None, beta: sp.Symbol | None = None) -> Density:
    r"""The beta density on [0, 1].

    .. math:: p(x;\alpha,\beta) = \frac{\Gamma(\alpha+\beta)}{\Gamma(\alpha)\Gamma(\beta)}
              x^{\alpha-1}(1-x)^{\beta-1}, \quad 0 < x < 1

    Parameter order: ``(alpha, beta)``.  Mean alpha/(alpha + beta), variance
    alpha beta / ((alpha + beta)^2 (alpha + beta + 1)).  No explicit
    reparameterization: the CDF is the regularized incomplete beta function
    I_x(alpha, beta) (``sympy.betainc_regularized``), which gives the implicit
    flow (Eq. 56).  SymPy keeps dI/dalpha as an unevaluated ``Derivative``.

    Parameters
    ----------
    x : Symbol, optional
        Replaces the default x (real; the support is given separately).
    alpha, beta : Symbol, optional
        Replace the default Symbols (positive).
    """
    x = symbol_or_default(x, X, "x")
    a, b = symbol_or_default(alpha, ALPHA, "alpha"), symbol_or_default(beta, BETA, "beta")

    def sample(n: int, params: dict, rng: np.random.Generator) -> np.ndarray:
        return _column(rng.beta(params[a], params[b], n))

    # Gamma functions rather than sympy.beta(a, b): a Symbol named "beta" next to
    # the function beta() would clash in lambdified code.
    return Density(
        sp.gamma(a + b) / (sp.gamma(a) * sp.gamma(b)) * x ** (a - 1) * (1 - x) ** (b - 1),
        (x,),
        (a, b),
        support=sp.Interval(0, 1),
        sampler=sample,
        cdf=sp.betainc_regularized(a, b, 0, x),
        name="beta",
    )
