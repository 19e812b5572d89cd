"""Deciding whether a residual vanishes: the engine behind every verdict.

``decide_zero`` runs the strategies in order, all under one time budget:

1. structural: the residual is literally 0, or expands to the literal 0
   when expansion is cheap (a deterministic proof);
2. polynomial-identity test on the (abstracted) rational form — ``proved``
   with an error bound <= 1e-30, or a certain refutation when the residual is
   a genuine rational function;
   then a quick pass of the numeric test of step 4 (random points only), whose
   confirmed nonzero value refutes at once;
3. symbolic canonical forms (cancel, simplify, special-function rewrites);
   a form that is literally 0 proves it, and the identity test is re-run on
   each rewritten form;
4. high-precision numeric evaluation over the domain: ``consistent``
   (never ``proved``) or ``refuted`` with a witness.

Every numeric refutation passes ``_refuted``: its witness must lie in the
domain and SymPy's ``evalf`` of the residual at the exact point, at two
precisions, must reproduce the value (``witness.confirm_witness``); a witness
the independent route does not reproduce gives ``unknown`` naming both values.

Whatever is left is ``unknown`` with the reasons collected on the way.
"""

from __future__ import annotations

import time

import mpmath
import sympy as sp
from mpmath.libmp import NoConvergence

from ..core.budget import SYMPY_GAVE_UP, BudgetExceeded, bounded, resolve_timeout, run_with_budget
from ..core.convert import MAX_DEPTH, as_residual, exact_floats, expression_depth
from ..core.domain import Domain
from ..core.verdict import Status, Verdict, Witness
from .expansion import expands_to_zero
from .numeric import HIGH_DPS, LOW_DPS, numeric_zero_test
from .polynomial import polynomial_identity_test
from .rewrites import strategies_for

__all__ = ["decide_zero", "proves_zero"]


def _pit_method(res) -> str:
    kind = "abstracted " if res.abstracted else ""
    return (
        f"randomized polynomial-identity test on the {kind}rational form "
        f"({res.trials} exact point(s), degree <= {res.degree_bound}, error <= {res.error_bound:.1e})"
    )


def _try_pit(expr: sp.Expr, timeout: float, finite_discrete: bool):
    if finite_discrete:
        return None  # a polynomial can vanish on a finite grid without being zero
    try:
        return run_with_budget(polynomial_identity_test, expr, timeout=timeout, what="identity test")
    except (BudgetExceeded, *SYMPY_GAVE_UP):
        return None


class _Deadline:
    """One budget for the whole decision: each step gets what is left of it.

    So ``decide_zero(..., timeout=t)`` returns within about t seconds (plus the
    cost of starting the last worker), however many strategies are tried.
    """

    def __init__(self, budget: float) -> None:
        self.budget = budget
        self.end = time.monotonic() + budget

    def left(self) -> float:
        return self.end - time.monotonic()

    def spent(self) -> bool:
        return self.left() < MIN_STEP

    def step(self) -> float:
        return max(self.left(), MIN_STEP)


# A step is not started with less than this many seconds left.
MIN_STEP = 0.05


def _numeric(
    residual: sp.Expr, domain: Domain, deadline: _Deadline, reasons: list[str], share: float = 1.0, quick: bool = False
):
    """The numeric test's result, or None (its reason recorded) when the budget runs out.

    ``share`` of what is left of the budget: the test stops itself then (so the
    early pass leaves time for the symbolic rewrites), and the forked step gets
    a little longer so that the test, not the kill, ends it.
    """
    if deadline.spent():
        reasons.append(f"numeric test skipped: the {deadline.budget:g} s budget is used up")
        return None
    allowed = max(deadline.left() * share, MIN_STEP)
    until = time.monotonic() + allowed
    try:
        return run_with_budget(
            _numeric_until,
            residual,
            domain,
            until,
            quick,
            timeout=min(deadline.step(), allowed + 1.0),
            what="numeric test",
        )
    except BudgetExceeded as exc:
        reasons.append(str(exc))
        return None
    except NoConvergence as exc:  # an mpmath root or series search on this residual did not converge
        reasons.append(f"numeric test: mpmath did not converge ({exc})")
        return None


def _numeric_until(residual: sp.Expr, domain: Domain, until: float, quick: bool):
    return numeric_zero_test(residual, domain, until=until, quick=quick)


# Share of the budget the first (quick) numeric pass may use before the symbolic rewrites run,
# and the share of the whole budget the rewrites leave for the full numeric test after them.
EARLY_NUMERIC_SHARE = 0.4
NUMERIC_RESERVE_SHARE = 0.3


