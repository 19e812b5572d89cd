r"""Discrete variables: the GO gradient as a flow estimator (App. E.4, Eq. 73-75).

For a pmf p(y; theta) on the integers the flow construction of App. E.4 is:

1. embed: p~(x) = p(floor(x)) on [y, y + 1), phi~(x) = phi(floor(x)), so
   E_p~[phi~] = E_p[phi];
2. transport: in the cell [y, y + 1) the flux p~ u must satisfy
   d(p~ u)/dx = -dp(y)/dtheta, so p~ u(x) = F(y) - (x - y) dp(y)/dtheta with
   F(y) = -sum_{i < y} dp(i)/dtheta the flux entering the cell (continuous
   across the integers, zero below the support);
3. the estimator: psi = 0 (transport holds) and grad phi~ = 0 inside each
   cell, so only the surface term of Eq. (66) at the jumps x = y + 1
   remains.  There p~ u = -dQ(y)/dtheta (Eq. 74-75) and the jump is
   phi(y + 1) - phi(y).  Sampling the surface with q_M(y + 1) = p(y) gives

.. math::
    \frac{d}{d\theta}E_p[\phi] = E_{y\sim p}\left[-\frac{1}{p(y)}\frac{\partial Q(y)}{\partial\theta}
        \left(\phi(y+1)-\phi(y)\right)\right] \qquad (73)

with Q(y) = sum_{i <= y} p(i) the CDF.  ``go_estimator`` performs these
steps in SymPy for any pmf; Q is the density's ``cdf`` when given, else
SymPy's closed-form sum, else an unevaluated ``Sum`` that is evaluated by
cumulative summation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mpmath
import numpy as np
import sympy as sp

from ..core import budget as budgets
from ..core.budget import SYMPY_GAVE_UP, BudgetExceeded, bounded, expired, resolve_timeout, run_with_budget
from ..core.convert import as_expr, as_test_function, exact_values
from ..core.density import Density
from ..core.estimator import Estimator, TermKind
from ..core.steps import Step
from ..errors import EstimatorError
from ..numeric.evaluate import mpmath_function

__all__ = ["GOTerm", "discrete_cdf", "go_estimator", "go_weight"]

_I = sp.Symbol("i", integer=True)
_T = sp.Symbol("t", nonnegative=True)  # position inside a cell: x = y + t, 0 <= t < 1


def _check_discrete(p: Density) -> sp.Symbol:
    if not isinstance(p, Density):
        raise EstimatorError(f"p must be a Density, got {type(p).__name__}")
    if not p.is_discrete:
        raise EstimatorError(
            f"{p.name} is not discrete (support {p.support}); the GO gradient needs a pmf on "
            "sympy.Naturals0 or a sympy.Range"
        )
    if p.dim != 1:
        raise EstimatorError("go_estimator handles one integer variable; give a 1-D pmf")
    s = p.support_sets[0]
    if isinstance(s, sp.Range) and s.step != 1:
        # the embedding p(floor(x)) and the jump phi(y + 1) - phi(y) need consecutive integers
        raise EstimatorError(
            f"{p.name} lives on {s}, which skips integers; write the pmf over consecutive integers "
            f"(e.g. y = {s.inf} + {s.step} k with k in a Range of step 1)"
        )
    _check_positive_inside(p)
    return p.x[0]


# Members of an infinite support screened for zeros of the pmf (finite supports: every member up to this many).
PMF_ZERO_SCREEN = 200


def _check_positive_inside(p: Density) -> None:
    """Refuse a pmf that is 0 at a member of its support below its top: GO would miss a jump there.

    The GO term at y carries the flux -dQ(y)/dtheta across y + 1 and is sampled with
    probability p(y) (Eq. 73): where p(y) = 0 it is never sampled, though the flux need
    not vanish, so the estimator is biased.  Screened exactly (SymPy decides p(y) = 0) at
    the first PMF_ZERO_SCREEN members.
    """
    y = p.x[0]
    s = p.support_sets[0]
    lo, hi = s.inf, s.sup
    if not lo.is_number or not lo.is_finite:
        return
    top = int(hi) if hi.is_number and hi.is_finite else None
    last = int(lo) + PMF_ZERO_SCREEN if top is None else min(top, int(lo) + PMF_ZERO_SCREEN)
    for k in range(int(lo), last + 1):
        if top is not None and k == top:
            break  # the top member's jump lies outside the support
        if expired():  # unsure is refused: a pmf that vanishes inside its support gives a biased GO estimator
            raise EstimatorError(
                f"the budget ran out while screening {p.name} for zeros inside its support (members "
                f"{int(lo)}..{k - 1} checked); raise timeout= (the GO estimator needs p > 0 below the top)"
            )
        value = p.expr.xreplace({y: sp.Integer(k)})
        if value.is_zero:
            raise EstimatorError(
                f"{p.name} is 0 at {y} = {k}, inside its support {s}: the GO estimator samples the jump at "
                f"{y} + 1 = {k + 1} with probability p({k}) = 0, so that part of the gradient would never be seen; "
                f"remove the point from the support (relabel the remaining points as consecutive integers), or use "
                "the likelihood-ratio estimator (derive with flows.zero)"
            )


def _budgeted(fn, *args, timeout: float, what: str):
    try:
        return run_with_budget(fn, *args, timeout=timeout, what=what)
    except (BudgetExceeded, *SYMPY_GAVE_UP):
        return None


@bounded
def discrete_cdf(p: Density, *, timeout: float | None = None) -> sp.Expr | None:
    """Q(y) = sum_{i = lo}^{y} p(i) in closed form: the density's ``cdf``, else SymPy's sum, else None."""
    y = _check_discrete(p)
    if p.cdf is not None:
        return p.cdf
    lo = p.support_sets[0].inf
    if p.support_sets[0].sup.is_finite:
        return None  # a finite Sum is exact at every integer y; no closed form needed

    def total():
        return budgets.simplify(budgets.summation(p.expr.xreplace({y: _I}), (_I, lo, y)))  # inside the budget

    out = _budgeted(total, timeout=resolve_timeout(timeout), what="summing the pmf")
    if out is None or out.has(sp.Sum, sp.Piecewise):
        return None
    return out


def _flux_derivation(p: Density, wrt: sp.Symbol, timeout: float | None) -> tuple[sp.Expr, sp.Expr, list[Step]]:
    """(exit flux -dQ(y)/dtheta, its closed form or Sum, steps) from the embedding flow."""
    y = _check_discrete(p)
    s = p.support_sets[0]
    if wrt in s.inf.free_symbols | s.sup.free_symbols:
        raise EstimatorError(
            f"the support {s} of {p.name} depends on {wrt}: an integer-valued parameter such as a number of "
            "trials has no derivative; differentiate with respect to a continuous parameter"
        )
    lo = s.inf
    dp = sp.diff(p.expr, wrt)
    entering = -sp.Sum(dp.xreplace({y: _I}), (_I, lo, y - 1))
    cell_flux = entering - _T * dp  # p~ u at x = y + t
    transport = sp.diff(cell_flux, _T) + dp  # d(p~ u)/dx + dp~/dtheta inside the cell
    if sp.expand(transport.doit()) != 0:  # pragma: no cover - algebra guarantees 0
        raise EstimatorError("internal: the embedding flow does not satisfy transport")
    exit_flux = cell_flux.xreplace({_T: sp.S.One})
    Q = discrete_cdf(p, timeout=timeout)
    closed = -sp.diff(Q, wrt) if Q is not None else -sp.Sum(dp.xreplace({y: _I}), (_I, lo, y))
    F = sp.Symbol("F")
    steps = [
        Step(
            F,
            cell_flux,
            "piecewise-constant embedding p~(x) = p(floor(x)); transport d(p~u)/dx = -dp/dtheta in the cell x = y + t",
            "74",
        ),
        Step(F, exit_flux, "flux leaving the cell at x = y + 1 (t = 1)", "74"),
        Step(F, closed, "sum of -dp(i)/dtheta up to y is -dQ(y)/dtheta", "75"),
    ]
    return exit_flux, closed, steps


@bounded
def go_weight(p: Density, wrt: sp.Symbol, *, timeout: float | None = None) -> sp.Expr:
    r"""The GO weight :math:`w(y) = -\frac{1}{p(y)}\frac{\partial Q(y)}{\partial\theta}` (Eq. 73), simplified."""
    _check_discrete(p)
    p.check_param(wrt)
    _, closed, _ = _flux_derivation(p, wrt, timeout)
    return _weight_from(p, closed, timeout)


def _weight_from(p: Density, closed: sp.Expr, timeout: float | None) -> sp.Expr:
    raw = closed / p.expr
    if raw.has(sp.Sum):
        return raw
    out = budgets.simplify(raw, timeout=resolve_timeout(timeout), what="simplifying the GO weight")
    return raw if out is None else out


def _mpmath_of(y: sp.Symbol, expr: sp.Expr):
    """``expr`` as an mpmath function of the integer ``y`` (the working precision of the caller)."""
    fn = mpmath_function([y], expr)
    return lambda k: fn(k)[0]


@dataclass(frozen=True)
class GOTerm:
    r"""The jump terms at the integers: :math:`E_{y\sim p}[w(y)(\phi(y+1)-\phi(y))]` (Eq. 66 -> 73).

    Follows the ``extra_terms`` protocol of ``Estimator``; q_M is p itself
    (the surface point y + 1 is drawn with probability p(y)).
    """

    density: Density
    wrt: sp.Symbol
    weight: sp.Expr
    timeout: float | None = field(default=None, repr=False)
    kind: TermKind = TermKind.GO

    def steps(self) -> tuple:
        """No steps of its own: ``go_estimator`` records the derivation of the weight on the estimator."""
        return ()

    @property
    def y(self) -> sp.Symbol:
        return self.density.x[0]

    def summand(self, phi: sp.Expr) -> sp.Expr:
        """p(y) w(y) (phi(y + 1) - phi(y)), the term's mass at y."""
        phi = as_test_function(phi)
        y = self.y
        return self.density.expr * self.weight * (phi.xreplace({y: y + 1}) - phi)

    def symbolic_expectation(self, phi: sp.Expr) -> sp.Expr | None:
        s = self.density.support_sets[0]
        body = self.summand(phi)
        y = self.y
        if s.sup.is_finite and s.inf.is_finite and s.sup.is_number and s.inf.is_number:

            def total():  # finite support: add the terms (a finite Sum in w evaluates at each y)
                terms = (body.xreplace({y: k}).doit() for k in range(int(s.inf), int(s.sup) + 1))
                return budgets.simplify(sp.Add(*terms))

        elif self.weight.has(sp.Sum):
            return None
        else:

            def total():  # term by term: much faster than summing the whole body at once
                terms = sp.Add.make_args(sp.expand(body))
                return budgets.simplify(sp.Add(*(budgets.summation(t, (y, s.inf, s.sup)) for t in terms)))

        out = _budgeted(total, timeout=resolve_timeout(self.timeout), what="summing the GO term")
        if out is None or out.has(sp.Sum, sp.nan) or out.has(sp.Piecewise):
            return None
        return out

    def numeric_expectation(self, phi: sp.Expr, values: dict, dps: int) -> mpmath.mpf | None:
        values = exact_values({k: as_expr(v, "value") for k, v in values.items()})
        if not self.weight.has(sp.Sum):
            from ..calculus.quadrature import numeric_integral

            return numeric_integral(self.density, self.summand(phi), values, dps=dps, timeout=self.timeout)
        # user pmf without a closed-form CDF: accumulate dQ(y)/dtheta as nsum walks up the integers
        y = self.y
        s = self.density.support_sets[0]
        dp = sp.diff(self.density.expr, self.wrt).xreplace(values)
        dphi = (as_test_function(phi).xreplace({y: y + 1}) - phi).xreplace(values)
        with mpmath.workdps(dps):
            f_dp = _mpmath_of(y, dp)
            f_dphi = _mpmath_of(y, dphi)
            lo_edge, hi_edge = s.inf.xreplace(values), s.sup.xreplace(values)
            if not (lo_edge.is_integer and (hi_edge.is_infinite or hi_edge.is_integer)):
                return None  # an edge that depends on a parameter given no integer value
            lo = int(lo_edge)
            partial = [mpmath.mpf(0)]

            def term(k):
                k = int(k)
                while len(partial) <= k - lo + 1:
                    partial.append(partial[-1] + f_dp(lo + len(partial) - 1))
                return -partial[k - lo + 1] * f_dphi(k)

            hi = mpmath.inf if hi_edge.is_infinite else int(hi_edge)
            try:
                return mpmath.nsum(term, [lo, hi])
            except (ValueError, ZeroDivisionError, OverflowError):
                return None

    def mc_samples(self, phi: sp.Expr, params: dict, n: int, rng: np.random.Generator) -> np.ndarray:
        """w(y) (phi(y + 1) - phi(y)) for n draws y ~ p."""
        p, y = self.density, self.y
        ys = p.sample(n, {t: params[t] for t in p.params}, rng)[:, 0].astype(np.int64)
        uniq, inverse = np.unique(ys, return_inverse=True)
        thetas = {t: sp.Float(float(params[t]), 30) for t in p.params}
        phi = as_test_function(phi)
        dphi = _mpmath_of(y, phi.xreplace({y: y + 1}) - phi)
        if not self.weight.has(sp.Sum):
            w = _mpmath_of(y, self.weight.xreplace(thetas))
            vals = np.array([float(w(int(k)) * dphi(int(k))) for k in uniq])
        else:
            lo = int(p.support_sets[0].inf)
            dp = _mpmath_of(y, sp.diff(p.expr, self.wrt).xreplace(thetas))
            pm = _mpmath_of(y, p.expr.xreplace(thetas))
            grid = np.array([float(dp(k)) for k in range(lo, int(uniq.max()) + 1)])
            dQ = np.cumsum(grid)
            vals = np.array([-dQ[int(k) - lo] / float(pm(int(k))) * float(dphi(int(k))) for k in uniq])
        return vals[inverse].reshape(n)

    def __str__(self) -> str:
        return (
            f"GO jump term (Eq. 73): + {sp.sstr(self.weight)} * (phi({self.y} + 1) - phi({self.y})), "
            f"{self.y} ~ {self.density.name} (q_M(y + 1) = p(y))"
        )


