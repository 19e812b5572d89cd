r"""Special functions for symflow's two numeric routes: mpmath at any precision and vectorized float64.

``sympy.lambdify`` alone gets special functions wrong or slow: its mpmath route maps
``betainc_regularized`` to the *unregularized* ``mpmath.betainc`` and has no ``erfcinv``; its numpy
route cannot evaluate ``meijerg``, ``hyper``, ``expint``, ``Integral`` or derivatives in a
parameter.  This module supplies

- **the mapping table** ``special_table()``: for every SymPy special-function class a density or
  flow can plausibly contain, the names ``lambdify`` prints for it and a correct mpmath and a
  vectorized numpy/scipy implementation of each (or, for numpy, a refusal that names the fix);
- **the dictionaries ``lambdify`` consumes**: ``mpmath_implementations()`` and
  ``numpy_implementations()``, keyed by *printed name*.  Use them first in ``modules``::

      sympy.lambdify(args, expr, modules=[mpmath_implementations(), "mpmath"])
      sympy.lambdify(args, expr, modules=[numpy_implementations(), "scipy", "numpy"])

  (``"scipy"`` selects SymPy's SciPy printer, without which ``lowergamma``/``uppergamma``/
  ``Integral`` do not print at all).  Why printed names: ``lambdify`` prints the expression to
  Python source and looks every name up in the namespace built from ``modules``, earlier entries
  winning; each key of a dict in ``modules`` is also registered as a "user function", so a class
  printed through the generic function printer prints under its class name.  Classes with a
  dedicated printer method keep their printed form whatever the dict holds (mpmath:
  ``lowergamma(a, x)`` -> ``gammainc(a, 0, x)``, ``Integral`` -> ``quad(lambda t: ..., (lo, hi))``;
  SciPy: ``lowergamma`` -> ``gamma(a)*gammainc(a, x)``, ``betainc_regularized`` -> a difference
  of ``betainc``), so the table lists the names inside those forms;
- **derivatives in a parameter**: SymPy classes (``RegularizedLowerGammaDerivA``,
  ``RegularizedIncompleteBetaDerivA/B``, ``StudentTCDFDerivNu``, ``VonMisesCDFDerivKappa``) with
  float64 kernels (``gammainc_da``, ``betainc_da``, ...) and ``rewrite_parameter_derivatives``,
  which finds SymPy's forms of these derivatives and replaces them by the classes;
- ``lambdify_special``: rewrite, check, then ``sympy.lambdify`` with the right table (and with the
  arguments renamed: plain ``lambdify`` adds every Symbol to the generated code's namespace by name,
  so a parameter Symbol called ``beta`` replaces the function ``beta`` there).

Domains: the float64 routes assume real arguments in the functions' usual real domains (shape
parameters positive); outside them they return nan.  Accuracy and throughput of the kernels are in
their docstrings and measured by ``tests/test_special.py`` and ``benchmarks/bench_special.py``.

Long because it is the table: one row per SymPy special function with its mpmath and numpy
implementations, so that adding a function is one edit in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import mpmath
import numpy as np
import sympy as sp
from scipy import special as sc
from sympy.core.function import AppliedUndef
from sympy.printing.numpy import SciPyPrinter

from ...errors import BackendError
from . import mp as mp_impl
from .beta import betainc_da, betainc_db
from .classes import (
    SPECIAL_CLASSES,
    RegularizedIncompleteBeta,
    RegularizedIncompleteBetaDerivA,
    RegularizedIncompleteBetaDerivB,
    RegularizedLowerGamma,
    RegularizedLowerGammaDerivA,
    RegularizedUpperGamma,
    StudentTCDF,
    StudentTCDFDerivNu,
    VonMisesCDF,
    VonMisesCDFDerivKappa,
)
from .kernels import MPMATH_LOCK, gammainc_da, gammaincc_da, student_t_cdf_dnu
from .quadrature import SpecialFunctionWarning, integrate_1d, quad_for_lambdify
from .rewrite import rewrite_parameter_derivatives, rewrite_special_forms
from .von_mises import von_mises_cdf, von_mises_cdf_dkappa

__all__ = [
    "SPECIAL_CLASSES",
    "RegularizedIncompleteBeta",
    "RegularizedIncompleteBetaDerivA",
    "RegularizedIncompleteBetaDerivB",
    "RegularizedLowerGamma",
    "RegularizedLowerGammaDerivA",
    "RegularizedUpperGamma",
    "SpecialEntry",
    "SpecialFunctionWarning",
    "StudentTCDF",
    "StudentTCDFDerivNu",
    "VonMisesCDF",
    "VonMisesCDFDerivKappa",
    "betainc_da",
    "betainc_db",
    "check_numpy_support",
    "gammainc_da",
    "gammaincc_da",
    "integrate_1d",
    "lambdify_special",
    "mpmath_implementations",
    "numpy_implementations",
    "rewrite_parameter_derivatives",
    "rewrite_special_forms",
    "special_table",
    "student_t_cdf_dnu",
    "von_mises_cdf",
    "von_mises_cdf_dkappa",
]


# ---------------------------------------------------------------------------------------------
# numpy implementations scipy does not have under the printed name
# ---------------------------------------------------------------------------------------------


_SCIPY_HYPER = frozenset({(2, 1), (1, 1), (0, 1), (1, 0), (0, 0)})  # (p, q) of pFq with a float64 route


def _np_hyper(ap: tuple, bq: tuple, z: object) -> np.ndarray:
    r""":math:`{}_pF_q` for the (p, q) scipy evaluates: 2F1, 1F1, 0F1, and the elementary 1F0, 0F0."""
    p, q = len(ap), len(bq)
    if (p, q) == (2, 1):
        return sc.hyp2f1(ap[0], ap[1], bq[0], z)
    if (p, q) == (1, 1):
        return sc.hyp1f1(ap[0], bq[0], z)
    if (p, q) == (0, 1):
        return sc.hyp0f1(bq[0], z)
    if (p, q) == (1, 0):
        return (1.0 - np.asarray(z, dtype=float)) ** (-np.asarray(ap[0], dtype=float))
    if (p, q) == (0, 0):
        return np.exp(z)
    raise BackendError(_hyper_refusal(p, q))


def _hyper_refusal(p: int, q: int) -> str:
    return (
        f"hyper with p={p}, q={q} has no vectorized float64 route (scipy has 2F1, 1F1, 0F1); "
        "evaluate with the mpmath table, or rewrite it first (rewrite_parameter_derivatives turns the "
        "Student-t CDF's 2F1 and its derivative into StudentTCDF / StudentTCDFDerivNu)"
    )


def _np_meijerg(*args: object) -> np.ndarray:
    raise BackendError(_MEIJERG_REFUSAL)


_MEIJERG_REFUSAL = (
    "meijerg has no vectorized float64 route; call rewrite_parameter_derivatives first (it turns the "
    "G-function of d/da lowergamma(a, x) into RegularizedLowerGammaDerivA), or evaluate with the mpmath table"
)


def _np_expint(nu: object, x: object) -> np.ndarray:
    r""":math:`E_\nu(x) = \int_1^\infty e^{-xt}t^{-\nu}dt`: ``expn`` for integer :math:`\nu \ge 0`,
    :math:`x^{\nu-1}\Gamma(1-\nu)Q(1-\nu, x)` for :math:`\nu < 1`, mpmath element by element otherwise."""
    nu_a, x_a = np.broadcast_arrays(np.asarray(nu, dtype=float), np.asarray(x, dtype=float))
    shape = nu_a.shape
    nu_a, x_a = nu_a.ravel(), x_a.ravel()
    out = np.full(nu_a.shape, np.nan)
    integer = (nu_a >= 0) & (nu_a == np.round(nu_a))
    out[integer] = sc.expn(nu_a[integer].astype(int), x_a[integer])
    below = ~integer & (nu_a < 1) & (x_a > 0)
    nb, xb = nu_a[below], x_a[below]
    out[below] = xb ** (nb - 1) * sc.gamma(1 - nb) * sc.gammaincc(1 - nb, xb)
    with MPMATH_LOCK, mpmath.workdps(15):  # the rare other orders: correct and slow rather than missing
        for i in np.flatnonzero(~integer & ~below & ~np.isnan(nu_a) & ~np.isnan(x_a)):
            out[i] = float(mpmath.expint(float(nu_a[i]), float(x_a[i])))
    return out.reshape(shape)[()]


def _np_shi(x: object) -> np.ndarray:
    return sc.shichi(x)[0]


def _np_chi(x: object) -> np.ndarray:
    return sc.shichi(x)[1]


def _np_li(x: object) -> np.ndarray:
    r"""Logarithmic integral :math:`\operatorname{li}(x) = \operatorname{Ei}(\log x)` for :math:`x > 0`."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return sc.expi(np.log(x))


