"""Generate the soundness corpus: wrong variants of every correct (density, flow) pair, and controls.

Each item is a zero-argument call returning a ``Verdict`` plus what a sound
engine may answer:

* ``mutant``    a wrong claim: must never be proved or consistent; refuted
                (with a witness) is the goal, unknown is allowed;
* ``control``   a true claim: must never be refuted; proved is the goal;
* ``near-miss`` a nonzero residual placed where random points rarely look
                (never proved, never consistent), or an identity written
                in a tricky form (never refuted);
* ``boundary``  transport holds but the boundary term or the normalization
                fails: never proved.

Mutants are derived mechanically from the pairs symflow ships (every family
with its reparameterization or implicit flow, mvn d = 2, 3 diagonal and full,
user-defined g's).  A mutant counts only when an *independent oracle* says it
is wrong: the un-simplified Eq. 19 residual div(p u) + dp/dtheta (not the
engine's log route) evaluated with mpmath at two fixed interior points.
Mutants the oracle finds equivalent are dropped and counted.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import mpmath
import sympy as sp

import symflow as sf
from symflow.core.verdict import Verdict

F = sf.families
# Budget for each symbolic step of a corpus check: short, because a timeout only ever
# turns a verdict into unknown (tests/test_hangs.py checks that separately).
TIMEOUT = 4.0
# True claims get more: proving (simplify, special-function rewrites) is the slow direction.
CONTROL_TIMEOUT = 10.0


@dataclass(frozen=True)
class Item:
    """One corpus entry: ``run()`` returns the verdict; ``group`` and ``kind`` classify it."""

    name: str
    group: str  # "mutant", "control", "near-miss", "boundary"
    kind: str  # mutation operator or control form
    run: Callable[[], Verdict] = field(repr=False, compare=False)
    identity: bool = False  # near misses: True when the claim is actually true
    names: tuple[str, ...] = ()  # boundary: words the verdict must mention (any of them)


@dataclass(frozen=True)
class Outcome:
    item: Item
    status: str
    has_witness: bool
    seconds: float
    text: str
    error: str = ""

    @property
    def ok(self) -> bool:
        """Whether the verdict is one a sound engine may give for this item."""
        g, s = self.item.group, self.status
        if self.error:
            return False
        if g == "mutant":
            return s in ("refuted", "unknown") and (s != "refuted" or self.has_witness)
        if g == "control":
            return s != "refuted"
        if g == "near-miss":
            return s != "refuted" if self.item.identity else s in ("refuted", "unknown")
        if g == "boundary":
            if s == "proved":
                return False
            return not self.item.names or any(n in self.text.lower() for n in self.item.names)
        raise AssertionError(g)


def run_item(item: Item) -> Outcome:
    """Run one item; an exception is recorded (it fails the item's test), never raised."""
    t0 = time.perf_counter()
    try:
        v = item.run()
    except Exception as exc:  # noqa: BLE001 - a crash is a finding, reported per item
        return Outcome(item, "error", False, time.perf_counter() - t0, "", f"{type(exc).__name__}: {exc}")
    text = " ".join(
        str(s) for s in (v.method, v.reason or "", v.claim, *(f"{k} {val}" for k, val in (v.details or ())))
    )
    return Outcome(item, str(v.status), v.witness is not None, time.perf_counter() - t0, text)


# -- the correct pairs ---------------------------------------------------------------------------

EPS = sp.Symbol("epsilon", real=True)
EPS2 = sp.symbols("epsilon_1:3", real=True)


def _sinh_normal() -> tuple[sf.Density, sf.Flow]:
    """User g: x = mu + sigma sinh(eps), eps ~ N(0, 1) (a sinh-normal density, built by hand)."""
    x, mu, sigma = sp.Symbol("x", real=True), sp.Symbol("mu", real=True), sp.Symbol("sigma", positive=True)
    z = sp.asinh((x - mu) / sigma)
    expr = sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi) / (sigma * sp.sqrt(1 + ((x - mu) / sigma) ** 2))
    p = sf.Density(expr, (x,), (mu, sigma), name="sinh-normal")
    return p, sf.flows.reparam(p, mu + sigma * sp.sinh(EPS), EPS, S=z, timeout=TIMEOUT)


def _lognormal() -> tuple[sf.Density, sf.Flow]:
    """User g: x = exp(mu + sigma eps) on (0, oo)."""
    x, mu, sigma = sp.Symbol("x", positive=True), sp.Symbol("mu", real=True), sp.Symbol("sigma", positive=True)
    z = (sp.log(x) - mu) / sigma
    expr = sp.exp(-(z**2) / 2) / (x * sigma * sp.sqrt(2 * sp.pi))
    p = sf.Density(expr, (x,), (mu, sigma), support=sp.Interval.open(0, sp.oo), name="lognormal")
    return p, sf.flows.reparam(p, sp.exp(mu + sigma * EPS), EPS, S=z, timeout=TIMEOUT)


