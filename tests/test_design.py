"""design: the minimum-variance affine combination, planted against hand-derived optima and a sampled check.

The sampled check flags |z| > 4 (false-alarm rate 6.3e-5), with a fixed seed.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symflow as sf
from symflow.errors import EstimatorError

P = sf.families.normal()
X = P.x[0]
MU, SIGMA = P.params
ONE = {MU: 1, SIGMA: 1}
Z_MAX = 4.0


def lr(wrt=MU):
    return sf.derive(P, sf.flows.zero(P), wrt=wrt)


def rp(wrt=MU):
    return sf.derive(P, sf.flows.reparam(P), wrt=wrt)


@pytest.mark.slow
def test_two_estimators_symbolic_optimum():
    # phi = x^2, d/dmu: a = Var LR = (mu^4 + 14 mu^2 s^2 + 15 s^4)/s^2, c = Var RP = 4 s^2 and, by Stein
    # (E[(x - mu) g] = s^2 E[g']), b = Cov = (2/s^2) E[(x - mu) x^3] - 4 mu^2 = 2 mu^2 + 6 s^2.
    # Minimum (ac - b^2)/(a + c - 2b) at w_LR = (c - b)/(a + c - 2b).
    a = (MU**4 + 14 * MU**2 * SIGMA**2 + 15 * SIGMA**4) / SIGMA**2
    c = 4 * SIGMA**2
    b = 2 * MU**2 + 6 * SIGMA**2
    d = sf.design({"LR": lr(), "RP": rp()}, X**2, timeout=60)
    assert d.exact and d.weights is not None
    assert sp.simplify(d.variance - (a * c - b**2) / (a + c - 2 * b)) == 0
    assert sp.simplify(d.weights[0] - (c - b) / (a + c - 2 * b)) == 0
    assert sp.simplify(d.covariance.matrix[0, 1] - b) == 0
    assert d.unbiased.status is sf.Status.PROVED
    assert d.cost == 1  # LR and RP share their draw


def test_numeric_optimum_is_exact_for_its_rational_weights():
    d = sf.design({"LR": lr(), "RP": rp()}, X**2, ONE)
    assert d.variance == sp.Rational(28, 9)  # (30 * 4 - 64) / (34 - 16)
    assert sum(d.weights) == 1 and all(isinstance(w, sp.Rational) for w in d.weights)


@pytest.mark.slow
def test_singular_covariance_from_a_weighted_estimator():
    # k RP + (1 - k) LR is in the span already: Σ is singular, the optimum is the same 28/9
    half = sf.derive(P, sf.flows.weighted(sf.flows.reparam(P), sp.Rational(1, 2)), wrt=MU)
    d = sf.design({"LR": lr(), "RP": rp(), "half": half}, X**2, ONE)
    assert abs(float(d.variance) - 28 / 9) < 1e-25
    assert sp.Add(*d.weights) == 1


def test_zero_variance_combination_is_found():
    # phi = x: RP is exactly 1 (variance 0), LR is not; the optimum puts all weight on RP
    d = sf.design({"LR": lr(), "RP": rp()}, X, ONE)
    assert d.variance == 0 and d.weights[1] == 1


@pytest.mark.slow
@pytest.mark.parametrize("wrt", [MU, SIGMA], ids=["mu", "sigma"])
def test_combination_with_mvd_is_never_above_the_best(wrt):
    ests = {"LR": lr(wrt), "RP": rp(wrt), "MVD": sf.mvd(P, wrt, method="known")}
    d = sf.design(ests, sp.cos(sp.Rational(3, 2) * X), ONE)
    best = min(float(sp.N(v)) for v in d.variances)
    assert float(sp.N(d.variance)) <= best
    assert d.covariance.matrix[0, 2] == 0 and d.covariance.matrix[1, 2] == 0  # the MVD pair is its own draw
    assert d.costs == (1, 1, 2) and d.cost == 3
    assert d.unbiased.status is sf.Status.PROVED


@pytest.mark.slow
def test_per_cost_drops_the_mvd_pair_when_it_does_not_pay():
    ests = {"LR": lr(), "RP": rp(), "MVD": sf.mvd(P, MU, method="known")}
    d = sf.design(ests, sp.cos(sp.Rational(3, 2) * X), ONE, per_cost=True)
    assert d.weights[2] == 0 and d.cost == 1


@pytest.mark.slow
def test_symbolic_constant_then_at():
    k = sp.Symbol("k", positive=True)
    d = sf.design({"LR": lr(), "RP": rp()}, sp.cos(k * X), ONE)
    assert d.weights is None and "at(" in d.reason
    at = d.at({k: sp.Rational(3, 2)})
    direct = sf.design({"LR": lr(), "RP": rp()}, sp.cos(sp.Rational(3, 2) * X), ONE)
    assert abs(float(sp.N(at.variance - direct.variance))) < 1e-25


def test_a_biased_member_is_caught():
    wrong = sf.Estimator(P, MU, (0,), (X - MU) ** 2 / SIGMA**2, name="not a score")
    d = sf.design({"RP": rp(), "wrong": wrong}, X**2, ONE)
    assert d.unbiased.status is sf.Status.REFUTED


def test_estimators_of_different_gradients_are_refused():
    with pytest.raises(EstimatorError, match="same gradient"):
        sf.design([lr(MU), lr(SIGMA)], X, ONE)


@pytest.mark.slow
def test_sampled_variance_of_the_combination_matches():
    # one draw: x ~ p shared by LR and RP, an independent mirrored Rayleigh pair for the MVD
    ests = {"LR": lr(), "RP": rp(), "MVD": sf.mvd(P, MU, method="known")}
    phi = sp.cos(sp.Rational(3, 2) * X)
    d = sf.design(ests, phi, ONE)
    w = [float(v) for v in d.weights]
    rng = np.random.default_rng(21)
    n = 200_000
    xs = rng.normal(1.0, 1.0, n)
    lr_vals = (xs - 1.0) * np.cos(1.5 * xs)
    rp_vals = -1.5 * np.sin(1.5 * xs)
    mvd_vals = ests["MVD"].compile().estimate(lambda t: np.cos(1.5 * t), n, {MU: 1.0, SIGMA: 1.0}, rng)
    combo = w[0] * lr_vals + w[1] * rp_vals + w[2] * mvd_vals
    var = combo.var(ddof=1)
    se = np.sqrt((np.mean((combo - combo.mean()) ** 4) - var**2) / n)
    assert abs(var - float(sp.N(d.variance))) < Z_MAX * se


# -- input handling -----------------------------------------------------------------------------


def test_params_are_validated_as_variance_does():
    lr, rp = sf.derive(P, sf.flows.zero(P), MU), sf.derive(P, sf.flows.reparam(P), MU)
    with pytest.raises(sf.ParameterError, match="positive"):
        sf.design({"LR": lr, "RP": rp}, X**2, {MU: 0.3, SIGMA: -1.2})  # was: negative variances, unbiased proved
    with pytest.raises(sf.ParameterError, match="string key"):
        sf.design({"LR": lr, "RP": rp}, X**2, {"mu": 1, "sigma": 1})  # was: silently symbolic
    with pytest.raises(sf.ParameterError, match="no value for sigma"):
        sf.design({"LR": lr, "RP": rp}, X**2, {MU: 1})
    with pytest.raises(sf.SymflowError, match="per_cost=True.*params="):
        sf.design({"LR": lr, "RP": rp}, X**2, per_cost=True)  # was: silently ignored


@pytest.mark.slow
def test_best_single_of_a_symbolic_design_names_the_fix():
    lr, rp = sf.derive(P, sf.flows.zero(P), MU), sf.derive(P, sf.flows.reparam(P), MU)
    d = sf.design({"LR": lr, "RP": rp}, X**2, timeout=30)
    with pytest.raises(sf.SymflowError, match=r"\.at\("):
        d.best_single  # noqa: B018 - the property raises
    # Var_RP[x^2] = 4 sigma^2 < Var_LR[x^2] at mu = 0.3, sigma = 1.2
    assert d.at({MU: 0.3, SIGMA: 1.2}).best_single[0] == "RP"


@pytest.mark.slow
def test_float_parameters_print_as_given():
    lr, rp = sf.derive(P, sf.flows.zero(P), MU), sf.derive(P, sf.flows.reparam(P), MU)
    head = str(sf.design({"LR": lr, "RP": rp}, X**2, {MU: 0.3, SIGMA: 1.2})).splitlines()[0]
    assert head.endswith("at mu = 0.3, sigma = 1.2"), head
    head = str(sf.design({"LR": lr, "RP": rp}, X**2, timeout=30).at({MU: 0.3, SIGMA: 1.2})).splitlines()[0]
    assert head.endswith("at mu = 0.3, sigma = 1.2"), head


def test_a_budget_that_runs_out_says_so():
    # with params given, "give params=" was the wrong advice: the budget ran out (3 s is not enough for this phi
    # even on a quiet machine, so 0.5 s certainly is not)
    lr_s, rp_s = sf.derive(P, sf.flows.zero(P), SIGMA), sf.derive(P, sf.flows.reparam(P), SIGMA)
    hard = sp.exp(sp.sin(X) ** 3) * sp.atan(X**3 + 1) / (1 + sp.cos(X) ** 2) + sp.besselj(1, X**2)
    with pytest.raises(sf.SymflowError, match="ran out.*raise timeout="):
        sf.design({"LR": lr_s, "RP": rp_s}, hard, {MU: 0.3, SIGMA: 1.2}, timeout=0.5)
