"""Exact references: integrals over a density's support, symbolic or by mpmath.

The reference value every unbiasedness check compares against is
d/dtheta_i E_p[phi].  It is computed symbolically when SymPy can integrate
within the budget, otherwise by mpmath quadrature (1-D, and 2-D for small
problems) or summation (discrete supports) at 50 digits.
"""

from __future__ import annotations

import mpmath
import sympy as sp

from ..core import budget as budgets
from ..core.budget import SYMPY_GAVE_UP, BudgetExceeded, bounded, resolve_timeout, run_with_budget
from ..core.convert import as_phi
from ..core.density import Density, checked_density
from ..core.precision import QUADRATURE
from .quadrature import numeric_integral

__all__ = [
    "expectation_gradient",
    "symbolic_integral",
]

# Seconds the symbolic attempt gets when a numeric fallback (parameter values) exists.
SYMBOLIC_LOOK = 2.0


def symbolic_integral(p: Density, integrand: sp.Expr, *, timeout: float | None = None) -> sp.Expr | None:
    """The integral (or sum) of ``integrand`` over p's support, or None if SymPy cannot."""
    budget = resolve_timeout(timeout)

    def work() -> sp.Expr | None:
        out = integrand
        if p.dim == 1 and not p.is_discrete:
            from .heaviside import split_pieces

            pieces = split_pieces(integrand, p.x[0], p.support_sets[0])
            if pieces is not None:  # integrate a discontinuous integrand piece by piece
                out = sp.Add(*(budgets.integrate(e, (p.x[0], a, b)) for a, b, e in pieces))
                out = budgets.simplify(out)
                return None if out.has(sp.Integral, sp.nan) else out
        # Last variable first: in triangular (Cholesky) forms it appears in one factor only.
        for xi, s in reversed(tuple(zip(p.x, p.support_sets, strict=True))):
            lo, hi = s.inf, s.sup
            out = budgets.summation(out, (xi, lo, hi)) if p.is_discrete else budgets.integrate(out, (xi, lo, hi))
            if out.has(sp.Integral, sp.Sum):
                return None
        out = budgets.simplify(out)
        if out.has(sp.Integral, sp.Sum, sp.nan) or out.has(sp.Piecewise):
            # Piecewise results carry convergence conditions; the parameters'
            # assumptions usually settle them, and piecewise_fold/simplify did not.
            return out if not out.has(sp.Integral, sp.Sum, sp.nan) and _conditions_true(out) else None
        return out

    try:
        out = run_with_budget(work, timeout=budget, what="symbolic integration")
    except BudgetExceeded:
        return None
    except SYMPY_GAVE_UP:
        return None
    # A divergent integral (E[x**2] under a Cauchy density is oo) has no value to
    # compare or differentiate: d/dtheta of oo would be taken as 0.
    if out is not None and out.has(sp.oo, sp.S.NegativeInfinity, sp.zoo, sp.nan):
        return None
    return out


def _conditions_true(expr: sp.Expr) -> bool:
    for pw in expr.atoms(sp.Piecewise):
        if pw.args[0].cond != sp.true:
            return False
    return True


@bounded
def expectation_gradient(
    p: Density,
    phi: sp.Expr,
    wrt: sp.Symbol,
    values: dict | None = None,
    *,
    timeout: float | None = None,
    dps: int = QUADRATURE.high,
) -> tuple[object, str] | tuple[None, str]:
    """d/dtheta_i E_p[phi]: ``(value, how)``.

    Symbolic when possible (a SymPy expression in the parameters, evaluated
    at ``values`` when given); otherwise numeric at ``values``: quadrature of
    (dp/dtheta_i) phi for a fixed support, or a high-precision derivative of
    the quadrature when the support moves with theta.
    """
    p = checked_density(p)
    phi = as_phi(phi, p.x)
    wrt = p.check_param(wrt)
    from ..core.convert import exact_values

    values = None if values is None else exact_values(values)
    # With parameter values, quadrature is the dependable route: give the symbolic
    # attempt only a short look so hopeless integrals do not eat the whole budget.
    budget = resolve_timeout(timeout)
    sym_budget = budget if values is None else min(budget, SYMBOLIC_LOOK)
    sym = symbolic_integral(p, p.expr * phi, timeout=sym_budget)
    if sym is not None:
        grad = sp.diff(sym, wrt)
        if values is None:
            return budgets.simplify(grad, timeout=budget), "symbolic integration"
        return sp.Float(sp.N(grad.xreplace(values), dps), dps), "symbolic integration"
    if values is None:
        return None, "SymPy could not integrate within the budget"
    if not p.has_moving_support:
        val = numeric_integral(p, sp.diff(p.expr, wrt) * phi, values, dps=dps, timeout=timeout)
        return (val, f"mpmath quadrature at {dps} digits") if val is not None else (None, "quadrature failed")

    def moved(t):
        vals = dict(values)
        vals[wrt] = sp.Float(t, dps)
        return numeric_integral(p, p.expr * phi, vals, dps=dps + 20, timeout=timeout)

    with mpmath.workdps(dps):
        try:
            val = mpmath.diff(lambda t: moved(t), mpmath.mpf(sp.Float(values[wrt], dps)))
        except TypeError:
            return None, "quadrature failed"
    return val, f"mpmath derivative of quadrature at {dps} digits"
