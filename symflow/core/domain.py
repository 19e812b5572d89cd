"""Where each symbol of a residual lives, for choosing test points.

A ``Domain`` maps every free symbol of a residual to an interval (possibly
depending on other symbols, e.g. a support ``[a, b]`` whose edges are
parameters) and a flag for integer-valued variables.  It also carries
constraints between parameters (``a < b``) and *regions*: conditions on the
variables that cut the support out of the box of intervals (the simplex
x_1 + x_2 < 1 of a Dirichlet inside [0, 1]^2; ``support_regions`` reads them
off a density's indicator factors).  Zero testing samples points from it:
parameters first, then variables inside the support those parameters give,
inside every region.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mpmath
import sympy as sp

from ..errors import SymflowError

__all__ = ["Domain", "Interval1D", "edge_number", "exact_number", "interval_of_symbol", "support_regions"]

# Digits at which support edges become numbers: above every working precision of the pointwise test's
# first rungs, so a point placed 1e-10 inside an edge such as 2*pi stays inside.
EDGE_DPS = 80


def exact_number(value: object) -> sp.Expr:
    """A number (mpmath, float, int or SymPy) as an exact SymPy number: the binary value an mpf holds, exactly.

    ``sp.Float(mpf)`` would round to 15 digits; a test point must be the same point in every route.
    """
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, mpmath.mpf):
        if not mpmath.isfinite(value):
            return sp.oo if value > 0 else sp.S.NegativeInfinity
        sign, man, exp, _ = value._mpf_
        return (-1) ** sign * sp.Integer(man) * sp.Integer(2) ** exp if man else sp.S.Zero
    if isinstance(value, mpmath.mpc):
        return exact_number(value.real) + sp.I * exact_number(value.imag)
    if isinstance(value, bool):
        raise TypeError("a bool is not a number")
    if isinstance(value, int):
        return sp.Integer(value)
    if isinstance(value, float):
        return sp.Rational(value)
    raise TypeError(f"{value!r} of type {type(value).__name__} is not a number")


def edge_number(edge: sp.Expr, values: dict | None = None, dps: int = EDGE_DPS) -> mpmath.mpf | None:
    """A support edge as an mpmath number at parameter ``values``; None for an infinite edge.

    Symbolic constants (pi, 2*pi, sqrt(2), log 2) are evaluated by ``sp.N`` at ``dps``
    digits (``sp.Float(2*pi, 50)`` raises, and an edge read as infinite puts test
    points outside the support).  Raises ``ValueError`` when the edge is not a real
    number at these values.
    """
    e = edge.xreplace({k: exact_number(v) for k, v in (values or {}).items()}) if values else edge
    if e in (sp.oo, sp.S.NegativeInfinity):
        return None
    if e.free_symbols:
        raise ValueError(f"the edge {edge} still depends on {sorted(map(str, e.free_symbols))}")
    num = sp.N(e, dps)
    if not num.is_real or not num.is_finite:
        if num in (sp.oo, sp.S.NegativeInfinity):
            return None
        raise ValueError(f"the edge {edge} is not a real number ({num})")
    with mpmath.workdps(dps):
        return mpmath.mpf(num)


@dataclass(frozen=True)
class Interval1D:
    """Bounds ``lo < s < hi`` (SymPy expressions, may be +-oo or depend on params)."""

    lo: sp.Expr = sp.S.NegativeInfinity
    hi: sp.Expr = sp.S.Infinity
    integer: bool = False
    finite_set: tuple | None = None  # explicit values of a finite discrete set

    def __post_init__(self) -> None:
        for name in ("lo", "hi"):
            value = getattr(self, name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                value = sp.Float(value) if isinstance(value, float) else sp.Integer(value)
            if not isinstance(value, sp.Expr):
                raise SymflowError(f"Interval1D's {name} must be a SymPy expression or a number, got {value!r:.60}")
            object.__setattr__(self, name, value)
        if not isinstance(self.integer, bool):
            raise SymflowError(f"Interval1D's integer must be True or False, got {self.integer!r}")
        if self.finite_set is not None:
            if not isinstance(self.finite_set, tuple | list):
                raise SymflowError("Interval1D's finite_set must be a tuple of numbers or None")
            object.__setattr__(self, "finite_set", tuple(self.finite_set))


def interval_of_symbol(s: sp.Symbol) -> Interval1D:
    """The interval a Symbol's assumptions allow (positive -> (0, oo), ...)."""
    integer = bool(s.is_integer)
    # Integer intervals include their ends, so a positive integer starts at 1.
    if s.is_positive:
        return Interval1D(sp.S.One if integer else sp.S.Zero, sp.S.Infinity, integer)
    if s.is_nonnegative:
        return Interval1D(sp.S.Zero, sp.S.Infinity, integer)
    if s.is_negative:
        return Interval1D(sp.S.NegativeInfinity, sp.S.NegativeOne if integer else sp.S.Zero, integer)
    if s.is_nonpositive:
        return Interval1D(sp.S.NegativeInfinity, sp.S.Zero, integer)
    return Interval1D(integer=integer)


