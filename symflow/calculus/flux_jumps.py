r"""Is the flux p u continuous in x?  The transport equation (Eq. 52) is read in the sense of distributions.

Where the normal component of p u jumps across a surface, :math:`\nabla\cdot(p\,u)` holds a DiracDelta
there, which the pointwise residual (``transport_residual``) cannot see: SymPy differentiates a
Piecewise branch by branch.  So a flow written with a Piecewise, Heaviside or sign of x is a
solution only if the normal component of p u agrees on both sides of every surface where its branch
changes.

``flux_jumps`` finds those surfaces with the Heaviside normal form that also finds the jumps of
phi (``calculus.heaviside``: Piecewise, Heaviside, sign, and Abs/Max/Min kinks as candidates),
takes the jump of p u across each, restricts it to the surface (solved for one coordinate) and
decides by ``decide_zero`` whether its normal component n . [p u] vanishes (in 1-D: [p u_1]); only
that component puts a delta into div(p u).  A function of an argument with a pole (atan(1/x)) may jump
there too, as do acot and its kin where their argument vanishes, and atan(tan x) at tan's poles: such a
surface is harmless on or beyond an edge of the support's box (the Dirichlet's implicit flow divides by
1 - x_1), and undecided inside it.  So is a pole of the flow itself inside the support (a negative
power of an expression in x with no fixed sign): x/|x|^2 in 2-D is divergence-free off 0 and its
divergence is 2 pi delta(x).  What the normal form refuses (floor, Mod, ...), and surfaces that
cannot be solved for, are reported as undecided.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..core import budget
from ..core.density import Density
from ..core.domain import Domain
from ..core.verdict import Status
from ..errors import SymflowError
from ..zero import decide_zero
from .heaviside import jump_across, jump_set, pole_surfaces

__all__ = ["FluxJumps", "flux_jumps"]


@dataclass(frozen=True)
class FluxJumps:
    """``status``: "none" (no branch in x), "continuous" (every surface decided), "jumps" or "undecided";
    ``detail`` names the surface and the difference (for "jumps" and "undecided")."""

    status: str
    detail: str = ""


def _on_surface(f: sp.Expr, x: tuple[sp.Symbol, ...], timeout: float | None) -> tuple[sp.Symbol, list] | None:
    """(x_j, the surface f = 0 as values of x_j), or None when SymPy cannot solve it within the budget."""
    xj = sorted(f.free_symbols & set(x), key=sp.default_sort_key)[0]
    slope = f.diff(xj)
    if slope != 0 and xj not in slope.free_symbols:  # a plane in x_j (x < mu, x1 + x2 < 1): no solver needed
        return xj, [xj - f / slope]
    try:
        roots = budget.solve(f, xj, timeout=budget.remaining(timeout), what="solving for a branch surface")
    except (budget.BudgetExceeded, *budget.SYMPY_GAVE_UP):
        return None
    return (xj, roots) if roots else None


def _off_the_interior(den: sp.Expr, x: tuple[sp.Symbol, ...], domain: Domain) -> bool:
    """Whether every factor of ``den`` vanishes only where x_j <= lo or x_j >= hi, on or beyond an edge of the
    support's box (a plane x_j = b decided symbolically; anything else counts as inside)."""
    for factor in sp.Mul.make_args(den):
        base = factor.base if isinstance(factor, sp.Pow) and factor.exp.is_positive else factor
        if not base.free_symbols & set(x):
            continue
        moving = base.free_symbols & set(x)
        if len(moving) != 1:
            return False
        (xj,) = moving
        slope = base.diff(xj)
        if slope == 0 or slope.free_symbols & set(x):
            return False
        root = sp.expand(xj - base / slope)
        edges = domain.interval(xj)
        if any(sp.expand(root - edge) == 0 for edge in (edges.lo, edges.hi)):
            continue
        if not ((root - edges.lo).is_nonpositive or (root - edges.hi).is_nonnegative):
            return False
    return True


