"""Compiled estimators vs hand-written numpy (and JAX jit), side by side in one run (issue 6, goal 2).

Workloads: (i) the normal, d = 1, and (ii) the diagonal multivariate normal, d = 10, with
n = 10**6 samples and phi = sum(x**2) + sum(sin x); every d/dmu_i and d/dsigma_i estimator
of two families, RP (the reparameterization flow, psi = 0) and LR (the zero flow, v = 0).

Contenders, all given the same arrays (x, phi(x) and grad phi(x) are computed outside the
timed region, fresh every repeat) and all keeping their 2d results alive until the end, as a
caller collecting gradients would:

- hand: a hand-written numpy expression of each estimate (the reference);
- compiled: ``est.compile()`` with default settings, one call per parameter;
- 1 thread: ``est.compile(threads=1)``, the plain single-thread path (for information);
- 2 threads: ``est.compile(threads=2)``, row blocks on two threads on every large call (the
  default chooses between this and the plain path by timing its calls);
- jax jit: one hand-written ``jax.jit`` function returning all 2d estimates, float64, when jax
  is installed (it may fuse work across parameters; our functions are one per parameter);
- numexpr: the same formulas as numexpr programs on numexpr's thread pool, when numexpr is
  installed (the other route measured for the default; see docs/backends.md).

Each repeat times every contender back to back (same machine load), rotating their order so
no one always runs first after fresh arrays; the table shows median times and the median over
repeats of the per-repeat ratio hand / contender.  Load averages (1 min) are printed at the
start and per row, since on a shared 2-core machine a busy neighbour takes the second core.

Run from the repository root (or after ``pip install .``):
``python benchmarks/bench_compile.py [--n 1000000] [--repeats 7] [--json out.json]``.
The exit status is 0 unless ``--strict`` is given and a row misses its target
(compiled/hand >= 1.0 at d = 1, >= 1.6 at d = 10).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
import warnings
from collections.abc import Callable

import numpy as np
import sympy as sp

if __package__ in (None, ""):  # run as a script from the checkout => import the checkout's symflow
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import symflow as sf  # noqa: E402

TARGETS = {1: 1.0, 10: 1.6}


def diag_normal(d: int) -> tuple[sf.Density, tuple[sp.Symbol, ...], tuple[sp.Symbol, ...]]:
    """The normal (d = 1) or the diagonal multivariate normal from ``sf.families``."""
    if d == 1:
        p = sf.families.normal()
    else:
        p = sf.families.mvn(d, covariance="diag")
    return p, p.params[:d], p.params[d:]


def hand_rp(x: np.ndarray, phi: np.ndarray, g: np.ndarray, m: list, s: list) -> list:
    """RP: d/dmu_i -> dphi/dx_i; d/dsigma_i -> (x_i - mu_i)/sigma_i * dphi/dx_i."""
    d = x.shape[1]
    return [g[:, i] for i in range(d)] + [(x[:, i] - m[i]) / s[i] * g[:, i] for i in range(d)]


def hand_lr(x: np.ndarray, phi: np.ndarray, g: np.ndarray, m: list, s: list) -> list:
    """LR (Eq. 21): (x_i - mu_i)/sigma_i**2 * phi and ((x_i - mu_i)**2/sigma_i**3 - 1/sigma_i) * phi."""
    d = x.shape[1]
    out = [(x[:, i] - m[i]) / s[i] ** 2 * phi for i in range(d)]
    for i in range(d):
        z = x[:, i] - m[i]
        out.append((z**2 / s[i] ** 3 - 1 / s[i]) * phi)
    return out


def jax_runner(hand: Callable, d: int) -> Callable | None:
    """``hand`` written with jax.numpy and jitted (float64); None when jax is not installed."""
    if importlib.util.find_spec("jax") is None:
        return None
    import jax
    import jax.numpy as jnp

    def estimates(x, phi, g, m, s):
        if hand is hand_rp:
            return tuple(g[:, i] for i in range(d)) + tuple((x[:, i] - m[i]) / s[i] * g[:, i] for i in range(d))
        out = [(x[:, i] - m[i]) / s[i] ** 2 * phi for i in range(d)]
        for i in range(d):
            z = x[:, i] - m[i]
            out.append((z**2 / s[i] ** 3 - 1 / s[i]) * phi)
        return tuple(out)

    jitted = jax.jit(estimates)

    def run(x, phi, g, m, s):
        with jax.enable_x64(True):
            out = jitted(x, phi, g, jnp.asarray(m), jnp.asarray(s))
            jax.block_until_ready(out)
        return out

    return run


def numexpr_runner(compiled: list, values: dict) -> Callable | None:
    """The same estimates as numexpr programs (its own thread pool), for comparing routes.

    A measuring prototype, not a backend: the formula is printed with ``str`` (enough for the
    arithmetic of these estimators) and compiled with ``numexpr.NumExpr``; None when numexpr
    is not installed.
    """
    if importlib.util.find_spec("numexpr") is None:
        return None
    import numexpr

    from symflow.numeric._formula import formula

    programs = []
    for c in compiled:
        form = formula(c)
        names = {a: sp.Symbol(f"a{j}") for j, a in enumerate(form.args)}
        expr = form.expr.xreplace(names)
        used = [j for j, a in enumerate(form.args) if names[a] in expr.free_symbols]
        program = None if expr.is_Symbol else numexpr.NumExpr(str(expr), [(f"a{j}", np.double) for j in used])
        programs.append((form, used, program))
    floats = compiled[0].param_floats(values)

    def run(x, phi, g, m, s):
        out = []
        for form, used, program in programs:
            args = [*form.columns(x, phi, g, 0, x.shape[0]), *floats]
            out.append(args[used[0]] if program is None else program(*(args[j] for j in used)))
        return out

    return run


def bench_case(d: int, n: int, repeats: int, seed: int) -> list[dict]:
    p, mus, sigmas = diag_normal(d)
    values = {**{m: 0.1 * (i + 1) for i, m in enumerate(mus)}, **{s: 1.0 + 0.1 * i for i, s in enumerate(sigmas)}}
    m = [values[t] for t in mus]
    s = [values[t] for t in sigmas]
    rows = []
    for kind, flow, hand in (("RP", sf.flows.reparam(p), hand_rp), ("LR", sf.flows.zero(p), hand_lr)):
        ests = [sf.derive(p, flow, t) for t in mus + sigmas]
        compiled = [e.compile() for e in ests]
        plain = [e.compile(threads=1) for e in ests]
        forced = [e.compile(threads=2) for e in ests]
        runners: dict[str, Callable] = {
            "hand": hand,
            "compiled": lambda x, phi, g, m, s, cs=compiled: [c(x, phi, g, values) for c in cs],
            "1 thread": lambda x, phi, g, m, s, cs=plain: [c(x, phi, g, values) for c in cs],
            "2 threads": lambda x, phi, g, m, s, cs=forced: [c(x, phi, g, values) for c in cs],
        }
        jaxed = jax_runner(hand, d)
        if jaxed is not None:
            runners["jax jit"] = jaxed
        numexpred = numexpr_runner(compiled, values)
        if numexpred is not None:
            runners["numexpr"] = numexpred
        rng = np.random.default_rng(seed)

        def fresh(rng: np.random.Generator = rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            x = p.sample(n, values, rng)
            return x, (x**2).sum(axis=1) + np.sin(x).sum(axis=1), 2 * x + np.cos(x)

        x, phi, g = fresh()
        want = hand(x, phi, g, m, s)
        for who, run in runners.items():  # the same formula, or no comparison (also warms up jit)
            for got, ref in zip(run(x, phi, g, m, s), want, strict=True):
                np.testing.assert_allclose(np.asarray(got), ref, rtol=1e-12, atol=1e-12, err_msg=who)
        names = list(runners)
        times: dict[str, list[float]] = {k: [] for k in names}
        for r in range(repeats):
            x, phi, g = fresh()
            order = names[r % len(names) :] + names[: r % len(names)]
            for who in order:
                t0 = time.perf_counter()
                results = runners[who](x, phi, g, m, s)
                times[who].append(time.perf_counter() - t0)
                del results
        row: dict = {"case": f"{'normal' if d == 1 else 'diag mvn'} d={d}", "estimator": kind, "params": len(ests)}
        row["n"] = n
        row["repeats"] = repeats
        for k in names:
            key = k.replace(" ", "_")
            row[f"{key}_s"] = float(np.median(times[k]))
            if k != "hand":
                ratios = np.array(times["hand"]) / np.array(times[k])
                row[f"ratio_{key}"] = float(np.median(ratios))
        row["target"] = TARGETS[d]
        row["meets_target"] = row["ratio_compiled"] >= TARGETS[d]
        row["load_average"] = os.getloadavg()[0]
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10**6)
    ap.add_argument("--repeats", type=int, default=7, help="paired repeats at d = 10 (3x as many at d = 1)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", metavar="PATH", help="also write the rows (and the machine's load) as JSON")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a row misses its target")
    args = ap.parse_args(argv)
    # derive() forks budgeted children (pure SymPy, never JAX) => JAX's fork warning does not apply.
    warnings.filterwarnings("ignore", r"os\.fork\(\) was called", RuntimeWarning)
    load_start = os.getloadavg()
    has_jax = importlib.util.find_spec("jax") is not None
    print(f"numpy {np.__version__}, sympy {sp.__version__}, n = {args.n}, {os.cpu_count()} CPUs, jax: {has_jax}")
    print(f"load average at start (1, 5, 15 min): {', '.join(f'{v:.1f}' for v in load_start)}")
    rows = []
    for d in (1, 10):
        # d = 1 takes milliseconds => more repeats for the same wall time.
        rows += bench_case(d, args.n, args.repeats * (3 if d == 1 else 1), args.seed)
    cols = [("hand", "hand ms"), ("compiled", "compiled ms"), ("1_thread", "1 thread ms")]
    cols.append(("2_threads", "2 threads ms"))
    if has_jax:
        cols.append(("jax_jit", "jax jit ms"))
    if importlib.util.find_spec("numexpr") is not None:
        cols.append(("numexpr", "numexpr ms"))
    ratio_cols = [c for c in cols if c[0] != "hand"]
    header = f"{'case':<14} {'est':<3} {'#par':>4} " + " ".join(f"{t:>12}" for _, t in cols)
    header += " " + " ".join(f"{'x ' + k.replace('_', ' '):>12}" for k, _ in ratio_cols) + f" {'target':>6} {'load':>5}"
    print(header)
    print("-" * len(header))
    for row in rows:
        line = f"{row['case']:<14} {row['estimator']:<3} {row['params']:>4} "
        line += " ".join(f"{1e3 * row[f'{k}_s']:>12.2f}" for k, _ in cols)
        line += " " + " ".join(f"{row[f'ratio_{k}']:>12.2f}" for k, _ in ratio_cols)
        line += f" {row['target']:>6.1f} {row['load_average']:>5.1f}"
        print(line + ("" if row["meets_target"] else "  (below target)"))
    print(
        "x <contender> = median over paired repeats of hand time / contender time (> 1: faster than hand numpy); "
        "times are medians"
    )
    load_end = os.getloadavg()
    print(f"load average at end: {', '.join(f'{v:.1f}' for v in load_end)}")
    if args.json:
        payload = {
            "benchmark": "compile",
            "n": args.n,
            "cpus": os.cpu_count(),
            "numpy": np.__version__,
            "sympy": sp.__version__,
            "load_average_start": list(load_start),
            "load_average_end": list(load_end),
            "rows": rows,
        }
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2)
    ok = all(row["meets_target"] for row in rows)
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
