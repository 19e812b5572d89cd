r"""A ``Density`` from a sympy.stats random variable: ``from_stats(Normal("X", mu, sigma))``.

The Density carries

* the pdf (pmf) ``density(X)(x)`` in ``x = Symbol("x", real=True)`` (``integer=True`` for
  a discrete X), with a ``Piecewise`` reduced to the branches that apply inside the support;
* the parameters: the free Symbols of the distribution's arguments, in the order they
  appear there (``params=`` reorders them);
* the support ``pspace(X).domain.set`` as an ``Interval`` or a set of integers (a finite
  set of consecutive integers and ``Interval(0, n) & Naturals0`` become ``Range``);
* a CDF when one is a clean closed form: the distribution's own ``_cdf`` (sympy's
  integrating route ``cdf(X)`` is never called: it ran past 20 s for Weibull, VonMises and
  BetaPrime and cannot be given a deadline from this layer), else one written below where
  sympy has none; reduced to the branches inside the support, refused when it holds nan,
  an Integral or a Sum, and kept only if dF/dx (or F(k) - F(k - 1)) matches the pdf at
  random points and F matches the numerically integrated pdf;
* a numpy/scipy sampler from ``_TABLE`` (a frozen dataclass over module-level functions,
  so the Density pickles), or numeric inversion of the CDF (``numeric.inversion``) for a
  1-D distribution not in the table.

Corrections to sympy.stats 1.14 (checked against its own density): ``Kumaraswamy`` is
given the support (0, 1) (sympy says (0, oo), where its pdf does not integrate to 1),
``Frechet(a, s, m)`` and ``Davis(b, n, mu)`` the supports (m, oo) and (mu, oo) (sympy says
(0, oo), where the pdf is not a density below m), and ``Die(n)`` the support 1..n.

Any other single continuous distribution (RaisedCosine, Trapezoidal, Davis, ...) is sampled by
numeric inversion of its pdf, built once per parameter value; any other discrete one with a
support bounded below by inversion of its pmf.  Refused: random variables that are not single
1-D distributions (joint, compound, ``2*X + 1``) and pdfs numpy cannot evaluate (UniformSum,
BetaNoncentral, Hermite: an unevaluated Sum) unless ``sampler=`` is given.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import sympy as sp

from ...core.density import Density
from ...errors import SymflowError
from ...numeric.evaluate import ExprFunction
from ...numeric.inversion import (
    cdf_table,
)
from .table import _TABLE, InversionSampler, StatsSampler

__all__ = ["from_stats"]


# -- what from_stats accepts ----------------------------------------------------------------


def _as_random_variable(X: object):
    """(X, its distribution, whether discrete) or a SymflowError naming the fix."""
    from sympy.stats import crv, drv, frv
    from sympy.stats.rv import Distribution, RandomSymbol

    hint = "pass a random variable such as sympy.stats.Normal('X', mu, sigma) itself"
    if isinstance(X, str | bytes):
        raise SymflowError(f"from_stats got the string {X!r}; symflow never parses strings: {hint}")
    if isinstance(X, Distribution):
        raise SymflowError(
            f"from_stats got the distribution {X} (what sympy.stats.density(X) returns), not a random "
            f"variable; pass X itself: from_stats(X). For the pdf as an expression use density(X)(x)"
        )
    if isinstance(X, dict):
        raise SymflowError(f"from_stats got a dict (what density(X) returns for a finite X); {hint}")
    if not isinstance(X, RandomSymbol):
        if isinstance(X, sp.Basic) and X.atoms(RandomSymbol):
            raise SymflowError(
                f"from_stats got {X}, an expression of random variables, not one random variable; "
                "pass the random variable itself and transform its samples"
            )
        raise SymflowError(
            f"from_stats got {X!r} of type {type(X).__name__}, not a sympy.stats random variable; {hint}, "
            "or build a hand-written density with symflow.Density(expr, x, params, support=...)"
        )
    space = X.pspace
    kinds = {crv.SingleContinuousPSpace: False, drv.SingleDiscretePSpace: True, frv.SingleFinitePSpace: True}
    discrete = kinds.get(type(space))
    if discrete is None:
        raise SymflowError(
            f"{X} lives in a {type(space).__name__}; from_stats takes a single 1-D distribution "
            "(joint, compound and multivariate random variables are not supported)"
        )
    return X, space.distribution, discrete


def _ordered_symbols(args: tuple[sp.Basic, ...]) -> tuple[sp.Symbol, ...]:
    seen: dict[sp.Symbol, None] = {}
    for a in args:
        for node in sp.preorder_traversal(a):
            if isinstance(node, sp.Symbol):
                seen.setdefault(node)
    return tuple(seen)


def _support_set(s: sp.Set) -> sp.Set:
    """sympy.stats' support as a set ``Density`` accepts (an Interval or a set of integers)."""
    if s == sp.S.Reals or isinstance(s, sp.Interval | sp.Range) or s in (sp.S.Naturals0, sp.S.Naturals, sp.S.Integers):
        return s
    if isinstance(s, sp.FiniteSet) and all(v.is_integer for v in s):
        vals = sorted(s, key=int)
        if [int(v) for v in vals] == list(range(int(vals[0]), int(vals[-1]) + 1)):
            return sp.Range(vals[0], vals[-1] + 1)
        return s
    if isinstance(s, sp.Intersection):
        intervals = [a for a in s.args if isinstance(a, sp.Interval)]
        integers = [a for a in s.args if a in (sp.S.Naturals0, sp.S.Naturals, sp.S.Integers)]
        if len(intervals) == 1 and len(integers) == 1 and len(s.args) == 2:
            lo = sp.ceiling(intervals[0].inf)
            if integers[0].inf.is_finite:
                lo = sp.Max(lo, integers[0].inf)
            return sp.Range(lo, sp.floor(intervals[0].sup) + 1)
    raise SymflowError(f"the support {s} is not an interval or a set of integers; from_stats cannot use it")


