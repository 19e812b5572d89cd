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

A public call's ``timeout=`` bounds the whole call, not each step: the call
opens a ``deadline`` scope, and every budgeted step inside it gets at most
what is left of it (``remaining``), so a check made of several sequential
steps still returns within its budget.  Budgets are clamped to ``MAX_TIMEOUT``
(1e6 s, about 11.6 days): ``timeout=1e12`` means "as long as it takes" in
practice, and the OS's waits overflow for such values.

Bounded calls (those with ``timeout=``) run one at a time in a process (``_CALL_LOCK``): SymPy's evalf and
mpmath keep their working precision in one process-wide global, which two threads
evaluating at once garble for good.  Waiting for the lock counts against the call's
budget; calls side by side belong in processes (``verify --jobs``, Dask).

The SymPy calls that can run unboundedly (``simplify``, ``integrate``,
``limit``, ``solve``, ``summation``) are made through this module only
(``simplify``, ``integrate``, ... below; a CI gate, ``.ci/no_unbudgeted.py``,
keeps it that way), each under the budget it is given.

Pure steps are remembered (``_MEMO``): a budgeted step whose function is SymPy's ``simplify``,
``integrate``, ``summation``, ``limit``, ``cancel`` or ``factor``, or a module-level function
marked with ``pure`` (a deterministic function of its arguments), whose arguments are all SymPy
expressions free of Floats, ints, strings, bools, None or tuples of these, keeps its result when it
finishes in time with a SymPy value (or a tuple of them).  The same step again returns that result
at once, whatever its budget, without forking.  A step that runs out of time or raises is never
remembered, so it is tried afresh next time; a step asked for after its deadline has passed raises
``BudgetExceeded`` whether or not it is remembered.  Floats are left out because Floats of different
precisions compare and hash subtly; randomized steps (the identity test draws its points from the
OS) are not pure and are never marked.  The memo belongs to the process: it holds the last
``MEMO_SIZE`` results, a forked child starts from a copy of its parent's and the parent never sees
what a child adds (the child's result comes back through the pipe and is remembered by the parent).

Cooperative steps run in the caller's process (``cooperative``): a module-level function marked so
bounds its own time for the inputs it accepts (it checks the deadline, ``check_deadline``, at
intervals of bounded work and makes no long C-level call, such as a power of a huge integer, that no
check could interrupt) and raises ``Unbounded`` for any other input, which is then forked as usual.
A fork and its exit cost 10-25 ms of the machine's time from a process of 100-300 MB (the page
tables are copied and torn down, and the child's first writes copy pages), far more than a small
exact identity test takes.

Over 400 lines on purpose: one concept, the one budget helper (deadlines, forked steps, the memo of
pure steps and the budgeted SymPy calls), so that no other module bounds time its own way.
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import functools
import inspect
import multiprocessing as mp
import os
import pickle
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import sympy as sp

from ..errors import SymflowError

__all__ = [
    "MAX_TIMEOUT",
    "SYMPY_GAVE_UP",
    "BudgetExceeded",
    "StepFailed",
    "Unbounded",
    "bounded",
    "check_deadline",
    "cooperative",
    "deadline",
    "default_timeout",
    "expired",
    "in_process",
    "integrate",
    "limit",
    "pure",
    "quiet_fork",
    "remaining",
    "run_with_budget",
    "set_default_timeout",
    "share",
    "simplify",
    "solve",
    "summation",
    "time_left",
]

T = TypeVar("T")

# What SymPy raises when a step has no method for its input (not a bug here, not evidence either way):
# a budgeted symbolic step that ends in one of these is a step that could not be done.
SYMPY_GAVE_UP = (
    NotImplementedError,
    ValueError,
    TypeError,
    ArithmeticError,
    RecursionError,
    sp.polys.polyerrors.BasePolynomialError,
)

_DEFAULT_TIMEOUT = [5.0]
_IN_CHILD = [False]


class Unbounded(Exception):
    """A ``cooperative`` step, run in process, was given an input whose time it cannot bound: fork it."""


class BudgetExceeded(Exception):
    """A budgeted step did not finish within its time budget."""

    def __init__(self, seconds: float, what: str) -> None:
        super().__init__(f"{what} did not finish within its {seconds:g} s budget")
        self.seconds = seconds
        self.what = what


# The longest budget symflow uses (about 11.6 days): larger timeouts are clamped to it.  The OS's waits
# (a pipe's poll, a thread's join) overflow for timeouts near 1e9-1e12 s, and no step needs more.
MAX_TIMEOUT = 1e6


def _seconds(value: object, what: str) -> float:
    """``value`` as a budget in seconds: a positive, finite real number, clamped to ``MAX_TIMEOUT``."""
    if not (isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < float("inf")):
        from ..errors import SymflowError

        raise SymflowError(
            f"{what} must be a positive number of seconds (finite), got {value!r} "
            f"(budgets above {MAX_TIMEOUT:g} s are treated as {MAX_TIMEOUT:g} s)"
        )
    return MAX_TIMEOUT if value > MAX_TIMEOUT else float(value)  # an int beyond a float's range compares exactly


def default_timeout() -> float:
    """The budget, in seconds, used when a call gives no ``timeout=``."""
    return _DEFAULT_TIMEOUT[0]


def set_default_timeout(seconds: float) -> None:
    """Set the global default budget for every symbolic step (seconds, > 0; above ``MAX_TIMEOUT`` = 1e6 s, 1e6 s)."""
    _DEFAULT_TIMEOUT[0] = _seconds(seconds, "timeout")


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
    """The budget for one call: the ``timeout=`` given (at most ``MAX_TIMEOUT`` = 1e6 s), else the global default."""
    if timeout is None:
        return default_timeout()
    return _seconds(timeout, "timeout")


# The end (time.monotonic) of the innermost public call's budget in this thread, if any.
_END: contextvars.ContextVar[float | None] = contextvars.ContextVar("symflow_deadline", default=None)

# Seconds a step is not started with fewer than (it could not do anything useful).
MIN_STEP = 0.05


@contextlib.contextmanager
def deadline(timeout: float | None) -> Iterator[float]:
    """A scope whose budgeted steps together take at most ``timeout`` seconds (default: the global budget).

    Nested scopes never extend an outer one: the earlier end wins.  Yields the
    scope's budget in seconds.
    """
    budget = resolve_timeout(timeout)
    end = time.monotonic() + budget
    outer = _END.get()
    token = _END.set(end if outer is None else min(outer, end))
    try:
        yield budget
    finally:
        _END.reset(token)


def remaining(timeout: float | None = None) -> float:
    """Seconds a step may take: ``timeout`` (default: the global budget), capped by the enclosing deadline."""
    budget = resolve_timeout(timeout)
    end = _END.get()
    return budget if end is None else min(budget, end - time.monotonic())


def bounded(fn: Callable[..., T]) -> Callable[..., T]:
    """Decorator for a public function with a ``timeout=`` keyword: the budget bounds the whole call.

    The call runs inside ``deadline(timeout)``, so every budgeted step in it
    shares one budget (a call nested in another bounded call shares the
    outer one as well).
    """
    signature = inspect.signature(fn)
    if "timeout" not in signature.parameters:
        raise TypeError(f"{fn.__qualname__} has no timeout parameter")
    keyword_only = signature.parameters["timeout"].kind is inspect.Parameter.KEYWORD_ONLY
    # a function's own default (variance_curves' 900 s) bounds a call that gives none; None: the global budget
    default = signature.parameters["timeout"].default
    default = None if default is inspect.Parameter.empty else default

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> T:
        if keyword_only or "timeout" in kwargs:
            timeout = kwargs.get("timeout", default)
        else:  # given by position (mc_check's eighth argument)
            try:
                timeout = signature.bind_partial(*args, **kwargs).arguments.get("timeout", default)
            except TypeError:
                timeout = default  # the call itself reports the wrong arguments
        with deadline(timeout) as budget:
            if _IN_CHILD[0] or _CALL_LOCK_OWNER.get():
                return fn(*args, **kwargs)
            if not _acquire_call_lock():
                raise SymflowError(
                    f"{fn.__qualname__} waited for another thread's symflow call, which held the process "
                    f"until this call's {budget:g} s budget or its own ran out: symflow runs one call at a "
                    "time in a process (SymPy and mpmath keep their working precision in one process-wide "
                    "global, which concurrent calls would garble); call it from one thread (not from a "
                    "function a symflow call is running in another thread), or run calls side by side in "
                    "processes (verify --jobs, Dask)"
                )
            _HOLDER_END[0] = _END.get()
            token = _CALL_LOCK_OWNER.set(True)
            try:
                return fn(*args, **kwargs)
            finally:
                _CALL_LOCK_OWNER.reset(token)
                _HOLDER_END[0] = None
                _CALL_LOCK.release()

    return call


# Public calls run one at a time in a process.  SymPy's evalf and mpmath's functions raise and restore
# mpmath.mp.prec, one process-wide global; two threads doing so at once leave it at the other's value,
# for good (a test that ran a call in two threads at once left it at 3 bits, and every later evalf in
# that process was wrong).  The lock is taken by the outermost public call of a thread (nested calls
# and budgeted steps in a forked child run inside it); waiting for it counts against the call's budget.
_CALL_LOCK = threading.Lock()
_CALL_LOCK_OWNER: contextvars.ContextVar[bool] = contextvars.ContextVar("symflow_call_lock_owner", default=False)
# The end (time.monotonic) of the budget of the call holding the lock.  A waiter gives up when it has
# passed: a holder past its own deadline is blocked, e.g. on a symflow call it made through a thread
# of its own (a sampler handing one to a pool), which would otherwise wait out its whole budget.
_HOLDER_END: list = [None]
# Seconds past its deadline a holder may keep the lock (returning from its last step) before waiters give up.
_HOLDER_GRACE = 1.0


def _acquire_call_lock() -> bool:
    """Take ``_CALL_LOCK`` before the enclosing deadline and before the holder's own deadline ends."""
    own_end = _END.get()
    while True:
        now = time.monotonic()
        wait = own_end - now
        holder_end = _HOLDER_END[0]
        if holder_end is not None:
            wait = min(wait, holder_end + _HOLDER_GRACE - now)
        if wait <= 0:
            return _CALL_LOCK.acquire(blocking=False)
        if _CALL_LOCK.acquire(timeout=min(wait, 0.25)):
            return True


def time_left() -> float | None:
    """Seconds until the enclosing ``deadline`` ends, or None outside any."""
    end = _END.get()
    return None if end is None else end - time.monotonic()


def share(timeout: float | None, fraction: float) -> float:
    """Seconds for an attempt that has a fallback: ``fraction`` of what is left of the enclosing deadline.

    A symbolic integral that quadrature can replace, or an exact moment that
    Monte Carlo can, must not eat the whole call's budget (capped by ``timeout``,
    default the global budget; all of it outside any deadline).
    """
    budget = resolve_timeout(timeout)
    left = time_left()
    return budget if left is None else max(MIN_STEP, min(budget, fraction * left))


def expired() -> bool:
    """Whether the enclosing ``deadline`` has (all but) passed: loops of in-process work stop then."""
    end = _END.get()
    return end is not None and end - time.monotonic() < MIN_STEP


def check_deadline(what: str = "step") -> None:
    """Raise ``BudgetExceeded`` when the enclosing ``deadline`` has passed (for long in-process loops)."""
    if expired():
        raise BudgetExceeded(0.0, what)


def run_with_budget(fn: Callable[..., T], *args: Any, timeout: float, what: str = "step") -> T:
    """Run ``fn(*args)`` and return its result, or raise ``BudgetExceeded``.

    The step gets ``timeout`` seconds, or less when the enclosing ``deadline``
    ends sooner (and none at all when it has passed).  Exceptions raised by
    ``fn`` are re-raised in the caller.  A pure step (SymPy's ``simplify``,
    ``integrate``, ``summation``, ``limit``, ``cancel``, ``factor``, or a
    function marked ``symflow.core.budget.pure``) that finished before with the
    same Float-free arguments returns its remembered result without running
    again (see ``symflow.core.budget``'s docstring; docs/soundness.md).
    """
    if not _IN_CHILD[0]:
        end = _END.get()
        if end is not None:
            left = end - time.monotonic()
            if left < MIN_STEP:  # also for a remembered step: a budget that has run out means the same
                raise BudgetExceeded(timeout, what)
            timeout = min(timeout, left)
    key = _memo_key(fn, args)
    if key is not None:
        found = _memo_get(key)
        if found is not _MISSING:
            return found
    if fn in _COOPERATIVE and not _IN_CHILD[0]:
        started, given = time.monotonic(), timeout
        result = _run_in_process(fn, args, timeout, what)
        if result is not _MISSING:
            return _remembered(key, result)
        timeout -= time.monotonic() - started  # the fork gets what the attempt in process left
        if timeout < MIN_STEP:
            raise BudgetExceeded(given, what)
    if _IN_CHILD[0]:
        result = fn(*args)
    else:
        if "fork" in mp.get_all_start_methods():
            result = _run_forked(fn, args, timeout, what)
        else:
            result = _run_threaded(fn, args, timeout, what)
    return _remembered(key, result)


def _remembered(key: tuple | None, result: T) -> T:
    """``result``, kept in the memo of pure steps under ``key`` when there is one (see the module docstring)."""
    if key is not None and _immutable_result(result):
        _memo_put(key, result)
    return result


# -- remembering pure steps (see the module docstring) -----------------------------------------

# How many step results a process keeps (least recently used dropped first).
MEMO_SIZE = 1024
_MISSING = object()
_MEMO: collections.OrderedDict = collections.OrderedDict()
_MEMO_LOCK = [threading.Lock()]
_PURE: set = {sp.simplify, sp.integrate, sp.summation, sp.limit, sp.cancel, sp.factor}


# -- cooperative steps, run in the caller's process (see the module docstring) ------------------

_COOPERATIVE: set = set()
_IN_PROCESS: contextvars.ContextVar[bool] = contextvars.ContextVar("symflow_in_process", default=False)


def cooperative(fn: Callable[..., T]) -> Callable[..., T]:
    """Mark a module-level function as a step that bounds its own time when run in the caller's process.

    ``run_with_budget`` then calls it in process, inside ``deadline(timeout)``, instead of forking.
    While it runs so, ``in_process()`` is True and the function must (a) call ``check_deadline``
    after every bounded amount of work and (b) raise ``Unbounded`` before any work whose time it
    cannot bound (a long C-level call that no check interrupts, or SymPy work of unknown size); the
    step is then forked.  A cooperative step that returns or raises otherwise is done.
    """
    if "<locals>" in fn.__qualname__:
        raise TypeError(f"{fn.__qualname__} is a closure: only a module-level function can be a cooperative step")
    _COOPERATIVE.add(fn)
    return fn


def in_process() -> bool:
    """Whether the running step is a ``cooperative`` one in the caller's process (it must bound its time)."""
    return _IN_PROCESS.get() and not _IN_CHILD[0]


def _run_in_process(fn: Callable[..., T], args: tuple, timeout: float, what: str) -> Any:
    """``fn(*args)`` in this process within ``timeout`` seconds; ``_MISSING`` when it raised ``Unbounded``."""
    if not timeout > 0:  # a budget already spent (a forked step would time out at once)
        raise BudgetExceeded(timeout, what)
    token = _IN_PROCESS.set(True)
    try:
        with deadline(timeout):
            return fn(*args)
    except Unbounded:
        return _MISSING
    except BudgetExceeded:
        raise BudgetExceeded(timeout, what) from None
    finally:
        _IN_PROCESS.reset(token)


def pure(fn: Callable[..., T]) -> Callable[..., T]:
    """Mark a module-level function as a pure step: its result depends on its arguments only.

    ``run_with_budget`` then remembers its results (see the module docstring).
    Never mark a randomized function, or one that reads mutable global state.
    """
    if "<locals>" in fn.__qualname__:
        raise TypeError(f"{fn.__qualname__} is a closure: only a module-level function can be a pure step")
    _PURE.add(fn)
    return fn


def _plain(value: object) -> bool:
    """Whether ``value`` compares and hashes exactly: SymPy without Floats, int, str, bool, None, tuples."""
    if value is None or isinstance(value, bool | int | str):
        return True
    if isinstance(value, tuple):
        return all(_plain(v) for v in value)
    return isinstance(value, sp.Basic) and not value.has(sp.Float)


def _memo_key(fn: Callable[..., Any], args: tuple) -> tuple | None:
    try:
        if fn not in _PURE or not _plain(args):
            return None
        # the types too: 1, True and Integer(1) are equal and hash alike in Python
        key = (fn, tuple(type(a) for a in args), args)
        hash(key)
    except TypeError:  # an unhashable function or argument
        return None
    return key


def _immutable_result(result: object) -> bool:
    if isinstance(result, tuple):
        return all(_immutable_result(r) for r in result)
    return isinstance(result, sp.Basic)


def _memo_get(key: tuple) -> Any:
    with _MEMO_LOCK[0]:
        found = _MEMO.get(key, _MISSING)
        if found is not _MISSING:
            _MEMO.move_to_end(key)
        return found


def _memo_put(key: tuple, result: Any) -> None:
    with _MEMO_LOCK[0]:
        _MEMO[key] = result
        _MEMO.move_to_end(key)
        while len(_MEMO) > MEMO_SIZE:
            _MEMO.popitem(last=False)


def _fresh_memo_lock() -> None:
    # a thread of the parent may have held the lock at the fork: the child's copy of it would never be released
    _MEMO_LOCK[0] = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_fresh_memo_lock)


