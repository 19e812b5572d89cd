r"""The formula every backend compiles: :math:`E = \sum_{i \in kept} v_i g_i + \psi\,\phi` and its arguments.

The compile pipeline, in order (each backend runs the stages after this one itself):

1. ``assemble``: E from the estimator's v and psi, with placeholder symbols g_i for the
   columns of grad phi and phi for phi(x); literally zero terms are left out.
2. ``lower_atoms``: Gaussian atoms (``symflow.structured.atoms``) become scalar
   parameters computed per call from the given ones (``Formula.derived``), and explicit sums.
3. ``arguments``: the argument order of the generated code (x columns, kept g columns,
   phi, parameters) and how to cut those columns out of the caller's arrays.

Backends then decide who evaluates each function (``numpy_backend.plan``), generate code,
and choose how rows are evaluated (``_rows``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import sympy as sp

from .lowering import lower_for_numeric

__all__ = ["Built", "Formula", "formula"]


@dataclass(frozen=True)
class Built:
    """What a backend builds for a compiled estimator.

    ``evaluate(xs, phis, grads, values) -> (n,) float64``; ``fallbacks``: the functions
    numpy could not evaluate and what evaluates them instead; ``derived``: for
    expressions in Gaussian atoms, ``values -> extra values`` computed per call
    (stage 2), else None.
    """

    evaluate: Callable
    fallbacks: tuple = ()
    derived: Callable | None = None


@dataclass(frozen=True)
class Formula:
    """E as one SymPy expression, and the symbols the generated code takes, in order."""

    expr: sp.Expr
    x: tuple[sp.Symbol, ...]
    grads: tuple[sp.Symbol, ...]  # one per x; only those at `kept` are arguments
    phi: sp.Symbol
    params: tuple[sp.Symbol, ...]
    kept: tuple[int, ...]
    uses_phi: bool
    derived: Callable | None = None  # values -> values of the extra parameters (stage 2), or None
    read: tuple[int, ...] | None = None  # the x columns E reads (stage 3); None for all

    @property
    def x_read(self) -> tuple[int, ...]:
        """The indices of the x columns that are arguments."""
        return tuple(range(len(self.x))) if self.read is None else self.read

    @property
    def args(self) -> tuple[sp.Symbol, ...]:
        """x_j for the columns read, g_i for i in kept, phi (when used), then the parameters."""
        return (
            *(self.x[j] for j in self.x_read),
            *(self.grads[i] for i in self.kept),
            *((self.phi,) if self.uses_phi else ()),
            *self.params,
        )

    def columns(
        self, xs: np.ndarray, phis: np.ndarray | None, grads: np.ndarray | None, lo: int, hi: int
    ) -> list[np.ndarray]:
        """The array arguments (everything before the parameters) for rows lo:hi, as views."""
        cols = [xs[lo:hi, j] for j in self.x_read]
        cols += [grads[lo:hi, i] for i in self.kept]
        if self.uses_phi:
            cols.append(phis[lo:hi])
        return cols


def assemble(compiled) -> Formula:
    """Stage 1: E = sum over kept i of v_i g_i, plus psi phi when psi is not literally zero."""
    expr, grads, phi = compiled.expression()
    return Formula(expr, compiled.x, grads, phi, compiled.params, compiled.kept, compiled.uses_phi)


def arguments(form: Formula) -> Formula:
    """Stage 3: drop arguments the expression does not read.

    A rewrite may have removed a g_i or phi; and an estimator of one coordinate's parameter reads
    that coordinate alone (d/dsigma_3 of a diagonal normal): cutting the other d - 1 columns out of
    x in every row block cost as much as a small block's arithmetic.
    """
    free = form.expr.free_symbols
    kept = tuple(i for i in form.kept if form.grads[i] in free)
    read = tuple(j for j, xj in enumerate(form.x) if xj in free)
    return replace(form, kept=kept, uses_phi=form.uses_phi and form.phi in free, read=read)


def lower_atoms(form: Formula) -> Formula:
    """Stage 2: Gaussian atoms (``mvn(form="precision")``) become scalars computed from the parameters.

    Entries of Sigma^{-1}, log det Sigma and the OMT skew part are extra parameters
    appended to ``params``; y = Sigma^{-1}(x - mu) and the quadratic form become sums
    over them.  ``derived`` computes their values from the given ones on each call
    (None when nothing was lowered).
    """
    expr, extra, fn = lower_for_numeric(form.expr, form.params)
    if not extra:
        return form
    return replace(form, expr=expr, params=form.params + extra, derived=fn)


def formula(compiled) -> Formula:
    """Run the stages in order and return the formula a backend compiles."""
    return arguments(lower_atoms(assemble(compiled)))
