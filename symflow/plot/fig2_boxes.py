"""Fig. 2: LR keeps the "boxes" fixed and watches their mass change; RP keeps each box's mass and moves it (Sec. 3)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import sympy as sp

from ..core.density import Density
from ..errors import SymflowError
from ._common import (
    _BOX_COLOURS,
    _CURVE,
    _FLOW_RED,
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

__all__ = ["boxes"]


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
        from ..families import normal

        p = normal()
    x = _one_dimensional(p, "boxes")
    targets = _params_list(p, wrt)
    values = _default_params(p, params)
    if isinstance(n_boxes, bool) or not isinstance(n_boxes, int) or not 2 <= n_boxes <= 10**4:
        raise SymflowError(f"n_boxes must be an integer in 2..10^4, got {n_boxes!r}")
    raw = {t: step.get(t) if isinstance(step, Mapping) else step for t in targets}
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v) for v in raw.values()):
        raise SymflowError(f"step must be a finite number (or a dict of them per parameter), got {step!r:.60}")
    deltas = {t: float(v) for t, v in raw.items()}
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
        if not np.isfinite(top) or top <= 0:
            raise SymflowError(
                f"{p.name} is not finite on the plotted range (its peak is {top}); the boxes need a bounded density"
            )
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
        if not np.isfinite(top) or top <= 0:
            raise SymflowError(
                f"{p.name} is not finite on the plotted range (its peak is {top}); the boxes need a bounded density"
            )
        ax.set_ylim(-0.18 * top, top * 1.15)
        ax.axhline(0, color="#777777", lw=0.6)
        ax.legend(fontsize=7, loc="upper right", frameon=False)
        for a_ in axes[:, col]:
            a_.set_xlim(lo, hi)
            a_.set_xlabel(f"${sp.latex(x)}$")
    return fig
