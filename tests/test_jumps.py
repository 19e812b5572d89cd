"""Jumps of phi: detection, the jump across a surface, and the surface term of Eq. (66)."""

import dataclasses

import mpmath
import numpy as np
import pytest
import sympy as sp

import symflow as sf
from symflow.calculus.heaviside import heaviside_form, jump_across, jump_set
from symflow.errors import EstimatorError, FlowError

x, y = sp.symbols("x y", real=True)


def test_equivalent_conditions_give_one_surface():
    phi = sp.Heaviside(2 * x - 2) + 3 * sp.Heaviside(1 - x) + sp.Piecewise((x, x > 1), (0, True))
    assert jump_set(phi, (x,)) == (x - 1,)
    # H(2x - 2) + 3 H(1 - x) + x H(x - 1): jump 1 - 3 + 1 at x = 1
    assert sp.simplify(jump_across(phi, x - 1, (x,)).subs(x, 1) - (-1)) == 0


def test_sign_and_piecewise_jumps_planted():
    assert sp.simplify(jump_across(sp.sign(x - 2) * x**2, x - 2, (x,)).subs(x, 2) - 8) == 0
    pw = sp.Piecewise((x**2, x > 1), (5, x > -1), (0, True))
    assert set(jump_set(pw, (x,))) == {x - 1, x + 1}
    assert sp.simplify(jump_across(pw, x - 1, (x,)).subs(x, 1) - (1 - 5)) == 0
    assert sp.simplify(jump_across(pw, x + 1, (x,)).subs(x, -1) - 5) == 0
    # the jump taken toward the other side flips sign
    assert sp.simplify(jump_across(pw, 1 - x, (x,)).subs(x, 1) - 4) == 0


def test_continuous_piecewise_has_zero_jump_on_the_surface():
    kink = sp.Piecewise((x, x < 0), (-x, True))  # continuous at 0
    assert jump_across(kink, x, (x,)).subs(x, 0) == 0


def test_two_dimensional_conditions():
    phi = sp.Piecewise((1, sp.And(x + y > 1, x < 2)), (0, True))
    assert set(jump_set(phi, (x, y))) == {x + y - 1, x - 2}
    assert heaviside_form(phi, (x, y)).has(sp.Heaviside)


def test_bad_phi_is_refused():
    with pytest.raises(EstimatorError, match="floor"):
        jump_set(sp.floor(x), (x,))
    with pytest.raises(EstimatorError, match="DiracDelta"):
        jump_set(sp.DiracDelta(x), (x,))


def _normal():
    p = sf.families.normal()
    return p, p.x[0], *p.params


def test_heaviside_surface_term_is_density_at_c():
    p, X, mu, sigma = _normal()
    c = sp.Rational(1, 3)
    phi = sp.Heaviside(X - c)
    est = sf.derive(p, sf.flows.reparam(p), mu, phi=phi)
    (term,) = est.extra_terms
    assert sp.simplify(term.symbolic_expectation(phi) - p.expr.subs(X, c)) == 0
    assert "jump term" in str(term) and any(s.equation == "66" for s in est.steps)
    # explicit jump set gives the same term
    (same,) = sf.derive(p, sf.flows.reparam(p), mu, jumps=[X - c]).extra_terms
    assert sp.simplify(same.symbolic_expectation(phi) - term.symbolic_expectation(phi)) == 0
    vals = {mu: 0.3, sigma: 1.2}
    draws = term.mc_samples(phi, vals, 50, np.random.default_rng(0))
    want = float(p.expr.subs({X: c, mu: sp.Rational(3, 10), sigma: sp.Rational(6, 5)}))
    assert np.allclose(draws, want)


@pytest.mark.slow
def test_sigma_jump_term_unbiased_numerically_and_naive_refuted():
    p, X, mu, sigma = _normal()
    phi = sp.Piecewise((3, X > 1), (0, True))
    est = sf.derive(p, sf.flows.reparam(p), sigma, phi=phi)
    params = {mu: sp.Rational(3, 10), sigma: sp.Rational(6, 5)}
    # the reference is d/dsigma of the quadrature of p phi; the estimator is 3 p(1) u(1) from the jump term
    assert sf.check_unbiased(est, phi, params, timeout=30).status is sf.Status.CONSISTENT
    naive = dataclasses.replace(est, extra_terms=())
    assert sf.check_unbiased(naive, phi, params, timeout=30).status is sf.Status.REFUTED


def test_mc_check_catches_missing_surface_term():
    p, X, mu, sigma = _normal()
    phi = sp.Heaviside(X) + X**2 / 4
    est = sf.derive(p, sf.flows.reparam(p), mu, phi=phi)
    exact = float(p.expr.subs({X: 0, mu: sp.Rational(1, 5), sigma: 1})) + 0.1  # p(0) + mu/2
    # alpha = 1e-6 per call: false-alarm rate of the first assertion is 1e-6
    assert sf.mc_check(est, phi, {mu: 0.2, sigma: 1.0}, 4000, seed=2, exact=exact).status is sf.Status.CONSISTENT
    naive = dataclasses.replace(est, extra_terms=())
    assert sf.mc_check(naive, phi, {mu: 0.2, sigma: 1.0}, 4000, seed=2, exact=exact).status is sf.Status.REFUTED


