r"""mpmath implementations (any precision) of the functions the special-function tables add.

Each function takes and returns mpmath numbers and works at the caller's precision
(``mpmath.mp.prec``); they raise it internally where a formula cancels.  They are the values behind
``evalf`` of the SymPy classes in ``classes`` and the entries of
``special.mpmath_implementations()``.  They are deliberately independent of the float64 kernels in
``kernels``: derivatives in a parameter are mpmath's own numerical differentiation
(``mpmath.diff``) of mpmath's regularized functions, taken on whichever side (the function or its
complement) is the smaller, so the difference quotient keeps its relative accuracy in both tails.

One concept although long: the mpmath implementations behind the special-function table, one
function each, all with the same precision conventions.
"""

from __future__ import annotations

import functools

import mpmath

__all__ = [
    "betainc_da",
    "betainc_da_by_diff",
    "betainc_db",
    "betainc_db_by_diff",
    "betainc_regularized",
    "erf2",
    "erfcinv",
    "gammainc_da",
    "gammainc_da_by_diff",
    "gammainc_p",
    "gammainc_q",
    "student_t_cdf",
    "student_t_cdf_dnu",
    "student_t_cdf_dnu_by_diff",
    "von_mises_cdf",
    "von_mises_cdf_dkappa",
]

# Guard bits for numerical differentiation: mpmath.diff loses about half the working precision to
# the step, so the function is evaluated with this many extra bits.
_GUARD = 40
# The series routes of the shape derivatives hold for shape parameters up to this size (the beta
# series' guard bits grow with a + b); above, mpmath.diff of mpmath's functions.
_SERIES_MAX_SHAPE = 200


def gammainc_p(a, x):
    r"""Regularized lower incomplete gamma :math:`P(a, x) = \gamma(a, x)/\Gamma(a)`."""
    return mpmath.gammainc(a, 0, x, regularized=True)


def gammainc_q(a, x):
    r"""Regularized upper incomplete gamma :math:`Q(a, x) = \Gamma(a, x)/\Gamma(a)`."""
    return mpmath.gammainc(a, x, mpmath.inf, regularized=True)


# The series route of dP/da is used for x up to this size (its guard bits grow like 1.5 x: near
# P = 1 the derivative is ~ e^-x of the series' parts) and a up to _SERIES_MAX_SHAPE.
_GAMMA_SERIES_MAX_X = 400


# Constants of the shape parameters alone (Gamma, Beta, digamma) are cached per (shapes, bits): a
# quadrature over x evaluates these functions at hundreds of nodes with the same shapes, and the
# constants cost more than the series.  Bits are rounded up to a multiple of _CONST_BITS (a value
# computed with more bits is at least as accurate), so a precision that grows with x (the gamma
# series' guard bits) still hits the cache.
_CONST_BITS = 64


