"""Supports that move with theta: the boundary term of Eq. (77) for Uniform(a, b)."""

import dataclasses

import pytest
import sympy as sp

import symflow as sf

p = sf.families.uniform()
x = p.x[0]
a, b = p.params
PHI = x**3 - 2 * x


def test_boundary_terms_planted():
    (ta,) = sf.derive(p, sf.flows.zero(p), a).extra_terms
    (tb,) = sf.derive(p, sf.flows.zero(p), b).extra_terms
    assert sp.simplify(ta.symbolic_expectation(PHI) + PHI.subs(x, a) / (b - a)) == 0
    assert sp.simplify(tb.symbolic_expectation(PHI) - PHI.subs(x, b) / (b - a)) == 0
    assert "moving-boundary" in str(ta)


@pytest.mark.slow
def test_lr_with_boundary_unbiased_and_without_refuted():
    for wrt in (a, b):
        est = sf.derive(p, sf.flows.zero(p), wrt)
        assert sf.check_unbiased(est, PHI, timeout=20).status is sf.Status.PROVED
        naive = dataclasses.replace(est, extra_terms=())
        assert sf.check_unbiased(naive, PHI, timeout=20).status is sf.Status.REFUTED


def test_reparam_flow_needs_no_boundary_term():
    assert sf.derive(p, sf.flows.reparam(p), a).extra_terms == ()
    assert sf.derive(p, sf.flows.reparam(p), b).extra_terms == ()


def test_mc_check_with_boundary_term():
    est = sf.derive(p, sf.flows.zero(p), a)
    exact = float(sp.diff((a**3 + a**2 * b + a * b**2 + b**3) / 4 - (a + b), a).subs({a: 0.5, b: 2}))
    # alpha = 1e-6: false-alarm rate 1e-6
    res = sf.mc_check(est, PHI, {a: 0.5, b: 2.0}, 20000, seed=1, exact=exact)
    assert res.status is sf.Status.CONSISTENT
    res = sf.mc_check(dataclasses.replace(est, extra_terms=()), PHI, {a: 0.5, b: 2.0}, 20000, seed=1, exact=exact)
    assert res.status is sf.Status.REFUTED
