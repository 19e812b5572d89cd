"""Machine-checking proof steps with ``decide_zero``.

A step ``lhs = rhs`` is checked by turning it into a residual that must
vanish and handing that to ``symflow.zero.decide_zero`` (the one place that
turns residuals into verdicts):

* basis ``previous``: ``rhs_k - rhs_j`` where step j is the step it follows
  from (the latest earlier step with the same ``lhs``, or the one named);
* basis ``identity``: ``lhs - rhs``.

Before the test, unevaluated ``Derivative`` and ``Subs`` objects are
evaluated (``.doit()``), substitutions the step is ``given`` are applied
first (each one an earlier, stated assumption), and mixed partial
derivatives of undefined functions are put in one order (Schwarz: the
functions are assumed twice continuously differentiable).  Residuals that
still hold undefined functions are decided symbolically only, since there
is nothing to evaluate numerically.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import sympy as sp
from sympy.core.function import AppliedUndef

from ..core.budget import BudgetExceeded, bounded, expired, remaining, run_with_budget
from ..core.convert import as_expr
from ..core.domain import Domain
from ..core.steps import Basis, Proof, ProofStep, Step, proof_steps
from ..core.verdict import Status, Verdict
from ..errors import SymflowError
from ..zero import decide_zero

__all__ = ["check_proof", "check_steps", "evaluate_derivatives", "step_residual"]


_SLOTS = tuple(sp.Symbol(f"_symflow_slot_{k}") for k in range(1, 17))


def _positional(d: sp.Derivative) -> sp.Expr:
    """A derivative of an undefined function as "the k-th partial at these arguments".

    SymPy writes the chain rule in several shapes (``Derivative(g(S, t), S)``,
    ``Subs(Derivative(g(S, xi), xi), xi, t)``, ``Subs(Derivative(g(e, t), e), e, S)``);
    all become ``Subs(Derivative(g(z1, z2), z_k, ...), (z1, z2), args)`` with fixed slot
    symbols, so equal derivatives are equal atoms.  The partials are sorted
    (Schwarz: the functions are assumed twice continuously differentiable).
    """
    f = d.expr
    args = f.args
    if len(args) > len(_SLOTS):
        return d
    slots: list[int] = []
    for v, count in d.variable_count:
        where = [k for k, a in enumerate(args) if a == v]
        inside = [k for k, a in enumerate(args) if a != v and v in a.free_symbols]
        if len(where) != 1 or inside:
            return d  # not a partial derivative in one argument slot: leave it alone
        slots.extend([where[0]] * int(count))
    zs = _SLOTS[: len(args)]
    return sp.Subs(sp.Derivative(f.func(*zs), *[zs[k] for k in sorted(slots)]), zs, args)


def _merge_slot_subs(s: sp.Subs) -> sp.Expr:
    """One canonical Subs over the slot symbols only.

    SymPy merges ``Subs(Subs(D, slots, args), xi, t)`` into one Subs whose
    extra variables act on the slot arguments (``xi -> t`` inside ``args``);
    apply them, so the result substitutes the slots and nothing else.
    """
    pairs = list(zip(s.variables, s.point, strict=True))
    slot_pairs = [(v, p) for v, p in pairs if v in _SLOTS]
    extra = {v: p for v, p in pairs if v not in _SLOTS}
    if not slot_pairs:
        return s.doit(deep=False)
    slot_pairs.sort(key=lambda vp: _SLOTS.index(vp[0]))
    return sp.Subs(s.expr, tuple(v for v, _ in slot_pairs), tuple(p.xreplace(extra) for _, p in slot_pairs))


def _canonical_derivatives(expr: sp.Expr) -> sp.Expr:
    out = expr.replace(
        lambda e: isinstance(e, sp.Derivative) and isinstance(e.expr, AppliedUndef),
        _positional,
    )
    return out.replace(lambda e: isinstance(e, sp.Subs), _merge_slot_subs)


def _merged_derivative(d: sp.Derivative) -> sp.Expr:
    """d/dv_n ... d/dv_1 f taken one variable at a time, innermost first, each with SymPy's ``diff``."""
    out = d.expr
    for v, n in d.variable_count:
        out = sp.diff(out, v, n)
    return out