def _affine2() -> tuple[sf.Density, sf.Flow]:
    """User g in d = 2: x = m + A eps with A = [[a, -b], [b, a]] (rotation and scale, det = a^2 + b^2)."""
    x1, x2 = sp.symbols("x_1 x_2", real=True)
    m1, m2, a, b = sp.symbols("m_1 m_2 a b", real=True)
    det = a**2 + b**2
    z1 = (a * (x1 - m1) + b * (x2 - m2)) / det
    z2 = (-b * (x1 - m1) + a * (x2 - m2)) / det
    expr = sp.exp(-(z1**2 + z2**2) / 2) / (2 * sp.pi * det)
    p = sf.Density(expr, (x1, x2), (m1, m2, a, b), name="affine2")
    g = (m1 + a * EPS2[0] - b * EPS2[1], m2 + b * EPS2[0] + a * EPS2[1])
    return p, sf.flows.reparam(p, g, EPS2, S=(z1, z2), timeout=TIMEOUT)


# The default tier (run by the default test suite) keeps the corpus to about a minute or two:
# psi mutants only for these pairs, the slow multivariate controls and tail cases left out.
DEFAULT_PSI_PAIRS = ("normal/reparam", "exponential/reparam", "uniform/reparam", "lognormal/reparam")
DEFAULT_FLOW_OPS_MULTI = ("sign flip", "u + c", "u + c (c = -1/2 on the last)", "another parameter's field")


@cache
def pairs(tier: str = "full") -> tuple[tuple[str, sf.Density, sf.Flow], ...]:
    """Every correct (density, flow) pair the corpus mutates (``tier="default"``: all but Student's t)."""
    out = []
    for name in ("normal", "laplace", "logistic", "l_distribution", "exponential", "uniform"):
        p = getattr(F, name)()
        out.append((f"{name}/reparam", p, sf.flows.reparam(p, timeout=TIMEOUT)))
    for name in ("normal", "logistic", "exponential", "gamma", "l_distribution"):
        p = getattr(F, name)()
        out.append((f"{name}/implicit", p, sf.flows.implicit(p, timeout=TIMEOUT)))
    if tier == "full":
        p = F.student_t(nu=3)
        out.append(("student_t(3)/implicit", p, sf.flows.implicit(p, timeout=TIMEOUT)))
    for d in (2, 3):
        for cov in ("diag", "full"):
            p = F.mvn(d, cov)
            out.append((f"mvn{d}-{cov}/reparam", p, sf.flows.reparam(p, timeout=TIMEOUT)))
    for name, build in (("sinh-normal", _sinh_normal), ("lognormal", _lognormal), ("affine2", _affine2)):
        p, flow = build()
        out.append((f"{name}/reparam", p, flow))
    return tuple(out)


# -- the independent oracle ------------------------------------------------------------------------


def _points(p: sf.Density) -> list[dict]:
    """Two fixed interior points (parameters and variables) of p's domain."""
    pts = []
    for shift in (0, 1):
        vals: dict = {}
        for i, t in enumerate(p.params):
            if t.is_positive:
                vals[t] = sp.Rational(13 + 4 * i + 5 * shift, 10)
            else:
                vals[t] = sp.Rational(3 + 7 * i - 11 * shift, 10)
        if any(c.xreplace(vals) == sp.false for c in p.constraints):
            vals = {t: v if k == 0 else v + 2 for k, (t, v) in enumerate(vals.items())}
        for j, (xj, s) in enumerate(zip(p.x, p.support_sets, strict=True)):
            lo, hi = s.inf.xreplace(vals), s.sup.xreplace(vals)
            if lo.is_finite and hi.is_finite:
                vals[xj] = lo + (hi - lo) * sp.Rational(37 + 20 * shift, 100)
            elif lo.is_finite:
                vals[xj] = lo + sp.Rational(8 + 9 * shift + j, 10)
            else:
                vals[xj] = sp.Rational(61 - 150 * shift + 10 * j, 100)
        pts.append(vals)
    return pts


def _value(expr: sp.Expr, vals: dict) -> mpmath.mpf:
    with mpmath.workdps(30):
        return mpmath.mpmathify(sp.N(expr.xreplace(vals), 30))


