"""Discrete variables: the GO gradient (Eq. 73-75) as a flow estimator with jump terms at the integers."""

import sympy as sp

import symflow as sf


@sf.claim("Poisson: the GO weight -(dQ/dlambda)/p equals 1", equation="73")
def poisson_go_weight_is_one():
    p = sf.families.poisson()
    return sf.decide_zero(sf.go_weight(p, p.params[0]) - 1, p.domain(), timeout=10, claim="Poisson GO weight = 1")


@sf.claim("Poisson: the GO estimator gives d/dlambda E[y^2] = 1 + 2 lambda (symbolic sums)", equation="73")
def poisson_go_unbiased_y2():
    p = sf.families.poisson()
    (lam,), y = p.params, p.x[0]
    est = sf.go_estimator(p, lam)
    got = est.extra_terms[0].symbolic_expectation(y**2)
    if got is None or sp.simplify(got - (1 + 2 * lam)) != 0:
        return sf.Verdict(
            sf.Status.UNKNOWN, "planted 1 + 2 lambda", got, reason=f"GO expectation is {got}, not 1 + 2 lambda"
        )
    return sf.check_unbiased(est, y**2, timeout=20)


@sf.claim("Poisson: the GO estimator for y^2 passes mc_check (samples y ~ Poisson)", equation="73")
def poisson_go_mc():
    p = sf.families.poisson()
    (lam,), y = p.params, p.x[0]
    return sf.mc_check(sf.go_estimator(p, lam), y**2, {lam: 1.7}, 20000, seed=5, exact=1 + 2 * 1.7)


@sf.claim("The embedding flow's exit flux is -dQ(y)/dtheta (Eq. 74-75) for a user-written pmf", equation="74-75")
def embedding_flux_equals_cdf_derivative():
    # a user pmf on {0, ..., 3}: p(y) ∝ (1 + theta y); Q summed by SymPy, flux from the cell construction
    theta = sp.Symbol("theta", positive=True)
    y = sp.Symbol("y", integer=True, nonnegative=True)
    pmf = (1 + theta * y) / (4 + 6 * theta)
    p = sf.Density(pmf, (y,), (theta,), support=sp.Range(0, 4), name="user_pmf")
    est = sf.go_estimator(p, theta)
    steps = [s for s in est.steps if s.equation in ("74", "75")]
    exit_flux, closed = steps[1].rhs, steps[2].rhs
    diffs = [sp.simplify((exit_flux - closed).xreplace({y: k}).doit()) for k in range(4)]
    manual_Q = [sum(pmf.xreplace({y: i}) for i in range(k + 1)) for k in range(4)]
    diffs += [sp.simplify(exit_flux.xreplace({y: k}).doit() + sp.diff(manual_Q[k], theta)) for k in range(4)]
    residual = sp.Add(*(d**2 for d in diffs))
    verdict = sf.decide_zero(residual, p.domain(), timeout=10, claim="exit flux = -dQ(y)/dtheta at y = 0..3")
    if not verdict.ok:
        return verdict
    return sf.check_unbiased(est, y**3 + sp.sin(y), timeout=20)


@sf.claim("Bernoulli and Binomial(4): the GO estimator is unbiased for y^3 (finite sums)", equation="73")
def finite_support_go_unbiased():
    out = None
    for p in (sf.families.bernoulli(), sf.families.binomial(4)):
        y = p.x[0]
        out = sf.check_unbiased(sf.go_estimator(p, p.params[0]), y**3, timeout=20)
        if out.status is not sf.Status.PROVED:
            return out
    return out


@sf.claim("Geometric: the GO estimator is unbiased for y^2 (mpmath nsum at 50 digits)", equation="73")
def geometric_go_nsum():
    p = sf.families.geometric()
    (q,), y = p.params, p.x[0]
    if sf.discrete_cdf(p) is None:
        return sf.Verdict(sf.Status.UNKNOWN, "cdf", None, reason="the geometric family lost its CDF")
    return sf.check_unbiased(sf.go_estimator(p, q), y**2, {q: sp.Rational(3, 10)}, timeout=20)


@sf.claim("Poisson: a GO estimator with half the weight is caught by mc_check", expect="refuted")
def poisson_wrong_weight_refuted():
    import dataclasses

    p = sf.families.poisson()
    (lam,), y = p.params, p.x[0]
    est = sf.go_estimator(p, lam)
    wrong = dataclasses.replace(est.extra_terms[0], weight=sp.S.Half)  # half the GO weight
    return sf.mc_check(dataclasses.replace(est, extra_terms=(wrong,)), y**2, {lam: 1.7}, 20000, seed=5, exact=4.4)
