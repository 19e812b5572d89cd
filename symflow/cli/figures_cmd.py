"""``symflow figures``: draw the paper's Fig. 2, 3 and 6 and Mohamed et al.'s Fig. 2 as PNG files (needs matplotlib)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import EXIT_OK, UsageError

__all__ = ["register_figures"]


def register_figures(subparsers) -> None:
    parser = subparsers.add_parser(
        "figures",
        help="write the paper's figures (Fig. 2, 3, 6) and the estimator-variance figure as PNG files",
        description="Draw Fig. 2 (boxes), Fig. 3 (flow lines, RP and LR) and Fig. 6 (L-distribution) as PNG, and "
        "Mohamed et al. (2020) Fig. 2 from exact variances with the sf.design combination (about a minute).",
    )
    parser.add_argument("-o", "--output", metavar="DIR", default="figures", help="output folder (default: figures)")
    parser.add_argument("--dpi", type=int, default=130, help="resolution of the PNG files (default: 130)")
    parser.add_argument(
        "--only", metavar="STEM[,STEM]", default="", help="write only these figures (file stems, comma-separated)"
    )
    parser.add_argument("--points", type=int, default=41, help="grid points in k for estimator_variances (default: 41)")
    parser.set_defaults(handler=_run_figures)


def _run_figures(args: argparse.Namespace) -> int:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
    except ImportError:
        raise UsageError('figures needs matplotlib; install it with pip install "symflow[plot]"') from None
    from ..plot import _figure_set

    if args.dpi <= 0:
        raise UsageError(f"--dpi must be a positive integer, got {args.dpi}")
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} exists and is not a folder")
    if args.points < 2:
        raise UsageError(f"--points must be at least 2, got {args.points}")
    figures = _figure_set(args.points)
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in figures]
    if unknown:
        raise UsageError(f"no figure named {', '.join(unknown)}; the figures are {', '.join(figures)}")
    out.mkdir(parents=True, exist_ok=True)
    for stem, build in figures.items():
        if wanted and stem not in wanted:
            continue
        fig = build()
        FigureCanvasAgg(fig)  # the Agg canvas: PNG output needs no display and no pyplot
        path = out / f"{stem}.png"
        fig.savefig(path, dpi=args.dpi)
        print(path)
    return EXIT_OK


# -- latex -------------------------------------------------------------------------
