"""``check_boundary``: does the boundary term p u phi vanish at the support's edges (Eq. 47, footnote 4)?"""

from __future__ import annotations

from dataclasses import replace

import mpmath
import sympy as sp

from ..calculus.flux import flux_at_infinity, has_infinite_face
from ..calculus.limits import LIMIT_DPS, LIMIT_DPS_LOW, LimitDisagreement, confirmed_nonzero_limit, cross_examined_limit
from ..core.budget import BudgetExceeded, bounded, resolve_timeout
from ..core.convert import as_phi
from ..core.density import Density
from ..core.flow import Flow, field_over
from ..core.verdict import Status, Verdict, Witness, combine
from ..zero import decide_zero
from ..zero.points import sample_points
from .records import boundary_record

__all__ = ["check_boundary", "edge_limit_verdict"]


@bounded
def check_boundary(p: Density, flow: Flow, wrt: sp.Symbol, phi: object, *, timeout: float | None = None) -> Verdict:
    r"""Does :math:`p\,u\,\phi \to 0` at the edges of the support (condition under Eq. 47, footnote 4)?

    At a finite edge of coordinate j, p u_j phi is taken to the edge (the other
    coordinates held symbolic: the face is a set of points where it must vanish).
    At an infinite edge: in 1-D, the limit x -> +-oo; in d >= 2, the flux of
    p u phi through the faces of growing boxes (``symflow.calculus.flux``), because
    flux can escape along a diagonal while every axis-wise limit is 0.  A support
    cut by an indicator (the simplex x + y < 1 inside its box) has that face too:
    p u phi . n is taken to it from inside (``symflow.checks.faces``); a face that
    cannot be examined leaves the verdict unknown, naming it.  All parts
    0: proved (numbers only: consistent).  A nonzero edge value or escaping flux:
    refuted, with the edge as witness.
    """
    u = field_over(p, flow, wrt)
    phi = as_phi(phi, p.x)
    budget = resolve_timeout(timeout)
    claim = f"boundary term p u phi vanishes at the support's edges ({flow.kind} flow, d/d{wrt})"
    field = tuple(p.expr * uj * phi for uj in u)
    parts: list[tuple[str, Verdict]] = []
    fluxes: list[tuple[sp.Symbol, sp.Expr]] = []
    limits: list[tuple] = []  # (x_j, edge, direction, value) for the proof record
    for j, (xj, s) in enumerate(zip(p.x, p.support_sets, strict=True)):
        if field[j] == 0:
            continue
        fluxes.append((xj, field[j]))
        for edge, direction in ((s.inf, "+"), (s.sup, "-")):
            if edge.is_infinite and p.dim >= 2:
                continue  # the box-face flux below
            verdict = edge_limit_verdict(p, field[j], xj, edge, direction, budget, claim, timeout)
            parts.append((f"{xj} -> {edge}", verdict))
            limit = verdict.detail("boundary term", None)
            if limit is not None:
                limits.append((xj, edge, direction, limit))
            if verdict.status is Status.REFUTED:
                break
    if has_infinite_face(p) and not any(v.status is Status.REFUTED for _, v in parts):
        at_infinity = flux_at_infinity(
            p, field, timeout=timeout, claim="the flux of p u phi through the faces of growing boxes vanishes"
        )
        if at_infinity.status is Status.REFUTED:
            w = at_infinity.witness
            at_infinity = replace(at_infinity, witness=Witness(((p.x[0], sp.oo), *w.point), w.value, w.value_low))
        parts.append(("flux at infinity", at_infinity))
    if not any(v.status is Status.REFUTED for _, v in parts):
        # a support cut by an indicator (the simplex x + y < 1) has that face too: never proved from the box's
        from .faces import face_parts

        parts.extend(face_parts(p, field, wrt, budget, claim, timeout))
    if not parts:
        return Verdict(Status.PROVED, "p u phi is identically 0", sp.S.Zero, claim=claim)
    verdict = combine(parts, claim, noun="edges", label="{}")
    record = boundary_record(fluxes, limits, claim, p.domain()) if limits and p.dim == 1 else verdict.proof
    if verdict.status in (Status.PROVED, Status.CONSISTENT):
        details = tuple((label, v.detail("boundary term", v.residual)) for label, v in parts)
        return replace(verdict, residual=sp.S.Zero, details=details + verdict.details[-len(parts) :], proof=record)
    return replace(verdict, proof=record)


