r"""The variance of a gradient estimator, exact where possible, else by quadrature, else by Monte Carlo.

An estimator is a main part E(x) = v . grad phi + psi phi with x ~ q, plus
extra terms T_k drawn from their own streams (surface terms, Eq. 66 and 77;
the GO jumps, Eq. 73; the measure-valued difference c (phi(x+) - phi(x-))).
The parts are independent, so

.. math::
    \mathbb{V}[E + \textstyle\sum_k T_k] = \mathbb{V}_q[E] + \sum_k \mathbb{V}[T_k],
    \qquad \mathbb{V}_q[E] = \int q\,E^2\,dx - \left(\int q\,E\,dx\right)^2 .

Every moment is an expectation E_r[f] under some density r (q for the main
part; q_M, p, p+, p- or a coupling's base density for a term).  Each is done

1. exactly: by the closed forms of ``symflow.calculus.gaussian.intervals``
   (polynomial x Gaussian over intervals, sin and cos included), then by
   SymPy's ``integrate``/``summation`` under the time budget;
2. by mpmath quadrature at ``QUAD_DPS`` digits when parameter values are
   given (in 2-D one coordinate is integrated exactly first when it can be,
   and the other numerically);
3. by Monte Carlo from ``n`` samples, only when both fail.

The result says which (``route``).  A term states its moments as a *plan*:
``moment_plan(phi, k)`` returns pairs ``(coefficient, ((r_1, f_1), ...))``
whose sum of coefficient x product of E_{r_j}[f_j] is E[T^k] (a product
appears for independent pairs, E[phi(x+) phi(x-)] = E+[phi] E-[phi]).
Terms without that method (``SurfaceTerm``, ``GOTerm``) get their plan
from ``_term_plan`` here.

Symbols in phi other than the variables and parameters (``a`` in
a (x - c)) are constants; they stay symbolic in an exact result and need
values for quadrature and Monte Carlo.  Parameters that appear in phi are
held at their values: phi is a fixed function, as in the paper's phi = a (x - mu).

One module for one concept, the second moment of an estimator, although it is long: the three routes
(closed form, quadrature, Monte Carlo) share the term plan, the memo of integrals and the divergence
test, and splitting them would pass those between modules on every call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from ..calculus.gaussian.intervals import gaussian_integral, interval_gaussian_integral, real_part
from ..calculus.quadrature import infinite_expectation, numeric_integral
from ..core import budget as budgets
from ..core.budget import SYMPY_GAVE_UP, BudgetExceeded, bounded, resolve_timeout, run_with_budget
from ..core.convert import as_param_values, as_test_function, at_values, exact_values, refuse_unevaluated
from ..core.density import Density
from ..errors import EstimatorError, SymflowError
from ..numeric.evaluate import numpy_scalar_function

__all__ = [
    "QUAD_DPS",
    "Covariance",
    "Expectation",
    "VarianceResult",
    "estimator_covariance",
    "estimator_moments",
    "evaluate_deferred",
    "expectation",
    "gaussian_integral",
    "term_plan",
    "variance",
]

DEFAULT_N = 100_000
# Digits of the quadrature route: a variance is a reported number, not a zero decision.
QUAD_DPS = 20
# Seconds SymPy's integrate gets when quadrature could do the integral instead; and tidying a result.
SYMBOLIC_LOOK = 2.0
TIDY_LOOK = 3.0


@dataclass(frozen=True)
class VarianceResult:
    """The variance of an estimator for one phi, and how it was obtained.

    Attributes
    ----------
    value : sympy.Expr or float
        The variance: a SymPy expression when ``exact`` (symbolic in the
        parameters when none were given), a number from quadrature or Monte
        Carlo otherwise.
    stderr : float or None
        Standard error of a Monte Carlo ``value`` (None otherwise).
    method : str
        How it was computed.
    exact : bool
        True when every moment was integrated exactly.
    mean : sympy.Expr or float
        The estimator's expectation (the gradient, when unbiased).
    mean_stderr : float or None
        Standard error of a Monte Carlo ``mean``.
    n : int or None
        Number of Monte Carlo samples (None unless the route is Monte Carlo).
    reason : str
        Why the exact route was not taken (for the ``"divergent"`` route: why the
        second moment is infinite).
    divergent : bool
        True when the tail test found E_q[E^2] infinite: ``value`` is ``inf``
        (never a finite number that quadrature or sampling would report).
    """

    value: Any
    stderr: float | None
    method: str
    exact: bool
    mean: Any = None
    mean_stderr: float | None = None
    n: int | None = None
    reason: str = ""
    divergent: bool = False

    @property
    def route(self) -> str:
        """``"exact"``, ``"quadrature"``, ``"Monte Carlo"`` or ``"divergent"`` (the second moment is infinite)."""
        if self.divergent:
            return "divergent"
        if self.exact:
            return "exact"
        return "quadrature" if self.n is None else "Monte Carlo"

    def __float__(self) -> float:
        return _real(self.value)

    def __str__(self) -> str:
        if self.divergent:
            return f"Var = inf  ({self.method})"
        if self.exact:
            return f"Var = {sp.sstr(self.value)}  (exact: {self.method})"
        if self.n is None:
            return f"Var = {float(self.value):.12g}  ({self.method})"
        return f"Var = {self.value:.6g} +- {self.stderr:.2g}  ({self.method})"


# -- one expectation --------------------------------------------------------------


@dataclass(frozen=True)
class Expectation:
    """E_r[f]: ``value`` (SymPy expression when ``exact``, else an mpmath number) and ``how``."""

    value: Any
    how: str
    exact: bool


def _closed_form(expr: sp.Expr, limits: list) -> sp.Expr | None:
    """Iterated closed-form integration, trying both orders in 2-D."""
    orders = [limits] if len(limits) == 1 else [limits, limits[::-1]]
    for order in orders:
        out = expr
        for xi, lo, hi in reversed(order):
            out = interval_gaussian_integral(out, xi, lo, hi)
            if out is None:
                break
        if out is not None:
            return out
    return None


@budgets.pure  # polynomial x Gaussian integrals of its arguments alone: variance and covariance entries recur
def _gaussian_closed_form(expr: sp.Expr, limits: tuple) -> sp.Expr | None:
    """The closed-form integral of ``expr`` over ``limits`` (real part of it for a real ``expr``), or None."""
    out = _closed_form(expr, list(limits))
    return None if out is None else (out if expr.has(sp.I) else real_part(out))


def _limits(q: Density, values: dict) -> list:
    return [(xi, s.inf.xreplace(values), s.sup.xreplace(values)) for xi, s in zip(q.x, q.support_sets, strict=True)]


def _integrate(
    q: Density, integrand: sp.Expr, values: dict, budget: float, sympy_budget: float | None = None
) -> tuple[sp.Expr | None, str]:
    """Integral of ``integrand`` over q's support with ``values`` substituted: (value, how) or (None, why).

    The closed forms get ``budget``; SymPy's ``integrate`` gets ``sympy_budget`` (default the same).
    """
    expr = at_values(integrand, values)
    limits = _limits(q, values)
    fast = None
    if not (q.is_discrete or expr.has(sp.Piecewise, sp.Heaviside)):
        try:
            fast = run_with_budget(
                _gaussian_closed_form, expr, tuple(map(tuple, limits)), timeout=budget, what="Gaussian closed form"
            )
        except (BudgetExceeded, *SYMPY_GAVE_UP):
            fast = None
    if fast is not None:
        return fast, "closed-form Gaussian integrals"

    def by_sympy() -> sp.Expr | None:
        out = sp.powsimp(sp.expand(expr, power_exp=False), combine="exp")
        for xi, lo, hi in reversed(limits):
            out = budgets.summation(out, (xi, lo, hi)) if q.is_discrete else budgets.integrate(out, (xi, lo, hi))
            if out.has(sp.Integral, sp.Sum):
                return None
        if out.has(sp.Piecewise):
            # convergence conditions that the assumptions did not settle: not an answer
            folded = sp.piecewise_fold(out)
            if any(pw.args[0].cond != sp.true for pw in folded.atoms(sp.Piecewise)):
                return None
            out = folded
        return None if out.has(sp.nan, sp.oo, -sp.oo, sp.zoo) else out

    try:
        got = run_with_budget(by_sympy, timeout=sympy_budget or budget, what="symbolic integration")
    except BudgetExceeded as exc:
        if sympy_budget is None:
            return None, f"{exc} (the call's timeout=)"
        # a short look while quadrature waits: the number the user can raise is timeout=, of which it is a share
        return None, (
            f"SymPy's integral got a short look ({exc.seconds:.3g} s: 30% of the call's timeout=, at most "
            f"{SYMBOLIC_LOOK:g} s) while quadrature had the rest"
        )
    except SYMPY_GAVE_UP as exc:
        return None, f"SymPy could not integrate ({type(exc).__name__})"
    if got is None:
        return None, "SymPy left the integral unevaluated or conditional"
    return got, "SymPy integrate"


def _line(xj: sp.Symbol, lo: sp.Expr, hi: sp.Expr) -> Density:
    """The coordinate x_j over [lo, hi] with weight 1: a carrier for 1-D quadrature of a partial result."""
    return Density(sp.S.One, (xj,), (), support=sp.Interval(lo, hi), name=f"d{xj}")


def _quadrature(q: Density, integrand: sp.Expr, values: dict, budget: float, dps: int) -> tuple[Any, str]:
    """Quadrature at ``values``: (mpmath number, how) or (None, why).  In 2-D one coordinate exactly first."""
    expr = at_values(integrand, values)
    if expr.free_symbols - set(q.x):
        return None, "quadrature needs values for " + ", ".join(sorted(map(str, expr.free_symbols - set(q.x))))
    if q.dim == 2 and not q.is_discrete:
        limits = _limits(q, values)
        for inner, outer in ((limits[1], limits[0]), (limits[0], limits[1])):
            try:
                partial = run_with_budget(
                    interval_gaussian_integral, expr, *inner, timeout=budget, what="inner closed form"
                )
            except (BudgetExceeded, *SYMPY_GAVE_UP):
                partial = None
            if partial is None:
                continue
            val = numeric_integral(_line(*outer), partial, {}, dps=dps, timeout=budget)
            if val is not None:
                return mpmath.re(val), f"closed form in {inner[0]}, mpmath quadrature in {outer[0]} at {dps} digits"
    val = numeric_integral(q, expr, values, dps=dps, timeout=budget)
    if val is None:
        return None, "quadrature failed or ran out of budget"
    return mpmath.re(val), f"mpmath quadrature at {dps} digits"


def _deferred(q: Density, integrand: sp.Expr, values: dict, budget: float) -> sp.Expr | None:
    """In 2-D: the closed form over one coordinate and an unevaluated Integral over the other, or None.

    Symbols without values (constants of phi) stay in the Integral; ``sp.N``
    evaluates it by quadrature once they are substituted.
    """
    if q.dim != 2 or q.is_discrete:
        return None
    expr = at_values(integrand, values)
    limits = _limits(q, values)
    for inner, outer in ((limits[0], limits[1]), (limits[1], limits[0])):
        try:
            partial = run_with_budget(
                interval_gaussian_integral, expr, *inner, timeout=budget, what="inner closed form"
            )
        except (BudgetExceeded, *SYMPY_GAVE_UP):
            partial = None
        if partial is not None:
            return sp.Integral(real_part(partial) if not expr.has(sp.I) else partial, outer)
    return None


def evaluate_deferred(expr: Any, *, dps: int = QUAD_DPS, timeout: float | None = None) -> Any:
    """``expr`` with each unevaluated 1-D ``Integral`` (left by the deferred route) replaced by its quadrature.

    The integrals must have no free symbols but their variable (substitute the values first).
    """
    if not isinstance(expr, sp.Basic) or not expr.has(sp.Integral):
        return expr
    budget = resolve_timeout(timeout)
    values = {}
    for integral in expr.atoms(sp.Integral):
        (var, lo, hi), body = integral.limits[0], integral.function
        val = numeric_integral(_line(var, lo, hi), body, {}, dps=dps, timeout=budget)
        if val is None:
            raise SymflowError(f"quadrature of {integral} failed or ran out of budget")
        values[integral] = sp.Float(mpmath.re(val), dps)
    return expr.xreplace(values)


def expectation(
    r: Density, f: sp.Expr, values: dict | None = None, *, timeout: float | None = None, dps: int = QUAD_DPS
) -> Expectation | None:
    """E_r[f]: exactly when the integral (or sum) can be done, else by quadrature at ``values``; None if neither."""
    budget = resolve_timeout(timeout)
    values = {} if values is None else exact_values(values)
    integrand = r.expr * f
    val, how = _integrate(r, integrand, values, budget)
    if val is not None:
        return Expectation(val, how, True)
    val, how_q = _quadrature(r, integrand, values, budget, dps)
    if val is None:
        return None
    return Expectation(val, how_q, False)


@budgets.pure  # SymPy's deterministic rewrites of e alone: the same e is tidied once per process
def _tidy_form(e: sp.Expr) -> sp.Expr:
    e = sp.cancel(sp.expand(e))
    syms = tuple(e.free_symbols)
    if not syms or e.is_rational_function(*syms):
        return sp.factor(e)
    return budgets.simplify(e)


def _tidy(expr: sp.Expr, budget: float) -> sp.Expr:
    """A short form: cancel/factor for rational functions (fast), else simplify under the budget."""
    try:
        return run_with_budget(_tidy_form, expr, timeout=min(budget, TIDY_LOOK), what="simplify")
    except BudgetExceeded:
        return expr


# -- validation ---------------------------------------------------------------


def _check_estimator(est: Any) -> None:
    needed = ("single_sample", "sampling", "density", "wrt", "params", "extra_terms", "x")
    missing = [name for name in needed if not hasattr(est, name)]
    if missing:
        raise EstimatorError(
            f"est must be an Estimator (or a wrapper such as toolbox.with_baseline's); "
            f"{type(est).__name__} lacks {', '.join(missing)}"
        )


def _constants(est: Any, phi: sp.Expr) -> tuple[sp.Symbol, ...]:
    """Symbols in phi that are neither variables nor parameters: held constant."""
    known = set(est.x) | set(est.params)
    return tuple(sorted((s for s in phi.free_symbols if s not in known), key=str))


# -- plans: E[T^k] as sums of products of expectations -------------------------------


def term_plan(term: Any, phi: sp.Expr, k: int) -> tuple | None:
    """E[T^k] for an extra term as ``((coef, ((r, f), ...)), ...)``, or None when it has no plan."""
    own = getattr(term, "moment_plan", None)
    if own is not None:
        return own(phi, k)
    return _term_plan(term, phi, k)


def _term_plan(term: Any, phi: sp.Expr, k: int) -> tuple | None:
    from ..estimators.go import GOTerm
    from ..estimators.surface import SurfaceTerm

    if isinstance(term, GOTerm):
        # one draw: w(y) (phi(y + 1) - phi(y)), y ~ p
        y = term.y
        draw = term.weight * (phi.xreplace({y: y + 1}) - phi)
        return ((sp.S.One, ((term.density, draw**k),)),)
    if isinstance(term, SurfaceTerm):
        if term.q_M is None:
            # one draw: K times the value at one of the K points, chosen uniformly
            import dataclasses

            points = [dataclasses.replace(term, branches=(s,)).integrand(phi) for s in term.branches]
            if not points:
                return ((sp.S.Zero, ()),)
            K = len(points)
            return ((sp.Integer(K) ** (k - 1) * sp.Add(*[v**k for v in points]), ()),)
        draw = term.integrand(phi) / term.q_M.expr
        return ((sp.S.One, ((term.q_M, draw**k),)),)
    return None


def _main_plan(est: Any, phi: sp.Expr, k: int) -> tuple:
    return ((sp.S.One, ((est.sampling, est.single_sample(phi) ** k),)),)


class _Evaluator:
    """Evaluates plans, remembering each expectation (E+[phi] appears in both moments).

    A worker, not a value: it collects how each expectation was done (``hows``),
    whether all were exact, and the first failure.  ``numeric``: quadrature is
    allowed (values were given); ``symbolic=False``: quadrature only.
    """

    def __init__(self, values: dict, budget: float, dps: int, numeric: bool, hows: set, *, symbolic: bool = True):
        self.values = values
        self.budget = budget
        self.dps = dps
        self.numeric = numeric
        self.hows = hows
        self.symbolic = symbolic
        self.exact = True
        self.failure = ""
        self.memo: dict = {}

    def one(self, r: Density, f: sp.Expr) -> Any:
        key = (r, f)
        if key not in self.memo:
            integrand = r.expr * f
            # with every symbol given a value, quadrature is the dependable route: SymPy gets a short look only
            fixed = self.numeric and not (at_values(integrand, self.values).free_symbols - set(r.x))
            # in 2-D a closed form over one variable and quadrature over the other is the dependable route too
            # (a share of what is left of the call's budget, so quadrature keeps the rest)
            look = min(budgets.share(self.budget, 0.3), SYMBOLIC_LOOK) if fixed or r.dim == 2 else None
            if self.symbolic:
                val, how = _integrate(r, integrand, self.values, self.budget, look)
            else:
                val, how = None, "quadrature requested"
            if val is not None:
                self.memo[key] = val
                self.hows.add(how)
            elif self.numeric and not (at_values(integrand, self.values).free_symbols - set(r.x)):
                num, how_q = _quadrature(r, integrand, self.values, self.budget, self.dps)
                if num is None:
                    self.failure = f"{how}; {how_q}"
                    self.memo[key] = None
                else:
                    self.exact = False
                    self.hows.add(how_q)
                    self.memo[key] = sp.Float(num, self.dps)
            else:
                deferred = _deferred(r, integrand, self.values, self.budget)
                if deferred is None:
                    self.failure = how
                else:
                    self.exact = False
                    self.hows.add("closed form in one variable, a 1-D Integral left for quadrature at given values")
                self.memo[key] = deferred
        return self.memo[key]

    def plan(self, plan: tuple | None) -> Any:
        if plan is None:
            self.failure = "a term states no moments"
            return None
        total = sp.S.Zero
        for coef, factors in plan:
            prod = at_values(coef, self.values) if isinstance(coef, sp.Basic) else coef
            for r, f in factors:
                val = self.one(r, f)
                if val is None:
                    return None
                prod = prod * val
            total += prod
        return total


def _moments(est: Any, phi: sp.Expr, values: dict, budget: float, numeric: bool, symbolic: bool = True):
    """(mean, variance, evaluator) of the estimator, or (None, None, evaluator) when a moment fails."""
    ev = _Evaluator(values, budget, QUAD_DPS, numeric, set(), symbolic=symbolic)
    mean, var = sp.S.Zero, sp.S.Zero
    parts = [(_main_plan(est, phi, 1), _main_plan(est, phi, 2))]
    parts += [(term_plan(t, phi, 1), term_plan(t, phi, 2)) for t in est.extra_terms]
    for plan1, plan2 in parts:
        m1 = ev.plan(plan1)
        m2 = ev.plan(plan2) if m1 is not None else None
        if m1 is None or m2 is None:
            return None, None, ev
        if _negative(m2 - m1**2, m2, values):
            # E[T^2] < E[T]^2 cannot be => the moments are not of one law (e.g. a term's plan mixes the
            # marginals it claims with the law it samples) => no variance from them; never report a negative one
            ev.failure = "the moments give a negative variance (they are not of one law); report it"
            return None, None, ev
        mean += m1
        var += m2 - m1**2
    return mean, var, ev


def _negative(part: Any, second: Any, values: dict) -> bool:
    """True when a part's variance is a number below zero by more than round-off of its second moment."""
    try:
        at = part.xreplace(values) if isinstance(part, sp.Basic) else part
        if isinstance(at, sp.Basic) and (at.free_symbols or at.has(sp.Integral, sp.Sum)):
            return False  # symbolic, or a deferred integral: nothing to compare without more work
        scale = second.xreplace(values) if isinstance(second, sp.Basic) else second
        val, size = _real(at), abs(_real(scale))
    except (TypeError, ValueError, ArithmeticError):
        return False
    return val < -(10.0 ** -(QUAD_DPS - 5)) * max(size, 1e-300)


