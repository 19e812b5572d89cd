"""Shared Symbols, parameter binding (ties and expressions) and the family builder.

Every family uses the same default Symbols, so densities built separately can
be mixed in one estimator (``derive(normal(), zero, wrt=mu, q=l_distribution())``):
SymPy Symbols are equal only when both the name and the assumptions agree, so
they are created here once and nowhere else.

A family's parameters are *slots* (``alpha``, ``beta``, ...).  Each slot takes
a Symbol (the default one when not given) or an expression in Symbols, so
``beta(alpha=a, beta=a)`` is Beta(a, a) and ``beta(alpha=a, beta=2*a)`` is
Beta(a, 2a); the density's parameters are then the free Symbols of the slots,
in order of first appearance (slot by slot, each expression read in SymPy's
preorder).  The density, its CDF, its reparameterization and its sampler are
all written in the slots' values, so each follows the tie.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sympy as sp

from ..core.density import Density, Reparameterization
from ..errors import DensityError
from .samplers import Draw

__all__ = [
    "Bound",
    "Family",
    "Slot",
    "bind",
    "default_x",
    "free_symbols_in_order",
    "positive_number",
    "slot_value",
    "symbol_or_default",
]

# 1-D variable: real for every family; positive supports are given by ``support``,
# never by the Symbol's assumptions (Symbol('x', real=True) != Symbol('x', positive=True)).
X = sp.Symbol("x", real=True)
MU = sp.Symbol("mu", real=True)
SIGMA = sp.Symbol("sigma", positive=True)
NU = sp.Symbol("nu", positive=True)
RATE = sp.Symbol("lambda", positive=True)
ALPHA = sp.Symbol("alpha", positive=True)
BETA = sp.Symbol("beta", positive=True)
A = sp.Symbol("a", real=True)
B = sp.Symbol("b", real=True)
# The Kumaraswamy's shapes: named a and b as in the literature, but positive, so they are other
# Symbols than the uniform's real edges.  (Positivity as a constraint on the real a, b would
# do as well in principle, but numeric zero tests drop every test point whose parameters do not
# settle every constraint, and a residual in a alone then gets none.)
A_POSITIVE = sp.Symbol("a", positive=True)
B_POSITIVE = sp.Symbol("b", positive=True)
K = sp.Symbol("k", positive=True)
KAPPA = sp.Symbol("kappa", positive=True)
EPS = sp.Symbol("epsilon", real=True)

POSITIVE_REALS = sp.Interval(0, sp.oo)
UNIT_INTERVAL = sp.Interval(0, 1)

# What a slot's value must satisfy; a value whose assumptions do not already imply
# it gets a constraint (``a - 1 > 0``), so test points and samplers never leave it.
REAL, POSITIVE, UNIT = "real", "positive", "unit"


def _index(i: int, j: int | None = None) -> str:
    """Subscript text: ``3`` or ``21``; with an underscore once an index has two digits."""
    if j is None:
        return str(i)
    return f"{i}{j}" if i < 10 and j < 10 else f"{i}_{j}"


def default_x(d: int) -> tuple[sp.Symbol, ...]:
    """x_1..x_d (real), shared by every d-dimensional family."""
    return tuple(sp.Symbol(f"x_{_index(i)}", real=True) for i in range(1, d + 1))


def symbol_or_default(given: object, default: sp.Symbol, what: str) -> sp.Symbol:
    """``given`` if it is a Symbol, ``default`` if it is None, else raise (used for variables)."""
    if given is None:
        return default
    if isinstance(given, str):
        raise DensityError(
            f"{what} is the string {given!r}; pass a sympy.Symbol, e.g. sympy.Symbol({given!r}, real=True)"
        )
    if not isinstance(given, sp.Symbol):
        raise DensityError(f"{what} must be a sympy.Symbol (or None for the default {default}), got {given!r}")
    return given


def positive_number(value: object, what: str) -> sp.Expr:
    """An exact positive number (int, Fraction, SymPy number) or raise."""
    if isinstance(value, bool):
        raise DensityError(f"{what} is a bool; pass a positive number or a Symbol")
    if isinstance(value, sp.Basic):
        num = value
    elif isinstance(value, numbers.Integral):
        num = sp.Integer(int(value))
    elif isinstance(value, numbers.Rational):
        num = sp.Rational(int(value.numerator), int(value.denominator))
    elif isinstance(value, numbers.Real):
        num = sp.Float(float(value))
    else:
        raise DensityError(f"{what} must be a Symbol or a positive number, got {value!r}")
    if not (num.is_number and num.is_positive):
        raise DensityError(f"{what} = {num} must be a positive number (or a positive Symbol)")
    return num


@dataclass(frozen=True)
class Slot:
    """One parameter position of a family: its keyword, default Symbol and range (real, positive, unit)."""

    keyword: str
    default: sp.Symbol
    kind: str = POSITIVE


@dataclass(frozen=True)
class Bound:
    """A family's slots bound to values: the values (slot order), the free Symbols and the range constraints."""

    values: tuple[sp.Expr, ...]
    params: tuple[sp.Symbol, ...]
    constraints: tuple[sp.Basic, ...]


