r"""``check_unbiased``: is an estimator's expectation the exact gradient d/dtheta_i E_p[phi] (Eq. 4, 19)?"""

from __future__ import annotations

from dataclasses import replace

import mpmath
import sympy as sp

from ..calculus.integrals import expectation_gradient, symbolic_integral
from ..calculus.quadrature import numeric_integral
from ..core.budget import BudgetExceeded, bounded, resolve_timeout, run_with_budget
from ..core.convert import as_param_values, as_phi, exact_values
from ..core.domain import Domain
from ..core.estimator import Estimator, TermKind
from ..core.precision import QUADRATURE, decide
from ..core.verdict import Status, Verdict, Witness
from ..errors import EstimatorError
from ..zero import decide_zero
from .boundary import check_boundary
from .normalization import AGREE_DIGITS, normalization_problem

__all__ = ["check_unbiased"]


@bounded
def check_unbiased(est: Estimator, phi: object, params: dict | None = None, *, timeout: float | None = None) -> Verdict:
    r"""Is :math:`\int q\,(v\cdot\nabla\phi + \psi\phi)\,dx = \frac{d}{d\theta_i}\int p\,\phi\,dx`?

    Without ``params``: symbolically, for all parameter values (proved /
    refuted / unknown).  With ``params``: at those values, by symbolic
    integration or mpmath quadrature at 50 digits (consistent when the two
    agree to 30 digits; quadrature is not a proof).

    Both sides are integrals against p and q as given, so they can agree
    when p or q is not normalized; a passing verdict therefore also needs
    p and q to integrate to 1 (else: unknown, naming the normalization).  A
    failing verdict names what the estimator misses when that can be found:
    a boundary term p u phi that does not vanish at the support's edges
    (Eq. 47-48), or a support that moves with theta without its
    moving-boundary term (Eq. 77).
    """
    verdict = _check_unbiased(est, phi, params, timeout)
    if verdict.status in (Status.PROVED, Status.CONSISTENT):
        problem = normalization_problem(est, params, timeout)
        if problem is None:
            return verdict
        return Verdict(
            Status.UNKNOWN,
            verdict.method,
            verdict.residual,
            reason=f"both sides agree, but {problem}: they are not expectations, and sampling from "
            "the normalized density would give another mean; normalize it",
            claim=verdict.claim,
            details=(*verdict.details, ("normalization", problem)),
        )
    notes = _diagnosis(est, phi, params, timeout)
    if not notes:
        return verdict
    reason = "; ".join(notes) if verdict.status is Status.REFUTED else "; ".join((verdict.reason, *notes))
    return replace(verdict, reason=reason, details=(*verdict.details, *(("diagnosis", n) for n in notes)))


def _diagnosis(est: Estimator, phi: object, params: dict | None, timeout: float | None) -> tuple[str, ...]:
    """What a biased (or undecided) estimator misses, when a cheap check can tell."""
    notes = []
    p = est.density
    phi_e = as_phi(phi, p.x)
    if p.has_moving_support and not any(t.kind is TermKind.MOVING_BOUNDARY for t in est.extra_terms):
        notes.append(
            "the support's edges move with the parameter but the estimator has no moving-boundary term (Eq. 77)"
        )
    if est.flow is not None and est.q is None and not p.has_moving_support:
        try:
            b = check_boundary(p, est.flow, est.wrt, phi_e, timeout=timeout)
        except Exception:  # noqa: BLE001 - a diagnosis is a hint; its failure changes nothing
            b = None
        if b is not None and b.status is Status.REFUTED:
            notes.append(
                f"the boundary term p u phi does not vanish at the support's edges (Eq. 47-48): "
                f"{sp.sstr(b.detail('boundary term'))} at {b.witness.point[0][0]} -> {b.witness.point[0][1]}"
            )
    problem = normalization_problem(est, params, timeout)
    if problem is not None:
        notes.append(problem)
    return tuple(notes)


