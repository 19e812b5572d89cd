r"""Jumps of phi and the surface term of Eq. (66).

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

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import mpmath
import numpy as np
import sympy as sp

from ..core.budget import BudgetExceeded, resolve_timeout, run_with_budget
from ..core.convert import as_expr, exact_values
from ..core.density import Density
from ..core.steps import Step
from ..errors import EstimatorError, FlowError

__all__ = [
    "SurfaceTerm",
    "heaviside_form",
    "jump_across",
    "jump_set",
    "jump_terms",
    "pointwise",
]

DELTA_PHI = sp.Symbol("Delta_phi")


# -- Heaviside normal form ------------------------------------------------------


def _canonical(g: sp.Expr) -> tuple[int, sp.Expr]:
    """g = c * f with c a nonzero number and f scaled to a canonical sign: (sign(c), f)."""
    g = sp.factor_terms(sp.expand(g))
    c, rest = g.as_coeff_Mul()
    if c == 0:
        raise EstimatorError("a jump condition of phi does not depend on x; phi has a degenerate condition")
    sign = 1 if c > 0 else -1
    if rest.could_extract_minus_sign():
        sign, rest = -sign, -rest
    return sign, sp.expand(rest)


def _step(g: sp.Expr) -> sp.Expr:
    """Heaviside(g) with g brought to canonical form (equal almost everywhere)."""
    sign, f = _canonical(g)
    h = sp.Heaviside(f)
    return h if sign > 0 else 1 - h


def _indicator(cond: sp.Basic, x: tuple[sp.Symbol, ...]) -> sp.Expr:
    """A Boolean condition on x as an expression in Heaviside atoms (a.e.)."""
    if cond is sp.true:
        return sp.S.One
    if cond is sp.false:
        return sp.S.Zero
    if not (cond.free_symbols & set(x)):
        raise EstimatorError(f"the condition {cond} of phi does not involve {x}; phi must depend on x only")
    if isinstance(cond, sp.StrictGreaterThan | sp.GreaterThan):
        return _step(cond.lhs - cond.rhs)
    if isinstance(cond, sp.StrictLessThan | sp.LessThan):
        return _step(cond.rhs - cond.lhs)
    if isinstance(cond, sp.Eq):
        return sp.S.Zero  # holds on a null set only
    if isinstance(cond, sp.Ne):
        return sp.S.One
    if isinstance(cond, sp.And):
        return sp.Mul(*(_indicator(c, x) for c in cond.args))
    if isinstance(cond, sp.Or):
        return 1 - sp.Mul(*(1 - _indicator(c, x) for c in cond.args))
    if isinstance(cond, sp.Not):
        return 1 - _indicator(cond.args[0], x)
    raise EstimatorError(
        f"cannot turn the condition {cond} of phi into a jump surface; use relations such as x > c, "
        "combined with And/Or/Not"
    )


def heaviside_form(phi: sp.Expr, x: Sequence[sp.Symbol]) -> sp.Expr:
    """phi rewritten with Heaviside atoms only (equal to phi almost everywhere).

    Piecewise becomes nested ``H c_1 e_1 + (1 - H c_1)(...)``, ``sign(g)``
    becomes ``2 H(g) - 1``, and every ``Heaviside(g)`` is rescaled so that g
    has a canonical sign (``H(-g) = 1 - H(g)`` a.e.).
    """
    x = tuple(x)
    phi = as_expr(phi, "phi")
    if phi.has(sp.DiracDelta):
        raise EstimatorError("phi contains DiracDelta; phi must be an ordinary function (jumps are fine)")
    for fn in (sp.floor, sp.ceiling, sp.frac):
        if any(a.free_symbols & set(x) for a in phi.atoms(fn)):
            raise EstimatorError(
                f"phi uses {fn.__name__}, which jumps at infinitely many points; write the jumps you need "
                "with Heaviside or Piecewise (for integer variables use go_estimator)"
            )

    def piecewise(*pairs):
        out = sp.S.Zero
        remaining = sp.S.One
        for expr, cond in pairs:
            ind = _indicator(cond, x)
            out += remaining * ind * expr
            remaining = remaining * (1 - ind)
            if cond is sp.true:
                break
        return out

    out = phi.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: piecewise(*e.args))
    out = out.replace(
        lambda e: isinstance(e, sp.sign) and bool(e.free_symbols & set(x)),
        lambda e: 2 * _step(e.args[0]) - 1,
    )
    out = out.replace(
        lambda e: isinstance(e, sp.Heaviside) and bool(e.free_symbols & set(x)),
        lambda e: _step(e.args[0]),
    )
    return out


def _levels(expr: sp.Expr, x: tuple[sp.Symbol, ...]) -> list[sp.Expr]:
    """The distinct canonical level functions f of the Heaviside atoms of ``expr``."""
    found: list[sp.Expr] = []
    for h in sorted(expr.atoms(sp.Heaviside), key=sp.default_sort_key):
        f = h.args[0]
        if f.free_symbols & set(x) and f not in found:
            found.append(f)
    return found


def jump_set(phi: sp.Expr, x: Sequence[sp.Symbol]) -> tuple[sp.Expr, ...]:
    """The level functions f_k whose zero sets {f_k = 0} are where phi may jump."""
    x = tuple(x)
    return tuple(_levels(heaviside_form(phi, x), x))


def jump_across(phi: sp.Expr, level: sp.Expr, x: Sequence[sp.Symbol]) -> sp.Expr:
    """Delta phi = phi on the side f > 0 minus phi on the side f < 0 of the surface f = 0."""
    x = tuple(x)
    sign, f = _canonical(level)
    form = heaviside_form(phi, x)
    h = sp.Heaviside(f)
    up = form.xreplace({h: sp.S.One})
    down = form.xreplace({h: sp.S.Zero})
    return sign * (up - down)


def split_pieces(
    integrand: sp.Expr, xi: sp.Symbol, support: sp.Set
) -> tuple[tuple[sp.Expr, sp.Expr, sp.Expr], ...] | None:
    """Split a 1-D integrand with jumps into jump-free pieces ``(lo, hi, expr)`` over ``support``.

    SymPy integrates ``p * Heaviside(x - c)`` poorly but ``p`` over [c, oo)
    well, so integrals of discontinuous integrands are done piece by piece.
    Returns None when there is nothing to split or a jump point is not a
    number (it depends on parameters).
    """
    if not integrand.has(sp.Heaviside, sp.Piecewise, sp.sign):
        return None
    form = heaviside_form(integrand, (xi,))
    levels = _levels(form, (xi,))
    points: set = set()
    for f in levels:
        sol = sp.solveset(f, xi, domain=sp.S.Reals)
        if not isinstance(sol, sp.FiniteSet) or any(not r.is_number for r in sol):
            return None
        points.update(sol)
    lo, hi = support.inf, support.sup
    if points and not all(e.is_number for e in (lo, hi)):
        return None  # cannot order numeric jump points against parameter-dependent edges
    inner = sorted((r for r in points if (lo.is_infinite or r > lo) and (hi.is_infinite or r < hi)), key=float)
    edges = [lo, *inner, hi]
    pieces = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        if a.is_infinite:
            mid = b - 1
        elif b.is_infinite:
            mid = a + 1
        else:
            mid = (a + b) / 2
        values = {h: (sp.S.One if h.args[0].xreplace({xi: mid}) > 0 else sp.S.Zero) for h in form.atoms(sp.Heaviside)}
        pieces.append((a, b, form.xreplace(values)))
    return tuple(pieces)


def _is_zero_number(e: sp.Expr) -> bool:
    """Is e (free of x) exactly 0?  Decided symbolically, else at 60 digits for a closed number."""
    z = e.is_zero
    if z is not None:
        return bool(z)
    if e.free_symbols:
        return False  # depends on other coordinates or parameters: 0 only on a null set
    return abs(sp.N(e, 60)) < sp.Float(10) ** -45


def _side_sign(f: sp.Expr, xj: sp.Symbol, r: sp.Expr, side: int) -> int | None:
    """The sign of f just to the right (side=+1) or left (side=-1) of x_j = r; None when f(r) != 0.

    At a root, the first derivative that does not vanish decides: order k
    and value c give sign(c) on the right and sign(c) (-1)^k on the left.
    """
    if not _is_zero_number(f.xreplace({xj: r})):
        return None
    g = f
    for order in range(1, 13):
        g = sp.diff(g, xj)
        c = g.xreplace({xj: r})
        if _is_zero_number(c):
            continue
        if c.is_positive:
            s = 1
        elif c.is_negative:
            s = -1
        elif not c.free_symbols:
            s = 1 if sp.N(c, 30) > 0 else -1
        else:
            raise EstimatorError(
                f"cannot tell on which side of {xj} = {sp.sstr(r)} the level {sp.sstr(f)} is positive; "
                "pass jumps=[...] with simpler level functions"
            )
        return s * side**order
    raise EstimatorError(f"the level {sp.sstr(f)} vanishes to order > 12 at {xj} = {sp.sstr(r)}")


def one_sided(phi: sp.Expr, xj: sp.Symbol, r: sp.Expr, side: int, x: Sequence[sp.Symbol]) -> sp.Expr:
    """phi's limit as x_j -> r from the right (side=+1) or the left (side=-1).

    Every Heaviside atom of phi's Heaviside form whose level vanishes at
    x_j = r takes its value on that side (SymPy's Heaviside(0) = 1/2 is the
    value *on* the surface, which no one-sided limit has).
    """
    x = tuple(x)
    form = heaviside_form(phi, x)
    values = {}
    for h in form.atoms(sp.Heaviside):
        f = h.args[0]
        if xj not in f.free_symbols:
            continue
        s = _side_sign(f, xj, r, side)
        if s is not None:
            values[h] = sp.S.One if s > 0 else sp.S.Zero
    return form.xreplace(values).xreplace({xj: r})


def pointwise(expr: sp.Expr) -> sp.Expr:
    """``expr`` with DiracDelta terms dropped: the derivative where it exists (a.e.)."""
    return expr.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero)


# -- the surface term value -----------------------------------------------------


def _budgeted(fn: Callable, *args, timeout: float, what: str):
    try:
        return run_with_budget(fn, *args, timeout=timeout, what=what)
    except BudgetExceeded:
        return None
    except (NotImplementedError, ValueError, TypeError):
        return None


@dataclass(frozen=True, eq=False)
class SurfaceTerm:
    r"""An extra term of an estimator: an integral over a surface, sampled from its own q_M.

    The term's contribution to E[estimator] is

    .. math:: \sum_k \int w(\mathbf{x})\, J[\phi](\mathbf{x})\big|_{x_j = s_k(x_{-j})}\, dx_{-j}

    with J[phi] = Delta phi across ``level`` = 0 (a jump, Eq. 66) or
    J[phi] = phi (a moving support edge, Eq. 77), over the support of
    x_{-j}.  In 1-D it is a finite sum over the points s_k.

    Attributes
    ----------
    density : Density
        p, whose parameters the term depends on.
    wrt : Symbol
        The parameter differentiated.
    kind : str
        ``"jump"`` or ``"moving boundary"``.
    coordinate : Symbol
        x_j, the coordinate the surface is solved for.
    branches : tuple of Expr
        The surface as x_j = s_k(x_{-j}) (numbers or parameter expressions in 1-D).
    weight : Expr
        w(x), e.g. p u . grad f / |d f / d x_j| for a jump.
    level : Expr or None
        f for a jump (Delta is taken toward f > 0); None for a boundary term.
    q_M : Density or None
        Sampling density of x_{-j} on the surface (d >= 2); None in 1-D,
        where q_M is uniform over the points s_k.
    equation, description : str
        The paper's equation and a one-line description for printing.
    inside : int
        For a boundary term, the side of the edge where the support lies
        (+1 above, -1 below): phi is taken as its limit from there, so a
        jump of phi exactly on the edge does not count half.  0: phi is
        evaluated on the surface as it is.
    """

    density: Density
    wrt: sp.Symbol
    kind: str
    coordinate: sp.Symbol
    branches: tuple[sp.Expr, ...]
    weight: sp.Expr
    level: sp.Expr | None = None
    q_M: Density | None = field(default=None, repr=False)
    equation: str = "66"
    description: str = ""
    timeout: float | None = field(default=None, repr=False)
    inside: int = 0

    @property
    def others(self) -> tuple[sp.Symbol, ...]:
        return tuple(xi for xi in self.density.x if xi != self.coordinate)

    def _jump(self, phi: sp.Expr) -> sp.Expr:
        phi = as_expr(phi, "phi")
        if self.level is None:
            return phi
        return jump_across(phi, self.level, self.density.x)

    def integrand(self, phi: sp.Expr) -> sp.Expr:
        """The integrand over x_{-j} (in 1-D: the contribution itself)."""
        xj, x = self.coordinate, self.density.x
        one_d = self.level is not None and len(x) == 1
        local = None if one_d or self.inside else self.weight * self._jump(phi)
        j = x.index(xj)
        support_j = self.density.support_sets[j]
        interior = sp.Interval.open(support_j.inf, support_j.sup) if isinstance(support_j, sp.Interval) else support_j
        total = sp.S.Zero
        for s in self.branches:
            if one_d:
                # phi(r+) - phi(r-): one-sided limits, so coinciding levels and higher-order roots come out right
                jump = one_sided(phi, xj, s, 1, x) - one_sided(phi, xj, s, -1, x)
                term = self.weight.xreplace({xj: s}) * jump
            elif self.inside:
                term = self.weight.xreplace({xj: s}) * one_sided(phi, xj, s, self.inside, x)
            else:
                term = local.xreplace({xj: s})
            if self.level is not None and support_j != sp.S.Reals:
                # a jump surface outside the support (or on its edge) carries no probability across it
                inside = interior.contains(s)
                if inside is sp.false:
                    continue
                if inside is not sp.true:
                    term = sp.Piecewise((term, inside), (0, True))
            total += term
        return total

    def symbolic_expectation(self, phi: sp.Expr) -> sp.Expr | None:
        """The exact contribution to E[estimator], or None when SymPy cannot integrate it."""
        body = self.integrand(phi)
        if self.q_M is None:
            return body
        from ..calculus.integrals import symbolic_integral

        return symbolic_integral(self.q_M, body, timeout=self.timeout)

    def numeric_expectation(self, phi: sp.Expr, values: dict, dps: int) -> mpmath.mpf | None:
        """The contribution at parameter ``values``, to ``dps`` digits (quadrature in d-D)."""
        body = self.integrand(phi)
        values = exact_values({k: as_expr(v, "value") for k, v in values.items()})
        if self.q_M is None:
            val = body.xreplace(values)
            try:
                with mpmath.workdps(dps):
                    return mpmath.mpmathify(sp.N(val, dps))
            except (TypeError, ValueError):
                return None
        from ..calculus.integrals import numeric_integral

        needed = {k: v for k, v in values.items() if k in set(self.q_M.params) | body.free_symbols}
        return numeric_integral(self.q_M, body, needed, dps=dps, timeout=self.timeout)

    def mc_samples(self, phi: sp.Expr, params: dict, n: int, rng: np.random.Generator) -> np.ndarray:
        """n per-sample contributions drawn from q_M; their mean estimates the term."""
        body = self.integrand(phi)
        thetas = tuple(self.density.params)
        vals = tuple(float(params[t]) for t in thetas)
        if self.q_M is None:
            # q_M: uniform over the K points; each draw contributes K * (value there)
            per_point = []
            for s in self.branches:
                single = dataclasses.replace(self, branches=(s,), q_M=None).integrand(phi)
                per_point.append(float(sp.N(single.xreplace(dict(zip(thetas, vals, strict=True))), 17)))
            if not per_point:
                return np.zeros(n)
            idx = rng.integers(0, len(per_point), size=n)
            return len(per_point) * np.asarray(per_point)[idx]
        xs = self.q_M.sample(n, {t: params[t] for t in self.q_M.params}, rng)
        ratio = body / self.q_M.expr
        fn = sp.lambdify([self.q_M.x, thetas], ratio, modules=["scipy", "numpy"])
        out = fn(tuple(xs.T), vals)
        return np.broadcast_to(np.asarray(out, dtype=float), (n,)).copy()

    def steps(self) -> tuple[Step, ...]:
        """The derivation of this term, as Steps (rule text + the paper's equation)."""
        lhs = sp.Symbol(f"G_{self.kind.replace(' ', '_')}")
        jump = DELTA_PHI if self.level is not None else sp.Symbol("phi")
        at = [sp.Subs(self.weight * jump, self.coordinate, s) for s in self.branches]
        rhs = sp.Add(*at) if self.q_M is None else sp.Integral(sp.Add(*at), *self.others)
        if self.level is not None:
            return (
                Step(
                    lhs,
                    sp.Integral(
                        self.density.expr * jump * sp.Symbol("u.grad_f") * sp.DiracDelta(self.level),
                        *self.density.x,
                    ),
                    "phi jumps across M = {f = 0}: the divergence theorem gains the jump of p u phi (Eq. 63)",
                    "63",
                    (
                        f"f = {sp.sstr(self.level)}",
                        "Delta_phi = phi(x+) - phi(x-)"
                        if len(self.density.x) == 1
                        else "Delta_phi = phi(f > 0) - phi(f < 0)",
                    ),
                ),
                Step(
                    lhs,
                    rhs,
                    f"coarea formula: solve f = 0 for {self.coordinate}; add G to the estimator sampled from q_M",
                    "66",
                ),
            )
        return (
            Step(
                lhs,
                rhs,
                "moving support edge: Leibniz rule adds p phi (v - u).n on the edge, v = d edge / d theta",
                "77",
                ("p u phi at the edge is the divergence-theorem boundary flux of Eq. 47",),
            ),
        )

    def __str__(self) -> str:
        where = ", ".join(f"{self.coordinate} = {sp.sstr(s)}" for s in self.branches)
        jump = "Delta phi" if self.level is not None else "phi"
        sampling = (
            f"q_M = marginal of {self.q_M.name} over {tuple(map(str, self.others))}"
            if self.q_M is not None
            else ("q_M uniform over the point(s)" if len(self.branches) > 1 else "q_M = point mass")
        )
        head = self.description or f"{self.kind} term (Eq. {self.equation})"
        return f"{head}: + {sp.sstr(self.weight)} * {jump} at {where}; {sampling}"


# -- building jump terms --------------------------------------------------------


def _solve_for(f: sp.Expr, x: tuple[sp.Symbol, ...], budget: float) -> tuple[sp.Symbol, tuple[sp.Expr, ...]]:
    """Solve f = 0 for one coordinate: all real points in 1-D, a linear coordinate in d-D."""
    if len(x) == 1:
        xi = x[0]

        def roots():
            return sp.solveset(f, xi, domain=sp.S.Reals)

        sol = _budgeted(roots, timeout=budget, what="solving for the jump points")
        if not isinstance(sol, sp.FiniteSet):
            raise EstimatorError(
                f"the jump set {sp.sstr(f)} = 0 is not a finite set of points that SymPy can find "
                f"({sol}); pass jumps=[...] with simpler level functions"
            )
        return xi, tuple(sorted(sol, key=sp.default_sort_key))
    for xi in reversed(x):
        if xi in f.free_symbols and f.is_polynomial(xi) and sp.Poly(f, xi).degree() == 1:
            coeff = sp.diff(f, xi)
            return xi, (sp.simplify(xi - f / coeff),)
    raise EstimatorError(
        f"the jump surface {sp.sstr(f)} = 0 is not linear in any coordinate of {tuple(map(str, x))}; "
        "symflow parameterizes surfaces as x_j = s(other coordinates)"
    )


def _marginal(q: Density, xj: sp.Symbol, budget: float) -> Density:
    """q_M: the marginal of q over every coordinate except x_j, sampled by dropping x_j."""
    j = q.x.index(xj)
    s = q.support_sets[j]

    def integrate():
        out = sp.integrate(q.expr, (xj, s.inf, s.sup))
        return sp.simplify(out)

    marg = _budgeted(integrate, timeout=budget, what="marginal density for q_M")
    if marg is None or marg.has(sp.Integral):
        raise EstimatorError(
            f"could not integrate {q.name} over {xj} to get the surface sampling density q_M; "
            "use a sampling density whose marginals SymPy can integrate"
        )
    others = tuple(xi for xi in q.x if xi != xj)
    sets = tuple(st for xi, st in zip(q.x, q.support_sets, strict=True) if xi != xj)
    sampler = None
    if q.sampler is not None or q.reparam is not None:

        def sampler(n, params, rng, _q=q, _j=j):
            draws = _q.sample(n, params, rng)
            return np.delete(draws, _j, axis=1)

    return Density(
        marg,
        others,
        q.params,  # all of q's: its sampler draws the full x before dropping x_j
        support=sets,
        sampler=sampler,
        constraints=q.constraints,
        name=f"{q.name}_M",
    )


def jump_terms(
    p: Density,
    u: tuple[sp.Expr, ...],
    wrt: sp.Symbol,
    levels: Sequence[sp.Expr],
    q: Density | None = None,
    *,
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
        _, f = _canonical(raw)
        normal_flux = sum((ui * sp.diff(f, xi) for ui, xi in zip(u, x, strict=True)), sp.S.Zero)
        if sp.simplify(normal_flux) == 0:
            continue
        xj, branches = _solve_for(f, x, budget)
        weight = p.expr * normal_flux / sp.Abs(sp.diff(f, xj)) if len(x) > 1 else p.expr * normal_flux
        if len(x) == 1:
            # in 1-D the term is sum_k p u (phi(r_k+) - phi(r_k-)); a shared point is one jump of phi
            branches = tuple(r for r in branches if not any(_is_zero_number(r - c) for c in claimed))
            claimed.extend(branches)
            if not branches:
                continue
            weight = p.expr * u[0]
        q_M = _marginal(q if q is not None else p, xj, budget) if len(x) > 1 else None
        terms.append(
            SurfaceTerm(
                p,
                wrt,
                "jump",
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
