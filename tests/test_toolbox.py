"""toolbox: baselines (Eq. 22), the optimal baseline (Eq. 24), antithetic pairs vs finite differences (Eq. 25-27)."""

from __future__ import annotations

import pytest
import sympy as sp

import symflow as sf
from symflow import toolbox
from symflow.errors import EstimatorError
from symflow.families import normal

P = normal()
X = P.x[0]
MU, SIGMA = P.params
EPS = P.reparam.eps[0]
A, C = sp.symbols("a c", real=True)


def lr(wrt=MU):
    return sf.derive(P, sf.flows.zero(P), wrt=wrt)


@pytest.mark.parametrize("wrt", [MU, SIGMA])
def test_score_mean_zero_proves_baseline_unbiased(wrt):
    assert toolbox.check_baseline_unbiased(lr(wrt)).status == "proved"


def test_baseline_with_nonzero_mean_psi_is_caught():
    wrong = sf.Estimator(P, MU, (0,), (X - MU) ** 2 / SIGMA**2)
    v = toolbox.check_baseline_unbiased(wrong)
    assert v.status == "refuted" and v.witness is not None


def test_with_baseline_single_sample():
    est = toolbox.with_baseline(lr(), C)
    assert sp.simplify(est.single_sample(X**2) - (X - MU) / SIGMA**2 * (X**2 - C)) == 0
    with pytest.raises(EstimatorError, match="constant in x"):
        toolbox.with_baseline(lr(), X)


def test_optimal_baseline_planted():
    # E[s^2 x^2]/E[s^2] with s = eps/sigma: E[eps^2 (mu + sigma eps)^2] = mu^2 + 3 sigma^2
    b = toolbox.optimal_baseline(P, X**2, MU)
    assert sp.simplify(b.value - (MU**2 + 3 * SIGMA**2)) == 0
    assert len(b.steps) == 4


@pytest.mark.parametrize("wrt", [MU, SIGMA])
def test_optimal_baseline_is_mean_for_linear_phi(wrt):
    assert toolbox.baseline_equals_mean(P, A * X + C, wrt).status == "proved"


def test_optimal_baseline_is_not_mean_for_quadratic_phi():
    assert toolbox.baseline_equals_mean(P, X**2, MU).status == "refuted"


def test_antithetic_pair_planted():
    assert sp.simplify(toolbox.antithetic_average(lr(), X) - EPS**2) == 0
    assert sp.simplify(toolbox.finite_difference(P, X) - 1) == 0


def test_antithetic_baseline_cancels_for_mu_not_sigma():
    assert toolbox.check_antithetic_baseline_cancels(lr(MU)).status == "proved"
    v = toolbox.check_antithetic_baseline_cancels(lr(SIGMA))
    assert v.status == "refuted" and v.witness is not None


@pytest.mark.slow
def test_antithetic_differs_from_finite_difference():
    v = toolbox.antithetic_vs_finite_difference(lr(), X**3)
    assert v.status == "refuted"
    assert sp.simplify(v.detail("E[antithetic]") - (3 * MU**2 + 3 * SIGMA**2)) == 0  # unbiased
    assert sp.simplify(v.detail("E[finite difference]") - (3 * MU**2 + SIGMA**2)) == 0  # biased


def test_antithetic_needs_a_reparameterization():
    bare = sf.Density(P.expr, P.x, P.params)
    with pytest.raises(EstimatorError, match="reparameterization"):
        toolbox.antithetic_average(sf.derive(bare, sf.flows.zero(bare), wrt=MU), X)
