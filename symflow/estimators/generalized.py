"""The generalized reparameterization gradient (GRP) of Ruiz et al. (2016) as a flow estimator (App. E.3).

GRP samples eps from a base density that may depend on theta and sets
x = g(eps; theta).  Written over x (Eq. 58), its weights are

    v   = h(S(x)),                 h = dg/dtheta_i,
    psi = grad log p . h + d log p/dtheta_i + u_grp(S(x)),   u_grp = d log |dg/deps| / dtheta_i,

with p the density of x that g induces.  It is the flow estimator (Eq. 50)
with u = h(S(x)) (Eq. 59) because div_x h(S(x)) = u_grp(S(x)) (Eq. 60-62):
both equal Tr[(d^2 g/dtheta_i deps) (dg/deps)^{-1}].
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import numpy as np
import sympy as sp

from ..core import budget as budgets
from ..core.budget import SYMPY_GAVE_UP, BudgetExceeded, bounded, resolve_timeout, run_with_budget
from ..core.convert import as_symbols, as_vector
from ..core.density import Density
from ..core.domain import Domain
from ..core.estimator import Estimator
from ..core.steps import Step
from ..core.verdict import Status, Verdict
from ..errors import EstimatorError, FlowError
from ..numeric.evaluate import numpy_function
from ..zero import decide_zero
from .identity_proofs import grp_trace_derivation, reparam_transport_derivation

__all__ = ["check_grp_trace_identity", "check_reparam_transport_identity", "grp", "induced_density"]


def _abs_det(det: sp.Expr) -> sp.Expr:
    if det.is_positive:
        return det
    if det.is_negative:
        return -det
    return sp.Abs(det)


def _refine_on_support(expr: sp.Expr, x: tuple, support: object) -> sp.Expr:
    """Resolve Abs(x_j) where the support fixes x_j's sign (x > 0 on (0, oo) => |x| = x)."""
    if support is None:
        return expr
    sets = (support,) if len(x) == 1 else tuple(support)
    reps = {}
    for xi, s in zip(x, sets, strict=False):
        if not isinstance(s, sp.Interval):
            continue
        if s.inf.is_nonnegative:
            reps[xi] = sp.Dummy(xi.name, positive=True)
        elif s.sup.is_nonpositive:
            reps[xi] = sp.Dummy(xi.name, negative=True)
    if not reps:
        return expr
    # rebuilding with sign-carrying Dummies lets Abs evaluate; then put the user's Symbols back
    return expr.xreplace(reps).xreplace({v: k for k, v in reps.items()})


def _standardization(g: tuple, eps: tuple, x: tuple, S: object, budget: float) -> tuple[sp.Expr, ...]:
    if S is not None:
        S_vec = as_vector(S, "S")
        if len(S_vec) != len(x):
            raise FlowError(f"S has {len(S_vec)} component(s); give one per variable")
        return S_vec
    from .flows import _solve_standardization

    return _solve_standardization(g, eps, x, budget)