# -- SymPy's unbounded calls, each under a budget ---------------------------------------------


def simplify(
    expr: sp.Expr, *, timeout: float | None = None, what: str = "simplify", how: Callable | None = None
) -> sp.Expr:
    """``expr`` simplified within ``timeout`` seconds (default: the global budget), or ``expr`` as given after.

    Simplifying never changes the value, so keeping the raw form is always
    correct; only its size differs.  ``how`` replaces ``sympy.simplify`` (e.g.
    a rewrite chain ending in it).
    """
    try:
        return run_with_budget(how or sp.simplify, expr, timeout=resolve_timeout(timeout), what=what)
    except BudgetExceeded:
        return expr


def integrate(expr: sp.Expr, *limits: Any, timeout: float | None = None, what: str = "symbolic integration") -> sp.Expr:
    """``sympy.integrate(expr, *limits)`` under the budget (``BudgetExceeded`` when it runs out)."""
    return run_with_budget(sp.integrate, expr, *limits, timeout=resolve_timeout(timeout), what=what)


def summation(expr: sp.Expr, *limits: Any, timeout: float | None = None, what: str = "symbolic summation") -> sp.Expr:
    """``sympy.summation(expr, *limits)`` under the budget (``BudgetExceeded`` when it runs out)."""
    return run_with_budget(sp.summation, expr, *limits, timeout=resolve_timeout(timeout), what=what)


