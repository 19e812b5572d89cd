"""``check_normalized``: does a density integrate (or sum) to 1 over its support?

SymPy's integral is used only when quadrature agrees with it at random
parameter points (``calculus.integrals.checked_integral``); when they
disagree the verdict is ``unknown`` with both numbers.  A refutation, by a
symbolic integral or by quadrature, is re-checked by an independent route
first: quadrature at the witness for a symbolic integral, evalf of the
integrand and the integral on other nodes for a quadrature
(``calculus.quadrature.confirm_integral``).
"""

from __future__ import annotations

from dataclasses import replace

import mpmath
import sympy as sp

from ..calculus.integrals import checked_integral, confirm_at
from ..calculus.quadrature import confirm_integral, integral_precision, numeric_integral
from ..core.budget import bounded, resolve_timeout
from ..core.convert import as_param_values, exact_values
from ..core.density import Density, checked_density
from ..core.domain import Domain
from ..core.estimator import Estimator
from ..core.precision import QUADRATURE, Outcome, decide, input_resolution
from ..core.verdict import Status, Verdict, Witness
from ..zero import decide_zero
from .records import normalization_proof

__all__ = ["check_normalized", "normalization_problem", "normalization_status"]

# Integrals computed at 50 digits must agree to 30 to count as consistent; a
# difference that survives at 30 and 50 digits (10 agreeing digits) refutes (QUADRATURE).
AGREE_DIGITS = QUADRATURE.zero_digits


@bounded
def check_normalized(p: Density, *, timeout: float | None = None) -> Verdict:
    """Is the integral (or sum) of p over its support equal to 1?"""
    p = checked_density(p)
    claim = f"{p.name} is normalized"
    params_only = Domain((), p.domain().parameters, p.constraints)
    checked = checked_integral(p, p.expr, timeout=timeout, domain=params_only, factor=sp.S.One)
    if checked.disagreed:
        point, sym, num = checked.check.comparisons[-1]
        return Verdict(
            Status.UNKNOWN,
            "symbolic integration, cross-examined by quadrature",
            p.expr,
            reason=checked.reason("integral of p"),
            claim=claim,
            details=(("symbolic integral", checked.symbolic), ("SymPy's value", sym), ("quadrature", num)),
        )
    total = checked.value
    if total is not None:
        verdict = decide_zero(total - 1, params_only, timeout=timeout, claim=claim)
        # the Gaussian moment route is exact algebra (no SymPy integral to cross-examine)
        by = "symbolic integration (cross-examined by quadrature)" if checked.check is not None else checked.how
        method = f"{by}, then {verdict.method}"
        if verdict.status is Status.PROVED:
            return Verdict(Status.PROVED, method, total - 1, claim=claim, proof=normalization_proof(p, total, timeout))
        if verdict.status is Status.REFUTED:
            # The witness is a parameter point: SymPy's integral there must agree with quadrature.
            at = verdict.witness.as_dict()
            again = confirm_at(p, p.expr, checked, at, params_only, timeout)
            # an exact moment integral in d >= 3 has no recorded 1-D steps to re-examine: its value is exact
            if again.agreed or (checked.check is None and p.dim >= 3):
                return Verdict(
                    Status.REFUTED,
                    method,
                    total - 1,
                    verdict.witness,
                    claim=claim,
                    details=(("integral", total),),
                    proof=normalization_proof(p, total, timeout),
                )
            return Verdict(
                Status.UNKNOWN,
                method,
                total - 1,
                reason=f"SymPy's integral {sp.sstr(total)} is not 1 at the witness, but quadrature does not "
                f"confirm it there: {again.describe('integral')}",
                claim=claim,
            )
    return replace(_numeric_normalization(p, timeout, claim), proof=normalization_proof(p, None, timeout))


# Parameter points where quadrature checks the total: random ones, and at most this many around
# the landmarks of p in its parameters.
RANDOM_POINTS = 3
LANDMARK_POINTS = 8


def _parameter_points(p: Density) -> list[dict]:
    """Random parameter points, then points on both sides of p's kinks and peaks in its parameters.

    p = theta exp(-theta y) (1 + Max(0, theta - 100)) integrates to 1 only for
    theta <= 100: random draws rarely pass 100, the landmark theta = 100 +- ... does.
    The kinks and bump exponents of p that do not involve x are kinks and bumps of its
    integral over x.
    """
    from itertools import islice

    from ..zero.landmarks import LandmarkFinder, kink_expressions, peak_expressions
    from ..zero.points import exact_point, iter_points, sample_points

    domain = Domain((), p.domain().parameters, p.constraints)
    pts = sample_points(domain, set(p.params), draws=RANDOM_POINTS)[:RANDOM_POINTS]
    xs = set(p.x)
    kinks = tuple(k for k in kink_expressions(p.expr) if not k.free_symbols & xs)
    peaks = tuple(e for e in peak_expressions(p.expr) if not e.free_symbols & xs)
    if p.params and (kinks or peaks):
        finder = LandmarkFinder(sp.S.Zero, sorted(p.params, key=str), kinks, extra_peaks=peaks)
        marks = iter_points(domain, set(p.params), draws=2, landmarks=finder, random_points=False)
        pts += list(islice(marks, LANDMARK_POINTS))
    return [exact_point(pt) for pt in pts] or [{}]


