"""Never hang, never crash (issue 7): pathological SymPy inputs and huge or deep expressions.

Each known-pathological input comes back from ``decide_zero`` (and from a check
built on it) as ``unknown`` or a correct verdict within its budget + 2 s, from
the main thread and from a worker thread.  Inputs, from SymPy's tracker:

* #21528  simplify(Eq(-sqrt(x + 10) + sqrt(x - 2), 2 sqrt(x + 7))) does not terminate;
* #26453  simplify of a trigonometric, surd expression in conjugates hangs;
* #21787  simplify(40 (x + 5)^3 cos(10 (x + 5)^4)) hangs (futrig expands it);
* #17780  trigsimp(sin((x + 1)^9)) never finishes;
* #9032   simplify(sin(64 x)/sqrt(cos(64 x))) takes exponential time in the 64;
* #15873, #17511  is_zero answers False for expressions that are 0.

Multiplying a hanging input by sin^2 + cos^2 - 1 makes a residual that *is* zero
but that only simplify could prove, so the engine has to wait on the hang and
give up in time.  Wall-clock bounds here are generous (budget + 2 s, the issue's
bound) and only fail on a real hang.
"""

import threading
import time

import pytest
import sympy as sp

import symflow as sf
from symflow.core.domain import Domain, Interval1D
from symflow.zero import decide_zero

# Long-running: deselected by the fast tier (pytest -m "not slow"); CI runs everything.
pytestmark = pytest.mark.slow

x = sp.Symbol("x", real=True)
w, y = sp.symbols("w y")
z = sp.Symbol("z")
ONE = sp.sin(x) ** 2 + sp.cos(x) ** 2
BUDGET = 3.0
SLACK = 2.0
REAL = Domain(((x, Interval1D()),), ())
ABOVE_2 = Domain(((x, Interval1D(sp.Integer(2))),), ())


def _i26453():
    xc = z / 2 + sp.conjugate(z) / 2
    yc = y / 2 + sp.conjugate(y) / 2
    a = sp.sqrt(2) * (-2 * w - 1) * sp.sin(xc) / 2 + sp.cos(xc) / 2
    b = (
        sp.sqrt(2) * (w**2 + 1) * sp.cos(z / 2 - sp.conjugate(z) / 2) / 2
        + sp.I * sp.sin(z / 2 - sp.conjugate(z) / 2) / 2
    )
    return a * sp.cos(yc) - b * sp.sin(yc)


I21528 = -sp.sqrt(x + 10) + sp.sqrt(x - 2) - 2 * sp.sqrt(x + 7)
I21787 = 40 * (x + 5) ** 3 * sp.cos(10 * (x + 5) ** 4)
I17780 = sp.sin((x + 1) ** 9)
I9032 = -32 * sp.sin(64 * x) / sp.sqrt(sp.cos(64 * x))

# (name, residual, domain, verdicts a sound engine may give)
CASES = [
    ("21528 (nonzero)", I21528, ABOVE_2, {"refuted", "unknown"}),
    ("21528 x (sin^2 + cos^2 - 1)", I21528 * (ONE - 1), ABOVE_2, {"proved", "consistent", "unknown"}),
    (
        "26453 (nonzero)",
        _i26453(),
        Domain((), ((w, Interval1D()), (y, Interval1D()), (z, Interval1D()))),
        {"refuted", "unknown"},
    ),
    (
        "26453 x (sin^2 + cos^2 - 1)",
        _i26453() * (ONE - 1),
        Domain(((x, Interval1D()),), ((w, Interval1D()), (y, Interval1D()), (z, Interval1D()))),
        {"proved", "consistent", "unknown"},
    ),
    ("21787 (nonzero)", I21787, REAL, {"refuted", "unknown"}),
    ("21787 x (sin^2 + cos^2 - 1)", I21787 * (ONE - 1), REAL, {"proved", "consistent", "unknown"}),
    ("17780 x (sin^2 + cos^2 - 1)", I17780 * (ONE - 1), REAL, {"proved", "consistent", "unknown"}),
    ("9032 x (sin^2 + cos^2 - 1)", I9032 * (ONE - 1), REAL, {"proved", "consistent", "unknown"}),
    ("15873: -2i + (1 + i)^2 is 0", -2 * sp.I + (1 + sp.I) ** 2, REAL, {"proved", "consistent"}),
    ("17511: sin(1 - 1) is 0", sp.sin(sp.Add(1, -1, evaluate=False)), REAL, {"proved", "consistent"}),
    ("17511 with x: x sin(1 - 1)", x * sp.sin(sp.Add(1, -1, evaluate=False)), REAL, {"proved", "consistent"}),
]


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _in_thread(fn):
    box = {}

    def target():
        try:
            box["out"] = _timed(fn)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            box["err"] = exc

    t = threading.Thread(target=target)
    t.start()
    t.join(BUDGET + SLACK + 60)  # the assertion on the measured time is the real bound
    assert not t.is_alive(), "the worker thread did not come back"
    if "err" in box:
        raise box["err"]
    return box["out"]


@pytest.mark.parametrize("where", ["main thread", "worker thread"])
@pytest.mark.parametrize(("name", "residual", "domain", "allowed"), CASES, ids=[c[0] for c in CASES])
def test_pathological_inputs_return_in_budget(name, residual, domain, allowed, where):
    call = lambda: decide_zero(residual, domain, timeout=BUDGET)  # noqa: E731
    verdict, seconds = _timed(call) if where == "main thread" else _in_thread(call)
    assert str(verdict.status) in allowed, verdict
    assert seconds <= BUDGET + SLACK, f"{name}: {seconds:.1f} s"


