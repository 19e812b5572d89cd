"""variance: exact Gaussian closed forms, SymPy fallback, Monte Carlo with standard errors."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp

import symflow as sf
from symflow.calculus.integrals import numeric_integral
from symflow.errors import EstimatorError, SymflowError
from symflow.families import normal
from symflow.theory.toolbox import with_baseline
from symflow.theory.variances import VarianceResult, gaussian_integral, variance

P = normal()
X = P.x[0]
MU, SIGMA = P.params
A, C = sp.symbols("a c", real=True)
VALUES = {MU: sp.Rational(1, 2), SIGMA: sp.Rational(13, 10)}
Z_MAX = 4.0  # |z| > 4 flags a Monte Carlo mismatch: false-alarm rate 6.3e-5 per comparison


def lr(wrt=MU):
    return sf.derive(P, sf.flows.zero(P), wrt=wrt)


def rp(wrt=MU):
    return sf.derive(P, sf.flows.reparam(P), wrt=wrt)


def test_gaussian_integral_planted_values():
    x = sp.Symbol("x", real=True)
    m = sp.Symbol("m", real=True)
    s = sp.Symbol("s", positive=True)
    assert sp.simplify(gaussian_integral(x**2 * sp.exp(-(x**2) / 2), x) - sp.sqrt(2 * sp.pi)) == 0
    got = gaussian_integral(x * sp.exp(-((x - m) ** 2) / (2 * s**2)), x)
    assert sp.simplify(got - m * sp.sqrt(2 * sp.pi) * s) == 0


def test_gaussian_integral_declines_what_it_cannot_do():
    x = sp.Symbol("x", real=True)
    assert gaussian_integral(sp.exp(-(x**2)) / (1 + x**2), x) is None  # not polynomial x Gaussian
    assert gaussian_integral(sp.exp(x**2), x) is None  # grows: diverges
    assert gaussian_integral(x + 1, x) is None  # no Gaussian factor: diverges


def test_exact_lr_variance_for_x_squared():
    # x = mu + sigma eps: E = eps (mu + sigma eps)^2 / sigma;
    # by hand Var = (mu^4 + 14 mu^2 sigma^2 + 15 sigma^4)/sigma^2
    res = variance(lr(), X**2)
    assert res.exact and res.stderr is None
    assert sp.simplify(res.value - (MU**4 + 14 * MU**2 * SIGMA**2 + 15 * SIGMA**4) / SIGMA**2) == 0
    assert sp.simplify(res.mean - 2 * MU) == 0


def test_exact_rp_variance_for_x_squared():
    res = variance(rp(), X**2)
    assert sp.simplify(res.value - 4 * SIGMA**2) == 0


def test_exact_variance_at_values_is_a_number():
    res = variance(rp(), X**2, VALUES)
    assert res.exact and res.value == sp.Rational(169, 25)


def test_lr_linear_phi_variance_depends_on_offset():
    # phi = a (x - c): Var = a^2 (2 + (mu - c)^2 / sigma^2); 2 a^2 exactly when c = mu
    res = variance(lr(), A * (X - C))
    assert sp.simplify(res.value - A**2 * (2 + (MU - C) ** 2 / SIGMA**2)) == 0


@pytest.mark.slow
def test_baseline_equal_to_mean_removes_the_offset_term():
    res = variance(with_baseline(lr(), A * MU + C), A * X + C)
    assert sp.simplify(res.value - 2 * A**2) == 0


def test_monte_carlo_agrees_with_exact_variance():
    exact = variance(lr(), X**2, VALUES)
    mc = variance(lr(), X**2, VALUES, exact=False, n=200_000, seed=3)
    assert not mc.exact and mc.stderr > 0 and mc.n == 200_000
    assert abs(mc.value - float(exact.value)) < Z_MAX * mc.stderr
    assert abs(mc.mean - float(exact.mean)) < Z_MAX * mc.mean_stderr


@pytest.mark.slow
def test_quadrature_when_sympy_cannot_integrate():
    # 1/(1 + x^2) has no closed-form Gaussian moments: with parameter values the route is quadrature
    phi = 1 / (1 + X**2)
    res = variance(lr(), phi, VALUES, timeout=3)  # bounds the whole call: SymPy's look and the quadrature
    assert isinstance(res, VarianceResult) and res.route == "quadrature" and not res.exact
    assert res.stderr is None and res.n is None and "quadrature" in res.method
    est = lr().single_sample(phi)
    m1 = numeric_integral(P, P.expr * est, VALUES, dps=30)
    m2 = numeric_integral(P, P.expr * est**2, VALUES, dps=30)
    assert abs(res.value - float(m2 - m1**2)) < 1e-12 * float(m2)
    assert abs(res.mean - float(m1)) < 1e-12


def test_monte_carlo_agrees_with_quadrature():
    phi = 1 / (1 + X**2)
    quad = variance(lr(), phi, VALUES, timeout=0.5)
    mc = variance(lr(), phi, VALUES, n=100_000, seed=5, exact=False)
    assert mc.route == "Monte Carlo" and mc.reason
    assert abs(mc.value - quad.value) < Z_MAX * mc.stderr
    assert abs(mc.mean - quad.mean) < Z_MAX * mc.mean_stderr
    assert mpmath.mpf(quad.value) > 0


@pytest.mark.slow
def test_wrong_monte_carlo_reference_is_caught():
    # the same test must reject a wrong reference (the exact LR variance 10 % off)
    exact = float(variance(lr(), X**2, VALUES).value)
    mc = variance(lr(), X**2, VALUES, exact=False, n=200_000, seed=3)
    assert abs(mc.value - 1.1 * exact) > Z_MAX * mc.stderr


@pytest.mark.slow
def test_bad_inputs_are_refused():
    with pytest.raises(SymflowError):
        variance(lr(), "x**2")
    with pytest.raises(SymflowError):
        variance(lr(), X**2, VALUES, n=1)
    with pytest.raises(EstimatorError):
        variance(P, X**2)
    with pytest.raises(SymflowError, match="params"):
        variance(lr(), 1 / (1 + X**2), timeout=0.5)  # not integrable, and no values for Monte Carlo
    with pytest.raises(SymflowError, match="a"):
        variance(lr(), A / (1 + X**2), VALUES, timeout=0.5)  # Monte Carlo needs a value for a


# -- every kind of estimator: q != p, surface terms, measure-valued ------------------------------


@pytest.mark.slow
def test_lr_under_the_l_distribution_is_exact():
    # under q_L the LR estimator for mu is phi/(x - mu) (Eq. 80): E_q[x^4/(x - mu)^2] = E_p[x^4]/sigma^2
    # = (mu^4 + 6 mu^2 s^2 + 3 s^4)/s^2, minus (2 mu)^2
    est = sf.derive(P, sf.flows.zero(P), wrt=MU, q=sf.families.l_distribution())
    res = variance(est, X**2)
    assert res.exact and sp.simplify(res.value - (MU**4 + 2 * MU**2 * SIGMA**2 + 3 * SIGMA**4) / SIGMA**2) == 0


@pytest.mark.slow
def test_one_dimensional_jump_term_is_deterministic():
    # phi = H(x - 1) + x^2, RP for mu: the jump term p(1) is the same at every draw, so Var = Var[2x] = 4 s^2
    phi = sp.Heaviside(X - 1) + X**2
    est = sf.derive(P, sf.flows.reparam(P), wrt=MU, phi=phi)
    assert est.extra_terms
    res = variance(est, phi)
    assert res.exact and sp.simplify(res.value - 4 * SIGMA**2) == 0
    assert sp.simplify(res.mean - (2 * MU + P.expr.xreplace({X: 1}))) == 0


@pytest.mark.slow
def test_two_dimensional_jump_term_matches_its_sample_variance():
    q = sf.families.mvn(2, "diag")
    m1, m2, s1, s2 = q.params
    x1, x2 = q.x
    phi = sp.Heaviside(x1 + x2)
    est = sf.derive(q, sf.flows.reparam(q), wrt=m1, phi=phi)
    values = {m1: sp.Rational(1, 5), m2: sp.Rational(-1, 10), s1: 1, s2: sp.Rational(3, 2)}
    exact = variance(est, phi, values, timeout=30)
    assert exact.exact
    mc = variance(est, phi, values, exact=False, n=200_000, seed=2)
    assert abs(mc.value - float(exact)) < Z_MAX * mc.stderr


@pytest.mark.slow
def test_compare_takes_measure_valued_estimators():
    ests = {"LR": lr(), "RP": rp(), "MVD": sf.mvd(P, MU, method="known")}
    table = sf.compare(ests, sp.cos(X), VALUES, timeout=30)
    assert all(row.exact for row in table.rows)
    target = float(sp.N(table.target))
    assert all(abs(float(sp.N(row.mean)) - target) < 1e-12 for row in table.rows)
    # the mirrored Rayleigh pair: c (cos(mu + s r) - cos(mu - s r)) = -2 c sin(mu) sin(s r)
    assert float(sp.N(table.row("MVD").variance)) < float(sp.N(table.row("RP").variance))
