"""``symflow verify``: run every claim of the derivation modules and print one row per claim."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import SymflowError
from .common import EXIT_OK, EXIT_UNEXPECTED, UsageError, check_timeout, truncate

__all__ = ["format_json", "format_summary", "format_table", "register_verify"]

# Column widths keep a row readable on a 160-character terminal; the method
# column is the only one long enough to need truncating.
_METHOD_WIDTH = 60
_CLAIM_WIDTH = 48


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
            truncate(r.claim.name, _CLAIM_WIDTH),
            r.claim.equation or "-",
            _expected_word(r),
            r.status if r.as_expected else f"{r.status} !",
            truncate(r.method, _METHOD_WIDTH),
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


def register_verify(subparsers) -> None:
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
        help="budget in seconds for each claim call (default: symflow's global default)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=_default_jobs(),
        metavar="N",
        help="worker processes running claims side by side (default: one per CPU core, at most 4)",
    )
    dask = parser.add_mutually_exclusive_group()
    dask.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the claims as tasks on the Dask cluster at ADDRESS (e.g. tcp://10.0.0.5:8786); needs "
        'pip install "symflow[dask]" (docs/scaling.md)',
    )
    dask.add_argument(
        "--dask-workers",
        type=int,
        metavar="N",
        help="run the claims as tasks on a local Dask cluster of N worker processes started for this run",
    )
    parser.set_defaults(handler=_run_verify)


def _default_jobs() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _derivation_paths(args: argparse.Namespace) -> list[str]:
    """The PATHS given (default ``derivations``), each checked to exist."""
    paths = args.paths or ["derivations"]
    for raw in paths:
        if not Path(raw).exists():
            raise UsageError(f"{raw}: no such file or folder (give derivation modules or folders of them)")
    return paths


def _run_verify(args: argparse.Namespace) -> int:
    from ..core import budget as budget
    from .claims import collect, run_claim

    paths = _derivation_paths(args)
    check_timeout(args.timeout)
    if args.jobs < 1:
        raise UsageError(f"--jobs must be a positive number of worker processes, got {args.jobs}")
    if args.dask_workers is not None and args.dask_workers < 1:
        raise UsageError(f"--dask-workers must be a positive number of worker processes, got {args.dask_workers}")
    # A scoped budget, so calling main() from Python leaves the global default alone.
    scope = budget.timeout_scope(args.timeout) if args.timeout is not None else contextlib.nullcontext()
    with scope:
        return _verify(args, paths, collect, run_claim)


def _verify(args: argparse.Namespace, paths: list[str], collect: Callable, run_claim: Callable) -> int:
    from .claims import Claim, ClaimResult, module_paths, run_claims

    try:
        modules = module_paths(paths)
    except SymflowError as exc:
        raise UsageError(str(exc)) from None
    claims, results = [], []
    for path in modules:
        try:
            claims.extend(collect([path]))
        except Exception as exc:  # noqa: BLE001 - a broken module is a failed row, not a crash
            # The module's claims are unknown, so it stands in as one claim that errored.
            stand_in = Claim(f"import {path.name}", "", "holds", lambda: None, path.stem)
            results.append(ClaimResult(stand_in, None, 0.0, f"{type(exc).__name__}: {exc}"))
    if not claims and not results:
        raise UsageError(f"no claims found in {', '.join(paths)} (decorate functions with @symflow.claim)")

    def progress(r) -> None:
        if not args.json:
            # Progress to stderr so a slow run shows life without spoiling stdout.
            print(f"  {r.claim.module}: {r.claim.name} ... {r.status} ({r.seconds:.2f} s)", file=sys.stderr, flush=True)

    start = time.perf_counter()
    if args.scheduler is None and args.dask_workers is None:
        results.extend(run_claims(claims, jobs=args.jobs, on_done=progress, run=run_claim))
        where = f"{args.jobs} worker process(es)"
    else:
        from .claims import run_claims_dask

        with _dask_client(args) as (client, where):
            results.extend(run_claims_dask(claims, client, on_done=progress, timeout=args.timeout))
    wall = time.perf_counter() - start
    if args.json:
        print(format_json(results))
    else:
        print(format_table(results))
        print()
        print(format_summary(results))
        print(f"wall time {wall:.1f} s with {where}")
    return EXIT_OK if all(r.as_expected for r in results) else EXIT_UNEXPECTED


@contextlib.contextmanager
def _dask_client(args: argparse.Namespace):
    """A ``distributed.Client`` for --scheduler ADDRESS or a fresh LocalCluster of --dask-workers N processes."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError('--scheduler and --dask-workers need Dask: pip install "symflow[dask]"') from None
    if args.scheduler is not None:
        try:
            client = Client(args.scheduler)  # waits distributed.comm.timeouts.connect (Dask's default 30 s)
        except OSError as exc:
            raise UsageError(f"cannot reach the Dask scheduler at {args.scheduler}: {exc}") from None
        try:
            workers = len(client.scheduler_info().get("workers", {}))
            yield client, f"the Dask cluster at {args.scheduler} ({workers} worker(s))"
        finally:
            client.close()
        return
    # Not daemonic: each claim's budgeted steps run in child processes, which daemonic workers may not start.
    with dask.config.set({"distributed.worker.daemon": False}):
        cluster = LocalCluster(
            n_workers=args.dask_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: None means Dask's fixed 8787, taken by a second cluster
            silence_logs=logging.ERROR,
        )
    try:
        with Client(cluster) as client:
            yield client, f"a local Dask cluster of {args.dask_workers} worker process(es)"
    finally:
        cluster.close()


# -- figures -------------------------------------------------------------------
