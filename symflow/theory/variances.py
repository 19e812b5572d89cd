"""The variance of a single-sample gradient estimator, exact where possible.

For an estimator E(x) = v . grad phi + psi phi sampled from q,

    Var_q[E] = E_q[E^2] - (E_q[E])^2 .

Both moments are integrals of q E^k over q's support.  They are done
exactly when they can be: first by the closed form for polynomial-times-
Gaussian integrands (the normal's LR, RP and weighted estimators, the
L-distribution's, and exponential phi, all reduce to sums of
x^k exp(quadratic in x)), then by SymPy's ``integrate`` under the time
budget.  Otherwise the variance is estimated by Monte Carlo from ``n``
samples, with its standard error.  The result says which.

Symbols in phi other than the variables and parameters (``a`` in
a (x - c)) are constants; they stay symbolic in an exact result and need
values for Monte Carlo.  Parameters that appear in phi are held at their
values: phi is a fixed function, as in the paper's phi = a (x - mu).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from ..core import budget as budgets
from ..core.budget import SYMPY_GAVE_UP, BudgetExceeded, bounded, resolve_timeout, run_with_budget
from ..core.convert import as_expr, as_param_values, at_values, exact_values, refuse_unevaluated
from ..errors import EstimatorError, SymflowError
from ..numeric.evaluate import numpy_scalar_function

__all__ = ["VarianceResult", "estimator_moments", "gaussian_integral", "variance"]

DEFAULT_N = 100_000


@dataclass(frozen=True)
class VarianceResult:
    """The variance of an estimator for one phi, and how it was obtained.

    Attributes
    ----------
    value : sympy.Expr or float
        Var_q[E]: a SymPy expression when ``exact`` (symbolic in the
        parameters when none were given), a float from Monte Carlo otherwise.
    stderr : float or None
        Standard error of a Monte Carlo ``value`` (None when exact).
    method : str
        How it was computed.
    exact : bool
        True when both moments were integrated exactly.
    mean : sympy.Expr or float
        E_q[E], the estimator's expectation (the gradient, when unbiased).
    mean_stderr : float or None
        Standard error of a Monte Carlo ``mean``.
    n : int or None
        Number of Monte Carlo samples (None when exact).
    reason : str
        Why the exact route was not taken, for a Monte Carlo result.
    """

    value: Any
    stderr: float | None
    method: str
    exact: bool
    mean: Any = None
    mean_stderr: float | None = None
    n: int | None = None
    reason: str = ""

    def __float__(self) -> float:
        return float(self.value)

    def __str__(self) -> str:
        if self.exact:
            return f"Var = {sp.sstr(self.value)}  (exact: {self.method})"
        return f"Var = {self.value:.6g} +- {self.stderr:.2g}  ({self.method})"


# -- exact integrals -----------------------------------------------------------


def _double_factorial_odd(j: int) -> int:
    """(2j - 1)!! with (-1)!! = 1."""
    return math.prod(range(1, 2 * j, 2)) if j > 0 else 1


def _gaussian_term(term: sp.Expr, x: sp.Symbol) -> sp.Expr | None:
    """Integral over the real line of c(x) exp(A2 x^2 + A1 x + A0) with c a polynomial, or None."""
    exps = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.exp) or (f.is_Pow and isinstance(f.base, sp.exp))]
    rest = sp.Mul(*[f for f in sp.Mul.make_args(term) if f not in exps])
    exponent = sp.Add(*[f.args[0] if isinstance(f, sp.exp) else f.base.args[0] * f.exp for f in exps])
    if not rest.is_polynomial(x) or not exponent.is_polynomial(x):
        return None
    quad = sp.Poly(sp.expand(exponent), x)
    if quad.degree() != 2:
        return None
    a2, a1, a0 = quad.all_coeffs()
    A = -a2
    if A.is_positive is not True:
        return None  # not provably decaying: the integral may diverge
    m = a1 / (2 * A)
    # x = m + Y with Y ~ N(0, 1/(2A)) under the normalized Gaussian factor
    poly = sp.Poly(sp.expand(rest.xreplace({x: x + m})), x)
    moment = sp.S.Zero
    for (k,), coeff in poly.terms():
        if k % 2 == 0:
            moment += coeff * _double_factorial_odd(k // 2) / (2 * A) ** (k // 2)
    return sp.exp(a0 + a1**2 / (4 * A)) * sp.sqrt(sp.pi / A) * moment


def gaussian_integral(expr: sp.Expr, x: sp.Symbol) -> sp.Expr | None:
    r"""The integral over the real line of a sum of polynomial x Gaussian terms.

    Each term c(x) exp(-A x^2 + B x + C) with A provably positive integrates to

    .. math::
        e^{C + B^2/(4A)} \sqrt{\pi/A}\; \mathbb{E}\left[c(m + Y)\right],
        \quad m = \frac{B}{2A},\; Y \sim \mathcal{N}\left(0, \tfrac{1}{2A}\right),

    using E[Y^{2j}] = (2j - 1)!! / (2A)^j.  Returns None when some term does
    not have that form (SymPy's integrator is then the fallback).
    """
    combined = sp.powsimp(sp.expand(expr, power_exp=False, log=False), combine="exp")
    # group the terms by their exponential factor so each group is one polynomial
    groups: dict[sp.Expr, sp.Expr] = {}
    for term in sp.Add.make_args(sp.expand(combined, power_exp=False, log=False)):
        if not term.has(x):
            return None  # a constant over the real line diverges
        factors = sp.Mul.make_args(sp.powsimp(term, combine="exp"))
        exps = [f for f in factors if isinstance(f, sp.exp)]
        rest = sp.Mul(*[f for f in factors if not isinstance(f, sp.exp)])
        key = sp.expand(sp.Add(*[f.args[0] for f in exps]))
        groups[key] = groups.get(key, sp.S.Zero) + rest
    total = sp.S.Zero
    for exponent, poly in groups.items():
        val = _gaussian_term(poly * sp.exp(exponent, evaluate=False), x)
        if val is None:
            return None
        total += val
    return total


def _integrate(q, integrand: sp.Expr, values: dict, budget: float) -> tuple[sp.Expr | None, str]:
    """Integral of ``integrand`` over q's support with ``values`` substituted: (value, how) or (None, why)."""
    expr = at_values(integrand, values)
    sets = [(xi, s.inf.xreplace(values), s.sup.xreplace(values)) for xi, s in zip(q.x, q.support_sets, strict=True)]

    def closed_form() -> sp.Expr | None:
        out = expr
        for xi, lo, hi in sets:
            if (lo, hi) != (-sp.oo, sp.oo) or q.is_discrete:
                return None
            out = gaussian_integral(out, xi)
            if out is None:
                return None
        return out

    try:
        fast = run_with_budget(closed_form, timeout=budget, what="Gaussian closed form")
    except (BudgetExceeded, sp.PolynomialError, TypeError, ValueError):
        fast = None
    if fast is not None:
        return fast, "closed-form Gaussian integrals"

    def by_sympy() -> sp.Expr | None:
        out = sp.powsimp(sp.expand(expr, power_exp=False), combine="exp")
        for xi, lo, hi in sets:
            out = budgets.summation(out, (xi, lo, hi)) if q.is_discrete else budgets.integrate(out, (xi, lo, hi))
            if out.has(sp.Integral, sp.Sum):
                return None
        if out.has(sp.Piecewise):
            # convergence conditions that the assumptions did not settle: not an answer
            folded = sp.piecewise_fold(out)
            if any(pw.args[0].cond != sp.true for pw in folded.atoms(sp.Piecewise)):
                return None
            out = folded
        return None if out.has(sp.nan) else out

    try:
        got = run_with_budget(by_sympy, timeout=budget, what="symbolic integration")
    except BudgetExceeded as exc:
        return None, str(exc)
    except SYMPY_GAVE_UP as exc:
        return None, f"SymPy could not integrate ({type(exc).__name__})"
    if got is None:
        return None, "SymPy left the integral unevaluated or conditional"
    return got, "SymPy integrate"


def _tidy(expr: sp.Expr, budget: float) -> sp.Expr:
    """A short form: cancel/factor for rational functions (fast), else simplify under the budget."""

    def work(e: sp.Expr) -> sp.Expr:
        e = sp.cancel(sp.expand(e))
        syms = tuple(e.free_symbols)
        if not syms or e.is_rational_function(*syms):
            return sp.factor(e)
        return budgets.simplify(e)

    try:
        return run_with_budget(work, expr, timeout=budget, what="simplify")
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


def _phi(est: Any, phi: object) -> sp.Expr:
    return as_expr(phi, "phi")


def _constants(est: Any, phi: sp.Expr) -> tuple[sp.Symbol, ...]:
    """Symbols in phi that are neither variables nor parameters: held constant."""
    known = set(est.x) | set(est.params)
    return tuple(sorted((s for s in phi.free_symbols if s not in known), key=str))


# -- moments ------------------------------------------------------------------


def estimator_moments(
    est: Any, phi: object, params: dict | None = None, *, timeout: float | None = None
) -> tuple[sp.Expr, sp.Expr, str] | tuple[None, None, str]:
    """Exact (E_q[E], E_q[E^2], how), or (None, None, why) when they cannot be integrated."""
    _check_estimator(est)
    phi = _phi(est, phi)
    if est.extra_terms:
        return None, None, "the estimator has separately sampled extra terms"
    budget = resolve_timeout(timeout)
    values = {} if params is None else exact_values(dict(params))
    single = est.single_sample(phi)
    q = est.sampling
    hows = set()
    moments = []
    for k in (1, 2):
        val, how = _integrate(q, q.expr * single**k, values, budget)
        if val is None:
            return None, None, f"moment {k}: {how}"
        hows.add(how)
        moments.append(val)
    return moments[0], moments[1], " and ".join(sorted(hows))


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
        vals = vals + np.asarray(term.mc_samples(phi.xreplace(values), floats, n, rng), dtype=float)
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
) -> VarianceResult:
    r"""Var_q[v . grad phi + psi phi], exactly where the integrals can be done, else by Monte Carlo.

    .. math::
        \mathbb{V}_q[E] = \int q\,E^2\,dx - \left(\int q\,E\,dx\right)^2

    Parameters
    ----------
    est : Estimator
        Or any wrapper with the same interface (``toolbox.with_baseline``).
    phi : sympy.Expr
        The test function.  Extra symbols in it are constants.
    params : dict, optional
        Values for the parameters (and for phi's constants).  Without them
        the exact variance is symbolic; Monte Carlo needs them.
    n, seed : int
        Monte Carlo sample size and seed (used only when not exact).
    timeout : float, optional
        Budget in seconds for the whole call (every symbolic step shares it; default: the global one).
    exact : bool
        Try the exact route first (default).  ``False`` forces Monte Carlo.

    Returns
    -------
    VarianceResult
        ``exact`` says which route gave the value; a Monte Carlo result
        carries standard errors (the variance's by the delta method).
    """
    _check_estimator(est)
    phi = _phi(est, phi)
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
    reason = "exact route not requested"
    if exact:
        m1, m2, how = estimator_moments(est, phi, values, timeout=budget)
        if m1 is not None:
            var = _tidy(m2 - m1**2, budget)
            mean = _tidy(m1, budget)
            return VarianceResult(var, None, how, True, mean, None, None)
        reason = how
    if values is None:
        raise SymflowError(
            f"the exact variance is not available ({reason}); pass params= (numbers for "
            f"{', '.join(map(str, est.params))}) for a Monte Carlo estimate"
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
