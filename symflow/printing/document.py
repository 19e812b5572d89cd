r"""Proofs laid out for a paper: numbered ``align`` chains, sub-proofs, and an appendix of checks.

A proof reads like a paper's appendix.  Its steps are grouped into chains
(consecutive steps with the same left-hand side, each following from the one
before, are one ``align`` block whose later lines start with ``&=``), every
line is numbered by amsmath and labelled (``\label{symflow:eq52-...:s3}``, keyed
to the paper's equation number of the claim), and under each block one short
line gives each step's rule, the paper's equation and a mark of its check:

====================  ===============================================
mark                  meaning
====================  ===============================================
:math:`\checkmark`    machine-checked: proved
:math:`\approx`       machine-checked: numeric evidence, not a proof
REFUTED               machine-checked: false, with a counterexample
NOT CHECKED           the check did not decide
(none)                a definition
assumption/argument   stated, not machine-checked
====================  ===============================================

How each step was checked (expansion, the identity test and its error
bound, the numbers compared) is not in the body: it goes to an appendix
table, one row per checked step, at the end of the document
(``checks="table"``), or to a short list after a single proof (``checks="list"``).

``proof_document`` writes a standalone document (general theorems first,
then the claims, then the appendix); ``proof_fragment`` the same without a
preamble, to ``\input`` into a paper (it needs ``amsmath``, ``amssymb`` and
``longtable``).  Every function returns a string.

One concept although long: the layout of proofs as LaTeX (chains, sub-proofs, appendix, fragments,
BibTeX) is one document model; the expression printer is expr.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sympy as sp

from ..errors import SymflowError
from .expr import ExpressionLatexPrinter, _truncate, replace_kept
from .text import latex_text

__all__ = ["BIBTEX", "PREAMBLE", "notebook_proof", "proof_body", "proof_document", "proof_fragment"]

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[T1]{fontenc}
\usepackage{lmodern}
\usepackage{amsmath,amssymb}
\usepackage{longtable}
\usepackage[margin=2cm]{geometry}
\allowdisplaybreaks
\setlength{\parindent}{0pt}"""

BIBTEX = r"""@inproceedings{parmas2021unified,
  title     = {A unified view of likelihood ratio and reparameterization gradients},
  author    = {Parmas, Paavo and Sugiyama, Masashi},
  booktitle = {Proceedings of The 24th International Conference on Artificial Intelligence and Statistics},
  series    = {Proceedings of Machine Learning Research},
  volume    = {130},
  pages     = {4078--4086},
  year      = {2021},
  publisher = {PMLR}
}
"""

LEGEND = (
    "Under each chain of equations, every step names the rule that gives it and the paper's equation "
    "(Parmas and Sugiyama, 2021). $\\checkmark$ marks a step machine-checked and proved, "
    "$\\approx$ one that holds numerically (50 digits, not a proof), \\textbf{REFUTED} one shown false "
    "(with a counterexample), \\textbf{NOT CHECKED} one whose check did not decide; definitions need no "
    "check, and assumptions and arguments are stated, not machine-checked. How each step was checked is "
    "listed in the appendix."
)


def _slug(text: str, width: int = 60) -> str:
    out = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    return out[:width].rstrip("-") or "proof"


def proof_key(proof: Any, number: str = "") -> str:
    """The label stem of a proof: the paper's equation number, then the title (``eq52-normal-reparam-...``)."""
    equation = getattr(proof, "equation", "") or ""
    stem = f"eq{_slug(equation, 12)}-" if equation else ""
    return f"{stem}{_slug(proof.title)}" + (f"-{number}" if number else "")


class _Layout:
    """The state of laying out one document: labels in use, the rows of the appendix, the numbering."""

    def __init__(self, printer: ExpressionLatexPrinter, numbering: str = "global") -> None:
        self.printer = printer
        self.rows: list[tuple[str, str, str]] = []
        self.used: set[str] = set()
        self.numbering = numbering  # "proof": (3.1), (3.2), ... restarting at each proof; "global": the paper's

    def label(self, key: str) -> str:
        base = f"{self.printer._settings['label_prefix']}:{key}"
        name, k = base, 2
        while name in self.used:
            name, k = f"{base}-{k}", k + 1
        self.used.add(name)
        return name


