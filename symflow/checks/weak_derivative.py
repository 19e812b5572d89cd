r"""``check_weak_derivative`` and ``check_coupling``: is a measure-valued decomposition right?

A weak derivative :math:`\partial_\theta p = c\,(p^+ - p^-)` makes the
measure-valued estimator c (phi(x+) - phi(x-)) unbiased for every phi exactly
when

1. p+ and p- are probability densities: every part integrates to 1 and the
   weights of each side sum to 1 (``check_normalized``; a negative value of a
   part or a weight found at sample points refutes);
2. the identity holds pointwise on the real line: the line is cut at every
   edge of p's support and of every part (the edges ordered by the
   parameters' assumptions), and on each piece the residual
   dp/dtheta [x in supp p] - c (sum of the p+ parts there - sum of the p- parts there)
   is decided by ``decide_zero`` with x confined to the piece.

Then E[c (phi(x+) - phi(x-))] = c (E+[phi] - E-[phi]) = integral of phi dp/dtheta
= d/dtheta E_p[phi] (differentiation under the integral sign, as for LR).
``check_coupling`` decides that a coupling's maps push its base density
forward to p+ and p- (the joint law may be anything else: only the
marginals enter the mean).
"""

from __future__ import annotations

from dataclasses import replace

import mpmath
import sympy as sp

from ..calculus.gaussian.intervals import iterated_gaussian_integral
from ..core import budget as budgets
from ..core.convert import EVALF_FAILED, at_values
from ..core.density import Density
from ..core.domain import Domain, Interval1D
from ..core.verdict import Status, Verdict, Witness, combine
from ..errors import EstimatorError
from ..estimators.coupling import Coupling, coupling_marginals
from ..estimators.weak_derivative import WeakDerivative
from ..zero import decide_zero
from ..zero.numeric import sample_points
from .normalization import check_normalized

__all__ = ["check_coupling", "check_weak_derivative"]


def _less(a: sp.Expr, b: sp.Expr) -> bool | None:
    if a == b:
        return False
    if a == -sp.oo or b == sp.oo:
        return True
    if a == sp.oo or b == -sp.oo:
        return False
    return (b - a).is_positive


def _ordered(points: list) -> list | None:
    out: list = []
    for r in points:
        if any(r == o for o in out):
            continue
        k = 0
        while k < len(out):
            smaller = _less(r, out[k])
            if smaller is None:
                return None
            if smaller:
                break
            k += 1
        out.insert(k, r)
    return out


def _covers(d: Density, a: sp.Expr, b: sp.Expr, discrete: bool) -> bool | None:
    """Does d's support contain the piece from a to b?"""
    s = d.support_sets[0]
    lo_ok = s.inf == a or _less(s.inf, a)
    hi_ok = s.sup == b or _less(b, s.sup)
    if discrete and lo_ok and not hi_ok:
        hi_ok = s.sup == b or _less(b, s.sup + 1)
    if lo_ok is None or hi_ok is None:
        return None
    return bool(lo_ok and hi_ok)


def _param_domain(wd: WeakDerivative) -> Domain:
    p = wd.density
    extra = tuple(pt for _, d in wd.plus + wd.minus for pt in d.domain().parameters if pt[0] not in p.params)
    seen: dict = {}
    for s, iv in p.domain().parameters + extra:
        seen.setdefault(s, iv)
    return Domain((), tuple(seen.items()), p.constraints)


def _pieces(wd: WeakDerivative) -> list | None:
    """[(a, b)] cutting the line at every edge; for a pmf, integer ranges [a, b]."""
    p = wd.density
    sets = [p.support_sets[0]] + [d.support_sets[0] for _, d in wd.plus + wd.minus]
    if p.is_discrete:
        starts = [s.inf for s in sets] + [s.sup + 1 for s in sets if s.sup.is_finite]
        edges = _ordered(starts)
        if edges is None:
            return None
        lo = p.support_sets[0].inf
        edges = [e for e in edges if not _less(e, lo)]
        return [(a, b - 1) for a, b in zip(edges[:-1], edges[1:], strict=True)] + [(edges[-1], sp.oo)]
    edges = _ordered([-sp.oo, sp.oo] + [e for s in sets for e in (s.inf, s.sup)])
    if edges is None:
        return None
    return list(zip(edges[:-1], edges[1:], strict=True))


