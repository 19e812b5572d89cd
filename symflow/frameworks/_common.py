r"""What the JAX and PyTorch adapters share: parameters, default flows, host sampling, the surrogate's plan.

Nothing here imports a framework.  The adapters turn the plan's SymPy expressions into framework
code (``symflow.numeric.jax_backend.jax_function`` / the torch printer) and assemble the surrogate

.. math::
    S(\theta) = \frac1n\sum_j \phi(\tilde x_j)\Bigl(1 + \sum_i \delta_i\,\bar\psi_i(x_j)\Bigr)
    + \sum_{\text{terms}} \delta_i\,(\dots),
    \qquad \tilde x_j = x_j + \sum_i \delta_i\,\bar v_i(x_j),\quad \delta_i = \theta_i - \bar\theta_i,

where a bar means "gradient stopped".  :math:`\delta_i` is 0 in value and has derivative 1 in
:math:`\theta_i`, so :math:`S` equals the sample mean of :math:`\phi` and
:math:`\partial S/\partial\theta_i = \frac1n\sum_j v_i\cdot\nabla\phi + \psi_i\phi`, the estimator of
Eq. 19 on the same samples, plus each extra term's contribution.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..core.density import Density, checked_density
from ..core.estimator import Estimator, TermKind, checked_estimator
from ..core.flow import Flow, flow_over
from ..errors import EstimatorError, FlowError, ParameterError, SymflowError

__all__ = [
    "GoPlan",
    "PointPlan",
    "SurfacePlan",
    "SurrogatePlan",
    "checked_plan",
    "default_flow",
    "host_sample",
    "lookup",
    "native_family",
    "plan_surrogate",
    "require",
]

# Families whose draws JAX ships (jax.random); matched by equality of the density, never by name.
NATIVE_FAMILIES = ("normal", "laplace", "logistic", "exponential", "uniform", "gamma", "beta")


def require(package: str):
    """Import an optional framework, or raise ``SymflowError`` naming the install command."""
    import importlib

    try:
        return importlib.import_module(package)
    except ModuleNotFoundError:
        hint = (
            'pip install "symflow[jax]"'
            if package.startswith("jax")
            else (
                'pip install "symflow[torch]" (CPU-only wheel: pip install torch --index-url '
                "https://download.pytorch.org/whl/cpu)"
            )
        )
        raise SymflowError(
            f"symflow.frameworks needs the package {package!r}, which is not installed; run `{hint}`"
        ) from None


def default_flow(p: Density, flow: Flow | None) -> Flow:
    """``flow`` checked against ``p``; None picks the density's reparameterization, else its CDF flow."""
    p = checked_density(p)
    if flow is not None:
        return flow_over(p, flow)
    from ..estimators import flows

    if p.is_discrete:
        raise FlowError(
            f"{p.name} is discrete: samples of a pmf do not move continuously with theta; use "
            "sf.go_estimator(p, theta) with surrogate(...) instead of a sampler"
        )
    if p.reparam is not None and p.standardize is not None:
        return flows.reparam(p)
    if p.dim == 1 and p.cdf is not None or p.standardize is not None:
        return flows.implicit(p)
    raise FlowError(f"{p.name} has no reparameterization, CDF or standardization; pass flow=")


def parameter_names(params: Sequence[sp.Symbol]) -> tuple[str, ...]:
    names = tuple(str(t) for t in params)
    if len(set(names)) != len(names):
        raise ParameterError(f"parameters {names} share a name; give each parameter Symbol its own name")
    return names


def lookup(symbols: Sequence[sp.Symbol], params: object) -> list:
    """The values of ``symbols`` from a dict (keyed by name or by Symbol) or a sequence in ``symbols`` order.

    Values are returned as given (framework arrays stay arrays, so gradients flow through).
    """
    parameter_names(symbols)
    if isinstance(params, Mapping):
        out, missing = [], []
        for t in symbols:
            if str(t) in params:
                out.append(params[str(t)])
            elif t in params:
                out.append(params[t])
            else:
                missing.append(str(t))
        if missing:
            example = ", ".join(f"{name!r}: 1.0" for name in missing)
            raise ParameterError(f"params has no value for {', '.join(missing)}; add them, e.g. {{{example}}}")
        return out
    try:
        count = len(params)  # type: ignore[arg-type]
    except TypeError:
        example = ", ".join(f"{str(t)!r}: 1.0" for t in symbols)
        raise ParameterError(
            f"params must be a dict keyed by parameter name (e.g. {{{example}}}) or a sequence in the order "
            f"{tuple(map(str, symbols))}, got {type(params).__name__}"
        ) from None
    if count != len(symbols):
        raise ParameterError(
            f"params has {count} entries but there are {len(symbols)} parameters {tuple(map(str, symbols))}; "
            "give one value per parameter, in that order"
        )
    return [params[i] for i in range(count)]  # type: ignore[index]


