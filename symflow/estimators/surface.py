r"""``SurfaceTerm``: an extra term of an estimator, an integral over a surface sampled from its own q_M.

Two kinds: the jump term of Eq. (66), where phi jumps across M = {f = 0},

.. math::
    G = \int_M p\,\Delta\phi\;\mathbf{u}\cdot\hat{\mathbf{n}}\,dS
      = \int \frac{p\,\Delta\phi\;\mathbf{u}\cdot\nabla f}{|\partial_j f|}\Big|_{x_j = s(x_{-j})} dx_{-j}

(coarea formula, M solved for one coordinate x_j = s(x_{-j})), and the
moving-boundary term of Eq. (77) at a support edge that moves with theta.
In 1-D the integral is a finite sum over points; in d-D it is sampled from
q_M, the marginal of the sampling density over x_{-j}.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import mpmath
import numpy as np
import sympy as sp

from ..calculus.heaviside import jump_across, one_sided
from ..core.budget import SYMPY_GAVE_UP, BudgetExceeded, run_with_budget
from ..core.convert import as_expr, as_test_function, exact_values
from ..core.density import Density
from ..core.estimator import TermKind
from ..core.steps import Step
from ..numeric.evaluate import numpy_scalar_function

__all__ = ["DELTA_PHI", "SurfaceTerm", "budgeted"]

DELTA_PHI = sp.Symbol("Delta_phi")


def budgeted(fn: Callable, *args, timeout: float, what: str):
    try:
        return run_with_budget(fn, *args, timeout=timeout, what=what)
    except BudgetExceeded:
        return None
    except SYMPY_GAVE_UP:
        return None


@dataclass(frozen=True)
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
    kind : TermKind
        ``TermKind.JUMP`` or ``TermKind.MOVING_BOUNDARY``.
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
    kind: TermKind
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
        phi = as_test_function(phi)
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
        from ..calculus.quadrature import numeric_integral

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
        fn = numpy_scalar_function([self.q_M.x, thetas], ratio)
        out = fn(tuple(xs.T), vals)
        return np.broadcast_to(np.asarray(out, dtype=float), (n,)).copy()

    def steps(self) -> tuple[Step, ...]:
        """The derivation of this term, as Steps (rule text + the paper's equation)."""
        lhs = sp.Symbol(f"G_{self.kind.value.replace(' ', '_')}")
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
