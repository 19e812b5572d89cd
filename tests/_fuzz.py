"""The exception fuzzer (issue 12, class 9): random and adversarial inputs through every public function.

The contract: no exception other than ``SymflowError`` leaves a public function (a verdict ``unknown``
with the reason, or a ``SymflowError`` naming the problem and the fix).  ``fuzz(calls, seed)`` draws a
public callable of ``symflow`` (``__all__`` and its public submodules: families, flows, toolbox,
boxes, proof, plot), fills its parameters by name from pools of densities, flows, estimators, test
functions and parameter values, with adversarial values mixed in (special functions, Heaviside,
DiracDelta, zoo, nan, oo, huge and tiny numbers, odd supports, non-commutative symbols, wrong types),
calls it with a small budget, and records the outcome.  ``tests/test_fuzz_exceptions.py`` runs it small
(fast tier) and larger (slow tier); ``benchmarks/fuzz_exceptions.py`` at full size, with counts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import inspect
import multiprocessing as mp
import os
import pickle
import random
import signal
import time
import traceback
import types
import warnings
from collections import Counter
from collections.abc import Callable

import numpy as np
import sympy as sp

import symflow as sf
from symflow.core.budget import quiet_fork

# Callables whose exceptions are by contract someone else's: run_with_budget re-raises what its fn raises.
SKIP = {"run_with_budget"}
# Slow (matplotlib, pdflatex): drawn less often.
RARE = {"plot.boxes", "plot.flow_lines", "plot.flow_line_paths", "plot.l_distribution", "proof.compile_pdf"}

x = sp.Symbol("x", real=True)
y = sp.Symbol("y", real=True)
k = sp.Symbol("k", integer=True, nonnegative=True)
t = sp.Symbol("t", positive=True)
a = sp.Symbol("a", real=True)
A, B = sp.symbols("A B", commutative=False)

HUGE = (10**300, 1e308, sp.Float("1e400"), 2**2000, -1e308)
TINY = (1e-300, sp.Float("1e-400"), 5e-324, -1e-300)
UNDEFINED = (sp.nan, sp.zoo, sp.oo, -sp.oo, float("nan"), float("inf"), sp.I, 1 + 2j)
JUNK = (
    "x**2",
    b"x",
    None,
    [],
    {},
    (),
    object(),
    3.5,
    -1,
    0,
    True,
    np.array([1.0, 2.0]),
    sp.Matrix([1, 2]),
    sp.Interval(0, 1),
    x > 0,
    sp.true,
    lambda: 0,
    A * B,
    sp.Symbol("stray"),
)


def adversarial_exprs(v: sp.Symbol) -> list[sp.Expr]:
    """Expressions in ``v`` a test function, flow or density might be written with."""
    return [
        v**2,
        sp.sin(v) + v,
        sp.gamma(v),
        sp.loggamma(v**2 + 1),
        sp.besselj(0, v),
        sp.erf(v) * v,
        sp.lowergamma(t, v**2 + 1),
        sp.LambertW(v**2),
        sp.zeta(v**2 + 2),
        sp.hyper([1], [2], v),
        sp.Heaviside(v - 1),
        sp.Heaviside(v) * sp.exp(-v),
        sp.DiracDelta(v),
        sp.sign(v) * v,
        sp.Abs(v) / v,
        sp.Max(v, 0),
        sp.Min(v, 1, v**2),
        sp.Piecewise((v, v > 0), (v**2, True)),
        sp.floor(v),
        sp.Mod(v, 2),
        sp.atan(1 / v),
        sp.exp(sp.exp(v)),
        sp.exp(v**2),
        v**v,
        sp.log(v),
        sp.sqrt(v),
        1 / v,
        sp.exp(-(v**2)) * 10**300,
        sp.Float("1e-300") * v,
        sp.zoo * v,
        sp.nan + v,
        sp.oo * v,
        v * sp.I,
        A * B - B * A + v,
        sp.Symbol("stray") * v,
        sp.Integral(v, (v, 0, 1)) + v,
        sp.Sum(1 / sp.Symbol("i", integer=True) ** 2, (sp.Symbol("i", integer=True), 1, sp.oo)) * v,
    ]


SUPPORTS = [
    None,
    sp.Interval(0, sp.oo),
    sp.Interval(-1, 1),
    sp.Interval(0, 0),
    sp.Interval(sp.pi, 2 * sp.pi),
    sp.Interval(t, 2 * t),
    sp.Interval.open(-sp.oo, 0),
    sp.FiniteSet(0, 2),
    sp.FiniteSet(0, 1, 2),
    sp.Range(0, 10, 3),
    sp.Naturals0,
    sp.Union(sp.Interval(0, 1), sp.Interval(2, 3)),
    sp.EmptySet,
    "[0, oo)",
    [sp.Interval(0, 1), sp.Interval(0, 1)],
]


def _densities(rng: random.Random, record: Callable) -> list[sf.Density]:
    """Shipped families and user densities built from adversarial expressions (refusals are recorded)."""
    pool: list = []
    for name in (
        "normal",
        "exponential",
        "uniform",
        "gamma",
        "beta",
        "laplace",
        "student_t",
        "poisson",
        "bernoulli",
        "geometric",
    ):
        d = record(f"families.{name}", getattr(sf.families, name))
        if isinstance(d, sf.Density):
            pool.append(d)
    for args in ((2,), (2, "diag"), (3,), (0,), (2, "bogus")):
        d = record("families.mvn", sf.families.mvn, *args)
        if isinstance(d, sf.Density):
            pool.append(d)
    d = record("families.binomial", sf.families.binomial, rng.choice([3, 0, -2, 2.5, "4"]))
    if isinstance(d, sf.Density):
        pool.append(d)
    exprs = adversarial_exprs(x)
    for _ in range(12):
        body = rng.choice(exprs)
        support = rng.choice(SUPPORTS)
        var = k if isinstance(support, sp.Set) and support in (sp.Naturals0,) else x
        d = record(
            "Density",
            sf.Density,
            sp.exp(-t * x**2) * (1 + body**2 / 2) if rng.random() < 0.5 else body,
            [var],
            [t],
            support=support,
        )
        if isinstance(d, sf.Density):
            pool.append(d)
    return pool


def _value(symbol: sp.Symbol, rng: random.Random):
    r = rng.random()
    if r < 0.55:
        base = rng.choice([0.3, 1.2, 2.0, 0.7])
        return base if symbol.is_positive else rng.choice([base, -base])
    if r < 0.7:
        return rng.choice(HUGE)
    if r < 0.8:
        return rng.choice(TINY)
    if r < 0.9:
        return rng.choice(UNDEFINED)
    return rng.choice(JUNK)


def _params_for(d, rng: random.Random):
    if not isinstance(d, sf.Density) or rng.random() < 0.05:
        return rng.choice(JUNK)
    out = {s: _value(s, rng) for s in d.params}
    if out and rng.random() < 0.1:
        out.pop(rng.choice(list(out)))
    if rng.random() < 0.05:
        out["mu"] = 1.0
    return out


@dataclasses.dataclass
class Context:
    """What the argument makers draw from, kept coherent per call (one density and what belongs to it)."""

    rng: random.Random
    densities: list
    flows: dict
    estimators: dict
    density: object = None

    def flow(self):
        return self.rng.choice(self.flows.get(id(self.density), []) or [self.rng.choice(JUNK)])

    def estimator(self):
        pool = self.estimators.get(id(self.density), []) or [e for es in self.estimators.values() for e in es]
        return self.rng.choice(pool or [self.rng.choice(JUNK)])


def _phi(ctx: Context):
    d = ctx.density
    v = d.x[0] if isinstance(d, sf.Density) else x
    if ctx.rng.random() < 0.1:
        return ctx.rng.choice(JUNK)
    return ctx.rng.choice(adversarial_exprs(v))


def _wrt(ctx: Context):
    d = ctx.density
    if isinstance(d, sf.Density) and d.params and ctx.rng.random() < 0.85:
        return ctx.rng.choice(d.params)
    return ctx.rng.choice([x, "mu", None, 3, sp.Symbol("nope")])


def _timeout(ctx: Context, budget: float):
    r = ctx.rng.random()
    if r < 0.9:
        return budget
    return ctx.rng.choice([0, -1, "5", True, float("nan"), float("inf"), 1e-9])


def _int(ctx: Context):
    return ctx.rng.choice([1, 2, 3, 0, -1, 10**9, 2.5, True, "3", None])


MAKERS: dict[str, Callable[[Context], object]] = {
    "p": lambda c: c.density,
    "density": lambda c: c.density,
    "base": lambda c: c.density,
    "q": lambda c: c.rng.choice([*c.densities, None]),
    "flow": lambda c: c.flow(),
    "flow_a": lambda c: c.flow(),
    "flow_b": lambda c: c.flow(),
    "est": lambda c: c.estimator(),
    "est_a": lambda c: c.estimator(),
    "est_b": lambda c: c.estimator(),
    "estimator": lambda c: c.estimator(),
    "estimators": lambda c: [c.estimator() for _ in range(c.rng.choice([1, 2]))],
    "wrt": _wrt,
    "phi": _phi,
    "psi": _phi,
    "b": _phi,
    "k": lambda c: c.rng.choice([sp.Rational(1, 3), 0, 2, x, sp.nan, "1/2", None]),
    "v": lambda c: [_phi(c) for _ in range(getattr(c.density, "dim", 1))],
    "g": lambda c: [_phi(c) for _ in range(getattr(c.density, "dim", 1))],
    "S": lambda c: c.rng.choice([None, _phi(c), [x, y], "x"]),
    "eps": lambda c: getattr(c.density, "x", (x,)),
    "x": lambda c: c.rng.choice([None, (x,), [x, y], x, "x", [x, x]]),
    "params": lambda c: _params_for(c.density, c.rng),
    "values": lambda c: _params_for(c.density, c.rng),
    "residual": lambda c: c.rng.choice(adversarial_exprs(x) + list(JUNK)),
    "domain": lambda c: c.rng.choice(
        [c.density.domain() if isinstance(c.density, sf.Density) else None, sf.Domain().extended({x}), None, "R"]
    ),
    "d": _int,
    "j": _int,
    "n": _int,
    "n_boxes": lambda c: c.rng.choice([(4, 8), (0,), [10**7], "10", 3]),
    "chunk": _int,
    "workers": _int,
    "dps": lambda c: c.rng.choice([15, 30, 5, 0, -3, 10**6, "30"]),
    "seed": lambda c: c.rng.choice([0, 1, None, -1, 2.5, "s", np.random.default_rng(0)]),
    "alpha": lambda c: c.rng.choice([1e-6, 0.5, 0, 1, -1, float("nan"), "0.1"]),
    "exact": lambda c: c.rng.choice([None, 0.5, float("nan"), "1", sp.oo, sp.Rational(1, 2)]),
    "jumps": lambda c: c.rng.choice([None, [x - 1], [(x - 1) * y], x**2 + y**2 - 1, ["x > 0"], [sp.sin(x)]]),
    "support": lambda c: c.rng.choice(SUPPORTS),
    "cdf": lambda c: c.rng.choice([None, sp.erf(x), "F"]),
    "text": lambda c: c.rng.choice(["x**2 + sin(x)", "__import__('os')", "x" * 5000, "((((x", "", "1/0"]),
    "symbols": lambda c: c.rng.choice([{"x": x}, {}, None, {"x": "x"}]),
    "tex": lambda c: c.rng.choice(["\\documentclass{article}\\begin{document}x\\end{document}", "", None]),
    "name": lambda c: c.rng.choice(["claim", "", None, 3]),
    "title": lambda c: c.rng.choice([None, "t", 3]),
    "result": lambda c: c.rng.choice([c.estimator(), sf.Verdict("proved", "m"), None, 3]),
    "proof": lambda c: c.rng.choice([sf.proof.theorem_flow_estimator(timeout=0.5), None, "proof"]),
    "steps": lambda c: c.rng.choice([(), [sf.Step(x, x**2, "r")], None, ["s"]]),
    "h": lambda c: c.rng.choice([None, x, sp.Symbol("h2"), "h"]),
    "parts": lambda c: c.rng.choice([{"a": sf.Verdict("proved", "m")}, [], None, {"a": 3}]),
    "status": lambda c: c.rng.choice(["proved", "refuted", "bogus", None, 3]),
    "method": lambda c: c.rng.choice(["m", None]),
    "backend": lambda c: c.rng.choice(["numpy", "jax", "fortran", None]),
    "seconds": lambda c: c.rng.choice([5, 0, -1, "5"]),
    "timeout": lambda c: None,  # filled in by call_once
    "kind": lambda c: c.rng.choice(["user", "bogus", sf.Flow, None]),
    "fields": lambda c: c.rng.choice([{}, {t: [x]}, "fields", None, {x: [1]}]),
    "lo": lambda c: c.rng.choice([0, -sp.oo, "a", None]),
    "hi": lambda c: c.rng.choice([1, sp.oo, x]),
    "point": lambda c: c.rng.choice([((x, 1),), None, "p"]),
    "covariance": lambda c: c.rng.choice(["full", "diag", "bogus", None]),
    "equation": lambda c: c.rng.choice(["8", None, 3]),
    "expect": lambda c: c.rng.choice(["holds", "refuted", "bogus"]),
    "module": lambda c: c.rng.choice(["mod", None]),
    "results": lambda c: c.rng.choice([[], None, [3]]),
    "proofs": lambda c: c.rng.choice([[], None, [3]]),
    "bias": lambda c: c.rng.choice([True, False, "yes"]),
    "numeric": lambda c: c.rng.choice([True, False, None]),
    "exact_route": lambda c: True,
}


def public_callables() -> dict[str, Callable]:
    """name -> callable for every public function and class of symflow (exceptions and enums left out)."""
    found: dict[str, Callable] = {}
    seen: set = set()

    def walk(prefix: str, module: types.ModuleType) -> None:
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if isinstance(obj, types.ModuleType):
                if obj.__name__.startswith("symflow") and obj not in seen:
                    seen.add(obj)
                    walk(f"{prefix}{name}.", obj)
                continue
            if isinstance(obj, type) and issubclass(obj, BaseException | Warning | enum.Enum):
                continue  # raising, warning, and an Enum's lookup by value are Python's contract, not symflow's
            if callable(obj) and f"{prefix}{name}" not in SKIP and obj not in found.values():
                found[f"{prefix}{name}"] = obj

    walk("", sf)
    return found


def _arguments(fn: Callable, ctx: Context, budget: float) -> tuple[list, dict]:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return [], {}
    args, kwargs = [], {}
    for name, par in sig.parameters.items():
        if par.kind in (par.VAR_POSITIONAL, par.VAR_KEYWORD):
            continue
        required = par.default is inspect.Parameter.empty
        if not required and name != "timeout" and ctx.rng.random() < 0.5:
            continue
        if name == "timeout":
            value = _timeout(ctx, budget)
        elif name in MAKERS:
            value = MAKERS[name](ctx)
        else:
            value = ctx.rng.choice(JUNK) if ctx.rng.random() < 0.5 else ctx.rng.choice(adversarial_exprs(x))
        if ctx.rng.random() < 0.08:
            value = ctx.rng.choice(JUNK)  # a wrong type anywhere
        if par.kind is par.KEYWORD_ONLY or (not required and ctx.rng.random() < 0.5):
            kwargs[name] = value
        elif kwargs:
            kwargs[name] = value
        else:
            args.append(value)
    return args, kwargs


@dataclasses.dataclass
class Outcome:
    name: str
    kind: str  # "ok", "SymflowError", the escaped exception's type, or "hang"
    seconds: float
    detail: str = ""
    value: object = dataclasses.field(default=None, repr=False, compare=False)


def _classify(name: str, fn: Callable, args: list, kwargs: dict) -> tuple[str, str, object]:
    """(kind, detail, value) of one call, run here."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # warnings are not exceptions: the contract is about raising
            with np.errstate(all="ignore"):
                return "ok", "", fn(*args, **kwargs)
    except sf.SymflowError as exc:
        return "SymflowError", str(exc)[:200], None
    except Exception as exc:  # noqa: BLE001 - what the fuzzer is looking for
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if "symflow" in f.filename]
        where = f"{frames[-1].filename.split('symflow')[-1]}:{frames[-1].lineno} {frames[-1].line}" if frames else ""
        detail = f"{exc!s:.300}\n  at symflow{where}\n  args: {args!r:.300} {kwargs!r:.600}"
        return type(exc).__name__, detail, None


