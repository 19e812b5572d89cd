r"""A ``Density`` from a sympy.stats random variable: ``from_stats(Normal("X", mu, sigma))``.

The Density carries

* the pdf (pmf) ``density(X)(x)`` in ``x = Symbol("x", real=True)`` (``integer=True`` for
  a discrete X), with a ``Piecewise`` reduced to the branches that apply inside the support;
* the parameters: the free Symbols of the distribution's arguments, in the order they
  appear there (``params=`` reorders them);
* the support ``pspace(X).domain.set`` as an ``Interval`` or a set of integers (a finite
  set of consecutive integers and ``Interval(0, n) & Naturals0`` become ``Range``);
* a CDF when one is a clean closed form: the distribution's own ``_cdf`` (sympy's
  integrating route ``cdf(X)`` is never called: it ran past 20 s for Weibull, VonMises and
  BetaPrime and cannot be given a deadline from this layer), else one written below where
  sympy has none; reduced to the branches inside the support, refused when it holds nan,
  an Integral or a Sum, and kept only if dF/dx (or F(k) - F(k - 1)) matches the pdf at
  random points and F matches the numerically integrated pdf;
* a numpy/scipy sampler from ``_TABLE`` (a frozen dataclass over module-level functions,
  so the Density pickles), or numeric inversion of the CDF (``numeric.inversion``) for a
  1-D distribution not in the table.

Corrections to sympy.stats 1.14 (checked against its own density): ``Kumaraswamy`` is
given the support (0, 1) (sympy says (0, oo), where its pdf does not integrate to 1),
``Frechet(a, s, m)`` and ``Davis(b, n, mu)`` the supports (m, oo) and (mu, oo) (sympy says
(0, oo), where the pdf is not a density below m), and ``Die(n)`` the support 1..n.

Sampled by formula (parameters as sympy.stats names them):

=============================  =================================================
Normal(mean, std)              rng.normal(mean, std)
Exponential(rate)              rng.exponential(1/rate)
Gamma(k, theta), Erlang(k, l)  rng.gamma(k, theta)       (Erlang is Gamma(k, 1/l))
Beta(a, b)                     rng.beta(a, b)
StudentT(nu)                   rng.standard_t(nu)
VonMises(mu, k)                rng.vonmises(mu, k) mod 2 pi  (sympy's support is [0, 2 pi])
Weibull(alpha, beta)           alpha rng.weibull(beta)   (alpha scale, beta shape)
LogNormal(mean, std)           rng.lognormal(mean, std)
ChiSquared(k)                  rng.chisquare(k)
Kumaraswamy(a, b)              (1 - U^(1/b))^(1/a)
Laplace(mu, b)                 rng.laplace(mu, b)
Logistic(mu, s)                rng.logistic(mu, s)
Cauchy(x0, gamma)              x0 + gamma rng.standard_cauchy()
Uniform(left, right)           rng.uniform(left, right)
Pareto(xm, alpha)              xm exp(E/alpha), E ~ Exp(1)
Rayleigh(sigma)                rng.rayleigh(sigma)
Maxwell(a)                     a sqrt(chi^2_3)
Gumbel(beta, mu, minimum)      mu +- rng.gumbel(0, beta)
Frechet(a, s, m)               m + s E^(-1/a)
GammaInverse(a, b)             b / rng.gamma(a)
Chi(k)                         sqrt(chi^2_k)
Levy(mu, c)                    mu + c / Z^2
Nakagami(mu, omega)            sqrt(Gamma(mu, omega/mu))
BetaPrime(a, b)                G_a / G_b
FDistribution(d1, d2)          rng.f(d1, d2)
FisherZ(d1, d2)                log(rng.f(d1, d2)) / 2
Triangular(a, b, c)            rng.triangular(a, c, b)   (c is the mode)
Arcsin(a, b)                   a + (b - a) sin^2(pi U/2)
Dagum(p, a, b)                 b (U^(-1/p) - 1)^(-1/a)
GaussianInverse(mean, shape)   rng.wald(mean, shape)
ExGaussian(mean, std, rate)    N(mean, std^2) + Exp(rate)
Gompertz(b, eta)               log1p(E/eta) / b
ShiftedGompertz(b, eta)        max(Exp(b), (log eta - log E)/b)
LogLogistic(alpha, beta)       alpha exp(L/beta), L standard logistic
WignerSemicircle(R)            R (2 Beta(3/2, 3/2) - 1)
LogitNormal(mu, s)             expit(N(mu, s^2))
Lomax(alpha, lamda)            lamda rng.pareto(alpha)
PowerFunction(alpha, a, b)     a + (b - a) U^(1/alpha)
Moyal(mu, sigma)               mu - sigma log(chi^2_1)
Benini(alpha, beta, sigma)     sigma exp(2E/(alpha + sqrt(alpha^2 + 4 beta E)))
QuadraticU(a, b)               (a + b)/2 + (b - a)/2 cbrt(2U - 1)
Reciprocal(a, b)               a (b/a)^U
BoundedPareto(alpha, L, H)     L (1 - U (1 - (L/H)^alpha))^(-1/alpha)
ExponentialPower(mu, a, b)     mu + a S G^(1/b), G ~ Gamma(1/b), S = +-1
ChiNoncentral(k, l)            sqrt(rng.noncentral_chisquare(k, l^2))
Poisson(lamda)                 rng.poisson(lamda)
Geometric(p)                   rng.geometric(p)          (trials, support 1, 2, ...)
NegativeBinomial(r, p)         rng.negative_binomial(r, p)   (pmf C(x + r - 1, x) p^r (1 - p)^x)
Binomial(n, p)                 rng.binomial(n, p)        (succ=1, fail=0 only)
Bernoulli(p)                   U < p                     (succ=1, fail=0 only)
BetaBinomial(n, a, b)          rng.binomial(n, Beta(a, b))
Hypergeometric(N, m, n)        rng.hypergeometric(m, N - m, n)
Logarithmic(p)                 rng.logseries(p)
Zeta(s)                        rng.zipf(s)
YuleSimon(rho)                 scipy.stats.yulesimon.rvs(rho)
FlorySchulz(a)                 1 + rng.negative_binomial(2, a)
Skellam(mu1, mu2)              Poisson(mu1) - Poisson(mu2)
Die(sides)                     rng.integers(1, sides + 1)
=============================  =================================================

Any other single continuous distribution (RaisedCosine, Trapezoidal, Davis, ...) is sampled by
numeric inversion of its pdf, built once per parameter value; any other discrete one with a
support bounded below by inversion of its pmf.  Refused: random variables that are not single
1-D distributions (joint, compound, ``2*X + 1``) and pdfs numpy cannot evaluate (UniformSum,
BetaNoncentral, Hermite: an unevaluated Sum) unless ``sampler=`` is given.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from ..core.density import Density
from ..errors import SymflowError
from ..numeric.inversion import (
    ExprFunction,
    InversePmfSampler,
    InverseSampler,
    cdf_table,
    inverse_cdf_sampler,
    inverse_pmf_sampler,
)

__all__ = ["InversionSampler", "StatsSampler", "from_stats", "supported_distributions"]

_TWO_PI = 2 * math.pi


# -- draws: (n, parameter values in the distribution's order, rng) -> (n,) array ----------------


def _u(n, rng):
    return 1.0 - rng.random(n)  # in (0, 1]: logs and negative powers stay finite


def _normal(n, a, rng):
    return rng.normal(a[0], a[1], n)


def _exponential(n, a, rng):
    return rng.exponential(1 / a[0], n)


def _gamma(n, a, rng):
    return rng.gamma(a[0], a[1], n)


def _beta(n, a, rng):
    return rng.beta(a[0], a[1], n)


def _student_t(n, a, rng):
    return rng.standard_t(a[0], n)


def _von_mises(n, a, rng):
    return np.mod(rng.vonmises(a[0], a[1], n), _TWO_PI)


def _weibull(n, a, rng):
    return a[0] * rng.weibull(a[1], n)


def _log_normal(n, a, rng):
    return rng.lognormal(a[0], a[1], n)


def _chi_squared(n, a, rng):
    return rng.chisquare(a[0], n)


def _kumaraswamy(n, a, rng):
    return (-np.expm1(np.log(_u(n, rng)) / a[1])) ** (1 / a[0])


def _laplace(n, a, rng):
    return rng.laplace(a[0], a[1], n)


def _logistic(n, a, rng):
    return rng.logistic(a[0], a[1], n)


def _cauchy(n, a, rng):
    return a[0] + a[1] * rng.standard_cauchy(n)


def _uniform(n, a, rng):
    return rng.uniform(a[0], a[1], n)


def _pareto(n, a, rng):
    return a[0] * np.exp(rng.standard_exponential(n) / a[1])


def _rayleigh(n, a, rng):
    return rng.rayleigh(a[0], n)


def _maxwell(n, a, rng):
    return a[0] * np.sqrt(rng.chisquare(3, n))


def _gumbel(n, a, rng):
    g = rng.gumbel(0.0, a[0], n)
    return a[1] - g if a[2] else a[1] + g


def _frechet(n, a, rng):
    return a[2] + a[1] * rng.standard_exponential(n) ** (-1 / a[0])


def _gamma_inverse(n, a, rng):
    return a[1] / rng.standard_gamma(a[0], n)


def _chi(n, a, rng):
    return np.sqrt(rng.chisquare(a[0], n))


def _levy(n, a, rng):
    return a[0] + a[1] / rng.standard_normal(n) ** 2


def _nakagami(n, a, rng):
    return np.sqrt(rng.gamma(a[0], a[1] / a[0], n))


def _beta_prime(n, a, rng):
    return rng.standard_gamma(a[0], n) / rng.standard_gamma(a[1], n)


def _f(n, a, rng):
    return rng.f(a[0], a[1], n)


def _fisher_z(n, a, rng):
    return 0.5 * np.log(rng.f(a[0], a[1], n))


def _triangular(n, a, rng):
    return rng.triangular(a[0], a[2], a[1], n)


def _arcsin(n, a, rng):
    return a[0] + (a[1] - a[0]) * np.sin(0.5 * np.pi * rng.random(n)) ** 2


def _dagum(n, a, rng):
    return a[2] * np.expm1(-np.log(_u(n, rng)) / a[0]) ** (-1 / a[1])


def _gaussian_inverse(n, a, rng):
    return rng.wald(a[0], a[1], n)


def _ex_gaussian(n, a, rng):
    return rng.normal(a[0], a[1], n) + rng.exponential(1 / a[2], n)


def _gompertz(n, a, rng):
    return np.log1p(rng.standard_exponential(n) / a[1]) / a[0]


def _shifted_gompertz(n, a, rng):
    # F = (1 - e^{-bx}) exp(-eta e^{-bx}) is the CDF of the larger of Exp(b) and a Gumbel
    gumbel = (np.log(a[1]) - np.log(rng.standard_exponential(n))) / a[0]
    return np.maximum(rng.exponential(1 / a[0], n), gumbel)


def _log_logistic(n, a, rng):
    return a[0] * np.exp(rng.logistic(0.0, 1.0, n) / a[1])


def _wigner(n, a, rng):
    return a[0] * (2 * rng.beta(1.5, 1.5, n) - 1)


def _logit_normal(n, a, rng):
    from scipy.special import expit

    return expit(rng.normal(a[0], a[1], n))


def _lomax(n, a, rng):
    return a[1] * rng.pareto(a[0], n)


def _power_function(n, a, rng):
    return a[1] + (a[2] - a[1]) * _u(n, rng) ** (1 / a[0])


def _moyal(n, a, rng):
    return a[0] - a[1] * np.log(rng.chisquare(1, n))


def _benini(n, a, rng):
    e = rng.standard_exponential(n)  # solves beta t^2 + alpha t = E for t = log(x/sigma) >= 0
    return a[2] * np.exp(2 * e / (a[0] + np.sqrt(a[0] ** 2 + 4 * a[1] * e)))


def _quadratic_u(n, a, rng):
    return 0.5 * (a[0] + a[1]) + 0.5 * (a[1] - a[0]) * np.cbrt(2 * rng.random(n) - 1)


def _reciprocal(n, a, rng):
    return a[0] * np.exp(rng.random(n) * np.log(a[1] / a[0]))


def _bounded_pareto(n, a, rng):
    alpha, lo, hi = a
    return lo * (1 - rng.random(n) * -np.expm1(alpha * np.log(lo / hi))) ** (-1 / alpha)


def _exponential_power(n, a, rng):
    sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    return a[0] + a[1] * sign * rng.standard_gamma(1 / a[2], n) ** (1 / a[2])


def _chi_noncentral(n, a, rng):
    return np.sqrt(rng.noncentral_chisquare(a[0], a[1] ** 2, n))


def _poisson(n, a, rng):
    return rng.poisson(a[0], n)


def _geometric(n, a, rng):
    return rng.geometric(a[0], n)


def _negative_binomial(n, a, rng):
    return rng.negative_binomial(a[0], a[1], n)  # sympy's p^r (1 - p)^x: p is numpy's success probability


def _binomial(n, a, rng):
    return rng.binomial(round(a[0]), a[1], n)


def _bernoulli(n, a, rng):
    return (rng.random(n) < a[0]).astype(float)


def _beta_binomial(n, a, rng):
    return rng.binomial(round(a[0]), rng.beta(a[1], a[2], n))


def _hypergeometric(n, a, rng):
    total, good, draws = round(a[0]), round(a[1]), round(a[2])
    return rng.hypergeometric(good, total - good, draws, n)


def _logarithmic(n, a, rng):
    return rng.logseries(a[0], n)


def _zeta(n, a, rng):
    return rng.zipf(a[0], n)


def _yule_simon(n, a, rng):
    from scipy.stats import yulesimon

    return yulesimon.rvs(a[0], size=n, random_state=rng)


def _flory_schulz(n, a, rng):
    return 1 + rng.negative_binomial(2, a[0], n)


def _skellam(n, a, rng):
    return rng.poisson(a[0], n) - rng.poisson(a[1], n)


def _die(n, a, rng):
    return rng.integers(1, round(a[0]) + 1, n)


# -- the table ------------------------------------------------------------------------------


def _positive(*args: sp.Expr) -> tuple[sp.Basic, ...]:
    return tuple(sp.StrictGreaterThan(a, 0) for a in args)


def _unit(p: sp.Expr) -> tuple[sp.Basic, ...]:
    return (sp.GreaterThan(p, 0), sp.LessThan(p, 1))


@dataclass(frozen=True)
class _Spec:
    draw: Callable | None  # None: sample by numeric inversion
    constraints: Callable[..., tuple] = lambda *a: ()
    cdf: Callable[..., sp.Expr] | None = None  # F(x; args) where the distribution has no _cdf
    support: Callable[..., sp.Set] | None = None  # where sympy's set is wrong


_I = sp.betainc_regularized
_TABLE: dict[str, _Spec] = {
    "Normal": _Spec(_normal, lambda m, s: _positive(s)),
    "Exponential": _Spec(_exponential, _positive),
    "Gamma": _Spec(_gamma, _positive),
    "Beta": _Spec(_beta, _positive, lambda x, a, b: _I(a, b, 0, x)),
    "StudentT": _Spec(_student_t, _positive),
    "VonMises": _Spec(_von_mises, lambda m, k: _positive(k)),
    "Weibull": _Spec(_weibull, _positive, lambda x, a, b: 1 - sp.exp(-((x / a) ** b))),
    "LogNormal": _Spec(_log_normal, lambda m, s: _positive(s)),
    "ChiSquared": _Spec(_chi_squared, _positive),
    "Kumaraswamy": _Spec(_kumaraswamy, _positive, support=lambda a, b: sp.Interval(0, 1)),
    "Laplace": _Spec(_laplace, lambda m, b: _positive(b)),
    "Logistic": _Spec(_logistic, lambda m, s: _positive(s)),
    "Cauchy": _Spec(_cauchy, lambda m, g: _positive(g)),
    "Uniform": _Spec(_uniform, lambda a, b: (sp.StrictLessThan(a, b),)),
    "Pareto": _Spec(_pareto, _positive),
    "Rayleigh": _Spec(_rayleigh, _positive),
    "Maxwell": _Spec(_maxwell, _positive),
    "Gumbel": _Spec(_gumbel, lambda b, m, minimum: _positive(b)),
    "Frechet": _Spec(_frechet, lambda a, s, m: _positive(a, s), support=lambda a, s, m: sp.Interval(m, sp.oo)),
    "GammaInverse": _Spec(_gamma_inverse, _positive),
    "Chi": _Spec(_chi, _positive, lambda x, k: sp.lowergamma(k / 2, x**2 / 2) / sp.gamma(k / 2)),
    "Levy": _Spec(_levy, lambda m, c: _positive(c)),
    "Nakagami": _Spec(_nakagami, lambda m, w: (sp.GreaterThan(m, sp.Rational(1, 2)), *_positive(w))),
    "BetaPrime": _Spec(_beta_prime, _positive, lambda x, a, b: _I(a, b, 0, x / (1 + x))),
    "FDistribution": _Spec(_f, _positive, lambda x, d1, d2: _I(d1 / 2, d2 / 2, 0, d1 * x / (d1 * x + d2))),
    "FisherZ": _Spec(_fisher_z, _positive),
    "Triangular": _Spec(
        _triangular,
        lambda a, b, c: (sp.StrictLessThan(a, c), sp.StrictLessThan(c, b)),
        lambda x, a, b, c: sp.Piecewise(
            ((x - a) ** 2 / ((b - a) * (c - a)), x <= c), (1 - (b - x) ** 2 / ((b - a) * (b - c)), True)
        ),
    ),
    "Arcsin": _Spec(_arcsin, lambda a, b: (sp.StrictLessThan(a, b),)),
    "Dagum": _Spec(_dagum, _positive),
    "GaussianInverse": _Spec(_gaussian_inverse, _positive),
    "ExGaussian": _Spec(_ex_gaussian, lambda m, s, r: _positive(s, r)),
    "Gompertz": _Spec(_gompertz, _positive),
    "ShiftedGompertz": _Spec(
        _shifted_gompertz, _positive, lambda x, b, eta: (1 - sp.exp(-b * x)) * sp.exp(-eta * sp.exp(-b * x))
    ),
    "LogLogistic": _Spec(_log_logistic, _positive),
    "WignerSemicircle": _Spec(
        _wigner, _positive, lambda x, r: sp.S.Half + x * sp.sqrt(r**2 - x**2) / (sp.pi * r**2) + sp.asin(x / r) / sp.pi
    ),
    "LogitNormal": _Spec(_logit_normal, lambda m, s: _positive(s)),
    "Lomax": _Spec(_lomax, _positive, lambda x, a, lam: 1 - (1 + x / lam) ** (-a)),
    "PowerFunction": _Spec(
        _power_function,
        lambda al, a, b: (*_positive(al), sp.StrictLessThan(a, b)),
        lambda x, al, a, b: ((x - a) / (b - a)) ** al,
    ),
    "Moyal": _Spec(_moyal, lambda m, s: _positive(s), lambda x, m, s: sp.erfc(sp.exp(-(x - m) / (2 * s)) / sp.sqrt(2))),
    "Benini": _Spec(_benini, _positive, lambda x, a, b, s: 1 - sp.exp(-a * sp.log(x / s) - b * sp.log(x / s) ** 2)),
    "QuadraticU": _Spec(
        _quadratic_u,
        lambda a, b: (sp.StrictLessThan(a, b),),
        lambda x, a, b: (1 + ((2 * x - a - b) / (b - a)) ** 3) / 2,
    ),
    "Reciprocal": _Spec(
        _reciprocal,
        lambda a, b: (*_positive(a), sp.StrictLessThan(a, b)),
        lambda x, a, b: sp.log(x / a) / sp.log(b / a),
    ),
    "BoundedPareto": _Spec(
        _bounded_pareto,
        lambda al, lo, hi: (*_positive(al, lo), sp.StrictLessThan(lo, hi)),
        lambda x, al, lo, hi: (1 - (lo / x) ** al) / (1 - (lo / hi) ** al),
    ),
    "ExponentialPower": _Spec(_exponential_power, lambda m, a, b: _positive(a, b)),
    "ChiNoncentral": _Spec(_chi_noncentral, lambda k, lam: (*_positive(k), sp.GreaterThan(lam, 0))),
    "RaisedCosine": _Spec(
        None,
        lambda m, s: _positive(s),
        lambda x, m, s: (1 + (x - m) / s + sp.sin(sp.pi * (x - m) / s) / sp.pi) / 2,
    ),
    "Davis": _Spec(None, lambda b, n, m: _positive(b, n), support=lambda b, n, m: sp.Interval(m, sp.oo)),
    # discrete
    "Poisson": _Spec(_poisson, _positive, lambda x, lam: sp.uppergamma(x + 1, lam) / sp.factorial(x)),
    "Geometric": _Spec(_geometric, _unit, lambda x, p: 1 - (1 - p) ** x),
    "NegativeBinomial": _Spec(
        _negative_binomial, lambda r, p: (*_positive(r), *_unit(p)), lambda x, r, p: _I(r, x + 1, 0, p)
    ),
    "Binomial": _Spec(
        _binomial,
        lambda n, p, s, f: _unit(p),
        lambda x, n, p, s, f: sp.Piecewise((_I(n - x, x + 1, 0, 1 - p), x < n), (1, True)),
    ),
    "Bernoulli": _Spec(
        _bernoulli, lambda p, s, f: _unit(p), lambda x, p, s, f: sp.Piecewise((1 - p, sp.Eq(x, 0)), (1, True))
    ),
    "BetaBinomial": _Spec(_beta_binomial, lambda n, a, b: _positive(a, b)),
    "Hypergeometric": _Spec(_hypergeometric, lambda nn, m, n: (sp.LessThan(m, nn), sp.LessThan(n, nn))),
    "Logarithmic": _Spec(
        _logarithmic,
        lambda p: (*_positive(p), sp.StrictLessThan(p, 1)),
        # sum_{j > x} p^j / j = B(p; x + 1, 0); sympy's lerchphi form took 0.36 s per evalf
        lambda x, p: 1 + sp.betainc(x + 1, 0, 0, p) / sp.log(1 - p),
    ),
    "Zeta": _Spec(_zeta, lambda s: (sp.StrictGreaterThan(s, 1),), lambda x, s: 1 - sp.zeta(s, x + 1) / sp.zeta(s)),
    "YuleSimon": _Spec(_yule_simon, _positive),
    "FlorySchulz": _Spec(
        _flory_schulz,
        lambda a: (*_positive(a), sp.StrictLessThan(a, 1)),
        lambda x, a: 1 - (1 - a) ** x * (1 + a * x),
    ),
    "Skellam": _Spec(_skellam, lambda m1, m2: (sp.GreaterThan(m1, 0), sp.GreaterThan(m2, 0))),
    "Die": _Spec(_die, lambda s: (sp.GreaterThan(s, 1),), lambda x, s: x / s, lambda s: sp.Range(1, s + 1)),
}


def supported_distributions() -> tuple[str, ...]:
    """The sympy.stats distributions sampled by formula (others with a pdf numpy evaluates are inverted)."""
    return tuple(name for name, spec in _TABLE.items() if spec.draw is not None)


# -- samplers (values: they pickle, and equal samplers compare equal) -----------------------


def _numeric_args(args: tuple[sp.Basic, ...], params: dict) -> tuple:
    """The distribution's arguments at the parameter values: floats (bools for sympy Booleans)."""
    subs = None
    out = []
    for a in args:
        if isinstance(a, sp.Symbol):
            out.append(float(params[a]))
        elif isinstance(a, sp.logic.boolalg.Boolean):
            out.append(bool(a))
        elif a.is_number:
            out.append(float(a))
        else:
            subs = subs or {k: sp.Float(float(v)) for k, v in params.items()}
            out.append(float(a.xreplace(subs)))
    return tuple(out)


