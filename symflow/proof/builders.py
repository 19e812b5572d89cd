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
from sympy.core.function import AppliedUndef

from ..core.budget import bounded, resolve_timeout, run_with_budget
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


def _computed_details(verdict: Any) -> tuple[tuple[str, sp.Basic], ...]:
    """The symbolic quantities a check computed and recorded in ``details`` (E_q[psi], b_opt, ...)."""
    out = []
    for key, value in getattr(verdict, "details", ()) or ():
        if isinstance(value, sp.Basic) and not isinstance(value, sp.Float) and isinstance(key, str):
            out.append((key, value))
    return tuple(out)


def _detail_checks(verdict: Any) -> tuple[str, ...]:
    shown = {k for k, _ in _computed_details(verdict)}
    return tuple(f"{key}: {value}" for key, value in (getattr(verdict, "details", ()) or ()) if key not in shown)


def _is_measurement(result: Any, residual: Any) -> bool:
    """True for a passing verdict whose residual is a nonzero number: it measures, it does not vanish."""
    if not isinstance(residual, sp.Basic) or not residual.is_number or residual.is_zero is not False:
        return False
    return _status_text(result) in (Status.PROVED.value, Status.CONSISTENT.value)


def _status_text(result: Any) -> str:
    return str(getattr(getattr(result, "status", ""), "value", getattr(result, "status", "")))


# Residuals up to this many operations get their expanded, common-denominator form shown.
INTERMEDIATE_OPS = 150
EXPANDED_RULE = "expand over one denominator and factor"


def _expanded_form(residual: sp.Expr, timeout: float | None) -> sp.Expr | None:
    """The residual over one denominator with its numerator factored, when that is cheap and says something new."""
    if not isinstance(residual, sp.Expr) or residual.is_number or sp.count_ops(residual) > INTERMEDIATE_OPS:
        return None
    if residual.atoms(AppliedUndef):
        return None  # undefined functions: the expanded form is no shorter

    def tidy(expr: sp.Expr) -> sp.Expr:
        flat = sp.together(sp.expand(expr))
        factored = sp.factor(flat)
        return factored if sp.count_ops(factored) <= sp.count_ops(flat) else flat

    try:
        form = run_with_budget(tidy, residual, timeout=min(2.0, resolve_timeout(timeout)), what="expanded residual")
    except Exception:  # noqa: BLE001 - an intermediate form is a courtesy; without it the proof still stands
        return None
    if form == residual or form == 0 or sp.count_ops(form) > 2 * INTERMEDIATE_OPS:
        return None
    return form


def _with_expanded_forms(steps: tuple[ProofStep, ...], timeout: float | None) -> tuple[ProofStep, ...]:
    """Before each closing "R = 0" that the verdict decided, R's expanded form when it is cheap and new.

    Step numbers that later steps refer to (``follows``, ``given_from``) are
    shifted past each inserted step.
    """
    out = list(steps)
    i = 1
    while i < len(out):
        s, prev = out[i], out[i - 1]
        closing = s.basis is Basis.VERDICT and s.rhs == 0 and prev.lhs == s.lhs and prev.rhs != 0
        form = _expanded_form(prev.rhs, timeout) if closing else None
        if form is None:
            i += 1
            continue
        step = ProofStep(s.lhs, form, EXPANDED_RULE, basis=Basis.PREVIOUS, follows=i)
        out.insert(i, step)
        for j in range(i + 1, len(out)):
            t = out[j]
            follows = t.follows + 1 if t.follows is not None and t.follows > i else t.follows
            given_from = tuple(g + 1 if g > i else g for g in t.given_from)
            if follows != t.follows or given_from != t.given_from:
                out[j] = replace(t, follows=follows, given_from=given_from)
        i += 2
    return tuple(out)


