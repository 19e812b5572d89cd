r"""The faces an indicator cuts into a support: the flux of a field through x_1 + x_2 = 1 (Eq. 47).

A density written as a box times an indicator (``Piecewise((1, x + y < 1), (0, True))``
or ``Heaviside(1 - x - y)``, ``Domain.regions``) has, besides the box's faces, the
face where the indicator's condition turns false.  The divergence theorem on the
support D is

.. math:: \int_D \nabla\cdot(p\,u\,\phi)\,dx = \oint_{\partial D} p\,\phi\,u\cdot n\,dS,

so a boundary term vanishes only if :math:`p\,\phi\,u\cdot\nabla g \to 0` on the
face g = 0 too (g < 0 inside).  The face is reached from inside by solving g = -t
for one coordinate in which g is linear with a constant coefficient, and taking
t -> 0+ (``edge_limit_verdict``).  A face that cannot be reached that way, or one
that moves with the parameter, is ``unknown`` with the face named: the box's faces
alone never prove a boundary term of a cut support.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sympy as sp

from ..core.density import Density
from ..core.verdict import Status, Verdict, Witness
from .edges import edge_limit_verdict

__all__ = ["IndicatorFace", "face_parts", "indicator_faces"]


@dataclass(frozen=True)
class IndicatorFace:
    """The face g = 0 of an indicator's condition; inside the support g < 0 (``level`` None: not an inequality)."""

    condition: sp.Basic
    level: sp.Expr | None

    def __str__(self) -> str:
        if self.level is None:
            return f"the boundary of the indicator's region {sp.sstr(self.condition)}"
        return f"the indicator's face {sp.sstr(self.level)} = 0 (of {sp.sstr(self.condition)})"


def indicator_faces(p: Density) -> tuple[IndicatorFace, ...]:
    """The faces of the indicator factors of ``p`` (the simplex's x_1 + x_2 = 1); () for a plain box."""
    out = []
    for cond in p.domain().regions:
        if isinstance(cond, sp.StrictLessThan | sp.LessThan):
            out.append(IndicatorFace(cond, sp.expand(cond.lhs - cond.rhs)))
        elif isinstance(cond, sp.StrictGreaterThan | sp.GreaterThan):
            out.append(IndicatorFace(cond, sp.expand(cond.rhs - cond.lhs)))
        else:
            out.append(IndicatorFace(cond, None))
    return tuple(out)


def _solved_coordinate(p: Density, g: sp.Expr) -> tuple[sp.Symbol, sp.Expr, sp.Expr] | None:
    """(x_k, c, rest) with g = c x_k + rest, c a nonzero number and rest free of x_k; None if no such x_k."""
    for xk in p.x:
        c = sp.diff(g, xk)
        if c != 0 and not c.free_symbols and c.is_number:
            return xk, c, sp.expand(g - c * xk)
    return None


def _unknown(face: IndicatorFace, claim: str, why: str) -> Verdict:
    return Verdict(
        Status.UNKNOWN,
        "flux through the indicator's face",
        claim=claim,
        reason=f"the support is cut by an indicator: {face} is a face of the support, and {why}",
    )


def face_parts(
    p: Density, field: tuple, wrt: sp.Symbol, budget: float, claim: str, timeout: float | None = None
) -> list[tuple[str, Verdict]]:
    r"""One verdict per indicator face: does :math:`F\cdot\nabla g \to 0` on the face g = 0?

    ``field`` is the vector F whose flux is decided (p u phi, or q v), one component per
    coordinate.  Proved when the limit from inside is 0 on the whole face; refuted
    (witness: a point of the face inside the box) when it is confirmed nonzero there;
    unknown otherwise, naming the face.
    """
    parts = []
    for face in indicator_faces(p):
        label = f"face {sp.sstr(face.condition)}"
        if face.level is None:
            why = "it is not examined (only faces of one inequality g < 0 are); write the indicator as one inequality"
            parts.append((label, _unknown(face, claim, why)))
            continue
        g = face.level
        if wrt in g.free_symbols:
            why = f"it moves with {wrt}: its moving-face term (Eq. 77) is not derived"
            parts.append((label, _unknown(face, claim, why)))
            continue
        normal = sp.Add(*(fj * sp.diff(g, xj) for fj, xj in zip(field, p.x, strict=True)))
        if normal == 0:
            parts.append((label, Verdict(Status.PROVED, "F . grad g is identically 0", sp.S.Zero, claim=claim)))
            continue
        solved = _solved_coordinate(p, g)
        if solved is None:
            why = "it is not examined: no coordinate enters g linearly with a constant coefficient"
            parts.append((label, _unknown(face, claim, why)))
            continue
        xk, c, rest = solved
        t = sp.Dummy("t", positive=True)
        on_face = (-rest - t) / c  # g = -t < 0: inside, reaching the face as t -> 0+
        verdict = edge_limit_verdict(p, normal.xreplace({xk: on_face}), t, sp.S.Zero, "+", budget, claim, timeout)
        if verdict.status is Status.REFUTED:
            verdict = _witness_on_face(p, verdict, face, xk, on_face.xreplace({t: 0}), t, claim)
        elif verdict.status is Status.UNKNOWN:
            verdict = replace(verdict, reason=f"on {face}: {verdict.reason}")
        parts.append((label, verdict))
    return parts


def _witness_on_face(
    p: Density, verdict: Verdict, face: IndicatorFace, xk: sp.Symbol, xk_on_face: sp.Expr, t: sp.Symbol, claim: str
) -> Verdict:
    """The refutation with x_k in place of t, if the witness is a point of the face inside the box; else unknown."""
    point = {k: v for k, v in verdict.witness.point if k != t}
    values = {k: sp.nsimplify(v) if isinstance(v, float) else v for k, v in point.items()}
    xk_value = xk_on_face.xreplace(values)
    iv = dict(p.domain().variables)[xk]
    try:
        num = sp.N(xk_value, 30)
        lo, hi = (sp.N(e.xreplace(values), 30) for e in (iv.lo, iv.hi))
        inside = bool(num.is_real and lo <= num <= hi)
    except TypeError:  # a symbol left (the witness does not fix every coordinate): not shown to be on the face
        inside = False
    if not inside:
        why = f"the limit there is nonzero at a point ({verdict.witness}) that may lie outside the box"
        return _unknown(face, claim, why)
    w = verdict.witness
    return replace(
        verdict,
        method=f"flux through {face}: {verdict.method}",
        witness=Witness(((xk, xk_value), *point.items()), w.value, w.value_low, w.digits),
    )