def _child(conn, name: str, fn: Callable, args: list, kwargs: dict, want_value: bool) -> None:
    os.setpgid(0, 0)  # its own process group: killing it at the limit kills the budget steps it forked too
    kind, detail, value = _classify(name, fn, args, kwargs)
    try:
        data = pickle.dumps((kind, detail, value if want_value else None))
    except Exception:  # noqa: BLE001 - an unpicklable value is only lost to the pools, the outcome stands
        data = pickle.dumps((kind, detail, None))
    try:
        conn.send_bytes(data)
    finally:
        conn.close()
        os._exit(0)


def call_once(
    name: str, fn: Callable, args: list, kwargs: dict, hang_after: float, want_value: bool = False
) -> Outcome:
    """Run one call in a forked child process, killed with everything it started at ``hang_after`` seconds.

    Nothing a call starts outlives it: an abandoned thread would keep running into later calls and tests
    (mpmath's precision and numpy's global RNG are process-global), a killed process cannot.  The value
    comes back (pickled) when ``want_value``; ``Outcome.value`` holds it.
    """
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    start = time.monotonic()
    with quiet_fork():
        proc = ctx.Process(target=_child, args=(send, name, fn, args, kwargs, want_value))
        proc.start()
    send.close()
    try:
        if not recv.poll(hang_after):
            return Outcome(name, "hang", time.monotonic() - start, f"still running after {hang_after:g} s")
        try:
            kind, detail, value = pickle.loads(recv.recv_bytes())
        except EOFError:
            return Outcome(name, "died", time.monotonic() - start, f"the process died without an answer: {args!r:.300}")
        return Outcome(name, kind, time.monotonic() - start, detail, value)
    finally:
        recv.close()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        if proc.is_alive():
            proc.kill()
        proc.join()