def oracle_nonzero(p: sf.Density, expr: sp.Expr) -> bool:
    """Whether ``expr`` is clearly nonzero (> 1e-12 relative to p) at one of p's two oracle points."""
    for vals in _points(p):
        try:
            v = _value(expr, vals)
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        if mpmath.isfinite(abs(v)) and abs(v) > mpmath.mpf("1e-12"):
            return True
    return False


def transport_lhs(p: sf.Density, u: tuple, wrt: sp.Symbol) -> sp.Expr:
    """(div(p u) + dp/dtheta) / p straight from Eq. 52, with no log-route rewriting."""
    div = sum((sp.diff(p.expr * ui, xi) for ui, xi in zip(u, p.x, strict=True)), sp.S.Zero)
    return (div + sp.diff(p.expr, wrt)) / p.expr


# -- mutation operators on flows ---------------------------------------------------------------------


def _other(p: sf.Density, wrt: sp.Symbol) -> sp.Symbol:
    i = p.params.index(wrt)
    return p.params[(i + 1) % len(p.params)]


def _missing_jacobian(p: sf.Density, flow: sf.Flow, wrt: sp.Symbol) -> tuple | None:
    """Implicit: -dS/dtheta without (dS/dx)^-1.  Reparam: dg/dtheta at eps = x (no inverse map)."""
    if flow.kind == "implicit":
        S = (p.cdf,) if p.dim == 1 and p.cdf is not None else p.standardize
        return tuple(-sp.diff(s, wrt) for s in S)
    if p.reparam is None:
        return None  # user g's: the mutant would need g itself, which the Flow does not keep
    g, eps = p.reparam.g, p.reparam.eps
    return tuple(sp.diff(gi, wrt).xreplace(dict(zip(eps, p.x, strict=True))) for gi in g)


def flow_mutants(p: sf.Density, flow: sf.Flow, wrt: sp.Symbol) -> list[tuple[str, tuple]]:
    u = flow.field(wrt)
    other = _other(p, wrt)
    out = [
        ("sign flip", tuple(-c for c in u)),
        ("factor 2", tuple(2 * c for c in u)),
        ("u + c", (u[0] + 1, *u[1:])),
        ("u + c (c = -1/2 on the last)", (*u[:-1], u[-1] - sp.Rational(1, 2))),
        ("swapped parameter", tuple(c.xreplace({wrt: other, other: wrt}) for c in u)),
        ("another parameter's field", flow.field(other) if other in flow.params else None),
        ("missing Jacobian", _missing_jacobian(p, flow, wrt)),
    ]
    seen, kept = set(), []
    for kind, comps in out:
        if comps is None or comps == u or comps in seen:
            continue
        seen.add(comps)
        kept.append((kind, comps))
    return kept


# -- the corpus --------------------------------------------------------------------------------------

DROPPED: list[str] = []  # equivalent mutants the oracle dropped (name: reason)


def _transport(p, u, wrt, timeout=TIMEOUT):
    return lambda: sf.check_transport(p, sf.Flow(p, {wrt: list(u)}), wrt, timeout=timeout)


def _lr_estimator(p: sf.Density, wrt: sp.Symbol) -> sf.Estimator:
    """The LR estimator typed in from Eq. 20 (psi = d log p / d theta, computed from p, not derive)."""
    return sf.Estimator(p, wrt, [0] * p.dim, sp.diff(p.expr, wrt) / p.expr, name="LR")


def _half_estimator(p: sf.Density, u: tuple, wrt: sp.Symbol) -> sf.Estimator:
    """The weighted flow u/2 (Eq. 51): psi = (div(p u/2) + dp/dtheta)/p, from Eq. 19 directly."""
    half = tuple(c / 2 for c in u)
    return sf.Estimator(p, wrt, half, transport_lhs(p, half, wrt), name="weighted 1/2")


def _weights(est, psi):
    return lambda: sf.check_weights(est, psi=psi, timeout=TIMEOUT)


