"""Time budgets: every symbolic step returns on time, from any thread."""

import threading
import time

import pytest
import sympy as sp

import symflow as sf
from symflow.core.budget import BudgetExceeded, run_with_budget, timeout_scope
from tests._cases import normal, sigma
from tests._slow_calls import SLOW_CALLS, public_functions_with_timeout


def _sleep_forever():
    while True:
        time.sleep(0.01)


def _boom():
    raise KeyError("inner")


def test_budget_interrupts_a_step():
    with pytest.raises(BudgetExceeded, match="budget"):
        run_with_budget(_sleep_forever, timeout=0.3, what="sleep")


def test_budget_reraises_exceptions_and_returns_results():
    with pytest.raises(KeyError):
        run_with_budget(_boom, timeout=5)
    assert run_with_budget(sp.factor, sp.Symbol("z") ** 2 - 1, timeout=5) == sp.factor(sp.Symbol("z") ** 2 - 1)


def test_budget_works_from_a_thread():
    out = {}

    def worker():
        try:
            run_with_budget(_sleep_forever, timeout=0.3)
        except BudgetExceeded as exc:
            out["exc"] = exc

    t = threading.Thread(target=worker)
    t.start()
    t.join(20)
    assert not t.is_alive() and isinstance(out["exc"], BudgetExceeded)


def test_check_with_tiny_budget_is_unknown_not_a_hang():
    # Integration of this density cannot finish in 1 ms: the verdict must say unknown, with the reason.
    p = normal()
    v = sf.check_unbiased(sf.derive(p, sf.flows.zero(p), sigma), sp.Symbol("x", real=True) ** 2, timeout=0.001)
    assert v.status == "unknown" and "budget" in v.reason


def test_a_call_that_waits_its_whole_budget_for_another_thread_says_so():
    started = threading.Event()
    p = normal()
    flow = sf.flows.reparam(p)
    hard = SLOW_CALLS["decide_zero"]()  # runs its whole budget

    def long_call():
        started.set()
        hard(4.0)

    t = threading.Thread(target=long_call)
    t.start()
    started.wait(10)
    time.sleep(0.3)
    begin = time.monotonic()
    with pytest.raises(sf.SymflowError, match="another thread's symflow call"):
        sf.check_transport(p, flow, sigma, timeout=0.5)
    assert time.monotonic() - begin <= 0.5 + 2.0
    t.join(60)


def test_a_call_made_through_a_users_thread_from_inside_a_call_is_bounded_by_the_outer_budget():
    # review: a sampler handing a symflow call to its own thread pool deadlocked on the process lock
    # (held by mc_check); the inner call waited its whole default budget, twice: 10.1 s at timeout=3
    import concurrent.futures as cf

    x, mu = sp.Symbol("x", real=True), sp.Symbol("mu", real=True)
    pool = cf.ThreadPoolExecutor(1)

    def helper():
        try:
            return sf.decide_zero(sp.exp(x) * sp.exp(-x) - 1, sf.Domain().extended({x}), timeout=30).status
        except sf.SymflowError as exc:
            return str(exc)

    def sampler(n, params, rng):
        pool.submit(helper).result()
        return (params[mu] + rng.standard_normal(n)).reshape(n, 1)

    p = sf.Density(sp.exp(-((x - mu) ** 2) / 2) / sp.sqrt(2 * sp.pi), x, (mu,), sampler=sampler)
    est = sf.derive(p, sf.flows.zero(p), wrt=mu)
    start = time.monotonic()
    sf.mc_check(est, x**2, {mu: 0.5}, n=8192, chunk=4096, seed=0, timeout=3, workers=1)
    assert time.monotonic() - start <= 3 + 2.0
    pool.shutdown()


def test_default_timeout_is_settable_and_validated():
    old = sf.default_timeout()
    with timeout_scope(2.5):
        assert sf.default_timeout() == 2.5
    assert sf.default_timeout() == old
    with pytest.raises(sf.SymflowError):
        sf.set_default_timeout(0)


