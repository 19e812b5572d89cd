r"""Location-scale families: p(x; mu, sigma) = f((x - mu)/sigma)/sigma.

One builder serves them all.  Each family is a row of ``_TABLE``: the
standard density f, its CDF, the base density of the reparameterization
x = mu + sigma eps (eps ~ f) and the numpy draw.  They share ``mu`` (real)
and ``sigma`` (positive), so their estimators can be mixed; ``sigma`` is
always the *scale* of the family, the standard deviation only for the normal.

============== ============ ================= =============== ===============
family         params       reparameterization standardize     cdf
============== ============ ================= =============== ===============
normal         mu, sigma    mu + sigma eps     (x - mu)/sigma  erf
laplace        mu, sigma    mu + sigma eps     (x - mu)/sigma  piecewise exp
logistic       mu, sigma    mu + sigma eps     (x - mu)/sigma  sigmoid
l_distribution mu, sigma    mu + sigma eps     (x - mu)/sigma  Phi(z) - z phi(z)
student_t      mu, sigma,nu only for fixed nu  only fixed nu   2F1
============== ============ ================= =============== ===============

Each of mu and sigma may be a Symbol or an expression in Symbols
(``normal(mu=m, sigma=2 * m)`` ties them); the density's parameters are then
the free Symbols (see ``_common``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from ..core.density import Density
from ..numeric.special import StudentTCDF
from ._common import EPS, MU, NU, REAL, SIGMA, Family, Slot, X, positive_number, slot_value, symbol_or_default
from .bases import SQRT2PI, base, std_l_expr, std_laplace_expr, std_logistic_expr, std_normal_expr, std_t_expr
from .samplers import Draw, std_l_draw

__all__ = ["l_distribution", "laplace", "logistic", "normal", "student_t"]

_SLOTS = (Slot("mu", MU, REAL), Slot("sigma", SIGMA))
_NU_SLOT = Slot("nu", NU)


@dataclass(frozen=True)
class _Row:
    """A location-scale family: standard density f(z), its CDF F(z), base kind, and draw(mu, sigma)."""

    std: Callable[[sp.Expr], sp.Expr]
    std_cdf: Callable[[sp.Expr], sp.Expr]
    base: str
    draw: Callable[[sp.Expr, sp.Expr], Draw]


def _family(name: str, row: _Row) -> Family:
    """p(x) = f((x - mu)/sigma)/sigma with x = mu + sigma eps, eps ~ f."""
    return Family(
        name,
        _SLOTS,
        density=lambda x, mu, sigma: row.std((x - mu) / sigma) / sigma,
        support=lambda mu, sigma: sp.S.Reals,
        draw=row.draw,
        cdf=lambda x, mu, sigma: row.std_cdf((x - mu) / sigma),
        reparam=lambda mu, sigma: (mu + sigma * EPS, base(row.base)),
        standardize=lambda x, mu, sigma: (x - mu) / sigma,
    )


def _std_l_cdf(z: sp.Expr) -> sp.Expr:
    return (1 + sp.erf(z / sp.sqrt(2))) / 2 - z * sp.exp(-(z**2) / 2) / SQRT2PI


_TABLE = {
    "normal": _Row(
        std_normal_expr, lambda z: (1 + sp.erf(z / sp.sqrt(2))) / 2, "normal", lambda m, s: Draw("normal", (m, s))
    ),
    "laplace": _Row(
        std_laplace_expr,
        lambda z: sp.Piecewise((sp.exp(z) / 2, z < 0), (1 - sp.exp(-z) / 2, True)),
        "laplace",
        lambda m, s: Draw("laplace", (m, s)),
    ),
    "logistic": _Row(
        std_logistic_expr, lambda z: 1 / (1 + sp.exp(-z)), "logistic", lambda m, s: Draw("logistic", (m, s))
    ),
    "l_distribution": _Row(std_l_expr, _std_l_cdf, "l", lambda m, s: Draw(std_l_draw, loc=m, scale=s)),
}
_FAMILIES = {name: _family(name, row) for name, row in _TABLE.items()}


def _build(name: str, x: object, mu: object, sigma: object) -> Density:
    return _FAMILIES[name](symbol_or_default(x, X, "x"), (mu, sigma))


def normal(x: sp.Symbol | None = None, mu: sp.Expr | None = None, sigma: sp.Expr | None = None) -> Density:
    r"""The normal density N(mu, sigma^2).

    .. math:: p(x;\mu,\sigma) = \frac{1}{\sqrt{2\pi}\sigma}\exp\!\left(-\frac{(x-\mu)^2}{2\sigma^2}\right)

    Parameter order: ``(mu, sigma)`` (mean, standard deviation).  Reparameterization
    x = mu + sigma eps, eps ~ N(0, 1) (Sec. 2.2); standardization (x - mu)/sigma;
    CDF (1 + erf((x - mu)/(sqrt(2) sigma)))/2.  Its score is Eq. (21).

    Parameters
    ----------
    x : Symbol, optional
        Replaces the default variable x (real).
    mu, sigma : Symbol or expression in Symbols, optional
        Replace the default Symbols mu (real), sigma (positive); a shared
        Symbol ties them (the parameters are then the free Symbols).
    """
    return _build("normal", x, mu, sigma)


def laplace(x: sp.Symbol | None = None, mu: sp.Expr | None = None, sigma: sp.Expr | None = None) -> Density:
    r"""The Laplace density with location mu and scale sigma (often written b).

    .. math:: p(x;\mu,\sigma) = \frac{1}{2\sigma}\exp\!\left(-\frac{|x-\mu|}{\sigma}\right)

    Parameter order: ``(mu, sigma)``.  Mean mu, variance 2 sigma^2.
    Reparameterization x = mu + sigma eps, eps ~ Laplace(0, 1); CDF
    exp(z)/2 for z < 0 and 1 - exp(-z)/2 otherwise, z = (x - mu)/sigma.

    Parameters
    ----------
    x : Symbol, optional
        Replaces the default variable x (real).
    mu, sigma : Symbol or expression in Symbols, optional
        Replace the default Symbols mu (real), sigma (positive).
    """
    return _build("laplace", x, mu, sigma)


def logistic(x: sp.Symbol | None = None, mu: sp.Expr | None = None, sigma: sp.Expr | None = None) -> Density:
    r"""The logistic density with location mu and scale sigma (often written s).

    .. math:: p(x;\mu,\sigma) = \frac{e^{-(x-\mu)/\sigma}}{\sigma\,(1 + e^{-(x-\mu)/\sigma})^2}

    Parameter order: ``(mu, sigma)``.  Mean mu, variance pi^2 sigma^2 / 3.
    Reparameterization x = mu + sigma eps, eps ~ Logistic(0, 1); CDF
    1/(1 + exp(-(x - mu)/sigma)).

    Parameters
    ----------
    x : Symbol, optional
        Replaces the default variable x (real).
    mu, sigma : Symbol or expression in Symbols, optional
        Replace the default Symbols mu (real), sigma (positive).
    """
    return _build("logistic", x, mu, sigma)


def l_distribution(x: sp.Symbol | None = None, mu: sp.Expr | None = None, sigma: sp.Expr | None = None) -> Density:
    r"""The L-distribution of Eq. (78), the "slice" distribution of N(mu, sigma^2).

    .. math:: q_L(x;\mu,\sigma) = \frac{(x-\mu)^2}{\sqrt{2\pi}\,\sigma^3}
              \exp\!\left(-\frac{(x-\mu)^2}{2\sigma^2}\right)

    Parameter order: ``(mu, sigma)`` -- the same Symbols as ``normal()``, so
    it can serve as the sampling density q of an estimator for the normal
    (Eq. 80).  Mean mu, variance 3 sigma^2.  The sampler is Eq. (79):
    x = mu +- sigma sqrt(-2 log eps_h + eps_x^2), eps_x ~ N(0, 1),
    eps_h ~ U(0, 1), each sign with probability 1/2.  Being a location-scale
    family it also has the 1-D reparameterization x = mu + sigma eps with eps
    from the standard L-distribution, and the CDF Phi(z) - z phi(z),
    z = (x - mu)/sigma.

    Parameters
    ----------
    x : Symbol, optional
        Replaces the default variable x (real).
    mu, sigma : Symbol or expression in Symbols, optional
        Replace the default Symbols mu (real), sigma (positive).
    """
    return _build("l_distribution", x, mu, sigma)


def _t_cdf(z: sp.Expr, nu: sp.Expr) -> sp.Expr:
    return sp.S.Half + z * sp.gamma((nu + 1) / 2) * sp.hyper(
        (sp.S.Half, (nu + 1) / 2), (sp.Rational(3, 2),), -(z**2) / nu
    ) / (sp.sqrt(sp.pi * nu) * sp.gamma(nu / 2))


def _t_family(nu: sp.Expr, fixed: bool) -> Family:
    """Student's t with nu either a fixed number (a theta-free base: reparameterized) or a slot value."""
    slots = _SLOTS if fixed else (*_SLOTS, _NU_SLOT)

    def arg(theta: tuple) -> sp.Expr:
        return nu if fixed else theta[2]

    return Family(
        "student_t" if not fixed else f"student_t(nu={nu})",
        slots,
        density=lambda x, mu, sigma, *t: std_t_expr((x - mu) / sigma, arg((mu, sigma, *t))) / sigma,
        support=lambda *theta: sp.S.Reals,
        draw=lambda mu, sigma, *t: Draw("standard_t", (arg((mu, sigma, *t)),), loc=mu, scale=sigma),
        # nu a parameter: StudentTCDF, whose d/dnu is StudentTCDFDerivNu (a name the numeric layer
        # evaluates) -- d/dnu of the 2F1 form is an unevaluated Derivative of hyper, and simplify
        # writes its argument with exp_polar(I pi).  A fixed nu keeps the 2F1 form.
        cdf=(lambda x, mu, sigma: _t_cdf((x - mu) / sigma, nu))
        if fixed
        else (lambda x, mu, sigma, n: StudentTCDF(n, (x - mu) / sigma)),
        # x = mu + sigma eps needs eps ~ t(nu) free of every parameter: only for a fixed nu.
        reparam=(lambda mu, sigma: (mu + sigma * EPS, base("t", nu))) if fixed else None,
        standardize=(lambda x, mu, sigma: (x - mu) / sigma) if fixed else None,
    )


