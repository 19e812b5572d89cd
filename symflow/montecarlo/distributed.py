"""``mc_check``'s chunks as Dask tasks: the same chunks, seeds and merge order as the local thread pool.

``ordered_map_dask(client, fn, count)`` is the drop-in for ``stream.ordered_map``: it yields
``(k, fn(k), seconds)`` for k = 0..count-1 *in order*, computing them on the workers of a
``distributed.Client``.  ``fn`` (the chunk function, with the compiled estimator, the density and
the root ``SeedSequence`` inside it) is sent to every worker once (``client.scatter``, broadcast)
and chunk k still seeds its generator with child k of the root.  The caller merges the per-chunk
summaries in chunk order, exactly as it does locally, so a seeded run gives the same bits on one
thread, on two, or on any number of Dask workers (on machines whose numpy gives the same bits;
see docs/scaling.md).

Chunks are sent in batches of consecutive indices (one task per batch keeps the scheduler's
per-task cost small), each task returning its chunks' summaries as a list; at most
``4 x workers`` batches are in flight, so the client holds a bounded number of summaries.
This module never imports Dask: it calls the client it is given.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from ..core.budget import BudgetExceeded
from ..errors import SymflowError

__all__ = ["check_client", "ordered_map_dask"]

# What a Dask future's result(timeout=) raises when the time is up (one class from Python 3.11 on).
_TIMEOUTS = (TimeoutError, asyncio.TimeoutError, concurrent.futures.TimeoutError)

# Batches per worker in flight (keeps every worker busy while the client merges in order).
IN_FLIGHT_PER_WORKER = 4
# Aim for this many batches per worker over a run (many chunks per task, but still a balanced queue).
BATCHES_PER_WORKER = 16
# Chunks per batch at most under a time budget (what has finished when it runs out is reported).
BUDGETED_BATCH = 4


def check_client(client: Any) -> Any:
    """``client`` if it looks like a ``distributed.Client``, else a ``SymflowError`` naming the fix."""
    if not all(hasattr(client, name) for name in ("submit", "scatter", "scheduler_info")):
        raise SymflowError(
            f"client must be a dask.distributed Client, got {type(client).__name__}; e.g. "
            'from dask.distributed import Client; client = Client("tcp://scheduler:8786") '
            '(pip install "symflow[dask]")'
        )
    status = str(getattr(client, "status", "running"))
    if status in ("closing", "closed"):
        # a closed Client keeps its methods but not its scheduler: scatter failed on None
        raise SymflowError(
            f"the Dask client is {status}; pass an open one, e.g. client = Client(cluster) or "
            'Client("tcp://scheduler:8786"), and close it after mc_check returns'
        )
    return client


def _run_batch(fn: Callable[[int], Any], start: int, stop: int) -> list:  # pragma: no cover - runs on a worker
    return [fn(k) for k in range(start, stop)]


def _worker_count(client: Any) -> int:
    try:
        return max(1, len(client.scheduler_info().get("workers", {})))
    except Exception:  # noqa: BLE001 - an unreachable scheduler fails below with Dask's own message
        return 1


def ordered_map_dask(
    client: Any, fn: Callable[[int], Any], count: int, seconds_left: Callable[[], float | None] | None = None
) -> Iterator[tuple[int, Any, float]]:
    """Yield ``(k, fn(k), seconds since start)`` for k = 0..count-1 in order, computed on ``client``'s workers.

    ``seconds_left`` (a budget's remaining time, None when unbounded) makes the wait for a
    batch raise ``BudgetExceeded`` when the budget runs out, as ``stream.ordered_map`` does;
    the batches still pending are cancelled on the cluster.
    """
    check_client(client)
    start = time.perf_counter()
    workers = _worker_count(client)
    size = max(1, -(-count // (BATCHES_PER_WORKER * workers)))
    if seconds_left is not None:
        size = min(size, BUDGETED_BATCH)  # a budget that runs out keeps the batches that finished by then
    batches = [(lo, min(count, lo + size)) for lo in range(0, count, size)]
    # hash=False: the function is not tokenized (a closure over compiled code); one copy per worker.
    remote = client.scatter(fn, broadcast=True, hash=False)
    pending: deque = deque()
    submitted = 0
    try:
        for lo, hi in batches:
            while submitted < len(batches) and len(pending) < IN_FLIGHT_PER_WORKER * workers:
                b_lo, b_hi = batches[submitted]
                pending.append(client.submit(_run_batch, remote, b_lo, b_hi, pure=False))
                submitted += 1
            future = pending.popleft()
            left = seconds_left() if seconds_left is not None else None
            if left is not None and left <= 0:
                pending.appendleft(future)
                raise BudgetExceeded(0.0, f"sampling (after {lo} of {count} chunks)")
            try:
                values = future.result(timeout=left)
            except _TIMEOUTS:
                pending.appendleft(future)
                raise BudgetExceeded(0.0, f"sampling (after {lo} of {count} chunks)") from None
            future.release()
            for k, value in zip(range(lo, hi), values, strict=True):
                yield k, value, time.perf_counter() - start
    finally:
        for future in pending:
            future.cancel()
        remote.release()
