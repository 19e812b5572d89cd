r"""Exact references: integrals over a density's support, symbolic (cross-examined) or by mpmath.

The reference value every unbiasedness check compares against is
d/dtheta_i E_p[phi].  It is computed symbolically when SymPy can integrate
within the budget **and** its result agrees with an independent numeric
route at random parameter points (``crosscheck.cross_examine``: SymPy 1.14
integrates 1/(b + cos(pi x)) over [0, 2] to 0); otherwise by mpmath
quadrature (1-D, 2-D cubature) or summation (discrete supports).

When the support moves with theta the derivative follows its edges
(Leibniz / Reynolds transport, the paper's Eq. 76):

.. math::
    \frac{d}{d\theta}\int_{lo(\theta)}^{hi(\theta)} p\,\phi\,dx
      = \int \partial_\theta p\,\phi\,dx + p\,\phi\big|_{hi}\,hi'(\theta) - p\,\phi\big|_{lo}\,lo'(\theta)

(in 2-D, each moving face contributes the integral of p phi over the face
times the face's speed); p phi at an edge is taken from inside the support.

Over 400 lines on purpose: one concept, an integral behind a verdict, computed symbolically and
cross-examined numerically by the same steps (Leibniz faces, tails, mass tolerance).
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import sympy as sp

from ..core import budget as budgets
from ..core.budget import SYMPY_GAVE_UP, BudgetExceeded, bounded, resolve_timeout, run_with_budget
from ..core.convert import as_phi, at_values, evalf_constants, exact_values
from ..core.density import Density, checked_density
from ..core.domain import Domain, edge_number
from ..core.precision import CROSS_CHECK, CUBATURE, QUADRATURE, input_resolution
from ..numeric.evaluate import mpmath_function
from .crosscheck import AGREED, UNCHECKED, CrossCheck, cross_examine
from .gaussian import gaussian_expectation_gradient, gaussian_expectation_how, may_be_gaussian
from .quadrature import (
    IntegralConfirmation,
    center_scale,
    confirm_integral,
    infinite_expectation,
    numeric_integral,
    quad_1d,
)

__all__ = [
    "confirm_at",
    "confirm_gradient",
    "CheckedIntegral",
    "checked_integral",
    "expectation_gradient",
    "gaussian_moment_integral",
    "mass_tolerance",
    "numeric_gradient",
    "symbolic_integral",
]

# Seconds the symbolic attempt gets when a numeric fallback (parameter values) exists.
SYMBOLIC_LOOK = 2.0


@dataclass(frozen=True)
class CheckedIntegral:
    """SymPy's integral and its cross-examination.

    ``value`` is SymPy's result only when an independent numeric route agreed
    with it (else None); ``symbolic`` is what SymPy returned either way;
    ``check`` the cross-examination (None when SymPy gave nothing).
    """

    value: sp.Expr | None
    symbolic: sp.Expr | None = None
    check: CrossCheck | None = None
    steps: tuple = ()  # the 1-D steps of an iterated integral in d >= 3 (see _stepwise_check)
    how: str = "symbolic integration, cross-examined by quadrature"  # or the Gaussian moment route's text

    @property
    def disagreed(self) -> bool:
        return self.check is not None and self.check.disagreed

    def reason(self, what: str = "integral") -> str:
        if self.symbolic is None:
            return f"SymPy could not compute the {what} within the budget"
        return self.check.describe(what) if self.check is not None else ""


@budgets.pure  # SymPy's integrate/summation/simplify of its arguments alone: a repeated integral is done once
def _integral_steps(integrand: sp.Expr, x: tuple, support_sets: tuple, discrete: bool) -> tuple:
    """(integral or None, its 1-D steps) of ``integrand`` over the product of ``support_sets``: the step below."""
    steps: list = []
    out = integrand
    if len(x) == 1 and not discrete:
        from .heaviside import split_pieces

        pieces = split_pieces(integrand, x[0], support_sets[0])
        if pieces is not None:  # integrate a discontinuous integrand piece by piece
            out = sp.Add(*(budgets.integrate(e, (x[0], a, b)) for a, b, e in pieces))
            out = budgets.simplify(out)
            return (None if out.has(sp.Integral, sp.nan) else out), ()
    # Last variable first: in triangular (Cholesky) forms it appears in one factor only.
    for xi, s in reversed(tuple(zip(x, support_sets, strict=True))):
        lo, hi = s.inf, s.sup
        before = out
        out = budgets.summation(out, (xi, lo, hi)) if discrete else budgets.integrate(out, (xi, lo, hi))
        if out.has(sp.Integral, sp.Sum):
            return None, tuple(steps)
        steps.append((xi, lo, hi, before, out))
    out = budgets.simplify(out)
    if steps:
        steps[-1] = (*steps[-1][:4], out)
    if out.has(sp.Integral, sp.Sum, sp.nan) or out.has(sp.Piecewise):
        # Piecewise results carry convergence conditions; the parameters'
        # assumptions usually settle them, and piecewise_fold/simplify did not.
        return (out if not out.has(sp.Integral, sp.Sum, sp.nan) and _conditions_true(out) else None), tuple(steps)
    return out, tuple(steps)


def _raw_symbolic_integral(p: Density, integrand: sp.Expr, budget: float, trail: list | None = None) -> sp.Expr | None:
    """SymPy's integral (or sum) of ``integrand`` over p's support, taken on SymPy's word (None if it cannot).

    ``trail``, when given, receives each 1-D step of an iterated integral as
    ``(x_j, lower, upper, integrand, result)`` (the last result simplified), so the
    steps can be cross-examined one at a time where no d-D quadrature exists.
    """

    try:
        out, steps = run_with_budget(
            _integral_steps,
            integrand,
            p.x,
            p.support_sets,
            p.is_discrete,
            timeout=budget,
            what="symbolic integration",
        )
    except BudgetExceeded:
        return None
    except SYMPY_GAVE_UP:
        return None
    if trail is not None:
        trail.extend(steps)
    # A divergent integral (E[x**2] under a Cauchy density is oo) has no value to
    # compare or differentiate: d/dtheta of oo would be taken as 0.
    if out is not None and out.has(sp.oo, sp.S.NegativeInfinity, sp.zoo, sp.nan):
        return None
    return out


def _conditions_true(expr: sp.Expr) -> bool:
    for pw in expr.atoms(sp.Piecewise):
        if pw.args[0].cond != sp.true:
            return False
    return True


def gaussian_moment_integral(p: Density, factor: sp.Expr, budget: float) -> tuple[sp.Expr | None, str]:
    r"""``(\int factor p dx, how)`` by Gaussian moments when p is a Gaussian over R^d, else ``(None, why)``.

    Exact algebra (Isserlis/Stein moments, completing the square; ``calculus.gaussian``),
    no SymPy ``integrate``: this is the route for polynomial x exp-quadratic factors under
    ``normal`` and ``mvn`` (d = 2 took SymPy more than 60 s).  Tried before SymPy.
    """
    if not may_be_gaussian(p):  # in process: no forked reading for Laplace, Student, ...
        return None, "not a Gaussian over all of R^d"
    value, how = gaussian_expectation_how(p, factor, timeout=budget)
    return value, (f"Gaussian moments, {how}" if value is not None else how)


def _params_domain(p: Density, domain: Domain | None) -> Domain:
    return domain if domain is not None else Domain((), p.domain().parameters, p.constraints)


def _route_precision(p: Density):
    return CUBATURE if p.dim == 2 and not p.is_discrete else CROSS_CHECK


def checked_integral(
    p: Density,
    integrand: sp.Expr,
    *,
    timeout: float | None = None,
    domain: Domain | None = None,
    at: tuple[dict, ...] = (),
    factor: sp.Expr | None = None,
) -> CheckedIntegral:
    """SymPy's integral of ``integrand`` over p's support, cross-examined by quadrature.

    ``domain`` holds the parameters' intervals and constraints (default: p's);
    ``at`` are parameter points to compare at first (besides random ones).
    ``factor``, when given, says ``integrand = p.expr * factor``: for a Gaussian p
    the integral is then exact by moments (``gaussian_moment_integral``), before SymPy.
    """
    budget = resolve_timeout(timeout)
    if factor is not None:
        exact, how = gaussian_moment_integral(p, factor, budget)
        if exact is not None:
            return CheckedIntegral(exact, exact, None, how=how)
    # Half of what is left: the cross-examination (or the caller's quadrature fallback) needs the rest.
    trail: list = []
    sym = _raw_symbolic_integral(p, integrand, budgets.share(timeout, 0.5), trail)
    if sym is None:
        return CheckedIntegral(None)
    if p.dim >= 3 and not p.is_discrete:
        check = _stepwise_check(p, trail, _params_domain(p, domain), at, budget)
        return CheckedIntegral(sym if check.agreed else None, sym, check, tuple(trail))
    precision = _route_precision(p)

    def numeric(point: dict, dps: int):
        return numeric_integral(p, integrand, point, dps=dps, timeout=budget)

    needs = (set(p.params) | integrand.free_symbols) - set(p.x)
    check = cross_examine(sym, numeric, _params_domain(p, domain), at=at, precision=precision, symbols=needs)
    return CheckedIntegral(sym if check.agreed else None, sym, check)


def _stepwise_check(p: Density, trail: list, params: Domain, at: tuple, budget: float) -> CrossCheck:
    """Cross-examine an iterated d-D integral (d >= 3) one 1-D step at a time.

    There is no d-D quadrature to compare the whole with, but each step
    int_lo^hi f(x_1..x_j) dx_j = g(x_1..x_{j-1}) is a 1-D identity: it is compared
    with 1-D quadrature at random points of the remaining variables (inside the
    support) and parameters.  Agreed only when every step agrees.
    """
    if len(trail) != p.dim:
        return CrossCheck(UNCHECKED, (), "the integral was not computed one variable at a time")
    variables = dict(p.domain().variables)
    comparisons: tuple = ()
    for xj, lo, hi, body, result in trail:
        rest = tuple(x for x in p.x if x != xj and x in (body.free_symbols | lo.free_symbols | hi.free_symbols))
        step_domain = Domain(tuple((x, variables[x]) for x in rest), params.parameters, params.constraints)

        def numeric(point: dict, dps: int, xj=xj, lo=lo, hi=hi, body=body):
            a, b = (at_values(e, point) for e in (lo, hi))
            if (a.free_symbols | b.free_symbols) or not (a < b) == sp.true:
                return None
            line = Density(sp.S.One, (xj,), (), support=sp.Interval(a, b), name=f"d{xj}")
            return numeric_integral(line, at_values(body, point), {}, dps=dps, timeout=budget)

        needs = (body.free_symbols | lo.free_symbols | hi.free_symbols) - {xj}
        check = cross_examine(result, numeric, step_domain, at=at, precision=CROSS_CHECK, symbols=needs)
        comparisons += check.comparisons
        if not check.agreed:
            return CrossCheck(check.status, comparisons, f"integrating over {xj}: {check.reason}")
    return CrossCheck(AGREED, comparisons)


def confirm_at(
    p: Density, integrand: sp.Expr, checked: CheckedIntegral, at: dict, domain: Domain, timeout: float | None
) -> CrossCheck:
    """Cross-examine ``checked``'s symbolic value again at the parameter point ``at`` (a witness).

    1-D and 2-D: quadrature of the whole at ``at``; d >= 3: each recorded 1-D step at ``at``.
    """
    budget = resolve_timeout(timeout)
    if p.dim >= 3 and not p.is_discrete:
        return _stepwise_check(p, list(checked.steps), domain, (at,), budget)
    return cross_examine(
        checked.symbolic,
        lambda pt, dps: numeric_integral(p, integrand, pt, dps=dps, timeout=budget),
        domain,
        at=(at,),
        points=1,
        precision=_route_precision(p),
        symbols=set(p.params),
    )


def symbolic_integral(
    p: Density, integrand: sp.Expr, *, timeout: float | None = None, domain: Domain | None = None
) -> sp.Expr | None:
    """The integral (or sum) of ``integrand`` over p's support, or None.

    None when SymPy cannot compute it within the budget, and also when its
    result is not confirmed by quadrature at random parameter points
    (``checked_integral`` says which, with the numbers).
    """
    return checked_integral(p, integrand, timeout=timeout, domain=domain).value


# -- d/dtheta E_p[phi] -------------------------------------------------------------------------


def _inside(edge: mpmath.mpf, direction: int, dps: int) -> mpmath.mpf:
    """A point just inside the support from ``edge`` (direction +1: above it)."""
    with mpmath.workdps(dps + 20):
        return edge + direction * mpmath.mpf(10) ** (-dps - 5) * max(mpmath.mpf(1), abs(edge))


def _face_terms(p: Density, phi: sp.Expr, wrt: sp.Symbol, values: dict, dps: int, budget: float):
    """The Leibniz terms of the moving edges: sum over faces of (speed) * (p phi integrated over the face)."""
    total = mpmath.mpf(0)
    body = p.expr * phi
    for xj, s in zip(p.x, p.support_sets, strict=True):
        for edge, outward in ((s.sup, 1), (s.inf, -1)):
            if edge.is_infinite:
                continue
            speed = sp.diff(edge, wrt).xreplace(values)
            if speed == 0:
                continue
            with mpmath.workdps(dps + 10):
                e = edge_number(edge, values, dps + 20)
                at_face = _inside(e, -outward, dps)
                v_speed = mpmath.mpf(sp.N(speed, dps + 10))
                if p.dim == 1:
                    fn = mpmath_function(p.x, evalf_constants(at_values(body, values), dps + 10))
                    face = mpmath.mpmathify(fn(at_face)[0])
                else:
                    (other,) = [xi for xi in p.x if xi != xj]
                    k = p.x.index(other)
                    fn = mpmath_function([other, xj], evalf_constants(at_values(body, values), dps + 10))
                    lo, hi = (edge_number(b, values, dps + 10) for b in (p.support_sets[k].inf, p.support_sets[k].sup))
                    center, scale = center_scale(p, values)
                    hint = (float(center[k]), float(scale[k]))
                    face = quad_1d(lambda t, at_face=at_face, fn=fn: fn(t, at_face)[0], lo, hi, hint)
                total += outward * v_speed * face
    return total


def numeric_gradient(
    p: Density, phi: sp.Expr, wrt: sp.Symbol, values: dict, *, dps: int = QUADRATURE.high, timeout: float | None = None
) -> mpmath.mpf | None:
    """d/dtheta E_p[phi] at ``values`` by quadrature: the integral of (dp/dtheta) phi, plus the
    moving edges' terms (Leibniz) when the support moves (see the module docstring).

    In 2-D, ``dps`` <= 15 uses float64 cubature.  None when quadrature fails, or
    for a discrete support that moves with theta (no derivative).
    """
    values = exact_values(values)
    bulk = numeric_integral(p, sp.diff(p.expr, wrt) * phi, values, dps=dps, timeout=timeout)
    if bulk is not None and not _holds_all_mass(p, values, dps, timeout):
        return None
    if bulk is None or not any(sp.diff(s.inf, wrt) != 0 or sp.diff(s.sup, wrt) != 0 for s in p.support_sets):
        return bulk
    if p.is_discrete:
        return None  # integer edges that move with theta jump: E[phi] is not differentiable there
    budget = resolve_timeout(timeout)
    try:
        faces = run_with_budget(_face_terms, p, phi, wrt, values, dps, budget, timeout=budget, what="moving edges")
    except (BudgetExceeded, *SYMPY_GAVE_UP):
        return None
    with mpmath.workdps(dps):
        return mpmath.mpmathify(bulk) + faces


def mass_tolerance(dps: int) -> mpmath.mpf:
    """How far the quadrature of p over its support may miss 1 at ``dps`` digits (half the digits)."""
    return mpmath.mpf(10) ** -(dps // 2)


def _holds_all_mass(p: Density, values: dict, dps: int, timeout: float | None) -> bool:
    """Whether quadrature of p itself on the pieces every expectation under p uses gives 1.

    The pieces come from a center and scale (``center_scale``); where they miss p's mass (a narrow
    peak away from the center) every expectation on them is wrong, not just imprecise => a 1-D
    continuous p must integrate to 1 to half the working digits before an expectation is trusted.
    """
    if p.dim != 1 or p.is_discrete:
        return True
    mass = numeric_integral(p, p.expr, values, dps=dps, timeout=timeout)
    if mass is None:
        return False
    with mpmath.workdps(dps):
        # Float weights (0.3 N + 0.7 N) sum to 1 only to their own precision: read the mass to that too
        return abs(mpmath.mpmathify(mass) - 1) <= max(mass_tolerance(dps), input_resolution(p.expr) or 0)


def confirm_gradient(
    p: Density, phi: sp.Expr, wrt: sp.Symbol, values: dict, gap: object, *, dps: int, timeout: float | None
):
    """Confirm the quadrature part of an exact gradient, the integral of (dp/dtheta) phi, before it refutes.

    The integral is repeated (p must hold all its mass on those pieces) and confirmed by
    ``confirm_integral`` (evalf of the integrand; other nodes, to 1% of ``gap``).
    """
    values = exact_values(values)
    bulk_integrand = sp.diff(p.expr, wrt) * phi
    bulk = numeric_integral(p, bulk_integrand, values, dps=dps, timeout=timeout)
    if bulk is None or not _holds_all_mass(p, values, dps, timeout):
        return IntegralConfirmation(False, "the exact gradient's quadrature could not be repeated for its confirmation")
    conf = confirm_integral(p, bulk_integrand, values, bulk, gap, timeout=timeout)
    if conf.confirmed:
        return conf
    return IntegralConfirmation(False, f"the exact gradient is not confirmed: {conf.reason}")


# Parameter points where E_p|phi| is tested for a symbolic gradient (for all parameter values).
TAIL_POINTS = 2


def _infinite_expectation(p: Density, phi: sp.Expr, values: dict | None) -> str:
    """Why E_p|phi| is infinite at ``values`` (or at random parameter points when None), else ''."""
    from ..zero.points import exact_point, sample_points

    if values is not None:
        points = [values]
    else:
        points = [exact_point(pt) for pt in sample_points(_params_domain(p, None), set(p.params), draws=1)]
    for point in points[:TAIL_POINTS]:
        why = infinite_expectation(p, phi, point)
        if why:
            why = (
                f"E_p[phi] is not defined ({why}), so neither is its gradient, although the integral of "
                "(dp/dtheta) phi may converge"
            )
            if values is None:
                why += " at " + ", ".join(f"{k} = {sp.sstr(sp.N(v, 6))}" for k, v in point.items())
            return why
    return ""


@bounded
def expectation_gradient(
    p: Density,
    phi: sp.Expr,
    wrt: sp.Symbol,
    values: dict | None = None,
    *,
    timeout: float | None = None,
    dps: int = QUADRATURE.high,
) -> tuple[object, str] | tuple[None, str]:
    """d/dtheta_i E_p[phi]: ``(value, how)``.

    Without ``values``: symbolic, when SymPy integrates and its gradient agrees
    with the numeric route at random parameter points (a SymPy expression in
    the parameters).  With ``values`` in 1-D: numeric first, quadrature of
    (dp/dtheta_i) phi at 50 digits plus the moving edges' terms (Leibniz) when
    the support moves with theta; SymPy's gradient (cross-examined, evaluated
    at ``values``) only when quadrature fails.  A symbolic value at given
    parameters would have to agree with that quadrature anyway, and a
    hopeless symbolic attempt cost its whole look (2 s of the default 5 s).
    With ``values`` in 2-D (float64 cubature, about 9 digits): SymPy's
    cross-examined gradient first, cubature otherwise.
    """
    p = checked_density(p)
    phi = as_phi(phi, p.x)
    wrt = p.check_param(wrt)
    values = None if values is None else exact_values(values)
    # E_p|phi| = oo (Cauchy, phi = x) => E_p[phi] and its gradient are undefined, though the
    # integral of (dp/dtheta) phi may converge: no value, the reason instead.
    divergent = _infinite_expectation(p, phi, values)
    if divergent:
        return None, divergent
    budget = resolve_timeout(timeout)
    if may_be_gaussian(p):
        # A Gaussian p: the gradient of the exact closed form by moments (None outside that class).
        exact = gaussian_expectation_gradient(p, phi, (wrt,), timeout=budget)
        if exact is not None:
            how = "exact: Gaussian moments (Isserlis/Stein, completing the square), chain rule through mu and Sigma"
            if values is None:
                return exact[0], how
            return sp.Float(sp.N(exact[0].xreplace(values), dps), dps), how
    # In 1-D, quadrature at the values is the dependable route (50 digits), and a symbolic value would
    # have to agree with it => quadrature first, SymPy's short look only when it fails.  In 2-D the
    # cubature keeps about 9 digits, so an exact value (cross-examined) is worth its look first.
    numeric_first = values is not None and p.dim == 1
    if numeric_first:
        numeric_value, numeric_how = _numeric_at(p, phi, wrt, values, dps, timeout)
        if numeric_value is not None:
            return numeric_value, numeric_how
    # With parameter values the symbolic attempt gets only a short look: quadrature is the dependable route.
    sym_budget = budgets.share(timeout, 0.5) if values is None else min(budgets.share(timeout, 0.5), SYMBOLIC_LOOK)
    sym = _raw_symbolic_integral(p, p.expr * phi, sym_budget)
    note = ""
    if sym is not None:
        grad = sp.diff(sym, wrt)
        prec = _route_precision(p)

        def numeric(point: dict, d: int):
            full = {**(values or {}), **point}
            return numeric_gradient(p, phi, wrt, full, dps=d, timeout=budget)

        needs = (set(p.params) | phi.free_symbols) - set(p.x)
        at = (values,) if values else ()
        check = cross_examine(grad, numeric, _params_domain(p, None), at=at, precision=prec, symbols=needs)
        if check.agreed:
            if values is None:
                return budgets.simplify(grad, timeout=budget), "symbolic integration, cross-examined by quadrature"
            return sp.Float(
                sp.N(at_values(grad, values), dps), dps
            ), "symbolic integration, cross-examined by quadrature"
        note = check.describe("gradient of the integral") + "; "
    if values is None:
        return None, note + ("SymPy could not integrate within the budget" if sym is None else "no value")
    if not numeric_first:
        numeric_value, numeric_how = _numeric_at(p, phi, wrt, values, dps, timeout)
        if numeric_value is not None:
            return numeric_value, note + numeric_how
    return None, note + "quadrature failed"


def _numeric_at(p: Density, phi: sp.Expr, wrt: sp.Symbol, values: dict, dps: int, timeout: float | None):
    """(d/dtheta E_p[phi] at ``values`` by quadrature, how); (None, '') when quadrature fails."""
    if p.dim == 2 and not p.is_discrete:
        val = numeric_gradient(p, phi, wrt, values, dps=CUBATURE.high, timeout=timeout)
        how = f"float64 cubature (about {CUBATURE.zero_digits} digits)"
    else:
        val = numeric_gradient(p, phi, wrt, values, dps=dps, timeout=timeout)
        how = f"mpmath quadrature at {dps} digits"
    if p.has_moving_support:
        how += " plus the moving edges (Leibniz)"
    return (val, how) if val is not None else (None, "")