@dataclass(frozen=True)
class StatsSampler:
    """Draws of a sympy.stats distribution by numpy/scipy: ``_TABLE[kind].draw``.

    ``sampler(n, params, rng) -> (n, 1)`` with ``params`` a dict Symbol -> float, as
    ``Density.sample`` calls it.
    """

    kind: str
    args: tuple[sp.Basic, ...]

    def __call__(self, n: int, params: dict, rng: np.random.Generator) -> np.ndarray:
        draw = _TABLE[self.kind].draw
        return np.asarray(draw(int(n), _numeric_args(self.args, params), rng), dtype=float).reshape(-1, 1)


@dataclass(frozen=True)
class InversionSampler:
    """Draws by numeric inversion of the CDF (pmf) of ``pdf``, built once per parameter value.

    The built ``InverseSampler`` objects are kept for the last 8 parameter values and are
    not pickled (they are rebuilt on first use).
    """

    pdf: sp.Expr
    x: sp.Symbol
    params: tuple[sp.Symbol, ...]
    lo: sp.Expr
    hi: sp.Expr
    discrete: bool = False
    _built: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def inverse(self, params: dict) -> InverseSampler | InversePmfSampler:
        """The ``InverseSampler`` (``InversePmfSampler``) at these parameter values."""
        key = tuple(float(params[p]) for p in self.params)
        got = self._built.get(key)
        if got is None:
            subs = {p: sp.Float(v) for p, v in zip(self.params, key, strict=True)}
            lo, hi = (float(e.xreplace(subs)) for e in (self.lo, self.hi))
            pdf = ExprFunction(self.pdf, self.x, self.params, key)
            # "table", not PINV: PINV calls the pdf once per point, 10^4-2*10^4 times, and a lambdified
            # expression costs 5-100 us a call (RaisedCosine: PINV 2.6 s, the vectorized table 0.1 s)
            got = (
                inverse_pmf_sampler(pdf, lo, hi) if self.discrete else inverse_cdf_sampler(pdf, lo, hi, method="table")
            )
            if len(self._built) >= 8:
                self._built.clear()
            self._built[key] = got
        return got

    def __call__(self, n: int, params: dict, rng: np.random.Generator) -> np.ndarray:
        return np.asarray(self.inverse(params).sample(int(n), rng), dtype=float).reshape(-1, 1)

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_built"}

    def __setstate__(self, state: dict) -> None:
        for k, v in {**state, "_built": {}}.items():
            object.__setattr__(self, k, v)