@cache
def mutants(tier: str = "full") -> tuple[Item, ...]:
    items: list[Item] = []
    DROPPED.clear()

    def add(name, kind, run, wrong_expr, p):
        if oracle_nonzero(p, wrong_expr):
            items.append(Item(name, "mutant", kind, run))
        else:
            DROPPED.append(f"{name}: equivalent to the correct claim at the oracle points")

    for label, p, flow in pairs(tier):
        for wrt in flow.params:
            u = flow.field(wrt)
            for kind, comps in flow_mutants(p, flow, wrt):
                if tier == "default" and p.dim > 1 and kind not in DEFAULT_FLOW_OPS_MULTI:
                    continue
                add(f"{label}/{wrt}/{kind}", kind, _transport(p, comps, wrt), transport_lhs(p, comps, wrt), p)
            if tier == "default" and label not in DEFAULT_PSI_PAIRS:
                continue
            # psi mutants: Eq. 19/50 with one term dropped or d log p for d p.
            lr = _lr_estimator(p, wrt)
            add(
                f"{label}/{wrt}/LR psi = dp/dtheta",
                "dp in place of dlog p",
                _weights(lr, sp.diff(p.expr, wrt)),
                lr.psi - sp.diff(p.expr, wrt),
                p,
            )
            half = _half_estimator(p, u, wrt)
            h = tuple(c / 2 for c in u)
            div_h = sum((sp.diff(c, xi) for c, xi in zip(h, p.x, strict=True)), sp.S.Zero)
            along = sum((c * sp.diff(p.expr, xi) / p.expr for c, xi in zip(h, p.x, strict=True)), sp.S.Zero)
            score = sp.diff(p.expr, wrt) / p.expr
            add(f"{label}/{wrt}/psi without div u", "missing divergence term", _weights(half, along + score), div_h, p)
            add(
                f"{label}/{wrt}/psi with dlog p/dtheta for dp/dtheta",
                "dlog p in place of dp",
                _weights(half, div_h + along + sp.log(p.expr).diff(wrt) / p.expr),
                score - sp.log(p.expr).diff(wrt) / p.expr,
                p,
            )
    items.extend(_normalizer_mutants())
    items.extend(_dropped_term_mutants())
    return tuple(items)


def _normalizer_mutants() -> list[Item]:
    out = []
    for name in ("normal", "laplace", "logistic", "exponential", "uniform", "gamma", "l_distribution"):
        p = getattr(F, name)()
        wrong = [("factor 2", 2 * p.expr)]
        pos = [t for t in p.params if t.is_positive]
        if pos:
            wrong.append(("missing 1/scale", p.expr * pos[-1]))
        if p.expr.has(sp.pi):
            wrong.append(("pi for 2 pi", p.expr.xreplace({sp.pi: 2 * sp.pi})))
        for kind, expr in wrong:
            q = p.with_(expr=expr, name=f"{name} ({kind})")
            out.append(
                Item(
                    f"{name}/normalizer/{kind}",
                    "mutant",
                    "wrong normalizer",
                    lambda q=q: sf.check_normalized(q, timeout=TIMEOUT),
                )
            )
    return out


def _without_extra_terms(est: sf.Estimator) -> sf.Estimator:
    return dataclasses.replace(est, extra_terms=())


def _dropped_term_mutants() -> list[Item]:
    out = []
    p = F.uniform()
    x = p.x[0]
    a, b = p.params
    for wrt in (a, b):
        est = sf.derive(p, sf.flows.zero(p), wrt, timeout=TIMEOUT)
        for phi in (x, x**2, x**3 - 2 * x, sp.exp(x)):
            out.append(
                Item(
                    f"uniform/LR/{wrt}/phi={phi}/no moving-boundary term",
                    "mutant",
                    "dropped boundary term",
                    lambda est=est, phi=phi: sf.check_unbiased(_without_extra_terms(est), phi, timeout=TIMEOUT),
                )
            )
    p = F.normal()
    x = p.x[0]
    mu, sigma = p.params
    rp = sf.flows.reparam(p)
    for c in (sp.Rational(1, 2), sp.Integer(-1), sp.Integer(2)):
        phi = sp.Heaviside(x - c)
        for wrt in (mu, sigma):
            est = sf.derive(p, rp, wrt, phi=phi, timeout=TIMEOUT)
            out.append(
                Item(
                    f"normal/RP/{wrt}/phi=H(x-{c})/no jump term",
                    "mutant",
                    "dropped jump term",
                    lambda est=est, phi=phi: sf.check_unbiased(
                        _without_extra_terms(est), phi, {mu: 0.3, sigma: 1.2}, timeout=TIMEOUT
                    ),
                )
            )
    return out


def summarize(outcomes: list[Outcome]) -> dict:
    """Counts per group and status, and per mutation kind."""
    out: dict = {"groups": {}, "mutant_kinds": {}, "dropped_equivalent": len(DROPPED), "failures": []}
    for o in outcomes:
        g = out["groups"].setdefault(o.item.group, {})
        g[o.status] = g.get(o.status, 0) + 1
        g["total"] = g.get("total", 0) + 1
        if o.item.group == "mutant":
            k = out["mutant_kinds"].setdefault(o.item.kind, {"total": 0, "refuted": 0, "unknown": 0, "wrong": 0})
            k["total"] += 1
            if o.status == "refuted":
                k["refuted"] += 1
            elif o.status == "unknown":
                k["unknown"] += 1
            else:
                k["wrong"] += 1
        if not o.ok:
            out["failures"].append(f"{o.item.name}: {o.status} {o.error}")
    out["seconds"] = round(sum(o.seconds for o in outcomes), 1)
    return out


