"""Wall time of ``symflow verify derivations`` (every claim of every derivation module) on this machine.

One row per run: ``python -m symflow verify derivations --json`` in a fresh process with the
default ``--jobs`` (one worker per core, at most 4), its wall time, the number of claims and of
claims whose verdict is the expected one, the slowest claims (their own ``seconds``, measured in
the workers) and the 1-minute load average before and after (other work on a shared 2-core
machine takes cores from the workers).  ``--modules`` times single files instead of the folder.

Goal (issue 16): the whole folder in <= 20 s of wall time on 2 cores.  Run from the repository
root: ``python benchmarks/bench_verify.py [--repeats 1] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GOAL_S = 20.0


def run_once(paths: list[str]) -> dict:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "symflow", "verify", *paths, "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    try:
        claims = json.loads(done.stdout)
    except json.JSONDecodeError:
        claims = []
    slowest = sorted(claims, key=lambda c: -float(c.get("seconds") or 0))[:3]
    return {
        "paths": " ".join(paths),
        "wall_s": wall,
        "claims": len(claims),
        "as_expected": sum(1 for c in claims if c.get("as_expected")),
        "claim_seconds_total": sum(float(c.get("seconds") or 0) for c in claims),
        "slowest": [f"{c['claim'][:50]} {float(c['seconds']):.1f} s" for c in slowest],
        "not_as_expected": [
            f"{c.get('module', '')}: {c['claim'][:60]} ({c.get('status')}, expected {c.get('expected')})"
            for c in claims
            if not c.get("as_expected")
        ],
        "exit_status": done.returncode,
        "goal_s": GOAL_S if paths == ["derivations"] else None,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--modules", nargs="+", help="derivation files to time one by one (default: the folder)")
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    targets = [[m] for m in args.modules] if args.modules else [["derivations"]]
    rows = []
    for paths in targets:
        for _ in range(args.repeats):
            row = run_once(paths)
            rows.append(row)
            print(
                f"{row['paths']}: {row['wall_s']:.1f} s wall, {row['as_expected']}/{row['claims']} claims as expected, "
                f"claims' own seconds {row['claim_seconds_total']:.0f}, load {row['load_before']:.1f} -> "
                f"{row['load_after']:.1f}; slowest: {'; '.join(row['slowest'])}",
                flush=True,
            )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"benchmark": "verify", "cpus": os.cpu_count(), "rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
