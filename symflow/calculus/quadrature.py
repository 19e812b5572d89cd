"""Numeric integration over a density's support: the one quadrature of symflow.

``numeric_integral`` integrates (or sums, for integer supports) an integrand
over p's support at given parameter values with mpmath at ``dps`` digits:
tanh-sinh quadrature in 1-D and 2-D, split at the density's center and at
multiples of its scale (from its sampler) and at every point where the
integrand may jump or kink (``kink_points``, the one kink finder); ``nsum``
for pmfs.  Constant subexpressions (special functions of the parameters) are
evaluated once, not at every node.  A tail that does not decay (a Cauchy
density times x) makes the integral divergent: None, never a number.

For 2-D identities that need many integrals, ``gauss_box`` integrates in
float64 with tensor Gauss-Legendre on panels sized by ``box_edges``
(mpmath 2-D quadrature takes minutes); its agreement tolerance is
``symflow.core.precision.FLOAT64_AGREE_REL``.
"""

from __future__ import annotations

from collections.abc import Callable

import mpmath
import numpy as np
import sympy as sp

from ..core.budget import BudgetExceeded, resolve_timeout, run_with_budget
from ..core.convert import at_values, exact_values
from ..core.density import Density
from ..core.precision import QUADRATURE
from ..numeric.evaluate import mpmath_function
from ..zero.numeric import kink_expressions

__all__ = ["box_edges", "center_scale", "gauss_box", "kink_points", "numeric_integral"]

# Multiples of the density's scale where the integration range is split.
_SPLITS = (-40, -12, -6, -4, -1, 0, 1, 4, 6, 12, 40)


def center_scale(p: Density, values: dict) -> tuple[np.ndarray, np.ndarray]:
    """Per-coordinate (median, robust scale) of p at these values, from its sampler (else 0 and 1)."""
    floats = {k: float(v) for k, v in values.items() if k in p.params}
    if p.sampler is not None or p.reparam is not None:
        try:
            draws = p.sample(4000, floats, np.random.default_rng(11))
            q1, med, q3 = np.percentile(draws, [25, 50, 75], axis=0)
            return med, np.maximum((q3 - q1) / 1.35, 1e-6)
        except Exception:  # noqa: BLE001 - a hint only
            pass
    return np.zeros(p.dim), np.ones(p.dim)


def kink_points(expr: sp.Expr, x: sp.Symbol) -> tuple[float, ...]:
    """Real points where ``expr``, a function of ``x`` alone, may jump or kink.

    The real roots of the arguments of Abs, sign, Heaviside, Max, Min, floor
    and the Piecewise conditions that are polynomials in x: quadrature must
    not straddle them.
    """
    out: list[float] = []
    for k in kink_expressions(expr):
        if k.free_symbols != {x} or not k.is_polynomial(x):
            continue
        try:
            out.extend(float(sp.re(r)) for r in sp.Poly(k, x).nroots() if abs(sp.im(r)) < 1e-12)
        except Exception:  # noqa: BLE001 - breakpoints are only a hint
            pass
    return tuple(out)


def _breakpoints(lo, hi, center: float, scale: float, kinks: tuple) -> list:
    pts = [center + k * scale for k in _SPLITS] + [float(k) for k in kinks]
    inner = sorted({mpmath.mpf(t) for t in pts if (lo is None or t > lo) and (hi is None or t < hi)})
    return [mpmath.ninf if lo is None else lo, *inner, mpmath.inf if hi is None else hi]


def numeric_integral(
    p: Density,
    integrand: sp.Expr,
    values: dict,
    *,
    dps: int = QUADRATURE.high,
    timeout: float | None = None,
    kinks: tuple = (),
) -> mpmath.mpf | None:
    """mpmath quadrature (or nsum) of ``integrand`` over p's support at parameter ``values``.

    1-D and 2-D only; returns None when out of budget, divergent, unsupported,
    or when the integrand still has symbols other than p's variables.
    """
    budget = resolve_timeout(timeout)
    values = exact_values(values)
    expr = at_values(integrand, values)
    if expr.free_symbols - set(p.x):
        return None
    # Constants (special functions of the parameters) once, at more digits than the quadrature uses.
    try:
        expr = sp.N(expr, dps + 10)
    except (ArithmeticError, ValueError, TypeError):  # 1e308 in an exponent: mpmath's integers overflow
        return None
    center, scale = center_scale(p, values) if not p.is_discrete else (np.zeros(p.dim), np.ones(p.dim))
    if p.dim == 1 and not p.is_discrete:
        kinks = tuple(kinks) + kink_points(expr, p.x[0])  # quadrature must not straddle a jump

    def work() -> mpmath.mpf:
        with mpmath.workdps(dps):
            many = mpmath_function(p.x, expr)

            def fn(*xs):
                return many(*xs)[0]

            bounds = []
            for s in p.support_sets:
                lo = None if s.inf == -sp.oo else mpmath.mpf(sp.Float(sp.N(s.inf.xreplace(values), dps), dps))
                hi = None if s.sup == sp.oo else mpmath.mpf(sp.Float(sp.N(s.sup.xreplace(values), dps), dps))
                bounds.append((lo, hi))
            hint = (float(center[0]), float(scale[0]))
            if p.is_discrete:
                if p.dim != 1:
                    raise NotImplementedError
                if _tail_diverges(fn, bounds[0], hint, True):
                    raise _Divergent
                lo, hi = bounds[0]
                return mpmath.nsum(fn, [lo if lo is not None else mpmath.ninf, hi if hi is not None else mpmath.inf])
            if p.dim == 1 and _tail_diverges(fn, bounds[0], hint, False):
                raise _Divergent
            pts = [
                _breakpoints(lo, hi, float(c), float(s), kinks if p.dim == 1 else ())
                for (lo, hi), c, s in zip(bounds, center, scale, strict=True)
            ]
            if p.dim == 1:
                return mpmath.quad(fn, pts[0])
            if p.dim == 2:
                return mpmath.quad(fn, pts[0], pts[1])
            raise NotImplementedError

    try:
        return run_with_budget(work, timeout=budget, what="quadrature")
    except (BudgetExceeded, NotImplementedError, ArithmeticError, ValueError, TypeError):
        return None