def _refuted(num, residual: sp.Expr, domain: Domain, claim: str) -> Verdict | None:
    """The refutation by a numeric witness, or None when the witness does not stand.

    A witness stands only when it lies in the domain and was confirmed by an
    independent route (evalf at two precisions: ``numeric_zero_test`` records
    the confirmation, made inside its own budget).
    """
    point = num.witness_point
    if num.outcome != "nonzero" or not num.confirmed_by or not domain.extended(set(point)).contains(point):
        return None
    low, high = num.digits
    witness = Witness(tuple(point.items()), num.value_high, num.value_low, (low, high))
    return Verdict(
        Status.REFUTED,
        f"mpmath evaluation at {low} and {high} digits, confirmed by evalf",
        residual,
        witness,
        claim=claim,
        details=(("evalf at the witness", num.confirmed_by[-1]),),
    )


def _disputed(num, reasons: list[str]) -> None:
    point = ", ".join(f"{k} = {mpmath.nstr(v, 12)}" for k, v in num.witness_point.items())
    reasons.append(
        f"the numeric test found {mpmath.nstr(num.value_high, 12)} at {point}, but it does not stand: {num.note}"
    )


@bounded
def decide_zero(
    residual: sp.Expr,
    domain: Domain,
    *,
    timeout: float | None = None,
    claim: str = "",
    numeric: bool = True,
) -> Verdict:
    """Decide whether ``residual`` is zero for every point of ``domain``.

    Parameters
    ----------
    residual : sympy.Expr
        The expression that has to vanish.
    domain : Domain
        Where its variables and parameters live (for numeric test points).
    timeout : float, optional
        Budget in seconds for the whole decision (default: the global one);
        each step gets what is left, so the call returns within about this
        time.  Running out gives ``unknown``, never another verdict.
    claim : str
        Text recorded on the verdict.
    numeric : bool
        Whether to fall back to high-precision numeric evaluation.

    Examples
    --------
    >>> import sympy as sp
    >>> from symflow import Domain, decide_zero
    >>> x = sp.Symbol("x", real=True)
    >>> decide_zero(sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1, Domain().extended({x})).status.value
    'proved'
    >>> v = decide_zero(x * sp.Abs(x) - x**2, Domain().extended({x}))
    >>> v.status.value, v.witness.as_dict()[x] < 0
    ('refuted', True)
    """
    residual = as_residual(residual, domain)  # commuting scalars only (A*B - B*A is not 0), a Domain
    budget = resolve_timeout(timeout)
    deadline = _Deadline(budget)
    if expression_depth(residual) > MAX_DEPTH:
        # SymPy's walks recurse once per level, symflow's own do not: decided up front, not by which
        # walk happens to meet the depth first (an iterative one then spent the budget on it)
        return Verdict(
            Status.UNKNOWN,
            "none (the residual is too deeply nested)",
            None,
            reason=f"the residual is nested more than {MAX_DEPTH} levels deep, too deeply for SymPy's "
            "recursive algorithms",
            claim=claim,
        )
    try:
        return _decide(residual, domain, deadline, claim, numeric)
    except RecursionError:
        # SymPy's tree walks recurse once per level: a residual nested a few hundred
        # levels deep cannot be analysed here, which is not evidence either way.
        return Verdict(
            Status.UNKNOWN,
            "none (the residual is too deeply nested)",
            None,
            reason="the residual is nested too deeply for SymPy's recursive algorithms (RecursionError)",
            claim=claim,
        )


