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

The test is a ``cooperative`` step (``core.budget``): it runs in the caller's process when every
value it computes is provably small (at most ``MAX_IN_PROCESS_BITS`` bits, bounded node by node as
the degrees are), so that no single exact operation runs long, and it checks the deadline as it
goes; a larger program is forked like any other step.

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

from ..core.budget import Unbounded, check_deadline, cooperative, in_process
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
# In process (see the module docstring): no value above this many bits (a product or gcd of two
# such numbers takes milliseconds), and no exponent whose expansion has more terms than this.
MAX_IN_PROCESS_BITS = 2**16
MAX_IN_PROCESS_TERMS = 2000
# Nodes compiled or evaluated between two looks at the deadline.
CHECK_EVERY = 256


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


def _expansion_terms(expr: sp.Expr) -> int:
    """An upper bound on the number of terms of ``sp.expand(expr)`` (products of sums multiply)."""
    if expr.is_Add:
        return sum(_expansion_terms(a) for a in expr.args)
    if expr.is_Mul:
        return math.prod(_expansion_terms(a) for a in expr.args)
    if expr.is_Pow and expr.exp.is_Integer and expr.exp > 1:
        base = _expansion_terms(expr.base)
        return math.comb(base + int(expr.exp) - 1, int(expr.exp)) if base > 1 else 1
    return 1


def _expand(expr: sp.Expr) -> sp.Expr:
    """``sp.expand(expr)``; in process (``cooperative``), only when the expansion is provably small."""
    if in_process() and _expansion_terms(expr) > MAX_IN_PROCESS_TERMS:
        raise Unbounded(f"expanding an exponent of more than {MAX_IN_PROCESS_TERMS} terms")
    return sp.expand(expr)


def _exp_denominators(expr: sp.Expr) -> dict:
    """For each monomial m in an exponent, the lcm L of the denominators of its coefficients."""
    dens: dict = {}
    for e in distinct_atoms(expr, sp.exp):
        if sp.count_ops(e.args[0]) > MAX_EXPONENT_OPS:
            continue
        for term in sp.Add.make_args(_expand(e.args[0])):
            coeff, mono = term.as_coeff_Mul()
            if coeff.is_Rational:
                dens[mono] = sp.ilcm(dens.get(mono, 1), coeff.q)
    return dens


# Node kinds of a compiled rational expression (``_Program``).
_SYMBOL, _CONSTANT, _ADD, _MUL, _POW = range(5)