def host_sample(p: Density, n: int, values: Sequence[float], seed_words: np.ndarray) -> np.ndarray:
    """``p.sample(n, ...)`` as an (n, d) float64 array, from a generator seeded by ``seed_words`` (uint32s)."""
    rng = np.random.default_rng(np.random.SeedSequence([int(w) for w in np.asarray(seed_words).ravel()]))
    given = {t: float(v) for t, v in zip(p.params, np.asarray(values, dtype=np.float64).ravel(), strict=True)}
    return np.asarray(p.sample(int(n), given, rng), dtype=np.float64).reshape(int(n), p.dim)


def native_family(p: Density) -> str | None:
    """The name of the family in ``NATIVE_FAMILIES`` that ``p`` equals (same expression, Symbols, support)."""
    if p.dim != 1:
        return None
    from ..families import univariate

    for name in NATIVE_FAMILIES:
        try:
            candidate = getattr(univariate, name)(p.x[0], *p.params)
        except (SymflowError, TypeError, ValueError):
            continue
        if candidate == p:
            return name
    return None


# -- the surrogate's plan --------------------------------------------------------------------


@dataclass(frozen=True)
class GoPlan:
    """The GO term of ``wrt_index`` (Eq. 73): mean of w(y) (phi(y + 1) - phi(y)) over y ~ p."""

    wrt_index: int
    weight: sp.Expr
    density: Density


@dataclass(frozen=True)
class PointPlan:
    r"""A 1-D surface term at the point ``s``: ``weight`` times the jump of phi there, or phi at a support edge.

    ``side``: for a jump 0 (phi(s+) - phi(s-)); for an edge the side the support lies on (+1, -1)
    or 0 (phi(s)).  ``lo``, ``hi``: a jump counts only strictly inside (lo, hi) (None: always).
    """

    wrt_index: int
    s: sp.Expr
    weight: sp.Expr
    jump: bool
    side: int
    lo: sp.Expr | None = None
    hi: sp.Expr | None = None


@dataclass(frozen=True)
class SurfacePlan:
    r"""A d-D surface term sampled from ``q_M`` over the other coordinates (Eq. 66, 77).

    For each branch :math:`x_j = s_k(x_{-j})`: ``(s_k, weight_k / q_M, df/dx_j or None)`` at the surface;
    phi is taken on both sides of f = 0 (a jump: the side where f grows minus the other) or from
    inside the support (an edge, ``side``).
    """

    wrt_index: int
    q_M: Density
    coordinate: int
    branches: tuple[tuple[sp.Expr, sp.Expr, sp.Expr | None], ...]
    jump: bool
    side: int


@dataclass(frozen=True)
class SurrogatePlan:
    """Estimators for some parameters of one density, sampled from one q, and their extra terms."""

    density: Density
    sampling: Density
    params: tuple[sp.Symbol, ...]  # every parameter the expressions need (p's, then q's extra ones)
    wrt: tuple[sp.Symbol, ...]
    v: tuple[tuple[sp.Expr, ...], ...]  # per wrt, one component per variable
    psi: tuple[sp.Expr, ...]
    terms: tuple[GoPlan | PointPlan | SurfacePlan, ...]