def _mark(step: Any) -> str:
    if step.basis == "assumption":
        return "assumption, not machine-checked"
    if step.basis == "argument":
        return "argument, not machine-checked"
    if step.basis == "computed":
        return "computed by SymPy in the check"
    if step.basis == "definition":
        return "definition"
    v = step.verdict
    if v is None or v.status == "unknown":
        return r"\textbf{NOT CHECKED}"
    if v.status == "proved":
        return r"$\checkmark$"
    if v.status == "consistent":
        return r"$\approx$ (numerically)"
    return r"\textbf{REFUTED}"


def _status_word(step: Any) -> str:
    v = step.verdict
    if v is None:
        return "not checked"
    if v.status == "unknown":
        return "NOT CHECKED"
    return {"proved": "proved", "consistent": "consistent", "refuted": "REFUTED"}[str(v.status.value)]


def _how(step: Any) -> str:
    """How a step was checked, for the appendix: what it rests on and the method (or the reason it is open)."""
    v = step.verdict
    if step.basis == "previous":
        rest = ""
    elif step.basis == "identity":
        rest = "identity: "
    else:
        rest = "the claim's own check: "
    if v is None:
        return latex_text(rest + "no check was run")
    text = latex_text(rest + _truncate(v.reason or v.method if v.status == "unknown" else v.method, 300))
    if v.witness is not None:
        text += "; counterexample: " + latex_text(_truncate(str(v.witness), 200))
    return text


def _blocks(steps: Sequence[Any]) -> list[list[int]]:
    """Indices of the steps, grouped: a chain (same lhs, each from the one before) or a run of definitions."""
    blocks: list[list[int]] = []
    for i, s in enumerate(steps):
        if blocks:
            prev = steps[i - 1]
            chain = s.lhs == prev.lhs and s.basis in ("previous", "verdict") and s.follows in (None, i)
            definitions = s.basis == "definition" and prev.basis == "definition" and s.lhs != prev.lhs
            if chain or definitions:
                blocks[-1].append(i)
                continue
        blocks.append([i])
    return blocks


def _step_refs(labels: list[str], k: int) -> str:
    return r"\eqref{" + labels[k] + "}"


_LOCAL_REF = re.compile(r"(?<!Eq\. )\((\d+)\)")


def _with_refs(text: str, labels: list[str]) -> str:
    """Rule text with "(3)", the proof's own step 3, turned into a reference to that step's equation."""

    def ref(m: re.Match) -> str:
        k = int(m.group(1))
        return _step_refs(labels, k - 1) if 1 <= k <= len(labels) else m.group(0)

    return _LOCAL_REF.sub(ref, text)


