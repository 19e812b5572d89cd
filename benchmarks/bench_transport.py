"""check_transport for every parameter of the full-covariance mvn (issue 2, benchmark b).

For d = 2, 3, 4, 6, 8 the Cholesky (reparameterization) flow of ``sf.families.mvn(d, "full")``
is built and the transport equation (Eq. 52) is checked for each of its d + d(d+1)/2
parameters.  SymPy caches results, so each d runs in a fresh Python process (see
ENGINEERING-NOTES); the parent prints one table row per d: build time of the flow,
total and slowest check time, and the verdicts with the methods that decided them.

Run (after ``pip install .``, or with ``PYTHONPATH=.`` from the repository root):
``python benchmarks/bench_transport.py [--dims 2 3 4 6 8] [--timeout 60]``.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import time


def measure(d: int, timeout: float) -> dict:
    """Build the flow and check every parameter, in this (fresh) process."""
    import symflow as sf

    p = sf.families.mvn(d, covariance="full")
    t0 = time.perf_counter()
    flow = sf.flows.reparam(p)
    build = time.perf_counter() - t0
    times, statuses, methods = [], collections.Counter(), collections.Counter()
    for theta in p.params:
        t0 = time.perf_counter()
        verdict = sf.check_transport(p, flow, theta, timeout=timeout)
        times.append(time.perf_counter() - t0)
        statuses[str(verdict.status)] += 1
        methods[verdict.method.split(":")[0].split("(")[0].strip()] += 1
    return {
        "d": d,
        "params": len(p.params),
        "build": build,
        "check_total": sum(times),
        "check_max": max(times),
        "statuses": dict(statuses),
        "methods": dict(methods),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dims", type=int, nargs="+", default=[2, 3, 4, 6, 8])
    ap.add_argument("--timeout", type=float, default=60.0, help="budget per check, seconds")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: measure one d and print JSON
    args = ap.parse_args(argv)
    if args.one is not None:
        print(json.dumps(measure(args.one, args.timeout)))
        return 0
    print(f"check_transport, Cholesky flow of mvn(d, 'full'), budget {args.timeout:g} s per check, fresh process per d")
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    header = f"{'d':>2} {'#params':>7} {'build flow s':>12} {'check s (all)':>13} {'slowest s':>9}  verdicts; methods"
    print(header)
    print("-" * len(header))
    ok = True
    for d in args.dims:
        cmd = [sys.executable, os.path.abspath(__file__), "--one", str(d), "--timeout", str(args.timeout)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"{d:>2} failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}")
            ok = False
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        verdicts = ", ".join(f"{k} x{v}" for k, v in sorted(row["statuses"].items()))
        methods = ", ".join(f"{k} x{v}" for k, v in sorted(row["methods"].items()))
        ok &= row["statuses"].get("proved", 0) == row["params"]
        print(
            f"{d:>2} {row['params']:>7} {row['build']:>12.2f} {row['check_total']:>13.2f} {row['check_max']:>9.2f}"
            f"  {verdicts}; {methods}"
        )
    print(f"every parameter proved: {'yes' if ok else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