# -- what from_stats accepts ----------------------------------------------------------------


def _as_random_variable(X: object):
    """(X, its distribution, whether discrete) or a SymflowError naming the fix."""
    from sympy.stats import crv, drv, frv
    from sympy.stats.rv import Distribution, RandomSymbol

    hint = "pass a random variable such as sympy.stats.Normal('X', mu, sigma) itself"
    if isinstance(X, str | bytes):
        raise SymflowError(f"from_stats got the string {X!r}; symflow never parses strings: {hint}")
    if isinstance(X, Distribution):
        raise SymflowError(
            f"from_stats got the distribution {X} (what sympy.stats.density(X) returns), not a random "
            f"variable; pass X itself: from_stats(X). For the pdf as an expression use density(X)(x)"
        )
    if isinstance(X, dict):
        raise SymflowError(f"from_stats got a dict (what density(X) returns for a finite X); {hint}")
    if not isinstance(X, RandomSymbol):
        if isinstance(X, sp.Basic) and X.atoms(RandomSymbol):
            raise SymflowError(
                f"from_stats got {X}, an expression of random variables, not one random variable; "
                "pass the random variable itself and transform its samples"
            )
        raise SymflowError(
            f"from_stats got {X!r} of type {type(X).__name__}, not a sympy.stats random variable; {hint}, "
            "or build a hand-written density with symflow.Density(expr, x, params, support=...)"
        )
    space = X.pspace
    kinds = {crv.SingleContinuousPSpace: False, drv.SingleDiscretePSpace: True, frv.SingleFinitePSpace: True}
    discrete = kinds.get(type(space))
    if discrete is None:
        raise SymflowError(
            f"{X} lives in a {type(space).__name__}; from_stats takes a single 1-D distribution "
            "(joint, compound and multivariate random variables are not supported)"
        )
    return X, space.distribution, discrete


