"""Equivalences between estimators (App. E.1-E.3, Sec. 2.4) and Theorem 4's classification.

Implicit = explicit reparameterization (Eq. 56-57); integration by parts
gives the RP flow in 1-D (Eq. 12); explicit reparameterization solves
transport for any invertible g (Eq. 52-55, proved for undefined g and a
sinh and a 3-D affine user map); GRP is the flow estimator with
u = dg/dtheta at eps = S(x) (Eq. 58-62, in general and for the Gamma);
weighted LR/RP has psi = (1 - k) dlog p/dtheta (Eq. 51); RP is not unique in
d >= 2 (App. E.1, optimal transport vs Cholesky); importance sampling under
a wider normal and the L-distribution stays unbiased (Eq. 50); and every
product-form estimator is unbiased iff psi = psi* (Thm. 4).
"""

import sympy as sp

import symflow as sf

EPS = sp.Symbol("epsilon", real=True)


def _std_normal():
    return sf.Density(
        sp.exp(-(EPS**2) / 2) / sp.sqrt(2 * sp.pi), EPS, (), sampler=lambda n, _p, rng: rng.standard_normal((n, 1))
    )


def _gamma_grp():
    g = sf.families.gamma()
    x, (alpha, rate) = g.x[0], g.params
    p = g.with_(expr=g.expr.xreplace({rate: 1}), params=(alpha,), cdf=None, sampler=None)
    T = sp.exp(EPS * sp.sqrt(sp.polygamma(1, alpha)) + sp.polygamma(0, alpha))
    S = (sp.log(x) - sp.polygamma(0, alpha)) / sp.sqrt(sp.polygamma(1, alpha))
    base = sf.Density(p.expr.xreplace({x: T}) * sp.diff(T, EPS), EPS, (alpha,), name="GRP base")
    return p, base, T, S, x, alpha


def _planted(value, want, digits, claim, how):
    """consistent when a quadrature value matches a planted number to ``digits``, else refuted."""
    import mpmath

    with mpmath.workdps(digits + 15):
        gap = mpmath.mpf(value) - mpmath.mpf(sp.N(want, digits + 15))
        if abs(gap) <= mpmath.mpf(10) ** (-digits):
            return sf.Verdict(
                sf.Status.CONSISTENT, f"{how}; matches {want} to {digits} digits; not a proof", gap, claim=claim
            )
    return sf.Verdict(sf.Status.REFUTED, how, gap, sf.Witness((), gap, gap), claim=claim)


@sf.claim("implicit = explicit reparameterization: normal, logistic, Laplace, exponential, mvn(2)", equation="56")
def implicit_equals_explicit():
    parts = []
    for name in ("normal", "logistic", "laplace", "exponential"):
        p = getattr(sf.families, name)()
        parts.append((name, sf.check_same_flow(sf.flows.implicit(p), sf.flows.reparam(p))))
    m = sf.families.mvn(2)
    parts.append(("mvn(2)", sf.check_same_flow(sf.flows.implicit(m), sf.flows.reparam(m))))
    return sf.combine(parts, "implicit and explicit reparameterization flows coincide", noun="parts", label="{}")


@sf.claim("integration by parts: -(dF/dtheta)/p is the RP flow (normal, logistic, exponential, uniform)", equation="12")
def ibp_is_rp():
    parts = []
    for name in ("normal", "logistic", "exponential", "uniform"):
        p = getattr(sf.families, name)()
        parts.append((name, sf.check_same_flow(sf.ibp_flow(p), sf.flows.reparam(p))))
    return sf.combine(parts, "integration-by-parts flow = reparameterization flow in 1-D", noun="parts", label="{}")


@sf.claim("explicit RP solves transport for undefined invertible g and base density, d = 1, 2, 3", equation="55")
def reparam_transport_general():
    return sf.combine(
        [(f"d = {d}", sf.check_reparam_transport_identity(d)) for d in (1, 2, 3)],
        "Eq. 52-55 for any g",
        noun="parts",
        label="{}",
    )


@sf.claim("user g = mu + sigma sinh(eps), eps ~ N(0,1), with its induced density: transport", equation="52")
def sinh_user_g():
    x = sp.Symbol("x", real=True)
    mu, sigma = sp.Symbol("mu", real=True), sp.Symbol("sigma", positive=True)
    g = mu + sigma * sp.sinh(EPS)
    z = sp.asinh((x - mu) / sigma)
    p = sf.induced_density(_std_normal(), g, EPS, x=x, S=z).with_(params=(mu, sigma))
    flow = sf.flows.reparam(p, g=g, eps=EPS, S=z)
    return sf.combine(
        [(str(t), sf.check_transport(p, flow, t)) for t in p.params],
        "sinh reparameterization",
        noun="parts",
        label="{}",
    )