# -- reference points: parameter values sympy accepts, and x inside the support --------------


def _reference_points(dist, args, symbols, support, x, discrete, count=2, seed=0):
    """``count`` dicts {parameter: exact value, x: exact value} lists, one list of x probes per point.

    Values are exact rationals drawn with a fixed seed (the same X always gives the same
    Density), accepted when the distribution's own ``check`` passes and the support is
    nonempty.  Returns [] when none is found in 200 tries.
    """
    rng = np.random.default_rng(seed)
    points = []
    for _ in range(200):
        vals = {}
        for s in symbols:
            if s.is_integer:
                vals[s] = sp.Integer(int(rng.integers(2, 9)))
            elif rng.random() < 0.4:
                vals[s] = sp.Rational(int(rng.integers(1, 8)), 8)  # (0, 1): probabilities
            else:
                vals[s] = sp.Rational(int(rng.integers(3, 13)), 4)
            if s.is_negative:
                vals[s] = -vals[s]
        try:
            type(dist).check(*(a.xreplace(vals) for a in args))
        except (ValueError, TypeError):
            continue
        lo, hi = (e.xreplace(vals) for e in (support.inf, support.sup))
        if not (lo.is_number and hi.is_number and bool(lo < hi)):
            continue
        probes = _x_probes(lo, hi, discrete)
        points.append([{**vals, x: p} for p in probes])
        if len(points) == count:
            break
    return points


def _x_probes(lo: sp.Expr, hi: sp.Expr, discrete: bool) -> list[sp.Expr]:
    if discrete:  # every point of a small finite support (Binomial's F has a branch at x = n alone)
        if lo.is_finite and hi.is_finite and hi - lo <= 30:
            return [lo + k for k in range(int(hi - lo) + 1)]
        start = lo if lo.is_finite else sp.Integer(-3)
        return [start + k for k in (0, 1, 2, 3, 5, 8) if start + k <= hi]
    if lo.is_finite and hi.is_finite:
        return [lo + (hi - lo) * sp.Rational(k, 97) for k in (1, 13, 30, 48, 61, 80, 96)]
    if lo.is_finite:
        return [lo + sp.Rational(k, 20) for k in (1, 7, 20, 33, 60, 140)]
    if hi.is_finite:
        return [hi - sp.Rational(k, 20) for k in (1, 7, 20, 33, 60, 140)]
    return [sp.Rational(k, 10) for k in (-60, -17, -4, 3, 11, 25, 70)]


