"""Randomized polynomial-identity testing with exact rational arithmetic.

If a rational function R(z_1..z_n) is not identically zero, its numerator N
is a nonzero polynomial of total degree at most D, and by Schwartz-Zippel a
point drawn uniformly from S^n is a root of N with probability at most
D/|S|.  So k independent exact evaluations that all give 0 prove R == 0 with
error probability at most (D/|S|)^k.

Residuals are rarely rational in their symbols: they contain log, exp,
special functions or powers with symbolic exponents.  Each maximal
non-rational subexpression is *abstracted* to a fresh indeterminate.  This is
sound for proving: if the abstracted function is identically zero for all
values of the new indeterminates, it is zero in particular for the values the
subexpressions take.  (The converse fails, so a nonzero abstracted result
refutes nothing when abstraction was used.)

D is bounded from the expression tree without expanding anything:
numerator/denominator degree bounds propagate through +, * and integer
powers.

The points are drawn from fresh operating-system randomness on every call:
the bound is a probability over *our* draws, so it only holds if the
residual cannot depend on them.  With a fixed seed, a residual such as
``x - c`` (c the first integer that seed yields) would be "proved" zero.
"""

from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from ..structured.ops import distinct_atoms

__all__ = ["PitResult", "polynomial_identity_test"]

# Sample each indeterminate uniformly from the integers 1..SET_SIZE.
SET_SIZE = 10**40
TARGET_ERROR = 1e-30
# Exponents larger than this are abstracted whole rather than expanded and split.
MAX_EXPONENT_OPS = 200
# exp(c m) is split into exp(m / L)^(c L) only for |c L| up to this: exp(-10^6 (x - 3)^2)
# would otherwise become a polynomial of degree 10^6 in 40-digit integers (minutes).
MAX_SPLIT_POWER = 64


@dataclass(frozen=True)
class PitResult:
    """Outcome of a polynomial-identity test.

    ``zero`` is True (identically zero, with ``error_bound``), or False with
    ``point`` where the (abstracted) function is nonzero; ``abstracted`` says
    whether non-rational subexpressions were replaced by indeterminates.
    """

    zero: bool
    error_bound: float
    trials: int
    degree_bound: int
    abstracted: bool
    point: dict | None = None
    value: sp.Expr | None = None


def _exp_denominators(expr: sp.Expr) -> dict:
    """For each monomial m in an exponent, the lcm L of the denominators of its coefficients."""
    dens: dict = {}
    for e in distinct_atoms(expr, sp.exp):
        if sp.count_ops(e.args[0]) > MAX_EXPONENT_OPS:
            continue
        for term in sp.Add.make_args(sp.expand(e.args[0])):
            coeff, mono = term.as_coeff_Mul()
            if coeff.is_Rational:
                dens[mono] = sp.ilcm(dens.get(mono, 1), coeff.q)
    return dens


def _abstract(expr: sp.Expr, table: dict, dens: dict, memo: dict | None = None) -> sp.Expr:
    """Replace maximal non-rational subexpressions by Dummy indeterminates.

    An exponential is first split along its exponent, exp(sum c_i m_i) =
    prod exp(m_i / L_i)^(c_i L_i) with integer powers, and each exp(m_i / L_i)
    is one indeterminate: so exp(a) exp(-a) = 1 and exp(2a) = exp(a)^2 stay
    visible to the test.  ``memo`` holds the result for each distinct subexpression (a shared one is
    abstracted once, not once per occurrence).
    """
    if expr.is_Rational or expr.is_Symbol:
        return expr
    memo = {} if memo is None else memo
    hit = memo.get(expr)
    if hit is not None:
        return hit
    if expr.is_Add or expr.is_Mul:
        out = expr.func(*[_abstract(a, table, dens, memo) for a in expr.args], evaluate=True)
    elif expr.is_Pow and expr.exp.is_Integer:
        out = sp.Pow(_abstract(expr.base, table, dens, memo), expr.exp)
    else:
        out = _abstract_leaf(expr, table, dens)
    memo[expr] = out
    return out


def _abstract_leaf(expr: sp.Expr, table: dict, dens: dict) -> sp.Expr:
    """A non-rational subexpression as a product of powers of indeterminates (an exponential split)."""
    if isinstance(expr, sp.exp) and sp.count_ops(expr.args[0]) <= MAX_EXPONENT_OPS:
        factors = []
        for term in sp.Add.make_args(sp.expand(expr.args[0])):
            coeff, mono = term.as_coeff_Mul()
            if not coeff.is_Rational or mono not in dens or abs(coeff * dens[mono]) > MAX_SPLIT_POWER:
                break
            base = sp.exp(mono / dens[mono])
            if base not in table:
                table[base] = sp.Dummy(f"a{len(table)}")
            factors.append(table[base] ** int(coeff * dens[mono]))
        else:
            return sp.Mul(*factors)
    if expr not in table:
        table[expr] = sp.Dummy(f"a{len(table)}")
    return table[expr]


