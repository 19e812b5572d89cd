r"""The divergence theorem as the flow estimator uses it (Eq. 47-48), and Stein's identity (Eq. 8).

For a flow u and a test function phi,

.. math:: \int \nabla\cdot(p\,u\,\phi)\,dx = \sum_j \big[p\,u_j\,\phi\big]_{x_j=\mathrm{lo}}^{x_j=\mathrm{hi}},

so Eq. (48) holds exactly when this boundary term vanishes; when it does
not, the flow estimator of Eq. (50) is biased by that term, which is
reported.  Stein's identity is the special case u = e_j.
"""

from __future__ import annotations

import mpmath
import sympy as sp

from ..calculus.flux import flux_at_infinity, has_infinite_face
from ..calculus.quadrature import numeric_integral
from ..checks.faces import face_parts
from ..core import budget as budgets
from ..core.budget import BudgetExceeded, bounded, resolve_timeout
from ..core.convert import as_phi, at_values, exact_values
from ..core.density import Density, checked_density
from ..core.flow import Flow, field_over
from ..core.precision import QUADRATURE_FAST
from ..core.verdict import Status, Verdict, combine
from ..errors import SymflowError
from ..zero import decide_zero

__all__ = ["check_divergence_theorem", "check_stein"]


def _boundary_term(p: Density, field: tuple, phi: sp.Expr, budget: float) -> tuple[sp.Expr, tuple]:
    """Sum over j of [p u_j phi] between the edges of x_j (other coordinates left symbolic)."""
    total = sp.S.Zero
    found = []
    for j, (xj, s) in enumerate(zip(p.x, p.support_sets, strict=True)):
        flux = p.expr * field[j] * phi
        if flux == 0:
            continue
        for edge, sign, direction in ((s.inf, -1, "+"), (s.sup, 1, "-")):
            if edge.is_infinite and p.dim >= 2:
                continue  # flux escaping to infinity: through the faces of growing boxes (flux_at_infinity)
            lim = budgets.limit(flux, xj, edge, direction, timeout=budget, what="boundary limit")
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
    if has_infinite_face(p):
        # d >= 2: the term at infinity is the limit of the flux through growing boxes, not axis-wise limits
        values = exact_values(p.param_values(params)) if params is not None else None
        at_infinity = flux_at_infinity(
            p,
            tuple(p.expr * fj * phi for fj in field),
            values=values,
            timeout=budget,
            claim="the flux of p u phi through the faces of growing boxes vanishes",
        )
        details = (*details, ("flux at infinity", f"{at_infinity.status}: {at_infinity.method}"), *at_infinity.details)
        combined = combine(
            [("finite edges", verdict), ("flux at infinity", at_infinity)], claim, noun="parts", label="{}"
        )
        method = f"divergence theorem on growing boxes: {combined.method}"
        if combined.status is Status.REFUTED and at_infinity.status is Status.REFUTED:
            term = term + at_infinity.residual
            details = (("boundary term", term), *details[1:])
        verdict = combined
    faces = face_parts(p, tuple(p.expr * fj * phi for fj in field), None, budget, claim, budget)
    if faces:
        # a support cut by an indicator (the simplex x + y < 1): its face is part of the boundary too
        box_refuted = verdict.status is Status.REFUTED
        verdict = combine([("box faces", verdict), *faces], claim, noun="parts", label="{}")
        if verdict.status is Status.REFUTED and not box_refuted:
            term = verdict.residual  # the flux through the face, not the box's (zero) term
        method = f"divergence theorem on the box cut by its indicator: {verdict.method}"
        details = (*details, *((label, f"{v.status}: {v.method}") for label, v in faces))
    if params is not None and p.dim == 1:
        values = exact_values(p.param_values(params))
        integrand = sum((sp.diff(p.expr * fj * phi, xj) for fj, xj in zip(field, p.x, strict=True)), sp.S.Zero)
        num = numeric_integral(p, integrand, values, dps=QUADRATURE_FAST.high, timeout=budget)
        at_params = at_values(term, values)
        with mpmath.workdps(QUADRATURE_FAST.high + 10):
            expected = mpmath.mpmathify(sp.N(at_params, QUADRATURE_FAST.high)) if at_params.is_number else None
            disagree = (
                num is not None
                and expected is not None
                and abs(num - expected) > mpmath.mpf(10) ** (-QUADRATURE_FAST.zero_digits) * max(1, abs(expected))
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


@bounded
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
    u = field_over(p, flow, wrt)
    phi = as_phi(phi, p.x)
    claim = f"integral of div(p u phi) = 0 for phi = {sp.sstr(phi)}, {flow.kind} flow, d/d{wrt} (Eq. 47-48)"
    return _divergence_theorem(p, u, phi, params, claim, timeout)


@bounded
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
    p = checked_density(p)
    phi = as_phi(phi, p.x)
    if not isinstance(j, int) or not 0 <= j < p.dim:
        raise SymflowError(f"j must be a coordinate index 0..{p.dim - 1}, got {j!r}")
    field = tuple(sp.S.One if k == j else sp.S.Zero for k in range(p.dim))
    claim = f"Stein's identity for {p.name} along {p.x[j]} with phi = {sp.sstr(phi)} (Eq. 8)"
    return _divergence_theorem(p, field, phi, params, claim, timeout)