def _inside_support(expr: sp.Expr, points: list[list[dict]]) -> sp.Expr | None:
    """The branches of a Piecewise that apply at the reference points (None if a condition is undecided)."""
    e = sp.piecewise_fold(expr)
    if not isinstance(e, sp.Piecewise):
        return e
    used = set()
    for point in (p for pts in points for p in pts):
        for i, (_, cond) in enumerate(e.args):
            c = cond.xreplace(point)
            if c == sp.true:
                used.add(i)
                break
            if c != sp.false:
                return None
        else:
            return None  # no branch applies: sympy's nan region
    branches = [e.args[i] for i in sorted(used)]
    if len(branches) == 1:
        return branches[0].expr
    return sp.Piecewise(*branches[:-1], (branches[-1].expr, True))


def _number(expr: sp.Expr, point: dict) -> float:
    value = complex(sp.N(expr.xreplace(point), 20))
    if abs(value.imag) > 1e-12 * max(1.0, abs(value.real)) or not math.isfinite(value.real):
        raise ValueError(f"{expr} is {value} at {point}")
    return value.real


def _checked_cdf(F, pdf, x, order, support, points, discrete) -> sp.Expr | None:
    """F reduced to the support and checked against the pdf, or None (see the module docstring)."""
    if F is None or not points:
        return None
    F = _inside_support(F, points)
    if F is None or F.has(sp.nan, sp.zoo, sp.oo, -sp.oo, sp.Integral, sp.Sum, sp.Product, sp.exp_polar):
        return None
    try:
        if discrete:
            for pts in points:
                lo = support.inf.xreplace(pts[0])  # F(lo) = p(lo) pins the constant
                for pt in pts:
                    prev = _number(F, {**pt, x: pt[x] - 1}) if pt[x] > lo else 0.0
                    if abs(_number(F, pt) - prev - _number(pdf, pt)) > 1e-12 + 1e-9 * abs(_number(pdf, pt)):
                        return None
            return F
        dF = sp.diff(F, x)
        for pts in points:
            for pt in pts:
                want = _number(pdf, pt)
                if abs(_number(dF, pt) - want) > 1e-9 * max(abs(want), 1e-6):
                    return None
        # the constant: F against the integrated pdf at the first reference point
        pts = points[0]
        vals = {k: v for k, v in pts[0].items() if k != x}
        lo, hi = (float(e.xreplace(vals)) for e in (support.inf, support.sup))
        table = cdf_table(ExprFunction(pdf, x, order, tuple(float(vals[p]) for p in order)), lo, hi)
        xs = np.array([float(pt[x]) for pt in pts])
        got = np.array([_number(F, pt) for pt in pts])
        return F if np.max(np.abs(table.cdf(xs) - got)) < 1e-8 else None
    except (ValueError, TypeError, ZeroDivisionError, SymflowError):  # not a number somewhere: not clean
        return None


