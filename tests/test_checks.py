"""check_transport, check_normalized, check_boundary, check_unbiased on planted cases."""

import pytest
import sympy as sp

import symflow as sf
from symflow.calculus.integrals import expectation_gradient, symbolic_integral
from tests._cases import exponential, mu, normal, sigma, x


def test_transport_proved_for_reparam_flow():
    p = normal()
    for t in p.params:
        assert sf.check_transport(p, sf.flows.reparam(p), t).status == "proved"


def test_transport_refuted_for_wrong_flow_with_witness():
    p = normal()
    v = sf.check_transport(p, sf.Flow(p, {sigma: [(x - mu) / sigma**2]}), sigma)
    assert v.status == "refuted"
    pt = v.witness.as_dict()
    value = v.residual.xreplace({k: sp.Float(val, 50) for k, val in pt.items()})
    assert abs(float(value) - float(v.witness.value)) <= 1e-9 * abs(float(v.witness.value))


@pytest.mark.slow
def test_normalized_proved_and_refuted():
    assert sf.check_normalized(normal()).status == "proved"
    assert sf.check_normalized(exponential()).status == "proved"
    bad = normal().with_(expr=2 * normal().expr)
    assert sf.check_normalized(bad).status == "refuted"


def test_boundary_condition_holds_for_gaussian_tails():
    p = normal()
    assert sf.check_boundary(p, sf.flows.reparam(p), sigma, x**3).status == "proved"


def test_boundary_condition_fails_for_a_flow_growing_too_fast():
    p = normal()
    u = sf.Flow(p, {mu: [sp.exp((x - mu) ** 2 / (2 * sigma**2))]})
    v = sf.check_boundary(p, u, mu, sp.S.One)
    assert v.status == "refuted"


@pytest.mark.slow
def test_unbiased_symbolic_and_numeric():
    p = normal()
    est = sf.derive(p, sf.Flow(p, {sigma: [(x - mu) / (2 * sigma)]}), sigma)
    assert sf.check_unbiased(est, x**2, timeout=60).status == "proved"
    v = sf.check_unbiased(est, x**2 + sp.sin(x), {mu: 0.3, sigma: 1.2})
    assert v.status == "consistent"


@pytest.mark.slow
def test_unbiased_refutes_estimator_missing_its_psi():
    p = normal()
    wrong = sf.Estimator(p, sigma, [(x - mu) / sigma**2], 0)
    assert sf.check_unbiased(wrong, x**2, timeout=60).status == "refuted"
    v = sf.check_unbiased(wrong, x**2, {mu: 0.3, sigma: 1.2})
    assert v.status == "refuted"
    # planted: E[(x-mu)/sigma^2 * 2x] = 2 at these values; exact gradient 2 sigma = 2.4
    assert abs(float(v.witness.value) - (2 - 2.4)) < 1e-12


def test_check_errors():
    p = normal()
    est = sf.derive(p, sf.flows.zero(p), mu)
    with pytest.raises(sf.EstimatorError, match="not variables"):
        sf.check_unbiased(est, x * sp.Symbol("c"))
    with pytest.raises(sf.ParameterError, match="no value for sigma"):
        sf.check_unbiased(est, x, {mu: 0.0})
    with pytest.raises(sf.SymflowError, match="never parses strings"):
        sf.check_unbiased(est, "x**2")
    with pytest.raises(sf.SymflowError, match="positive number"):
        sf.check_transport(p, sf.flows.zero(p), mu, timeout=-1)


def test_check_weights_against_closed_forms_eq21():
    p = normal()
    lr = sf.derive(p, sf.flows.zero(p), sigma)
    good = sf.check_weights(lr, psi=(x - mu) ** 2 / sigma**3 - 1 / sigma, v=[0], equation="21")
    assert good.status == "proved"
    proof = sf.proof_of(good)
    assert proof.status == "proved" and proof.steps[-1].equation == "21"
    assert sf.check_weights(lr, psi=(x - mu) ** 2 / sigma**3).status == "refuted"
    with pytest.raises(sf.EstimatorError, match="psi= and/or v="):
        sf.check_weights(lr)
    with pytest.raises(sf.EstimatorError, match="unknown to the estimator"):
        sf.check_weights(lr, psi=sp.Symbol("c"))


def _cauchy():
    return sf.Density(sigma / (sp.pi * ((x - mu) ** 2 + sigma**2)), x, (mu, sigma), name="cauchy")


