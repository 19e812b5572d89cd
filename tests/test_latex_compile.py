"""Every generated proof compiles with pdflatex (no LaTeX error is tolerated).

Compiles, once per document: the general theorem proofs, estimator proofs
(including a refuted and an undecidable step, whose marks must typeset), and
the claims document of every derivation module under ``derivations/``.
Skipped only when pdflatex is not installed; CI installs it
(texlive-latex-base, texlive-latex-recommended).
"""

from __future__ import annotations

import pytest
import sympy as sp

import symflow as sf
from symflow.core.steps import Step
from symflow.proof import (
    Proof,
    check_steps,
    claims_document,
    compile_pdf,
    general_theorems,
    pdflatex_path,
    proof_document,
    proof_fragment,
    theorem_flow_estimator,
    theorem_reparameterization_transport,
)
from symflow.proof.theorems import DOCUMENT_THEOREMS_TIMEOUT
from tests._claim_results import module_params, module_proofs, module_results

pytestmark = pytest.mark.skipif(
    pdflatex_path() is None,
    reason="pdflatex is not installed (apt-get install texlive-latex-base texlive-latex-recommended)",
)


x = sp.Symbol("x", real=True)
mu = sp.Symbol("mu", real=True)
sigma = sp.Symbol("sigma", positive=True)


def _compiles(tex: str, name: str) -> None:
    pdf = compile_pdf(tex, name=name)  # raises LatexError with the log's error lines
    assert pdf.startswith(b"%PDF")


@pytest.mark.slow
def test_theorem_proofs_compile():
    # the theorems as every claims document gets them (their budget): computed once a process, shared with the
    # document compiles below rather than proved a second time under the default budget (7 s idle)
    theorems = general_theorems(timeout=DOCUMENT_THEOREMS_TIMEOUT)
    _compiles(proof_document([], theorems=theorems, title="Theorems"), "theorems")
    assert [th.title for th in theorems][:2] == [
        theorem_flow_estimator().title,
        theorem_reparameterization_transport().title,
    ]


def test_a_fragment_inputs_into_a_paper():
    # no preamble of its own; equations numbered by the paper and labelled by the paper's equation number
    p = sf.families.normal()
    proof = sf.proof_of(sf.check_transport(p, sf.flows.reparam(p), p.params[1]))
    fragment = proof_fragment([proof], title="Transport")
    assert "\\documentclass" not in fragment and "\\begin{document}" not in fragment
    assert "\\begin{align}" in fragment and "\\label{symflow:eq52-" in fragment
    paper = (
        "\\documentclass{article}\n\\usepackage{amsmath,amssymb,longtable}\n\\begin{document}\n"
        "As shown in \\eqref{symflow:eq52-transport-equation-reparam-flow-of-normal-d-dsigma-1:s6}:\n"
        + fragment
        + "\\end{document}\n"
    )
    _compiles(paper, "paper")


@pytest.mark.slow
def test_estimator_proofs_with_every_mark_compile():
    p = sf.Density(sp.exp(-((x - mu) ** 2) / (2 * sigma**2)) / sp.sqrt(2 * sp.pi) / sigma, x, (mu, sigma), name="p")
    flow = sf.Flow(p, {mu: [1], sigma: [(x - mu) / sigma]}, kind="reparam")
    q = p.with_(expr=p.expr.subs(sigma, 2 * sigma), name="q")
    proofs = [
        sf.proof_of(sf.derive(p, flow, sigma)),
        sf.proof_of(sf.derive(p, sf.flows.zero(p), sigma)),
        sf.proof_of(sf.derive(p, flow, mu, q=q)),
        sf.proof_of(sf.Estimator(p, mu, [1], (x - mu) / sigma**2, name="biased")),
    ]
    f = sp.Function("f")(x)
    proofs.append(Proof("undecidable & odd_text: θ ≤ ∞", check_steps([Step(f, sp.Function("g")(x), "?")])))
    assert {pr.status.value for pr in proofs} >= {"proved", "refuted", "unknown"}
    _compiles(proof_document(proofs, title="Estimators"), "estimators")


@pytest.mark.slow
@pytest.mark.parametrize("module", module_params())
def test_derivation_module_proofs_compile(module):
    results = list(module_results(module))
    assert results, f"{module.name} declares no claims"
    _compiles(claims_document(module.stem, results, proofs=module_proofs(module)), module.stem)


@pytest.mark.slow
def test_cli_writes_tex_and_pdf(tmp_path):
    from symflow.cli.app import main

    module = tmp_path / "tiny.py"
    module.write_text(
        "import sympy as sp\nimport symflow as sf\n\n"
        "@sf.claim('tiny identity', equation='1')\n"
        "def tiny():\n"
        "    from symflow.zero import decide_zero\n"
        "    from symflow.core.domain import Domain\n"
        "    x = sp.Symbol('x')\n"
        "    return decide_zero(sp.sin(x)**2 + sp.cos(x)**2 - 1, Domain().extended({x}), claim='tiny')\n"
    )
    out = tmp_path / "out"
    assert main(["latex", str(module), "-o", str(out), "--pdf", "--fragment"]) == 0
    assert (out / "tiny.tex").read_text().startswith("\\documentclass")
    assert (out / "tiny.pdf").read_bytes().startswith(b"%PDF")
    fragment = (out / "tiny-fragment.tex").read_text()
    assert fragment.startswith("% symflow proofs: tiny\n") and "\\documentclass" not in fragment
    assert "@inproceedings{parmas2021unified," in (out / "parmas2021unified.bib").read_text()


def test_cli_prints_the_bibtex_entry(capsys):
    from symflow.cli.app import main

    assert main(["latex", "--bibtex"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("@inproceedings{parmas2021unified,") and "Parmas, Paavo and Sugiyama, Masashi" in printed
