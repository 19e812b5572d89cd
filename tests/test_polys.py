"""``structured/polys`` (numbered leaves, int coefficients) against ``sympy.expand`` and against ``zero/polydict``.

The same differential property test as ``tests/test_polydict.py``: random sums of products of
powers of symbols, numbers and opaque leaves are distributed by ``Ring.poly`` and by
``sympy.expand``; the two must be the same polynomial, and so must products and derivatives.
The OMT turn atom (A y)_a is expanded into its summands on the way in.
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp
from hypothesis import example, given
from hypothesis import strategies as st

import symflow as sf
from symflow.structured import polys
from symflow.structured.atoms import OmtTurn
from tests._expr_strategies import X, Y, Z, exact, expressions

_expressions, _exact = expressions, exact


def _as_expr(ring: polys.Ring, poly: dict) -> sp.Expr:
    terms = []
    for mono, coeff in poly.items():
        c = Fraction(coeff)
        terms.append(sp.Rational(c.numerator, c.denominator) * sp.Mul(*[ring.leaves[k] for k in mono]))
    return sp.Add(*terms)


@given(_expressions())
@example((X + Y) ** 3 - X**3 - 3 * X**2 * Y - 3 * X * Y**2 - Y**3)
@example(sp.Float(0.1) * X - X / 10)
@example(sp.sin(X) * (sp.sin(X) + 1) - sp.sin(X) ** 2)
def test_poly_is_the_expansion(expr):
    ring = polys.Ring()
    got = ring.poly(expr)
    assert sp.expand(_as_expr(ring, got) - _exact(expr)) == 0
    assert (got == {}) == (sp.expand(_exact(expr)) == 0)
    assert all(type(c) is int or Fraction(c).denominator != 1 for c in got.values())  # ints stay ints


@given(_expressions(), _expressions())
def test_mul_matches_sympy(a, b):
    ring = polys.Ring()
    got = polys.mul(ring.poly(a), ring.poly(b))
    assert sp.expand(_as_expr(ring, got) - _exact(a) * _exact(b)) == 0


@given(_expressions(), st.sampled_from([X, Y, Z]))
def test_diff_is_the_derivative(expr, s):
    ring = polys.Ring()

    def leaf_diff(k: int, sym: sp.Symbol):
        leaf = ring.leaves[k]
        return ring.poly(sp.diff(leaf, sym)) if polys.depends_on(leaf, sym) else {}

    got = ring.diff(ring.poly(expr), s, leaf_diff)
    assert sp.expand(_as_expr(ring, got) - sp.diff(_exact(expr), s)) == 0


def test_a_nonzero_polynomial_is_not_the_zero_dict():
    ring = polys.Ring()
    expr = X**2 - X**2 * (1 + sp.Rational(1, 10**30))
    assert ring.poly(expr) == {(0, 0): Fraction(-1, 10**30)}


def test_the_omt_turn_is_expanded_into_its_summands():
    p = sf.families.mvn(3, form="precision")
    u = sf.flows.omt(p).field(p.params[4])  # L_21
    turns = [t for c in u for t in sp.preorder_traversal(c) if isinstance(t, OmtTurn)]
    assert len(turns) == 3
    for turn in turns:
        ring = polys.Ring()
        assert sp.expand(_as_expr(ring, ring.poly(turn)) - turn.expanded()) == 0