def limit(
    expr: sp.Expr, x: sp.Symbol, x0: Any, direction: str = "+-", *, timeout: float | None = None, what: str = "limit"
):
    """``sympy.limit(expr, x, x0, direction)`` under the budget (``BudgetExceeded`` when it runs out)."""
    return run_with_budget(sp.limit, expr, x, x0, direction, timeout=resolve_timeout(timeout), what=what)


def solve(*args: Any, timeout: float | None = None, what: str = "solve", **kwargs: Any):
    """``sympy.solve(*args, **kwargs)`` under the budget (``BudgetExceeded`` when it runs out)."""
    return run_with_budget(functools.partial(sp.solve, **kwargs), *args, timeout=resolve_timeout(timeout), what=what)


class StepFailed(NotImplementedError):
    """A budgeted step whose answer could not come back from its worker process.

    The worker died, or its result or exception could not be pickled (SymPy's
    ``Relational.__bool__`` raises a ``TypeError`` whose message is a lambda).
    A ``NotImplementedError``, so every handler of ``SYMPY_GAVE_UP`` treats it
    as a step that could not be done.
    """


def _picklable_error(exc: BaseException, what: str) -> BaseException:
    """``exc`` itself if it pickles, else the same exception type with its message as text, else ``StepFailed``."""
    try:
        message = str(exc)
    except Exception:  # noqa: BLE001 - a message that cannot even be rendered
        message = type(exc).__name__
    for candidate in (exc, _same_kind(exc, message)):
        if candidate is None:
            continue
        try:
            pickle.loads(pickle.dumps(candidate, protocol=pickle.HIGHEST_PROTOCOL))
        except Exception:  # noqa: BLE001 - any pickling failure: try the plainer form
            continue
        return candidate
    return StepFailed(f"{what} failed with {type(exc).__name__}: {message}")


