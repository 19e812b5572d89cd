r"""SymPy functions for regularized CDFs and their derivatives in a shape parameter.

SymPy has no regularized incomplete gamma, leaves
:math:`\partial_a I_x(a, b)` as an unevaluated ``Derivative`` (whose ``evalf`` recurses forever),
and writes :math:`\partial_a P(a, x)` with a Meijer G-function.  The classes here name those
quantities.  Each one

- knows its derivatives (``fdiff``): differentiating a CDF in its parameter gives the matching
  ``...Deriv...`` class, and in its argument the density, so ``sympy.diff`` stays inside the family;
- evaluates at any precision through ``evalf`` (``mp``, mpmath), independently of the
  float64 kernels that the numpy table uses (``kernels``);
- is a module-level class, so expressions containing it pickle.

A derivative that has no closed form here (e.g. :math:`\partial_a^2 P`) stays an unevaluated
``Derivative`` rather than being guessed.
"""

from __future__ import annotations

import mpmath
import sympy as sp
from sympy.core.function import ArgumentIndexError

from . import mp as mp_impl

__all__ = [
    "RegularizedIncompleteBeta",
    "RegularizedIncompleteBetaDerivA",
    "RegularizedIncompleteBetaDerivB",
    "RegularizedLowerGamma",
    "RegularizedLowerGammaDerivA",
    "RegularizedUpperGamma",
    "StudentTCDF",
    "StudentTCDFDerivNu",
    "SPECIAL_CLASSES",
    "VonMisesCDF",
    "VonMisesCDFDerivKappa",
]


class _MpmathValued(sp.Function):
    """A real function of real arguments whose ``evalf`` is ``_mpmath`` (a function of mpf arguments)."""

    _mpmath = None  # set by subclasses: a function in _special_mp

    def _eval_evalf(self, prec: int) -> sp.Expr | None:
        try:
            args = [arg._to_mpmath(prec + 10) for arg in self.args]
        except (ValueError, TypeError):
            return None  # symbolic arguments: stay unevaluated
        if any(isinstance(v, mpmath.mpc) for v in args):
            return None
        with mpmath.workprec(prec + 10):
            value = type(self)._mpmath(*args)
        return sp.Expr._from_mpmath(value, prec)

    def _latex(self, printer) -> str:
        args = ", ".join(printer._print(arg) for arg in self.args)
        return f"{self._latex_head}\\left({args}\\right)"

    _latex_head = r"\operatorname{F}"


def _gamma_density(a: sp.Expr, x: sp.Expr) -> sp.Expr:
    return x ** (a - 1) * sp.exp(-x) / sp.gamma(a)


def _beta_density(a: sp.Expr, b: sp.Expr, x: sp.Expr) -> sp.Expr:
    return x ** (a - 1) * (1 - x) ** (b - 1) / sp.beta(a, b)


def _t_density(nu: sp.Expr, x: sp.Expr) -> sp.Expr:
    return sp.gamma((nu + 1) / 2) / (sp.sqrt(sp.pi * nu) * sp.gamma(nu / 2)) * (1 + x**2 / nu) ** (-(nu + 1) / 2)


def _von_mises_density(kappa: sp.Expr, x: sp.Expr) -> sp.Expr:
    return sp.exp(kappa * sp.cos(x)) / (2 * sp.pi * sp.besseli(0, kappa))


class RegularizedLowerGamma(_MpmathValued):
    r""":math:`P(a, x) = \gamma(a, x)/\Gamma(a) = \frac{1}{\Gamma(a)}\int_0^x t^{a-1}e^{-t}\,dt`.

    The Gamma(a, 1) CDF.
    """

    nargs = 2
    _mpmath = staticmethod(mp_impl.gammainc_p)
    _latex_head = "P"

    @classmethod
    def eval(cls, a, x):
        if x.is_zero:
            return sp.S.Zero
        if x is sp.oo:
            return sp.S.One

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        a, x = self.args
        if argindex == 1:
            return RegularizedLowerGammaDerivA(a, x)
        if argindex == 2:
            return _gamma_density(a, x)
        raise ArgumentIndexError(self, argindex)

    def _eval_rewrite_as_lowergamma(self, a, x, **kwargs):
        return sp.lowergamma(a, x) / sp.gamma(a)