def from_stats(X: object, params: Sequence[sp.Symbol] | None = None, *, sampler: Callable | None = None) -> Density:
    r"""The ``Density`` of a sympy.stats random variable, with a numpy sampler and a checked CDF.

    Parameters
    ----------
    X : sympy.stats RandomSymbol
        A single 1-D random variable, e.g. ``sympy.stats.Gamma("X", k, theta)``.
    params : sequence of Symbols, optional
        The parameter order; default: the free Symbols of the distribution's arguments in
        the order they appear (``(k, theta)`` here).  Must list each of them once.
    sampler : callable, optional
        ``sampler(n, params, rng) -> (n, 1)`` instead of the table's or numeric inversion.

    Returns
    -------
    Density
        pdf ``density(X)(x)``, support ``pspace(X).domain.set``, CDF when clean, a sampler,
        and the parameter constraints sympy.stats checks (``a < b`` for Uniform, ...).

    Examples
    --------
    >>> import sympy as sp, sympy.stats as ss
    >>> k, theta = sp.symbols("k theta", positive=True)
    >>> p = from_stats(ss.Gamma("X", k, theta))
    >>> p.params, p.support
    ((k, theta), Interval(0, oo))
    >>> p.sample(3, {k: 2.0, theta: 0.5}, rng=0).shape
    (3, 1)
    """
    X, dist, discrete = _as_random_variable(X)
    from sympy.stats import density

    kind = type(dist).__name__.removesuffix("Distribution")
    args = tuple(dist.args)
    symbols = _ordered_symbols(args)
    if params is None:
        order = symbols
    else:
        order = tuple(params)
        if len(order) != len(symbols) or set(order) != set(symbols):
            raise SymflowError(f"params={order} must list each parameter of {X} once: {', '.join(map(str, symbols))}")
    name = "x_" if any(s.name == "x" for s in symbols) else "x"
    x = sp.Symbol(name, integer=True) if discrete else sp.Symbol(name, real=True)
    spec = _TABLE.get(kind)
    if kind in ("Binomial", "Bernoulli") and (args[-2], args[-1]) != (1, 0):
        raise SymflowError(f"{kind} with succ={args[-2]}, fail={args[-1]}: use succ=1, fail=0 and map the samples")
    support = _support_set(spec.support(*args) if spec and spec.support else X.pspace.domain.set)
    # density(X) of a finite X can be a dict; its distribution's pmf is an expression (only finite ones have pmf)
    raw = dist.pmf(x) if hasattr(dist, "pmf") else density(X)(x)
    points = _reference_points(dist, args, symbols, support, x, discrete)
    pdf = (_inside_support(raw, points) if points else None) or raw
    F = None
    try:
        F = dist._cdf(x)  # the distribution's closed form; None when it has none
    except Exception:  # noqa: BLE001 - NotImplementedError (Skellam) and the like: no closed form
        F = None
    if F is None and spec is not None and spec.cdf is not None:
        F = spec.cdf(x, *args)
    cdf = _checked_cdf(F, pdf, x, order, support, points, discrete)
    if sampler is None:
        sampler = _sampler(kind, spec, args, pdf, x, order, support, discrete, points)
    constraints = tuple(c for c in (spec.constraints(*args) if spec else ()) if c not in (sp.true, True))
    if any(c in (sp.false, False) for c in constraints):
        raise SymflowError(f"the parameters of {X} violate {constraints}; sympy.stats should have refused them")
    return Density(pdf, (x,), order, support=support, sampler=sampler, cdf=cdf, constraints=constraints, name=kind)


def _sampler(kind, spec, args, pdf, x, order, support, discrete, points):
    if spec is not None and spec.draw is not None:
        return StatsSampler(kind, args)
    lo, hi = support.inf, support.sup
    if discrete and not lo.is_finite:
        raise SymflowError(
            f"{kind} is not in the sampler table and its support {support} is unbounded below; "
            "give sampler=... (a function (n, params, rng) -> (n, 1) array)"
        )
    made = InversionSampler(pdf, x, order, lo, hi, discrete)
    for pts in points[:1]:  # refuse now, not at the first draw: build once at a reference point
        vals = {k: float(v) for k, v in pts[0].items() if k != x}
        # the pdf must evaluate in numpy as evalf does (lambdify maps some functions wrongly)
        ExprFunction(pdf, x, order, tuple(vals[p] for p in order)).check(np.array([float(p[x]) for p in pts]))
        try:
            made.inverse(vals)
        except SymflowError as e:
            raise SymflowError(f"{kind} is not in the sampler table and numeric inversion fails: {e}") from e
    return made
