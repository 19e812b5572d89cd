"""Marginal densities: q_M, the sampling density of the other coordinates on a surface x_j = s(x_{-j})."""

from __future__ import annotations

from functools import partial

import numpy as np
import sympy as sp

from ..core import budget as budgets
from ..core.budget import SYMPY_GAVE_UP, BudgetExceeded, run_with_budget
from ..core.density import Density
from ..errors import EstimatorError

__all__ = ["marginal_density"]


def _drop_coordinate(q: Density, j: int, n: int, params: dict, rng: np.random.Generator) -> np.ndarray:
    """A sample of q with coordinate j dropped: a sample of q's marginal over the others."""
    return np.delete(q.sample(n, params, rng), j, axis=1)


@budgets.pure  # SymPy's integrate and simplify of its arguments alone
def _integrated_out(expr: sp.Expr, xj: sp.Symbol, lo: sp.Expr, hi: sp.Expr) -> sp.Expr:
    """``expr`` integrated over ``xj`` from ``lo`` to ``hi``, simplified (run inside a budgeted step)."""
    return budgets.simplify(budgets.integrate(expr, (xj, lo, hi)))


def marginal_density(q: Density, xj: sp.Symbol, budget: float) -> Density:
    """q_M: the marginal of q over every coordinate except x_j, sampled by dropping x_j."""
    j = q.x.index(xj)
    s = q.support_sets[j]

    try:
        marg = run_with_budget(
            _integrated_out, q.expr, xj, s.inf, s.sup, timeout=budget, what="marginal density for q_M"
        )
    except (BudgetExceeded, *SYMPY_GAVE_UP):
        marg = None
    if marg is None or marg.has(sp.Integral):
        raise EstimatorError(
            f"could not integrate {q.name} over {xj} to get the surface sampling density q_M; "
            "use a sampling density whose marginals SymPy can integrate"
        )
    others = tuple(xi for xi in q.x if xi != xj)
    sets = tuple(st for xi, st in zip(q.x, q.support_sets, strict=True) if xi != xj)
    sampler = partial(_drop_coordinate, q, j) if q.sampler is not None or q.reparam is not None else None

    return Density(
        marg,
        others,
        q.params,  # all of q's: its sampler draws the full x before dropping x_j
        support=sets,
        sampler=sampler,
        constraints=q.constraints,
        name=f"{q.name}_M",
    )
