"""The family catalogue: normalization, samplers, reparameterization / implicit flows, planted values.

One registry of cases (numpyro style) drives the generic tests; what a case
supports (its flow, how its normalization is checked) is declared on the case.

Statistical tests: each case's sampler is checked by z-tests of its mean and
covariance entries at a fixed seed, Bonferroni-corrected so that a correct
sampler fails a case with probability <= 1e-4 (<= 2e-3 over the whole
registry, were the seeds redrawn).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist

import mpmath
import numpy as np
import pytest
import sympy as sp

import symflow as sf
from symflow.errors import DensityError, ParameterError
from symflow.families import (
    beta,
    exponential,
    gamma,
    l_distribution,
    laplace,
    logistic,
    mvn,
    normal,
    student_t,
    uniform,
)

R = sp.Rational
N_SAMPLES = 40_000
FALSE_ALARM_PER_CASE = 1e-4


def digits_agree(got: mpmath.mpf, want: mpmath.mpf, digits: int) -> bool:
    """|got - want| <= 10^-digits * max(1, |want|): the one numeric tolerance helper."""
    return abs(got - want) <= mpmath.mpf(10) ** (-digits) * max(mpmath.mpf(1), abs(want))


# -- the registry ----------------------------------------------------------------------------


def _cholesky(values: tuple, d: int, covariance: str) -> np.ndarray:
    scale = values[d:]
    lower = np.zeros((d, d))
    if covariance == "diag":
        np.fill_diagonal(lower, scale)
    else:
        lower[np.tril_indices(d)] = scale  # row-major lower triangle == the parameter order
    return lower


def _mvn_moments(d: int, covariance: str) -> Callable[[tuple], tuple[np.ndarray, np.ndarray]]:
    def moments(v: tuple) -> tuple[np.ndarray, np.ndarray]:
        lower = _cholesky(v, d, covariance)
        return np.array(v[:d], dtype=float), lower @ lower.T

    return moments


def _scalar(mean: Callable[[tuple], float], var: Callable[[tuple], float]):
    return lambda v: (np.array([mean(v)]), np.array([[var(v)]]))


@dataclass(frozen=True)
class Case:
    """A family at one parameter point and what it supports.

    ``values`` are in the family's parameter order; ``moments(values)`` gives
    the exact (mean vector, covariance matrix).  ``flow`` is "reparam",
    "implicit" or None; ``flow_params`` limits the transport test to some
    parameters (indices) when the flow is not expected for the others.
    ``normalization`` is "free" (check p with symbolic parameters; for mvn,
    check_normalized integrates the last variable first, which suits the
    triangular forms), or a tuple of exact parameter values to substitute first.
    """

    id: str
    build: Callable[[], sf.Density]
    values: tuple
    moments: Callable[[tuple], tuple[np.ndarray, np.ndarray]]
    flow: str | None
    normalization: object = "free"
    flow_params: tuple[int, ...] | None = None
    timeout: float | None = None


CASES = (
    Case("normal", normal, (0.3, 1.2), _scalar(lambda v: v[0], lambda v: v[1] ** 2), "reparam"),
    Case("laplace", laplace, (-0.4, 0.8), _scalar(lambda v: v[0], lambda v: 2 * v[1] ** 2), "reparam"),
    Case("logistic", logistic, (0.5, 1.5), _scalar(lambda v: v[0], lambda v: np.pi**2 * v[1] ** 2 / 3), "reparam"),
    Case("l_distribution", l_distribution, (0.3, 1.2), _scalar(lambda v: v[0], lambda v: 3 * v[1] ** 2), "reparam"),
    Case(
        "student_t_nu10",
        lambda: student_t(nu=10),
        (0.2, 1.3),
        _scalar(lambda v: v[0], lambda v: v[1] ** 2 * 10 / 8),
        "reparam",
    ),
    # nu a parameter: no theta-free base, hence no reparameterization; its CDF (2F1) is
    # checked by test_cdf_is_the_integral_of_the_density.
    Case(
        "student_t",
        student_t,
        (0.2, 1.3, 10.0),
        _scalar(lambda v: v[0], lambda v: v[1] ** 2 * v[2] / (v[2] - 2)),
        None,
    ),
    Case("exponential", exponential, (1.7,), _scalar(lambda v: 1 / v[0], lambda v: 1 / v[0] ** 2), "reparam"),
    Case(
        "uniform",
        uniform,
        (-0.5, 2.0),
        _scalar(lambda v: (v[0] + v[1]) / 2, lambda v: (v[1] - v[0]) ** 2 / 12),
        "reparam",
    ),
    # The alpha residual holds Meijer G functions; hyperexpand + simplify proves it in
    # 3-7 s, so the gamma's checks get a larger budget than the 5 s default.
    Case(
        "gamma",
        gamma,
        (2.5, 1.5),
        _scalar(lambda v: v[0] / v[1], lambda v: v[0] / v[1] ** 2),
        "implicit",
        timeout=30,
    ),
    # With free parameters SymPy does not integrate the beta in time and quadrature loses
    # digits at the (1 - x)^(beta - 1) edge singularity when beta < 1: checked at exact values.
    Case(
        "beta",
        beta,
        (2.5, 3.5),
        _scalar(
            lambda v: v[0] / (v[0] + v[1]),
            lambda v: v[0] * v[1] / ((v[0] + v[1]) ** 2 * (v[0] + v[1] + 1)),
        ),
        "implicit",
        normalization=(2, 3),
    ),
    Case("mvn2_diag", lambda: mvn(2, "diag"), (0.3, -1.0, 1.5, 0.7), _mvn_moments(2, "diag"), "reparam", "free"),
    Case(
        "mvn2_full",
        lambda: mvn(2, "full"),
        (0.3, -1.0, 1.5, -0.6, 0.7),
        _mvn_moments(2, "full"),
        "reparam",
        "free",
    ),
    # d = 3: SymPy's integrator does not finish within the budget (checked at d = 2 only).
    Case(
        "mvn3_diag", lambda: mvn(3, "diag"), (0.3, -1.0, 2.0, 1.5, 0.7, 1.1), _mvn_moments(3, "diag"), "reparam", None
    ),
    Case(
        "mvn3_full",
        lambda: mvn(3, "full"),
        (0.3, -1.0, 2.0, 1.5, -0.6, 0.7, 0.4, 0.9, 1.1),
        _mvn_moments(3, "full"),
        "reparam",
        None,
    ),
)
CASE_BY_ID = {c.id: c for c in CASES}


@functools.cache
def density(case_id: str) -> sf.Density:
    return CASE_BY_ID[case_id].build()


@functools.cache
def flow(case_id: str) -> sf.Flow:
    p = density(case_id)
    case = CASE_BY_ID[case_id]
    return sf.flows.reparam(p) if case.flow == "reparam" else sf.flows.implicit(p, timeout=case.timeout)


def param_dict(case: Case) -> dict:
    p = density(case.id)
    return dict(zip(p.params, case.values, strict=True))


TRANSPORT = [
    pytest.param(c.id, i, id=f"{c.id}-{density(c.id).params[i]}")
    for c in CASES
    if c.flow is not None
    for i in (c.flow_params if c.flow_params is not None else range(len(density(c.id).params)))
]


# -- generic tests -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", [c for c in CASES if c.normalization is not None], ids=lambda c: c.id)
def test_normalized(case: Case) -> None:
    p = density(case.id)
    if case.normalization != "free":
        values = dict(zip(p.params, case.normalization, strict=True))
        p = sf.Density(
            p.expr.xreplace(values), p.x, (), support=[s.xreplace(values) for s in p.support_sets], name=p.name
        )
    verdict = sf.check_normalized(p, timeout=case.timeout)
    assert verdict.status in (sf.Status.PROVED, sf.Status.CONSISTENT), verdict


def _z_scores(xs: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """z of each sample mean and each sample (co)variance entry against its exact value."""
    n, d = xs.shape
    centred = xs - mean
    stats = [(xs[:, i], mean[i]) for i in range(d)]
    stats += [(centred[:, i] * centred[:, j], cov[i, j]) for i in range(d) for j in range(i + 1)]
    return np.array([(f.mean() - exact) / (f.std(ddof=1) / np.sqrt(n)) for f, exact in stats])


def _critical(k: int) -> float:
    return NormalDist().inv_cdf(1 - FALSE_ALARM_PER_CASE / (2 * k))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_sampler_moments(case: Case) -> None:
    p = density(case.id)
    params = param_dict(case)
    xs = p.sample(N_SAMPLES, params, rng=20240611)
    assert xs.shape == (N_SAMPLES, p.dim)
    np.testing.assert_array_equal(xs, p.sample(N_SAMPLES, params, rng=20240611))  # seeded => reproducible
    for j, s in enumerate(p.support_sets):
        lo, hi = (float(e.xreplace(params)) for e in (s.inf, s.sup))
        assert np.all((xs[:, j] >= lo) & (xs[:, j] <= hi))
    z = _z_scores(xs, *case.moments(case.values))
    assert np.max(np.abs(z)) < _critical(len(z)), z


def test_moment_test_catches_a_wrong_sampler() -> None:
    # A normal whose sampler is 5% too wide: the variance z-test must reject it.
    p = normal()
    mu, sigma = p.params
    wide = p.with_(sampler=lambda n, pr, rng: rng.normal(pr[mu], 1.05 * pr[sigma], (n, 1)))
    case = CASE_BY_ID["normal"]
    xs = wide.sample(N_SAMPLES, param_dict(case), rng=20240611)
    z = _z_scores(xs, *case.moments(case.values))
    assert np.max(np.abs(z)) > _critical(len(z))


@pytest.mark.parametrize(("case_id", "index"), TRANSPORT)
def test_flow_solves_transport(case_id: str, index: int) -> None:
    p = density(case_id)
    verdict = sf.check_transport(p, flow(case_id), p.params[index], timeout=CASE_BY_ID[case_id].timeout)
    assert verdict.status is sf.Status.PROVED, verdict


def test_wrong_flow_is_refuted() -> None:
    # The gamma's rate flow -x/beta used for the shape alpha does not transport p.
    p = gamma()
    alpha, rate = p.params
    wrong = sf.Flow(p, {alpha: [-p.x[0] / rate]})
    assert sf.check_transport(p, wrong, alpha).status is sf.Status.REFUTED


@pytest.mark.parametrize("case", [c for c in CASES if density(c.id).cdf is not None], ids=lambda c: c.id)
def test_cdf_is_the_integral_of_the_density(case: Case) -> None:
    # F(x0) = integral of p from the lower edge to x0 (30-digit quadrature, split at the
    # mean, where the Laplace has its kink) at three points inside the support.
    p = density(case.id)
    x = p.x[0]
    params = {k: sp.Rational(v) for k, v in param_dict(case).items()}
    mean, cov = case.moments(case.values)
    spread = float(np.sqrt(cov[0, 0]))
    with mpmath.workdps(30):
        lo = p.support_sets[0].inf.xreplace(params)
        start = mpmath.ninf if lo == -sp.oo else mpmath.mpf(sp.Float(lo, 30))
        density_fn = sp.lambdify(x, p.expr.xreplace(params), modules="mpmath")
        centre = mpmath.mpf(float(mean[0]))
        for offset in (-0.9, 0.1, 1.3):
            x0 = sp.Rational(float(mean[0]) + offset * spread)
            x0_mp = mpmath.mpf(sp.Float(x0, 30))
            cuts = [start, centre, x0_mp] if start < centre < x0_mp else [start, x0_mp]
            want = mpmath.quad(density_fn, cuts)
            got = mpmath.mpf(sp.N(p.cdf.xreplace({**params, x: x0}), 30))
            assert digits_agree(got, want, 20), (x0, got, want)


# -- planted values ------------------------------------------------------------------------------


def test_gamma_implicit_flow_reference_value() -> None:
    # REFERENCE-CASES: Gamma(alpha, rate 1), theta = alpha, alpha = 2, x = 1.3.
    p = density("gamma")
    alpha, rate = p.params
    x = p.x[0]
    u = flow("gamma")[alpha][0]
    with mpmath.workdps(40):
        got = sp.lambdify((x, alpha, rate), u, modules="mpmath")(mpmath.mpf("1.3"), 2, 1)
        assert digits_agree(got, mpmath.mpf("0.867725835238768662"), 17)
        # Independent route: u = -(dP/dalpha)/p with P the regularized lower incomplete gamma.
        cdf = lambda a: mpmath.gammainc(a, 0, mpmath.mpf("1.3"), regularized=True)  # noqa: E731
        pdf = mpmath.mpf("1.3") * mpmath.exp(-mpmath.mpf("1.3"))
        assert digits_agree(got, -mpmath.diff(cdf, 2) / pdf, 30)


@pytest.mark.parametrize("which", [0, 1], ids=["alpha", "beta"])
@pytest.mark.parametrize(("a", "b", "x"), [(R(5, 2), R(7, 2), R(3, 10)), (R(1, 2), R(3, 1), R(4, 5))])
def test_beta_implicit_flow_matches_finite_differences(which: int, a, b, x) -> None:
    # u_theta = -(dI_x(a, b)/dtheta)/p.  SymPy keeps dI/dtheta as a Derivative; it is
    # evaluated here from the integral representation, and the reference is a central
    # finite difference of mpmath's regularized incomplete beta at 60 digits.
    p = density("beta")
    theta = p.params[which]
    values = {p.params[0]: a, p.params[1]: b, p.x[0]: x}
    u = flow("beta")[theta][0]
    derivatives = list(u.atoms(sp.Derivative))
    assert len(derivatives) == 1
    with mpmath.workdps(60):
        am, bm, xm = (mpmath.mpf(sp.Float(v, 60)) for v in (a, b, x))
        weight = (lambda t: mpmath.log(t)) if which == 0 else (lambda t: mpmath.log(1 - t))
        digamma_shift = mpmath.digamma(am if which == 0 else bm) - mpmath.digamma(am + bm)
        inc = mpmath.betainc(am, bm, 0, xm, regularized=True)
        cuts = [0, xm * mpmath.mpf("1e-6"), xm / 1000, xm / 10, xm]  # split near the t^(a-1) singularity
        integral = mpmath.quad(lambda t: t ** (am - 1) * (1 - t) ** (bm - 1) * weight(t), cuts)
        dI = integral / mpmath.beta(am, bm) - inc * digamma_shift
        got = sp.N(u.xreplace({derivatives[0]: sp.Float(dI, 60)}).xreplace(values), 60)
        h = mpmath.mpf("1e-20")
        shifted = (
            (lambda t: mpmath.betainc(t, bm, 0, xm, regularized=True))
            if which == 0
            else (lambda t: mpmath.betainc(am, t, 0, xm, regularized=True))
        )
        centre = am if which == 0 else bm
        fd = (shifted(centre + h) - shifted(centre - h)) / (2 * h)
        pdf = xm ** (am - 1) * (1 - xm) ** (bm - 1) / mpmath.beta(am, bm)
        assert digits_agree(mpmath.mpf(got), -fd / pdf, 30)


@pytest.mark.parametrize("d", [2, 3])
def test_mvn_cholesky_flow_is_Ldot_Linv(d: int) -> None:
    # REFERENCE-CASES / App. E.1: for an entry theta of L, u = (dL/dtheta) L^{-1} (x - mu).
    p = mvn(d, "full")
    mus, scale = p.params[:d], p.params[d:]
    lower = sp.Matrix(d, d, lambda i, j: scale[i * (i + 1) // 2 + j] if j <= i else 0)
    centred = sp.Matrix(p.x) - sp.Matrix(mus)
    u = sf.flows.reparam(p)
    for theta in scale:
        want = lower.diff(theta) * lower.inv() * centred
        got = sp.Matrix(u[theta])
        assert (got - want).applyfunc(sp.cancel) == sp.zeros(d, 1), theta
    for i, m in enumerate(mus):
        assert sp.Matrix(u[m]) == sp.Matrix([int(j == i) for j in range(d)])


def test_mvn_wrong_cholesky_flow_is_refuted() -> None:
    # L^{-1} dL/dtheta (x - mu): the factors in the wrong order do not transport p.
    p = mvn(2, "full")
    mus, (l11, l21, l22) = p.params[:2], p.params[2:]
    lower = sp.Matrix([[l11, 0], [l21, l22]])
    wrong = lower.inv() * lower.diff(l21) * (sp.Matrix(p.x) - sp.Matrix(mus))
    assert sf.check_transport(p, sf.Flow(p, {l21: list(wrong)}), l21).status is sf.Status.REFUTED


def test_lr_under_l_distribution_is_eq80() -> None:
    # Eq. (80): the LR estimator of d/dmu E_N[phi] sampled from q_L weighs phi by 1/(x - mu).
    p, q = normal(), l_distribution()
    mu = p.params[0]
    est = sf.derive(p, sf.flows.zero(p), wrt=mu, q=q)
    assert est.v == (0,)
    assert sp.simplify(est.psi - 1 / (p.x[0] - mu)) == 0


# -- structure: Symbols, parameter order, supports -----------------------------------------------


def test_parameter_orders_and_shared_symbols() -> None:
    names = {
        normal: ("mu", "sigma"),
        laplace: ("mu", "sigma"),
        logistic: ("mu", "sigma"),
        l_distribution: ("mu", "sigma"),
        student_t: ("mu", "sigma", "nu"),
        exponential: ("lambda",),
        uniform: ("a", "b"),
        gamma: ("alpha", "beta"),
        beta: ("alpha", "beta"),
    }
    for family, want in names.items():
        p = family()
        assert tuple(map(str, p.params)) == want, family
        assert p.x == normal().x == (sp.Symbol("x", real=True),)
        assert p.name == family.__name__
    assert l_distribution().params == normal().params
    assert gamma().params == beta().params
    assert tuple(map(str, mvn(3, "full").params)) == (
        "mu_1",
        "mu_2",
        "mu_3",
        "L_11",
        "L_21",
        "L_22",
        "L_31",
        "L_32",
        "L_33",
    )
    assert tuple(map(str, mvn(2, "diag").params)) == ("mu_1", "mu_2", "sigma_1", "sigma_2")
    assert mvn(3).params[3].is_positive and mvn(3).params[4].is_positive is None  # diagonal > 0, off-diagonal real


def test_symbol_overrides() -> None:
    y, m, s = sp.Symbol("y", real=True), sp.Symbol("m", real=True), sp.Symbol("s", positive=True)
    p = normal(x=y, mu=m, sigma=s)
    assert p.x == (y,) and p.params == (m, s)
    renamed = dict(zip((*normal().x, *normal().params), (y, m, s), strict=True))
    assert sp.simplify(p.expr - normal().expr.xreplace(renamed)) == 0
    xs = sp.symbols("u v", real=True)
    assert mvn(2, "diag", x=xs).x == xs


def test_supports_and_constraints() -> None:
    u = uniform()
    a, b = u.params
    assert u.support == sp.Interval(a, b) and u.has_moving_support
    with pytest.raises(ParameterError):
        u.param_values({a: 2.0, b: 1.0})
    for family in (exponential, gamma):
        assert family().support == sp.Interval(0, sp.oo)
    assert beta().support == sp.Interval(0, 1)
    assert not normal().has_moving_support
    assert student_t(nu=5).params == student_t().params[:2]
    assert student_t().reparam is None and student_t(nu=5).reparam is not None


def test_mvn_builds_quickly_at_d8_and_its_flow_is_plain() -> None:
    # Not a timing test: the flow for L_88 must be S_8 exactly as the density states it
    # (no simplify rewrote it), which is what keeps large d cheap.
    p = mvn(8, "full")
    assert len(p.params) == 8 + 36
    u = sf.flows.reparam(p)
    assert u[p.params[-1]][7] == p.standardize[7]


@pytest.mark.parametrize(
    "make",
    [
        lambda: normal(x="x"),
        lambda: normal(mu=3),
        lambda: student_t(nu=-1),
        lambda: student_t(nu="5"),
        lambda: mvn(0),
        lambda: mvn(2.5),
        lambda: mvn(True),
        lambda: mvn(2, "dense"),
        lambda: mvn(2, x=sp.symbols("u", real=True)),
        lambda: mvn(2, "diag", scale=["s1", "s2"]),
    ],
    ids=[
        "string-x",
        "number-mu",
        "negative-nu",
        "string-nu",
        "d0",
        "fractional-d",
        "bool-d",
        "unknown-covariance",
        "short-x",
        "string-scale",
    ],
)
def test_bad_input_is_refused(make) -> None:
    with pytest.raises(DensityError):
        make()
