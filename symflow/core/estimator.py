"""The ``Estimator`` value: E = v . grad phi + psi phi, sampled from q (Eq. 4, 19).

An estimator is data: the density p, the parameter theta_i it estimates
d/dtheta_i E_p[phi] for, the weight vector v on grad phi, the weight psi on
phi, and the sampling density q (p when omitted).  ``derive`` builds one
from a flow; users may also type one in from another paper and check it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from ..errors import EstimatorError
from ..printing.display import LatexDisplay
from .convert import as_expr, as_vector, same_name_hint
from .density import Density
from .steps import Step

__all__ = ["Estimator"]


@dataclass(frozen=True, eq=False)
class Estimator(LatexDisplay):
    """A single-sample estimator of d/dtheta_i E_p[phi(x)], x ~ q.

    Parameters
    ----------
    density : Density
        p(x; theta).
    wrt : Symbol
        The parameter theta_i.
    v : sequence of d expressions
        Weights on the components of grad phi.
    psi : expression
        Weight on phi.
    q : Density, optional
        Sampling density over the same variables; default p.

    Attributes ``flow`` (the flow it was derived from, if any), ``steps``
    (the derivation, as ``Step`` values), ``extra_terms`` (surface terms
    sampled separately, for discontinuities) and ``name`` describe its
    origin.
    """

    density: Density
    wrt: sp.Symbol
    v: tuple[sp.Expr, ...]
    psi: sp.Expr
    q: Density | None = None
    flow: Any = field(default=None, repr=False)
    steps: tuple[Step, ...] = field(default=(), repr=False)
    extra_terms: tuple[Any, ...] = field(default=(), repr=False)
    name: str = ""

    def __post_init__(self) -> None:
        p = self.density
        if not isinstance(p, Density):
            raise EstimatorError(f"density must be a Density, got {type(p).__name__}")
        wrt = p.check_param(self.wrt)
        v = as_vector(self.v, "v")
        if len(v) != p.dim:
            raise EstimatorError(
                f"v has {len(v)} component(s) but the density has {p.dim} variable(s); give one per variable"
            )
        psi = as_expr(self.psi, "psi")
        q = self.q
        if q is not None:
            if not isinstance(q, Density):
                raise EstimatorError(f"q must be a Density, got {type(q).__name__}")
            if q.x != p.x:
                raise EstimatorError(
                    f"q is over {tuple(map(str, q.x))} but p is over {tuple(map(str, p.x))}; "
                    "build q over the same variable Symbols"
                )
        allowed = set(p.x) | set(p.params) | (set(q.params) if q is not None else set())
        for what, exprs in (("v", v), ("psi", (psi,))):
            stray = set().union(*(e.free_symbols for e in exprs)) - allowed
            if stray:
                raise EstimatorError(
                    f"{what} uses {', '.join(sorted(map(str, stray)))}, which are not variables or "
                    "parameters of p or q; write it over those only" + same_name_hint(stray, allowed)
                )
        object.__setattr__(self, "wrt", wrt)
        object.__setattr__(self, "v", v)
        object.__setattr__(self, "psi", psi)
        object.__setattr__(self, "steps", tuple(self.steps))
        object.__setattr__(self, "extra_terms", tuple(self.extra_terms))

    @property
    def sampling(self) -> Density:
        """The density samples are drawn from: q, or p when q is None."""
        return self.q if self.q is not None else self.density

    @property
    def params(self) -> tuple[sp.Symbol, ...]:
        """Every parameter a numeric evaluation needs (of p, then the extra ones of q)."""
        extra = tuple(t for t in (self.q.params if self.q is not None else ()) if t not in self.density.params)
        return self.density.params + extra

    @property
    def x(self) -> tuple[sp.Symbol, ...]:
        return self.density.x

    def single_sample(self, phi: sp.Expr) -> sp.Expr:
        """The estimator's value for a symbolic phi: v . grad phi + psi phi.

        grad phi is the pointwise derivative (DiracDelta terms dropped): a
        sample never lands on a jump, whose contribution belongs to the
        surface terms in ``extra_terms`` (Eq. 66).
        """
        phi = as_expr(phi, "phi")
        grad = (sp.diff(phi, xi).replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero) for xi in self.x)
        return sum((vi * gi for vi, gi in zip(self.v, grad, strict=True)), sp.S.Zero) + self.psi * phi

    def compile(self, backend: str = "numpy", **options: Any):
        """A vectorized numeric function ``f(x, phi, grad_phi, params) -> (n,) array``.

        See ``symflow.numeric.compile_estimator``.
        """
        from ..numeric import compile_estimator

        return compile_estimator(self, backend=backend, **options)

    def proof(self):
        """The derivation as a machine-checked ``Proof``."""
        from ..proof import estimator_proof

        return estimator_proof(self)

    def __str__(self) -> str:
        head = self.name or "estimator"
        qname = self.q.name if self.q is not None else self.density.name
        v = sp.sstr(self.v[0]) if len(self.v) == 1 else sp.sstr(list(self.v))
        return (
            f"{head} of d/d{self.wrt} E_{self.density.name}[phi], x ~ {qname}\n  v   = {v}\n  psi = {sp.sstr(self.psi)}"
        )