def _ordered_symbols(args: tuple[sp.Basic, ...]) -> tuple[sp.Symbol, ...]:
    seen: dict[sp.Symbol, None] = {}
    for a in args:
        for node in sp.preorder_traversal(a):
            if isinstance(node, sp.Symbol):
                seen.setdefault(node)
    return tuple(seen)


def _support_set(s: sp.Set) -> sp.Set:
    """sympy.stats' support as a set ``Density`` accepts (an Interval or a set of integers)."""
    if s == sp.S.Reals or isinstance(s, sp.Interval | sp.Range) or s in (sp.S.Naturals0, sp.S.Naturals, sp.S.Integers):
        return s
    if isinstance(s, sp.FiniteSet) and all(v.is_integer for v in s):
        vals = sorted(s, key=int)
        if [int(v) for v in vals] == list(range(int(vals[0]), int(vals[-1]) + 1)):
            return sp.Range(vals[0], vals[-1] + 1)
        return s
    if isinstance(s, sp.Intersection):
        intervals = [a for a in s.args if isinstance(a, sp.Interval)]
        integers = [a for a in s.args if a in (sp.S.Naturals0, sp.S.Naturals, sp.S.Integers)]
        if len(intervals) == 1 and len(integers) == 1 and len(s.args) == 2:
            lo = sp.ceiling(intervals[0].inf)
            if integers[0].inf.is_finite:
                lo = sp.Max(lo, integers[0].inf)
            return sp.Range(lo, sp.floor(intervals[0].sup) + 1)
    raise SymflowError(f"the support {s} is not an interval or a set of integers; from_stats cannot use it")


