"""High-precision numeric zero testing at points spread over a domain.

A residual that SymPy cannot prove zero may still be checked at many points
with mpmath.  The points are chosen so that the usual ways of fooling a
numeric test fail: both sides of every kink or jump (arguments of Abs, sign,
Heaviside, Piecewise, Max, Min, floor), the far tails of unbounded supports,
points close to finite edges, and several parameter values.

Classification at a point, with S the largest magnitude among the residual's
top-level terms (at least 1), is ``symflow.core.precision.decide`` with the
``POINTWISE`` precisions (50 and 30 digits):

* nonzero   |R| >  1e-25 S at 50 digits, and the 30-digit value agrees with
            the 50-digit one to 10 digits (so round-off cannot explain it);
            also when |R| <= 1e-40 S but R != 0 and the two values still
            agree: round-off changes with the precision, a real value does
            not (a residual 1e-60 exp(-x**2) is tiny, not zero);
* zero      |R| <= 1e-40 S at 50 digits otherwise;
* otherwise ambiguous.

'zero' overall needs at least 16 zero points, no ambiguous one, and at most
a quarter of the points undefined (nan, infinite, or an evaluation error).

Only points inside the support are used (members of a finite set, integers
of an integer support); a parameter draw whose support is empty is skipped.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import mpmath
import sympy as sp

from ..core.convert import exact_floats
from ..core.domain import Domain, Interval1D
from ..core.precision import POINTWISE, Outcome, decide
from ..numeric.evaluate import mpmath_function

__all__ = ["NumericResult", "kink_expressions", "numeric_zero_test", "sample_points"]

HIGH_DPS = POINTWISE.high
LOW_DPS = POINTWISE.low
ZERO_DIGITS = POINTWISE.zero_digits
MIN_POINTS = 16
# At most this share of the test points may be poles (undefined values) for 'zero'.
MAX_UNDEFINED_SHARE = 0.25

_KINK_FUNCS = (sp.Abs, sp.sign, sp.Heaviside, sp.Max, sp.Min, sp.floor, sp.ceiling)


@dataclass(frozen=True)
class NumericResult:
    """Outcome of the numeric test: 'zero', 'nonzero' or 'ambiguous'."""

    outcome: str
    points_zero: int
    points_tried: int
    witness_point: dict | None = None
    value_high: object = None
    value_low: object = None
    note: str = ""


def peak_expressions(expr: sp.Expr) -> list[sp.Expr]:
    """d(arg)/dx_j for each exp(arg): zero where a narrow bump exp(-c (x - a)^2) peaks.

    A bump of width 10^-3 away from every test point is below 10^-40 at all of them,
    and round-off in the rest of the residual can then hide it; at its peak it is 1.
    """
    out: list[sp.Expr] = []
    for e in expr.atoms(sp.exp):
        arg = e.args[0]
        for s in arg.free_symbols:
            if arg.is_polynomial(s) and sp.degree(arg, s) == 2:
                out.append(sp.diff(arg, s))
    return out


def kink_expressions(expr: sp.Expr) -> list[sp.Expr]:
    """Expressions whose zero set is a kink or jump of ``expr``."""
    out: list[sp.Expr] = []
    for f in expr.atoms(*_KINK_FUNCS):
        out.extend(a for a in f.args if not a.is_number)
    for pw in expr.atoms(sp.Piecewise):
        for _, cond in pw.args:
            for rel in cond.atoms(sp.Rel):
                out.append(rel.lhs - rel.rhs)
    return out


_PARAM_MENU_POS = (1.3, 0.7, 2.1, 0.45, 3.3, 1.05)
_PARAM_MENU_REAL = (0.3, -0.6, 1.7, -2.2, 0.9, -0.15)
_REAL_XS = (-30.0, -7.0, -2.5, -1.0, -0.3, 0.0, 0.4, 1.1, 2.6, 6.0, 25.0)
_HALF_OFFS = (1e-6, 1e-3, 0.05, 0.3, 1.0, 2.2, 5.0, 12.0, 40.0)
_UNIT_FRACS = (1e-6, 1e-3, 0.1, 0.27, 0.5, 0.73, 0.9, 1 - 1e-3, 1 - 1e-6)


def _num(value: sp.Expr, values: dict) -> mpmath.mpf | None:
    v = value.xreplace(values) if hasattr(value, "xreplace") else value
    if v in (sp.oo, sp.S.NegativeInfinity):
        return None
    try:
        return mpmath.mpf(sp.Float(v, HIGH_DPS))
    except (TypeError, ValueError):
        return None


def _param_value(iv: Interval1D, k: int, rng: random.Random) -> sp.Expr:
    if iv.integer:
        # Integer intervals include their finite ends; stay on the allowed side of
        # them (a negative integer parameter must not be tried at +4).
        if iv.lo.is_finite:
            return sp.Integer(int(sp.ceiling(iv.lo)) + rng.randint(2, 7))
        if iv.hi.is_finite:
            return sp.Integer(int(sp.floor(iv.hi)) - rng.randint(2, 7))
        return sp.Integer(1 + rng.randint(2, 7))
    if iv.lo.is_finite and iv.hi.is_finite:
        frac = sp.Rational(rng.randint(10, 90), 100)
        return iv.lo + (iv.hi - iv.lo) * frac
    menu = _PARAM_MENU_POS if iv.lo == 0 else _PARAM_MENU_REAL
    base = menu[k % len(menu)] * (1 + rng.uniform(-0.1, 0.1))
    if iv.lo.is_finite and iv.lo != 0:
        return iv.lo + sp.Float(abs(base), 20)
    if iv.hi.is_finite:
        return iv.hi - sp.Float(abs(base), 20)
    return sp.Float(base, 20)


def _variable_candidates(iv: Interval1D, pvals: dict) -> list[mpmath.mpf]:
    if iv.finite_set is not None:
        return [mpmath.mpf(sp.Float(v, HIGH_DPS)) for v in iv.finite_set[:40]]
    lo, hi = _num(iv.lo, pvals), _num(iv.hi, pvals)
    if iv.integer:
        start = int(lo) if lo is not None else -5
        if hi is not None:
            return [mpmath.mpf(k) for k in range(start, int(hi) + 1)][:40]
        return [mpmath.mpf(start + k) for k in (*range(12), 25, 60)]
    if lo is None and hi is None:
        return [mpmath.mpf(v) for v in _REAL_XS]
    if hi is None:
        return [lo + mpmath.mpf(o) for o in _HALF_OFFS]
    if lo is None:
        return [hi - mpmath.mpf(o) for o in _HALF_OFFS]
    return [lo + (hi - lo) * mpmath.mpf(f) for f in _UNIT_FRACS]


def _kink_candidates(kinks: list[sp.Expr], var: sp.Symbol, pvals: dict) -> list[mpmath.mpf]:
    out = []
    for k in kinks:
        kk = k.xreplace(pvals)
        if kk.free_symbols != {var}:
            continue
        try:
            poly = sp.Poly(kk, var)
            if poly.degree() > 4:
                continue
            # Floats made exact as stored (nsimplify's constant recognition cost a second per kink).
            roots = [r for r in sp.Poly(exact_floats(poly.as_expr()), var).nroots(n=30) if r.is_real]
        except (sp.PolynomialError, sp.polys.polyerrors.PolynomialError, TypeError, ValueError):
            continue
        for r in roots:
            r = mpmath.mpf(sp.Float(r, HIGH_DPS))
            out.extend(r + mpmath.mpf(d) for d in (-0.3, -1e-3, -1e-8, 1e-8, 1e-3, 0.3))
    return out


def _inside(value: mpmath.mpf, iv: Interval1D, pvals: dict) -> bool:
    """Whether a candidate lies in the support: a member of a finite set, an
    integer of an integer interval (ends included), else strictly inside."""
    if iv.finite_set is not None:
        return any(value == mpmath.mpf(sp.Float(v, HIGH_DPS)) for v in iv.finite_set)
    lo, hi = _num(iv.lo, pvals), _num(iv.hi, pvals)
    if iv.integer:
        # kink candidates such as 0.3 or 1e-8 are not points of an integer support
        return value == mpmath.floor(value) and (lo is None or value >= lo) and (hi is None or value <= hi)
    return (lo is None or value > lo) and (hi is None or value < hi)


def _constraints_hold(constraints: tuple, values: dict) -> bool:
    for c in constraints:
        try:
            if not bool(c.xreplace(values)):
                return False
        except TypeError:
            return False
    return True


def sample_points(
    domain: Domain, symbols: set, *, draws: int = 4, per_draw: int = 12, seed: int = 20191016
) -> list[dict]:
    """Points (Symbol -> mpf) spread over ``domain`` for the given free symbols."""
    rng = random.Random(seed)
    domain = domain.extended(set(symbols))
    variables = [(s, iv) for s, iv in domain.variables if s in symbols]
    params = [(s, iv) for s, iv in domain.parameters if s in symbols or _bounds_need(s, variables)]
    kinks = list(domain.kinks)
    points: list[dict] = []
    # Without variables each draw gives one point: draw more parameter values, so a
    # residual in the parameters alone can reach the 16 points 'consistent' needs.
    for k in range(draws if variables or not params else draws * per_draw):
        for _ in range(100):
            pvals = {s: _param_value(iv, k + rng.randint(0, 5), rng) for s, iv in params}
            if _constraints_hold(domain.constraints, pvals):
                break
        else:
            continue
        cands = {}
        for s, iv in variables:
            cs = _variable_candidates(iv, pvals) + _kink_candidates(kinks, s, pvals)
            cands[s] = [c for c in cs if _inside(c, iv, pvals)]
        if not all(cands.values()):
            # The support is empty at these parameters (e.g. [a, b] with a > b): a point
            # outside it could "refute" an identity that holds wherever p lives.
            continue
        base = {s: mpmath.mpf(sp.Float(v, HIGH_DPS)) for s, v in pvals.items()}
        if not variables:
            points.append(base)
            continue
        if len(variables) == 1:
            s = variables[0][0]
            chosen = cands[s] if len(cands[s]) <= per_draw + 8 else rng.sample(cands[s], per_draw + 8)
            points.extend({**base, s: c} for c in chosen)
            continue
        for j in range(per_draw):
            pt = dict(base)
            for s, _ in variables:
                pt[s] = cands[s][j % len(cands[s])] if j < 2 else rng.choice(cands[s])
            points.append(pt)
    return points


def _bounds_need(s: sp.Symbol, variables: list) -> bool:
    return any(s in (iv.lo.free_symbols | iv.hi.free_symbols) for _, iv in variables)


def _compile(expr: sp.Expr, symbols: list):
    """An mpmath evaluator of the residual's top-level terms (values -> one value per term)."""
    terms = list(sp.Add.make_args(expr)) if expr.is_Add and len(expr.args) <= 200 else [expr]
    fn = mpmath_function(symbols, terms)

    def evaluate(values: list) -> list:
        return fn(*values)

    return evaluate


