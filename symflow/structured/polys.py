"""Polynomials over interned leaves: the fast arithmetic behind the transport residual of the Gaussian atoms.

The same idea as ``symflow.zero.polydict`` (a polynomial is a dict {monomial:
coefficient}; a *leaf* -- a symbol, a function application, a Gaussian atom, a
negative power -- is an independent indeterminate, which is sound for proving
that a sum vanishes), with a representation made for the residuals of
``mvn(d, form="precision")`` at d = 32 (560 parameters, a few thousand
monomials each):

- leaves are numbered once per ``Ring`` and a monomial is the sorted tuple of
  its leaves' numbers, repeated by power (x y**2 is (i, j, j)): multiplying two
  monomials is one C-level ``sorted``, where a frozenset of (leaf, power) pairs
  rebuilds a dict and rehashes SymPy objects;
- coefficients are Python ints while they are integers (Fractions only when
  needed): ``Fraction`` arithmetic cost a third of the polydict route's time;
- ``OmtTurn`` atoms, (A y)_a = sum_b A_ab y_b, are expanded into their summands
  on the way in, so yᵀAy and tr(AP) cancel term by term without SymPy ever
  building the sums (the transport residual of the OMT flow decides its turns'
  part once per density for a free antisymmetric A, and expands only the rest:
  ``symflow.calculus.transport``).

Measured on the d = 16 OMT residuals (152 parameters): see docs/performance.md.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import sympy as sp

from .atoms import Entries, OmtTurn, _free, _GaussianAtom

__all__ = ["Poly", "Ring", "TooBig", "depends_on"]

Poly = dict  # {tuple of leaf numbers, sorted: int | Fraction}; the zero polynomial is {}


class TooBig(Exception):
    """A product would exceed the term cap."""


def _number(value: sp.Rational) -> int | Fraction:
    return int(value.p) if value.q == 1 else Fraction(int(value.p), int(value.q))


def depends_on(leaf: sp.Expr, s: sp.Symbol) -> bool:
    """Whether ``s`` occurs in ``leaf``; for a Gaussian atom, read off the cached symbols of its argument tuples."""
    if isinstance(leaf, _GaussianAtom):
        return any(s in _free(a) for a in leaf.args if isinstance(a, Entries))
    return s in leaf.free_symbols


def _int(v: Fraction) -> int | Fraction:
    # An integral Fraction back to an int: int arithmetic is several times faster, and -1/2 * 2 is common.
    return v.numerator if v.denominator == 1 else v


def add_into(out: Poly, p: Poly, scale: int | Fraction = 1) -> None:
    """out += scale * p, in place (terms that cancel are removed)."""
    get = out.get
    for m, c in p.items():
        v = get(m, 0) + scale * c
        if v:
            out[m] = _int(v) if type(v) is Fraction else v
        else:
            out.pop(m, None)


def mul(a: Poly, b: Poly, cap: int = 20_000) -> Poly:
    """The product a * b."""
    if len(a) * len(b) > cap * 4:
        raise TooBig
    if len(a) > len(b):
        a, b = b, a
    out: Poly = {}
    get = out.get
    for ma, ca in a.items():
        for mb, cb in b.items():
            m = tuple(sorted(ma + mb)) if ma and mb else (ma or mb)
            v = get(m, 0) + ca * cb
            if v:
                out[m] = _int(v) if type(v) is Fraction else v
            else:
                out.pop(m, None)
    return out


class Ring:
    """Leaves numbered in order of appearance, and SymPy expressions turned into ``Poly`` dicts (memoized)."""

    def __init__(self, cap: int = 20_000) -> None:
        self.number: dict = {}
        self.leaves: list = []
        self.memo: dict = {}
        self.cap = cap

    def index(self, e: sp.Expr) -> int:
        """The number of the leaf ``e`` (numbered on first sight)."""
        k = self.number.get(e)
        if k is None:
            k = self.number[e] = len(self.leaves)
            self.leaves.append(e)
        return k

    def leaf(self, e: sp.Expr) -> Poly:
        return {(self.index(e),): 1}

    def poly(self, e: sp.Expr) -> Poly:
        """``e`` distributed over +, * and positive integer powers (at most 64); do not mutate the result."""
        got = self.memo.get(e)
        if got is not None:
            return got
        if e.is_Rational:
            out = {(): _number(e)} if e != 0 else {}
        elif e.is_Float:  # the exact binary value it stores, as decide_zero reads Floats everywhere
            out = {(): _number(sp.Rational(e))} if e != 0 else {}
        elif e.is_Add:
            out = {}
            for a in e.args:
                add_into(out, self.poly(a))
        elif e.is_Mul:
            out = {(): 1}
            for a in e.args:
                out = mul(out, self.poly(a), self.cap)
        elif e.is_Pow and e.exp.is_Integer and 0 < e.exp <= 64:
            base = self.poly(e.base)
            out = {(): 1}
            for _ in range(int(e.exp)):
                out = mul(out, base, self.cap)
        elif isinstance(e, OmtTurn):  # sum_b A_ab y_b, expanded here and nowhere else
            out = {}
            for sign, skew, y in e.signed_terms():
                (m1,) = self.leaf(skew)
                (m2,) = self.leaf(y)
                out[tuple(sorted(m1 + m2))] = sign  # distinct b => distinct monomials
        else:
            out = self.leaf(e)
        self.memo[e] = out
        return out

    def diff(self, p: Poly, s: sp.Symbol, leaf_diff: Callable[[int, sp.Symbol], Poly | None]) -> Poly | None:
        """d p / d s by the product rule, or None when ``leaf_diff(leaf number, s)`` cannot differentiate a leaf."""
        out: Poly = {}
        for m, c in p.items():
            previous = None
            for i, k in enumerate(m):
                if k == previous:
                    continue  # a repeated leaf: its power was counted at its first position
                previous = k
                dleaf = leaf_diff(k, s)
                if dleaf is None:
                    return None
                if not dleaf:
                    continue
                power = m.count(k)
                rest = m[:i] + m[i + 1 :]
                add_into(out, mul({rest: c * power}, dleaf, self.cap))
        return out
