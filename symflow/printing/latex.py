r"""LaTeX for proofs and for symflow's values, through SymPy's ``LatexPrinter``.

``ProofLatexPrinter`` extends ``sympy.printing.latex.LatexPrinter``: it
dispatches on ``_print_<ClassName>`` (``Proof``, ``ProofStep``, ``Verdict``,
``Density``, ``Flow``, ``Estimator``, ``Step``) and takes its options in the
settings dict.  It reads the values by their attributes (statuses and
bases compare equal to their strings) and imports none of them: printing
sits below every other layer.  Expressions are always printed by the printer; only the
surrounding structure (environments, the justification of each step) is text.

Two targets (setting ``target``):

``"document"``
    a fragment for a paper: each step in an ``align*`` environment with its
    number as ``\tag``, then its justification and its check.
``"notebook"``
    one math-mode ``aligned`` block (MathJax-friendly), used by
    ``_repr_latex_``.

Long expressions are broken into named sub-expressions
:math:`\mathcal{T}_1, \mathcal{T}_2, \dots` (setting ``max_expr_len``, in
visible symbols) listed after the step that introduces them, so a
proof stays readable.  Printing is pure: it returns strings and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp
from sympy.printing.conventions import requires_partial
from sympy.printing.latex import LatexPrinter

from ..errors import SymflowError
from .text import latex_text, math_ascii, visible_len

__all__ = ["ProofLatexPrinter", "proof_document", "proof_latex"]


def _rebuild(expr: sp.Basic, args: list) -> sp.Basic:
    if all(a is b for a, b in zip(args, expr.args, strict=True)):
        return expr
    try:
        return expr.func(*args, evaluate=False)
    except TypeError:
        return expr.func(*args)


def _truncate(text: str, width: int = 400) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 3] + "..."


class ProofLatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer extended with symflow's values.

    Settings (besides SymPy's): ``target`` (``"document"`` or
    ``"notebook"``), ``max_expr_len`` (longest expression, in visible symbols
    (LaTeX commands count one, braces and sizing none), printed whole; longer ones are broken into named
    sub-expressions), ``min_sub_len`` (shortest sub-expression worth a name),
    ``sub_name`` (the LaTeX of the name stem).
    """

    _default_settings: dict[str, Any] = {
        **LatexPrinter._default_settings,
        "target": "document",
        "max_expr_len": 90,
        "min_sub_len": 12,
        "sub_name": r"\mathcal{T}",
    }

    def __init__(self, settings: dict | None = None) -> None:
        if settings is not None and not isinstance(settings, dict):
            raise SymflowError(f"settings must be a dict or None, got {type(settings).__name__}")
        unknown = sorted(str(k) for k in (settings or {}) if k not in self._default_settings)
        if unknown:
            raise SymflowError(
                f"unknown printer setting(s) {', '.join(unknown)}; known: {', '.join(sorted(self._default_settings))}"
            )
        super().__init__(settings)
        if self._settings["target"] not in ("document", "notebook"):
            raise SymflowError(f"target must be 'document' or 'notebook', got {self._settings['target']!r}")
        self._reset_names()

    # -- named sub-expressions ------------------------------------------------
    def _reset_names(self) -> None:
        self._names: dict[sp.Basic, sp.Symbol] = {}
        self._name_tex: dict[sp.Symbol, str] = {}
        self._defs: list[tuple[sp.Symbol, sp.Basic]] = []
        self._lengths: dict[sp.Basic, int] = {}

    def _len(self, expr: sp.Basic) -> int:
        n = self._lengths.get(expr)
        if n is None:
            n = self._lengths[expr] = visible_len(self._print(expr))
        return n

    def _name(self, sub: sp.Basic) -> sp.Symbol:
        sym = self._names.get(sub)
        if sym is not None:
            return sym
        k = len(self._defs) + 1
        sym = sp.Symbol(f"_symflow_subexpression_{k}")
        self._names[sub] = sym
        self._name_tex[sym] = f"{self._settings['sub_name']}_{{{k}}}"
        self._defs.append((sym, sub))  # placeholder keeps names in order of first use
        self._defs[k - 1] = (sym, self.shorten(sub, defining=sub))
        return sym

    def _reuse_names(self, expr: sp.Basic, defining: sp.Basic | None) -> sp.Basic:
        """``expr`` with every sub-expression that already has a name replaced by it (but not ``defining``)."""
        known = {sub: sym for sub, sym in self._names.items() if sub != defining and sub != expr}
        return expr.xreplace(known) if known else expr

    def shorten(self, expr: Any, defining: Any = None) -> Any:
        """``expr`` with sub-expressions replaced by names until it fits ``max_expr_len``.

        A sub-expression named earlier in the proof is printed by its name
        wherever it appears again, so no long expression is written out twice.
        """
        limit = self._settings["max_expr_len"]
        if not isinstance(expr, sp.Basic) or not expr.args:
            return expr
        expr = self._reuse_names(expr, defining)
        if not expr.args or self._len(expr) <= limit:
            return expr
        args = list(expr.args)
        current = expr
        while self._len(current) > limit:
            candidates = [i for i, a in enumerate(args) if isinstance(a, sp.Expr) and a.args]
            if not candidates:
                break
            i = max(candidates, key=lambda j: self._len(args[j]))
            if self._len(args[i]) < self._settings["min_sub_len"]:
                break
            args[i] = self._name(args[i])
            current = _rebuild(expr, args)
        if self._len(current) > limit and isinstance(current, sp.Add | sp.Mul) and len(current.args) > 2:
            # Many short terms: name the two halves of the sum (product).
            terms = list(current.args)
            half = len(terms) // 2
            first = self._name(current.func(*terms[:half]))
            second = self._name(current.func(*terms[half:]))
            current = current.func(first, second, evaluate=False)
        return current

    def _take_defs(self, start: int) -> list[tuple[sp.Symbol, sp.Basic]]:
        return self._defs[start:]

    # -- SymPy overrides -------------------------------------------------------
    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        named = self._name_tex.get(expr)
        if named is not None:
            return named
        return math_ascii(super()._print_Symbol(expr, style))

    def _print_Derivative(self, expr: sp.Derivative) -> str:
        # SymPy prints d/dx (a b) as "d/dx a b", which reads as (d/dx a) b: bracket sums and products.
        if not isinstance(expr.expr, sp.Mul | sp.Add):
            return super()._print_Derivative(expr)
        diff = r"\partial" if requires_partial(expr.expr) else "d"
        parts, order = [], 0
        for var, count in reversed(expr.variable_count):
            order += count
            power = "" if count == 1 else f"^{{{self._print(count)}}}"
            parts.append(f"{diff} {self._print(var)}{power}")
        top = diff if order == 1 else f"{diff}^{{{self._print(order)}}}"
        return f"\\frac{{{top}}}{{{' '.join(parts)}}}\\left({self._print(expr.expr)}\\right)"

    # -- checks ----------------------------------------------------------------
    def _status_mark(self, step: Any) -> str:
        if step.basis in ("assumption", "argument"):
            return r"\textbf{" + latex_text(step.status_text) + "}"
        if step.basis == "definition":
            return "definition"
        v = step.verdict
        if v is None or v.status == "unknown":
            return r"\textbf{NOT CHECKED}"
        if v.status == "proved":
            return r"$\checkmark$\,\textsf{proved}"
        if v.status == "consistent":
            return r"$\approx$\,\textsf{consistent} (numeric evidence, not a proof)"
        return r"$\times$\,\textbf{REFUTED}"

    def _check_text(self, step: Any) -> str:
        """The check of a step in words: status, what it rests on, how it was decided."""
        mark = self._status_mark(step)
        if not step.needs_check:
            return mark
        if step.basis == "previous":
            rest = f"follows from ({step.follows})"
        elif step.basis == "identity":
            rest = "identity"
        else:
            rest = "decided by the claim's check"
        if step.given_from:
            rest += " given " + ", ".join(f"({g})" for g in step.given_from)
        v = step.verdict
        if v is None:
            return f"{mark} --- {latex_text(rest)}: no check was run"
        if v.status == "unknown":
            return f"{mark} --- {latex_text(rest)}: {latex_text(_truncate(v.reason or v.method))}"
        text = f"{mark} --- {latex_text(rest)}: {latex_text(_truncate(v.method))}"
        if v.witness is not None:
            text += r"; witness: " + latex_text(_truncate(str(v.witness)))
        return text

    def _rule_text(self, step: Any) -> str:
        text = latex_text(step.rule)
        if step.equation:
            text += f" (Eq.~{latex_text(step.equation)})"
        if step.assumes:
            text += "; assumes " + "; ".join(latex_text(a) for a in step.assumes)
        return text

    # -- proofs ------------------------------------------------------------------
    def _equation(self, lhs: Any, rhs: Any) -> tuple[str, str]:
        return self._print(self.shorten(lhs)), self._print(self.shorten(rhs))

    def _where_tex(self, defs: Sequence[tuple[sp.Symbol, sp.Basic]], newline: str) -> list[str]:
        return [f"{self._print(sym)} &= {self._print(body)}" for sym, body in defs]

    def _print_ProofStep(self, step: Any) -> str:
        lhs, rhs = self._equation(step.lhs, step.rhs)
        return f"{lhs} = {rhs}"

    def _print_Proof(self, proof: Any) -> str:
        self._reset_names()
        if self._settings["target"] == "notebook":
            return self._proof_notebook(proof)
        return self._proof_document(proof)

    def _proof_document(self, proof: Any) -> str:
        out = [
            r"\par\medskip\noindent\textbf{"
            + latex_text(proof.title)
            + r".}\hfill[\textsf{"
            + latex_text(proof.status.value)
            + r"}]\par"
        ]
        if proof.statement:
            out.append(r"\noindent " + latex_text(proof.statement) + r"\par")
        if proof.assumptions:
            assumed = "; ".join(latex_text(a) for a in proof.assumptions)
            out.append(r"\noindent\emph{Assumptions.} " + assumed + r".\par")
        for i, step in enumerate(proof.steps, start=1):
            start = len(self._defs)
            lhs, rhs = self._equation(step.lhs, step.rhs)
            out.append(r"\begin{align*}")
            out.append(f"{lhs} &= {rhs} \\tag{{{i}}}")
            out.append(r"\end{align*}")
            defs = self._take_defs(start)
            if defs:
                out.append(r"\begin{align*}")
                lines = self._where_tex(defs, r"\\")
                lines[0] = r"\text{where}\quad " + lines[0]
                out.append(" \\\\\n".join(lines))
                out.append(r"\end{align*}")
            out.append(
                r"\noindent{\small ("
                + str(i)
                + r") by "
                + self._rule_text(step)
                + r".\newline Check: "
                + self._check_text(step)
                + r".}\par"
            )
        for note in proof.notes:
            out.append(r"\noindent{\small Note: " + latex_text(note) + r"}\par")
        unchecked = proof.unchecked
        summary = r"\noindent\emph{Status of the proof:} \textsf{" + latex_text(proof.status.value) + "}"
        if unchecked:
            summary += "; steps " + ", ".join(f"({k})" for k in unchecked) + " could not be checked"
        out.append(summary + r".\par")
        return "\n".join(out)

    def _proof_notebook(self, proof: Any) -> str:
        rows = [r"&\textbf{" + latex_text(proof.title) + r"}\quad[\mathsf{" + proof.status.value + "}]"]
        for i, step in enumerate(proof.steps, start=1):
            start = len(self._defs)
            lhs, rhs = self._equation(step.lhs, step.rhs)
            note = step.rule + (f" (Eq. {step.equation})" if step.equation else "")
            status = step.status_text
            if step.basis == "previous" and step.follows is not None:
                status += f", from ({step.follows})"
            rows.append(f"({i})\\quad & {lhs} = {rhs} && \\text{{{latex_text(note)}: {latex_text(status)}}}")
            for sym, body in self._take_defs(start):
                rows.append(f"& \\quad\\text{{where }} {self._print(sym)} = {self._print(body)}")
        return r"\begin{aligned}" + " \\\\ ".join(rows) + r"\end{aligned}"

    # -- values -------------------------------------------------------------------
    def _print_Step(self, step: Any) -> str:
        lhs, rhs = self._print(step.lhs), self._print(step.rhs)
        eq = f", Eq. {step.equation}" if step.equation else ""
        return f"{lhs} = {rhs} \\quad \\text{{({latex_text(step.rule + eq)})}}"

    def _print_Verdict(self, verdict: Any) -> str:
        head = latex_text(verdict.claim) + ": " if verdict.claim else ""
        rows = [
            r"&\text{" + head + r"}\mathsf{" + verdict.status.value + r"}\ \text{(" + latex_text(verdict.method) + ")}"
        ]
        if verdict.residual is not None:
            rows.append(r"&\text{residual: } " + self._print(verdict.residual))
        if verdict.witness is not None:
            rows.append(r"&\text{witness: " + latex_text(str(verdict.witness)) + "}")
        if verdict.reason:
            rows.append(r"&\text{reason: " + latex_text(_truncate(verdict.reason)) + "}")
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"

    def _density_name(self, density: Any) -> str:
        name = density.name
        return self._print(sp.Symbol(name)) if len(name) == 1 else r"\mathrm{" + latex_text(name) + "}"

    def _print_Density(self, density: Any) -> str:
        xs = ", ".join(self._print(x) for x in density.x)
        ps = ", ".join(self._print(t) for t in density.params)
        args = f"{xs};\\ {ps}" if ps else xs
        support = ", ".join(self._print(s) for s in density.support_sets)
        where = f"{xs} \\in {support}" if density.dim == 1 else f"({xs}) \\in {self._print(density.support)}"
        body = self._print(density.expr)
        return f"{self._density_name(density)}\\left({args}\\right) = {body}, \\quad {where}"

    def _print_Flow(self, flow: Any) -> str:
        xs = ", ".join(self._print(x) for x in flow.density.x)
        title = f"{flow.kind} flow on {flow.density.name}" + (f" ({flow.note})" if flow.note else "")
        rows = [r"&\text{" + latex_text(title) + "}"]
        for theta, comps in flow.fields:
            body = self._print(comps[0]) if len(comps) == 1 else self._print(sp.Matrix(comps))
            rows.append(f"&u_{{{self._print(theta)}}}\\left({xs}\\right) = {body}")
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"

    def _print_Estimator(self, est: Any) -> str:
        p = est.density
        sampling = est.q if est.q is not None else p
        xs = ", ".join(self._print(x) for x in p.x)
        name = latex_text(est.name or "estimator")
        head = r"&\text{" + name + r"},\quad " + xs + r" \sim " + self._density_name(sampling)
        target = (
            r"\frac{\partial}{\partial "
            + self._print(est.wrt)
            + r"}\mathbb{E}_{"
            + self._density_name(p)
            + r"}\left[\phi\right] = \mathbb{E}\left[v \cdot \nabla\phi + \psi\,\phi\right]"
        )
        v = self._print(est.v[0]) if len(est.v) == 1 else self._print(sp.Matrix(est.v))
        rows = [head, "&" + target, f"&v = {v}", f"&\\psi = {self._print(est.psi)}"]
        if est.extra_terms:
            rows.append(r"&\text{plus " + str(len(est.extra_terms)) + " separately sampled surface term(s)}")
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