# -- reference points: parameter values sympy accepts, and x inside the support --------------


def _reference_points(dist, args, symbols, support, x, discrete, count=2, seed=0):
    """``count`` dicts {parameter: exact value, x: exact value} lists, one list of x probes per point.

    Values are exact rationals drawn with a fixed seed (the same X always gives the same
    Density), accepted when the distribution's own ``check`` passes and the support is
    nonempty.  Returns [] when none is found in 200 tries.
    """
    rng = np.random.default_rng(seed)
    points = []
    for _ in range(200):
        vals = {}
        for s in symbols:
            if s.is_integer:
                vals[s] = sp.Integer(int(rng.integers(2, 9)))
            elif rng.random() < 0.4:
                vals[s] = sp.Rational(int(rng.integers(1, 8)), 8)  # (0, 1): probabilities
            else:
                vals[s] = sp.Rational(int(rng.integers(3, 13)), 4)
            if s.is_negative:
                vals[s] = -vals[s]
        try:
            type(dist).check(*(a.xreplace(vals) for a in args))
        except (ValueError, TypeError):
            continue
        lo, hi = (e.xreplace(vals) for e in (support.inf, support.sup))
        if not (lo.is_number and hi.is_number and bool(lo < hi)):
            continue
        probes = _x_probes(lo, hi, discrete)
        points.append([{**vals, x: p} for p in probes])
        if len(points) == count:
            break
    return points