@bounded
def go_estimator(p: Density, wrt: sp.Symbol, *, timeout: float | None = None) -> Estimator:
    r"""The GO gradient of d/dtheta E_{y~p}[phi(y)] for a pmf p, derived as a flow estimator (Eq. 73-75).

    The returned ``Estimator`` has v = 0 and psi = 0 (the embedding flow
    satisfies transport and phi~ is flat inside each cell); its single
    ``extra_terms`` entry is the ``GOTerm`` carrying the weight
    -dQ(y)/dtheta / p(y) on phi(y + 1) - phi(y).

    Parameters
    ----------
    p : Density
        A pmf whose support is ``sympy.Naturals0`` or a ``sympy.Range``.
    wrt : Symbol
        The parameter theta.
    timeout : float, optional
        Budget in seconds for the whole call (every symbolic step shares it; default: the global one).

    Examples
    --------
    >>> import symflow as sf
    >>> p = sf.families.poisson()
    >>> sf.go_weight(p, p.params[0])
    1
    """
    _check_discrete(p)
    wrt = p.check_param(wrt)
    _, closed, steps = _flux_derivation(p, wrt, timeout)
    weight = _weight_from(p, closed, timeout)
    W = sp.Symbol("w")
    steps.append(
        Step(
            W,
            weight,
            "surface term at x = y + 1 sampled with q_M(y + 1) = p(y): w = -(dQ(y)/dtheta) / p(y) on phi(y+1) - phi(y)",
            "73",
        )
    )
    term = GOTerm(p, wrt, weight, timeout)
    return Estimator(
        p,
        wrt,
        (sp.S.Zero,),
        sp.S.Zero,
        steps=tuple(steps),
        extra_terms=(term,),
        name="GO estimator",
    )