def _identity(wd: WeakDerivative, timeout: float | None) -> Verdict:
    p, x, wrt = wd.density, wd.x, wd.wrt
    claim = f"d{p.name}/d{wrt} = c (p+ - p-) pointwise"
    pieces = _pieces(wd)
    if pieces is None:
        return Verdict(
            Status.UNKNOWN,
            "cutting the line at the supports' edges",
            None,
            claim=claim,
            reason="the edges of the supports cannot be ordered from the parameters' assumptions",
        )
    params = _param_domain(wd)
    dp = sp.diff(p.expr, wrt)
    parts = {}
    for a, b in pieces:
        if p.is_discrete and not (b.is_infinite or a == b or _less(a, b)):
            continue
        inside = _covers(p, a, b, p.is_discrete)
        sides = []
        for side in (wd.plus, wd.minus):
            total = sp.S.Zero
            for w, d in side:
                cov = _covers(d, a, b, p.is_discrete)
                if cov is None:
                    inside = None
                    break
                if cov:
                    total += w * d.expr
            sides.append(total)
        if inside is None:
            return Verdict(
                Status.UNKNOWN, "pieces", None, claim=claim, reason=f"cannot tell which parts cover [{a}, {b}]"
            )
        residual = (dp if inside else sp.S.Zero) - wd.c * (sides[0] - sides[1])
        iv = Interval1D(a, b, integer=True, finite_set=(a,) if a == b else None) if p.is_discrete else Interval1D(a, b)
        if p.is_discrete and a == b:
            # one integer: the identity is a statement about the parameters alone
            residual, domain = residual.xreplace({x: a}), params
        else:
            domain = Domain(((x, iv),), params.parameters, params.constraints)
        parts[f"{x} in [{a}, {b}]"] = decide_zero(residual, domain, timeout=timeout, claim=claim)
    return combine(parts, claim, noun="pieces of the line", label="{}")


def _nonnegative_screen(wd: WeakDerivative) -> Verdict | None:
    """A refutation when some part or weight is negative at sample points; None when none is found."""
    for side, parts in (("p+", wd.plus), ("p-", wd.minus)):
        for w, d in parts:
            dom = d.domain().extended(w.free_symbols)
            for pt in sample_points(dom, set(d.x) | set(d.params) | w.free_symbols, draws=4, per_draw=16):
                with mpmath.workdps(30):
                    try:
                        val = mpmath.mpmathify(sp.N(at_values(d.expr, pt), 30))
                        weight = mpmath.mpmathify(sp.N(at_values(w, pt), 30))
                    except EVALF_FAILED:
                        continue
                    if mpmath.im(val) == 0 and val < -(mpmath.mpf(10) ** -25) or weight < -(mpmath.mpf(10) ** -25):
                        return Verdict(
                            Status.REFUTED,
                            "evaluation at 30 digits",
                            d.expr,
                            Witness(tuple(pt.items()), val, val, (30, 30)),
                            claim=f"{side} is a density",
                            reason=f"a part of {side} ({d.name}) or its weight is negative there",
                        )
    return None


def _normalized_part(d: Density, params: Domain, timeout: float | None) -> Verdict:
    """The closed-form integral (polynomial x Gaussian or exponential) first, else ``check_normalized``."""
    total = None
    if not d.is_discrete:
        try:  # in a budgeted step: its expand/powsimp ran in-process for minutes on Abs(x - mu) parts (review)
            total = budgets.run_with_budget(
                iterated_gaussian_integral,
                d.expr,
                [(d.x[0], d.support.inf, d.support.sup)],
                timeout=budgets.remaining(timeout),
                what="closed-form integral of a part",
            )
        except (budgets.BudgetExceeded, *budgets.SYMPY_GAVE_UP):
            total = None
    if total is not None:
        verdict = decide_zero(total - 1, params, timeout=timeout, claim=f"{d.name} is normalized")
        if verdict.status is Status.PROVED:
            return replace(verdict, method=f"closed-form integral, then {verdict.method}")
    return check_normalized(d, timeout=timeout)


def _normalized(wd: WeakDerivative, timeout: float | None) -> dict:
    out = {}
    params = _param_domain(wd)
    for side, parts in (("p+", wd.plus), ("p-", wd.minus)):
        for _, d in parts:
            out[f"{side} part {d.name} normalized"] = _normalized_part(d, params, timeout)
        if len(parts) > 1 or parts[0][0] != 1:
            total = sp.Add(*[w for w, _ in parts]) - 1
            out[f"{side} weights sum to 1"] = decide_zero(total, params, timeout=timeout, claim=f"{side} weights")
    return out


@budgets.bounded
def check_weak_derivative(
    p: Density | WeakDerivative,
    wrt: sp.Symbol | None = None,
    c: object = None,
    p_plus: object = None,
    p_minus: object = None,
    *,
    timeout: float | None = None,
) -> Verdict:
    r"""Is :math:`\partial_\theta p = c\,(p^+ - p^-)` a weak derivative (p+ and p- probability densities)?

    Parameters
    ----------
    p : Density or WeakDerivative
        The density (then give ``wrt, c, p_plus, p_minus``), or a decomposition
        from ``sf.weak_derivative``.
    wrt : Symbol
        theta.
    c : expression
        The constant, in the parameters.
    p_plus, p_minus : Density, or sequence of (weight, Density) parts
        The two densities (over p's variable).
    timeout : float, optional
        Budget in seconds for the whole call (default: the global one).

    Returns
    -------
    Verdict
        ``combine`` of the pointwise identity on each piece of the line and
        the normalization of every part (proved when every piece is proved);
        refuted with a witness when the identity fails somewhere or a part is
        negative.

    Examples
    --------
    >>> import sympy as sp, symflow as sf
    >>> p = sf.families.normal(); mu, sigma = p.params
    >>> maxwell = sf.families.l_distribution()  # the double-sided Maxwell
    >>> sf.check_weak_derivative(p, sigma, 1 / sigma, maxwell, p).status.value
    'proved'
    """
    return _check_weak_derivative(p, wrt, c, p_plus, p_minus, timeout)


