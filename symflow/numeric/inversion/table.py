"""The mass table: a density's CDF on a mesh that resolves its mass, to about 1e-13 (steps 1 and 2 of the package)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...errors import SymflowError

__all__ = ["CdfTable", "cdf_table"]


_FIX = "give sampler=... (a function (n, params, rng) -> (n, 1) array) to the Density instead"


def _rule(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes s and weights w on [0, 1] after x = 3t^2 - 2t^3 (dx = 6t(1 - t) dt)."""
    g, w = np.polynomial.legendre.leggauss(n)
    t = (g + 1) / 2
    return t * t * (3 - 2 * t), w / 2 * 6 * t * (1 - t)


_S20, _W20 = _rule(20)
_S10, _W10 = _rule(10)
_S_BOTH = np.concatenate([_S20, _S10])  # both rules in one pdf call
_DECADES = 10.0 ** (np.arange(-1600, 1201) / 100)  # probe offsets 1e-16 ... 1e12
_CELL_TOL = 1e-15  # |G20 - G10| per cell, relative to the total mass
_EDGE_ULPS = 2.0**20  # stop halving towards a finite edge this many float steps away from it


def _values(pdf: Callable, x: np.ndarray) -> np.ndarray:
    """pdf(x) as float64 of x's shape; refuses non-vectorized or negative densities."""
    try:
        with np.errstate(all="ignore"):
            v = np.asarray(pdf(x), dtype=float)
    except (TypeError, ValueError, ArithmeticError) as e:
        raise SymflowError(f"pdf(x) raised {e!r}; the pdf must take a float64 array and return an array") from e
    if v.shape != x.shape:
        try:
            v = np.broadcast_to(v, x.shape)  # a constant density lambdifies to a scalar
        except ValueError:
            raise SymflowError(
                f"pdf(x) returned shape {v.shape} for x of shape {x.shape}; the pdf must be vectorized "
                "(take an array, return an array of the same shape)"
            ) from None
    negative = v < 0
    if negative.any():
        i = int(np.argmax(negative))
        raise SymflowError(
            f"the density is negative at x = {float(x.flat[i]):.6g} (value {float(v.flat[i]):.3g}); a density must "
            "be >= 0 on (lo, hi): check the expression, or give a support where it is >= 0"
        )
    return v