def _light_pools(rng: random.Random, outcomes: list) -> Context:
    """Small pools without symbolic work (for the fast test tier): three families and two user densities."""
    densities = [sf.families.normal(), sf.families.exponential(), sf.families.poisson()]
    for body in (sp.Heaviside(x) * t * sp.exp(-t * x), sp.exp(-t * x**2) * (1 + sp.gamma(x) ** 2)):
        densities.append(sf.Density(body, [x], [t], support=rng.choice([None, sp.Interval(0, sp.oo)])))
    flows = {id(d): [sf.flows.zero(d)] for d in densities}
    estimators = {
        id(d): [sf.Estimator(d, d.params[0], (0,) * d.dim, d.score(d.params[0]), name="LR typed in")] for d in densities
    }
    return Context(rng, densities, flows, estimators)


def junk_sweep(seed: int = 0, per_callable: int = 3, sample: int | None = None) -> list[Outcome]:
    """Every public callable (``sample`` of them, drawn with ``seed``) called with wrong-typed and adversarial
    values for its required parameters."""
    rng = random.Random(seed)
    pool = list(JUNK) + list(UNDEFINED) + [HUGE[0], TINY[0]] + adversarial_exprs(x)[:12]
    out = []
    table = sorted(public_callables().items())
    if sample is not None:
        table = sorted(rng.sample(table, min(sample, len(table))))
    for name, fn in table:
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            continue
        for _ in range(per_callable):
            args = [
                rng.choice(pool)
                for par in sig.parameters.values()
                if par.default is inspect.Parameter.empty
                and par.kind in (par.POSITIONAL_ONLY, par.POSITIONAL_OR_KEYWORD)
            ]
            kwargs = {"timeout": 0.3} if "timeout" in sig.parameters else {}
            out.append(call_once(name, fn, args, kwargs, 30.0))
    return out


