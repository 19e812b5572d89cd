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
from ..structured import polys
from ..structured.ops import is_atom

__all__ = ["transport_polynomial", "transport_residual"]


def transport_residual(p: Density, u: tuple[sp.Expr, ...], wrt: sp.Symbol) -> sp.Expr:
    """(div(p u) + dp/dtheta_i) / p = div u + u . grad log p + d log p / dtheta_i (Eq. 50)."""
    div_u = sum((p.diff(ui, xi) for ui, xi in zip(u, p.x, strict=True)), sp.S.Zero)
    along = sum((ui * gi for ui, gi in zip(u, p.grad_log(), strict=True)), sp.S.Zero)
    return div_u + along + p.score(wrt)


class _Polys:
    """log p and its gradient as polynomials over the atoms, with the tables shared by every parameter's residual."""

    def __init__(self, p: Density) -> None:
        self.ring = polys.Ring()
        self.leaf_memo: dict = {}
        self.log = self.ring.poly(p.log_expr)
        self.grad = [self.ring.diff(self.log, xi, self.leaf_diff) for xi in p.x]

    def leaf_diff(self, k: int, s: sp.Symbol) -> polys.Poly | None:
        key = (k, s)
        got = self.leaf_memo.get(key, False)
        if got is not False:
            return got
        leaf = self.ring.leaves[k]
        if leaf.is_Symbol:
            got = {(): 1} if leaf == s else {}
        elif not polys.depends_on(leaf, s):
            got = {}
        elif is_atom(leaf):
            d = leaf._eval_derivative(s)
            got = None if d is None else self.ring.poly(d)
        else:
            got = None
        self.leaf_memo[key] = got
        return got


@lru_cache(maxsize=8)
def _polys(p: Density) -> _Polys:
    # One per density: every parameter's check of an mvn(d) reuses log p and its gradient.
    return _Polys(p)


def transport_polynomial(p: Density, u: tuple, wrt: sp.Symbol):
    """The transport residual (Eq. 52) as a polynomial, for densities written in Gaussian atoms.

    Every piece is a polynomial in the atoms and symbols, so the residual is
    computed and compared with 0 in ``symflow.structured.polys``' arithmetic
    over numbered leaves (the OMT flow's ``OmtTurn`` atoms expanded into their
    summands).  Returns the polynomial ({} is the zero polynomial), or None
    when some leaf has no derivative rule (then use the SymPy route).
    """
    try:
        pp = _polys(p)
        if any(g is None for g in pp.grad):
            return None
        ring = pp.ring
        score = ring.diff(pp.log, wrt, pp.leaf_diff)
        if score is None:
            return None
        total = dict(score)
        for ui, xi, gi in zip(u, p.x, pp.grad, strict=True):
            up = ring.poly(ui)
            div = ring.diff(up, xi, pp.leaf_diff)
            if div is None:
                return None
            polys.add_into(total, div)
            polys.add_into(total, polys.mul(up, gi, ring.cap))
        return total
    except polys.TooBig:
        return None
