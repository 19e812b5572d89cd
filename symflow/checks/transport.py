r"""``check_transport``: does a flow solve the transport equation (Eq. 52)?

The residual decided is the equation divided by p (p > 0 on the support),
:math:`\nabla\cdot u + u\cdot\nabla\log p + \partial_{\theta_i}\log p`
(``symflow.calculus.transport``).  The verdict records its proof as data:
the transport expression with the density and flow written out, the product
rule that turns it into p times the residual, and the residual's verdict.
"""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

from ..calculus.transport import transport_polynomial, transport_residual
from ..core.budget import bounded
from ..core.density import Density
from ..core.flow import Flow, field_over
from ..core.steps import Basis, Proof, ProofStep
from ..core.verdict import Status, Verdict
from ..zero import decide_zero

__all__ = ["check_transport", "transport_derivation"]

T = sp.Symbol("T")


@bounded
def check_transport(p: Density, flow: Flow, wrt: sp.Symbol, *, timeout: float | None = None) -> Verdict:
    r"""Does u solve the transport equation :math:`\nabla\cdot(p u) + \partial_{\theta_i} p = 0` (Eq. 52)?

    The residual checked is that equation divided by p (p > 0 on the
    support): :math:`\nabla\cdot u + u\cdot\nabla\log p + \partial_{\theta_i}\log p`.
    When it vanishes the flow estimator needs no phi term (psi = 0).
    """
    u = field_over(p, flow, wrt)
    claim = f"transport equation for {flow.kind} flow, d/d{wrt}"
    fast = _structured_transport(p, u, wrt, claim)
    if fast is not None:
        # The residual's SymPy form is built only for the proof: at d = 16 it is large.
        return replace(fast, proof=transport_derivation(p, flow, wrt))
    residual = transport_residual(p, u, wrt)
    verdict = decide_zero(residual, p.domain(), timeout=timeout, claim=claim)
    return replace(verdict, proof=transport_derivation(p, flow, wrt, residual))


def _structured_transport(p: Density, u: tuple, wrt: sp.Symbol, claim: str) -> Verdict | None:
    """For densities in Gaussian atoms: the residual as a dict polynomial; proved when it is the zero polynomial.

    Anything else (a nonzero polynomial, a leaf without a rule) returns None and
    the SymPy route decides, with its witnesses.
    """
    if not p.is_structured:
        return None
    poly = transport_polynomial(p, u, wrt)
    if poly is None or poly:
        return None
    return Verdict(
        Status.PROVED,
        "structural: the residual, a polynomial in the Gaussian atoms, is the zero polynomial (deterministic)",
        sp.S.Zero,
        claim=claim,
    )


def transport_derivation(p: Density, flow: Flow, wrt: sp.Symbol, residual: sp.Expr | None = None) -> Proof:
    r"""The proof behind ``check_transport``, unchecked: from Eq. (52) to the residual that was decided.

    Steps: the transport expression :math:`T = \nabla\cdot(p u) + \partial_\theta p`
    with the density and flow written out; the product rule and
    :math:`\partial_\theta p = p\,\partial_\theta \log p` turn it into :math:`p R`
    with R the log-route residual (checked); and :math:`T = 0`, decided by the
    check's own verdict on R (p > 0 on the support; the step's verdict is left
    empty and ``symflow.proof_of`` fills in the verdict that carries the proof).
    """
    u = flow.field(wrt)
    divergence = sum((sp.Derivative(p.expr * ui, xi) for ui, xi in zip(u, p.x, strict=True)), sp.S.Zero)
    if residual is None:
        residual = transport_residual(p, u, wrt)
    steps = (
        ProofStep(
            T,
            divergence + sp.Derivative(p.expr, wrt),
            "the transport equation's left-hand side",
            "52",
            basis=Basis.DEFINITION,
        ),
        ProofStep(
            T,
            sp.Mul(p.expr, residual, evaluate=False),
            "product rule div(p u) = p (div u + u . grad log p), and dp/dtheta = p dlog p/dtheta",
            "50",
            basis=Basis.PREVIOUS,
            follows=1,
        ),
        ProofStep(T, sp.S.Zero, "the residual vanishes; p > 0 on the support", "52", basis=Basis.VERDICT),
    )
    statement = f"The {flow.kind} flow solves the transport equation div(p u) + dp/d{wrt} = 0, so psi = 0."
    return Proof(f"transport equation, {flow.kind} flow of {p.name}, d/d{wrt}", steps, statement, domain=p.domain())
