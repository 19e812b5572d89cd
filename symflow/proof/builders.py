r"""Proofs of estimators and of claims.

``estimator_proof(est)`` turns the steps ``derive`` recorded into a checked
``Proof``.  An estimator typed in by hand (no steps) gets the proof of
Theorem 4 instead: its weight v fixes the flow u = v q / p, which fixes the
only unbiased weight on phi,

.. math::
    \psi^\star = \frac{1}{q}\left(\nabla\cdot(p u) + \partial_{\theta_i} p\right)
    \qquad\text{(Eq. 50)},

and the last step checks the estimator's psi against it (refuted when it
is biased).

``proof_of(result)`` gives every claim a proof: the verdict's own proof
when the check recorded one, otherwise one built from the verdict -- the
residual that had to vanish and how ``decide_zero`` decided it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp

from ..core.verdict import Status, Verdict
from .checking import check_steps
from .proof import Basis, Proof, ProofStep

__all__ = ["claims_document", "estimator_proof", "proof_of", "transport_proof"]

PSI = sp.Symbol("psi")
RESIDUAL = sp.Symbol("R")

_ASSUMPTIONS_EQ50 = (
    "the boundary term of the divergence theorem vanishes: p u phi -> 0 at the edge of the support (Eq. 47)",
    "differentiation under the integral sign is allowed (p is smooth in theta; Eq. 49)",
)


def _domain(est: Any):
    domain = est.density.domain()
    extra = set(est.q.params) if est.q is not None else set()
    return domain.extended(extra)


def _unbiased_weight_steps(est: Any) -> list[ProofStep]:
    """Theorem 4 for an estimator without recorded steps: psi must equal (div(p u) + dp/dtheta) / q."""
    p = est.density
    q_expr = est.q.expr if est.q is not None else p.expr
    if est.flow is not None:
        u = est.flow.field(est.wrt)
        flow_rule, flow_eq = f"the {est.flow.kind} flow the estimator was built from", "19"
    else:
        u = tuple(sp.Mul(vi, q_expr, 1 / p.expr) for vi in est.v)
        flow_rule, flow_eq = "the flow that reproduces the weight v: u = v q / p (Theorem 4)", None
    steps: list[ProofStep] = []
    for i, ui in enumerate(u, start=1):
        steps.append(ProofStep(sp.Symbol(f"u_{i}"), ui, flow_rule, flow_eq, basis=Basis.DEFINITION))
    divergence = sum((sp.Derivative(p.expr * ui, xi) for ui, xi in zip(u, p.x, strict=True)), sp.S.Zero)
    steps.append(
        ProofStep(
            PSI,
            (divergence + sp.Derivative(p.expr, est.wrt)) / q_expr,
            "the unique unbiased weight on phi for this flow (Theorem 4)",
            "50",
            basis=Basis.DEFINITION,
        )
    )
    steps.append(ProofStep(PSI, est.psi, "the estimator's weight on phi", basis=Basis.PREVIOUS))
    return steps


def estimator_proof(est: Any, *, timeout: float | None = None, title: str | None = None) -> Proof:
    r"""The derivation of ``est`` as a machine-checked ``Proof``.

    For an estimator from ``derive`` the steps are the recorded ones: the
    flow estimator (Eq. 19), the log route (Eq. 50), the transport equation
    or the simplified psi (Eq. 52), and v = (p/q) u.  When q differs from p,
    each v_i is first defined as (p/q) u_i so the simplified form is checked.

    Parameters
    ----------
    est : Estimator
    timeout : float, optional
        Budget in seconds for each symbolic strategy of each check.
    title : str, optional
        Default: the estimator's name and parameter.
    """
    p = est.density
    steps: list[Any] = []
    if est.steps:
        defined: set[sp.Symbol] = set()
        for s in est.steps:
            if est.q is not None and est.flow is not None and s.lhs not in defined and s.lhs != PSI:
                # v_i = (p/q) u_i, written out, so the simplified ratio in the recorded step is checked.
                name = str(s.lhs)
                if name.startswith("v_") and name[2:].isdigit():
                    u_i = est.flow.field(est.wrt)[int(name[2:]) - 1]
                    steps.append(
                        ProofStep(
                            s.lhs,
                            sp.Mul(p.expr, 1 / est.q.expr, u_i, evaluate=False),
                            "v = (p/q) u",
                            "19",
                            basis=Basis.DEFINITION,
                        )
                    )
            defined.add(s.lhs)
            steps.append(s)
    else:
        steps = _unbiased_weight_steps(est)
    checked = check_steps(steps, _domain(est), timeout=timeout)
    sampling = est.q.name if est.q is not None else p.name
    kind = est.flow.kind if est.flow is not None else "given"
    statement = (
        f"The estimator v . grad phi + psi phi with x ~ {sampling} is unbiased for d/d{est.wrt} E_{p.name}[phi] "
        f"({kind} flow; Theorem 3, Eq. 50). Below, psi and v are derived and every step is checked."
    )
    return Proof(
        title or f"{est.name or 'estimator'}: d/d{est.wrt} of E_{p.name}[phi]",
        checked,
        statement,
        _ASSUMPTIONS_EQ50,
        notes=("Unbiasedness itself is Theorem 3 (see its general proof, symflow.proof.theorem_flow_estimator()).",),
    )


def transport_proof(p: Any, flow: Any, wrt: sp.Symbol, verdict: Verdict, *, timeout: float | None = None) -> Proof:
    r"""The proof behind ``check_transport``: from Eq. (52) to the residual that was decided.

    Steps: the transport expression :math:`T = \nabla\cdot(p u) + \partial_\theta p`
    with the density and flow written out; the product rule and
    :math:`\partial_\theta p = p\,\partial_\theta \log p` turn it into :math:`p R`
    with R the log-route residual (checked); and :math:`T = 0`, decided by the
    check's own verdict on R (p > 0 on the support).
    """
    from ..estimators.deriver import transport_residual

    u = flow.field(wrt)
    T = sp.Symbol("T")
    divergence = sum((sp.Derivative(p.expr * ui, xi) for ui, xi in zip(u, p.x, strict=True)), sp.S.Zero)
    residual = transport_residual(p, u, wrt)
    steps = [
        ProofStep(
            T,
            divergence + sp.Derivative(p.expr, wrt),
            "the transport equation's left-hand side",
            "52",
            basis=Basis.DEFINITION,
        ),
        ProofStep(
            T,
            sp.Mul(p.expr, residual, evaluate=False),
            "product rule div(p u) = p (div u + u . grad log p), and dp/dtheta = p dlog p/dtheta",
            "50",
            basis=Basis.PREVIOUS,
            follows=1,
        ),
        ProofStep(
            T,
            sp.S.Zero,
            f"the residual vanishes ({verdict.method}); p > 0 on the support",
            "52",
            basis=Basis.VERDICT,
            verdict=verdict,
        ),
    ]
    checked = check_steps(steps, p.domain(), timeout=timeout)
    statement = f"The {flow.kind} flow solves the transport equation div(p u) + dp/d{wrt} = 0, so psi = 0."
    return Proof(f"transport equation, {flow.kind} flow of {p.name}, d/d{wrt}", checked, statement, verdict=verdict)


def _detail_notes(verdict: Any) -> tuple[str, ...]:
    notes = []
    for key, value in getattr(verdict, "details", ()) or ():
        notes.append(f"{key}: {value}")
    return tuple(notes)


def _is_measurement(result: Any, residual: Any) -> bool:
    """True for a passing verdict whose residual is a nonzero number: it measures, it does not vanish."""
    if not isinstance(residual, sp.Basic) or not residual.is_number or residual.is_zero is not False:
        return False
    return _status_text(result) in (Status.PROVED.value, Status.CONSISTENT.value)


def _status_text(result: Any) -> str:
    return str(getattr(getattr(result, "status", ""), "value", getattr(result, "status", "")))


def proof_of(result: Any, title: str | None = None) -> Proof:
    """The proof behind a claim's result.

    Parameters
    ----------
    result : Verdict, ClaimResult or any object with ``.status`` and ``.method``
        A verdict that carries a ``proof`` returns it (retitled when
        ``title`` is given).  Otherwise the proof is built from the verdict:
        the residual R that had to vanish (a definition), then ``R = 0``
        decided by the verdict itself, with its method, witness or reason.
        A result without a residual (a Monte Carlo test), or whose residual
        is a nonzero number although it passed (a measured error or test
        statistic), gives a proof with no equations whose status is the
        result's status and whose notes say how it was decided.
    title : str, optional
        Default: the claim's text.
    """
    from dataclasses import replace

    error = ""
    expectation: tuple[str, ...] = ()
    if hasattr(result, "claim") and hasattr(result, "seconds") and hasattr(result, "error"):
        # A ClaimResult from symflow.cli.claims.run_claim.
        claim = result.claim
        title = title or (claim.name + (f" (Eq. {claim.equation})" if claim.equation else ""))
        word = "as expected" if result.as_expected else "NOT as expected"
        expectation = (f"The claim is expected to come out {claim.expect}; it came out {result.status}, {word}.",)
        error = result.error
        result = result.result
    attached = getattr(result, "proof", None)
    if callable(attached) and not isinstance(attached, Proof):
        attached = attached()  # checks attach proofs lazily: built only when asked for
    if isinstance(attached, Proof):
        out = attached if title is None else replace(attached, title=title)
        return replace(out, notes=out.notes + expectation) if expectation else out
    if error or result is None:
        reason = error or "the claim returned nothing"
        verdict = Verdict(Status.UNKNOWN, "running the claim", reason=reason, claim=title or "")
        return Proof(title or "claim", (), f"The claim could not be run: {reason}", notes=expectation, verdict=verdict)
    claim_text = str(getattr(result, "claim", "") or "")
    title = title or claim_text or "claim"
    method = str(getattr(result, "method", ""))
    notes = []
    steps: tuple[ProofStep, ...] = ()
    residual = getattr(result, "residual", None)
    if _is_measurement(result, residual):
        # A nonzero number with a passing status is a measured error or test statistic (a Riemann-sum error,
        # a KS distance), not a residual that was shown to vanish: "R = 0.07, R = 0 [consistent]" would be false.
        notes.append(f"Measured quantity: {sp.sstr(residual)} (an error or test statistic; it need not vanish).")
        residual = None
    if isinstance(result, Verdict) and residual is not None:
        # The residual and how decide_zero decided it: the check text carries method and witness.
        steps = (
            ProofStep(RESIDUAL, residual, "the residual that must vanish", basis=Basis.DEFINITION),
            ProofStep(RESIDUAL, sp.S.Zero, "decide_zero on the residual", basis=Basis.VERDICT, verdict=result),
        )
    else:
        # No symbolic residual (a Monte Carlo test, a numeric comparison): say how it was decided.
        notes.append(f"Decided by: {method} (no symbolic residual; nothing to check step by step).")
        reason = getattr(result, "reason", "")
        if reason:
            notes.append(f"Reason: {reason}")
        witness = getattr(result, "witness", None)
        if witness is not None:
            notes.append(f"Witness: {witness}")
    notes.extend(_detail_notes(result))
    return Proof(title, steps, claim_text or title, notes=tuple(notes) + expectation, verdict=result)


def claims_document(module: str, results: Sequence[Any], **settings: Any) -> str:
    """A standalone LaTeX document with the proof of every claim of one derivation module.

    ``results`` are ``ClaimResult`` values from ``symflow.cli.claims.run_claim``.
    """
    from ..printing.latex import proof_document

    proofs = [proof_of(r) for r in results]
    expected = sum(1 for r in results if r.as_expected)
    intro = (
        f"Derivation module {module}: {len(results)} claim(s), {expected} came out as expected. "
        "A claim expected to be refuted (a wrong flow, a biased estimator) is shown with its witness."
    )
    return proof_document(proofs, title=f"symflow proofs: {module}", intro=intro, **settings)