def evaluate_derivatives(expr: sp.Expr) -> sp.Expr:
    """Evaluate unevaluated ``Derivative``/``Subs`` objects and put derivatives in one form.

    Only derivatives and substitutions are evaluated: ``Integral`` and ``Sum``
    stay as they are (integrating could take unbounded time).
    """
    if not isinstance(expr, sp.Basic):
        return as_expr(expr, "step side") if isinstance(expr, int | float) else expr
    # Held products (UnevaluatedExpr keeps "p times R" as written in a recorded step) are released first.
    out = expr.replace(lambda e: isinstance(e, sp.UnevaluatedExpr), lambda e: e.args[0])
    out = out.replace(lambda e: isinstance(e, sp.Derivative | sp.Subs), lambda e: e.doit(deep=False))
    # A second pass: evaluating an outer Derivative can expose inner ones.
    out = out.replace(lambda e: isinstance(e, sp.Derivative | sp.Subs), lambda e: e.doit(deep=False))
    # A mixed derivative of a known function left over (d/dx of d/dalpha of an incomplete beta): SymPy can
    # often take the inner one once the outer is merged into it, as it does when differentiating directly.
    out = out.replace(
        lambda e: isinstance(e, sp.Derivative) and len(e.variables) > 1 and not e.atoms(AppliedUndef),
        lambda e: _merged_derivative(e),
    )
    if not out.atoms(AppliedUndef):
        return out
    return _canonical_derivatives(out)


def _apply_given(expr: sp.Expr, given: Iterable[tuple[sp.Expr, sp.Expr]]) -> sp.Expr:
    for old, new in given:
        expr = expr.xreplace({old: new})
    return expr


def step_residual(step: ProofStep, previous_rhs: sp.Expr | None = None) -> sp.Expr:
    """The expression that must vanish for ``step`` to hold (after evaluating derivatives)."""
    if step.basis is Basis.PREVIOUS:
        if previous_rhs is None:
            raise ValueError("a 'previous' step needs the right-hand side it follows from")
        raw = step.rhs - previous_rhs
    else:
        raw = step.lhs - step.rhs
    return evaluate_derivatives(_apply_given(raw, step.given))


def _decide(residual: sp.Expr, domain: Domain, timeout: float | None, claim: str) -> Verdict:
    # Undefined functions have no values: only the symbolic strategies can decide.
    numeric = not residual.atoms(AppliedUndef)
    try:
        return decide_zero(residual, domain, timeout=timeout, claim=claim, numeric=numeric)
    except Exception as exc:  # noqa: BLE001 - a failing check is reported on the step, not raised
        return Verdict(
            Status.UNKNOWN, "decide_zero", residual, reason=f"the check raised {type(exc).__name__}: {exc}", claim=claim
        )


def _decide_factor(residual: sp.Expr, domain: Domain, timeout: float | None, claim: str) -> Verdict:
    """decide_zero, and when it cannot decide a product u (A - B), each factor: one that vanishes settles it."""
    verdict = _decide(residual, domain, timeout, claim)
    if verdict.status is not Status.UNKNOWN:
        return verdict
    product = sp.factor_terms(residual)
    if isinstance(product, sp.Mul):
        for factor in product.args:
            if factor.is_number:
                continue
            v = _decide(factor, domain, timeout, claim)
            if v.status is Status.PROVED:
                return Verdict(Status.PROVED, f"a factor vanishes: {v.method}", residual, claim=claim)
    return verdict


def _term_residuals(step: ProofStep, previous: sp.Add) -> tuple[list, list]:
    ours = [evaluate_derivatives(t) for t in step.rhs.args]
    theirs = [evaluate_derivatives(_apply_given(t, step.given)) for t in previous.args]
    return ours, [t for t in theirs if t != 0]


def _termwise(step: ProofStep, previous: sp.Expr, domain: Domain, timeout: float | None, claim: str) -> Verdict | None:
    """A sum checked term by term against the sum it follows from, when the whole was not decided.

    Both sides are sums written term for term (the substituted form of
    ``div u + u . grad log p + dlog p/dtheta`` against its terms written out);
    terms that vanish after the substitution are dropped.  None when the sums do
    not line up or a term is not decided.
    """
    if not isinstance(step.rhs, sp.Add) or not isinstance(previous, sp.Add):
        return None
    try:
        ours, theirs = run_with_budget(
            _term_residuals, step, previous, timeout=remaining(timeout), what="evaluating the terms' derivatives"
        )
    except BudgetExceeded:
        return None
    if len(ours) != len(theirs):
        return None
    verdicts = [_decide_factor(a - b, domain, timeout, claim) for a, b in zip(ours, theirs, strict=True)]
    if any(v.status not in (Status.PROVED, Status.CONSISTENT) for v in verdicts):
        return None
    status = min((v.status for v in verdicts), key=lambda st: st.strength)
    methods = "; ".join(dict.fromkeys(v.method for v in verdicts))
    return Verdict(status, f"term by term ({len(verdicts)} terms): {methods}", step.rhs - previous, claim=claim)


def _out_of_budget(claim: str) -> Verdict:
    return Verdict(
        Status.UNKNOWN,
        "not checked",
        None,
        reason="the call's budget ran out before this step; raise timeout=",
        claim=claim,
    )


