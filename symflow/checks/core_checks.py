"""The core checks: transport, normalization, boundary condition, unbiasedness.

Each returns a ``Verdict`` and runs every symbolic step under a time budget
(``timeout=`` in seconds, default the global one).
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import mpmath
import sympy as sp

from ..calculus.integrals import QUAD_DPS, expectation_gradient, numeric_integral, symbolic_integral
from ..core.budget import BudgetExceeded, resolve_timeout, run_with_budget
from ..core.convert import as_expr, as_param_values, as_vector, exact_values, same_name_hint
from ..core.density import Density
from ..core.domain import Domain
from ..core.estimator import Estimator
from ..core.flow import Flow
from ..core.steps import Step
from ..core.verdict import Status, Verdict, Witness
from ..errors import EstimatorError, FlowError
from ..estimators.deriver import transport_residual
from ..zero import decide_zero

__all__ = [
    "check_boundary",
    "check_normalized",
    "check_transport",
    "check_unbiased",
    "check_weights",
    "phi_expr",
]

# Integrals computed at 50 digits must agree to 30 to count as consistent; a
# difference that survives at 30 and 50 digits (10 agreeing digits) refutes.
AGREE_DIGITS = 30


def phi_expr(p: Density, phi: object) -> sp.Expr:
    """Validate a test function phi over p's variables."""
    expr = as_expr(phi, "phi")
    stray = expr.free_symbols - set(p.x)
    if stray:
        raise EstimatorError(
            f"phi uses {', '.join(sorted(map(str, stray)))}, which are not variables "
            f"{tuple(map(str, p.x))}; phi must be a function of x only (substitute numbers for the rest)"
            + same_name_hint(stray, p.x)
        )
    return expr


def _flow_for(p: Density, flow: Flow, wrt: sp.Symbol) -> tuple[sp.Expr, ...]:
    if not isinstance(flow, Flow):
        raise FlowError(f"flow must be a Flow, got {type(flow).__name__}")
    if flow.density != p:
        raise FlowError("the flow was built over a different density; build it from this one")
    return flow.field(p.check_param(wrt))


def check_transport(p: Density, flow: Flow, wrt: sp.Symbol, *, timeout: float | None = None) -> Verdict:
    r"""Does u solve the transport equation :math:`\nabla\cdot(p u) + \partial_{\theta_i} p = 0` (Eq. 52)?

    The residual checked is that equation divided by p (p > 0 on the
    support): :math:`\nabla\cdot u + u\cdot\nabla\log p + \partial_{\theta_i}\log p`.
    When it vanishes the flow estimator needs no phi term (psi = 0).
    """
    u = _flow_for(p, flow, wrt)
    claim = f"transport equation for {flow.kind} flow, d/d{wrt}"
    fast = _structured_transport(p, u, wrt, claim)
    if fast is not None:
        return replace(fast, proof=partial(_transport_proof, p, flow, wrt, fast, timeout))
    residual = transport_residual(p, u, wrt)
    verdict = decide_zero(
        residual, p.domain(), timeout=timeout, claim=f"transport equation for {flow.kind} flow, d/d{wrt}"
    )
    # The step-by-step proof is built only when asked for (proof_of, symflow latex).
    return replace(verdict, proof=partial(_transport_proof, p, flow, wrt, verdict, timeout))


def _structured_transport(p: Density, u: tuple, wrt: sp.Symbol, claim: str) -> Verdict | None:
    """For densities in Gaussian atoms: the residual as a dict polynomial; proved when it is the zero polynomial.

    Anything else (a nonzero polynomial, a leaf without a rule) returns None and
    the SymPy route decides, with its witnesses.
    """
    if not p.is_structured:
        return None
    from ..structured.ops import transport_polynomial

    poly = transport_polynomial(p, u, wrt)
    if poly is None or poly:
        return None
    return Verdict(
        Status.PROVED,
        "structural: the residual, a polynomial in the Gaussian atoms, is the zero polynomial (deterministic)",
        sp.S.Zero,
        claim=claim,
    )


def _transport_proof(p: Density, flow: Flow, wrt: sp.Symbol, verdict: Verdict, timeout: float | None):
    from ..proof.builders import transport_proof

    return transport_proof(p, flow, wrt, verdict, timeout=timeout)


