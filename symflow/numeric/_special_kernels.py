r"""Vectorized float64 derivatives of CDFs in their shape parameters.

The implicit-reparameterization flow :math:`u = -(\partial F/\partial\theta)/p` needs
:math:`\partial F/\partial\theta` at every sample, and scipy has none of these derivatives.  Every
function here is a numpy ufunc-like map over broadcast arrays, accurate to about 1e-12 relative
(measured against mpmath in ``tests/test_special.py``; ranges in each docstring).

One idea runs through all of them.  :math:`\partial_\theta F(x) = \int_{lo}^{x} p(t)\,
\partial_\theta \log p(t)\,dt`, and the integral over the whole support is
:math:`\partial_\theta 1 = 0`, so equally :math:`-\int_x^{hi}`.  The factor
:math:`\partial_\theta\log p` changes sign once, so choosing the side by its sign *at x* makes the
integrand single-signed on the chosen side: the sum has no cancellation, which is what keeps the
relative accuracy in both tails.  The sides are then integrated by

- series and continued fractions with the derivative carried along (incomplete gamma: the series
  terms and Legendre's fraction each have one sign, see ``gammainc_da``), or
- fixed-order quadrature: Gauss--Legendre over the bulk in a variable where the density is a
  smooth bump (logit for the beta, asinh for Student t), and tanh--sinh over the tail after a
  power-law substitution :math:`t = t_c\,s^{1/\alpha}` that removes the endpoint singularity.
"""

from __future__ import annotations

import numpy as np
from scipy import special as sc

from . import _special_mp as mp_impl
from ._special_quadrature import gauss_legendre, tanh_sinh_unit

__all__ = [
    "betainc_da",
    "betainc_db",
    "digamma_difference",
    "gammainc_da",
    "gammaincc_da",
    "log1pmx",
    "student_t_cdf_dnu",
    "von_mises_cdf",
    "von_mises_cdf_dkappa",
]

_EPS = 2.0**-54  # series / continued-fraction stopping tolerance (half an ulp of 1)
_MAX_ITER = 5000
_GL32_Z, _GL32_W = gauss_legendre(32)
_GL24_Z, _GL24_W = gauss_legendre(24)
_GL40_Z, _GL40_W = gauss_legendre(40)
_TS_LOG_S, _TS_W = tanh_sinh_unit()


def _broadcast(*args: object) -> tuple[tuple[int, ...], list[np.ndarray]]:
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in args))
    return arrays[0].shape, [np.ascontiguousarray(a).ravel() for a in arrays]


def _mpmath_elements(fn, out: np.ndarray, mask: np.ndarray, *args: np.ndarray) -> None:
    """Fill ``out[mask]`` element by element with an mpmath implementation (15 digits): the rare
    elements a vectorized route could not finish get a slow correct value, never a guess."""
    import mpmath

    for i in np.flatnonzero(mask):
        with mpmath.workdps(17):
            out[i] = float(fn(*(mpmath.mpf(float(a[i])) for a in args)))


def log1pmx(u: np.ndarray) -> np.ndarray:
    r""":math:`\log(1 + u) - u`, accurate for small :math:`|u|` (series below 0.1, where the subtraction cancels)."""
    u = np.asarray(u, dtype=float)
    with np.errstate(divide="ignore"):
        out = np.log1p(u) - u
    small = np.abs(u) < 0.1
    if small.any():
        us = u[small]
        power = us * us
        acc = np.zeros_like(us)
        for k in range(2, 19):  # 0.1**18 / 18 < 1e-19
            acc += (-1.0) ** (k + 1) * power / k
            power = power * us
        out[small] = acc
    return out


# Bernoulli numbers B_2k / (2k), k = 1..8, for the asymptotic series of the digamma function.
_PSI_ASYMPTOTIC = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12, -3617 / 8160)


