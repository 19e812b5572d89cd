"""Polynomials as plain dicts: {monomial: Fraction}, a monomial a frozenset of (leaf, power).

A *leaf* is any SymPy expression that is not +, *, a positive integer power or a
number (a Float counts as the exact binary value it stores): a symbol, a function
application, a Gaussian atom, a negative power.  Leaves are treated as independent indeterminates, which is sound for
proving that a sum vanishes: a polynomial that is zero in free indeterminates is
zero whatever values they take.  The arithmetic builds no SymPy objects, which
makes it 5-50x faster than ``sympy.expand`` on the sums of products transport
residuals are made of.

``diff`` differentiates with the product rule over leaves, given the derivative of
each leaf (SymPy's own rules for symbols, the atoms' rules for atoms).
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import sympy as sp

__all__ = ["ONE", "TooBig", "add", "diff", "mul", "to_poly"]

Poly = dict  # {frozenset((leaf, power), ...): Fraction}; the zero polynomial is {}

ONE: Poly = {frozenset(): Fraction(1)}


class TooBig(Exception):
    """The polynomial would exceed the term cap."""


def to_poly(expr: sp.Expr, cap: int = 20_000, memo: dict | None = None) -> Poly:
    """``expr`` distributed over +, * and positive integer powers (at most 64), as a dict polynomial.

    Raises ``TooBig`` when a product would exceed about ``cap`` terms.
    """
    memo = {} if memo is None else memo

    def rec(e: sp.Expr) -> Poly:
        got = memo.get(e)
        if got is not None:
            return got
        if e.is_Rational:
            out = {frozenset(): Fraction(int(e.p), int(e.q))} if e != 0 else {}
        elif e.is_Float:  # the exact binary value it stores, as decide_zero reads Floats everywhere
            r = sp.Rational(e)
            out = {frozenset(): Fraction(int(r.p), int(r.q))} if e != 0 else {}
        elif e.is_Add:
            out = {}
            for a in e.args:
                _accumulate(out, rec(a))
        elif e.is_Mul:
            out = ONE
            for a in e.args:
                out = mul(out, rec(a), cap)
        elif e.is_Pow and e.exp.is_Integer and 0 < e.exp <= 64:
            base = rec(e.base)
            out = ONE
            for _ in range(int(e.exp)):
                out = mul(out, base, cap)
        else:
            out = {frozenset({(e, 1)}): Fraction(1)}
        memo[e] = out
        return out

    return rec(expr)


def _accumulate(out: Poly, p: Poly, scale: Fraction | int = 1) -> None:
    for m, c in p.items():
        v = out.get(m, 0) + scale * c
        if v:
            out[m] = v
        else:
            out.pop(m, None)


def add(*polys: Poly) -> Poly:
    out: Poly = {}
    for p in polys:
        _accumulate(out, p)
    return out


def _monomial_times(ma: frozenset, mb: frozenset) -> frozenset:
    if not ma:
        return mb
    if not mb:
        return ma
    powers = dict(ma)
    for leaf, k in mb:
        powers[leaf] = powers.get(leaf, 0) + k
    return frozenset(powers.items())


def mul(a: Poly, b: Poly, cap: int = 20_000) -> Poly:
    if len(a) * len(b) > cap * 4:
        raise TooBig
    out: Poly = {}
    for ma, ca in a.items():
        for mb, cb in b.items():
            m = _monomial_times(ma, mb)
            v = out.get(m, 0) + ca * cb
            if v:
                out[m] = v
            else:
                out.pop(m, None)
    return out


def diff(p: Poly, s: sp.Symbol, leaf_diff: Callable[[sp.Expr, sp.Symbol], Poly | None], cap: int = 20_000):
    """d p / d s by the product rule, or None when ``leaf_diff`` cannot differentiate a leaf."""
    out: Poly = {}
    for m, c in p.items():
        for leaf, k in m:
            dleaf = leaf_diff(leaf, s)
            if dleaf is None:
                return None
            if not dleaf:
                continue
            rest = dict(m)
            if k == 1:
                del rest[leaf]
            else:
                rest[leaf] = k - 1
            _accumulate(out, mul({frozenset(rest.items()): c * k}, dleaf, cap))
    return out