def _x_probes(lo: sp.Expr, hi: sp.Expr, discrete: bool) -> list[sp.Expr]:
    if discrete:  # every point of a small finite support (Binomial's F has a branch at x = n alone)
        if lo.is_finite and hi.is_finite and hi - lo <= 30:
            return [lo + k for k in range(int(hi - lo) + 1)]
        start = lo if lo.is_finite else sp.Integer(-3)
        return [start + k for k in (0, 1, 2, 3, 5, 8) if start + k <= hi]
    if lo.is_finite and hi.is_finite:
        return [lo + (hi - lo) * sp.Rational(k, 97) for k in (1, 13, 30, 48, 61, 80, 96)]
    if lo.is_finite:
        return [lo + sp.Rational(k, 20) for k in (1, 7, 20, 33, 60, 140)]
    if hi.is_finite:
        return [hi - sp.Rational(k, 20) for k in (1, 7, 20, 33, 60, 140)]
    return [sp.Rational(k, 10) for k in (-60, -17, -4, 3, 11, 25, 70)]


def _inside_support(expr: sp.Expr, points: list[list[dict]]) -> sp.Expr | None:
    """The branches of a Piecewise that apply at the reference points (None if a condition is undecided)."""
    e = sp.piecewise_fold(expr)
    if not isinstance(e, sp.Piecewise):
        return e
    used = set()
    for point in (p for pts in points for p in pts):
        for i, (_, cond) in enumerate(e.args):
            c = cond.xreplace(point)
            if c == sp.true:
                used.add(i)
                break
            if c != sp.false:
                return None
        else:
            return None  # no branch applies: sympy's nan region
    branches = [e.args[i] for i in sorted(used)]
    if len(branches) == 1:
        return branches[0].expr
    return sp.Piecewise(*branches[:-1], (branches[-1].expr, True))