# -- issue 12, class 8: timeout= bounds the wall-clock of the whole public call ------------------------

# 0.5 s (it was 2 s, then 1 s): every slow input runs far longer than any of these without a budget
# (tests/_slow_calls.py), so the bound is exercised the same, the same 2 s of slack is allowed, and the 56 calls
# (each twice) burn 56 s less of the suite's CPU.
BOUND_TIMEOUT = 0.5
BOUND_SLACK = 2.0  # the bound: timeout + 2 s (an upper bound only; never a speed assertion)


def test_every_public_function_with_a_timeout_has_a_slow_input():
    assert set(public_functions_with_timeout()) == set(SLOW_CALLS)


def test_bounded_reads_a_timeout_given_by_position():
    from symflow.core.budget import bounded, time_left

    @bounded
    def f(a, timeout=None):
        return time_left()

    assert f(1, 0.5) <= 0.5 and f(1, timeout=0.5) <= 0.5 and f(1) > 0.5


def test_bounded_uses_the_functions_own_default_timeout():
    # theorem_grp_trace_identity (120 s) and variance_curves (900 s) bound the whole call by their own default
    from symflow.core.budget import bounded, time_left

    @bounded
    def f(a, *, timeout=0.5):
        return time_left()

    @bounded
    def g(a, timeout=300.0):
        return time_left()

    assert f(1) <= 0.5 and 200 < g(1) <= 300 and g(1, 0.5) <= 0.5


def _timed(name: str) -> float:
    call = SLOW_CALLS[name]()  # inputs built outside the timed call
    start = time.monotonic()
    try:
        call(BOUND_TIMEOUT)
    except sf.SymflowError:
        pass  # "could not within the budget", with the fix named, is an allowed answer; the time is what counts
    return time.monotonic() - start


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SLOW_CALLS))
def test_timeout_bounds_the_whole_call_in_the_main_thread_and_in_a_worker(name):
    # the same call in a worker thread, then in the main thread: each is bounded on its own (one after
    # the other: symflow runs one call at a time in a process, see test_soundness's many-threads test)
    out: dict = {}

    def worker():
        try:
            out["seconds"] = _timed(name)
        except BaseException as exc:  # noqa: BLE001 - reported below
            out["error"] = exc

    t = threading.Thread(target=worker)
    t.start()
    t.join(BOUND_TIMEOUT + BOUND_SLACK + 60)
    main = _timed(name)
    assert main <= BOUND_TIMEOUT + BOUND_SLACK
    assert not t.is_alive() and "error" not in out, out.get("error")
    assert out["seconds"] <= BOUND_TIMEOUT + BOUND_SLACK


def test_sympy_recursion_in_a_budgeted_step_means_it_gave_up(monkeypatch):
    # SymPy's limit of the Pareto antiderivative raised RecursionError in the budgeted child, and
    # check_normalized re-raised it; a step with a fallback treats it as "SymPy gave up".
    from symflow.checks import records

    def recursing(*args, **kw):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(records.budgets, "limit", recursing)
    a, b = sp.symbols("a b", positive=True)
    x = sp.Symbol("x", real=True)
    pareto = sf.Density(b * a**b / x ** (b + 1), x, (a, b), support=sp.Interval(a, sp.oo))
    assert sf.check_normalized(pareto, timeout=20).status == "proved"


# -- the memo of pure steps ---------------------------------------------------------------------


@pytest.fixture
def forks(monkeypatch):
    """Count the steps that fork, on an empty memo (restored after the test)."""
    from symflow.core import budget

    count = [0]
    real = budget._run_forked

    def counting(*args):
        count[0] += 1
        return real(*args)

    monkeypatch.setattr(budget, "_run_forked", counting)
    monkeypatch.setattr(budget, "_MEMO", type(budget._MEMO)())
    return count


def _slow_square(e, seconds):
    """A pure step in the test's sense: its value depends on its arguments only; it just takes ``seconds``."""
    time.sleep(int(seconds))
    return e**2


