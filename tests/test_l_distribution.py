"""The L-distribution (App. F): normalization, the Eq. 79 sampler, the Eq. 80 estimator and its variance."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from scipy import stats

import symflow as sf
from symflow.families import l_distribution, normal
from symflow.theory.variances import variance
from symflow.zero import decide_zero

P = normal()
Q_L = l_distribution()
X = P.x[0]
MU, SIGMA = P.params
A = sp.Symbol("a", real=True)
VALUES = {MU: 0.3, SIGMA: 1.7}
KS_N = 100_000
ALPHA = 1e-3  # KS rejection level = false-alarm rate for a correct sampler


def closed_form_cdf(x: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    """Phi(z) - z phi(z), z = (x - mu)/sigma: the CDF of Eq. 78, derived by hand (d/dz gives z^2 phi(z))."""
    z = (x - mu) / sigma
    return stats.norm.cdf(z) - z * stats.norm.pdf(z)


@pytest.mark.slow
def test_normalized_is_proved():
    assert sf.check_normalized(Q_L).status == "proved"


def test_family_cdf_matches_hand_derived_cdf():
    z = (X - MU) / SIGMA
    hand = (1 + sp.erf(z / sp.sqrt(2))) / 2 - z * sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi)
    assert decide_zero(Q_L.cdf - hand, Q_L.domain()).status == "proved"
    assert decide_zero(sp.diff(hand, X) - Q_L.expr, Q_L.domain()).status == "proved"


def test_eq79_sampler_passes_ks():
    xs = Q_L.sample(KS_N, VALUES, np.random.default_rng(11))[:, 0]
    res = stats.kstest(xs, lambda t: closed_form_cdf(t, 0.3, 1.7))
    assert res.pvalue >= ALPHA, res


def test_wrong_sampler_fails_ks():
    # Eq. 79 without eps_x^2: slices of the wrong height (a Rayleigh), which the same test must reject
    rng = np.random.default_rng(11)
    sign = np.where(rng.random(KS_N) < 0.5, -1.0, 1.0)
    wrong = 0.3 + sign * 1.7 * np.sqrt(-2 * np.log(1 - rng.random(KS_N)))
    assert stats.kstest(wrong, lambda t: closed_form_cdf(t, 0.3, 1.7)).pvalue < ALPHA


@pytest.fixture(scope="module")
def slice_est():
    return sf.derive(P, sf.flows.zero(P), wrt=MU, q=Q_L)


def test_eq80_psi(slice_est):
    assert slice_est.v == (0,)
    assert sp.simplify(slice_est.psi - 1 / (X - MU)) == 0


def test_eq80_unbiased_by_quadrature(slice_est):
    assert sf.check_unbiased(slice_est, X**3, {MU: 0.3, SIGMA: 1.7}).status == "consistent"


@pytest.mark.parametrize("phi, grad", [(X, 1), (X**2, 2 * MU), (X**3, 3 * MU**2 + 3 * SIGMA**2)])
def test_eq80_exact_mean(slice_est, phi, grad):
    assert sp.simplify(variance(slice_est, phi).mean - grad) == 0


def test_wrong_psi_under_q_L_is_biased():
    # reusing the LR weight (x - mu)/sigma^2 while sampling from q_L is biased: the mean is not 2 mu
    wrong = sf.Estimator(P, MU, (0,), (X - MU) / SIGMA**2, q=Q_L)
    assert sp.simplify(variance(wrong, X**2).mean - 2 * MU) != 0


def test_linear_phi_variances(slice_est):
    lr = sf.derive(P, sf.flows.zero(P), wrt=MU)
    assert variance(slice_est, A * (X - MU)).value == 0
    assert sp.simplify(variance(lr, A * (X - MU)).value - 2 * A**2) == 0
