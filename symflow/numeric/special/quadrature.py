r"""Fixed-order vectorized quadrature: node tables and a float64 evaluator for SymPy ``Integral`` objects.

Everything here integrates *many* integrals at once: an integrand is called with the nodes as an
``(m, 1)`` column that broadcasts against ``(n,)`` arrays of sample values, so one call of a numpy
integrand evaluates ``m * n`` points.

Rules used by the special-function kernels (``kernels``):

- Gauss--Legendre on ``[-1, 1]`` (spectral for smooth integrands);
- tanh--sinh on ``(0, 1)``, returned as ``log s`` and weights, for integrands with an algebraic or
  logarithmic singularity at ``s = 0`` (a power-law tail after the substitution
  :math:`t = t_c\, s^{1/\alpha}`).

``integrate_1d`` evaluates :math:`\int_{lo}^{hi} f(t)\,dt` for arrays of limits (finite or
infinite) with Gauss--Legendre panels whose count doubles, per element, until two successive
levels agree to ``rtol``; elements that never agree are returned as ``nan`` with a warning
rather than as a guess.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from scipy import special as sc

__all__ = ["SpecialFunctionWarning", "gauss_legendre", "integrate_1d", "tanh_sinh_unit"]


class SpecialFunctionWarning(UserWarning):
    """A vectorized special-function or quadrature route could not reach its accuracy for some elements."""


def gauss_legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss--Legendre nodes and weights on ``[-1, 1]`` (exact for polynomials of degree ``2n - 1``)."""
    return np.polynomial.legendre.leggauss(n)


def tanh_sinh_unit(h: float = 1 / 8, tmax: float = 4.25) -> tuple[np.ndarray, np.ndarray]:
    r"""tanh--sinh nodes on ``(0, 1)`` as ``(log s, w)`` with :math:`\int_0^1 g(s)\,ds \approx \sum w\,g(s)`.

    :math:`s(\tau) = \tfrac12\,(1 + \tanh(\tfrac{\pi}{2}\sinh\tau))`, step ``h``, :math:`|\tau| \le`
    ``tmax``.  The smallest node is :math:`e^{-\pi\sinh(tmax)}` (about 1e-48 for the default), so an
    endpoint behaviour :math:`s^{\beta}` leaves out :math:`s_{min}^{1+\beta}/(1+\beta)`: below 1e-24 for
    :math:`\beta \ge -1/2`, which is why the kernels choose their substitutions to keep
    :math:`\beta` there.  ``log s`` is returned rather than ``s`` because the kernels need it near
    ``s = 0``, where ``s`` itself would underflow.
    """
    tau = np.arange(-tmax, tmax + h / 2, h)
    u = 0.5 * np.pi * np.sinh(tau)
    # s = expit(2u) and 1 - s = expit(-2u) => ds/dtau = pi cosh(tau) s (1 - s), all without cancellation
    log_s = -np.logaddexp(0.0, -2 * u)
    w = h * np.pi * np.cosh(tau) * sc.expit(2 * u) * sc.expit(-2 * u)
    keep = w > 0
    return log_s[keep], w[keep]


# ---------------------------------------------------------------------------------------------
# Integral objects: adaptive-by-level Gauss--Legendre over arrays of limits
# ---------------------------------------------------------------------------------------------

_GL_ORDER = 20
_GL_Z, _GL_W = gauss_legendre(_GL_ORDER)
_MAX_LEVEL = 7  # 2**7 = 128 panels per element at most
_RTOL = 1e-11
_ATOL = 1e-300


