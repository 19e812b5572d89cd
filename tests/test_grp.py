"""GRP (Eq. 58-62), induced densities and explicit reparameterization with a user g (Eq. 52-55)."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp

import symflow as sf
from symflow.core.verdict import Status
from symflow.errors import FlowError
from symflow.zero import decide_zero

fam = sf.families
EPS = sp.Symbol("epsilon", real=True)


def close(a, b, digits: int = 20) -> bool:
    with mpmath.workdps(digits + 15):
        return abs(mpmath.mpf(a) - mpmath.mpf(b)) <= mpmath.mpf(10) ** (-digits)


def std_normal(eps=EPS):
    return sf.Density(
        sp.exp(-(eps**2) / 2) / sp.sqrt(2 * sp.pi), eps, (), sampler=lambda n, _p, rng: rng.standard_normal((n, 1))
    )


def gamma_grp_case():
    """REFERENCE-CASES: Gamma(alpha, 1), x = exp(eps sqrt(psi1(alpha)) + psi(alpha)), eps's density induced."""
    g = fam.gamma()
    x, (alpha, rate) = g.x[0], g.params
    p = g.with_(expr=g.expr.xreplace({rate: 1}), params=(alpha,), cdf=None, sampler=None)
    T = sp.exp(EPS * sp.sqrt(sp.polygamma(1, alpha)) + sp.polygamma(0, alpha))
    S = (sp.log(x) - sp.polygamma(0, alpha)) / sp.sqrt(sp.polygamma(1, alpha))
    base = sf.Density(p.expr.xreplace({x: T}) * sp.diff(T, EPS), EPS, (alpha,), name="GRP base")
    return p, base, T, S, x, alpha


@pytest.mark.slow
def test_gamma_grp_planted_flow_and_gradients():
    p, base, T, S, x, alpha = gamma_grp_case()
    est = sf.grp(base, T, EPS, alpha, x=x, S=S)
    # the induced density is the Gamma itself
    assert sp.simplify(est.density.expr - p.expr) == 0
    psi1, psi2 = sp.polygamma(1, alpha), sp.polygamma(2, alpha)
    flow = x * ((sp.log(x) - sp.polygamma(0, alpha)) * psi2 / (2 * psi1) + psi1)
    assert decide_zero(est.v[0] - flow, p.domain()).status is Status.PROVED
    assert est.psi != 0  # GRP keeps a phi term (its base depends on alpha)
    a = sp.Rational(23, 10)
    assert close(sf.estimator_mean(est, x, {alpha: a}), 1)
    assert close(sf.estimator_mean(est, x**2, {alpha: a}), 2 * a + 1)  # 5.6


@pytest.mark.slow
def test_gamma_grp_equals_flow_estimator():
    p, base, T, S, x, alpha = gamma_grp_case()
    est = sf.grp(base, T, EPS, alpha, density=p, S=S)
    flow_est = sf.derive(p, sf.Flow(p, {alpha: [est.v[0]]}), alpha)
    assert sf.check_equivalent(est, flow_est).status is Status.PROVED
    assert sf.classify(est).status is Status.PROVED
    # a GRP that forgets the Jacobian term u_grp is biased, and classify says by how much
    forgot = sf.Estimator(p, alpha, est.v, est.psi - sp.polygamma(1, alpha), name="GRP without u term")
    v = sf.classify(forgot)
    assert v.status is Status.REFUTED and v.detail("bias E_q[(psi - psi*) phi]") > 0
    doubled = sf.derive(p, sf.Flow(p, {alpha: [2 * est.v[0]]}), alpha)
    assert sf.check_equivalent(est, doubled).status is Status.REFUTED


@pytest.mark.parametrize("d", [1, 2, 3])
def test_general_identities(d):
    assert sf.check_grp_trace_identity(d).status is Status.PROVED
    assert sf.check_reparam_transport_identity(d).status is Status.PROVED


@pytest.mark.slow
def test_sinh_reparameterization_user_g():
    x = sp.Symbol("x", real=True)
    mu, sigma = sp.Symbol("mu", real=True), sp.Symbol("sigma", positive=True)
    g = mu + sigma * sp.sinh(EPS)
    p = sf.induced_density(std_normal(), g, EPS, x=x, S=sp.asinh((x - mu) / sigma)).with_(params=(mu, sigma))
    # planted: N(asinh z) / sqrt(sigma^2 + (x - mu)^2), z = (x - mu)/sigma
    z = sp.asinh((x - mu) / sigma)
    want = sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi) / sp.sqrt(sigma**2 + (x - mu) ** 2)
    assert decide_zero(p.expr - want, p.domain()).status is Status.PROVED
    flow = sf.flows.reparam(p, g=g, eps=EPS, S=z)
    for theta in (mu, sigma):
        assert sf.check_transport(p, flow, theta).status is Status.PROVED
        assert sf.check_incompressible(p, flow, theta).status is Status.PROVED
    # with a theta-free base, GRP is plain RP: psi = 0
    est = sf.grp(std_normal(), g, EPS, sigma, density=p, S=z)
    assert decide_zero(est.psi, p.domain()).status is Status.PROVED
    draws = p.sample(20_000, {mu: 0.5, sigma: 2.0}, np.random.default_rng(0))
    assert draws.shape == (20_000, 1)


def affine3():
    eps = sp.symbols("e1:4", real=True)
    s1, s2, s3 = sp.symbols("s1:4", positive=True)
    a, b, c = sp.symbols("a b c", real=True)
    mu = sp.symbols("m1:4", real=True)
    A = sp.Matrix([[s1, 0, c], [a, s2, 0], [0, b, s3]])
    base = sf.Density(
        sp.exp(-sum(e**2 for e in eps) / 2) / (2 * sp.pi) ** sp.Rational(3, 2),
        eps,
        (),
        sampler=lambda n, _p, rng: rng.standard_normal((n, 3)),
    )
    g = list(sp.Matrix(mu) + A * sp.Matrix(eps))
    det = A.det()
    return base, g, eps, det


@pytest.mark.slow
def test_affine_reparameterization_in_3d():
    base, g, eps, det = affine3()
    x = sp.symbols("x1:4", real=True)
    p = sf.induced_density(base, g, eps, x=x)
    # |det dS/dx| = 1/|det A|; restrict to det A > 0 so it is 1/det A
    p = p.with_(expr=p.expr.replace(sp.Abs, lambda e: e), constraints=(det > 0,))
    flow = sf.flows.reparam(p, g=g, eps=eps, S=p.standardize)
    for theta in p.params:
        v = sf.check_transport(p, flow, theta)
        assert v.status is Status.PROVED, f"{theta}: {v}"
    wrong = sf.flows.weighted(flow, 2)
    assert sf.check_transport(p, wrong, p.params[0]).status is Status.REFUTED


def test_grp_rejects_mismatched_eps():
    with pytest.raises(FlowError):
        sf.grp(std_normal(), sp.Symbol("mu") + EPS, sp.Symbol("eta", real=True), sp.Symbol("mu"))
