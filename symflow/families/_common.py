"""Shared Symbols and small helpers for the family catalogue.

Every family uses the same default Symbols, so densities built separately can
be mixed in one estimator (``derive(normal(), zero, wrt=mu, q=l_distribution())``):
SymPy Symbols are equal only when both the name and the assumptions agree, so
they are created here once and nowhere else.
"""

from __future__ import annotations

import numbers

import sympy as sp

from ..errors import DensityError

# 1-D variable: real for every family; positive supports are given by ``support``,
# never by the Symbol's assumptions (Symbol('x', real=True) != Symbol('x', positive=True)).
X = sp.Symbol("x", real=True)
MU = sp.Symbol("mu", real=True)
SIGMA = sp.Symbol("sigma", positive=True)
NU = sp.Symbol("nu", positive=True)
RATE = sp.Symbol("lambda", positive=True)
ALPHA = sp.Symbol("alpha", positive=True)
BETA = sp.Symbol("beta", positive=True)
A = sp.Symbol("a", real=True)
B = sp.Symbol("b", real=True)
EPS = sp.Symbol("epsilon", real=True)


def symbol_or_default(given: object, default: sp.Symbol, what: str) -> sp.Symbol:
    """``given`` if it is a Symbol, ``default`` if it is None, else raise."""
    if given is None:
        return default
    if isinstance(given, str):
        raise DensityError(
            f"{what} is the string {given!r}; pass a sympy.Symbol, e.g. sympy.Symbol({given!r}, real=True)"
        )
    if not isinstance(given, sp.Symbol):
        raise DensityError(f"{what} must be a sympy.Symbol (or None for the default {default}), got {given!r}")
    return given


def positive_number(value: object, what: str) -> sp.Expr:
    """An exact positive number (int, Fraction, SymPy number) or raise."""
    if isinstance(value, bool):
        raise DensityError(f"{what} is a bool; pass a positive number or a Symbol")
    if isinstance(value, sp.Basic):
        num = value
    elif isinstance(value, numbers.Integral):
        num = sp.Integer(int(value))
    elif isinstance(value, numbers.Rational):
        num = sp.Rational(int(value.numerator), int(value.denominator))
    elif isinstance(value, numbers.Real):
        num = sp.Float(float(value))
    else:
        raise DensityError(f"{what} must be a Symbol or a positive number, got {value!r}")
    if not (num.is_number and num.is_positive):
        raise DensityError(f"{what} = {num} must be a positive number (or a positive Symbol)")
    return num