# -- controls: true claims in unusual forms -------------------------------------------------------


def _gaussian_parts(p: sf.Density) -> tuple[sp.Matrix, sp.Matrix, sp.Expr]:
    """(L, mu, r) of a reparameterized Gaussian: g = mu + L eps, r = |L^-1 (x - mu)|^2."""
    g, eps = p.reparam.g, p.reparam.eps
    L = sp.Matrix([[sp.diff(gi, e) for e in eps] for gi in g])
    mu = sp.Matrix([gi.xreplace({e: 0 for e in eps}) for gi in g])
    r = sp.Add(*[z**2 for z in p.standardize])
    return L, mu, r


def divergence_free(p: sf.Density, kind: str) -> tuple:
    """A field w with div(p w) = 0 under a Gaussian p (App. E.1: RP flows are not unique).

    ``rotation``: w = Sigma B (x - mu) f(r) with B antisymmetric and f any function of the
    Mahalanobis radius r: div w = f tr(Sigma B) + 2 f' (x - mu)^T B (x - mu) = 0 and
    w . grad log p = -(x - mu)^T B^T (x - mu) f = 0.
    ``score rotation``: w = (d_2 log p, -d_1 log p, 0, ...), since p w = (d_2 p, -d_1 p).
    """
    x = sp.Matrix(p.x)
    if kind == "score rotation":
        g = p.grad_log()
        return (g[1], -g[0], *([sp.S.Zero] * (p.dim - 2)))
    L, mu, r = _gaussian_parts(p)
    d = p.dim
    B = sp.Matrix(d, d, lambda i, j: (i - j) * (1 + i + j) if i != j else 0)  # antisymmetric
    f = {"rotation": sp.S.One, "rotation exp(-r)": sp.exp(-r), "rotation r/(1+r)": r / (1 + r)}[kind]
    w = L * L.T * B * (x - mu) * f
    return tuple(w)


def _unusual_forms(u: tuple, x: sp.Symbol) -> list[tuple[str, tuple]]:
    one_trig = sp.sin(x) ** 2 + sp.cos(x) ** 2
    one_hyp = sp.cosh(x) ** 2 - sp.sinh(x) ** 2
    return [
        ("times sin^2 + cos^2", tuple(c * one_trig for c in u)),
        ("times cosh^2 - sinh^2", tuple(c * one_hyp for c in u)),
        ("expanded, over a common denominator", tuple(sp.together(sp.expand(c)) for c in u)),
    ]


@cache
def controls(tier: str = "full") -> tuple[Item, ...]:
    items: list[Item] = []
    for label, p, flow in pairs(tier):
        for wrt in flow.params:
            u = flow.field(wrt)
            items.append(
                Item(f"{label}/{wrt}/as shipped", "control", "shipped flow", _transport(p, u, wrt, CONTROL_TIMEOUT))
            )
            if p.dim == 1:
                for kind, comps in _unusual_forms(u, p.x[0]):
                    if tier == "default" and (kind.startswith("times cosh") or label == "gamma/implicit"):
                        continue
                    items.append(
                        Item(f"{label}/{wrt}/{kind}", "control", kind, _transport(p, comps, wrt, CONTROL_TIMEOUT))
                    )
            else:
                kinds = ["score rotation"]
                if label.startswith("mvn"):
                    kinds += ["rotation", "rotation exp(-r)"]
                    if tier == "full" or label == "mvn2-diag/reparam":
                        kinds.append("rotation r/(1+r)")
                for kind in kinds:
                    w = divergence_free(p, kind)
                    comps = tuple(c + wc for c, wc in zip(u, w, strict=True))
                    items.append(
                        Item(
                            f"{label}/{wrt}/u + w ({kind})",
                            "control",
                            f"u + w, {kind}",
                            _transport(p, comps, wrt, CONTROL_TIMEOUT),
                        )
                    )
    for name in ("normal", "laplace", "logistic", "exponential", "uniform", "gamma", "l_distribution"):
        p = getattr(F, name)()
        items.append(
            Item(f"{name}/normalized", "control", "normalized", lambda p=p: sf.check_normalized(p, timeout=TIMEOUT))
        )
    p = F.normal()
    x, (mu, sigma) = p.x[0], p.params
    lr = _lr_estimator(p, sigma)
    items.append(
        Item("normal/LR/sigma/Eq. 21", "control", "closed-form psi", _weights(lr, (x - mu) ** 2 / sigma**3 - 1 / sigma))
    )
    items.append(
        Item("normal/LR/mu/Eq. 21", "control", "closed-form psi", _weights(_lr_estimator(p, mu), (x - mu) / sigma**2))
    )
    for name in ("normal", "laplace", "logistic", "exponential"):
        p = getattr(F, name)()
        rp = sf.flows.reparam(p)
        for wrt in p.params:
            items.append(
                Item(
                    f"{name}/reparam/{wrt}/boundary, phi = x^2",
                    "control",
                    "boundary term vanishes",
                    lambda p=p, rp=rp, wrt=wrt: sf.check_boundary(p, rp, wrt, p.x[0] ** 2, timeout=TIMEOUT),
                )
            )
    return tuple(items)


