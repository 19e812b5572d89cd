"""Where a residual kinks, jumps or peaks, located numerically for any expression.

A numeric zero test that looks only at scattered points misses what happens
between them: x Heaviside(x - 5) vanishes at every point below 5, a bump
exp(-10^6 (x - 3)^4) is below 10^-40 everywhere but near 3, and
Mod(x + 200, 400) - x - 200 is zero until x = 200.  The same holds for a
parameter: a flow wrong only for mu > 1000 (Heaviside(mu - 1000)) or a bias
exp(-10^6 (mu - 3)^2) vanishes at every random parameter draw.  So for each
variable and each parameter (every free symbol of the residual), with the
other symbols fixed at a test draw, this module finds numerically:

* **kinks and jumps**: sign changes of the arguments of Abs, sign,
  Heaviside, of the differences of Max/Min arguments, of sin(pi a) for
  floor(a), ceiling(a), frac(a) and Mod(a, b) (a/b), of the real and
  imaginary parts of arg(z), of the branch points inside re/im (bases of
  fractional powers, arguments of log), of the sides of every relation
  (Piecewise conditions, Eq, Ne) and of the difference of KroneckerDelta's
  arguments; each root gives points just on either side of it (for an
  integer-valued symbol, the integers around it: ``points.py``);
* **peaks**: stationary points of every exponent, denominator and function
  argument (where a bump of any shape and width can sit), and the largest
  values of |R| itself on a grid, refined by golden-section search.

Roots are bracketed on a grid spread over the whole interval (linear near 0,
log-spaced magnitudes out to 1e12, log-spaced distances to finite edges) at
15 digits, then refined to 30 digits.  Landmarks only add test points: a
landmark that is wrong costs one evaluation, never a verdict.

Slightly over 400 lines on purpose: one concept, the places a numeric test must look (kinks, branch
points, peaks, sign changes), found by one finder that shares its grid and refinement.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from itertools import combinations

import mpmath
import sympy as sp

from ..core.domain import Interval1D, edge_number
from ..numeric.evaluate import mpmath_function
from .timing import EvaluationTimeout, time_limit

__all__ = ["LandmarkFinder", "kink_expressions", "peak_expressions"]

_SIGN_KINKS = (sp.Abs, sp.sign, sp.Heaviside)
_INTEGER_JUMPS = (sp.floor, sp.ceiling, sp.frac)
_NOT_SMOOTH = (*_SIGN_KINKS, *_INTEGER_JUMPS, sp.Mod, sp.Max, sp.Min, sp.Piecewise, sp.arg, sp.re, sp.im)
# Functions whose arguments' stationary points are where a bump of that function peaks.
_BUMP_PARENTS = (sp.exp, sp.cosh, sp.sinh, sp.tanh, sp.sech, sp.erf, sp.erfc, sp.atan, sp.sinc, sp.log)
MAX_SOURCES = 24
MAX_ROOTS = 10
# |R| is searched for its largest values at this many draws (and once for each of the first
# PARAM_PEAK_SEARCHES parameters), on the grid points of magnitude at
# most PEAK_RANGE (far points are the random points' job), and no more once one search took
# longer than PEAK_GRID_BUDGET seconds.  Each landmark pass of one variable stops after
# PASS_SECONDS, and one evaluation after EVAL_SECONDS.
PEAK_SEARCHES = 2
PARAM_PEAK_SEARCHES = 6
PEAK_RANGE = 1e4
PEAK_GRID_BUDGET = 0.25
PASS_SECONDS = 1.0
EVAL_SECONDS = 0.1


def _branch_points(z: sp.Expr) -> list[sp.Expr]:
    out = [z]
    for pw in z.atoms(sp.Pow):
        if not pw.exp.is_Integer:
            out.append(pw.base)
    out.extend(lg.args[0] for lg in z.atoms(sp.log))
    return out


def kink_expressions(expr: sp.Expr) -> list[sp.Expr]:
    """Expressions whose sign changes are kinks or jumps of ``expr`` (numbers dropped, no repeats)."""
    out: list[sp.Expr] = []
    # (smooth ones only: the derivative of frac or Abs has no numeric value, and one source without a value
    # costs the whole row of sources at that grid point)
    edges = [f.args[0] for f in expr.atoms(*_SIGN_KINKS)]
    edges += [a - b for f in expr.atoms(sp.Max, sp.Min) for a, b in combinations(f.args, 2)]
    edges += [rel.lhs - rel.rhs for rel in expr.atoms(sp.Rel)]
    out.extend(e for e in edges if not e.has(*_NOT_SMOOTH))
    for f in expr.atoms(sp.Max, sp.Min):
        out.extend(a - b for a, b in combinations(f.args, 2))
    for f in expr.atoms(*_INTEGER_JUMPS):
        out.append(sp.sin(sp.pi * f.args[0]))
    for f in expr.atoms(sp.Mod):
        a, b = f.args
        out.append(sp.sin(sp.pi * a / b))
    for f in expr.atoms(sp.arg):
        out.extend((sp.re(f.args[0]), sp.im(f.args[0])))
    for f in expr.atoms(sp.re, sp.im):
        out.extend(_branch_points(f.args[0]))
    for f in expr.atoms(sp.KroneckerDelta):
        out.append(f.args[0] - f.args[1])
    # Piecewise conditions, and Eq/Ne wherever they occur: KroneckerDelta(y, 12) and
    # Piecewise((1, Eq(y, 12)), (0, True)) differ from 0 at y = 12 only.
    for rel in expr.atoms(sp.Rel):
        out.append(rel.lhs - rel.rhs)
    return _unique(out)


def peak_expressions(expr: sp.Expr) -> list[sp.Expr]:
    """Expressions whose stationary points may be peaks of ``expr``: exponents, denominators, arguments."""
    out: list[sp.Expr] = []
    for f in expr.atoms(*_BUMP_PARENTS):
        out.append(f.args[0])
    # the centre of a disk H(r^2 - |x - c|^2) or of a cone Abs(...): found along x_1 at any x_2, it is where
    # the other coordinates' search (``points.py``, chained) meets the disk
    # (smooth ones only: the derivative of frac or Abs has no numeric value, and one source without a value
    # costs the whole row of sources at that grid point)
    edges = [f.args[0] for f in expr.atoms(*_SIGN_KINKS)]
    edges += [a - b for f in expr.atoms(sp.Max, sp.Min) for a, b in combinations(f.args, 2)]
    edges += [rel.lhs - rel.rhs for rel in expr.atoms(sp.Rel)]
    out.extend(e for e in edges if not e.has(*_NOT_SMOOTH))
    for pw in expr.atoms(sp.Pow):
        if pw.exp.is_negative or not pw.exp.is_Integer:
            out.append(pw.base)
    return _unique(out)


def _unique(exprs: list[sp.Expr]) -> list[sp.Expr]:
    seen, out = set(), []
    for e in exprs:
        if e.is_number or e in seen:
            continue
        seen.add(e)
        out.append(e)
    return out[:MAX_SOURCES]


def _grid(iv: Interval1D, others: dict) -> list[mpmath.mpf]:
    """Points spread over the variable's interval: linear near the middle, log-spaced far and near edges."""
    lo, hi = edge_number(iv.lo, others), edge_number(iv.hi, others)
    with mpmath.workdps(30):
        if lo is None and hi is None:
            lin = [mpmath.mpf(k) / 2 for k in range(-20, 21)]
            logs = [mpmath.mpf(10) ** (mpmath.mpf(k) / 2) for k in range(-12, 25)]
            pts = lin + logs + [-t for t in logs]
        elif lo is None or hi is None:
            edge, sign = (lo, 1) if hi is None else (hi, -1)
            offs = [mpmath.mpf(10) ** (mpmath.mpf(k) / 3) for k in range(-30, 37)]
            offs += [mpmath.mpf(k) / 2 for k in range(1, 41)]
            pts = [edge + sign * o for o in offs]
        else:
            w = hi - lo
            fr = [mpmath.mpf(k) / 80 for k in range(1, 80)]
            fr += [mpmath.mpf(10) ** (-k) for k in range(2, 13)]
            fr += [1 - mpmath.mpf(10) ** (-k) for k in range(2, 13)]
            pts = [lo + w * f for f in fr]
    return sorted(set(pts))