def _broken(printer: ExpressionLatexPrinter, expr: Any) -> list[str]:
    """A right-hand side as one or more lines: a long sum of short terms is broken after a term, as by hand.

    Anything else is shortened by naming sub-expressions (``shorten``).
    """
    limit = printer._settings["max_expr_len"]
    if not isinstance(expr, sp.Add) or printer._len(printer._reuse_names(expr, None)) <= limit:
        return [printer._print(printer.shorten(expr))]
    terms = list(printer._ordered_terms(expr))
    pieces = [printer.shorten(t) for t in terms]
    if any(printer._len(p) > limit // 2 for p in pieces):
        return [printer._print(printer.shorten(expr))]
    lines: list[list] = [[]]
    width = 0
    for piece in pieces:
        n = printer._len(piece)
        if lines[-1] and width + n > limit:
            lines.append([])
            width = 0
        lines[-1].append(piece)
        width += n
    out = []
    for k, group in enumerate(lines):
        tex = printer._print(sp.Add(*group, evaluate=False)) if len(group) > 1 else printer._print(group[0])
        if k > 0 and not tex.startswith("-"):
            tex = "+ " + tex
        out.append(tex)
    return out


def _notation_map(proof: Any) -> dict:
    """meaning -> shown, element by element, for every (sub)proof's notation."""
    out: dict = {}
    for pr in proof.walk():
        for shown, meaning in getattr(pr, "notation", ()):
            if isinstance(shown, sp.MatrixBase):
                out.update(zip(list(meaning), list(shown), strict=True))
            else:
                out[meaning] = shown
    return out


def _shown(printer: ExpressionLatexPrinter, expr: Any) -> Any:
    table = getattr(printer, "_notation", None)
    if table and isinstance(expr, sp.Basic):
        return replace_kept(expr, table)
    return expr


def _notation_lines(printer: ExpressionLatexPrinter, proof: Any) -> list[str]:
    if not getattr(proof, "notation", ()):
        return []
    rows = []
    for shown, meaning in proof.notation:
        own = set(meaning) if isinstance(meaning, sp.MatrixBase) else {meaning}
        inner = {m: s for m, s in printer._notation.items() if m not in own}
        body = replace_kept(meaning, inner)
        rows.append(f"{printer._print(shown)} &= {printer._print(body)}")
    rows[0] = r"\text{Notation:}\quad " + rows[0]
    return ["\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"]


def _proof_lines(layout: _Layout, proof: Any, key: str, where: str, depth: int) -> list[str]:
    """The body of one proof (and its parts), each step labelled ``{key}:s{k}``; rows go to the appendix."""
    pr = layout.printer
    out: list[str] = []
    labels = [layout.label(f"{key}:s{k}") for k in range(1, len(proof.steps) + 1)]
    for block in _blocks(proof.steps):
        start = len(pr._defs)
        lines = []
        for n, i in enumerate(block):
            s = proof.steps[i]
            rhs = _broken(pr, _shown(pr, s.rhs))
            continues = n > 0 and s.lhs == proof.steps[block[n - 1]].lhs
            lhs = "" if continues else pr._print(pr.shorten(_shown(pr, s.lhs)))
            first = f"{lhs} &= {rhs[0]}"
            lines.append(
                " \\notag \\\\\n".join([first, *(f"&\\quad {r}" for r in rhs[1:])]) + f" \\label{{{labels[i]}}}"
            )
        out.append("\\begin{align}\n" + " \\\\\n".join(lines) + "\n\\end{align}")
        defs = pr._take_defs(start)
        if defs:
            rows = [f"{pr._print(sym)} &= {pr._print(body)}" for sym, body in defs]
            rows[0] = r"\text{where}\quad " + rows[0]
            out.append("\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}")
        said = []
        for i in block:
            s = proof.steps[i]
            text = _with_refs(latex_text(s.rule), labels)
            if s.equation:
                text += f" (Eq.~{latex_text(s.equation)})"
            if s.basis == "previous" and s.follows is not None and s.follows != i:
                text += ", from " + _step_refs(labels, s.follows - 1)
            if s.given_from:
                text += ", given " + ", ".join(_step_refs(labels, g - 1) for g in s.given_from)
            if s.assumes:
                text += "; assumes " + "; ".join(latex_text(a) for a in s.assumes)
            mark = "" if s.basis == "definition" else ": " + _mark(s)
            said.append(r"\eqref{" + labels[i] + "}~" + text + mark)
            if s.needs_check:
                layout.rows.append((r"\eqref{" + labels[i] + "}", _status_word(s), _how(s)))
        out.append(r"\noindent{\small " + "; ".join(said) + r".}\par")
    if proof.parts and depth == 0:
        out.append(r"\noindent The claim has " + str(len(proof.parts)) + r" parts, each proved below.\par")
    for n, part in enumerate(proof.parts, start=1):
        tag = f"{where}.{n}" if where else str(n)
        head = r"\par\smallskip\noindent\textit{" + tag + " " + latex_text(part.title) + r".}"
        if part.statement and part.statement != part.title:
            head += " " + latex_text(part.statement)
        head += r"\hfill[\textsf{" + latex_text(part.status.value) + r"}]\par"
        out.append(head)
        out.extend(_notation_lines(pr, part))
        out.extend(_proof_lines(layout, part, f"{key}:{n}", tag, depth + 1))
    if proof.unchecked:
        refs = ", ".join(_step_refs(labels, k - 1) for k in proof.unchecked)
        out.append(r"\noindent\textbf{Not checked:} " + refs + r" could not be checked.\par")
    _proof_rows(layout, proof, where)
    for note in proof.notes:
        out.append(r"\noindent{\small " + _with_refs(latex_text(note), labels) + r"}\par")
    return out


def _proof_rows(layout: _Layout, proof: Any, where: str) -> None:
    """Appendix rows for how the proof's own verdict was reached, when no step carries it."""
    v = proof.verdict
    carried = any(s.basis == "verdict" for s in proof.steps)
    if v is not None and not carried and not proof.parts:
        how = str(getattr(v, "method", ""))
        reason = str(getattr(v, "reason", "") or "")
        if reason:
            how += f"; {reason}"
        witness = getattr(v, "witness", None)
        if witness is not None:
            how += f"; counterexample: {witness}"
        layout.rows.append(
            (latex_text(where or "claim"), latex_text(proof.status.value), latex_text(_truncate(how, 400)))
        )
    for line in proof.checks:
        layout.rows.append((latex_text(where or "claim"), "", latex_text(_truncate(line, 400))))


def _heading(proof: Any, kind: str, number: str) -> str:
    eq = f" (Eq.~{latex_text(proof.equation)})" if getattr(proof, "equation", "") else ""
    return (
        r"\par\medskip\noindent\textbf{"
        + (f"{kind} {number}{eq}. " if kind else "")
        + latex_text(proof.title)
        + r".}\hfill[\textsf{"
        + latex_text(proof.status.value)
        + r"}]\par"
    )


def _reset_for(printer: ExpressionLatexPrinter, proof: Any) -> None:
    printer._notation = _notation_map(proof)
    every = [_shown(printer, side) for pr in proof.walk() for s in pr.steps for side in (s.lhs, s.rhs)]
    printer._reset_names(every)
    domain = getattr(proof, "domain", None)
    if domain is not None and getattr(domain, "variables", None):
        printer.set_variables(sym for sym, _ in domain.variables)


def _one_proof(layout: _Layout, proof: Any, kind: str = "", number: str = "") -> list[str]:
    _reset_for(layout.printer, proof)
    out = [_heading(proof, kind, number)]
    if layout.numbering == "proof" and number:
        out.append(r"\setcounter{equation}{0}\renewcommand{\theequation}{" + number + r".\arabic{equation}}")
    if proof.statement and proof.statement != proof.title:
        out.append(r"\noindent " + latex_text(proof.statement) + r"\par")
    if proof.assumptions:
        out.append(r"\noindent\emph{Assumptions.} " + "; ".join(latex_text(a) for a in proof.assumptions) + r".\par")
    out.extend(_notation_lines(layout.printer, proof))
    where = f"{kind} {number}".strip()
    out.extend(_proof_lines(layout, proof, proof_key(proof, number), where, 0))
    return out


def _checks_table(rows: Sequence[tuple[str, str, str]], title: str) -> list[str]:
    if not rows:
        return []
    out = [
        title,
        r"{\small",
        r"\begin{longtable}{@{}p{0.17\textwidth}p{0.13\textwidth}p{0.66\textwidth}@{}}",
        r"\hline step & check & how \\ \hline \endhead",
    ]
    out.extend(f"{where} & {status} & {how} \\\\" for where, status, how in rows)
    out.extend([r"\hline", r"\end{longtable}}"])
    return out


def _checks_list(rows: Sequence[tuple[str, str, str]]) -> list[str]:
    if not rows:
        return []
    items = "; ".join(f"{where} {status}: {how}" if status else f"{where}: {how}" for where, status, how in rows)
    return [r"\noindent{\footnotesize\emph{How the steps were checked.} " + items + r".}\par"]


def proof_body(printer: ExpressionLatexPrinter, proof: Any, *, checks: str = "list") -> str:
    """One proof as text-mode LaTeX: heading, statement, numbered chains, parts, then how it was checked.

    ``checks`` is ``"list"`` (a short list after the proof), ``"table"`` (a
    longtable) or ``"none"``.
    """
    layout = _Layout(printer)
    out = _one_proof(layout, proof)
    if checks == "list":
        out.extend(_checks_list(layout.rows))
    elif checks == "table":
        out.extend(_checks_table(layout.rows, r"\par\medskip\noindent\textbf{How each step was checked.}\par"))
    return "\n".join(out)


def _sections(
    proofs: Sequence[Any], theorems: Sequence[Any], intro: str, settings: dict, title: str, fragment: bool
) -> list[str]:
    if not isinstance(title, str) or not isinstance(intro, str):
        raise SymflowError("title and intro must be strings")
    for what, given in (("proofs", proofs), ("theorems", theorems)):
        if given is not None and (isinstance(given, str | bytes) or not isinstance(given, Sequence)):
            raise SymflowError(f"{what} must be a list of proofs (e.g. [sf.proof.proof_of(v)]), got {given!r:.60}")
        for item in given or ():
            if not (callable(getattr(item, "walk", None)) and hasattr(item, "steps")):
                raise SymflowError(
                    f"{what} must hold Proof values (e.g. sf.proof.proof_of(verdict)), got {type(item).__name__}"
                )
    printer = ExpressionLatexPrinter({"target": "document", **settings})
    layout = _Layout(printer, "global" if fragment else "proof")
    out: list[str] = []
    heading = (lambda t: r"\subsection*{" + t + "}") if fragment else (lambda t: r"\section*{" + t + "}")
    if intro:
        out.append(latex_text(intro) + r"\par\medskip")
    numbered = "" if fragment else "Equations are numbered within each claim: (3.2) is the second equation of Claim 3. "
    out.append(r"{\small " + numbered + LEGEND + r"}\par")
    if theorems:
        out.append(heading("General theorems"))
        out.append(
            "The theorems the claims below rest on, proved for undefined functions: every checked step holds "
            r"for every smooth choice of them.\par"
        )
        for k, th in enumerate(theorems, start=1):
            out.append(r"\bigskip\hrule")
            out.extend(_one_proof(layout, th, "Theorem", f"T{k}"))
    if proofs:
        out.append(heading("Claims" if theorems else "Proofs"))
        for k, pr in enumerate(proofs, start=1):
            out.append(r"\bigskip\hrule")
            out.extend(_one_proof(layout, pr, "Claim", str(k)))
    out.extend(_checks_table(layout.rows, heading("Appendix: how each step was checked")))
    return out


def proof_document(
    proofs: Sequence[Any],
    *,
    title: str = "Proofs",
    intro: str = "",
    theorems: Sequence[Any] = (),
    **settings: Any,
) -> str:
    """A complete amsmath document: ``theorems`` first, then ``proofs``, then the appendix of checks (pdflatex)."""
    if isinstance(proofs, str) or not isinstance(proofs, Sequence):
        raise SymflowError(f"proofs must be a sequence of Proof values, got {type(proofs).__name__}")
    if not all(hasattr(pr, "walk") for pr in proofs):
        raise SymflowError("proofs must hold Proof values (sf.proof_of(verdict) builds one)")
    if not isinstance(title, str) or not isinstance(intro, str):
        raise SymflowError("title and intro must be strings")
    body = [PREAMBLE, r"\begin{document}", r"\section*{" + latex_text(title) + "}"]
    body.extend(_sections(proofs, theorems, intro, settings, title, fragment=False))
    body.append(r"\end{document}")
    return "\n".join(body) + "\n"


def proof_fragment(
    proofs: Sequence[Any],
    *,
    title: str = "Proofs",
    intro: str = "",
    theorems: Sequence[Any] = (),
    **settings: Any,
) -> str:
    r"""The body of ``proof_document`` without a preamble, to ``\input`` into a paper.

    The paper needs ``\usepackage{amsmath,amssymb,longtable}``.  Equations are
    numbered by the paper's own counter and labelled ``symflow:eq<N>-<claim>:s<k>``
    (``label_prefix=`` changes the prefix), so they can be cited with ``\eqref``.
    """
    if not isinstance(title, str) or not isinstance(intro, str):
        raise SymflowError("title and intro must be strings")
    head = [
        f"% {title}",
        "% \\input this file; it needs \\usepackage{amsmath,amssymb,longtable}.",
        "% Cite the theory as \\cite{parmas2021unified} (BibTeX entry: symflow latex --bibtex).",
        r"\subsection*{" + latex_text(title) + "}",
    ]
    return "\n".join(head + _sections(proofs, theorems, intro, settings, title, fragment=True)) + "\n"


def _notebook_rows(printer: ExpressionLatexPrinter, proof: Any, depth: int) -> list[str]:
    indent = r"\quad " * depth
    rows = [r"&" + indent + r"\textbf{" + latex_text(proof.title) + r"}\quad[\mathsf{" + proof.status.value + "}]"]
    for i, step in enumerate(proof.steps, start=1):
        start = len(printer._defs)
        lhs = printer._print(printer.shorten(_shown(printer, step.lhs)))
        rhs = printer._print(printer.shorten(_shown(printer, step.rhs)))
        note = step.rule + (f" (Eq. {step.equation})" if step.equation else "")
        status = step.status_text
        if step.basis == "previous" and step.follows is not None:
            status += f", from ({step.follows})"
        rows.append(f"({i})\\quad & {indent}{lhs} = {rhs} && \\text{{{latex_text(note)}: {latex_text(status)}}}")
        for sym, body in printer._take_defs(start):
            rows.append(f"& {indent}\\quad\\text{{where }} {printer._print(sym)} = {printer._print(body)}")
    for part in proof.parts:
        rows.extend(_notebook_rows(printer, part, depth + 1))
    return rows


def notebook_proof(printer: ExpressionLatexPrinter, proof: Any) -> str:
    """One math-mode ``aligned`` block for MathJax: a row per step with its rule and status, parts indented."""
    _reset_for(printer, proof)
    return r"\begin{aligned}" + " \\\\ ".join(_notebook_rows(printer, proof, 0)) + r"\end{aligned}"
