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
from tests._expr_strategies import X, Y, Z, exact, expressions


def _as_expr(poly: dict) -> sp.Expr:
    terms = []
    for mono, coeff in poly.items():
        factor = sp.Rational(coeff.numerator, coeff.denominator)
        for leaf, k in mono:
            factor *= leaf**k
        terms.append(factor)
    return sp.Add(*terms)


_expressions, _exact = expressions, exact


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