def interval_of_set(s: sp.Set) -> Interval1D:
    """Convert a SymPy Set used as a 1-D support to an ``Interval1D``."""
    if s == sp.S.Reals:
        return Interval1D()
    if isinstance(s, sp.Interval):
        return Interval1D(s.start, s.end)
    if s == sp.S.Naturals0:
        return Interval1D(sp.S.Zero, sp.S.Infinity, integer=True)
    if s == sp.S.Naturals:
        return Interval1D(sp.S.One, sp.S.Infinity, integer=True)
    if s == sp.S.Integers:
        return Interval1D(integer=True)
    if isinstance(s, sp.Range):
        if s.size.is_finite and s.size.is_number and s.size <= 10_000:
            return Interval1D(s.inf, s.sup, integer=True, finite_set=tuple(s))
        return Interval1D(s.inf, s.sup, integer=True)
    if isinstance(s, sp.FiniteSet):
        vals = tuple(sorted(s, key=lambda v: float(v)))
        return Interval1D(vals[0], vals[-1], integer=all(v.is_integer for v in vals), finite_set=vals)
    if isinstance(s, sp.Union):
        infs = [interval_of_set(a) for a in s.args]
        return Interval1D(min((i.lo for i in infs), key=float), max((i.hi for i in infs), key=float))
    raise TypeError(f"unsupported support set {s}")