def _poles_of(expr: sp.Basic, x: tuple[sp.Symbol, ...]) -> tuple[sp.Expr, ...]:
    """The bases g of negative integer powers g^-k in ``expr`` that depend on x and have no fixed sign: where the
    flow itself is singular, its divergence may hold a point or surface mass that no pointwise residual sees."""
    xs = set(x)
    found = []
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Pow) and node.exp.is_negative and node.exp.is_number:
            base = node.base
            if base.free_symbols & xs and not (base.is_positive or base.is_negative) and base not in found:
                found.append(base)
    return tuple(found)


def _shown(gap: sp.Expr, timeout: float | None) -> sp.Expr:
    """The jump as the message shows it: simplified when that takes under a second, else as computed."""
    try:
        return budget.simplify(gap, timeout=min(1.0, budget.remaining(timeout)))
    except (budget.BudgetExceeded, *budget.SYMPY_GAVE_UP):
        return gap


def flux_jumps(p: Density, u: tuple[sp.Expr, ...], *, timeout: float | None = None) -> FluxJumps:
    """Decide whether p u is continuous across the surfaces where u changes branch: each p u_i in 1-D, the
    normal component n . p u in d >= 2 (a jump along the surface is no source of div(p u))."""
    x = tuple(p.x)
    domain = p.domain()
    surfaces = []
    for i, ui in enumerate(u):
        if not isinstance(ui, sp.Basic) or not ui.free_symbols & set(x):
            continue
        try:
            surfaces += [(i, ui, f) for f in jump_set(ui, x, poles=False)]
        except SymflowError as exc:  # floor, Mod, ...: jumps the normal form cannot write
            return FluxJumps("undecided", f"component {i + 1} of the flow may jump where symflow cannot say ({exc})")
        inside = [den for den in pole_surfaces(ui, x) + _poles_of(ui, x) if not _off_the_interior(den, x, domain)]
        if inside:
            return FluxJumps(
                "undecided",
                f"component {i + 1} of the flow may jump or be singular where {sp.sstr(inside[0])} = 0 (a pole of "
                "the flow, whose divergence may hold a point mass there: x/|x|^2 in 2-D has 2 pi delta(x); or a "
                "function of an argument with a pole, or acot-like: atan(1/x) and acot(x) jump by pi at 0)",
            )
    if not surfaces:
        return FluxJumps("none")
    for f in dict.fromkeys(f for _, _, f in surfaces):  # each surface once, in the order found
        solved = _on_surface(f, x, timeout)
        if solved is None:
            return FluxJumps("undecided", f"the surface {f} = 0 of the flow could not be solved")
        xj, roots = solved
        crossing = {i for i, _, g in surfaces if g == f}
        deltas = [jump_across(p.expr * ui, f, x, poles=False) if i in crossing else sp.S.Zero for i, ui in enumerate(u)]
        for b in roots:
            on = {xj: b}
            where = f"{xj} = {b}"
            # Only the normal component of p u enters div(p u)'s delta on the surface: a jump along the surface
            # (tangential) is no source.  Where the normal is not known to be nonzero, every component must agree.
            normal = [sp.expand(f.diff(xk).xreplace(on)) for xk in x]
            if len(x) >= 2 and any(n != 0 for n in normal):
                gap = sp.Add(*(n * d.xreplace(on) for n, d in zip(normal, deltas, strict=True)))
                checks = [("the normal component of p u", gap)]
            else:
                checks = [(f"p u_{i + 1}", deltas[i].xreplace(on)) for i in sorted(crossing)]
            for what, gap in checks:
                verdict = decide_zero(gap, domain, timeout=budget.remaining(timeout), claim="p u is continuous")
                if verdict.status is Status.REFUTED:
                    return FluxJumps("jumps", f"{what} jumps across {where} (by {_shown(gap, timeout)} there)")
                if verdict.status is not Status.PROVED:
                    return FluxJumps("undecided", f"whether {what} is continuous across {where} ({verdict.status})")
    return FluxJumps("continuous")