def _np_erf2(x: object, y: object) -> np.ndarray:
    r""":math:`\operatorname{erf}(y) - \operatorname{erf}(x)`, through erfc when both are in one tail."""
    x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    right = (x >= 0) & (y >= 0)
    left = (x <= 0) & (y <= 0)
    out = np.where(right, sc.erfc(x) - sc.erfc(y), np.where(left, sc.erfc(-y) - sc.erfc(-x), sc.erf(y) - sc.erf(x)))
    return out[()]


def _mp_hyper(ap: Iterable, bq: Iterable, z: object) -> object:
    return mpmath.hyper(list(ap), list(bq), z)


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpecialEntry:
    """One SymPy class: the names ``lambdify`` prints for it, and what evaluates each name.

    Attributes
    ----------
    sympy_class : type
        The SymPy function class (``sympy.betainc_regularized``, ``sympy.Integral``, ...).
    mpmath : Mapping[str, Callable]
        Printed name -> mpmath implementation (used with ``modules=[..., "mpmath"]``).
    numpy : Mapping[str, Callable]
        Printed name -> vectorized implementation (used with ``modules=[..., "scipy", "numpy"]``).
        Empty when there is no float64 route; then ``refusal`` says what to do instead.
    note : str
        Domain and accuracy remarks, or the refusal message.
    """

    sympy_class: type
    mpmath: Mapping[str, Callable]
    numpy: Mapping[str, Callable]
    note: str = ""