@bounded
def induced_density(
    base: Density,
    g: object,
    eps: object,
    *,
    x: object = None,
    S: object = None,
    support: object = None,
    name: str = "p",
    timeout: float | None = None,
) -> Density:
    r"""The density of x = g(eps; theta) for eps ~ base: :math:`p(x) = p_\epsilon(S(x))\,|\det \partial S/\partial x|`.

    Eq. (54) read backwards.  Its parameters are the base's followed by any
    other parameter of g; its sampler draws eps from the base and maps it
    through g.  ``support`` defaults to the image of the base's support in
    1-D (limits of g at its edges) and to all reals otherwise.
    """
    if not isinstance(base, Density):
        raise EstimatorError(f"base must be a Density over eps, got {type(base).__name__}")
    if base.is_discrete:
        raise EstimatorError(f"base {base.name} is a pmf; x = g(eps) of a pmf has no density: give a continuous base")
    budget = resolve_timeout(timeout)
    g_vec = as_vector(g, "g")
    eps_vec = as_symbols(eps, "eps")
    if eps_vec != base.x:
        raise FlowError(f"eps {eps_vec} must be the base density's variables {base.x}")
    d = len(eps_vec)
    if len(g_vec) != d:
        raise FlowError(f"g has {len(g_vec)} component(s) for {d} base variable(s); give one per variable")
    if x is None:
        x = (sp.Symbol("x", real=True),) if d == 1 else sp.symbols(f"x1:{d + 1}", real=True)
    x_vec = as_symbols(x, "x")
    extra = sorted(set().union(*(gi.free_symbols for gi in g_vec)) - set(eps_vec) - set(base.params), key=str)
    params = base.params + tuple(extra)
    if len(x_vec) != d:
        raise FlowError(f"x has {len(x_vec)} variable(s) for {d} base variable(s); give one per variable")
    S_vec = _standardization(g_vec, eps_vec, x_vec, S, budget)
    if len(S_vec) != d:
        raise FlowError(f"S has {len(S_vec)} component(s) for {d} base variable(s); give one per variable")
    jac = sp.Matrix([[sp.diff(si, xi) for xi in x_vec] for si in S_vec])
    det = jac[0, 0] if d == 1 else jac.det(method="berkowitz")
    if support is None:
        support = _image_support(base, g_vec, eps_vec, budget) if d == 1 else None
    expr = base.expr.xreplace(dict(zip(eps_vec, S_vec, strict=True))) * _abs_det(budgets.simplify(det, timeout=budget))
    expr = _refine_on_support(expr, x_vec, support)
    sampler = partial(_pushforward_sample, base, eps_vec, g_vec, params)
    return Density(
        budgets.simplify(expr, timeout=budget),
        x_vec,
        params,
        support=support,
        sampler=sampler,
        standardize=S_vec,
        constraints=base.constraints,
        name=name,
    )


def _pushforward_sample(
    base: Density, eps: tuple, g: tuple, params: tuple, n: int, values: dict, rng: np.random.Generator
) -> np.ndarray:
    """x = g(eps; theta) for eps drawn from the base density (a module-level function: the density pickles)."""
    if base.sampler is None and base.reparam is None:
        raise EstimatorError("the base density has no sampler")
    e = base.sample(n, {t: values[t] for t in base.params}, rng)
    cols = numpy_function([eps, params], g)(tuple(e.T), tuple(values[t] for t in params))
    return np.column_stack([np.broadcast_to(np.asarray(c, dtype=float), (n,)) for c in cols])


def _image_support(base: Density, g: tuple, eps: tuple, budget: float) -> sp.Set | None:
    s = base.support_sets[0]

    def edges() -> tuple:
        at = {eps[0]: s.inf}, {eps[0]: s.sup}
        lo = budgets.limit(g[0], eps[0], s.inf, "+", timeout=budget) if s.inf.is_infinite else g[0].xreplace(at[0])
        hi = budgets.limit(g[0], eps[0], s.sup, "-", timeout=budget) if s.sup.is_infinite else g[0].xreplace(at[1])
        return lo, hi

    try:
        lo, hi = run_with_budget(edges, timeout=budget, what="image of the base support")
    except (BudgetExceeded, *SYMPY_GAVE_UP):
        return None
    if lo.has(sp.Limit) or hi.has(sp.Limit):
        return None
    if (hi - lo).is_negative:
        lo, hi = hi, lo
    if not (lo.is_extended_real and hi.is_extended_real):
        return None  # g maps the base's edges off the real line: no image interval to give
    return sp.Interval(lo, hi)


