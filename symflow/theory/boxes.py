"""Probability boxes (Sec. 3, App. C): LR and RP as Riemann sums that converge to the gradient.

Discretize a 1-D density into N boxes of equal probability mass 1/N at the
parameter value theta_0, with centers x_i = F^{-1}((i - 1/2)/N; theta_0).

* LR, boxes fixed in x (Eq. 36-38): the centers and widths stay put, with
  widths Delta x_i chosen so that p(x_i; theta_0) Delta x_i = 1/N; only the
  mass in each box changes, so the gradient is

      sum_i Delta x_i (dp/dtheta)(x_i) phi(x_i) = (1/N) sum_i (d log p/dtheta)(x_i) phi(x_i).

* RP, boxes that move with theta (Eq. 30-34): each box keeps its mass
  P_i = 1/N and its center x_i(theta) = g(eps_i; theta) moves with velocity
  u(x_i) (the flow; by default the implicit one, -(dF/dtheta)/p, which is
  dg/dtheta for g = F^{-1} and eps ~ U(0, 1)), so the gradient is

      sum_i P_i phi'(x_i) u(x_i) = (1/N) sum_i phi'(x_i) u(x_i).

Both are the delta-theta -> 0 limits of Eq. (38) and (34); as N grows they
tend to the integrals (39) and (35), i.e. to d/dtheta E_p[phi].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from ..calculus.integrals import expectation_gradient
from ..core.budget import bounded, resolve_timeout
from ..core.convert import as_param_values, as_test_function, at_values, exact_values
from ..core.density import Density, checked_density
from ..core.flow import Flow
from ..core.verdict import Status, Verdict, Witness
from ..errors import EstimatorError, SymflowError
from ..numeric.evaluate import numpy_scalar_function
from .variances import _integrate

__all__ = ["BoxRow", "BoxTable", "box_gradients", "check_boxes_converge", "equal_mass_centers"]

N_SYMBOL = sp.Symbol("N", positive=True, integer=True)


@dataclass(frozen=True)
class BoxRow:
    """One discretization level: N boxes, the two Riemann sums and their errors."""

    n_boxes: int
    lr: float
    rp: float
    lr_error: float
    rp_error: float


@dataclass(frozen=True)
class BoxTable:
    """The error table of the box discretizations against the exact gradient."""

    rows: tuple[BoxRow, ...]
    exact: float
    exact_how: str
    phi: sp.Expr
    wrt: sp.Symbol
    params: tuple[tuple[sp.Symbol, float], ...]

    def __str__(self) -> str:
        at = ", ".join(f"{k} = {float(v):g}" for k, v in self.params)
        lines = [
            f"d/d{self.wrt} E[{sp.sstr(self.phi)}] at {at}: exact {self.exact:.12g} ({self.exact_how})",
            f"{'N':>6}  {'LR, fixed boxes (38)':>22}  {'|error|':>10}  {'RP, moving boxes (34)':>22}  {'|error|':>10}",
        ]
        for r in self.rows:
            lines.append(f"{r.n_boxes:>6}  {r.lr:>22.12g}  {r.lr_error:>10.3e}  {r.rp:>22.12g}  {r.rp_error:>10.3e}")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        out = [
            "| N | LR, fixed boxes (Eq. 38) | LR error | RP, moving boxes (Eq. 34) | RP error |",
            "|---:|---:|---:|---:|---:|",
        ]
        out += [f"| {r.n_boxes} | {r.lr:.12g} | {r.lr_error:.3e} | {r.rp:.12g} | {r.rp_error:.3e} |" for r in self.rows]
        return "\n".join(out)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


# More boxes than this would not fit in memory as float64 arrays several times over.
MAX_BOXES = 10**7


def equal_mass_centers(p: Density, values: dict, n_boxes: int) -> np.ndarray:
    """x_i = F^{-1}((i - 1/2)/N): centers of N boxes of mass 1/N each, by vectorized bisection on the CDF."""
    p = checked_density(p)
    if p.cdf is None or p.dim != 1:
        raise EstimatorError(
            f"{p.name} has no CDF; the equal-mass boxes need a 1-D density with one (Density(cdf=...))"
        )
    if isinstance(n_boxes, bool) or not isinstance(n_boxes, int | np.integer) or not 1 <= n_boxes <= MAX_BOXES:
        raise EstimatorError(f"n_boxes must be an integer in 1..{MAX_BOXES}, got {n_boxes!r}")
    values = exact_values(as_param_values(values, p.params))
    cdf = numpy_scalar_function(p.x, at_values(p.cdf, values))
    target = (np.arange(n_boxes) + 0.5) / n_boxes
    s = p.support_sets[0]
    lo_edge, hi_edge = s.inf.xreplace(values), s.sup.xreplace(values)
    lo = np.full(n_boxes, float(lo_edge) if lo_edge.is_finite else -1.0)
    hi = np.full(n_boxes, float(hi_edge) if hi_edge.is_finite else 1.0)
    with np.errstate(all="ignore"):
        for _ in range(1100):  # 2^1100 overflows float64: a CDF that never gets there is not a CDF
            if lo_edge.is_finite or not np.any(cdf(lo) > target[0]):
                break
            lo = lo * 2
        for _ in range(1100):
            if hi_edge.is_finite or not np.any(cdf(hi) < target[-1]):
                break
            hi = hi * 2
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise EstimatorError(f"the CDF of {p.name} does not reach the box masses at these parameters; check its cdf")
    for _ in range(200):  # bisection to float64 resolution
        mid = (lo + hi) / 2
        below = np.asarray(cdf(mid)) < target
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        if np.all(hi - lo <= 4 * np.finfo(float).eps * np.maximum(1.0, np.abs(mid))):
            break
    return (lo + hi) / 2


@bounded
def box_gradients(
    p: Density,
    phi: object,
    wrt: sp.Symbol,
    params: dict,
    n_boxes: Sequence[int] = (10, 100, 1000),
    *,
    flow: Flow | None = None,
    timeout: float | None = None,
) -> BoxTable:
    """The LR (fixed boxes, Eq. 38) and RP (moving boxes, Eq. 34) Riemann sums for each N, with errors.

    Parameters
    ----------
    p : Density
        1-D with a CDF.
    phi : sympy.Expr
        Differentiable test function of x.
    wrt : Symbol
        The parameter.
    params : dict
        Parameter values theta_0.
    n_boxes : sequence of int
        Numbers of boxes.
    flow : Flow, optional
        The box velocity for RP (default ``flows.implicit(p)``).
    timeout : float, optional
        Budget in seconds for the whole call (the exact gradient included).
    """
    p = checked_density(p)
    if not isinstance(p, Density) or p.dim != 1:
        raise EstimatorError("box_gradients needs a 1-D Density")
    wrt = p.check_param(wrt)
    phi = as_test_function(phi)
    if phi.free_symbols - set(p.x):
        raise EstimatorError("phi must be a function of x only; substitute numbers for its constants")
    values = exact_values(as_param_values(params, p.params))
    if flow is None:
        from ..estimators.flows import implicit

        flow = implicit(p, timeout=timeout)
    if not isinstance(flow, Flow):
        raise EstimatorError(f"flow must be a Flow over {p.name} (see symflow.flows), got {type(flow).__name__}")
    (u,) = flow.field(wrt)
    lr_term = numpy_scalar_function(p.x, at_values(p.score(wrt) * phi, values))
    rp_term = numpy_scalar_function(p.x, at_values(u * sp.diff(phi, p.x[0]), values))
    exact, how = _integrate(p, sp.diff(p.expr, wrt) * phi, values, resolve_timeout(timeout))
    if exact is None:
        exact, how = expectation_gradient(p, phi, wrt, values, timeout=timeout)
        if exact is None:
            raise EstimatorError(f"the exact gradient could not be computed: {how}")
    with mpmath.workdps(30):
        exact_c = complex(sp.N(exact, 30))
    if exact_c.imag != 0:
        raise EstimatorError(f"phi gives a complex gradient ({exact}); box gradients need a real phi")
    exact_f = exact_c.real
    if isinstance(n_boxes, str) or not isinstance(n_boxes, Sequence):
        raise EstimatorError(f"n_boxes must be a sequence of positive integers, got {n_boxes!r}")
    rows = []
    for n in n_boxes:
        if not isinstance(n, int | np.integer) or n < 1:
            raise EstimatorError(f"numbers of boxes must be positive integers, got {n!r}")
        xs = equal_mass_centers(p, values, int(n))
        lr = float(np.mean(np.broadcast_to(lr_term(xs), xs.shape)))
        rp = float(np.mean(np.broadcast_to(rp_term(xs), xs.shape)))
        rows.append(BoxRow(int(n), lr, rp, abs(lr - exact_f), abs(rp - exact_f)))
    pv = tuple((k, float(v)) for k, v in values.items())
    return BoxTable(tuple(rows), exact_f, how, phi, wrt, pv)


FLOOR = 1e-12  # float64 sums of ~1000 terms cannot resolve errors below this
SETTLE = 4.0  # error at the largest N may be at most this many times the sum's last change


def check_boxes_converge(table: BoxTable) -> Verdict:
    """Do both Riemann sums converge to the exact gradient as N grows?  Numbers, not a proof.

    Two conditions, each to within float64 resolution (1e-12 relative):

    * every step to a larger N lowers each error; ``refuted`` with the N
      where an error did not fall;
    * at the largest N the error is at most ``SETTLE`` (4) times the sum's
      last change |S_N - S_N'|.  A sum converging to the exact value is about
      as far from it as it still moves (its error falls by at least 5/4 per
      step), while a sum converging to a *different* limit (a wrong flow)
      stops moving but keeps its error -- its errors can still fall at every
      step.  Failing this gives ``unknown``: finitely many N cannot refute
      convergence, but they do not support it either.

    ``consistent`` when both hold.  A sum that converges to a wrong limit so
    slowly that it is still moving at the largest N passes both; only more
    boxes (or an exact check of the flow, ``check_transport``) tell it apart.
    """
    if not isinstance(table, BoxTable):
        raise SymflowError(f"check_boxes_converge takes the BoxTable of box_gradients, got {type(table).__name__}")
    claim = f"box discretizations of d/d{table.wrt} E[{sp.sstr(table.phi)}] converge (Eq. 34, 38)"
    floor = FLOOR * max(1.0, abs(table.exact))
    details = (("table", str(table)),)
    for scheme in ("lr", "rp"):
        errs = [(r.n_boxes, getattr(r, f"{scheme}_error")) for r in table.rows]
        for (n0, e0), (n1, e1) in zip(errs, errs[1:], strict=False):
            if e1 >= e0 and e1 > floor:
                witness = Witness(((N_SYMBOL, n1),), e1, e0, (15, 15))
                return Verdict(
                    Status.REFUTED,
                    f"float64 Riemann sums: {scheme.upper()} error at N = {n1} is not below the error at N = {n0}",
                    sp.Float(e1),
                    witness,
                    claim=claim,
                    details=details,
                )
    last = table.rows[-1]
    if len(table.rows) >= 2:
        prev = table.rows[-2]
        for scheme in ("lr", "rp"):
            err = getattr(last, f"{scheme}_error")
            change = abs(getattr(last, scheme) - getattr(prev, scheme))
            if err > floor and err > SETTLE * change:
                return Verdict(
                    Status.UNKNOWN,
                    "float64 Riemann sums",
                    sp.Float(err),
                    claim=claim,
                    reason=(
                        f"the {scheme.upper()} sum settles away from the exact gradient: at N = {last.n_boxes} its "
                        f"error {err:.3e} exceeds {SETTLE:g} x its last change {change:.3e} (from N = "
                        f"{prev.n_boxes}); it may converge to another value"
                    ),
                    details=details,
                )
    return Verdict(
        Status.CONSISTENT,
        f"float64 Riemann sums: errors fall with N for both schemes and shrink with the sums' changes "
        f"(N = {last.n_boxes}: LR {last.lr_error:.2e}, RP {last.rp_error:.2e}); numbers, not a proof",
        sp.Float(max(last.lr_error, last.rp_error)),
        claim=claim,
        details=details,
    )
