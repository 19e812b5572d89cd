r"""Heaviside normal form: where a function jumps, and by how much (the calculus behind Eq. 63-66).

A function is rewritten in *Heaviside normal form*: Piecewise conditions,
``sign`` and Heaviside atoms all become products of ``Heaviside(f_k)`` with
each f_k scaled to a canonical sign, and every distinct f_k is one surface
{f_k = 0} where the function may jump.  The jump across f_k = 0 is the form
with ``Heaviside(f_k) -> 1`` minus the form with ``Heaviside(f_k) -> 0``; in
1-D the one-sided limits at a root are read from the sign of f_k on each
side (the first nonvanishing derivative decides), so roots where f_k touches
0 without crossing carry no jump.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from ..core.convert import as_expr
from ..errors import EstimatorError

__all__ = [
    "canonical_level",
    "heaviside_form",
    "is_zero_number",
    "jump_across",
    "jump_set",
    "one_sided",
    "pointwise",
    "split_pieces",
]


def canonical_level(g: sp.Expr) -> tuple[int, sp.Expr]:
    """g = c * f with c a nonzero number and f scaled to a canonical sign: (sign(c), f)."""
    g = sp.factor_terms(sp.expand(g))
    c, rest = g.as_coeff_Mul()
    if c == 0:
        raise EstimatorError("a jump condition of phi does not depend on x; phi has a degenerate condition")
    sign = 1 if c > 0 else -1
    if rest.could_extract_minus_sign():
        sign, rest = -sign, -rest
    return sign, sp.expand(rest)


def _step(g: sp.Expr) -> sp.Expr:
    """Heaviside(g) with g brought to canonical form (equal almost everywhere)."""
    sign, f = canonical_level(g)
    h = sp.Heaviside(f)
    return h if sign > 0 else 1 - h


def _indicator(cond: sp.Basic, x: tuple[sp.Symbol, ...]) -> sp.Expr:
    """A Boolean condition on x as an expression in Heaviside atoms (a.e.)."""
    if cond is sp.true:
        return sp.S.One
    if cond is sp.false:
        return sp.S.Zero
    if not (cond.free_symbols & set(x)):
        raise EstimatorError(f"the condition {cond} of phi does not involve {x}; phi must depend on x only")
    if isinstance(cond, sp.StrictGreaterThan | sp.GreaterThan):
        return _step(cond.lhs - cond.rhs)
    if isinstance(cond, sp.StrictLessThan | sp.LessThan):
        return _step(cond.rhs - cond.lhs)
    if isinstance(cond, sp.Eq):
        return sp.S.Zero  # holds on a null set only
    if isinstance(cond, sp.Ne):
        return sp.S.One
    if isinstance(cond, sp.And):
        return sp.Mul(*(_indicator(c, x) for c in cond.args))
    if isinstance(cond, sp.Or):
        return 1 - sp.Mul(*(1 - _indicator(c, x) for c in cond.args))
    if isinstance(cond, sp.Not):
        return 1 - _indicator(cond.args[0], x)
    raise EstimatorError(
        f"cannot turn the condition {cond} of phi into a jump surface; use relations such as x > c, "
        "combined with And/Or/Not"
    )


def heaviside_form(phi: sp.Expr, x: Sequence[sp.Symbol]) -> sp.Expr:
    """phi rewritten with Heaviside atoms only (equal to phi almost everywhere).

    Piecewise becomes nested ``H c_1 e_1 + (1 - H c_1)(...)``, ``sign(g)``
    becomes ``2 H(g) - 1``, and every ``Heaviside(g)`` is rescaled so that g
    has a canonical sign (``H(-g) = 1 - H(g)`` a.e.).
    """
    x = tuple(x)
    phi = as_expr(phi, "phi")
    if phi.has(sp.DiracDelta):
        raise EstimatorError("phi contains DiracDelta; phi must be an ordinary function (jumps are fine)")
    for fn in (sp.floor, sp.ceiling, sp.frac):
        if any(a.free_symbols & set(x) for a in phi.atoms(fn)):
            raise EstimatorError(
                f"phi uses {fn.__name__}, which jumps at infinitely many points; write the jumps you need "
                "with Heaviside or Piecewise (for integer variables use go_estimator)"
            )

    def piecewise(*pairs):
        out = sp.S.Zero
        remaining = sp.S.One
        for expr, cond in pairs:
            ind = _indicator(cond, x)
            out += remaining * ind * expr
            remaining = remaining * (1 - ind)
            if cond is sp.true:
                break
        return out

    out = phi.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: piecewise(*e.args))
    out = out.replace(
        lambda e: isinstance(e, sp.sign) and bool(e.free_symbols & set(x)),
        lambda e: 2 * _step(e.args[0]) - 1,
    )
    out = out.replace(
        lambda e: isinstance(e, sp.Heaviside) and bool(e.free_symbols & set(x)),
        lambda e: _step(e.args[0]),
    )
    return out


def _levels(expr: sp.Expr, x: tuple[sp.Symbol, ...]) -> list[sp.Expr]:
    """The distinct canonical level functions f of the Heaviside atoms of ``expr``."""
    found: list[sp.Expr] = []
    for h in sorted(expr.atoms(sp.Heaviside), key=sp.default_sort_key):
        f = h.args[0]
        if f.free_symbols & set(x) and f not in found:
            found.append(f)
    return found


def jump_set(phi: sp.Expr, x: Sequence[sp.Symbol]) -> tuple[sp.Expr, ...]:
    """The level functions f_k whose zero sets {f_k = 0} are where phi may jump."""
    x = tuple(x)
    return tuple(_levels(heaviside_form(phi, x), x))


def jump_across(phi: sp.Expr, level: sp.Expr, x: Sequence[sp.Symbol]) -> sp.Expr:
    """Delta phi = phi on the side f > 0 minus phi on the side f < 0 of the surface f = 0."""
    x = tuple(x)
    sign, f = canonical_level(level)
    form = heaviside_form(phi, x)
    h = sp.Heaviside(f)
    up = form.xreplace({h: sp.S.One})
    down = form.xreplace({h: sp.S.Zero})
    return sign * (up - down)


def split_pieces(
    integrand: sp.Expr, xi: sp.Symbol, support: sp.Set
) -> tuple[tuple[sp.Expr, sp.Expr, sp.Expr], ...] | None:
    """Split a 1-D integrand with jumps into jump-free pieces ``(lo, hi, expr)`` over ``support``.

    SymPy integrates ``p * Heaviside(x - c)`` poorly but ``p`` over [c, oo)
    well, so integrals of discontinuous integrands are done piece by piece.
    Returns None when there is nothing to split or a jump point is not a
    number (it depends on parameters).
    """
    if not integrand.has(sp.Heaviside, sp.Piecewise, sp.sign):
        return None
    form = heaviside_form(integrand, (xi,))
    levels = _levels(form, (xi,))
    points: set = set()
    for f in levels:
        sol = sp.solveset(f, xi, domain=sp.S.Reals)
        if not isinstance(sol, sp.FiniteSet) or any(not r.is_number for r in sol):
            return None
        points.update(sol)
    lo, hi = support.inf, support.sup
    if points and not all(e.is_number for e in (lo, hi)):
        return None  # cannot order numeric jump points against parameter-dependent edges
    inner = sorted((r for r in points if (lo.is_infinite or r > lo) and (hi.is_infinite or r < hi)), key=float)
    edges = [lo, *inner, hi]
    pieces = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        if a.is_infinite:
            mid = b - 1
        elif b.is_infinite:
            mid = a + 1
        else:
            mid = (a + b) / 2
        values = {h: (sp.S.One if h.args[0].xreplace({xi: mid}) > 0 else sp.S.Zero) for h in form.atoms(sp.Heaviside)}
        pieces.append((a, b, form.xreplace(values)))
    return tuple(pieces)


def is_zero_number(e: sp.Expr) -> bool:
    """Is e (free of x) exactly 0?  Decided symbolically, else at 60 digits for a closed number."""
    z = e.is_zero
    if z is not None:
        return bool(z)
    if e.free_symbols:
        return False  # depends on other coordinates or parameters: 0 only on a null set
    return abs(sp.N(e, 60)) < sp.Float(10) ** -45


def _side_sign(f: sp.Expr, xj: sp.Symbol, r: sp.Expr, side: int) -> int | None:
    """The sign of f just to the right (side=+1) or left (side=-1) of x_j = r; None when f(r) != 0.

    At a root, the first derivative that does not vanish decides: order k
    and value c give sign(c) on the right and sign(c) (-1)^k on the left.
    """
    if not is_zero_number(f.xreplace({xj: r})):
        return None
    g = f
    for order in range(1, 13):
        g = sp.diff(g, xj)
        c = g.xreplace({xj: r})
        if is_zero_number(c):
            continue
        if c.is_positive:
            s = 1
        elif c.is_negative:
            s = -1
        elif not c.free_symbols:
            s = 1 if sp.N(c, 30) > 0 else -1
        else:
            raise EstimatorError(
                f"cannot tell on which side of {xj} = {sp.sstr(r)} the level {sp.sstr(f)} is positive; "
                "pass jumps=[...] with simpler level functions"
            )
        return s * side**order
    raise EstimatorError(f"the level {sp.sstr(f)} vanishes to order > 12 at {xj} = {sp.sstr(r)}")


def one_sided(phi: sp.Expr, xj: sp.Symbol, r: sp.Expr, side: int, x: Sequence[sp.Symbol]) -> sp.Expr:
    """phi's limit as x_j -> r from the right (side=+1) or the left (side=-1).

    Every Heaviside atom of phi's Heaviside form whose level vanishes at
    x_j = r takes its value on that side (SymPy's Heaviside(0) = 1/2 is the
    value *on* the surface, which no one-sided limit has).
    """
    x = tuple(x)
    form = heaviside_form(phi, x)
    values = {}
    for h in form.atoms(sp.Heaviside):
        f = h.args[0]
        if xj not in f.free_symbols:
            continue
        s = _side_sign(f, xj, r, side)
        if s is not None:
            values[h] = sp.S.One if s > 0 else sp.S.Zero
    return form.xreplace(values).xreplace({xj: r})


def pointwise(expr: sp.Expr) -> sp.Expr:
    """``expr`` with DiracDelta terms dropped: the derivative where it exists (a.e.)."""
    return expr.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero)