def _entry(cls: type, mp: dict, np_: dict, note: str = "") -> SpecialEntry:
    return SpecialEntry(cls, MappingProxyType(dict(mp)), MappingProxyType(dict(np_)), note)


def _build_table() -> tuple[SpecialEntry, ...]:
    fs = sp.functions
    polygamma = {"polygamma": mpmath.polygamma}
    return (
        _entry(fs.gamma, {"gamma": mpmath.gamma}, {"gamma": sc.gamma}),
        _entry(fs.loggamma, {"loggamma": mpmath.loggamma}, {"gammaln": sc.gammaln}, "numpy: real x > 0"),
        _entry(fs.digamma, polygamma, {"polygamma": sc.polygamma}, "printed as polygamma(0, x)"),
        _entry(fs.trigamma, polygamma, {"polygamma": sc.polygamma}, "printed as polygamma(1, x)"),
        _entry(fs.polygamma, polygamma, {"polygamma": sc.polygamma}),
        _entry(fs.beta, {"beta": mpmath.beta}, {"beta": sc.beta}),
        _entry(
            fs.lowergamma,
            {"gammainc": mpmath.gammainc},
            {"gamma": sc.gamma, "gammainc": sc.gammainc},
            "printed gammainc(a, 0, x) (mpmath), gamma(a)*gammainc(a, x) (scipy, overflows for a > 171: "
            "rewrite_special_forms turns lowergamma/gamma into RegularizedLowerGamma)",
        ),
        _entry(
            fs.uppergamma,
            {"gammainc": mpmath.gammainc},
            {"gamma": sc.gamma, "gammaincc": sc.gammaincc},
            "numpy: a > 0",
        ),
        _entry(fs.betainc, {"betainc": mpmath.betainc}, {"betainc": sc.betainc, "beta": sc.beta}),
        _entry(
            fs.betainc_regularized,
            {"betainc_regularized": mp_impl.betainc_regularized},
            {"betainc": sc.betainc},
            "lambdify's own mpmath route is unregularized; this entry fixes it",
        ),
        _entry(fs.erf, {"erf": mpmath.erf}, {"erf": sc.erf}),
        _entry(fs.erfc, {"erfc": mpmath.erfc}, {"erfc": sc.erfc}),
        _entry(fs.erfinv, {"erfinv": mpmath.erfinv}, {"erfinv": sc.erfinv}),
        _entry(fs.erfcinv, {"erfcinv": mp_impl.erfcinv}, {"erfcinv": sc.erfcinv}, "mpmath has none: erfinv(1 - y)"),
        _entry(fs.erfi, {"erfi": mpmath.erfi}, {"erfi": sc.erfi}),
        _entry(fs.erf2, {"erf2": mp_impl.erf2}, {"erf2": _np_erf2}),
        _entry(fs.besseli, {"besseli": mpmath.besseli}, {"iv": sc.iv}, "numpy overflows for x > 700"),
        _entry(fs.besselk, {"besselk": mpmath.besselk}, {"kv": sc.kv}),
        _entry(fs.besselj, {"besselj": mpmath.besselj}, {"jv": sc.jv}),
        _entry(fs.bessely, {"bessely": mpmath.bessely}, {"yv": sc.yv}),
        _entry(fs.expint, {"expint": mpmath.expint}, {"expint": _np_expint}, "E1(x) is expint(1, x)"),
        _entry(fs.Ei, {"Ei": mpmath.ei}, {"expi": sc.expi}),
        _entry(fs.li, {"li": mpmath.li}, {"li": _np_li}),
        _entry(fs.Si, {"Si": mpmath.si}, {"sici": sc.sici}),
        _entry(fs.Ci, {"Ci": mpmath.ci}, {"sici": sc.sici}),
        _entry(fs.Shi, {"Shi": mpmath.shi}, {"Shi": _np_shi}),
        _entry(fs.Chi, {"Chi": mpmath.chi}, {"Chi": _np_chi}),
        _entry(
            fs.hyper,
            {"hyper": _mp_hyper},
            {"hyper": _np_hyper},
            "numpy: 2F1, 1F1, 0F1, 1F0, 0F0 only (scipy); other (p, q) are refused",
        ),
        _entry(fs.meijerg, {"meijerg": mpmath.meijerg}, {}, _MEIJERG_REFUSAL),
        _entry(
            sp.Integral,
            {"quad": mpmath.quad},
            {"quad": quad_for_lambdify},
            "one variable, finite or infinite limits; numpy: Gauss-Legendre panels to 1e-11 relative "
            "(integrate_1d), nan with a warning where they do not converge",
        ),
        _entry(
            RegularizedLowerGamma, {"RegularizedLowerGamma": mp_impl.gammainc_p}, {"RegularizedLowerGamma": sc.gammainc}
        ),
        _entry(
            RegularizedUpperGamma,
            {"RegularizedUpperGamma": mp_impl.gammainc_q},
            {"RegularizedUpperGamma": sc.gammaincc},
        ),
        _entry(
            RegularizedLowerGammaDerivA,
            {"RegularizedLowerGammaDerivA": mp_impl.gammainc_da},
            {"RegularizedLowerGammaDerivA": gammainc_da},
        ),
        _entry(
            RegularizedIncompleteBeta,
            {"RegularizedIncompleteBeta": RegularizedIncompleteBeta._mpmath},
            {"RegularizedIncompleteBeta": sc.betainc},
        ),
        _entry(
            RegularizedIncompleteBetaDerivA,
            {"RegularizedIncompleteBetaDerivA": mp_impl.betainc_da},
            {"RegularizedIncompleteBetaDerivA": betainc_da},
        ),
        _entry(
            RegularizedIncompleteBetaDerivB,
            {"RegularizedIncompleteBetaDerivB": mp_impl.betainc_db},
            {"RegularizedIncompleteBetaDerivB": betainc_db},
        ),
        _entry(StudentTCDF, {"StudentTCDF": mp_impl.student_t_cdf}, {"StudentTCDF": sc.stdtr}),
        _entry(
            StudentTCDFDerivNu,
            {"StudentTCDFDerivNu": mp_impl.student_t_cdf_dnu},
            {"StudentTCDFDerivNu": student_t_cdf_dnu},
        ),
        _entry(VonMisesCDF, {"VonMisesCDF": mp_impl.von_mises_cdf}, {"VonMisesCDF": von_mises_cdf}),
        _entry(
            VonMisesCDFDerivKappa,
            {"VonMisesCDFDerivKappa": mp_impl.von_mises_cdf_dkappa},
            {"VonMisesCDFDerivKappa": von_mises_cdf_dkappa},
        ),
    )


