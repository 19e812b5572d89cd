r"""``check_unbiased``: is an estimator's expectation the exact gradient d/dtheta_i E_p[phi] (Eq. 4, 19)?"""

from __future__ import annotations

from dataclasses import replace

import mpmath
import sympy as sp

from ..calculus.crosscheck import cross_examine
from ..calculus.integrals import (
    CheckedIntegral,
    checked_integral,
    confirm_gradient,
    expectation_gradient,
    gaussian_moment_integral,
)
from ..calculus.quadrature import confirm_integral, integral_precision, numeric_integral
from ..core import budget as budgets
from ..core.budget import BudgetExceeded, bounded, resolve_timeout, run_with_budget
from ..core.convert import as_param_values, as_phi, exact_values
from ..core.domain import Domain
from ..core.estimator import Estimator, TermKind
from ..core.precision import CROSS_CHECK, CUBATURE, decide, input_resolution
from ..core.verdict import Status, Verdict, Witness
from ..errors import EstimatorError
from ..zero import decide_zero
from ..zero.points import exact_point, sample_points
from .boundary import check_boundary
from .normalization import normalization_problem, normalization_status
from .records import over_support, unbiased_record

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
    p and q to integrate to 1 (else: unknown, naming the normalization), and
    it is no stronger than that: consistent when the normalization rests on
    quadrature, unknown when it is not decided.  A
    failing verdict names what the estimator misses when that can be found:
    a boundary term p u phi that does not vanish at the support's edges
    (Eq. 47-48), or a support that moves with theta without its
    moving-boundary term (Eq. 77).
    """
    verdict = _check_unbiased(est, phi, params, timeout)
    if verdict.status in (Status.PROVED, Status.CONSISTENT):
        status, problem = normalization_status(est, params, timeout)
        if problem is None:
            return verdict
        if status in (Status.REFUTED, Status.UNKNOWN):
            # both sides agree as integrals; they are expectations only if p (and q) integrate to 1 (a normalization
            # check that ran out of budget under load let an unnormalized density's LR be proved)
            why = (
                "they are not expectations, and sampling from the normalized density would give another mean; "
                "normalize it"
                if status is Status.REFUTED
                else "the agreement is of integrals, not expectations"
            )
            return Verdict(
                Status.UNKNOWN,
                verdict.method,
                verdict.residual,
                reason=f"both sides agree, but {problem}: {why}",
                claim=verdict.claim,
                details=(*verdict.details, ("normalization", problem)),
            )
        if verdict.status is Status.PROVED:  # normalized by numbers only: the whole claim is as strong as that
            return replace(
                verdict,
                status=Status.CONSISTENT,
                method=f"{verdict.method}; {problem}",
                details=(*verdict.details, ("normalization", problem)),
            )
        return verdict
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
    if not any(t.kind is TermKind.MOVING_BOUNDARY for t in est.extra_terms):
        unmatched = _edges_left_behind(est, timeout)
        if unmatched:
            notes.append(
                f"the support's edge {', '.join(unmatched)} moves with {est.wrt} but the flow does not move with it "
                "(u at the edge is not d edge/d" + str(est.wrt) + ", Eq. 76-77) and the estimator has no "
                "moving-boundary term"
            )
    if est.flow is not None and est.q is None and not p.moves_with(est.wrt):
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


def _edges_left_behind(est: Estimator, budget: float | None = None) -> tuple[str, ...]:
    """The finite edges that move with wrt where u = v q / p is not shown to move with them (Eq. 76-77).

    A flow with u = d edge/dtheta at the edge carries the mass along with the edge
    (the implicit flow of Pareto in m): no moving-boundary term is needed there.
    """
    p, wrt = est.density, est.wrt
    budget = resolve_timeout(budget)
    out = []
    for xj, s, vj in zip(p.x, p.support_sets, est.v, strict=True):
        for edge, direction in ((s.inf, "+"), (s.sup, "-")):
            if edge.is_infinite or wrt not in edge.free_symbols:
                continue
            uj = vj * est.sampling.expr / p.expr
            gap = uj - sp.diff(edge, wrt)
            try:
                at_edge = budgets.simplify(gap.xreplace({xj: edge}), timeout=budget)
                if at_edge.has(sp.nan, sp.zoo):
                    at_edge = budgets.limit(gap, xj, edge, direction, timeout=budget)
                moves = budgets.simplify(at_edge, timeout=budget) == 0
            except Exception:  # noqa: BLE001 - a diagnosis is a hint: not shown to move with the edge
                moves = False
            if not moves:
                out.append(f"{xj} = {sp.sstr(edge)}")
    return tuple(out)


def _precision(est: Estimator):
    """The precision both sides are decided with: 2-D quadrature is float64 cubature."""
    worst = [integral_precision(d) for d in (est.density, est.sampling)]
    return CUBATURE if CUBATURE in worst else worst[0]


def _unknown(claim: str, residual, reason: str, details: tuple = ()) -> Verdict:
    return Verdict(Status.UNKNOWN, "symbolic integration", residual, claim=claim, reason=reason, details=details)


def _check_unbiased(est: Estimator, phi: object, params: dict | None, timeout: float | None) -> Verdict:
    if not isinstance(est, Estimator):
        raise EstimatorError(f"est must be an Estimator, got {type(est).__name__}")
    p = est.density
    phi = as_phi(phi, p.x)
    claim = f"{est.name or 'estimator'} is unbiased for d/d{est.wrt} E[{sp.sstr(phi)}]"
    if params is None:
        return _symbolic(est, phi, claim, timeout)
    values = exact_values(as_param_values(params, est.params))
    return _at_values(est, phi, values, claim, timeout)


def _params_domain(est: Estimator) -> Domain:
    p, q = est.density, est.sampling
    return Domain(
        (),
        p.domain().parameters + (q.domain().parameters if q is not p else ()),
        p.constraints + q.constraints,
    )


def _symbolic(est: Estimator, phi: sp.Expr, claim: str, timeout: float | None) -> Verdict:
    """Both sides by SymPy, each cross-examined numerically (class 1 of issue 12), then decide_zero."""
    p, q = est.density, est.sampling  # integrals over q (the estimator's side) and p (the gradient)
    params_domain = _params_domain(est)
    factor = est.single_sample(phi)
    # A Gaussian q: E_q[estimator] exactly by moments, before (and instead of) SymPy's integrate.
    exact, exact_how = gaussian_moment_integral(q, factor, resolve_timeout(timeout))
    if exact is not None:
        integrand = q.expr * factor
        lhs_checked = CheckedIntegral(exact, exact, None, how=exact_how)
    else:
        integrand = _weighted_integrand(est, phi, timeout)
        lhs_checked = checked_integral(q, integrand, timeout=timeout, domain=params_domain)
    rhs, how = expectation_gradient(p, phi, est.wrt, timeout=timeout)
    if lhs_checked.disagreed:
        point, sym, num = lhs_checked.check.comparisons[-1]
        return _unknown(
            claim,
            integrand,
            lhs_checked.reason("integral of the estimator"),
            (("SymPy's value", sym), ("quadrature", num)),
        )
    if rhs is None and "SymPy could not" not in how:
        return _unknown(claim, integrand, f"exact gradient: {how}")
    extra_sym = []
    for t in est.extra_terms:
        e = t.symbolic_expectation(phi)
        if e is not None:
            check = cross_examine(
                e,
                lambda pt, dps, t=t: t.numeric_expectation(phi, pt, dps),
                params_domain,
                symbols=set(est.params),
                precision=CROSS_CHECK,
            )
            if check.disagreed:
                return _unknown(claim, integrand, check.describe(f"expectation of the {t.kind} term"))
            if not check.agreed:
                e = None
        extra_sym.append(e)
    lhs = lhs_checked.value
    if lhs is None or rhs is None or any(e is None for e in extra_sym):
        return _unknown(
            claim,
            integrand,
            "SymPy could not do the integrals (cross-examined) within the budget; pass params= for quadrature",
        )
    residual = lhs + sum(extra_sym, sp.S.Zero) - rhs
    verdict = decide_zero(residual, params_domain, timeout=timeout, claim=claim)
    if lhs_checked.check is None:  # both sides exact by Gaussian moments (no SymPy integral to cross-examine)
        method = f"both sides exact by Gaussian moments (Isserlis/Stein, completing the square), then {verdict.method}"
    else:
        method = f"symbolic integration (cross-examined by quadrature), then {verdict.method}"
    if verdict.status is Status.REFUTED:
        # The witness is a parameter point: quadrature there must find the bias too (class 2).
        confirmed = _confirm_refutation(est, phi, verdict.witness.as_dict(), claim, timeout)
        if confirmed is not None:
            return confirmed
    # The proof: both sides as integrals, their values, and the bias with both written out.
    sides = (
        over_support(q, q.expr * est.single_sample(phi)),
        sp.Derivative(over_support(p, p.expr * phi), est.wrt),
    )
    return Verdict(
        verdict.status,
        method,
        residual,
        verdict.witness,
        verdict.reason,
        claim,
        proof=unbiased_record(
            *sides, lhs, rhs, extra_sym, claim, params_domain, by=None if lhs_checked.check else "Gaussian moments"
        ),
    )


def _confirm_refutation(est: Estimator, phi: sp.Expr, witness: dict, claim: str, timeout: float | None):
    """None when quadrature at the witness's parameters also finds a bias; else an unknown verdict saying so."""
    point = {k: v for k, v in witness.items() if k in est.params}
    missing = set(est.params) - set(point)
    if missing:  # the residual does not involve them: any value in their domain will do
        for pt in sample_points(_params_domain(est), set(est.params), draws=3):
            if all(k in pt for k in missing):
                point.update({k: pt[k] for k in missing})
                break
    point = exact_point(point)
    if set(est.params) - set(point):
        return None
    again = _at_values(est, phi, point, claim, timeout)
    if again.status is Status.REFUTED:
        return None
    return Verdict(
        Status.UNKNOWN,
        "symbolic integration, then decide_zero; quadrature at the witness",
        again.residual,
        claim=claim,
        reason=f"the symbolic bias is nonzero at {', '.join(f'{k} = {v}' for k, v in point.items())}, but "
        f"quadrature there says {again.status.value} ({again.method}; {again.reason})",
    )


