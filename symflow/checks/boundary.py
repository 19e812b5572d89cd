"""``check_boundary``: does the boundary term p u phi vanish at the support's edges (Eq. 47, footnote 4)?"""

from __future__ import annotations

import sympy as sp

from ..core import budget as budgets
from ..core.budget import BudgetExceeded, bounded, resolve_timeout
from ..core.convert import as_phi
from ..core.density import Density
from ..core.flow import Flow, field_over
from ..core.verdict import Status, Verdict, Witness
from ..zero import decide_zero

__all__ = ["check_boundary"]


@bounded
def check_boundary(p: Density, flow: Flow, wrt: sp.Symbol, phi: object, *, timeout: float | None = None) -> Verdict:
    r"""Does :math:`p\,u\,\phi \to 0` at the edges of the support (condition under Eq. 47, footnote 4)?

    Each component p u_j phi is taken to the lower and upper edge of
    coordinate j's support (other coordinates held symbolic).  All limits 0:
    proved.  A nonzero limit: refuted, with the edge as witness.
    """
    u = field_over(p, flow, wrt)
    phi = as_phi(phi, p.x)
    budget = resolve_timeout(timeout)
    claim = f"boundary term p u phi vanishes at the support's edges ({flow.kind} flow, d/d{wrt})"
    found = []
    consistent: list[str] = []
    for j, (xj, s) in enumerate(zip(p.x, p.support_sets, strict=True)):
        flux = p.expr * u[j] * phi
        if flux == 0:
            continue
        for edge, direction in ((s.inf, "+"), (s.sup, "-")):
            try:
                lim = budgets.limit(flux, xj, edge, direction, timeout=budget)
            except BudgetExceeded as exc:
                return Verdict(Status.UNKNOWN, "symbolic limits", flux, claim=claim, reason=str(exc))
            except Exception as exc:  # noqa: BLE001 - SymPy raises many kinds on hard limits
                return Verdict(
                    Status.UNKNOWN,
                    "symbolic limits",
                    flux,
                    claim=claim,
                    reason=f"limit at {xj} -> {edge} failed: {type(exc).__name__}",
                )
            found.append((xj, edge, lim))
            if lim.has(sp.Limit):
                return Verdict(
                    Status.UNKNOWN,
                    "symbolic limits",
                    flux,
                    claim=claim,
                    reason=f"SymPy left the limit at {xj} -> {edge} unevaluated",
                )
            if lim == 0:
                continue
            if lim.has(sp.oo, sp.S.NegativeInfinity, sp.zoo, sp.AccumBounds) and not lim.free_symbols:
                # An infinite or oscillating limit (p u phi -> oo, or AccumBounds(-1, 1)) is not 0.
                witness = Witness(((xj, edge),), lim, lim)
                return Verdict(
                    Status.REFUTED,
                    "symbolic limit at the edge (infinite or not existing)",
                    flux,
                    witness,
                    claim=claim,
                    details=(("boundary term", lim),),
                )
            verdict = decide_zero(lim, p.domain(), timeout=timeout)
            if verdict.status is Status.PROVED:
                continue
            if verdict.status is Status.CONSISTENT:
                # Zero to 40 digits, but only numerically: the whole check is then no proof.
                consistent.append(f"{xj} -> {edge}: {verdict.method}")
                continue
            if verdict.status is Status.UNKNOWN:
                return Verdict(
                    Status.UNKNOWN,
                    "symbolic limits",
                    flux,
                    claim=claim,
                    reason=f"is the limit {sp.sstr(lim)} at {xj} -> {edge} zero? {verdict.reason}",
                    details=(("boundary term", lim),),
                )
            w = verdict.witness
            return Verdict(
                Status.REFUTED,
                "symbolic limit at the edge",
                flux,
                Witness(((xj, edge), *w.point), w.value, w.value_low, w.digits),
                claim=claim,
                details=(("boundary term", lim),),
            )
    details = tuple((f"{x} -> {e}", lim) for x, e, lim in found)
    if consistent:
        return Verdict(
            Status.CONSISTENT,
            "symbolic limits; nonzero-looking ones vanish numerically: " + "; ".join(consistent),
            sp.S.Zero,
            claim=claim,
            details=details,
        )
    return Verdict(
        Status.PROVED,
        "symbolic limits at every edge are 0",
        sp.S.Zero,
        claim=claim,
        details=details,
    )
