"""Same flow / same estimator, unique psi (Thm. 4), classify, weighted LR/RP (Eq. 51), importance sampling, OMT."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp

import symflow as sf
from symflow.core.verdict import Status
from symflow.errors import EstimatorError, FlowError
from symflow.zero import decide_zero

fam = sf.families

# mc_check: a correct estimator is refuted with probability alpha = 1e-6 per call (fixed seeds).
ALPHA = 1e-6


def close(a, b, digits: int = 20) -> bool:
    with mpmath.workdps(digits + 15):
        return abs(mpmath.mpf(a) - mpmath.mpf(b)) <= mpmath.mpf(10) ** (-digits)


def is_zero(expr, p) -> bool:
    return decide_zero(expr, p.domain()).status is Status.PROVED


@pytest.mark.parametrize("name", ["normal", "logistic", "exponential"])
def test_implicit_equals_explicit(name):
    p = getattr(fam, name)()
    v = sf.check_same_flow(sf.flows.implicit(p), sf.flows.reparam(p))
    assert v.status is Status.PROVED, str(v)


@pytest.mark.slow
def test_implicit_equals_explicit_mvn():
    m = fam.mvn(2)
    v = sf.check_same_flow(sf.flows.implicit(m), sf.flows.reparam(m))
    assert v.status is Status.PROVED, str(v)


@pytest.mark.parametrize("name", ["normal", "logistic", "exponential", "uniform"])
def test_integration_by_parts_flow_is_rp_in_1d(name):
    # Eq. 9-12: -(dF/dtheta)/p is the reparameterization flow
    p = getattr(fam, name)()
    v = sf.check_same_flow(sf.ibp_flow(p), sf.flows.reparam(p))
    assert v.status is Status.PROVED, str(v)


def test_ibp_flow_planted_normal():
    p = fam.normal()
    x, (mu, sigma) = p.x[0], p.params
    flow = sf.ibp_flow(p)
    assert sp.simplify(flow.field(mu)[0] - 1) == 0
    assert sp.simplify(flow.field(sigma)[0] - (x - mu) / sigma) == 0


def test_different_flows_are_refuted():
    p = fam.normal()
    rp = sf.flows.reparam(p)
    v = sf.check_same_flow(rp, sf.flows.weighted(rp, 2))
    assert v.status is Status.REFUTED and v.witness is not None


def test_ibp_flow_needs_1d_and_cdf():
    with pytest.raises(FlowError):
        sf.ibp_flow(fam.mvn(2))
    p = fam.normal()
    with pytest.raises(FlowError):
        sf.ibp_flow(p.with_(cdf=None))


def test_omt_planted_2d_reference_case():
    m = fam.mvn(2)
    x1, x2 = m.x
    mu1, mu2, L11, L21, L22 = m.params
    u = sf.flows.omt(m).field(L21)
    A = sp.Matrix([[-L21, L11], [L11, L21]]) / (L11**2 + L21**2 + L22**2)
    want = A * sp.Matrix([x1 - mu1, x2 - mu2])
    assert all(sp.simplify(a - b) == 0 for a, b in zip(u, want, strict=True))


@pytest.mark.slow
def test_omt_solves_transport_differs_from_cholesky_and_difference_is_divergence_free():
    m = fam.mvn(2)
    omt, chol = sf.flows.omt(m), sf.flows.reparam(m)
    for theta in m.params:
        assert sf.check_transport(m, omt, theta).status is Status.PROVED
    L21 = m.params[3]
    assert sf.check_same_flow(omt, chol, L21).status is Status.REFUTED
    # w = u_chol - u_omt: div(p w)/p = div w + w . grad log p = 0 (App. E.1)
    w = [a - b for a, b in zip(chol.field(L21), omt.field(L21), strict=True)]
    div_pw = sum(sp.diff(wi, xi) + wi * gi for wi, xi, gi in zip(w, m.x, m.grad_log(), strict=True))
    assert is_zero(div_pw, m)
    # and for the mean parameters the two flows coincide (both translate)
    assert sf.check_same_flow(omt, chol, m.params[0]).status is Status.PROVED


def test_omt_refuses_non_gaussian():
    with pytest.raises(FlowError):
        sf.flows.omt(fam.laplace())


def test_unique_psi_planted():
    p = fam.normal()
    x, (mu, sigma) = p.x[0], p.params
    # LR: v = 0 => psi* = score (Eq. 21)
    assert sp.simplify(sf.unique_psi(p, [0], sigma) - ((x - mu) ** 2 / sigma**3 - 1 / sigma)) == 0
    # RP: v = 1 for mu => psi* = 0
    assert sp.simplify(sf.unique_psi(p, [1], mu)) == 0
    # LR under the L-distribution: psi* = 1/(x - mu) (Eq. 80)
    q = fam.l_distribution()
    assert sp.simplify(sf.unique_psi(p, [0], mu, q) - 1 / (x - mu)) == 0


@pytest.mark.slow
def test_weighted_estimator_psi_is_one_minus_k_times_score():
    # Eq. 51: with u = k u_RP, the derived psi is (1 - k) dlog p/dtheta
    p = fam.normal()
    for k in (sp.Rational(1, 3), sp.Rational(7, 10)):
        flow = sf.flows.weighted(sf.flows.reparam(p), k)
        for theta in p.params:
            est = sf.derive(p, flow, theta)
            assert is_zero(est.psi - (1 - k) * p.score(theta), p)


def _published(p):
    """LR, RP and weighted (Eq. 51) typed in by hand, as in their papers, for d/dsigma of a normal."""
    x, (mu, sigma) = p.x[0], p.params
    score = (x - mu) ** 2 / sigma**3 - 1 / sigma
    k = sp.Rational(1, 4)
    return [
        sf.Estimator(p, sigma, [0], score, name="LR"),
        sf.Estimator(p, sigma, [(x - mu) / sigma], 0, name="RP"),
        sf.Estimator(p, sigma, [k * (x - mu) / sigma], (1 - k) * score, name="weighted k = 1/4"),
    ]


@pytest.mark.slow
def test_classify_proves_published_estimators():
    p = fam.normal()
    for est in _published(p):
        v = sf.classify(est)
        assert v.status is Status.PROVED, str(v)


@pytest.mark.parametrize(
    "label",
    ["LR with the sign flipped", "RP plus the score (double counted)", "RP flow with the LR weight missing a term"],
)
@pytest.mark.slow
def test_classify_refutes_wrong_estimators_with_a_counterexample(label):
    p = fam.normal()
    x, (mu, sigma) = p.x[0], p.params
    score = (x - mu) ** 2 / sigma**3 - 1 / sigma
    wrong = {
        "LR with the sign flipped": sf.Estimator(p, sigma, [0], -score, name=label),
        "RP plus the score (double counted)": sf.Estimator(p, sigma, [(x - mu) / sigma], score, name=label),
        "RP flow with the LR weight missing a term": sf.Estimator(p, sigma, [0], (x - mu) ** 2 / sigma**3, name=label),
    }[label]
    v = sf.classify(wrong)
    assert v.status is Status.REFUTED and v.witness is not None
    phi = v.detail("counterexample phi")
    assert phi.free_symbols <= {x}
    bias = v.detail("bias E_q[(psi - psi*) phi]")
    assert bias is not None and bias > 0
    # independent confirmation: the estimator's mean on phi misses the exact gradient by that bias
    values = dict(v.detail("parameters"))
    exact = sf.estimator_mean(sf.Estimator(p, sigma, wrong.v, sf.unique_psi(p, wrong.v, sigma)), phi, values)
    got = sf.estimator_mean(wrong, phi, values)
    assert close(got - exact, bias, 15)


def test_classify_refuses_non_estimators():
    with pytest.raises(EstimatorError):
        sf.classify("LR")


def test_check_equivalent_rp_typed_in_equals_derived():
    p = fam.normal()
    sigma = p.params[1]
    derived = sf.derive(p, sf.flows.reparam(p), sigma)
    typed = _published(p)[1]
    assert sf.check_equivalent(derived, typed).status is Status.PROVED
    assert sf.check_equivalent(derived, _published(p)[0]).status is Status.REFUTED


def _wide_normal(p, factor=2):
    mu, sigma = p.params

    def sample(n, params, rng):
        return rng.normal(params[mu], factor * params[sigma], (n, 1))

    return p.with_(expr=p.expr.xreplace({sigma: factor * sigma}), sampler=sample, name="wide normal", cdf=None)


@pytest.mark.slow
def test_importance_sampling_wider_normal_and_l_distribution():
    p = fam.normal()
    x, (mu, sigma) = p.x[0], p.params
    values = {mu: sp.Rational(3, 10), sigma: sp.Rational(13, 10)}
    for q in (_wide_normal(p), fam.l_distribution()):
        for flow in (sf.flows.zero(p), sf.flows.reparam(p)):
            est = sf.derive(p, flow, sigma, q)
            assert sf.classify(est).status is Status.PROVED
            # planted: d/dsigma E[x^2] = 2 sigma
            assert close(sf.estimator_mean(est, x**2, values), 2 * values[sigma])
    lr_l = sf.derive(p, sf.flows.zero(p), mu, fam.l_distribution())
    assert is_zero(lr_l.psi - 1 / (x - mu), p)  # Eq. 80


def test_importance_sampling_mc_draws_from_q():
    p = fam.normal()
    x, (mu, sigma) = p.x[0], p.params
    est = sf.derive(p, sf.flows.zero(p), mu, _wide_normal(p))
    res = sf.mc_check(est, x**2, {mu: 0.3, sigma: 1.3}, 200_000, seed=3, alpha=ALPHA, exact=0.6)
    assert res.status is Status.CONSISTENT, str(res)
    wrong = sf.Estimator(p, mu, [0], (x - mu) / sigma**2, q=_wide_normal(p), name="LR weight without p/q")
    bad = sf.mc_check(wrong, x**2, {mu: 0.3, sigma: 1.3}, 200_000, seed=3, alpha=ALPHA, exact=0.6)
    assert bad.status is Status.REFUTED
    assert np.isfinite(res.mean)


# -- issue 12, class 4: Theorem 4 applied only with its hypotheses ------------------------------------


def test_classify_refutes_a_hand_typed_lr_for_a_moving_edge():
    # Uniform(a, b), d/da: psi = 1/(b - a) is psi* for v = 0, but the edge x = a moves (Eq. 77): the LR weight
    # misses -p(a) phi(a). classify said "proved".
    p = fam.uniform()
    a, b = p.params
    v = sf.classify(sf.Estimator(p, a, (0,), 1 / (b - a), name="LR typed in"))
    assert v.status is Status.REFUTED
    assert v.witness.point[0] == (p.x[0], a)  # a point of the edge x = a


@pytest.mark.slow
def test_classify_proves_estimators_that_account_for_their_edges():
    p = fam.uniform()
    a, b = p.params
    for flow in (sf.flows.zero(p), sf.flows.reparam(p)):  # LR + its moving-boundary terms; RP moves with the edges
        for t in (a, b):
            assert sf.classify(sf.derive(p, flow, t)).status is Status.PROVED


@pytest.mark.slow
def test_classify_refutes_a_flow_crossing_a_fixed_edge():
    # exponential, v = 1 with psi = psi*: q v = p does not vanish at the fixed edge x = 0 (footnote 4's condition)
    p = fam.exponential()
    (lam,) = p.params
    v = sf.classify(sf.Estimator(p, lam, (1,), sf.unique_psi(p, (1,), lam)))
    assert v.status is Status.REFUTED and v.witness.point[0] == (p.x[0], 0)


def test_classify_leaves_phi_specific_terms_and_other_supports_to_check_unbiased():
    p = fam.normal()
    (x,), (mu, _) = p.x, p.params
    with_jump = sf.derive(p, sf.flows.reparam(p), mu, phi=sp.Heaviside(x - 1))
    assert sf.classify(with_jump).status is Status.UNKNOWN
    e = fam.exponential()
    lr_under_normal = sf.Estimator(e, e.params[0], (0,), e.score(e.params[0]), q=fam.normal(e.x[0]))
    assert sf.classify(lr_under_normal).status is Status.UNKNOWN


@pytest.mark.slow
def test_check_equivalent_compares_extra_terms():
    # issue 12: an estimator with a jump term (Eq. 66) and one without were "the same estimator"
    p = fam.normal()
    (x,), (mu, _) = p.x, p.params
    rp = sf.flows.reparam(p)
    with_jump = sf.derive(p, rp, mu, phi=sp.Heaviside(x - 1))
    v = sf.check_equivalent(with_jump, sf.derive(p, rp, mu))
    assert v.status is Status.REFUTED and v.witness is not None
    assert sf.check_equivalent(with_jump, sf.derive(p, rp, mu, jumps=[x - 1])).status is Status.PROVED
    # the same surface with another weight (another flow) is refuted too
    lr_jump = sf.derive(p, sf.flows.weighted(rp, sp.Rational(1, 2)), mu, phi=sp.Heaviside(x - 1))
    assert sf.check_equivalent(with_jump, lr_jump).status is Status.REFUTED


@pytest.mark.slow
def test_check_equivalent_compares_supports():
    p = fam.uniform()
    a, b = p.params
    other = p.with_(support=sp.Interval(a, 2 * b))
    v = sf.check_equivalent(sf.derive(p, sf.flows.zero(p), b), sf.derive(other, sf.flows.zero(other), b))
    assert v.status is not Status.PROVED