def check_normalized(p: Density, *, timeout: float | None = None) -> Verdict:
    """Is the integral (or sum) of p over its support equal to 1?"""
    claim = f"{p.name} is normalized"
    total = symbolic_integral(p, p.expr, timeout=timeout)
    if total is not None:
        params_only = Domain((), p.domain().parameters, p.constraints)
        verdict = decide_zero(total - 1, params_only, timeout=timeout, claim=claim)
        if verdict.status is Status.PROVED:
            return Verdict(Status.PROVED, f"symbolic integration, then {verdict.method}", total - 1, claim=claim)
        if verdict.status is Status.REFUTED:
            return Verdict(
                Status.REFUTED,
                f"symbolic integration, then {verdict.method}",
                total - 1,
                verdict.witness,
                claim=claim,
                details=(("integral", total),),
            )
    return _numeric_normalization(p, timeout, claim)


def _numeric_normalization(p: Density, timeout: float | None, claim: str) -> Verdict:
    from ..zero.numeric import sample_points

    pts = sample_points(Domain((), p.domain().parameters, p.constraints), set(p.params), draws=3)
    if not pts:
        pts = [{}]
    agreed = 0
    for pt in pts[:3]:
        values = {k: sp.Float(v, QUAD_DPS) for k, v in pt.items()}
        hi = numeric_integral(p, p.expr, values, dps=QUAD_DPS, timeout=timeout)
        if hi is None:
            return Verdict(
                Status.UNKNOWN,
                "quadrature",
                p.expr,
                claim=claim,
                reason="SymPy could not integrate and quadrature failed or ran out of budget",
            )
        if abs(hi - 1) <= mpmath.mpf(10) ** (-AGREE_DIGITS):
            agreed += 1
            continue
        lo = numeric_integral(p, p.expr, values, dps=30, timeout=timeout)
        if lo is not None and abs(lo - hi) <= mpmath.mpf("1e-10") * abs(hi - 1):
            return Verdict(
                Status.REFUTED,
                "mpmath quadrature at 30 and 50 digits",
                p.expr,
                Witness(tuple(pt.items()), hi, lo),
                claim=claim,
                details=(("integral", hi),),
            )
        return Verdict(
            Status.UNKNOWN,
            "quadrature",
            p.expr,
            claim=claim,
            reason=f"the integral {mpmath.nstr(hi, 15)} is neither clearly 1 nor clearly not",
        )
    return Verdict(
        Status.CONSISTENT,
        f"mpmath quadrature at {QUAD_DPS} digits equals 1 to {AGREE_DIGITS} digits at {agreed} "
        "parameter point(s); not a proof",
        p.expr,
        claim=claim,
    )


