"""Evaluate an elementwise function over row blocks on a persistent pool of threads.

numpy's ufuncs release the GIL => row blocks evaluated on separate threads run on separate
cores.  Elementwise code => every output element is computed by the same operations as in one
whole-array call, so the result is bit-for-bit the single-threaded one.

Why blocks of ``BLOCK_ROWS`` inside each thread's share, not one call per share: a call on a
share allocates temporaries of the share's size (megabytes: fresh pages, page faults, a trip
through the last-level cache); on blocks of 16384 rows the temporaries are 128 KiB, stay in
the core's L2 cache and are reused by the allocator.  Blocks are claimed dynamically, not
split in fixed shares => on a busy machine a thread that gets no core takes no block, and the
call is never held up waiting for it.  The pool outlives the call => no thread start-up per
call (starting two threads cost about 0.1 ms, more than a whole small input).
"""

from __future__ import annotations

import contextvars
import itertools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["BLOCK_ROWS", "MIN_ROWS_PER_THREAD", "Chooser", "cpu_count", "evaluate_rows"]

# Below this many rows per thread, handing work to another thread costs more than it saves.
MIN_ROWS_PER_THREAD = 2**16
# Rows per call of the generated function inside a thread's share (temporaries fit in L2).
BLOCK_ROWS = 2**14

_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def cpu_count() -> int:
    """The cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _executor(workers: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < workers:
            old = _pool
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="symflow-rows")
            _pool_size = workers
            if old is not None:
                old.shutdown(wait=False)
        return _pool


def _forget_pool_after_fork() -> None:
    # A forked child has none of the parent's threads => the parent's pool would wait forever.
    global _pool, _pool_size
    _pool, _pool_size = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def evaluate_rows(block: Callable[[int, int], np.ndarray], n: int, threads: int) -> np.ndarray | None:
    """``out[lo:hi] = block(lo, hi)`` over all n rows, on up to ``threads`` threads.

    Returns None when the input is too small to split (fewer than 2 * ``MIN_ROWS_PER_THREAD``
    rows, or ``threads`` is 1): the caller then makes its one plain whole-array call, so
    small inputs pay nothing for threads.  ``block`` must be elementwise over rows.

    Blocks are handed out dynamically: the calling thread and the pool's workers each take
    the next unclaimed block until none is left.  A worker that does not get a core (a busy
    machine) claims nothing and costs nothing: the caller then evaluates every block itself
    and waits only for blocks another thread has actually claimed.
    """
    parts = min(threads, n // MIN_ROWS_PER_THREAD)
    if parts <= 1:
        return None
    out = np.empty(n)
    starts = range(0, n, BLOCK_ROWS)
    claim = itertools.count()  # next() on a count is atomic under the GIL => each block is taken once
    lock = threading.Lock()
    finished = threading.Event()
    state = {"done": 0, "error": None}

    def work() -> None:
        while state["error"] is None and (k := next(claim)) < len(starts):
            start = starts[k]
            try:
                out[start : start + BLOCK_ROWS] = block(start, min(start + BLOCK_ROWS, n))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread below
                with lock:
                    state["error"] = state["error"] or exc
                finished.set()
                return
            with lock:
                state["done"] += 1
                if state["done"] == len(starts):
                    finished.set()

    pool = _executor(parts - 1)
    for _ in range(parts - 1):
        # Each worker runs in a copy of the caller's context => np.errstate and friends carry over.
        pool.submit(contextvars.copy_context().run, work)
    work()
    finished.wait()
    if state["error"] is not None:
        raise state["error"]
    return out


class Chooser:
    """Pick, for one compiled function, the plain call or row blocks on threads, by timing its calls.

    Both give the same bits => the choice only affects speed, so it is safe to make it from
    measurements: a second core pays when it is idle, but on a machine whose other processes
    keep both cores busy (or saturate memory bandwidth) the threads measured 10-50 % slower
    than the plain call.  The first two large calls try each way; afterwards the faster one
    (by an exponentially weighted average of seconds per row) is used, and every
    ``PROBE_EVERY``-th call tries the other, so a change in the machine's load is noticed.
    """

    PROBE_EVERY = 16

    def __init__(self) -> None:
        self.cost: dict[bool, float | None] = {False: None, True: None}  # threaded? -> seconds per row
        self.calls = 0

    def threaded(self) -> bool:
        """Whether the next large call should use threads."""
        self.calls += 1
        plain, threads = self.cost[False], self.cost[True]
        if threads is None or plain is None:
            return threads is None
        best = threads <= plain
        return (not best) if self.calls % self.PROBE_EVERY == 0 else best

    def record(self, threaded: bool, seconds: float, n: int) -> None:
        per_row = seconds / max(n, 1)
        old = self.cost[threaded]
        self.cost[threaded] = per_row if old is None else 0.5 * old + 0.5 * per_row
