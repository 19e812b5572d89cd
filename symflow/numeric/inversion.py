r"""Sampling any 1-D density by numeric inversion of its CDF: x = F^{-1}(u), u ~ U(0, 1).

``inverse_cdf_sampler(pdf, lo, hi)`` turns a vectorized, possibly unnormalized
density on (lo, hi) into an ``InverseSampler``; build one per parameter value.
It works in three steps.

1. **Probe.** The pdf is evaluated on 5,000-11,000 points spanning the support
   (offsets 10^k, k in [-16, 12] in steps of 0.01, from 0 for an infinite support,
   from each finite edge, and again around the largest value found).  This
   finds a center, refuses negative values, treats nan beyond the outermost
   positive values as the overflow of a tail (the support is cut there), and
   seeds the mesh.
2. **Mass table** (``cdf_table``).  Each mesh cell's mass by Gauss-Legendre rules
   of orders 20 and 10 after the substitution x = a + (b - a)(3t^2 - 2t^3), which
   turns x^{-1/2} edge singularities into analytic integrands; cells are bisected
   until the two rules agree to 1e-15 of the total.  From each end of the mesh,
   geometric shells follow the mass: doubling their distance from the center
   towards an infinite end, halving their distance to a finite edge.  A shell
   sequence stops when the mass left, m r/(1 - r) with r the ratio of the last
   two shell masses, is below 1e-3 u_resolution; at a finite edge the mass left
   becomes a last cell in which F - F(edge) is a power law |x - edge|^gamma with
   gamma = -log2 r (exact for x^{a} edge behaviour, so Beta(1/2, 1/2) is
   resolved down to its edges without evaluating the pdf at them).
3. **Inverse.**  scipy's PINV (``NumericalInversePolynomial``, Derflinger,
   Hörmann & Leydold 2010) on the table's domain; when it refuses (poles at the
   edges, modes separated by a region of zero density) or misses the tolerance
   measured against the table, our own route (``method="table"``): monotone cubic
   Hermite interpolation of x(u) with the exact slopes dx/du = Z/p(x)
   (Fritsch-Carlson limited), each cell split at its midpoint in u until the
   u-error at t = 1/4, 1/2, 3/4 of the cell is below u_resolution/2, found at
   sampling time through a guide table.

   PINV calls the pdf one point at a time, 7,000-20,000 times a build: with a pdf
   costing 100 us a call (a lambdified Piecewise) its build took 2.6 s where the
   vectorized table route took 0.1 s.  The table route samples 1.5-2x slower than
   PINV (about 60-100 ms against 40-70 ms per 10^6 draws) and reaches about half
   its u-error; ``from_stats`` uses it.

The u-error max |F(ppf(u)) - u| is then measured against the mass table on
about 5000 values of u (the midpoints of the Hermite cells, a stratified
sample, and 10^-15 ... 10^-2 from both ends) and stored as ``u_error``.  Near a
singular edge one float64 step of x can hold more probability than the
tolerance (the last step below 1 holds 9.4e-9 of Beta(1/2, 1/2)); that part,
which no float64 sampler can avoid, is stored as ``u_floor`` and not counted
against the tolerance.

``inverse_pmf_sampler(pmf, lo, hi)`` is the discrete counterpart: cumulative
sums up to a tail mass below 1e-14, then ``searchsorted``.

Known limits: a feature narrower than the probe spacing (about 2.3 % of its
distance from the probe origin) where the pdf underflows to 0 at every probe
point can be missed (give ``center=``); an interior pole is resolved only to the
float64 spacing around it (|x - 0.37|^{-1/2}: u-error 3.4e-9); a tail heavier than
x^{-1-a} with a below about 0.045 cannot be truncated inside the float64 range and
is refused; a strong edge singularity puts more than u_resolution into the float64
steps next to the edge (Beta(0.1, 0.2): 2e-4 in the last step below 1), which is
reported as ``u_floor``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from ..errors import SymflowError

__all__ = [
    "CdfTable",
    "ExprFunction",
    "InversePmfSampler",
    "InverseSampler",
    "cdf_table",
    "inverse_cdf_sampler",
    "inverse_pmf_sampler",
]

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


class _ScalarPdf:
    """The ``dist`` object PINV wants: ``pdf(x)`` of one float (picklable when the pdf is).

    Lean on purpose: PINV calls it 7,000-20,000 times per build, and the checks of
    ``_values`` (about 10 us a call) made builds 10x slower; PINV refuses negative
    or nan values itself, and the mass table has already checked the pdf.
    """

    def __init__(self, pdf: Callable) -> None:
        self.f = pdf

    def pdf(self, x: float) -> float:
        return float(np.asarray(self.f(np.array((x,)))).reshape(-1)[0])


def _pinv(pdf: Callable, table: CdfTable, u_resolution: float):
    """scipy's PINV on the table's domain, or None when it refuses (any UNU.RAN warning counts)."""
    from scipy.stats.sampling import NumericalInversePolynomial  # scipy.stats is slow to import

    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("error")
            return NumericalInversePolynomial(
                _ScalarPdf(pdf),
                center=table.center,
                domain=(float(table.xs[0]), float(table.xs[-1])),
                u_resolution=u_resolution,
            )
    except Exception:  # noqa: BLE001 - UNURANError, RuntimeWarning, or a failing pdf: all mean "use the table"
        return None


def _on_cells(rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """x(u) on the given cell rows (u0, 1/du, x0, c1, c2, c3, x1), one row per u."""
    u0, inv_du, x0, c1, c2, c3, x1 = rows.T
    t = np.clip((u - u0) * inv_du, 0.0, 1.0)
    return np.minimum(x0 + t * (c1 + t * (c2 + t * c3)), x1)


def _coefficients(x0, x1, u0, u1, a, b) -> np.ndarray:
    """Rows (u0, 1/du, x0, c1, c2, c3, x1) of x = x0 + c1 t + c2 t^2 + c3 t^3, t = (u - u0)/du.

    With slopes written as multiples a, b of the secant (Hermite basis h01 + a h10 + b h11),
    x = x0 + dx (a t + (3 - 2a - b) t^2 + (a + b - 2) t^3); a and b are Fritsch-Carlson
    limited (a^2 + b^2 <= 9), which keeps every cubic monotone.
    """
    a = np.where(np.isfinite(a), a, 3.0)
    b = np.where(np.isfinite(b), b, 3.0)
    norm = np.hypot(a, b)
    scale = np.where(norm > 3, 3 / np.maximum(norm, 3), 1.0)
    a, b, dx = a * scale, b * scale, x1 - x0
    return np.column_stack([u0, 1 / (u1 - u0), x0, dx * a, dx * (3 - 2 * a - b), dx * (a + b - 2), x1])


@dataclass(frozen=True, eq=False)
class _HermiteInverse:
    """x(u) by cells of monotone cubics, found through a guide table (Chen & Asau 1974).

    ``guide[j]`` is the cell holding u = j/K; with K = 4 x cells a draw walks about
    0.25 cells from there, which took 30 ms per 10^6 draws against 156 ms for
    ``searchsorted`` over 10^4 cells (random access misses the cache).
    """

    cols: tuple[np.ndarray, ...]  # u0, 1/du, x0, c1, c2, c3, x1, each contiguous
    guide: np.ndarray
    edges: tuple[tuple[int, float, bool], ...]  # power-law edge cells: (index, gamma, at the lower edge)

    @classmethod
    def of(cls, rows: np.ndarray, edges: tuple) -> _HermiteInverse:
        k = 4 * rows.shape[0]
        guide = np.searchsorted(rows[1:, 0], np.arange(k) / k, side="right")
        return cls(tuple(np.ascontiguousarray(rows[:, j]) for j in range(7)), guide, edges)

    def __call__(self, u: np.ndarray) -> np.ndarray:
        u0, inv_du, x0, c1, c2, c3, x1 = self.cols
        k, last = self.guide.size, u0.size - 1
        i = self.guide[np.clip((u * k).astype(np.intp), 0, k - 1)]
        for _ in range(4):  # walk to the cell holding u
            move = (i < last) & (u >= u0.take(np.minimum(i + 1, last)))
            if not move.any():
                break
            i = i + move
        else:
            rest = np.flatnonzero((i < last) & (u >= u0.take(np.minimum(i + 1, last))))
            i[rest] = np.searchsorted(u0[1:], u[rest], side="right")
        t = (u - u0.take(i)) * inv_du.take(i)
        np.clip(t, 0.0, 1.0, out=t)
        x = c3.take(i) * t
        x += c2.take(i)
        x *= t
        x += c1.take(i)
        x *= t
        x += x0.take(i)
        np.minimum(x, x1.take(i), out=x)
        for cell, gamma, lower in self.edges:  # F - F(edge) ~ |x - edge|^gamma there, inverted exactly
            sel = i == cell
            if sel.any():
                w = x1[cell] - x0[cell]
                x[sel] = x0[cell] + w * t[sel] ** (1 / gamma) if lower else x1[cell] - w * (1 - t[sel]) ** (1 / gamma)
        return x

    def midpoints(self) -> np.ndarray:
        return self.cols[0] + 0.5 / self.cols[1]


class InverseSampler:
    r"""x = F^{-1}(u) for a 1-D density, built by ``inverse_cdf_sampler``.

    Attributes
    ----------
    method : str
        ``"pinv"`` (scipy's PINV) or ``"table"`` (monotone Hermite interpolation of x(u)).
    u_error : float
        The largest |F(ppf(u)) - u| measured at build on about 5000 values of u, less ``u_floor``.
    u_floor : float
        The largest probability one float64 step of x next to ppf(u) holds, at the u where the
        error exceeded u_resolution/4: the part of the error no float64 sampler can avoid.
    build_seconds : float
        Wall time of the build.
    table : CdfTable
        The CDF on a mesh (``cdf`` uses it).
    """

    def __init__(self, pdf: Callable, table: CdfTable, u_resolution: float, method: str) -> None:
        self.pdf, self.table, self.u_resolution = pdf, table, float(u_resolution)
        self.method, self._gen, self._inverse = method, None, None
        self.u_error = self.u_floor = np.nan
        self.build_seconds = 0.0

    def _build(self) -> None:
        if self.method == "pinv":
            self._gen = _pinv(self.pdf, self.table, self.u_resolution)
            if self._gen is None:
                raise SymflowError("scipy's PINV refused this density; use method='table'")
        else:
            self._inverse = _hermite_cells(self.table, self.u_resolution / 2)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """x(u), the approximate inverse of the CDF."""
        u = np.asarray(u, dtype=float)
        if self._gen is None and self._inverse is None:
            self._build()  # after unpickling
        if self.method == "pinv":
            return np.asarray(self._gen.ppf(u), dtype=float).reshape(u.shape)
        return self._inverse(u.ravel()).reshape(u.shape)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws as an (n,) array (one uniform from ``rng`` per draw, whichever the method)."""
        return self.ppf(rng.random(int(n)))

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """F(x) from the mass table (to about 1e-13), not from the inverse's approximation."""
        return self.table.cdf(x)

    # pickling: a PINV generator is rebuilt on first use (the table is kept)
    def __getstate__(self) -> dict:
        return {**self.__dict__, "_gen": None}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        t = self.table
        return (
            f"InverseSampler(method={self.method!r}, support=({t.xs[0]:.4g}, {t.xs[-1]:.4g}), "
            f"u_error={self.u_error:.2g}, u_floor={self.u_floor:.2g}, cells={t.xs.size - 1})"
        )


def _hermite_cells(table: CdfTable, tol: float, max_rounds: int = 60) -> _HermiteInverse:
    """Hermite cells (see ``_coefficients``) split at their u-midpoint until the error is <= tol.

    The error is checked at t = 1/4, 1/2, 3/4 (a limited cubic's error need not peak at
    the midpoint).  The slope ratios are a = (mean pdf over the cell)/p(x0) and
    b = (mean)/p(x1): dx/du = Z/p(x) divided by the secant.  A cell whose error did not
    halve in 4 splits running is kept as it is: near a singular edge the pdf of a
    rounded x is noisy and no split helps (its error shows in the measured u_error).
    """
    xs, fs, gam, z = table.xs, table.fs, table.gamma, table.z
    p = _values(table.pdf, xs)
    pos = fs[1:] > fs[:-1]
    x0, x1, u0, u1, p0, p1, g = xs[:-1][pos], xs[1:][pos], fs[:-1][pos], fs[1:][pos], p[:-1][pos], p[1:][pos], gam[pos]
    prev, stall = np.full(x0.size, np.inf), np.zeros(x0.size, int)
    done = []
    t3 = np.array([0.5, 0.25, 0.75])
    with np.errstate(all="ignore"):  # p = 0 or inf gives a = inf or 0, handled in _coefficients
        for _ in range(max_rounds):
            mean = (u1 - u0) * z / (x1 - x0)
            cells = _coefficients(x0, x1, u0, u1, mean / p0, mean / p1)
            check = np.flatnonzero(np.isnan(g) & (u1 - u0 > tol))
            ut = u0[check, None] + t3 * (u1 - u0)[check, None]
            xt = _on_cells(np.repeat(cells[check], 3, axis=0), ut.ravel()).reshape(-1, 3)
            xc0, xc1 = x0[check, None], x1[check, None]
            xt = np.where((xt > xc0) & (xt < xc1), xt, xc0 + t3 * (xc1 - xc0))
            ft = u0[check, None] + _masses(table.pdf, np.repeat(x0[check], 3), xt.ravel())[0].reshape(-1, 3) / z
            err = np.zeros(x0.size)
            err[check] = np.abs(ft - ut).max(axis=1)
            stall = np.where(err > 0.5 * prev, stall + 1, 0)
            bad = (err > tol) & (stall < 4)
            done.append(np.column_stack([cells[~bad], g[~bad]]))
            if not bad.any():
                break
            sel = bad[check]
            xm, fm = xt[sel, 0], np.clip(ft[sel, 0], u0[bad], u1[bad])
            pm = _values(table.pdf, xm)
            x0, x1 = np.concatenate([x0[bad], xm]), np.concatenate([xm, x1[bad]])
            u0, u1 = np.concatenate([u0[bad], fm]), np.concatenate([fm, u1[bad]])
            p0, p1 = np.concatenate([p0[bad], pm]), np.concatenate([pm, p1[bad]])
            g = np.concatenate([g[bad], g[bad]])
            prev, stall = np.tile(err[bad], 2), np.tile(stall[bad], 2)
    out = np.concatenate(done)
    out = out[np.argsort(out[:, 0], kind="stable")]
    out = out[np.isfinite(out[:, 1])]  # drop cells that a split left without mass
    last = out.shape[0] - 1
    edges = tuple((k, float(out[k, 7]), k == 0) for k in sorted({0, last}) if not np.isnan(out[k, 7]))
    return _HermiteInverse.of(out[:, :7], edges)


def _measure(sampler: InverseSampler, rng_seed: int = 0) -> tuple[float, float]:
    """(max |F(ppf(u)) - u| beyond the float64 floor, the floor) on ~5000 u (see the module docstring)."""
    ends = 10.0 ** np.linspace(-15, -2, 53)
    strat = (np.arange(4000) + np.random.default_rng(rng_seed).random(4000)) / 4000
    u = np.concatenate([ends, 1 - ends, strat])
    if sampler._inverse is not None:  # the Hermite cells' midpoints in u, where their error peaks
        mids = sampler._inverse.midpoints()
        u = np.concatenate([u, mids[:: max(1, mids.size // 2000)]])
    x = sampler.ppf(u)
    err = np.abs(sampler.cdf(x) - u)
    floor = np.zeros_like(err)
    big = err > sampler.u_resolution / 4
    if big.any():
        xb = x[big]
        up = sampler.cdf(np.nextafter(xb, np.inf)) - sampler.cdf(xb)
        down = sampler.cdf(xb) - sampler.cdf(np.nextafter(xb, -np.inf))
        floor[big] = np.maximum(up, down)
    return float(np.max(err - floor)), float(np.max(floor))


def inverse_cdf_sampler(
    pdf: Callable[[np.ndarray], np.ndarray],
    lo: float,
    hi: float,
    *,
    center: float | None = None,
    u_resolution: float = 1e-10,
    method: str = "auto",
) -> InverseSampler:
    r"""A sampler x = F^{-1}(u), u ~ U(0, 1), for the density ``pdf`` on (lo, hi).

    Parameters
    ----------
    pdf : callable
        ``pdf(x: ndarray) -> ndarray``: vectorized float64, >= 0, possibly unnormalized.
        The sampler pickles when ``pdf`` does (use a module-level function or ``ExprFunction``).
    lo, hi : float
        The support (either end may be infinite).
    center : float, optional
        A point where the pdf is positive (the mode is best); found by probing when omitted.
    u_resolution : float
        The target for max |F(ppf(u)) - u|.
    method : {"auto", "pinv", "table"}
        ``"auto"``: PINV, checked against the mass table, else the Hermite table.

    Returns
    -------
    InverseSampler
        With ``sample(n, rng)``, ``ppf(u)``, ``cdf(x)`` and the measured ``u_error``.

    Raises
    ------
    SymflowError
        When the density is negative, nan inside its support, zero everywhere probed,
        not integrable, or the u-error reached is above 100 u_resolution.

    Examples
    --------
    >>> import numpy as np
    >>> s = inverse_cdf_sampler(lambda x: np.exp(-x * x / 2), -np.inf, np.inf)
    >>> bool(abs(s.ppf(np.array([0.975]))[0] - 1.959963984540054) < 1e-8)
    True
    """
    if method not in ("auto", "pinv", "table"):
        raise SymflowError(f"method={method!r} is not one of 'auto', 'pinv', 'table'")
    if not 1e-14 <= u_resolution <= 1e-2:
        raise SymflowError(f"u_resolution={u_resolution} is outside [1e-14, 1e-2]; the default is 1e-10")
    start = time.perf_counter()
    table = cdf_table(pdf, lo, hi, center=center, tail=min(1e-13, 1e-3 * u_resolution))
    tried = []
    for route in ("pinv", "table") if method == "auto" else (method,):
        s = InverseSampler(pdf, table, u_resolution, route)
        if route == "pinv":
            s._gen = _pinv(pdf, table, u_resolution)
            if s._gen is None:
                tried.append("PINV refused")
                if method == "pinv":
                    raise SymflowError("scipy's PINV refused this density; use method='table' or 'auto'")
                continue
        else:
            s._build()
        s.u_error, s.u_floor = _measure(s)
        if s.u_error <= u_resolution or route == "table" or method == "pinv":
            break
        tried.append(f"PINV reached u-error {s.u_error:.2g}")
    s.build_seconds = time.perf_counter() - start
    if s.u_error > 100 * u_resolution:
        raise SymflowError(
            f"numeric inversion reached a u-error of {s.u_error:.2g} only ({'; '.join(tried) or s.method}), "
            f"above 100 x u_resolution = {100 * u_resolution:.2g}; give center= near the mode, or " + _FIX
        )
    return s


# -- discrete ---------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class InversePmfSampler:
    """k = min{k : Q(k) > u}, u ~ U(0, 1), for a pmf on lo, lo + 1, ..., built by ``inverse_pmf_sampler``.

    ``cum[j]`` is Q(lo + j) (the last entry is 1); ``tail`` is the mass cut off beyond
    ``lo + len(cum) - 1``, relative to the total (below 1e-14 by construction).
    """

    lo: int
    cum: np.ndarray
    tail: float

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """The smallest k with Q(k) > u (u in [0, 1))."""
        j = np.searchsorted(self.cum, np.asarray(u, dtype=float), side="right")
        return self.lo + np.minimum(j, self.cum.size - 1)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws as an (n,) int64 array."""
        return self.ppf(rng.random(int(n)))

    def cdf(self, k: np.ndarray) -> np.ndarray:
        """Q(k) = P(X <= k) (0 below lo, 1 beyond the table)."""
        j = np.floor(np.asarray(k, dtype=float)) - self.lo
        inside = np.clip(j, 0, self.cum.size - 1).astype(np.int64)
        return np.where(j < 0, 0.0, np.where(j >= self.cum.size - 1, 1.0, self.cum[inside]))


def _tail_left(p: np.ndarray, k_from_lo: np.ndarray) -> float:
    """The mass beyond the last term, estimated as geometric and as power law (the larger).

    A log-concave tail has falling ratios p_{k+1}/p_k, so p_k r/(1 - r) bounds it; a power
    law p ~ k^{-s} has ratios tending to 1, for which p_k k/(s - 1) is the estimate.
    """
    if p[-1] == 0 and p[-2] == 0:
        return 0.0
    r = p[-1] / p[-2] if p[-2] > 0 else np.inf
    if not r < 1:
        return np.inf
    geometric = p[-1] * r / (1 - r)
    half = k_from_lo.size // 2
    if p[half] <= 0:
        return geometric
    s = np.log(p[half] / p[-1]) / np.log(k_from_lo[-1] / k_from_lo[half])
    return max(geometric, p[-1] * k_from_lo[-1] / (s - 1) if s > 1 else np.inf)


def inverse_pmf_sampler(
    pmf: Callable[[np.ndarray], np.ndarray], lo: int, hi: float = np.inf, *, tail: float = 1e-14, max_terms: int = 10**7
) -> InversePmfSampler:
    """A sampler for the pmf on the integers lo, lo + 1, ..., hi (hi may be infinite).

    Parameters
    ----------
    pmf : callable
        ``pmf(k: ndarray) -> ndarray``: vectorized, >= 0, possibly unnormalized; ``k`` holds
        integers as float64.
    lo, hi : int (hi may be ``numpy.inf``)
        The support.
    tail : float
        Terms are summed until the mass left (relative to the total) is below ``tail``.
    max_terms : int
        Refuse when that many terms do not reach ``tail``.

    Examples
    --------
    >>> from scipy.special import factorial
    >>> s = inverse_pmf_sampler(lambda k: 3.0**k / factorial(k), 0)
    >>> bool(abs(s.cdf(2) - 8.5 * 2.718281828459045**-3) < 1e-14)
    True
    """
    if not (np.isfinite(lo) and float(lo) == int(lo)):
        raise SymflowError(f"lo = {lo} must be a finite integer; a support infinite to the left is not supported")
    lo = int(lo)
    if hi != np.inf and not float(hi) == int(hi):
        raise SymflowError(f"hi = {hi} must be an integer or numpy.inf")
    if hi < lo:
        raise SymflowError(f"the support {lo}..{hi} is empty; give hi >= lo")
    chunks, left, size, start = [], np.inf, 1024, lo
    while True:
        stop = start + size if hi == np.inf else min(start + size, int(hi) + 1)
        p = _values(pmf, np.arange(start, stop, dtype=float))
        cut = not np.isfinite(p).all()
        if cut:  # nan/inf once the terms have died out is overflow in the tail (inf/inf): the sum ends there
            j = int(np.argmax(~np.isfinite(p)))
            before = np.concatenate([*chunks, p[:j]])
            if before.size < 2 or before[-2:].max() > 1e-30 * before.max():
                raise SymflowError(f"the pmf is {p[j]} at k = {start + j}; fix the expression or " + _FIX)
            p, stop = p[:j], start + j
        chunks.append(p)
        start = stop
        total = float(sum(c.sum() for c in chunks))
        if cut or (hi != np.inf and start > hi):
            left = 0.0
            break
        allp = np.concatenate(chunks[-2:])
        left = _tail_left(allp, np.arange(start - allp.size, start, dtype=float) - lo + 1)
        if total > 0 and left <= tail * total:
            break
        if start - lo >= max_terms:
            raise SymflowError(
                f"the pmf's terms up to k = {start - 1} hold {total:.6g} and the tail beyond is estimated at "
                f"{left:.3g}: not below {tail} of the total within {max_terms} terms (a tail too heavy, a pmf that "
                "is 0 everywhere so far, or one not summable); " + _FIX
            )
        size = min(2 * size, 1 << 20)
    p = np.concatenate(chunks)
    if not total > 0:
        raise SymflowError(f"the pmf is 0 on all of {lo}..{hi}; check the expression and the support")
    cum = np.cumsum(p) / total
    cum[-1] = 1.0
    return InversePmfSampler(lo, cum, left / total)


# -- SymPy expressions as numeric functions ---------------------------------


@lru_cache(maxsize=128)
def _compiled(expr: sp.Expr, args: tuple[sp.Symbol, ...]) -> Callable:
    import scipy.special  # noqa: F401 - lets lambdify map besseli, beta, erf, ... to scipy

    return sp.lambdify(args, expr, modules=["scipy", "numpy"])


class ExprFunction:
    """x -> expr(x; theta) as a vectorized float64 function, for a density written in SymPy.

    Holds the expression, its variable, its parameters and their values; it is compiled
    (``lambdify`` with scipy and numpy) on first call and pickles as the expression, so
    samplers built on it pickle too.  ``check`` compares it with ``evalf`` (lambdify's
    function mappings are not all right: see docs on betainc_regularized).
    """

    def __init__(self, expr: sp.Expr, x: sp.Symbol, params: tuple = (), values: tuple = ()) -> None:
        if len(params) != len(values):
            raise SymflowError(f"{len(params)} parameters but {len(values)} values; give one value per parameter")
        self.expr, self.x, self.params = expr, x, tuple(params)
        self.values = tuple(float(v) for v in values)
        self._fn = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        try:
            if self._fn is None:
                self._fn = _compiled(self.expr, (self.x, *self.params))
            with np.errstate(all="ignore"):
                out = np.asarray(self._fn(x, *self.values), dtype=float)
            return out if out.shape == np.shape(x) else np.broadcast_to(out, np.shape(x)).copy()  # a constant
        except (NameError, TypeError, AttributeError) as e:  # a function lambdify has no numeric version of
            raise SymflowError(f"{self.expr} cannot be evaluated numerically ({e}); " + _FIX) from e

    def check(self, points: np.ndarray, rtol: float = 1e-8) -> ExprFunction:
        """Return self if it agrees with ``evalf`` at ``points`` (where finite), else raise SymflowError."""
        points = np.asarray(points, dtype=float)
        got = np.broadcast_to(self(points), points.shape)
        subs = dict(zip(self.params, map(sp.Float, self.values), strict=True))
        for xv, g in zip(points, got, strict=True):
            want = complex(sp.N(self.expr.xreplace({**subs, self.x: sp.Float(float(xv))}), 20))
            if abs(want.imag) > 1e-12 * max(1.0, abs(want.real)) or not np.isfinite(want.real):
                continue
            if not abs(g - want.real) <= rtol * max(abs(want.real), 1e-300):
                raise SymflowError(
                    f"{self.expr} evaluates to {g} at x = {xv} numerically but to {want.real} by evalf; "
                    "a function in it is mapped wrongly by lambdify: " + _FIX
                )
        return self

    def __getstate__(self) -> dict:
        return {"expr": self.expr, "x": self.x, "params": self.params, "values": self.values}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _fn=None)

    def __repr__(self) -> str:
        bound = ", ".join(f"{p}={v:g}" for p, v in zip(self.params, self.values, strict=True))
        return f"ExprFunction({self.expr}, {self.x}{'; ' + bound if bound else ''})"
