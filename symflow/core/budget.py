"""Time budgets for symbolic steps.

SymPy's ``simplify``, ``integrate`` and ``limit`` can run for minutes on
innocent-looking input, and pure-Python work cannot be interrupted from
another thread.  So every budgeted step runs in a forked child process that
is killed when its budget runs out; the caller gets ``BudgetExceeded`` and
turns it into an ``unknown`` verdict.  Forking works from any thread, and a
killed child cannot leave the caller hanging.  Steps nested inside a
budgeted step run inline: the outer budget already bounds them.

Where ``fork`` is unavailable (Windows) a daemon thread is used instead; the
caller still returns on time, though the abandoned thread runs on.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import pickle
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

__all__ = ["BudgetExceeded", "default_timeout", "quiet_fork", "run_with_budget", "set_default_timeout"]

T = TypeVar("T")

_DEFAULT_TIMEOUT = [5.0]
_IN_CHILD = [False]


class BudgetExceeded(Exception):
    """A budgeted step did not finish within its time budget."""

    def __init__(self, seconds: float, what: str) -> None:
        super().__init__(f"{what} did not finish within its {seconds:g} s budget")
        self.seconds = seconds
        self.what = what


def default_timeout() -> float:
    """The budget, in seconds, used when a call gives no ``timeout=``."""
    return _DEFAULT_TIMEOUT[0]


def set_default_timeout(seconds: float) -> None:
    """Set the global default budget for every symbolic step (seconds, > 0)."""
    if not (isinstance(seconds, int | float) and seconds > 0):
        from ..errors import SymflowError

        raise SymflowError(f"timeout must be a positive number of seconds, got {seconds!r}")
    _DEFAULT_TIMEOUT[0] = float(seconds)


@contextlib.contextmanager
def timeout_scope(seconds: float) -> Iterator[None]:
    """Temporarily change the default budget (restored on exit)."""
    old = _DEFAULT_TIMEOUT[0]
    set_default_timeout(seconds)
    try:
        yield
    finally:
        _DEFAULT_TIMEOUT[0] = old


def resolve_timeout(timeout: float | None) -> float:
    """The budget for one call: the ``timeout=`` given, else the global default."""
    if timeout is None:
        return default_timeout()
    if not (isinstance(timeout, int | float) and not isinstance(timeout, bool) and timeout > 0):
        from ..errors import SymflowError

        raise SymflowError(f"timeout must be a positive number of seconds, got {timeout!r}")
    return float(timeout)


def run_with_budget(fn: Callable[..., T], *args: Any, timeout: float, what: str = "step") -> T:
    """Run ``fn(*args)`` and return its result, or raise ``BudgetExceeded``.

    Exceptions raised by ``fn`` are re-raised in the caller.
    """
    if _IN_CHILD[0]:
        return fn(*args)
    if "fork" in mp.get_all_start_methods():
        return _run_forked(fn, args, timeout, what)
    return _run_threaded(fn, args, timeout, what)


def _child(conn: Any, fn: Callable[..., Any], args: tuple) -> None:
    _IN_CHILD[0] = True
    try:
        payload = ("ok", fn(*args))
    except BaseException as exc:  # noqa: BLE001 - every failure must reach the parent
        payload = ("err", exc, traceback.format_exc())
    try:
        data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001
        data = pickle.dumps(("err", RuntimeError(f"result could not be pickled: {exc}"), ""))
    try:
        conn.send_bytes(data)
    finally:
        conn.close()
        os._exit(0)


@contextlib.contextmanager
def quiet_fork():
    """Silence the warnings about fork() in a threaded process, for children that never run threads' code.

    Python >= 3.12 warns (DeprecationWarning) and JAX, an optional backend, warns at
    every fork once its threads run (RuntimeWarning); symflow's children run SymPy
    work or claims only.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called", category=RuntimeWarning)
        yield


def _run_forked(fn: Callable[..., T], args: tuple, timeout: float, what: str) -> T:
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    with quiet_fork():  # the child runs pure-Python SymPy work and is killed on timeout
        proc = ctx.Process(target=_child, args=(send, fn, args), daemon=True)
        proc.start()
    send.close()
    try:
        if not recv.poll(timeout):
            raise BudgetExceeded(timeout, what)
        try:
            data = recv.recv_bytes()
        except EOFError:
            raise RuntimeError(f"{what}: the worker process died without an answer") from None
    finally:
        recv.close()
        if proc.is_alive():
            proc.kill()
        proc.join()
    payload = pickle.loads(data)
    if payload[0] == "ok":
        return payload[1]
    raise payload[1]


def _run_threaded(fn: Callable[..., T], args: tuple, timeout: float, what: str) -> T:
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["ok"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001
            box["err"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise BudgetExceeded(timeout, what)
    if "err" in box:
        raise box["err"]
    return box["ok"]