def _masses(pdf: Callable, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mass of each cell [a_i, b_i] by the 20-point rule, and |G20 - G10| (inf where a value is not finite)."""
    if a.size == 0:
        return np.zeros(0), np.zeros(0)
    h = b - a
    x = a[:, None] + h[:, None] * _S_BOTH[None, :]
    v = _values(pdf, x.ravel()).reshape(x.shape)
    finite = np.isfinite(v)
    v = np.where(finite, v, 0.0)
    m20 = h * (v[:, :20] @ _W20)
    m10 = h * (v[:, 20:] @ _W10)
    return m20, np.where(finite.all(axis=1), np.abs(m20 - m10), np.inf)


def _refine(pdf: Callable, a: np.ndarray, b: np.ndarray, tol: float, max_rounds: int = 200):
    """Bisect cells until |G20 - G10| <= tol (or the cell is a few float steps wide); sorted (a, b, mass)."""
    keep_a, keep_b, keep_m = [], [], []
    for _ in range(max_rounds):
        m, err = _masses(pdf, a, b)
        tiny = (b - a) <= 64 * np.spacing(np.maximum(np.abs(a), np.abs(b)))
        ok = (err <= tol) | tiny
        keep_a.append(a[ok])
        keep_b.append(b[ok])
        keep_m.append(m[ok])
        if ok.all():
            break
        mid = 0.5 * (a[~ok] + b[~ok])
        a, b = np.concatenate([a[~ok], mid]), np.concatenate([mid, b[~ok]])
    else:
        x = float(a[np.argmax(b - a)])
        raise SymflowError(
            f"the mass of the density near x = {x:.6g} could not be resolved (the quadrature rules disagree "
            f"after {max_rounds} bisections): the density may not be integrable there (a pole) or be too rough; " + _FIX
        )
    a, b, m = np.concatenate(keep_a), np.concatenate(keep_b), np.concatenate(keep_m)
    order = np.argsort(a)
    return a[order], b[order], m[order]


def _probe(lo: float, hi: float, around: float | None) -> np.ndarray:
    """Points spanning (lo, hi): log-spaced from a finite edge, from 0, or around ``around``."""
    if around is not None:
        s = max(1.0, abs(around))
        pts = np.concatenate([around - s * _DECADES, [around], around + s * _DECADES])
    elif np.isfinite(lo) and np.isfinite(hi):
        w = hi - lo
        t = np.concatenate([10.0 ** np.linspace(-15, np.log10(0.5), 400), np.linspace(0, 1, 1001)])
        pts = np.concatenate([lo + w * t, hi - w * t])
    elif np.isfinite(lo):
        pts = lo + max(1.0, abs(lo)) * _DECADES
    elif np.isfinite(hi):
        pts = hi - max(1.0, abs(hi)) * _DECADES
    else:
        pts = np.concatenate([-_DECADES, [0.0], _DECADES])
    pts = np.unique(pts[np.isfinite(pts)])
    return pts[(pts > lo) & (pts < hi)]


def _ratio_remainder(m: list[float]) -> tuple[float, float]:
    """(r, mass left) after shells with masses m whose ratio tends to r: m_k r / (1 - r)."""
    if len(m) >= 2 and m[-1] == 0 and m[-2] == 0:
        return 0.25, 0.0
    if len(m) < 3 or m[-2] <= 0 or m[-3] <= 0:
        return 1.0, np.inf
    r = max(m[-1] / m[-2], m[-2] / m[-3])  # the larger of the last two ratios: conservative
    return (r, m[-1] * r / (1 - r)) if r < 0.95 else (r, np.inf)


def _tail(pdf: Callable, center: float, start: float, tol: float) -> tuple[list[float], float]:
    """Knots beyond ``start`` away from ``center`` (distance doubling) and the mass left beyond the last."""
    sign = 1.0 if start > center else -1.0
    d, knots, m = abs(start - center), [], []
    while True:
        d *= 2
        x_next = center + sign * d
        if not np.isfinite(x_next) or d > 1e300:
            raise SymflowError(
                "the density is not integrable on (lo, hi), or its tail is too heavy to truncate in float64: "
                f"the mass beyond |x| = {abs(knots[-1]) if knots else d:.3g} does not shrink geometrically; "
                "check the expression and the support, or " + _FIX
            )
        prev = knots[-1] if knots else start
        cell = (np.array([min(prev, x_next)]), np.array([max(prev, x_next)]))
        mass, err = _masses(pdf, *cell)
        if not np.isfinite(err[0]):
            raise SymflowError(f"the density is not finite (nan or inf) near x = {x_next:.6g} in its tail; " + _FIX)
        knots.append(x_next)
        m.append(float(mass[0]))
        r, left = _ratio_remainder(m)
        if left <= tol:
            return knots, left


def _edge(pdf: Callable, edge: float, inner: float, tol: float) -> tuple[list[float], float, float]:
    """Knots from ``inner`` towards the finite ``edge`` (distance halving), the last cell's mass and gamma."""
    sign = 1.0 if inner > edge else -1.0
    limit = _EDGE_ULPS * np.spacing(abs(edge)) if edge != 0 else 0.0
    d, knots, m = abs(inner - edge), [], []
    while True:
        x_next = edge + sign * d / 2
        last = d / 2 <= limit or x_next == edge or x_next == edge + sign * d
        if not last:
            prev = knots[-1] if knots else inner
            mass, err = _masses(pdf, np.array([min(prev, x_next)]), np.array([max(prev, x_next)]))
            if not np.isfinite(err[0]):
                raise SymflowError(
                    f"the density is not finite (nan or inf) at x = {x_next:.6g} near the edge {edge}: it is not "
                    "integrable there, or too singular to sample in float64; check the expression or " + _FIX
                )
            knots.append(x_next)
            m.append(float(mass[0]))
            d /= 2
        r, left = _ratio_remainder(m)
        if left <= tol or last:
            if not np.isfinite(left):
                raise SymflowError(
                    f"the density is not integrable on (lo, hi) near the edge x = {edge}: the mass near the edge "
                    "does not shrink geometrically (e.g. 1/x at 0); check the expression and the support, or " + _FIX
                )
            return knots, left, -np.log2(r)


@dataclass(frozen=True, eq=False)
class CdfTable:
    """The CDF of a density on a mesh: knots ``xs`` and F(xs), with the normalizer ``z``.

    Cells are regular (F inside by quadrature) except the first/last cell at a
    finite edge whose mass was extrapolated (``gamma`` holds its power law).
    """

    pdf: Callable
    xs: np.ndarray
    fs: np.ndarray
    gamma: np.ndarray  # per cell: nan for regular cells, the power of F - F(edge) in an edge cell
    z: float
    center: float

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """F(x) to about 1e-13: the knot value plus the 20-point rule over the rest of the cell."""
        x = np.asarray(x, dtype=float)
        flat = x.ravel()
        i = np.clip(np.searchsorted(self.xs, flat, side="right") - 1, 0, len(self.xs) - 2)
        a, b = self.xs[i], self.xs[i + 1]
        inside = (flat > a) & (flat < b)
        out = np.where(flat <= self.xs[0], 0.0, np.where(flat >= self.xs[-1], 1.0, self.fs[i]))
        g = self.gamma[i]
        regular = inside & np.isnan(g)
        out[regular] += _masses(self.pdf, a[regular], flat[regular])[0] / self.z
        for side in (0, -1):  # power-law edge cells
            k = 0 if side == 0 else len(self.gamma) - 1
            sel = inside & (i == k) & ~np.isnan(g)
            if sel.any():
                lo_k, hi_k, f0, f1 = self.xs[k], self.xs[k + 1], self.fs[k], self.fs[k + 1]
                if side == 0:
                    out[sel] = f0 + (f1 - f0) * ((flat[sel] - lo_k) / (hi_k - lo_k)) ** g[sel]
                else:
                    out[sel] = f1 - (f1 - f0) * ((hi_k - flat[sel]) / (hi_k - lo_k)) ** g[sel]
        return out.reshape(x.shape)


def cdf_table(pdf: Callable, lo: float, hi: float, *, center: float | None = None, tail: float = 1e-13) -> CdfTable:
    """Build the mass table of ``pdf`` on (lo, hi) (steps 1 and 2 of the module docstring).

    Parameters
    ----------
    pdf : callable
        ``pdf(x: ndarray) -> ndarray``, vectorized float64, >= 0, possibly unnormalized.
    lo, hi : float
        The support; either end may be infinite.
    center : float, optional
        A point where the pdf is positive; found by probing when omitted.
    tail : float
        The mass (relative to the total) allowed beyond an infinite end.
    """
    lo, hi = float(lo), float(hi)
    if np.isnan(lo) or np.isnan(hi) or not lo < hi:
        raise SymflowError(f"the support (lo, hi) = ({lo}, {hi}) is empty or nan; give lo < hi")
    pts = _probe(lo, hi, None)
    if center is not None:
        center = float(center)
        if not lo < center < hi:
            raise SymflowError(f"center = {center} is outside the support ({lo}, {hi}); give a point inside it")
        pts = np.union1d(pts, _probe(lo, hi, center))
    v = _values(pdf, pts)
    if center is None:
        usable = np.isfinite(v)
        if not (usable & (v > 0)).any():
            raise SymflowError(
                f"the density is 0 (or not finite) at all {pts.size} probe points in ({lo}, {hi}); "
                "give center= a point where it is positive, or check the expression"
            )
        center = float(pts[usable][np.argmax(v[usable])])
        extra = _probe(lo, hi, center)
        pts, v = np.concatenate([pts, extra]), np.concatenate([v, _values(pdf, extra)])
        order = np.argsort(pts)
        pts, v = pts[order], v[order]
    c_val = _values(pdf, np.array([center]))[0]
    if not (np.isfinite(c_val) and c_val > 0):
        raise SymflowError(
            f"the density at center = {center} is {c_val}; give a center where it is positive and finite"
        )
    # nan beyond the outermost positive values is the overflow of a tail (inf * 0): cut the support there
    bad = np.isnan(v) | (v == -np.inf)
    positive = np.flatnonzero(v > 0)
    if bad.any():
        first, last = pts[positive[0]], pts[positive[-1]]
        inner_bad = bad & (pts > first) & (pts < last)
        if inner_bad.any():
            raise SymflowError(
                f"the density is nan at x = {pts[np.argmax(inner_bad)]:.6g} inside its support; fix the expression "
                "(e.g. avoid inf*0 or 0/0 there) or " + _FIX
            )
        vmax = np.max(v[np.isfinite(v)])
        below, above = pts[bad & (pts < first)], pts[bad & (pts > last)]
        for cut, near in ((below, first), (above, last)):
            if cut.size and v[pts == near][0] > 1e-30 * vmax:
                raise SymflowError(f"the density is nan at x = {cut[0]:.6g} where its mass has not died out; " + _FIX)
        finite_pts = pts[~bad]
        if below.size:
            lo = float(finite_pts[finite_pts > below.max()].min())
        if above.size:
            hi = float(finite_pts[finite_pts < above.min()].max())
        keep = (pts > lo) & (pts < hi) & ~bad
        pts = pts[keep]
    # probe points too close to a finite edge would leave no room for the shells that measure its power law
    lo_cut = lo + 64 * _EDGE_ULPS * np.spacing(abs(lo)) if np.isfinite(lo) and lo != 0 else lo
    hi_cut = hi - 64 * _EDGE_ULPS * np.spacing(abs(hi)) if np.isfinite(hi) and hi != 0 else hi
    pts = pts[(pts > lo_cut) & (pts < hi_cut)]
    if pts.size < 2:
        raise SymflowError(f"the support ({lo}, {hi}) is too narrow to resolve in float64; " + _FIX)
    z_est = float(np.sum(_masses(pdf, pts[:-1], pts[1:])[0]))
    if not (np.isfinite(z_est) and z_est > 0):
        raise SymflowError(f"the density is not integrable on ({lo}, {hi}) (mass estimate {z_est}); " + _FIX)
    tol = tail * z_est
    knots = [pts]
    left_lo = left_hi = 0.0
    edge_cells = []  # (a, b, mass, gamma) for the power-law cells at finite edges
    for end, inner in ((lo, pts[0]), (hi, pts[-1])):
        if np.isfinite(end):
            ks, mass, gamma = _edge(pdf, end, inner, tol)
            last = ks[-1] if ks else inner
            edge_cells.append((min(end, last), max(end, last), mass, gamma))
        else:
            ks, mass = _tail(pdf, center, inner, tol)
            if end < 0:
                left_lo = mass
            else:
                left_hi = mass
        knots.append(np.asarray(ks, dtype=float))
    xs = np.unique(np.concatenate(knots))
    a, b, m = _refine(pdf, xs[:-1], xs[1:], _CELL_TOL * z_est)
    gam = np.full(a.size, np.nan)
    for ea, eb, em, eg in edge_cells:
        pos = 0 if ea == lo else a.size
        a, b, m = np.insert(a, pos, ea), np.insert(b, pos, eb), np.insert(m, pos, em)
        gam = np.insert(gam, pos, eg)
    cum = left_lo + np.cumsum(m)
    z = float(cum[-1] + left_hi)  # from the same running sum as F, so F reaches 1 - left_hi/z exactly
    if not (np.isfinite(z) and z > 0):
        raise SymflowError(f"the density is not integrable on ({lo}, {hi}) (mass {z}); " + _FIX)
    fs = np.concatenate([[left_lo], cum]) / z
    fs[-1] = 1.0 - left_hi / z
    return CdfTable(pdf, np.concatenate([a, b[-1:]]), fs, gam, z, float(center))
