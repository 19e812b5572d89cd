r"""The minimum-variance estimator in the span of several estimators of one gradient.

Given unbiased estimators E_1..E_K of d/dtheta E_p[phi] (LR, RP, weighted,
importance-sampled, GRP, measure-valued, with or without baselines), every
affine combination :math:`\sum_k w_k E_k` with :math:`\sum_k w_k = 1` is
unbiased (linearity), and its variance is :math:`w^\top \Sigma w` with Σ their
covariance matrix (``variances.estimator_covariance``: estimators sampling
the same density share the draw and are correlated; estimators drawing their
own samples -- measure-valued pairs, surface terms -- are independent).  The
best one solves the convex quadratic problem

.. math::
    \min_w\; w^\top \Sigma w \quad\text{s.t.}\quad \mathbf 1^\top w = 1
    \qquad\Longleftrightarrow\qquad \Sigma w = \nu \mathbf 1,\; \mathbf 1^\top w = 1

(KKT conditions; sufficient because Σ is positive semidefinite), with minimum
ν.  Each unit vector is feasible, so ν is at most the smallest single
variance.  A singular Σ (a weighted estimator is k RP + (1 - k) LR) is
handled with its eigen-decomposition: a null direction n with 1'n != 0 gives
a zero-variance combination; otherwise w = Σ⁺1 / (1'Σ⁺1).

At given parameter values the weights are solved at 30 digits, rounded to
rationals that sum to exactly 1, and the combination's variance is then
computed exactly from them (``variance``); with ``params=None`` (or
constants of phi left symbolic) SymPy solves the KKT system where it can
(``weights`` then are functions of theta) and ``at(values)`` gives numbers.

Cost: a draw of the combination evaluates phi (or its gradient) at one
point per sampling density shared by main parts, plus the points of every
extra term (two for a measure-valued pair, one for a surface or GO draw).
``per_cost=True`` minimizes variance x cost over the subsets of sampling
groups instead (the right criterion for a fixed budget of evaluations).

One concept although long: the design problem (covariance, weights under sum 1, the per-cost
variant, the unbiasedness of the combination) and its result value; each part needs the others'
intermediate values.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import mpmath
import sympy as sp

from ..calculus.gaussian.intervals import real_part
from ..calculus.integrals import expectation_gradient
from ..core import budget as budgets
from ..core.budget import SYMPY_GAVE_UP, BudgetExceeded, resolve_timeout, run_with_budget
from ..core.convert import as_expr, as_param_values, as_test_function, at_values, exact_values
from ..core.domain import Domain
from ..core.estimator import TermKind
from ..core.verdict import Status, Verdict, Witness, combine
from ..errors import EstimatorError, ParameterError, SymflowError
from ..zero import decide_zero
from .variances import Covariance, _integrate, estimator_covariance, evaluate_deferred

__all__ = ["Design", "design"]

DPS = 30


def _term_cost(term: Any) -> int:
    return 2 if getattr(term, "kind", None) is TermKind.MVD else 1


@dataclass(frozen=True)
class Design:
    """The affine combination of estimators with the least variance, and its proof of unbiasedness.

    Attributes
    ----------
    names : tuple of str
    weights : tuple or None
        One weight per estimator, summing to 1 (numbers at given parameters,
        expressions with ``params=None``; None when SymPy could not solve --
        use ``at``).
    variance : expression or number
        The combination's variance w' Σ w (exact for the weights given).
    covariance : Covariance
        Σ, the means, and how the entries were obtained.
    variances : tuple
        The diagonal of Σ: each estimator alone.
    costs : tuple of int
        Points evaluated per draw by each estimator alone.
    cost : int
        Points per draw of the combination (shared draws counted once).
    unbiased : Verdict
        Each estimator unbiased for this phi, and the weights summing to 1.
    each_unbiased : Verdict
        The first part alone (it does not depend on the weights).
    exact : bool
        Whether Σ (and so the variance) is exact.
    """

    names: tuple[str, ...]
    weights: tuple | None
    variance: Any
    covariance: Covariance
    variances: tuple
    costs: tuple[int, ...]
    cost: int
    unbiased: Verdict
    each_unbiased: Verdict
    exact: bool
    phi: sp.Expr
    params: tuple = ()
    reason: str = ""

    @property
    def best_single(self) -> tuple[str, Any]:
        """(name, variance) of the estimator with the least variance on its own (numbers only)."""
        symbols = set().union(*(v.free_symbols for v in self.variances if isinstance(v, sp.Basic)))
        if symbols:
            raise SymflowError(
                f"best_single compares numbers, but the variances hold {', '.join(sorted(map(str, symbols)))}; "
                "use design.at({...}).best_single or give params= to sf.design"
            )
        vals = [float(_num(v)) for v in self.variances]
        k = min(range(len(vals)), key=vals.__getitem__)
        return self.names[k], self.variances[k]

    def at(self, values: dict) -> Design:
        """The design at numeric values of the symbols left in Σ (parameters or constants of phi)."""
        if not isinstance(values, dict) or any(isinstance(k, str) for k in values):
            raise ParameterError("values must be a dict keyed by the Symbols themselves (e.g. mu, sigma = p.params)")
        subs = exact_values(dict(values))
        cov = self.covariance
        matrix = sp.ImmutableMatrix(at_values(cov.matrix, subs).applyfunc(evaluate_deferred))
        means = tuple(at_values(m, subs) if isinstance(m, sp.Basic) else m for m in cov.means)
        numeric = Covariance(matrix, means, cov.exact, cov.how, cov.shared)
        weights, variance, reason = _numeric_optimum(numeric.matrix)
        unbiased = _with_weights(self.each_unbiased, weights, reason, self.unbiased.claim)
        pairs = self.params + tuple(values.items())  # as given: 0.3, not 5404319552844595/18014398509481984
        return replace(
            self,
            weights=weights,
            variance=variance,
            covariance=numeric,
            variances=tuple(matrix[i, i] for i in range(matrix.rows)),
            unbiased=unbiased,
            params=pairs,
            reason=reason,
        )

    def __str__(self) -> str:
        head = f"design over {len(self.names)} estimators of E[{sp.sstr(self.phi)}]"
        if self.params:
            head += " at " + ", ".join(f"{k} = {sp.sstr(v)}" for k, v in self.params)
        lines = [head]
        width = max(len(n) for n in self.names)
        for i, name in enumerate(self.names):
            w = "?" if self.weights is None else _short(self.weights[i])
            lines.append(f"  {name.ljust(width)}  weight {w:>14}  variance {_short(self.variances[i])}")
        lines.append(f"  combination: variance {_short(self.variance)}, {self.cost} point(s) per draw")
        lines.append(f"  unbiased: {self.unbiased.status} ({self.unbiased.method[:120]})")
        return "\n".join(lines)


def _num(v: Any) -> Any:
    if isinstance(v, sp.Basic):
        return complex(sp.N(v, DPS)).real
    return v


def _short(v: Any) -> str:
    try:
        return f"{float(_num(v)):.6g}"
    except (TypeError, ValueError):
        return sp.sstr(v)


# -- the optimum --------------------------------------------------------------------------------


def _rational(v: mpmath.mpf) -> sp.Rational:
    return sp.Rational(mpmath.nstr(v, DPS, strip_zeros=False))


def _rational_optimum(matrix: sp.ImmutableMatrix) -> tuple[tuple, Any, str] | None:
    """The exact optimum when every entry of Σ is rational and Σ is invertible (exact linear algebra), else None."""
    if not all(e.is_Rational for e in matrix):
        return None
    n = matrix.rows
    M = sp.Matrix(matrix)
    if M.det() == 0:
        return None
    y = M.LUsolve(sp.ones(n, 1))
    w = y / sum(y)
    return tuple(w), (w.T * M * w)[0, 0], "exact rational solve of the KKT system"


def _numeric_optimum(matrix: sp.ImmutableMatrix) -> tuple[tuple | None, Any, str]:
    """(weights as rationals summing to 1, exact variance w'Σw, note), at DPS digits."""
    if matrix.free_symbols:
        return None, None, f"Σ still holds {', '.join(sorted(map(str, matrix.free_symbols)))}; give their values"
    exact = _rational_optimum(matrix)
    if exact is not None:
        return exact
    n = matrix.rows
    with mpmath.workdps(DPS + 10):
        A = mpmath.matrix(n, n)
        for i in range(n):
            for j in range(n):
                A[i, j] = mpmath.mpf(complex(sp.N(matrix[i, j], DPS + 10)).real)
        evals, evecs = mpmath.eigsy(A)
        scale = max(abs(e) for e in evals) or mpmath.mpf(1)
        tol = scale * mpmath.mpf(10) ** (-(DPS - 5))
        ones = mpmath.matrix([1] * n)
        null = [k for k in range(n) if abs(evals[k]) <= tol]
        w = None
        note = ""
        for k in null:
            vec = evecs[:, k]
            s = sum(vec)
            if abs(s) > mpmath.mpf(10) ** -8:
                w = vec / s  # a combination with (numerically) zero variance
                note = "Σ is singular: a zero-variance combination exists"
                break
        if w is None:
            inv = mpmath.matrix(n, n)
            for k in range(n):
                if k in null:
                    continue
                vec = evecs[:, k]
                inv += (vec * vec.T) / evals[k]
            y = inv * ones
            w = y / sum(y)
            if null:
                note = "Σ is singular; the pseudo-inverse gives the minimum"
        weights = [_rational(wi) for wi in w]
        weights[-1] = 1 - sp.Add(*weights[:-1])  # exactly 1 in total
        # w'Sigma w with the entries' values at DPS + 10 digits (A): the exact sum below is only compared
        # through these numbers (a symbolic matrix product of erf/exp entries cost ~0.6 s per call).
        rational_w = [mpmath.mpf(wi.p) / wi.q for wi in weights]
        numeric_variance = mpmath.fsum(rational_w[i] * rational_w[j] * A[i, j] for i in range(n) for j in range(n))
        best = min(range(n), key=lambda i: A[i, i])
        above = numeric_variance - A[best, best] > 0
    # the exact variance, a sum of n^2 products (no matrix product: its domain conversion is the cost)
    variance = sp.Add(*(weights[i] * weights[j] * matrix[i, j] for i in range(n) for j in range(n)))
    # never worse than the best single estimator (rounding of w could cost the last digits)
    diag = [matrix[i, i] for i in range(n)]
    if above:
        weights = [sp.S.One if i == best else sp.S.Zero for i in range(n)]
        variance = diag[best]
        note = (note + "; " if note else "") + "the best single estimator"
    return tuple(weights), variance, note


def _symbolic_optimum(matrix: sp.ImmutableMatrix, budget: float) -> tuple[tuple | None, Any, str]:
    """Weights as functions of the symbols in Σ by solving the KKT system; (None, None, why) when SymPy cannot."""
    n = matrix.rows
    w = sp.symbols(f"w_1:{n + 1}")
    nu = sp.Symbol("nu")

    def solve():
        eqs = [sum(matrix[i, j] * w[j] for j in range(n)) - nu for i in range(n)] + [sum(w) - 1]
        sol = sp.linsolve(eqs, [*w, nu])
        if not sol:
            return None
        (vals,) = tuple(sol)
        # a singular Σ leaves some w free: any choice is optimal, take 0
        free = set().union(*(v.free_symbols for v in vals)) & ({*w, nu})
        vals = tuple(v.xreplace(dict.fromkeys(free, 0)) for v in vals)
        return tuple(budgets.simplify(v) for v in vals[:n]), budgets.simplify(vals[n])

    try:
        got = run_with_budget(solve, timeout=budget, what="solving the KKT system")
    except (BudgetExceeded, *SYMPY_GAVE_UP):
        got = None
    if got is None:
        return None, None, "SymPy could not solve Σ w = nu 1, 1'w = 1 in the budget; use .at(values)"
    weights, nu_val = got
    return weights, nu_val, "KKT system solved symbolically"


# -- unbiasedness -----------------------------------------------------------------------------


def _unbiased_parts(names, cov: Covariance, p, phi, wrt, values: dict, timeout: float | None) -> dict:
    """One verdict per estimator: its mean (from the covariance computation) equals d/dtheta E_p[phi]."""
    target, how = _integrate(p, sp.diff(p.expr, wrt) * phi, values, resolve_timeout(timeout))
    if target is None or p.has_moving_support:
        target, how = expectation_gradient(p, phi, wrt, values or None, timeout=timeout)
    elif not target.has(sp.I):
        target = real_part(target)
    parts = {}
    params = tuple(p.domain().parameters)
    constants = set().union(*(m.free_symbols for m in cov.means if isinstance(m, sp.Basic)))
    domain = Domain((), params, p.constraints).extended(constants)
    for name, mean in zip(names, cov.means, strict=True):
        claim = f"{name} is unbiased for d/d{wrt} E[{sp.sstr(phi)}]"
        if target is None:
            parts[name] = Verdict(Status.UNKNOWN, "exact gradient", None, claim=claim, reason=how)
            continue
        residual = as_expr(mean, "mean") - as_expr(target, "target")
        if not residual.has(sp.Integral) and not residual.atoms(sp.Float):
            parts[name] = decide_zero(residual, domain, timeout=timeout, claim=claim)
            continue
        if residual.free_symbols:
            parts[name] = Verdict(Status.UNKNOWN, "quadrature", residual, claim=claim, reason="needs values")
            continue
        gap = abs(complex(sp.N(residual, 25)))
        scale = max(1.0, abs(complex(sp.N(as_expr(target, "target"), 25))))
        status = Status.CONSISTENT if gap <= 1e-12 * scale else Status.REFUTED
        witness = None if status is Status.CONSISTENT else Witness(tuple(values.items()), gap, gap, (20, 25))
        parts[name] = Verdict(
            status,
            f"mean by quadrature at 20 digits vs the gradient ({how}): |gap| = {gap:.2e}",
            residual,
            witness,
            claim=claim,
        )
    return parts


def _weights_verdict(weights: tuple | None, reason: str) -> Verdict:
    claim = "the weights sum to 1"
    if weights is None:
        return Verdict(Status.UNKNOWN, "weights", None, claim=claim, reason=reason or "no weights")
    total = sp.Add(*weights) - 1
    return decide_zero(total, Domain().extended(total.free_symbols), claim=claim)


def _with_weights(each: Verdict, weights: tuple | None, reason: str, claim: str) -> Verdict:
    """Unbiasedness of the combination: each estimator unbiased, and the weights summing to 1."""
    return combine(
        {"estimators": each, "weights sum to 1": _weights_verdict(weights, reason)}, claim, noun="parts", label="{}"
    )


# -- the entry point ----------------------------------------------------------------------------


def _items(estimators: Sequence | Mapping) -> list[tuple[str, Any]]:
    if isinstance(estimators, Mapping):
        items = list(estimators.items())
    elif isinstance(estimators, Sequence) and not isinstance(estimators, str):
        items = [(getattr(e, "name", "") or f"estimator {i + 1}", e) for i, e in enumerate(estimators)]
    else:
        raise EstimatorError("estimators must be a sequence of estimators or a dict {name: estimator}")
    if len(items) < 1:
        raise EstimatorError("give at least one estimator")
    names = [n for n, _ in items]
    if len(set(names)) != len(names):
        items = [(f"{n} #{i + 1}" if names.count(n) > 1 else n, e) for i, (n, e) in enumerate(items)]
    first = items[0][1]
    for name, est in items:
        for attr in ("density", "wrt", "single_sample", "sampling", "extra_terms"):
            if not hasattr(est, attr):
                raise EstimatorError(f"{name!r} is a {type(est).__name__}, not an estimator")
        if est.density != first.density or est.wrt != first.wrt:
            raise EstimatorError(
                f"{name!r} estimates d/d{est.wrt} E_{est.density.name}[phi], but {items[0][0]!r} estimates "
                f"d/d{first.wrt} E_{first.density.name}[phi]; combine estimators of the same gradient"
            )
    return items


def _costs(ests: list, shared: tuple) -> tuple[tuple[int, ...], Any]:
    alone = tuple(
        (1 if s is not None else 0) + sum(_term_cost(t) for t in e.extra_terms)
        for e, s in zip(ests, shared, strict=True)
    )

    def cost_of(used: list[int]) -> int:
        groups = {shared[i] for i in used if shared[i] is not None}
        return len(groups) + sum(_term_cost(t) for i in used for t in ests[i].extra_terms)

    return alone, cost_of


@budgets.bounded
def design(
    estimators: Sequence | Mapping,
    phi: object,
    params: dict | None = None,
    *,
    per_cost: bool = False,
    timeout: float = 60.0,
) -> Design:
    r"""The affine combination :math:`\sum_k w_k E_k`, :math:`\sum_k w_k = 1`, of least variance (module docstring).

    Parameters
    ----------
    estimators : sequence of estimators, or mapping name -> estimator
        Estimators of the same d/dtheta E_p[phi] (``Estimator``, ``MVDEstimator``,
        ``toolbox.with_baseline`` wrappers).
    phi : sympy.Expr
        The test function; other symbols in it are constants.
    params : dict, optional
        Values of the parameters (and of phi's constants): numbers for the
        weights.  Without it the weights are functions of the parameters
        where SymPy can solve for them.
    per_cost : bool
        Minimize variance x points-per-draw over subsets of the sampling
        groups instead of the variance per draw (needs numbers).
    timeout : float, optional
        Budget in seconds for the whole call (default 60 s: the exact moments of several estimators
        and their cross terms).

    Returns
    -------
    Design
        ``weights``, the combination's exact ``variance``, Σ, each estimator's
        own variance and cost, and ``unbiased``: a verdict combining each
        estimator's unbiasedness for this phi and the weights summing to 1.
    """
    return _design(estimators, phi, params, per_cost, timeout)


def _design(estimators, phi, params, per_cost: bool, timeout: float | None) -> Design:
    items = _items(estimators)
    names = tuple(n for n, _ in items)
    ests = [e for _, e in items]
    phi = as_test_function(phi)
    budget = resolve_timeout(timeout)
    values = {} if params is None else exact_values(_checked_params(ests, params))
    if per_cost and params is None:
        raise SymflowError("per_cost=True compares numbers (variance x cost); give params= with the parameter values")
    cov = estimator_covariance(ests, phi, values or None, timeout=budget)
    if cov is None:
        if params is None:
            raise SymflowError(
                "a moment of some estimator could not be computed exactly; give params= (numbers for every "
                "parameter and constant of phi) for quadrature, or simplify phi"
            )
        if values:  # numbers were given: quadrature had them, so what it lacked was time
            raise SymflowError(
                "a moment of some estimator could be computed neither exactly nor by quadrature at the params= "
                f"given: the call's budget of {budget:g} s ran out (quadrature is 1-D and 2-D only); "
                "raise timeout= (or sf.set_default_timeout), or simplify phi"
            )
        raise SymflowError(
            "a moment of some estimator could be computed neither exactly nor by quadrature at these params; "
            "give numbers for every constant of phi too, or simplify phi"
        )
    matrix = cov.matrix
    p, wrt = ests[0].density, ests[0].wrt
    parts = _unbiased_parts(names, cov, p, phi, wrt, values, timeout)
    each = combine(parts, f"each estimator is unbiased for d/d{wrt} E[{sp.sstr(phi)}]", noun="estimators", label="{}")
    alone, cost_of = _costs(ests, cov.shared)
    if matrix.free_symbols and params is None:
        weights, variance, reason = _symbolic_optimum(matrix, min(budget, 10.0))
        used = list(range(len(ests)))
    elif matrix.free_symbols and per_cost:
        raise SymflowError(
            f"per_cost=True compares numbers, but Σ holds {', '.join(sorted(map(str, matrix.free_symbols)))}; "
            "give them values in params="
        )
    elif matrix.free_symbols:
        # constants of phi (or parameters) left without values: numbers come from .at(values)
        weights, variance, used = None, None, list(range(len(ests)))
        reason = f"Σ holds {', '.join(sorted(map(str, matrix.free_symbols)))}: use .at(values) for the weights"
    elif per_cost:
        best = None
        groups = sorted({s for s in cov.shared if s is not None})
        singles = [i for i, s in enumerate(cov.shared) if s is None]
        units = [[i for i, s in enumerate(cov.shared) if s == g] for g in groups] + [[i] for i in singles]
        for r in range(1, len(units) + 1):
            for chosen in itertools.combinations(units, r):
                idx = sorted(i for unit in chosen for i in unit)
                sub = sp.ImmutableMatrix(matrix.extract(idx, idx))
                w_sub, v_sub, note = _numeric_optimum(sub)
                score = complex(sp.N(v_sub, DPS)).real * cost_of(idx)
                if best is None or score < best[0]:
                    best = (score, idx, w_sub, v_sub, note)
        _, used, w_sub, variance, reason = best
        weights = tuple(w_sub[used.index(i)] if i in used else sp.S.Zero for i in range(len(ests)))
        reason = (reason + "; " if reason else "") + f"minimizes variance x cost over {len(units)} sampling unit(s)"
    else:
        weights, variance, reason = _numeric_optimum(matrix)
        used = list(range(len(ests)))
    if weights is not None and not matrix.free_symbols:
        used = [i for i, w in enumerate(weights) if w != 0]
    unbiased = _with_weights(each, weights, reason, f"the combination is unbiased for d/d{wrt} E[{sp.sstr(phi)}]")
    return Design(
        names,
        weights,
        variance,
        cov,
        tuple(matrix[i, i] for i in range(matrix.rows)),
        alone,
        cost_of(used),
        unbiased,
        each,
        cov.exact,
        phi,
        () if params is None else tuple(params.items()),  # as given, for display (0.3, not its exact rational)
        reason,
    )


def _checked_params(ests: list, params: object) -> dict:
    """params validated as ``sf.variance`` does: Symbol keys, numbers, every parameter, the densities' constraints."""
    if not isinstance(params, dict):
        raise ParameterError(f"params must be a dict from Symbols to numbers, got {type(params).__name__}")
    needed = tuple(dict.fromkeys(t for e in ests for t in e.params))
    values = as_param_values(params, needed)
    densities = {id(d): d for e in ests for d in (e.density, e.sampling)}
    for dens in densities.values():
        dens.param_values({t: values[t] for t in dens.params})  # sigma > 0, a < b, ...
    return values