class RegularizedUpperGamma(_MpmathValued):
    r""":math:`Q(a, x) = \Gamma(a, x)/\Gamma(a) = 1 - P(a, x)`."""

    nargs = 2
    _mpmath = staticmethod(mp_impl.gammainc_q)
    _latex_head = "Q"

    @classmethod
    def eval(cls, a, x):
        if x.is_zero:
            return sp.S.One
        if x is sp.oo:
            return sp.S.Zero

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        a, x = self.args
        if argindex == 1:
            return -RegularizedLowerGammaDerivA(a, x)
        if argindex == 2:
            return -_gamma_density(a, x)
        raise ArgumentIndexError(self, argindex)

    def _eval_rewrite_as_uppergamma(self, a, x, **kwargs):
        return sp.uppergamma(a, x) / sp.gamma(a)


class RegularizedLowerGammaDerivA(_MpmathValued):
    r""":math:`\partial P(a, x)/\partial a = -\partial Q(a, x)/\partial a`.

    .. math:: \frac{\partial P}{\partial a} = \frac{1}{\Gamma(a)}\int_0^x t^{a-1}e^{-t}(\log t - \psi(a))\,dt
    """

    nargs = 2
    _mpmath = staticmethod(mp_impl.gammainc_da)
    _latex_head = r"\frac{\partial P}{\partial a}"

    @classmethod
    def eval(cls, a, x):
        if x.is_zero or x is sp.oo:
            return sp.S.Zero

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        a, x = self.args
        if argindex == 2:  # d/dx d/da P = d/da (density)
            return _gamma_density(a, x) * (sp.log(x) - sp.polygamma(0, a))
        raise ArgumentIndexError(self, argindex)


class RegularizedIncompleteBeta(_MpmathValued):
    r""":math:`I_x(a, b) = \frac{1}{B(a, b)}\int_0^x t^{a-1}(1-t)^{b-1}\,dt`.

    SymPy's ``betainc_regularized(a, b, 0, x)``, with derivatives in ``a`` and ``b``.
    """

    nargs = 3
    _latex_head = "I"

    @staticmethod
    def _mpmath(a, b, x):
        return mp_impl.betainc_regularized(a, b, 0, x)

    @classmethod
    def eval(cls, a, b, x):
        if x.is_zero:
            return sp.S.Zero
        if x == 1:
            return sp.S.One

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        a, b, x = self.args
        if argindex == 1:
            return RegularizedIncompleteBetaDerivA(a, b, x)
        if argindex == 2:
            return RegularizedIncompleteBetaDerivB(a, b, x)
        if argindex == 3:
            return _beta_density(a, b, x)
        raise ArgumentIndexError(self, argindex)

    def _eval_rewrite_as_betainc_regularized(self, a, b, x, **kwargs):
        return sp.betainc_regularized(a, b, 0, x)

    def _latex(self, printer) -> str:
        a, b, x = (printer._print(arg) for arg in self.args)
        return f"I_{{{x}}}\\left({a}, {b}\\right)"


class RegularizedIncompleteBetaDerivA(_MpmathValued):
    r""":math:`\partial I_x(a, b)/\partial a`.

    .. math:: \frac{1}{B(a,b)}\int_0^x t^{a-1}(1-t)^{b-1}(\log t - \psi(a) + \psi(a+b))\,dt
    """

    nargs = 3
    _mpmath = staticmethod(mp_impl.betainc_da)
    _latex_head = r"\frac{\partial I}{\partial a}"

    @classmethod
    def eval(cls, a, b, x):
        if x.is_zero or x == 1:
            return sp.S.Zero

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        a, b, x = self.args
        if argindex == 3:
            return _beta_density(a, b, x) * (sp.log(x) - sp.polygamma(0, a) + sp.polygamma(0, a + b))
        raise ArgumentIndexError(self, argindex)


class RegularizedIncompleteBetaDerivB(_MpmathValued):
    r""":math:`\partial I_x(a, b)/\partial b`.

    .. math:: \frac{1}{B(a,b)}\int_0^x t^{a-1}(1-t)^{b-1}(\log(1-t) - \psi(b) + \psi(a+b))\,dt
    """

    nargs = 3
    _mpmath = staticmethod(mp_impl.betainc_db)
    _latex_head = r"\frac{\partial I}{\partial b}"

    @classmethod
    def eval(cls, a, b, x):
        if x.is_zero or x == 1:
            return sp.S.Zero

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        a, b, x = self.args
        if argindex == 3:
            return _beta_density(a, b, x) * (sp.log(1 - x) - sp.polygamma(0, b) + sp.polygamma(0, a + b))
        raise ArgumentIndexError(self, argindex)