def _mapped(lo: np.ndarray, hi: np.ndarray) -> tuple[Callable, np.ndarray, np.ndarray]:
    """A map s -> (t, dt/ds) from a finite s-interval onto [lo, hi], which may be infinite.

    Both infinite: t = s / (1 - s^2) on (-1, 1).  One infinite: t = lo + s / (1 - s) on [0, 1)
    (or hi - s / (1 - s)).  Finite: the identity.  The algebraic maps keep exponentially and
    algebraically decaying tails smooth at the mapped endpoint.
    """
    lo_inf, hi_inf = np.isneginf(lo), np.isposinf(hi)
    both = lo_inf & hi_inf
    left_only = lo_inf & ~hi_inf
    right_only = hi_inf & ~lo_inf
    s_lo = np.where(both, -1.0, np.where(lo_inf | hi_inf, 0.0, lo))
    s_hi = np.where(both, 1.0, np.where(lo_inf | hi_inf, 1.0, hi))
    lo_f = np.where(lo_inf, 0.0, lo)
    hi_f = np.where(hi_inf, 0.0, hi)

    def transform(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(divide="ignore", invalid="ignore"):
            one_m = 1.0 - s
            t_both = s / (1.0 - s * s)
            j_both = (1.0 + s * s) / (1.0 - s * s) ** 2
            t_half = s / one_m
            j_half = 1.0 / (one_m * one_m)
        t = np.where(both, t_both, np.where(right_only, lo_f + t_half, np.where(left_only, hi_f - t_half, s)))
        jac = np.where(both, j_both, np.where(right_only | left_only, j_half, 1.0))
        return t, jac

    return transform, s_lo, s_hi


def _panels(f: Callable, transform: Callable, s_lo: np.ndarray, s_hi: np.ndarray, k: int) -> np.ndarray:
    """Composite Gauss--Legendre with ``k`` equal panels per element (in the mapped variable)."""
    width = (s_hi - s_lo) / k
    edges = s_lo + width * np.arange(k)[:, None]  # (k, n)
    half = 0.5 * width
    s = edges[None, :, :] + half * (1.0 + _GL_Z[:, None, None])  # (m, k, n)
    s = s.reshape(-1, s.shape[-1])
    t, jac = transform(s)
    values = np.asarray(f(t), dtype=float)
    values = np.broadcast_to(values, t.shape) * jac
    values = np.where(jac == 0, 0.0, values)  # an endpoint node never lands exactly on s = +-1 with GL
    w = np.repeat(_GL_W, k)[:, None] * half
    return np.sum(w * values, axis=0)


def integrate_1d(f: Callable, lo: object, hi: object, *, rtol: float = _RTOL) -> np.ndarray:
    r"""Vectorized :math:`\int_{lo}^{hi} f(t)\,dt` for arrays of limits.

    Parameters
    ----------
    f : callable
        ``f(t)`` with ``t`` of shape ``(m, n)``; it may close over ``(n,)`` arrays (it does in code
        printed by ``sympy.lambdify``) or return something that broadcasts to ``(m, n)``.
    lo, hi : array_like
        Limits, broadcast together; ``-inf`` / ``inf`` allowed.
    rtol : float
        Two successive panel levels (1, 2, 4, ... panels of 20-point Gauss--Legendre) must agree to
        ``rtol`` relative.  Elements that do not within 128 panels are ``nan`` (with a
        ``SpecialFunctionWarning``), never a guess.

    Returns
    -------
    ndarray
        One value per element of the broadcast limits (0-d for scalar limits).
    """
    lo_a, hi_a = np.broadcast_arrays(np.asarray(lo, dtype=float), np.asarray(hi, dtype=float))
    shape = lo_a.shape
    lo_a, hi_a = lo_a.ravel(), hi_a.ravel()
    # Orient every interval upwards and remember the sign: int_hi^lo = -int_lo^hi.
    flip = hi_a < lo_a
    lo_o, hi_o = np.where(flip, hi_a, lo_a), np.where(flip, lo_a, hi_a)
    transform, s_lo, s_hi = _mapped(lo_o, hi_o)
    previous = _panels(f, transform, s_lo, s_hi, 1)
    done = np.zeros(previous.shape, dtype=bool)
    result = previous.copy()
    for level in range(1, _MAX_LEVEL + 1):
        current = _panels(f, transform, s_lo, s_hi, 2**level)
        agree = np.abs(current - previous) <= rtol * np.abs(current) + _ATOL
        newly = agree & ~done
        result[newly] = current[newly]
        done |= agree
        if done.all():
            break
        previous = np.where(done, previous, current)
    if not done.all():
        warnings.warn(
            f"integrate_1d: {int((~done).sum())} of {done.size} integrals did not converge to rtol={rtol:g} "
            "with 128 Gauss-Legendre panels; they are returned as nan (split the range at the "
            "integrand's peaks or singularities, or evaluate with the mpmath table)",
            SpecialFunctionWarning,
            stacklevel=2,
        )
        result[~done] = np.nan
    result = np.where(lo_o == hi_o, 0.0, result)
    result = np.where(flip, -result, result)
    return result.reshape(shape)[()]


def quad_for_lambdify(f: Callable, lo: object, hi: object) -> tuple[np.ndarray, None]:
    """``integrate_1d`` in the shape SymPy's SciPy printer expects of ``quad``: it indexes ``[0]``."""
    return integrate_1d(f, lo, hi), None