@sf.claim("user affine map x = mu + A eps in d = 3 (A not triangular), induced density: transport", equation="53")
def affine_3d_user_g():
    eps = sp.symbols("e1:4", real=True)
    s1, s2, s3 = sp.symbols("s1:4", positive=True)
    a, b, c = sp.symbols("a b c", real=True)
    mu = sp.symbols("m1:4", real=True)
    A = sp.Matrix([[s1, 0, c], [a, s2, 0], [0, b, s3]])
    base = sf.Density(sp.exp(-sum(e**2 for e in eps) / 2) / (2 * sp.pi) ** sp.Rational(3, 2), eps, ())
    g = list(sp.Matrix(mu) + A * sp.Matrix(eps))
    p = sf.induced_density(base, g, eps, x=sp.symbols("x1:4", real=True))
    # restricted to det A > 0, |det A| = det A
    p = p.with_(expr=p.expr.replace(sp.Abs, lambda e: e), constraints=(A.det() > 0,))
    flow = sf.flows.reparam(p, g=g, eps=eps, S=p.standardize)
    return sf.combine(
        [(str(t), sf.check_transport(p, flow, t)) for t in p.params],
        "3-D affine reparameterization",
        noun="parts",
        label="{}",
    )


@sf.claim("GRP's u term = div of the flow: Tr[(d2g/dtheta deps)(dg/deps)^-1], undefined g, d = 1..3", equation="61")
def grp_trace_identity():
    return sf.combine(
        [(f"d = {d}", sf.check_grp_trace_identity(d)) for d in (1, 2, 3)],
        "Eq. 60-62 for any g",
        noun="parts",
        label="{}",
    )


@sf.claim("Gamma GRP (Ruiz et al.) is the flow estimator with the reference flow", equation="59")
def gamma_grp_is_flow_estimator():
    p, base, T, S, x, alpha = _gamma_grp()
    est = sf.grp(base, T, EPS, alpha, x=x, S=S)
    psi1, psi2 = sp.polygamma(1, alpha), sp.polygamma(2, alpha)
    ref = x * ((sp.log(x) - sp.polygamma(0, alpha)) * psi2 / (2 * psi1) + psi1)
    flow_est = sf.derive(p, sf.Flow(p, {alpha: [ref]}), alpha)
    return sf.combine(
        [
            ("v = reference flow", sf.decide_zero(est.v[0] - ref, p.domain())),
            ("GRP = flow estimator", sf.check_equivalent(est, flow_est)),
        ],
        "Gamma GRP = flow estimator (Eq. 58-62)",
        noun="parts",
        label="{}",
    )


@sf.claim("Gamma GRP at alpha = 2.3: E[estimator] for phi = x^2 is 2 alpha + 1 = 5.6", equation="58")
def gamma_grp_value():
    p, base, T, S, x, alpha = _gamma_grp()
    est = sf.grp(base, T, EPS, alpha, x=x, S=S)
    a = sp.Rational(23, 10)
    return _planted(sf.estimator_mean(est, x**2, {alpha: a}), 2 * a + 1, 20, "Gamma GRP, phi = x^2", "quadrature")


@sf.claim("weighted LR/RP (k = 1/3): derived psi = (1 - k) dlog p/dtheta", equation="51")
def weighted_psi():
    parts = []
    k = sp.Rational(1, 3)
    for name in ("normal", "logistic"):
        p = getattr(sf.families, name)()
        flow = sf.flows.weighted(sf.flows.reparam(p), k)
        for t in p.params:
            est = sf.derive(p, flow, t)
            parts.append((f"{name} d/d{t}", sf.check_weights(est, psi=(1 - k) * p.score(t), equation="51")))
    return sf.combine(parts, "psi of the weighted estimator is (1 - k) times the score", noun="parts", label="{}")


@sf.claim("OMT flow of mvn(2) solves transport for every parameter", equation="52")
def omt_transport():
    m = sf.families.mvn(2)
    flow = sf.flows.omt(m)
    return sf.combine(
        [(str(t), sf.check_transport(m, flow, t)) for t in m.params],
        "OMT flow solves transport",
        noun="parts",
        label="{}",
    )


