r"""The chain of equations from :math:`\nabla\cdot(p u) + \partial_\theta p` to the log route, as proof steps.

Both the transport proof (``symflow.checks.transport.transport_derivation``)
and an estimator's derivation (``Estimator.derivation``) start from the same
expression (Eq. 19, 50, 52)

.. math::
    \nabla\cdot(p u) + \partial_{\theta_i} p
    = \sum_j \big(u_j\,\partial_j p + p\,\partial_j u_j\big) + \partial_{\theta_i} p
    = p\,\big(\nabla\cdot u + u\cdot\nabla\log p + \partial_{\theta_i}\log p\big),

first with p and u undefined functions (so those steps hold for every density
and flow, and are checked as such) and then with the density and the flow
substituted.  ``flow_chain`` builds the pieces; the callers number the steps.
Steps are plain data; nothing here checks anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cmp_to_key, lru_cache
from typing import Any

import sympy as sp

from .steps import Basis, ProofStep

__all__ = ["FlowChain", "flow_chain"]


# Log-derivatives up to this many operations are tidied for display; larger ones are shown as computed
# (tidying them costs more than the check itself at d >= 4).
TIDY_OPS = 40


def _tidy(expr: sp.Expr) -> sp.Expr:
    """A log-derivative over one denominator with common factors taken out, for display (a checked step links it)."""
    if sp.count_ops(expr) > TIDY_OPS:
        return expr
    return sp.factor_terms(sp.together(expr))


def _derivative(expr: sp.Expr, x: sp.Symbol) -> sp.Derivative:
    """The unevaluated d expr / dx that ``sp.Derivative(expr, x)`` returns (its default is evaluate=False).

    Built directly: SymPy's constructor asks for ``expr.free_symbols`` only to check that
    it is a set, and a component of the OMT flow at d = 32 has about 2100 free symbols
    (1.4 s of the d = 32 checks).
    """
    if isinstance(expr, sp.Derivative):
        return sp.Derivative(expr, x)  # SymPy merges the variables: d/dx (d/dy f) is one Derivative
    return sp.Expr.__new__(sp.Derivative, expr, sp.Tuple(x, sp.S.One))


_CANONICAL = cmp_to_key(sp.Basic.compare)  # the order Mul.flatten and Add.flatten sort their arguments in


def _sorted(op: type, *args: sp.Expr) -> sp.Expr:
    """``op(*args)`` for distinct commutative arguments SymPy only sorts (no numbers, sums or powers of each other).

    The chain's products and sums of undefined functions and their derivatives are such:
    ``Mul.flatten`` and ``Add.flatten`` return them in canonical order and nothing else,
    so the same object is built directly (about 100 us a product otherwise, 4d of them
    per parameter: 25 of the 40 s of the d = 64 proof records).
    """
    return op._from_args(sorted(args, key=_CANONICAL), True)


@lru_cache(maxsize=32)
def _undefined_flow(xs: tuple) -> tuple[tuple, tuple]:
    """(u_1(x), ..., u_d(x)) as undefined functions, and their derivatives d u_j / d x_j: the same for every theta."""
    if len(xs) == 1:
        u_f: tuple = (sp.Function("u")(*xs),)
    else:
        u_f = tuple(sp.Function(f"u_{j}")(*xs) for j in range(1, len(xs) + 1))
    return u_f, tuple(_derivative(uj, xj) for uj, xj in zip(u_f, xs, strict=True))


@lru_cache(maxsize=8)
def _log_gradient(p: Any) -> tuple:
    """(d log p / d x_j, unevaluated) for each j: the same for every theta."""
    return tuple(_derivative(p.log_expr, xj) for xj in p.x)


@dataclass(frozen=True)
class FlowChain:
    r"""The pieces of the chain for one density p, flow u and parameter theta.

    Attributes
    ----------
    definitions : the steps ``p = ...``, (``q = ...``), ``u_j = ...`` (definitions).
    given : the substitutions those definitions stand for (undefined function -> expression).
    p, q, u : the undefined functions p(x; theta), q(x) (None when q is p) and u_j(x).
    divergence : :math:`\nabla\cdot(p u) + \partial_\theta p` in the undefined functions (Eq. 52).
    product : the same after the product rule (Eq. 53).
    factored : :math:`p\,(\nabla\cdot u + u\cdot\nabla\log p + \partial_\theta\log p)` (Eq. 50).
    bracket : the bracket of ``factored`` alone, in the undefined functions.
    written : the bracket with the density and the flow substituted, term by term.
    """

    definitions: tuple[ProofStep, ...]
    given: tuple[tuple[Any, Any], ...]
    p: Any
    q: Any
    u: tuple[Any, ...]
    divergence: sp.Expr
    product: sp.Expr
    factored: sp.Expr
    bracket: sp.Expr
    written: sp.Expr


def flow_chain(p: Any, u: tuple, wrt: sp.Symbol, *, flow_rule: str, q: Any = None, evaluate: bool = True) -> FlowChain:
    """The chain for density ``p`` (a ``Density``), flow components ``u`` and parameter ``wrt``.

    ``flow_rule`` describes the flow in the definition steps ("the reparam flow
    for sigma"); ``q`` is a sampling density other than p, defined as well.
    ``evaluate=False`` writes ``written`` with its derivatives unevaluated (the
    density and the flow substituted, nothing differentiated): a caller whose check
    never built R (the structured transport route) does not pay for it here; the
    proof's check evaluates them when it is checked (at d = 32 with the OMT flow,
    evaluating them cost 6x the check itself).
    """
    xs = p.x
    p_f = sp.Function("p")(*xs, wrt)
    u_f, du_f = _undefined_flow(xs)
    q_f = sp.Function("q")(*xs) if q is not None else None
    definitions = [ProofStep(p_f, p.expr, f"the density {p.name}", basis=Basis.DEFINITION)]
    given: list = [(p_f, p.expr)]
    if q is not None:
        definitions.append(ProofStep(q_f, q.expr, f"the sampling density {q.name}", basis=Basis.DEFINITION))
        given.append((q_f, q.expr))
    for j, (uj, ej) in enumerate(zip(u_f, u, strict=True)):
        rule = flow_rule if j == 0 else f"component {j + 1} of the same flow"
        definitions.append(ProofStep(uj, ej, rule, basis=Basis.DEFINITION))
        given.append((uj, ej))
    # Each piece built once per parameter (log p(x; theta), its x-derivatives), the u_j's once per x.
    log_p_f = sp.log(p_f)
    dp_f = [_derivative(p_f, xj) for xj in xs]
    dlog_p_f = [_derivative(log_p_f, xj) for xj in xs]
    dp_theta = _derivative(p_f, wrt)
    divergence = sp.Add(
        *(_derivative(_sorted(sp.Mul, p_f, uj), xj) for uj, xj in zip(u_f, xs, strict=True)), dp_theta, evaluate=False
    )
    product = sp.Add(
        *(
            _sorted(sp.Add, _sorted(sp.Mul, uj, dpj), _sorted(sp.Mul, p_f, duj))
            for uj, dpj, duj in zip(u_f, dp_f, du_f, strict=True)
        ),
        dp_theta,
        evaluate=False,
    )
    bracket = sp.Add(
        *du_f,
        *(_sorted(sp.Mul, uj, dlj) for uj, dlj in zip(u_f, dlog_p_f, strict=True)),
        _derivative(log_p_f, wrt),
        evaluate=False,
    )
    if not evaluate:
        # R as written: the factors are kept as they are (an unevaluated product, as in the evaluated branch);
        # SymPy's Mul.flatten of each component with d log p/dx_j cost 3.4 s of the d = 32 checks.
        dlog_p = _log_gradient(p)
        terms = [_derivative(uj, xj) for uj, xj in zip(u, xs, strict=True) if uj != 0]
        terms += [
            gj if uj == 1 else sp.Mul(uj, gj, evaluate=False) for uj, gj in zip(u, dlog_p, strict=True) if uj != 0
        ]
        terms.append(_derivative(p.log_expr, wrt))
        written = sp.Add(*terms, evaluate=False)
    else:
        terms = [p.diff(uj, xj) for uj, xj in zip(u, xs, strict=True)]
        terms += [
            _tidy(gj) if uj == 1 else sp.Mul(uj, _tidy(gj), evaluate=False)
            for uj, gj in zip(u, p.grad_log(), strict=True)
            if uj != 0
        ]
        terms = [t for t in terms if t != 0] + [_tidy(p.score(wrt))]
        written = sp.Add(*terms, evaluate=False) if len(terms) > 1 else terms[0]
    return FlowChain(
        tuple(definitions),
        tuple(given),
        p_f,
        q_f,
        u_f,
        divergence,
        product,
        sp.Mul(p_f, bracket, evaluate=False),
        bracket,
        written,
    )
