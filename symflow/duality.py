"""The height-augmented flow and the LR/RP duality under the divergence theorem (Sec. 4, App. D).

Sampling a height h = eps_h p(x), eps_h ~ U(0, 1), with each x turns p into
the uniform density on the volume V = {(x, h): 0 < h < p(x)}.  Perturbing
theta_i moves every point of V along the augmented field (Eq. 16)

    u~ = [u(x), (h/p) Dp/Dtheta_i],   Dp/Dtheta_i = dp/dtheta_i + u . grad p,

and the uniform density on V stays uniform, so u~ is incompressible exactly
when u solves the transport equation:

    p div_x~ u~ = div(p u) + dp/dtheta_i.

The divergence theorem then turns the volume integral of grad(phi) . u~ (the
RP integral) into a surface integral (Eq. 17); on the top face h = p(x) the
normal is n = [-grad p, 1] and u~ . n = dp/dtheta_i, so the surface integral
is the LR integral (Eq. 18, 43-46).

Also here: the divergence theorem as used in Eq. (47)-(48) for a user phi,
with the boundary term when it does not vanish, and Stein's identity (Eq. 8),
which is its special case u = e_j.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from ._convert import exact_values
from .budget import BudgetExceeded, resolve_timeout, run_with_budget
from .checks import phi_expr
from .density import Density
from .domain import Domain, Interval1D
from .errors import FlowError, SymflowError
from .flow import Flow
from .verdict import Status, Verdict, Witness
from .zero import decide_zero

__all__ = [
    "AugmentedFlow",
    "augmented_flow",
    "check_divergence_theorem",
    "check_duality",
    "check_incompressibility_is_transport",
    "check_incompressible",
    "check_stein",
]

H = sp.Symbol("h", positive=True)

# 1-D quadrature runs at 30 digits and the numbers must agree to 20; a gap is confirmed at 20 digits.
# (50 digits costs about 3x more and buys nothing for deciding these identities.)
HIGH_DPS_1D = 30
LOW_DPS_1D = 20
AGREE_DIGITS_1D = 20
# 2-D uses float64 Gauss-Legendre (mpmath 2-D quadrature takes minutes); agreement to 1e-10.
AGREE_REL_2D = 1e-10


@dataclass(frozen=True)
class AugmentedFlow:
    r"""The (d+1)-dimensional field of Eq. (16) on :math:`\tilde x = [x, h]`, :math:`0 < h < p(x)`.

    .. math::
        \tilde u = \Big[u(x),\ \frac{h}{p}\frac{Dp}{D\theta_i}\Big],\qquad
        \frac{Dp}{D\theta_i} = \partial_{\theta_i} p + u\cdot\nabla p

    The h-component is stored as :math:`h(\partial_{\theta_i}\log p + u\cdot\nabla\log p)`,
    the same function with p divided out.  For a reparameterization flow this
    is :math:`\nabla_{\theta_i}\tilde g` at :math:`\epsilon = S(x)`.

    Attributes
    ----------
    density, wrt : the density p and the parameter theta_i.
    h : Symbol, the height coordinate.
    field : tuple of d + 1 expressions, the components of u~ over (x_1..x_d, h).
    material_derivative : Dp/Dtheta_i.
    """

    density: Density
    wrt: sp.Symbol
    h: sp.Symbol
    field: tuple[sp.Expr, ...]
    material_derivative: sp.Expr

    @property
    def variables(self) -> tuple[sp.Symbol, ...]:
        """(x_1, ..., x_d, h)."""
        return self.density.x + (self.h,)

    def divergence(self) -> sp.Expr:
        r""":math:`\nabla_{\tilde x}\cdot\tilde u`."""
        return sum((sp.diff(c, v) for c, v in zip(self.field, self.variables, strict=True)), sp.S.Zero)

    def normal_flux_top(self) -> sp.Expr:
        r""":math:`\tilde u\cdot n` on the graph h = p(x) with :math:`n = [-\nabla p, 1]` (Eq. 43, 45)."""
        p = self.density
        top = {self.h: p.expr}
        flux = self.field[-1].xreplace(top)
        for c, xj in zip(self.field[:-1], p.x, strict=True):
            flux -= c.xreplace(top) * sp.diff(p.expr, xj)
        return flux

    def domain(self) -> Domain:
        """Where (x, h, theta) live; h is sampled on (0, oo) because every identity is polynomial in h."""
        base = self.density.domain()
        return Domain(
            base.variables + ((self.h, Interval1D(sp.S.Zero, sp.S.Infinity)),),
            base.parameters,
            base.constraints,
        )


def _field(p: Density, flow: Flow, wrt: sp.Symbol) -> tuple[sp.Expr, ...]:
    if not isinstance(p, Density):
        raise SymflowError(f"p must be a Density, got {type(p).__name__}")
    if not isinstance(flow, Flow):
        raise FlowError(f"flow must be a Flow (see symflow.flows), got {type(flow).__name__}")
    if flow.density != p:
        raise FlowError("the flow was built over a different density; build it from this one")
    return flow.field(p.check_param(wrt))


def augmented_flow(p: Density, flow: Flow, wrt: sp.Symbol, *, h: sp.Symbol | None = None) -> AugmentedFlow:
    r"""The height-augmented flow of Eq. (16).

    .. math::
        \tilde u = \Big[u,\ \frac{h}{p}\Big(\partial_{\theta_i} p + u\cdot\nabla p\Big)\Big]

    Parameters
    ----------
    p : Density
    flow : Flow over p
    wrt : Symbol, the parameter theta_i
    h : Symbol, optional
        The height coordinate (default a positive Symbol ``h``); must differ
        from p's variables and parameters.
    """
    u = _field(p, flow, wrt)
    h = H if h is None else h
    if not isinstance(h, sp.Symbol) or h in p.x or h in p.params:
        raise SymflowError("h must be a Symbol distinct from the density's variables and parameters")
    along = sum((ui * gi for ui, gi in zip(u, p.grad_log(), strict=True)), sp.S.Zero)
    height = h * (p.score(wrt) + along)
    material = sp.diff(p.expr, wrt) + sum((ui * sp.diff(p.expr, xi) for ui, xi in zip(u, p.x, strict=True)), sp.S.Zero)
    return AugmentedFlow(p, wrt, h, (*u, height), material)


def check_incompressible(p: Density, flow: Flow, wrt: sp.Symbol, *, timeout: float | None = None) -> Verdict:
    r"""Is the augmented flow incompressible, :math:`\nabla_{\tilde x}\cdot\tilde u = 0` (claim under Eq. 16)?

    Since :math:`p\,\nabla_{\tilde x}\cdot\tilde u = \nabla\cdot(p u) + \partial_{\theta_i} p`
    (see ``check_incompressibility_is_transport``), this holds exactly when u
    solves the transport equation (Eq. 52).
    """
    aug = augmented_flow(p, flow, wrt)
    div = aug.divergence()
    verdict = decide_zero(
        div, aug.domain(), timeout=timeout, claim=f"augmented {flow.kind} flow is incompressible, d/d{wrt} (Eq. 16)"
    )
    return _with_details(verdict, (("divergence of u~", div),))


def _with_details(v: Verdict, extra: tuple) -> Verdict:
    return Verdict(v.status, v.method, v.residual, v.witness, v.reason, v.claim, tuple(v.details) + tuple(extra))


def check_incompressibility_is_transport(d: int = 1, *, timeout: float | None = None) -> Verdict:
    r"""Prove :math:`p\,\nabla_{\tilde x}\cdot\tilde u = \nabla\cdot(p u) + \partial_\theta p` for arbitrary p and u.

    p(x, theta) and u_j(x) are undefined SymPy functions over d variables, so
    the identity is proved for every density and flow at once: the augmented
    flow (Eq. 16) is incompressible exactly where the transport equation
    (Eq. 52) holds (p > 0 inside V).
    """
    if not isinstance(d, int) or isinstance(d, bool) or d < 1:
        raise SymflowError(f"d must be a positive integer dimension, got {d!r}")
    xs = sp.symbols(f"x1:{d + 1}", real=True)
    theta = sp.Symbol("theta", real=True)
    p = sp.Function("p")(*xs, theta)
    u = [sp.Function(f"u{j + 1}")(*xs) for j in range(d)]
    material = sp.diff(p, theta) + sum((uj * sp.diff(p, xj) for uj, xj in zip(u, xs, strict=True)), sp.S.Zero)
    field = [*u, H / p * material]
    div = sum((sp.diff(c, v) for c, v in zip(field, (*xs, H), strict=True)), sp.S.Zero)
    transport = sum((sp.diff(p * uj, xj) for uj, xj in zip(u, xs, strict=True)), sp.S.Zero) + sp.diff(p, theta)
    residual = p * div - transport
    return decide_zero(
        residual,
        Domain(),
        timeout=timeout,
        numeric=False,
        claim=f"p div(u~) = div(p u) + dp/dtheta for undefined p(x, theta), u(x) in {d}-D (Eq. 16, 52)",
    )


# -- Eq. (17)-(18) ------------------------------------------------------------


def check_duality(
    p: Density,
    flow: Flow,
    wrt: sp.Symbol,
    phi: object = None,
    params: dict | None = None,
    *,
    timeout: float | None = None,
) -> Verdict:
    r"""LR and RP as duals under the divergence theorem (Eq. 17-18, App. D.2).

    (a) Symbolically: on the graph h = p(x), with :math:`n = [-\nabla p, 1]`
    (Eq. 43-45), :math:`\tilde u\cdot n = \partial_{\theta_i} p`, and the
    bottom face h = 0 carries no flux, so

    .. math::
        \int_S \phi\,\tilde u\cdot dS = \int_X \phi\,\partial_{\theta_i} p\,dx \qquad \text{(Eq. 18)}

    for every flow u.  (b) With ``phi`` and ``params``: the three numbers

    * volume  :math:`\int_X\int_0^{p(x)} \nabla\phi\cdot u\,dh\,dx` (the h-integral is
      done exactly: the integrand does not depend on h),
    * surface :math:`\int_X \phi\,\tilde u\cdot n|_{h=p}\,dx` (plus, in 1-D, the flux
      :math:`[\phi\,p\,u]` through side walls at finite support edges),
    * LR      :math:`\int_X \phi\,\partial_{\theta_i} p\,dx`,

    agree by quadrature (Eq. 17 needs u~ incompressible; a compressible flow
    is refuted here).  1-D: mpmath at 30 digits, agreement to 20 (a gap is
    confirmed by a rerun at 20 digits before it refutes).  2-D:
    float64 Gauss-Legendre on a box sized from the density's scale, two
    orders, agreement to 1e-10 (relative).

    Returns
    -------
    Verdict
        Without phi: the status of (a).  With phi: refuted if (a) or (b)
        fails, else the weaker of the two (consistent when (b) is numeric);
        the numbers are in ``details``.
    """
    aug = augmented_flow(p, flow, wrt)
    budget = resolve_timeout(timeout)
    bottom = aug.field[-1].xreplace({aug.h: sp.S.Zero})
    flux = aug.normal_flux_top()
    residual = (flux - sp.diff(p.expr, wrt)) / p.expr + bottom
    claim_a = f"surface flux of the augmented {flow.kind} flow equals dp/d{wrt} on h = p(x) (Eq. 18, 45)"
    sym = decide_zero(residual, aug.domain(), timeout=budget, claim=claim_a)
    if phi is None:
        return sym
    phi = phi_expr(p, phi)
    if params is None:
        raise SymflowError("check_duality with phi needs params={parameter Symbol: number} for the quadrature")
    values = exact_values(p.param_values(params))
    claim = f"volume = surface = LR integral for phi = {sp.sstr(phi)}, {flow.kind} flow, d/d{wrt} (Eq. 17-18)"
    u = aug.field[:-1]
    # grad_x~ phi = [grad phi, 0] does not depend on h, so the h-integral over (0, p(x)) is a factor p(x)
    volume_integrand = p.expr * sum((ui * sp.diff(phi, xi) for ui, xi in zip(u, p.x, strict=True)), sp.S.Zero)
    surface_integrand = phi * flux
    lr_integrand = phi * sp.diff(p.expr, wrt)
    if p.dim == 1:
        numbers = _numbers_1d(p, u, phi, (volume_integrand, surface_integrand, lr_integrand), values, budget)
    elif p.dim == 2:
        numbers = _numbers_2d(p, (volume_integrand, surface_integrand, lr_integrand), values)
    else:
        numbers = None
    if numbers is None:
        if sym.status is Status.REFUTED:
            return sym
        return Verdict(
            Status.UNKNOWN,
            f"(a) {sym.method}; (b) quadrature",
            residual,
            claim=claim,
            reason="quadrature of the three integrals failed, ran out of budget or is not available in this dimension",
            details=(("surface identity (a)", str(sym.status)),),
        )
    return _duality_verdict(sym, numbers, claim, values)


def _duality_verdict(sym: Verdict, numbers: dict, claim: str, values: dict) -> Verdict:
    # mpf arithmetic rounds to the *current* precision: compare at the quadrature's precision
    with mpmath.workdps(HIGH_DPS_1D + 10):
        return _duality_verdict_at(sym, numbers, claim, values)


def _duality_verdict_at(sym: Verdict, numbers: dict, claim: str, values: dict) -> Verdict:
    vol, top, walls, lr = numbers["volume"], numbers["surface"], numbers["walls"], numbers["lr"]
    details = (
        ("surface identity (a)", str(sym.status)),
        ("volume integral", vol),
        ("surface integral (top face)", top),
        ("surface integral (side walls)", walls),
        ("LR integral", lr),
        ("quadrature", numbers["how"]),
    )
    if sym.status is Status.REFUTED:
        return Verdict(Status.REFUTED, sym.method, sym.residual, sym.witness, claim=claim, details=details)
    tol = numbers["tol"]
    lo = None
    scale = max(1, abs(vol), abs(top), abs(lr))
    for name, a, b, a_lo, b_lo in (
        ("volume - surface (Eq. 17)", vol, top + walls, lambda n: n["volume"], lambda n: n["surface"] + n["walls"]),
        ("surface - LR (Eq. 18)", top, lr, lambda n: n["surface"], lambda n: n["lr"]),
    ):
        gap = a - b
        if abs(gap) > tol * scale:
            if lo is None:
                lo = numbers["low"]() if callable(numbers["low"]) else numbers["low"]
            if lo is None:
                return Verdict(
                    Status.UNKNOWN, numbers["how"], claim=claim, reason="low-precision rerun failed", details=details
                )
            gap_lo = a_lo(lo) - b_lo(lo)
            if abs(gap_lo - gap) <= 1e-6 * abs(gap):
                witness = Witness(tuple(values.items()), gap, gap_lo, numbers["digits"])
                return Verdict(
                    Status.REFUTED,
                    f"{numbers['how']}: {name} is nonzero",
                    None,
                    witness,
                    claim=claim,
                    details=details,
                )
            return Verdict(
                Status.UNKNOWN,
                numbers["how"],
                claim=claim,
                reason=f"{name} = {mpmath.nstr(gap, 8)} is neither clearly 0 nor stable between two precisions",
                details=details,
            )
    status = Status.CONSISTENT if sym.status in (Status.PROVED, Status.CONSISTENT) else Status.UNKNOWN
    return Verdict(
        status,
        f"(a) {sym.method}; (b) {numbers['how']}: the three integrals agree to {numbers['agree']}; not a proof",
        sym.residual,
        claim=claim,
        reason="" if status is not Status.UNKNOWN else f"(a) was {sym.status}: {sym.reason}",
        details=details,
    )


def _edge_flux_1d(p: Density, u: tuple, phi: sp.Expr, values: dict, dps: int, budget: float):
    """Outward flux [phi p u] through the side walls of V at finite support edges (1-D)."""
    x = p.x[0]
    s = p.support_sets[0]
    total = mpmath.mpf(0)
    flux = (phi * p.expr * u[0]).xreplace(values)
    for edge, sign, direction in ((s.inf, -1, "+"), (s.sup, 1, "-")):
        if not edge.is_finite:
            continue
        at = edge.xreplace(values)
        lim = run_with_budget(sp.limit, flux, x, at, direction, timeout=budget, what="side-wall flux limit")
        if lim.has(sp.Limit) or not lim.is_number:
            raise BudgetExceeded(budget, "side-wall flux limit")
        with mpmath.workdps(dps):
            total += sign * mpmath.mpmathify(sp.N(lim, dps))
    return total


def _center_scale(p: Density, values: dict) -> tuple[np.ndarray, np.ndarray]:
    """Per-coordinate (median, robust scale) of p at these values, from its sampler (else 0, 1)."""
    floats = {k: float(v) for k, v in values.items()}
    if p.sampler is not None or p.reparam is not None:
        try:
            draws = p.sample(4000, floats, np.random.default_rng(11))
            q1, med, q3 = np.percentile(draws, [25, 50, 75], axis=0)
            return med, np.maximum((q3 - q1) / 1.35, 1e-6)
        except Exception:  # noqa: BLE001 - a hint only
            pass
    return np.zeros(p.dim), np.ones(p.dim)


def _quad_1d(p: Density, integrand: sp.Expr, values: dict, dps: int, hint: tuple, budget: float) -> mpmath.mpf | None:
    """mpmath tanh-sinh quadrature over p's support, split at the center, +-6 scales and kinks."""
    x = p.x[0]
    s = p.support_sets[0]
    expr = integrand.xreplace(values)
    if expr.free_symbols - {x}:
        return None
    # evaluate constant special-function subexpressions (polygamma(2, 23/10), ...) once, not at every node
    expr = sp.N(expr, dps + 10)
    center, scale = float(hint[0][0]), float(hint[1][0])

    def work() -> mpmath.mpf:
        with mpmath.workdps(dps):
            fn = sp.lambdify(x, expr, modules="mpmath")
            lo = None if s.inf == -sp.oo else mpmath.mpf(sp.Float(s.inf.xreplace(values), dps))
            hi = None if s.sup == sp.oo else mpmath.mpf(sp.Float(s.sup.xreplace(values), dps))
            inner = {mpmath.mpf(center + k * scale) for k in (-6, 0, 6)} | {mpmath.mpf(k) for k in _kinks(p, expr, {})}
            inner = sorted(t for t in inner if (lo is None or t > lo) and (hi is None or t < hi))
            pts = [mpmath.ninf if lo is None else lo, *inner, mpmath.inf if hi is None else hi]
            return mpmath.quad(fn, pts)

    try:
        return run_with_budget(work, timeout=budget, what="quadrature")
    except (BudgetExceeded, ZeroDivisionError, ValueError, TypeError):
        return None


