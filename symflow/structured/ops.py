"""Operations on expressions in the Gaussian atoms: detection and derivatives.

The atoms themselves (``Precision``, ``PrecVec``, ``QuadForm``, ``LogDetCov``,
``OmtSkew``) and their derivative rules live in ``atoms``; this module holds
the walks over expressions built from them:

- ``has_gaussian_atoms`` / ``opaque``: walks that never enter an atom's d x d arguments;
- ``diff_structured``: derivatives by the atoms' rules without SymPy's ``Derivative``
  bookkeeping.

What uses them lives in the layers above: the transport residual as a dict
polynomial (``symflow.calculus.transport``) and the lowering of atoms to
per-call scalars for compiled code (``symflow.numeric.lowering``).
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from .atoms import _free, _GaussianAtom

__all__ = [
    "diff_structured",
    "distinct_atoms",
    "free_symbols",
    "has_any",
    "has_gaussian_atoms",
    "is_atom",
    "noncommutative_symbols",
    "opaque",
    "walk_outside_atoms",
]


def is_atom(e: sp.Basic) -> bool:
    """Whether ``e`` is one of the Gaussian atoms."""
    return isinstance(e, _GaussianAtom)


def walk_outside_atoms(expr: sp.Basic):
    """Every node of ``expr``, atoms included, without walking into the atoms' d x d arguments."""
    stack = [expr]
    while stack:
        e = stack.pop()
        yield e
        if not is_atom(e):
            stack.extend(e.args)


def free_symbols(expr: sp.Basic) -> set:
    """``expr.free_symbols``, with each distinct argument tuple of the Gaussian atoms read once.

    SymPy's ``free_symbols`` unions the free symbols of every atom, each a set of the
    d**2 + 2d symbols of its (x, mu, L) arguments: a component of the OMT flow at d = 32
    holds about 60 atoms, so that is 60 unions of ~1100 symbols per component.  The
    atoms of one expression share a handful of argument tuples (x, mu, L, dL/dtheta),
    whose symbols are cached per tuple.
    """
    out, tuples = _symbols_outside_atoms(expr)
    for t in tuples:
        out |= _free(t)
    return out


def noncommutative_symbols(expr: sp.Basic) -> set:
    """The free symbols of ``expr`` declared non-commutative, each argument tuple of the atoms read once.

    Asking every one of the ~2100 free symbols of an OMT flow component at d = 32 for
    ``is_commutative`` cost about 2 s for the flow of mvn(32).
    """
    plain, tuples = _symbols_outside_atoms(expr)
    out = {s for s in plain if s.is_commutative is False}
    for t in tuples:
        out |= _noncommutative(t)
    return out


def _symbols_outside_atoms(expr: sp.Basic) -> tuple[set, set]:
    """(free symbols found outside the Gaussian atoms, the atoms' distinct argument tuples)."""
    out: set = set()
    tuples: set = set()
    if not isinstance(expr, sp.Basic):
        return out, tuples
    seen: set = set()
    stack = [expr]
    while stack:
        e = stack.pop()
        if e.is_Symbol:
            out.add(e)
            continue
        if not e.args or e in seen:
            continue
        seen.add(e)
        if is_atom(e):
            tuples.update(a for a in e.args if not a.is_Integer)
        elif e.is_Atom or _plain_free_symbols(type(e)):
            stack.extend(e.args)
        else:  # bound variables (Integral, Lambda, Subs, ...): SymPy's own rule
            out |= e.free_symbols
    return out, tuples


@lru_cache(maxsize=4096)
def _noncommutative(t: sp.Basic) -> frozenset:
    return frozenset(s for s in _free(t) if s.is_commutative is False)


def has_any(expr: sp.Basic, *patterns: type | sp.Basic) -> bool:
    """``expr.has(*patterns)`` for classes and atomic values, each distinct argument tuple of the atoms searched once.

    SymPy's ``has`` walks every node, the atoms' d x d arguments included: a
    component of the OMT flow at d = 32 holds about 30 atoms over the same
    (dL, x, mu, L) tuples of about 2100 entries, so checking the 17,920
    components of mvn(32) for nan, zoo and DiracDelta walked ~3 * 10^9 nodes
    (about 30 s).  A node matches a class by ``isinstance`` and a value by
    equality, as in ``Basic.has``; an atom's argument tuples are searched by
    SymPy's ``has`` once each (cached by the tuple, whose hash is cached).
    """
    kinds = tuple(p for p in patterns if isinstance(p, type))
    values = frozenset(p for p in patterns if not isinstance(p, type))
    seen: set = set()
    tuples: set = set()
    stack = [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, kinds) or e in values:
            return True
        if not e.args or e in seen:
            continue
        seen.add(e)
        if is_atom(e):
            tuples.update(a for a in e.args if not a.is_Integer)
        else:
            stack.extend(e.args)
    return any(_tuple_has(t, patterns) for t in tuples)


