r"""The transport residual (Eq. 52), divided by p: the expression every flow check decides.

.. math::
    \frac{\nabla\cdot(p\,u) + \partial_{\theta_i} p}{p}
    = \nabla\cdot u + u\cdot\nabla\log p + \partial_{\theta_i}\log p \qquad (\text{Eq. 50, 52})

Two routes compute it: SymPy expressions (``transport_residual``), and, for
densities written in the Gaussian atoms (``mvn(d, form="precision")``), dict
polynomials in the atoms (``transport_polynomial``), which decide the d = 16
full-covariance case in seconds without building the SymPy expression.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..core.density import Density
from ..structured import polys
from ..structured.atoms import Entries, OmtTurn, PrecVec, _free
from ..structured.ops import is_atom

__all__ = ["transport_polynomial", "transport_residual"]


def transport_residual(p: Density, u: tuple[sp.Expr, ...], wrt: sp.Symbol) -> sp.Expr:
    """(div(p u) + dp/dtheta_i) / p = div u + u . grad log p + d log p / dtheta_i (Eq. 50)."""
    div_u = sum((p.diff(ui, xi) for ui, xi in zip(u, p.x, strict=True)), sp.S.Zero)
    along = sum((ui * gi for ui, gi in zip(u, p.grad_log(), strict=True)), sp.S.Zero)
    return div_u + along + p.score(wrt)


class _Polys:
    """log p and its gradient as polynomials over the atoms, with the tables shared by every parameter's residual."""

    def __init__(self, p: Density) -> None:
        self.ring = polys.Ring()
        self.leaf_memo: dict = {}
        self.log = self.ring.poly(p.log_expr)
        self.grad = [self.ring.diff(self.log, xi, self.leaf_diff) for xi in p.x]
        self.turn_parts: dict = {}

    def turns_cancel(self, xs: Entries, mus: Entries, lflat: Entries) -> bool:
        r"""Whether the OMT turns' part of the residual is the zero polynomial for every antisymmetric A.

        For the turns (A y)_a = ``OmtTurn(a, dL, x, mu, L)`` of components a = 1..d (A free
        of x) that part is

        .. math:: \sum_a \partial_{x_a}(A y)_a + (A y)_a\,\partial_{x_a}\log p
                  = \sum_{a \ne b} A_{ab}\,\big(\partial_{x_a} y_b + y_b\,\partial_{x_a}\log p\big),

        linear in the entries of A.  It is computed once per (x, mu, L), in this ring, with
        the A_ab (a < b; A_ba = -A_ab) free indeterminates: when it is the zero polynomial
        (tr(AP) and y^T A y cancel term by term), so is its image under substituting any
        parameter's ``OmtSkew`` atoms for them, a ring homomorphism.
        """
        key = (xs, mus, lflat)
        got = self.turn_parts.get(key)
        if got is None:
            d = len(xs)
            skew = {(i, j): self.ring.index(sp.Dummy(f"A_{i + 1}{j + 1}")) for i in range(d) for j in range(i + 1, d)}
            part: polys.Poly | None = {}
            for a in range(d):
                turn: polys.Poly = {}
                for b in range(d):
                    if b != a:
                        m = (skew[(min(a, b), max(a, b))], self.ring.index(PrecVec.make(b, xs, mus, lflat)))
                        turn[tuple(sorted(m))] = 1 if a < b else -1  # A_ab = -A_ba
                div = self.ring.diff(turn, xs[a], self.leaf_diff)
                if div is None:
                    part = None
                    break
                polys.add_into(part, div)
                polys.add_into(part, polys.mul(turn, self.grad[a], self.ring.cap))
            got = self.turn_parts[key] = part == {}
        return got

    def without_turns(self, p: Density, u: tuple) -> list[polys.Poly] | None:
        """Each component's polynomial without its ``OmtTurn`` (a top-level summand), when the turns cancel.

        Applies when component a has exactly one summand ``OmtTurn(a, dL, x, mu, L)``, the
        same (dL, x, mu, L) in every component, with x the density's variables and dL, L
        free of x, and ``turns_cancel``; otherwise None (the turns are then expanded
        with everything else).
        """
        rests, tail = [], None
        for a, ua in enumerate(u):
            parts = ua.args if ua.is_Add else (ua,)
            turns = [t for t in parts if isinstance(t, OmtTurn)]
            if len(turns) != 1 or int(turns[0].args[0]) != a:
                return None
            if tail is None:
                tail = turns[0].args[1:]
            elif turns[0].args[1:] != tail:
                return None
            rest: polys.Poly = {}
            for t in parts:
                if t is not turns[0]:
                    polys.add_into(rest, self.ring.poly(t))
            rests.append(rest)
        dl, xs, mus, lflat = tail
        if tuple(xs) != tuple(p.x) or (_free(dl) | _free(lflat)) & set(p.x):
            return None
        return rests if self.turns_cancel(xs, mus, lflat) else None

    def leaf_diff(self, k: int, s: sp.Symbol) -> polys.Poly | None:
        key = (k, s)
        got = self.leaf_memo.get(key, False)
        if got is not False:
            return got
        leaf = self.ring.leaves[k]
        if leaf.is_Symbol:
            got = {(): 1} if leaf == s else {}
        elif not polys.depends_on(leaf, s):
            got = {}
        elif is_atom(leaf):
            d = leaf._eval_derivative(s)
            got = None if d is None else self.ring.poly(d)
        else:
            got = None
        self.leaf_memo[key] = got
        return got


