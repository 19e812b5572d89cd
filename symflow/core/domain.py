"""Where each symbol of a residual lives, for choosing test points.

A ``Domain`` maps every free symbol of a residual to an interval (possibly
depending on other symbols, e.g. a support ``[a, b]`` whose edges are
parameters) and a flag for integer-valued variables.  It also carries
constraints between parameters (``a < b``).  Zero testing samples points
from it: parameters first, then variables inside the support those
parameters give.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

__all__ = ["Domain", "Interval1D", "interval_of_symbol"]


@dataclass(frozen=True)
class Interval1D:
    """Bounds ``lo < s < hi`` (SymPy expressions, may be +-oo or depend on params)."""

    lo: sp.Expr = sp.S.NegativeInfinity
    hi: sp.Expr = sp.S.Infinity
    integer: bool = False
    finite_set: tuple | None = None  # explicit values of a finite discrete set


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
    """Intervals for the variables and parameters of a residual."""

    variables: tuple[tuple[sp.Symbol, Interval1D], ...] = ()
    parameters: tuple[tuple[sp.Symbol, Interval1D], ...] = ()
    constraints: tuple[sp.Basic, ...] = ()
    kinks: tuple[sp.Expr, ...] = field(default_factory=tuple)

    def interval(self, s: sp.Symbol) -> Interval1D:
        for sym, iv in self.variables + self.parameters:
            if sym == s:
                return iv
        return interval_of_symbol(s)

    def is_variable(self, s: sp.Symbol) -> bool:
        return any(sym == s for sym, _ in self.variables)

    def extended(self, symbols: set) -> Domain:
        """This domain plus default intervals for symbols it does not know."""
        known = {s for s, _ in self.variables + self.parameters}
        extra = tuple((s, interval_of_symbol(s)) for s in sorted(symbols - known, key=str) if isinstance(s, sp.Symbol))
        return Domain(self.variables, self.parameters + extra, self.constraints, self.kinks)

    def contains(self, point: dict) -> bool:
        """Whether a point (Symbol -> number) lies inside every interval and constraint."""
        for sym, iv in self.variables + self.parameters:
            if sym not in point:
                continue
            value = point[sym]
            lo, hi = iv.lo.xreplace(point), iv.hi.xreplace(point)
            if lo.free_symbols or hi.free_symbols:
                return False
            if not (lo < value < hi or (iv.integer and lo <= value <= hi)):
                return False
            if iv.integer and not sp.Integer(value) == value:
                return False
        for c in self.constraints:
            if c.xreplace(point) != sp.true:
                return False
        return True

    def has_finite_discrete(self) -> bool:
        return any(
            iv.integer and (iv.finite_set is not None or iv.hi.is_finite and iv.lo.is_finite)
            for _, iv in self.variables
        )