def _hyperbolic_to_exp(expr: sp.Expr) -> sp.Expr:
    """sinh, cosh, tanh, ... in terms of exp (an identity), so the exp splitting sees them."""
    if not distinct_atoms(expr, sp.functions.elementary.hyperbolic.HyperbolicFunction):
        return expr  # the common case, without a walk of the tree
    return expr.replace(
        lambda e: isinstance(e, sp.functions.elementary.hyperbolic.HyperbolicFunction),
        lambda e: e.rewrite(sp.exp),
    )


def _degrees(expr: sp.Expr, cache: dict) -> tuple[int, int]:
    """(numerator, denominator) total-degree bounds of a rational expression."""
    hit = cache.get(expr)
    if hit is not None:
        return hit
    if expr.is_Rational:
        out = (0, 0)
    elif expr.is_Symbol:
        out = (1, 0)
    elif expr.is_Add:
        parts = [_degrees(a, cache) for a in expr.args]
        den = sum(d for _, d in parts)
        num = max(n + den - d for n, d in parts)
        out = (num, den)
    elif expr.is_Mul:
        parts = [_degrees(a, cache) for a in expr.args]
        out = (sum(n for n, _ in parts), sum(d for _, d in parts))
    elif expr.is_Pow and expr.exp.is_Integer:
        n, d = _degrees(expr.base, cache)
        e = int(expr.exp)
        out = (e * n, e * d) if e >= 0 else (-e * d, -e * n)
    else:  # pragma: no cover - _abstract leaves nothing else
        raise TypeError(f"not rational: {expr}")
    cache[expr] = out
    return out


def _evaluate(expr: sp.Expr, point: dict, memo: dict) -> Fraction | int:
    """The rational expression's exact value at integer ``point``, each distinct subexpression once.

    Python integers and Fractions (SymPy's ``xreplace`` rebuilt the tree, a shared subexpression
    once per occurrence).  A zero denominator raises ZeroDivisionError: a pole, resampled.
    """
    if expr.is_Symbol:
        return point[expr]
    if expr.is_Integer:
        return int(expr)
    if expr.is_Rational:
        return Fraction(int(expr.p), int(expr.q))
    hit = memo.get(expr)
    if hit is not None:
        return hit
    if expr.is_Add:
        out = sum((_evaluate(a, point, memo) for a in expr.args), 0)
    elif expr.is_Mul:
        out = 1
        for a in expr.args:
            out = out * _evaluate(a, point, memo)
    elif expr.is_Pow and expr.exp.is_Integer:
        base, e = _evaluate(expr.base, point, memo), int(expr.exp)
        out = base**e if e >= 0 else Fraction(1) / Fraction(base) ** (-e)
    else:  # pragma: no cover - _abstract leaves nothing else
        raise TypeError(f"not rational: {expr}")
    memo[expr] = out
    return out


def polynomial_identity_test(
    expr: sp.Expr, *, rng: random.Random | None = None, max_pole_retries: int = 20
) -> PitResult:
    """Decide whether ``expr`` is identically zero by exact random evaluation.

    Returns a ``PitResult``; ``zero=True`` carries an error bound <= 1e-30.
    Floats must have been made exact (``exact_floats``) by the caller.
    ``rng`` defaults to a generator seeded from ``os.urandom`` (see the
    module docstring: a fixed default seed would void the bound).
    """
    rng = rng or random.Random(int.from_bytes(os.urandom(32), "big"))
    table: dict = {}
    expr = _hyperbolic_to_exp(expr)
    abstracted_expr = _abstract(expr, table, _exp_denominators(expr))
    symbols = sorted(
        distinct_atoms(abstracted_expr, sp.Symbol),
        key=lambda s: (str(s), s.dummy_index if isinstance(s, sp.Dummy) else 0),
    )
    num_deg, _ = _degrees(abstracted_expr, {})
    degree = max(num_deg, 1)
    if degree * 10 > SET_SIZE:
        # D / |S| near 1 bounds nothing; such a degree could not be evaluated anyway
        raise ArithmeticError(f"degree bound {degree} is too large for the identity test")
    per_trial = degree / SET_SIZE
    trials = max(1, math.ceil(math.log(TARGET_ERROR) / math.log(per_trial)))
    done = 0
    retries = 0
    while done < trials:
        point = {s: rng.randint(1, SET_SIZE) for s in symbols}
        try:
            value = _evaluate(abstracted_expr, point, {})
        except ZeroDivisionError:
            retries += 1  # hit a pole of the denominator: resample
            if retries > max_pole_retries:
                raise ArithmeticError("every sampled point hit a pole") from None
            continue
        if value != 0:
            original = {s: sp.Integer(v) for s, v in point.items() if not isinstance(s, sp.Dummy)}
            return PitResult(False, 0.0, done + 1, degree, bool(table), original, sp.Rational(value))
        done += 1
    return PitResult(True, per_trial**trials, trials, degree, bool(table))