def _summands(u: tuple):
    for ui in u:
        yield from ui.args if ui.is_Add else (ui,)


@lru_cache(maxsize=8)
def _polys(p: Density) -> _Polys:
    # One per density: every parameter's check of an mvn(d) reuses log p and its gradient.
    return _Polys(p)


# How the OMT turns were decided, for the verdict (empty when the flow has none or they were expanded).
TURNS_NOTE = (
    "the OMT turns' part, sum_a d(Ay)_a/dx_a + (Ay)_a dlog p/dx_a, is the zero polynomial for free "
    "antisymmetric A (computed once per density), hence for this parameter's A"
)


def transport_polynomial(p: Density, u: tuple, wrt: sp.Symbol) -> tuple[polys.Poly, str] | None:
    """The transport residual (Eq. 52) as a polynomial, for densities written in Gaussian atoms.

    Every piece is a polynomial in the atoms and symbols, so the residual is
    computed and compared with 0 in ``symflow.structured.polys``' arithmetic
    over numbered leaves.  The residual is linear in u; for the OMT flow the
    part of its ``OmtTurn`` atoms, (A y)_a, is decided once per density for a
    free antisymmetric A (``_Polys.turns_cancel``) and only the rest of each
    component is expanded; otherwise the turns are expanded into their summands.
    Returns (the polynomial, ``TURNS_NOTE`` or "") -- {} is the zero polynomial
    -- or None when some leaf has no derivative rule (then use the SymPy route).
    """
    try:
        pp = _polys(p)
        if any(g is None for g in pp.grad):
            return None
        ring = pp.ring
        score = ring.diff(pp.log, wrt, pp.leaf_diff)
        if score is None:
            return None
        total = dict(score)
        # The OMT flow: its turns' part vanishes for every antisymmetric A (checked once per density),
        # so only the rest of each component is expanded (the turns were O(d^2) of the O(d^2) terms).
        rests = pp.without_turns(p, u) if any(isinstance(t, OmtTurn) for t in _summands(u)) else None
        comps = rests if rests is not None else [ring.poly(ui) for ui in u]
        for up, xi, gi in zip(comps, p.x, pp.grad, strict=True):
            div = ring.diff(up, xi, pp.leaf_diff)
            if div is None:
                return None
            polys.add_into(total, div)
            polys.add_into(total, polys.mul(up, gi, ring.cap))
        return total, TURNS_NOTE if rests is not None else ""
    except polys.TooBig:
        return None