@dataclass(frozen=True)
class Covariance:
    """The covariance matrix of several estimators for one phi, their means, and how each entry was obtained.

    ``matrix`` is an ImmutableMatrix (exact entries when ``exact``, else
    numbers or deferred 1-D integrals); ``means`` their expectations; ``shared``
    the sampling group of each estimator's main part (None when it has none);
    ``how`` the routes taken.
    """

    matrix: sp.ImmutableMatrix
    means: tuple
    exact: bool
    how: str
    shared: tuple


def _has_main(est: Any) -> bool:
    return any(vi != 0 for vi in est.v) or est.psi != 0


def estimator_covariance(
    estimators: Any, phi: object, params: dict | None = None, *, timeout: float | None = None
) -> Covariance | None:
    r"""The exact (or quadrature) covariance matrix of estimators of one gradient, for one phi.

    Estimators whose main parts sample the same density q share the draw
    x ~ q, so :math:`\mathrm{Cov}(E_i, E_j) = E_q[E_i E_j] - E_q[E_i] E_q[E_j]`;
    main parts over different densities, and every extra term (drawn from its
    own stream), are independent, adding only to the diagonal.  Returns None
    when some moment can be computed neither exactly nor by quadrature.
    """
    ests = list(estimators)
    for est in ests:
        _check_estimator(est)
    phi = as_test_function(phi)
    budget = resolve_timeout(timeout)
    values = {} if params is None else exact_values(dict(params))
    ev = _Evaluator(values, budget, QUAD_DPS, params is not None, set())
    groups: list = []
    shared = []
    for est in ests:
        if not _has_main(est):
            shared.append(None)
            continue
        key = est.sampling
        if key not in groups:
            groups.append(key)
        shared.append(groups.index(key))
    n = len(ests)
    mains = [est.single_sample(phi) for est in ests]
    m1 = []
    term_var = []
    for est, main in zip(ests, mains, strict=True):
        mean = ev.plan(((sp.S.One, ((est.sampling, main),)),)) if _has_main(est) else sp.S.Zero
        extra = sp.S.Zero
        for t in est.extra_terms:
            t1, t2 = ev.plan(term_plan(t, phi, 1)), ev.plan(term_plan(t, phi, 2))
            if t1 is None or t2 is None or _negative(t2 - t1**2, t2, values):
                return None  # (a negative variance: the term's moments are not of one law, see _moments)
            mean = None if mean is None else mean + t1
            extra += t2 - t1**2
        if mean is None:
            return None
        m1.append(mean)
        term_var.append(extra)
    mains_mean = [
        ev.plan(((sp.S.One, ((est.sampling, main),)),)) if _has_main(est) else sp.S.Zero
        for est, main in zip(ests, mains, strict=True)
    ]
    M = sp.zeros(n, n)
    for i in range(n):
        for j in range(i, n):
            cov = sp.S.Zero
            if shared[i] is not None and shared[i] == shared[j]:
                cross = ev.plan(((sp.S.One, ((ests[i].sampling, sp.expand(mains[i] * mains[j])),)),))
                if cross is None:
                    return None
                cov = cross - mains_mean[i] * mains_mean[j]
            if i == j:
                cov += term_var[i]
            M[i, j] = M[j, i] = cov
    return Covariance(sp.ImmutableMatrix(M), tuple(m1), ev.exact, " and ".join(sorted(ev.hows)), tuple(shared))