def free_symbols_in_order(exprs: Sequence[sp.Expr]) -> tuple[sp.Symbol, ...]:
    """The free Symbols of ``exprs`` in order of first appearance (each expression in SymPy's preorder)."""
    seen: list[sp.Symbol] = []
    for e in exprs:
        free = e.free_symbols
        for node in sp.preorder_traversal(e):
            if isinstance(node, sp.Symbol) and node in free and node not in seen:
                seen.append(node)
    return tuple(seen)


def slot_value(given: object, slot: Slot) -> sp.Expr:
    """A slot's value: the default Symbol, the Symbol given, or an expression in Symbols."""
    if given is None:
        return slot.default
    if isinstance(given, str):
        raise DensityError(
            f"{slot.keyword} is the string {given!r}; pass a sympy.Symbol or an expression in Symbols, "
            f"e.g. sympy.Symbol({given!r}, positive=True)"
        )
    if (
        isinstance(given, int | float)
        and not isinstance(given, bool)
        or (isinstance(given, sp.Expr) and not given.free_symbols)
    ):
        # A number would leave the slot without a parameter to differentiate by; the
        # families that take a fixed value say so (student_t's nu, binomial's n).
        k, d = slot.keyword, slot.default
        raise DensityError(
            f"{k} = {given} is a number; a family's slots take Symbols. To fix {k} to {given}, build the "
            f"family with its Symbol and substitute into the density: p = <family>(...); "
            f"sf.Density(p.expr.subs({d}, {given}), p.x, tuple(t for t in p.params if t != {d}), "
            f"support=p.support, name=...)"
        )
    if not isinstance(given, sp.Expr):
        raise DensityError(
            f"{slot.keyword} must be a sympy.Symbol or an expression in Symbols (or None for the default "
            f"{slot.default}), got {given!r}"
        )
    return given


def _range_constraints(value: sp.Expr, slot: Slot) -> tuple[sp.Basic, ...]:
    if slot.kind == REAL:
        if value.is_extended_real is False:
            raise DensityError(f"{slot.keyword} = {value} is never real; give a real Symbol or expression")
        return ()
    if value.is_positive is False:
        raise DensityError(f"{slot.keyword} = {value} is never positive; it must be > 0")
    out: tuple[sp.Basic, ...] = () if value.is_positive else (sp.StrictGreaterThan(value, 0),)
    if slot.kind == UNIT:
        # (1 - p).is_positive is None for a plain positive p: the constraint p < 1 stays.
        out += () if (1 - value).is_positive else (sp.StrictLessThan(value, 1),)
    return out


def bind(slots: Sequence[Slot], given: Sequence[object]) -> Bound:
    """Bind each slot to the value given for it (None: its default Symbol)."""
    values = tuple(slot_value(g, s) for s, g in zip(slots, given, strict=True))
    constraints: list[sp.Basic] = []
    for v, s in zip(values, slots, strict=True):
        for c in _range_constraints(v, s):
            if c not in constraints:
                constraints.append(c)
    return Bound(values, free_symbols_in_order(values), tuple(constraints))


@dataclass(frozen=True)
class Family:
    """The recipe of a family, written in its slot values theta (expressions).

    Each callable takes the slot values in slot order (``density``, ``cdf`` and
    ``standardize`` take the variable first): ``reparam`` returns
    (g(epsilon; theta), base density of epsilon) for x = g.  ``constraints``
    adds conditions between slots (``a < b``) to the range constraints.
    Building a density from it is ``family(x, given)``; the recipe itself is
    never stored on the density, which holds only SymPy objects and a
    picklable ``Draw``.
    """

    name: str
    slots: tuple[Slot, ...]
    density: Callable[..., sp.Expr]
    support: Callable[..., sp.Set]
    draw: Callable[..., Draw]
    cdf: Callable[..., sp.Expr] | None = None
    reparam: Callable[..., tuple[sp.Expr, Density]] | None = None
    standardize: Callable[..., sp.Expr] | None = None
    constraints: Callable[..., tuple[sp.Basic, ...]] | None = None

    def __call__(self, x: sp.Symbol, given: Sequence[object]) -> Density:
        bound = bind(self.slots, given)
        theta = bound.values
        reparam = None
        if self.reparam is not None:
            g, base = self.reparam(*theta)
            reparam = Reparameterization((g,), base.x, base)
        extra = self.constraints(*theta) if self.constraints is not None else ()
        return Density(
            self.density(x, *theta),
            (x,),
            bound.params,
            support=self.support(*theta),
            sampler=self.draw(*theta),
            reparam=reparam,
            standardize=None if self.standardize is None else (self.standardize(x, *theta),),
            cdf=None if self.cdf is None else self.cdf(x, *theta),
            constraints=bound.constraints + tuple(c for c in extra if c not in bound.constraints),
            name=self.name,
        )
