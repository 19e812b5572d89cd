"""Hypothesis strategies for random sums and products of numbers and opaque leaves (polynomial tests).

Shared by ``test_polydict.py`` and ``test_polys.py``: both compare a polynomial engine with
``sympy.expand`` on the same kind of random expression.
"""

from __future__ import annotations

import sympy as sp
from hypothesis import strategies as st

X, Y, Z = sp.symbols("x y z", real=True)
LEAVES = (X, Y, Z, sp.sin(X), sp.exp(Y), 1 / (1 + Z**2))

numbers = st.one_of(
    st.integers(-5, 5).map(sp.Integer),
    st.fractions(min_value=-3, max_value=3, max_denominator=7).map(lambda f: sp.Rational(f.numerator, f.denominator)),
    st.sampled_from([0.5, -1.25, 0.1, 3.0]).map(sp.Float),
)
atoms = st.one_of(numbers, st.sampled_from(LEAVES))


def expressions():
    """Random Add/Mul/Pow trees of at most 8 leaves."""
    return st.recursive(
        atoms,
        lambda inner: st.one_of(
            st.lists(inner, min_size=2, max_size=3).map(lambda a: sp.Add(*a)),
            st.lists(inner, min_size=2, max_size=3).map(lambda a: sp.Mul(*a)),
            st.tuples(inner, st.integers(1, 3)).map(lambda bk: sp.Pow(bk[0], bk[1])),
        ),
        max_leaves=8,
    )


def exact(expr: sp.Expr) -> sp.Expr:
    """Floats read as the exact binary rationals they store."""
    return expr.xreplace({f: sp.Rational(f) for f in expr.atoms(sp.Float)})