@pytest.mark.slow
def test_divergent_expectations_are_not_called_unbiased():
    # E[x] and E[x**2] do not exist under a Cauchy density; quadrature returned a
    # principal value (mu) and 1e54, and both sides "agreed": consistent.
    p = _cauchy()
    lr = sf.derive(p, sf.flows.zero(p), sigma)
    for phi in (x, x**2):
        v = sf.check_unbiased(lr, phi, {mu: 0.3, sigma: 1.2}, timeout=1)
        assert v.status == "unknown", phi
    assert expectation_gradient(p, x**2, sigma, {mu: 0.3, sigma: 1.2}, timeout=1)[0] is None
    # symbolically E[x**2] = oo (whose "derivative" would be 0) is no integral
    standard = sf.Density(1 / (sp.pi * (x**2 + 1)), x, ())
    assert symbolic_integral(standard, standard.expr * x**2, timeout=5) is None
    # a bounded phi under the same heavy tail is still checked
    v = sf.check_unbiased(lr, sp.atan(x), {mu: 0.3, sigma: 1.2}, timeout=20)
    assert v.status == "consistent"


def test_boundary_terms_that_are_infinite_or_oscillate_refute():
    p = _cauchy()
    u = sf.Flow(p, {sigma: [(x - mu) / sigma], mu: [sp.S.One]})
    for phi in (x**2, x * sp.sin(x)):  # p u phi -> -oo; -> AccumBounds(-1, 1)/pi (used to raise TypeError)
        v = sf.check_boundary(p, u, sigma, phi, timeout=5)
        assert v.status == "refuted" and v.witness.as_dict()[x] in (-sp.oo, sp.oo)


@pytest.mark.slow
def test_boundary_limit_zero_only_numerically_is_not_refuted():
    # the limit at both edges is Heaviside(mu) + Heaviside(-mu) - 1 = 0: it was "refuted"
    a = sp.Symbol("a", real=True)
    p = sf.Density(sp.S.One, x, (a, mu), support=sp.Interval(0, 1))
    zero_in_disguise = sp.Heaviside(mu) + sp.Heaviside(-mu) - 1
    v = sf.check_boundary(p, sf.Flow(p, {a: [x * (1 - x) + zero_in_disguise]}), a, 1, timeout=5)
    assert v.status == "consistent"
    v = sf.check_boundary(p, sf.Flow(p, {a: [x * (1 - x) + zero_in_disguise + mu**2]}), a, 1, timeout=5)
    assert v.status == "refuted"


@pytest.mark.parametrize(
    ("normalized", "expected"),
    [("proved", "proved"), ("consistent", "consistent"), ("unknown", "unknown")],
)
def test_an_unbiased_verdict_is_no_stronger_than_the_normalization_behind_it(monkeypatch, normalized, expected):
    # found under load: the normalization check of an unnormalized density ran out of budget (unknown), and the
    # LR estimator's 'proved' stood (both sides agree as integrals for any positive p).  The verdict now takes
    # the weaker of the two.  Planted: the normalization check's answer.
    from symflow.checks import normalization

    def planted(p, budget):
        return sf.Verdict(normalized, "planted", p.expr, reason="planted" if normalized == "unknown" else "")

    monkeypatch.setattr(normalization, "_normalized_cached", planted)
    p = normal()
    est = sf.derive(p, sf.flows.zero(p), mu)
    verdict = sf.check_unbiased(est, x**2, timeout=30)
    assert verdict.status.value == expected
    if expected != "proved":
        assert "normaliz" in (verdict.reason + verdict.method)


@pytest.mark.slow
def test_a_second_unit_mass_far_out_is_seen_by_the_normalization_at_parameter_values():
    # review: N(mu, sigma) + N(1000, 1) integrates to 2, but the quadrature's pieces were laid around the first
    # mode only, so at params= the LR estimator came out 'consistent'.  The stationary points of exponents are
    # now breakpoints of the quadrature.
    p = sf.Density(normal().expr + sp.exp(-((x - 1000) ** 2) / 2) / sp.sqrt(2 * sp.pi), x, (mu, sigma))
    lr = sf.derive(p, sf.flows.zero(p), mu)
    verdict = sf.check_unbiased(lr, sp.cos(x), {mu: 0, sigma: 1}, timeout=40)
    assert verdict.status.value == "unknown" and "not normalized" in verdict.reason
