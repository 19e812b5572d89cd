"""The height-augmented flow and LR/RP duality under the divergence theorem (Sec. 4, Eq. 16-18, 47-48, Eq. 8).

Perturbing theta moves every point of the volume under p along the augmented
field u~ = [u, (h/p) Dp/Dtheta] (Eq. 16).  It is incompressible exactly when
u solves transport: p div u~ = div(p u) + dp/dtheta, proved here for
undefined p(x, theta) and u(x) in 1-3 dimensions.  On the top face h = p(x),
u~ . n = dp/dtheta (Eq. 18, App. D.2), so the surface integral is the LR
integral; the volume integral is the RP integral (Eq. 17).  Stein's identity
(Eq. 8) is Eq. (48) with u = e_j; it fails where p is positive at a finite
edge, and the boundary term says by how much.
"""

import symflow as sf

FAMILIES = (
    ("normal", "reparam"),
    ("laplace", "reparam"),
    ("logistic", "reparam"),
    ("exponential", "reparam"),
    ("uniform", "reparam"),
    ("l_distribution", "reparam"),
    ("gamma", "implicit"),
    ("beta", "implicit"),
    ("student_t", "implicit"),
)


def _every_param(check, what):
    parts = []
    for name, kind in FAMILIES:
        p = getattr(sf.families, name)()
        flow = getattr(sf.flows, kind)(p)
        # student_t's degrees of freedom: the implicit flow has no closed form in nu
        params = p.params[:2] if name == "student_t" else p.params
        parts.extend((f"{name} {kind} d/d{t}", check(p, flow, t)) for t in params)
    return sf.combine(parts, what, noun="parts", label="{}")


@sf.claim("p div(u~) = div(p u) + dp/dtheta for undefined p, u in 1, 2, 3 dimensions", equation="16")
def incompressible_iff_transport():
    return sf.combine(
        [(f"d = {d}", sf.check_incompressibility_is_transport(d)) for d in (1, 2, 3)],
        "augmented flow incompressible <=> transport equation",
        noun="parts",
        label="{}",
    )


@sf.claim("augmented flows of every shipped family are incompressible", equation="16")
def incompressible_families():
    return _every_param(
        lambda p, f, t: sf.check_incompressible(p, f, t, timeout=20), "augmented flows are incompressible"
    )


@sf.claim("augmented flow of the mvn (Cholesky and optimal transport, d = 2) is incompressible", equation="16")
def incompressible_mvn():
    m = sf.families.mvn(2)
    parts = []
    for flow in (sf.flows.reparam(m), sf.flows.omt(m)):
        parts.extend((f"{flow.kind} d/d{t}", sf.check_incompressible(m, flow, t)) for t in m.params)
    return sf.combine(parts, "mvn augmented flows are incompressible", noun="parts", label="{}")


@sf.claim("the LR flow's augmented field is compressible", equation="16", expect="refuted")
def lr_is_compressible():
    p = sf.families.normal()
    return sf.check_incompressible(p, sf.flows.zero(p), p.params[1])


@sf.claim("surface flux u~ . n = dp/dtheta on h = p for every shipped family", equation="18")
def surface_flux_families():
    return _every_param(lambda p, f, t: sf.check_duality(p, f, t, timeout=20), "u~ . n = dp/dtheta on h = p")


@sf.claim("volume = surface = LR integral, normal, phi = x^3 + x (quadrature)", equation="17")
def three_numbers_normal():
    p = sf.families.normal()
    x, (mu, sigma) = p.x[0], p.params
    return sf.check_duality(p, sf.flows.reparam(p), sigma, x**3 + x, {mu: 0.3, sigma: 1.3})


@sf.claim("volume = surface = LR integral, 2-D product normal, phi = x1^2 x2 + x2", equation="17")
def three_numbers_2d():
    m = sf.families.mvn(2, "diag")
    x1, x2 = m.x
    mu1, mu2, s1, s2 = m.params
    return sf.check_duality(m, sf.flows.reparam(m), s1, x1**2 * x2 + x2, {mu1: 0.3, mu2: -0.2, s1: 1.1, s2: 0.7})


@sf.claim("volume integral of the LR flow is not the surface integral", equation="17", expect="refuted")
def three_numbers_lr_refuted():
    p = sf.families.normal()
    x, (mu, sigma) = p.x[0], p.params
    return sf.check_duality(p, sf.flows.zero(p), mu, x**3, {mu: 0.3, sigma: 1.3})


@sf.claim("integral of div(p u phi) vanishes for the normal RP flow, phi = x^2", equation="48")
def divergence_theorem_normal():
    p = sf.families.normal()
    return sf.check_divergence_theorem(p, sf.flows.reparam(p), p.params[1], p.x[0] ** 2)


@sf.claim("exponential, u = 1, phi = 1: boundary term -lambda is reported", equation="47", expect="refuted")
def divergence_theorem_boundary():
    e = sf.families.exponential()
    lam = e.params[0]
    return sf.check_divergence_theorem(e, sf.Flow(e, {lam: [1]}), lam, 1)


@sf.claim("Stein's identity, phi = x^3 + 2x, normal / Laplace / logistic / gamma", equation="8")
def stein_families():
    parts = []
    for name in ("normal", "laplace", "logistic", "gamma"):
        p = getattr(sf.families, name)()
        parts.append((name, sf.check_stein(p, p.x[0] ** 3 + 2 * p.x[0])))
    m = sf.families.mvn(2, "diag")
    parts.append(("mvn diag, along x2", sf.check_stein(m, m.x[0] * m.x[1] ** 2, j=1)))
    return sf.combine(parts, "Stein's identity for polynomial phi", noun="parts", label="{}")


@sf.claim("Stein's identity fails for the exponential (p(0) > 0), phi = 1 + x", equation="8", expect="refuted")
def stein_exponential():
    e = sf.families.exponential()
    return sf.check_stein(e, 1 + e.x[0])


@sf.claim("Stein's identity fails for the uniform (moving edges), phi = x", equation="8", expect="refuted")
def stein_uniform():
    u = sf.families.uniform()
    return sf.check_stein(u, u.x[0])
