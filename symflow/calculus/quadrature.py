"""Quadrature helpers shared by the duality and divergence-theorem checks (and ``equivalence``).

1-D: mpmath tanh-sinh over the support, split at the center, +-6 robust
scales and kinks.  2-D: float64 tensor Gauss-Legendre on panels sized from
the density's sampler (mpmath 2-D quadrature takes minutes).
"""

from __future__ import annotations

from collections.abc import Callable

import mpmath
import numpy as np
import sympy as sp

from ..core.budget import BudgetExceeded, run_with_budget
from ..core.density import Density
from ..numeric.evaluate import mpmath_function

# 1-D quadrature runs at 30 digits and the numbers must agree to 20; a gap is confirmed at 20 digits.
# (50 digits costs about 3x more and buys nothing for deciding these identities.)
HIGH_DPS_1D = 30
LOW_DPS_1D = 20
AGREE_DIGITS_1D = 20
# 2-D uses float64 Gauss-Legendre (mpmath 2-D quadrature takes minutes); agreement to 1e-10.
AGREE_REL_2D = 1e-10


def _center_scale(p: Density, values: dict) -> tuple[np.ndarray, np.ndarray]:
    """Per-coordinate (median, robust scale) of p at these values, from its sampler (else 0, 1)."""
    floats = {k: float(v) for k, v in values.items()}
    if p.sampler is not None or p.reparam is not None:
        try:
            draws = p.sample(4000, floats, np.random.default_rng(11))
            q1, med, q3 = np.percentile(draws, [25, 50, 75], axis=0)
            return med, np.maximum((q3 - q1) / 1.35, 1e-6)
        except Exception:  # noqa: BLE001 - a hint only
            pass
    return np.zeros(p.dim), np.ones(p.dim)


def _quad_1d(p: Density, integrand: sp.Expr, values: dict, dps: int, hint: tuple, budget: float) -> mpmath.mpf | None:
    """mpmath tanh-sinh quadrature over p's support, split at the center, +-6 scales and kinks."""
    x = p.x[0]
    s = p.support_sets[0]
    expr = integrand.xreplace(values)
    if expr.free_symbols - {x}:
        return None
    # evaluate constant special-function subexpressions (polygamma(2, 23/10), ...) once, not at every node
    expr = sp.N(expr, dps + 10)
    center, scale = float(hint[0][0]), float(hint[1][0])

    def work() -> mpmath.mpf:
        with mpmath.workdps(dps):
            many = mpmath_function([x], expr)

            def fn(t):
                return many(t)[0]

            lo = None if s.inf == -sp.oo else mpmath.mpf(sp.Float(s.inf.xreplace(values), dps))
            hi = None if s.sup == sp.oo else mpmath.mpf(sp.Float(s.sup.xreplace(values), dps))
            inner = {mpmath.mpf(center + k * scale) for k in (-6, 0, 6)} | {mpmath.mpf(k) for k in _kinks(p, expr, {})}
            inner = sorted(t for t in inner if (lo is None or t > lo) and (hi is None or t < hi))
            pts = [mpmath.ninf if lo is None else lo, *inner, mpmath.inf if hi is None else hi]
            return mpmath.quad(fn, pts)

    try:
        return run_with_budget(work, timeout=budget, what="quadrature")
    except (BudgetExceeded, ZeroDivisionError, ValueError, TypeError):
        return None


def _kinks(p: Density, f: sp.Expr, values: dict) -> tuple:
    from ..zero.numeric import kink_expressions

    out = []
    for k in kink_expressions(f.xreplace(values)):
        if k.free_symbols == set(p.x):
            try:
                out.extend(float(r) for r in sp.Poly(k, *p.x).nroots() if r.is_real)
            except Exception:  # noqa: BLE001 - breakpoints are only a hint
                pass
    return tuple(out)


def _gauss_box(fn: Callable, edges: list[np.ndarray], order: int) -> float:
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


def _box_edges(p: Density, values: dict, density_fn: Callable) -> list[np.ndarray] | None:
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