@bounded
def grp(
    base: Density,
    g: object,
    eps: object,
    wrt: sp.Symbol,
    *,
    density: Density | None = None,
    x: object = None,
    S: object = None,
    timeout: float | None = None,
) -> Estimator:
    r"""The generalized reparameterization estimator (Ruiz et al. 2016; Eq. 58) as an Estimator over x.

    .. math::
        E = h\cdot\nabla\phi + \Big(\nabla\log p\cdot h + \partial_{\theta_i}\log p
            + \partial_{\theta_i}\log\big|\tfrac{\partial g}{\partial\epsilon}\big|\Big)\phi,
        \qquad h = \frac{\partial g(\epsilon;\theta)}{\partial\theta_i}\Big|_{\epsilon = S(x)}

    Parameters
    ----------
    base : Density over eps; its parameters may include theta.
    g : expression(s), x = g(eps; theta).
    eps : the base's variables.
    wrt : the parameter theta_i.
    density : Density, optional
        The density of x, when known in closed form (e.g. the Gamma); by
        default ``induced_density(base, g, eps)``.
    x, S : the variables of x and the standardization eps = S(x) (found by
        solving when not given).
    """
    budget = resolve_timeout(timeout)
    g_vec = as_vector(g, "g")
    eps_vec = as_symbols(eps, "eps")
    if density is None:
        p = induced_density(base, g_vec, eps_vec, x=x, S=S, timeout=budget)
        S_vec = p.standardize
    else:
        if not isinstance(density, Density):
            raise EstimatorError(f"density must be a Density, got {type(density).__name__}")
        p = density
        S_vec = _standardization(g_vec, eps_vec, p.x, S, budget)
    wrt = p.check_param(wrt)
    at_x = dict(zip(eps_vec, S_vec, strict=True))
    h = tuple(sp.diff(gi, wrt) for gi in g_vec)
    G = sp.Matrix([[sp.diff(gi, e) for e in eps_vec] for gi in g_vec])
    det = G[0, 0] if len(eps_vec) == 1 else G.det(method="berkowitz")
    # d log|det G| / dtheta = (d det G/dtheta) / det G whatever the sign of det G
    u_grp = sp.diff(det, wrt) / det
    v = tuple(budgets.simplify(hi.xreplace(at_x), timeout=budget) for hi in h)
    along = sum((vi * gl for vi, gl in zip(v, p.grad_log(), strict=True)), sp.S.Zero)
    psi = budgets.simplify(along + p.score(wrt) + u_grp.xreplace(at_x), timeout=budget)
    steps = (
        Step(sp.Symbol("v"), sp.Matrix(v) if len(v) > 1 else v[0], "v = h(S(x)), h = dg/dtheta_i", "58"),
        Step(
            sp.Symbol("psi"),
            psi,
            "psi = grad log p . h + d log p/dtheta_i + d log|dg/deps|/dtheta_i at eps = S(x)",
            "58",
        ),
    )
    return Estimator(p, wrt, v, psi, None, steps=steps, name="GRP (Ruiz et al.)")


def _generic(d: int):
    eps = sp.symbols(f"e1:{d + 1}", real=True)
    theta = sp.Symbol("theta", real=True)
    g = [sp.Function(f"g{j + 1}")(*eps, theta) for j in range(d)]
    G = sp.Matrix([[sp.diff(gj, e) for e in eps] for gj in g])
    det = G.det(method="berkowitz")
    # G^{-1} = adj(G)/det(G) keeps everything a rational function of the derivatives
    adj = G.adjugate(method="berkowitz")
    dh = sp.Matrix([[sp.diff(sp.diff(gj, theta), e) for e in eps] for gj in g])
    trace = sum((dh[j, k] * adj[k, j] for j in range(d) for k in range(d)), sp.S.Zero) / det
    return eps, theta, g, det, trace


# Largest dimension of the generic identities: their determinants grow like d! (d = 6 takes minutes).
MAX_GENERIC_DIM = 12


def _check_dim(d: object) -> int:
    if not isinstance(d, int) or isinstance(d, bool) or not 1 <= d <= MAX_GENERIC_DIM:
        raise EstimatorError(f"d must be an integer dimension in 1..{MAX_GENERIC_DIM}, got {d!r}")
    return d


