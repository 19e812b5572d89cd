r"""The jump terms of Eq. (66): one ``SurfaceTerm`` per surface where phi jumps.

When phi jumps across a surface M, the divergence theorem used in Eq. (47)
gains an integral over M (Eq. 63), and the flow estimator must add

.. math::
    G = \int_M p\,\Delta\phi\;\mathbf{u}\cdot\hat{\mathbf{n}}\,dS
      = \int p\,\Delta\phi\;\mathbf{u}\cdot\nabla f\;\delta(f(\mathbf{x}))\,d\mathbf{x}

where M = {f = 0}, n = grad f / |grad f| and Delta phi = phi(f > 0 side) - phi(f < 0 side).
This is the paper's ``-Delta(p phi u) . m`` with m pointing against the
direction in which Delta is taken (Eq. 66).

How jumps are found: phi is rewritten in *Heaviside normal form* (Piecewise
conditions, ``sign`` and Heaviside atoms all become products of
``Heaviside(f_k)`` with each f_k scaled to a canonical sign), and every
distinct f_k is one surface.  The jump of phi across f_k = 0 is phi with
``Heaviside(f_k) -> 1`` minus phi with ``Heaviside(f_k) -> 0``.

How the surface integral is parameterized: M is solved for one coordinate
x_j = s(x_{-j}) (the one f is linear in); by the coarea formula

.. math:: G = \int \frac{p\,\Delta\phi\;\mathbf{u}\cdot\nabla f}{|\partial_j f|}\Big|_{x_j = s(x_{-j})} dx_{-j}

In 1-D M is a finite set of points and G a finite sum over them of
p u (phi(r+) - phi(r-)): the jump is taken along +x from phi's one-sided
limits, so a root where f touches 0 without crossing ((x - c)^2) has no
jump, an odd root of higher order ((x - c)^3) has one, and a point where
several level functions vanish at once is one jump of phi, not one per
level.  Points on the support's edge carry no jump term (p is 0 on the far
side; the flux there is the boundary term of Eq. 47/77).  In d-D the
integral over x_{-j} is sampled from q_M, the marginal of the sampling
density over x_{-j} (so that a sample of q_M is a sample of q with x_j
dropped).
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from ..calculus.heaviside import canonical_level, is_zero_number, jump_across, one_sided
from ..calculus.marginal import marginal_density
from ..core import budget as budgets
from ..core.budget import SYMPY_GAVE_UP, BudgetExceeded, resolve_timeout, run_with_budget
from ..core.convert import as_expr
from ..core.density import Density
from ..core.estimator import TermKind
from ..errors import EstimatorError, FlowError
from ..zero import proves_zero
from .surface import SurfaceTerm

__all__ = ["jump_terms"]


def _solve_for(f: sp.Expr, x: tuple[sp.Symbol, ...], budget: float) -> tuple[sp.Symbol, tuple[sp.Expr, ...]]:
    """Solve f = 0 for one coordinate: all real points in 1-D, a linear coordinate in d-D."""
    if len(x) == 1:
        xi = x[0]
        if f.is_polynomial(xi) and sp.Poly(f, xi).degree() == 1:  # the common case, without a solver
            a, b = sp.Poly(f, xi).all_coeffs()
            return xi, (-b / a,)

        def roots():
            return sp.solveset(f, xi, domain=sp.S.Reals)

        try:
            sol = run_with_budget(roots, timeout=budget, what="solving for the jump points")
        except BudgetExceeded as exc:
            raise EstimatorError(
                f"the points where phi jumps ({sp.sstr(f)} = 0) were not found within the budget ({exc}); "
                "give a larger timeout=, or pass jumps=[...] with level functions whose roots are easy to find"
            ) from None
        except SYMPY_GAVE_UP as exc:
            sol = f"SymPy's solveset failed: {type(exc).__name__}"
        if sol is sp.S.EmptySet:
            return xi, ()  # a factor without real roots (x**2 + x + 1): no surface
        if not isinstance(sol, sp.FiniteSet):
            raise EstimatorError(
                f"the jump set {sp.sstr(f)} = 0 is not a finite set of points that SymPy can find "
                f"({sol}); pass jumps=[...] with simpler level functions"
            )
        return xi, tuple(sorted(sol, key=sp.default_sort_key))
    for xi in reversed(x):
        if xi in f.free_symbols and f.is_polynomial(xi) and sp.Poly(f, xi).degree() == 1:
            coeff = sp.diff(f, xi)
            rest = sp.expand(f - coeff * xi)
            if not (coeff.is_positive or coeff.is_negative) and _common_factor(coeff, rest, x):
                # f = a x_j + b vanishes on all of {a = 0 = b} as well: x_j = -b/a would miss that branch
                continue
            return xi, (budgets.simplify(xi - f / coeff, timeout=budget),)
    raise EstimatorError(
        f"the jump surface {sp.sstr(f)} = 0 is not linear in any coordinate of {tuple(map(str, x))} (or it is, "
        "with a coefficient that vanishes on a whole branch of the surface); symflow parameterizes surfaces as "
        "x_j = s(other coordinates): write phi's condition with factors linear in some coordinate, or pass "
        "jumps=[...] with such level functions"
    )


def _jumping(phi: sp.Expr, f: sp.Expr, xj: sp.Symbol, branches: tuple, x: tuple, budget: float) -> tuple:
    """The branches of the surface f = 0 across which phi provably jumps, or may (kept unless shown 0)."""
    if len(x) == 1:
        keep = []
        for r in branches:
            jump = one_sided(phi, xj, r, 1, x) - one_sided(phi, xj, r, -1, x)
            if not (jump.is_number and is_zero_number(jump)):
                keep.append(r)
        return tuple(keep)
    delta = jump_across(phi, f, x)
    return tuple(s for s in branches if not proves_zero(delta.xreplace({xj: s}), budget))


def _common_factor(a: sp.Expr, b: sp.Expr, x: tuple[sp.Symbol, ...]) -> bool:
    """Whether a and b share a factor that depends on x (or that cannot be ruled out)."""
    try:
        g = sp.gcd(a, b)
    except (sp.PolynomialError, NotImplementedError, ValueError, TypeError):
        return True
    return bool(g.free_symbols & set(x))


def jump_terms(
    p: Density,
    u: tuple[sp.Expr, ...],
    wrt: sp.Symbol,
    levels: Sequence[sp.Expr],
    q: Density | None = None,
    *,
    phi: sp.Expr | None = None,
    timeout: float | None = None,
) -> tuple[SurfaceTerm, ...]:
    r"""One ``SurfaceTerm`` per jump surface f = 0 (Eq. 66).

    The weight is w = p u . grad f / |d f/d x_j|, so the term is
    :math:`\int_M p\,\Delta\phi\,\mathbf{u}\cdot\hat{\mathbf{n}}\,dS`.
    Surfaces where u . grad f vanishes identically (the flow slides along
    M) contribute nothing and are dropped.  In 1-D the weight is p u and
    the jump phi(r+) - phi(r-) is taken along +x at each root r; a point
    that several levels share belongs to the first of them only.
    """
    budget = resolve_timeout(timeout)
    x = p.x
    for comp in u:
        if comp.has(sp.Heaviside, sp.Piecewise, sp.sign):
            raise FlowError(
                "the flow itself jumps; symflow adds surface terms for jumps of phi only. Use a continuous flow"
            )
    if p.expr.has(sp.Heaviside, sp.Piecewise):
        raise EstimatorError(
            f"{p.name} has jumps inside its support; only jumps of phi and moving support edges are supported"
        )
    terms = []
    claimed: list[sp.Expr] = []  # 1-D jump points already covered by an earlier level
    for raw in levels:
        raw = as_expr(raw, "jump level function")
        stray = raw.free_symbols - set(x)
        if stray:
            raise EstimatorError(
                f"the jump surface {sp.sstr(raw)} = 0 uses {', '.join(map(str, sorted(stray, key=str)))}; "
                "phi (and so its jumps) may depend on x only"
            )
        _, f = canonical_level(raw)
        normal_flux = sum((ui * sp.diff(f, xi) for ui, xi in zip(u, x, strict=True)), sp.S.Zero)
        if proves_zero(normal_flux, budget):
            continue
        xj, branches = _solve_for(f, x, budget)
        if phi is not None:
            branches = _jumping(phi, f, xj, branches, x, budget)  # a kink of |g| or max(a, b) is no jump
            if not branches:
                continue
        weight = p.expr * normal_flux / sp.Abs(sp.diff(f, xj)) if len(x) > 1 else p.expr * normal_flux
        if len(x) == 1:
            # in 1-D the term is sum_k p u (phi(r_k+) - phi(r_k-)); a shared point is one jump of phi
            branches = tuple(r for r in branches if not any(is_zero_number(r - c) for c in claimed))
            claimed.extend(branches)
            if not branches:
                continue
            weight = p.expr * u[0]
        q_M = marginal_density(q if q is not None else p, xj, budget) if len(x) > 1 else None
        terms.append(
            SurfaceTerm(
                p,
                wrt,
                TermKind.JUMP,
                xj,
                branches,
                weight,
                f,
                q_M,
                "66",
                f"jump term (Eq. 66) across {sp.sstr(f)} = 0",
                timeout,
            )
        )
    return tuple(terms)