def _estimators(est: object) -> tuple[Estimator, ...]:
    ests = (est,) if isinstance(est, Estimator) else tuple(est) if isinstance(est, Sequence | np.ndarray) else None
    if not ests or isinstance(est, str | bytes):
        raise EstimatorError(
            f"surrogate needs an Estimator or a list of Estimators (one per parameter), got {type(est).__name__}"
        )
    ests = tuple(checked_estimator(e, "each estimator given to surrogate") for e in ests)
    first = ests[0]
    for e in ests[1:]:
        if e.density != first.density or e.sampling != first.sampling:
            raise EstimatorError(
                "the estimators differ in their density or sampling density; a surrogate averages over one "
                "set of samples: give estimators of one density, all sampled from the same q"
            )
    wrts = [e.wrt for e in ests]
    if len(set(wrts)) != len(wrts):
        raise EstimatorError(f"two estimators are for the same parameter ({wrts}); give one per parameter")
    return ests


def _point_plans(i: int, term, p: Density) -> list[PointPlan]:
    (xj,) = p.x
    support = p.support_sets[0]
    plans = []
    for s in term.branches:
        weight = term.weight.xreplace({xj: s})
        if term.level is not None:
            lo = hi = None
            if support != sp.S.Reals:
                inside = sp.Interval.open(support.inf, support.sup).contains(s)
                if inside is sp.false:
                    continue
                if inside is not sp.true:
                    lo, hi = support.inf, support.sup
            plans.append(PointPlan(i, s, weight, True, 0, lo, hi))
        else:
            plans.append(PointPlan(i, s, weight, False, int(term.inside)))
    return plans


def _surface_plan(i: int, term, p: Density) -> SurfacePlan:
    xj = term.coordinate
    j = p.x.index(xj)
    branches = []
    for s in term.branches:
        at = {xj: s}
        slope = sp.diff(term.level, xj).xreplace(at) if term.level is not None else None
        branches.append((s, (term.weight / term.q_M.expr).xreplace(at), slope))
    return SurfacePlan(i, term.q_M, j, tuple(branches), term.level is not None, int(term.inside))


def checked_plan(plan: object) -> SurrogatePlan:
    """``plan`` after checking that it is a ``SurrogatePlan`` (what ``Surrogate(...)`` is built from)."""
    if not isinstance(plan, SurrogatePlan):
        raise EstimatorError(
            f"a Surrogate is built from a SurrogatePlan, got {type(plan).__name__}; use surrogate(est) with an "
            "Estimator (or a list of them, one per parameter)"
        )
    return plan


def plan_surrogate(est: object) -> SurrogatePlan:
    """The plan of ``surrogate(est)``: v, psi per parameter and one plan per extra term."""
    ests = _estimators(est)
    first = ests[0]
    p = first.density
    terms: list = []
    for i, e in enumerate(ests):
        for term in e.extra_terms:
            kind = getattr(term, "kind", None)
            if kind == TermKind.GO:
                if term.weight.has(sp.Sum):
                    raise EstimatorError(
                        "the GO weight of this pmf is an unevaluated Sum (no closed-form CDF); give the density a "
                        "cdf= so the weight has a closed form, or use sf.mc_check for this estimator"
                    )
                terms.append(GoPlan(i, term.weight, term.density))
            elif kind in (TermKind.JUMP, TermKind.MOVING_BOUNDARY) and hasattr(term, "branches"):
                if term.q_M is None:
                    terms.extend(_point_plans(i, term, p))
                else:
                    terms.append(_surface_plan(i, term, p))
            elif kind == TermKind.MVD:
                # x+ and x- come from numpy samplers (inverse CDFs, couplings), not from jax/torch draws
                raise EstimatorError(
                    "surrogates do not support measure-valued (MVD) terms; for MVD estimates use est.compile() "
                    "(f.estimate(phi, n, params, rng)), or build the surrogate from sf.derive estimators (LR, RP)"
                )
            else:
                raise EstimatorError(f"the surrogate does not know the extra term {type(term).__name__}; report it")
    return SurrogatePlan(
        density=p,
        sampling=first.sampling,
        params=first.params,
        wrt=tuple(e.wrt for e in ests),
        v=tuple(e.v for e in ests),
        psi=tuple(e.psi for e in ests),
        terms=tuple(terms),
    )


def nudge_scale(eps: float) -> float:
    """Relative step to either side of a surface for phi's one-sided values: eps**(3/4).

    float64: 1.8e-12, float32: 6.4e-6.  Far more than the rounding of a computed level f (a few
    ulps), so a discontinuity of phi on the surface is crossed, and small enough that a continuous
    phi changes by a negligible amount.
    """
    return float(eps) ** 0.75
