"""The supported sympy.stats distributions (parameters, support fixes, draws, CDFs), and samplers built on them.

Samplers are values: frozen dataclasses over module-level draw functions, so a Density pickles
and equal samplers compare equal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ...numeric.inversion import InversionSampler as InversionSampler
from . import draws

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
    "Normal": _Spec(draws.normal, lambda m, s: _positive(s)),
    "Exponential": _Spec(draws.exponential, _positive),
    "Gamma": _Spec(draws.gamma, _positive),
    "Beta": _Spec(draws.beta, _positive, lambda x, a, b: _I(a, b, 0, x)),
    "StudentT": _Spec(draws.student_t, _positive),
    "VonMises": _Spec(draws.von_mises, lambda m, k: _positive(k)),
    "Weibull": _Spec(draws.weibull, _positive, lambda x, a, b: 1 - sp.exp(-((x / a) ** b))),
    "LogNormal": _Spec(draws.log_normal, lambda m, s: _positive(s)),
    "ChiSquared": _Spec(draws.chi_squared, _positive),
    "Kumaraswamy": _Spec(draws.kumaraswamy, _positive, support=lambda a, b: sp.Interval(0, 1)),
    "Laplace": _Spec(draws.laplace, lambda m, b: _positive(b)),
    "Logistic": _Spec(draws.logistic, lambda m, s: _positive(s)),
    "Cauchy": _Spec(draws.cauchy, lambda m, g: _positive(g)),
    "Uniform": _Spec(draws.uniform, lambda a, b: (sp.StrictLessThan(a, b),)),
    "Pareto": _Spec(draws.pareto, _positive),
    "Rayleigh": _Spec(draws.rayleigh, _positive),
    "Maxwell": _Spec(draws.maxwell, _positive),
    "Gumbel": _Spec(draws.gumbel, lambda b, m, minimum: _positive(b)),
    "Frechet": _Spec(draws.frechet, lambda a, s, m: _positive(a, s), support=lambda a, s, m: sp.Interval(m, sp.oo)),
    "GammaInverse": _Spec(draws.gamma_inverse, _positive),
    "Chi": _Spec(draws.chi, _positive, lambda x, k: sp.lowergamma(k / 2, x**2 / 2) / sp.gamma(k / 2)),
    "Levy": _Spec(draws.levy, lambda m, c: _positive(c)),
    "Nakagami": _Spec(draws.nakagami, lambda m, w: (sp.GreaterThan(m, sp.Rational(1, 2)), *_positive(w))),
    "BetaPrime": _Spec(draws.beta_prime, _positive, lambda x, a, b: _I(a, b, 0, x / (1 + x))),
    "FDistribution": _Spec(draws.f, _positive, lambda x, d1, d2: _I(d1 / 2, d2 / 2, 0, d1 * x / (d1 * x + d2))),
    "FisherZ": _Spec(draws.fisher_z, _positive),
    "Triangular": _Spec(
        draws.triangular,
        lambda a, b, c: (sp.StrictLessThan(a, c), sp.StrictLessThan(c, b)),
        lambda x, a, b, c: sp.Piecewise(
            ((x - a) ** 2 / ((b - a) * (c - a)), x <= c), (1 - (b - x) ** 2 / ((b - a) * (b - c)), True)
        ),
    ),
    "Arcsin": _Spec(draws.arcsin, lambda a, b: (sp.StrictLessThan(a, b),)),
    "Dagum": _Spec(draws.dagum, _positive),
    "GaussianInverse": _Spec(draws.gaussian_inverse, _positive),
    "ExGaussian": _Spec(draws.ex_gaussian, lambda m, s, r: _positive(s, r)),
    "Gompertz": _Spec(draws.gompertz, _positive),
    "ShiftedGompertz": _Spec(
        draws.shifted_gompertz, _positive, lambda x, b, eta: (1 - sp.exp(-b * x)) * sp.exp(-eta * sp.exp(-b * x))
    ),
    "LogLogistic": _Spec(draws.log_logistic, _positive),
    "WignerSemicircle": _Spec(
        draws.wigner,
        _positive,
        lambda x, r: sp.S.Half + x * sp.sqrt(r**2 - x**2) / (sp.pi * r**2) + sp.asin(x / r) / sp.pi,
    ),
    "LogitNormal": _Spec(draws.logit_normal, lambda m, s: _positive(s)),
    "Lomax": _Spec(draws.lomax, _positive, lambda x, a, lam: 1 - (1 + x / lam) ** (-a)),
    "PowerFunction": _Spec(
        draws.power_function,
        lambda al, a, b: (*_positive(al), sp.StrictLessThan(a, b)),
        lambda x, al, a, b: ((x - a) / (b - a)) ** al,
    ),
    "Moyal": _Spec(
        draws.moyal, lambda m, s: _positive(s), lambda x, m, s: sp.erfc(sp.exp(-(x - m) / (2 * s)) / sp.sqrt(2))
    ),
    "Benini": _Spec(
        draws.benini, _positive, lambda x, a, b, s: 1 - sp.exp(-a * sp.log(x / s) - b * sp.log(x / s) ** 2)
    ),
    "QuadraticU": _Spec(
        draws.quadratic_u,
        lambda a, b: (sp.StrictLessThan(a, b),),
        lambda x, a, b: (1 + ((2 * x - a - b) / (b - a)) ** 3) / 2,
    ),
    "Reciprocal": _Spec(
        draws.reciprocal,
        lambda a, b: (*_positive(a), sp.StrictLessThan(a, b)),
        lambda x, a, b: sp.log(x / a) / sp.log(b / a),
    ),
    "BoundedPareto": _Spec(
        draws.bounded_pareto,
        lambda al, lo, hi: (*_positive(al, lo), sp.StrictLessThan(lo, hi)),
        lambda x, al, lo, hi: (1 - (lo / x) ** al) / (1 - (lo / hi) ** al),
    ),
    "ExponentialPower": _Spec(draws.exponential_power, lambda m, a, b: _positive(a, b)),
    "ChiNoncentral": _Spec(draws.chi_noncentral, lambda k, lam: (*_positive(k), sp.GreaterThan(lam, 0))),
    "RaisedCosine": _Spec(
        None,
        lambda m, s: _positive(s),
        lambda x, m, s: (1 + (x - m) / s + sp.sin(sp.pi * (x - m) / s) / sp.pi) / 2,
    ),
    "Davis": _Spec(None, lambda b, n, m: _positive(b, n), support=lambda b, n, m: sp.Interval(m, sp.oo)),
    # discrete
    "Poisson": _Spec(draws.poisson, _positive, lambda x, lam: sp.uppergamma(x + 1, lam) / sp.factorial(x)),
    "Geometric": _Spec(draws.geometric, _unit, lambda x, p: 1 - (1 - p) ** x),
    "NegativeBinomial": _Spec(
        draws.negative_binomial, lambda r, p: (*_positive(r), *_unit(p)), lambda x, r, p: _I(r, x + 1, 0, p)
    ),
    "Binomial": _Spec(
        draws.binomial,
        lambda n, p, s, f: _unit(p),
        lambda x, n, p, s, f: sp.Piecewise((_I(n - x, x + 1, 0, 1 - p), x < n), (1, True)),
    ),
    "Bernoulli": _Spec(
        draws.bernoulli, lambda p, s, f: _unit(p), lambda x, p, s, f: sp.Piecewise((1 - p, sp.Eq(x, 0)), (1, True))
    ),
    "BetaBinomial": _Spec(draws.beta_binomial, lambda n, a, b: _positive(a, b)),
    "Hypergeometric": _Spec(draws.hypergeometric, lambda nn, m, n: (sp.LessThan(m, nn), sp.LessThan(n, nn))),
    "Logarithmic": _Spec(
        draws.logarithmic,
        lambda p: (*_positive(p), sp.StrictLessThan(p, 1)),
        # sum_{j > x} p^j / j = B(p; x + 1, 0); sympy's lerchphi form took 0.36 s per evalf
        lambda x, p: 1 + sp.betainc(x + 1, 0, 0, p) / sp.log(1 - p),
    ),
    "Zeta": _Spec(draws.zeta, lambda s: (sp.StrictGreaterThan(s, 1),), lambda x, s: 1 - sp.zeta(s, x + 1) / sp.zeta(s)),
    "YuleSimon": _Spec(draws.yule_simon, _positive),
    "FlorySchulz": _Spec(
        draws.flory_schulz,
        lambda a: (*_positive(a), sp.StrictLessThan(a, 1)),
        lambda x, a: 1 - (1 - a) ** x * (1 + a * x),
    ),
    "Skellam": _Spec(draws.skellam, lambda m1, m2: (sp.GreaterThan(m1, 0), sp.GreaterThan(m2, 0))),
    "Die": _Spec(draws.die, lambda s: (sp.GreaterThan(s, 1),), lambda x, s: x / s, lambda s: sp.Range(1, s + 1)),
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
