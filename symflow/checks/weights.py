"""``check_weights``: do an estimator's psi and v equal closed forms typed in from a paper?"""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

from ..core.budget import bounded
from ..core.convert import as_expr, as_vector
from ..core.estimator import Estimator
from ..core.steps import Step
from ..core.verdict import Verdict, combine
from ..errors import EstimatorError
from ..zero import decide_zero

__all__ = ["check_weights"]


@bounded
def check_weights(
    est: Estimator,
    psi: object = None,
    v: object = None,
    *,
    equation: str | None = None,
    timeout: float | None = None,
) -> Verdict:
    """Does the estimator's psi (and/or v) equal a closed form typed in by hand?

    For checking a derivation against a paper: ``check_weights(lr, psi=(x - mu)/sigma**2,
    equation="21")``.  The verdict's proof is the estimator's own derivation with
    one more step, ``psi = <closed form>``, checked like the others.
    """
    if not isinstance(est, Estimator):
        raise EstimatorError(f"est must be an Estimator, got {type(est).__name__}")
    if psi is None and v is None:
        raise EstimatorError("give psi= and/or v= to compare with")
    allowed = set(est.x) | set(est.params)
    wanted: list[tuple[sp.Symbol, sp.Expr, sp.Expr]] = []
    if psi is not None:
        wanted.append((sp.Symbol("psi"), est.psi, as_expr(psi, "psi")))
    if v is not None:
        vs = as_vector(v, "v")
        if len(vs) != est.density.dim:
            raise EstimatorError(f"v has {len(vs)} component(s); give one per variable ({est.density.dim})")
        wanted.extend(
            (sp.Symbol(f"v_{i}"), got, as_expr(w, "v"))
            for i, (got, w) in enumerate(zip(est.v, vs, strict=True), start=1)
        )
    for _, _, want in wanted:
        stray = want.free_symbols - allowed
        if stray:
            raise EstimatorError(f"the closed form uses {', '.join(sorted(map(str, stray)))}, unknown to the estimator")
    domain = est.density.domain().extended(set(est.params))
    parts = {
        str(name): decide_zero(got - want, domain, timeout=timeout, claim=f"{name} equals the closed form")
        for name, got, want in wanted
    }
    verdict = combine(parts, f"{est.name or 'estimator'} matches the closed form", noun="weights", label="{}")
    # The proof: the estimator's own derivation with the closed forms as further steps; a closed form
    # that is literally the derived value is noted on the step that derived it instead of repeated.
    recorded = list(est.steps)
    extra = []
    for name, got, want in wanted:
        last = max((i for i, s in enumerate(recorded) if s.lhs == name), default=None)
        if last is not None and got == want and recorded[last].rhs == want:
            s = recorded[last]
            recorded[last] = Step(s.lhs, s.rhs, f"{s.rule}; the closed form typed in by hand", equation, s.assumes)
        else:
            extra.append(Step(name, want, "the closed form typed in by hand", equation))
    return replace(verdict, proof=replace(est, steps=(*recorded, *extra)).derivation())
