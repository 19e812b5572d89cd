"""The theta-free base densities of eps behind the explicit reparameterizations x = g(eps; theta).

Built once per kind (``functools.cache``), so every family with these
Symbols shares its base: N(0, 1), Laplace(0, 1), Logistic(0, 1), the standard
L-distribution, Exp(1), U(0, 1), and Student's t with a fixed number of
degrees of freedom.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from ..core.density import Density
from ._common import EPS, POSITIVE_REALS, UNIT_INTERVAL
from .samplers import Draw, std_l_draw

__all__ = ["base", "std_l_expr", "std_laplace_expr", "std_logistic_expr", "std_normal_expr", "std_t_expr"]

SQRT2PI = sp.sqrt(2 * sp.pi)


def std_normal_expr(z: sp.Expr) -> sp.Expr:
    return sp.exp(-(z**2) / 2) / SQRT2PI


def std_laplace_expr(z: sp.Expr) -> sp.Expr:
    return sp.exp(-sp.Abs(z)) / 2


def std_logistic_expr(z: sp.Expr) -> sp.Expr:
    return sp.exp(-z) / (1 + sp.exp(-z)) ** 2


def std_l_expr(z: sp.Expr) -> sp.Expr:
    return z**2 * sp.exp(-(z**2) / 2) / SQRT2PI


def std_t_expr(z: sp.Expr, nu: sp.Expr) -> sp.Expr:
    return sp.gamma((nu + 1) / 2) / (sp.sqrt(nu * sp.pi) * sp.gamma(nu / 2)) * (1 + z**2 / nu) ** (-(nu + 1) / 2)


# kind -> (density of eps, its support, its sampler, its name)
_BASES = {
    "normal": (std_normal_expr(EPS), None, Draw("standard_normal"), "N(0,1)"),
    "laplace": (std_laplace_expr(EPS), None, Draw("laplace"), "Laplace(0,1)"),
    "logistic": (std_logistic_expr(EPS), None, Draw("logistic"), "Logistic(0,1)"),
    "l": (std_l_expr(EPS), None, Draw(std_l_draw), "L(0,1)"),
    "exponential": (sp.exp(-EPS), POSITIVE_REALS, Draw("standard_exponential"), "Exp(1)"),
    "uniform": (sp.Integer(1), UNIT_INTERVAL, Draw("random"), "U(0,1)"),
}


@cache
def base(kind: str, nu: sp.Expr | None = None) -> Density:
    """The theta-free density of eps: one of ``_BASES``, or ``"t"`` with a fixed number ``nu``."""
    if kind == "t":
        return Density(std_t_expr(EPS, nu), (EPS,), (), sampler=Draw("standard_t", (nu,)), name=f"t({nu})")
    expr, support, draw, name = _BASES[kind]
    return Density(expr, (EPS,), (), support=support, sampler=draw, name=name)