def student_t(
    x: sp.Symbol | None = None,
    mu: sp.Expr | None = None,
    sigma: sp.Expr | None = None,
    nu: sp.Expr | int | float | None = None,
) -> Density:
    r"""Student's t with location mu, scale sigma and nu degrees of freedom.

    .. math:: p(x;\mu,\sigma,\nu) = \frac{\Gamma(\frac{\nu+1}{2})}{\sqrt{\nu\pi}\,\sigma\,\Gamma(\frac{\nu}{2})}
              \left(1 + \frac{z^2}{\nu}\right)^{-\frac{\nu+1}{2}}, \quad z = \frac{x-\mu}{\sigma}

    Parameter order: ``(mu, sigma, nu)``, or ``(mu, sigma)`` when ``nu`` is a
    number.  Mean mu (nu > 1), variance sigma^2 nu/(nu - 2) (nu > 2).  CDF

    .. math:: F(x) = \frac12 + z\,\frac{\Gamma(\frac{\nu+1}{2})}{\sqrt{\pi\nu}\,\Gamma(\frac{\nu}{2})}
              \,{}_2F_1\!\left(\tfrac12, \tfrac{\nu+1}{2}; \tfrac32; -\tfrac{z^2}{\nu}\right),

    valid for every real z (mpmath continues 2F1 past z^2 > nu) and for nu a
    parameter; it agrees with scipy's ``t.cdf`` and with the incomplete-beta
    form 1 - I_{nu/(nu+z^2)}(nu/2, 1/2)/2 (z > 0).  With nu a parameter the
    implicit flow (Eq. 56) for nu holds d 2F1/d nu, which SymPy keeps as an
    unevaluated ``Derivative``.

    The reparameterization x = mu + sigma eps needs eps ~ t(nu) to be free of
    every parameter, so it (and the standardization (x - mu)/sigma) is attached
    only when ``nu`` is a fixed number.  With nu a parameter use
    ``flows.implicit`` (CDF) instead.

    Parameters
    ----------
    x : Symbol, optional
        Replaces the default variable x (real).
    mu, sigma : Symbol or expression in Symbols, optional
        Replace the default Symbols mu (real), sigma (positive).
    nu : Symbol, expression in Symbols, or positive number, optional
        The degrees of freedom: a Symbol (default ``nu``, positive) or an
        expression makes it a parameter; a number fixes it.
    """
    x = symbol_or_default(x, X, "x")
    if nu is None or isinstance(nu, sp.Expr) and nu.free_symbols:
        nu_val = slot_value(nu, _NU_SLOT)
        return _t_family(nu_val, fixed=False)(x, (mu, sigma, nu_val))
    nu_val = positive_number(nu, "nu")
    return _t_family(nu_val, fixed=True)(x, (mu, sigma))
