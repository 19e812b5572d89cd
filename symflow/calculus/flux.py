r"""The flux of a field through the faces of growing boxes: the boundary term at infinity in d >= 2 (Eq. 47).

The divergence theorem on the box :math:`B_R = [-R, R]^d \cap D` (D the support) gives

.. math::
    \int_{B_R} \nabla\cdot F\,dx = \oint_{\partial B_R} F\cdot n\,dS ,

and when :math:`\nabla\cdot F` is integrable the left side tends to :math:`\int_D \nabla\cdot F`.
So the boundary term at infinity is the limit of the flux through the box faces that move
out with R, :math:`\Phi(R) = \sum_{j,\pm} \pm\int F_j|_{x_j = \pm R}\,dx_{-j}`.  Taking
:math:`F_j \to 0` along each axis with the other coordinates held fixed is not enough: flux
can escape along a diagonal (F = (x, y)/(1 + x^2 + y^2) vanishes along every axis line but
sends 2 pi through every large box; the divergence theorem then fails by 2 pi).

``flux_at_infinity`` decides :math:`\lim_{R\to\infty}\Phi(R) = 0`: symbolically (SymPy
integrates each face over x_{-j}, then takes the limit), cross-examined numerically (mpmath
quadrature of the faces at R growing over 15 decades, at test parameter values), or
numerically alone when SymPy cannot.  A symbolic nonzero limit refutes; numbers alone give
``consistent`` or ``unknown``, never ``proved`` or ``refuted``.  Finite faces (x_j at a finite
support edge) are the callers' business: there the field is taken to the edge pointwise.
"""

from __future__ import annotations

import mpmath
import sympy as sp

from ..core import budget as budgets
from ..core.budget import SYMPY_GAVE_UP, BudgetExceeded
from ..core.density import Density
from ..core.domain import Domain
from ..core.precision import QUADRATURE_FAST
from ..core.verdict import Status, Verdict, Witness
from ..zero import decide_zero
from .quadrature import center_scale, numeric_integral

__all__ = ["RADII_DECADES", "face_integrands", "flux_at_infinity", "has_infinite_face"]

# Box half-widths R = r0 * 10^k (r0 from the density's center and scale) at which the flux is evaluated.
RADII_DECADES = (1, 2, 4, 8, 16)
# Parameter points the numeric route tries when no values are given.
NUMERIC_POINTS = 2

R = sp.Symbol("R", positive=True)


def has_infinite_face(p: Density) -> bool:
    """Whether p lives in d >= 2 dimensions with at least one unbounded coordinate."""
    return p.dim >= 2 and any(s.inf.is_infinite or s.sup.is_infinite for s in p.support_sets)


def face_integrands(
    p: Density, field: tuple[sp.Expr, ...], absolute: bool = False
) -> tuple[tuple[sp.Symbol, int, sp.Expr, tuple[tuple[sp.Symbol, sp.Expr, sp.Expr], ...]], ...]:
    """One entry per face that moves out with R: (x_j, side, outward flux density on the face, bounds of x_{-j}).

    The face is x_j = side * R; the other coordinates run over their support clipped to [-R, R].
    """
    out = []
    for j, (xj, s) in enumerate(zip(p.x, p.support_sets, strict=True)):
        if field[j] == 0:
            continue
        for side, edge in ((1, s.sup), (-1, s.inf)):
            if not edge.is_infinite:
                continue
            try:
                on_face = field[j].xreplace({xj: side * R})
            except ValueError:
                # x_j bound inside the field (an Integral over x_j): no face density to read off here
                raise NotImplementedError(
                    f"the flux through x_{j + 1} = {side} R has {xj} as a bound variable"
                ) from None
            dens = sp.Abs(on_face) if absolute else side * on_face
            bounds = tuple(
                (xk, -R if sk.inf.is_infinite else sk.inf, R if sk.sup.is_infinite else sk.sup)
                for k, (xk, sk) in enumerate(zip(p.x, p.support_sets, strict=True))
                if k != j
            )
            out.append((xj, side, dens, bounds))
    return tuple(out)


