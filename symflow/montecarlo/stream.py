"""Streaming machinery for ``mc_check``: per-chunk seeds, mergeable moments, an ordered thread pool, progress.

Chunk k always draws from its own generator, seeded by child k of the run's ``SeedSequence``
(the same child ``SeedSequence(seed).spawn(K)[k]`` gives), and the per-chunk results are
merged in chunk order.  So a seeded run gives bit-identical results whatever the number of
workers and whatever order the threads finish in; only ``chunk`` (which decides which
generator draws which sample) changes the samples.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass

import numpy as np

from ..core.budget import BudgetExceeded
from .tails import TailBuffer, block_extremes

__all__ = ["PROGRESS_AFTER_SECONDS", "Moments", "PartStats", "chunk_seed", "ordered_map", "part_stats", "want_progress"]

# Auto progress: a bar only when the run is expected to take longer than this.
PROGRESS_AFTER_SECONDS = 2.0


def chunk_seed(root: np.random.SeedSequence, k: int) -> np.random.SeedSequence:
    """Child k of ``root`` without spawning children 0..k-1 first (= ``root.spawn(K)[k]`` on a fresh root)."""
    return np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, k), pool_size=root.pool_size)


@dataclass(frozen=True)
class PartStats:
    """One chunk's summary of one sampled part (the main estimator or one extra term)."""

    count: int
    mean: float
    m2: float
    nonfinite: int
    highs: np.ndarray
    lows: np.ndarray


def part_stats(values: np.ndarray, block: int, keep: int, scratch: bool = False) -> PartStats:
    """Count, mean, sum of squared deviations and block extremes of one chunk's finite values.

    ``scratch=True`` lets the squared deviations overwrite ``values`` (the caller's array is not
    used again), which saves one allocation (and its page faults) per chunk.
    """
    total = float(values.sum())
    nonfinite = 0
    # The sum is finite => every value is finite (nan and inf propagate) => skip the isfinite pass.
    if not math.isfinite(total):
        finite = np.isfinite(values)
        nonfinite = int(values.size - np.count_nonzero(finite))
        if nonfinite:
            values = values[finite]  # a copy => ours to overwrite
            scratch = True
            total = float(values.sum())
    m = values.size
    if m == 0:
        empty = np.empty(0)
        return PartStats(0, 0.0, 0.0, nonfinite, empty, empty)
    mean = total / m
    highs, lows = block_extremes(values, block, keep)
    # Two passes (deviations, then their squares), not sum(v^2) - m mean^2: a (near-)constant estimator
    # must give a variance of (nearly) 0, not cancellation noise.  By ufuncs: np.dot would start a
    # multi-threaded BLAS inside our worker threads.
    if scratch and values.flags.writeable and values.dtype == np.float64:
        dev = np.subtract(values, mean, out=values)
    else:
        dev = values - mean
    np.multiply(dev, dev, out=dev)
    return PartStats(m, mean, float(dev.sum()), nonfinite, highs, lows)


class Moments:
    """Running count, mean and sum of squared deviations, merged chunk by chunk (Chan et al.).

    Merging whole chunks keeps the variance accurate for any n without holding more than one
    chunk in memory; merging in chunk order makes the floating-point result reproducible.
    """

    def __init__(self, keep: int) -> None:
        self.count = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.nonfinite = 0
        self.tail = TailBuffer(keep)

    def merge(self, part: PartStats) -> None:
        self.nonfinite += part.nonfinite
        if part.count == 0:
            return
        total = self.count + part.count
        step = part.mean - self.mean
        self.mean += step * part.count / total
        self.m2 += part.m2 + step * step * self.count * part.count / total
        self.count = total
        self.tail.add(part.highs, part.lows)

    def variance_of_mean(self) -> float:
        if self.count < 2:
            return math.nan
        return self.m2 / (self.count - 1) / self.count

    def tail_index(self) -> float | None:
        return self.tail.tail_index(self.mean, self.count) if self.count else None

    def outlier_share(self) -> float:
        """The share of the sum of squared deviations held by the most extreme value (0 for a constant)."""
        if self.count < 2 or not self.m2 > 0:
            return 0.0
        return min(1.0, self.tail.largest_deviation(self.mean) ** 2 / self.m2)


def ordered_map(
    fn: Callable[[int], object], count: int, workers: int, seconds_left: Callable[[], float | None] | None = None
) -> Iterator[tuple[int, object, float]]:
    """Yield ``(k, fn(k), seconds since start)`` for k = 0..count-1 in order, computed by ``workers`` threads.

    At most 2 * workers chunks are in flight, so memory stays bounded by a few chunks; an
    exception in any chunk cancels the ones not started and propagates.  ``seconds_left``
    (a budget's remaining time, None when unbounded) makes the wait for a chunk raise
    ``BudgetExceeded`` when the budget runs out: chunks then run in threads even for one
    worker, so the caller returns on time (a chunk already running is abandoned and
    finishes in the background).
    """
    start = time.perf_counter()
    if workers == 1 and seconds_left is None:
        for k in range(count):
            yield k, fn(k), time.perf_counter() - start
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="symflow-mc")
    pending: deque[Future] = deque()
    submitted = 0
    abandoned = False
    try:
        for k in range(count):
            while submitted < count and len(pending) < 2 * workers:
                pending.append(pool.submit(fn, submitted))
                submitted += 1
            left = seconds_left() if seconds_left is not None else None
            if left is not None and left <= 0:
                abandoned = True
                raise BudgetExceeded(0.0, f"sampling (after {k} of {count} chunks)")
            try:
                value = pending.popleft().result(timeout=left)
            except FuturesTimeout:
                abandoned = True
                raise BudgetExceeded(0.0, f"sampling (after {k} of {count} chunks)") from None
            yield k, value, time.perf_counter() - start
    finally:
        for future in pending:
            future.cancel()
        # a budget that ran out must not wait for the chunk still running (it cannot be interrupted)
        pool.shutdown(wait=not abandoned, cancel_futures=True)


def want_progress(progress: bool | None, expected_seconds: float, stream: object = None) -> bool:
    """Show a bar?  ``progress`` True/False forces it; None shows it on a terminal for a long run, never under CI."""
    if progress is not None:
        return progress
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    try:
        on_terminal = bool(isatty()) if isatty is not None else False
    except (ValueError, OSError):  # a closed or detached stream
        on_terminal = False
    return on_terminal and not os.environ.get("CI") and expected_seconds > PROGRESS_AFTER_SECONDS


def progress_bar(total: int, done: int):
    """A tqdm bar on stderr counting samples (tqdm imported here: only runs that show a bar pay for it)."""
    from tqdm import tqdm

    return tqdm(total=total, initial=done, unit="sample", unit_scale=True, desc="mc_check", file=sys.stderr)