def _check_unbiased(est: Estimator, phi: object, params: dict | None, timeout: float | None) -> Verdict:
    if not isinstance(est, Estimator):
        raise EstimatorError(f"est must be an Estimator, got {type(est).__name__}")
    p, q = est.density, est.sampling
    phi = as_phi(phi, p.x)
    claim = f"{est.name or 'estimator'} is unbiased for d/d{est.wrt} E[{sp.sstr(phi)}]"
    if params is None:
        integrand = _weighted_integrand(est, phi, timeout)
        extra_sym = [t.symbolic_expectation(phi) for t in est.extra_terms]
        lhs = symbolic_integral(q, integrand, timeout=timeout)
        rhs, how = expectation_gradient(p, phi, est.wrt, timeout=timeout)
        if lhs is None or rhs is None or any(e is None for e in extra_sym):
            return Verdict(
                Status.UNKNOWN,
                "symbolic integration",
                integrand,
                claim=claim,
                reason="SymPy could not do the integrals within the budget; pass params= for quadrature",
            )
        residual = lhs + sum(extra_sym, sp.S.Zero) - rhs
        params_domain = Domain(
            (),
            p.domain().parameters + (q.domain().parameters if q is not p else ()),
            p.constraints + q.constraints,
        )
        verdict = decide_zero(residual, params_domain, timeout=timeout, claim=claim)
        return Verdict(
            verdict.status,
            f"symbolic integration, then {verdict.method}",
            residual,
            verdict.witness,
            verdict.reason,
            claim,
        )
    values = exact_values(as_param_values(params, est.params))
    integrand = _weighted_integrand(est, phi, timeout, expand=False)
    rhs, how = expectation_gradient(p, phi, est.wrt, values, timeout=timeout)
    if rhs is None:
        return Verdict(Status.UNKNOWN, "quadrature", integrand, claim=claim, reason=f"exact gradient: {how}")
    lhs = _numeric_side(est, q, integrand, phi, values, QUADRATURE.high, timeout)
    if lhs is None:
        return Verdict(
            Status.UNKNOWN,
            "quadrature",
            integrand,
            claim=claim,
            reason="the estimator's expectation could not be integrated within the budget",
        )
    rhs_m = mpmath.mpmathify(rhs)
    details = (("estimator expectation", lhs), ("exact gradient", rhs_m), ("exact by", how))

    def bias(dps: int):
        side = lhs if dps == QUADRATURE.high else _numeric_side(est, q, integrand, phi, values, dps, timeout)
        return None if side is None else side - rhs_m

    decision = decide(bias, QUADRATURE, scale=abs(rhs_m))
    if decision.zero:
        return Verdict(
            Status.CONSISTENT,
            f"mpmath quadrature at {QUADRATURE.high} digits agrees with the exact "
            f"gradient ({how}) to {AGREE_DIGITS} digits at the given parameters; not a proof",
            decision.high,
            claim=claim,
            details=details,
        )
    if decision.nonzero:
        witness = Witness(tuple(values.items()), decision.high, decision.low, QUADRATURE.digits)
        return Verdict(
            Status.REFUTED,
            f"mpmath quadrature at {QUADRATURE.low} and {QUADRATURE.high} digits",
            decision.high,
            witness,
            claim=claim,
            details=details,
        )
    return Verdict(
        Status.UNKNOWN,
        "quadrature",
        decision.high,
        claim=claim,
        details=details,
        reason=f"bias {mpmath.nstr(decision.high, 10)} is neither clearly 0 nor clearly nonzero",
    )


def _weighted_integrand(est: Estimator, phi: sp.Expr, timeout: float | None, expand: bool = True) -> sp.Expr:
    """q (v . grad phi + psi phi), with q cancelled against p/q where it can be.

    Expanded for symbolic integration (term by term); left unexpanded for
    quadrature, where fewer, larger terms evaluate faster.
    """
    raw = est.sampling.expr * est.single_sample(phi)
    try:
        return run_with_budget(
            lambda e: sp.powsimp(sp.expand(e) if expand else e, force=True),
            raw,
            timeout=resolve_timeout(timeout),
            what="integrand",
        )
    except BudgetExceeded:
        return raw


def _numeric_side(est, q, integrand, phi, values, dps, timeout):
    """The estimator's expectation at ``values``: quadrature of the main part plus each extra term's."""
    main = numeric_integral(q, integrand, values, dps=dps, timeout=timeout)
    if main is None:
        return None
    with mpmath.workdps(dps):  # summing at the default 15 digits would round the parts
        total = mpmath.mpmathify(main)
        for term in est.extra_terms:
            val = term.numeric_expectation(phi, values, dps=dps)
            if val is None:
                return None
            total += val
    return total