def digamma_difference(x: np.ndarray, d: np.ndarray) -> np.ndarray:
    r""":math:`\psi(x + d) - \psi(x)` for :math:`x > 0, d \ge 0`, accurate even when :math:`d \ll x`.

    For :math:`x \ge 10` the asymptotic series
    :math:`\psi(z) \sim \log z - \frac{1}{2z} - \sum_k \frac{B_{2k}}{2k\,z^{2k}}` is differenced
    term by term (``log1p``, ``expm1``), so nothing cancels; smaller :math:`x` are first shifted up with
    :math:`\psi(z + 1) = \psi(z) + 1/z`, whose differences :math:`d/(z(z+d))` do not cancel either.
    (The beta kernels need :math:`\psi(b) - \psi(a + b)` with :math:`a \ll b`.)
    """
    shape, (x, d) = _broadcast(x, d)
    # psi(x + d) - psi(x) = [psi(x + n + d) - psi(x + n)] + sum_{k<n} d / ((x + k)(x + k + d)): shift to x >= 10
    shift = np.maximum(np.ceil(10.0 - x), 0.0)
    xs = x + shift
    acc = np.zeros_like(x)
    for k in range(int(shift.max(initial=0.0))):
        m = k < shift
        xk = x[m] + k
        acc[m] += d[m] / (xk * (xk + d[m]))
    l1 = np.log1p(d / xs)
    acc += l1 + 0.5 * d / (xs * (xs + d))
    for k, coef in enumerate(_PSI_ASYMPTOTIC, start=1):
        # (x + d)^-2k - x^-2k = x^-2k expm1(-2k log1p(d/x))
        acc -= coef * xs ** (-2 * k) * np.expm1(-2 * k * l1)
    return acc.reshape(shape)[()]


# ---------------------------------------------------------------------------------------------
# Incomplete gamma: d/da of P(a, x) = gamma(a, x)/Gamma(a)
# ---------------------------------------------------------------------------------------------


