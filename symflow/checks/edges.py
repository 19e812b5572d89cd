"""The limit of a boundary flux p u_j phi at one edge of the support: zero, nonzero (confirmed), or unknown.

Shared by ``check_boundary`` (the box's edges, Eq. 47 and footnote 4), the faces of a support
cut by an indicator (``faces.py``) and ``classify``'s balance at a finite edge (Eq. 76-77).
"""

from __future__ import annotations

import mpmath
import sympy as sp

from ..calculus.limits import LIMIT_DPS, LIMIT_DPS_LOW, LimitDisagreement, confirmed_nonzero_limit, cross_examined_limit
from ..core.budget import BudgetExceeded
from ..core.density import Density
from ..core.verdict import Status, Verdict, Witness
from ..zero import decide_zero
from ..zero.points import sample_points

__all__ = ["edge_limit_verdict"]


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
            reason=f"SymPy could not take the limit of p u phi at {xj} -> {edge} (its {type(exc).__name__}: "
            f"{str(exc)[:120] or 'no message'}), so this edge's term is undecided",
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
