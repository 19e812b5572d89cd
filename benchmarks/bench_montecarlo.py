"""mc_check at scale: time against the raw cost of the same samples, and peak memory (issue 6, goal 3).

Workloads: the normal N(mu, sigma), phi = x**2, d/dsigma by LR (the zero flow: psi phi, psi != 0)
and by RP (u = (x - mu)/sigma, psi = 0: v grad phi).  For each, n samples (default 10**8) in
chunks of 2**16, three ways, side by side in one process, in rotating order each repeat:

* ``mc_check`` (workers = 2, progress off, exact value given, so no symbolic integration is timed);
* ``raw-2``: the "raw" cost, a plain hand-written loop over the *same* chunks: chunk k draws
  ``p.sample(m, params, default_rng(SeedSequence(seed).spawn(K)[k]))``, computes phi and
  grad phi by hand-written numpy, calls the compiled estimator (``est.compile()``, public API,
  single-threaded) and sums; the chunks are run by the same kind of 2-thread pool
  (``ThreadPoolExecutor.map``) and the sums added in chunk order.  This is the yardstick of
  the 1.2x target: same samples, same parallelism, nothing else.
* ``raw-1``: the same loop on one thread, for information (what the pool buys).

The ratio is mc_check / raw-2 per repeat (back to back, so the same machine load); the
median over repeats is reported with its min and max.  Peak memory is measured in a fresh
subprocess: ``ru_maxrss`` after importing symflow and a warm-up call, and after one
mc_check at n; and tracemalloc's peak (numpy reports its buffers to it) during a run at
n/10.

Run: ``python benchmarks/bench_montecarlo.py [--n 100000000] [--repeats 5] [--json out.json]``
(``--n 1000000 --repeats 3`` for a quick look).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import symflow as sf  # noqa: E402

CHUNK = 2**16
WORKERS = 2
TARGET = 1.2
MEMORY_LIMIT_MB = 300


def workload(kind: str):
    p = sf.families.normal()
    x, (mu, sigma) = p.x[0], p.params
    if kind == "lr":
        est = sf.derive(p, sf.flows.zero(p), sigma)
    else:
        est = sf.Estimator(p, sigma, [(x - mu) / sigma], 0, name="rp sigma")
    return p, est, x**2, {mu: 0.3, sigma: 1.2}, 2 * 1.2


def raw_loop(p, compiled, params, n: int, seed: int, workers: int) -> float:
    """The hand-written loop: the same chunks and generators as mc_check, sample + evaluate + sum."""
    chunks = -(-n // CHUNK)
    seqs = np.random.SeedSequence(seed).spawn(chunks)
    values = dict(params)

    def one(k: int) -> float:
        m = min(CHUNK, n - k * CHUNK)
        xs = p.sample(m, values, np.random.default_rng(seqs[k]))
        col = xs[:, 0]
        phis = col * col if compiled.uses_phi else None
        grads = 2.0 * xs if compiled.kept else None
        return float(compiled(xs, phis, grads, values).sum())

    if workers == 1:
        return sum(one(k) for k in range(chunks)) / n
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(one, range(chunks))) / n


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def time_workload(kind: str, n: int, repeats: int) -> dict:
    p, est, phi, params, exact = workload(kind)
    compiled = est.compile(threads=1)  # the pool is the parallelism, as in mc_check
    sf.mc_check(est, phi, params, 10**5, exact=exact, workers=WORKERS, progress=False)  # warm caches
    runs = {
        "mc_check": lambda s: (
            sf.mc_check(est, phi, params, n, seed=s, exact=exact, workers=WORKERS, progress=False).mean
        ),
        "raw-2": lambda s: raw_loop(p, compiled, params, n, s, WORKERS),
        "raw-1": lambda s: raw_loop(p, compiled, params, n, s, 1),
    }
    names = list(runs)
    times: dict[str, list[float]] = {k: [] for k in names}
    means: dict[str, float] = {}
    for r in range(repeats):
        order = names[r % 3 :] + names[: r % 3]
        for name in order:
            t, mean = timed(lambda name=name, r=r: runs[name](r))
            times[name].append(t)
            means[name] = mean
    ratios = [a / b for a, b in zip(times["mc_check"], times["raw-2"], strict=True)]
    ratios_1 = [a / b for a, b in zip(times["mc_check"], times["raw-1"], strict=True)]
    return {
        "workload": f"normal, d/dsigma E[x^2], {kind.upper()}",
        "n": n,
        "repeats": repeats,
        "seconds": {k: statistics.median(v) for k, v in times.items()},
        "all_seconds": times,
        "ratio_vs_raw2": statistics.median(ratios),
        "ratio_vs_raw2_range": [min(ratios), max(ratios)],
        "ratio_vs_raw1": statistics.median(ratios_1),
        # Same seed, same chunks => mc_check and the raw loop average the same samples.
        "same_mean_last_repeat": bool(abs(means["mc_check"] - means["raw-2"]) <= 1e-9 * abs(means["raw-2"])),
    }


MEMORY_PROBE = r"""
import resource, sys, time, tracemalloc
sys.path.insert(0, {root!r})
sys.argv = ["probe"]
from benchmarks.bench_montecarlo import workload, WORKERS
import symflow as sf
p, est, phi, params, exact = workload("lr")
sf.mc_check(est, phi, params, 10**5, exact=exact, workers=WORKERS, progress=False)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
sf.mc_check(est, phi, params, {n}, exact=exact, workers=WORKERS, progress=False)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
sf.mc_check(est, phi, params, max(10**5, {n} // 10), exact=exact, workers=WORKERS, progress=False)
traced = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
print(base, peak, traced, seconds)
"""


def measure_memory(n: int) -> dict:
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    code = MEMORY_PROBE.format(root=os.path.abspath(root), n=n)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    base, peak, traced, seconds = out.split()
    return {
        "n": n,
        "rss_after_import_mb": int(base) / 1024,
        "peak_rss_mb": int(peak) / 1024,
        "tracemalloc_peak_mb_at_n_over_10": int(traced) / 2**20,
        "seconds_in_probe": float(seconds),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10**8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workloads", default="lr,rp")
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()
    rows = [time_workload(kind, args.n, args.repeats) for kind in args.workloads.split(",")]
    memory = measure_memory(args.n)
    load_after = os.getloadavg()

    print(f"mc_check at n = {args.n:.3g}, chunks of {CHUNK}, {WORKERS} workers; median of {args.repeats} repeats")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} ({os.cpu_count()} cores)")
    header = f"{'workload':38s} {'mc_check s':>10s} {'raw-2 s':>9s} {'raw-1 s':>9s} {'mc/raw-2':>9s} {'range':>13s}"
    print(header)
    for row in rows:
        s = row["seconds"]
        lo, hi = row["ratio_vs_raw2_range"]
        print(
            f"{row['workload']:38s} {s['mc_check']:10.2f} {s['raw-2']:9.2f} {s['raw-1']:9.2f} "
            f"{row['ratio_vs_raw2']:9.3f} {f'[{lo:.2f}, {hi:.2f}]':>13s}"
        )
    print(
        f"peak RSS {memory['peak_rss_mb']:.0f} MB (after import and warm-up {memory['rss_after_import_mb']:.0f} MB); "
        f"tracemalloc peak {memory['tracemalloc_peak_mb_at_n_over_10']:.1f} MB at n/10"
    )
    ok = all(r["ratio_vs_raw2"] <= TARGET for r in rows) and memory["peak_rss_mb"] < MEMORY_LIMIT_MB
    print(f"targets (ratio <= {TARGET}, peak RSS < {MEMORY_LIMIT_MB} MB): {'met' if ok else 'NOT met'}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"rows": rows, "memory": memory, "load": [load_before, load_after], "met": ok}, fh, indent=2)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
