r"""LaTeX for proofs and for symflow's values, through SymPy's ``LatexPrinter``.

``ProofLatexPrinter`` is the expression printer of ``expr.py`` (SymPy's
``LatexPrinter`` with ``_print_<ClassName>`` methods for symflow's values,
writing expressions the way people write them) plus whole proofs, laid out by
``document.py``.  Two targets (setting ``target``):

``"document"``
    text-mode LaTeX for a paper: numbered, labelled ``align`` chains, each step's
    rule and a mark of its check under them, and how each step was checked after
    the proof (a document collects those in an appendix table).
``"notebook"``
    one math-mode ``aligned`` block (MathJax-friendly), used by ``_repr_latex_``.

``proof_latex`` renders one proof, ``proof_document`` a standalone document,
``proof_fragment`` an ``\input``-able fragment for a paper.  Printing is pure:
it returns strings and writes nothing.
"""

from __future__ import annotations

from typing import Any

from .document import BIBTEX, notebook_proof, proof_body, proof_document, proof_fragment
from .expr import ExpressionLatexPrinter

__all__ = ["BIBTEX", "ProofLatexPrinter", "proof_document", "proof_fragment", "proof_latex"]


class ProofLatexPrinter(ExpressionLatexPrinter):
    """SymPy's LaTeX printer extended with symflow's values and proofs.

    Settings (besides SymPy's): ``target`` (``"document"`` or
    ``"notebook"``), ``max_expr_len`` (longest expression, in visible symbols,
    printed whole; longer ones are broken into named sub-expressions,
    repeated ones first), ``min_sub_len`` (shortest sub-expression worth a
    name), ``sub_name`` (the LaTeX of the name stem), ``bare_functions``,
    ``exp_len``, ``label_prefix`` (see ``ExpressionLatexPrinter``), and
    ``checks`` (``"list"``, ``"table"`` or ``"none"``: how a single proof
    reports how its steps were checked).
    """

    _default_settings: dict[str, Any] = {**ExpressionLatexPrinter._default_settings, "checks": "list"}

    def _print_Proof(self, proof: Any) -> str:
        if self._settings["target"] == "notebook":
            return notebook_proof(self, proof)
        return proof_body(self, proof, checks=self._settings["checks"])


def proof_latex(proof: Any, **settings: Any) -> str:
    """A LaTeX fragment (text mode, amsmath) for ``proof``; ``settings`` go to ``ProofLatexPrinter``."""
    return ProofLatexPrinter({"target": "document", **settings}).doprint(proof)
