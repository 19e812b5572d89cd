"""The public zoo of issue 13: a researcher's own densities, one case per row, with planted truths.

Each case builds its density, the flow whose estimator is checked, the parameter
differentiated, the test function phi, the parameter values, and the truth
d/dtheta E[phi] computed here with mpmath alone (closed forms, or mpmath.diff of an
mpmath quadrature), independently of symflow.  ``transport_flow`` is the implicit
flow whose transport equation the row claims; for the truncated exponential the
estimator checked is the likelihood ratio plus the moving-boundary term (Eq. 77),
and the implicit flow (which moves with the edge) is claimed separately.

Used by ``tests/test_zoo.py`` and ``benchmarks/bench_zoo.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import mpmath
import sympy as sp

import symflow as sf

# von Mises: flows.implicit's simplify would try to integrate d/dkappa of the density for its
# whole budget; the unsimplified field is as good (simplify never changes the value).
VON_MISES_FLOW_BUDGET = 1.0


@dataclass(frozen=True)
class ZooCase:
    """A row of the zoo; ``gaps`` names the checks it does not yet pass (see ``tests/test_zoo.py``).

    Gaps: ``"exact"`` -- symflow's own exact value is unavailable, so ``mc_check`` without
    ``exact=`` is unknown and ``check_unbiased`` too.  No row has a gap today: the Dirichlet's
    exact value comes from cubature in stick-breaking coordinates that keep the digits of
    x_3 = 1 - x_1 - x_2 (``symflow.calculus.simplex_map``).
    """

    id: str
    build: Callable[[], tuple]  # () -> (p, transport_flow, estimator_flow, wrt, phi, params)
    truth: Callable[[], mpmath.mpf]
    gaps: frozenset = frozenset()


def _von_mises():
    p = sf.families.von_mises()
    mu, kappa = p.params
    u = sf.flows.implicit(p, timeout=VON_MISES_FLOW_BUDGET)
    return p, u, u, kappa, sp.cos(p.x[0]), {mu: 0.0, kappa: 2.0}


def _von_mises_truth():
    # E[cos x] = I1/I0; I0' = I1, I1' = (I0 + I2)/2
    k = mpmath.mpf(2)
    i0, i1, i2 = (mpmath.besseli(n, k) for n in (0, 1, 2))
    return (i0 + i2) / 2 / i0 - i1 * i1 / i0**2


def _beta():
    p = sf.families.beta()
    a, b = p.params
    u = sf.flows.implicit(p)
    return p, u, u, a, p.x[0], {a: 1.5, b: 2.5}


def _beta_tied():
    a = sp.Symbol("a", positive=True)
    p = sf.families.beta(alpha=a, beta=a)
    u = sf.flows.implicit(p)
    return p, u, u, a, p.x[0] ** 2, {a: 1.5}


def _gamma():
    p = sf.families.gamma()
    alpha, rate = p.params
    u = sf.flows.implicit(p)
    return p, u, u, alpha, p.x[0] ** 2, {alpha: 2.3, rate: 1.0}


def _student_t():
    p = sf.families.student_t()
    mu, sigma, nu = p.params
    u = sf.flows.implicit(p)
    return p, u, u, nu, sp.log(1 + p.x[0] ** 2), {mu: 0.0, sigma: 1.0, nu: 5.5}


def _student_t_truth():
    def mean(nu):
        c = mpmath.gamma((nu + 1) / 2) / (mpmath.sqrt(nu * mpmath.pi) * mpmath.gamma(nu / 2))
        # even integrand: twice the half line
        return 2 * mpmath.quad(
            lambda t: mpmath.log(1 + t * t) * c * (1 + t * t / nu) ** (-(nu + 1) / 2), [0, 1, 10, mpmath.inf]
        )

    return mpmath.diff(mean, mpmath.mpf("5.5"))


def _weibull():
    p = sf.families.weibull()
    lam, k = p.params
    u = sf.flows.implicit(p)
    return p, u, u, k, p.x[0], {lam: 1.3, k: 1.7}


def _weibull_truth():
    lam, k = mpmath.mpf("1.3"), mpmath.mpf("1.7")
    g = mpmath.gamma(1 + 1 / k)
    return -lam * g * mpmath.digamma(1 + 1 / k) / k**2


def truncated_exponential() -> tuple[sf.Density, sp.Symbol, sp.Symbol]:
    """lambda e^{-lambda x}/(1 - e^{-lambda c}) on [0, c], typed in with its support and its CDF."""
    x = sp.Symbol("x", real=True)
    lam, c = sp.Symbol("lambda", positive=True), sp.Symbol("c", positive=True)
    norm = 1 - sp.exp(-lam * c)
    p = sf.Density(
        lam * sp.exp(-lam * x) / norm,
        x,
        (lam, c),
        support=sp.Interval(0, c),
        cdf=(1 - sp.exp(-lam * x)) / norm,
        name="truncated_exponential",
    )
    return p, lam, c


def _truncated_exponential():
    p, lam, c = truncated_exponential()
    return p, sf.flows.implicit(p), sf.flows.zero(p), c, p.x[0], {lam: 0.7, c: 2.0}


def _truncated_exponential_truth():
    lam = mpmath.mpf("0.7")
    return mpmath.diff(lambda c: 1 / lam - c * mpmath.exp(-lam * c) / (1 - mpmath.exp(-lam * c)), 2)


def _dirichlet():
    p = sf.families.dirichlet()
    a1, a2, a3 = p.params
    u = sf.flows.implicit(p)
    return p, u, u, a1, p.x[0], {a1: 1.2, a2: 2.0, a3: 0.7}


def _dirichlet_truth():
    a1, a0 = mpmath.mpf("1.2"), mpmath.mpf("3.9")
    return (a0 - a1) / a0**2


def _log_normal():
    p = sf.families.log_normal()
    mu, sigma = p.params
    u = sf.flows.implicit(p)
    return p, u, u, sigma, sp.Min(p.x[0], 2), {mu: 0.0, sigma: 0.8}


def _log_normal_truth():
    # E[min(X, 2)] = E[X; X < 2] + 2 P(X > 2), X = e^{sigma Z}: in closed form through the normal CDF
    def mean(s):
        z = mpmath.log(2) / s
        return mpmath.exp(s * s / 2) * mpmath.ncdf(z - s) + 2 * (1 - mpmath.ncdf(z))

    return mpmath.diff(mean, mpmath.mpf("0.8"))


CASES = (
    ZooCase("von_mises_kappa", _von_mises, _von_mises_truth),
    ZooCase("beta_alpha", _beta, lambda: mpmath.mpf("2.5") / 16),
    ZooCase("beta_tied", _beta_tied, lambda: -1 / (2 * (2 * mpmath.mpf("1.5") + 1) ** 2)),
    ZooCase("gamma_alpha", _gamma, lambda: 2 * mpmath.mpf("2.3") + 1),
    ZooCase("student_t_nu", _student_t, _student_t_truth),
    ZooCase("weibull_k", _weibull, _weibull_truth),
    ZooCase("truncated_exponential_c", _truncated_exponential, _truncated_exponential_truth),
    ZooCase("dirichlet_alpha_1", _dirichlet, _dirichlet_truth),
    ZooCase("log_normal_sigma", _log_normal, _log_normal_truth),
)
IDS = tuple(c.id for c in CASES)


@cache
def built(case_id: str) -> tuple:
    """(p, transport_flow, estimator_flow, wrt, phi, params) of a case, built once per process."""
    return next(c for c in CASES if c.id == case_id).build()


@cache
def estimator(case_id: str) -> sf.Estimator:
    p, _, u, wrt, _, _ = built(case_id)
    return sf.derive(p, u, wrt)


@cache
def truth(case_id: str) -> float:
    with mpmath.workdps(30):
        return float(next(c for c in CASES if c.id == case_id).truth())
