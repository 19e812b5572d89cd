"""Dask scale-out (issue 15): mc_check at 10^9 samples on a local cluster, and symflow verify on it vs --jobs.

1. ``mc_check`` of the normal's LR estimator of d/dsigma E[x^2] (exact 2 sigma given, so nothing
   symbolic is timed), chunks of 2^16, seed 0:

   * n = 10^8 in this process on one thread (``workers=1``): the single-process reference;
   * n = 10^8 on the cluster: every numeric field of the result must be the same bits (the chunks,
     their seeds and the merge order are the same; only the engine differs);
   * n = 10^9 on the cluster: time, and the peak resident memory of each worker process
     (``ru_maxrss``, read on the workers after the run).  A 10^9 run and a 10^8 run average different
     samples, so their means are not comparable bit for bit; what is comparable is the engine (the
     10^8 pair above) and, at 10^9, that the estimate is still consistent with the exact value.
     ``--single-1e9`` also runs 10^9 in this process on one thread and compares the bits.

2. ``symflow verify derivations`` in fresh processes: ``--jobs N`` (forked workers) against
   ``--dask-workers N`` (a LocalCluster started for the run, its start-up included), wall time and
   the claim count.

Run: ``python benchmarks/bench_dask.py [--workers 2] [--n-big 1000000000] [--n-ref 100000000]``.
The load average is printed with each figure: on a shared machine it explains most of the spread.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import symflow as sf  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
FIELDS = ("mean", "stderr", "exact", "z", "delta", "status", "n", "tail_index", "reason")


def load() -> str:
    return ", ".join(f"{v:.1f}" for v in os.getloadavg())


def workload():
    p = sf.families.normal()
    mu, sigma = p.params
    est = sf.derive(p, sf.flows.zero(p), sigma)
    return est, p.x[0] ** 2, {mu: 0.3, sigma: 1.2}, 2.4


def run_mc(n: int, **kwargs):
    est, phi, params, exact = workload()
    start = time.perf_counter()
    result = sf.mc_check(est, phi, params, n, seed=0, exact=exact, progress=False, **kwargs)
    return result, time.perf_counter() - start


def peak_rss_mb() -> float:  # runs on each worker
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def mc_part(workers: int, n_ref: int, n_big: int, single_big: bool) -> dict:
    import dask
    from distributed import Client, LocalCluster

    out: dict = {}
    result, seconds = run_mc(n_ref, workers=1)
    out["single_ref"] = {"seconds": seconds, "load": load(), "result": str(result)}
    print(f"single process, n = {n_ref:.0e}: {seconds:.1f} s (load {load()})", flush=True)
    with dask.config.set({"distributed.worker.daemon": False}):
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
        )
    with Client(cluster) as client:
        run_mc(10**5, client=client)  # warm the workers (imports, compiled code) before timing
        on_cluster, seconds = run_mc(n_ref, client=client)
        same = {f: getattr(on_cluster, f) == getattr(result, f) for f in FIELDS}
        out["cluster_ref"] = {"seconds": seconds, "load": load(), "same_bits": same}
        print(f"cluster ({workers} workers), n = {n_ref:.0e}: {seconds:.1f} s (load {load()}); same bits: {same}")
        big, seconds = run_mc(n_big, client=client)
        peaks = client.run(peak_rss_mb)
        out["cluster_big"] = {
            "seconds": seconds,
            "load": load(),
            "peak_rss_mb_per_worker": sorted(peaks.values()),
            "result": str(big),
        }
        print(f"cluster ({workers} workers), n = {n_big:.0e}: {seconds:.1f} s (load {load()})", flush=True)
        print(f"  peak RSS per worker: {', '.join(f'{v:.0f} MB' for v in sorted(peaks.values()))}")
        print("  " + str(big).replace("\n", "\n  "), flush=True)
    cluster.close()
    if single_big:
        local_big, seconds = run_mc(n_big, workers=1)
        same = {f: getattr(local_big, f) == getattr(big, f) for f in FIELDS}
        out["single_big"] = {"seconds": seconds, "load": load(), "same_bits": same}
        print(f"single process, n = {n_big:.0e}: {seconds:.1f} s (load {load()}); same bits as the cluster: {same}")
    return out


def verify_part(workers: int) -> dict:
    out = {}
    for label, flag in (("--jobs", ["--jobs", str(workers)]), ("--dask-workers", ["--dask-workers", str(workers)])):
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "symflow", "verify", "derivations", *flag],
            cwd=REPO,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": REPO},
        )
        wall = time.perf_counter() - start
        summary = re.search(r"(\d+) claims: (\d+) as expected", proc.stdout)
        counts = summary.group(0) if summary else proc.stdout[-500:] + proc.stderr[-2000:]
        out[label] = {"seconds": wall, "load": load(), "summary": counts, "exit": proc.returncode}
        print(f"symflow verify derivations {label} {workers}: {wall:.1f} s (load {load()}), {counts}", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--n-ref", type=int, default=10**8)
    parser.add_argument("--n-big", type=int, default=10**9)
    parser.add_argument("--single-1e9", action="store_true", help="also run n-big in this process, one thread")
    parser.add_argument("--skip-verify", action="store_true")
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    print(f"load average at start: {load()}", flush=True)
    report = {"mc_check": mc_part(args.workers, args.n_ref, args.n_big, args.single_1e9)}
    if not args.skip_verify:
        report["verify"] = verify_part(args.workers)
    print(f"load average at end: {load()}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2, default=str)
    ok = all(report["mc_check"]["cluster_ref"]["same_bits"].values())
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