def _at_values(est: Estimator, phi: sp.Expr, values: dict, claim: str, timeout: float | None) -> Verdict:
    """Both sides by quadrature at the parameter ``values`` (the exact gradient symbolic when cross-examined)."""
    q = est.sampling
    precision = _precision(est)
    integrand = _weighted_integrand(est, phi, timeout, expand=False)
    rhs, how = expectation_gradient(est.density, phi, est.wrt, values, timeout=timeout)
    if rhs is None:
        return Verdict(Status.UNKNOWN, "quadrature", integrand, claim=claim, reason=f"exact gradient: {how}")
    lhs = _numeric_side(est, q, integrand, phi, values, precision.high, timeout)
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
        side = lhs if dps == precision.high else _numeric_side(est, q, integrand, phi, values, dps, timeout)
        return None if side is None else side - rhs_m

    resolution = input_resolution(integrand, phi, est.density.expr, *est.v, est.psi)
    decision = decide(bias, precision, scale=abs(rhs_m), resolution=resolution)
    if decision.zero:
        return Verdict(
            Status.CONSISTENT,
            f"quadrature at {precision.high} digits agrees with the exact "
            f"gradient ({how}) to {precision.zero_digits} digits at the given parameters; not a proof",
            decision.high,
            claim=claim,
            details=details,
        )
    if decision.nonzero:
        main = _main_part(q, integrand, values, precision.high, timeout)
        conf = confirm_integral(q, integrand, values, main, decision.high, timeout=timeout)
        if conf.confirmed and how.startswith(("mpmath quadrature", "float64 cubature")):
            # the exact gradient is a quadrature too => it needs the same independent confirmation
            conf = _confirm_gradient(est, phi, values, decision.high, precision.high, timeout)
        if not conf.confirmed:
            return Verdict(
                Status.UNKNOWN,
                "quadrature",
                decision.high,
                claim=claim,
                details=details,
                reason=f"bias {mpmath.nstr(decision.high, 10)} by quadrature, but an independent route does not "
                f"confirm the estimator's expectation: {conf.reason}",
            )
        witness = Witness(tuple(values.items()), decision.high, decision.low, precision.digits)
        return Verdict(
            Status.REFUTED,
            f"quadrature at {precision.low} and {precision.high} digits, confirmed by evalf of the integrand "
            "and other nodes",
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


def _confirm_gradient(est: Estimator, phi: sp.Expr, values: dict, gap, dps: int, timeout: float | None):
    """Confirm the quadrature part of the exact gradient before it refutes (``confirm_gradient``)."""
    return confirm_gradient(est.density, phi, est.wrt, values, gap, dps=dps, timeout=timeout)


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


def _main_part(q, integrand, values, dps, timeout):
    return numeric_integral(q, integrand, values, dps=dps, timeout=timeout)


def _numeric_side(est, q, integrand, phi, values, dps, timeout):
    """The estimator's expectation at ``values``: quadrature of the main part plus each extra term's."""
    main = _main_part(q, integrand, values, dps, timeout)
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
