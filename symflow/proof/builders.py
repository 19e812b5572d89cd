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
from dataclasses import replace
from typing import Any

import sympy as sp

from ..core.budget import bounded
from ..core.steps import Basis, Proof, ProofStep
from ..core.verdict import Status, Verdict
from ..errors import SymflowError
from .checking import check_proof

__all__ = ["claims_document", "estimator_proof", "proof_of"]

RESIDUAL = sp.Symbol("R")


@bounded
def estimator_proof(est: Any, *, timeout: float | None = None, title: str | None = None) -> Proof:
    """The derivation of ``est`` (``Estimator.derivation``) with every step checked.

    Parameters
    ----------
    est : Estimator
    timeout : float, optional
        Budget in seconds for each symbolic strategy of each check.
    title : str, optional
        Default: the estimator's name and parameter.
    """
    if not callable(getattr(est, "derivation", None)):
        raise SymflowError(f"est must be an Estimator (see sf.derive), got {type(est).__name__}")
    if title is not None and not isinstance(title, str):
        raise SymflowError(f"title must be a string, got {type(title).__name__}")
    proof = check_proof(est.derivation(), timeout=timeout)
    return proof if title is None else replace(proof, title=title)


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


@bounded
def proof_of(result: Any, title: str | None = None, *, timeout: float | None = None) -> Proof:
    """The checked proof behind an estimator or a claim's result.

    Parameters
    ----------
    result : Estimator, Verdict, ClaimResult or any object with ``.status`` and ``.method``
        An estimator gives its derivation, every step checked
        (``estimator_proof``).  A verdict that carries a recorded proof gives
        that proof with every step checked, the steps decided by the verdict
        itself carrying it (retitled when ``title`` is given).  Otherwise the proof is built from the verdict:
        the residual R that had to vanish (a definition), then ``R = 0``
        decided by the verdict itself, with its method, witness or reason.
        A result without a residual (a Monte Carlo test), or whose residual
        is a nonzero number although it passed (a measured error or test
        statistic), gives a proof with no equations whose status is the
        result's status and whose notes say how it was decided.
    title : str, optional
        Default: the claim's text.
    timeout : float, optional
        Budget in seconds for each symbolic strategy of each step's check.
    """
    if title is not None and not isinstance(title, str):
        raise SymflowError(f"title must be a string, got {type(title).__name__}")
    if hasattr(result, "derivation") and hasattr(result, "psi"):
        return estimator_proof(result, timeout=timeout, title=title)
    if not (hasattr(result, "status") and hasattr(result, "method")) and not hasattr(result, "claim"):
        raise SymflowError(
            f"proof_of takes an Estimator, a Verdict, a claim's result or a result with .status and .method, "
            f"got {type(result).__name__}"
        )
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
    if isinstance(attached, Proof):
        # Checks record their proofs unchecked (plain data); the steps the verdict itself decided get it now.
        steps = tuple(
            s.with_verdict(result) if s.basis is Basis.VERDICT and s.verdict is None else s for s in attached.steps
        )
        filled = any(a is not b for a, b in zip(steps, attached.steps, strict=True))
        if not filled and all(s.verdict is not None or not s.needs_check for s in steps):
            out = attached  # already checked: nothing to add
        else:
            out = check_proof(replace(attached, steps=steps, verdict=attached.verdict or result), timeout=timeout)
        out = out if title is None else replace(out, title=title)
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

    if not isinstance(module, str):
        raise SymflowError(f"module must be a string (the derivation module's name), got {type(module).__name__}")
    if isinstance(results, str) or not isinstance(results, Sequence):
        raise SymflowError(f"results must be a sequence of ClaimResult values, got {type(results).__name__}")
    if not all(hasattr(r, "as_expected") for r in results):
        raise SymflowError("results must hold ClaimResult values (from symflow.cli.claims.run_claim)")
    proofs = [proof_of(r) for r in results]
    expected = sum(1 for r in results if r.as_expected)
    intro = (
        f"Derivation module {module}: {len(results)} claim(s), {expected} came out as expected. "
        "A claim expected to be refuted (a wrong flow, a biased estimator) is shown with its witness."
    )
    return proof_document(proofs, title=f"symflow proofs: {module}", intro=intro, **settings)