def _gamma_series(a: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""(D/S, converged) for :math:`S = \sum_n T_n`, :math:`D = \sum_n T_n H_n`,
    :math:`T_n = \prod_{k \le n} x/(a+k)`, :math:`H_n = \sum_{k \le n} 1/(a+k)`."""
    n = a.size
    ratio = np.full(n, np.nan)
    converged = np.zeros(n, dtype=bool)
    idx = np.arange(n)
    aa, xx = a.copy(), x.copy()
    T, H, S, D = np.ones(n), np.zeros(n), np.ones(n), np.zeros(n)
    for k in range(1, _MAX_ITER + 1):
        ak = aa + k
        T = T * xx / ak
        H = H + 1.0 / ak
        S = S + T
        D = D + T * H
        r = xx / (ak + 1.0)  # < 1 in the series region => the rest is below T r / (1 - r)
        tail = T * r / (1.0 - r)
        done = (tail <= _EPS * S) & (tail * (H + 1.0 / (1.0 - r)) <= _EPS * D)
        if done.any():
            ratio[idx[done]] = D[done] / S[done]
            converged[idx[done]] = True
            keep = ~done
            if not keep.any():
                break
            idx, aa, xx, T, H, S, D = idx[keep], aa[keep], xx[keep], T[keep], H[keep], S[keep], D[keep]
    return ratio, converged


def _gamma_continued_fraction(a: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""(K'/K, converged) for Legendre's fraction :math:`\Gamma(a, x) = e^{-x} x^a K`,
    :math:`K = 1/(b_0 + a_1/(b_1 + \dots))`, :math:`b_n = x + 2n + 1 - a`, :math:`a_n = n(a - n)`;
    ' is d/da.  The convergents :math:`P_n/Q_n` of :math:`1/K` and their a-derivatives follow the
    three-term recurrence, rescaled every step to stay in range."""
    n = a.size
    out = np.full(n, np.nan)
    converged = np.zeros(n, dtype=bool)
    idx = np.arange(n)
    aa, xx = a.copy(), x.copy()
    P0, Q0, dP0, dQ0 = np.ones(n), np.zeros(n), np.zeros(n), np.zeros(n)
    P1, Q1, dP1, dQ1 = xx + 1.0 - aa, np.ones(n), -np.ones(n), np.zeros(n)
    previous = dQ1 / Q1 - dP1 / P1
    for k in range(1, _MAX_ITER + 1):
        bk = xx + (2 * k + 1) - aa
        ak = k * (aa - k)
        P2 = bk * P1 + ak * P0
        Q2 = bk * Q1 + ak * Q0
        dP2 = -P1 + bk * dP1 + k * P0 + ak * dP0
        dQ2 = -Q1 + bk * dQ1 + k * Q0 + ak * dQ0
        scale = 1.0 / np.abs(P2)
        P0, Q0, dP0, dQ0 = P1 * scale, Q1 * scale, dP1 * scale, dQ1 * scale
        P1, Q1, dP1, dQ1 = P2 * scale, Q2 * scale, dP2 * scale, dQ2 * scale
        current = dQ1 / Q1 - dP1 / P1
        done = np.abs(current - previous) <= _EPS * np.abs(current)
        previous = current
        if done.any():
            out[idx[done]] = current[done]
            converged[idx[done]] = True
            keep = ~done
            if not keep.any():
                break
            idx, aa, xx = idx[keep], aa[keep], xx[keep]
            P0, Q0, dP0, dQ0, P1, Q1, dP1, dQ1 = (v[keep] for v in (P0, Q0, dP0, dQ0, P1, Q1, dP1, dQ1))
            previous = previous[keep]
    return out, converged


def gammainc_da(a: object, x: object) -> np.ndarray:
    r""":math:`\partial P(a, x)/\partial a` of the regularized lower incomplete gamma function.

    With :math:`P = \frac{x^a e^{-x}}{\Gamma(a+1)}\sum_{n\ge0} T_n` (series) and
    :math:`Q = \frac{x^a e^{-x}}{\Gamma(a)} K` (Legendre's continued fraction),

    .. math::
        \frac{\partial P}{\partial a} = P\left(\log x - \psi(a+1) - \frac{\sum T_n H_n}{\sum T_n}\right)
        = -Q\left(\log x - \psi(a) + \frac{K'}{K}\right).

    The series form is used where :math:`\log x < \psi(a+1)`: there every term
    :math:`T_n(\log x - \psi(a+n+1))` is negative.  Otherwise the fraction: there
    :math:`\log x - \psi(a) > 0` and :math:`K' > 0` (:math:`K = \int_0^\infty e^{-xs}(1+s)^{a-1}ds`).
    :math:`P, Q` come from ``scipy.special.gammainc/gammaincc``.  Measured: max relative error
    3e-13 for :math:`a \in [0.05, 1000]`, :math:`x` from the 1e-15 to the 1 - 1e-15 quantile;
    about :math:`9\sqrt{a}` iterations at the median, so it slows down (but stays correct) for
    :math:`a \gg 10^4`.  Elements that exhaust 5000 iterations are computed by mpmath.
    ``x = 0`` and ``x = inf`` give 0; :math:`a \le 0` or :math:`x < 0` give nan.
    """
    shape, (a, x) = _broadcast(a, x)
    out = np.full(a.shape, np.nan)
    valid = (a > 0) & (x >= 0) & np.isfinite(a) & ~np.isnan(x)
    edge = valid & ((x == 0) | np.isinf(x))
    out[edge] = 0.0
    work = valid & ~edge
    with np.errstate(divide="ignore", invalid="ignore"):  # x <= 0 and nan are masked out below
        logx = np.log(x)
        series = work & (logx < sc.digamma(a + 1.0))
    fraction = work & ~series
    failed = np.zeros(a.shape, dtype=bool)
    if series.any():
        i = np.flatnonzero(series)
        ratio, ok = _gamma_series(a[i], x[i])
        out[i] = sc.gammainc(a[i], x[i]) * (logx[i] - sc.digamma(a[i] + 1.0) - ratio)
        failed[i[~ok]] = True
    if fraction.any():
        i = np.flatnonzero(fraction)
        dlogk, ok = _gamma_continued_fraction(a[i], x[i])
        out[i] = -sc.gammaincc(a[i], x[i]) * (logx[i] - sc.digamma(a[i]) + dlogk)
        failed[i[~ok]] = True
    if failed.any():
        _mpmath_elements(mp_impl.gammainc_da, out, failed, a, x)
    return out.reshape(shape)[()]


def gammaincc_da(a: object, x: object) -> np.ndarray:
    r""":math:`\partial Q(a, x)/\partial a = -\partial P(a, x)/\partial a` (same accuracy as ``gammainc_da``)."""
    return -gammainc_da(a, x)


# ---------------------------------------------------------------------------------------------
# Incomplete beta: d/da and d/db of I_x(a, b)
# ---------------------------------------------------------------------------------------------


def _softplus(w: np.ndarray) -> np.ndarray:
    return np.maximum(w, 0.0) + np.log1p(np.exp(-np.abs(w)))


def _beta_left(a, b, log_beta, lx, l1x, bracket_log_t: bool, c) -> np.ndarray:
    r""":math:`\int_0^x \frac{t^{a-1}(1-t)^{b-1}}{B(a,b)}\,(L(t) - c)\,dt`, :math:`L = \log t` or
    :math:`\log(1-t)`; ``lx, l1x`` are :math:`\log x, \log(1-x)`.

    Breakpoints in :math:`w = \operatorname{logit} t`, where :math:`t^a(1-t)^b` is a log-concave
    bump: :math:`w_L` (resp. :math:`w_R`) is where the slope of its logarithm has fallen to half
    its tail rate :math:`a` (resp. :math:`b`), or 10 standard deviations from the mode, whichever
    is nearer.  Below :math:`w_L` the density is close to a power of :math:`t`, so
    :math:`t = t_c s^{1/\alpha}` (:math:`\alpha` its local exponent) leaves a smooth integrand in
    :math:`s` for tanh--sinh; :math:`[w_L, w_R]` and :math:`[w_R, w_x]` get Gauss--Legendre.
    """
    wx = lx - l1x
    mode = np.log(a) - np.log(b)
    sd = np.sqrt(1.0 / a + 1.0 / b)
    half_a = a / (2.0 * (a + b))  # t where the slope of log(t^a (1-t)^b) in w is a/2
    half_b = b / (2.0 * (a + b))
    wL = np.maximum(np.log(half_a) - np.log1p(-half_a), mode - 10.0 * sd)
    wR = np.minimum(np.log1p(-half_b) - np.log(half_b), mode + 10.0 * sd)

    # Tail [0, t_c], t_c = min(x, t_L): p(t) ~ p(t_c) (t/t_c)^(alpha-1) with alpha the local exponent
    wc = np.minimum(wx, wL)
    lt_c, l1t_c = -_softplus(-wc), -_softplus(wc)
    alpha = a - (b - 1.0) * np.exp(lt_c - l1t_c)
    # a/alpha - 1 >= -1/2 keeps the s-integrand's endpoint behaviour inside what tanh-sinh resolves
    alpha = np.clip(alpha, 0.5 * a, 2.0 * a)
    ls = _TS_LOG_S[:, None]
    lt = lt_c + ls / alpha
    l1t = np.log(-np.expm1(lt))
    weight = np.exp(a * lt_c - np.log(alpha) - log_beta + (a / alpha - 1.0) * ls + (b - 1.0) * l1t) * _TS_W[:, None]
    total = np.sum(weight * ((lt if bracket_log_t else l1t) - c), axis=0)

    for lo_w, hi_w, z, wq in ((wL, np.minimum(wx, wR), _GL32_Z, _GL32_W), (wR, wx, _GL24_Z, _GL24_W)):
        m = hi_w > lo_w
        if not m.any():
            continue
        i = np.flatnonzero(m)
        half = 0.5 * (hi_w[i] - lo_w[i])
        w = 0.5 * (hi_w[i] + lo_w[i]) + half * z[:, None]
        lt, l1t = -_softplus(-w), -_softplus(w)
        dens = np.exp(a[i] * lt + b[i] * l1t - log_beta[i]) * (wq[:, None] * half)
        total[i] += np.sum(dens * ((lt if bracket_log_t else l1t) - c[i]), axis=0)
    return total


def _betainc_d(a: object, b: object, x: object, wrt_a: bool) -> np.ndarray:
    shape, (a, b, x) = _broadcast(a, b, x)
    out = np.full(a.shape, np.nan)
    valid = (a > 0) & (b > 0) & np.isfinite(a) & np.isfinite(b) & (x >= 0) & (x <= 1)
    edge = valid & ((x == 0) | (x == 1))
    out[edge] = 0.0
    work = np.flatnonzero(valid & ~edge)
    if work.size:
        a, b, x = a[work], b[work], x[work]
        log_beta = sc.betaln(a, b)
        lx, l1x = np.log(x), np.log1p(-x)
        # d/da: bracket log t - (psi(a) - psi(a+b)), negative for log t below it;
        # d/db: bracket log(1-t) - (psi(b) - psi(a+b)), positive for log(1-t) above it.
        if wrt_a:
            c = -digamma_difference(a, b)
            left = lx <= c
        else:
            c = -digamma_difference(b, a)
            left = l1x >= c
        result = np.empty(work.size)
        if left.any():
            i = np.flatnonzero(left)
            result[i] = _beta_left(a[i], b[i], log_beta[i], lx[i], l1x[i], wrt_a, c[i])
        if (~left).any():
            # int_x^1 for (a, b) = int_0^(1-x) for (b, a) with t -> 1 - t: the bracket moves to the other log
            i = np.flatnonzero(~left)
            result[i] = -_beta_left(b[i], a[i], log_beta[i], l1x[i], lx[i], not wrt_a, c[i])
        out[work] = result
    return out.reshape(shape)[()]


def betainc_da(a: object, b: object, x: object) -> np.ndarray:
    r""":math:`\partial I_x(a, b)/\partial a` of the regularized incomplete beta function.

    .. math::
        \frac{\partial I_x}{\partial a} = \int_0^x \frac{t^{a-1}(1-t)^{b-1}}{B(a,b)}
        \bigl(\log t - \psi(a) + \psi(a+b)\bigr)\,dt = -\int_x^1 (\dots)\,dt,

    the first where :math:`\log x \le \psi(a) - \psi(a+b)` (integrand negative on :math:`[0, x]`),
    the second otherwise (integrand positive on :math:`[x, 1]`); quadrature as in ``_beta_left``.
    Measured: max relative error 2e-11 for :math:`a, b \in [0.05, 1000]` and :math:`x` from the
    1e-12 to the 1 - 1e-12 quantile (the worst cases have one parameter below 0.1 and the other
    above 100).  ``x`` in {0, 1} gives 0; parameters :math:`\le 0` or ``x`` outside [0, 1] give nan.
    """
    return _betainc_d(a, b, x, True)


def betainc_db(a: object, b: object, x: object) -> np.ndarray:
    r""":math:`\partial I_x(a, b)/\partial b`: as ``betainc_da`` with the bracket
    :math:`\log(1 - t) - \psi(b) + \psi(a+b)` (positive below its zero), same accuracy."""
    return _betainc_d(a, b, x, False)


# ---------------------------------------------------------------------------------------------
# Student t: d/dnu of F_nu(x)
# ---------------------------------------------------------------------------------------------


def _t_constant(nu: np.ndarray) -> np.ndarray:
    r""":math:`c(\nu) = \tfrac12(\psi(\tfrac{\nu+1}{2}) - \psi(\tfrac\nu2)) - \tfrac{1}{2\nu}`, about
    :math:`1/(4\nu^2)`: for :math:`\nu \ge 20` from the differenced asymptotic series (both terms are
    about :math:`1/(2\nu)` and would cancel), i.e. with :math:`b = \nu/2, u = 1/(2b)`,
    :math:`\psi(b+\tfrac12) - \psi(b) - u = \operatorname{log1pmx}(u) + \frac{1}{4b(b+1/2)} - \sum_k
    \frac{B_{2k}}{2k}((b+\tfrac12)^{-2k} - b^{-2k})`."""
    out = 0.5 * (sc.digamma(0.5 * nu + 0.5) - sc.digamma(0.5 * nu)) - 0.5 / nu
    big = nu >= 20
    if big.any():
        b = 0.5 * nu[big]
        u = 0.5 / b
        l1 = np.log1p(u)
        acc = log1pmx(u) + 1.0 / (4.0 * b * (b + 0.5))
        for k, coef in enumerate(_PSI_ASYMPTOTIC, start=1):
            acc -= coef * b ** (-2 * k) * np.expm1(-2 * k * l1)
        out[big] = 0.5 * acc
    return out


def _log_cosh(s: np.ndarray) -> np.ndarray:
    return s + np.log1p(np.exp(-2.0 * s)) - np.log(2.0)


def _t_bracket(s: np.ndarray, nu: np.ndarray, c: np.ndarray) -> np.ndarray:
    r""":math:`\partial_\nu \log f_\nu(t)` at :math:`t = \sqrt\nu\sinh s`.

    With :math:`\tau = \tanh^2 s = t^2/(\nu+t^2)` it is
    :math:`c + \tfrac12(\tau + \log(1-\tau)) + \tau/(2\nu)`.  Near 0 the middle term is
    :math:`O(\tau^2)` and comes from ``log1pmx``; far out, :math:`\log(1-\tau) = -2\log\cosh s`."""
    tau = np.tanh(s) ** 2
    near = tau < 0.5
    out = np.empty(np.broadcast(s, nu).shape)
    nu_b, c_b = np.broadcast_to(nu, out.shape), np.broadcast_to(c, out.shape)
    out[near] = c_b[near] + 0.5 * log1pmx(-tau[near]) + tau[near] / (2.0 * nu_b[near])
    far = ~near
    out[far] = c_b[far] - _log_cosh(s[far]) + (nu_b[far] + 1.0) * tau[far] / (2.0 * nu_b[far])
    return out


def student_t_cdf_dnu(nu: object, x: object) -> np.ndarray:
    r""":math:`\partial F_\nu(x)/\partial\nu` of the Student-t CDF (odd in :math:`x`).

    With :math:`t = \sqrt\nu\sinh s` the density is :math:`\cosh(s)^{-\nu}/B(\tfrac12,\tfrac\nu2)\,ds`,
    a log-concave bump with exponential tails, and for :math:`x > 0`

    .. math::
        \frac{\partial F}{\partial\nu} = \int_0^{x} f_\nu\,\partial_\nu\log f_\nu\,dt
        = -\int_x^\infty f_\nu\,\partial_\nu\log f_\nu\,dt,

    the first while :math:`\partial_\nu\log f_\nu(x) \ge 0` (it is positive up to its single zero),
    the second beyond; Gauss--Legendre in :math:`s` plus a tanh--sinh tail in
    :math:`q = e^{-\lambda(s - s_c)}`.  Measured: max relative error 4e-13 for
    :math:`\nu \in [0.1, 1000]`, :math:`x` from 1e-3 to the 1e-12 tail quantile; about 1.5e-15 median.
    ``x = 0, \pm\infty`` give 0; :math:`\nu \le 0` gives nan.
    """
    shape, (nu, x) = _broadcast(nu, x)
    out = np.full(nu.shape, np.nan)
    valid = (nu > 0) & np.isfinite(nu) & ~np.isnan(x)
    edge = valid & ((x == 0) | np.isinf(x))
    out[edge] = 0.0
    work = np.flatnonzero(valid & ~edge)
    if work.size:
        nu, x = nu[work], x[work]
        c = _t_constant(nu)
        log_norm = -sc.betaln(0.5, 0.5 * nu)
        sx = np.arcsinh(np.abs(x) / np.sqrt(nu))
        central = _t_bracket(sx, nu, c) >= 0
        result = np.empty(work.size)
        if central.any():
            i = np.flatnonzero(central)
            half = 0.5 * sx[i]
            s = half + half * _GL32_Z[:, None]
            dens = np.exp(log_norm[i] - nu[i] * _log_cosh(s)) * (_GL32_W[:, None] * half)
            result[i] = np.sum(dens * _t_bracket(s, nu[i], c[i]), axis=0)
        if (~central).any():
            i = np.flatnonzero(~central)
            n_i, c_i, ln_i, sx_i = nu[i], c[i], log_norm[i], sx[i]
            # beyond s_R the log-density's slope nu tanh(s) is at least half its tail rate (or 10/sd)
            s_r = np.arctanh(np.minimum(0.5, 10.0 / np.sqrt(n_i)))
            total = np.zeros(i.size)
            core = sx_i < s_r
            if core.any():
                j = np.flatnonzero(core)
                half = 0.5 * (s_r[j] - sx_i[j])
                s = sx_i[j] + half + half * _GL32_Z[:, None]
                dens = np.exp(ln_i[j] - n_i[j] * _log_cosh(s)) * (_GL32_W[:, None] * half)
                total[j] = np.sum(dens * _t_bracket(s, n_i[j], c_i[j]), axis=0)
            s_c = np.maximum(sx_i, s_r)
            rate = n_i * np.tanh(s_c)
            lq = _TS_LOG_S[:, None]
            s = s_c - lq / rate
            dens = np.exp(ln_i - n_i * _log_cosh(s) - lq - np.log(rate)) * _TS_W[:, None]
            total += np.sum(dens * _t_bracket(s, n_i, c_i), axis=0)
            result[i] = -total
        out[work] = np.sign(x) * result
    return out.reshape(shape)[()]


# ---------------------------------------------------------------------------------------------
# von Mises: d/dkappa of F(x) = int_{-pi}^x exp(kappa cos t) dt / (2 pi I0(kappa))
# ---------------------------------------------------------------------------------------------

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
    Measured: 1e-13 relative for :math:`\kappa \in [10^{-3}, 1000]`.
    """
    shape, (k, x) = _broadcast(kappa, x)
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
    value at :math:`y`.  Measured: max relative error 3e-11 (at values near 1e-160) for
    :math:`\kappa \in [10^{-3}, 1000]`, :math:`x \in [-\pi, \pi]`; subnormal results lose digits.
    """
    shape, (k, x) = _broadcast(kappa, x)
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