@pytest.mark.parametrize("where", ["main thread", "worker thread"])
def test_check_transport_on_a_hanging_flow_returns_in_budget(where):
    # u = u_RP + (sin^2 + cos^2 - 1) * (#21787's expression): correct, but only simplify can see it.
    p = sf.families.normal()
    mu, sigma = p.params
    u = sf.flows.reparam(p).field(sigma)[0] + (ONE.xreplace({x: p.x[0]}) - 1) * I21787.xreplace({x: p.x[0]})
    flow = sf.Flow(p, {sigma: [u]})
    call = lambda: sf.check_transport(p, flow, sigma, timeout=BUDGET)  # noqa: E731
    verdict, seconds = _timed(call) if where == "main thread" else _in_thread(call)
    assert verdict.status in ("proved", "consistent", "unknown"), verdict
    assert seconds <= BUDGET + SLACK + 1.0  # + building the residual (differentiation) outside the budget


def test_decide_zero_total_time_is_its_budget():
    # Every rewrite runs into the hang.  Before the shared deadline each step had the full budget
    # (and the numeric test at least 10 s): at a 4 s budget this took 8 s, at 3 s 6.2 s.
    verdict, seconds = _timed(lambda: decide_zero(I21787 * (ONE - 1), REAL, timeout=4.0))
    assert verdict.status in ("consistent", "unknown")
    assert seconds <= 4.0 + SLACK


# -- huge and deep expressions -------------------------------------------------------------------

N = 10_000


def _nested(fn, depth=N):
    e = x
    for _ in range(depth):
        e = fn(e)
    return e


def test_ten_thousand_terms_give_a_verdict_not_a_crash():
    wide = sp.Add(*[sp.sin(k * x) / k for k in range(1, N + 1)])
    verdict, seconds = _timed(lambda: decide_zero(wide, REAL, timeout=BUDGET))
    assert verdict.status in ("refuted", "unknown")
    assert seconds <= BUDGET + SLACK + 5.0  # + walking 10^4 terms in the main process


def test_ten_thousand_term_polynomial_identity():
    terms = [x**k for k in range(N)]
    wide = sp.Add(*terms) * (x - 1) - (x**N - 1)
    verdict = decide_zero(wide, REAL, timeout=BUDGET)
    assert verdict.status in ("proved", "unknown")


@pytest.mark.parametrize(
    "build",
    [
        lambda e: sp.sin(e, evaluate=False),
        lambda e: sp.Add(e, 1, evaluate=False),
        lambda e: sp.exp(e, evaluate=False),
    ],
    ids=["sin(sin(...))", "((x + 1) + 1) + ...", "exp(exp(...))"],
)
def test_nesting_depth_ten_thousand_is_unknown_or_a_clear_error(build):
    deep = _nested(build)
    verdict = decide_zero(deep, REAL, timeout=BUDGET)
    assert verdict.status == "unknown" and "nested" in verdict.reason
    p = sf.families.normal()
    assert p.x[0] == x  # so deep is over p's variable
    with pytest.raises(sf.SymflowError, match="nested more than"):
        sf.Flow(p, {p.params[0]: [deep]})
    with pytest.raises(sf.SymflowError, match="nested more than"):
        sf.Density(deep, (x,), ())


def test_moderately_deep_flow_is_refused_before_differentiation_crashes():
    # sin nested 200 deep builds fine (evaluate=True) but sympy.diff raised RecursionError on it.
    p = sf.families.normal()
    mu = p.params[0]
    deep = p.x[0]
    for _ in range(200):
        deep = sp.sin(deep)
    with pytest.raises(sf.SymflowError, match="nested more than"):
        sf.check_transport(p, sf.Flow(p, {mu: [deep]}), mu)


def test_a_dag_of_shared_squarings_is_walked_once_per_node():
    # review: (x+1) squared 22 times with evaluate=False is 22 distinct nodes but 4 million as a tree;
    # SymPy's has (choosing the rewrite order) walked the tree in-process: 30 s at timeout=3
    e = x + 1
    for _ in range(22):
        e = sp.Mul(e, e, evaluate=False)
    residual = sp.Add(e, -sp.Pow(x + 1, 2**22), evaluate=False)  # a true identity
    start = time.perf_counter()
    verdict = decide_zero(residual, REAL, timeout=BUDGET)
    assert time.perf_counter() - start <= BUDGET + SLACK
    assert verdict.status.value in ("proved", "consistent", "unknown")


@pytest.mark.parametrize(
    "residual",
    [
        # (x + 1)^-30000 (x + 1) - (x + 1)^-29999: SymPy's expand multiplies out the denominator, 30001 terms
        sp.Mul(sp.Pow(x + 1, -30000, evaluate=False), x + 1, evaluate=False) - sp.Pow(x + 1, -29999, evaluate=False),
        # (x + 1)^(20001/2) (x + 1) - (x + 1)^(20003/2): expand writes (x + 1)^10000 sqrt(x + 1), 10001 terms
        sp.Mul(sp.Pow(x + 1, sp.Rational(20001, 2), evaluate=False), x + 1, evaluate=False)
        - sp.Pow(x + 1, sp.Rational(20003, 2), evaluate=False),
    ],
    ids=["negative power", "rational power"],
)
def test_a_large_negative_or_fractional_power_of_a_sum_is_not_expanded_past_the_budget(residual):
    # Stop 25's review: the expansion's term bound counted these powers as one term, and decide_zero took
    # 49 s and 18 s of a 1 s budget in SymPy's expand (in process, no deadline inside it).
    from symflow.zero.expansion import MAX_TERMS, term_bound

    assert term_bound(residual) is None and term_bound(sp.Pow(x + 1, -3)) == 4 <= MAX_TERMS
    verdict, seconds = _timed(lambda: decide_zero(residual, REAL, timeout=1.0))
    assert seconds <= 1.0 + SLACK and verdict.status in ("proved", "unknown")