def _pools(rng: random.Random, budget: float, outcomes: list) -> Context:
    def record(name, fn, *args, **kwargs):
        outcome = call_once(name, fn, list(args), kwargs, budget * 10 + 20, want_value=True)
        outcomes.append(outcome)
        return outcome.value

    densities = _densities(rng, record)
    flows: dict = {}
    estimators: dict = {}
    for d in densities:
        fl = [f for f in (record("flows.zero", sf.flows.zero, d),) if isinstance(f, sf.Flow)]
        for maker in (sf.flows.reparam, sf.flows.implicit):
            f = record(f"flows.{maker.__name__}", maker, d, timeout=budget)
            if isinstance(f, sf.Flow):
                fl.append(f)
                break
        if d.dim == 1 and not d.is_discrete:
            f = record("Flow", sf.Flow, d, {d.params[0]: [rng.choice(adversarial_exprs(d.x[0]))]})
            if isinstance(f, sf.Flow):
                fl.append(f)
        flows[id(d)] = fl
        ests = []
        for f in fl[:2]:
            if d.params:
                e = record("derive", sf.derive, d, f, d.params[0], timeout=budget)
                if isinstance(e, sf.Estimator):
                    ests.append(e)
        if d.is_discrete and d.params:
            e = record("go_estimator", sf.go_estimator, d, d.params[0], timeout=budget)
            if isinstance(e, sf.Estimator):
                ests.append(e)
        if d.params:
            e = record(
                "Estimator",
                sf.Estimator,
                d,
                d.params[0],
                [rng.choice(adversarial_exprs(d.x[0]))] * d.dim,
                rng.choice(adversarial_exprs(d.x[0])),
            )
            if isinstance(e, sf.Estimator):
                ests.append(e)
        estimators[id(d)] = ests
    return Context(rng, densities, flows, estimators)


