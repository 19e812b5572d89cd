"""Several estimators of the same gradient side by side: mean and variance.

``compare`` evaluates each estimator's expectation and variance for one phi
at given parameter values with ``symflow.theory.variances`` (exact where the
integrals can be done, Monte Carlo otherwise), next to the exact gradient
d/dtheta_i E_p[phi], and returns an immutable table that prints as text
or Markdown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from ..calculus.integrals import expectation_gradient
from ..calculus.quadrature import numeric_integral
from ..core import budget as budgets
from ..core.budget import bounded
from ..core.convert import as_param_values, as_test_function, at_values, exact_values
from ..errors import EstimatorError
from .variances import DEFAULT_N, VarianceResult, _integrate, variance

__all__ = ["Comparison", "ComparisonRow", "compare"]


def _fmt(value: Any, stderr: float | None = None) -> str:
    try:
        num = float(value)
    except (TypeError, ValueError):
        return sp.sstr(value)
    if stderr is None:
        return f"{num:.6g}"
    return f"{num:.6g} ± {stderr:.2g}"


@dataclass(frozen=True)
class ComparisonRow:
    """One estimator's line: its mean and variance and how each was obtained."""

    name: str
    mean: Any
    mean_stderr: float | None
    variance: Any
    variance_stderr: float | None
    how: str
    exact: bool

    @classmethod
    def from_result(cls, name: str, res: VarianceResult) -> ComparisonRow:
        if res.route == "divergent":
            how = "infinite: E_q[E^2] diverges (tail test)"
        elif res.route == "exact":
            how = f"exact ({res.method})"
        elif res.route == "quadrature":
            how = f"quadrature ({res.method})"
        else:
            how = f"Monte Carlo, n = {res.n}"
        return cls(name, res.mean, res.mean_stderr, res.value, res.stderr, how, res.exact)

    def cells(self) -> tuple[str, str, str, str]:
        return (self.name, _fmt(self.mean, self.mean_stderr), _fmt(self.variance, self.variance_stderr), self.how)


@dataclass(frozen=True)
class Comparison:
    """A table of estimators of d/dtheta_i E_p[phi] at fixed parameter values.

    Attributes
    ----------
    rows : tuple of ComparisonRow
    phi : sympy.Expr
    wrt : sympy.Symbol
    params : tuple of (Symbol, value) pairs
    target : the exact gradient (None when it could not be computed)
    target_how : how the target was obtained
    """

    rows: tuple[ComparisonRow, ...]
    phi: sp.Expr
    wrt: sp.Symbol
    params: tuple[tuple[sp.Symbol, Any], ...]
    target: Any = None
    target_how: str = ""

    _HEAD = ("estimator", "mean", "variance", "how")

    def row(self, name: str) -> ComparisonRow:
        """The row with this name."""
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"no row named {name!r}; rows are {', '.join(r.name for r in self.rows)}")

    def _caption(self) -> str:
        at = ", ".join(f"{k} = {_fmt(v)}" for k, v in self.params)
        target = "" if self.target is None else f"; exact gradient {_fmt(self.target)} ({self.target_how})"
        return f"d/d{self.wrt} E[{sp.sstr(self.phi)}] at {at}{target}"

    def __str__(self) -> str:
        body = [self._HEAD, *(r.cells() for r in self.rows)]
        widths = [max(len(line[i]) for line in body) for i in range(4)]
        lines = [self._caption()]
        for k, line in enumerate(body):
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
            if k == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """The table in GitHub Markdown, with the caption as a paragraph above it."""
        esc = [tuple(c.replace("|", "\\|") for c in r.cells()) for r in self.rows]
        lines = [self._caption(), "", "| " + " | ".join(self._HEAD) + " |", "|---|---:|---:|---|"]
        lines += ["| " + " | ".join(cells) + " |" for cells in esc]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def _target(p, phi: sp.Expr, wrt: sp.Symbol, values: dict, timeout: float | None) -> tuple[Any, str]:
    """d/dtheta_i E_p[phi]: the integral of (dp/dtheta_i) phi, exactly if possible, else integrals.py's reference."""
    if phi.free_symbols & set(p.params):
        return None, "phi depends on the parameters"
    if phi.free_symbols - set(p.x) - set(values):
        return None, "phi has constants without values"
    # the symbolic look gets a quarter of the call's budget: quadrature below is the dependable route
    val, how = _integrate(p, sp.diff(p.expr, wrt) * phi, values, budgets.share(timeout, 0.25))
    if val is not None:
        return sp.nsimplify(val) if val.is_Float else budgets.simplify(val, timeout=budgets.share(timeout, 0.25)), how
    if p.has_moving_support:
        return expectation_gradient(p, at_values(phi, values), wrt, values, timeout=timeout)
    # 20 digits are plenty for a displayed reference and several times faster than 50
    val = numeric_integral(p, sp.diff(p.expr, wrt) * phi, values, dps=20, timeout=timeout)
    return (val, "mpmath quadrature at 20 digits") if val is not None else (None, "quadrature failed")