def _gaussian_tail(p: Density, field: tuple[sp.Expr, ...]) -> str | None:
    """A proof that the flux vanishes when p is Gaussian and F = p G with G polynomial, else None.

    log p = -x^T M x / 2 + (linear) with M positive definite gives
    |F(x)| <= C exp(-lambda |x|^2 / 2) (1 + |x|)^k on the whole box face, so
    (2R)^(d-1) sup |F| -> 0 uniformly: no flux escapes, along a diagonal or otherwise.
    """
    if p.is_structured:
        return None
    log_p = sp.expand(p.log_expr)
    if not log_p.is_polynomial(*p.x) or sp.Poly(log_p, *p.x).total_degree() != 2:
        return None
    for f in field:
        g = sp.powsimp(sp.expand(f / p.expr), force=True)
        if g != 0 and not g.is_polynomial(*p.x):
            return None
    m = -sp.hessian(log_p, p.x)
    n = p.dim
    # Sylvester's criterion; the trailing minors suit precision matrices L^-T L^-1 of a Cholesky factor
    for blocks in ([m[:k, :k] for k in range(1, n + 1)], [m[n - k :, n - k :] for k in range(1, n + 1)]):
        ok = True
        for block in blocks:
            num, den = sp.fraction(sp.factor(sp.together(block.det(method="berkowitz"))))
            if not (num.is_positive and den.is_positive):
                ok = False
                break
        if ok:
            return (
                "Gaussian tail: log p is a negative definite quadratic (Sylvester's criterion) and F = p G with G "
                "polynomial, so |F| <= C exp(-lambda |x|^2 / 2)(1 + |x|)^k on every box face and the flux -> 0"
            )
    return None


def _symbolic_flux(faces, timeout: float) -> tuple[sp.Expr | None, str]:
    """lim Phi(R) as R -> oo by SymPy, or (None, why)."""

    def work():
        total = sp.S.Zero
        for _, _, dens, bounds in faces:
            out = dens
            for xk, lo, hi in reversed(bounds):
                out = budgets.integrate(out, (xk, lo, hi))
                if out.has(sp.Integral):
                    return None
            total += out
        lim = budgets.limit(total, R, sp.oo)
        return None if lim.has(sp.Limit, sp.Integral) else lim

    try:
        lim = budgets.run_with_budget(work, timeout=timeout, what="symbolic flux through the box faces")
    except BudgetExceeded as exc:
        return None, str(exc)
    except SYMPY_GAVE_UP as exc:
        return None, f"SymPy could not integrate the faces ({type(exc).__name__})"
    if lim is None:
        return None, "SymPy left a face integral or the limit unevaluated"
    return lim, "SymPy integration over each face, then the limit R -> oo"


def _face_density(p: Density, bounds: tuple) -> Density:
    """The face as a 'density' over x_{-j} (expression 1): the one quadrature integrates over its support."""
    xs = tuple(b[0] for b in bounds)
    sets = [sp.Interval(lo, hi) for _, lo, hi in bounds]
    return Density(sp.S.One, xs, (*p.params, R), support=sets, constraints=p.constraints, name="face")


def _numeric_flux(p: Density, faces, values: dict, timeout: float | None) -> tuple[list, str]:
    """[(R, Phi(R))] at growing R (mpmath, QUADRATURE_FAST digits), or ([], why)."""
    if p.dim > 3:
        return [], f"face quadrature is available for d <= 3 (here d = {p.dim})"
    center, scale = center_scale(p, values)
    r0 = 1 + float(max(abs(c) for c in center)) + float(max(scale))
    out = []
    for k in RADII_DECADES:
        radius = sp.Float(r0, 30) * sp.Integer(10) ** k
        total = mpmath.mpf(0)
        for _, _, dens, bounds in faces:
            at = {**values, R: radius}
            val = numeric_integral(
                _face_density(p, bounds), dens, at, dps=QUADRATURE_FAST.high, timeout=budgets.share(timeout, 0.3)
            )
            if val is None:
                return out, f"quadrature over a face failed or ran out of budget at R = {sp.sstr(radius)}"
            total += val
        out.append((radius, total))
    return out, ""