def _const_prec(wp: int) -> int:
    return -(-wp // _CONST_BITS) * _CONST_BITS


@functools.lru_cache(maxsize=256)
def _gamma_consts(a, prec: int) -> tuple:
    """(Gamma(a + 1), psi(a + 1)) at ``prec`` bits."""
    with mpmath.workprec(prec):
        return mpmath.gamma(a + 1), mpmath.digamma(a + 1)


@functools.lru_cache(maxsize=256)
def _beta_consts(a, b, prec: int) -> tuple:
    """(B(a, b), psi(a), psi(b), psi(a + b)) at ``prec`` bits."""
    with mpmath.workprec(prec):
        return mpmath.beta(a, b), mpmath.digamma(a), mpmath.digamma(b), mpmath.digamma(a + b)


def _fixed(v, wp: int) -> int:
    """v (an mpf) as an integer scaled by 2^wp: the series below run on Python integers (~30x
    faster than mpf arithmetic), each step rounding by at most one unit of 2^-wp."""
    return int(mpmath.floor(mpmath.ldexp(v, wp)))


def _unfixed(v: int, wp: int):
    return mpmath.ldexp(mpmath.mpf(v), -wp)


def _gammainc_da_series(a, x):
    r""":math:`\partial P(a, x)/\partial a` from :math:`P = x^a e^{-x}\sum_{n\ge0} x^n/\Gamma(a + n + 1)`.

    Term by term: :math:`\partial_a P = P \log x - x^a e^{-x}\sum_n \psi(a + n + 1)\,x^n/\Gamma(a + n + 1)`,
    with :math:`\psi(a + n + 1) = \psi(a + n) + 1/(a + n)`: one gamma and one digamma per call,
    the sums in fixed point.  All terms are positive; the difference loses about log2(e) x bits
    where P is near 1, which the guard bits cover.
    """
    prec = mpmath.mp.prec
    wp = prec + 60 + int(1.5 * x)
    with mpmath.workprec(wp):
        one = 1 << wp
        X, A = _fixed(x, wp), _fixed(a, wp)
        gamma_a1, psi_a1 = _gamma_consts(a, _const_prec(wp))
        x_float = float(x)  # the loop's stopping test on a float: an mpf comparison per term costs a third
        term = one  # the terms relative to the first, 1/Gamma(a + 1) (a tiny number in fixed point)
        psi = _fixed(psi_a1, wp)
        s0, s1 = term, (term * psi) >> wp
        n = 0
        while True:
            n += 1
            an = A + n * one
            term = (term * X) // an
            psi += (one << wp) // an
            s0 += term
            s1 += (term * psi) >> wp
            # the tail below 2^-(wp - 20) of the sum: the cancellation of up to 1.5 x bits
            # afterwards leaves prec + 40 bits
            if (n > x_float and term * (abs(psi >> wp) + 1) <= s0 >> (wp - 20)) or term == 0:
                break
        scale = mpmath.power(x, a) * mpmath.exp(-x) / gamma_a1
        return scale * (_unfixed(s0, wp) * mpmath.log(x) - _unfixed(s1, wp))


def gammainc_da(a, x):
    r""":math:`\partial P(a, x)/\partial a` (:math:`= -\partial Q/\partial a`).

    By the term-by-term derivative of the power series (``_gammainc_da_series``, about 1 ms at
    60 digits) for x <= 400 and a <= 200; else by ``mpmath.diff``, which differentiates :math:`P`
    where :math:`P < 1/2` and :math:`-Q` otherwise: the smaller one keeps full relative
    precision, so the derivative does too in both tails.
    """
    a, x = mpmath.mpf(a), mpmath.mpf(x)
    if x <= 0:
        return mpmath.mpf(0) if x == 0 else mpmath.nan
    if mpmath.isinf(x):
        return mpmath.mpf(0)
    if 0 < a <= _SERIES_MAX_SHAPE and x <= _GAMMA_SERIES_MAX_X:
        return +_gammainc_da_series(a, x)
    return gammainc_da_by_diff(a, x)


def gammainc_da_by_diff(a, x):
    r""":math:`\partial P(a, x)/\partial a` by ``mpmath.diff`` (the independent reference of the series)."""
    a, x = mpmath.mpf(a), mpmath.mpf(x)
    if x <= 0:
        return mpmath.mpf(0) if x == 0 else mpmath.nan
    if mpmath.isinf(x):
        return mpmath.mpf(0)
    prec = mpmath.mp.prec
    with mpmath.workprec(prec + _GUARD):
        if gammainc_p(a, x) < 0.5:
            value = mpmath.diff(lambda s: gammainc_p(s, x), a)
        else:
            value = -mpmath.diff(lambda s: gammainc_q(s, x), a)
    return +value


def betainc_regularized(a, b, x1, x2):
    r""":math:`I_{x_2}(a, b) - I_{x_1}(a, b)`, regularized.

    (``lambdify``'s own mpmath route maps ``betainc_regularized`` to the unregularized ``mpmath.betainc``.)
    """
    return mpmath.betainc(a, b, x1, x2, regularized=True)


def _beta_side(a, b, x):
    """(sign, function of (a, b) to differentiate): the smaller of I_x(a, b) and 1 - I_x(a, b).

    The complement is taken as :math:`I_{1-x}(b, a)`, integrated from 0: ``mpmath.betainc(a, b, x, 1)``
    is a difference of two values near 1 and loses the digits of a small complement.
    """
    if mpmath.betainc(a, b, 0, x, regularized=True) < 0.5:
        return 1, lambda p, q: mpmath.betainc(p, q, 0, x, regularized=True)
    y = 1 - x
    return -1, lambda p, q: mpmath.betainc(q, p, 0, y, regularized=True)


def _betainc_d(a, b, x, wrt_a: bool):
    a, b, x = mpmath.mpf(a), mpmath.mpf(b), mpmath.mpf(x)
    if x <= 0 or x >= 1:
        return mpmath.mpf(0) if x in (0, 1) else mpmath.nan
    prec = mpmath.mp.prec
    with mpmath.workprec(prec + _GUARD):
        sign, f = _beta_side(a, b, x)
        if wrt_a:
            value = sign * mpmath.diff(lambda p: f(p, b), a)
        else:
            value = sign * mpmath.diff(lambda q: f(a, q), b)
    return +value


def _beta_series(a, b, x):
    r"""(I, dI/da, dI/db) of :math:`I_x(a, b)` by its power series, for :math:`0 < x \le 1/2`.

    .. math::
        I_x(a, b) = \frac{x^a}{B(a, b)} \sum_{n \ge 0} \frac{t_n}{a + n}, \qquad
        t_n = \frac{(1 - b)_n x^n}{n!},

    differentiated term by term: :math:`\partial_a` adds
    :math:`I(\log x - \psi(a) + \psi(a + b)) - \frac{x^a}{B}\sum t_n/(a + n)^2`, and
    :math:`\partial_b` adds :math:`I(\psi(a + b) - \psi(b)) + \frac{x^a}{B}\sum t_n'/(a + n)`
    with :math:`t_n' = \partial_b t_n` carried by the recursion of the product (no division by
    :math:`1 - b + k`, which is 0 for an integer b).  The terms shrink like :math:`x^n \le 2^{-n}`;
    the sums run in fixed point at the caller's working precision.
    """
    wp = mpmath.mp.prec
    one = 1 << wp
    X, A, B1 = _fixed(x, wp), _fixed(a, wp), _fixed(1 - b, wp)
    t, dt = one, 0
    s0 = s1 = sb = 0
    n = 0
    while True:
        an = A + n * one
        q = (t << wp) // an
        s0 += q
        s1 += (q << wp) // an
        sb += (dt << wp) // an
        # floor division leaves a negative term at -1 ulp for ever: stop within 16 ulps
        if n > 8 and abs(t) + abs(dt) <= max((abs(s0) + abs(sb)) >> (wp - 20), 16):
            break
        bn = B1 + n * one
        t, dt = ((t * bn >> wp) * X >> wp) // (n + 1), (((dt * bn >> wp) - t) * X >> wp) // (n + 1)
        n += 1
        if n > 100000:  # pragma: no cover - x <= 1/2 converges in ~prec terms
            raise mpmath.libmp.NoConvergence("betainc series")
    beta_ab, psi_a, psi_b, psi_ab = _beta_consts(a, b, _const_prec(wp))
    scale = mpmath.power(x, a) / beta_ab
    value = scale * _unfixed(s0, wp)
    da = value * (mpmath.log(x) - psi_a + psi_ab) - scale * _unfixed(s1, wp)
    db = value * (psi_ab - psi_b) + scale * _unfixed(sb, wp)
    return value, da, db


def _betainc_d_series(a, b, x, wrt_a: bool):
    """dI_x(a, b)/da (or /db) by ``_beta_series``, on the side x <= 1/2 (else through I_x(a, b) = 1 - I_{1-x}(b, a)).

    Guard bits cover the growth of the alternating terms (1 - b)_n / n! (up to 2^b) and the
    cancellation of the two parts of the derivative.
    """
    guard = 40 + int(abs(a) + abs(b))
    with mpmath.workprec(mpmath.mp.prec + guard):
        if x <= 0.5:
            _, da, db = _beta_series(a, b, x)
            return da if wrt_a else db
        _, da_c, db_c = _beta_series(b, a, 1 - x)  # I_{1-x}(b, a): its 'a' is our b
        return -db_c if wrt_a else -da_c


def betainc_da(a, b, x):
    r""":math:`\partial I_x(a, b)/\partial a` of the regularized incomplete beta function.

    By the term-by-term derivative of the power series (``_beta_series``) for a + b <= 200 (about
    0.2 ms at 60 digits, against 11 ms for ``mpmath.diff``: quadrature at 50 digits evaluates it
    at hundreds of nodes), else by ``mpmath.diff``.
    """
    a, b, x = mpmath.mpf(a), mpmath.mpf(b), mpmath.mpf(x)
    if 0 < x < 1 and a > 0 and b > 0 and a + b <= _SERIES_MAX_SHAPE:
        return +_betainc_d_series(a, b, x, True)
    return _betainc_d(a, b, x, True)


def betainc_db(a, b, x):
    r""":math:`\partial I_x(a, b)/\partial b` of the regularized incomplete beta function (see ``betainc_da``)."""
    a, b, x = mpmath.mpf(a), mpmath.mpf(b), mpmath.mpf(x)
    if 0 < x < 1 and a > 0 and b > 0 and a + b <= _SERIES_MAX_SHAPE:
        return +_betainc_d_series(a, b, x, False)
    return _betainc_d(a, b, x, False)


def betainc_da_by_diff(a, b, x):
    r""":math:`\partial I_x(a, b)/\partial a` by ``mpmath.diff`` (the independent reference of the series)."""
    return _betainc_d(a, b, x, True)


def betainc_db_by_diff(a, b, x):
    r""":math:`\partial I_x(a, b)/\partial b` by ``mpmath.diff`` (the independent reference of the series)."""
    return _betainc_d(a, b, x, False)


def _t_pieces(nu, x):
    r"""For :math:`x \ge 0`: (central, tail) with :math:`F - 1/2 = ` central and :math:`1 - F = ` tail.

    :math:`F(x) - \tfrac12 = \tfrac12 I_{x^2/(\nu+x^2)}(\tfrac12, \tfrac\nu2)` and
    :math:`1 - F(x) = \tfrac12 I_{\nu/(\nu+x^2)}(\tfrac\nu2, \tfrac12)`; each is accurate where it is small.
    """
    x2 = x * x
    central = lambda n: mpmath.betainc(0.5, n / 2, 0, x2 / (n + x2), regularized=True) / 2  # noqa: E731
    tail = lambda n: mpmath.betainc(n / 2, 0.5, 0, n / (n + x2), regularized=True) / 2  # noqa: E731
    return central, tail


def student_t_cdf(nu, x):
    r"""Student-t CDF :math:`F_\nu(x)`, with both tails to full relative precision."""
    nu, x = mpmath.mpf(nu), mpmath.mpf(x)
    central, tail = _t_pieces(nu, abs(x))
    small_central = x * x < nu  # then F(|x|) - 1/2 < 1/2 - (1 - F(|x|))
    if x >= 0:
        return 0.5 + central(nu) if small_central else 1 - tail(nu)
    return 0.5 - central(nu) if small_central else tail(nu)


def student_t_cdf_dnu(nu, x):
    r""":math:`\partial F_\nu(x)/\partial\nu` of the Student-t CDF.

    Odd in :math:`x`; for :math:`x > 0` it differentiates :math:`F - 1/2 = \tfrac12 I_y(\tfrac12,
    \tfrac\nu2)`, :math:`y = x^2/(\nu + x^2)`, or :math:`-(1 - F) = -\tfrac12 I_z(\tfrac\nu2,
    \tfrac12)`, :math:`z = \nu/(\nu + x^2)`, whichever is smaller, by the chain rule through the
    incomplete beta's shape derivative (``betainc_db`` / ``betainc_da``: series) and its
    x-derivative (the beta density) times :math:`dy/d\nu = -x^2/(\nu + x^2)^2 = -dz/d\nu`.
    Beyond the series' range (nu > 400) ``mpmath.diff`` of the CDF pieces.
    """
    nu, x = mpmath.mpf(nu), mpmath.mpf(x)
    if x == 0 or mpmath.isinf(x):
        return mpmath.mpf(0)
    if not 0 < nu <= 2 * _SERIES_MAX_SHAPE - 1:
        return student_t_cdf_dnu_by_diff(nu, x)
    prec = mpmath.mp.prec
    with mpmath.workprec(prec + 20):
        x2 = x * x
        half, shape = mpmath.mpf(0.5), nu / 2
        dnu = x2 / (nu + x2) ** 2  # dz/dnu; dy/dnu = -dnu
        central, _ = _t_pieces(nu, abs(x))
        # Which side is the smaller one only decides accuracy (both are exact formulas): 64 bits
        # tell it, where the full precision would cost a second incomplete beta per call.
        with mpmath.workprec(64):
            central_side = central(nu) < 0.25
        beta_half = _beta_consts(half, shape, _const_prec(mpmath.mp.prec))[0]
        if central_side:
            y = x2 / (nu + x2)
            density = mpmath.power(y, -half) * mpmath.power(1 - y, shape - 1) / beta_half
            value = (betainc_db(half, shape, y) / 2 - density * dnu) / 2
        else:
            z = nu / (nu + x2)
            density = mpmath.power(z, shape - 1) * mpmath.power(1 - z, -half) / beta_half
            value = -(betainc_da(shape, half, z) / 2 + density * dnu) / 2
    return +value if x > 0 else -value


def student_t_cdf_dnu_by_diff(nu, x):
    r""":math:`\partial F_\nu(x)/\partial\nu` by ``mpmath.diff`` (the independent reference of the chain rule)."""
    nu, x = mpmath.mpf(nu), mpmath.mpf(x)
    if x == 0 or mpmath.isinf(x):
        return mpmath.mpf(0)
    prec = mpmath.mp.prec
    with mpmath.workprec(prec + _GUARD):
        central, tail = _t_pieces(nu, abs(x))
        value = mpmath.diff(central, nu) if central(nu) < 0.25 else -mpmath.diff(tail, nu)
    return +value if x > 0 else -value


def _von_mises_parts(kappa):
    """(normalization 1/(2 pi I0(kappa) e^-kappa), A = I1/I0) for the scaled density exp(kappa (cos t - 1))."""
    i0 = mpmath.besseli(0, kappa)
    return 1 / (2 * mpmath.pi * i0 * mpmath.exp(-kappa)), mpmath.besseli(1, kappa) / i0


def _von_mises_left(kappa, y, g):
    r""":math:`\int_{-\pi}^{y} e^{\kappa(\cos t - 1)}\, g(\cos t)\,dt` for :math:`y \le 0`.

    For large :math:`\kappa` the integrand is a sharp cliff at :math:`y`; the substitution
    :math:`z = \kappa(\cos y - \cos t)` turns it into :math:`e^{-z}` times a smooth factor.
    """
    cy = mpmath.cos(y)
    # mpmath.quad stops on an *absolute* error estimate, so the integrand is scaled to be O(1) at y
    # and the scale exp(kappa (cos y - 1)) is multiplied back afterwards.
    if kappa * (1 + cy) < 8:
        inner = mpmath.quad(lambda t: mpmath.exp(kappa * (mpmath.cos(t) - cy)) * g(mpmath.cos(t)), [-mpmath.pi, y])
        return mpmath.exp(kappa * (cy - 1)) * inner
    zmax = kappa * (1 + cy)
    # z = zmax - w^2 removes the inverse square root at t = -pi (1 + cos t = w^2/kappa), which
    # tanh-sinh would otherwise sample at nodes whose distance to the end is rounded
    root = mpmath.sqrt(zmax)

    def h(w):
        one_plus_c = w * w / kappa
        return mpmath.exp(w * w - zmax) * g(one_plus_c - 1) * 2 / (mpmath.sqrt(kappa) * mpmath.sqrt(2 - one_plus_c))

    breaks = [mpmath.sqrt(zmax - p) for p in (256, 64, 16, 4, 1) if p < zmax]
    return mpmath.exp(kappa * (cy - 1)) * mpmath.quad(h, [mpmath.mpf(0), *breaks, root])


def _reduce_angle(x):
    """x - 2 pi k in [-pi, pi) and k."""
    k = mpmath.floor((x + mpmath.pi) / (2 * mpmath.pi))
    return x - 2 * mpmath.pi * k, k


def von_mises_cdf(kappa, x):
    r"""von Mises CDF :math:`F(x) = \int_{-\pi}^{x} e^{\kappa\cos t}\,dt / (2\pi I_0(\kappa))`.

    Extended beyond :math:`[-\pi, \pi)` by :math:`F(x + 2\pi) = F(x) + 1`.
    """
    kappa, x = mpmath.mpf(kappa), mpmath.mpf(x)
    y, k = _reduce_angle(x)
    norm, _ = _von_mises_parts(kappa)
    left = norm * _von_mises_left(kappa, -abs(y), lambda c: 1)
    return k + left if y <= 0 else (k + 1) - left


# The Fourier route of the kappa-derivative is used up to this kappa: its terms reach
# e^{-2 kappa} of the largest (the value near x = +-pi), covered by guard bits growing with kappa.
_FOURIER_MAX_KAPPA = 50


def _fourier_guard(kappa) -> int:
    return 30 + int(3 * kappa)


@functools.lru_cache(maxsize=32)
def _dkappa_fourier(kappa, prec: int) -> tuple:
    r"""Coefficients :math:`c_n = r_n'(\kappa)/(\pi n)` of :math:`\partial_\kappa F = \sum_{n \ge 1} c_n \sin(n x)`.

    From :math:`e^{\kappa\cos t} = I_0(\kappa) + 2\sum_{n\ge1} I_n(\kappa)\cos(n t)`:
    :math:`F(x) = \frac{x + \pi}{2\pi} + \frac1\pi\sum_{n\ge1} r_n \frac{\sin(n x)}{n}` with
    :math:`r_n = I_n/I_0`, and :math:`r_n' = \frac{I_{n-1} + I_{n+1}}{2 I_0} - r_n r_1`.  Summed
    until a coefficient is below 2^-(prec + guard) (the terms fall faster than geometrically
    once n > kappa); computed once per (kappa, precision), so a quadrature over x costs one
    sine sum per node.
    """
    with mpmath.workprec(prec + _fourier_guard(kappa)):
        eps = mpmath.mpf(2) ** (-(prec + _fourier_guard(kappa)))
        i0 = mpmath.besseli(0, kappa)
        bessel = [i0, mpmath.besseli(1, kappa)]
        r1 = bessel[1] / i0
        coeffs = []
        n = 1
        while True:
            bessel.append(mpmath.besseli(n + 1, kappa))
            rn = bessel[n] / i0
            c = ((bessel[n - 1] + bessel[n + 1]) / (2 * i0) - rn * r1) / (mpmath.pi * n)
            coeffs.append(c)
            if n > kappa and abs(c) < eps:
                return tuple(coeffs)
            n += 1


def von_mises_cdf_dkappa(kappa, x):
    r""":math:`\partial F/\partial\kappa = \int_{-\pi}^{x} f(t)\,(\cos t - A)\,dt`, :math:`A = I_1(\kappa)/I_0(\kappa)`.

    It is :math:`2\pi`-periodic in :math:`x`.

    The integral over a whole period is :math:`\partial 1/\partial\kappa = 0` and the integrand is even,
    so :math:`G(-y) = -G(y)` and :math:`G(0) = 0`; for :math:`y \le 0` it integrates from
    :math:`-\pi` when :math:`\cos y \le A` (integrand negative throughout) and else
    :math:`-\int_y^0` (integrand positive throughout): no cancellation either way.
    """
    kappa, x = mpmath.mpf(kappa), mpmath.mpf(x)
    prec = mpmath.mp.prec
    if 0 < kappa <= _FOURIER_MAX_KAPPA:
        with mpmath.workprec(prec + _fourier_guard(kappa)):
            y, _ = _reduce_angle(x)
            value = mpmath.fsum(c * mpmath.sin(n * y) for n, c in enumerate(_dkappa_fourier(kappa, prec), start=1))
        return +value
    with mpmath.workprec(prec + 20):
        y, _ = _reduce_angle(x)
        sign = -1 if y > 0 else 1
        y = -abs(y)
        norm, A = _von_mises_parts(kappa)
        if mpmath.cos(y) <= A:
            value = norm * _von_mises_left(kappa, y, lambda c: c - A)
        else:
            value = -norm * mpmath.quad(lambda t: mpmath.exp(kappa * (mpmath.cos(t) - 1)) * (mpmath.cos(t) - A), [y, 0])
    return +(sign * value)


def erfcinv(y):
    r"""Inverse complementary error function (mpmath has none): :math:`\operatorname{erfinv}(1 - y)`.

    ``1 - y`` is formed with extra digits so the tails (``y`` near 0 or 2) keep full precision.
    """
    y = mpmath.mpf(y)
    if y <= 0 or y >= 2:
        return mpmath.inf if y == 0 else (-mpmath.inf if y == 2 else mpmath.nan)
    extra = int(max(0, -mpmath.log(min(y, 2 - y), 2))) + 10
    with mpmath.workprec(mpmath.mp.prec + extra):
        value = mpmath.erfinv(1 - y)
    return +value


def erf2(x, y):
    r""":math:`\operatorname{erf}(y) - \operatorname{erf}(x)`, through erfc in the tails (no cancellation)."""
    x, y = mpmath.mpf(x), mpmath.mpf(y)
    if x >= 0 and y >= 0:
        return mpmath.erfc(x) - mpmath.erfc(y)
    if x <= 0 and y <= 0:
        return mpmath.erfc(-y) - mpmath.erfc(-x)
    return mpmath.erf(y) - mpmath.erf(x)
