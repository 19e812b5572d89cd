"""Exact references: integrals over a density's support, symbolic or by mpmath.

The reference value every unbiasedness check compares against is
d/dtheta_i E_p[phi].  It is computed symbolically when SymPy can integrate
within the budget, otherwise by mpmath quadrature (1-D, and 2-D for small
problems) or summation (discrete supports) at 50 digits.
"""

from __future__ import annotations

from collections.abc import Callable

import mpmath
import numpy as np
import sympy as sp

from ..core import budget as budgets
from ..core.budget import BudgetExceeded, resolve_timeout, run_with_budget
from ..core.density import Density
from ..numeric.evaluate import mpmath_function

__all__ = [
    "QUAD_DPS",
    "expectation_gradient",
    "numeric_integral",
    "symbolic_integral",
]

QUAD_DPS = 50
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
    except (NotImplementedError, ValueError, TypeError, RecursionError):
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


def _scale_hint(p: Density, floats: dict) -> tuple[float, float]:
    """(center, scale) of p at these parameter values, from its sampler if it has one."""
    if p.sampler is not None or p.reparam is not None:
        try:
            draws = p.sample(4000, floats, np.random.default_rng(7))[:, 0]
            q1, med, q3 = np.percentile(draws, [25, 50, 75])
            return float(med), max(float(q3 - q1) / 1.35, 1e-6)
        except Exception:  # noqa: BLE001 - a hint only
            pass
    return 0.0, 1.0


def _breakpoints(lo, hi, center: float, scale: float, kinks: list) -> list:
    pts = [center + k * scale for k in (-40, -12, -4, -1, 0, 1, 4, 12, 40)]
    pts += [float(k) for k in kinks]
    inner = sorted({mpmath.mpf(t) for t in pts if (lo is None or t > lo) and (hi is None or t < hi)})
    return [mpmath.ninf if lo is None else lo, *inner, mpmath.inf if hi is None else hi]


def _jump_points(expr: sp.Expr) -> tuple[float, ...]:
    """Real points where a 1-D integrand may jump or kink (roots of its Heaviside/Piecewise/Abs arguments)."""
    from ..zero.numeric import kink_expressions

    out: list[float] = []
    for k in kink_expressions(expr):
        if len(k.free_symbols) != 1 or not k.is_polynomial():
            continue
        try:
            out.extend(float(sp.re(r)) for r in sp.Poly(k, *k.free_symbols).nroots() if abs(sp.im(r)) < 1e-12)
        except Exception:  # noqa: BLE001 - breakpoints are only a hint
            pass
    return tuple(out)


def numeric_integral(
    p: Density,
    integrand: sp.Expr,
    values: dict,
    *,
    dps: int = QUAD_DPS,
    timeout: float | None = None,
    kinks: tuple = (),
) -> mpmath.mpf | None:
    """mpmath quadrature (or nsum) of ``integrand`` over p's support at parameter ``values``.

    1-D and 2-D only; returns None when out of budget or unsupported.
    """
    from ..core.convert import exact_values

    budget = resolve_timeout(timeout)
    values = exact_values(values)
    expr = integrand.xreplace(values)
    if expr.free_symbols - set(p.x):
        raise ValueError(f"integrand has unassigned symbols {expr.free_symbols - set(p.x)}")
    floats = {k: float(v) for k, v in values.items()}
    hint = _scale_hint(p, floats) if not p.is_discrete else (0.0, 1.0)
    if p.dim == 1 and not p.is_discrete:
        kinks = tuple(kinks) + _jump_points(expr)  # quadrature must not straddle a jump of the integrand

    def work() -> mpmath.mpf:
        with mpmath.workdps(dps):
            many = mpmath_function(p.x, expr)

            def fn(*xs):
                return many(*xs)[0]

            bounds = []
            for s in p.support_sets:
                lo = None if s.inf == -sp.oo else mpmath.mpf(sp.Float(s.inf.xreplace(values), dps))
                hi = None if s.sup == sp.oo else mpmath.mpf(sp.Float(s.sup.xreplace(values), dps))
                bounds.append((lo, hi))
            if p.is_discrete:
                if p.dim != 1:
                    raise NotImplementedError
                if _tail_diverges(fn, bounds[0], hint, True):
                    raise _Divergent
                lo, hi = bounds[0]
                return mpmath.nsum(fn, [lo if lo is not None else mpmath.ninf, hi if hi is not None else mpmath.inf])
            if p.dim == 1 and _tail_diverges(fn, bounds[0], hint, p.is_discrete):
                raise _Divergent
            pts = [_breakpoints(lo, hi, hint[0], hint[1], list(kinks)) for lo, hi in bounds]
            if p.dim == 1:
                return mpmath.quad(fn, pts[0])
            if p.dim == 2:
                return mpmath.quad(fn, pts[0], pts[1])
            raise NotImplementedError

    try:
        return run_with_budget(work, timeout=budget, what="quadrature")
    except (BudgetExceeded, NotImplementedError, ZeroDivisionError, ValueError, TypeError, _Divergent):
        return None


class _Divergent(ArithmeticError):
    """The integrand does not decay fast enough for the integral to exist."""


# Multiples of the density's scale where the tail is probed, and how much |t f(t)|
# must fall between them (a decay faster than |t|**-1.25 over 12 decades).
_TAIL_NEAR = (1e3, 2e3, 5e3)
_TAIL_FAR = (1e15, 2e15, 5e15)
_TAIL_DROP = mpmath.mpf("1e-3")


def _tail_diverges(fn: Callable, bounds: tuple, hint: tuple[float, float], discrete: bool) -> bool:
    """Whether |t f(t)| fails to decay towards an infinite end of a 1-D support.

    An absolutely integrable f must have t f(t) -> 0 (in a regular tail);
    quadrature of a Cauchy density times x (t f -> 1/pi) returns a
    principal-value-like number instead of failing, and of x**2 a huge one.
    Functions that cannot be evaluated that far out are not judged.
    """
    lo, hi = bounds
    center, scale = hint

    def size(offsets, sign):
        ts = [mpmath.mpf(center) + sign * mpmath.mpf(k) * mpmath.mpf(scale) for k in offsets]
        if discrete:
            ts = [mpmath.floor(t) for t in ts]
        return max(abs((t - center) * mpmath.mpmathify(fn(t))) for t in ts)

    for end, sign in ((hi, 1), (lo, -1)):
        if end is not None:
            continue
        try:
            near, far = size(_TAIL_NEAR, sign), size(_TAIL_FAR, sign)
        except (ArithmeticError, ValueError, TypeError):
            continue
        if not mpmath.isfinite(far) or far > _TAIL_DROP * near:
            return True
    return False


def expectation_gradient(
    p: Density,
    phi: sp.Expr,
    wrt: sp.Symbol,
    values: dict | None = None,
    *,
    timeout: float | None = None,
    dps: int = QUAD_DPS,
) -> tuple[object, str] | tuple[None, str]:
    """d/dtheta_i E_p[phi]: ``(value, how)``.

    Symbolic when possible (a SymPy expression in the parameters, evaluated
    at ``values`` when given); otherwise numeric at ``values``: quadrature of
    (dp/dtheta_i) phi for a fixed support, or a high-precision derivative of
    the quadrature when the support moves with theta.
    """
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
