"""Supports whose edges move with theta: the boundary term of Eq. (77), Uniform(a, b)."""

import dataclasses

import sympy as sp

import symflow as sf


def _uniform():
    p = sf.families.uniform()
    a, b = p.params
    return p, p.x[0], a, b


def _planted(wrt):
    """d/dtheta E[x^3 - 2x] for U(a, b), by hand: E = (a^3 + a^2 b + a b^2 + b^3)/4 - (a + b)."""
    p, x, a, b = _uniform()
    mean = (a**3 + a**2 * b + a * b**2 + b**3) / 4 - (a + b)
    return sp.diff(mean, wrt)


def _lr_with_boundary(wrt):
    p, x, a, b = _uniform()
    phi = x**3 - 2 * x
    return p, phi, sf.derive(p, sf.flows.zero(p), wrt)


@sf.claim("Uniform(a, b): LR plus the moving-boundary term is unbiased for d/da E[x^3 - 2x]", equation="77")
def uniform_da_proved():

    p, x, a, b = _uniform()
    p, phi, est = _lr_with_boundary(a)
    got = sum((t.symbolic_expectation(phi) for t in est.extra_terms), sp.S.Zero)
    if sp.simplify(got - (-phi.xreplace({x: a}) / (b - a))) != 0:
        return sf.Verdict(
            sf.Status.UNKNOWN, "planted boundary term", got, reason="boundary term is not -phi(a)/(b - a)"
        )
    reference, _ = sf.expectation_gradient(p, phi, a, timeout=20)
    if reference is None or sp.simplify(reference - _planted(a)) != 0:
        return sf.Verdict(
            sf.Status.UNKNOWN, "planted gradient", reference, reason="reference gradient differs from planted"
        )
    return sf.check_unbiased(est, phi, timeout=20)


@sf.claim("Uniform(a, b): LR plus the moving-boundary term is unbiased for d/db E[x^3 - 2x]", equation="77")
def uniform_db_proved():
    p, phi, est = _lr_with_boundary(_uniform()[3])
    return sf.check_unbiased(est, phi, timeout=20)


@sf.claim("Uniform(a, b): LR without the boundary term is biased for d/da E[x^3 - 2x]", expect="refuted")
def uniform_da_naive_refuted():
    p, phi, est = _lr_with_boundary(_uniform()[2])
    return sf.check_unbiased(dataclasses.replace(est, extra_terms=()), phi, timeout=20)


@sf.claim("Uniform(a, b): LR without the boundary term is caught by mc_check (d/db)", expect="refuted")
def uniform_db_naive_mc_refuted():
    p, phi, est = _lr_with_boundary(_uniform()[3])
    a, b = p.params
    exact = float(_planted(b).xreplace({a: sp.Rational(1, 2), b: 2}))
    return sf.mc_check(dataclasses.replace(est, extra_terms=()), phi, {a: 0.5, b: 2.0}, 20000, seed=3, exact=exact)


@sf.claim("Uniform(a, b): LR plus the boundary term passes mc_check (d/db)", equation="77")
def uniform_db_mc():
    p, phi, est = _lr_with_boundary(_uniform()[3])
    a, b = p.params
    exact = float(_planted(b).xreplace({a: sp.Rational(1, 2), b: 2}))
    return sf.mc_check(est, phi, {a: 0.5, b: 2.0}, 20000, seed=3, exact=exact)


@sf.claim("Uniform(a, b): the reparameterization flow moves with the edges, so no boundary term arises", equation="77")
def uniform_rp_needs_no_boundary_term():
    p, x, a, b = _uniform()
    est = sf.derive(p, sf.flows.reparam(p), a)
    if est.extra_terms:
        return sf.Verdict(sf.Status.UNKNOWN, "derive", None, reason=f"unexpected extra terms {est.extra_terms}")
    return sf.check_unbiased(est, x**3 - 2 * x, timeout=20)