def _numeric_normalization(p: Density, timeout: float | None, claim: str) -> Verdict:
    agreed = 0
    precision = integral_precision(p)
    for pt in _parameter_points(p):
        values = dict(pt)

        def gap(dps: int, values: dict = values):
            total = numeric_integral(p, p.expr, values, dps=dps, timeout=timeout)
            return None if total is None else total - 1

        decision = decide(gap, precision, resolution=input_resolution(p.expr))
        if decision.outcome is Outcome.UNDEFINED:
            return Verdict(
                Status.UNKNOWN,
                "quadrature",
                p.expr,
                claim=claim,
                reason="SymPy could not integrate and quadrature failed or ran out of budget",
            )
        if decision.zero:
            agreed += 1
            continue
        if decision.nonzero:
            conf = confirm_integral(p, p.expr, values, decision.high + 1, decision.high, timeout=timeout)
            if not conf.confirmed:
                return Verdict(
                    Status.UNKNOWN,
                    "quadrature",
                    p.expr,
                    claim=claim,
                    reason=f"quadrature gives the integral {mpmath.nstr(decision.high + 1, 15)}, but an "
                    f"independent route does not confirm it: {conf.reason}",
                    details=(("integral", decision.high + 1),),
                )
            return Verdict(
                Status.REFUTED,
                f"quadrature at {precision.low} and {precision.high} digits, confirmed by evalf of the "
                "integrand and other nodes",
                p.expr,
                Witness(tuple(pt.items()), decision.high + 1, decision.low + 1, precision.digits),
                claim=claim,
                details=(("integral", decision.high + 1),),
            )
        return Verdict(
            Status.UNKNOWN,
            "quadrature",
            p.expr,
            claim=claim,
            reason=f"the integral {mpmath.nstr(decision.high + 1, 15)} is neither clearly 1 nor clearly not",
        )
    return Verdict(
        Status.CONSISTENT,
        f"quadrature at {precision.high} digits equals 1 to {precision.zero_digits} digits at {agreed} "
        "parameter point(s); not a proof",
        p.expr,
        claim=claim,
    )


def normalization_problem(est: Estimator, params: dict | None, timeout: float | None) -> str | None:
    """'p is not normalized (...)' when p's or q's integral is refuted to be 1, else None."""
    status, problem = normalization_status(est, params, timeout)
    return problem if status is Status.REFUTED else None


def normalization_status(est: Estimator, params: dict | None, timeout: float | None) -> tuple[Status, str | None]:
    """How well p and q are shown to integrate to 1: the weakest status, and the problem or doubt as text.

    ``(PROVED, None)``: both proved normalized (or, with ``params``, quadrature equal to 1 there: what an
    exact route at those values gives, see ``check_unbiased``); ``(CONSISTENT, text)``: numbers only;
    ``(UNKNOWN, text)``: not decided (a budget, a failed quadrature); ``(REFUTED, text)``: not normalized.
    A verdict that both sides of ``check_unbiased`` agree is an expectation statement only as strong as this.
    """
    dens = [est.density] if est.q is None or est.q == est.density else [est.density, est.q]
    worst: tuple[Status, str | None] = (Status.PROVED, None)
    for d in dens:
        if params is None:
            v = _normalized_cached(d, resolve_timeout(timeout))
            if v.status is Status.REFUTED:
                total = v.detail("integral")
                told = f" (its integral is {sp.sstr(total)})" if total is not None else ""
                return Status.REFUTED, f"{d.name} is not normalized{told}"
            if v.status is Status.UNKNOWN and worst[0] is not Status.UNKNOWN:
                worst = (Status.UNKNOWN, f"{d.name} is not shown to be normalized ({v.reason})")
            elif v.status is Status.CONSISTENT and worst[0] is Status.PROVED:
                worst = (Status.CONSISTENT, f"{d.name} is normalized by quadrature only ({v.method})")
            continue
        values = exact_values(as_param_values({k: v for k, v in params.items() if k in d.params}, d.params))
        precision = integral_precision(d)
        total = numeric_integral(d, d.expr, values, dps=precision.high, timeout=timeout)
        if total is None:
            if worst[0] is not Status.UNKNOWN:
                worst = (Status.UNKNOWN, f"{d.name}'s integral could not be computed at these parameters")
        elif abs(total - 1) > max(mpmath.mpf(10) ** (-precision.zero_digits), input_resolution(d.expr) or 0):
            # Float weights (0.3 N + 0.7 N) sum to 1 only to their own precision, not at 50 digits
            return (
                Status.REFUTED,
                f"{d.name} is not normalized (its integral is {mpmath.nstr(total, 15)} at these parameters)",
            )
    return worst


_NORMALIZED: dict = {}


def _normalized_cached(p: Density, budget: float) -> Verdict:
    # check_unbiased asks this for the same p on every call with another phi.  Only a decided verdict is kept:
    # an unknown depends on the time the call had (a check near the end of its budget), and a kept one made
    # later check_unbiased calls unknown in the full test suite
    key = (p, budget)
    got = _NORMALIZED.get(key)
    if got is None:
        got = check_normalized(p, timeout=budget)
        if got.status is not Status.UNKNOWN:
            if len(_NORMALIZED) >= 64:
                _NORMALIZED.pop(next(iter(_NORMALIZED)))
            _NORMALIZED[key] = got
    return got
