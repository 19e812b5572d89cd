"""Claims: the paper's statements as checked, runnable derivations.

A derivation module (a ``.py`` file under ``derivations/``) declares claims
by decorating zero-argument functions::

    import symflow as sf

    @sf.claim("Normal score for sigma", equation="21")
    def normal_score_sigma():
        ...
        return verdict          # anything with a ``.status``: a Verdict, an MCResult

``expect="refuted"`` declares a claim that must come out refuted (a wrong
flow, a naive estimator).  ``symflow verify`` runs every claim and reports
whether each came out as expected.
"""

from __future__ import annotations

import enum
import importlib.util
import pickle
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.budget import quiet_fork
from ..errors import SymflowError

__all__ = [
    "Claim",
    "ClaimResult",
    "Expect",
    "claim",
    "collect",
    "run_claim",
    "run_claim_remote",
    "run_claims",
    "run_claims_dask",
]


class Expect(str, enum.Enum):
    """What a claim must come out as (compares equal to its string)."""

    HOLDS = "holds"  # proved or consistent
    REFUTED = "refuted"  # a deliberately wrong flow or estimator, caught

    def __str__(self) -> str:
        return self.value

    @property
    def statuses(self) -> tuple[str, ...]:
        return ("proved", "consistent") if self is Expect.HOLDS else ("refuted",)


def _expect(value: object) -> Expect:
    try:
        return Expect(value)
    except ValueError:
        raise SymflowError(f"expect must be 'holds' or 'refuted', got {value!r}") from None


@dataclass(frozen=True)
class Claim:
    """One checked statement: ``run()`` returns something with a ``.status``."""

    name: str
    equation: str
    expect: Expect
    run: Callable[[], Any]
    module: str = ""
    source: str = ""  # the derivation file it was collected from (what a Dask worker loads)

    def __post_init__(self) -> None:
        object.__setattr__(self, "expect", _expect(self.expect))


@dataclass(frozen=True)
class ClaimResult:
    """A claim's outcome: its verdict (or the error it raised) and the time taken."""

    claim: Claim
    result: Any
    seconds: float
    error: str = ""

    @property
    def status(self) -> str:
        if self.error:
            return "error"
        return str(getattr(self.result, "status", "unknown"))

    @property
    def method(self) -> str:
        if self.error:
            return self.error
        return str(getattr(self.result, "method", ""))

    @property
    def as_expected(self) -> bool:
        return not self.error and self.status in self.claim.expect.statuses


def claim(name: str, *, equation: str = "", expect: str = "holds") -> Callable[[Callable], Callable]:
    """Mark a zero-argument function as a claim of the paper (see module docstring)."""
    expect = _expect(expect)

    def mark(fn: Callable) -> Callable:
        fn.__symflow_claim__ = Claim(name, equation, expect, fn, fn.__module__)  # type: ignore[attr-defined]
        return fn

    return mark