@bounded
def compare(
    estimators: Sequence | Mapping,
    phi: object,
    params: dict,
    *,
    n: int = DEFAULT_N,
    seed: int = 0,
    timeout: float | None = None,
) -> Comparison:
    """Mean and variance of several estimators of the same gradient, side by side.

    Parameters
    ----------
    estimators : sequence of Estimator, or mapping name -> Estimator
        All must estimate d/dtheta_i E_p[phi] for the same p and theta_i.
    phi : sympy.Expr
        The test function (over p's variables; other symbols need values).
    params : dict
        Values for every parameter of every estimator (and phi's constants).
    n, seed : int
        Monte Carlo sample size and seed, for estimators whose integrals
        cannot be done exactly (each gets its own stream from ``seed``).
    timeout : float, optional
        Budget in seconds for the whole call (every symbolic step shares it; default: the global one).

    Returns
    -------
    Comparison
        Rows in the order given, and the exact gradient as ``target``.
    """
    if isinstance(estimators, Mapping):
        items = list(estimators.items())
    elif isinstance(estimators, Sequence) and not isinstance(estimators, str):
        items = [(getattr(e, "name", "") or f"estimator {i + 1}", e) for i, e in enumerate(estimators)]
    else:
        raise EstimatorError("estimators must be a sequence of Estimators or a dict {name: Estimator}")
    if not items:
        raise EstimatorError("estimators is empty; give at least one estimator")
    names = [name for name, _ in items]
    if len(set(names)) != len(names):
        # default names repeat (two "zero estimator"s): number them so every row is addressable
        items = [(f"{name} #{i + 1}" if names.count(name) > 1 else name, est) for i, (name, est) in enumerate(items)]
    first = items[0][1]
    for name, est in items:
        for attr in ("density", "wrt", "single_sample", "sampling"):
            if not hasattr(est, attr):
                raise EstimatorError(f"{name!r} is a {type(est).__name__}, not an Estimator")
        if est.density != first.density or est.wrt != first.wrt:
            raise EstimatorError(
                f"{name!r} estimates d/d{est.wrt} E_{est.density.name}[phi], but {items[0][0]!r} estimates "
                f"d/d{first.wrt} E_{first.density.name}[phi]; compare estimators of the same gradient"
            )
    phi = as_test_function(phi)
    if not isinstance(params, dict):
        raise EstimatorError("params must be a dict from Symbols to numbers")
    needed = tuple(dict.fromkeys(t for _, est in items for t in est.params))
    values = as_param_values(params, needed)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise EstimatorError(f"seed must be a non-negative integer, got {seed!r}")
    seeds = np.random.SeedSequence(seed).spawn(len(items))
    # the reference first (quadrature needs its share), then each row's exact attempt gets an equal part of what is
    # left: Monte Carlo replaces an exact moment that runs out
    target, how = _target(first.density, phi, first.wrt, exact_values(values), timeout)
    rows = []
    for k, ((name, est), ss) in enumerate(zip(items, seeds, strict=True)):
        row_budget = budgets.share(timeout, 0.8 / (len(items) - k))
        res = variance(est, phi, values, n=n, seed=np.random.default_rng(ss), timeout=row_budget)
        rows.append(ComparisonRow.from_result(name, res))
    return Comparison(tuple(rows), phi, first.wrt, tuple(values.items()), target, how)