def _vanishes(series: list) -> bool | None:
    """True: Phi(R) below the zero tolerance at the two largest R; False: not falling below 1e-6 of its size."""
    if len(series) < 2:
        return None
    size = max([mpmath.mpf(1)] + [abs(v) for _, v in series])
    tol = mpmath.mpf(10) ** (-QUADRATURE_FAST.zero_digits) * size
    last = [abs(v) for _, v in series[-2:]]
    if all(v <= tol for v in last):
        return True
    if all(v > mpmath.mpf("1e-6") * size for v in last):
        return False
    return None


def flux_at_infinity(
    p: Density,
    field: tuple[sp.Expr, ...],
    *,
    values: dict | None = None,
    timeout: float | None = None,
    absolute: bool = False,
    claim: str = "",
) -> Verdict:
    r"""Does the flux of ``field`` through the box faces that move out with R vanish as R -> oo?

    ``absolute=True`` integrates :math:`|F_j|` over each face instead (the flux vanishes for
    every bounded phi then).  ``values`` fixes the parameters for the numeric route (else
    test points are drawn).  Proved only by a symbolic limit that the numbers agree with.
    """
    claim = claim or "the flux through the faces of growing boxes vanishes (Eq. 47 at infinity)"
    try:
        faces = face_integrands(p, field, absolute)
    except NotImplementedError as exc:
        return Verdict(Status.UNKNOWN, "flux through growing boxes", sp.S.Zero, claim=claim, reason=str(exc))
    if not faces:
        return Verdict(Status.PROVED, "no face moves out to infinity with a nonzero field", sp.S.Zero, claim=claim)
    try:
        gaussian = budgets.run_with_budget(
            _gaussian_tail, p, tuple(field), timeout=budgets.share(timeout, 0.3), what="Gaussian tail bound"
        )
    except (BudgetExceeded, NotImplementedError, ValueError, TypeError, ArithmeticError, sp.PolynomialError):
        gaussian = None
    if gaussian is not None:
        return Verdict(Status.PROVED, gaussian, sp.S.Zero, claim=claim)
    lim, how = _symbolic_flux(faces, budgets.share(timeout, 0.5))
    sym = None
    if lim is not None:
        params_domain = Domain((), p.domain().parameters, p.constraints)
        sym = decide_zero(lim, params_domain, timeout=budgets.share(timeout, 0.5), claim=claim)
    numbers: list = []
    points = [values] if values is not None else _parameter_points(p)
    why = ""
    outcomes: list = []
    for pt in points:
        series, why = _numeric_flux(p, faces, pt, timeout)
        numbers.append((pt, series))
        outcomes.append(None if why else _vanishes(series))
        if why or outcomes[-1] is False:
            break
    if False in outcomes:
        vanish: bool | None = False
    else:
        vanish = True if outcomes and all(o is True for o in outcomes) else None
    details = (("flux limit (symbolic)", lim if lim is not None else how),) + tuple(
        (f"flux at {_fmt(pt)}", ", ".join(f"R = {mpmath.nstr(r, 3)}: {mpmath.nstr(v, 6)}" for r, v in s))
        for pt, s in numbers
    )
    if sym is not None and sym.status is Status.PROVED and vanish is not False and (vanish or why):
        note = "cross-examined by face quadrature at growing R" if vanish else f"no numeric cross-check ({why})"
        return Verdict(Status.PROVED, f"{how} is 0; {note}", lim, claim=claim, details=details)
    # SymPy's limit alone never refutes: the face quadrature must stay away from 0 too
    if sym is not None and sym.status is Status.REFUTED and vanish is False:
        w = sym.witness
        witness = Witness(((R, sp.oo), *w.point), w.value, w.value_low, w.digits)
        return Verdict(
            Status.REFUTED,
            f"{how}: the flux escaping to infinity is {sp.sstr(lim)}",
            lim,
            witness,
            claim=claim,
            details=(("boundary term at infinity", lim), *details),
        )
    if vanish is False:
        # SymPy had no answer for all parameters, or a wrong one (it integrates some faces to 0 with symbolic
        # parameters): the limit at the parameter point where the numbers stay away, checked against them
        pt, series = numbers[-1]
        refuted = _refute_at(faces, pt, series[-1][1], timeout)
        if refuted is not None:
            value, low = refuted
            witness = Witness(((R, sp.oo), *pt.items()), value, low, (QUADRATURE_FAST.high, QUADRATURE_FAST.high))
            return Verdict(
                Status.REFUTED,
                "SymPy integration over each face and the limit R -> oo at these parameter values, agreeing with "
                "face quadrature at growing R",
                value,
                witness,
                claim=claim,
                details=(("boundary term at infinity", value), *details),
            )
    if vanish is True and (sym is None or sym.status is not Status.REFUTED):
        return Verdict(
            Status.CONSISTENT,
            f"face quadrature at R = r0 10^k, k = {RADII_DECADES}: the flux vanishes to "
            f"{QUADRATURE_FAST.zero_digits} digits; not a proof",
            sp.S.Zero,
            claim=claim,
            details=details,
        )
    if sym is not None and sym.status in (Status.PROVED, Status.REFUTED):
        reason = f"SymPy's limit of the flux is {sp.sstr(lim)}, but the flux through the box faces at growing R " + (
            "does not vanish" if vanish is False else "vanishes" if vanish else "is not settled"
        )
    elif vanish is False:
        reason = (
            "the flux through the faces of growing boxes does not vanish numerically (flux escaping to infinity: "
            "the boundary term of Eq. 47 is not 0)"
        )
    else:
        reason = f"neither SymPy ({how}) nor the numbers ({why or 'not settled at the largest R'}) decide it"
    return Verdict(Status.UNKNOWN, "box-face flux", lim, claim=claim, reason=reason, details=details)


