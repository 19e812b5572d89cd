"""Derivations and proofs as values: ``Step``, ``ProofStep``, ``Proof``.

A ``Step`` is one equation of a derivation and the rule that produced it,
as ``derive`` and the checks record them; within a chain, consecutive steps
with the same ``lhs`` claim that their right-hand sides are equal.

A proof is an ordered tuple of steps.  Each step states ``lhs = rhs`` with the
rule that justifies it (product rule, divergence theorem, substitution
eps = S(x), the paper's equation number) and a *basis* that says what was
checked:

``definition``
    introduces a name (``psi = ...``); there is nothing to check.
``assumption``
    a hypothesis of the theorem (a boundary term vanishes, differentiation
    under the integral sign); stated, never checked, and printed as such.
``previous``
    ``rhs`` equals the right-hand side of the latest earlier step with the
    same ``lhs``; checked by ``decide_zero`` on the difference.
``identity``
    ``lhs = rhs`` on its own; checked by ``decide_zero`` on ``lhs - rhs``.
``verdict``
    decided by a check that already ran (a claim's verdict is attached).
``argument``
    a step of reasoning outside algebra (a nonnegative integrand with zero
    integral vanishes); stated, not checked, and printed as such.
``computed``
    a value a check computed with SymPy (a definite integral, a limit at a
    support edge) and did not re-check; printed as such.

``symflow.proof.check_steps`` fills in the verdicts; ``symflow.printing.latex.proof_latex`` renders
the result.  A checkable step without a verdict, or whose verdict is
``unknown``, is printed as *not checked* -- never silently passed over.

One concept although long: derivations and proofs as frozen values (Step, ProofStep, Proof) with
their validation; the checking of proofs lives in symflow.proof.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import sympy as sp

from ..errors import SymflowError
from ..printing.display import LatexDisplay
from .status import Status

__all__ = ["Basis", "Proof", "ProofStep", "Step", "difference_proof", "proof_steps"]


@dataclass(frozen=True)
class Step:
    """``lhs = rhs``, justified by ``rule`` (and the paper's equation number).

    ``rhs`` may contain unevaluated ``Derivative`` objects so that the
    printed step shows the operation; ``.doit()`` evaluates them.
    ``assumes`` lists facts the step relies on beyond algebra (for example
    ``"eps = S(x; theta)"``), as text for the reader.
    """

    lhs: sp.Expr
    rhs: sp.Expr
    rule: str
    equation: str | None = None
    assumes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_step_fields(self, "Step")

    def __str__(self) -> str:
        eq = f" [Eq. {self.equation}]" if self.equation else ""
        return f"{sp.sstr(self.lhs)} = {sp.sstr(self.rhs)}    ({self.rule}{eq})"


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, tuple | list):
        raise SymflowError(f"{what} must be a tuple of strings, got {type(value).__name__}")
    if not all(isinstance(v, str) for v in value):
        raise SymflowError(f"{what} must hold strings only")
    return tuple(value)


def _check_step_fields(step: Any, kind: str) -> None:
    """A step is lhs = rhs between SymPy objects, a rule in words, an optional equation number, assumptions."""
    for side in ("lhs", "rhs"):
        value = getattr(step, side)
        if not isinstance(value, sp.Basic | int | float):
            raise SymflowError(f"a {kind}'s {side} must be a SymPy expression, got {type(value).__name__}")
    if not isinstance(step.rule, str):
        raise SymflowError(f"a {kind}'s rule must be a string (the justification in words), got {step.rule!r}")
    if step.equation is not None and not isinstance(step.equation, str):
        raise SymflowError(f"a {kind}'s equation must be a string such as '19' or None, got {step.equation!r}")
    object.__setattr__(step, "assumes", _strings(step.assumes, f"a {kind}'s assumes"))


class Basis(str, enum.Enum):
    """What a step's check rests on (see the module docstring)."""

    DEFINITION = "definition"
    ASSUMPTION = "assumption"
    PREVIOUS = "previous"
    IDENTITY = "identity"
    VERDICT = "verdict"
    ARGUMENT = "argument"
    COMPUTED = "computed"

    def __str__(self) -> str:
        return self.value


def _status_of(result: Any) -> Status:
    """The Status of a Verdict or of another result with a ``.status`` (a Monte Carlo test)."""
    try:
        return Status(str(getattr(result, "status", "")))
    except ValueError:
        return Status.UNKNOWN


@dataclass(frozen=True)
class ProofStep(LatexDisplay):
    """One step ``lhs = rhs`` of a proof, with its rule and its check.

    Parameters
    ----------
    lhs, rhs : sympy.Expr
        The two sides.  ``rhs`` may hold unevaluated ``Derivative`` objects so
        the printed step shows the operation; checks evaluate them first.
    rule : str
        The justification in words.
    equation : str, optional
        The paper's equation number.
    assumes : tuple of str
        Facts the step relies on beyond algebra, as text for the reader.
    basis : Basis
        What the check rests on.
    verdict : Verdict or None
        The outcome of the check (None for definitions and assumptions, and
        for a step that has not been checked).
    follows : int or None
        For ``basis == previous``: the 1-based number of the step it follows from.
    given : tuple of (old, new) pairs
        Substitutions applied before the check, each an assumption stated in
        an earlier step (``given_from`` lists those steps' numbers).  The
        check then proves the step *given* those assumptions.
    """

    lhs: Any
    rhs: Any
    rule: str
    equation: str | None = None
    assumes: tuple[str, ...] = ()
    basis: Basis = Basis.IDENTITY
    verdict: Any = field(default=None, compare=False)
    follows: int | None = None
    given: tuple[tuple[Any, Any], ...] = ()
    given_from: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        _check_step_fields(self, "ProofStep")
        try:
            object.__setattr__(self, "basis", Basis(self.basis))
        except ValueError:
            raise SymflowError(
                f"basis={self.basis!r} is not a Basis; choose one of {', '.join(b.value for b in Basis)}"
            ) from None
        # A Verdict (core.verdict imports this module, so it is recognised by its fields here).
        if self.verdict is not None and not all(hasattr(self.verdict, a) for a in ("status", "method", "residual")):
            raise SymflowError(f"a ProofStep's verdict must be a Verdict or None, got {type(self.verdict).__name__}")
        if self.follows is not None and (isinstance(self.follows, bool) or not isinstance(self.follows, int)):
            raise SymflowError(f"follows must be a step number (int) or None, got {self.follows!r}")
        if not isinstance(self.given, tuple | list) or not all(
            isinstance(g, tuple | list) and len(g) == 2 for g in self.given
        ):
            raise SymflowError("given must be a tuple of (old, new) pairs")
        if not isinstance(self.given_from, tuple | list) or not all(
            isinstance(g, int) and not isinstance(g, bool) for g in self.given_from
        ):
            raise SymflowError("given_from must be a tuple of step numbers")
        object.__setattr__(self, "given", tuple(tuple(g) for g in self.given))
        object.__setattr__(self, "given_from", tuple(self.given_from))

    @property
    def needs_check(self) -> bool:
        """True for steps that claim something (not definitions or assumptions)."""
        return self.basis not in (Basis.DEFINITION, Basis.ASSUMPTION, Basis.ARGUMENT, Basis.COMPUTED)

    @property
    def checked(self) -> bool:
        """True when the step needs no check or its check reached a decision."""
        if not self.needs_check:
            return True
        return self.verdict is not None and self.verdict.status is not Status.UNKNOWN

    @property
    def status_text(self) -> str:
        """``definition``, ``assumption``, a verdict status, or ``not checked``."""
        if self.basis is Basis.ARGUMENT:
            return "argument, not machine-checked"
        if self.basis is Basis.COMPUTED:
            return "computed by SymPy in the check, not re-checked"
        if self.basis is Basis.ASSUMPTION:
            return "assumption, not machine-checked"
        if not self.needs_check:
            return self.basis.value
        if self.verdict is None:
            return "not checked"
        if self.verdict.status is Status.UNKNOWN:
            return "not checked (unknown)"
        return self.verdict.status.value

    def with_verdict(self, verdict: Any) -> ProofStep:
        return replace(self, verdict=verdict)

    def __str__(self) -> str:
        eq = f", Eq. {self.equation}" if self.equation else ""
        head = f"{sp.sstr(self.lhs)} = {sp.sstr(self.rhs)}"
        lines = [head, f"    by {self.rule}{eq}  [{self.status_text}]"]
        if self.basis is Basis.PREVIOUS and self.follows is not None:
            lines[-1] += f" from step {self.follows}"
        if self.given_from:
            lines[-1] += f" given step(s) {', '.join(map(str, self.given_from))}"
        if self.verdict is not None:
            how = self.verdict.method if self.verdict.status is not Status.UNKNOWN else self.verdict.reason
            lines.append(f"    check: {how}")
            if self.verdict.witness is not None:
                lines.append(f"    witness: {self.verdict.witness}")
        for a in self.assumes:
            lines.append(f"    assumes: {a}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Proof(LatexDisplay):
    """An ordered, machine-checked derivation, possibly made of sub-proofs.

    Parameters
    ----------
    title : str
        A short name ("Theorem 3", "normal: RP estimator for mu").
    steps : tuple of ProofStep
    statement : str
        What is proved, in words.
    assumptions : tuple of str
        Hypotheses of the whole proof (printed before the steps).
    notes : tuple of str
        Remarks for the reader, printed after the steps.
    verdict : Verdict or None
        The verdict the proof stands behind (a claim's verdict), if any; any
        result with ``.status`` and ``.method`` (a Monte Carlo test) is kept as is.
    domain : Domain or None
        Where the symbols of the steps live, for checking them (a check records
        its proof unchecked, with its domain; ``symflow.proof_of`` checks it
        when asked).
    parts : tuple of Proof
        Sub-proofs, one per part of a conjunction (one per parameter of a
        transport claim, one per family, ...): the proof holds when every
        part holds.  ``combine`` records them.
    equation : str
        The paper's equation number of the whole statement (for labels).
    checks : tuple of str
        How the proof's own verdict was reached (the method, its error bound,
        numbers compared), for the appendix of a document rather than its body.
    notation : tuple of (shown, meaning) pairs
        Names for the printed form only: each ``meaning`` (an expression, or a
        matrix of them) is printed as ``shown`` (a symbol, or a matrix of
        symbols) in every step, and the pairs are listed once under the
        statement (``G_{jk} = dg_j/deps_k``).  The steps keep the meanings, so
        the checks see the real expressions.

    ``status`` is the weakest status among the checked steps, the parts and
    the verdict: ``refuted`` < ``unknown`` < ``consistent`` < ``proved``.
    """

    title: str
    steps: tuple[ProofStep, ...] = ()
    statement: str = ""
    assumptions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    verdict: Any = field(default=None, compare=False)
    domain: Any = field(default=None, compare=False, repr=False)
    parts: tuple[Proof, ...] = ()
    equation: str = ""
    checks: tuple[str, ...] = ()
    notation: tuple[tuple[Any, Any], ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.title, str):
            raise SymflowError(f"a Proof's title must be a string, got {type(self.title).__name__}")
        if not isinstance(self.statement, str):
            raise SymflowError(f"a Proof's statement must be a string, got {type(self.statement).__name__}")
        if not isinstance(self.steps, tuple | list):
            raise SymflowError(f"a Proof's steps must be a tuple of ProofStep values, got {type(self.steps).__name__}")
        steps = tuple(self.steps)
        for s in steps:
            if not isinstance(s, ProofStep):
                raise SymflowError(f"a Proof holds ProofStep values, not {type(s).__name__}; use check_steps")
        parts = tuple(self.parts)
        for part in parts:
            if not isinstance(part, Proof):
                raise SymflowError(f"the parts of a Proof are Proof values, not {type(part).__name__}")
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "parts", parts)
        object.__setattr__(self, "assumptions", _strings(self.assumptions, "a Proof's assumptions"))
        object.__setattr__(self, "notes", _strings(self.notes, "a Proof's notes"))
        object.__setattr__(self, "checks", tuple(self.checks))
        object.__setattr__(self, "notation", tuple(tuple(pair) for pair in self.notation))
        object.__setattr__(self, "equation", str(self.equation or ""))

    @property
    def status(self) -> Status:
        """The weakest status among checked steps, the parts and the attached verdict.

        A step that needs a check but has none counts as ``unknown``; a proof
        with nothing checked at all is ``unknown``.
        """
        found: list[Status] = []
        for s in self.steps:
            if s.needs_check:
                found.append(_status_of(s.verdict) if s.verdict is not None else Status.UNKNOWN)
        found.extend(part.status for part in self.parts)
        if self.verdict is not None:
            found.append(_status_of(self.verdict))
        if not found:
            return Status.UNKNOWN
        return min(found, key=lambda s: s.strength)

    @property
    def ok(self) -> bool:
        """True when every checked step is proved or consistent."""
        return self.status in (Status.PROVED, Status.CONSISTENT)

    @property
    def unchecked(self) -> tuple[int, ...]:
        """1-based numbers of this proof's own steps that need a check but did not get a decision."""
        return tuple(i for i, s in enumerate(self.steps, start=1) if not s.checked)

    def walk(self) -> tuple[Proof, ...]:
        """This proof and every sub-proof, depth first (a part before the parts inside it)."""
        out: list[Proof] = [self]
        for part in self.parts:
            out.extend(part.walk())
        return tuple(out)

    def bare_zero_steps(self) -> tuple[int, ...]:
        """1-based numbers of the steps that say only "symbol = 0" but do not close their chain.

        Such a step shows no mathematics (a residual named and set to 0 before
        anything is shown about it); only the last step of a chain -- no later
        step with the same left-hand side -- may read "R = 0".
        """
        out = []
        for i, s in enumerate(self.steps):
            if isinstance(s.lhs, sp.Symbol) and _is_zero(s.rhs):
                if any(later.lhs == s.lhs for later in self.steps[i + 1 :]):
                    out.append(i + 1)
        return tuple(out)

    def to_latex(self, standalone: bool = False, **settings: Any) -> str:
        """LaTeX for the proof: a fragment, or a complete amsmath document.

        ``settings`` go to ``ProofLatexPrinter`` (e.g. ``max_expr_len``).
        """
        from ..printing.latex import proof_document, proof_latex

        if standalone:
            return proof_document([self], title=self.title, **settings)
        return proof_latex(self, **settings)

    def __str__(self) -> str:
        return "\n".join(self._lines(""))

    def _lines(self, indent: str) -> list[str]:
        lines = [f"{indent}Proof: {self.title}  [{self.status.value}]"]
        if self.statement:
            lines.append(f"{indent}  {self.statement}")
        for a in self.assumptions:
            lines.append(f"{indent}  assume: {a}")
        for i, s in enumerate(self.steps, start=1):
            body = str(s).splitlines()
            lines.append(f"{indent}  ({i}) {body[0]}")
            lines.extend(f"{indent}      {ln}" for ln in body[1:])
        for part in self.parts:
            lines.extend(part._lines(indent + "  "))
        for n in self.notes:
            lines.append(f"{indent}  note: {n}")
        return lines


def _is_zero(expr: Any) -> bool:
    return (isinstance(expr, sp.Basic) and expr == 0) or (isinstance(expr, int | float) and expr == 0)


def proof_steps(steps: Sequence[Step | ProofStep], known: frozenset = frozenset()) -> tuple[ProofStep, ...]:
    """Recorded ``Step`` values as ``ProofStep`` values, each with the basis its shape implies.

    A step whose ``lhs`` appeared before follows from the latest such step
    (basis ``previous``); a new bare Symbol on the left that is not one of the
    ``known`` symbols (variables, parameters) and not on its right is a
    definition; anything else must be an identity.  ``ProofStep`` values are
    kept as they are.
    """
    out: list[ProofStep] = []
    for step in steps:
        if isinstance(step, ProofStep):
            out.append(step)
            continue
        if not isinstance(step, Step):
            raise SymflowError(f"a proof step must be a Step or ProofStep, got {type(step).__name__}")
        follows = next((j + 1 for j in range(len(out) - 1, -1, -1) if out[j].lhs == step.lhs), None)
        if follows is not None:
            basis = Basis.PREVIOUS
        else:
            rhs_symbols = getattr(step.rhs, "free_symbols", set())
            is_name = isinstance(step.lhs, sp.Symbol) and step.lhs not in known and step.lhs not in rhs_symbols
            basis = Basis.DEFINITION if is_name else Basis.IDENTITY
        out.append(ProofStep(step.lhs, step.rhs, step.rule, step.equation, step.assumes, basis, None, follows))
    return tuple(out)


def difference_proof(
    title: str,
    a: tuple[Any, Any],
    b: tuple[Any, Any],
    *,
    statement: str = "",
    equation: str = "",
    domain: Any = None,
    rule_a: str = "",
    rule_b: str = "",
) -> Proof:
    """The proof that two expressions are equal, as the checks record it (unchecked).

    ``a`` and ``b`` are ``(name, expression)`` pairs, e.g. ``("u_implicit",
    implicit_flow)``.  Steps: the difference with both sides written out
    (``Delta = a - b``, a definition naming both), and ``Delta = 0`` decided by
    the verdict that carries the proof (``symflow.proof_of`` fills it in, with
    the difference's expanded form between them when that is cheap and new).
    """
    (name_a, expr_a), (name_b, expr_b) = a, b
    what_a = rule_a or str(name_a)
    what_b = rule_b or str(name_b)
    steps = (
        ProofStep(
            sp.Symbol("Delta"),
            sp.Add(expr_a, -expr_b, evaluate=False),
            f"{what_a} minus {what_b}",
            basis=Basis.DEFINITION,
        ),
        ProofStep(sp.Symbol("Delta"), sp.S.Zero, "the difference vanishes", equation or None, basis=Basis.VERDICT),
    )
    return Proof(title, steps, statement, domain=domain, equation=equation)
