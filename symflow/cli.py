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
arguments returning the exit status), then list it in ``_REGISTRARS``.
Formatting functions here return strings; only handlers and ``main`` print.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import keyword
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import SymflowError

__all__ = ["format_derive", "format_derive_json", "format_json", "format_summary", "format_table", "main"]

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
    from . import budget
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
    from .claims import run_claim as _default_run_claim

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
    if run_claim is _default_run_claim:
        results.extend(run_claims(claims, jobs=args.jobs, on_done=progress))
    else:  # a test's stand-in runner: in this process, in order
        for c in claims:
            results.append(run_claim(c))
            progress(results[-1])
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
    from .plot import _figure_set

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
    from . import budget
    from .claims import collect, module_paths, run_claim
    from .proof import LatexError, claims_document, compile_pdf, pdflatex_path

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


# -- derive ------------------------------------------------------------------------


def _register_derive(subparsers) -> None:
    parser = subparsers.add_parser(
        "derive",
        help="derive psi and v for a density and flow typed as text, and check them",
        description=(
            "Read a density and a flow with symflow.parse (a whitelist: nothing typed is executed), derive "
            "the flow estimator's v and psi (Eq. 19) and check the transport equation (Eq. 52) and the "
            "normalization.  Variables and parameters are real Symbols; --positive makes some positive.  "
            "Exit status: 0 no check refuted (a refuted transport equation only means psi != 0), "
            "1 normalization or unbiasedness refuted, 2 bad input."
        ),
    )
    parser.add_argument("--x", required=True, metavar="NAMES", help="the variables, comma-separated, e.g. x or x,y")
    parser.add_argument("--params", required=True, metavar="NAMES", help="the parameters, e.g. mu,sigma")
    parser.add_argument("--positive", default="", metavar="NAMES", help="names assumed positive, e.g. sigma")
    parser.add_argument("--density", required=True, metavar="EXPR", help="p(x; params)")
    parser.add_argument(
        "--flow",
        action="append",
        metavar="EXPR",
        help="a component of u for --wrt; give it once per variable, in --x order (default 0: likelihood ratio)",
    )
    parser.add_argument("--wrt", required=True, metavar="NAME", help="the parameter to differentiate by")
    parser.add_argument("--sampling", metavar="EXPR", help="the sampling density q(x; params) (default p)")
    parser.add_argument("--lower", metavar="EXPR", help="lower edge of the support in each variable (default -oo)")
    parser.add_argument("--upper", metavar="EXPR", help="upper edge of the support in each variable (default oo)")
    parser.add_argument("--phi", metavar="EXPR", help="also check unbiasedness for this test function phi(x)")
    parser.add_argument(
        "--at", metavar="NAME=NUMBER,...", help="parameter values for --phi (quadrature instead of symbolic)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="budget for each symbolic step")
    parser.set_defaults(handler=_run_derive)


def _names(raw: str, option: str) -> list[str]:
    names = [n.strip() for n in raw.split(",") if n.strip()]
    for name in names:
        if not (name.isascii() and name.isidentifier()) or keyword.iskeyword(name):
            raise _UsageError(f"{option}: {name!r} is not a plain ASCII identifier (letters, digits, _)")
    if len(set(names)) != len(names):
        raise _UsageError(f"{option} lists a name twice: {raw}")
    return names


def _parsed(text: str, option: str, symbols: dict) -> object:
    from .parse import parse

    try:
        return parse(text, symbols)
    except SymflowError as exc:
        raise _UsageError(f"{option}: {exc}") from None


def _verdict_row(verdict) -> dict:
    return {
        "status": verdict.status.value,
        "method": verdict.method,
        "reason": verdict.reason,
        "residual": "" if verdict.residual is None else str(verdict.residual),
        "witness": "" if verdict.witness is None else str(verdict.witness),
    }


def _run_derive(args: argparse.Namespace) -> int:
    from . import budget

    if args.timeout is not None and not args.timeout > 0:
        raise _UsageError(f"--timeout must be a positive number of seconds, got {args.timeout}")
    scope = budget.timeout_scope(args.timeout) if args.timeout is not None else contextlib.nullcontext()
    with scope:
        try:
            return _derive(args)
        except SymflowError as exc:  # a Density, Flow or Estimator that does not fit together
            raise _UsageError(str(exc)) from None


def _derive(args: argparse.Namespace) -> int:
    import sympy as sp

    from .checks import check_normalized, check_transport, check_unbiased
    from .density import Density
    from .derive import derive
    from .flow import Flow
    from .flows import zero

    x_names, param_names = _names(args.x, "--x"), _names(args.params, "--params")
    positive = set(_names(args.positive, "--positive"))
    unknown = positive - set(x_names) - set(param_names)
    if unknown:
        raise _UsageError(f"--positive names {', '.join(sorted(unknown))}, which are not in --x or --params")
    # Real Symbols: densities and flows are real functions of real arguments; positivity only when asked.
    symbols = {n: sp.Symbol(n, real=True, **({"positive": True} if n in positive else {})) for n in x_names}
    symbols.update({n: sp.Symbol(n, real=True, **({"positive": True} if n in positive else {})) for n in param_names})
    if args.wrt not in param_names:
        raise _UsageError(f"--wrt {args.wrt} is not one of --params {', '.join(param_names)}")
    xs = tuple(symbols[n] for n in x_names)
    params = tuple(symbols[n] for n in param_names)
    only_params = {n: symbols[n] for n in param_names}
    lower = _parsed(args.lower, "--lower", only_params) if args.lower else sp.S.NegativeInfinity
    upper = _parsed(args.upper, "--upper", only_params) if args.upper else sp.S.Infinity
    support = sp.Interval(lower, upper) if len(xs) == 1 else sp.ProductSet(*[sp.Interval(lower, upper)] * len(xs))
    p = Density(_parsed(args.density, "--density", symbols), xs, params, support=support)
    wrt = symbols[args.wrt]
    if args.flow is None:
        flow = zero(p)
    elif len(args.flow) != len(xs):
        raise _UsageError(f"give --flow once per variable ({len(xs)}: {', '.join(x_names)}), got {len(args.flow)}")
    else:
        flow = Flow(p, {wrt: [_parsed(f, "--flow", symbols) for f in args.flow]}, note="typed flow")
    q = None
    if args.sampling:
        q = Density(_parsed(args.sampling, "--sampling", symbols), xs, params, support=support, name="q")
    phi = _parsed(args.phi, "--phi", {n: symbols[n] for n in x_names}) if args.phi else None
    values = None
    if args.at:
        if phi is None:
            raise _UsageError("--at gives parameter values for --phi; give --phi too")
        values = {}
        for item in args.at.split(","):
            name, _, number = item.partition("=")
            if name.strip() not in only_params:
                raise _UsageError(f"--at: {name.strip()!r} is not one of --params {', '.join(param_names)}")
            values[symbols[name.strip()]] = _parsed(number, "--at", {})

    verdicts = {"transport": check_transport(p, flow, wrt), "normalized": check_normalized(p)}
    if q is not None:
        verdicts["q normalized"] = check_normalized(q)
    est = derive(p, flow, wrt, q)
    if phi is not None:
        verdicts["unbiased"] = check_unbiased(est, phi, values)
    refuted = [k for k, v in verdicts.items() if k != "transport" and v.status.value == "refuted"]
    status = EXIT_UNEXPECTED if refuted else EXIT_OK
    print(format_derive_json(est, verdicts, status) if args.json else format_derive(est, verdicts))
    if refuted and not args.json:
        print(f"refuted: {', '.join(refuted)}", file=sys.stderr)
    return status


def format_derive(est, verdicts: dict) -> str:
    """p, q, u, v and psi of a derived estimator, then each verdict (``symflow derive``)."""
    import sympy as sp

    p, q, wrt = est.density, est.q, est.wrt
    lines = [f"p   = {sp.sstr(p.expr)}"]
    if q is not None:
        lines.append(f"q   = {sp.sstr(q.expr)}")
    lines += [f"u_{wrt}[{xi}] = {sp.sstr(ui)}" for xi, ui in zip(p.x, est.flow.field(wrt), strict=True)]
    lines += [f"v[{xi}] = {sp.sstr(vi)}" for xi, vi in zip(p.x, est.v, strict=True)]
    lines.append(f"psi = {sp.sstr(est.psi)}")
    for name, verdict in verdicts.items():
        lines.append(f"{name}: {verdict}")
        if name == "transport" and verdict.status.value == "refuted":
            lines.append("  (not an error: u is not a reparameterization flow, so psi carries the rest; Eq. 19)")
    return "\n".join(lines)


def format_derive_json(est, verdicts: dict, status: int) -> str:
    """The same as ``format_derive``, as one JSON object (expressions as SymPy strings)."""
    row = {
        "density": str(est.density.expr),
        "sampling": None if est.q is None else str(est.q.expr),
        "wrt": str(est.wrt),
        "flow": [str(c) for c in est.flow.field(est.wrt)],
        "v": [str(c) for c in est.v],
        "psi": str(est.psi),
        "verdicts": {k: _verdict_row(v) for k, v in verdicts.items()},
        "exit_status": status,
    }
    return json.dumps(row, indent=2)


# -- entry point ---------------------------------------------------------------

_REGISTRARS: tuple[Callable, ...] = (_register_verify, _register_figures, _register_latex, _register_derive)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with one subparser per registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="symflow",
        description="Derive and check Monte Carlo gradient estimators (Parmas & Sugiyama).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for register in _REGISTRARS:
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
