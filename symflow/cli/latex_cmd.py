"""``symflow latex``: one standalone LaTeX proof document per derivation module (and PDFs, fragments, BibTeX).

``symflow latex [PATHS] -o DIR`` writes ``DIR/<module>.tex``; ``--pdf`` compiles
each with pdflatex; ``--fragment`` also writes ``DIR/<module>-fragment.tex``, an
``\\input``-able fragment for a paper (no preamble, amsmath ``align``, labels keyed
to the paper's equation numbers).  Every run writes ``DIR/parmas2021unified.bib``,
the BibTeX entry of the paper; ``symflow latex --bibtex`` prints it and exits.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import SymflowError
from .common import EXIT_OK, EXIT_UNEXPECTED, UsageError, check_timeout
from .verify import _derivation_paths

__all__ = ["BIB_NAME", "register_latex"]

BIB_NAME = "parmas2021unified.bib"


def register_latex(subparsers) -> None:
    parser = subparsers.add_parser(
        "latex",
        help="write the machine-checked proofs of derivation modules as LaTeX (and PDF)",
        description="Run every claim of each derivation module and write one standalone .tex of their proofs.",
    )
    parser.add_argument(
        "paths", nargs="*", metavar="PATHS", help="derivation modules or folders (default: derivations)"
    )
    parser.add_argument("-o", "--output", metavar="DIR", default="proofs", help="output folder (default: proofs)")
    parser.add_argument("--pdf", action="store_true", help="also compile each .tex with pdflatex")
    parser.add_argument(
        "--fragment",
        action="store_true",
        help="also write MODULE-fragment.tex, an \\input-able fragment for a paper (no preamble)",
    )
    parser.add_argument("--bibtex", action="store_true", help="print the paper's BibTeX entry and exit")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="budget in seconds for each check")
    parser.set_defaults(handler=_run_latex)


def _run_latex(args: argparse.Namespace) -> int:
    from ..core import budget as budget
    from ..proof import BIBTEX, LatexError, claims_document, compile_pdf, general_theorems, pdflatex_path, proof_of
    from ..proof.theorems import DOCUMENT_THEOREMS_TIMEOUT
    from .claims import collect, module_paths, run_claim

    if args.bibtex:
        print(BIBTEX, end="")
        return EXIT_OK
    paths = _derivation_paths(args)
    if args.pdf and pdflatex_path() is None:
        raise UsageError(
            "--pdf needs pdflatex, which is not installed (Debian: apt-get install texlive-latex-base "
            "texlive-latex-recommended); run without --pdf to write the .tex files only"
        )
    if args.timeout is not None:
        check_timeout(args.timeout)
        budget.set_default_timeout(args.timeout)
    try:
        modules = module_paths(paths)
    except SymflowError as exc:
        raise UsageError(str(exc)) from None
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    (out / BIB_NAME).write_text(BIBTEX, encoding="utf-8")
    # checked once, the first section of every document: the whole --timeout, or a generous budget without one
    theorems = general_theorems(timeout=args.timeout if args.timeout is not None else DOCUMENT_THEOREMS_TIMEOUT)
    status = EXIT_OK
    for module in modules:
        try:
            results = [run_claim(c) for c in collect([module])]
        except Exception as exc:  # noqa: BLE001 - a module that fails to import is reported; the rest still run
            print(f"symflow latex: {module}: cannot import: {type(exc).__name__}: {exc}", file=sys.stderr)
            status = EXIT_UNEXPECTED
            continue
        if not results:
            print(f"  {module}: no claims, skipped", file=sys.stderr)
            continue
        proofs = [proof_of(r) for r in results]
        tex = claims_document(module.stem, results, theorems=theorems, proofs=proofs)
        tex_path = out / f"{module.stem}.tex"
        tex_path.write_text(tex, encoding="utf-8")
        print(tex_path)
        if args.fragment:
            fragment = claims_document(module.stem, results, fragment=True, theorems=theorems, proofs=proofs)
            fragment_path = out / f"{module.stem}-fragment.tex"
            fragment_path.write_text(fragment, encoding="utf-8")
            print(fragment_path)
        if args.pdf:
            try:
                pdf = compile_pdf(tex, name=module.stem)
            except LatexError as exc:
                print(f"symflow latex: {exc}", file=sys.stderr)
                status = EXIT_UNEXPECTED
                continue
            pdf_path = out / f"{module.stem}.pdf"
            pdf_path.write_bytes(pdf)
            print(pdf_path)
    return status