def check_boundary(p: Density, flow: Flow, wrt: sp.Symbol, phi: object, *, timeout: float | None = None) -> Verdict:
    r"""Does :math:`p\,u\,\phi \to 0` at the edges of the support (condition under Eq. 47, footnote 4)?

    Each component p u_j phi is taken to the lower and upper edge of
    coordinate j's support (other coordinates held symbolic).  All limits 0:
    proved.  A nonzero limit: refuted, with the edge as witness.
    """
    u = _flow_for(p, flow, wrt)
    phi = phi_expr(p, phi)
    budget = resolve_timeout(timeout)
    claim = f"boundary term p u phi vanishes at the support's edges ({flow.kind} flow, d/d{wrt})"
    found = []
    consistent: list[str] = []
    for j, (xj, s) in enumerate(zip(p.x, p.support_sets, strict=True)):
        flux = p.expr * u[j] * phi
        if flux == 0:
            continue
        for edge, direction in ((s.inf, "+"), (s.sup, "-")):
            try:
                lim = run_with_budget(sp.limit, flux, xj, edge, direction, timeout=budget, what="limit")
            except BudgetExceeded as exc:
                return Verdict(Status.UNKNOWN, "symbolic limits", flux, claim=claim, reason=str(exc))
            except Exception as exc:  # noqa: BLE001 - SymPy raises many kinds on hard limits
                return Verdict(
                    Status.UNKNOWN,
                    "symbolic limits",
                    flux,
                    claim=claim,
                    reason=f"limit at {xj} -> {edge} failed: {type(exc).__name__}",
                )
            found.append((xj, edge, lim))
            if lim.has(sp.Limit):
                return Verdict(
                    Status.UNKNOWN,
                    "symbolic limits",
                    flux,
                    claim=claim,
                    reason=f"SymPy left the limit at {xj} -> {edge} unevaluated",
                )
            if lim == 0:
                continue
            if lim.has(sp.oo, sp.S.NegativeInfinity, sp.zoo, sp.AccumBounds) and not lim.free_symbols:
                # An infinite or oscillating limit (p u phi -> oo, or AccumBounds(-1, 1)) is not 0.
                witness = Witness(((xj, edge),), lim, lim)
                return Verdict(
                    Status.REFUTED,
                    "symbolic limit at the edge (infinite or not existing)",
                    flux,
                    witness,
                    claim=claim,
                    details=(("boundary term", lim),),
                )
            verdict = decide_zero(lim, p.domain(), timeout=timeout)
            if verdict.status is Status.PROVED:
                continue
            if verdict.status is Status.CONSISTENT:
                # Zero to 40 digits, but only numerically: the whole check is then no proof.
                consistent.append(f"{xj} -> {edge}: {verdict.method}")
                continue
            if verdict.status is Status.UNKNOWN:
                return Verdict(
                    Status.UNKNOWN,
                    "symbolic limits",
                    flux,
                    claim=claim,
                    reason=f"is the limit {sp.sstr(lim)} at {xj} -> {edge} zero? {verdict.reason}",
                    details=(("boundary term", lim),),
                )
            w = verdict.witness
            return Verdict(
                Status.REFUTED,
                "symbolic limit at the edge",
                flux,
                Witness(((xj, edge), *w.point), w.value, w.value_low, w.digits),
                claim=claim,
                details=(("boundary term", lim),),
            )
    details = tuple((f"{x} -> {e}", lim) for x, e, lim in found)
    if consistent:
        return Verdict(
            Status.CONSISTENT,
            "symbolic limits; nonzero-looking ones vanish numerically: " + "; ".join(consistent),
            sp.S.Zero,
            claim=claim,
            details=details,
        )
    return Verdict(
        Status.PROVED,
        "symbolic limits at every edge are 0",
        sp.S.Zero,
        claim=claim,
        details=details,
    )


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
        problem = _normalization_problem(est, params, timeout)
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


def _normalization_problem(est: Estimator, params: dict | None, timeout: float | None) -> str | None:
    """'p is not normalized (...)' when p's or q's integral is refuted to be 1, else None."""
    dens = [est.density] if est.q is None or est.q == est.density else [est.density, est.q]
    for d in dens:
        if params is None:
            v = _normalized_cached(d, resolve_timeout(timeout))
            if v.status is Status.REFUTED:
                total = v.detail("integral")
                told = f" (its integral is {sp.sstr(total)})" if total is not None else ""
                return f"{d.name} is not normalized{told}"
            continue
        values = exact_values(as_param_values({k: v for k, v in params.items() if k in d.params}, d.params))
        total = numeric_integral(d, d.expr, values, dps=QUAD_DPS, timeout=timeout)
        if total is not None and abs(total - 1) > mpmath.mpf(10) ** (-AGREE_DIGITS):
            return f"{d.name} is not normalized (its integral is {mpmath.nstr(total, 15)} at these parameters)"
    return None


_NORMALIZED: dict = {}


def _normalized_cached(p: Density, budget: float) -> Verdict:
    key = (p, budget)
    if key not in _NORMALIZED:
        _NORMALIZED[key] = check_normalized(p, timeout=budget)
    return _NORMALIZED[key]


def _diagnosis(est: Estimator, phi: object, params: dict | None, timeout: float | None) -> tuple[str, ...]:
    """What a biased (or undecided) estimator misses, when a cheap check can tell."""
    notes = []
    p = est.density
    phi_e = phi_expr(p, phi)
    if p.has_moving_support and not any(getattr(t, "kind", "") == "moving boundary" for t in est.extra_terms):
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
    problem = _normalization_problem(est, params, timeout)
    if problem is not None:
        notes.append(problem)
    return tuple(notes)