# -- near misses: residuals that hide from random points ------------------------------------------------


@cache
def near_misses(tier: str = "full") -> tuple[Item, ...]:
    from symflow.zero import decide_zero

    p = F.normal()
    x, (mu, sigma) = p.x[0], p.params
    dom = p.domain()
    nonzero = {
        "x H(x - 5)": x * sp.Heaviside(x - 5),
        "H(x - 5) (x - mu)^2": sp.Heaviside(x - 5) * (x - mu) ** 2,
        "H(x - 40)": sp.Heaviside(x - 40),
        "H(-x - 60) x^2": sp.Heaviside(-x - 60) * x**2,
        "exp(-10^6 (x - 3)^2)": sp.exp(-(10**6) * (x - 3) ** 2),
        "exp(-10^6 (x - 3)^2) + sin^2 + cos^2 - 1": sp.exp(-(10**6) * (x - 3) ** 2)
        + sp.sin(x) ** 2
        + sp.cos(x) ** 2
        - 1,
        "x |x| - x^2": x * sp.Abs(x) - x**2,
        "sqrt(x^2) - x": sp.sqrt(x**2) - x,
        "max(x, 5) - x": sp.Max(x, 5) - x,
        "relu(x - 7)": (x - 7 + sp.Abs(x - 7)) / 2,
        "Piecewise((x - 3, x > 3), (0, True))": sp.Piecewise((x - 3, x > 3), (0, True)),
        "floor(x / 50)": sp.floor(x / 50),
        "10^-60 x": x / sp.Integer(10) ** 60,
        "exp(-x^2) 10^-80 + cos(x)^2 + sin(x)^2 - 1": sp.exp(-(x**2)) / sp.Integer(10) ** 80
        + sp.cos(x) ** 2
        + sp.sin(x) ** 2
        - 1,
        "sin(10^6 x) (mu - x)^2 / 10^50": sp.sin(10**6 * x) * (mu - x) ** 2 / sp.Integer(10) ** 50,
    }
    identities = {
        "sqrt(x^2) - |x|": sp.sqrt(x**2) - sp.Abs(x),
        "x |x| - x^2 sign(x)": x * sp.Abs(x) - x**2 * sp.sign(x),
        "max(x, 5) + min(x, 5) - x - 5": sp.Max(x, 5) + sp.Min(x, 5) - x - 5,
        "H(x - 5) + H(5 - x) - 1": sp.Heaviside(x - 5) + sp.Heaviside(5 - x) - 1,
        "|x - mu| - (x - mu) sign(x - mu)": sp.Abs(x - mu) - (x - mu) * sp.sign(x - mu),
    }
    items = [
        Item(f"decide_zero: {k}", "near-miss", "hidden nonzero", lambda e=e: decide_zero(e, dom, timeout=TIMEOUT))
        for k, e in nonzero.items()
    ]
    items += [
        Item(
            f"decide_zero: {k}",
            "near-miss",
            "tricky identity",
            lambda e=e: decide_zero(e, dom, timeout=TIMEOUT),
            identity=True,
        )
        for k, e in identities.items()
    ]
    u = sf.flows.reparam(p).field(sigma)
    for k, extra in (
        ("+ H(x - 5)", sp.Heaviside(x - 5)),
        ("+ exp(-10^6 (x - 3)^2)", sp.exp(-(10**6) * (x - 3) ** 2)),
        ("+ (x - 9 + |x - 9|)/2", (x - 9 + sp.Abs(x - 9)) / 2),
    ):
        items.append(
            Item(
                f"normal/reparam/sigma/u {k}",
                "near-miss",
                "hidden nonzero in a flow",
                _transport(p, (u[0] + extra,), sigma),
            )
        )
    return tuple(items)