@pytest.mark.slow
def test_hyperplane_jump_in_two_dimensions():
    mu1, mu2 = sp.symbols("mu1 mu2", real=True)
    gauss = sp.exp(-((x - mu1) ** 2 + (y - mu2) ** 2) / 2) / (2 * sp.pi)

    def sample(n, prm, rng):
        return rng.standard_normal((n, 2)) + np.array([prm[mu1], prm[mu2]])

    p = sf.Density(gauss, (x, y), (mu1, mu2), sampler=sample, name="n2")
    flow = sf.Flow(p, {mu1: [1, 0], mu2: [0, 1]}, kind="reparam")
    phi = sp.Heaviside(x + y - 1)
    est = sf.derive(p, flow, mu1, phi=phi)
    (term,) = est.extra_terms
    # planted: P(x + y > 1) = 1 - Phi((1 - mu1 - mu2)/sqrt 2); d/dmu1 = N(1 - mu1 - mu2; 0, 2)
    s = 1 - mu1 - mu2
    planted = sp.exp(-(s**2) / 4) / sp.sqrt(4 * sp.pi)
    at = {mu1: sp.Rational(1, 5), mu2: sp.Rational(-1, 10)}
    with mpmath.workdps(30):
        got = term.numeric_expectation(phi, at, 30)  # quadrature over the line x + y = 1, sampled by x
        assert abs(got - mpmath.mpf(sp.N(planted.subs(at), 30))) < mpmath.mpf(10) ** -20
    draws = term.mc_samples(phi, {mu1: 0.2, mu2: -0.1}, 20000, np.random.default_rng(4))
    want = float(planted.subs({mu1: sp.Rational(1, 5), mu2: sp.Rational(-1, 10)}))
    # 6 standard errors: false-alarm rate about 2e-9
    assert abs(draws.mean() - want) < 6 * draws.std() / np.sqrt(draws.size)


def test_flow_with_a_jump_is_refused():
    p, X, mu, sigma = _normal()
    flow = sf.Flow(p, {mu: [sp.Heaviside(X)]})
    with pytest.raises(FlowError, match="jumps"):
        sf.derive(p, flow, mu, phi=sp.Heaviside(X - 1))


def _jump_total(p, X, mu, phi, at):
    est = sf.derive(p, sf.flows.reparam(p), mu, phi=phi)
    return sum((t.symbolic_expectation(phi) for t in est.extra_terms), sp.S.Zero).xreplace(at)


@pytest.mark.parametrize(
    "label",
    ["odd root of order 3", "three levels through one point", "Piecewise with And of three levels"],
)
def test_one_jump_of_phi_counts_once_whatever_its_level_functions(label):
    p, X, mu, sigma = _normal()
    c = sp.Rational(1, 2)
    phi = {
        # H((x - c)^3) = H(x - c): the level touches 0 with f' = 0, but phi jumps by 1
        "odd root of order 3": sp.Heaviside((X - c) ** 3),
        # three distinct level functions vanish at x = 1; phi jumps from 0 to 1 there, once
        "three levels through one point": sp.Heaviside(X - 1) * sp.Heaviside(X**2 - 1) * sp.Heaviside(X**3 - 1),
        "Piecewise with And of three levels": sp.Piecewise((1, sp.And(X > 1, X**2 > 1, X**3 > 1)), (0, True)),
    }[label]
    point = c if label == "odd root of order 3" else sp.S.One
    at = {mu: sp.Rational(1, 5), sigma: sp.Rational(3, 2)}
    # planted: d/dmu E[H(x - r)] = p(r) for the normal under the reparameterization flow
    assert sp.simplify(_jump_total(p, X, mu, phi, at) - p.expr.subs(X, point).xreplace(at)) == 0


def test_even_root_is_no_jump():
    p, X, mu, sigma = _normal()
    at = {mu: sp.Rational(1, 5), sigma: sp.Rational(3, 2)}
    assert _jump_total(p, X, mu, sp.Heaviside((X - 1) ** 2) + X, at) == 0