@sf.claim("OMT and Cholesky flows of mvn(2) are the same field for L21", equation="E.1", expect="refuted")
def omt_differs_from_cholesky():
    m = sf.families.mvn(2)
    return sf.check_same_flow(sf.flows.omt(m), sf.flows.reparam(m), m.params[3])


@sf.claim("the difference w of the OMT and Cholesky flows satisfies div(p w) = 0", equation="E.1")
def omt_difference_divergence_free():
    m = sf.families.mvn(2)
    omt, chol = sf.flows.omt(m), sf.flows.reparam(m)
    parts = []
    for t in m.params:
        w = [a - b for a, b in zip(chol.field(t), omt.field(t), strict=True)]
        div_pw = sum(sp.diff(wi, xi) + wi * gi for wi, xi, gi in zip(w, m.x, m.grad_log(), strict=True))
        parts.append((str(t), sf.decide_zero(div_pw, m.domain())))
    return sf.combine(parts, "div(p (u_chol - u_omt)) / p = 0", noun="parts", label="{}")


@sf.claim("importance sampling from a wider normal and the L-distribution stays unbiased", equation="50")
def importance_sampling():
    p = sf.families.normal()
    mu, sigma = p.params
    wide = p.with_(expr=p.expr.xreplace({sigma: 2 * sigma}), sampler=None, cdf=None, name="wide normal")
    parts = []
    for q in (wide, sf.families.l_distribution()):
        for flow in (sf.flows.zero(p), sf.flows.reparam(p)):
            for t in (mu, sigma):
                parts.append((f"{flow.kind} under {q.name}, d/d{t}", sf.classify(sf.derive(p, flow, t, q))))
    return sf.combine(parts, "IS estimators have psi = psi* (Thm. 4)", noun="parts", label="{}")


@sf.claim("LR under the L-distribution has psi = 1/(x - mu)", equation="80")
def lr_under_l_distribution():
    p = sf.families.normal()
    est = sf.derive(p, sf.flows.zero(p), p.params[0], sf.families.l_distribution())
    return sf.check_weights(est, psi=1 / (p.x[0] - p.params[0]), equation="80")


@sf.claim("classify proves LR, RP, weighted (Eq. 51) and Gamma GRP typed in by hand", equation="Thm. 4")
def classify_published():
    p = sf.families.normal()
    x, (mu, sigma) = p.x[0], p.params
    score = (x - mu) ** 2 / sigma**3 - 1 / sigma
    k = sp.Rational(1, 4)
    g, base, T, S, gx, alpha = _gamma_grp()
    ests = [
        sf.Estimator(p, sigma, [0], score, name="LR"),
        sf.Estimator(p, sigma, [(x - mu) / sigma], 0, name="RP"),
        sf.Estimator(p, sigma, [k * (x - mu) / sigma], (1 - k) * score, name="weighted"),
        sf.grp(base, T, EPS, alpha, density=g, S=S),
    ]
    return sf.combine(
        [(e.name, sf.classify(e)) for e in ests], "published estimators are unbiased", noun="parts", label="{}"
    )


@sf.claim(
    "classify refutes RP + score (double counting) with a counterexample phi", equation="Thm. 4", expect="refuted"
)
def classify_double_counting():
    p = sf.families.normal()
    x, (mu, sigma) = p.x[0], p.params
    score = (x - mu) ** 2 / sigma**3 - 1 / sigma
    return sf.classify(sf.Estimator(p, sigma, [(x - mu) / sigma], score, name="RP + score"))


@sf.claim("classify refutes LR with the sign flipped", equation="Thm. 4", expect="refuted")
def classify_flipped_lr():
    p = sf.families.normal()
    x, (mu, sigma) = p.x[0], p.params
    return sf.classify(sf.Estimator(p, mu, [0], -(x - mu) / sigma**2, name="-LR"))


@sf.claim("classify refutes a Gamma GRP that drops its Jacobian term", equation="58", expect="refuted")
def classify_grp_without_u():
    g, base, T, S, x, alpha = _gamma_grp()
    est = sf.grp(base, T, EPS, alpha, density=g, S=S)
    return sf.classify(sf.Estimator(g, alpha, est.v, est.psi - sp.polygamma(1, alpha), name="GRP - u term"))