_TABLE = _build_table()


def special_table() -> tuple[SpecialEntry, ...]:
    """Every SymPy class the two routes handle, with its printed names and implementations."""
    return _TABLE


def _merge(which: str) -> dict[str, Callable]:
    merged: dict[str, Callable] = {}
    for entry in _TABLE:
        for name, fn in getattr(entry, which).items():
            if merged.setdefault(name, fn) is not fn:  # one printed name must mean one function
                raise AssertionError(f"two {which} implementations for the printed name {name!r}")
    return merged


def mpmath_implementations() -> dict[str, Callable]:
    """Printed name -> mpmath implementation, for ``lambdify(..., modules=[this, "mpmath"])``.

    A fresh dict each call (``lambdify`` may keep a reference to it).
    """
    return _merge("mpmath")


def numpy_implementations() -> dict[str, Callable]:
    """Printed name -> vectorized implementation, for ``lambdify(..., modules=[this, "scipy", "numpy"])``.

    ``meijerg`` maps to a function that raises ``BackendError`` with the fix, rather than to
    nothing (a bare ``NameError`` at call time).
    """
    merged = _merge("numpy")
    merged["meijerg"] = _np_meijerg
    return merged


# ---------------------------------------------------------------------------------------------
# lambdify with the tables
# ---------------------------------------------------------------------------------------------


