r"""The transport residual (Eq. 52), divided by p: the expression every flow check decides.

.. math::
    \frac{\nabla\cdot(p\,u) + \partial_{\theta_i} p}{p}
    = \nabla\cdot u + u\cdot\nabla\log p + \partial_{\theta_i}\log p \qquad (\text{Eq. 50, 52})

Two routes compute it: SymPy expressions (``transport_residual``), and, for
densities written in the Gaussian atoms (``mvn(d, form="precision")``), dict
polynomials in the atoms (``transport_polynomial``), which decide the d = 16
full-covariance case in seconds without building the SymPy expression.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..core.density import Density
from ..structured.ops import is_atom
from ..zero import polydict

__all__ = ["transport_polynomial", "transport_residual"]


def transport_residual(p: Density, u: tuple[sp.Expr, ...], wrt: sp.Symbol) -> sp.Expr:
    """(div(p u) + dp/dtheta_i) / p = div u + u . grad log p + d log p / dtheta_i (Eq. 50)."""
    div_u = sum((p.diff(ui, xi) for ui, xi in zip(u, p.x, strict=True)), sp.S.Zero)
    along = sum((ui * gi for ui, gi in zip(u, p.grad_log(), strict=True)), sp.S.Zero)
    return div_u + along + p.score(wrt)


class _Polys:
    """log p and its gradient as dict polynomials, with the memo tables shared by every parameter's residual."""

    def __init__(self, p: Density) -> None:
        self.memo: dict = {}
        self.leaf: dict = {}
        self.log = polydict.to_poly(p.log_expr, memo=self.memo)
        self.grad = [polydict.diff(self.log, xi, self.leaf_diff) for xi in p.x]

    def leaf_diff(self, leaf: sp.Expr, s: sp.Symbol):
        if leaf.is_Symbol:
            return dict(polydict.ONE) if leaf == s else {}
        key = (leaf, s)
        got = self.leaf.get(key, False)
        if got is not False:
            return got
        if s not in leaf.free_symbols:
            got = {}
        elif is_atom(leaf):
            d = leaf._eval_derivative(s)
            got = None if d is None else polydict.to_poly(d, memo=self.memo)
        else:
            got = None
        self.leaf[key] = got
        return got


@lru_cache(maxsize=8)
def _polys(p: Density) -> _Polys:
    # One per density: every parameter's check of an mvn(d) reuses log p and its gradient.
    return _Polys(p)


def transport_polynomial(p: Density, u: tuple, wrt: sp.Symbol):
    """The transport residual (Eq. 52) as a dict polynomial, for densities written in Gaussian atoms.

    Every piece is a polynomial in the atoms and symbols, so the residual is
    computed and compared with 0 in ``symflow.zero.polydict``'s plain-dict
    arithmetic.  Returns the polynomial ({} is the zero polynomial), or None
    when some leaf has no derivative rule (then use the SymPy route).
    """
    try:
        polys = _polys(p)
        if any(g is None for g in polys.grad):
            return None
        score = polydict.diff(polys.log, wrt, polys.leaf_diff)
        if score is None:
            return None
        total = dict(score)
        for ui, xi, gi in zip(u, p.x, polys.grad, strict=True):
            up = polydict.to_poly(ui, memo=polys.memo)
            div = polydict.diff(up, xi, polys.leaf_diff)
            if div is None:
                return None
            total = polydict.add(total, div, polydict.mul(up, gi))
        return total
    except polydict.TooBig:
        return None
