"""What a user waits for (issue 6, goal 4): importing symflow, verifying the derivations, the Gamma implicit flow.

Rows, each the median of ``--repeats`` fresh processes unless stated:

- ``import symflow`` against ``import sympy, numpy, mpmath, scipy.special`` (what symflow
  cannot avoid importing) in the same run;
- ``symflow verify derivations``: wall time of the whole command (``--verify-runs`` runs, default
  1: it takes about a minute), with the per-claim seconds summed and the slowest claims named;
- derive + compile of the Gamma implicit-reparameterization estimator (the flow contains
  incomplete-gamma derivatives), split into family, flow, derive, compile, and one call on
  2000 samples (d/dalpha of the incomplete gamma function is a Meijer G function, which
  neither numpy nor scipy has: it is evaluated by mpmath, one Python call per sample).

Run from the repository root: ``python benchmarks/bench_waits.py [--repeats 5] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_IMPORT = "import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"

_GAMMA = """
import time, json
t0 = time.perf_counter()
import numpy as np, sympy as sp, symflow as sf
t1 = time.perf_counter()
p = sf.families.gamma()
t2 = time.perf_counter()
flow = sf.flows.implicit(p)
t3 = time.perf_counter()
alpha = p.params[0]
est = sf.derive(p, flow, alpha)
t4 = time.perf_counter()
f = est.compile()
t5 = time.perf_counter()
values = {s: 2.0 for s in p.params}
x = p.sample(2000, values, np.random.default_rng(0))
xs = x.reshape(-1)
out = f(xs, xs**2, 2 * xs, values)
t6 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "family": t2 - t1, "flow": t3 - t2, "derive": t4 - t3,
                  "compile": t5 - t4, "call_2000": t6 - t5, "finite": bool(np.isfinite(out).all())}))
"""


def _python(code: str) -> str:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=ROOT)
    return done.stdout.strip().splitlines()[-1]


def import_rows(repeats: int) -> list[dict]:
    ours = [float(_python(_IMPORT.format(stmt="import symflow"))) for _ in range(repeats)]
    base = [float(_python(_IMPORT.format(stmt="import sympy, numpy, mpmath, scipy.special"))) for _ in range(repeats)]
    return [
        {
            "workload": "import symflow",
            "ours_s": statistics.median(ours),
            "reference": "import sympy, numpy, mpmath, scipy.special",
            "reference_s": statistics.median(base),
            "runs": repeats,
            "spread_s": [min(ours), max(ours)],
            "goal": "< 1 s",
            "met": statistics.median(ours) < 1.0,
        }
    ]


def verify_rows(runs: int) -> list[dict]:
    walls, sums, slowest = [], [], []
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for _ in range(runs):
        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "symflow", "verify", "derivations", "--json"],
            capture_output=True,
            text=True,
            check=False,
            env=env,
            cwd=ROOT,
        )
        walls.append(time.perf_counter() - t0)
        rows = json.loads(done.stdout)
        sums.append(sum(r["seconds"] for r in rows))
        expected = sum(r["as_expected"] for r in rows)
        slowest = sorted(rows, key=lambda r: -r["seconds"])[:3]
    return [
        {
            "workload": f"symflow verify derivations ({len(rows)} claims, {expected} as expected)",
            "ours_s": statistics.median(walls),
            "reference": "sum of the per-claim seconds (what one process would take)",
            "reference_s": statistics.median(sums),
            "runs": runs,
            "spread_s": [min(walls), max(walls)],
            "goal": "< 60 s",
            "met": statistics.median(walls) < 60.0,
            "slowest": [f"{r['claim']} {r['seconds']:.1f} s" for r in slowest],
        }
    ]


def gamma_rows(repeats: int) -> list[dict]:
    runs = [json.loads(_python(_GAMMA)) for _ in range(repeats)]
    parts = ("family", "flow", "derive", "compile", "call_2000")
    med = {k: statistics.median(r[k] for r in runs) for k in parts}
    return [
        {
            "workload": "Gamma implicit flow: " + ", ".join(f"{k} {med[k]:.2f} s" for k in parts),
            "ours_s": sum(med[k] for k in ("family", "flow", "derive", "compile")),
            "reference": "",
            "reference_s": None,
            "runs": repeats,
            "spread_s": None,
            "goal": "reported",
            "met": all(r["finite"] for r in runs),
        }
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--verify-runs", type=int, default=1)
    ap.add_argument("--json", help="write the rows to this file")
    args = ap.parse_args(argv)
    load0 = os.getloadavg()[0]
    rows = import_rows(args.repeats) + gamma_rows(args.repeats) + verify_rows(args.verify_runs)
    print(f"load average at start {load0:.1f}, at end {os.getloadavg()[0]:.1f}")
    for r in rows:
        ref = "" if r["reference_s"] is None else f" | {r['reference']}: {r['reference_s']:.2f} s"
        print(f"{r['workload']}: {r['ours_s']:.2f} s (median of {r['runs']}){ref} | goal {r['goal']}: {r['met']}")
        for line in r.get("slowest", []):
            print(f"    slowest: {line}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"benchmark": "waits", "load_start": load0, "rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
