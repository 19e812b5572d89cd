"""Rich display in notebooks and readable text in terminals.

``LatexDisplay`` is a mixin for symflow's values (``Density``, ``Flow``,
``Estimator``, ``Verdict``, ``Proof``).  Jupyter asks an object for
``_repr_mimebundle_`` and shows the richest type it can; a terminal shows
``text/plain``.  The text is the class's own ``__str__``; the LaTeX comes
from ``symflow.printing.latex.ProofLatexPrinter`` (a SymPy ``LatexPrinter``
that dispatches on ``_print_<ClassName>``), in math mode for MathJax.
"""

from __future__ import annotations

from typing import Any

__all__ = ["LatexDisplay", "latex"]


def latex(obj: Any, **settings: Any) -> str:
    """Math-mode LaTeX for a symflow value or a SymPy expression (no surrounding ``$``)."""
    from .latex import ProofLatexPrinter

    return ProofLatexPrinter({"target": "notebook", **settings}).doprint(obj)


class LatexDisplay:
    """Mixin: ``_repr_latex_`` and ``_repr_mimebundle_`` (text/plain, text/latex).

    Subclasses keep their own ``__str__`` (the terminal text); the LaTeX is
    rendered by ``ProofLatexPrinter``, whose ``_print_<ClassName>`` method
    for the subclass must exist.
    """

    __slots__ = ()

    def _latex_body(self) -> str:
        """Math-mode LaTeX without delimiters."""
        return latex(self)

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self._latex_body()}$"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        bundle = {"text/plain": str(self), "text/latex": self._repr_latex_()}
        if include:
            bundle = {k: v for k, v in bundle.items() if k in include}
        if exclude:
            bundle = {k: v for k, v in bundle.items() if k not in exclude}
        return bundle
