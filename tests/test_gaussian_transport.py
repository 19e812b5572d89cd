"""Transport for Gaussian densities and affine flows by their moment identities (App. E.1).

The route (``symflow.calculus.gaussian.transport``) replaces the residual by A mu + c = dmu and
A Sigma + Sigma A^T = dSigma.  Planted truths: the Cholesky flow of the nested ``mvn(d)`` solves
transport for every parameter; flows perturbed in their matrix or their shift do not, and the
verdict names the identity that fails; the route's verdicts agree with the residual route.
"""

from __future__ import annotations

import pytest
import sympy as sp

import symflow as sf
from symflow.calculus.gaussian.transport import affine_part, gaussian_transport_identities
from symflow.calculus.transport import transport_residual


@pytest.mark.parametrize("d", [3, 4])
def test_cholesky_flow_of_the_nested_mvn_is_proved_by_the_moment_identities(d):
    p = sf.families.mvn(d)
    flow = sf.flows.reparam(p)
    for theta in p.params:
        v = sf.check_transport(p, flow, wrt=theta)
        assert v.status is sf.Status.PROVED and "Gaussian moments" in v.method, (theta, v)


def _perturbed(p, theta, which):
    u = list(sf.flows.reparam(p).field(theta))
    x = p.x
    if which == "matrix":
        u[0] = u[0] + x[1]  # A changes: the covariance moves wrongly
    else:
        u[-1] = u[-1] + sp.Rational(1, 3)  # c changes: the mean moves wrongly
    return sf.Flow(p, {theta: u})


@pytest.mark.parametrize("which", ["matrix", "shift"])
def test_a_wrong_affine_flow_is_refuted_with_the_identity_that_fails(which):
    p = sf.families.mvn(3)
    theta = p.params[-1]
    v = sf.check_transport(p, _perturbed(p, theta, which), wrt=theta)
    assert v.status is sf.Status.REFUTED
    assert ("A Sigma" in v.method) if which == "matrix" else ("A mu + c" in v.method)
    # the witness is a parameter point where the failing identity is not 0
    assert all(s in p.params for s in v.witness.as_dict())


@pytest.mark.slow
def test_the_identities_vanish_exactly_when_the_residual_does():
    p = sf.families.mvn(3)
    theta = p.params[4]
    for flow in (sf.flows.reparam(p), _perturbed(p, theta, "matrix"), _perturbed(p, theta, "shift")):
        u = flow.field(theta)
        ids = gaussian_transport_identities(p, u, theta)
        residual_zero = sf.decide_zero(transport_residual(p, u, theta), p.domain()).status is sf.Status.PROVED
        ids_zero = all(sf.decide_zero(r, p.domain()).status is sf.Status.PROVED for _, r in ids)
        assert residual_zero == ids_zero


def test_a_flow_that_is_not_affine_goes_to_the_general_route():
    p = sf.families.mvn(3)
    x1, x2, x3 = p.x
    u = (x1**2, sp.S.Zero, sp.S.Zero)
    assert affine_part(u, p.x) is None
    assert gaussian_transport_identities(p, u, p.params[0]) is None
    v = sf.check_transport(p, sf.Flow(p, {p.params[0]: u}), wrt=p.params[0])
    assert v.status is sf.Status.REFUTED and "Gaussian moments" not in v.method


def test_a_kink_is_not_affine():
    x, y, z = sp.symbols("x y z", real=True)
    assert affine_part((sp.Abs(x), y, z), (x, y, z)) is None
    assert affine_part((2 * x + y - 3, z, sp.Symbol("a")), (x, y, z)) is not None


def test_random_points_decide_the_identities_in_process():
    import random

    from symflow.calculus.gaussian.transport import transport_at_random_points

    p = sf.families.mvn(4)
    flow = sf.flows.reparam(p)
    for theta in p.params:
        got = transport_at_random_points(p, flow.field(theta), theta, rng=random.Random(1))
        assert got.zero and got.error_bound <= 1e-30 and got.degree >= 1, (theta, got)
    v = sf.check_transport(p, flow, wrt=p.params[7])
    assert v.status is sf.Status.PROVED and "Schwartz-Zippel" in v.method
    theta = p.params[-1]
    for which in ("matrix", "shift"):
        got = transport_at_random_points(p, _perturbed(p, theta, which).field(theta), theta, rng=random.Random(2))
        assert not got.zero and got.nonzero.startswith("(A ")  # the first identity found nonzero at the point


def test_random_points_apply_only_to_rational_flows_affine_by_structure():
    from symflow.calculus.gaussian.transport import transport_at_random_points

    p = sf.families.mvn(3)
    x1, x2, x3 = p.x
    mu1 = p.params[0]
    assert transport_at_random_points(p, (x1 * x2, sp.S.Zero, sp.S.Zero), mu1) is None  # not affine
    assert transport_at_random_points(p, (sp.sqrt(p.params[3]), sp.S.Zero, sp.S.Zero), mu1) is None  # not rational
