"""A deterministic first try: expand the residual when that is cheap, and look for the literal 0.

Expansion (distributing products, multinomial powers, exp(a + b) = exp(a) exp(b))
is an identity, so a residual that expands to the literal 0 is zero: a proof
with no randomness.  Expansion can grow exponentially, so it runs only when an
upper bound on the number of terms it can produce is small.  Residuals built
from structured atoms (``symflow.structured.atoms``) are small
polynomials, and this is how their transport equations are proved.
"""

from __future__ import annotations

from math import comb

import sympy as sp

from ..core.convert import exact_floats
from .polydict import TooBig, to_poly

__all__ = ["MAX_TERMS", "expands_to_zero", "term_bound"]

# Expansion is attempted when it can produce at most this many terms.
MAX_TERMS = 4_000
# SymPy's own expand (after the dict distribution failed) only below this many terms.
SYMPY_EXPAND_TERMS = 500


def _size(expr: sp.Basic, limit: int = 100_000) -> int:
    """The number of nodes of expr's tree, counted up to ``limit``."""
    n, stack = 0, [expr]
    while stack and n < limit:
        e = stack.pop()
        n += 1
        stack.extend(e.args)
    return n


def term_bound(expr: sp.Basic, cap: int = MAX_TERMS) -> int | None:
    """An upper bound on the number of terms ``expand`` can produce, or None when it exceeds ``cap``."""
    memo: dict = {}

    def bound(e: sp.Basic, depth: int) -> int:
        if depth > 200:
            raise TooBig
        if e.is_Atom:
            return 1
        got = memo.get(e)
        if got is not None:
            return got
        if e.is_Add:
            n = sum(bound(a, depth + 1) for a in e.args)
        elif e.is_Mul:
            n = 1
            for a in e.args:
                n *= bound(a, depth + 1)
                if n > cap:
                    raise TooBig
        elif e.is_Pow and e.exp.is_Integer and e.exp > 0:
            t, k = bound(e.base, depth + 1), int(e.exp)
            n = comb(t + k - 1, k) if k <= cap else cap + 1
        elif e.is_Pow and e.exp.is_Rational and abs(e.exp) > 1:
            # SymPy's expand multiplies out base^floor(|k|) in a denominator or beside a root too:
            # 1/(x + 1)^100000 costs 100001 terms of work (the review's timeout=1 call took 178 s)
            t, k = bound(e.base, depth + 1), int(abs(e.exp))
            n = comb(t + k - 1, k) if k <= cap else cap + 1
        else:
            # A function, a negative or symbolic power: one term outside, its arguments expanded inside.
            n = 1 + sum(bound(a, depth + 1) for a in e.args) - len(e.args)
            n = max(n, 1)
        if n > cap:
            raise TooBig
        memo[e] = n
        return n

    try:
        return bound(expr, 0)
    except (TooBig, RecursionError):
        return None


def expands_to_zero(expr: sp.Expr, cap: int = MAX_TERMS) -> bool:
    """True when expanding ``expr`` gives the literal 0 and is cheap enough to compute; False otherwise.

    First a distribution over plain dicts (fast, leaves kept whole), then
    SymPy's ``expand`` (which also splits exp(a + b), powers of products, ...).
    """
    bound = term_bound(expr, cap)
    if bound is None:
        return False
    try:
        if not to_poly(expr, cap):
            return True
    except TooBig:
        return False
    if bound > SYMPY_EXPAND_TERMS or _size(expr) > SYMPY_EXPAND_TERMS * 20:
        return False  # SymPy's expand also rewrites inside every function: 10^4 terms of sin(k x)/k took 64 s
    try:
        return sp.expand(exact_floats(expr)) == 0
    except (RecursionError, TypeError, ValueError, ArithmeticError):
        return False
