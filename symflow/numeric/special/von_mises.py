r"""Vectorized float64 von Mises CDF and its :math:`\kappa`-derivative (location 0).

Both integrate :math:`e^{\kappa(\cos t - 1)}/(2\pi I_0(\kappa)e^{-\kappa})` by 40-point
Gauss--Legendre over a range cut where the integrand has fallen to :math:`e^{-46}` of its value
at the near end, written with :math:`1 - \cos t = 2\sin^2(t/2)` so nothing cancels near 0.
"""

from __future__ import annotations

import numpy as np
from scipy import special as sc

from .kernels import broadcast
from .quadrature import gauss_legendre

__all__ = ["von_mises_cdf", "von_mises_cdf_dkappa"]

_GL40_Z, _GL40_W = gauss_legendre(40)
# 1 - I1(k)/I0(k) ~ sum c_j / k^j for large k (the quotient of the two asymptotic series).
_ONE_MINUS_A = (1 / 2, 1 / 8, 1 / 8, 25 / 128, 13 / 32, 1073 / 1024, 103 / 32, 375733 / 32768, 23797 / 512)


def _one_minus_bessel_ratio(k: np.ndarray) -> np.ndarray:
    r""":math:`1 - I_1(\kappa)/I_0(\kappa)`; from the asymptotic series for :math:`\kappa \ge 200`,
    where the difference of the scaled Bessel functions would lose :math:`\log_{10}\kappa` digits."""
    i0e = sc.i0e(k)
    out = (i0e - sc.i1e(k)) / i0e
    big = k >= 200
    if big.any():
        inv = 1.0 / k[big]
        acc = np.zeros_like(inv)
        for coef in reversed(_ONE_MINUS_A):
            acc = (acc + coef) * inv
        out[big] = acc
    return out


def _von_mises_left(k: np.ndarray, i0e: np.ndarray, lo: np.ndarray, hi: np.ndarray, bracket) -> np.ndarray:
    r""":math:`\int_{lo}^{hi} \frac{e^{\kappa(\cos t - 1)}}{2\pi I_0(\kappa)e^{-\kappa}}\,g(t)\,dt` by 40-point
    Gauss--Legendre; ``bracket(s2)`` gives :math:`g` from :math:`s_2 = 1 - \cos t = 2\sin^2(t/2)`."""
    half = 0.5 * (hi - lo)
    t = 0.5 * (hi + lo) + half * _GL40_Z[:, None]
    s2 = 2.0 * np.sin(0.5 * t) ** 2  # 1 - cos t without cancellation
    dens = np.exp(-k * s2) / (2.0 * np.pi * i0e) * (_GL40_W[:, None] * half)
    return np.sum(dens * bracket(s2), axis=0)


def _von_mises_lower(k: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Where the integrand is exp(-46) of its value at y <= 0 (or -pi): the cut-off lower limit."""
    with np.errstate(divide="ignore"):
        return -np.arccos(np.maximum(-1.0, np.cos(y) - 46.0 / k))


def von_mises_cdf(kappa: object, x: object) -> np.ndarray:
    r"""von Mises CDF :math:`F(x) = \int_{-\pi}^{x} e^{\kappa\cos t}\,dt/(2\pi I_0(\kappa))` (location 0),
    extended by :math:`F(x + 2\pi) = F(x) + 1`.

    For :math:`y \le 0` the left integral (cut where the integrand is :math:`e^{-46}` of its value at
    :math:`y`, so the left tail keeps its relative accuracy); for :math:`y > 0`, :math:`1 - F(-y)`.
    Measured: 2e-13 relative for :math:`\kappa \in [10^{-3}, 1000]`, :math:`x \in [-3\pi, 3\pi]`.
    """
    shape, (k, x) = broadcast(kappa, x)
    out = np.full(k.shape, np.nan)
    work = np.flatnonzero((k >= 0) & np.isfinite(k) & np.isfinite(x))
    if work.size:
        k, x = k[work], x[work]
        turns = np.floor((x + np.pi) / (2.0 * np.pi))
        y = x - 2.0 * np.pi * turns
        yl = -np.abs(y)
        left = _von_mises_left(k, sc.i0e(k), _von_mises_lower(k, yl), yl, lambda s2: 1.0)
        # (turns + 1) - left, not turns + (1 - left): exact when turns = -1 and F(x) is tiny
        out[work] = np.where(y > 0, (turns + 1.0) - left, turns + left)
    return out.reshape(shape)[()]


def von_mises_cdf_dkappa(kappa: object, x: object) -> np.ndarray:
    r""":math:`\partial F/\partial\kappa` of the von Mises CDF :math:`F(x) = \int_{-\pi}^x
    \frac{e^{\kappa\cos t}}{2\pi I_0(\kappa)}dt` (location 0), :math:`2\pi`-periodic in :math:`x`.

    .. math::
        \frac{\partial F}{\partial\kappa} = \int_{-\pi}^{x} f(t)\,(\cos t - A)\,dt,\qquad
        A = I_1(\kappa)/I_0(\kappa),\quad \cos t - A = (1 - A) - 2\sin^2(t/2).

    It is odd (:math:`G(-y) = -G(y)`, :math:`G(0) = G(\pm\pi) = 0`); for :math:`y \le 0` it
    integrates :math:`[-\pi, y]` where :math:`\cos y \le A` and :math:`-[y, 0]` otherwise, so the
    integrand has one sign.  The lower end is cut where the integrand is :math:`e^{-46}` of its
    value at :math:`y`.  Measured against ``mpmath.diff``: max relative error 2e-11 for
    :math:`\kappa \in [10^{-3}, 1000]` (worst near :math:`x = 0` at small :math:`\kappa`; 5e-13 at
    the 99th percentile), 2e-12 for :math:`\kappa \in [10^3, 10^5]`; subnormal results lose digits.
    """
    shape, (k, x) = broadcast(kappa, x)
    out = np.full(k.shape, np.nan)
    valid = (k >= 0) & np.isfinite(k) & np.isfinite(x)
    work = np.flatnonzero(valid)
    if work.size:
        k, x = k[work], x[work]
        y = np.remainder(x + np.pi, 2.0 * np.pi) - np.pi
        sign = np.where(y > 0, -1.0, 1.0)
        y = -np.abs(y)
        one_minus_a = _one_minus_bessel_ratio(k)
        left = 2.0 * np.sin(0.5 * y) ** 2 >= one_minus_a  # cos y <= A
        lo = np.where(left, _von_mises_lower(k, y), y)
        hi = np.where(left, y, 0.0)
        value = _von_mises_left(k, sc.i0e(k), lo, hi, lambda s2: one_minus_a - s2)  # cos t - A
        out[work] = sign * np.where(left, value, -value)
    return out.reshape(shape)[()]