def fuzz(
    calls: int,
    seed: int = 0,
    *,
    budget: float = 0.5,
    names: list[str] | None = None,
    hang_after: float | None = None,
    light: bool = False,
) -> list[Outcome]:
    """``calls`` random calls of public callables (``names`` to restrict); the pools' own calls are included.

    ``light=True`` builds small pools without symbolic work (the fast test tier).
    """
    rng = random.Random(seed)
    outcomes: list[Outcome] = []
    ctx = _light_pools(rng, outcomes) if light else _pools(rng, budget, outcomes)
    table = public_callables()
    pick = [n for n in (names or sorted(table)) if n in table]
    weights = [0.15 if n in RARE else 1.0 for n in pick]
    hang_after = hang_after if hang_after is not None else budget + 30
    for _ in range(calls):
        name = rng.choices(pick, weights)[0]
        ctx.density = rng.choice(ctx.densities + [rng.choice(JUNK)]) if ctx.densities else rng.choice(JUNK)
        args, kwargs = _arguments(table[name], ctx, budget)
        outcomes.append(call_once(name, table[name], args, kwargs, hang_after))
    return outcomes


def escaped(outcomes: list[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if o.kind not in ("ok", "SymflowError")]


def summary(outcomes: list[Outcome]) -> Counter:
    return Counter((o.name, o.kind) for o in outcomes)


_FRESH_CHILD = """
import dataclasses, pickle, sys
from tests import _fuzz
name, kwargs = pickle.load(sys.stdin.buffer)
outcomes = getattr(_fuzz, name)(**kwargs)
sys.stdout.buffer.write(pickle.dumps([dataclasses.replace(o, value=None) for o in outcomes]))
"""


def in_fresh_interpreter(name: str, **kwargs: object) -> list[Outcome]:
    """This module's ``name(**kwargs)`` (``junk_sweep`` or ``fuzz``) run in a new Python process.

    Every call of the fuzzer forks the process it runs in, and a fork costs in proportion to the memory that
    process has touched: measured here, 3 ms in a fresh interpreter and 60-80 ms in a pytest worker at the end
    of the suite (850 MB).  The calls and their outcomes are the same (the seed fixes them); values are left out.
    """
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", _FRESH_CHILD],
        input=pickle.dumps((name, kwargs)),
        capture_output=True,
        cwd=repo,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the fuzzer's process failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return pickle.loads(done.stdout)