def _steps_from_verdict(result: Any, timeout: float | None) -> tuple[tuple[ProofStep, ...], tuple[str, ...]]:
    """The residual a verdict decided, written out, and its decision: (steps, reader notes).

    ``R = residual`` (a definition), its expanded form when that is cheap and
    different, and ``R = 0`` decided by the verdict itself.  A residual that is
    literally 0 gives no steps (there is no mathematics to show beyond the
    check, which the appendix records); a passing nonzero number is a
    measurement, not a residual, and gives no steps either.
    """
    residual = getattr(result, "residual", None)
    notes: list[str] = []
    if _is_measurement(result, residual):
        # A nonzero number with a passing status is a measured error or test statistic (a Riemann-sum error,
        # a KS distance), not a residual that was shown to vanish: "R = 0.07, R = 0 [consistent]" would be false.
        notes.append(f"Measured quantity: {sp.sstr(residual)} (an error or test statistic; it need not vanish).")
        return (), tuple(notes)
    witness = getattr(result, "witness", None)
    if witness is not None:
        notes.append(f"Counterexample: {witness}.")
    # What the check computed on the way (expectations, a baseline), as the values it found.
    computed = tuple(
        ProofStep(sp.Symbol(key), value, "the value the check found", basis=Basis.COMPUTED)
        for key, value in _computed_details(result)
    )
    if not isinstance(result, Verdict) or not isinstance(residual, sp.Basic) or residual == 0:
        return computed, tuple(notes)
    steps = (
        *computed,
        ProofStep(RESIDUAL, residual, "the residual that must vanish", basis=Basis.DEFINITION),
        ProofStep(RESIDUAL, sp.S.Zero, "the residual vanishes", basis=Basis.VERDICT, verdict=result),
    )
    return steps, tuple(notes)


def _complete(proof: Proof, verdict: Any, timeout: float | None) -> Proof:
    """``proof`` with its parts completed, the steps its verdict decided filled in, and every step checked.

    A proof with neither steps nor parts (a part ``combine`` recorded from a
    verdict without a proof) is built from its verdict (``_steps_from_verdict``).
    """
    v = proof.verdict if proof.verdict is not None else verdict
    parts = tuple(_complete(part, part.verdict, timeout) for part in proof.parts)
    steps, notes = proof.steps, proof.notes
    if not steps and not parts and v is not None:
        steps, extra = _steps_from_verdict(v, timeout)
        notes = notes + extra
    steps = tuple(s.with_verdict(v) if s.basis is Basis.VERDICT and s.verdict is None else s for s in steps)
    if len(steps) > 1 and steps[-1].basis is Basis.VERDICT and steps[-2].lhs == steps[-1].lhs:
        if steps[-2].rhs == steps[-1].rhs and steps[-2].basis is Basis.PREVIOUS:
            steps = steps[:-1]  # the chain already ends in what the verdict decided: say it once
    if any(s.basis is Basis.VERDICT and s.rhs == 0 for s in steps) and not any(s.rule == EXPANDED_RULE for s in steps):
        steps = _with_expanded_forms(steps, timeout)
    changed = (
        any(a is not b for a, b in zip(parts, proof.parts, strict=True))
        or steps != proof.steps
        or any(a.verdict is not b.verdict for a, b in zip(steps, proof.steps, strict=False))
        or notes != proof.notes
        or v is not proof.verdict
        or any(s.needs_check and s.verdict is None for s in steps)
    )
    if not changed:
        return proof
    out = replace(proof, steps=steps, parts=parts, notes=notes, verdict=v)
    if any(s.needs_check and s.verdict is None for s in steps):
        out = check_proof(out, timeout=timeout)
    return out