def _load_module(path: Path):
    name = f"symflow_derivation_{path.stem}_{abs(hash(path.resolve()))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SymflowError(f"cannot import derivation module {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def module_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Every derivation module under the given files or directories, sorted."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out.extend(sorted(p for p in path.glob("*.py") if not p.name.startswith("_")))
        elif path.is_file() and path.suffix == ".py":
            out.append(path)
        else:
            raise SymflowError(f"{path} is neither a directory nor a .py file; give derivation modules or folders")
    return out


def collect(paths: Iterable[str | Path]) -> list[Claim]:
    """Import each derivation module and return its claims in source order."""
    claims: list[Claim] = []
    for path in module_paths(paths):
        module = _load_module(path)
        found = [obj.__symflow_claim__ for obj in vars(module).values() if hasattr(obj, "__symflow_claim__")]
        found.sort(key=lambda c: c.run.__code__.co_firstlineno)
        source = str(path.resolve())
        claims.extend(Claim(c.name, c.equation, c.expect, c.run, path.stem, source) for c in found)
    return claims


def run_claim(c: Claim) -> ClaimResult:
    """Run one claim, timing it; an exception becomes an ``error`` result."""
    start = time.perf_counter()
    try:
        result = c.run()
    except Exception as exc:  # noqa: BLE001 - a crashing claim is reported, not fatal
        return ClaimResult(c, None, time.perf_counter() - start, f"{type(exc).__name__}: {exc}")
    return ClaimResult(c, result, time.perf_counter() - start)


def _worker(claims: list[Claim], run, tasks, done) -> None:  # pragma: no cover - runs in a child process
    while True:
        i = tasks.get()
        if i is None:
            return
        result = run(claims[i])
        try:
            # Verdicts and Monte Carlo results are plain data: they pickle whole.
            payload = pickle.dumps((i, result.result, result.seconds, result.error))
        except Exception as exc:  # noqa: BLE001 - a result that cannot be sent is reported as an error
            payload = pickle.dumps(
                (i, None, result.seconds, f"the result could not be sent: {type(exc).__name__}: {exc}")
            )
        done.put(payload)


def run_claims(
    claims: list[Claim],
    jobs: int = 1,
    on_done: Callable[[ClaimResult], None] | None = None,
    run: Callable[[Claim], ClaimResult] = run_claim,
):
    """Run claims, in ``jobs`` forked worker processes when jobs > 1; results in the claims' order.

    Claims are independent, so the order they run in does not matter; each
    worker takes the next claim as soon as it is free.  ``on_done`` is called
    with each result as it arrives (for progress output).  Without ``fork``
    (Windows) the claims run here, one after another.
    """
    import multiprocessing as mp

    if jobs <= 1 or len(claims) <= 1 or "fork" not in mp.get_all_start_methods():
        results = []
        for c in claims:
            results.append(run(c))
            if on_done is not None:
                on_done(results[-1])
        return results
    ctx = mp.get_context("fork")
    tasks, done = ctx.Queue(), ctx.Queue()
    for i in range(len(claims)):
        tasks.put(i)
    # Not daemonic: a worker's budgeted steps fork children of their own.
    workers = [ctx.Process(target=_worker, args=(claims, run, tasks, done)) for _ in range(min(jobs, len(claims)))]
    for _ in workers:
        tasks.put(None)
    with quiet_fork():  # workers run claims only
        for w in workers:
            w.start()
    found: dict[int, ClaimResult] = {}
    try:
        while len(found) < len(claims):
            i, result, seconds, error = pickle.loads(done.get())
            found[i] = ClaimResult(claims[i], result, seconds, error)
            if on_done is not None:
                on_done(found[i])
    finally:
        for w in workers:
            w.join(timeout=5)
            if w.is_alive():
                w.terminate()
    return [found[i] for i in range(len(claims))]


# -- on a Dask cluster -----------------------------------------------------------------------

_LOADED: dict[str, Any] = {}  # derivation file -> module, once per worker process

DAEMON_FIX = (
    "this Dask worker is a daemonic process, which may not start the child processes symflow's time "
    "budgets run in; start the workers with DASK_DISTRIBUTED__WORKER__DAEMON=False (docs/scaling.md)"
)


def run_claim_remote(source: str, function: str, timeout: float | None = None) -> tuple[Any, float, str]:
    """Run the claim ``function`` of the derivation file ``source`` here (a Dask task): ``(result, seconds, error)``.

    The claim travels as its file and function name, not as code: the worker imports the file
    itself (once per process), so the file must exist at the same path on every worker.  The
    result is a Verdict or MCResult, plain data that pickles back to the client.
    """
    import contextlib
    import multiprocessing

    from ..core import budget

    if multiprocessing.current_process().daemon:
        return None, 0.0, DAEMON_FIX
    try:
        if source not in _LOADED:
            _LOADED[source] = _load_module(Path(source))
        fn = getattr(_LOADED[source], function)
        found = fn.__symflow_claim__
    except Exception as exc:  # noqa: BLE001 - reported as the claim's error row
        return None, 0.0, f"could not load {function} from {source} on the worker: {type(exc).__name__}: {exc}"
    scope = budget.timeout_scope(timeout) if timeout is not None else contextlib.nullcontext()
    with scope:
        result = run_claim(Claim(found.name, found.equation, found.expect, fn, found.module, source))
    try:
        pickle.dumps(result.result)
    except Exception as exc:  # noqa: BLE001 - a result that cannot be sent is reported as an error
        return None, result.seconds, f"the result could not be sent: {type(exc).__name__}: {exc}"
    return result.result, result.seconds, result.error


def run_claims_dask(
    claims: list[Claim],
    client: Any,
    on_done: Callable[[ClaimResult], None] | None = None,
    timeout: float | None = None,
) -> list[ClaimResult]:
    """Run claims as Dask tasks on ``client``'s cluster (one task each); results in the claims' order.

    Each task is ``run_claim_remote(file, function name, timeout)``; ``on_done`` sees results as
    they finish.  A task that fails on the cluster (a worker lost, say) is an error row.
    """
    from distributed import as_completed

    futures = {}
    for i, c in enumerate(claims):
        future = client.submit(run_claim_remote, c.source, c.run.__name__, timeout, pure=False)
        futures[future] = i
    found: dict[int, ClaimResult] = {}
    for future in as_completed(list(futures)):
        i = futures[future]
        try:
            result, seconds, error = future.result()
        except Exception as exc:  # noqa: BLE001 - a lost task is a failed row, not a crash
            result, seconds, error = None, 0.0, f"the Dask task failed: {type(exc).__name__}: {exc}"
        found[i] = ClaimResult(claims[i], result, seconds, error)
        if on_done is not None:
            on_done(found[i])
    return [found[i] for i in range(len(claims))]
