r"""The 2-D simplex as a box, for cubature that keeps the digits of its last component.

A Dirichlet density over (x_1, x_2) lives on the simplex x_1, x_2 > 0,
x_1 + x_2 < s (s = 1), stated as the box [0, 1]^2 times the indicator of
x_1 + x_2 < 1 (``symflow.families.simplex``; ``Domain.regions``).  Cubature
over the box straddles the indicator's jump and cannot resolve the factor
(s - x_1 - x_2)^(alpha_3 - 1), singular on the face x_1 + x_2 = s, when the
last component is formed as a difference of two numbers near s.

Stick-breaking (a Duffy map) makes the simplex a box:

.. math::
    x_1 = s\,a, \qquad x_2 = (s - x_1)\,b, \qquad s - x_1 - x_2 = (s - x_1)(1 - b),
    \qquad dx_1\,dx_2 = s\,(s - x_1)\,da\,db, \quad a, b \in (0, 1),

and each of a, b goes through the tanh-sinh map :math:`a = \sigma(z)`,
:math:`1 - a = \sigma(-z)`, :math:`\sigma(z) = 1/(1 + e^{-2z})`,
:math:`z = \tfrac\pi2\sinh w`, :math:`w \in [-W, W]`, with
:math:`da/dw = 2\sigma(z)\sigma(-z)\,\tfrac\pi2\cosh w`.  Every factor is
computed directly, never as a difference, so s - x_1 and s - x_1 - x_2 keep
their relative digits down to 1e-225; the end-point singularities
x_i^(alpha_i - 1) become integrands that fall double-exponentially in w,
smooth for Gauss-Kronrod cubature.  In the integrand, subexpressions equal to
s - x_1 - x_2 and s - x_1 become variables of their own (given those
values), and the indicator of the region becomes 1 (every point of the map is
inside it).

``W`` = 5.8 reaches sigma(-z) ~ 1e-225 (float64 underflows near 1e-308): the
mass left out near a face with exponent alpha - 1 is about 1e-225 alpha, below
1e-12 for alpha >= 0.06.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy as sp
from scipy.special import expit

from ..core.convert import at_values
from ..core.density import Density
from ..numeric.evaluate import numpy_function

__all__ = ["SIMPLEX_PANELS", "simplex_bound", "simplex_integrand"]

W = 5.8
# Panel edges in w on each axis: the bulk near w = 0, the double-exponential ends on their own panels.
SIMPLEX_PANELS = (-W, -2.0, 0.0, 2.0, W)
# Distance (in a or b) from a face within which a non-finite float64 value is an underflow, taken as 0.
FAR = 1e-100
# Relative difference below which a subexpression is taken for s - x_1 - x_2 (constants evaluated to 20+ digits).
_MATCH_REL = 1e-12


def simplex_bound(p: Density, values: dict) -> float | None:
    """s when p's support is the simplex x_1, x_2 > 0, x_1 + x_2 < s at these values; else None."""
    if p.dim != 2 or p.is_discrete:
        return None
    regions = p.domain().regions
    if len(regions) != 1 or not isinstance(regions[0], sp.StrictLessThan | sp.LessThan):
        return None
    cond = regions[0]
    x1, x2 = p.x
    if sp.expand(cond.lhs - x1 - x2) != 0:
        return None
    if any(s.inf != 0 for s in p.support_sets):
        return None
    s = at_values(cond.rhs, values)
    if s.free_symbols or not s.is_number:
        return None
    s = float(sp.N(s, 20))
    return s if s > 0 and np.isfinite(s) else None


def _is(expr: sp.Expr, target: sp.Expr, scale: float) -> bool:
    gap = sp.expand(expr - target)
    return gap.is_number and abs(float(gap)) <= _MATCH_REL * max(1.0, scale)


def _without_indicator(expr: sp.Expr, x: tuple, s: float) -> sp.Expr:
    """``expr`` with the indicator Piecewise((1, x_1 + x_2 < s), (0, True)) replaced by 1."""
    swap = {}
    for pw in expr.atoms(sp.Piecewise):
        if len(pw.args) != 2 or pw.args[1].cond != sp.true or not _is(pw.args[1].expr, sp.S.Zero, 1.0):
            continue
        one, cond = pw.args[0]
        if not _is(one, sp.S.One, 1.0) or not isinstance(cond, sp.StrictLessThan | sp.LessThan):
            continue
        if _is(cond.lhs, x[0] + x[1], s) and _is(cond.rhs, sp.Float(s), s):
            swap[pw] = sp.S.One
    return expr.xreplace(swap)


def simplex_integrand(x: tuple, expr: sp.Expr, s: float) -> Callable[[np.ndarray], np.ndarray]:
    """f(w) over the box [-W, W]^2 (rows of w) whose integral is that of ``expr`` over the simplex."""
    x1, x2 = x
    last, rest = sp.Dummy("last"), sp.Dummy("rest")
    body = _without_indicator(expr, x, s)
    swap = {}
    for a in body.atoms(sp.Add):
        if a.free_symbols == {x1, x2} and _is(a, sp.Float(s) - x1 - x2, s):
            swap[a] = last
        elif a.free_symbols == {x1} and _is(a, sp.Float(s) - x1, s):
            swap[a] = rest
    fn = numpy_function([x1, x2, last, rest], body.xreplace(swap))
    half_pi = np.pi / 2

    def f(ww: np.ndarray) -> np.ndarray:
        za, zb = half_pi * np.sinh(ww[:, 0]), half_pi * np.sinh(ww[:, 1])
        a, a_c = expit(2 * za), expit(-2 * za)  # sigma(z) and 1 - sigma(z), each directly
        b, b_c = expit(2 * zb), expit(-2 * zb)
        u = s * a
        r = s * a_c  # s - x_1
        v, tail = r * b, r * b_c  # x_2 and s - x_1 - x_2
        jac = s * 2 * a * a_c * half_pi * np.cosh(ww[:, 0]) * r * 2 * b * b_c * half_pi * np.cosh(ww[:, 1])
        vals = np.broadcast_to(np.asarray(fn(u, v, tail, r)[0], dtype=float), u.shape) * jac
        # within FAR of a face the float64 factors underflow (r^1.7 below 1e-308: 0/0) where the
        # integrand's mass is nil (its Jacobian is below 1e-100): a zero tail; nearer in, a failure
        far = np.minimum(np.minimum(a, a_c), np.minimum(b, b_c)) < FAR
        return np.where(far & ~np.isfinite(vals), 0.0, vals)

    return f