@bounded
def check_grp_trace_identity(d: int = 1, *, timeout: float | None = None) -> Verdict:
    r"""Prove Eq. (60)-(62) for an arbitrary g in d dimensions.

    .. math::
        \partial_{\theta_i}\log\Big|\frac{\partial g}{\partial\epsilon}\Big|
        = \mathrm{Tr}\Big[\frac{\partial^2 g}{\partial\theta_i\partial\epsilon}
          \Big(\frac{\partial g}{\partial\epsilon}\Big)^{-1}\Big]
        = \nabla_x\cdot h(S(x))

    (the last step is the chain rule with :math:`\partial S/\partial x = (\partial g/\partial\epsilon)^{-1}`).
    g_j are undefined SymPy functions, so this is Jacobi's formula in general:
    GRP's u term equals the divergence of the flow, hence GRP = the flow estimator.
    """
    claim = f"d log|dg/deps|/dtheta = Tr[(d2g/dtheta deps)(dg/deps)^-1] for undefined g in {d}-D (Eq. 61-62)"
    verdict = _decide_generic(_check_dim(d), _trace_identity, claim, timeout)
    return _with_derivation(verdict, grp_trace_derivation, d)


def _trace_identity(d: int) -> sp.Expr:
    eps, theta, g, det, trace = _generic(d)
    return sp.diff(det, theta) / det - trace


def _transport_identity(d: int) -> sp.Expr:
    eps, theta, g, det, trace = _generic(d)
    p_eps = sp.Function("p_eps")(*eps)
    P = p_eps / det
    return sp.diff(P, theta) + P * trace


def _with_derivation(verdict: Verdict, derivation, d: int) -> Verdict:
    """The verdict with its written-out derivation, when that is written within what is left of the budget.

    Writing it out is the same d!-sized in-process work as building the residual (minutes at d = 6).
    """
    try:
        proof = run_with_budget(derivation, d, timeout=budgets.remaining(), what=f"the {d}-D derivation")
    except BudgetExceeded:
        return verdict
    return replace(verdict, proof=proof)


def _decide_generic(d: int, build, claim: str, timeout: float | None) -> Verdict:
    """Build the d-D residual and decide it in one budgeted step.

    The determinant and adjugate of a d x d matrix of undefined derivatives grow
    like d!: building them (about 5 s at d = 6) and even walking the result are
    in-process work no step budget reaches, so the whole decision runs as one step.
    """

    def work() -> Verdict:
        return decide_zero(build(d), Domain(), timeout=timeout, numeric=False, claim=claim)

    try:
        return run_with_budget(work, timeout=resolve_timeout(timeout), what=f"the {d}-D identity")
    except BudgetExceeded as exc:
        return Verdict(Status.UNKNOWN, "symbolic strategies", None, reason=str(exc), claim=claim)


@bounded
def check_reparam_transport_identity(d: int = 1, *, timeout: float | None = None) -> Verdict:
    r"""Prove that u = dg/dtheta at eps = S(x) solves the transport equation for any invertible g (Eq. 52-55).

    At x = g(eps), Eq. (54) gives :math:`P := p(g(\epsilon);\theta) = p_\epsilon(\epsilon)/\det G`
    with :math:`G = \partial g/\partial\epsilon`; the chain rule turns
    :math:`\partial_\theta p + \nabla p\cdot h` into :math:`\partial_\theta P|_\epsilon`, and
    :math:`p\,\nabla\cdot u = P\,\mathrm{Tr}[\partial_\epsilon h\,G^{-1}]` (Eq. 53).  So the
    transport residual at x = g(eps) is

    .. math::
        \partial_\theta\big(p_\epsilon/\det G\big) + \frac{p_\epsilon}{\det G}\,
        \mathrm{Tr}\big[\partial_\epsilon h\, G^{-1}\big],

    which is proved identically zero here for an undefined base density
    :math:`p_\epsilon(\epsilon)` and undefined g_j(eps, theta).
    """
    claim = f"the reparameterization flow solves transport for undefined g and base density in {d}-D (Eq. 52-55)"
    verdict = _decide_generic(_check_dim(d), _transport_identity, claim, timeout)
    return _with_derivation(verdict, reparam_transport_derivation, d)
