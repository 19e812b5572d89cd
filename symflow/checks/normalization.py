"""``check_normalized``: does a density integrate (or sum) to 1 over its support?"""

from __future__ import annotations

from functools import lru_cache

import mpmath
import sympy as sp

from ..calculus.integrals import symbolic_integral
from ..calculus.quadrature import numeric_integral
from ..core.budget import bounded, resolve_timeout
from ..core.convert import as_param_values, exact_values
from ..core.density import Density, checked_density
from ..core.domain import Domain
from ..core.estimator import Estimator
from ..core.precision import QUADRATURE, Outcome, decide
from ..core.verdict import Status, Verdict, Witness
from ..zero import decide_zero

__all__ = ["check_normalized", "normalization_problem"]

# Integrals computed at 50 digits must agree to 30 to count as consistent; a
# difference that survives at 30 and 50 digits (10 agreeing digits) refutes (QUADRATURE).
AGREE_DIGITS = QUADRATURE.zero_digits


@bounded
def check_normalized(p: Density, *, timeout: float | None = None) -> Verdict:
    """Is the integral (or sum) of p over its support equal to 1?"""
    p = checked_density(p)
    claim = f"{p.name} is normalized"
    total = symbolic_integral(p, p.expr, timeout=timeout)
    if total is not None:
        params_only = Domain((), p.domain().parameters, p.constraints)
        verdict = decide_zero(total - 1, params_only, timeout=timeout, claim=claim)
        if verdict.status is Status.PROVED:
            return Verdict(Status.PROVED, f"symbolic integration, then {verdict.method}", total - 1, claim=claim)
        if verdict.status is Status.REFUTED:
            return Verdict(
                Status.REFUTED,
                f"symbolic integration, then {verdict.method}",
                total - 1,
                verdict.witness,
                claim=claim,
                details=(("integral", total),),
            )
    return _numeric_normalization(p, timeout, claim)


def _numeric_normalization(p: Density, timeout: float | None, claim: str) -> Verdict:
    from ..zero.numeric import sample_points

    pts = sample_points(Domain((), p.domain().parameters, p.constraints), set(p.params), draws=3)
    if not pts:
        pts = [{}]
    agreed = 0
    for pt in pts[:3]:
        values = {k: sp.Float(v, QUADRATURE.high) for k, v in pt.items()}

        def gap(dps: int, values: dict = values):
            total = numeric_integral(p, p.expr, values, dps=dps, timeout=timeout)
            return None if total is None else total - 1

        decision = decide(gap, QUADRATURE)
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
            return Verdict(
                Status.REFUTED,
                f"mpmath quadrature at {QUADRATURE.low} and {QUADRATURE.high} digits",
                p.expr,
                Witness(tuple(pt.items()), decision.high + 1, decision.low + 1, QUADRATURE.digits),
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
        f"mpmath quadrature at {QUADRATURE.high} digits equals 1 to {AGREE_DIGITS} digits at {agreed} "
        "parameter point(s); not a proof",
        p.expr,
        claim=claim,
    )


def normalization_problem(est: Estimator, params: dict | None, timeout: float | None) -> str | None:
    """'p is not normalized (...)' when p's or q's integral is refuted to be 1, else None."""
    dens = [est.density] if est.q is None or est.q == est.density else [est.density, est.q]
    for d in dens:
        if params is None:
            v = _normalized_cached(d, resolve_timeout(timeout))
            if v.status is Status.REFUTED:
                total = v.detail("integral")
                told = f" (its integral is {sp.sstr(total)})" if total is not None else ""
                return f"{d.name} is not normalized{told}"
            continue
        values = exact_values(as_param_values({k: v for k, v in params.items() if k in d.params}, d.params))
        total = numeric_integral(d, d.expr, values, dps=QUADRATURE.high, timeout=timeout)
        if total is not None and abs(total - 1) > mpmath.mpf(10) ** (-AGREE_DIGITS):
            return f"{d.name} is not normalized (its integral is {mpmath.nstr(total, 15)} at these parameters)"
    return None


@lru_cache(maxsize=64)
def _normalized_cached(p: Density, budget: float) -> Verdict:
    # check_unbiased asks this for the same p on every call with another phi.
    return check_normalized(p, timeout=budget)