def _failing(e):
    raise ValueError("no method")


def test_a_repeated_pure_step_does_not_fork_again(forks):
    x = sp.Symbol("x", real=True)
    e = sp.sin(x) ** 2 + sp.cos(x) ** 2 + x
    assert sf.core.budget.simplify(e) == x + 1
    assert sf.core.budget.simplify(e) == x + 1
    assert sf.core.budget.simplify(e + 0) == x + 1  # the same expression, built anew
    assert forks[0] == 1
    # another expression, another fork; a closure (not pure) forks every time
    assert sf.core.budget.simplify(e + 1) == x + 2
    assert forks[0] == 2
    assert run_with_budget(lambda: 1, timeout=5) == 1 and run_with_budget(lambda: 1, timeout=5) == 1
    assert forks[0] == 4


def test_floats_and_unhashable_arguments_are_not_remembered(forks):
    x = sp.Symbol("x", real=True)
    half = sp.Float(0.5) * x
    assert sf.core.budget.simplify(half) == half and sf.core.budget.simplify(half) == half
    assert forks[0] == 2
    # Floats of different precisions compare and hash subtly: never a key
    wide = sp.Float("0.5", 50) * x
    assert sf.core.budget.simplify(wide) == wide and forks[0] == 3


def test_a_timed_out_or_failed_step_is_not_remembered(forks, monkeypatch):
    from symflow.core import budget

    monkeypatch.setattr(budget, "_PURE", budget._PURE | {_slow_square, _failing})
    y = sp.Symbol("y")
    with pytest.raises(BudgetExceeded):
        run_with_budget(_slow_square, y, sp.Integer(2), timeout=0.3)
    # the same step with time enough runs again (it was not remembered) and is remembered then
    assert run_with_budget(_slow_square, y, sp.Integer(2), timeout=30) == y**2
    assert run_with_budget(_slow_square, y, sp.Integer(2), timeout=0.3) == y**2
    assert forks[0] == 2
    for _ in range(2):
        with pytest.raises(ValueError):
            run_with_budget(_failing, y, timeout=5)
    assert forks[0] == 4
    # a remembered step asked for after its deadline has passed: the budget has run out all the same
    with sf.core.budget.deadline(0.01):
        time.sleep(0.05)
        with pytest.raises(BudgetExceeded):
            run_with_budget(_slow_square, y, sp.Integer(2), timeout=5)


def test_the_memo_is_bounded_and_only_module_level_functions_are_pure(forks, monkeypatch):
    from symflow.core import budget

    monkeypatch.setattr(budget, "MEMO_SIZE", 2)
    z = sp.Symbol("z")
    for k in range(4):
        budget.simplify(z + k)
    assert len(budget._MEMO) == 2 and forks[0] == 4
    budget.simplify(z + 3)  # the most recent is still there
    assert forks[0] == 4
    budget.simplify(z + 0)  # the oldest was dropped
    assert forks[0] == 5
    with pytest.raises(TypeError, match="closure"):
        budget.pure(lambda e: e)


# -- cooperative steps run in the caller's process (core.budget.cooperative) ----------------------

_COOPERATIVE_PIDS: list = []


def _cooperative_probe(n):
    """Records where it ran and whether it was told so; refuses (Unbounded) n above 10; loops on n = 0."""
    import os

    from symflow.core import budget

    _COOPERATIVE_PIDS.append(os.getpid())
    if n > 10 and budget.in_process():
        raise budget.Unbounded("too big to bound")
    while n == 0:
        budget.check_deadline("probe")
    return sp.Integer(n) ** 2, budget.in_process(), os.getpid()