class StudentTCDF(_MpmathValued):
    r""":math:`F_\nu(x) = \int_{-\infty}^x \frac{\Gamma(\frac{\nu+1}{2})}{\sqrt{\nu\pi}\,\Gamma(\frac\nu2)}
    (1 + t^2/\nu)^{-\frac{\nu+1}{2}}\,dt` (SymPy writes it with ``hyper((1/2, (nu+1)/2), (3/2,), -x**2/nu)``)."""

    nargs = 2
    _mpmath = staticmethod(mp_impl.student_t_cdf)
    _latex_head = r"F_{t}"

    @classmethod
    def eval(cls, nu, x):
        if x.is_zero:
            return sp.S.Half
        if x is sp.oo:
            return sp.S.One
        if x is sp.S.NegativeInfinity:
            return sp.S.Zero

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        nu, x = self.args
        if argindex == 1:
            return StudentTCDFDerivNu(nu, x)
        if argindex == 2:
            return _t_density(nu, x)
        raise ArgumentIndexError(self, argindex)

    def _eval_rewrite_as_hyper(self, nu, x, **kwargs):
        return sp.S.Half + x * sp.gamma((nu + 1) / 2) * sp.hyper(
            (sp.S.Half, (nu + 1) / 2), (sp.Rational(3, 2),), -(x**2) / nu
        ) / (sp.sqrt(sp.pi * nu) * sp.gamma(nu / 2))


class StudentTCDFDerivNu(_MpmathValued):
    r""":math:`\partial F_\nu(x)/\partial\nu = \int_{-\infty}^x f_\nu(t)\,\partial_\nu\log f_\nu(t)\,dt`.

    Odd in :math:`x`.
    """

    nargs = 2
    _mpmath = staticmethod(mp_impl.student_t_cdf_dnu)
    _latex_head = r"\frac{\partial F_{t}}{\partial \nu}"

    @classmethod
    def eval(cls, nu, x):
        if x.is_zero or x in (sp.oo, sp.S.NegativeInfinity):
            return sp.S.Zero

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        nu, x = self.args
        if argindex == 2:  # d/dx d/dnu F = d/dnu (density)
            return _t_density_dnu(nu, x)
        raise ArgumentIndexError(self, argindex)


def _t_density_dnu(nu: sp.Expr, x: sp.Expr) -> sp.Expr:
    """d/dnu of the t density at a non-Symbol nu (differentiate in a Dummy, then substitute)."""
    n = sp.Dummy("nu", positive=True)
    return sp.diff(_t_density(n, x), n).subs(n, nu)


class VonMisesCDF(_MpmathValued):
    r""":math:`F(x) = \int_{-\pi}^{x} \frac{e^{\kappa\cos t}}{2\pi I_0(\kappa)}\,dt` (location 0), with
    :math:`F(x + 2\pi) = F(x) + 1`."""

    nargs = 2
    _mpmath = staticmethod(mp_impl.von_mises_cdf)
    _latex_head = r"F_{\mathrm{vM}}"

    @classmethod
    def eval(cls, kappa, x):
        n = x / sp.pi
        if n.is_integer:  # F(n pi) = (n + 1)/2: the density is even and integrates to 1 per period
            return (n + 1) / 2

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        kappa, x = self.args
        if argindex == 1:
            return VonMisesCDFDerivKappa(kappa, x)
        if argindex == 2:
            return _von_mises_density(kappa, x)
        raise ArgumentIndexError(self, argindex)


class VonMisesCDFDerivKappa(_MpmathValued):
    r""":math:`\partial F/\partial\kappa = \int_{-\pi}^{x} \frac{e^{\kappa\cos t}}{2\pi I_0(\kappa)}
    \left(\cos t - \frac{I_1(\kappa)}{I_0(\kappa)}\right)dt`, :math:`2\pi`-periodic in :math:`x`."""

    nargs = 2
    _mpmath = staticmethod(mp_impl.von_mises_cdf_dkappa)
    _latex_head = r"\frac{\partial F_{\mathrm{vM}}}{\partial \kappa}"

    @classmethod
    def eval(cls, kappa, x):
        if (x / sp.pi).is_integer:  # odd and 2 pi-periodic => zero at every multiple of pi
            return sp.S.Zero

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        kappa, x = self.args
        if argindex == 2:
            return _von_mises_density(kappa, x) * (sp.cos(x) - sp.besseli(1, kappa) / sp.besseli(0, kappa))
        raise ArgumentIndexError(self, argindex)


SPECIAL_CLASSES: tuple[type, ...] = (
    RegularizedLowerGamma,
    RegularizedUpperGamma,
    RegularizedLowerGammaDerivA,
    RegularizedIncompleteBeta,
    RegularizedIncompleteBetaDerivA,
    RegularizedIncompleteBetaDerivB,
    StudentTCDF,
    StudentTCDFDerivNu,
    VonMisesCDF,
    VonMisesCDFDerivKappa,
)
