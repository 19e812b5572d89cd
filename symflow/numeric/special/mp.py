r"""mpmath implementations (any precision) of the functions the special-function tables add.

Each function takes and returns mpmath numbers and works at the caller's precision
(``mpmath.mp.prec``); they raise it internally where a formula cancels.  They are the values behind
``evalf`` of the SymPy classes in ``classes`` and the entries of
``special.mpmath_implementations()``.  They are deliberately independent of the float64 kernels in
``kernels``: derivatives in a parameter are mpmath's own numerical differentiation
(``mpmath.diff``) of mpmath's regularized functions, taken on whichever side (the function or its
complement) is the smaller, so the difference quotient keeps its relative accuracy in both tails.
"""

from __future__ import annotations

import mpmath

__all__ = [
    "betainc_da",
    "betainc_db",
    "betainc_regularized",
    "erf2",
    "erfcinv",
    "gammainc_da",
    "gammainc_p",
    "gammainc_q",
    "student_t_cdf",
    "student_t_cdf_dnu",
    "von_mises_cdf",
    "von_mises_cdf_dkappa",
]

# Guard bits for numerical differentiation: mpmath.diff loses about half the working precision to
# the step, so the function is evaluated with this many extra bits.
_GUARD = 40


def gammainc_p(a, x):
    r"""Regularized lower incomplete gamma :math:`P(a, x) = \gamma(a, x)/\Gamma(a)`."""
    return mpmath.gammainc(a, 0, x, regularized=True)


def gammainc_q(a, x):
    r"""Regularized upper incomplete gamma :math:`Q(a, x) = \Gamma(a, x)/\Gamma(a)`."""
    return mpmath.gammainc(a, x, mpmath.inf, regularized=True)


def gammainc_da(a, x):
    r""":math:`\partial P(a, x)/\partial a` (:math:`= -\partial Q/\partial a`), by ``mpmath.diff``.

    Differentiates :math:`P` where :math:`P < 1/2` and :math:`-Q` otherwise: the smaller one
    keeps full relative precision, so the derivative does too in both tails.
    """
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


def betainc_da(a, b, x):
    r""":math:`\partial I_x(a, b)/\partial a` of the regularized incomplete beta function, by ``mpmath.diff``."""
    return _betainc_d(a, b, x, True)


def betainc_db(a, b, x):
    r""":math:`\partial I_x(a, b)/\partial b` of the regularized incomplete beta function, by ``mpmath.diff``."""
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
    r""":math:`\partial F_\nu(x)/\partial\nu` of the Student-t CDF, by ``mpmath.diff``.

    Odd in :math:`x`; for :math:`x > 0` it differentiates :math:`F - 1/2` or :math:`-(1 - F)`,
    whichever is smaller.
    """
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