def test_a_cooperative_step_runs_in_process_unless_it_says_it_cannot_bound_its_input(forks, monkeypatch):
    import os

    from symflow.core import budget

    monkeypatch.setattr(budget, "_COOPERATIVE", budget._COOPERATIVE | {_cooperative_probe})
    assert run_with_budget(_cooperative_probe, 3, timeout=5) == (9, True, os.getpid())
    assert forks[0] == 0
    # Unbounded in process: run again in a forked child, where it is not "in process" and does the work
    value, told, pid = run_with_budget(_cooperative_probe, 12, timeout=5)
    assert (value, told) == (144, False) and pid != os.getpid() and forks[0] == 1
    assert not budget.in_process()  # outside the step again


def _slow_then_unbounded(seconds):
    """Spends ``seconds`` in process before finding it cannot bound its input; returns at once in a child."""
    from symflow.core import budget

    if budget.in_process():
        time.sleep(seconds)
        raise budget.Unbounded("found late")
    return sp.Integer(1)


def test_a_cooperative_step_forked_after_its_attempt_in_process_gets_only_the_time_left(monkeypatch):
    from symflow.core import budget

    monkeypatch.setattr(budget, "_COOPERATIVE", budget._COOPERATIVE | {_slow_then_unbounded})
    given = []
    real = budget._run_forked
    monkeypatch.setattr(budget, "_run_forked", lambda fn, args, t, what: given.append(t) or real(fn, args, t, what))
    assert run_with_budget(_slow_then_unbounded, 0.3, timeout=5) == 1
    assert len(given) == 1 and given[0] <= 5 - 0.3
    # nothing left after the attempt: out of budget, without a fork
    with pytest.raises(BudgetExceeded, match="within its 0.3 s budget"):
        run_with_budget(_slow_then_unbounded, 0.3, timeout=0.3)
    assert len(given) == 1


def test_a_cooperative_step_that_checks_the_deadline_returns_within_its_budget(forks, monkeypatch):
    from symflow.core import budget

    monkeypatch.setattr(budget, "_COOPERATIVE", budget._COOPERATIVE | {_cooperative_probe})
    start = time.monotonic()
    with pytest.raises(BudgetExceeded, match="probe did not finish within its 0.3 s budget"):
        run_with_budget(_cooperative_probe, 0, timeout=0.3, what="probe")
    assert time.monotonic() - start < 0.3 + 2.0 and forks[0] == 0
    # and an enclosing deadline shorter than the step's own budget ends it sooner
    with budget.deadline(0.2), pytest.raises(BudgetExceeded):
        run_with_budget(_cooperative_probe, 0, timeout=30, what="probe")
    with pytest.raises(TypeError, match="closure"):
        budget.cooperative(lambda e: e)


def test_the_identity_test_runs_in_process_when_its_values_are_small_and_forks_otherwise(forks):
    from symflow.zero.polynomial import MAX_IN_PROCESS_BITS, polynomial_identity_test

    x, y = sp.symbols("x y")

    def planted(k):  # identically zero, of degree 2k, not cancelled by SymPy's constructors
        return (x * y + 1) ** k - (x * y + 1) ** (k - 1) * (x * y) - (x * y + 1) ** (k - 1)

    assert run_with_budget(polynomial_identity_test, planted(20), timeout=10).zero
    assert forks[0] == 0
    # degree 1200 in 133-bit points: values far above MAX_IN_PROCESS_BITS, so the test is forked, same answer
    assert 1200 * 133 > MAX_IN_PROCESS_BITS
    assert run_with_budget(polynomial_identity_test, planted(600), timeout=30).zero
    assert forks[0] == 1
    # a nonzero one in process: the witness is exact
    res = run_with_budget(polynomial_identity_test, planted(20) + x - y, timeout=10)
    assert not res.zero and res.value == res.point[x] - res.point[y] and forks[0] == 1
    # an exponent whose expansion may have C(28, 3) + 1 = 3277 terms is not expanded in process: forked
    power = (x + y + 1 + x * y) ** 25
    residual = sp.exp(power) * sp.exp(x) - sp.exp(power + x)
    assert residual != 0 and forks[0] == 1
    run_with_budget(polynomial_identity_test, residual, timeout=30)
    assert forks[0] == 2
