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

from ..core.convert import as_expr, as_symbols, as_test_function
from ..errors import EstimatorError

__all__ = [
    "canonical_level",
    "heaviside_form",
    "is_zero_number",
    "jump_across",
    "jump_levels",
    "jump_set",
    "one_sided",
    "pointwise",
    "pole_surfaces",
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


def _step(g: sp.Expr, x: tuple[sp.Symbol, ...] = ()) -> sp.Expr:
    """Heaviside(g) with g split into its factors, each brought to canonical form (equal almost everywhere).

    The sign of a product is the product of its factors' signs, so
    H(f_1 f_2) = H(f_1) H(f_2) + (1 - H(f_1))(1 - H(f_2)) a.e.: the jump set of
    H((x - 1) y) is {x = 1} and {y = 0}, each with its own surface term.  Factors
    of even multiplicity and factors that are positive (x**2 + 1, exp(x)) do not
    change sign and drop out.
    """
    g = sp.factor_terms(g)
    if x and g.is_polynomial(*x) and not g.is_Atom:
        try:
            coeff, factors = sp.factor_list(g, *x)
        except (sp.PolynomialError, NotImplementedError, ValueError):
            coeff, factors = sp.S.One, [(g, 1)]
    else:
        coeff, factors = sp.S.One, [(f, 1) for f in (sp.Mul.make_args(g) if x else (g,))]
    negative = bool(coeff.is_negative) if coeff.is_number else False
    if coeff.is_number and coeff == 0:
        return sp.S.Zero
    steps = []
    for f, mult in factors:
        if x and not (f.free_symbols & set(x)):
            if f.is_negative:
                negative = not negative if mult % 2 else negative
                continue
            if f.is_positive or mult % 2 == 0:
                continue
            raise EstimatorError(
                f"a jump condition of phi has a factor {f} whose sign is unknown; phi must depend on x only"
            )
        if mult % 2 == 0 or f.is_positive:
            continue  # no sign change (a.e.)
        if f.is_negative:
            negative = not negative
            continue
        if isinstance(f, sp.Pow) and f.exp.is_number and f.exp.is_positive and not f.exp.is_integer:
            f = f.base  # sqrt(g) > 0 exactly where g > 0 (and undefined where g < 0)
        sign, level = canonical_level(f)
        h = sp.Heaviside(level)
        steps.append(h if sign > 0 else 1 - h)
    if not steps:
        return sp.S.Zero if negative else sp.S.One
    positive = steps[0]
    for h in steps[1:]:
        positive = positive * h + (1 - positive) * (1 - h)  # sign(a b) > 0 <=> both > 0 or both < 0
    return 1 - positive if negative else positive


def _indicator(cond: sp.Basic, x: tuple[sp.Symbol, ...]) -> sp.Expr:
    """A Boolean condition on x as an expression in Heaviside atoms (a.e.)."""
    if cond is sp.true:
        return sp.S.One
    if cond is sp.false:
        return sp.S.Zero
    if not (cond.free_symbols & set(x)):
        raise EstimatorError(f"the condition {cond} of phi does not involve {x}; phi must depend on x only")
    if isinstance(cond, sp.StrictGreaterThan | sp.GreaterThan):
        return _step(cond.lhs - cond.rhs, x)
    if isinstance(cond, sp.StrictLessThan | sp.LessThan):
        return _step(cond.rhs - cond.lhs, x)
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


# Functions of x that jump (or jump infinitely often) and have no Heaviside form here: refused, never missed.
_JUMPING = (sp.floor, sp.ceiling, sp.frac, sp.Mod, sp.arg, sp.atan2, sp.KroneckerDelta)
# Functions that are continuous wherever their argument is: applied to an argument with a pole they may jump
# there (atan(1/x) jumps by -pi at 0), so such an argument is refused.
_ALGEBRAIC = (sp.Add, sp.Mul, sp.Pow, sp.Heaviside, sp.Piecewise, sp.Abs, sp.sign, sp.Max, sp.Min)


# Functions with poles of their own, each with a factor that vanishes there: a function of such an argument may
# jump at them (atan(tan x) jumps by -pi at every (k + 1/2) pi).
_POLES_WHERE = {
    sp.tan: sp.cos,
    sp.sec: sp.cos,
    sp.cot: sp.sin,
    sp.csc: sp.sin,
    sp.coth: sp.sinh,
    sp.csch: sp.sinh,
    sp.gamma: lambda g: sp.sin(sp.pi * g),  # poles at 0, -1, -2, ...
    sp.loggamma: lambda g: sp.sin(sp.pi * g),
    sp.digamma: lambda g: sp.sin(sp.pi * g),
}
# Functions that jump where their argument vanishes: acot(x) = atan(1/x) on the reals, and their kin.
_RECIPROCAL = (sp.acot, sp.asec, sp.acsc, sp.acoth, sp.acsch)


def _argument_poles(expr: sp.Basic, xs: set) -> list[tuple[sp.Function, sp.Expr, sp.Expr]]:
    """(function, argument, g) for every non-algebraic function of x that may jump on {g = 0}, g having no
    fixed sign: where its argument has a pole (a denominator in x, or tan, cot, gamma, ... of x inside it),
    or where the argument vanishes for acot, asec, acsc, acoth, acsch."""
    found = []

    def sign_free(g: sp.Expr) -> bool:
        return bool(g.free_symbols & xs) and not (g.is_positive or g.is_negative)

    for node in sp.preorder_traversal(expr):
        if not isinstance(node, sp.Function) or isinstance(node, _ALGEBRAIC) or not (node.free_symbols & xs):
            continue
        if isinstance(node, _RECIPROCAL) and sign_free(node.args[0]):
            found.append((node, node.args[0], node.args[0]))
        for arg in node.args:
            if not isinstance(arg, sp.Expr):  # the matrix entries of the Gaussian atoms: no pole in x
                continue
            _, den = sp.fraction(sp.together(arg))
            if sign_free(den):
                found.append((node, arg, den))
            for inner in sp.preorder_traversal(arg):
                where = _POLES_WHERE.get(type(inner))
                if where is not None and inner.free_symbols & xs and not inner.args[0].is_positive:
                    found.append((node, arg, where(inner.args[0])))
    return found


def pole_surfaces(expr: sp.Basic, x: Sequence[sp.Symbol]) -> tuple[sp.Expr, ...]:
    """The denominators g whose zero sets {g = 0} are where a function of ``expr`` may jump at a pole of
    its argument (atan(1/x) jumps by -pi at 0), each once."""
    return tuple(dict.fromkeys(den for _, _, den in _argument_poles(expr, set(x))))


def _check_no_hidden_jumps(phi: sp.Expr, x: tuple[sp.Symbol, ...], *, poles: bool = True) -> None:
    xs = set(x)
    for fn in _JUMPING:
        for a in phi.atoms(fn):
            if a.free_symbols & xs:
                name = getattr(fn, "__name__", str(fn))
                where = "at infinitely many points" if fn in (sp.floor, sp.ceiling, sp.frac, sp.Mod) else "somewhere"
                raise EstimatorError(
                    f"phi uses {name}({', '.join(map(sp.sstr, a.args))}), which jumps {where}, in a way not written "
                    "with Heaviside or Piecewise; write the jumps you need with Heaviside or Piecewise "
                    "(for integer variables use go_estimator)"
                )
    for node, arg, den in _argument_poles(phi, xs) if poles else ():
        raise EstimatorError(
            f"phi applies {type(node).__name__} to {sp.sstr(arg)}, which may jump where {sp.sstr(den)} = 0 (at a "
            "pole of its argument, or where acot-like functions change branch: atan(1/x) and acot(x) jump by pi "
            "at 0) and no surface term would be added; write phi with Heaviside or Piecewise on each side"
        )


def _without_kinks(phi: sp.Expr, x: tuple[sp.Symbol, ...]) -> sp.Expr:
    """Abs, Max and Min of x rewritten with sign: |g| = g sign(g), max(a, b) = b + (a - b) H(a - b).

    They are continuous themselves, but a jump written through them (|x|/x is sign(x)) must be found: every
    kink becomes a candidate surface, whose jump is then computed (0 for a plain kink).
    """
    xs = set(x)

    def pairwise(args, pick):
        out = args[0]
        for a in args[1:]:
            out = pick(out, a)
        return out

    def mx(a, b):
        return b + (a - b) * sp.Heaviside(a - b)

    def mn(a, b):
        return a + (b - a) * sp.Heaviside(a - b)

    out = phi.replace(lambda e: isinstance(e, sp.Max) and bool(e.free_symbols & xs), lambda e: pairwise(e.args, mx))
    out = out.replace(lambda e: isinstance(e, sp.Min) and bool(e.free_symbols & xs), lambda e: pairwise(e.args, mn))
    return out.replace(
        lambda e: isinstance(e, sp.Abs) and bool(e.free_symbols & xs), lambda e: e.args[0] * sp.sign(e.args[0])
    )


def heaviside_form(phi: sp.Expr, x: Sequence[sp.Symbol], *, kinks: bool = False, poles: bool = True) -> sp.Expr:
    """phi rewritten with Heaviside atoms only (equal to phi almost everywhere).

    Piecewise becomes nested ``H c_1 e_1 + (1 - H c_1)(...)``, ``sign(g)``
    becomes ``2 H(g) - 1``, and every ``Heaviside(g)`` is split into its factors'
    Heaviside atoms, each rescaled so that its level has a canonical sign
    (``H(-g) = 1 - H(g)`` a.e.).  A level that itself contains a Heaviside atom
    (``H(1 - |x|)``, ``H(max(x, y) - 1)``) is split on that atom's two cases.
    ``kinks=True`` also rewrites Abs, Max and Min through sign (for finding
    jumps written through them).  Functions that jump in ways this form cannot
    express (floor, Mod, arg, atan(1/x), ...) are refused.
    """
    x = tuple(x)
    phi = as_test_function(phi)  # refuses DiracDelta
    _check_no_hidden_jumps(phi, x, poles=poles)
    if kinks:
        phi = _without_kinks(phi, x)

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
        lambda e: 2 * sp.Heaviside(e.args[0]) - 1,
    )
    # a level with a Heaviside inside is split on that atom's two cases (innermost first), then every level is
    # factored and brought to canonical form in one pass (the new atoms are canonical already)
    for _ in range(64):
        nested = [h for h in out.atoms(sp.Heaviside) if h.args[0].has(sp.Heaviside)]
        if not nested:
            break
        h = nested[0]
        g = h.args[0]
        k = next(a for a in g.atoms(sp.Heaviside) if not a.args[0].has(sp.Heaviside))
        split = k * sp.Heaviside(g.xreplace({k: sp.S.One})) + (1 - k) * sp.Heaviside(g.xreplace({k: sp.S.Zero}))
        out = out.xreplace({h: split})
    else:
        raise EstimatorError("phi nests its jump conditions more than 64 deep; simplify phi")
    atoms = [h for h in out.atoms(sp.Heaviside) if h.free_symbols & set(x)]
    out = out.xreplace({h: _step(h.args[0], x) for h in atoms})
    return out


