"""``zero/polydict`` against ``sympy.expand``: the dict polynomial of an expression is its expansion.

A differential property test: random sums of products of powers of symbols,
numbers (Floats read as the exact binary value they store) and opaque leaves
(function applications, negative powers) are distributed by ``to_poly`` and by
``sympy.expand``; the two must be the same polynomial.  ``mul``, ``add`` and
``diff`` are checked the same way against SymPy's arithmetic and derivative.
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp
from hypothesis import example, given
from hypothesis import strategies as st

from symflow.zero import polydict

X, Y, Z = sp.symbols("x y z", real=True)
LEAVES = (X, Y, Z, sp.sin(X), sp.exp(Y), 1 / (1 + Z**2))


def _as_expr(poly: dict) -> sp.Expr:
    terms = []
    for mono, coeff in poly.items():
        factor = sp.Rational(coeff.numerator, coeff.denominator)
        for leaf, k in mono:
            factor *= leaf**k
        terms.append(factor)
    return sp.Add(*terms)


numbers = st.one_of(
    st.integers(-5, 5).map(sp.Integer),
    st.fractions(min_value=-3, max_value=3, max_denominator=7).map(lambda f: sp.Rational(f.numerator, f.denominator)),
    st.sampled_from([0.5, -1.25, 0.1, 3.0]).map(sp.Float),
)
atoms = st.one_of(numbers, st.sampled_from(LEAVES))


def _expressions():
    return st.recursive(
        atoms,
        lambda inner: st.one_of(
            st.lists(inner, min_size=2, max_size=3).map(lambda a: sp.Add(*a)),
            st.lists(inner, min_size=2, max_size=3).map(lambda a: sp.Mul(*a)),
            st.tuples(inner, st.integers(1, 3)).map(lambda bk: sp.Pow(bk[0], bk[1])),
        ),
        max_leaves=8,
    )


def _exact(expr: sp.Expr) -> sp.Expr:
    return expr.xreplace({f: sp.Rational(f) for f in expr.atoms(sp.Float)})


@given(_expressions())
@example((X + Y) ** 3 - X**3 - 3 * X**2 * Y - 3 * X * Y**2 - Y**3)
@example(sp.Float(0.1) * X - X / 10)
@example(sp.sin(X) * (sp.sin(X) + 1) - sp.sin(X) ** 2)
def test_to_poly_is_the_expansion(expr):
    got = _as_expr(polydict.to_poly(expr))
    assert sp.expand(got - _exact(expr)) == 0
    assert (polydict.to_poly(expr) == {}) == (sp.expand(_exact(expr)) == 0)


@given(_expressions(), _expressions())
def test_mul_and_add_match_sympy(a, b):
    pa, pb = polydict.to_poly(a), polydict.to_poly(b)
    # exact operands first: SymPy rounds 3 * Float(0.1) to a Float, the dict arithmetic does not
    assert sp.expand(_as_expr(polydict.mul(pa, pb)) - _exact(a) * _exact(b)) == 0
    assert sp.expand(_as_expr(polydict.add(pa, pb)) - _exact(a) - _exact(b)) == 0


def _leaf_diff(leaf: sp.Expr, s: sp.Symbol):
    if s not in leaf.free_symbols:
        return {}
    return polydict.to_poly(sp.diff(leaf, s))


@given(_expressions(), st.sampled_from([X, Y, Z]))
def test_diff_is_the_derivative(expr, s):
    got = polydict.diff(polydict.to_poly(expr), s, _leaf_diff)
    assert sp.expand(_as_expr(got) - sp.diff(_exact(expr), s)) == 0


def test_a_nonzero_polynomial_is_not_the_zero_dict():
    # A planted difference of one part in 10**30 survives: coefficients are exact fractions.
    expr = X**2 - X**2 * (1 + sp.Rational(1, 10**30))
    assert polydict.to_poly(expr) == {frozenset({(X, 2)}): Fraction(-1, 10**30)}
