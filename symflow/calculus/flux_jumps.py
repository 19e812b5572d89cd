r"""Is the flux p u continuous in x?  The transport equation (Eq. 52) is read in the sense of distributions.

Where a component p u_i jumps across a surface, :math:`\nabla\cdot(p\,u)` holds a DiracDelta
there, which the pointwise residual (``transport_residual``) cannot see: SymPy differentiates a
Piecewise branch by branch.  So a flow written with a Piecewise, Heaviside or sign of x is a
solution only if p u_i agrees on both sides of every surface where its branch changes.

``flux_jumps`` finds those surfaces (the zero sets of the relations in the conditions, solved
for one variable) and decides each difference of the two sides by ``decide_zero``.  Floor,
ceiling, frac and Mod of x, and surfaces that cannot be solved for, are reported as undecided.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..core import budget
from ..core.density import Density
from ..core.verdict import Status
from ..zero import decide_zero

__all__ = ["FluxJumps", "flux_jumps"]

_UNSUPPORTED = (sp.floor, sp.ceiling, sp.frac, sp.Mod)


@dataclass(frozen=True)
class FluxJumps:
    """``status``: "none" (no branch in x), "continuous" (every surface decided), "jumps" or "undecided";
    ``detail`` names the surface and the difference (for "jumps" and "undecided")."""

    status: str
    detail: str = ""


def _branches_in_x(e: sp.Expr, xs: frozenset) -> tuple[list[sp.Piecewise], list[sp.Basic]]:
    """The Piecewise nodes whose conditions read x (Heaviside and sign rewritten first), and unsupported nodes."""
    unsupported = [f for f in e.atoms(*_UNSUPPORTED) if f.free_symbols & xs]
    pieces = [f for f in e.atoms(sp.Piecewise) if any(c.free_symbols & xs for _, c in f.args)]
    return pieces, unsupported


def _as_piecewise(e: sp.Expr, xs: frozenset) -> sp.Expr:
    def rewrite(f: sp.Basic) -> sp.Basic:
        return f.rewrite(sp.Piecewise) if f.free_symbols & xs else f

    return e.replace(lambda f: isinstance(f, sp.Heaviside | sp.sign), rewrite)


def _one_side(e: sp.Expr, xj: sp.Symbol, b: sp.Expr, sign: int) -> sp.Expr | None:
    """e just off the surface x_j = b on one side: x_j = b + sign d, d > 0, its branches chosen, then d -> 0.

    None when a condition still depends on d (SymPy could not tell which branch holds there).
    """
    d = sp.Dummy("d", positive=True)
    near = e.subs(xj, b + sign * d)
    # a condition of another surface (x > 0 next to x = 1 reads 1 - d > 0): its value at d = 0 holds for small d
    settled = {}
    for rel in near.atoms(sp.core.relational.Relational):
        if not rel.has(d):
            continue
        if isinstance(rel, sp.Eq | sp.Ne):  # an equation holds on a surface only: off it, for small d, it fails
            settled[rel] = sp.false if isinstance(rel, sp.Eq) else sp.true
            continue
        at_zero = rel.subs(d, 0)
        if at_zero in (sp.true, sp.false):
            settled[rel] = at_zero
    near = near.xreplace(settled)
    if any(c.has(d) for piece in near.atoms(sp.Piecewise) for _, c in piece.args):
        return None
    return near.subs(d, 0)


def flux_jumps(p: Density, u: tuple[sp.Expr, ...], *, timeout: float | None = None) -> FluxJumps:
    """Decide whether each p u_i is continuous across the surfaces where u_i changes branch."""
    xs = frozenset(p.x)
    found = []
    for i, ui in enumerate(u):
        if not isinstance(ui, sp.Basic) or not ui.free_symbols & xs:
            continue
        ui = _as_piecewise(ui, xs)
        pieces, unsupported = _branches_in_x(ui, xs)
        if unsupported:
            return FluxJumps("undecided", f"component {i + 1} of the flow uses {unsupported[0]}, which may jump")
        for piece in pieces:
            for _, cond in piece.args:
                for rel in cond.atoms(sp.core.relational.Relational):
                    # an equation or its negation picks a value on a surface (Heaviside(0)): no jump of its own
                    if rel.free_symbols & xs and not isinstance(rel, sp.Eq | sp.Ne):
                        found.append((i, ui, rel))
    if not found:
        return FluxJumps("none")
    domain = p.domain()
    for i, ui, rel in found:
        g = rel.lhs - rel.rhs
        xj = sorted(g.free_symbols & xs, key=sp.default_sort_key)[0]
        slope = g.diff(xj)
        if slope != 0 and xj not in slope.free_symbols:  # a plane in x_j (x < mu, x1 + x2 < 1): no solver needed
            roots = [xj - g / slope]
        else:
            try:
                roots = budget.solve(g, xj, timeout=budget.remaining(timeout), what="solving for a branch surface")
            except (budget.BudgetExceeded, *budget.SYMPY_GAVE_UP):
                roots = None
        if not roots:
            return FluxJumps("undecided", f"the surface {rel} in component {i + 1} of the flow could not be solved")
        for b in roots:
            sides = [_one_side(ui, xj, b, sign) for sign in (1, -1)]
            if None in sides:
                return FluxJumps("undecided", f"the branches of component {i + 1} next to {xj} = {b}")
            gap = (p.expr * (sides[0] - sides[1])).subs(xj, b)
            verdict = decide_zero(gap, domain, timeout=budget.remaining(timeout), claim="p u is continuous")
            where = f"{xj} = {b}"
            if verdict.status is Status.REFUTED:
                return FluxJumps("jumps", f"p u_{i + 1} jumps across {where} (by {gap} there)")
            if verdict.status is not Status.PROVED:
                return FluxJumps("undecided", f"whether p u_{i + 1} is continuous across {where} ({verdict.status})")
    return FluxJumps("continuous")