def _numbers_1d(p, u, phi, integrands, values, budget):
    names = ("volume", "surface", "lr")
    hint = _center_scale(p, values)

    def at(dps: int) -> dict | None:
        nums = {}
        for name, f in zip(names, integrands, strict=True):
            val = _quad_1d(p, f, values, dps, hint, budget)
            if val is None:
                return None
            nums[name] = val
        try:
            nums["walls"] = _edge_flux_1d(p, u, phi, values, dps, budget)
        except (BudgetExceeded, NotImplementedError, TypeError, ValueError):
            return None
        return nums

    high = at(HIGH_DPS_1D)
    if high is None:
        return None

    def low() -> dict | None:  # only needed to confirm a gap, so computed on demand
        return at(LOW_DPS_1D)

    return {
        **high,
        "low": low,
        "tol": mpmath.mpf(10) ** (-AGREE_DIGITS_1D),
        "digits": (LOW_DPS_1D, HIGH_DPS_1D),
        "agree": f"{AGREE_DIGITS_1D} digits",
        "how": f"mpmath quadrature at {HIGH_DPS_1D} digits ({LOW_DPS_1D} to confirm a gap)",
    }


def _kinks(p: Density, f: sp.Expr, values: dict) -> tuple:
    from .zero.numeric import kink_expressions

    out = []
    for k in kink_expressions(f.xreplace(values)):
        if k.free_symbols == set(p.x):
            try:
                out.extend(float(r) for r in sp.Poly(k, *p.x).nroots() if r.is_real)
            except Exception:  # noqa: BLE001 - breakpoints are only a hint
                pass
    return tuple(out)