# -- boundary and support: transport holds, the integration by parts does not -----------------------------


def _cauchy() -> sf.Density:
    x, mu, sigma = sp.Symbol("x", real=True), sp.Symbol("mu", real=True), sp.Symbol("sigma", positive=True)
    z = (x - mu) / sigma
    p = sf.Density(
        1 / (sp.pi * sigma * (1 + z**2)),
        (x,),
        (mu, sigma),
        name="cauchy",
        reparam=sf.Reparameterization((mu + sigma * EPS,), (EPS,), sf.Density(1 / (sp.pi * (1 + EPS**2)), (EPS,), ())),
        standardize=(z,),
    )
    return p


def _shifted_exponential() -> sf.Density:
    """lambda exp(-lambda (x - m)) on [m, oo): the lower edge moves with m."""
    x, lam, m = sp.Symbol("x", real=True), sp.Symbol("lambda", positive=True), sp.Symbol("m", real=True)
    return sf.Density(
        lam * sp.exp(-lam * (x - m)), (x,), (lam, m), support=sp.Interval(m, sp.oo), name="shifted exponential"
    )


@cache
def boundary_cases(tier: str = "full") -> tuple[Item, ...]:
    items: list[Item] = []
    # u = u_RP + C/p solves div(p u) + dp/dtheta = 0 exactly (d/dx (p C/p) = 0), but p u phi -> C phi
    # at both tails: the flux term of Eq. 47/48 is C [phi]_{-oo}^{oo} and the estimator misses it.
    for name in ("normal", "laplace", "logistic") if tier == "full" else ("normal",):
        p = getattr(F, name)()
        x, (mu, sigma) = p.x[0], p.params
        u = sf.flows.reparam(p).field(sigma)[0]
        for c in (sp.Integer(1), sp.Rational(-1, 3)):
            flow = sf.Flow(p, {sigma: [u + c / p.expr]}, kind="user", note=f"u_RP + {c}/p")
            items.append(
                Item(
                    f"{name}/sigma/u_RP + {c}/p: transport still holds",
                    "control",
                    "transport holds, boundary fails",
                    lambda p=p, flow=flow, sigma=sigma: sf.check_transport(p, flow, sigma, timeout=TIMEOUT),
                )
            )
            for phi in (sp.atan(x), sp.Integer(1) + 0 * x, x):
                items.append(
                    Item(
                        f"{name}/sigma/u_RP + {c}/p/boundary, phi = {phi}",
                        "boundary",
                        "flux at infinity",
                        lambda p=p, flow=flow, sigma=sigma, phi=phi: sf.check_boundary(
                            p, flow, sigma, phi, timeout=TIMEOUT
                        ),
                        names=("boundary",),
                    )
                )
            est = sf.Estimator(p, sigma, [u + c / p.expr], 0, flow=flow, name="u_RP + C/p")
            items.append(
                Item(
                    f"{name}/sigma/u_RP + {c}/p/unbiased, phi = atan(x)",
                    "boundary",
                    "flux at infinity",
                    # timeout bounds the whole call: two quadratures of a 1/x^2 tail at 30 and 50 digits
                    # and their confirmation on other nodes take ~4.5 s on one core
                    lambda est=est, x=x, mu=mu, sigma=sigma: sf.check_unbiased(
                        est, sp.atan(x), {mu: 0.3, sigma: 1.2}, timeout=5 * TIMEOUT
                    ),
                    names=("boundary",),
                )
            )
    # Heavy tails: Cauchy's location/scale flow; E[x] and E[x^2] do not exist.
    p = _cauchy()
    x, (mu, sigma) = p.x[0], p.params
    rp = sf.flows.reparam(p)
    for wrt in (mu, sigma) if tier == "full" else (sigma,):
        est = sf.Estimator(p, wrt, rp.field(wrt), 0, flow=rp, name="Cauchy RP")
        for phi in (x, x**2) if tier == "full" else (x,):
            items.append(
                Item(
                    f"cauchy/reparam/{wrt}/unbiased, phi = {phi}",
                    "boundary",
                    "heavy tails",
                    lambda est=est, phi=phi: sf.check_unbiased(est, phi, timeout=TIMEOUT),
                )
            )
    # Not normalized, or not integrable.
    n = F.normal()
    x, (mu, sigma) = n.x[0], n.params
    for kind, expr in (
        ("twice a normal", 2 * n.expr),
        ("normal without 1/sqrt(2 pi)", n.expr * sp.sqrt(2 * sp.pi)),
        ("exp(-(x - mu)) on the reals (not integrable)", sp.exp(-(x - mu)) / sigma),
        ("(x - mu)^2 Cauchy (not integrable)", (x - mu) ** 2 / (sp.pi * sigma * (1 + ((x - mu) / sigma) ** 2))),
    ):
        q = sf.Density(expr, (x,), (mu, sigma), name=kind)
        items.append(
            Item(
                f"{kind}/normalized",
                "boundary",
                "not normalized",
                lambda q=q: sf.check_normalized(q, timeout=TIMEOUT),
                names=("normaliz",),
            )
        )
        if "integrable" not in kind:
            est = sf.Estimator(q, mu, [0], sp.diff(q.expr, mu) / q.expr, name="LR")
            items.append(
                Item(
                    f"{kind}/LR/mu/unbiased, phi = x^2",
                    "boundary",
                    "not normalized",
                    lambda est=est: sf.check_unbiased(est, x**2, timeout=TIMEOUT),
                    names=("normaliz",),
                )
            )
    # Supports that move with theta, estimator without the moving-boundary term (Eq. 77).
    p = _shifted_exponential()
    x, (lam, m) = p.x[0], p.params
    for wrt in (lam, m):
        est = sf.derive(p, sf.flows.zero(p), wrt, timeout=TIMEOUT)
        items.append(
            Item(
                f"shifted exponential/LR/{wrt}/with moving-boundary term",
                "control",
                "moving support",
                lambda est=est: sf.check_unbiased(est, x**2, timeout=TIMEOUT),
            )
        )
    # The edge m moves with m, not with lambda: only d/dm needs the term.
    est = sf.derive(p, sf.flows.zero(p), m, timeout=TIMEOUT)
    items.append(
        Item(
            "shifted exponential/LR/m/no moving-boundary term",
            "boundary",
            "moving support",
            lambda est=est: sf.check_unbiased(_without_extra_terms(est), x**2, timeout=TIMEOUT),
            names=("moving-boundary",),
        )
    )
    est = sf.derive(p, sf.flows.zero(p), lam, timeout=TIMEOUT)
    items.append(
        Item(
            "shifted exponential/LR/lambda/no moving-boundary term (none needed)",
            "control",
            "moving support",
            lambda est=est: sf.check_unbiased(_without_extra_terms(est), x**2, timeout=TIMEOUT),
        )
    )
    return tuple(items)


