"""Fig. 3: the probability-flow lines in the augmented (x, h) space under the curve of p (Eq. 16-18)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import sympy as sp

from ..core.density import Density
from ..core.flow import Flow, flow_over
from ..errors import SymflowError
from ._common import (
    _CURVE,
    _FILL,
    _FLOW_RED,
    _SURFACE_BLUE,
    _default_params,
    _figure,
    _numeric,
    _one_dimensional,
    _params_list,
    _plot_range,
    _require_matplotlib,
)

if TYPE_CHECKING:  # pragma: no cover - only for type hints
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["flow_line_paths", "flow_lines"]


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
    flow_over(p, flow)
    wrt = p.check_param(wrt)
    if isinstance(n_lines, bool) or not isinstance(n_lines, int) or not 1 <= n_lines <= 10**4:
        raise SymflowError(f"n_lines must be an integer in 1..10^4, got {n_lines!r}")
    values = _default_params(p, params)
    pdf = _numeric(p.expr, x, values)
    u, material = _augmented_field(p, flow, wrt, values)
    dp = _numeric(sp.diff(p.expr, wrt), x, values)
    if xlim is not None and not (
        isinstance(xlim, tuple | list) and len(xlim) == 2 and all(isinstance(v, int | float) for v in xlim)
    ):
        raise SymflowError(f"xlim must be a pair of numbers (lo, hi), got {xlim!r:.60}")
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
    rates = np.asarray(dp(marks), dtype=float)
    if not np.all(np.isfinite(rates)) or not np.all(np.isfinite(curve)):
        raise SymflowError(f"p or dp/d{wrt} of {p.name} is not finite on the plotted range; nothing sensible to draw")
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
    flow_over(p, flow)
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
