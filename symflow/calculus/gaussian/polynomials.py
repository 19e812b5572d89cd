"""Polynomials as {exponent tuple: coefficient} dicts over chosen generators, for the Gaussian routes.

``Walk`` turns an expression into such a dict over given generators (the
variables, and the precision form's ``PrecVec`` atoms) with SymPy
coefficients; products and powers are done on the dicts.  The imaginary unit
is kept as a formal root ``_J`` of J**2 + 1 so Euler's formula stays
polynomial (``split_j`` reads off the real and imaginary parts).
"""

from __future__ import annotations

import sympy as sp

__all__ = ["Mono", "Outside", "PolyDict", "Walk", "split_j"]


class Outside(Exception):
    """p or f is outside the class decided here; the message says which part and why."""


Mono = tuple[int, ...]
PolyDict = dict[Mono, sp.Expr]
# The formal imaginary unit: J**2 = -1 is applied by hand, so every step stays a polynomial operation.
_J = sp.Dummy("J")


# -- polynomials as {exponent tuple: coefficient} ------------------------------------------


def _collect(acc: dict[Mono, list]) -> PolyDict:
    out = {}
    for m, cs in acc.items():
        c = sp.Add(*cs)
        if c != 0:
            out[m] = c
    return out


def _mul(p: PolyDict, q: PolyDict) -> PolyDict:
    acc: dict[Mono, list] = {}
    for m1, c1 in p.items():
        for m2, c2 in q.items():
            acc.setdefault(tuple(a + b for a, b in zip(m1, m2, strict=True)), []).append(c1 * c2)
    return _collect(acc)


def _pow(p: PolyDict, n: int, one: PolyDict) -> PolyDict:
    out, base = one, p
    while n:  # binary powering: log2(n) products instead of n
        if n & 1:
            out = _mul(out, base)
        n >>= 1
        if n:
            base = _mul(base, base)
    return out


class Walk:
    """Reads expressions as polynomials in generators: Symbols, or atoms mapped to an index."""

    def __init__(self, gens: dict, markers: frozenset, n: int | None = None, expansions: dict | None = None) -> None:
        self.gens = gens
        self.n = len(set(gens.values())) if n is None else n
        self.markers = markers  # an expression free of these Symbols is a coefficient
        self.expansions = expansions or {}  # atoms replaced by a polynomial (QuadForm in y)
        self.zero: Mono = (0,) * self.n
        self.one: PolyDict = {self.zero: sp.S.One}
        self.memo: dict = {}

    def constant(self, e: sp.Basic) -> bool:
        return not (e.free_symbols & self.markers)

    def poly(self, e: sp.Expr) -> PolyDict:
        got = self.memo.get(e)
        if got is not None:
            return got
        if e in self.gens:
            out = {tuple(int(k == self.gens[e]) for k in range(self.n)): sp.S.One}
        elif e in self.expansions:
            out = self.expansions[e]
        elif self.constant(e):
            out = {self.zero: e} if e != 0 else {}
        elif e.is_Add:
            acc: dict[Mono, list] = {}
            for a in e.args:
                for m, c in self.poly(a).items():
                    acc.setdefault(m, []).append(c)
            out = _collect(acc)
        elif e.is_Mul:
            out = self.one
            for a in e.args:
                out = _mul(out, self.poly(a))
        elif e.is_Pow and e.exp.is_Integer and e.exp >= 0:
            out = _pow(self.poly(e.base), int(e.exp), self.one)
        else:
            raise Outside(f"{e.func.__name__}(...) is not a polynomial in {sorted(map(str, self.markers))}")
        self.memo[e] = out
        return out


def split_j(e: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """(re, im) of an expression polynomial in the formal unit J (J**2 = -1)."""
    if not e.has(_J):
        return e, sp.S.Zero
    try:
        poly = Walk({_J: 0}, frozenset({_J})).poly(e)
    except Outside:  # J inside a function: an x-free constant of f such as exp(I), split by SymPy
        return e.xreplace({_J: sp.I}).as_real_imag()
    parts: tuple[list, list] = ([], [])
    for (k,), c in poly.items():
        parts[k % 2].append(c if k % 4 in (0, 1) else -c)
    return sp.Add(*parts[0]), sp.Add(*parts[1])
