"""Tests for symflow.plot and ``symflow figures``: planted flow lines, files produced, lazy import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symflow as sf
from symflow import families
from symflow.cli.app import main
from symflow.errors import SymflowError
from symflow.plot import flow_line_paths

REPO = Path(__file__).resolve().parents[1]
FIGURES = ("fig2_boxes", "fig3_flow_lines", "fig3_flow_lines_lr", "fig6_l_distribution")


def _normal():
    p = families.normal()
    mu, sigma = p.params
    return p, mu, sigma


def _image_stats(path: Path) -> tuple[float, float]:
    """(standard deviation of the pixels, fraction of pixels that are not white)."""
    from matplotlib.image import imread

    rgb = imread(path)[..., :3]
    return float(rgb.std()), float(np.mean(rgb.min(axis=-1) < 0.95))


def _nontrivial(path: Path) -> bool:
    # A drawn figure has lines, fills and text: many non-white pixels and real contrast.
    if path.stat().st_size < 20_000:
        return False
    std, inked = _image_stats(path)
    return std > 0.05 and inked > 0.05


# -- lazy import -------------------------------------------------------------------


@pytest.mark.slow
def test_import_symflow_does_not_import_matplotlib():
    code = "import sys, symflow; symflow.plot; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.slow
def test_calling_a_plot_function_does_import_matplotlib():
    # The check above must be able to fail: drawing a figure loads matplotlib.
    code = "import sys, symflow; symflow.plot.l_distribution(n=1000); print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "True"


# -- flow lines: planted truths ------------------------------------------------------


def test_flow_lines_for_mu_are_horizontal():
    # u = 1 and Dp/Dmu = dp/dmu + dp/dx = 0 for the normal => the h-component is 0 => h is constant.
    p, mu, sigma = _normal()
    paths, _ = flow_line_paths(p, sf.flows.reparam(p), mu, {mu: 0.5, sigma: 1.5})
    assert len(paths) >= 10
    for path in paths:
        assert np.ptp(path[:, 1]) <= 1e-12
        assert np.all(np.diff(path[:, 0]) > 0)  # mass moves towards +x as mu grows


def test_flow_lines_for_sigma_are_hyperbolas():
    # u = (x - mu)/sigma and Dp/Dsigma = -p/sigma => d/dt [(x - mu) h] = 0: each line keeps (x - mu) h.
    p, mu, sigma = _normal()
    paths, _ = flow_line_paths(p, sf.flows.reparam(p), sigma, {mu: 0.5, sigma: 1.5})
    assert len(paths) >= 10
    for path in paths:
        invariant = (path[:-1, 0] - 0.5) * path[:-1, 1]  # the last point is clipped to h = 0 or the curve
        assert np.ptp(invariant) <= 1e-4 * max(np.abs(invariant).max(), 1e-3)


def test_zero_flow_lines_are_vertical_and_include_lines_from_the_floor():
    # u = 0 (LR): mass only moves up or down; where dp/dsigma > 0 it rises from h = 0 to the curve.
    p, mu, sigma = _normal()
    paths, _ = flow_line_paths(p, sf.flows.zero(p), sigma, {mu: 0.0, sigma: 1.0})
    for path in paths:
        assert np.ptp(path[:, 0]) == 0
    rising = [path for path in paths if path[-1, 1] > path[0, 1]]
    assert rising and all(path[0, 1] == 0 for path in rising)


def test_flow_line_paths_rejects_bad_input():
    p, mu, sigma = _normal()
    with pytest.raises(SymflowError, match="same density"):
        flow_line_paths(p, sf.flows.zero(families.laplace()), mu)
    x1, x2 = sp.symbols("x1 x2", real=True)
    two_d = sf.Density(sp.exp(-(x1**2) - x2**2) / sp.pi, (x1, x2), ())
    with pytest.raises(SymflowError, match="one-dimensional"):
        sf.plot.flow_lines(two_d, sf.flows.zero(two_d))
    with pytest.raises(SymflowError, match="n_lines"):
        flow_line_paths(p, sf.flows.zero(p), mu, n_lines=0)


# -- figures -------------------------------------------------------------------------


def test_figures_are_pure_figures():
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    p, mu, sigma = _normal()
    before = plt.get_fignums()
    figs = [
        sf.plot.flow_lines(p, sf.flows.reparam(p), wrt=mu),
        sf.plot.boxes(wrt=sigma, n_boxes=4),
        sf.plot.l_distribution(n=2000),
    ]
    assert all(isinstance(f, Figure) for f in figs)
    assert plt.get_fignums() == before  # nothing registered with pyplot, nothing to close


def test_flow_lines_draws_into_a_given_axes():
    from matplotlib.figure import Figure

    p, mu, sigma = _normal()
    fig = Figure()
    ax = fig.subplots()
    assert sf.plot.flow_lines(p, sf.flows.reparam(p), wrt=sigma, ax=ax) is fig
    assert len(ax.lines) > 10
    with pytest.raises(SymflowError, match="one panel"):
        sf.plot.flow_lines(p, sf.flows.reparam(p), wrt=(mu, sigma), ax=ax)


@pytest.mark.slow
def test_figures_command_writes_nontrivial_pngs(tmp_path, capsys):
    # the paper's figures (fast); estimator_variances has its own (slow) test below
    out = tmp_path / "figs"
    assert main(["figures", "-o", str(out), "--dpi", "80", "--only", ",".join(FIGURES)]) == 0
    written = sorted(path.stem for path in out.glob("*.png"))
    assert written == sorted(FIGURES)
    for stem in FIGURES:
        assert _nontrivial(out / f"{stem}.png"), stem
    assert capsys.readouterr().out.count(".png") == len(FIGURES)


@pytest.mark.slow
def test_figures_command_writes_the_estimator_variance_figure(tmp_path, capsys):
    out = tmp_path / "figs"
    assert main(["figures", "-o", str(out), "--dpi", "80", "--only", "estimator_variances", "--points", "5"]) == 0
    assert _nontrivial(out / "estimator_variances.png")


def test_figures_command_refuses_unknown_names_and_short_grids(tmp_path, capsys):
    assert main(["figures", "-o", str(tmp_path), "--only", "fig99"]) == 2
    assert "fig99" in capsys.readouterr().err
    assert main(["figures", "-o", str(tmp_path), "--points", "1"]) == 2


def test_estimator_variance_figure_draws_given_curves():
    # drawing is separate from computing: six synthetic panels, four curves each
    from matplotlib.figure import Figure

    from symflow.plot.fig_estimator_variances import NAMES, Panel, VarianceCurves

    x = sp.Symbol("x", real=True)
    ks = (0.5, 1.0, 1.5)
    series = tuple((n, (1.0, 2.0, 3.0)) for n in (*NAMES, "design"))
    mu, sigma = sf.families.normal().params
    panels = tuple(Panel(x**2, w, ks, series, (), (), None) for _ in range(3) for w in (mu, sigma))
    fig = sf.plot.estimator_variances(VarianceCurves(panels, ()))
    assert isinstance(fig, Figure) and len(fig.axes) == 6
    assert all(len(ax.lines) == 4 for ax in fig.axes)


def test_nontrivial_check_rejects_a_blank_figure(tmp_path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4))
    FigureCanvasAgg(fig)
    fig.savefig(tmp_path / "blank.png", dpi=130)
    assert not _nontrivial(tmp_path / "blank.png")


def test_figures_command_refuses_a_file_as_output(tmp_path, capsys):
    target = tmp_path / "not_a_folder"
    target.write_text("x")
    assert main(["figures", "-o", str(target)]) == 2
    assert "not a folder" in capsys.readouterr().err