def _check_weak_derivative(p, wrt, c, p_plus, p_minus, timeout: float | None) -> Verdict:
    if isinstance(p, WeakDerivative):
        wd = p
    else:
        if not isinstance(p, Density):
            raise EstimatorError(f"p must be a Density or a WeakDerivative, got {type(p).__name__}")
        if wrt is None or c is None or p_plus is None or p_minus is None:
            raise EstimatorError("give wrt, c, p_plus and p_minus (or pass a WeakDerivative alone)")
        wd = WeakDerivative(p, wrt, c, p_plus, p_minus)
    claim = f"{wd.name or wd.method}: d{wd.density.name}/d{wd.wrt} = c (p+ - p-), p+ and p- densities"
    negative = _nonnegative_screen(wd)
    if negative is not None:
        return negative
    parts = {"identity": _identity(wd, timeout)}
    parts.update(_normalized(wd, timeout))
    parts["parts and weights nonnegative"] = _nonnegative(wd)
    return combine(parts, claim, noun="checks", label="{}")


def _nonnegative_on_support(d: Density) -> bool:
    """Whether SymPy's sign rules show d >= 0 on its support: x written as a + t, b - t or a + (b - a) t/(1 + t)
    with t >= 0 (an integer for a pmf), then the expression, or its factored form, asked for its sign."""
    (x,) = d.x
    lo, hi = d.support.inf, d.support.sup
    t = sp.Dummy("t", nonnegative=True, integer=bool(d.is_discrete))
    if lo.is_infinite and hi.is_infinite:
        expr = d.expr
    elif hi.is_infinite:
        expr = d.expr.xreplace({x: lo + t})
    elif lo.is_infinite:
        expr = d.expr.xreplace({x: hi - t})
    elif d.is_discrete:
        expr = d.expr.xreplace({x: lo + t})  # t beyond b - a leaves the support: larger, never smaller, a claim
    else:
        expr = d.expr.xreplace({x: lo + (hi - lo) * t / (1 + t)})
    if expr.is_nonnegative:
        return True
    try:
        return bool(budgets.simplify(expr, how=sp.factor, timeout=2, what="sign of a part").is_nonnegative)
    except Exception:  # noqa: BLE001 - SymPy failing to factor: not shown
        return False


def _nonnegative_number(w: object) -> bool:
    if isinstance(w, sp.Basic):
        return bool(w.is_nonnegative)
    return isinstance(w, int | float) and w >= 0


def _nonnegative(wd: WeakDerivative) -> Verdict:
    """p+ and p- are densities only if every part and weight is >= 0: proved by SymPy's sign rules, else numbers.

    The screen above refutes at sample points; not finding a negative value proves nothing (2 N - Maxwell
    is negative only where |x - mu| > sqrt(2) sigma, and a screen whose points all missed that let the
    whole check be proved).
    """
    claim = "p+ and p- are nonnegative"
    unshown = [
        f"{side} part {d.name}"
        for side, parts in (("p+", wd.plus), ("p-", wd.minus))
        for w, d in parts
        if not (_nonnegative_on_support(d) and _nonnegative_number(w))
    ]
    if not unshown:
        return Verdict(
            Status.PROVED, "sign rules: each part and weight is a product of nonnegative factors", None, claim=claim
        )
    return Verdict(
        Status.CONSISTENT,
        f"no negative value at the screen's sample points ({', '.join(unshown)} not shown >= 0 symbolically); "
        "not a proof",
        None,
        claim=claim,
    )


@budgets.bounded
def check_coupling(wd: WeakDerivative, coupling: Coupling, *, timeout: float | None = None) -> Verdict:
    """Does the coupling draw x+ from p+ and x- from p-?  ``timeout`` bounds the whole call."""
    if not isinstance(wd, WeakDerivative) or not isinstance(coupling, Coupling):
        raise EstimatorError("check_coupling(weak_derivative, coupling)")
    return _check_coupling(wd, coupling, timeout)


def _check_coupling(wd: WeakDerivative, coupling: Coupling, timeout: float | None) -> Verdict:
    return coupling_marginals(coupling, wd.p_plus, wd.p_minus, timeout)