def _real(v) -> mpmath.mpf | None:
    try:
        v = mpmath.mpmathify(v)
    except (TypeError, ValueError):
        return None
    if isinstance(v, mpmath.mpc):
        if abs(v.imag) > mpmath.mpf(10) ** -12 * max(1, abs(v.real)):
            return None
        v = v.real
    return v if mpmath.isfinite(v) else None


def _refine(f: Callable, a: mpmath.mpf, b: mpmath.mpf, fa: mpmath.mpf) -> mpmath.mpf:
    """A root of f in [a, b] (f(a), f(b) of opposite signs) by bisection to ~1e-25 relative."""
    with mpmath.workdps(30):
        for _ in range(100):
            m = (a + b) / 2
            if b - a <= mpmath.mpf(10) ** -25 * max(1, abs(m)):
                break
            fm = _real(f(m))
            if fm is None:
                break
            if fm == 0:
                return m
            if (fm > 0) == (fa > 0):
                a, fa = m, fm
            else:
                b = m
        return (a + b) / 2


def _sign_changes(f: Callable, grid: list, values: list) -> list[mpmath.mpf]:
    roots = []
    # a grid point without a value (0/0 at the centre of sqrt((x - 1)^2 + (y - 1)^2)) is stepped over, not
    # taken for the end of a bracket: the sign change around it is still found (second review)
    known = [(t, v) for t, v in zip(grid, values, strict=True) if v is not None]
    for (a, fa), (b, fb) in zip(known, known[1:], strict=False):
        if fa == 0:
            roots.append(a)
        elif (fa > 0) != (fb > 0) and fb != 0:
            roots.append(_refine(f, a, b, fa))
    if len(roots) > MAX_ROOTS:  # keep the ones nearest 0 and an even spread of the rest
        near = sorted(roots, key=abs)[: MAX_ROOTS // 2 + 1]
        rest = [r for r in roots if r not in near]
        step = len(rest) / (MAX_ROOTS - len(near))
        roots = near + [rest[int(k * step)] for k in range(MAX_ROOTS - len(near))]
    return roots


def _timed(fn: Callable, *args, end: float):
    """fn(*args) within EVAL_SECONDS and before ``end`` (monotonic); None when slow or failing."""
    left = min(EVAL_SECONDS, end - time.monotonic())
    try:
        with time_limit(left):
            return fn(*args)
    except (EvaluationTimeout, ArithmeticError, ValueError, TypeError, ZeroDivisionError, AttributeError):
        return None  # AttributeError: SymPy's evalf fails so on some inputs (an mpf where it wants a Float)


def _around(r: mpmath.mpf, offsets: tuple) -> list[mpmath.mpf]:
    with mpmath.workdps(40):
        s = max(mpmath.mpf(1), abs(r))
        return [r + sign * mpmath.mpf(d) * s for d in offsets for sign in (-1, 1)]


# Points this far (relative) on each side of a kink: a window of width 1e-12 next to it (H(x - 3) - H(x - 3 - 1e-12))
# is seen.  Not closer than 1e-14: the point must stay off the kink in float64 too (a parameter value is
# reported and compared as a float; 1e-20 from mu = 1000 read as mu = 1000 itself, on the kink).
_KINK_OFFSETS = (1e-14, 1e-11, 1e-8, 1e-3, 0.3)
_PEAK_OFFSETS = (1e-6,)


class LandmarkFinder:
    """Candidate test values of one symbol where ``expr`` kinks, jumps or peaks (see the module docstring).

    Called as ``finder(symbol, interval, others)`` with ``others`` the numeric
    values of every other symbol; returns values of the symbol.  The symbol
    may be a variable or a parameter: the |R| grid search is shared by the
    variables (``PEAK_SEARCHES`` in all) and, for parameters
    (``parameter=True``), done once per parameter, for at most
    ``PARAM_PEAK_SEARCHES`` of them.  ``until`` (a ``time.monotonic`` end) stops
    every search: landmarks only add points, so one cut short costs no verdict.
    """

    def __init__(
        self,
        expr: sp.Expr,
        symbols: list,
        extra_kinks: tuple = (),
        until: float | None = None,
        extra_peaks: tuple = (),
    ) -> None:
        self.expr = expr
        self.symbols = list(symbols)
        self.kinks = _unique(list(extra_kinks) + kink_expressions(expr))
        self.peaks = _unique(list(extra_peaks) + peak_expressions(expr))
        self.until = until
        self._compiled: dict = {}
        self._residual = mpmath_function(self.symbols, [expr])
        self._searches = 0  # |R| grid searches of variables (at most PEAK_SEARCHES, none once one was slow)
        self._param_searched: set = set()  # parameters whose |R| grid search is done
        self._slow = False  # one |R| search was slow: no more of them
        self.last_peaks: list[mpmath.mpf] = []  # the stationary points and |R| maxima the last call found
        self.last_kinks: list[mpmath.mpf] = []  # and the kinks (the centre of a square H(r - |x - a|) H(r - |y - b|))

    def _sources(self, s: sp.Symbol) -> tuple[Callable, int] | None:
        """One mpmath function of all symbols giving every kink source, then every d(peak source)/ds."""
        if s not in self._compiled:
            kinks = [k for k in self.kinks if s in k.free_symbols]
            peaks = [sp.diff(e, s) for e in self.peaks if s in e.free_symbols]
            peaks = [d for d in peaks if not d.is_number and s in d.free_symbols]
            exprs = kinks + peaks
            fn = mpmath_function(self.symbols, exprs) if exprs else None
            self._compiled[s] = (fn, len(kinks), len(exprs))
        return self._compiled[s]

    def _end(self, seconds: float) -> float:
        end = time.monotonic() + seconds
        return end if self.until is None else min(end, self.until)

    def __call__(self, s: sp.Symbol, iv: Interval1D, others: dict, *, parameter: bool = False) -> list[mpmath.mpf]:
        if self.until is not None and time.monotonic() >= self.until:
            return []
        try:
            grid = _grid(iv, others)
        except ValueError:
            return []
        fn, n_kinks, n_all = self._sources(s)
        out: list[mpmath.mpf] = []
        self.last_peaks = []
        self.last_kinks = []
        position = self.symbols.index(s) if s in self.symbols else None

        def args(t):
            return [t if sym == s else others.get(sym, mpmath.mpf("0.37")) for sym in self.symbols]

        end = self._end(PASS_SECONDS)
        if fn is not None and position is not None:
            with mpmath.workdps(15):
                table = []
                for t in grid:
                    row = _timed(fn, *args(t), end=end)
                    table.append([_real(v) for v in row] if row is not None else [None] * n_all)
            for j in range(n_all):

                def f(t, j=j):
                    row = _timed(fn, *args(t), end=end + EVAL_SECONDS * 40)
                    return mpmath.nan if row is None else row[j]

                for r in _sign_changes(f, grid, [row[j] for row in table]):
                    if j < n_kinks:
                        out.extend(_around(r, _KINK_OFFSETS))
                        self.last_kinks.append(r)
                    else:
                        out.append(r)
                        out.extend(_around(r, _PEAK_OFFSETS))
                        self.last_peaks.append(r)
        if position is not None and self._may_search(s, parameter):
            largest = self._largest(args, grid)
            out.extend(largest)
            self.last_peaks.extend(largest)
        return out

    def _may_search(self, s: sp.Symbol, parameter: bool) -> bool:
        """Whether |R| is searched on a grid of ``s`` now (and count the search)."""
        if self._slow or self.expr == 0:  # a finder of given kinks only: |0| has no peak
            return False
        if parameter:
            if s in self._param_searched or len(self._param_searched) >= PARAM_PEAK_SEARCHES:
                return False
            self._param_searched.add(s)
            return True
        if self._searches >= PEAK_SEARCHES:
            return False
        self._searches += 1
        return True

    def kink_roots(self, s: sp.Symbol, iv: Interval1D, others: dict) -> list[mpmath.mpf]:
        """The roots themselves of the kink sources in ``s`` (where quadrature must split its range)."""
        try:
            grid = _grid(iv, others)
        except ValueError:
            return []
        fn, n_kinks, n_all = self._sources(s)
        if fn is None or not n_kinks or s not in self.symbols:
            return []
        end = self._end(PASS_SECONDS)

        def args(t):
            return [t if sym == s else others.get(sym, mpmath.mpf("0.37")) for sym in self.symbols]

        with mpmath.workdps(15):
            table = []
            for t in grid:
                row = _timed(fn, *args(t), end=end)
                table.append([_real(v) for v in row] if row is not None else [None] * n_all)
        out = []
        for j in range(n_kinks):

            def f(t, j=j):
                row = _timed(fn, *args(t), end=end + EVAL_SECONDS * 40)
                return mpmath.nan if row is None else row[j]

            out.extend(_sign_changes(f, grid, [row[j] for row in table]))
        return sorted(set(out))

    def _largest(self, args: Callable, grid: list) -> list[mpmath.mpf]:
        """Where |R| is largest on the grid, refined by golden-section search (a bump of any shape)."""
        grid = [t for t in grid[::2] if abs(t) <= PEAK_RANGE]
        start = time.monotonic()
        end = self._end(PEAK_GRID_BUDGET * 4)
        vals = []
        with mpmath.workdps(15):
            for t in grid:
                got = _timed(self._residual, *args(t), end=end)
                v = None if got is None else abs(mpmath.mpmathify(got[0]))
                vals.append(v if v is not None and mpmath.isfinite(v) else None)
        if time.monotonic() - start > PEAK_GRID_BUDGET:
            self._slow = True  # an expensive residual: later draws skip this search
        peaks = [
            i
            for i in range(1, len(grid) - 1)
            if vals[i] is not None
            and vals[i] > 0
            and all(vals[k] is None or vals[i] >= vals[k] for k in (i - 1, i + 1))
        ]
        peaks.sort(key=lambda i: vals[i], reverse=True)
        out = []
        for i in peaks[:2]:
            out.append(self._golden(args, grid[i - 1], grid[i + 1]))
        return out

    def _golden(self, args: Callable, a: mpmath.mpf, b: mpmath.mpf) -> mpmath.mpf:
        end = self._end(PEAK_GRID_BUDGET)

        def size(t):
            got = _timed(self._residual, *args(t), end=end)
            v = None if got is None else abs(mpmath.mpmathify(got[0]))
            return v if v is not None and mpmath.isfinite(v) else mpmath.mpf(-1)

        with mpmath.workdps(20):
            g = (mpmath.sqrt(5) - 1) / 2
            c, d = b - g * (b - a), a + g * (b - a)
            fc, fd = size(c), size(d)
            for _ in range(20):
                if fc >= fd:
                    b, d, fd = d, c, fc
                    c = b - g * (b - a)
                    fc = size(c)
                else:
                    a, c, fc = c, d, fd
                    d = a + g * (b - a)
                    fd = size(d)
            return c if fc >= fd else d
