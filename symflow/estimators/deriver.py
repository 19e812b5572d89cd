"""Deriving an estimator from a flow: Eq. (19) / (50).

Given p, a flow u for theta_i and a sampling density q,

    v   = (p/q) u
    psi = (1/q) (div(p u) + dp/dtheta_i)
        = (p/q) (div u + u . grad log p + d log p/dtheta_i)

The second form (the "log route") divides p out, so exponential families
give rational residuals with no exp() to blow up.  ``psi`` is 0 exactly when
u solves the transport equation div(p u) + dp/dtheta_i = 0 (Eq. 52).
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from ..calculus.flux_jumps import flux_jumps
from ..calculus.transport import transport_residual
from ..core import budget as budgets
from ..core.budget import bounded, resolve_timeout
from ..core.density import Density, same_variables
from ..core.estimator import Estimator
from ..core.flow import Flow, FlowKind, field_over
from ..core.status import Status
from ..core.steps import Step
from ..errors import EstimatorError, FlowError, SymflowError
from ..zero import decide_zero, proves_zero

__all__ = ["derive"]

PSI = sp.Symbol("psi")


# Flows built to solve the transport equation: for these a residual the quick test leaves is worth
# the symbolic strategies of decide_zero (Beta's implicit flow cancels only after together()).
_TRANSPORT_FLOWS = (FlowKind.REPARAM, FlowKind.IMPLICIT, FlowKind.OMT, FlowKind.INTEGRATION_BY_PARTS)


def _transport_proved(p: Density, flow: Flow, core: sp.Expr, budget: float) -> str | None:
    """'' or ' (<how>)' when the transport residual is proved 0; None when not proved.

    transport proved => psi == 0 => the estimator has no phi term (and compiles without it).
    Only a proof counts: decide_zero runs without its numeric fallback, so a residual that is
    merely small at sample points never removes a term.
    """
    if proves_zero(core, budget):
        return ""
    if flow.kind not in _TRANSPORT_FLOWS:
        return None
    verdict = decide_zero(core, p.domain(), timeout=budget, numeric=False)
    return f" (proved: {verdict.method})" if verdict.status is Status.PROVED else None


def _density_ratio(p: Density, q: Density | None, budget: float) -> sp.Expr:
    if q is None:
        return sp.S.One
    raw = p.expr / q.expr

    return budgets.simplify(sp.powsimp(raw, force=True), timeout=budget, what="simplifying p/q")


@bounded
def derive(
    p: Density,
    flow: Flow,
    wrt: sp.Symbol,
    q: Density | None = None,
    *,
    phi: object = None,
    jumps: object = None,
    timeout: float | None = None,
) -> Estimator:
    r"""The flow estimator of d/dtheta_i E_p[phi] for a flow u and sampling density q.

    .. math::
        E = \frac{p}{q} u\cdot\nabla\phi
            + \frac{1}{q}\left(\nabla\cdot(p u) + \partial_{\theta_i} p\right)\phi
        \qquad \text{(Eq. 19, 50)}

    Parameters
    ----------
    p : Density
    flow : Flow
        A flow over p; ``flows.zero(p)`` gives the likelihood ratio.
    wrt : Symbol
        The parameter theta_i.
    q : Density, optional
        Sampling density over the same variables (default p).
    phi : expression, optional
        The test function.  Its jump set (Heaviside, sign, Piecewise with
        different values on each side; hyperplanes and level sets in d-D)
        is found and each jump surface M adds the surface term of Eq. (66),
        :math:`\int_M p\,\Delta\phi\,\mathbf{u}\cdot\hat{\mathbf{n}}\,dS`,
        sampled from its own q_M (``symflow.estimators.jumps``, ``symflow.estimators.surface``).
    jumps : sequence of expressions, optional
        The jump set given explicitly as level functions f (M = {f = 0});
        used instead of detecting it from ``phi``.
    timeout : float, optional
        Budget in seconds for the whole call (every simplification shares it; default: the global one).

    Returns
    -------
    Estimator
        With ``v``, a simplified ``psi`` and the derivation's ``steps``.
        ``extra_terms`` holds the jump terms (Eq. 66) and, when the support's
        edges depend on theta (``p.has_moving_support``), the moving-boundary
        terms of Eq. (77) (``symflow.estimators.moving_boundary``).

    Examples
    --------
    The likelihood ratio (u = 0) for the normal's scale gives the score of Eq. (21):

    >>> import sympy as sp
    >>> import symflow as sf
    >>> p = sf.families.normal()
    >>> mu, sigma = p.params
    >>> x, = p.x
    >>> lr = sf.derive(p, sf.flows.zero(p), wrt=sigma)
    >>> sp.simplify(lr.psi - ((x - mu) ** 2 / sigma**3 - 1 / sigma))
    0
    >>> sf.derive(p, sf.flows.reparam(p), wrt=sigma).psi  # transport holds => no phi term
    0
    """
    u = field_over(p, flow, wrt)
    if q is not None:
        same_variables(p, q)
    outside = _outside_p(p, q)  # q wider than p: where p = 0 the estimator must be 0 (Eq. 19 with p = 0)
    budget = resolve_timeout(timeout)
    flux = flux_jumps(p, u, timeout=budget)
    if flux.status in ("jumps", "undecided"):
        # SymPy differentiates a Piecewise branch by branch: psi would miss div(p u)'s DiracDelta on the surface
        raise FlowError(
            f"the flow for {wrt} changes branch in x, and "
            + (
                f"{flux.detail}: div(p u) holds a DiracDelta there, which no sample hits"
                if flux.status == "jumps"
                else f"symflow could not decide {flux.detail}"
            )
            + "; use a flow that is continuous in x (e.g. sf.flows.reparam(p)), or give the jump as a support edge"
        )
    ratio = _density_ratio(p, q, budget)
    q_expr = q.expr if q is not None else p.expr
    core = transport_residual(p, u, wrt)

    divergence = sum((sp.Derivative(p.expr * ui, xi) for ui, xi in zip(u, p.x, strict=True) if ui != 0), sp.S.Zero)
    steps = [
        Step(
            PSI,
            (divergence + sp.Derivative(p.expr, wrt)) / q_expr,
            "flow estimator: psi = (div(p u) + dp/dtheta_i) / q",
            "19",
        ),
        Step(
            PSI,
            ratio * core,
            "product rule div(p u) = p (div u + u . grad log p) and dp/dtheta = p dlog p/dtheta",
            "50",
        ),
    ]
    transport = _transport_proved(p, flow, core, budget)
    if transport is not None:
        psi = sp.S.Zero
        rule = f"u solves the transport equation div(p u) + dp/dtheta_i = 0{transport}"
        steps.append(Step(PSI, sp.S.Zero, rule, "52"))
    else:
        psi = budgets.simplify(ratio * core, timeout=budget)
        steps.append(Step(PSI, psi, "simplification"))
    v = tuple(budgets.simplify(ratio * ui, timeout=budget) if ratio != 1 else ui for ui in u)
    for i, vi in enumerate(v, start=1):
        steps.append(Step(sp.Symbol(f"v_{i}"), vi, "v = (p/q) u", "19"))
    if outside is not None:
        inside = outside
        psi = sp.Piecewise((psi, inside), (0, True)) if psi != 0 else psi
        v = tuple(sp.Piecewise((vi, inside), (0, True)) if vi != 0 else vi for vi in v)
        rule = "q is positive where p = 0: there p u = 0 and dp/dtheta = 0, so v = psi = 0 (Eq. 19 with p = 0)"
        steps.append(Step(PSI, psi, rule, "19"))
        for i, vi in enumerate(v, start=1):
            steps.append(Step(sp.Symbol(f"v_{i}"), vi, rule, "19"))
    if any(e.has(sp.nan, sp.zoo) for e in (psi, *v)):
        _explain_undefined(p)
    extra = _extra_terms(p, u, wrt, q, phi, jumps, timeout)
    for term in extra:
        steps.extend(term.steps())
    # u = 0 is the estimator users know as the likelihood ratio (score function), not "zero"
    kind = "likelihood-ratio (score function)" if flow.kind == "zero" else flow.kind
    name = f"{kind} estimator" + ("" if q is None else f" under {q.name}")
    return Estimator(p, wrt, v, psi, q, flow=flow, steps=tuple(steps), extra_terms=extra, name=name)


def _outside_p(p: Density, q: Density | None) -> sp.Basic | None:
    r"""The condition "x in p's support" when q's support is wider (None when they are the same).

    Eq. (19) is written for p defined everywhere, 0 off its support: there
    :math:`p u = 0` and :math:`\partial_\theta p = 0`, so v and psi vanish.  p's formula
    does not (lambda e^{-lambda x} grows for x < 0), so the estimator is restricted to
    p's support explicitly; the flux through p's edges is the boundary term of Eq. 47
    (or the moving-boundary term of Eq. 77).  A q that misses part of p's support
    cannot give an unbiased estimator (it never samples there): refused.
    """
    if q is None or q.support_sets == p.support_sets:
        return None
    conditions = []
    for xi, sp_, sq in zip(p.x, p.support_sets, q.support_sets, strict=True):
        if sp_ == sq:
            continue
        covered = sp_.is_subset(sq)
        if covered is False:
            raise EstimatorError(
                f"q's support {sp.sstr(sq)} for {xi} does not cover p's support {sp.sstr(sp_)}: samples from q never "
                "land where only p lives, so no estimator with this q is unbiased; choose a q whose support "
                "contains p's"
            )
        if isinstance(sp_, sp.Interval):
            lo, hi = sp_.inf, sp_.sup
            if not lo.is_infinite:
                conditions.append(xi > lo)
            if not hi.is_infinite:
                conditions.append(xi < hi)
        elif p.is_discrete:
            conditions.append(sp.Contains(xi, sp_))
    return sp.And(*conditions) if conditions else None


def _extra_terms(p, u, wrt, q, phi, jumps, timeout) -> tuple:
    """Jump terms (Eq. 66) for phi's jumps and moving-boundary terms (Eq. 77) for moving edges."""
    from ..calculus.heaviside import jump_levels, jump_set
    from ..core.convert import as_phi
    from .jumps import jump_terms
    from .moving_boundary import moving_boundary_terms

    terms: list = []
    phi_e = as_phi(phi, p.x) if phi is not None else None
    if jumps is not None:
        if not isinstance(jumps, sp.Basic | Sequence) or isinstance(jumps, str | bytes):
            raise EstimatorError(f"jumps must be a level function or a list of them, got {type(jumps).__name__}")
        raw = [jumps] if isinstance(jumps, sp.Basic) else list(jumps)
        levels = list(jump_levels(raw, p.x))  # f = (x - 1) y is two surfaces
    elif phi_e is not None:
        levels = list(jump_set(phi_e, p.x))
    else:
        levels = []
    if levels:
        # every branch of every level gets its term, or jump_terms refuses; with phi known, kinks
        # (|x| has a level at 0 but no jump) are dropped where the jump is shown to be 0
        terms.extend(jump_terms(p, u, wrt, levels, q, phi=phi_e if jumps is None else None, timeout=timeout))
    if p.has_moving_support:
        terms.extend(moving_boundary_terms(p, u, wrt, q, timeout=timeout))
    return tuple(terms)


def _explain_undefined(p: Density) -> None:
    """Raise, naming the cause, when psi or v is nan because p is 0 on part of its stated support.

    log p = -oo where p = 0 => d log p / d theta there is oo - oo (nan): the estimator is
    undefined on that part, though no sample lands there.
    """
    variables = set(p.x)
    jumps_to_zero = any(
        (isinstance(f, sp.Heaviside) and f.args[0].free_symbols & variables)
        or (isinstance(f, sp.Piecewise) and f.free_symbols & variables and any(e == 0 for e, _ in f.args))
        for f in sp.preorder_traversal(p.expr)
    )
    if not jumps_to_zero:
        return
    raise SymflowError(
        f"the density of {p.name} is 0 on part of its stated support ({sp.sstr(p.expr)} on "
        f"{', '.join(map(sp.sstr, p.support_sets))}), so log p is -oo there and psi = d log p/d theta + ... is "
        "nan (oo - oo); state the support where p > 0 instead (support=sympy.Interval(lo, hi) with the "
        "density's formula there, without the Piecewise or Heaviside that makes it 0)"
    )