def _value_and_scale(evaluate, values: list, dps: int):
    with mpmath.workdps(dps):
        terms = evaluate(values)
        terms = [mpmath.mpmathify(t) for t in terms]
        total = mpmath.fsum(terms)
        scale = max([mpmath.mpf(1)] + [abs(t) for t in terms])
    return total, scale


def numeric_zero_test(expr: sp.Expr, domain: Domain, *, min_points: int = MIN_POINTS) -> NumericResult:
    """Evaluate ``expr`` at points over ``domain`` at 50 and 30 digits."""
    symbols = sorted(expr.free_symbols, key=str)
    domain = Domain(
        domain.variables,
        domain.parameters,
        domain.constraints,
        tuple(domain.kinks) + tuple(kink_expressions(expr)) + tuple(peak_expressions(expr)),
    )
    points = sample_points(domain, set(symbols))
    evaluate = _compile(expr, symbols)
    zero = tried = 0
    ambiguous = undefined = 0
    for pt in points:
        values = [pt.get(s, mpmath.mpf("0.37")) for s in symbols]
        tried += 1
        decision = decide(lambda dps, v=values: _value_and_scale(evaluate, v, dps), POINTWISE)
        if decision.outcome is Outcome.NONZERO:
            return NumericResult("nonzero", zero, tried, {s: pt.get(s) for s in symbols}, decision.high, decision.low)
        if decision.outcome is Outcome.ZERO:
            zero += 1
        elif decision.outcome is Outcome.UNDEFINED:
            undefined += 1
        else:
            ambiguous += 1
    # A pole hit exactly is skipped; a residual that is nan or infinite on a good part
    # of the support (Piecewise((nan, x > 0), (0, True))) is not 'zero' there.
    mostly_defined = undefined <= MAX_UNDEFINED_SHARE * tried
    if ambiguous == 0 and zero >= min_points and mostly_defined:
        return NumericResult("zero", zero, tried)
    note = f"{zero} of {tried} points vanished to {ZERO_DIGITS} digits"
    if ambiguous:
        note += f", {ambiguous} were neither clearly zero nor clearly nonzero"
    if not mostly_defined:
        note += f", the residual was undefined (nan, infinite or an error) at {undefined}"
    if zero < min_points:
        note += f" (at least {min_points} are needed)"
    return NumericResult("ambiguous", zero, tried, note=note)