def _levels(expr: sp.Expr, x: tuple[sp.Symbol, ...]) -> list[sp.Expr]:
    """The distinct canonical level functions f of the Heaviside atoms of ``expr``."""
    found: list[sp.Expr] = []
    for h in sorted(expr.atoms(sp.Heaviside), key=sp.default_sort_key):
        f = h.args[0]
        if f.free_symbols & set(x) and f not in found:
            found.append(f)
    return found


def jump_set(phi: sp.Expr, x: Sequence[sp.Symbol], *, poles: bool = True) -> tuple[sp.Expr, ...]:
    """The level functions f_k whose zero sets {f_k = 0} are where phi may jump.

    Every factor of a condition is its own surface (H((x - 1) y) jumps across x = 1 and
    across y = 0), and jumps written through Abs, sign, Max, Min or Piecewise are found
    (kinks of |g| come out as candidates whose jump is 0); functions that jump in ways
    not expressible here (floor, Mod, arg, atan(1/x)) are refused.  ``poles=False``
    leaves a function of an argument with a pole to the caller (``pole_surfaces``).
    """
    x = as_symbols(x, "x")
    return tuple(_levels(heaviside_form(phi, x, kinks=True, poles=poles), x))


def jump_levels(levels: Sequence[sp.Expr], x: Sequence[sp.Symbol]) -> tuple[sp.Expr, ...]:
    """Level functions given by hand, split into the canonical factors that are the surfaces (f = (x - 1) y: two)."""
    x = tuple(x)
    out: list[sp.Expr] = []
    for raw in levels:
        raw = as_expr(raw, "jump level function")
        for f in _levels(heaviside_form(sp.Heaviside(raw), x), x):
            if f not in out:
                out.append(f)
    return tuple(out)


def jump_across(phi: sp.Expr, level: sp.Expr, x: Sequence[sp.Symbol], *, poles: bool = True) -> sp.Expr:
    """Delta phi = phi on the side f > 0 minus phi on the side f < 0 of the surface f = 0.

    ``poles=False`` leaves functions of an argument with a pole to the caller (as for ``jump_set``)."""
    x = tuple(x)
    sign, f = canonical_level(level)
    form = heaviside_form(phi, x, kinks=True, poles=poles)
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
    form = heaviside_form(phi, x, kinks=True)
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
