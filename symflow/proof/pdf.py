r"""Compiling a standalone proof document to PDF with pdflatex.

Runs ``pdflatex -interaction=nonstopmode -halt-on-error`` in a fresh
temporary directory, so no auxiliary files are left behind, and returns the
PDF bytes.  It runs twice, so ``\eqref`` between steps resolves.  Any LaTeX
error raises ``LatexError`` with the error lines of the log.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..core.budget import bounded
from ..errors import SymflowError

__all__ = ["LatexError", "compile_pdf", "pdflatex_path"]


class LatexError(SymflowError):
    """pdflatex is missing, or failed on a document (the message holds the log's error lines)."""


def pdflatex_path() -> str | None:
    """The pdflatex executable, or None when it is not installed."""
    return shutil.which("pdflatex")


def _error_lines(log: str, context: int = 3) -> str:
    lines = log.splitlines()
    picked: list[str] = []
    for i, line in enumerate(lines):
        if line.startswith("!"):
            picked.extend(lines[i : i + context + 1])
    return "\n".join(picked) or "\n".join(lines[-20:])


@bounded
def compile_pdf(tex: str, *, timeout: float = 120.0, name: str = "proof", passes: int = 2) -> bytes:
    """Compile a complete LaTeX document and return the PDF (``passes`` pdflatex runs, for references).

    Raises
    ------
    LatexError
        When pdflatex is not installed (install ``texlive-latex-base`` and
        ``texlive-latex-recommended``), fails, or runs past ``timeout`` seconds.
    """
    if not isinstance(tex, str) or not isinstance(name, str) or not name.replace("-", "").replace("_", "").isalnum():
        raise LatexError(
            "tex must be the LaTeX source as a string and name a plain file name (letters, digits, - and _)"
        )
    if isinstance(passes, bool) or not isinstance(passes, int) or not 1 <= passes <= 5:
        raise LatexError(f"passes must be an integer from 1 to 5 (pdflatex runs), got {passes!r:.40}")
    exe = pdflatex_path()
    if exe is None:
        raise LatexError(
            "pdflatex is not installed; install it (Debian: apt-get install texlive-latex-base "
            "texlive-latex-recommended) or leave out --pdf"
        )
    with tempfile.TemporaryDirectory(prefix="symflow-latex-") as tmp:
        src = Path(tmp) / f"{name}.tex"
        src.write_text(tex, encoding="utf-8")
        for _ in range(passes):  # the second pass resolves \eqref
            try:
                run = subprocess.run(
                    [exe, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", src.name],
                    cwd=tmp,
                    capture_output=True,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise LatexError(f"pdflatex ran past {timeout:.0f} s on {name}.tex") from None
            if run.returncode != 0:
                break
        pdf = Path(tmp) / f"{name}.pdf"
        if run.returncode != 0 or not pdf.exists():
            log_path = Path(tmp) / f"{name}.log"
            log = log_path.read_text(errors="replace") if log_path.exists() else run.stdout.decode(errors="replace")
            raise LatexError(f"pdflatex failed on {name}.tex:\n{_error_lines(log)}")
        return pdf.read_bytes()
