r"""Support edges that move with theta: the boundary term of Eq. (76)-(77).

For a density whose support [lo_j(theta), hi_j(theta)] moves (Uniform(a, b),
truncated densities), differentiating under the integral misses the motion
of the edges (Leibniz / Reynolds transport, Eq. 76):

.. math::
    \frac{d}{d\theta}\int p\phi = \int \partial_\theta p\,\phi
      + \oint_{\partial D} p\,\phi\,\mathbf{v}\cdot\hat{\mathbf{n}}\,dS  \qquad (77)

with v = d(edge)/d theta (p is 0 outside, so Delta p is p's inside value).
The flow estimator also assumed that the flux p u phi through the edge
vanishes (Eq. 47); at a finite edge it need not, so the flux is taken back
out.  Per face x_j = e(theta) with outward normal +-e_j the extra term is

.. math:: \pm\int p\,\phi\,(\partial_\theta e - u_j)\big|_{x_j = e}\,dx_{-j}

It vanishes when the flow moves with the edge (u_j = d e/d theta there), as
the reparameterization flow of Uniform(a, b) does.
"""

from __future__ import annotations

import sympy as sp

from ..calculus.marginal import marginal_density
from ..core import budget as budgets
from ..core.budget import resolve_timeout
from ..core.density import Density
from ..core.estimator import TermKind
from ..zero import proves_zero
from .surface import SurfaceTerm

__all__ = ["moving_boundary_terms"]


def _vanishes(expr: sp.Expr, budget: float) -> bool:
    return proves_zero(budgets.simplify(expr, timeout=budget), budget)


def moving_boundary_terms(
    p: Density,
    u: tuple[sp.Expr, ...],
    wrt: sp.Symbol,
    q: Density | None = None,
    *,
    timeout: float | None = None,
) -> tuple[SurfaceTerm, ...]:
    """One ``SurfaceTerm`` per support face whose term p phi (de/dtheta - u_j) is not 0 (Eq. 77)."""
    budget = resolve_timeout(timeout)
    terms = []
    for j, (xj, s) in enumerate(zip(p.x, p.support_sets, strict=True)):
        for edge, outward, label in ((s.sup, 1, "upper"), (s.inf, -1, "lower")):
            if edge.is_infinite:
                continue  # p u phi -> 0 in the tails is the boundary condition checked elsewhere
            speed = sp.diff(edge, wrt)
            relative = (speed - u[j]).xreplace({xj: edge})
            if _vanishes(relative, budget):
                continue
            weight = outward * p.expr * (speed - u[j])
            q_M = marginal_density(q if q is not None else p, xj, budget) if p.dim > 1 else None
            terms.append(
                SurfaceTerm(
                    p,
                    wrt,
                    TermKind.MOVING_BOUNDARY,
                    xj,
                    (edge,),
                    weight,
                    None,
                    q_M,
                    "77",
                    f"moving-boundary term (Eq. 77) at the {label} edge {xj} = {sp.sstr(edge)}",
                    timeout,
                    -outward,  # phi is taken from inside the support (a jump of phi on the edge is not halved)
                )
            )
    return tuple(terms)
