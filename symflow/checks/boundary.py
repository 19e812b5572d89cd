"""``check_boundary``: does the boundary term p u phi vanish at the support's edges (Eq. 47, footnote 4)?"""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

from ..calculus.flux import flux_at_infinity, has_infinite_face
from ..core.budget import bounded, resolve_timeout
from ..core.convert import as_phi
from ..core.density import Density
from ..core.flow import Flow, field_over
from ..core.verdict import Status, Verdict, Witness, combine
from .edges import edge_limit_verdict
from .faces import face_parts
from .records import boundary_record

__all__ = ["check_boundary"]


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
        parts.extend(face_parts(p, field, wrt, budget, claim, timeout))
    if not parts:
        return Verdict(Status.PROVED, "p u phi is identically 0", sp.S.Zero, claim=claim)
    verdict = combine(parts, claim, noun="edges", label="{}")
    record = boundary_record(fluxes, limits, claim, p.domain()) if limits and p.dim == 1 else verdict.proof
    if verdict.status in (Status.PROVED, Status.CONSISTENT):
        details = tuple((label, v.detail("boundary term", v.residual)) for label, v in parts)
        return replace(verdict, residual=sp.S.Zero, details=details + verdict.details[-len(parts) :], proof=record)
    return replace(verdict, proof=record)
