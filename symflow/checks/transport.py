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

from ..calculus.flux_jumps import flux_jumps
from ..calculus.gaussian.transport import gaussian_transport_identities, transport_at_random_points
from ..calculus.heaviside import canonical_level, jump_set
from ..calculus.transport import transport_polynomial, transport_residual
from ..core.budget import bounded
from ..core.chains import flow_chain
from ..core.density import Density
from ..core.domain import Domain
from ..core.flow import Flow, field_over
from ..core.steps import Basis, Proof, ProofStep
from ..core.verdict import Status, Verdict
from ..errors import SymflowError
from ..zero import decide_zero

__all__ = ["check_transport", "transport_derivation"]

T = sp.Symbol("T")
# From this dimension on, Gaussian densities with affine flows are decided by their moment identities
# (the residual of the nested mvn(d) grows with the entries of L^{-1}: d = 8 took 10 s, the identities 1-4 s).
GAUSSIAN_ROUTE_DIM = 3


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
        # The residual's SymPy form is never built here: the proof writes R with its derivatives unevaluated
        # from d = 3 on (evaluating them for the record cost 28 s of the 32 s d = 16 OMT check).
        return replace(fast, proof=transport_derivation(p, flow, wrt, evaluate=p.dim < GAUSSIAN_ROUTE_DIM))
    # Densities in Gaussian atoms were decided by their polynomial above (a nonzero one goes to
    # the SymPy route for a witness); the moment identities are for Gaussians written out in x.
    gaussian = None if p.is_structured else _gaussian_transport(p, u, wrt, claim, timeout)
    if gaussian is not None:
        return gaussian
    residual = _between_branches(transport_residual(p, u, wrt), p, u)
    verdict = decide_zero(residual, p.domain(), timeout=timeout, claim=claim)
    if verdict.status in (Status.PROVED, Status.CONSISTENT):
        # the residual is pointwise: where p u jumps, div(p u) holds a DiracDelta it does not see
        jumps = flux_jumps(p, u, timeout=timeout)
        if jumps.status in ("jumps", "undecided"):
            said = "the flux p u jumps" if jumps.status == "jumps" else "continuity of the flux is undecided"
            return Verdict(
                Status.UNKNOWN,
                f"{verdict.method}, pointwise only",
                residual,
                claim=claim,
                reason=f"the residual vanishes between the branches of the flow, but {said}: {jumps.detail}; "
                "the transport equation holds in the sense of distributions only if the normal component of p u "
                "is continuous across every surface where the flow changes branch (use a flow without jumps in x)",
            )
    return replace(verdict, proof=transport_derivation(p, flow, wrt, residual))


def _between_branches(residual: sp.Expr, p: Density, u: tuple) -> sp.Expr:
    """The residual off the surfaces where the flow changes branch: there SymPy's derivative of a Heaviside of x
    is a DiracDelta, which is 0 pointwise, and the surfaces themselves are decided by ``flux_jumps`` (16 s of
    numeric test on a Heaviside flow became an exact 0).  Deltas of p's own jumps (its support) are kept."""
    xs = set(p.x)
    deltas = [d for d in residual.atoms(sp.DiracDelta) if d.free_symbols & xs]
    if not deltas:
        return residual
    try:
        levels = {
            f for ui in u if isinstance(ui, sp.Basic) and ui.free_symbols & xs for f in jump_set(ui, p.x, poles=False)
        }
        drop = {d: sp.S.Zero for d in deltas if canonical_level(d.args[0])[1] in levels}
    except SymflowError:
        return residual
    return residual.xreplace(drop) if drop else residual