def test_jump_on_a_fixed_support_edge_is_not_counted_twice():
    # p = 1/b on [0, b] with the flow u = x/b + 1/2: it solves transport, and leaks the flux p u = 1/(2b) through
    # the fixed edge x = 0, which the boundary term of Eq. (77) takes back out with phi's value from inside.
    X = sp.Symbol("x", real=True)
    b = sp.Symbol("b", positive=True)
    p = sf.Density(1 / b, (X,), (b,), support=sp.Interval(0, b), name="u0b")
    flow = sf.Flow(p, {b: [X / b + sp.S.Half]})
    phi = sp.Heaviside(X) * (X + 1)  # = x + 1 on the support: planted d/db E[phi] = 1/2
    est = sf.derive(p, flow, b, phi=phi)
    assert est.psi == 0
    core = sp.integrate((est.v[0] * sp.diff(X + 1, X) + est.psi * (X + 1)) / b, (X, 0, b))
    extra = sum((t.symbolic_expectation(phi) for t in est.extra_terms), sp.S.Zero)
    assert sp.simplify(core + extra - sp.S.Half) == 0


# -- issue 12, class 7: every branch of a jump set gets its term, or derive refuses ----------------------


def _diag_normal_2d():
    p = sf.families.mvn(2, "diag")
    return p, p.x, p.params


@pytest.mark.slow
def test_a_product_condition_splits_into_its_factors_surfaces():
    # H((x - 1) y): derive kept only y = 0 (solved for y, dividing by x - 1) and dropped x = 1
    p, (x1, x2), (mu1, mu2, s1, s2) = _diag_normal_2d()
    phi = sp.Heaviside((x1 - 1) * x2)
    assert set(jump_set(phi, (x1, x2))) == {x1 - 1, x2}
    flow = sf.Flow(p, {mu1: [1, 1]})  # crosses both surfaces
    est = sf.derive(p, flow, mu1, phi=phi)
    assert {t.level for t in est.extra_terms} == {x1 - 1, x2}
    assert {t.level for t in sf.derive(p, flow, mu1, jumps=[(x1 - 1) * x2]).extra_terms} == {x1 - 1, x2}
    # planted: E[phi] = P(x1 > 1) P(x2 > 0) + P(x1 < 1) P(x2 < 0), so
    # d/dmu1 E[phi] = N(1; mu1, s1) (P(x2 > 0) - P(x2 < 0))
    vals = {mu1: sp.Rational(3, 10), mu2: sp.Rational(-1, 5), s1: sp.Rational(11, 10), s2: sp.Rational(4, 5)}
    z = (1 - vals[mu1]) / vals[s1]
    p_pos = (1 + sp.erf(vals[mu2] / (vals[s2] * sp.sqrt(2)))) / 2
    exact = float(sp.exp(-(z**2) / 2) / (sp.sqrt(2 * sp.pi) * vals[s1]) * (2 * p_pos - 1))
    r = sf.mc_check(est, phi, vals, n=200_000, seed=3, exact=exact)  # false-alarm rate 1e-6
    assert r.status == "consistent", str(r)


@pytest.mark.parametrize(
    "phi, jumps_at, jump",
    [
        (sp.Abs(x - 1) / (x - 1), [1], 2),  # sign written through Abs
        (sp.Max(sp.sign(x - 1), 0), [1], 1),
        (sp.Piecewise((1, sp.Abs(x) < 1), (0, True)), [-1, 1], None),  # a condition through Abs
        (sp.Heaviside(1 - sp.Abs(x)), [-1, 1], None),
        (sp.Min(sp.Heaviside(x - 2) * 3, 1 + 0 * x), [2], 1),
    ],
)
def test_jumps_written_through_abs_max_min_piecewise_are_found(phi, jumps_at, jump):
    p = sf.families.normal(x)
    mu, _ = p.params
    est = sf.derive(p, sf.flows.reparam(p), mu, phi=phi)
    points = sorted(float(r) for t in est.extra_terms for r in t.branches)
    assert points == sorted(jumps_at)
    if jump is not None:
        (term,) = est.extra_terms
        expected = p.expr.xreplace({x: jumps_at[0]}) * jump
        assert sp.simplify(term.symbolic_expectation(phi) - expected) == 0


def test_kinks_are_not_jumps():
    p = sf.families.normal(x)
    for phi in (sp.Abs(x - 1), sp.Max(x, 1), sp.Min(x**2, 4)):
        assert sf.derive(p, sf.flows.reparam(p), p.params[0], phi=phi).extra_terms == ()


@pytest.mark.parametrize(
    "phi, match",
    [
        (sp.atan(1 / x), "pole"),
        (sp.Mod(x, 1), "Mod"),
        (sp.exp(1 / (x - 2)), "pole"),
        (sp.arg(x), "arg"),
    ],
)
def test_jumps_that_have_no_heaviside_form_are_refused(phi, match):
    p = sf.families.normal(x)
    with pytest.raises(EstimatorError, match=match):
        sf.derive(p, sf.flows.reparam(p), p.params[0], phi=phi)


def test_a_level_not_linear_in_any_coordinate_is_refused_with_the_fix():
    p, (x1, x2), (mu1, *_) = _diag_normal_2d()
    with pytest.raises(EstimatorError, match="not linear in any coordinate"):
        sf.derive(p, sf.Flow(p, {mu1: [1, 1]}), mu1, phi=sp.Heaviside(x1**2 + x2**2 - 1))