def _gauss_box(fn: Callable, edges: list[np.ndarray], order: int) -> float:
    """Tensor Gauss-Legendre over a 2-D grid of panels (``edges`` per axis)."""
    t, w = np.polynomial.legendre.leggauss(order)
    axes = []
    for e in edges:
        lo, hi = e[:-1, None], e[1:, None]
        nodes = ((hi - lo) / 2 * t + (hi + lo) / 2).ravel()
        weights = ((hi - lo) / 2 * w).ravel()
        axes.append((nodes, weights))
    (x1, w1), (x2, w2) = axes
    X1, X2 = np.meshgrid(x1, x2, indexing="ij")
    vals = np.broadcast_to(np.asarray(fn(X1, X2), dtype=float), X1.shape)
    return float(w1 @ vals @ w2)


def _box_edges(p: Density, values: dict, density_fn: Callable) -> list[np.ndarray] | None:
    """Panel edges per axis: center +- k scales, with k grown until p is negligible on the box's rim."""
    floats = {k: float(v) for k, v in values.items()}
    if p.sampler is None and p.reparam is None:
        return None
    draws = p.sample(4000, floats, np.random.default_rng(11))
    centers = np.median(draws, axis=0)
    q1, q3 = np.percentile(draws, [25, 75], axis=0)
    scales = np.maximum((q3 - q1) / 1.35, 1e-6)
    grid = np.linspace(-1, 1, 201)
    peak = None
    for k in (8, 16, 32, 64, 128):
        half = k * scales
        lo, hi = centers - half, centers + half
        g1, g2 = lo[0] + (grid + 1) * half[0], lo[1] + (grid + 1) * half[1]
        inner = np.abs(density_fn(*np.meshgrid(g1, g2, indexing="ij")))
        peak = float(np.max(inner)) if peak is None else max(peak, float(np.max(inner)))
        rim = max(float(np.max(np.abs(density_fn(np.full_like(g2, v), g2)))) for v in (lo[0], hi[0])) + max(
            float(np.max(np.abs(density_fn(g1, np.full_like(g1, v))))) for v in (lo[1], hi[1])
        )
        if rim <= 1e-20 * peak:
            fr = np.array([-1, -0.5, -0.2, -0.08, -0.03, 0, 0.03, 0.08, 0.2, 0.5, 1.0])
            return [centers[i] + fr * half[i] for i in range(2)]
    return None