def _number(expr: sp.Expr, point: dict) -> float:
    value = complex(sp.N(expr.xreplace(point), 20))
    if abs(value.imag) > 1e-12 * max(1.0, abs(value.real)) or not math.isfinite(value.real):
        raise ValueError(f"{expr} is {value} at {point}")
    return value.real


def _checked_cdf(F, pdf, x, order, support, points, discrete) -> sp.Expr | None:
    """F reduced to the support and checked against the pdf, or None (see the module docstring)."""
    if F is None or not points:
        return None
    F = _inside_support(F, points)
    if F is None or F.has(sp.nan, sp.zoo, sp.oo, -sp.oo, sp.Integral, sp.Sum, sp.Product, sp.exp_polar):
        return None
    try:
        if discrete:
            for pts in points:
                lo = support.inf.xreplace(pts[0])  # F(lo) = p(lo) pins the constant
                for pt in pts:
                    prev = _number(F, {**pt, x: pt[x] - 1}) if pt[x] > lo else 0.0
                    if abs(_number(F, pt) - prev - _number(pdf, pt)) > 1e-12 + 1e-9 * abs(_number(pdf, pt)):
                        return None
            return F
        dF = sp.diff(F, x)
        for pts in points:
            for pt in pts:
                want = _number(pdf, pt)
                if abs(_number(dF, pt) - want) > 1e-9 * max(abs(want), 1e-6):
                    return None
        # the constant: F against the integrated pdf at the first reference point
        pts = points[0]
        vals = {k: v for k, v in pts[0].items() if k != x}
        lo, hi = (float(e.xreplace(vals)) for e in (support.inf, support.sup))
        table = cdf_table(ExprFunction(pdf, x, order, tuple(float(vals[p]) for p in order)), lo, hi)
        xs = np.array([float(pt[x]) for pt in pts])
        got = np.array([_number(F, pt) for pt in pts])
        return F if np.max(np.abs(table.cdf(xs) - got)) < 1e-8 else None
    except (ValueError, TypeError, ZeroDivisionError, SymflowError):  # not a number somewhere: not clean
        return None