@dataclass(frozen=True)
class Domain:
    """Intervals for the variables and parameters of a residual, constraints on the parameters and regions
    (conditions such as x_1 + x_2 < 1) that cut the variables' box down to the support."""

    variables: tuple[tuple[sp.Symbol, Interval1D], ...] = ()
    parameters: tuple[tuple[sp.Symbol, Interval1D], ...] = ()
    constraints: tuple[sp.Basic, ...] = ()
    kinks: tuple[sp.Expr, ...] = field(default_factory=tuple)
    regions: tuple[sp.Basic, ...] = ()  # conditions on the variables inside the box (module docstring)

    def __post_init__(self) -> None:
        for name in ("variables", "parameters"):
            pairs = getattr(self, name)
            if not isinstance(pairs, tuple | list) or not all(
                isinstance(pair, tuple | list)
                and len(pair) == 2
                and isinstance(pair[0], sp.Symbol)
                and isinstance(pair[1], Interval1D)
                for pair in pairs
            ):
                raise SymflowError(
                    f"Domain's {name} must be a tuple of (Symbol, Interval1D) pairs, e.g. ((x, Interval1D()),); "
                    "Domain().extended({x}) or p.domain() build one"
                )
            object.__setattr__(self, name, tuple(tuple(pair) for pair in pairs))
        for name in ("constraints", "kinks", "regions"):
            value = getattr(self, name)
            if not isinstance(value, tuple | list) or not all(isinstance(c, sp.Basic) for c in value):
                raise SymflowError(f"Domain's {name} must be a tuple of SymPy objects")
            object.__setattr__(self, name, tuple(value))

    def interval(self, s: sp.Symbol) -> Interval1D:
        for sym, iv in self.variables + self.parameters:
            if sym == s:
                return iv
        return interval_of_symbol(s)

    def is_variable(self, s: sp.Symbol) -> bool:
        return any(sym == s for sym, _ in self.variables)

    def extended(self, symbols: set) -> Domain:
        """This domain plus default intervals for symbols it does not know."""
        if isinstance(symbols, str) or not isinstance(symbols, set | frozenset | tuple | list):
            raise SymflowError(f"extended() takes a set of Symbols, e.g. Domain().extended({{x}}), got {symbols!r:.60}")
        symbols = set(symbols)
        known = {s for s, _ in self.variables + self.parameters}
        extra = tuple((s, interval_of_symbol(s)) for s in sorted(symbols - known, key=str) if isinstance(s, sp.Symbol))
        return Domain(self.variables, self.parameters + extra, self.constraints, self.kinks, self.regions)

    def in_regions(self, point: dict) -> bool:
        """Whether ``point`` (Symbol -> number) lies inside every region whose symbols it gives values to."""
        return regions_hold(self.regions, point)

    def contains(self, point: dict) -> bool:
        """Whether a point (Symbol -> number, mpmath numbers included) lies in every interval, constraint and region.

        Edges that are symbolic constants (pi, sqrt(2)) are compared exactly by SymPy.
        """
        point = {k: exact_number(v) for k, v in point.items()}
        for sym, iv in self.variables + self.parameters:
            if sym not in point:
                continue
            value = point[sym]
            if not value.is_real:
                return False
            if iv.finite_set is not None:
                if not any(sp.Eq(value, v) == sp.true for v in iv.finite_set):
                    return False
                continue
            lo, hi = iv.lo.xreplace(point), iv.hi.xreplace(point)
            if lo.free_symbols or hi.free_symbols:
                return False
            if not (bool(lo < value) and bool(value < hi) or (iv.integer and bool(lo <= value) and bool(value <= hi))):
                return False
            if iv.integer and not sp.Integer(value) == value:
                return False
        for c in self.constraints:
            if c.xreplace(point) != sp.true:
                return False
        if not self.in_regions(point):
            return False
        return self.supports_nonempty(point)

    def supports_nonempty(self, point: dict) -> bool:
        """Whether every variable's support is non-empty at the parameter values in ``point``.

        A support [a, b] whose edges are parameters is empty where a >= b: no point of it
        exists there, so no identity about it can fail there (a witness at a = 0.57,
        b = -0.18 refutes nothing), even when the residual no longer involves the variable.
        Edges that still hold symbols without values are not judged.
        """
        point = {k: exact_number(v) for k, v in point.items()}
        for _, iv in self.variables:
            if iv.finite_set is not None:
                continue
            lo, hi = iv.lo.xreplace(point), iv.hi.xreplace(point)
            if lo.free_symbols or hi.free_symbols or not lo.is_finite or not hi.is_finite:
                continue
            if not (bool(lo <= hi) if iv.integer else bool(lo < hi)):
                return False
        return True

    def has_finite_discrete(self) -> bool:
        return any(
            iv.integer and (iv.finite_set is not None or iv.hi.is_finite and iv.lo.is_finite)
            for _, iv in self.variables
        )


def regions_hold(regions: tuple, point: dict) -> bool:
    """Whether every region whose symbols ``point`` covers holds there (others are not judged)."""
    for region in regions:
        if not region.free_symbols <= set(point):
            continue
        try:
            if not bool(region.xreplace({k: exact_number(v) for k, v in point.items()})):
                return False
        except TypeError:  # undecidable (nan, a symbol left): not a point of the region
            return False
    return True


def support_regions(expr: sp.Expr, variables: tuple) -> tuple[sp.Basic, ...]:
    """The conditions of the indicator factors of ``expr`` that involve ``variables``.

    An indicator is a factor ``Piecewise((1, cond), (0, True))``: ``expr`` vanishes
    outside ``cond``, so the support is the box of intervals cut down by it (the
    Dirichlet's ``x_1 + x_2 < 1``).  ``Heaviside(g)`` is the same indicator of g > 0
    (its value at g = 0 is a set of measure 0).
    """
    out = []
    for factor in sp.Mul.make_args(expr):
        if isinstance(factor, sp.Heaviside) and factor.args[0].free_symbols & set(variables):
            out.append(sp.StrictGreaterThan(factor.args[0], 0))
            continue
        if not isinstance(factor, sp.Piecewise) or len(factor.args) != 2:
            continue
        (one, cond), (zero, otherwise) = factor.args
        if one == 1 and zero == 0 and otherwise == sp.true and cond.free_symbols & set(variables):
            out.append(cond)
    return tuple(out)