def _numbers_2d(p: Density, integrands: tuple, values: dict) -> dict | None:
    if any(s != sp.S.Reals for s in p.support_sets):
        return None  # side walls at finite edges are only handled in 1-D
    exprs = [sp.N(f.xreplace(values), 30) for f in integrands]
    try:
        fns = [sp.lambdify(p.x, e, modules="numpy") for e in exprs]
        dens = sp.lambdify(p.x, sp.N(p.expr.xreplace(values), 30), modules="numpy")
        edges = _box_edges(p, values, lambda a, b: dens(a, b) * (1 + a * a + b * b) ** 4)
    except Exception:  # noqa: BLE001 - numeric failure means no verdict from (b)
        return None
    if edges is None:
        return None
    with np.errstate(all="ignore"):
        high = {n: _gauss_box(f, edges, 64) for n, f in zip(("volume", "surface", "lr"), fns, strict=True)}
        low = {n: _gauss_box(f, edges, 40) for n, f in zip(("volume", "surface", "lr"), fns, strict=True)}
    if not all(np.isfinite(list(high.values()))):
        return None
    high["walls"] = low["walls"] = 0.0
    return {
        **high,
        "low": low,
        "tol": AGREE_REL_2D,
        "digits": (40, 64),
        "agree": "1e-10 (relative)",
        "how": "float64 tensor Gauss-Legendre on a box sized from the density's scale (orders 40 and 64 per panel)",
    }


