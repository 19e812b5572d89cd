"""Vectorized CDF derivatives in a shape parameter vs per-sample mpmath, side by side in one run.

Workloads are what an implicit-reparameterization estimator sees: parameters spread over the
ranges the kernels are specified for and x drawn from the distribution itself (n = 10**5 by
default, one call per repeat, single thread):

- ``gammainc_da``: a log-uniform on [0.05, 1000], x ~ Gamma(a, 1);
- ``betainc_da`` / ``betainc_db``: a, b log-uniform on [0.05, 1000], x ~ Beta(a, b);
- ``student_t_cdf_dnu``: nu log-uniform on [0.1, 1000], x ~ t(nu);
- ``von_mises_cdf_dkappa``: kappa log-uniform on [0.001, 1000], x ~ von Mises(0, kappa).

The reference is the same quantity from mpmath one sample at a time at 15 digits (the mpmath
table's implementation: ``mpmath.diff`` of mpmath's regularized function, or a quadrature for von
Mises), timed on the first ``--mp-samples`` points; for the gamma it is also SymPy's own form,
``d/da lowergamma(a, x)/gamma(a)`` with its Meijer G, lambdified with mpmath (symflow's route
before this module).  The table shows median evaluations per second over the repeats and the
ratio kernel / mpmath.  Times are CPU seconds of this process (``time.process_time``), i.e.
evaluations per second of one core: the kernels are single-threaded numpy, and on a shared 2-core
machine wall-clock rates would measure the neighbours' load (printed for reference).

Run from the repository root: ``PYTHONPATH=. python benchmarks/bench_special.py [--n 100000]
[--repeats 5] [--mp-samples 200] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable

import mpmath
import numpy as np
import sympy as sp

if __package__ in (None, ""):  # run as a script from the checkout => import the checkout's symflow
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from symflow.numeric import special  # noqa: E402
from symflow.numeric.special import mp as mp_impl  # noqa: E402


def _log_uniform(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    return np.exp(rng.uniform(np.log(lo), np.log(hi), n))


def workloads(n: int, seed: int = 0) -> dict[str, tuple[Callable, Callable, tuple[np.ndarray, ...]]]:
    """name -> (vectorized kernel, per-sample mpmath function, argument arrays)."""
    rng = np.random.default_rng(seed)
    a = _log_uniform(rng, 0.05, 1000, n)
    gamma_args = (a, rng.gamma(a))
    a, b = _log_uniform(rng, 0.05, 1000, n), _log_uniform(rng, 0.05, 1000, n)
    # x exactly 0 or 1 (beta draws with tiny parameters) would make the derivative trivially 0
    x = np.clip(rng.beta(a, b), np.finfo(float).tiny, 1 - np.finfo(float).epsneg)
    beta_args = (a, b, x)
    nu = _log_uniform(rng, 0.1, 1000, n)
    t_args = (nu, rng.standard_t(nu))
    kappa = _log_uniform(rng, 1e-3, 1000, n)
    vm_args = (kappa, rng.vonmises(0.0, kappa))
    return {
        "gammainc_da": (special.gammainc_da, mp_impl.gammainc_da, gamma_args),
        "betainc_da": (special.betainc_da, mp_impl.betainc_da, beta_args),
        "betainc_db": (special.betainc_db, mp_impl.betainc_db, beta_args),
        "student_t_cdf_dnu": (special.student_t_cdf_dnu, mp_impl.student_t_cdf_dnu, t_args),
        "von_mises_cdf_dkappa": (special.von_mises_cdf_dkappa, mp_impl.von_mises_cdf_dkappa, vm_args),
    }


def sympy_meijer_gamma() -> Callable:
    """SymPy's d/da P(a, x) (with meijerg), lambdified with mpmath: symflow's per-sample route so far."""
    a, x = sp.symbols("a x", positive=True)
    expr = sp.diff(sp.lowergamma(a, x) / sp.gamma(a), a)
    return sp.lambdify((a, x), expr, modules="mpmath")


def rate_vectorized(kernel: Callable, args: tuple[np.ndarray, ...], repeats: int) -> float:
    kernel(*(v[:100] for v in args))  # warm-up: first-call costs are not throughput
    times = []
    for _ in range(repeats):
        start = time.process_time()
        kernel(*args)
        times.append(time.process_time() - start)
    return args[0].size / float(np.median(times))


def rate_per_sample(fn: Callable, args: tuple[np.ndarray, ...], samples: int) -> float:
    rows = list(zip(*(v[:samples] for v in args), strict=True))
    with mpmath.workdps(15):
        start = time.process_time()
        for row in rows:
            fn(*(mpmath.mpf(float(v)) for v in row))
        elapsed = time.process_time() - start
    return len(rows) / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="points per vectorized call")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--mp-samples", type=int, default=200, help="points timed one by one with mpmath")
    parser.add_argument("--json", help="write the results here")
    opts = parser.parse_args(argv)

    print(f"n = {opts.n}, repeats = {opts.repeats}, mpmath samples = {opts.mp_samples}, load {os.getloadavg()[0]:.2f}")
    header = f"{'function':24s} {'kernel evals/s':>15s} {'mpmath evals/s':>15s} {'ratio':>10s} {'load':>6s}"
    print(header)
    print("-" * len(header))
    results = {}
    for name, (kernel, per_sample, args) in workloads(opts.n).items():
        fast = rate_vectorized(kernel, args, opts.repeats)
        slow = rate_per_sample(per_sample, args, opts.mp_samples)
        load = os.getloadavg()[0]
        results[name] = {"kernel_per_s": fast, "mpmath_per_s": slow, "ratio": fast / slow, "load": load}
        print(f"{name:24s} {fast:15,.0f} {slow:15,.0f} {fast / slow:10,.0f} {load:6.2f}")
    gamma_kernel, _, gamma_args = workloads(opts.n)["gammainc_da"]
    meijer = rate_per_sample(sympy_meijer_gamma(), gamma_args, max(10, opts.mp_samples // 10))
    fast = results["gammainc_da"]["kernel_per_s"]
    results["gammainc_da (SymPy meijerg form)"] = {"mpmath_per_s": meijer, "ratio": fast / meijer}
    print(f"{'  vs SymPy meijerg form':24s} {fast:15,.0f} {meijer:15,.0f} {fast / meijer:10,.0f}")
    if opts.json:
        with open(opts.json, "w") as fh:
            json.dump({"n": opts.n, "repeats": opts.repeats, "results": results}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
