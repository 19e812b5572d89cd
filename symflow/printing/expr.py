r"""The expression printer: SymPy's ``LatexPrinter``, writing the way people write.

``ExpressionLatexPrinter`` extends ``sympy.printing.latex.LatexPrinter``
(``_print_<ClassName>`` dispatch, options in the settings dict) with
symflow's values (``ProofStep``, ``Verdict``, ``Density``, ``Flow``,
``Estimator``, ``Step``), read by their attributes: printing imports nothing
else of symflow.  ``latex.ProofLatexPrinter`` adds whole proofs, laid out by
``document.py``.

Expressions are printed the way people write them:

* a sum does not start with a minus sign when it has a positive term
  (:math:`x - \mu`, not :math:`-\mu + x`);
* a product with an exponential puts the exponential last, and the Gaussian
  constants read :math:`\frac{1}{\sqrt{2\pi}\,\sigma}` (not
  :math:`\frac{\sqrt{2}}{2\sqrt{\pi}\sigma}`); a long exponent is written
  :math:`\exp(\dots)`;
* undefined functions of plain symbols print by their name (``p``, ``u_1``), and
  their derivatives as :math:`\frac{\partial p}{\partial x}`;
* long expressions are broken into named sub-expressions
  :math:`\mathcal{T}_1, \mathcal{T}_2, \dots` (setting ``max_expr_len``, in
  visible symbols), sub-expressions that occur more than once in a proof
  first, each written out once and reused by name afterwards.

Printing is pure: it returns strings and writes nothing.

One concept although long: one printer class; its methods are SymPy's per-node printing hooks, which
cannot be split across modules.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.printing.conventions import requires_partial
from sympy.printing.latex import LatexPrinter

from ..errors import SymflowError
from .text import latex_text, math_ascii, visible_len

__all__ = ["ExpressionLatexPrinter", "replace_kept"]


def _rebuild(expr: sp.Basic, args: list) -> sp.Basic:
    if all(a is b for a, b in zip(args, expr.args, strict=True)):
        return expr
    try:
        return expr.func(*args, evaluate=False)
    except TypeError:
        return expr.func(*args)


def replace_kept(expr: Any, mapping: dict) -> Any:
    """``expr`` with the sub-expressions in ``mapping`` replaced, nothing re-evaluated.

    ``xreplace`` rebuilds every node it passes and so evaluates a sum kept
    unevaluated on purpose (``a - a`` written out in a step would print as 0).
    """
    if not mapping or not isinstance(expr, sp.Basic):
        return expr
    got = mapping.get(expr)
    if got is not None:
        return got
    if not expr.args or isinstance(expr, sp.MatrixBase):
        return expr.xreplace(mapping) if isinstance(expr, sp.MatrixBase) else expr
    return _rebuild(expr, [replace_kept(a, mapping) for a in expr.args])


def _truncate(text: str, width: int = 400) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _is_bare(expr: Any) -> bool:
    """An undefined function of plain symbols (``p(x, theta)``): printed by its name alone."""
    return isinstance(expr, AppliedUndef) and all(isinstance(a, sp.Symbol) for a in expr.args)


def _gaussian_power(c: sp.Expr) -> int | None:
    """k when the positive number c is 1/(2 pi)^(k/2) with k odd (1/sqrt(2 pi), (2 pi)^(-3/2), ...), else None."""
    if not c.is_number or c.is_Rational or not c.is_positive:
        return None
    inv_sq = sp.powsimp(1 / c**2, force=True)
    for k in (1, 3, 5, 7, 9):
        if sp.expand(inv_sq - (2 * sp.pi) ** k) == 0:
            return k
    return None


class ExpressionLatexPrinter(LatexPrinter):
    r"""SymPy's LaTeX printer extended with symflow's values and written the way people write.

    Settings (besides SymPy's): ``target`` (``"document"`` or ``"notebook"``),
    ``max_expr_len`` (longest expression, in visible symbols -- LaTeX commands
    count one, braces and sizing none -- printed whole; longer ones are broken
    into named sub-expressions), ``min_sub_len`` (shortest sub-expression
    worth a name), ``sub_name`` (the LaTeX of the name stem), ``bare_functions``
    (print undefined functions of plain symbols by their name), ``exp_len``
    (an exponent longer than this, in visible symbols, is written
    ``\exp(...)``), ``label_prefix`` (the prefix of equation labels in documents).
    """

    _default_settings: dict[str, Any] = {
        **LatexPrinter._default_settings,
        "target": "document",
        "max_expr_len": 90,
        "min_sub_len": 12,
        "sub_name": r"\mathcal{T}",
        "bare_functions": True,
        "exp_len": 28,
        "repeat_len": 40,
        "label_prefix": "symflow",
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
    def _reset_names(self, expressions: Iterable[Any] = ()) -> None:
        """Forget every name; count how often each sub-expression occurs in ``expressions`` (one proof)."""
        self._names: dict[sp.Basic, sp.Symbol] = {}
        self._name_tex: dict[sp.Symbol, str] = {}
        self._defs: list[tuple[sp.Symbol, sp.Basic]] = []
        self._lengths: dict[sp.Basic, int] = {}
        counts: Counter = Counter()
        for e in expressions:
            if isinstance(e, sp.Basic):
                counts.update(s for s in sp.preorder_traversal(e) if isinstance(s, sp.Expr) and s.args)
        self._repeats = counts

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
        return replace_kept(expr, known) if known else expr

    def _candidates(self, expr: sp.Basic) -> list[sp.Basic]:
        """Proper sub-expressions of ``expr`` worth a name, the best first.

        Sub-expressions that occur more than once in the proof come first (a
        name saves writing them again), then the ones that save the most
        symbols here (length times occurrences in ``expr``).
        """
        here: Counter = Counter(
            s
            for s in sp.preorder_traversal(expr)
            if s is not expr and isinstance(s, sp.Expr) and s.args and not isinstance(s, sp.Symbol)
        )
        least = self._settings["min_sub_len"]
        out = [s for s in here if self._len(s) >= least]
        return sorted(out, key=lambda s: (self._repeats.get(s, 0) < 2, -self._len(s) * here[s]))

    def shorten(self, expr: Any, defining: Any = None) -> Any:
        """``expr`` with sub-expressions replaced by names until it fits ``max_expr_len``.

        A sub-expression named earlier in the proof is printed by its name
        wherever it appears again, so no long expression is written out twice;
        among new names, sub-expressions that repeat in the proof are chosen first.
        """
        limit = self._settings["max_expr_len"]
        if not isinstance(expr, sp.Basic) or not expr.args:
            return expr
        current = self._reuse_names(expr, defining)
        # A long sub-expression that occurs again elsewhere in the proof is named even when this one fits.
        long_repeat = self._settings["repeat_len"]
        for c in self._candidates(current) if isinstance(current, sp.Basic) else ():
            repeated = self._repeats.get(c, 0) >= 2 and self._len(c) >= long_repeat
            if repeated and c != defining and c in _subtrees(current):
                current = replace_kept(current, {c: self._name(c)})
        while isinstance(current, sp.Basic) and current.args and self._len(current) > limit:
            candidates = self._candidates(current)
            repeated = [c for c in candidates if self._repeats.get(c, 0) >= 2]
            # A repeated part first; else the largest direct argument (the shape stays readable).
            direct = [a for a in current.args if a in candidates]
            pick = repeated[0] if repeated else (max(direct, key=self._len) if direct else None)
            if pick is None:
                break
            current = replace_kept(current, {pick: self._name(pick)})
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

    # -- SymPy overrides: writing like a person --------------------------------------------
    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        named = self._name_tex.get(expr)
        if named is not None:
            return named
        if _WORDY.search(expr.name):
            # a quantity named in words by a check ("E_q[psi]", "dV/db"): upright text, not subscripts
            return r"\text{" + latex_text(expr.name) + "}"
        return math_ascii(super()._print_Symbol(expr, style))

    def _ordered_terms(self, expr: sp.Add, order: str | None = None) -> list:
        """The terms of a sum in the order people write them (see ``_print_Add``)."""
        terms = list(self._as_ordered_terms(expr, order=order))
        if terms and terms[0].could_extract_minus_sign():
            # x - mu, not -mu + x: the first positive term leads.
            positive = [i for i, t in enumerate(terms) if not t.could_extract_minus_sign()]
            with_var = [i for i in positive if terms[i].free_symbols & self._variables]
            lead = (with_var or positive or [None])[0]
            if lead is not None:
                terms.insert(0, terms.pop(lead))
        return _alike_in_order(terms)

    def _print_Add(self, expr: sp.Add, order: str | None = None) -> str:
        terms = self._ordered_terms(expr, order)
        tex = ""
        for i, term in enumerate(terms):
            if i == 0:
                pass
            elif term.could_extract_minus_sign():
                tex += " - "
                term = -term
            else:
                tex += " + "
            term_tex = self._print(term)
            if self._needs_add_brackets(term):
                term_tex = r"\left(" + term_tex + r"\right)"
            tex += term_tex
        return tex

    def _print_Mul(self, expr: sp.Mul) -> str:
        factors = sp.Mul.make_args(expr)
        exps = [f for f in factors if isinstance(f, sp.exp)]
        rest = [f for f in factors if not isinstance(f, sp.exp)]
        if exps and rest and not any(r.has(sp.exp) for r in rest):
            # The prefactor first, the exponential last: (1/(sqrt(2 pi) sigma)) e^{...}.
            front = sp.Mul(*rest) if not (len(rest) == 2 and any(r.is_Number for r in rest)) else None
            if front is None:
                front = sp.Mul(*rest, evaluate=False)
            sign = ""
            if front.could_extract_minus_sign():
                sign, front = "- ", -front
            if front == 1:
                head = ""
            elif isinstance(front, sp.Add):
                head = r"\left(" + self._print(front) + r"\right) "
            else:
                head = self._print(front) + " "
            tail = " ".join(self._print(e) for e in exps)
            return sign + head + tail
        gaussian = self._gaussian_mul(expr)
        if gaussian is not None:
            return gaussian
        kept = self._kept_product(expr)
        if kept is not None:
            return kept
        return super()._print_Mul(expr)

    def _kept_product(self, expr: sp.Mul) -> str | None:
        """A product written out on purpose (u times d log p/dx) with two or more fractions: a . b, in its order."""
        args = expr.args
        fractions = [a for a in args if sp.fraction(a)[1] != 1]
        if len(args) < 2 or len(fractions) < 2 or any(a.is_Number for a in args):
            return None
        if sp.Mul(*args).args == args:
            return None  # an ordinary, evaluated product
        parts = []
        for a in args:
            tex = self._print(a)
            parts.append(r"\left(" + tex + r"\right)" if a.could_extract_minus_sign() or a.is_Add else tex)
        return r" \cdot ".join(parts)

    def _gaussian_mul(self, expr: sp.Mul) -> str | None:
        """c * rest with c = 1/(2 pi)^(k/2), k odd, as \\frac{num}{\\sqrt{2\\pi} den}; None otherwise."""
        factors = sp.Mul.make_args(expr)
        numbers = [f for f in factors if f.is_number]
        if len(numbers) < 2:
            return None
        k = _gaussian_power(sp.Mul(*numbers))
        if k is None:
            return None
        rest = sp.Mul(*[f for f in factors if not f.is_number])
        num, den = sp.fraction(rest)
        const = r"\sqrt{2 \pi}" if k == 1 else r"\left(2 \pi\right)^{" + f"{k}/2" + "}"
        if den == 1:
            den_tex = const
        else:
            den_tex = const + " " + (r"\left(" + self._print(den) + r"\right)" if den.is_Add else self._print(den))
        return r"\frac{" + self._print(num) + "}{" + den_tex + "}"

    def _print_ExpBase(self, expr: sp.Expr, exp: Any = None) -> str:
        arg = self._print(expr.args[0])
        if visible_len(arg) > self._settings["exp_len"]:
            tex = r"\exp\left(" + arg + r"\right)"
        else:
            tex = "e^{" + arg + "}"
        return self._do_exponent(tex, exp)

    def _print_Pow(self, expr: sp.Pow) -> str:
        base, power = expr.args
        if (
            isinstance(base, sp.Add)
            and power.is_Integer
            and power.is_even
            and self._variables
            and _prefers_flip(base, self._variables)
        ):
            # (x - mu)^2, not (mu - x)^2: an even power does not see the sign
            return super()._print_Pow(sp.Pow(-base, power, evaluate=False))
        return super()._print_Pow(expr)

    def _print_Abs(self, expr: sp.Abs, exp: Any = None) -> str:
        arg = expr.args[0]
        if isinstance(arg, sp.Add) and self._variables and _prefers_flip(arg, self._variables):
            arg = -arg  # |x - mu|, not |mu - x|: the variable leads
        tex = r"\left|{" + self._print(arg) + r"}\right|"
        return self._do_exponent(tex, exp) if exp is not None else tex

    @property
    def _variables(self) -> frozenset:
        return getattr(self, "_variable_set", frozenset())

    def set_variables(self, variables: Iterable[sp.Symbol]) -> None:
        """The variables of the proof being printed (they lead in |x - mu|)."""
        self._variable_set = frozenset(variables)

    def _print_Function(self, expr: Any, exp: Any = None) -> str:
        if self._settings["bare_functions"] and _is_bare(expr):
            tex = self._print(sp.Symbol(expr.func.__name__))
            return f"{tex}^{{{exp}}}" if exp is not None else tex
        return super()._print_Function(expr, exp)

    def _print_Derivative(self, expr: sp.Derivative) -> str:
        diff = r"\partial" if requires_partial(expr.expr) else "d"
        parts, order = [], 0
        for var, count in reversed(expr.variable_count):
            order += count
            power = "" if count == 1 else f"^{{{self._print(count)}}}"
            parts.append(f"{diff} {self._print(var)}{power}")
        top = diff if order == 1 else f"{diff}^{{{self._print(order)}}}"
        if self._settings["bare_functions"] and _is_bare(expr.expr):
            # dp/dx, as written by hand
            return f"\\frac{{{top} {self._print(expr.expr)}}}{{{' '.join(parts)}}}"
        if not isinstance(expr.expr, sp.Mul | sp.Add):
            return super()._print_Derivative(expr)
        # SymPy prints d/dx (a b) as "d/dx a b", which reads as (d/dx a) b: bracket sums and products.
        return f"\\frac{{{top}}}{{{' '.join(parts)}}}\\left({self._print(expr.expr)}\\right)"

    def _print_Subs(self, subs: sp.Subs) -> str:
        expr, old, new = subs.args
        body = self._print(expr)
        stem_old = {re.sub(r"_\d+$", "", str(v)) for v in old}
        stem_new = {re.sub(r"_\d+$", "", f.func.__name__) if _is_bare(f) else None for f in new}
        if len(old) > 1 and len(stem_old) == 1 and len(stem_new) == 1 and None not in stem_new:
            # eps_1 = S_1, ..., eps_d = S_d: one vector equation, eps = S
            at = f"{self._print(sp.Symbol(stem_old.pop()))}={self._print(sp.Symbol(stem_new.pop()))}"
        else:
            at = ", ".join(f"{self._print(o)}={self._print(n)}" for o, n in zip(old, new, strict=True))
        return r"\left. " + body + r" \right|_{" + at + "}"

    # -- proof steps (the layout of whole proofs is in document.py) ------------------------------
    def _print_ProofStep(self, step: Any) -> str:
        lhs, rhs = self._print(self.shorten(step.lhs)), self._print(self.shorten(step.rhs))
        return f"{lhs} = {rhs}"

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

    def _print_MCResult(self, r: Any) -> str:
        head = latex_text(r.claim) + ": " if r.claim else "Monte Carlo check: "
        rows = [r"&\text{" + head + r"}\mathsf{" + r.status.value + "}"]
        mean = rf"\bar{{E}} = {r.mean:.10g} \pm {r.stderr:.3g}\ (n = {r.n})"
        rows.append("&" + mean)
        if r.exact is not None:
            rows.append(rf"&\text{{exact}} = {r.exact:.15g} \quad \text{{({latex_text(_truncate(r.exact_method))})}}")
        else:
            rows.append(r"&\text{exact: unavailable (" + latex_text(_truncate(r.exact_method)) + ")}")
        if r.z is not None:
            rows.append(rf"&z = {r.z:.3f},\quad \alpha = {r.alpha:g},\quad \delta = {r.delta:.3g}")
        if r.reason:
            rows.append(r"&\text{reason: " + latex_text(_truncate(r.reason)) + "}")
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"

    def _density_name(self, density: Any) -> str:
        name = density.name
        return self._print(sp.Symbol(name)) if len(name) == 1 else r"\mathrm{" + latex_text(name) + "}"

    def _print_Density(self, density: Any) -> str:
        self.set_variables(density.x)
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
        rows.extend("&+ " + self._extra_term(t) for t in est.extra_terms)
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"

    def _extra_term(self, term: Any) -> str:
        """One extra term of an estimator (sampled apart from x ~ q), by its class's printer or its text."""
        method = getattr(self, f"_print_{type(term).__name__}", None)
        return method(term) if method is not None else r"\text{" + latex_text(str(term)) + "}"

    def _print_SurfaceTerm(self, term: Any) -> str:
        jump = r"\Delta\phi" if term.level is not None else r"\phi"
        at = ", ".join(f"{self._print(term.coordinate)} = {self._print(s)}" for s in term.branches)
        body = r"\left. " + self._print(term.weight) + r"\," + jump + r" \right|_{" + at + "}"
        if term.q_M is not None:
            others = r"\, ".join("d" + self._print(x) for x in term.others)
            body = r"\int " + body + r"\, " + others
        name = latex_text(term.description or f"{term.kind} term (Eq. {term.equation})")
        return body + r" \quad \text{(" + name + ")}"

    def _print_GOTerm(self, term: Any) -> str:
        y = self._print(term.y)
        return (
            self._print(term.weight)
            + r"\left(\phi("
            + y
            + r" + 1) - \phi("
            + y
            + r")\right)"
            + r" \quad \text{(GO jump term, Eq. 73)}"
        )

    def _print_MVDTerm(self, term: Any) -> str:
        return (
            self._print(term.c)
            + r"\left(\phi(x^{+}) - \phi(x^{-})\right) \quad \text{(measure-valued term, "
            + latex_text(term.coupling_name)
            + ")}"
        )


_WORDY = re.compile(r"[\[\]/ ()]")


def _subtrees(expr: sp.Basic) -> set:
    return set(sp.preorder_traversal(expr))


def _alike_in_order(terms: list) -> list:
    """Terms of one sign and one size (x_1, x_2, x_3 parts of a sum) in the order of their symbols' names."""
    if len(terms) < 2 or any(t.is_number for t in terms):
        return terms
    signs = {t.could_extract_minus_sign() for t in terms[1:]}
    sizes = {sp.count_ops(t) for t in terms}
    if len(signs) != 1 or len(sizes) != 1 or terms[0].could_extract_minus_sign() not in signs:
        return terms
    return sorted(terms, key=lambda t: sorted(str(s) for s in t.free_symbols))


def _prefers_flip(arg: sp.Add, variables: frozenset) -> bool:
    """True when -arg puts a variable in the lead: every term with a variable is negative, some other is not."""
    with_var = [t for t in arg.args if t.free_symbols & variables]
    without = [t for t in arg.args if not t.free_symbols & variables]
    return bool(with_var) and all(t.could_extract_minus_sign() for t in with_var) and bool(without)
