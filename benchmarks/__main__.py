"""Run every benchmark and write one Markdown table and one JSON file: ``python -m benchmarks``.

Each benchmark is a script in this folder that runs its own workloads side by side with a
reference measured in the same run, prints a table and writes JSON with ``--json``.  This runner
calls them one after another (so they do not compete for the two cores), collects their JSON,
and writes ``benchmarks/results/results.json`` and ``benchmarks/results/results.md``.

``--quick`` shrinks every benchmark (fewer repeats, smaller n, d up to 16) for a smoke run of a
few minutes; the full run takes about 30 minutes on a 2-core machine.  ``--only NAME ...``
runs a subset (issue 16's table: ``--only compile transport montecarlo gaussian verify``).  The
textbook SymPy/SymEngine transport references (``bench_transport.py --workloads naive symengine``)
are left out of the default run: they only measure the budget running out.  Run from the
repository root.
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

# name -> (script, full arguments, quick arguments)
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "transport": (
        "bench_transport.py",
        [
            "--repeats",
            "1",
            "--dims",
            "2",
            "4",
            "8",
            "16",
            "32",
            "64",
            "--workloads",
            "cholesky",
            "omt",
            "nested",
            "--plot",
            os.path.join(ROOT, "docs", "figures", "proof_time_vs_d.png"),
        ],
        ["--repeats", "1", "--dims", "2", "4", "8", "16"],
    ),
    "compile": ("bench_compile.py", ["--repeats", "7"], ["--repeats", "3", "--n", "200000"]),
    "montecarlo": ("bench_montecarlo.py", ["--repeats", "5"], ["--repeats", "1", "--n", "10000000"]),
    "gaussian": (
        "bench_gaussian_expectation.py",
        ["--repeats", "1", "--phis", "|x|^4", "dense quartic"],
        ["--repeats", "1", "--phis", "|x|^4"],
    ),
    "verify": ("bench_verify.py", ["--repeats", "1"], ["--repeats", "1"]),
    "calibration": ("bench_calibration.py", [], ["--runs", "200", "--heavy-runs", "50"]),
    "corpus": ("corpus_report.py", [], []),
    "waits": ("bench_waits.py", ["--repeats", "5"], ["--repeats", "2"]),
}


def run(name: str, quick: bool, outdir: str) -> dict:
    script, full, fast = BENCHMARKS[name]
    path = os.path.join(outdir, f"{name}.json")
    cmd = [sys.executable, os.path.join(HERE, script), *(fast if quick else full), "--json", path]
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    print(f"== {name}: {' '.join(cmd[1:])}", flush=True)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, check=False)
    took = time.perf_counter() - t0
    if not os.path.exists(path):
        return {"benchmark": name, "error": f"exit status {done.returncode}, no JSON written", "seconds": took}
    return _load(name, path, exit_status=done.returncode, seconds=took)


def _load(name: str, path: str, **extra) -> dict:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    data["benchmark"] = name
    if "rows" not in data and isinstance(data.get("summary"), dict):
        data["rows"] = [{"count": k, "value": v} for k, v in data["summary"].items()]
    data.update(extra)
    return data


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(_cell(v) for v in value)
    return str(value).replace("|", "/")


def markdown(results: list[dict], quick: bool, load: tuple, collected: bool = False) -> str:
    when = time.strftime("%Y-%m-%d %H:%M")
    if collected:
        intro = (
            f"Collected by `python -m benchmarks --collect` on {when} from each benchmark's JSON; "
            f"{os.cpu_count()} CPU cores; each benchmark records the load average it saw."
        )
    else:
        intro = (
            f"Written by `python -m benchmarks{' --quick' if quick else ''}` on {when}; {os.cpu_count()} CPU cores; "
            f"load average at start {load[0]:.1f}, at end {os.getloadavg()[0]:.1f}."
        )
    lines = ["# symflow benchmarks", "", intro]
    for res in results:
        lines += ["", f"## {res['benchmark']}", ""]
        if "error" in res:
            lines.append(f"failed: {res['error']}")
            continue
        rows = res.get("rows") or []
        if not rows:
            lines.append("```text\n" + json.dumps({k: v for k, v in res.items() if k != "rows"}, indent=1) + "\n```")
            continue
        keys = list(dict.fromkeys(k for row in rows for k in row))
        lines.append("| " + " | ".join(keys) + " |")
        lines.append("|" + "---|" * len(keys))
        lines += ["| " + " | ".join(_cell(row.get(k, "")) for k in keys) + " |" for row in rows]
        lines.append("")
        if "exit_status" in res:
            lines.append(f"exit status {res['exit_status']}, {res.get('seconds', 0):.0f} s")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes and few repeats (a smoke run)")
    ap.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), help="run only these")
    ap.add_argument("--out", default=os.path.join(HERE, "results"), help="folder for results.json / results.md")
    ap.add_argument("--collect", action="store_true", help="only gather the JSON files already in --out")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    load = os.getloadavg()
    names = args.only or list(BENCHMARKS)
    if args.collect:
        results = [_load(n, os.path.join(args.out, f"{n}.json")) for n in names]
    else:
        results = [run(name, args.quick, args.out) for name in names]
    with open(os.path.join(args.out, "results.json"), "w", encoding="utf-8") as fh:
        json.dump({"quick": args.quick, "load_start": load[0], "results": results}, fh, indent=1)
    with open(os.path.join(args.out, "results.md"), "w", encoding="utf-8") as fh:
        fh.write(markdown(results, args.quick, load, collected=args.collect))
    print(f"wrote {os.path.join(args.out, 'results.md')} and results.json")
    return 0 if all("error" not in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