def _check_unbiased(est: Estimator, phi: object, params: dict | None, timeout: float | None) -> Verdict:
    if not isinstance(est, Estimator):
        raise EstimatorError(f"est must be an Estimator, got {type(est).__name__}")
    p, q = est.density, est.sampling
    phi = phi_expr(p, phi)
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
    lhs = _numeric_side(est, q, integrand, phi, values, QUAD_DPS, timeout)
    if lhs is None:
        return Verdict(
            Status.UNKNOWN,
            "quadrature",
            integrand,
            claim=claim,
            reason="the estimator's expectation could not be integrated within the budget",
        )
    rhs_m = mpmath.mpmathify(rhs)
    diff = lhs - rhs_m
    scale = max(mpmath.mpf(1), abs(rhs_m))
    details = (("estimator expectation", lhs), ("exact gradient", rhs_m), ("exact by", how))
    if abs(diff) <= mpmath.mpf(10) ** (-AGREE_DIGITS) * scale:
        return Verdict(
            Status.CONSISTENT,
            f"mpmath quadrature at {QUAD_DPS} digits agrees with the exact "
            f"gradient ({how}) to {AGREE_DIGITS} digits at the given parameters; not a proof",
            diff,
            claim=claim,
            details=details,
        )
    lhs_lo = _numeric_side(est, q, integrand, phi, values, 30, timeout)
    if lhs_lo is not None and abs((lhs_lo - rhs_m) - diff) <= mpmath.mpf("1e-10") * abs(diff):
        witness = Witness(tuple(values.items()), diff, lhs_lo - rhs_m)
        return Verdict(
            Status.REFUTED,
            "mpmath quadrature at 30 and 50 digits",
            diff,
            witness,
            claim=claim,
            details=details,
        )
    return Verdict(
        Status.UNKNOWN,
        "quadrature",
        diff,
        claim=claim,
        details=details,
        reason=f"bias {mpmath.nstr(diff, 10)} is neither clearly 0 nor clearly nonzero",
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
    from ..zero.numeric import kink_expressions

    kinks = []
    for k in kink_expressions(integrand.xreplace(values)):
        if len(k.free_symbols) == 1:
            try:
                kinks.extend(float(r) for r in sp.Poly(k, *k.free_symbols).nroots() if r.is_real)
            except Exception:  # noqa: BLE001 - breakpoints are only a hint
                pass
    main = numeric_integral(q, integrand, values, dps=dps, timeout=timeout, kinks=tuple(kinks))
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


def check_weights(
    est: Estimator,
    psi: object = None,
    v: object = None,
    *,
    equation: str | None = None,
    timeout: float | None = None,
) -> Verdict:
    """Does the estimator's psi (and/or v) equal a closed form typed in by hand?

    For checking a derivation against a paper: ``check_weights(lr, psi=(x - mu)/sigma**2,
    equation="21")``.  The verdict's proof is the estimator's own derivation with
    one more step, ``psi = <closed form>``, checked like the others.
    """
    if not isinstance(est, Estimator):
        raise EstimatorError(f"est must be an Estimator, got {type(est).__name__}")
    if psi is None and v is None:
        raise EstimatorError("give psi= and/or v= to compare with")
    allowed = set(est.x) | set(est.params)
    wanted: list[tuple[sp.Symbol, sp.Expr, sp.Expr]] = []
    if psi is not None:
        wanted.append((sp.Symbol("psi"), est.psi, as_expr(psi, "psi")))
    if v is not None:
        vs = as_vector(v, "v")
        if len(vs) != est.density.dim:
            raise EstimatorError(f"v has {len(vs)} component(s); give one per variable ({est.density.dim})")
        wanted.extend(
            (sp.Symbol(f"v_{i}"), got, as_expr(w, "v"))
            for i, (got, w) in enumerate(zip(est.v, vs, strict=True), start=1)
        )
    for _, _, want in wanted:
        stray = want.free_symbols - allowed
        if stray:
            raise EstimatorError(f"the closed form uses {', '.join(sorted(map(str, stray)))}, unknown to the estimator")
    domain = est.density.domain().extended(set(est.params))
    parts = {
        str(name): decide_zero(got - want, domain, timeout=timeout, claim=f"{name} equals the closed form")
        for name, got, want in wanted
    }
    from ..core.verdict import weakest

    verdict = weakest(parts, f"{est.name or 'estimator'} matches the closed form", noun="weights", label="{}")
    extra = tuple(Step(name, want, "the closed form typed in by hand", equation) for name, _, want in wanted)
    return replace(verdict, proof=partial(_weights_proof, est, extra, timeout))


def _weights_proof(est: Estimator, extra: tuple, timeout: float | None):
    from ..proof.builders import estimator_proof

    return estimator_proof(replace(est, steps=est.steps + extra), timeout=timeout)
