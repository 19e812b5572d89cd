"""Divergence-free corrections of pathwise flows in 2-D: the basis is proved, the optimized flow transports and wins."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symflow as sf
from symflow.errors import FlowError
from symflow.numeric.evaluate import numpy_scalar_function

P = sf.families.mvn(2)
X1, X2 = P.x
M1, M2, L11, L21, L22 = P.params
VALUES = {M1: sp.Rational(1, 2), M2: sp.Rational(-3, 10), L11: 1, L21: sp.Rational(4, 5), L22: sp.Rational(3, 5)}


@pytest.mark.parametrize("degree", [0, 1, 2])
def test_basis_is_divergence_free(degree):
    basis = sf.divergence_free_basis(P, degree)
    assert len(basis) == (degree + 1) * (degree + 2) // 2
    assert basis.proof.status is sf.Status.PROVED
    assert "general identity" in basis.proof.method


def test_constant_potential_gives_the_rotation_of_the_score():
    # P = 1: w = J grad log p, the field OMT adds to the Cholesky flow
    basis = sf.divergence_free_basis(P, 0)
    (w,) = basis.fields
    g = P.grad_log()
    assert sp.simplify(w[0] - g[1]) == 0 and sp.simplify(w[1] + g[0]) == 0


def test_basis_fields_have_mean_zero_against_phi():
    # E_p[w . grad phi] = -int phi div(p w) = 0; sampled for phi = cos(x1 + x2), |z| > 4 flags (6.3e-5 each)
    basis = sf.divergence_free_basis(P, 2)
    phi = sp.cos(X1 + X2)
    xs = P.sample(100_000, {k: float(v) for k, v in VALUES.items()}, np.random.default_rng(4))
    for w in basis.fields:
        expr = sum(wk * sp.diff(phi, xk) for wk, xk in zip(w, P.x, strict=True)).xreplace(VALUES)
        vals = np.asarray(numpy_scalar_function(P.x, expr)(xs[:, 0], xs[:, 1]), dtype=float)
        assert abs(vals.mean()) < 4 * vals.std() / np.sqrt(vals.size)


@pytest.mark.slow
def test_optimized_flow_beats_cholesky_and_omt():
    res = sf.optimize_flow(
        P,
        sf.flows.reparam(P),
        L21,
        sp.cos(X1 + X2),
        VALUES,
        degree=2,
        references={"OMT": sf.flows.omt(P)},
        timeout=60,  # bounds the whole call: every row's exact variance gets its time, also under load
    )
    assert res.transport.status is sf.Status.PROVED
    chol, omt, opt = (row[1] for row in res.rows())
    assert res.variance.exact and res.base_variance.exact
    assert opt < omt < chol
    assert abs(chol - 0.4190774828) < 1e-9 and abs(omt - 0.4010898605) < 1e-9  # measured exact values
    est = sf.derive(P, res.flow, wrt=L21)
    assert est.psi == 0  # transport holds => pure pathwise


def test_needs_two_dimensions_and_a_normal_base():
    p1 = sf.families.normal()
    with pytest.raises(FlowError):
        sf.divergence_free_basis(p1, 1)
    g = sf.families.gamma()
    with pytest.raises(FlowError):
        sf.optimize_flow(g, sf.flows.zero(g), g.params[0], g.x[0], {g.params[0]: 2, g.params[1]: 1})


def test_optimize_flow_refuses_what_is_not_a_density():
    # the exception fuzzer found AttributeError ('bytes' object has no attribute 'reparam')
    for junk in (b"x", 3.5, sp.Symbol("stray")):
        with pytest.raises(sf.SymflowError, match="Density"):
            sf.optimize_flow(junk, None, None, sp.Symbol("x"), {}, timeout=1)
