r"""The paper's figures, drawn from symflow's own densities and flows.

* ``flow_lines``      Fig. 3: the probability-flow lines in the augmented (x, h) space
  under the curve of p (Eq. 16-18).
* ``boxes``           Fig. 2: LR keeps the "boxes" fixed and watches their mass change;
  RP keeps each box's mass fixed and watches it move (Sec. 3).
* ``l_distribution``  Fig. 4/6: horizontal slices of the normal and the slice
  ("L") distribution of Eq. (78) against the normal.

Every function returns a ``matplotlib.figure.Figure`` and does nothing else: no
file is written, nothing is shown, pyplot's global figure list is not touched.
matplotlib is imported inside the functions, so ``import symflow`` works without
it (install it with ``pip install "symflow[plot]"``).  ``flow_line_paths``
returns the flow lines as arrays, without matplotlib.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp

from .density import Density
from .errors import SymflowError
from .flow import Flow

if TYPE_CHECKING:  # pragma: no cover - only for type hints
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["boxes", "flow_line_paths", "flow_lines", "l_distribution"]

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
    values = p.param_values(dict(params))
    return {k: float(v) for k, v in values.items()}


def _numeric(expr: sp.Expr, x: sp.Symbol, values: Mapping) -> Callable[[np.ndarray], np.ndarray]:
    """expr at the given parameter values as a vectorized function of x."""
    fixed = expr.xreplace({k: sp.Float(v, 17) for k, v in values.items()})
    fn = sp.lambdify([x], fixed, modules="numpy")

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


# -- Fig. 3: flow lines in the augmented space -----------------------------------


def _augmented_field(p: Density, flow: Flow, wrt: sp.Symbol, values: Mapping):
    r"""u(x) and D log p / D theta = d log p/d theta + u d log p/dx, numerically.

    The augmented field is :math:`\tilde u = [u,\ h\, D\log p/D\theta]`; it is
    divergence free in (x, h) exactly when u solves the transport equation, since
    :math:`\partial_x u + D\log p/D\theta` is the transport residual divided by p.
    """
    x = p.x[0]
    u = flow.field(wrt)[0]
    material = p.score(wrt) + u * sp.diff(p.log_expr, x)
    return _numeric(u, x, values), _numeric(material, x, values)


def _integrate_lines(
    starts: np.ndarray,
    direction: float,
    field: Callable[[np.ndarray], np.ndarray],
    where: Callable[[np.ndarray], np.ndarray],
    step: float,
    max_steps: int,
) -> list[tuple[np.ndarray, str]]:
    """Classical RK4 along the unit-speed field, all lines at once, until each leaves the region.

    ``starts`` is (m, 2) in axes-scaled coordinates; ``field`` maps (k, 2) points to
    (k, 2) velocities; ``where`` labels (k, 2) points "in", "surface" (above the
    curve p), "floor" (h <= 0) or "edge" (outside the x range).  Returns one
    (path, end) per line, end being where it left or "still" (the field vanished).
    """

    def unit(pts: np.ndarray) -> np.ndarray:
        v = field(pts)
        norm = np.hypot(v[:, 0], v[:, 1])
        with np.errstate(all="ignore"):
            out = direction * v / norm[:, None]
        out[~np.isfinite(norm) | (norm < 1e-12)] = np.nan
        return out

    paths = [[row] for row in starts]
    ends = ["still"] * len(starts)
    pts = starts.astype(float).copy()
    active = np.arange(len(starts))
    for _ in range(max_steps):
        if active.size == 0:
            break
        p0 = pts[active]
        k1 = unit(p0)
        k2 = unit(p0 + 0.5 * step * k1)
        k3 = unit(p0 + 0.5 * step * k2)
        k4 = unit(p0 + step * k3)
        p1 = p0 + step * (k1 + 2 * k2 + 2 * k3 + k4) / 6
        # About to reach h = 0, where the h-component changes sign: without this stop RK4's
        # stages would cancel there and the line would stall just above the floor.
        floor = p0[:, 1] + step * k1[:, 1] <= 0
        labels = where(p1)
        keep = []
        for j, line in enumerate(active):
            if np.isnan(k1[j, 0]):
                ends[line] = "still"
            elif floor[j]:
                paths[line].append(np.array([p0[j, 0] + step * k1[j, 0], 0.0]))
                ends[line] = "floor"
            elif np.isnan(p1[j, 0]):
                ends[line] = "still"
            elif labels[j] == "in":
                paths[line].append(p1[j])
                keep.append(line)
            else:
                if labels[j] == "floor":
                    paths[line].append(np.array([p1[j, 0], 0.0]))
                ends[line] = str(labels[j])
        active = np.array(keep, dtype=int)
        for line in keep:
            pts[line] = paths[line][-1]
    return [(np.array(path), end) for path, end in zip(paths, ends, strict=True)]


def flow_line_paths(
    p: Density,
    flow: Flow,
    wrt: sp.Symbol,
    params: Mapping | None = None,
    *,
    n_lines: int = 14,
    xlim: tuple[float, float] | None = None,
) -> tuple[tuple[np.ndarray, ...], tuple[float, float]]:
    r"""The flow lines of Fig. 3 as arrays, one (k, 2) array of (x, h) points per line.

    Under the curve of p the augmented flow (Eq. 16) moves a point (x, h) with
    h = eps_h p(x) along

    .. math:: \tilde u(x, h) = \Bigl[u(x),\ \frac{h}{p}\frac{Dp}{D\theta}\Bigr],\qquad
              \frac{Dp}{D\theta} = \frac{\partial p}{\partial\theta} + u\,\frac{\partial p}{\partial x},

    so h/p stays fixed along the motion.  Mass crosses the curve at the rate
    :math:`\tilde u\cdot[-p', 1] = \partial p/\partial\theta` (Eq. 18, the LR side
    of the duality).  Lines start on the curve where mass enters (spaced so that
    equal flux enters between neighbours) and are integrated forwards; lines that
    leave through the curve without having entered through it (possible only when
    u does not solve the transport equation, e.g. u = 0) are traced backwards
    from the curve.

    Parameters
    ----------
    p : Density
        One-dimensional and continuous.
    flow : Flow
        A flow over p.
    wrt : Symbol
        The parameter whose flow is drawn.
    params : dict, optional
        Parameter values; default 0 for real parameters and 1 for positive ones.
    n_lines : int
        How many lines enter through the curve.
    xlim : (float, float), optional
        The x range; default where p exceeds 0.2 % of its maximum.

    Returns
    -------
    (paths, xlim)
    """
    x = _one_dimensional(p, "flow_line_paths")
    if not isinstance(flow, Flow) or flow.density != p:
        raise SymflowError("flow must be a Flow built over the same density p")
    wrt = p.check_param(wrt)
    if not isinstance(n_lines, int) or n_lines < 1:
        raise SymflowError(f"n_lines must be a positive integer, got {n_lines!r}")
    values = _default_params(p, params)
    pdf = _numeric(p.expr, x, values)
    u, material = _augmented_field(p, flow, wrt, values)
    dp = _numeric(sp.diff(p.expr, wrt), x, values)
    lo, hi = xlim if xlim is not None else _plot_range(pdf, p.support_sets[0])
    grid = np.linspace(lo, hi, 4001)
    hmax = float(np.nanmax(pdf(grid)))
    # Integrate in coordinates scaled to the axes, so the step is the same on screen in x and h.
    sx, sh = hi - lo, hmax

    def field(pts: np.ndarray) -> np.ndarray:
        xs = pts[:, 0] * sx
        return np.column_stack([u(xs) / sx, pts[:, 1] * material(xs)])

    def where(pts: np.ndarray) -> np.ndarray:
        xs = pts[:, 0] * sx
        labels = np.where(pts[:, 1] * sh > pdf(xs), "surface", "in").astype(object)
        labels[pts[:, 1] <= 0] = "floor"
        labels[(xs < lo) | (xs > hi)] = "edge"
        return labels

    def seeds(sign: float) -> np.ndarray:
        # Equal flux between neighbouring seeds: invert the cumulative flux through the curve.
        flux = np.clip(sign * dp(grid), 0.0, None)
        cum = np.concatenate([[0.0], np.cumsum((flux[1:] + flux[:-1]) / 2 * np.diff(grid))])
        if cum[-1] <= 0:
            return np.empty(0)
        levels = (np.arange(n_lines) + 0.5) / n_lines * cum[-1]
        return np.interp(levels, cum, grid)

    step, max_steps = 4e-3, 3000
    paths = []
    for sign, direction in ((-1.0, 1.0), (1.0, -1.0)):  # entering (forwards), then leaving (backwards)
        xs = seeds(sign)
        if xs.size == 0:
            continue
        starts = np.column_stack([xs / sx, pdf(xs) * (1 - 1e-3) / sh])
        for path, end in _integrate_lines(starts, direction, field, where, step, max_steps):
            if direction < 0 and end == "surface":
                continue  # it entered through the curve, so it was drawn already
            if len(path) > 1:
                scaled = path * np.array([sx, sh])
                paths.append(scaled if direction > 0 else scaled[::-1])
    return tuple(paths), (lo, hi)


def _arrow_at(ax: Axes, path: np.ndarray, frac: float, colour: str) -> None:
    i = min(max(int(frac * (len(path) - 1)), 0), len(path) - 2)
    j = min(i + 3, len(path) - 1)
    ax.annotate(
        "",
        xy=tuple(path[j]),
        xytext=tuple(path[i]),
        arrowprops={
            "arrowstyle": "-|>",
            "color": colour,
            "lw": 1.0,
            "mutation_scale": 10,
            "shrinkA": 0,
            "shrinkB": 0,
        },
    )


def _draw_flow_panel(ax: Axes, p: Density, flow: Flow, wrt: sp.Symbol, values: dict, n_lines: int) -> None:
    x = p.x[0]
    paths, (lo, hi) = flow_line_paths(p, flow, wrt, values, n_lines=n_lines)
    pdf = _numeric(p.expr, x, values)
    dp = _numeric(sp.diff(p.expr, wrt), x, values)
    grid = np.linspace(lo, hi, 600)
    curve = pdf(grid)
    ax.fill_between(grid, 0, curve, color=_FILL, lw=0)
    for path in paths:
        ax.plot(path[:, 0], path[:, 1], color=_FLOW_RED, lw=1.0, alpha=0.9)
        _arrow_at(ax, path, 0.5, _FLOW_RED)
    ax.plot(grid, curve, color=_CURVE, lw=1.8)
    # LR's view: the curve itself moves up or down by dp/dtheta at each fixed x.
    marks = np.linspace(lo, hi, 17)[1:-1]
    rates = dp(marks)
    # Arrows too short to read only add clutter => drop those under 6 % of the largest.
    marks = marks[np.abs(rates) >= 0.06 * np.abs(rates).max()]
    rates = dp(marks)
    scale = 0.16 * curve.max() / max(np.abs(rates).max(), 1e-300)
    ax.quiver(
        marks,
        pdf(marks),
        np.zeros_like(marks),
        rates * scale,
        angles="xy",
        scale_units="xy",
        scale=1,
        color=_SURFACE_BLUE,
        width=0.006,
        headwidth=3.5,
        headlength=4,
        zorder=3,
    )
    ax.set_xlim(lo, hi)
    ax.set_ylim(0, curve.max() * 1.3)
    ax.set_xlabel(f"${sp.latex(x)}$")
    ax.set_ylabel("$h$")
    at = ", ".join(f"${sp.latex(k)}={values[k]:g}$" for k in p.params)
    ax.set_title(f"perturbing ${sp.latex(wrt)}$ ({flow.kind} flow; {at})", fontsize=10)


def flow_lines(
    p: Density,
    flow: Flow,
    wrt: sp.Symbol | Sequence[sp.Symbol] | None = None,
    params: Mapping | None = None,
    ax: Axes | None = None,
    *,
    n_lines: int = 14,
) -> Figure:
    r"""Fig. 3: probability-flow lines under the curve of p, one panel per parameter.

    Red lines follow the augmented field
    :math:`\tilde u = [u,\ (h/p)(\partial_\theta p + u\,\partial_x p)]` (Eq. 16);
    integrating :math:`\nabla\phi\cdot\tilde u` over the volume under the curve
    is the RP side of Eq. (17).  Blue arrows on the curve show
    :math:`\partial p/\partial\theta`, the rate at which mass crosses the curve:
    its integral against :math:`\phi` is the LR side (Eq. 18).  For the normal's
    reparameterization flow, perturbing mu moves mass sideways (horizontal lines);
    perturbing sigma spreads it outwards and down.

    Parameters
    ----------
    p, flow : Density, Flow
        A one-dimensional continuous density and a flow over it.
    wrt : Symbol or sequence of Symbols, optional
        The parameter(s) drawn, one panel each; default every parameter of the flow.
    params : dict, optional
        Parameter values; default 0 for real parameters and 1 for positive ones.
    ax : matplotlib Axes, optional
        Draw into this Axes (then ``wrt`` must name one parameter).
    n_lines : int
        Lines entering through the curve per panel.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _require_matplotlib()
    _one_dimensional(p, "flow_lines")
    if not isinstance(flow, Flow) or flow.density != p:
        raise SymflowError("flow must be a Flow built over the same density p")
    targets = _params_list(p, wrt, flow)
    values = _default_params(p, params)
    if ax is not None:
        if len(targets) != 1:
            raise SymflowError(f"ax= draws one panel, but wrt names {len(targets)} parameters; pass one")
        _draw_flow_panel(ax, p, flow, targets[0], values, n_lines)
        return ax.figure
    fig, axes = _figure(1, len(targets), (5.2 * len(targets), 3.8))
    for a, t in zip(axes[0], targets, strict=True):
        _draw_flow_panel(a, p, flow, t, values, n_lines)
    _flow_legend(fig)
    return fig


