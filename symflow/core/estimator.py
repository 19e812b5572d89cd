"""The ``Estimator`` value: E = v . grad phi + psi phi, sampled from q (Eq. 4, 19).

An estimator is data: the density p, the parameter theta_i it estimates
d/dtheta_i E_p[phi] for, the weight vector v on grad phi, the weight psi on
phi, and the sampling density q (p when omitted).  ``derive`` builds one
from a flow; users may also type one in from another paper and check it.

Slightly over 400 lines on purpose: the ``Estimator`` value with its validation, its extra terms and
its methods (compile, check), which belong to the one value.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import sympy as sp

from ..errors import EstimatorError
from ..printing.display import LatexDisplay
from .chains import flow_chain
from .convert import as_expr, as_test_function, as_vector, same_name_hint
from .density import Density, same_variables
from .steps import Basis, Proof, ProofStep, Step, proof_steps

__all__ = ["ASSUMPTIONS_EQ50", "Estimator", "ExtraTerm", "TermKind", "checked_estimator"]

PSI = sp.Symbol("psi")

# The hypotheses of Theorem 3 (Eq. 47-50), stated on every estimator's proof.
ASSUMPTIONS_EQ50 = (
    "the boundary term of the divergence theorem vanishes: p u phi -> 0 at the edge of the support (Eq. 47)",
    "differentiation under the integral sign is allowed (p is smooth in theta; Eq. 49)",
)


class TermKind(str, enum.Enum):
    """What an extra term of an estimator stands for (compares equal to its string)."""

    JUMP = "jump"  # phi jumps across a surface (Eq. 66)
    MOVING_BOUNDARY = "moving boundary"  # a support edge moves with theta (Eq. 77)
    GO = "go"  # the jumps of the embedding of a pmf at the integers (Eq. 73)
    MVD = "mvd"  # a measure-valued difference c (phi(x+) - phi(x-)), x+- ~ p+- (weak derivative)

    def __str__(self) -> str:
        return self.value


@runtime_checkable
class ExtraTerm(Protocol):
    """A term of an estimator sampled apart from x ~ q: its expectation is added to the main part's.

    ``symbolic_expectation(phi)`` (a SymPy expression in the parameters, or None),
    ``numeric_expectation(phi, values, dps)`` (an mpmath number, or None) and
    ``mc_samples(phi, params, n, rng)`` (n draws whose mean estimates the term) are
    what the checks, ``variance`` and ``mc_check`` use; ``steps()`` is its derivation.
    """

    kind: TermKind
    wrt: sp.Symbol

    def symbolic_expectation(self, phi: sp.Expr) -> sp.Expr | None: ...

    def numeric_expectation(self, phi: sp.Expr, values: dict, dps: int) -> Any: ...

    def mc_samples(self, phi: sp.Expr, params: dict, n: int, rng: Any) -> Any: ...

    def steps(self) -> tuple[Step, ...]: ...


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
            same_variables(p, q)
        allowed = set(p.x) | set(p.params) | (set(q.params) if q is not None else set())
        for what, exprs in (("v", v), ("psi", (psi,))):
            stray = set().union(*(e.free_symbols for e in exprs)) - allowed
            if stray:
                raise EstimatorError(
                    f"{what} uses {', '.join(sorted(map(str, stray)))}, which are not variables or "
                    "parameters of p or q; write it over those only" + same_name_hint(stray, allowed)
                )
        if any(e.has(sp.I) or e.is_extended_real is False for e in (*v, psi)):
            raise EstimatorError("the estimator's weights v and psi must be real; remove the imaginary unit I")
        if any(e.has(sp.DiracDelta) for e in (*v, psi)):
            # x ~ q never lands on the support of a delta => such a term is never sampled => bias
            raise EstimatorError(
                "the estimator's weights contain DiracDelta: a point mass on a surface is never hit by a "
                "sample x ~ q, so it would be silently dropped; " + self._delta_source()
            )
        if not isinstance(self.extra_terms, tuple | list):
            raise EstimatorError(f"extra_terms must be a tuple of terms, got {type(self.extra_terms).__name__}")
        terms = tuple(self.extra_terms)
        for t in terms:
            needed = ("symbolic_expectation", "numeric_expectation", "mc_samples")
            if not all(callable(getattr(t, m, None)) for m in needed):
                raise EstimatorError(
                    f"extra_terms must hold surface terms (SurfaceTerm, GOTerm: objects with the ExtraTerm "
                    f"methods {', '.join(needed)}), got {type(t).__name__}"
                )
        if not isinstance(self.name, str):
            raise EstimatorError(f"name must be a string, got {type(self.name).__name__}")
        object.__setattr__(self, "wrt", wrt)
        object.__setattr__(self, "v", v)
        object.__setattr__(self, "psi", psi)
        if isinstance(self.steps, sp.Basic | str) or not isinstance(self.steps, tuple | list):
            raise EstimatorError(f"steps must be a tuple of Step values, got {type(self.steps).__name__}")
        if not all(isinstance(s, Step | ProofStep) for s in self.steps):
            raise EstimatorError("steps must hold Step (or ProofStep) values only")
        object.__setattr__(self, "steps", tuple(self.steps))
        object.__setattr__(self, "extra_terms", terms)

    def _key(self) -> tuple:
        return (self.density, self.wrt, self.v, self.psi, self.q, self.extra_terms, self.name)

    def __eq__(self, other: object) -> bool:
        # The same estimator: the same density, parameter, weights, sampling density and extra terms
        # (how it was derived, its steps and flow, does not change what it computes).
        if not isinstance(other, Estimator):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

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
        phi = as_test_function(phi)
        grad = (sp.diff(phi, xi).replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero) for xi in self.x)
        return sum((vi * gi for vi, gi in zip(self.v, grad, strict=True)), sp.S.Zero) + self.psi * phi

    def compile(self, backend: str = "numpy", **options: Any):
        """A vectorized numeric function ``f(x, phi, grad_phi, params) -> (n,) array``.

        See ``symflow.numeric.compile_estimator``.
        """
        from ..numeric import compile_estimator

        return compile_estimator(self, backend=backend, **options)

    def to_source(self, backend: str = "numpy", name: str = "estimator") -> str:
        """Self-contained Python source of ``name(x, phi, grad_phi, params)`` (numpy, jax or torch; no symflow).

        See ``symflow.numeric.source.to_source``.
        """
        from ..numeric.source import to_source

        return to_source(self, backend=backend, name=name)

    def derivation(self) -> Proof:
        r"""The derivation of this estimator as an unchecked ``Proof`` (``symflow.proof_of`` checks it).

        For an estimator from ``derive`` the steps are the recorded ones: the
        flow estimator (Eq. 19), the log route (Eq. 50), the transport equation
        or the simplified psi (Eq. 52), and v = (p/q) u; when q differs from p,
        each v_i is first defined as (p/q) u_i so its simplified form is checked.
        An estimator typed in by hand (no steps) gets the proof of Theorem 4:
        its weight v fixes the flow u = v q / p, which fixes the only unbiased
        weight on phi,

        .. math::
            \psi^\star = \frac{1}{q}\left(\nabla\cdot(p u) + \partial_{\theta_i} p\right)
            \qquad\text{(Eq. 50)},

        and the last step compares the estimator's psi with it (refuted when it is biased).
        """
        p = self.density
        steps: list = []
        if self.steps and self.flow is not None and self.steps[0].lhs == PSI:
            steps = self._flow_steps()
        elif self.steps:
            defined: set = set()
            for s in self.steps:
                if self.q is not None and self.flow is not None and s.lhs not in defined and s.lhs != PSI:
                    # v_i = (p/q) u_i, written out, so the simplified ratio in the recorded step is checked.
                    name = str(s.lhs)
                    if name.startswith("v_") and name[2:].isdigit():
                        u_i = self.flow.field(self.wrt)[int(name[2:]) - 1]
                        steps.append(
                            ProofStep(
                                s.lhs,
                                sp.UnevaluatedExpr(p.expr / self.q.expr) * u_i,
                                "v = (p/q) u",
                                "19",
                                basis=Basis.DEFINITION,
                            )
                        )
                defined.add(s.lhs)
                steps.append(s)
        else:
            steps = self._theorem4_steps()
        domain = p.domain().extended(set(self.q.params) if self.q is not None else set())
        sampling = self.q.name if self.q is not None else p.name
        kind = self.flow.kind if self.flow is not None else "given"
        statement = (
            f"The estimator v . grad phi + psi phi with x ~ {sampling} is unbiased for d/d{self.wrt} "
            f"E_{p.name}[phi] ({kind} flow; Theorem 3, Eq. 50). Below, psi and v are derived and every step "
            "is checked."
        )
        known = frozenset(s for s, _ in domain.variables + domain.parameters)
        return Proof(
            f"{self.name or 'estimator'}: d/d{self.wrt} of E_{p.name}[phi]",
            proof_steps(steps, known),
            statement,
            ASSUMPTIONS_EQ50,
            notes=(
                "Unbiasedness itself is Theorem 3 (see its general proof, symflow.proof.theorem_flow_estimator()).",
            ),
            domain=domain,
        )

    def _delta_source(self) -> str:
        """Where the DiracDelta in psi or v comes from (the flow or the density jumping), and the fix."""
        jumps = (sp.Heaviside, sp.sign, sp.Piecewise, sp.Abs, sp.floor, sp.ceiling)
        fields = () if self.flow is None else tuple(self.flow.field(self.wrt))
        if any(isinstance(u, sp.Basic) and u.has(*jumps) for u in fields):
            return (
                "it comes from the flow, which jumps in x (its divergence holds the DiracDelta): use a flow that "
                "is continuous in x (e.g. sf.flows.reparam(p): for a location parameter the shift 1, for a scale "
                "parameter the stretch (x - mu)/sigma), or give the jump as a support edge"
            )
        return (
            "when it comes from a density that jumps inside its support (Heaviside, Piecewise), give the jump as "
            "a support edge (support=sympy.Interval(...)) and the density without it, or use a flow that does "
            "not cross the jump"
        )

    def _flow_steps(self) -> list:
        r"""psi from the flow, as a chain: Eq. (19) in undefined p, q, u; the product rule and the log route
        (Eq. 50); the density and the flow substituted; then the steps ``derive`` recorded (collected,
        simplified) and each v_i = (p/q) u_i.
        """
        p, q = self.density, self.q
        u = self.flow.field(self.wrt)
        note = f" ({self.flow.note})" if self.flow.note else ""
        chain = flow_chain(p, u, self.wrt, flow_rule=f"the {self.flow.kind} flow for {self.wrt}{note}", q=q)
        n = len(chain.definitions)
        over = chain.q if chain.q is not None else chain.p
        ratio = sp.Mul(chain.p, 1 / chain.q, evaluate=False) if chain.q is not None else sp.S.One
        ratio_written = sp.Mul(p.expr, sp.Pow(q.expr, -1, evaluate=False), evaluate=False) if q is not None else 1
        by_defs = tuple(range(1, n + 1))
        steps: list = [
            *chain.definitions,
            ProofStep(
                PSI,
                sp.Mul(chain.divergence, 1 / over, evaluate=False),
                "the flow estimator's weight on phi: psi = (div(p u) + dp/dtheta) / q",
                "19",
                basis=Basis.DEFINITION,
            ),
            ProofStep(
                PSI,
                sp.Mul(ratio, chain.bracket, evaluate=False) if q is not None else chain.bracket,
                "product rule, with the derivatives of p written as p times those of log p",
                "50",
                basis=Basis.PREVIOUS,
                follows=n + 1,
            ),
            ProofStep(
                PSI,
                sp.Mul(ratio_written, chain.written, evaluate=False) if q is not None else chain.written,
                "substitute the densities and the flow",
                basis=Basis.PREVIOUS,
                follows=n + 2,
                given=chain.given,
                given_from=by_defs,
            ),
        ]
        seen: set = set()
        for k, s in enumerate(self.steps[1:]):
            name = str(s.lhs)
            if k == 0 and s.lhs == PSI:
                # derive's "psi = (p/q) (div u + u . grad log p + dlog p/dtheta)", collected
                steps.append(ProofStep(s.lhs, s.rhs, "collect the terms", s.equation, basis=Basis.PREVIOUS))
                continue
            if name.startswith("v_") and name[2:].isdigit() and s.lhs not in seen:
                seen.add(s.lhs)
                i = int(name[2:])
                steps.append(
                    ProofStep(
                        s.lhs,
                        sp.Mul(ratio, chain.u[i - 1], evaluate=False) if q is not None else chain.u[i - 1],
                        "the flow estimator's weight on grad phi: v = (p/q) u" if q is not None else "v = u when q = p",
                        "19",
                        basis=Basis.DEFINITION,
                    )
                )
                extra = "" if s.rule == "v = (p/q) u" else f"; {s.rule}"
                steps.append(
                    ProofStep(
                        s.lhs,
                        s.rhs,
                        "substitute" + (" and simplify" if q is not None else "") + extra,
                        s.equation if q is None or extra else None,
                        basis=Basis.PREVIOUS,
                        follows=len(steps),
                        given=chain.given,
                        given_from=by_defs,
                    )
                )
                continue
            steps.append(s)
        return steps

    def _theorem4_steps(self) -> list:
        """Theorem 4 for an estimator without recorded steps: psi must equal (div(p u) + dp/dtheta) / q."""
        p = self.density
        q_expr = self.q.expr if self.q is not None else p.expr
        if self.flow is not None:
            u = self.flow.field(self.wrt)
            flow_rule, flow_eq = f"the {self.flow.kind} flow the estimator was built from", "19"
        else:
            u = tuple(sp.Mul(vi, q_expr, 1 / p.expr) for vi in self.v)
            flow_rule, flow_eq = "the flow that reproduces the weight v: u = v q / p (Theorem 4)", None
        steps: list = [
            ProofStep(sp.Symbol(f"u_{i}"), ui, flow_rule, flow_eq, basis=Basis.DEFINITION)
            for i, ui in enumerate(u, start=1)
        ]
        divergence = sum((sp.Derivative(p.expr * ui, xi) for ui, xi in zip(u, p.x, strict=True)), sp.S.Zero)
        steps.append(
            ProofStep(
                PSI,
                (divergence + sp.Derivative(p.expr, self.wrt)) / q_expr,
                "the unique unbiased weight on phi for this flow (Theorem 4)",
                "50",
                basis=Basis.DEFINITION,
            )
        )
        steps.append(ProofStep(PSI, self.psi, "the estimator's weight on phi", basis=Basis.PREVIOUS))
        return steps

    def __str__(self) -> str:
        head = self.name or "estimator"
        qname = self.q.name if self.q is not None else self.density.name
        v = sp.sstr(self.v[0]) if len(self.v) == 1 else sp.sstr(list(self.v))
        lines = [f"{head} of d/d{self.wrt} E_{self.density.name}[phi], x ~ {qname}", f"  v   = {v}"]
        lines.append(f"  psi = {sp.sstr(self.psi)}")
        # every extra term, sampled apart from x ~ q: surface, moving-boundary, jump, GO, MVD
        lines.extend(f"  + {term}" for term in self.extra_terms)
        return "\n".join(lines)


def checked_estimator(est: object, what: str = "est") -> Estimator:
    """``est`` after checking that it is an ``Estimator``."""
    if not isinstance(est, Estimator):
        raise EstimatorError(f"{what} must be a symflow Estimator (see sf.derive), got {type(est).__name__}")
    return est
