"""Time limits for single numeric evaluations inside the numeric test.

mpmath can spend seconds or minutes on one value (a Meijer G function at
10^5, a hypergeometric series far from its expansion point), and a test that
waits for it spends the whole budget on one point.  Inside the numeric
test, every evaluation runs under ``time_limit``: an interval timer
(``SIGALRM``) interrupts it, and the point counts as out of reach (no
evidence either way).  Timers work in the main thread of a process only,
which is where budgeted steps run (``core.budget`` forks a child for them);
elsewhere, or when another timer is already running, evaluations are not
limited and the caller's budget still bounds the whole test.
"""

from __future__ import annotations

import contextlib
import gc
import signal
import threading
import time
from collections.abc import Iterator

import mpmath

__all__ = ["Clock", "EvaluationTimeout", "time_limit"]


class EvaluationTimeout(Exception):
    """One evaluation ran past its time limit."""


_DEFER = 0.002  # seconds: how soon a timer that fired where it could not raise fires again
_armed = False  # whether a time_limit block of this process is running with its timer set


def _cannot_raise_in(frame) -> bool:
    """Whether ``frame`` runs inside a garbage-collector callback or a finalizer.

    Python reports an exception raised there as "ignored" and goes on: the evaluation would not be
    interrupted, and pytest (warnings as errors) fails whatever test was running.  Hypothesis installs
    such a callback (CI's failure at stop 22 was this timer firing inside it).
    """
    callbacks = {getattr(cb, "__code__", None) for cb in gc.callbacks}
    while frame is not None:
        if frame.f_code in callbacks or frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


def _handler(signum, frame):  # noqa: ARG001 - the signal handler signature
    if not _armed:  # a signal that arrived as its block was ending: neither raise nor re-arm a stray timer
        return
    if _cannot_raise_in(frame):
        signal.setitimer(signal.ITIMER_REAL, _DEFER)  # raise as soon as the callback has returned
        return
    raise EvaluationTimeout


def _can_time() -> bool:
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return False
    return signal.getitimer(signal.ITIMER_REAL)[0] == 0  # never disturb a timer someone else set


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise ``EvaluationTimeout`` inside the block after ``seconds`` (where a timer can be used)."""
    if seconds <= 0:
        raise EvaluationTimeout
    if not _can_time():
        yield
        return
    old = signal.signal(signal.SIGALRM, _handler)
    # The timeout is raised wherever the code is, also between an evalf's raising of mpmath's one global
    # precision and its restoring it: the precision is restored here (the decide_zero fuzzer's case 2589
    # was left at a precision so high that mpmath.mpf("0.37") raised OverflowError).
    prec = mpmath.mp.prec
    global _armed
    _armed = True
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        _armed = False  # first: a deferral inside a gc callback from here on must not leave a timer behind
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
        finally:
            signal.signal(signal.SIGALRM, old)
            mpmath.mp.prec = prec


class Clock:
    """The time left to a numeric test (``until``: a ``time.monotonic`` end, or None for no end)."""

    def __init__(self, until: float | None) -> None:
        self.until = until

    def left(self) -> float:
        return float("inf") if self.until is None else self.until - time.monotonic()

    def per_evaluation(self, cap: float) -> float:
        """The limit for one evaluation: ``cap``, or less when the test's own end is nearer."""
        return min(cap, self.left())
