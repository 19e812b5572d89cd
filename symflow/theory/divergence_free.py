r"""Pathwise flows beyond the given ones (d >= 2): add divergence-free fields and minimize the variance.

Any field w with :math:`\nabla\cdot(p\,w) = 0` can be added to a flow u
without touching the transport equation, so u + w is another pathwise (RP)
flow with psi = 0 and the same mean (App. E.1: RP flows are not unique;
E_p[w . grad phi] = -integral of phi div(p w) = 0 when p w phi vanishes at
infinity).  Such fields come from potentials: for an antisymmetric matrix J
and any smooth h,

.. math::
    w = \frac{1}{p}\,J\,\nabla h
    \quad\Rightarrow\quad
    \nabla\cdot(p\,w) = \sum_{k,l} J_{kl}\,\partial_k\partial_l h = 0

(J antisymmetric, mixed partials symmetric).  ``divergence_free_basis`` takes
h = p P_b with P_b the monomials in x - center up to a degree and J the
elementary rotations e_i e_j' - e_j e_i' (i < j), so
w_b = J (grad P_b + P_b grad log p) is a polynomial field for a Gaussian; it
proves the identity once for an undefined h and again for every basis field.

``optimize_flow`` minimizes the variance of the pathwise estimator
(u_0 + sum_b a_b w_b) . grad phi over the coefficients a: with
g_b = w_b . grad phi the objective is the quadratic
E[(g_0 + a'g)^2] - (E g_0)^2, minimized at G a = -r, G_bc = E[g_b g_c],
r_b = E[g_0 g_b].  G and r are computed by tensor Gauss-Hermite quadrature
in the base variables of a normal reparameterization (float64, ``nodes`` per
axis), a solved to float precision and rounded to rationals; the resulting
flow's transport equation is proved and its variance computed exactly
(``variance``), next to the base flow's and any references' (OMT).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..checks.transport import check_transport
from ..core import budget as budgets
from ..core.convert import as_expr, as_test_function, exact_values
from ..core.density import Density, checked_density
from ..core.domain import Domain
from ..core.flow import Flow, field_over
from ..core.verdict import Verdict, combine
from ..errors import FlowError
from ..estimators.deriver import derive
from ..numeric.evaluate import numpy_function
from ..zero import decide_zero
from .variances import VarianceResult, variance

__all__ = ["DivergenceFreeBasis", "OptimizedFlow", "divergence_free_basis", "optimize_flow"]


@dataclass(frozen=True)
class DivergenceFreeBasis:
    r"""Fields w_b = (1/p) J_b grad(p P_b) with div(p w_b) = 0, and the proof of that.

    Attributes
    ----------
    density : Density
    fields : tuple of tuples
        The w_b, one component per variable.
    potentials : tuple
        The P_b (h_b = p P_b).
    pairs : tuple of (i, j)
        The rotation J_b = e_i e_j' - e_j e_i' of each field.
    proof : Verdict
        The identity for an undefined h, and div(p w_b) = 0 for every b.
    """

    density: Density
    fields: tuple[tuple[sp.Expr, ...], ...]
    potentials: tuple[sp.Expr, ...]
    pairs: tuple[tuple[int, int], ...]
    proof: Verdict

    def __len__(self) -> int:
        return len(self.fields)


def _center(p: Density) -> tuple[sp.Expr, ...]:
    """x at eps = 0 of the reparameterization (the mean of a location family), else the origin."""
    if p.reparam is not None:
        return tuple(g.xreplace(dict.fromkeys(p.reparam.eps, 0)) for g in p.reparam.g)
    return (sp.S.Zero,) * p.dim


def _general_identity(d: int) -> Verdict:
    """div(J grad h) = 0 for an undefined h and every elementary rotation J."""
    xs = sp.symbols(f"y1:{d + 1}", real=True)
    h = sp.Function("h")(*xs)
    parts = {}
    for i, j in itertools.combinations(range(d), 2):
        flux = [sp.S.Zero] * d
        flux[i] = sp.diff(h, xs[j])
        flux[j] = -sp.diff(h, xs[i])
        div = sp.Add(*[sp.diff(flux[k], xs[k]) for k in range(d)])
        claim = f"div(J grad h) = 0 for J = e{i + 1} e{j + 1}' - e{j + 1} e{i + 1}' (mixed partials commute)"
        parts[f"J_{i + 1}{j + 1}"] = decide_zero(div, Domain(), claim=claim)
    return combine(parts, "div(J grad h) = 0 for any h", noun="rotations", label="{}")


@budgets.bounded
def divergence_free_basis(
    p: Density, degree: int = 2, *, center: Sequence | None = None, timeout: float | None = None
) -> DivergenceFreeBasis:
    """Fields (1/p) J grad(p P) for the monomials P in x - center of total degree <= ``degree`` (module docstring).

    ``timeout`` bounds the whole call (default: the global budget).
    """
    return _basis(p, degree, center, timeout)


def _basis(p: Density, degree: int, center: Sequence | None, timeout: float | None) -> DivergenceFreeBasis:
    if not isinstance(p, Density) or p.dim < 2:
        raise FlowError("divergence-free fields that are not zero need d >= 2 variables")
    if isinstance(degree, bool) or not isinstance(degree, int) or degree < 0:
        raise FlowError(f"degree must be a nonnegative integer, got {degree!r}")
    if center is not None and (isinstance(center, str | sp.Basic) or not isinstance(center, Sequence)):
        raise FlowError(f"center must be a sequence of {p.dim} numbers (a point of the support), got {center!r}")
    if center is not None and len(center) != p.dim:
        raise FlowError(f"center has {len(center)} coordinate(s); {p.name} has {p.dim} variables")
    c = tuple(as_expr(v, "center") for v in center) if center is not None else _center(p)
    z = [xi - ci for xi, ci in zip(p.x, c, strict=True)]
    grad_log = p.grad_log()
    monomials = []
    for total in range(degree + 1):
        for powers in itertools.product(range(total + 1), repeat=p.dim):
            if sum(powers) == total:
                monomials.append(sp.Mul(*[zi**k for zi, k in zip(z, powers, strict=True)]))
    fields, potentials, pairs, parts = [], [], [], {}
    domain = p.domain()
    for i, j in itertools.combinations(range(p.dim), 2):
        for P in monomials:
            if budgets.expired():
                # building and deciding the fields is in-process work: stop at the call's deadline
                raise FlowError(
                    f"the {len(monomials) * p.dim * (p.dim - 1) // 2} basis fields of degree <= {degree} for "
                    f"{p.name} were not built within the budget ({len(fields)} done); give a lower degree or a "
                    "larger timeout="
                )
            # grad h / p with h = p P: grad P + P grad log p
            g = [sp.diff(P, xk) + P * gl for xk, gl in zip(p.x, grad_log, strict=True)]
            w = [sp.S.Zero] * p.dim
            w[i], w[j] = g[j], -g[i]
            w = [sp.expand(wk) for wk in w]
            # div(p w)/p = div w + w . grad log p (p > 0)
            residual = sp.Add(*[sp.diff(wk, xk) + wk * gl for wk, xk, gl in zip(w, p.x, grad_log, strict=True)])
            label = f"J_{i + 1}{j + 1}, P = {sp.sstr(P)}"
            parts[label] = decide_zero(residual, domain, timeout=timeout, claim=f"div(p w) = 0 for {label}")
            fields.append(tuple(w))
            potentials.append(P)
            pairs.append((i, j))
    proof = combine(
        {"general identity": _general_identity(p.dim), **parts},
        f"div(p w) = 0 for the {len(fields)} basis fields of {p.name}",
        noun="fields",
        label="{}",
    )
    return DivergenceFreeBasis(p, tuple(fields), tuple(potentials), tuple(pairs), proof)


# -- optimizing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptimizedFlow:
    """The variance-minimizing flow u_0 + sum_b a_b w_b for one phi and parameter values.

    Attributes
    ----------
    flow : Flow
        The optimized flow (a field for ``wrt`` only).
    base : Flow
    coefficients : tuple of Rational
    basis : DivergenceFreeBasis
    variance, base_variance : VarianceResult
        Exact (or quadrature) variances of the optimized and base pathwise estimators.
    references : tuple of (name, VarianceResult)
        Other flows' variances (OMT, ...).
    transport : Verdict
        The optimized flow solves the transport equation.
    gram_method : str
        How G and r were computed.
    """

    density: Density
    wrt: sp.Symbol
    phi: sp.Expr
    params: tuple
    flow: Flow
    base: Flow
    coefficients: tuple
    basis: DivergenceFreeBasis
    variance: VarianceResult
    base_variance: VarianceResult
    references: tuple
    transport: Verdict
    gram_method: str

    def rows(self) -> list[tuple[str, float, str]]:
        """(flow, variance, route) for the base, the references and the optimized flow."""
        out = [(f"{self.base.kind} (base)", float(self.base_variance), self.base_variance.route)]
        out += [(name, float(res), res.route) for name, res in self.references]
        out.append((f"optimized (+{len(self.basis)} fields)", float(self.variance), self.variance.route))
        return out

    def __str__(self) -> str:
        at = ", ".join(f"{k} = {sp.sstr(v)}" for k, v in self.params)
        lines = [f"pathwise flows for d/d{self.wrt} E[{sp.sstr(self.phi)}] at {at}"]
        for name, val, route in self.rows():
            lines.append(f"  {name:32s} {val:.10g}  ({route})")
        lines.append(f"  transport of the optimized flow: {self.transport.status}")
        return "\n".join(lines)


def _standard_normal_base(p: Density) -> bool:
    """x = g(eps) with eps ~ N(0, I): the base density is exp(-|eps|^2/2) / (2 pi)^(d/2), literally."""
    rep = p.reparam
    if rep is None:
        return False
    eps = rep.eps
    std = sp.exp(-sp.Add(*[e**2 for e in eps]) / 2) / (2 * sp.pi) ** sp.Rational(len(eps), 2)
    return sp.expand(rep.base.expr - std) == 0


def _gauss_hermite(p: Density, exprs: list, values: dict, nodes: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """The product weights of tensor Gauss-Hermite in eps, and each expression at x = g(eps) on those nodes."""
    t, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / np.sqrt(2 * np.pi)  # weights of the standard normal
    grids = np.meshgrid(*([t] * p.dim), indexing="ij")
    weight = np.ones_like(grids[0])
    for wk in np.meshgrid(*([w] * p.dim), indexing="ij"):
        weight = weight * wk
    g = numpy_function([p.reparam.eps], [gi.xreplace(values) for gi in p.reparam.g])
    xs = [np.broadcast_to(np.asarray(c, float), grids[0].shape) for c in g(tuple(grids))]
    fn = numpy_function([p.x], [e.xreplace(values) for e in exprs])
    return weight, [np.broadcast_to(np.asarray(v, float), grids[0].shape) for v in fn(tuple(xs))]


@budgets.bounded
def optimize_flow(
    p: Density,
    base: Flow,
    wrt: sp.Symbol,
    phi: object,
    params: dict,
    *,
    degree: int = 2,
    references: Mapping | None = None,
    nodes: int = 64,
    timeout: float | None = None,
) -> OptimizedFlow:
    r"""The flow u_0 + sum_b a_b w_b minimizing Var[(u . grad phi)] over divergence-free w_b (module docstring).

    Parameters
    ----------
    p : Density
        d >= 2, with a reparameterization from N(0, I) (x = g(eps)).
    base : Flow
        A flow solving the transport equation for ``wrt`` (Cholesky, OMT, ...).
    wrt : Symbol
    phi : expression
    params : dict
        Numbers for every parameter.
    degree : int
        Total degree of the polynomials P_b.
    references : mapping name -> Flow, optional
        Other flows to report the variance of (e.g. ``{"OMT": flows.omt(p)}``).
    nodes : int
        Gauss-Hermite nodes per axis for G and r.
    timeout : float, optional
        Budget in seconds for the whole call (default: the global one).
    """
    p = checked_density(p)
    if not _standard_normal_base(p):
        raise FlowError(f"{p.name} needs a reparameterization x = g(eps), eps ~ N(0, I), for the quadrature")
    return _optimize(p, base, wrt, phi, params, degree, references, nodes, timeout)


def _optimize(p, base, wrt, phi, params, degree, references, nodes, timeout) -> OptimizedFlow:
    wrt = p.check_param(wrt)
    phi = as_test_function(phi)
    values = exact_values(dict(params))
    u0 = field_over(p, base, wrt)
    basis = divergence_free_basis(p, degree, timeout=timeout)
    # The fit, its transport check and the variances are long in-process SymPy work (expanding
    # degree-8 fields, lambdifying them): one budgeted step, so the call stops at its deadline.
    try:
        return budgets.run_with_budget(
            _fit,
            p,
            base,
            wrt,
            phi,
            values,
            u0,
            basis,
            references,
            nodes,
            degree,
            timeout,
            timeout=budgets.remaining(timeout),
            what="fitting the divergence-free fields",
        )
    except budgets.BudgetExceeded:
        raise FlowError(
            f"the {len(basis)} divergence-free fields of degree <= {degree} were built but not fitted and checked "
            "within the budget; give a lower degree or a larger timeout="
        ) from None


def _fit(p, base, wrt, phi, values, u0, basis, references, nodes, degree, timeout) -> OptimizedFlow:
    grad = [sp.diff(phi, xi) for xi in p.x]
    g0 = sp.Add(*[a * b for a, b in zip(u0, grad, strict=True)])
    gs = [sp.Add(*[a * b for a, b in zip(w, grad, strict=True)]) for w in basis.fields]
    weight, vals = _gauss_hermite(p, [g0, *gs], values, nodes)
    v0, vb = vals[0], vals[1:]
    G = np.array([[np.sum(weight * a * b) for b in vb] for a in vb])
    r = np.array([np.sum(weight * v0 * b) for b in vb])
    a, *_ = np.linalg.lstsq(G, -r, rcond=1e-12)
    coefficients = tuple(sp.Rational(f"{ai:.15e}") for ai in a)
    u = tuple(
        sp.expand(u0k + sp.Add(*[c * w[k] for c, w in zip(coefficients, basis.fields, strict=True)]))
        for k, u0k in enumerate(u0)
    )
    flow = Flow(p, {wrt: list(u)}, note=f"{base.kind} flow + {len(basis)} divergence-free fields (degree {degree})")
    transport = check_transport(p, flow, wrt, timeout=timeout)
    base_var = variance(derive(p, base, wrt, timeout=timeout), phi, values, timeout=timeout)
    opt_var = variance(derive(p, flow, wrt, timeout=timeout), phi, values, timeout=timeout)
    refs = tuple(
        (name, variance(derive(p, fl, wrt, timeout=timeout), phi, values, timeout=timeout))
        for name, fl in (references or {}).items()
    )
    if float(opt_var) > float(base_var):
        # the float64 optimum lost to rounding: keep the base flow (never worse than what was given)
        flow, coefficients, opt_var = base, tuple(sp.S.Zero for _ in coefficients), base_var
        transport = check_transport(p, base, wrt, timeout=timeout)
    method = f"tensor Gauss-Hermite, {nodes} nodes per axis, float64; least squares for G a = -r"
    return OptimizedFlow(
        p,
        wrt,
        phi,
        tuple(values.items()),
        flow,
        base,
        coefficients,
        basis,
        opt_var,
        base_var,
        refs,
        transport,
        method,
    )