def _decide(residual: sp.Expr, domain: Domain, deadline: _Deadline, claim: str, numeric: bool) -> Verdict:
    if residual == 0:
        return Verdict(Status.PROVED, "structural: the residual is identically 0", residual, claim=claim)
    if expands_to_zero(residual):  # in process: its work is bounded by a term count, not a budget
        return Verdict(
            Status.PROVED, "structural: expands to the literal 0 term by term (deterministic)", residual, claim=claim
        )
    exact = exact_floats(residual)
    finite_discrete = domain.has_finite_discrete()
    reasons: list[str] = []

    res = _try_pit(exact, deadline.step(), finite_discrete)
    rational_nonzero = False
    if res is not None:
        if res.zero:
            return Verdict(Status.PROVED, _pit_method(res), residual, claim=claim)
        rational_nonzero = not res.abstracted

    if numeric and not rational_nonzero:
        # Rewrites can only prove; a value that is clearly nonzero at two precisions
        # refutes at once, so a wrong claim need not wait seconds for simplify.
        # The quick pass (random points only) may take a share of the budget; the full test,
        # landmarks included, runs after the rewrites when they prove nothing.
        num = _numeric(residual, domain, deadline, [], EARLY_NUMERIC_SHARE, quick=True)
        if num is not None and num.outcome == "nonzero":
            refuted = _refuted(num, residual, domain, claim)
            if refuted is not None:
                return refuted
    # The full numeric test keeps a share of the budget for itself after the rewrites.
    reserve = NUMERIC_RESERVE_SHARE * deadline.budget if numeric and not rational_nonzero else 0.0
    if not rational_nonzero:
        for name, strategy in strategies_for(exact):
            room = deadline.left() - reserve
            if room < MIN_STEP:
                used = "used up" if deadline.spent() else f"kept for the numeric test ({reserve:.2g} s)"
                reasons.append(f"{name} skipped: the rest of the {deadline.budget:g} s budget is {used}")
                continue
            try:
                form = run_with_budget(strategy, exact, timeout=room, what=name)
            except BudgetExceeded as exc:
                reasons.append(str(exc))
                continue
            except Exception as exc:  # noqa: BLE001 - a failing rewrite is just not a proof
                reasons.append(f"{name} failed: {type(exc).__name__}")
                continue
            if form == 0:
                return Verdict(Status.PROVED, f"symbolic: {name} gives 0", residual, claim=claim)
            res2 = _try_pit(exact_floats(form), deadline.step(), finite_discrete) if not deadline.spent() else None
            if res2 is not None and res2.zero:
                return Verdict(Status.PROVED, f"{name}, then {_pit_method(res2)}", residual, claim=claim)
        reasons.append("no symbolic strategy reduced the residual to 0")
    else:
        reasons.append("the residual is a rational function that is not identically zero")

    if not numeric:
        return Verdict(Status.UNKNOWN, "symbolic strategies", residual, reason="; ".join(reasons), claim=claim)
    num = _numeric(residual, domain, deadline, reasons)
    if num is None:
        return Verdict(
            Status.UNKNOWN,
            "symbolic and numeric strategies",
            residual,
            reason="; ".join(reasons),
            claim=claim,
        )
    if num.outcome in ("nonzero", "disputed"):
        refuted = _refuted(num, residual, domain, claim)
        if refuted is not None:
            return refuted
        if num.outcome == "disputed":
            _disputed(num, reasons)
        else:
            reasons.append("a numeric witness was found but lies outside the domain or was not confirmed")
        return Verdict(
            Status.UNKNOWN,
            "symbolic and numeric strategies",
            residual,
            reason="; ".join(reasons),
            claim=claim,
            details=(("numeric value", num.value_high), ("independent value", num.note)),
        )
    if rational_nonzero:
        # The exact test proved the residual is a nonzero rational function, yet no test
        # point showed it clearly (all below 40 digits, or too few points, e.g. a constant
        # residual 1e-45): report the exact nonzero value if the test point lies in the
        # domain, otherwise say so instead of 'consistent'.
        if domain.extended(set(res.point)).contains(res.point):
            witness = Witness(tuple(res.point.items()), res.value, res.value, (HIGH_DPS, HIGH_DPS))
            return Verdict(Status.REFUTED, "exact rational evaluation (nonzero)", residual, witness, claim=claim)
        reasons.append(
            "exactly nonzero as a rational function, but not clearly nonzero at any test point in the support"
        )
        if num.note:
            reasons.append(num.note)
        return Verdict(
            Status.UNKNOWN, "symbolic and numeric strategies", residual, reason="; ".join(reasons), claim=claim
        )
    if num.outcome == "zero":
        return Verdict(
            Status.CONSISTENT,
            f"numeric: |residual| <= 1e-40 (relative to what survives cancellation) at {num.points_zero} "
            f"distinct points, mpmath at rising precision ({LOW_DPS} digits and up); not a proof",
            residual,
            reason="; ".join(reasons),
            claim=claim,
        )
    reasons.append(num.note)
    return Verdict(Status.UNKNOWN, "symbolic and numeric strategies", residual, reason="; ".join(reasons), claim=claim)


def proves_zero(expr: sp.Expr, timeout: float) -> bool:
    """True only when ``expr`` is literally 0, expands to 0, or the identity test proves it (error <= 1e-30).

    The quick test used where an expression is dropped when provably zero (psi of a
    flow that solves transport, a moving-boundary term the flow follows); False
    means only "not shown", never "nonzero".
    """
    if expr == 0 or expands_to_zero(expr):
        return True
    try:
        res = run_with_budget(polynomial_identity_test, exact_floats(expr), timeout=timeout, what="identity test")
    except (BudgetExceeded, *SYMPY_GAVE_UP):
        return False
    return res.zero