@bounded
def proof_of(result: Any, title: str | None = None, *, timeout: float | None = None) -> Proof:
    """The checked proof behind an estimator or a claim's result.

    Parameters
    ----------
    result : Estimator, Verdict, ClaimResult or any object with ``.status`` and ``.method``
        An estimator gives its derivation, every step checked
        (``estimator_proof``).  A verdict that carries a recorded proof gives
        that proof with every step checked, the steps decided by the verdict
        itself carrying it, and every sub-proof (one per part of a
        ``combine``) completed the same way.  Otherwise the proof is built from
        the verdict: the residual R that had to vanish (a definition), its
        expanded form when that is cheap, then ``R = 0`` decided by the verdict
        itself.  A result without a residual (a Monte Carlo test), or whose
        residual is a nonzero number although it passed (a measured error or
        test statistic), gives a proof with no equations whose status is the
        result's status; how it was decided is in ``checks`` (a document's
        appendix).
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
    equation = ""
    expectation: tuple[str, ...] = ()
    if hasattr(result, "claim") and hasattr(result, "seconds") and hasattr(result, "error"):
        # A ClaimResult from symflow.cli.claims.run_claim.
        claim = result.claim
        title = title or claim.name
        equation = claim.equation
        word = "as expected" if result.as_expected else "NOT as expected"
        expectation = (f"expected to come out {claim.expect}; came out {result.status}, {word}",)
        error = result.error
        result = result.result
    if error or result is None:
        reason = error or "the claim returned nothing"
        verdict = Verdict(Status.UNKNOWN, "running the claim", reason=reason, claim=title or "")
        return Proof(
            title or "claim",
            (),
            f"The claim could not be run: {reason}",
            verdict=verdict,
            equation=equation,
            checks=expectation,
        )
    attached = getattr(result, "proof", None)
    if isinstance(attached, Proof):
        out = _complete(attached, result, timeout)
    else:
        claim_text = str(getattr(result, "claim", "") or "")
        stub = Proof(title or claim_text or "claim", statement=claim_text or title or "", verdict=result)
        out = _complete(stub, result, timeout)
        out = replace(out, checks=out.checks + _detail_checks(result))
    if title is not None and title != out.title:
        out = replace(out, title=title)
    if equation and not out.equation:
        out = replace(out, equation=equation)
    return replace(out, checks=out.checks + expectation) if expectation else out


def claims_document(
    module: str,
    results: Sequence[Any],
    *,
    fragment: bool = False,
    theorems: Sequence[Proof] | None = None,
    proofs: Sequence[Proof] | None = None,
    **settings: Any,
) -> str:
    r"""The proof of every claim of one derivation module, as a standalone LaTeX document or a fragment.

    Parameters
    ----------
    module : str
        The module's name (the document's title).
    results : sequence of ClaimResult
        From ``symflow.cli.claims.run_claim``.
    fragment : bool
        False: a complete document (pdflatex); True: an ``\input``-able fragment
        for a paper (no preamble; it needs amsmath, amssymb and longtable).
    theorems : sequence of Proof, optional
        The first section; default ``general_theorems()`` (Thm. 3-4, transport
        for any invertible g, GRP's trace identity).  Pass ``()`` to leave it out.
    proofs : sequence of Proof, optional
        The claims' proofs when already built (``proof_of`` of each result), so a
        document and a fragment of the same module check each proof once.
    """
    from ..printing.latex import proof_document, proof_fragment
    from .theorems import DOCUMENT_THEOREMS_TIMEOUT, general_theorems

    if not isinstance(module, str):
        raise SymflowError(f"module must be a string (the derivation module's name), got {type(module).__name__}")
    if isinstance(results, str) or not isinstance(results, Sequence):
        raise SymflowError(f"results must be a sequence of ClaimResult values, got {type(results).__name__}")
    if not all(hasattr(r, "as_expected") for r in results):
        raise SymflowError("results must hold ClaimResult values (from symflow.cli.claims.run_claim)")
    for what, given in (("proofs", proofs), ("theorems", theorems)):
        if given is not None and (isinstance(given, str | bytes) or not isinstance(given, Sequence)):
            raise SymflowError(f"{what} must be a list of proofs (e.g. [sf.proof.proof_of(v)]), got {given!r:.60}")
    if not isinstance(fragment, bool):
        raise SymflowError(f"fragment must be True or False, got {fragment!r:.40}")
    if proofs is None:
        proofs = [proof_of(r) for r in results]
    if theorems is None:
        theorems = general_theorems(timeout=DOCUMENT_THEOREMS_TIMEOUT)
    expected = sum(1 for r in results if r.as_expected)
    intro = (
        f"Derivation module {module}: {len(results)} claim(s), {expected} came out as expected. "
        "A claim expected to be refuted (a wrong flow, a biased estimator) is shown with its counterexample. "
        "Equation numbers in parentheses after a rule are those of Parmas and Sugiyama (2021)."
    )
    build = proof_fragment if fragment else proof_document
    return build(list(proofs), title=f"symflow proofs: {module}", intro=intro, theorems=tuple(theorems), **settings)
