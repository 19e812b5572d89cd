"""derive (Eq. 19/50): planted psi for LR, RP, weighted and user flows, q != p, steps, errors."""

import pytest
import sympy as sp

import symflow as sf
from tests._cases import exponential, mu, normal, sigma, x


def test_lr_estimator_psi_is_the_score_eq21():
    p = normal()
    lr = sf.derive(p, sf.flows.zero(p), wrt=sigma)
    assert lr.v == (0,)
    assert sp.simplify(lr.psi - ((x - mu) ** 2 / sigma**3 - 1 / sigma)) == 0
    assert sp.simplify(sf.derive(p, sf.flows.zero(p), mu).psi - (x - mu) / sigma**2) == 0


def test_rp_estimator_has_no_phi_term():
    p = normal()
    est = sf.derive(p, sf.flows.reparam(p), wrt=sigma)
    assert est.psi == 0
    assert sp.simplify(est.v[0] - (x - mu) / sigma) == 0
    assert any("transport" in s.rule for s in est.steps)


@pytest.mark.parametrize("k", [sp.Rational(1, 4), sp.Rational(1, 2), sp.Rational(3, 4)])
def test_weighted_flow_psi_is_one_minus_k_times_score_eq51(k):
    p = normal()
    est = sf.derive(p, sf.flows.weighted(sf.flows.reparam(p), k), wrt=sigma)
    assert sp.simplify(est.psi - (1 - k) * p.score(sigma)) == 0


def test_user_flow_half_reparam():
    p = normal()
    est = sf.derive(p, sf.Flow(p, {sigma: [(x - mu) / (2 * sigma)]}), wrt=sigma)
    assert sp.simplify(est.psi - p.score(sigma) / 2) == 0


def test_importance_sampling_weights_v_and_psi_by_p_over_q():
    p = normal()
    wide = p.with_(expr=p.expr.subs(sigma, 2 * sigma), name="wide normal")
    est = sf.derive(p, sf.flows.zero(p), mu, q=wide)
    ratio = p.expr / wide.expr
    assert sp.simplify(est.psi - ratio * (x - mu) / sigma**2) == 0
    assert est.q is wide and est.sampling is wide


def test_steps_chain_from_eq19_to_simplified_psi():
    p = normal()
    est = sf.derive(p, sf.flows.zero(p), sigma)
    psi_steps = [s for s in est.steps if s.lhs == sp.Symbol("psi")]
    assert [s.equation for s in psi_steps][:2] == ["19", "50"]
    first = psi_steps[0].rhs.doit()
    for s in psi_steps[1:]:
        assert sp.simplify(first - s.rhs) == 0


def test_estimator_typed_in_by_hand_is_validated():
    p = normal()
    est = sf.Estimator(p, mu, [(x - mu) * 0 + 1], 0)
    assert est.v == (1,) and est.psi == 0
    with pytest.raises(sf.EstimatorError, match="component"):
        sf.Estimator(p, mu, [1, 2], 0)
    with pytest.raises(sf.EstimatorError, match="not variables or"):
        sf.Estimator(p, mu, [1], sp.Symbol("c"))
    with pytest.raises(sf.SymflowError, match="never parses strings"):
        sf.Estimator(p, mu, [1], "x")


def test_derive_errors():
    p = normal()
    y = sp.Symbol("y", real=True)
    other = sf.Density(sp.exp(-(y**2) / 2) / sp.sqrt(2 * sp.pi), [y], [])
    with pytest.raises(sf.ParameterError, match="not a parameter"):
        sf.derive(p, sf.flows.zero(p), x)
    with pytest.raises(sf.EstimatorError, match="same variable"):
        sf.derive(p, sf.flows.zero(p), mu, q=other)
    with pytest.raises(sf.FlowError, match="not over"):
        sf.derive(p, sf.flows.zero(exponential()), mu)
    with pytest.raises(sf.FlowError, match="must be a Flow"):
        sf.derive(p, {mu: [1]}, mu)


@pytest.mark.slow
def test_density_written_with_heaviside_gives_symflow_errors_or_verdicts_not_name_errors():
    # issue 12, class 9: check_unbiased / mc_check raised NameError: DiracDelta (psi had DiracDelta(x) in it)
    t = sp.Symbol("t", positive=True)
    p = sf.Density(
        sp.Heaviside(x) * t * sp.exp(-t * x), [x], [t], sampler=lambda n, pr, rng: rng.exponential(1 / pr[t], (n, 1))
    )
    with pytest.raises(sf.EstimatorError, match="DiracDelta"):
        sf.derive(p, sf.Flow(p, {t: [-x / t]}), t)  # the flow crosses the jump at 0: a surface term, refused
    lr = sf.derive(p, sf.flows.zero(p), t)  # no flux through the jump: fine
    assert sf.check_unbiased(lr, x, {t: 1.0}).status in ("consistent", "proved")
    assert sf.mc_check(lr, x, {t: 1.0}, n=20_000, seed=1).status == "consistent"


def test_psi_is_zero_when_the_transport_residual_is_proved_zero():
    # Beta's implicit flow: the quick test leaves a residual that is 0 on (0, 1) but not
    # literally 0; decide_zero proves it (cancel(together(.))), so derive writes psi = 0
    p = sf.families.beta()
    a = p.params[0]
    est = sf.derive(p, sf.flows.implicit(p), a)
    assert est.psi == 0
    assert "proved" in est.steps[-2].rule  # the step before v = (p/q) u records how
    # a flow that is not built to solve transport (u = 0) keeps its psi: the score
    lr = sf.derive(p, sf.flows.zero(p), a)
    assert lr.psi != 0


def test_the_lr_estimator_is_named_as_users_know_it():
    p = sf.families.normal()
    est = sf.derive(p, sf.flows.zero(p), p.params[1])
    assert est.name == "likelihood-ratio (score function) estimator"
    assert str(est).startswith("likelihood-ratio (score function) estimator of d/dsigma")