def distinct_atoms(expr: sp.Basic, *types: type) -> set:
    """The subexpressions of ``expr`` that are instances of ``types``: ``expr.atoms(*types)`` on the DAG.

    SymPy's ``atoms`` walks the expression tree, a shared subexpression once per occurrence: the
    residual of ``check_unbiased`` for the nested mvn(8) has about 10^5 distinct subexpressions but
    10^7 tree nodes (an entry of the Cholesky factor sits in every moment), and its walks took
    minutes.  Here each distinct subexpression is visited once (SymPy expressions hash
    structurally), without recursion.
    """
    found: set = set()
    seen: set = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if isinstance(node, types):
            found.add(node)
        stack.extend(a for a in node.args if isinstance(a, sp.Basic))
    return found


@lru_cache(maxsize=4096)
def _tuple_has(t: sp.Basic, patterns: tuple) -> bool:
    kinds = tuple(p for p in patterns if isinstance(p, type))
    values = frozenset(p for p in patterns if not isinstance(p, type))
    if isinstance(t, kinds) or t in values:
        return True
    # Entries without arguments (numbers, symbols: most of a d x d tuple) are matched directly, not walked.
    return any(e.has(*patterns) if e.args else isinstance(e, kinds) or e in values for e in t.args)


@lru_cache(maxsize=512)
def _plain_free_symbols(cls: type) -> bool:
    """Whether ``cls`` inherits Basic's free_symbols (the union over its args)."""
    return next(k for k in cls.__mro__ if "free_symbols" in k.__dict__) is sp.Basic


def has_gaussian_atoms(expr: sp.Basic) -> bool:
    """Whether ``expr`` contains an atom of ``gaussian_atoms``."""
    return any(is_atom(e) for e in walk_outside_atoms(expr))


def opaque(expr: sp.Basic) -> tuple[sp.Basic, dict]:
    """``expr`` with every atom of this module replaced by a Dummy, and the map back.

    Treating the atoms as independent indeterminates is sound for proving a
    polynomial identity (an identity in free indeterminates holds for any
    values), and it keeps expand from walking the atoms' d x d arguments.
    """
    table: dict = {}
    memo: dict = {}

    def rec(e: sp.Basic) -> sp.Basic:
        if is_atom(e):
            if e not in table:
                table[e] = sp.Dummy(e._label(), real=True)
            return table[e]
        if not e.args:
            return e
        got = memo.get(e)
        if got is None:
            got = e.func(*[rec(a) for a in e.args])
            memo[e] = got
        return got

    out = rec(expr)
    return out, {v: k for k, v in table.items()}


def diff_structured(expr: sp.Expr, s: sp.Symbol) -> sp.Expr:
    """d expr / d s by the chain and product rules, the atoms by their own rules.

    The same derivative as ``sympy.diff``, without SymPy's ``Derivative``
    bookkeeping (a ``replace`` over the whole result and an ``is_zero``
    query at every node), which dominates the cost on sums of many atoms.
    Anything other than +, *, powers with s-free exponents, exp, log,
    numbers, symbols and the atoms goes to ``sympy.diff``.
    """
    memo: dict = {}

    def rec(e: sp.Expr) -> sp.Expr:
        if e.is_Number or e.is_NumberSymbol:
            return sp.S.Zero
        if e.is_Symbol:
            return sp.S.One if e == s else sp.S.Zero
        got = memo.get(e)
        if got is not None:
            return got
        if is_atom(e):
            out = sp.S.Zero if s not in e.free_symbols else e._eval_derivative(s)
            if out is None:
                out = sp.diff(e, s)
        elif e.is_Add:
            out = sp.Add(*[rec(a) for a in e.args])
        elif e.is_Mul:
            terms = []
            for i, a in enumerate(e.args):
                da = rec(a)
                if da != 0:
                    terms.append(sp.Mul(*e.args[:i], da, *e.args[i + 1 :]))
            out = sp.Add(*terms)
        elif e.is_Pow and s not in e.exp.free_symbols:
            db = rec(e.base)
            out = sp.S.Zero if db == 0 else e.exp * e.base ** (e.exp - 1) * db
        elif isinstance(e, sp.exp):
            da = rec(e.args[0])
            out = sp.S.Zero if da == 0 else e * da
        elif isinstance(e, sp.log):
            da = rec(e.args[0])
            out = sp.S.Zero if da == 0 else da / e.args[0]
        else:
            out = sp.diff(e, s)
        memo[e] = out
        return out

    return rec(expr)