def edge_limit_verdict(
    p: Density, flux: sp.Expr, xj: sp.Symbol, edge: sp.Expr, direction: str, budget: float, claim: str, timeout
) -> Verdict:
    """Is the limit of p u_j phi at x_j -> edge zero (a function of the other coordinates, in d >= 2)?"""
    try:
        lim = cross_examined_limit(flux, xj, edge, direction, timeout=budget, domain=p.domain())
    except (BudgetExceeded, LimitDisagreement) as exc:
        return Verdict(Status.UNKNOWN, "symbolic limits", flux, claim=claim, reason=str(exc))
    except Exception as exc:  # noqa: BLE001 - SymPy raises many kinds on hard limits
        return Verdict(
            Status.UNKNOWN,
            "symbolic limits",
            flux,
            claim=claim,
            reason=f"limit at {xj} -> {edge} failed: {type(exc).__name__}",
        )
    if lim.has(sp.Limit):
        return Verdict(
            Status.UNKNOWN,
            "symbolic limits",
            flux,
            claim=claim,
            reason=f"SymPy left the limit at {xj} -> {edge} unevaluated",
        )
    if lim == 0:
        return Verdict(Status.PROVED, "symbolic limit is 0", sp.S.Zero, claim=claim, details=(("boundary term", lim),))
    if lim.has(sp.oo, sp.S.NegativeInfinity, sp.zoo, sp.AccumBounds) and not lim.free_symbols:
        # An infinite or oscillating limit (p u phi -> oo, or AccumBounds(-1, 1)) is not 0 -- if the numbers agree.
        points = sample_points(p.domain(), (flux.free_symbols | edge.free_symbols) - {xj}, draws=2)[:2] or [{}]
        return _refuted_if_confirmed(
            flux,
            xj,
            edge,
            direction,
            lim,
            points,
            "symbolic limit at the edge (infinite or not existing)",
            claim,
            budget,
        )
    verdict = decide_zero(lim, p.domain(), timeout=timeout)
    if verdict.status is Status.PROVED:
        return Verdict(
            Status.PROVED,
            f"symbolic limit, then {verdict.method}",
            sp.S.Zero,
            claim=claim,
            details=(("boundary term", lim),),
        )
    if verdict.status is Status.CONSISTENT:
        # Zero to 40 digits, but only numerically: the whole check is then no proof.
        return Verdict(
            Status.CONSISTENT,
            f"symbolic limit; it vanishes numerically: {verdict.method}",
            sp.S.Zero,
            claim=claim,
            details=(("boundary term", lim),),
        )
    if verdict.status is Status.UNKNOWN:
        return Verdict(
            Status.UNKNOWN,
            "symbolic limits",
            flux,
            claim=claim,
            reason=f"is the limit {sp.sstr(lim)} at {xj} -> {edge} zero? {verdict.reason}",
            details=(("boundary term", lim),),
        )
    # the witness fixes the symbols of the limit; the flux may have more (a limit -pi/2 fixes none)
    at = dict(verdict.witness.point)
    free = (flux.free_symbols | edge.free_symbols) - {xj} - set(at)
    points = [{**pt, **at} for pt in sample_points(p.domain(), free, draws=2)[:2]] if free else [at]
    return _refuted_if_confirmed(flux, xj, edge, direction, lim, points, "symbolic limit at the edge", claim, budget)


def _refuted_if_confirmed(flux, xj, edge, direction, lim, points: list, method: str, claim: str, budget) -> Verdict:
    """Refuted at the first point where the values of ``flux`` approaching the edge confirm SymPy's nonzero ``lim``.

    SymPy's limit alone never refutes (it said oo for the Student t's p u, which
    falls like |x|^-nu): the witness is the flux near the edge at two precisions.
    """
    for point in points:
        found = confirmed_nonzero_limit(flux, xj, edge, direction, lim, point, timeout=budget)
        if found is None:
            continue
        high, low, values = found
        seq = ", ".join(mpmath.nstr(v, 8) if v is not None else "failed" for v in values)
        return Verdict(
            Status.REFUTED,
            f"{method}, confirmed by the values of p u phi approaching the edge at {LIMIT_DPS} and "
            f"{LIMIT_DPS_LOW} digits",
            flux,
            Witness(((xj, edge), *point.items()), high, low, (LIMIT_DPS_LOW, LIMIT_DPS)),
            claim=claim,
            details=(("boundary term", lim), (f"values approaching {xj} -> {edge}", seq)),
        )
    return Verdict(
        Status.UNKNOWN,
        "symbolic limits",
        flux,
        claim=claim,
        reason=f"SymPy's limit at {xj} -> {edge} is {sp.sstr(lim)}, but the values approaching the edge do not "
        "confirm it numerically (a limit SymPy alone gives does not refute)",
        details=(("boundary term", lim),),
    )
