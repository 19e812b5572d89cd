r"""Proofs over undefined functions of the reparameterization identities (App. E.3), as data.

For :math:`x = g(\epsilon;\theta)` with :math:`g_j(\epsilon_1..\epsilon_d, \theta)` and its inverse
:math:`S_k(x_1..x_d, \theta)` undefined SymPy functions, with the notation
:math:`G = \partial g/\partial\epsilon`, :math:`H = \partial^2 g/\partial\theta\,\partial\epsilon`,
:math:`A = \mathrm{adj}\,G`, :math:`J = \det G` (printed names; the steps hold the derivatives):

``grp_trace_derivation(d)``
    Eq. 60-62: GRP's u term :math:`\partial_\theta\log J` equals
    :math:`\mathrm{Tr}[A H]/J` (Jacobi's formula) and, at :math:`\epsilon = S(x)`, the
    divergence of the flow :math:`u(x) = h(S(x))`, :math:`h = \partial g/\partial\theta`.
``reparam_transport_derivation(d)``
    Eq. 52-55: at :math:`x = g(\epsilon)` the transport residual of the flow u is
    :math:`\partial_\theta(p_\epsilon/J) + (p_\epsilon/J)\,\mathrm{Tr}[A H]/J`, which vanishes by
    Jacobi's formula when the base density :math:`p_\epsilon` does not depend on theta.

Both return unchecked ``Proof`` values with their domain; the checks
``check_grp_trace_identity`` / ``check_reparam_transport_identity`` attach them to
their verdicts, and ``symflow.proof.theorem_grp_trace_identity`` checks every step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp

from ..core.domain import Domain, Interval1D
from ..core.steps import Basis, Proof, ProofStep

__all__ = ["grp_trace_derivation", "reparam_transport_derivation"]

THETA = sp.Symbol("theta", real=True)


@dataclass(frozen=True)
class _Setup:
    es: tuple
    xs: tuple
    g: list
    S: list
    G: sp.Matrix
    H: sp.Matrix
    det: sp.Expr
    adj: sp.Matrix
    trace: sp.Expr  # Tr[adj(G) H], kept as a sum of d^2 products
    notation: tuple
    domain: Any


def _setup(d: int) -> _Setup:
    es = sp.symbols(f"epsilon_1:{d + 1}", real=True) if d > 1 else (sp.Symbol("epsilon", real=True),)
    xs = sp.symbols(f"x_1:{d + 1}", real=True) if d > 1 else (sp.Symbol("x", real=True),)
    g = [sp.Function(f"g_{j}" if d > 1 else "g")(*es, THETA) for j in range(1, d + 1)]
    S = [sp.Function(f"S_{k}" if d > 1 else "S")(*xs, THETA) for k in range(1, d + 1)]
    G = sp.Matrix(d, d, lambda j, k: sp.Derivative(g[j], es[k]))
    H = sp.Matrix(d, d, lambda j, k: sp.Derivative(g[j], THETA, es[k]))
    det = G.det(method="berkowitz") if d > 1 else G[0, 0]
    adj = G.adjugate(method="berkowitz") if d > 1 else sp.Matrix([[1]])
    trace = sp.Add(*(adj[k, j] * H[j, k] for j in range(d) for k in range(d)), evaluate=False)
    J = sp.Function("J")(*es, THETA)
    if d == 1:
        notation: tuple = ((J, det),)
    else:
        named = [("G", G), ("H", H)] + ([("A", adj)] if d >= 3 else [])  # for d = 2 adj's entries are G's
        notation = (
            *(
                (sp.ImmutableMatrix(d, d, lambda j, k, n=n: sp.Symbol(f"{n}_{j + 1}{k + 1}")), sp.ImmutableMatrix(m))
                for n, m in named
            ),
            (J, det),
        )
    domain = Domain(tuple((e, Interval1D()) for e in (*es, *xs)), ((THETA, Interval1D()),))
    return _Setup(es, xs, g, S, G, H, det, adj, trace, notation, domain)


def _words(d: int) -> str:
    if d == 1:
        return "g and S are undefined functions of one variable and theta; J = dg/deps."
    return (
        f"g_1..g_{d} and S_1..S_{d} are undefined functions of {d} variables and theta; G = dg/deps, "
        "H = d2g/(dtheta deps), " + ("A = adj(G), " if d >= 3 else "") + "J = det G."
    )


def grp_trace_derivation(d: int) -> Proof:
    r"""Eq. 60-62 in d dimensions, unchecked: GRP's u term is the divergence of the flow u(x) = h(S(x)).

    .. math::
        u_\theta = \partial_\theta\log J = \frac{\partial_\theta J}{J} = \frac{\mathrm{Tr}[A H]}{J},
        \qquad
        \nabla_x\cdot h(S(x)) = \sum_{j,k} H_{jk}\big|_{\epsilon=S}\,\frac{\partial S_k}{\partial x_j}
        = u_\theta\big|_{\epsilon=S}

    with the inverse function theorem :math:`\partial S/\partial x = G^{-1}` at
    :math:`\epsilon = S` the one assumption.
    """
    s = _setup(d)
    at_S = (tuple(s.es), tuple(s.S))
    u_grp, div_h = sp.Symbol("u_theta"), sp.Symbol("D")
    dS_dx = sp.ImmutableMatrix(d, d, lambda k, j: sp.Derivative(s.S[k], s.xs[j]))
    inverse_at_S = sp.ImmutableMatrix(d, d, lambda k, j: sp.Subs(s.adj[k, j] / s.det, *at_S))
    h_at_S = [sp.Subs(sp.Derivative(s.g[j], THETA), *at_S) for j in range(d)]
    chain = sp.Add(
        *(sp.Subs(s.H[j, k], *at_S) * dS_dx[k, j] for j in range(d) for k in range(d)),
        evaluate=False,
    )
    given = tuple((dS_dx[k, j], inverse_at_S[k, j]) for k in range(d) for j in range(d))
    steps = (
        ProofStep(
            u_grp,
            sp.Derivative(sp.log(s.det), THETA),
            "GRP's u term: the theta-derivative of log J, J = det(dg/deps) (Ruiz et al.)",
            "58",
            basis=Basis.DEFINITION,
        ),
        ProofStep(
            u_grp, sp.Derivative(s.det, THETA) / s.det, "chain rule: d log J = dJ / J", "61", basis=Basis.PREVIOUS
        ),
        ProofStep(
            u_grp,
            s.trace / s.det,
            "Jacobi's formula: dJ/dtheta = Tr[adj(dg/deps) d2g/(dtheta deps)], "
            "so u = Tr[(dg/deps)^-1 d2g/(dtheta deps)]",
            "61",
            basis=Basis.PREVIOUS,
        ),
        ProofStep(
            dS_dx if d > 1 else dS_dx[0, 0],
            inverse_at_S if d > 1 else inverse_at_S[0, 0],
            "inverse function theorem: dS/dx = (dg/deps)^-1 at eps = S(x; theta)",
            "61",
            basis=Basis.ASSUMPTION,
        ),
        ProofStep(
            div_h,
            sp.Add(*(sp.Derivative(h_at_S[j], s.xs[j]) for j in range(d)), evaluate=False),
            "the divergence of the flow u(x) = h(S(x; theta)), h = dg/dtheta (Eq. 59)",
            "60",
            basis=Basis.DEFINITION,
        ),
        ProofStep(
            div_h,
            chain,
            "chain rule: sum over j, k of d2g_j/(dtheta deps_k) at S times dS_k/dx_j",
            "62",
            basis=Basis.PREVIOUS,
        ),
        ProofStep(
            div_h,
            sp.Subs(s.trace / s.det, *at_S),
            "substitute the inverse function theorem (4): D = Tr[d2g/(dtheta deps) (dg/deps)^-1] at eps = S",
            "62",
            basis=Basis.PREVIOUS,
            given=given,
            given_from=(4,),
        ),
        ProofStep(
            div_h,
            sp.Subs(sp.Derivative(sp.log(s.det), THETA), *at_S),
            "by (3): the divergence of the flow is GRP's u term at eps = S(x; theta)",
            "60",
            basis=Basis.PREVIOUS,
        ),
    )
    return Proof(f"d = {d}", steps, _words(d), domain=s.domain, notation=s.notation, equation="61")


def reparam_transport_derivation(d: int) -> Proof:
    r"""Eq. 52-55 in d dimensions, unchecked: the reparameterization flow solves the transport equation.

    At :math:`x = g(\epsilon)` the density is :math:`P = p_\epsilon/J` (Eq. 54); the chain rule
    turns :math:`\partial_\theta p + \nabla p\cdot h` into :math:`\partial_\theta P` at fixed
    :math:`\epsilon`, and :math:`p\,\nabla\cdot u = P\,\mathrm{Tr}[A H]/J` (Eq. 53), so

    .. math::
        R = \partial_\theta P + P\,\frac{\mathrm{Tr}[A H]}{J}
          = \frac{p_\epsilon}{J^2}\big(\mathrm{Tr}[A H] - \partial_\theta J\big) = 0

    by Jacobi's formula, for a base density :math:`p_\epsilon(\epsilon)` free of theta.
    """
    s = _setup(d)
    p_eps = sp.Function("p_epsilon")(*s.es)
    P, R = sp.Symbol("P"), sp.Symbol("R")
    density = p_eps / s.det
    steps = (
        ProofStep(
            P,
            density,
            "the density at x = g(eps): change of variables, p_epsilon free of theta",
            "54",
            basis=Basis.DEFINITION,
        ),
        ProofStep(
            R,
            sp.Add(sp.Derivative(P, THETA), P * s.trace / s.det, evaluate=False),
            "the transport residual div(p u) + dp/dtheta at x = g(eps): chain rule (Eq. 53)",
            "55",
            basis=Basis.DEFINITION,
        ),
        ProofStep(
            R,
            sp.Add(-p_eps * sp.Derivative(s.det, THETA) / s.det**2, p_eps * s.trace / s.det**2, evaluate=False),
            "differentiate P = p_epsilon / J in theta at fixed eps",
            "55",
            basis=Basis.PREVIOUS,
            given=((P, density),),
            given_from=(1,),
        ),
        ProofStep(
            R,
            sp.Mul(p_eps / s.det**2, sp.Add(s.trace, -sp.Derivative(s.det, THETA), evaluate=False), evaluate=False),
            "take out p_epsilon / J^2",
            basis=Basis.PREVIOUS,
        ),
        ProofStep(
            R, sp.S.Zero, "Jacobi's formula: dJ/dtheta = Tr[adj(dg/deps) d2g/(dtheta deps)]", "55", basis=Basis.VERDICT
        ),
    )
    return Proof(
        f"d = {d}",
        steps,
        _words(d) + " The base density p_epsilon is undefined and free of theta.",
        domain=s.domain,
        notation=s.notation,
        equation="55",
    )
