"""``symflow latex``: one standalone LaTeX proof document per derivation module (and PDFs)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import SymflowError
from .common import EXIT_OK, EXIT_UNEXPECTED, UsageError
from .verify import _derivation_paths

__all__ = ["register_latex"]


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
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="budget in seconds for each check")
    parser.set_defaults(handler=_run_latex)


def _run_latex(args: argparse.Namespace) -> int:
    from ..core import budget as budget
    from ..proof import LatexError, claims_document, compile_pdf, pdflatex_path
    from .claims import collect, module_paths, run_claim

    paths = _derivation_paths(args)
    if args.pdf and pdflatex_path() is None:
        raise UsageError(
            "--pdf needs pdflatex, which is not installed (Debian: apt-get install texlive-latex-base "
            "texlive-latex-recommended); run without --pdf to write the .tex files only"
        )
    if args.timeout is not None:
        if not args.timeout > 0:
            raise UsageError(f"--timeout must be a positive number of seconds, got {args.timeout}")
        budget.set_default_timeout(args.timeout)
    try:
        modules = module_paths(paths)
    except SymflowError as exc:
        raise UsageError(str(exc)) from None
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
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
        tex = claims_document(module.stem, results)
        tex_path = out / f"{module.stem}.tex"
        tex_path.write_text(tex, encoding="utf-8")
        print(tex_path)
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
