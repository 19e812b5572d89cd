r"""Mohamed et al. (2020), Fig. 2, from exact variances: score function, pathwise, measure-valued, and their best mix.

The setting of "Monte Carlo gradient estimation in machine learning" (JMLR
2020), Sec. 8 / Fig. 2: the variance of single-sample estimators of
d/dmu and d/dsigma of E_{N(mu = 1, sigma = 1)}[f(x; k)] for

    f(x; k) = (x - k)^2,   exp(-k x^2),   cos(k x)

over a grid of k.  Here every curve is an exact variance (``sf.variance``,
closed forms; one 2-D coupling integral is done in closed form over one
variable and by quadrature over the other), not a sample variance:

* LR, the score function (u = 0, Eq. 21);
* RP, the pathwise estimator (the reparameterization flow);
* MVD, the measure-valued derivative with the coupling of the literature
  (mean: one Rayleigh draw, mirrored; scale: a Maxwell draw m and
  x- = mu + sigma m v), as DeepMind's ``mc_gradients`` samples it;
* the ``sf.design`` combination of the three (weights summing to 1, LR and
  RP sharing their sample, MVD independent): at or below the best of them
  at every k, by construction and by the numbers.

``variance_curves`` computes the data (no matplotlib); ``estimator_variances``
draws it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp

from ..core.budget import bounded, expired
from ..errors import SymflowError
from ._common import _require_matplotlib

if TYPE_CHECKING:  # pragma: no cover - only for type hints
    from matplotlib.figure import Figure

__all__ = ["Panel", "VarianceCurves", "estimator_variances", "variance_curves"]

K_REAL = sp.Symbol("k", real=True)
K_POSITIVE = sp.Symbol("k", positive=True)
NAMES = ("LR", "RP", "MVD")
_COLOURS = {"LR": "#1f5fa8", "RP": "#c0392b", "MVD": "#2e8b57", "design": "#222222"}


@dataclass(frozen=True)
class Panel:
    """One panel: the variances of LR, RP, MVD and their design combination over k, for one f and parameter."""

    f: sp.Expr
    wrt: sp.Symbol
    k: tuple[float, ...]
    series: tuple[tuple[str, tuple[float, ...]], ...]
    weights: tuple[tuple[float, ...], ...]
    routes: tuple[tuple[str, str], ...]
    unbiased: Any
    label: str = ""

    def values(self, name: str) -> np.ndarray:
        """The curve called ``name`` ("LR", "RP", "MVD" or "design")."""
        return np.array(dict(self.series)[name])

    def best_single(self) -> tuple[np.ndarray, list[str]]:
        """The smallest of LR, RP, MVD at each k, and which one it is."""
        stack = np.array([self.values(n) for n in NAMES])
        return stack.min(axis=0), [NAMES[i] for i in stack.argmin(axis=0)]

    def summary(self) -> str:
        """Where each simple estimator wins, and by how much the combination beats the best of them."""
        best, who = self.best_single()
        design = self.values("design")
        ks = np.array(self.k)
        parts = []
        for name in NAMES:
            mask = np.array([w == name for w in who])
            if mask.any():
                parts.append(f"{name} on {_ranges(ks, mask)}")
        gain = best / np.maximum(design, 1e-300)
        i = int(np.argmax(gain))
        return (
            f"d/d{self.wrt} E[{sp.sstr(self.f)}]: best single estimator {', '.join(parts)}; the combination is "
            f"{np.median(gain):.3g}x below the best (median over k), {gain[i]:.3g}x at k = {ks[i]:.3g}, "
            f"never above it (max ratio design/best = {float(np.max(design / best)):.6f})"
        )


def _ranges(ks: np.ndarray, mask: np.ndarray) -> str:
    out, start = [], None
    for i, m in enumerate(mask):
        if m and start is None:
            start = i
        if (not m or i == len(mask) - 1) and start is not None:
            end = i if m else i - 1
            out.append(f"[{ks[start]:.3g}, {ks[end]:.3g}]")
            start = None
    return " and ".join(out)


@dataclass(frozen=True)
class VarianceCurves:
    """The six panels of the figure (rows: f; columns: mu, sigma)."""

    panels: tuple[Panel, ...]
    params: tuple

    def panel(self, f_index: int, wrt: str) -> Panel:
        """Panel for the f of row ``f_index`` (0, 1, 2) and the parameter named ``wrt`` ("mu" or "sigma")."""
        row = [p for p in self.panels if str(p.wrt) == wrt]
        return row[f_index]

    def table(self, every: int = 1) -> str:
        """A Markdown table: f, parameter, k, LR, RP, MVD, design (every ``every``-th grid point)."""
        lines = ["| f | parameter | k | LR | RP | MVD | design |", "|---|---|---:|---:|---:|---:|---:|"]
        for p in self.panels:
            cols = [p.values(n) for n in (*NAMES, "design")]
            for i in range(0, len(p.k), every):
                cells = " | ".join(f"{c[i]:.6g}" for c in cols)
                lines.append(f"| {sp.sstr(p.f)} | {p.wrt} | {p.k[i]:.3g} | {cells} |")
        return "\n".join(lines)

    def __str__(self) -> str:
        return "\n".join(p.summary() for p in self.panels)


def _grid(k: sp.Symbol, points: int) -> np.ndarray:
    if isinstance(points, bool) or not isinstance(points, int | np.integer) or points < 2:
        raise SymflowError(f"points must be an integer >= 2 (the grid of k), got {points!r:.40}")
    return np.linspace(-3.0, 3.0, points) if k is K_REAL else np.linspace(0.05, 3.0, points)


def _panel(p, wrt: sp.Symbol, f: sp.Expr, k: sp.Symbol, points: int, timeout: float, label: str) -> Panel:
    from ..estimators import flows
    from ..estimators.deriver import derive
    from ..estimators.mvd import mvd
    from ..theory.design import design

    mu, sigma = p.params
    estimators = {
        "LR": derive(p, flows.zero(p), wrt=wrt),
        "RP": derive(p, flows.reparam(p), wrt=wrt),
        "MVD": mvd(p, wrt, method="known"),
    }
    d = design(estimators, f, {mu: 1, sigma: 1}, timeout=timeout)
    ks = _grid(k, points)
    curves: dict[str, list[float]] = {n: [] for n in (*NAMES, "design")}
    weights = []
    for kv in ks:
        if expired():
            raise SymflowError(
                f"the variances at {len(ks)} points of k were not computed within the budget; give fewer points "
                "or a larger timeout="
            )
        at = d.at({k: sp.Float(kv, 17)})
        for name, v in zip(NAMES, at.variances, strict=True):
            curves[name].append(float(sp.N(v, 20)))
        curves["design"].append(float(sp.N(at.variance, 20)))
        weights.append(tuple(float(w) for w in at.weights))
    matrix = d.covariance.matrix
    routes = tuple((n, "1-D quadrature" if matrix[i, i].has(sp.Integral) else "exact") for i, n in enumerate(NAMES))
    return Panel(
        f,
        wrt,
        tuple(float(v) for v in ks),
        tuple((n, tuple(c)) for n, c in curves.items()),
        tuple(weights),
        routes,
        d.each_unbiased,
        label,
    )


@bounded
def variance_curves(points: int = 41, *, timeout: float = 900.0) -> VarianceCurves:
    """The data of the figure: exact variances of LR, RP, MVD and the design combination over a grid of k.

    Parameters
    ----------
    points : int
        Grid points per panel: k in [-3, 3] for (x - k)^2, k in [0.05, 3] for
        exp(-k x^2) and cos(k x) (k > 0 there keeps the Gaussian closed forms
        provably convergent).
    timeout : float
        Budget in seconds for the whole call (41 points take about four minutes).
    """
    from ..families import normal

    _grid(K_REAL, points)  # refuses a points= that is not an integer >= 2 before any work
    p = normal()
    x = p.x[0]
    mu, sigma = p.params
    fs = (
        ((x - K_REAL) ** 2, K_REAL, "(x - k)^2"),
        (sp.exp(-K_POSITIVE * x**2), K_POSITIVE, "e^{-k x^2}"),
        (sp.cos(K_POSITIVE * x), K_POSITIVE, r"\cos(k x)"),
    )
    panels = tuple(_panel(p, wrt, f, k, points, timeout, label) for f, k, label in fs for wrt in (mu, sigma))
    return VarianceCurves(panels, ((mu, 1), (sigma, 1)))


@bounded
def estimator_variances(curves: VarianceCurves | None = None, *, points: int = 41, timeout: float = 900.0) -> Figure:
    """Mohamed et al. (2020), Fig. 2, with the ``sf.design`` combination (see the module docstring).

    Rows: f = (x - k)^2, exp(-k x^2), cos(k x); columns: d/dmu, d/dsigma of
    E_{N(1, 1)}[f]; log-scale variance against k.  Without ``curves`` they are
    computed (``variance_curves(points)``) within ``timeout`` seconds.
    """
    _require_matplotlib()
    from ._common import _figure

    if curves is not None and not isinstance(curves, VarianceCurves):
        raise SymflowError(f"curves must be the VarianceCurves of variance_curves(...), got {type(curves).__name__}")
    curves = variance_curves(points, timeout=timeout) if curves is None else curves
    fig, axes = _figure(3, 2, (10.0, 10.5))
    labels = {
        "LR": "score function (LR)",
        "RP": "pathwise (RP)",
        "MVD": "measure-valued (coupled)",
        "design": "sf.design",
    }
    for i, panel in enumerate(curves.panels):
        ax = axes[i // 2][i % 2]  # panels come as (f, mu), (f, sigma) for each f in turn
        for name in (*NAMES, "design"):
            style = {"lw": 2.2, "ls": "--"} if name == "design" else {"lw": 1.5}
            ax.plot(panel.k, panel.values(name), color=_COLOURS[name], label=labels[name], **style)
        ax.set_yscale("log")
        body = panel.label or sp.latex(panel.f)
        ax.set_title(rf"$\partial_{{\{panel.wrt}}}\,\mathbb{{E}}_{{N(1,1)}}[{body}]$", fontsize=10)
        ax.set_xlabel("$k$")
        ax.set_ylabel("variance")
        ax.grid(True, which="both", alpha=0.25)
    axes[0][0].legend(fontsize=7.5, frameon=False)
    return fig
