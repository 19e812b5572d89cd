"""Constructors for the flows the paper discusses.

* ``zero``      u = 0: the likelihood-ratio estimator (Eq. 1, 20).
* ``reparam``   u = dg/dtheta_i at eps = S(x; theta): reparameterization (Sec. 2.2, Eq. 52).
* ``implicit``  u = -(dS/dx)^{-1} dS/dtheta_i: implicit reparameterization (Eq. 56).
* ``weighted``  k u: the weighted LR/RP family (Eq. 51).
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from ..core import budget as budgets
from ..core.budget import SYMPY_GAVE_UP, BudgetExceeded, bounded, resolve_timeout, run_with_budget
from ..core.convert import as_expr, as_symbols, as_vector
from ..core.density import Density, checked_density
from ..core.flow import Flow
from ..errors import FlowError

__all__ = ["implicit", "omt", "reparam", "weighted", "zero"]


def zero(p: Density) -> Flow:
    """The zero flow u = 0 for every parameter: the likelihood-ratio estimator."""
    p = checked_density(p)
    return Flow(p, {t: [sp.S.Zero] * p.dim for t in p.params}, kind="zero", note="likelihood ratio, u = 0")


def _solve_standardization(g: tuple, eps: tuple, x: tuple, timeout: float) -> tuple[sp.Expr, ...]:
    """Invert x = g(eps; theta) for eps (linear systems and 1-D equations)."""

    def solve() -> tuple:
        eqs = [gi - xi for gi, xi in zip(g, x, strict=True)]
        if all(sp.Poly(e, *eps).is_linear for e in eqs if e.is_polynomial(*eps)) and all(
            e.is_polynomial(*eps) for e in eqs
        ):
            sols = list(sp.linsolve(eqs, *eps))
        else:
            sols = budgets.solve(eqs, eps, dict=True, timeout=timeout)  # runs inside the budget below
            sols = [tuple(s[e] for e in eps) for s in sols if all(e in s for e in eps)]
        return tuple(tuple(s) for s in sols)

    try:
        sols = run_with_budget(solve, timeout=timeout, what="solving x = g(eps) for eps")
    except BudgetExceeded as exc:
        raise FlowError(f"could not invert g within the budget ({exc}); pass S= explicitly") from None
    except SYMPY_GAVE_UP as exc:
        # SymPy's solve says so when it has no method for this equation: the input, not a bug here
        raise FlowError(
            f"SymPy could not invert x = g(eps) for eps ({type(exc).__name__}: {str(exc)[:120]}); "
            "pass the standardization S= (the inverse of g) explicitly"
        ) from None
    if len(sols) != 1:
        raise FlowError(
            f"x = g(eps) has {len(sols)} solution(s) for eps; pass the standardization S= (the inverse of g) explicitly"
        )
    return tuple(sols[0])


@bounded
def reparam(
    p: Density,
    g: Sequence | sp.Expr | None = None,
    eps: Sequence | sp.Symbol | None = None,
    *,
    S: Sequence | sp.Expr | None = None,
    timeout: float | None = None,
) -> Flow:
    """The reparameterization flow u_theta_i(x) = dg(eps; theta)/dtheta_i at eps = S(x; theta).

    Sec. 2.2: sampling x = g(eps; theta) with eps from a theta-free base
    density moves each sample along this field.  Without ``g`` the
    density's own reparameterization is used.

    Parameters
    ----------
    p : Density
    g : expression(s), optional
        x = g(eps; theta), one component per variable.
    eps : Symbol(s), optional
        The base variables of ``g``; required with ``g``.
    S : expression(s), optional
        The standardization eps = S(x; theta).  Found by solving x = g(eps)
        when not given (linear systems and invertible 1-D maps).
    """
    p = checked_density(p)
    budget = resolve_timeout(timeout)
    if g is None:
        if p.reparam is None:
            raise FlowError(f"{p.name} has no reparameterization; pass g= and eps=, or use flows.implicit(p)")
        g_vec, eps_vec = p.reparam.g, p.reparam.eps
        S_vec = p.standardize if S is None else as_vector(S, "S")
    else:
        if eps is None:
            raise FlowError("g was given without eps; pass eps=, the Symbols g is a function of")
        g_vec = as_vector(g, "g")
        eps_vec = as_symbols(eps, "eps")
        S_vec = None if S is None else as_vector(S, "S")
    if len(g_vec) != p.dim or len(eps_vec) != p.dim:
        raise FlowError(
            f"g has {len(g_vec)} component(s) and eps {len(eps_vec)} Symbol(s); the density has "
            f"{p.dim} variable(s): give one of each per variable"
        )
    clash = set(eps_vec) & (set(p.x) | set(p.params))
    if clash:
        raise FlowError(f"eps reuses {clash}; use Symbols distinct from the density's x and parameters")
    stray = set().union(*(gi.free_symbols for gi in g_vec)) - set(eps_vec) - set(p.params)
    if stray:
        raise FlowError(
            f"g uses {', '.join(sorted(map(str, stray)))}, which are neither eps nor parameters of {p.name}"
        )
    if S_vec is None:
        S_vec = _solve_standardization(g_vec, eps_vec, p.x, budget)
    if len(S_vec) != p.dim:
        raise FlowError(f"S has {len(S_vec)} component(s); give one per variable")
    at_x = dict(zip(eps_vec, S_vec, strict=True))
    g_free = [gi.free_symbols for gi in g_vec]
    fields = {}
    for theta in p.params:
        # dg/dtheta an atom (0, 1, one eps_j or parameter) => the component is that atom or an S_j exactly as
        # the density gave it => nothing to simplify (simplify on a nested mvn S_j costs up to 15 s at d = 8).
        # theta not in g_i => dg_i/dtheta = 0 without asking SymPy (d^3 derivatives of mvn(d), most of them 0).
        dgs = [p.diff(gi, theta) if theta in free else sp.S.Zero for gi, free in zip(g_vec, g_free, strict=True)]
        fields[theta] = [
            dg.xreplace(at_x) if dg.is_Atom else budgets.simplify(dg.xreplace(at_x), timeout=budget) for dg in dgs
        ]
    return Flow(p, fields, kind="reparam", note=f"x = g(eps) = {sp.sstr(list(g_vec) if p.dim > 1 else g_vec[0])}")


@bounded
def implicit(p: Density, S: Sequence | sp.Expr | None = None, *, timeout: float | None = None) -> Flow:
    """The implicit reparameterization flow u = -(dS/dx)^{-1} dS/dtheta_i (Eq. 56).

    S(x; theta) is any standardization: a map to a theta-free variable.  It
    defaults to the CDF in 1-D (Figurnov et al.), else to the density's own
    standardization.
    """
    p = checked_density(p)
    budget = resolve_timeout(timeout)
    if S is None:
        if p.dim == 1 and p.cdf is not None:
            S_vec = (p.cdf,)
            note = "S = CDF"
        elif p.standardize is not None:
            S_vec = p.standardize
            note = "S = the family's standardization"
        else:
            raise FlowError(f"{p.name} has neither a CDF nor a standardization; pass S=")
    else:
        S_vec = as_vector(S, "S")
        note = f"S = {sp.sstr(list(S_vec) if len(S_vec) > 1 else S_vec[0])}"
    if len(S_vec) != p.dim:
        raise FlowError(f"S has {len(S_vec)} component(s); the density has {p.dim} variable(s)")
    stray = set().union(*(s.free_symbols for s in S_vec)) - set(p.x) - set(p.params)
    if stray:
        raise FlowError(f"S uses {', '.join(sorted(map(str, stray)))}, which are not variables or parameters")
    jac = sp.Matrix([[sp.diff(s, xi) for xi in p.x] for s in S_vec])
    fields = {}
    for theta in p.params:
        dS = sp.Matrix([sp.diff(s, theta) for s in S_vec])
        if p.dim == 1:
            comps = [-dS[0] / jac[0, 0]]
        elif jac.is_lower or jac.is_upper:
            comps = list(-jac.LUsolve(dS))
        else:
            comps = list(-jac.inv() * dS)
        fields[theta] = [_principal(_simpler(c, budgets.simplify(c, timeout=budget))) for c in comps]
    return Flow(p, fields, kind="implicit", note=note)


def _simpler(raw: sp.Expr, simplified: sp.Expr) -> sp.Expr:
    """The simplified component unless it has more operations than the raw one (same value either way).

    simplify can expand a power of a sum into a product of powers with symbolic exponents
    (Student's t in nu: (1 + z^2/nu)^((nu+1)/2) becomes (x^2 - 2 mu x + nu sigma^2 + mu^2)^(...)
    nu^(...) sigma^(-nu)), which the transport check can no longer cancel.
    """
    return simplified if sp.count_ops(simplified) < sp.count_ops(raw) else raw


def _principal(expr: sp.Expr) -> sp.Expr:
    """``expr`` with SymPy's polar numbers taken to the principal branch: exp_polar(a) -> exp(a).

    Differentiating hyper(a; b; -z**2/nu) (the Student t's CDF) in nu writes -1 as
    exp_polar(I*pi) in the argument (simplify does); a flow holds real values, and hyper is
    unbranched off [1, oo), so on the principal branch the value is the same and
    the I that Flow refuses is gone.
    """
    if not expr.has(sp.exp_polar):
        return expr
    return expr.replace(lambda e: isinstance(e, sp.exp_polar), lambda e: sp.exp(e.args[0]))


def weighted(flow: Flow, k: object) -> Flow:
    """The weighted flow k u (Eq. 51): k = 1 is the original flow, k = 0 LR.

    ``k`` is a number or an expression in the density's parameters.
    """
    if not isinstance(flow, Flow):
        raise FlowError(f"flow must be a Flow (see symflow.flows), got {type(flow).__name__}")
    k_expr = as_expr(k, "k")
    stray = k_expr.free_symbols - set(flow.density.params)
    if stray:
        raise FlowError(
            f"k uses {', '.join(sorted(map(str, stray)))}, which are not parameters of "
            f"{flow.density.name}; add them to the density's params or pass a number"
        )
    fields = {t: [k_expr * c for c in comps] for t, comps in flow.fields}
    return Flow(flow.density, fields, kind="weighted", note=f"{sp.sstr(k_expr)} x ({flow.kind} flow)")


@bounded
def omt(p: Density, *, timeout: float | None = None) -> Flow:
    r"""The optimal-transport flow of a Gaussian (Jankowiak & Obermeyer 2018; App. E.1).

    For :math:`p = N(\mu(\theta), \Sigma(\theta))`,

    .. math::
        u_{\theta_i}(x) = \partial_{\theta_i}\mu + A\,(x - \mu),\qquad
        A = A^\top,\quad A\Sigma + \Sigma A = \partial_{\theta_i}\Sigma ,

    which solves the transport equation (Eq. 52) and, in d >= 2, differs
    from the Cholesky (reparameterization) flow by a field w with
    :math:`\nabla\cdot(p w) = 0`: RP flows are not unique.  mu and Sigma are
    read off the density itself (log p must be quadratic in x:
    :math:`\Sigma = -H^{-1}` with H the Hessian of log p, and
    :math:`\mu = \Sigma\,\nabla\log p(0)`), so any Gaussian parameterization
    works (Cholesky entries, scales, correlations).  The Lyapunov equation is
    solved symbolically (a linear system in the d(d+1)/2 entries of A).
    Measured: d = 2 (full Cholesky) and diagonal covariances in d = 3 take
    under a second; a full 3 x 3 Cholesky factor does not finish within
    minutes (the off-diagonal entries' solutions are large rational
    functions), and a FlowError names the budget.

    For ``mvn(d, form="precision")`` nothing is solved symbolically: with
    Sigma = L L^T, y = Sigma^{-1}(x - mu) and the antisymmetric atom
    ``OmtSkew`` A = W Sigma - dL L^T (W the Lyapunov solution, computed
    numerically when evaluated), u = dmu + (dL L^T + A) y, which is
    W (x - mu) + dmu, with (A y)_a kept as one ``OmtTurn`` atom per
    component; it is built in about a second at d = 32.
    """
    p = checked_density(p)
    structured = _omt_precision_form(p)
    if structured is not None:
        return structured
    budget = resolve_timeout(timeout)
    x = sp.Matrix(p.x)
    d = p.dim

    def build() -> dict:
        hess = sp.hessian(p.log_expr, p.x)
        if any(h.has(*p.x) for h in hess):
            raise FlowError(f"{p.name} is not Gaussian (log p is not quadratic in x); omt needs a normal density")
        grad0 = sp.Matrix([sp.diff(p.log_expr, xi) for xi in p.x]).xreplace({xi: 0 for xi in p.x})
        sigma = (-hess).inv(method="LU").applyfunc(lambda e: sp.factor(sp.cancel(e)))
        mu = (sigma * grad0).applyfunc(lambda e: sp.factor(sp.cancel(e)))
        unknowns = {(i, j): sp.Dummy(f"a{i}{j}") for i in range(d) for j in range(i, d)}
        A = sp.Matrix(d, d, lambda i, j: unknowns[(min(i, j), max(i, j))])
        fields = {}
        for theta in p.params:
            rhs = sigma.diff(theta)
            eqs = [e for e in (A * sigma + sigma * A - rhs) if e != 0]
            if eqs:
                sol = budgets.solve(eqs, list(unknowns.values()), dict=True, timeout=budget)
                if len(sol) != 1:
                    raise FlowError(f"the Lyapunov equation for {theta} has {len(sol)} solutions")
                a_val = A.xreplace(sol[0]).applyfunc(lambda e: sp.factor(sp.cancel(e)))
            else:
                a_val = sp.zeros(d, d)
            u = mu.diff(theta) + a_val * (x - mu)
            fields[theta] = [sp.factor(sp.cancel(c)) for c in u]
        return fields

    try:
        fields = run_with_budget(build, timeout=budget, what="solving A Sigma + Sigma A = dSigma/dtheta")
    except BudgetExceeded as exc:
        raise FlowError(f"could not build the optimal-transport flow within the budget ({exc})") from None
    except (sp.PolynomialError, ZeroDivisionError, ValueError) as exc:
        raise FlowError(f"could not read mu and Sigma off {p.name}: {exc}") from None
    return Flow(p, fields, kind="omt", note="optimal transport: u = dmu + A (x - mu), A Sigma + Sigma A = dSigma")


def _omt_precision_form(p: Density) -> Flow | None:
    """The OMT flow of an ``mvn(..., form="precision")`` density in its atoms, or None for other densities."""
    from ..structured.atoms import Entries, OmtTurn, QuadForm, entry_derivatives, precision_density, standardized

    quads = p.expr.atoms(QuadForm)
    if len(quads) != 1:
        return None
    X, Mu, lflat = next(iter(quads)).args
    d = p.dim
    if tuple(X) != p.x or p.expr != precision_density(X, Mu, lflat):
        return None
    ly = standardized(X, Mu, lflat)
    zeros = [sp.S.Zero] * (d * d)
    fields = {}
    for theta in p.params:
        # Only the entries theta occurs in are differentiated: most of the d^2 entries of L are free of it.
        dmu = entry_derivatives(Mu, theta)
        dl_nonzero = entry_derivatives(lflat, theta)
        dl_list = list(zeros)
        chol: list[list] = [[] for _ in range(d)]
        for idx, value in sorted(dl_nonzero.items()):
            dl_list[idx] = value
            j, k = divmod(idx, d)
            chol[j].append(value * ly[k])  # (dL L^T y)_j = sum_k dL_jk (L^T y)_k
        dl = Entries(*dl_list)
        comps = []
        for a in range(d):
            # (A y)_a = sum_b A_ab y_b as one atom: a d-term SymPy sum per component made the d = 32 flow cost 137 s
            comps.append(dmu.get(a, sp.S.Zero) + sp.Add(*chol[a]) + OmtTurn.make(a, dl, X, Mu, lflat))
        fields[theta] = comps
    return Flow(p, fields, kind="omt", note="optimal transport: u = dmu + (dL L^T + A) Sigma^{-1} (x - mu), A = -A^T")
