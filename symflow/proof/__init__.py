"""Machine-checked proofs and their LaTeX.

``Proof`` and ``ProofStep`` are the values (``symflow.core.steps``; a proof
may hold sub-proofs, one per part of a ``combine``); ``check_steps`` checks
each step with ``symflow.zero.decide_zero`` (``checking.py``);
``ProofLatexPrinter`` renders them (``symflow.printing``: ``proof_latex``,
``proof_document``, ``proof_fragment``, ``BIBTEX``); ``estimator_proof``,
``proof_of`` and ``claims_document`` build the proofs of estimators and
claims (``builders.py``); ``theorems.py`` holds general proofs of the
paper's theorems on undefined functions (``general_theorems``: Thm. 3-4,
transport for any invertible g, GRP's trace identity); ``pdf.py`` compiles a
document with pdflatex.
"""

from ..core.steps import Basis as Basis
from ..core.steps import Proof as Proof
from ..core.steps import ProofStep as ProofStep
from ..printing.latex import BIBTEX as BIBTEX
from ..printing.latex import ProofLatexPrinter as ProofLatexPrinter
from ..printing.latex import proof_document as proof_document
from ..printing.latex import proof_fragment as proof_fragment
from ..printing.latex import proof_latex as proof_latex
from ..printing.text import latex_text as latex_text
from .builders import claims_document as claims_document
from .builders import estimator_proof as estimator_proof
from .builders import proof_of as proof_of
from .checking import check_proof as check_proof
from .checking import check_steps as check_steps
from .pdf import LatexError as LatexError
from .pdf import compile_pdf as compile_pdf
from .pdf import pdflatex_path as pdflatex_path
from .theorems import general_theorems as general_theorems
from .theorems import theorem_flow_estimator as theorem_flow_estimator
from .theorems import theorem_grp_trace_identity as theorem_grp_trace_identity
from .theorems import theorem_reparameterization_transport as theorem_reparameterization_transport

__all__ = [
    "BIBTEX",
    "Basis",
    "LatexError",
    "Proof",
    "ProofLatexPrinter",
    "ProofStep",
    "check_proof",
    "check_steps",
    "claims_document",
    "compile_pdf",
    "estimator_proof",
    "general_theorems",
    "latex_text",
    "pdflatex_path",
    "proof_document",
    "proof_fragment",
    "proof_latex",
    "proof_of",
    "theorem_flow_estimator",
    "theorem_grp_trace_identity",
    "theorem_reparameterization_transport",
]