class _Divergent(ArithmeticError):
    """The integrand does not decay fast enough for the integral to exist."""


# Multiples of the density's scale where the tail is probed, and how much |t f(t)|
# must fall between them (a decay faster than |t|**-1.25 over 12 decades).
_TAIL_NEAR = (1e3, 2e3, 5e3)
_TAIL_FAR = (1e15, 2e15, 5e15)
_TAIL_DROP = mpmath.mpf("1e-3")


def _tail_diverges(fn: Callable, bounds: tuple, hint: tuple[float, float], discrete: bool) -> bool:
    """Whether |t f(t)| fails to decay towards an infinite end of a 1-D support.

    An absolutely integrable f must have t f(t) -> 0 (in a regular tail);
    quadrature of a Cauchy density times x (t f -> 1/pi) returns a
    principal-value-like number instead of failing, and of x**2 a huge one.
    Functions that cannot be evaluated that far out are not judged.
    """
    lo, hi = bounds
    center, scale = hint

    def size(offsets, sign):
        ts = [mpmath.mpf(center) + sign * mpmath.mpf(k) * mpmath.mpf(scale) for k in offsets]
        if discrete:
            ts = [mpmath.floor(t) for t in ts]
        return max(abs((t - center) * mpmath.mpmathify(fn(t))) for t in ts)

    for end, sign in ((hi, 1), (lo, -1)):
        if end is not None:
            continue
        try:
            near, far = size(_TAIL_NEAR, sign), size(_TAIL_FAR, sign)
        except (ArithmeticError, ValueError, TypeError):
            continue
        if not mpmath.isfinite(far) or far > _TAIL_DROP * near:
            return True
    return False


def gauss_box(fn: Callable, edges: list[np.ndarray], order: int) -> float:
    """Tensor Gauss-Legendre over a 2-D grid of panels (``edges`` per axis)."""
    t, w = np.polynomial.legendre.leggauss(order)
    axes = []
    for e in edges:
        lo, hi = e[:-1, None], e[1:, None]
        nodes = ((hi - lo) / 2 * t + (hi + lo) / 2).ravel()
        weights = ((hi - lo) / 2 * w).ravel()
        axes.append((nodes, weights))
    (x1, w1), (x2, w2) = axes
    X1, X2 = np.meshgrid(x1, x2, indexing="ij")
    vals = np.broadcast_to(np.asarray(fn(X1, X2), dtype=float), X1.shape)
    return float(w1 @ vals @ w2)


def box_edges(p: Density, values: dict, density_fn: Callable) -> list[np.ndarray] | None:
    """Panel edges per axis: center +- k scales, with k grown until p is negligible on the box's rim."""
    floats = {k: float(v) for k, v in values.items()}
    if p.sampler is None and p.reparam is None:
        return None
    draws = p.sample(4000, floats, np.random.default_rng(11))
    centers = np.median(draws, axis=0)
    q1, q3 = np.percentile(draws, [25, 75], axis=0)
    scales = np.maximum((q3 - q1) / 1.35, 1e-6)
    grid = np.linspace(-1, 1, 201)
    peak = None
    for k in (8, 16, 32, 64, 128):
        half = k * scales
        lo, hi = centers - half, centers + half
        g1, g2 = lo[0] + (grid + 1) * half[0], lo[1] + (grid + 1) * half[1]
        inner = np.abs(density_fn(*np.meshgrid(g1, g2, indexing="ij")))
        peak = float(np.max(inner)) if peak is None else max(peak, float(np.max(inner)))
        rim = max(float(np.max(np.abs(density_fn(np.full_like(g2, v), g2)))) for v in (lo[0], hi[0])) + max(
            float(np.max(np.abs(density_fn(g1, np.full_like(g1, v))))) for v in (lo[1], hi[1])
        )
        if rim <= 1e-20 * peak:
            fr = np.array([-1, -0.5, -0.2, -0.08, -0.03, 0, 0.03, 0.08, 0.2, 0.5, 1.0])
            return [centers[i] + fr * half[i] for i in range(2)]
    return None