def _refute_at(faces, point: dict, numeric: mpmath.mpf, timeout: float | None):
    """(value, value) of SymPy's flux limit at exact parameter values when it is nonzero and the numbers agree."""
    from ..core.convert import at_values, exact_values

    exact = exact_values(point)
    at = tuple(
        (xj, side, at_values(dens, exact), tuple((b[0], b[1].xreplace(exact), b[2].xreplace(exact)) for b in bds))
        for xj, side, dens, bds in faces
    )
    lim, _ = _symbolic_flux(at, budgets.share(timeout, 0.5))
    if lim is None or lim.free_symbols:
        return None
    try:
        value = mpmath.mpmathify(sp.N(lim, QUADRATURE_FAST.high))
    except (TypeError, ValueError):
        return None
    if value == 0 or abs(value - numeric) > mpmath.mpf("1e-6") * abs(value):
        return None
    return value, numeric


def _parameter_points(p: Density) -> list[dict]:
    from ..zero.numeric import sample_points

    if not p.params:
        return [{}]
    pts = sample_points(Domain((), p.domain().parameters, p.constraints), set(p.params), draws=NUMERIC_POINTS)
    return [{k: sp.Float(v, QUADRATURE_FAST.high) for k, v in pt.items()} for pt in pts[:NUMERIC_POINTS]] or [{}]


def _fmt(point: dict) -> str:
    return ", ".join(f"{k} = {sp.sstr(sp.N(v, 6))}" for k, v in point.items()) or "(no parameters)"
