"""Fig. 4/6: horizontal slices of the normal and the slice ("L") distribution of Eq. (78) against the normal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import sympy as sp

from ..core.density import Density, same_variables
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
    _plot_range,
    _require_matplotlib,
)

if TYPE_CHECKING:  # pragma: no cover - only for type hints
    from matplotlib.figure import Figure

__all__ = ["l_distribution"]


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
    from .. import families as families

    for name, value, least in (("n", n, 2), ("n_slices", n_slices, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= 10**8:
            raise SymflowError(f"{name} must be an integer in {least}..10^8, got {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SymflowError(f"seed must be a non-negative integer, got {seed!r}")
    p = families.normal() if p is None else p
    q = families.l_distribution() if q is None else q
    x = _one_dimensional(p, "l_distribution")
    same_variables(p, q)
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
