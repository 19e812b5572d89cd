"""The inverse of a continuous CDF from its mass table: scipy's PINV, or monotone Hermite interpolation (step 3)."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...errors import SymflowError
from .table import _FIX, CdfTable, _masses, _values, cdf_table

__all__ = ["InverseSampler", "inverse_cdf_sampler"]


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
        ``"auto"``: the Hermite table, else scipy's PINV when the table misses the tolerance
        (each checked against the mass table; the more accurate one is kept).

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
    best = None
    # auto: the table route first (it calls the vectorized pdf a few thousand times; PINV calls it one point at a
    # time, 7,000-20,000 times a build), PINV only when the table misses the tolerance.
    for route in ("table", "pinv") if method == "auto" else (method,):
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
        if best is None or s.u_error < best.u_error:
            best = s
        if s.u_error <= u_resolution:
            break
        tried.append(f"{route} reached u-error {s.u_error:.2g}")
    s = best
    s.build_seconds = time.perf_counter() - start
    if s.u_error > 100 * u_resolution:
        raise SymflowError(
            f"numeric inversion reached a u-error of {s.u_error:.2g} only ({'; '.join(tried) or s.method}), "
            f"above 100 x u_resolution = {100 * u_resolution:.2g}; give center= near the mode, or " + _FIX
        )
    return s
