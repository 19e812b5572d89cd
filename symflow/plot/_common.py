"""Shared helpers of the figure modules: numeric evaluation, plot ranges, colours, a pyplot-free Figure."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import sympy as sp

from ..core.density import Density
from ..core.flow import Flow
from ..errors import SymflowError
from ..numeric.evaluate import numpy_scalar_function

# Colours: red for the flow lines (RP), blue for the surface term (LR), as in Fig. 3.
_FLOW_RED = "#c0392b"
_SURFACE_BLUE = "#1f5fa8"
_CURVE = "#222222"
_FILL = "#dfe7ef"
_BOX_COLOURS = ("#9ecae1", "#fdd0a2")


# -- numeric helpers -------------------------------------------------------------


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:  # pragma: no cover - matplotlib is installed in CI
        raise SymflowError('symflow.plot needs matplotlib; install it with pip install "symflow[plot]"') from None


def _one_dimensional(p: Density, what: str) -> sp.Symbol:
    if not isinstance(p, Density):
        raise SymflowError(f"{what} needs a Density, got {type(p).__name__}")
    if p.dim != 1 or p.is_discrete:
        raise SymflowError(
            f"{what} draws one-dimensional continuous densities; {p.name} has {p.dim} variable(s)"
            + (" and is discrete" if p.is_discrete else "")
        )
    return p.x[0]


def _default_params(p: Density, params: Mapping | None) -> dict:
    """Floats for every parameter; without ``params``: 0 for real ones, 1 for positive ones."""
    if params is None:
        missing = [t for t in p.params if not (t.is_positive or t.is_real)]
        if missing:
            raise SymflowError(
                f"pass params= for {', '.join(map(str, missing))}; only real (0) and positive (1) "
                "parameters have a default"
            )
        params = {t: (1.0 if t.is_positive else 0.0) for t in p.params}
    if not isinstance(params, Mapping):
        raise SymflowError(f"params must be a dict from parameters to numbers, got {type(params).__name__}")
    values = p.param_values(dict(params))
    return {k: float(v) for k, v in values.items()}


def _numeric(expr: sp.Expr, x: sp.Symbol, values: Mapping) -> Callable[[np.ndarray], np.ndarray]:
    """expr at the given parameter values as a vectorized function of x."""
    fixed = expr.xreplace({k: sp.Float(v, 17) for k, v in values.items()})
    fn = numpy_scalar_function([x], fixed)

    def f(xs: np.ndarray) -> np.ndarray:
        xs = np.asarray(xs, dtype=float)
        with np.errstate(all="ignore"):
            out = np.asarray(fn(xs), dtype=float)
        # A constant expression lambdifies to a scalar => broadcast it to the input's shape.
        return np.broadcast_to(out, xs.shape).copy()

    return f


def _plot_range(pdf: Callable, support: sp.Set, rel: float = 2e-3) -> tuple[float, float]:
    """Where pdf exceeds rel * its maximum, padded by 8 %, inside the support."""
    lo = float(support.inf) if support.inf.is_finite else -1e3
    hi = float(support.sup) if support.sup.is_finite else 1e3
    for _ in range(3):  # zoom in three times: 1e3 wide -> the bulk of the density
        grid = np.linspace(lo, hi, 40001)
        vals = np.nan_to_num(pdf(grid))
        keep = np.nonzero(vals >= rel * vals.max())[0]
        if vals.max() <= 0 or keep.size == 0:
            raise SymflowError("the density is zero (or not finite) on the plotted range; check params")
        step = grid[1] - grid[0]
        new_lo, new_hi = grid[keep[0]] - step, grid[keep[-1]] + step
        lo = max(lo, new_lo) if support.inf.is_finite else new_lo
        hi = min(hi, new_hi) if support.sup.is_finite else new_hi
    pad = 0.08 * (hi - lo)
    lo = max(lo - pad, float(support.inf)) if support.inf.is_finite else lo - pad
    hi = min(hi + pad, float(support.sup)) if support.sup.is_finite else hi + pad
    return lo, hi


def _params_list(p: Density, wrt: object, flow: Flow | None = None) -> tuple[sp.Symbol, ...]:
    if wrt is None:
        return flow.params if flow is not None else p.params
    items = tuple(wrt) if isinstance(wrt, Sequence) and not isinstance(wrt, str) else (wrt,)
    return tuple(p.check_param(t) for t in items)


def _figure(nrows: int, ncols: int, size: tuple[float, float]):
    """A Figure that is not registered with pyplot (so nothing global changes)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes
