"""The ``symflow`` command line.

``symflow verify [PATHS...] [--json] [--timeout SECONDS]`` runs every claim
of the derivation modules under PATHS (default ``derivations``) and prints
one row per claim: its name, the paper's equation, what it is expected to do
(hold or be refuted), the verdict, how the verdict was reached and the time
taken.  The exit status is 0 only when every claim came out as expected.

``symflow derive --x x --params mu,sigma --density EXPR --flow EXPR --wrt sigma``
reads the expressions with ``symflow.core.parsing`` (a whitelist: nothing typed is
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
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import SymflowError

__all__ = ["format_json", "format_summary", "format_table", "main"]

# Exit statuses: 0 all as expected, 1 some claim not as expected, 2 bad usage.
EXIT_OK, EXIT_UNEXPECTED, EXIT_USAGE = 0, 1, 2

# Column widths keep a row readable on a 160-character terminal; the method
# column is the only one long enough to need truncating.
_METHOD_WIDTH = 60
_CLAIM_WIDTH = 48


class _UsageError(Exception):
    """Bad command-line input: reported as one line, exit status 2."""


def _truncate(text: str, width: int) -> str:
    """One line of at most ``width`` characters, ending in '...' when cut."""
    line = " ".join(str(text).split())
    if len(line) <= width:
        return line
    return line[: width - 3].rstrip() + "..."


def _expected_word(result) -> str:
    return "holds" if result.claim.expect == "holds" else "refuted"


def format_table(results: Sequence) -> str:
    """A fixed-width table with one row per ``ClaimResult``.

    Columns: claim, paper equation, expected, verdict, method, seconds.  The
    claim and method are cut to a readable width; ``format_summary`` gives
    the full text of every claim that did not come out as expected.
    """
    header = ("claim", "eq.", "expected", "verdict", "method", "seconds")
    rows = [
        (
            _truncate(r.claim.name, _CLAIM_WIDTH),
            r.claim.equation or "-",
            _expected_word(r),
            r.status if r.as_expected else f"{r.status} !",
            _truncate(r.method, _METHOD_WIDTH),
            f"{r.seconds:.2f}",
        )
        for r in results
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(header)]
    right = {5}  # numbers align right

    def line(cells: Sequence[str]) -> str:
        out = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def _full_text(result) -> str:
    if result.error:
        return f"raised {result.error}"
    return str(result.result)


def format_summary(results: Sequence) -> str:
    """``N claims: N as expected, N not``, then the full verdict of each unexpected claim."""
    bad = [r for r in results if not r.as_expected]
    total = sum(r.seconds for r in results)
    lines = [f"{len(results)} claims: {len(results) - len(bad)} as expected, {len(bad)} not ({total:.1f} s)"]
    # A claim expected to be refuted is only convincing with its evidence (the
    # witness, or the Monte Carlo z-test) on show.
    for r in results:
        if r.as_expected and r.claim.expect == "refuted":
            lines.append(f"refuted as expected: {r.claim.name}")
            lines.extend("  " + ln for ln in _full_text(r).splitlines())
    for r in bad:
        lines.append("")
        lines.append(
            f"NOT AS EXPECTED: {r.claim.name} [{r.claim.module}, Eq. {r.claim.equation or '-'}] "
            f"expected {_expected_word(r)}, got {r.status}"
        )
        lines.extend("  " + ln for ln in _full_text(r).splitlines())
    return "\n".join(lines)


def _json_row(result) -> dict:
    inner = result.result
    witness = getattr(inner, "witness", None)
    reason = result.error or getattr(inner, "reason", "") or ""
    return {
        "claim": result.claim.name,
        "module": result.claim.module,
        "equation": result.claim.equation,
        "expected": _expected_word(result),
        "status": result.status,
        "method": result.method,
        "seconds": round(result.seconds, 4),
        "as_expected": result.as_expected,
        "reason": str(reason),
        "witness": "" if witness is None else str(witness),
    }


def format_json(results: Sequence) -> str:
    """The results as a JSON list of objects (text fields as strings)."""
    return json.dumps([_json_row(r) for r in results], indent=2)


# -- verify --------------------------------------------------------------------


def _register_verify(subparsers) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="run the claims of derivation modules and report their verdicts",
        description="Run every @symflow.claim in the given derivation modules or folders.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATHS",
        help="derivation modules (.py) or folders of them (default: derivations)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="budget for each symbolic step (default: symflow's global default)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=_default_jobs(),
        metavar="N",
        help="worker processes running claims side by side (default: one per CPU core, at most 4)",
    )
    parser.set_defaults(handler=_run_verify)


def _default_jobs() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _derivation_paths(args: argparse.Namespace) -> list[str]:
    """The PATHS given (default ``derivations``), each checked to exist."""
    paths = args.paths or ["derivations"]
    for raw in paths:
        if not Path(raw).exists():
            raise _UsageError(f"{raw}: no such file or folder (give derivation modules or folders of them)")
    return paths


def _run_verify(args: argparse.Namespace) -> int:
    from ..core import budget as budget
    from .claims import collect, run_claim

    paths = _derivation_paths(args)
    if args.timeout is not None and not args.timeout > 0:
        raise _UsageError(f"--timeout must be a positive number of seconds, got {args.timeout}")
    if args.jobs < 1:
        raise _UsageError(f"--jobs must be a positive number of worker processes, got {args.jobs}")
    # A scoped budget, so calling main() from Python leaves the global default alone.
    scope = budget.timeout_scope(args.timeout) if args.timeout is not None else contextlib.nullcontext()
    with scope:
        return _verify(args, paths, collect, run_claim)


def _verify(args: argparse.Namespace, paths: list[str], collect: Callable, run_claim: Callable) -> int:
    from .claims import Claim, ClaimResult, module_paths, run_claims

    try:
        modules = module_paths(paths)
    except SymflowError as exc:
        raise _UsageError(str(exc)) from None
    claims, results = [], []
    for path in modules:
        try:
            claims.extend(collect([path]))
        except Exception as exc:  # noqa: BLE001 - a broken module is a failed row, not a crash
            # The module's claims are unknown, so it stands in as one claim that errored.
            stand_in = Claim(f"import {path.name}", "", "holds", lambda: None, path.stem)
            results.append(ClaimResult(stand_in, None, 0.0, f"{type(exc).__name__}: {exc}"))
    if not claims and not results:
        raise _UsageError(f"no claims found in {', '.join(paths)} (decorate functions with @symflow.claim)")

    def progress(r) -> None:
        if not args.json:
            # Progress to stderr so a slow run shows life without spoiling stdout.
            print(f"  {r.claim.module}: {r.claim.name} ... {r.status} ({r.seconds:.2f} s)", file=sys.stderr, flush=True)

    start = time.perf_counter()
    results.extend(run_claims(claims, jobs=args.jobs, on_done=progress, run=run_claim))
    wall = time.perf_counter() - start
    if args.json:
        print(format_json(results))
    else:
        print(format_table(results))
        print()
        print(format_summary(results))
        print(f"wall time {wall:.1f} s with {args.jobs} worker process(es)")
    return EXIT_OK if all(r.as_expected for r in results) else EXIT_UNEXPECTED


# -- figures -------------------------------------------------------------------


def _register_figures(subparsers) -> None:
    parser = subparsers.add_parser(
        "figures",
        help="write the paper's figures (Fig. 2, 3, 6) as PNG files",
        description="Draw Fig. 2 (boxes), Fig. 3 (flow lines, RP and LR) and Fig. 6 (L-distribution) as PNG.",
    )
    parser.add_argument("-o", "--output", metavar="DIR", default="figures", help="output folder (default: figures)")
    parser.add_argument("--dpi", type=int, default=130, help="resolution of the PNG files (default: 130)")
    parser.set_defaults(handler=_run_figures)


def _run_figures(args: argparse.Namespace) -> int:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
    except ImportError:
        raise _UsageError('figures needs matplotlib; install it with pip install "symflow[plot]"') from None
    from ..plot import _figure_set

    if args.dpi <= 0:
        raise _UsageError(f"--dpi must be a positive integer, got {args.dpi}")
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise _UsageError(f"{out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    for stem, build in _figure_set().items():
        fig = build()
        FigureCanvasAgg(fig)  # the Agg canvas: PNG output needs no display and no pyplot
        path = out / f"{stem}.png"
        fig.savefig(path, dpi=args.dpi)
        print(path)
    return EXIT_OK


# -- latex -------------------------------------------------------------------------


def _register_latex(subparsers) -> None:
    parser = subparsers.add_parser(
        "latex",
        help="write the machine-checked proofs of derivation modules as LaTeX (and PDF)",
        description="Run every claim of each derivation module and write one standalone .tex of their proofs.",
    )
    parser.add_argument(
        "paths", nargs="*", metavar="PATHS", help="derivation modules or folders (default: derivations)"
    )
    parser.add_argument("-o", "--output", metavar="DIR", default="proofs", help="output folder (default: proofs)")
    parser.add_argument("--pdf", action="store_true", help="also compile each .tex with pdflatex")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="budget for each symbolic step")
    parser.set_defaults(handler=_run_latex)


def _run_latex(args: argparse.Namespace) -> int:
    from ..core import budget as budget
    from ..proof import LatexError, claims_document, compile_pdf, pdflatex_path
    from .claims import collect, module_paths, run_claim

    paths = _derivation_paths(args)
    if args.pdf and pdflatex_path() is None:
        raise _UsageError(
            "--pdf needs pdflatex, which is not installed (Debian: apt-get install texlive-latex-base "
            "texlive-latex-recommended); run without --pdf to write the .tex files only"
        )
    if args.timeout is not None:
        if not args.timeout > 0:
            raise _UsageError(f"--timeout must be a positive number of seconds, got {args.timeout}")
        budget.set_default_timeout(args.timeout)
    try:
        modules = module_paths(paths)
    except SymflowError as exc:
        raise _UsageError(str(exc)) from None
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise _UsageError(f"{out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    status = EXIT_OK
    for module in modules:
        try:
            results = [run_claim(c) for c in collect([module])]
        except Exception as exc:  # noqa: BLE001 - a module that fails to import is reported; the rest still run
            print(f"symflow latex: {module}: cannot import: {type(exc).__name__}: {exc}", file=sys.stderr)
            status = EXIT_UNEXPECTED
            continue
        if not results:
            print(f"  {module}: no claims, skipped", file=sys.stderr)
            continue
        tex = claims_document(module.stem, results)
        tex_path = out / f"{module.stem}.tex"
        tex_path.write_text(tex, encoding="utf-8")
        print(tex_path)
        if args.pdf:
            try:
                pdf = compile_pdf(tex, name=module.stem)
            except LatexError as exc:
                print(f"symflow latex: {exc}", file=sys.stderr)
                status = EXIT_UNEXPECTED
                continue
            pdf_path = out / f"{module.stem}.pdf"
            pdf_path.write_bytes(pdf)
            print(pdf_path)
    return status


# -- entry point ---------------------------------------------------------------


def _registrars() -> tuple[Callable, ...]:
    from .derive_cmd import register_derive  # its own module: it imports this one

    return (_register_verify, _register_figures, _register_latex, register_derive)


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
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help (0) and on bad usage (2)
        return int(exc.code or 0)
    try:
        return args.handler(args)
    except _UsageError as exc:
        print(f"symflow {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
