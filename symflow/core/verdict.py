"""The ``Verdict`` value that every check returns.

A verdict is one of four statuses, each with the evidence behind it:

``proved``
    from a symbolic argument only: a canonical form that is structurally
    zero, or a randomized polynomial-identity test whose error bound
    (at most 1e-30) is stated in ``method``.
``consistent``
    no proof was found, but the residual vanishes to at least 40 significant
    digits (mpmath, 50 digits) at 16 or more points spread over the support.
    Numbers, not a proof.
``refuted``
    a ``witness`` point where the residual is nonzero, evaluated at two
    precisions that agree.
``unknown``
    anything else, with the ``reason``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import sympy as sp

from ..errors import SymflowError
from ..printing.display import LatexDisplay
from .status import Status
from .steps import Proof

__all__ = ["Status", "Verdict", "Witness", "combine"]


@dataclass(frozen=True)
class Witness:
    """A point where a residual is nonzero, with its value at two precisions.

    ``point`` maps each Symbol to the number used; ``value`` is the residual
    there at the higher precision, ``value_low`` at the lower one; ``digits``
    records the two precisions (decimal digits).
    """

    point: tuple[tuple[sp.Symbol, Any], ...]
    value: Any
    value_low: Any
    digits: tuple[int, int] = (30, 50)

    def __post_init__(self) -> None:
        if not isinstance(self.point, tuple | list) or not all(
            isinstance(pair, tuple | list) and len(pair) == 2 for pair in self.point
        ):
            raise SymflowError("a Witness's point must be a tuple of (Symbol, value) pairs")
        object.__setattr__(self, "point", tuple(tuple(pair) for pair in self.point))
        if not (isinstance(self.digits, tuple | list) and len(self.digits) == 2):
            raise SymflowError(f"a Witness's digits must be (low, high) precisions, got {self.digits!r}")

    def as_dict(self) -> dict:
        return dict(self.point)

    def __str__(self) -> str:
        pts = ", ".join(f"{k} = {_short(v)}" for k, v in self.point)
        return f"at {pts}: residual = {_short(self.value)} (also {_short(self.value_low)} at {self.digits[0]} digits)"


def _short(value: Any, digits: int = 12) -> str:
    try:
        import mpmath

        return mpmath.nstr(value, digits)
    except Exception:  # noqa: BLE001 - fall back to str for non-numbers
        return str(value)


@dataclass(frozen=True)
class Verdict(LatexDisplay):
    """The outcome of a check, with how it was decided.

    Attributes
    ----------
    status : Status
        ``proved``, ``consistent``, ``refuted`` or ``unknown``.
    method : str
        How the status was decided (and, for a randomized proof, its error bound).
    residual : sympy.Expr or None
        The expression that had to vanish.
    witness : Witness or None
        For ``refuted``: where the residual is nonzero.
    reason : str
        For ``unknown``: why no decision was reached.
    claim : str
        What was checked, in words.
    details : tuple
        Extra ``(name, value)`` pairs (numbers compared, boundary terms, ...).
    proof : Proof or None
        The checked derivation behind the verdict, when the check records one.
    """

    status: Status
    method: str
    residual: Any = None
    witness: Witness | None = None
    reason: str = ""
    claim: str = ""
    details: tuple[tuple[str, Any], ...] = field(default_factory=tuple)
    proof: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "status", Status(self.status))
        except ValueError:
            raise SymflowError(
                f"status={self.status!r} is not a verdict status; choose one of {', '.join(s.value for s in Status)}"
            ) from None
        for name in ("method", "reason", "claim"):
            if not isinstance(getattr(self, name), str):
                raise SymflowError(f"a Verdict's {name} must be a string, got {type(getattr(self, name)).__name__}")
        if self.witness is not None and not isinstance(self.witness, Witness):
            raise SymflowError(f"a Verdict's witness must be a Witness or None, got {type(self.witness).__name__}")
        if not isinstance(self.details, tuple | list) or not all(
            isinstance(d, tuple | list) and len(d) == 2 for d in self.details
        ):
            raise SymflowError("a Verdict's details must be a tuple of (name, value) pairs")
        object.__setattr__(self, "details", tuple(tuple(d) for d in self.details))
        if self.status is Status.REFUTED and self.witness is None:
            raise SymflowError("a refuted verdict needs a witness")
        if self.status is Status.UNKNOWN and not self.reason:
            raise SymflowError("an unknown verdict needs a reason")

    @property
    def ok(self) -> bool:
        """True when the claim holds: proved or (numerically) consistent."""
        return self.status in (Status.PROVED, Status.CONSISTENT)

    def with_claim(self, claim: str) -> Verdict:
        return replace(self, claim=claim)

    def detail(self, name: str, default: Any = None) -> Any:
        for key, value in self.details:
            if key == name:
                return value
        return default

    def __str__(self) -> str:
        head = f"{self.claim}: " if self.claim else ""
        lines = [f"{head}{self.status.value} ({self.method})"]
        if self.residual is not None:
            lines.append(f"  residual: {sp.sstr(self.residual)}")
        if self.witness is not None:
            lines.append(f"  witness: {self.witness}")
        if self.reason:
            lines.append(f"  reason: {self.reason}")
        for key, value in self.details:
            lines.append(f"  {key}: {_short(value) if not isinstance(value, str) else value}")
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def combine(
    parts: Mapping | Iterable,
    claim: str = "",
    *,
    noun: str = "parameters",
    label: str = "d/d{}",
) -> Verdict:
    """One verdict for a conjunction of checked parts: only as strong as its weakest part.

    ``parts`` maps labels to verdicts (a dict, or ``(label, verdict)`` pairs, e.g.
    one per parameter).  The result is the weakest part (refuted < unknown <
    consistent < proved; the first such part), keeping its residual, witness and
    reason, with the tally and every part's method recorded:
    ``"2 proved, 1 consistent of 3 parameters; d/dmu: ...; d/dsigma: ..."``
    (``noun`` and ``label`` name the parts otherwise, e.g. ``noun="parts",
    label="{}"``), and each part's status and method in ``details``.

    Its ``proof`` holds one sub-proof per part, titled by the part's label: the
    part's own recorded proof when it has one, else a proof to be built from the
    part's verdict (``symflow.proof_of`` builds and checks them), so a claim
    over k parameters shows k proofs, not only its weakest part's.

    Examples
    --------
    >>> from symflow import Verdict, combine
    >>> both = combine({"mu": Verdict("proved", "expansion"), "sigma": Verdict("consistent", "50 digits")})
    >>> both.status.value, both.method.split(";")[0]
    ('consistent', '1 proved, 1 consistent of 2 parameters')
    >>> [part.title for part in both.proof.parts]
    ['d/dmu', 'd/dsigma']
    """
    if isinstance(parts, Mapping):
        items = list(parts.items())
    elif isinstance(parts, Iterable) and not isinstance(parts, str | bytes):
        items = [tuple(kv) if isinstance(kv, tuple | list) else (None, kv) for kv in parts]
    else:
        raise SymflowError(f"combine() takes a dict or (label, verdict) pairs, got {type(parts).__name__}")
    if not items:
        raise SymflowError("combine() needs at least one verdict")
    for item in items:
        if len(item) != 2 or not isinstance(item[1], Verdict):
            raise SymflowError(f"combine() takes (label, Verdict) pairs; got {item!r:.80}")
    if not (isinstance(claim, str) and isinstance(noun, str) and isinstance(label, str)):
        raise SymflowError("claim, noun and label must be strings")
    worst = min((v for _, v in items), key=lambda v: v.status.strength)
    counts: dict[str, int] = {}
    for _, v in items:
        counts[v.status.value] = counts.get(v.status.value, 0) + 1
    tally = ", ".join(f"{n} {s}" for s, n in counts.items())
    methods = "; ".join(f"{label.format(k)}: {v.method}" for k, v in items)
    details = worst.details + tuple((label.format(k), f"{v.status}: {v.method}") for k, v in items)
    claim = claim or worst.claim
    proof = Proof(
        claim or "conjunction",
        statement=claim,
        verdict=None,
        parts=tuple(_part_proof(label.format(k), v) for k, v in items),
        checks=(f"{tally} of {len(items)} {noun}",),
    )
    return replace(
        worst, method=f"{tally} of {len(items)} {noun}; {methods}", claim=claim, details=details, proof=proof
    )


def _part_proof(title: str, verdict: Any) -> Proof:
    """The sub-proof of one part: its recorded proof (retitled), or a stub ``proof_of`` builds from the verdict."""
    recorded = getattr(verdict, "proof", None)
    if isinstance(recorded, Proof):
        statement = recorded.statement or recorded.title
        return replace(recorded, title=title, statement=statement, verdict=recorded.verdict or verdict)
    return Proof(title, statement=str(getattr(verdict, "claim", "") or ""), verdict=verdict)