def _same_kind(exc: BaseException, message: str) -> BaseException | None:
    try:
        return type(exc)(message)
    except Exception:  # noqa: BLE001 - an exception type that needs other arguments
        return None


def _child(conn: Any, fn: Callable[..., Any], args: tuple, what: str = "step") -> None:
    _IN_CHILD[0] = True
    try:
        payload = ("ok", fn(*args))
    except BaseException as exc:  # noqa: BLE001 - every failure must reach the parent
        payload = ("err", _picklable_error(exc, what), traceback.format_exc())
    try:
        data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001 - a result holding a closure: the step could not be done here
        data = pickle.dumps(("err", StepFailed(f"{what}: its result could not be sent back ({exc})"), ""))
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
        proc = ctx.Process(target=_child, args=(send, fn, args, what), daemon=True)
        proc.start()
    send.close()
    try:
        if not recv.poll(timeout):
            raise BudgetExceeded(timeout, what)
        try:
            data = recv.recv_bytes()
        except EOFError:
            raise StepFailed(f"{what}: the worker process died without an answer") from None
    finally:
        recv.close()
        if proc.is_alive():
            proc.kill()
        proc.join()
    try:
        payload = pickle.loads(data)
    except Exception as exc:  # noqa: BLE001 - an exception type that cannot be rebuilt from its pickle
        raise StepFailed(f"{what}: its answer could not be read back ({type(exc).__name__}: {exc})") from None
    if payload[0] == "ok":
        return payload[1]
    if isinstance(payload[1], MemoryError):
        # the step exhausted memory rather than time: a budget of another kind, and just as much "not done"
        raise BudgetExceeded(timeout, f"{what} (it ran out of memory)")
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
