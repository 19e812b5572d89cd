"""Discontinuous phi: the surface term of Eq. (66) and Lee et al.'s epsilon-space form (Eq. 67-72)."""

import dataclasses

import sympy as sp

import symflow as sf

C = sp.Rational(1, 2)


def _normal():
    p = sf.families.normal()
    mu, sigma = p.params
    return p, p.x[0], mu, sigma


def _heaviside_setup():
    p, x, mu, sigma = _normal()
    phi = sp.Heaviside(x - C)
    flow = sf.flows.reparam(p)
    return p, x, mu, sigma, phi, flow


@sf.claim("d/dmu E[H(x - c)] = p(c): RP flow plus the jump term is unbiased (symbolic)", equation="66")
def heaviside_surface_term_proved():
    p, x, mu, sigma, phi, flow = _heaviside_setup()
    est = sf.derive(p, flow, mu, phi=phi)
    planted = p.expr.xreplace({x: C})  # d/dmu (1 - Phi((c - mu)/sigma)) = p(c)
    got = est.extra_terms[0].symbolic_expectation(phi)
    if sp.simplify(got - planted) != 0:
        return sf.Verdict(sf.Status.UNKNOWN, "planted value", got - planted, reason="surface term is not p(c)")
    return sf.check_unbiased(est, phi, timeout=20)


@sf.claim("d/dmu E[H(x - c)]: RP flow plus the jump term passes mc_check", equation="66")
def heaviside_surface_term_mc():
    p, x, mu, sigma, phi, flow = _heaviside_setup()
    est = sf.derive(p, flow, mu, phi=phi)
    exact = float(p.expr.xreplace({x: C, mu: sp.Rational(3, 10), sigma: sp.Rational(6, 5)}))
    return sf.mc_check(est, phi + x**2 / 10, {mu: 0.3, sigma: 1.2}, 20000, seed=1, exact=exact + 0.06)


@sf.claim("d/dmu E[H(x - c)]: the RP estimator without the jump term is caught by mc_check", expect="refuted")
def heaviside_without_surface_term_refuted():
    p, x, mu, sigma, phi, flow = _heaviside_setup()
    naive = dataclasses.replace(sf.derive(p, flow, mu, phi=phi), extra_terms=())
    exact = float(p.expr.xreplace({x: C, mu: sp.Rational(3, 10), sigma: sp.Rational(6, 5)}))
    return sf.mc_check(naive, phi + x**2 / 10, {mu: 0.3, sigma: 1.2}, 20000, seed=1, exact=exact + 0.06)


def _lognormal():
    x = sp.Symbol("x", positive=True)
    mu, sigma = sp.Symbol("mu", real=True), sp.Symbol("sigma", positive=True)
    eps = sp.Symbol("epsilon", real=True)
    expr = sp.exp(-((sp.log(x) - mu) ** 2) / (2 * sigma**2)) / (x * sigma * sp.sqrt(2 * sp.pi))
    p = sf.Density(expr, (x,), (mu, sigma), support=sp.Interval(0, sp.oo), name="lognormal")
    return p, x, eps, sp.exp(mu + sigma * eps), (sp.log(x) - mu) / sigma


def _lee_vs_flow(p, x, eps, g, S, wrt, c, phi):
    """Residuals (Eq. 66 term - Eq. 67 sum, Eq. 69 Voss-Weyl) for one density, parameter and jump point."""
    base = sp.exp(-(eps**2) / 2) / sp.sqrt(2 * sp.pi)  # p(eps), theta-free
    flow = sf.flows.reparam(p, g, eps, S=S)
    est = sf.derive(p, flow, wrt, phi=phi)
    ours = sum((t.symbolic_expectation(phi) for t in est.extra_terms), sp.S.Zero)
    # Lee et al. (Eq. 67): regions eps < eps_c and eps > eps_c; outward normals +1 and -1 at eps_c
    eps_c = S.xreplace({x: c})
    V = sp.diff(S, wrt)  # dS/dtheta, as a function of x (evaluated at x = g(eps))
    t = sp.Symbol("t", positive=True)  # one-sided values of h on the two regions (limits from inside each)
    h_left = sp.limit(phi.xreplace({x: c - t}), t, 0, "+")
    h_right = sp.limit(phi.xreplace({x: c + t}), t, 0, "+")
    lee = base.xreplace({eps: eps_c}) * V.xreplace({x: c}) * (h_left * 1 + h_right * (-1))
    # Eq. (69) in 1-D: d V(eps)/d eps = (1/J) d(J u)/dx with J = dS/dx, u = (dg/deps) V at x = g(eps)
    J = sp.diff(S, x)
    u_lee = (sp.diff(g, eps).xreplace({eps: S})) * V
    voss_weyl = sp.diff(V.xreplace({x: g}), eps) - (sp.diff(J * u_lee, x) / J).xreplace({x: g})
    return ours - lee, voss_weyl


@sf.claim(
    "Lee et al.'s epsilon-space surface term (Eq. 67) equals Eq. 66 after the change of coordinates (1-D)",
    equation="67-72",
)
def lee_equals_flow_surface_term():
    p, x, mu, sigma = _normal()
    eps = sp.Symbol("epsilon", real=True)
    cases = [
        (p, x, eps, mu + sigma * eps, (x - mu) / sigma, t, C, (x**2 + 1) * sp.Heaviside(x - C) + sp.sin(x))
        for t in (mu, sigma)
    ]
    q, y, e2, g2, S2 = _lognormal()
    two = sp.Integer(2)
    cases += [(q, y, e2, g2, S2, t, two, sp.Heaviside(y - two) * y + sp.cos(y)) for t in q.params]
    methods = []
    for dens, xs, e, g, S, wrt, c, phi in cases:
        surface, voss = _lee_vs_flow(dens, xs, e, g, S, wrt, c, phi)
        for name, res, dom in (
            ("Eq. 66 vs 67", surface, sf.Domain((), dens.domain().parameters)),
            ("Voss-Weyl Eq. 69", voss, sf.Domain(((e, sf.Interval1D()),), dens.domain().parameters)),
        ):
            v = sf.decide_zero(res, dom, timeout=10, claim=f"{dens.name}, d/d{wrt}: {name}")
            if v.status is not sf.Status.PROVED:
                return v
            methods.append(f"{dens.name}/{wrt}/{name}: {v.method}")
    return sf.Verdict(sf.Status.PROVED, "; ".join(methods), sp.S.Zero, claim="Lee et al. Eq. 67 == Eq. 66 (1-D)")
