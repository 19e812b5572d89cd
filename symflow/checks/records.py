r"""The proofs the checks record: plain data (``Proof`` values, unchecked), built from what a check computed.

A check returns a ``Verdict``; where it knows how its residual came about it
records the derivation as ``Verdict.proof``, and ``symflow.proof_of`` checks
the steps when asked.  These builders take expressions only (no densities'
internals), so the checks above them (``theory``) use them too:

``normalization_record``
    the integral of p over its support, an antiderivative F with F' = p
    (checked), F at the edges of the support (computed), and the total.
``boundary_record``
    the boundary term p u phi and its limit at each edge of the support (Eq. 47).
``unbiased_record``
    the estimator's expectation, the exact gradient, their difference (the bias)
    with both written out, and bias = 0.
``estimator_match_record``
    Theorem 4 for a given estimator: the only unbiased weight psi* for its v
    (Eq. 50), psi - psi*, and psi - psi* = 0 (``classify``).
``incompressibility_record``
    the divergence of the height-augmented flow (Eq. 16) written out, and 0.
``augmented_transport_record``
    p div(u~) = div(p u) + dp/dtheta for undefined p and u (Eq. 16, 52).
``surface_flux_record``
    the flux of the augmented flow through the top face h = p(x) and the bottom
    face h = 0 (Eq. 18, 43-45).

Slightly over 400 lines on purpose: one module for one concept, the recorded steps the checks'
proofs are rebuilt from, so that every record has the same shape and sits next to its siblings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp

from ..core import budget as budgets
from ..core.budget import SYMPY_GAVE_UP, BudgetExceeded, resolve_timeout
from ..core.steps import Basis, Proof, ProofStep

__all__ = [
    "augmented_transport_record",
    "baseline_record",
    "normalization_proof",
    "over_support",
    "boundary_record",
    "estimator_match_record",
    "incompressibility_record",
    "normalization_record",
    "surface_flux_record",
    "unbiased_record",
]

I = sp.Symbol("I")  # noqa: E741 - the integral, as in the paper's appendices


def _kept(*terms: sp.Expr) -> sp.Expr:
    """A sum printed with every term visible (SymPy would cancel 2 sigma - 2 sigma before it is shown)."""
    return sp.Add(*terms, evaluate=False)


def normalization_record(
    expr: sp.Expr,
    limits: Sequence[tuple[sp.Symbol, Any, Any]],
    total: sp.Expr | None,
    antiderivative: sp.Expr | None = None,
    edge_values: tuple[Any, Any] | None = None,
    *,
    discrete: bool = False,
    name: str = "p",
    domain: Any = None,
) -> Proof:
    r"""The proof that p integrates (sums) to 1 over its support, unchecked.

    .. math::
        I = \int_a^b p\,dx = \Big[F\Big]_a^b = \lim_{x\to b}F - \lim_{x\to a}F = 1,
        \qquad F' = p \ \text{(checked)}.

    Parameters
    ----------
    expr : the density; ``limits``: ``(x, a, b)`` per variable, outermost last.
    total : the value of the integral found by the check (None: numeric only).
    antiderivative : F with F' = p (1-D), when SymPy found one; ``edge_values``
        its limits at a and b.
    """
    op = sp.Sum if discrete else sp.Integral
    steps: list[ProofStep] = [
        ProofStep(
            I,
            op(expr, *limits),
            f"the {'sum' if discrete else 'integral'} of {name} over its support",
            basis=Basis.DEFINITION,
        )
    ]
    if antiderivative is not None and edge_values is not None and len(limits) == 1:
        x, a, b = limits[0]
        F = sp.Symbol("F")
        lo, hi = edge_values
        steps += [
            ProofStep(F, antiderivative, "an antiderivative (SymPy's indefinite integral)", basis=Basis.DEFINITION),
            ProofStep(
                sp.Derivative(F, x),
                expr,
                "F is an antiderivative of p",
                basis=Basis.IDENTITY,
                given=((F, antiderivative),),
                given_from=(2,),
            ),
            ProofStep(
                I,
                _kept(sp.Limit(F, x, b, "-"), -sp.Limit(F, x, a, "+")),
                "fundamental theorem of calculus, with (3)",
                basis=Basis.ARGUMENT,
            ),
            ProofStep(I, _kept(hi, -lo), "the limits of F at the edges of the support", basis=Basis.COMPUTED),
        ]
        steps.append(ProofStep(I, sp.S.One, "collect: the density is normalized", basis=Basis.PREVIOUS, follows=5))
    else:
        how = "symbolic summation (SymPy)" if discrete else "symbolic integration (SymPy), variable by variable"
        if total is not None and total != 1:
            steps.append(ProofStep(I, total, how, basis=Basis.COMPUTED))
            how = "simplify"
        elif total is None:
            how = "quadrature"
        steps.append(ProofStep(I, sp.S.One, f"{how}: the density is normalized", basis=Basis.VERDICT))
    return Proof(f"{name} is normalized", tuple(steps), f"{name} integrates to 1 over its support.", domain=domain)


def boundary_record(
    flux: Sequence[tuple[sp.Symbol, sp.Expr]],
    limits: Sequence[tuple[sp.Symbol, Any, str, Any]],
    claim: str,
    domain: Any = None,
) -> Proof:
    r"""The boundary term :math:`p\,u_j\,\phi` for each coordinate and its limit at each edge (Eq. 47, footnote 4).

    ``flux`` pairs each coordinate with :math:`p u_j \phi`; ``limits`` lists
    ``(x_j, edge, direction, value)`` as the check computed them.
    """
    steps: list[ProofStep] = []
    where: dict = {}
    for xj, body in flux:
        B = sp.Symbol(f"B_{xj}") if len(flux) > 1 else sp.Symbol("B")
        steps.append(ProofStep(B, body, "the boundary term p u phi", "47", basis=Basis.DEFINITION))
        where[xj] = (B, len(steps))
    for xj, edge, direction, value in limits:
        B, k = where[xj]
        steps.append(
            ProofStep(
                sp.Limit(B, xj, edge, direction), value, f"its limit at {xj} -> {edge}", "47", basis=Basis.COMPUTED
            )
        )
    return Proof(claim, tuple(steps), claim, domain=domain, equation="47")


def unbiased_record(
    sampling_integral: sp.Expr,
    gradient_integral: sp.Expr,
    lhs: sp.Expr,
    rhs: sp.Expr,
    extra: Sequence[sp.Expr],
    claim: str,
    domain: Any = None,
    by: str | None = None,
) -> Proof:
    r"""The proof of unbiasedness by integration (Eq. 4, 19), unchecked.

    ``by`` names how both integrals were computed when not by symbolic integration
    (``"Gaussian moments"``: Isserlis/Stein and completing the square, exact).

    .. math::
        L = \int q\,(v\cdot\nabla\phi + \psi\phi)\,dx, \qquad
        G = \frac{\partial}{\partial\theta_i}\int p\,\phi\,dx, \qquad
        L + E - G = 0,

    with E the expectations of the estimator's extra terms (jumps, moving edges).
    """
    L, G, E, bias = sp.Symbol("L"), sp.Symbol("G"), sp.Symbol("E"), sp.Symbol("b")
    extra_total = sp.Add(*extra) if extra else sp.S.Zero
    steps = [
        ProofStep(L, sampling_integral, "the estimator's expectation under q", "19", basis=Basis.DEFINITION),
        ProofStep(L, lhs, by or "symbolic integration", basis=Basis.COMPUTED),
        ProofStep(G, gradient_integral, "the exact gradient", "4", basis=Basis.DEFINITION),
        ProofStep(G, rhs, f"{by or 'symbolic integration'}, then d/dtheta", basis=Basis.COMPUTED),
    ]
    if extra:
        steps.append(
            ProofStep(
                E, extra_total, "the expectations of the extra terms (jumps, moving edges)", "66", basis=Basis.COMPUTED
            )
        )
    steps += [
        ProofStep(bias, L + (E if extra else 0) - G, "the bias", basis=Basis.DEFINITION),
        ProofStep(
            bias,
            _kept(lhs, *([extra_total] if extra else []), -rhs),
            "substitute",
            basis=Basis.PREVIOUS,
            follows=len(steps) + 1,
            given=((L, lhs), (G, rhs), (E, extra_total)),
            given_from=(2, 4) + ((5,) if extra else ()),
        ),
        ProofStep(bias, sp.S.Zero, "the estimator is unbiased", "19", basis=Basis.VERDICT),
    ]
    return Proof(claim, tuple(steps), claim, domain=domain, equation="19")


def estimator_match_record(
    v: Sequence[sp.Expr],
    psi: sp.Expr,
    star_definition: sp.Expr,
    star: sp.Expr,
    claim: str,
    domain: Any = None,
) -> Proof:
    r"""Theorem 4 for one estimator: :math:`\psi^\star` for its v (Eq. 50), then :math:`\psi - \psi^\star = 0`."""
    star_s, r = sp.Symbol("psi^*"), sp.Symbol("r")
    steps = [
        ProofStep(
            star_s,
            star_definition,
            "the only unbiased weight on phi for this v, u = v q / p (Theorem 4)",
            "50",
            basis=Basis.DEFINITION,
        ),
        ProofStep(star_s, star, "differentiate and simplify", basis=Basis.PREVIOUS, follows=1),
        ProofStep(r, _kept(psi, -star_s), "the estimator's psi minus psi*", basis=Basis.DEFINITION),
        ProofStep(
            r,
            _kept(psi, -star),
            "substitute (2)",
            basis=Basis.PREVIOUS,
            follows=3,
            given=((star_s, star),),
            given_from=(2,),
        ),
        ProofStep(r, sp.S.Zero, "psi = psi*, so the estimator is unbiased (Theorem 4)", "50", basis=Basis.VERDICT),
    ]
    return Proof(claim, tuple(steps), claim, domain=domain, equation="50")


def incompressibility_record(
    field: Sequence[sp.Expr],
    variables: Sequence[sp.Symbol],
    divergence: sp.Expr,
    claim: str,
    domain: Any = None,
) -> Proof:
    r"""The divergence of the augmented flow written out, and 0.

    :math:`\tilde u = [u, h(\partial_\theta\log p + u\cdot\nabla\log p)]` (Eq. 16).
    """
    names = [sp.Symbol(f"utilde_{v}") for v in variables]  # prints as u~ with a tilde
    D = sp.Symbol("D")
    steps = [
        ProofStep(
            n,
            c,
            "a component of the augmented flow" + (" (height)" if k == len(field) - 1 else ""),
            "16",
            basis=Basis.DEFINITION,
        )
        for k, (n, c) in enumerate(zip(names, field, strict=True))
    ]
    n = len(steps)
    steps += [
        ProofStep(
            D,
            sp.Add(*(sp.Derivative(c, v) for c, v in zip(field, variables, strict=True)), evaluate=False),
            "the divergence of the augmented flow in (x, h)",
            "16",
            basis=Basis.DEFINITION,
        ),
        ProofStep(D, divergence, "differentiate", basis=Basis.PREVIOUS, follows=n + 1),
        ProofStep(D, sp.S.Zero, "the augmented flow is incompressible", "16", basis=Basis.VERDICT),
    ]
    return Proof(claim, tuple(steps), claim, domain=domain, equation="16")


def augmented_transport_record(
    p: sp.Expr, u: Sequence[sp.Expr], xs: Sequence[sp.Symbol], theta: sp.Symbol, h: sp.Symbol, claim: str
) -> Proof:
    r"""For undefined p and u: :math:`p\,\nabla_{\tilde x}\cdot\tilde u = \nabla\cdot(p u) + \partial_\theta p`.

    (Eq. 16, 52): the augmented flow is incompressible exactly where u solves transport.
    """
    material = sp.Add(
        sp.Derivative(p, theta), *(uj * sp.Derivative(p, xj) for uj, xj in zip(u, xs, strict=True)), evaluate=False
    )
    D = sp.Symbol("D")
    div = sp.Add(
        *(sp.Derivative(uj, xj) for uj, xj in zip(u, xs, strict=True)),
        sp.Derivative(h / p * material, h),
        evaluate=False,
    )
    simple = sp.Add(*(sp.Derivative(uj, xj) for uj, xj in zip(u, xs, strict=True)), material / p, evaluate=False)
    transport = sp.Add(
        *(sp.Derivative(p * uj, xj) for uj, xj in zip(u, xs, strict=True)), sp.Derivative(p, theta), evaluate=False
    )
    steps = (
        ProofStep(
            D,
            div,
            "the divergence of u~ = [u, (h/p) Dp/Dtheta], Dp/Dtheta = dp/dtheta + u . grad p",
            "16",
            basis=Basis.DEFINITION,
        ),
        ProofStep(D, simple, "the height component is linear in h", basis=Basis.PREVIOUS, follows=1),
        ProofStep(
            p * D,
            transport,
            "multiply by p and use the product rule: p div(u~) is the transport expression",
            "52",
            given=((D, simple),),
            given_from=(2,),
        ),
    )
    return Proof(claim, steps, claim, equation="16")


def surface_flux_record(
    height: sp.Expr,
    flux: sp.Expr,
    bottom: sp.Expr,
    score_expr: sp.Expr,
    h: sp.Symbol,
    top: sp.Expr,
    claim: str,
    domain: Any = None,
) -> Proof:
    r"""The flux of the augmented flow through the top face h = p(x) and the bottom face h = 0 (Eq. 18, 45).

    On the top face :math:`\tilde u\cdot n` with :math:`n = [-\nabla p, 1]`.
    """
    F, F0 = sp.Symbol("F_top"), sp.Symbol("F_bottom")
    steps = (
        ProofStep(
            F0,
            sp.Subs(height, h, 0),
            "the height component at h = 0: the flux through the bottom face",
            "45",
            basis=Basis.DEFINITION,
        ),
        ProofStep(F0, sp.S.Zero, "it vanishes", "45", basis=Basis.PREVIOUS),
        ProofStep(F, flux, "u~ . n on the top face h = p(x), n = [-grad p, 1]", "43", basis=Basis.DEFINITION),
        ProofStep(F, score_expr, "the flux through the top face is dp/dtheta", "18", basis=Basis.VERDICT),
    )
    return Proof(claim, steps, claim, domain=domain, equation="18")


def normalization_proof(p: Any, total: sp.Expr | None, timeout: float | None = None) -> Proof:
    """``normalization_record`` for a density: in 1-D an antiderivative and its limits, when SymPy finds them.

    Each SymPy call runs under the budget; one that fails or runs out leaves the
    proof with the total the check found (``computed``).
    """
    limits = tuple((xi, s.inf, s.sup) for xi, s in reversed(tuple(zip(p.x, p.support_sets, strict=True))))
    F = edges = None
    if p.dim == 1 and not p.is_discrete and total is not None:
        x, a, b = limits[0]
        budget = min(resolve_timeout(timeout), 10.0)
        try:
            F = budgets.integrate(p.expr, x, timeout=budget, what="antiderivative")
            if F.has(sp.Integral):
                F = None
            else:
                lo = budgets.limit(F, x, a, "+", timeout=budget, what="antiderivative at the lower edge")
                hi = budgets.limit(F, x, b, "-", timeout=budget, what="antiderivative at the upper edge")
                edges = None if lo.has(sp.Limit) or hi.has(sp.Limit) else (lo, hi)
        except (BudgetExceeded, *SYMPY_GAVE_UP):
            F = edges = None
    return normalization_record(
        p.expr,
        limits,
        total,
        F if edges is not None else None,
        edges,
        discrete=p.is_discrete,
        name=p.name,
        domain=p.domain(),
    )


def over_support(density: Any, integrand: sp.Expr) -> sp.Expr:
    """The unevaluated integral (sum) of ``integrand`` over a density's support, last variable innermost."""
    limits = tuple((xi, s.inf, s.sup) for xi, s in reversed(tuple(zip(density.x, density.support_sets, strict=True))))
    return (sp.Sum if density.is_discrete else sp.Integral)(integrand, *limits)


def baseline_record(derivation: Sequence[Any], mean: sp.Expr, claim: str, domain: Any = None) -> Proof:
    """b_opt of Eq. (23)-(24) as derived (its last step, the expectations, computed), E[phi], and their difference.

    ``derivation`` is ``OptimalBaseline.steps``: V (Eq. 23), dV/db, b_opt = E[s^2 phi]/E[s^2], b_opt's value.
    """
    from ..core.steps import proof_steps

    *general, last = derivation
    b, m, R = last.lhs, sp.Symbol("E[phi]"), sp.Symbol("R")
    steps = (
        *proof_steps(general),
        ProofStep(b, last.rhs, last.rule, last.equation, basis=Basis.COMPUTED),
        ProofStep(m, mean, "the mean of phi, integrated", basis=Basis.COMPUTED),
        ProofStep(R, _kept(last.rhs, -mean), "b_opt minus E[phi]", basis=Basis.DEFINITION),
        ProofStep(R, sp.S.Zero, "the optimal baseline is the mean", "24", basis=Basis.VERDICT),
    )
    return Proof(claim, steps, claim, domain=domain, equation="24")