# -- Eq. (47)-(48) and Stein's identity (Eq. 8) --------------------------------


def _boundary_term(p: Density, field: tuple, phi: sp.Expr, budget: float) -> tuple[sp.Expr, tuple]:
    """Sum over j of [p u_j phi] between the edges of x_j (other coordinates left symbolic)."""
    total = sp.S.Zero
    found = []
    for j, (xj, s) in enumerate(zip(p.x, p.support_sets, strict=True)):
        flux = p.expr * field[j] * phi
        if flux == 0:
            continue
        for edge, sign, direction in ((s.inf, -1, "+"), (s.sup, 1, "-")):
            lim = run_with_budget(sp.limit, flux, xj, edge, direction, timeout=budget, what="boundary limit")
            if lim.has(sp.Limit):
                raise BudgetExceeded(budget, f"limit at {xj} -> {edge}")
            found.append((f"p u_{j + 1} phi at {xj} -> {edge}", lim))
            total += sign * lim
    return total, tuple(found)


def _divergence_theorem(
    p: Density, field: tuple, phi: sp.Expr, params: dict | None, claim: str, timeout: float | None
) -> Verdict:
    budget = resolve_timeout(timeout)
    try:
        term, edges = _boundary_term(p, field, phi, budget)
    except BudgetExceeded as exc:
        return Verdict(Status.UNKNOWN, "symbolic limits at the support's edges", claim=claim, reason=str(exc))
    except Exception as exc:  # noqa: BLE001 - SymPy raises many kinds on hard limits
        return Verdict(
            Status.UNKNOWN, "symbolic limits at the support's edges", claim=claim, reason=f"limit failed: {exc!r}"
        )
    if term.has(sp.oo, sp.zoo, sp.S.NegativeInfinity, sp.nan):
        return Verdict(
            Status.UNKNOWN,
            "symbolic limits at the support's edges",
            term,
            claim=claim,
            reason="p u phi is unbounded at an edge: the integral of div(p u phi) does not converge",
            details=edges,
        )
    verdict = decide_zero(term, p.domain(), timeout=budget, claim=claim)
    details = (("boundary term", term), *edges)
    method = f"fundamental theorem of calculus: integral = boundary term; boundary term by {verdict.method}"
    if params is not None and p.dim == 1:
        values = exact_values(p.param_values(params))
        integrand = sum((sp.diff(p.expr * fj * phi, xj) for fj, xj in zip(field, p.x, strict=True)), sp.S.Zero)
        num = _quad_1d(p, integrand, values, HIGH_DPS_1D, _center_scale(p, values), budget)
        at_params = term.xreplace(values)
        with mpmath.workdps(HIGH_DPS_1D + 10):
            expected = mpmath.mpmathify(sp.N(at_params, HIGH_DPS_1D)) if at_params.is_number else None
            disagree = (
                num is not None
                and expected is not None
                and abs(num - expected) > mpmath.mpf(10) ** (-AGREE_DIGITS_1D) * max(1, abs(expected))
            )
        details = (*details, ("quadrature of div(p u phi)", num), ("boundary term at params", expected))
        if disagree:
            return Verdict(
                Status.UNKNOWN,
                method,
                term,
                claim=claim,
                reason="quadrature of div(p u phi) disagrees with the boundary term (integrability?)",
                details=details,
            )
    return Verdict(verdict.status, method, term, verdict.witness, verdict.reason, claim, details)