def estimator_moments(
    est: Any, phi: object, params: dict | None = None, *, timeout: float | None = None
) -> tuple[sp.Expr, sp.Expr, str] | tuple[None, None, str]:
    """Exact (mean, variance, how), or (None, None, why) when some moment cannot be integrated exactly."""
    _check_estimator(est)
    phi = as_test_function(phi)
    values = {} if params is None else exact_values(dict(params))
    mean, var, ev = _moments(est, phi, values, resolve_timeout(timeout), numeric=False)
    if mean is None:
        return None, None, ev.failure
    return mean, var, " and ".join(sorted(ev.hows))


# -- Monte Carlo ------------------------------------------------------------------------


# Rows drawn and evaluated at once by the Monte Carlo route; the budget is checked between chunks.
MC_CHUNK = 2**16


def _mc(est: Any, phi: sp.Expr, values: dict, n: int, seed: int | np.random.Generator | None):
    """n draws of the estimator, or fewer when the call's budget runs out (at least one chunk is drawn)."""
    if not isinstance(seed, np.random.Generator) and (
        isinstance(seed, bool)
        or not (seed is None or isinstance(seed, int | np.integer))
        or (seed is not None and seed < 0)
    ):
        raise SymflowError(f"seed must be a non-negative integer, None or a numpy Generator, got {seed!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    q = est.sampling
    q_params = {t: values[t] for t in q.params}
    single = at_values(est.single_sample(phi), values)
    stray = single.free_symbols - set(est.x)
    if stray:
        raise SymflowError(f"Monte Carlo needs values for {', '.join(sorted(map(str, stray)))}; add them to params")
    refuse_unevaluated(single, "the estimator")
    if single.has(sp.zoo, sp.nan):
        raise SymflowError(
            f"the estimator is undefined at these parameter values ({sp.sstr(single)[:80]}); choose other values"
        )
    fn = numpy_scalar_function(est.x, single)
    parts, drawn = [], 0
    while drawn < n and not (drawn and budgets.expired()):
        m = min(MC_CHUNK, n - drawn)
        xs = q.sample(m, q_params, rng)  # consecutive draws from one generator: the same stream as one big draw
        with np.errstate(all="ignore"):
            try:
                parts.append(np.broadcast_to(np.asarray(fn(*xs.T), dtype=float), (m,)).copy())
            except OverflowError as exc:  # an exact integer beyond float64 (10**400) in the estimator
                raise SymflowError(
                    f"the estimator cannot be evaluated in float64 at these values ({exc}); rescale its constants"
                ) from None
        drawn += m
    vals = np.concatenate(parts)
    n = drawn
    for term in est.extra_terms:
        floats = {k: float(v) for k, v in values.items()}
        vals = vals + np.asarray(term.mc_samples(at_values(phi, values), floats, n, rng), dtype=float)
    if not np.all(np.isfinite(vals)):
        raise SymflowError("the estimator was not finite at some samples; its variance may be infinite")
    return vals


def _mc_summary(vals: np.ndarray) -> tuple[float, float, float, float]:
    """(mean, its stderr, variance, its stderr); the last by the delta method: sqrt((m4 - s^4)/n)."""
    n = vals.size
    mean = float(vals.mean())
    centered = vals - mean
    var = float(centered @ centered / (n - 1))
    m4 = float(np.mean(centered**4))
    return mean, math.sqrt(var / n), var, math.sqrt(max(m4 - var**2, 0.0) / n)


@bounded
def variance(
    est: Any,
    phi: object,
    params: dict | None = None,
    *,
    n: int = DEFAULT_N,
    seed: int | np.random.Generator | None = 0,
    timeout: float | None = None,
    exact: bool = True,
    route: str | None = None,
) -> VarianceResult:
    r"""The variance of an estimator: exact where the integrals can be done, else quadrature, else Monte Carlo.

    .. math::
        \mathbb{V}[E] = \int q\,E^2\,dx - \left(\int q\,E\,dx\right)^2 + \sum_k \mathbb{V}[T_k]

    (the extra terms T_k are drawn from their own streams, so independent of x).

    Parameters
    ----------
    est : Estimator
        Any estimator: under q = p or q != p, with surface, GO or
        measure-valued terms (``sf.mvd``), or a wrapper with the same interface
        (``toolbox.with_baseline``).
    phi : sympy.Expr
        The test function.  Extra symbols in it are constants.
    params : dict, optional
        Values for the parameters (and for phi's constants).  Without them
        the exact variance is symbolic; quadrature and Monte Carlo need them.
    n, seed : int
        Monte Carlo sample size and seed (used only when neither the exact
        route nor quadrature gives the value).
    timeout : float, optional
        Budget in seconds for the whole call (every symbolic step and quadrature shares it; default: the
        global one).
    exact : bool
        Try the exact route and quadrature first (default).  ``False`` forces Monte Carlo.
    route : {"exact", "quadrature", "Monte Carlo"}, optional
        Force one route (for cross-checks): ``"exact"`` raises when some
        moment has no closed form; ``"quadrature"`` integrates every moment
        numerically at the given ``params``; ``"Monte Carlo"`` samples.

    Returns
    -------
    VarianceResult
        ``route`` says which way gave the value: ``"exact"`` (symbolic),
        ``"quadrature"`` (mpmath at ``QUAD_DPS`` digits) or ``"Monte Carlo"``
        (with standard errors; the variance's by the delta method).

    Examples
    --------
    >>> import symflow as sf
    >>> p = sf.families.normal(); mu, sigma = p.params; (x,) = p.x
    >>> sf.variance(sf.derive(p, sf.flows.reparam(p), wrt=mu), x**2).value
    4*sigma**2
    """
    _check_estimator(est)
    phi = as_test_function(phi)
    if not isinstance(n, int | np.integer) or isinstance(n, bool) or n < 2:
        raise SymflowError(f"n must be an integer >= 2 (Monte Carlo samples), got {n!r}")
    budget = resolve_timeout(timeout)
    values = None
    if params is not None:
        if not isinstance(params, dict):
            raise SymflowError(f"params must be a dict from Symbols to numbers, got {type(params).__name__}")
        values = as_param_values(params, est.params)
        for dens in {id(d): d for d in (est.density, est.sampling)}.values():
            dens.param_values({t: values[t] for t in dens.params})  # their constraints (a < b) too
    if route not in (None, "exact", "quadrature", "Monte Carlo"):
        raise SymflowError(f"route must be 'exact', 'quadrature' or 'Monte Carlo', got {route!r}")
    if route == "quadrature" and values is None:
        raise SymflowError("route='quadrature' needs params= (numbers for the parameters and phi's constants)")
    reason = "exact route not requested"
    if values is not None:
        # A Monte Carlo sample variance or a quadrature of E^2 over a finite range is a number
        # even when E_q[E^2] is infinite (an LR weight (p/q)^2 q ~ exp(x^2) under a narrower q).
        infinite = _second_moment_diverges(est, phi, values)
        if infinite:
            return VarianceResult(math.inf, None, f"tail test: {infinite}", False, None, None, None, infinite, True)
    if exact and route != "Monte Carlo":
        given = {} if values is None else exact_values(values)
        symbolic = route != "quadrature"
        mean, var, ev = _moments(
            est, phi, given, budget, numeric=values is not None and route != "exact", symbolic=symbolic
        )
        how = " and ".join(sorted(ev.hows))
        if mean is not None and ev.exact:
            return VarianceResult(_real_form(var, budget), None, how, True, _real_form(mean, budget), None, None)
        if mean is not None and var.free_symbols:
            # a deferred 1-D integral with constants of phi left symbolic: evaluate_deferred once they have values
            reason = "a 1-D integral is left for quadrature; substitute values, then evaluate_deferred"
            return VarianceResult(var, None, how, False, mean, None, None, reason)
        if mean is not None:
            # some moment by quadrature: a number (complex round-off dropped)
            return VarianceResult(
                _real(evaluate_deferred(var)),
                None,
                how,
                False,
                _real(evaluate_deferred(mean)),
                None,
                None,
                "some integral had no closed form" if symbolic else "quadrature requested",
            )
        reason = ev.failure
        if route in ("exact", "quadrature"):
            raise SymflowError(f"the {route} route failed: {reason}")
    if values is None:
        raise SymflowError(
            f"the exact variance is not available ({reason}); pass params= (numbers for "
            f"{', '.join(map(str, est.params))}) for quadrature or a Monte Carlo estimate"
        )
    missing = [str(c) for c in _constants(est, phi) if c not in values]
    if missing:
        raise SymflowError(f"phi's constants {', '.join(missing)} need values in params for Monte Carlo")
    vals = _mc(est, phi, exact_values(values), int(n), seed)
    mean, mean_se, var, var_se = _mc_summary(vals)
    cut = "" if vals.size == int(n) else f" (the budget ran out after {vals.size} of {int(n)} samples)"
    return VarianceResult(
        var,
        var_se,
        f"Monte Carlo, n = {vals.size}, sample variance with delta-method standard error{cut}",
        False,
        mean,
        mean_se,
        int(vals.size),
        reason,
    )


def _second_moment_diverges(est: Any, phi: sp.Expr, values: dict) -> str:
    """Why E_q[E^2] of the estimator's main part is infinite at ``values`` (its tail), else ''."""
    q = getattr(est, "sampling", None)
    if q is None or not hasattr(est, "single_sample") or set(_constants(est, phi)) - set(values):
        return ""
    try:
        single = at_values(est.single_sample(phi), exact_values(values))
    except (TypeError, ValueError):
        return ""
    why = infinite_expectation(q, single**2, values)
    return f"the second moment E_q[E^2] is infinite ({why})" if why else ""


def _real_form(expr: sp.Expr, budget: float) -> sp.Expr:
    """The tidied expression; a real quantity written with complex exponentials is wrapped in re()."""
    out = _tidy(expr, budget)
    return sp.re(out, evaluate=False) if out.has(sp.I) else out


def _real(value: Any) -> float:
    c = complex(sp.N(value, QUAD_DPS))
    return c.real