class _Program:
    """A rational expression as a list of nodes in evaluation order, each distinct subexpression once.

    Compiled once from the SymPy tree (non-rational subexpressions abstracted to indeterminates),
    then evaluated many times and bounded in degree by plain loops over the list: no SymPy
    object is built or compared after compiling (rebuilding the abstracted tree through
    SymPy's flatten, and dictionaries keyed by its nodes, took most of a large test's time).
    Nodes are keyed by the identity of the SymPy objects (kept alive in ``_keep``), so a
    shared subexpression is one node; structurally equal copies are separate nodes, which
    costs time but changes no value.
    """

    def __init__(self, expr: sp.Expr, table: dict, dens: dict) -> None:
        self.nodes: list[tuple] = []
        self.symbols: dict[sp.Symbol, int] = {}  # indeterminate -> its node
        self._index: dict[int, int] = {}
        self._keep: list[sp.Expr] = []
        self._leaves: dict[sp.Expr, int] = {}  # abstracted leaf (by value) -> node of its replacement
        self.root = self._compile(expr, table, dens)

    def _emit(self, node: tuple) -> int:
        self.nodes.append(node)
        return len(self.nodes) - 1

    def _compile(self, expr: sp.Expr, table: dict, dens: dict) -> int:
        # iterative post-order walk: residuals nest deeper than Python's recursion limit
        stack: list[tuple[sp.Expr, bool]] = [(expr, False)]
        steps = 0
        while stack:
            steps += 1
            if steps % CHECK_EVERY == 0:
                check_deadline("identity test")
            node, ready = stack.pop()
            if id(node) in self._index:
                continue
            if node.is_Symbol or node.is_Rational:
                self._index[id(node)] = self._leaf(node)
            elif node.is_Add or node.is_Mul:
                if not ready:
                    stack.append((node, True))
                    stack.extend((a, False) for a in node.args if id(a) not in self._index)
                    continue
                kind = _ADD if node.is_Add else _MUL
                self._index[id(node)] = self._emit((kind, [self._index[id(a)] for a in node.args]))
            elif node.is_Pow and node.exp.is_Integer:
                if not ready:
                    stack.append((node, True))
                    stack.append((node.base, False))
                    continue
                self._index[id(node)] = self._emit((_POW, self._index[id(node.base)], int(node.exp)))
            else:
                hit = self._leaves.get(node)
                if hit is None:
                    replaced = _abstract_leaf(node, table, dens)  # a Dummy or a product of powers of them
                    hit = self._leaves[node] = self._compile(replaced, table, dens)
                self._index[id(node)] = hit
            self._keep.append(node)
        return self._index[id(expr)]

    def _leaf(self, expr: sp.Expr) -> int:
        if expr.is_Symbol:
            if expr not in self.symbols:
                self.symbols[expr] = self._emit((_SYMBOL, expr))
            return self.symbols[expr]
        value = int(expr.p) if expr.is_Integer else Fraction(int(expr.p), int(expr.q))
        return self._emit((_CONSTANT, value))

    def _bounds(self, symbol: tuple[int, int], constant, carry: bool) -> list[tuple[int, int]]:
        """(numerator, denominator) bounds of every node: ``symbol`` for an indeterminate, ``constant(value)``
        for a number; through a sum, a product and an integer power as for degrees; ``carry`` adds the bits of
        k to a sum of k terms (sizes of numbers, not degrees)."""
        out: list[tuple[int, int]] = []
        for node in self.nodes:
            kind = node[0]
            if kind == _SYMBOL:
                here = symbol
            elif kind == _CONSTANT:
                here = constant(node[1])
            elif kind == _ADD:
                parts = [out[i] for i in node[1]]
                den = sum(d for _, d in parts)
                here = (max(n + den - d for n, d in parts) + (len(parts).bit_length() if carry else 0), den)
            elif kind == _MUL:
                parts = [out[i] for i in node[1]]
                here = (sum(n for n, _ in parts), sum(d for _, d in parts))
            else:
                n, d = out[node[1]]
                e = node[2]
                here = (e * n, e * d) if e >= 0 else (-e * d, -e * n)
            out.append(here)
        return out

    def degrees(self) -> tuple[int, int]:
        """(numerator, denominator) total-degree bounds of the rational function."""
        return self._bounds((1, 0), lambda value: (0, 0), carry=False)[self.root]

    def bits(self, symbol_bits: int) -> int:
        """A bound on the bits of any value computed, each indeterminate of at most ``symbol_bits`` bits.

        Per node, (numerator, denominator) bit bounds propagate as the degrees do (a sum of k terms
        adds the bits of k); the largest numerator plus denominator is returned.
        """

        def constant(value: int | Fraction) -> tuple[int, int]:
            value = Fraction(value)
            return abs(value.numerator).bit_length(), value.denominator.bit_length()

        return max((n + d for n, d in self._bounds((symbol_bits, 0), constant, carry=True)), default=0)

    def evaluate(self, point: dict) -> Fraction | int:
        """The exact value at integer ``point`` (ZeroDivisionError at a pole of a denominator)."""
        val: list = []
        for count, node in enumerate(self.nodes, 1):
            if count % CHECK_EVERY == 0:
                check_deadline("identity test")
            kind = node[0]
            if kind == _SYMBOL:
                out = point[node[1]]
            elif kind == _CONSTANT:
                out = node[1]
            elif kind == _ADD:
                out = sum((val[i] for i in node[1]), 0)
            elif kind == _MUL:
                out = 1
                for i in node[1]:
                    out = out * val[i]
            else:
                base, e = val[node[1]], node[2]
                out = base**e if e >= 0 else Fraction(1) / Fraction(base) ** (-e)
            val.append(out)
        return val[self.root]


def _abstract_leaf(expr: sp.Expr, table: dict, dens: dict) -> sp.Expr:
    """A non-rational subexpression as a product of powers of indeterminates (an exponential split)."""
    if isinstance(expr, sp.exp) and sp.count_ops(expr.args[0]) <= MAX_EXPONENT_OPS:
        factors = []
        for term in sp.Add.make_args(_expand(expr.args[0])):
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


@cooperative
def polynomial_identity_test(
    expr: sp.Expr, *, rng: random.Random | None = None, max_pole_retries: int = 20
) -> PitResult:
    """Decide whether ``expr`` is identically zero by exact random evaluation.

    Returns a ``PitResult``; ``zero=True`` carries an error bound <= 1e-30.
    Floats must have been made exact (``exact_floats``) by the caller.
    ``rng`` defaults to a generator seeded from ``os.urandom`` (see the
    module docstring: a fixed default seed would void the bound).  Run in
    process by ``run_with_budget``, it raises ``Unbounded`` for a program
    with a value above ``MAX_IN_PROCESS_BITS`` bits (see the module docstring).
    """
    rng = rng or random.Random(int.from_bytes(os.urandom(32), "big"))
    table: dict = {}
    expr = _hyperbolic_to_exp(expr)
    program = _Program(expr, table, _exp_denominators(expr))
    symbols = sorted(program.symbols, key=lambda s: (str(s), s.dummy_index if isinstance(s, sp.Dummy) else 0))
    if in_process() and program.bits(SET_SIZE.bit_length()) > MAX_IN_PROCESS_BITS:
        raise Unbounded(f"a value of the identity test may exceed {MAX_IN_PROCESS_BITS} bits")
    num_deg, _ = program.degrees()
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
            value = program.evaluate(point)
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