# Steps with fewer nodes than this form their residual in-process (measured: < 0.05 s, where a budgeted
# child costs ~0.05 s to fork); the 3x3 GRP trace steps (500-3300 nodes) took 0.2-2.6 s each.
_INLINE_NODES = 150


def _residual_within_budget(step: ProofStep, previous: sp.Expr | None, timeout: float | None) -> sp.Expr:
    """``step_residual`` under the budget: carrying out the derivatives of a determinant of undefined
    functions is seconds of SymPy work, so a large step runs as a budgeted step (``BudgetExceeded``)."""
    parts = (step.lhs, step.rhs, previous, *(e for pair in step.given for e in pair))
    size = sum(sum(1 for _ in sp.preorder_traversal(e)) for e in parts if isinstance(e, sp.Basic))
    if size < _INLINE_NODES:
        return step_residual(step, previous)
    return run_with_budget(
        step_residual, step, previous, timeout=remaining(timeout), what="forming the step's residual"
    )


@bounded
def check_steps(
    steps: Iterable[Step | ProofStep],
    domain: Domain | None = None,
    *,
    timeout: float | None = None,
) -> tuple[ProofStep, ...]:
    """Check every step of a derivation and return the steps with their verdicts.

    Parameters
    ----------
    steps : iterable of Step or ProofStep
        ``Step`` values (as recorded by ``derive``) get a basis from their
        shape: a step whose ``lhs`` appeared before follows from that step; a
        new bare Symbol on the left is a definition; anything else must be an
        identity.  ``ProofStep`` values keep their basis, and a verdict they
        already carry is kept.
    domain : Domain, optional
        Where the symbols live (for numeric test points); symbols it does not
        know get intervals from their assumptions.
    timeout : float, optional
        Budget in seconds for the whole call (default: the global one); every step's check gets what is left.

    Returns
    -------
    tuple of ProofStep
        Each checkable step carries a ``Verdict``; a check that could not
        decide carries an ``unknown`` verdict with its reason.
    """
    if isinstance(steps, str | bytes | sp.Basic) or not isinstance(steps, Iterable):
        raise SymflowError(f"steps must be a sequence of Step or ProofStep values, got {type(steps).__name__}")
    if domain is not None and not isinstance(domain, Domain):
        raise SymflowError(f"domain must be a Domain or None, got {type(domain).__name__}")
    known = frozenset(s for s, _ in domain.variables + domain.parameters) if domain is not None else frozenset()
    out: list[ProofStep] = []
    for k, step in enumerate(proof_steps(tuple(steps), known)):
        if step.basis is Basis.PREVIOUS and step.follows is None:
            same = [j for j in range(k - 1, -1, -1) if out[j].lhs == step.lhs]
            if k == 0:
                raise ValueError("the first step cannot follow from a previous one; make it a definition")
            step = replace(step, follows=(same[0] if same else k - 1) + 1)
        if step.needs_check and step.verdict is None:
            previous = out[step.follows - 1].rhs if step.basis is Basis.PREVIOUS else None
            claim = f"step {k + 1}: {step.rule}"
            if expired():  # the call's budget is spent: the remaining steps stay unchecked, at once
                out.append(step.with_verdict(_out_of_budget(claim)))
                continue
            try:
                residual = _residual_within_budget(step, previous, timeout)
            except BudgetExceeded as exc:
                verdict = Verdict(
                    Status.UNKNOWN, "forming the residual", None, reason=f"{exc}; raise timeout=", claim=claim
                )
            except Exception as exc:  # noqa: BLE001 - report, never hide, a step we cannot even form
                verdict = Verdict(
                    Status.UNKNOWN, "forming the residual", None, reason=f"{type(exc).__name__}: {exc}", claim=claim
                )
            else:
                symbols = residual.free_symbols if isinstance(residual, sp.Basic) else set()
                dom = (domain or Domain()).extended(symbols)
                verdict = _decide(residual, dom, timeout, claim)
                if verdict.status is Status.UNKNOWN and previous is not None:
                    verdict = _termwise(step, previous, dom, timeout, claim) or verdict
            step = step.with_verdict(verdict)
        out.append(step)
    return tuple(out)


@bounded
def check_proof(proof: Proof, domain: Domain | None = None, *, timeout: float | None = None) -> Proof:
    """The same proof with every unchecked step checked (see ``check_steps``); ``domain`` defaults to the proof's."""
    if not isinstance(proof, Proof):
        raise SymflowError(f"check_proof takes a Proof (e.g. est.derivation()), got {type(proof).__name__}")
    return replace(proof, steps=check_steps(proof.steps, domain or proof.domain, timeout=timeout))