def from_stats(X: object, params: Sequence[sp.Symbol] | None = None, *, sampler: Callable | None = None) -> Density:
    r"""The ``Density`` of a sympy.stats random variable, with a numpy sampler and a checked CDF.

    Parameters
    ----------
    X : sympy.stats RandomSymbol
        A single 1-D random variable, e.g. ``sympy.stats.Gamma("X", k, theta)``.
    params : sequence of Symbols, optional
        The parameter order; default: the free Symbols of the distribution's arguments in
        the order they appear (``(k, theta)`` here).  Must list each of them once.
    sampler : callable, optional
        ``sampler(n, params, rng) -> (n, 1)`` instead of the table's or numeric inversion.

    Returns
    -------
    Density
        pdf ``density(X)(x)``, support ``pspace(X).domain.set``, CDF when clean, a sampler,
        and the parameter constraints sympy.stats checks (``a < b`` for Uniform, ...).

    Examples
    --------
    >>> import sympy as sp, sympy.stats as ss
    >>> k, theta = sp.symbols("k theta", positive=True)
    >>> p = from_stats(ss.Gamma("X", k, theta))
    >>> p.params, p.support
    ((k, theta), Interval(0, oo))
    >>> p.sample(3, {k: 2.0, theta: 0.5}, rng=0).shape
    (3, 1)
    """
    X, dist, discrete = _as_random_variable(X)
    from sympy.stats import density

    kind = type(dist).__name__.removesuffix("Distribution")
    args = tuple(dist.args)
    symbols = _ordered_symbols(args)
    if params is None:
        order = symbols
    else:
        order = tuple(params)
        if len(order) != len(symbols) or set(order) != set(symbols):
            raise SymflowError(f"params={order} must list each parameter of {X} once: {', '.join(map(str, symbols))}")
    name = "x_" if any(s.name == "x" for s in symbols) else "x"
    x = sp.Symbol(name, integer=True) if discrete else sp.Symbol(name, real=True)
    spec = _TABLE.get(kind)
    if kind in ("Binomial", "Bernoulli") and (args[-2], args[-1]) != (1, 0):
        raise SymflowError(f"{kind} with succ={args[-2]}, fail={args[-1]}: use succ=1, fail=0 and map the samples")
    support = _support_set(spec.support(*args) if spec and spec.support else X.pspace.domain.set)
    # density(X) of a finite X can be a dict; its distribution's pmf is an expression (only finite ones have pmf)
    raw = dist.pmf(x) if hasattr(dist, "pmf") else density(X)(x)
    points = _reference_points(dist, args, symbols, support, x, discrete)
    pdf = (_inside_support(raw, points) if points else None) or raw
    F = None
    try:
        F = dist._cdf(x)  # the distribution's closed form; None when it has none
    except Exception:  # noqa: BLE001 - NotImplementedError (Skellam) and the like: no closed form
        F = None
    if F is None and spec is not None and spec.cdf is not None:
        F = spec.cdf(x, *args)
    cdf = _checked_cdf(F, pdf, x, order, support, points, discrete)
    if sampler is None:
        sampler = _sampler(kind, spec, args, pdf, x, order, support, discrete, points)
    constraints = tuple(c for c in (spec.constraints(*args) if spec else ()) if c not in (sp.true, True))
    if any(c in (sp.false, False) for c in constraints):
        raise SymflowError(f"the parameters of {X} violate {constraints}; sympy.stats should have refused them")
    return Density(pdf, (x,), order, support=support, sampler=sampler, cdf=cdf, constraints=constraints, name=kind)


def _sampler(kind, spec, args, pdf, x, order, support, discrete, points):
    if spec is not None and spec.draw is not None:
        return StatsSampler(kind, args)
    lo, hi = support.inf, support.sup
    if discrete and not lo.is_finite:
        raise SymflowError(
            f"{kind} is not in the sampler table and its support {support} is unbounded below; "
            "give sampler=... (a function (n, params, rng) -> (n, 1) array)"
        )
    made = InversionSampler(pdf, x, order, lo, hi, discrete)
    for pts in points[:1]:  # refuse now, not at the first draw: build once at a reference point
        vals = {k: float(v) for k, v in pts[0].items() if k != x}
        # the pdf must evaluate in numpy as evalf does (lambdify maps some functions wrongly)
        ExprFunction(pdf, x, order, tuple(vals[p] for p in order)).check(np.array([float(p[x]) for p in pts]))
        try:
            made.inverse(vals)
        except SymflowError as e:
            raise SymflowError(f"{kind} is not in the sampler table and numeric inversion fails: {e}") from e
    return made