def _flow_legend(fig: Figure) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=_CURVE, lw=1.8, label="$p(x)$: the surface"),
        Line2D(
            [], [], color=_FLOW_RED, lw=1.2, label=r"flow lines of $\tilde u = [u,\ (h/p)\,Dp/D\theta]$ (Eq. 16-17)"
        ),
        Line2D(
            [],
            [],
            color=_SURFACE_BLUE,
            lw=2.0,
            label=r"$\partial p/\partial\theta$: mass crossing the surface (Eq. 18)",
        ),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=8.5, frameon=False)


def _figure(nrows: int, ncols: int, size: tuple[float, float]):
    """A Figure that is not registered with pyplot (so nothing global changes)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


# -- Fig. 2: boxes ------------------------------------------------------------------


def _quantile_edges(pdf: Callable, lo: float, hi: float, n_boxes: int) -> np.ndarray:
    """Edges splitting [lo, hi] into boxes of equal probability under pdf (numerically)."""
    grid = np.linspace(lo, hi, 8001)
    vals = np.nan_to_num(pdf(grid))
    cum = np.concatenate([[0.0], np.cumsum((vals[1:] + vals[:-1]) / 2 * np.diff(grid))])
    inner = np.interp(np.arange(1, n_boxes) / n_boxes * cum[-1], cum, grid)
    return np.concatenate([[lo], inner, [hi]])


def _fill_boxes(ax: Axes, pdf: Callable, edges: np.ndarray, alpha: float, hatch: str | None = None) -> None:
    for k in range(len(edges) - 1):
        xs = np.linspace(edges[k], edges[k + 1], 60)
        colour = _BOX_COLOURS[k % 2]
        if hatch is None:
            ax.fill_between(xs, 0, pdf(xs), color=colour, alpha=alpha, lw=0)
        else:
            ax.fill_between(xs, 0, pdf(xs), facecolor="none", edgecolor=colour, hatch=hatch, lw=0)
        ax.plot([edges[k], edges[k]], [0, pdf(np.array([edges[k]]))[0]], color="#777777", lw=0.6)


def boxes(
    p: Density | None = None,
    wrt: sp.Symbol | Sequence[sp.Symbol] | None = None,
    params: Mapping | None = None,
    *,
    step: float | Mapping = 0.6,
    n_boxes: int = 8,
) -> Figure:
    r"""Fig. 2: LR keeps the boxes fixed, RP keeps the probability mass in each box fixed.

    Top row (LR): the boxes' edges stay where they are while theta moves to
    theta + delta; what changes is the mass in each box,
    :math:`\Delta P_k \approx \delta\,\int_{box} \partial p/\partial\theta\,dx`
    (green: gained, red: lost), which is what
    :math:`E = \phi\,\partial_\theta\log p` measures.  Bottom row (RP): boxes of
    equal mass (edges at equal quantiles) are carried by the mass; each keeps its
    mass and moves (arrows), so :math:`\phi` at the box changes, which is what
    :math:`E = \phi'(x)\,u(x)` measures.  One column per parameter.

    Parameters
    ----------
    p : Density, optional
        One-dimensional and continuous; default the normal (``families.normal()``).
    wrt : Symbol or sequence, optional
        The parameters perturbed, one column each; default all of p's parameters.
    params : dict, optional
        The starting parameter values; default 0 for real and 1 for positive parameters.
    step : float or dict
        The perturbation delta, one number for all parameters or a dict per parameter.
    n_boxes : int
        Boxes of equal mass (1/n_boxes each).

    Returns
    -------
    matplotlib.figure.Figure
    """
    _require_matplotlib()
    if p is None:
        from .families import normal

        p = normal()
    x = _one_dimensional(p, "boxes")
    targets = _params_list(p, wrt)
    values = _default_params(p, params)
    if not isinstance(n_boxes, int) or n_boxes < 2:
        raise SymflowError(f"n_boxes must be an integer >= 2, got {n_boxes!r}")
    deltas = {t: float(step[t]) if isinstance(step, Mapping) else float(step) for t in targets}
    fig, axes = _figure(2, len(targets), (5.0 * len(targets), 6.4))
    for col, t in enumerate(targets):
        moved = dict(values)
        moved[t] = values[t] + deltas[t]
        moved = _default_params(p, moved)  # validates the moved point (e.g. sigma stays positive)
        before, after = _numeric(p.expr, x, values), _numeric(p.expr, x, moved)
        lo0, hi0 = _plot_range(before, p.support_sets[0])
        lo1, hi1 = _plot_range(after, p.support_sets[0])
        lo, hi = min(lo0, lo1), max(hi0, hi1)
        grid = np.linspace(lo, hi, 800)
        top = max(before(grid).max(), after(grid).max())
        change = f"${sp.latex(t)}: {values[t]:g} \\to {moved[t]:g}$"

        b, a = before(grid), after(grid)

        ax = axes[0][col]
        # LR's boxes: a fixed grid of equal width over the bulk (1 % to 99 % of the mass) of p(x; theta).
        bulk = _quantile_edges(before, lo, hi, 100)
        edges = np.linspace(bulk[1], bulk[-2], n_boxes + 1)
        _fill_boxes(ax, before, edges, 0.55)
        ax.fill_between(grid, b, a, where=a >= b, color="#2e8b57", alpha=0.5, lw=0, label="mass gained")
        ax.fill_between(grid, b, a, where=a < b, color="#d62728", alpha=0.5, lw=0, label="mass lost")
        ax.plot([edges[-1], edges[-1]], [0, before(edges[-1:])[0]], color="#777777", lw=0.6)
        ax.plot(grid, b, color=_CURVE, lw=1.5, label=r"$p(x;\theta)$")
        ax.plot(grid, a, color=_CURVE, lw=1.3, ls="--", label=r"$p(x;\theta+\delta)$")
        gains = []
        for k in range(n_boxes):
            xs = np.linspace(edges[k], edges[k + 1], 400)
            diff = after(xs) - before(xs)
            gains.append(float(np.sum((diff[1:] + diff[:-1]) / 2 * np.diff(xs))))
        gains = np.array(gains)
        # Below the axis: each box's change of mass as a bar (what phi * dlog p/dtheta weighs).
        height = 0.07 * top / max(np.abs(gains).max(), 1e-300)
        ax.bar(
            (edges[:-1] + edges[1:]) / 2,
            gains * height,
            width=0.8 * np.diff(edges),
            bottom=-0.09 * top,
            color=np.where(gains >= 0, "#2e8b57", "#d62728"),
            alpha=0.8,
        )
        ax.text(lo + 0.02 * (hi - lo), -0.09 * top, r"$\Delta P$ per box", fontsize=7, va="center")
        ax.set_title(f"LR: boxes fixed in $x$, their mass changes ({change})", fontsize=9.5)
        ax.set_ylim(-0.18 * top, top * 1.15)
        ax.axhline(0, color="#777777", lw=0.6)
        ax.legend(fontsize=7, loc="upper right", frameon=False)

        ax = axes[1][col]
        # RP's boxes: equal mass 1/n each; after the step they sit at the new quantiles.
        edges0 = _quantile_edges(before, lo, hi, n_boxes)
        edges1 = _quantile_edges(after, lo, hi, n_boxes)
        _fill_boxes(ax, after, edges1, 0.6)
        for e in edges0[1:-1]:
            ax.plot([e, e], [0, before(np.array([e]))[0]], color=_CURVE, lw=0.7, ls=":")
        ax.plot(grid, b, color=_CURVE, lw=1.3, ls=":", label=r"$p(x;\theta)$, box edges dotted")
        ax.plot(grid, a, color=_CURVE, lw=1.5, label=r"$p(x;\theta+\delta)$, boxes filled")
        # Each box's median (the point splitting its mass in half), before and after the step.
        medians0 = _quantile_edges(before, lo, hi, 2 * n_boxes)[1::2]
        medians1 = _quantile_edges(after, lo, hi, 2 * n_boxes)[1::2]
        for m0, m1 in zip(medians0, medians1, strict=True):
            if abs(m1 - m0) > 1e-3 * (hi - lo):
                ax.annotate(
                    "",
                    xy=(m1, -0.08 * top),
                    xytext=(m0, -0.08 * top),
                    arrowprops={
                        "arrowstyle": "-|>",
                        "color": _FLOW_RED,
                        "lw": 1.0,
                        "mutation_scale": 9,
                        "shrinkA": 0,
                        "shrinkB": 0,
                    },
                )
            else:
                ax.plot([m0], [-0.08 * top], "o", color=_FLOW_RED, ms=3)
        ax.text(lo + 0.02 * (hi - lo), -0.13 * top, "box moves", fontsize=7, va="center", color=_FLOW_RED)
        ax.set_title(f"RP: each box keeps its mass $1/{n_boxes}$ and moves ({change})", fontsize=9.5)
        ax.set_ylim(-0.18 * top, top * 1.15)
        ax.axhline(0, color="#777777", lw=0.6)
        ax.legend(fontsize=7, loc="upper right", frameon=False)
        for a_ in axes[:, col]:
            a_.set_xlim(lo, hi)
            a_.set_xlabel(f"${sp.latex(x)}$")
    return fig


# -- Fig. 4/6: the L-distribution -----------------------------------------------------


def l_distribution(
    p: Density | None = None,
    q: Density | None = None,
    params: Mapping | None = None,
    *,
    n: int = 100_000,
    seed: int = 0,
    n_slices: int = 7,
) -> Figure:
    r"""Fig. 4/6: horizontal slices of p, and the slice distribution q_L against p.

    Left: horizontal slices of the normal.  Sampling a point uniformly under the
    curve and moving it to one of the two edges of its slice gives the
    L-distribution (App. F)

    .. math:: q_L(x) = |x - \mu|\,\Bigl|\frac{\partial p}{\partial x}\Bigr|
              = \frac{(x-\mu)^2}{\sqrt{2\pi}\sigma^3} e^{-(x-\mu)^2/(2\sigma^2)}  \qquad \text{(Eq. 78)}

    Right: q_L computed from p by Eq. (78), the normal p, and a histogram of n
    samples of q drawn with its sampler (Eq. 79).  LR with samples from q_L is
    Eq. (80).

    Parameters
    ----------
    p : Density, optional
        The base density; default ``families.normal()``.  Its first parameter is
        the centre of the slices (mu).
    q : Density, optional
        The density sampled for the histogram; default ``families.l_distribution()``.
    params : dict, optional
        Values of mu and sigma; default mu = 0, sigma = 1.
    n, seed : int
        Histogram sample size and seed (reproducible).
    n_slices : int
        Slices drawn on the left.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _require_matplotlib()
    from . import families

    p = families.normal() if p is None else p
    q = families.l_distribution() if q is None else q
    x = _one_dimensional(p, "l_distribution")
    if q.x != p.x:
        raise SymflowError("q must be over the same variable Symbol as p")
    values = _default_params(p, params)
    q_values = _default_params(q, {t: values[t] for t in q.params if t in values} if params is None else params)
    centre = p.params[0]
    mu = values[centre]
    slice_density = sp.Abs(x - centre) * sp.Abs(sp.diff(p.expr, x))  # Eq. (78)
    pdf = _numeric(p.expr, x, values)
    q_l = _numeric(slice_density, x, values)
    lo, hi = _plot_range(q_l, p.support_sets[0])
    grid = np.linspace(lo, hi, 1601)
    fig, axes = _figure(1, 2, (10.4, 3.9))

    ax = axes[0][0]
    curve = pdf(grid)
    ax.fill_between(grid, 0, curve, color=_FILL, lw=0)
    ax.plot(grid, curve, color=_CURVE, lw=1.8, label="$p(x)$")
    left, right = grid <= mu, grid >= mu
    for k in range(n_slices):
        h = (k + 0.5) / n_slices * curve.max()
        # The slice at height h runs between the two points where p = h (p rises then falls).
        xl = np.interp(h, curve[left], grid[left])
        xr = np.interp(h, curve[right][::-1], grid[right][::-1])
        ax.plot([xl, xr], [h, h], color=_SURFACE_BLUE, lw=2.2, alpha=0.75, solid_capstyle="butt")
        ax.plot([xl, xr], [h, h], "o", color=_FLOW_RED, ms=4)
    ax.set_title("horizontal slices of $p$; a slice's mass goes to its two edges", fontsize=9.5)
    ax.set_xlim(lo, hi)
    ax.set_ylim(0, curve.max() * 1.12)
    ax.set_xlabel(f"${sp.latex(x)}$")
    ax.set_ylabel("$h$")

    ax = axes[0][1]
    samples = q.sample(int(n), q_values, np.random.default_rng(seed)).ravel()
    ax.hist(
        samples,
        bins=80,
        range=(lo, hi),
        density=True,
        color="#f4b183",
        alpha=0.7,
        label=f"{n:,} samples of $q$ (Eq. 79)".replace(",", " "),
    )
    ax.plot(grid, curve, color=_CURVE, lw=1.6, label="normal $p(x)$")
    ax.plot(grid, q_l(grid), color=_FLOW_RED, lw=1.8, label=r"$q_L = |x-\mu|\,|\partial_x p|$ (Eq. 78)")
    ax.set_title("the L-distribution against the normal", fontsize=9.5)
    ax.set_xlim(lo, hi)
    ax.set_xlabel(f"${sp.latex(x)}$")
    ax.legend(fontsize=7.5, loc="upper right", frameon=False)
    return fig


def _figure_set() -> dict[str, Any]:
    """The figures ``symflow figures`` writes: file stem -> zero-argument builder."""
    from . import families, flows

    def fig3():
        p = families.normal()
        return flow_lines(p, flows.reparam(p), wrt=p.params)

    def fig3_lr():
        p = families.normal()
        return flow_lines(p, flows.zero(p), wrt=p.params)

    return {
        "fig2_boxes": lambda: boxes(),
        "fig3_flow_lines": fig3,
        "fig3_flow_lines_lr": fig3_lr,
        "fig6_l_distribution": lambda: l_distribution(),
    }