def check_divergence_theorem(
    p: Density,
    flow: Flow,
    wrt: sp.Symbol,
    phi: object,
    params: dict | None = None,
    *,
    timeout: float | None = None,
) -> Verdict:
    r"""Does :math:`\int \nabla\cdot(p\,u\,\phi)\,dx = 0` hold for this phi (Eq. 47-48)?

    By the divergence theorem the integral equals the boundary term
    :math:`\sum_j [p\,u_j\,\phi]_{x_j=\mathrm{lo}}^{x_j=\mathrm{hi}}` (other coordinates
    free).  Proved when the boundary term is 0; refuted, with the boundary
    term in ``details``, when it is not — then Eq. (48) fails and the flow
    estimator of Eq. (50) is biased by exactly that term.  With ``params``
    (1-D) the integral is also computed by quadrature and compared.
    """
    u = _field(p, flow, wrt)
    phi = phi_expr(p, phi)
    claim = f"integral of div(p u phi) = 0 for phi = {sp.sstr(phi)}, {flow.kind} flow, d/d{wrt} (Eq. 47-48)"
    return _divergence_theorem(p, u, phi, params, claim, timeout)


def check_stein(
    p: Density, phi: object, j: int = 0, params: dict | None = None, *, timeout: float | None = None
) -> Verdict:
    r"""Stein's identity (Eq. 8) along coordinate j.

    .. math::
        \int p\,\Big(\partial_{x_j}\log p\;\phi + \partial_{x_j}\phi\Big)\,dx
        = \int \partial_{x_j}(p\,\phi)\,dx = 0

    It is Eq. (48) with the constant flow u = e_j, so it holds exactly when
    the boundary term :math:`[p\,\phi]` vanishes at the edges of x_j (it does
    not for densities that are positive at a finite edge, e.g. the
    exponential at 0: then the boundary term is reported).
    """
    phi = phi_expr(p, phi)
    if not isinstance(j, int) or not 0 <= j < p.dim:
        raise SymflowError(f"j must be a coordinate index 0..{p.dim - 1}, got {j!r}")
    field = tuple(sp.S.One if k == j else sp.S.Zero for k in range(p.dim))
    claim = f"Stein's identity for {p.name} along {p.x[j]} with phi = {sp.sstr(phi)} (Eq. 8)"
    return _divergence_theorem(p, field, phi, params, claim, timeout)