def check_numpy_support(expr: sp.Expr) -> None:
    """Raise ``BackendError`` naming every piece of ``expr`` that has no vectorized float64 route.

    Refused: ``Derivative`` and ``Subs`` (what ``rewrite_parameter_derivatives`` could not turn into
    a class), ``meijerg``, ``hyper`` outside 2F1/1F1/0F1/1F0/0F0, undefined functions, and anything
    SymPy's SciPy printer cannot print.
    """
    problems: list[str] = []
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Derivative | sp.Subs):
            problems.append(
                f"{sp.sstr(node)[:120]}: a derivative with no closed form here (only first derivatives of the "
                "regularized incomplete gamma/beta, Student-t and von Mises CDFs in their parameters are known)"
            )
        elif isinstance(node, AppliedUndef):
            problems.append(f"{sp.sstr(node)[:120]}: an undefined function; replace it by an explicit expression")
        elif isinstance(node, sp.meijerg):
            problems.append(f"{sp.sstr(node)[:120]}: {_MEIJERG_REFUSAL}")
        elif isinstance(node, sp.hyper) and (len(node.ap), len(node.bq)) not in _SCIPY_HYPER:
            problems.append(f"{sp.sstr(node)[:120]}: {_hyper_refusal(len(node.ap), len(node.bq))}")
    if not problems:
        names = {name: name for name in numpy_implementations()}
        printer = SciPyPrinter({"allow_unknown_functions": False, "user_functions": names, "strict": True})
        try:
            printer.doprint(expr)
        except Exception as exc:  # noqa: BLE001 - any printing failure means "not supported"
            problems.append(f"SymPy's SciPy printer cannot print it: {exc}")
    if problems:
        raise BackendError("no vectorized float64 route for:\n  " + "\n  ".join(problems))


def lambdify_special(
    args: object, expr: sp.Expr, backend: str = "numpy", *, rewrite: bool = True, cse: bool = False
) -> Callable:
    """``sympy.lambdify`` with the special-function tables, after rewriting and checking.

    Parameters
    ----------
    args, expr
        As for ``sympy.lambdify``.
    backend : {"numpy", "mpmath"}
        ``"numpy"``: vectorized float64 (``numpy_implementations``, SciPy printer); ``"mpmath"``:
        the working precision of ``mpmath.mp`` at call time (``mpmath_implementations``).
    rewrite : bool
        Apply ``rewrite_parameter_derivatives`` (which includes ``rewrite_special_forms``) first.
    cse : bool
        Common-subexpression elimination, as in ``lambdify`` (ignored if ``expr`` has an
        ``Integral``: SymPy's cse moves subexpressions that contain the integration variable out of
        the integral's ``lambda``, e.g. ``x0 = exp(t*x)`` before ``quad(lambda t: ...)``).

    Returns
    -------
    callable
        The lambdified function.  Symbol arguments are renamed to Dummies first, so a Symbol named
        like a function (``beta``) cannot shadow that function in the generated code, as it does
        with a plain ``lambdify`` (which adds each Symbol to the code's namespace by name).

    Raises
    ------
    BackendError
        For an unknown backend, or (numpy) for pieces with no float64 route.
    """
    if backend not in ("numpy", "mpmath"):
        raise BackendError(f"unknown backend {backend!r}; choose 'numpy' or 'mpmath'")
    if rewrite:
        expr = rewrite_parameter_derivatives(expr)
    use_cse = cse and not expr.has(sp.Integral)
    # lambdify puts every Symbol into the code's namespace under its name, after the modules: a
    # parameter named like a printed function (symflow's Beta family has a Symbol "beta" beside
    # beta(alpha, beta)) would replace the function => rename the arguments to Dummies first
    single = isinstance(args, sp.Symbol)
    flat = [args] if single else list(args) if isinstance(args, list | tuple) else None
    if flat is not None and all(isinstance(a, sp.Symbol) for a in flat):
        renamed = {a: sp.Dummy(f"arg{i}") for i, a in enumerate(flat)}
        expr = expr.xreplace(renamed)
        args = renamed[flat[0]] if single else [renamed[a] for a in flat]
    if backend == "numpy":
        check_numpy_support(expr)
        modules = [numpy_implementations(), "scipy", "numpy"]
    else:
        modules = [mpmath_implementations(), "mpmath"]
    return sp.lambdify(args, expr, modules=modules, cse=use_cse, dummify=True)
