"""The ``symflow`` command line.

``symflow verify [PATHS...] [--json] [--timeout SECONDS]`` runs every claim
of the derivation modules under PATHS (default ``derivations``) and prints
one row per claim: its name, the paper's equation, what it is expected to do
(hold or be refuted), the verdict, how the verdict was reached and the time
taken.  The exit status is 0 only when every claim came out as expected.

``symflow derive --x x --params mu,sigma --density EXPR --flow EXPR --wrt sigma``
reads the expressions with ``symflow.parse`` (a whitelist: nothing typed is
executed), derives v and psi (Eq. 19) and prints them with the verdicts on
the transport equation and the normalization (and unbiasedness with
``--phi``).  Exit status 0 unless the normalization or unbiasedness is
refuted (1); bad input is 2.  See docs/parsing.md.

Adding a subcommand takes one function: write ``_register_<name>(subparsers)``
that adds its parser and sets ``handler=`` (a function of the parsed
arguments returning the exit status), then list it in ``_registrars``
(``derive`` lives in ``symflow.cli.derive_cmd``).
Formatting functions here return strings; only handlers and ``main`` print.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from .common import EXIT_OK, EXIT_UNEXPECTED, EXIT_USAGE, UsageError, truncate
from .derive_cmd import join_expression_values, register_derive
from .figures_cmd import register_figures
from .latex_cmd import register_latex
from .verify import format_json, format_summary, format_table, register_verify

__all__ = [
    "EXIT_OK",
    "EXIT_UNEXPECTED",
    "EXIT_USAGE",
    "build_parser",
    "format_json",
    "format_summary",
    "format_table",
    "main",
    "truncate",
]


def _registrars() -> tuple[Callable, ...]:
    return (register_verify, register_figures, register_latex, register_derive)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with one subparser per registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="symflow",
        description="Derive and check Monte Carlo gradient estimators (Parmas & Sugiyama).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for register in _registrars():
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 unexpected results, 2 usage error)."""
    parser = build_parser()
    argv = join_expression_values(sys.argv[1:] if argv is None else list(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help (0) and on bad usage (2)
        return int(exc.code or 0)
    try:
        return args.handler(args)
    except UsageError as exc:
        print(f"symflow {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