def proof_latex(proof: Any, **settings: Any) -> str:
    """A LaTeX fragment (text mode, amsmath) for ``proof``."""
    return ProofLatexPrinter({"target": "document", **settings}).doprint(proof)


_PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[T1]{fontenc}
\usepackage{lmodern}
\usepackage{amsmath,amssymb}
\usepackage[margin=2cm]{geometry}
\allowdisplaybreaks
\setlength{\parindent}{0pt}"""

_LEGEND = (
    "Generated by symflow. Every step is machine-checked by symflow.zero.decide\\_zero: "
    "\\textsf{proved} is a symbolic proof (or a randomized identity test with the error bound stated), "
    "\\textsf{consistent} is numeric evidence at 50 digits and not a proof, "
    "definitions need no check, and assumptions and arguments are stated but not machine-checked. "
    "A step whose check did not decide is marked \\textbf{NOT CHECKED}."
)


def proof_document(proofs: Sequence[Any], *, title: str = "Proofs", intro: str = "", **settings: Any) -> str:
    """A complete amsmath document holding ``proofs`` (compiles with pdflatex)."""
    if isinstance(proofs, str) or not isinstance(proofs, Sequence):
        raise SymflowError(f"proofs must be a sequence of Proof values, got {type(proofs).__name__}")
    if not isinstance(title, str) or not isinstance(intro, str):
        raise SymflowError("title and intro must be strings")
    body = [_PREAMBLE, r"\begin{document}", r"\section*{" + latex_text(title) + "}"]
    if intro:
        body.append(latex_text(intro) + r"\par\medskip")
    body.append(r"{\small " + _LEGEND + r"}\par")
    for proof in proofs:
        body.append(r"\bigskip\hrule")
        body.append(proof_latex(proof, **settings))
    body.append(r"\end{document}")
    return "\n".join(body) + "\n"
