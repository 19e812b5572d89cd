"""A derivation step: one equation and the rule that produced it.

Derivations record their steps as they go; the proof machinery checks each
step and renders the chain as LaTeX.  A step states ``lhs = rhs``; within a
chain, consecutive steps with the same ``lhs`` claim that their right-hand
sides are equal.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

__all__ = ["Step"]


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

    def __str__(self) -> str:
        eq = f" [Eq. {self.equation}]" if self.equation else ""
        return f"{sp.sstr(self.lhs)} = {sp.sstr(self.rhs)}    ({self.rule}{eq})"