def _gaussian_transport(p: Density, u: tuple, wrt: sp.Symbol, claim: str, timeout: float | None) -> Verdict | None:
    """For a Gaussian p and an affine flow: the moment identities A mu + c = dmu, A Sigma + Sigma A^T = dSigma.

    All identities go to one identity test at once, each multiplied by a fresh
    indeterminate (a sum of w_k R_k vanishes identically in the w's exactly when every
    R_k does), so a d = 8 check is one test per parameter instead of a residual
    expanded in x.  Only a decision is returned: a refuted combination is decided
    again entry by entry for a witness in the parameters; anything undecided goes
    back to the general route (None).
    """
    # In process: derivatives and products of d x d matrices (polynomial work, no search), and the
    # Gaussian read off p is remembered across the parameters of one density.
    if p.dim < GAUSSIAN_ROUTE_DIM:
        return None  # the residual route is fast in low d and gives the textbook proof (product rule, Eq. 50)
    method = "Gaussian moments (App. E.1): A mu + c = dmu/dtheta and A Sigma + Sigma A^T = dSigma/dtheta"
    # First every identity at exact random rational points, in process: no identity is built or expanded
    # (the nested mvn(8), 44 parameters: 3.8 s at load 7 with a forked identity test per parameter).
    point = transport_at_random_points(p, u, wrt)
    if point is not None and point.zero:
        return Verdict(
            Status.PROVED,
            f"{method}, every entry at once: randomized polynomial-identity test in exact rationals "
            f"(Schwartz-Zippel, numerator degree <= {point.degree}, {point.trials} point(s) from "
            f"{{1..10^40}}, error <= {point.error_bound:.1e})",
            sp.S.Zero,
            claim=claim,
            details=(("identities", p.dim + p.dim * (p.dim + 1) // 2),),
            proof=_gaussian_point_derivation(p, u, wrt, point),
        )
    identities = gaussian_transport_identities(p, u, wrt)
    if identities is None:
        return None
    domain = Domain((), p.domain().parameters, p.constraints)
    weights = [sp.Dummy(f"w{k}") for k in range(len(identities))]
    combined = sp.Add(*(w * r for w, (_, r) in zip(weights, identities, strict=True)))
    verdict = decide_zero(combined, domain.extended(set(weights)), timeout=timeout, claim=claim)
    if verdict.status is Status.PROVED:
        return Verdict(
            Status.PROVED,
            f"{method}, every entry at once: {verdict.method}",
            sp.S.Zero,
            claim=claim,
            details=(("identities", len(identities)),),
            proof=_gaussian_transport_derivation(p, u, wrt, identities),
        )
    if verdict.status is Status.REFUTED:
        for name, r in identities:
            part = decide_zero(r, domain, timeout=timeout, claim=f"{claim}: {name}")
            if part.status is Status.REFUTED:
                return replace(part, method=f"{method}: {name} is not 0; {part.method}", claim=claim)
    return None


def _gaussian_point_derivation(p: Density, u: tuple, wrt: sp.Symbol, point) -> Proof:
    """The proof of the in-process route: the identities, decided at random rational points (not rebuilt here).

    Writing the identities out symbolically is what this route avoids (seconds at d = 8);
    ``symflow.calculus.gaussian.transport.gaussian_transport_identities`` gives them.
    """
    steps = [
        ProofStep(sp.Symbol(f"u_{i + 1}"), ui, "the flow, affine in x", basis=Basis.DEFINITION)
        for i, ui in enumerate(u)
    ]
    for name in (f"A mu + c - dmu/d{wrt}", f"A Sigma + Sigma A^T - dSigma/d{wrt}"):
        steps.append(
            ProofStep(
                sp.Symbol(name),
                sp.S.Zero,
                f"every entry vanishes at {point.trials} exact random rational point(s) (Schwartz-Zippel: a "
                f"nonzero numerator of degree <= {point.degree} vanishes there with probability <= "
                f"{point.error_bound:.1e}); u = A x + c with A = du/dx, c = u(0)",
                "52",
                basis=Basis.VERDICT,
            )
        )
    statement = (
        f"For the Gaussian {p.name} and a flow affine in x, u = A x + c, the transport equation for {wrt} holds "
        "exactly when A mu + c = dmu/dtheta and A Sigma + Sigma A^T = dSigma/dtheta (the residual is a quadratic "
        "in x - mu whose coefficients are these identities)."
    )
    return Proof(f"transport equation, Gaussian moments, d/d{wrt}", tuple(steps), statement, domain=p.domain())


def _gaussian_transport_derivation(p: Density, u: tuple, wrt: sp.Symbol, identities: tuple) -> Proof:
    """The proof of the Gaussian route: the transport equation is equivalent to the moment identities."""
    steps = [
        ProofStep(sp.Symbol(f"u_{i + 1}"), ui, "the flow, affine in x", basis=Basis.DEFINITION)
        for i, ui in enumerate(u)
    ]
    # An entry that is 0 as written gets one step; the others are written out, then shown to vanish.
    steps.extend(
        ProofStep(
            sp.Symbol(name), r, "an identity the transport equation is equivalent to", "52", basis=Basis.DEFINITION
        )
        for name, r in identities
        if not r.is_zero
    )
    steps.extend(
        ProofStep(
            sp.Symbol(name),
            sp.S.Zero,
            "the moment identity holds" if not r.is_zero else "the entry of the moment identity is 0 as written",
            "52",
            basis=Basis.PREVIOUS,
        )
        for name, r in identities
    )
    statement = (
        f"For the Gaussian {p.name} and a flow affine in x, u = A x + c, the transport equation for {wrt} holds "
        "exactly when A mu + c = dmu/dtheta and A Sigma + Sigma A^T = dSigma/dtheta (the residual is a quadratic "
        "in x - mu whose coefficients are these identities)."
    )
    return Proof(f"transport equation, Gaussian moments, d/d{wrt}", tuple(steps), statement, domain=p.domain())


def _structured_transport(p: Density, u: tuple, wrt: sp.Symbol, claim: str) -> Verdict | None:
    """For densities in Gaussian atoms: the residual as a dict polynomial; proved when it is the zero polynomial.

    Anything else (a nonzero polynomial, a leaf without a rule) returns None and
    the SymPy route decides, with its witnesses.
    """
    if not p.is_structured:
        return None
    got = transport_polynomial(p, u, wrt)
    if got is None or got[0]:
        return None
    how = f"; {got[1]}" if got[1] else ""
    return Verdict(
        Status.PROVED,
        f"structural: the residual, a polynomial in the Gaussian atoms, is the zero polynomial (deterministic){how}",
        sp.S.Zero,
        claim=claim,
    )


def transport_derivation(
    p: Density, flow: Flow, wrt: sp.Symbol, residual: sp.Expr | None = None, *, evaluate: bool = True
) -> Proof:
    r"""The proof behind ``check_transport``, unchecked: from Eq. (52) to the residual that was decided.

    With p and u first undefined functions (so the calculus steps hold for any
    density and flow) and then written out (``symflow.core.chains.flow_chain``):

    .. math::
        T &= \nabla\cdot(p u) + \partial_\theta p                                   && \text{(Eq. 52)} \\
          &= \textstyle\sum_j (u_j\,\partial_j p + p\,\partial_j u_j) + \partial_\theta p   && \text{product rule} \\
          &= p\,\big(\nabla\cdot u + u\cdot\nabla\log p + \partial_\theta\log p\big)
                                                                                   && \partial p = p\,\partial\log p \\
          &= p\,R,

    and, p > 0 on the support, :math:`T = 0` exactly when :math:`R = 0`; R is then
    written out with the density and the flow substituted, and its vanishing is what
    the check decided (the last step's verdict is left empty; ``symflow.proof_of``
    fills in the verdict that carries the proof and shows R's expanded form).
    ``evaluate=False`` writes R with its derivatives unevaluated (``flow_chain``).
    """
    u = flow.field(wrt)
    note = f" ({flow.note})" if flow.note else ""
    chain = flow_chain(p, u, wrt, flow_rule=f"the {flow.kind} flow for {wrt}{note}", evaluate=evaluate)
    n = len(chain.definitions)
    R = sp.Symbol("R")
    steps = [
        *chain.definitions,
        ProofStep(T, chain.divergence, "the transport equation's left-hand side", "52", basis=Basis.DEFINITION),
        ProofStep(T, chain.product, "product rule", "53", basis=Basis.PREVIOUS, follows=n + 1),
        ProofStep(
            T,
            chain.factored,
            "take out p > 0, with the derivatives of p written as p times those of log p",
            "50",
            basis=Basis.PREVIOUS,
            follows=n + 2,
        ),
        ProofStep(
            R,
            chain.bracket,
            "divide by p > 0: T = p R, so T = 0 exactly where R = 0",
            basis=Basis.DEFINITION,
        ),
        ProofStep(
            R,
            chain.written,
            "substitute the density and the flow",
            basis=Basis.PREVIOUS,
            follows=n + 4,
            given=chain.given,
            given_from=tuple(range(1, n + 1)),
        ),
    ]
    # The structured route decides R without building its SymPy form (at d = 16 that cost 60 % of the
    # check): then the proof ends at R as written, term by term.
    if residual is not None and residual != chain.written:
        steps.append(ProofStep(R, residual, "collect the terms", basis=Basis.PREVIOUS, follows=n + 5))
    steps.append(ProofStep(R, sp.S.Zero, "the residual vanishes", "52", basis=Basis.VERDICT))
    statement = (
        f"The {flow.kind} flow of {p.name} for {wrt} solves the transport equation div(p u) + dp/d{wrt} = 0 "
        "(Eq. 52), so the flow estimator has no phi term (psi = 0)."
    )
    return Proof(
        f"transport equation, {flow.kind} flow of {p.name}, d/d{wrt}",
        tuple(steps),
        statement,
        domain=p.domain(),
        equation="52",
    )