def all_items(tier: str = "full") -> tuple[Item, ...]:
    """Every item of a tier: ``"default"`` (the test suite) or ``"full"`` (benchmarks/corpus_report.py)."""
    return mutants(tier) + controls(tier) + near_misses(tier) + boundary_cases(tier)


# -- running and reporting -----------------------------------------------------------------------------

OUTCOMES: dict = {}  # item name -> Outcome, filled as items run (read by the conftest summary)


def items_for(group: str, tier: str = "default") -> tuple[Item, ...]:
    return tuple(i for i in all_items(tier) if i.group == group)


def outcomes_for(group: str, tier: str = "default") -> list[Outcome]:
    """Run (once per process) every item of a group and return the outcomes."""
    out = []
    for item in items_for(group, tier):
        if item.name not in OUTCOMES:
            OUTCOMES[item.name] = run_item(item)
        out.append(OUTCOMES[item.name])
    return out


def format_table(summary: dict) -> str:
    """The counts as a Markdown table (what benchmarks/corpus_report.py prints)."""
    statuses = ("proved", "consistent", "unknown", "refuted", "error")
    lines = ["| group | items | " + " | ".join(statuses) + " |", "|---|---|" + "---|" * len(statuses)]
    for g in ("mutant", "control", "near-miss", "boundary"):
        c = summary["groups"].get(g, {})
        lines.append(f"| {g} | {c.get('total', 0)} | " + " | ".join(str(c.get(s, 0)) for s in statuses) + " |")
    lines += ["", "| mutation kind | mutants | refuted | unknown | wrongly passed |", "|---|---|---|---|---|"]
    for kind, k in sorted(summary["mutant_kinds"].items()):
        lines.append(f"| {kind} | {k['total']} | {k['refuted']} | {k['unknown']} | {k['wrong']} |")
    lines.append("")
    lines.append(
        f"equivalent mutants dropped by the oracle: {summary['dropped_equivalent']}; "
        f"items failing their goal: {len(summary['failures'])}; check time {summary['seconds']} s"
    )
    lines.extend(f"- {f}" for f in summary["failures"])
    return "\n".join(lines)
