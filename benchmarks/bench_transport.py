"""Proof time of the transport equation against dimension, full-covariance normal (issue 6, goal 1).

For each d, every parameter of ``mvn(d, "full")`` (d means and the d(d+1)/2 Cholesky entries) has
its transport equation (Eq. 52) checked by ``check_transport``; a row is the time to build the
density and the flow plus all checks, in a fresh Python process (SymPy caches results, so a
second run in one process would look free).  Workloads:

- ``cholesky``: ``mvn(d, form="precision")`` with the Cholesky (reparameterization) flow:
  the residuals expand to the literal 0 (a deterministic proof);
- ``omt``: the same density with the optimal-transport flow (App. E.1);
- ``nested``: ``mvn(d)`` written through forward substitution, Cholesky flow, proved by the
  randomized identity test (symflow's route before the atoms);
- ``naive``: plain SymPy on the textbook expression: Sigma^{-1} written out, the residual
  div u + u . grad log p + d log p / d theta with u = dL L^{-1} (x - mu), then expand and
  cancel, stopped at ``--naive-budget`` seconds per d;
- ``symengine``: the same textbook residual built and expanded by SymEngine (C++), cleared of
  its denominators (powers of the L_ii) first, with the same budget.

Each (workload, d) runs ``--repeats`` times (fresh processes) and the table shows the median
wall time, the median CPU time of the process and its forked children (less sensitive to a busy neighbour on a shared
machine) and the spread.  Run from the repository root:
``python benchmarks/bench_transport.py [--dims 2 4 8 16 32] [--repeats 5] [--json out.json] [--plot f.png]``.
The black ticks on the plot are the goals (d = 8 under 1 s, d = 16 under 10 s, d = 32 under 30 s);
d = 64 (2144 parameters) is reported without a goal: parameters are checked in order until
``BIG_BUDGET_S`` of CPU time is spent on checks (the row says how many; building the density and the flow
is not counted in that budget).  A run is stopped after ``RUN_CAP_S``.  The ``build cpu`` column is the
CPU time of building the density and the flow (included in ``cpu``); after the table, the OMT rows'
CPU time is given as a ratio to the Cholesky rows' of the same d, both measured in this run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

WORKLOADS = ("cholesky", "omt", "nested", "naive", "symengine")
RUN_CAP_S = 600.0  # one fresh process (all parameters of one d) is stopped after this long
BIG_BUDGET_S = 240.0  # from d = 64 on, our routes check parameters until this much CPU time is spent
GOALS = {8: 1.0, 16: 10.0, 32: 30.0}  # seconds: issue 6 goal 1 (d = 8, 16), issue 16 (d = 32; d = 64 reported)


def _ours(kind: str, d: int, budget: float | None = None) -> dict:
    """All parameters checked; with ``budget`` (CPU seconds, used from d = 64 on) stop when it runs out."""
    import symflow as sf

    b0 = _cpu()
    form = "nested" if kind == "nested" else "precision"
    p = sf.families.mvn(d, "full", form=form)
    flow = sf.flows.omt(p) if kind == "omt" else sf.flows.reparam(p)
    statuses: dict[str, int] = {}
    methods: dict[str, int] = {}
    checked = 0
    c0 = _cpu()  # the budget is for the checks: building the density and the flow is not counted in it
    build = c0 - b0
    for theta in p.params:
        if budget is not None and _cpu() - c0 > budget:
            break
        verdict = sf.check_transport(p, flow, theta, timeout=120)
        checked += 1
        statuses[str(verdict.status)] = statuses.get(str(verdict.status), 0) + 1
        key = "deterministic" if verdict.method.startswith("structural") else verdict.method.split("(")[0].strip()
        methods[key] = methods.get(key, 0) + 1
    out = {"params": len(p.params), "checked": checked, "statuses": statuses, "methods": methods}
    return {**out, "build_cpu": build, "check_cpu": _cpu() - c0}


def _naive(d: int, budget: float) -> dict:
    """Textbook SymPy: explicit inverse, residual of every parameter, expand + cancel, until the budget runs out."""
    import sympy as sp

    x = sp.Matrix(sp.symbols(f"x1:{d + 1}", real=True))
    mu = sp.Matrix(sp.symbols(f"mu1:{d + 1}", real=True))
    L = sp.zeros(d, d)
    params = list(mu)
    for i in range(d):
        for j in range(i + 1):
            L[i, j] = sp.Symbol(f"L{i + 1}{j + 1}", positive=(i == j), real=True)
            params.append(L[i, j])
    z = x - mu
    linv = L.inv()
    sigma_inv = linv.T * linv
    logp = -(z.T * sigma_inv * z)[0] / 2 - sum(sp.log(L[i, i]) for i in range(d))
    grad = [sp.diff(logp, xi) for xi in x]
    start = time.process_time()
    done, zeros = 0, 0
    for theta in params:
        u = mu.diff(theta) + L.diff(theta) * linv * z
        residual = sum(sp.diff(u[i], x[i]) for i in range(d)) + sum(u[i] * grad[i] for i in range(d))
        residual += sp.diff(logp, theta)
        zeros += sp.cancel(sp.expand(residual)) == 0
        done += 1
        if time.process_time() - start > budget:
            break
    return {"params": len(params), "checked": done, "statuses": {"proved": zeros}, "methods": {"expand+cancel": done}}


def _cpu() -> float:
    """CPU seconds of this process and its finished children (budgeted steps run in forked children)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _symengine(d: int, budget: float) -> dict:
    """The textbook residual in SymEngine: derivatives and expansion in C++, denominators cleared."""
    import symengine as se

    x = [se.Symbol(f"x{i}") for i in range(d)]
    mu = [se.Symbol(f"mu{i}") for i in range(d)]
    L = se.zeros(d, d)
    params = list(mu)
    for i in range(d):
        for j in range(i + 1):
            L[i, j] = se.Symbol(f"L{i}{j}")
            params.append(L[i, j])
    z = se.Matrix([xi - mi for xi, mi in zip(x, mu, strict=True)])
    linv = L.inv()
    s = linv * z
    logp = -sum(s[i] ** 2 for i in range(d)) / 2 - sum(se.log(L[i, i]) for i in range(d))
    grad = [logp.diff(xi) for xi in x]
    clear = se.Integer(1)
    for i in range(d):
        clear *= L[i, i] ** 4
    start = time.process_time()
    done, zeros = 0, 0
    for theta in params:
        dmu = se.Matrix([m.diff(theta) for m in mu])
        dl = L.applyfunc(lambda e, t=theta: e.diff(t))
        u = dmu + dl * s
        residual = sum(u[i].diff(x[i]) for i in range(d)) + sum(u[i] * grad[i] for i in range(d)) + logp.diff(theta)
        zeros += se.expand(residual * clear) == 0
        done += 1
        if time.process_time() - start > budget:
            break
    return {"params": len(params), "checked": done, "statuses": {"proved": zeros}, "methods": {"expand": done}}


def measure(kind: str, d: int, budget: float) -> dict:
    """One run, in this (fresh) process."""
    import sympy  # noqa: F401 - import cost outside the timed region, as for symflow below

    import symflow  # noqa: F401

    t0, c0 = time.perf_counter(), _cpu()
    route = {"naive": _naive, "symengine": _symengine}.get(kind)
    out = route(d, budget) if route is not None else _ours(kind, d, BIG_BUDGET_S if d >= 64 else None)
    out.update(kind=kind, d=d, wall=time.perf_counter() - t0, cpu=_cpu() - c0)
    return out


def _run_one(kind: str, d: int, budget: float) -> dict | None:
    cmd = [sys.executable, os.path.abspath(__file__), "--one", kind, str(d), "--naive-budget", str(budget)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=RUN_CAP_S)
    except subprocess.TimeoutExpired:
        print(f"  {kind} d={d} stopped after {RUN_CAP_S:.0f} s", file=sys.stderr)
        return None
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else str(done.returncode)
        print(f"  {kind} d={d} failed: {tail}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def rows(dims: list[int], repeats: int, budget: float, kinds: tuple[str, ...], big: int) -> list[dict]:
    out = []
    for kind in kinds:
        for d in dims:
            if kind in ("nested", "naive") and d > 8 or kind == "symengine" and d > 10:
                continue  # far past their budget beyond (see the last rows they have)
            # References that run into their budget are measured once (their time is the budget).
            n = 1 if d >= big or (kind in ("naive", "symengine") and d >= 6) else repeats
            runs = [r for r in (_run_one(kind, d, budget) for _ in range(n)) if r is not None]
            if not runs:
                continue
            walls = [r["wall"] for r in runs]
            cpus = [r["cpu"] for r in runs]
            last = runs[-1]
            row = {
                "workload": kind,
                "d": d,
                "params": last["params"],
                "checked": last.get("checked", last["params"]),
                "runs": len(runs),
                "wall_median": statistics.median(walls),
                "cpu_median": statistics.median(cpus),
                "build_cpu_median": statistics.median(r["build_cpu"] for r in runs) if "build_cpu" in last else None,
                "wall_min": min(walls),
                "wall_max": max(walls),
                "statuses": last["statuses"],
                "methods": last["methods"],
                "goal": GOALS.get(d) if kind in ("cholesky", "omt") else None,
            }
            out.append(row)
            print(_format(row), flush=True)
    return out


HEADER = (
    "| workload | d | params | runs | wall s (median) | cpu s (median) | build cpu s | wall min–max | verdicts "
    "| method | goal |"
)


def _format(row: dict) -> str:
    verdicts = ", ".join(f"{k} {v}" for k, v in sorted(row["statuses"].items()))
    if row["checked"] < row["params"]:
        verdicts += f" (of {row['checked']} checked before the budget ran out)"
    methods = ", ".join(f"{k} {v}" for k, v in sorted(row["methods"].items()))
    goal = ""
    if row["goal"] is not None:
        met = "met" if row["cpu_median"] < row["goal"] else "MISSED"
        goal = f"< {row['goal']:g} s CPU: {met} (wall: {'met' if row['wall_median'] < row['goal'] else 'missed'})"
    build = "" if row.get("build_cpu_median") is None else f"{row['build_cpu_median']:.2f}"
    return (
        f"| {row['workload']} | {row['d']} | {row['params']} | {row['runs']} | {row['wall_median']:.2f} | "
        f"{row['cpu_median']:.2f} | {build} | {row['wall_min']:.2f}–{row['wall_max']:.2f} | {verdicts} | {methods} "
        f"| {goal} |"
    )


def ratios(found: list[dict]) -> list[str]:
    """OMT CPU time / Cholesky CPU time for each d where both rows were measured in this run."""
    cpu = {(r["workload"], r["d"]): r for r in found}
    out = []
    for (kind, d), row in sorted(cpu.items(), key=lambda kv: kv[0][1]):
        chol = cpu.get(("cholesky", d))
        if kind == "omt" and chol is not None and chol["cpu_median"] > 0:
            note = "" if row["checked"] == row["params"] and chol["checked"] == chol["params"] else " (partial)"
            out.append(f"d = {d}: OMT / Cholesky CPU = {row['cpu_median'] / chol['cpu_median']:.2f}{note}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dims", type=int, nargs="+", default=[2, 4, 8, 16, 32])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--big", type=int, default=32, help="dimensions from this one up run once")
    ap.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=WORKLOADS)
    ap.add_argument("--naive-budget", type=float, default=60.0, help="CPU seconds per d for the naive route")
    ap.add_argument("--json", help="write the rows to this file")
    ap.add_argument("--plot", help="draw wall time against d (log scales) into this PNG (needs matplotlib)")
    ap.add_argument("--one", nargs=2, help=argparse.SUPPRESS)  # internal: one run, printed as JSON
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]), args.naive_budget)))
        return 0
    print(f"transport proofs, full-covariance mvn, fresh process per run; load average {os.getloadavg()[0]:.1f}")
    print(HEADER)
    print("|---" * (HEADER.count("|") - 1) + "|")
    found = rows(args.dims, args.repeats, args.naive_budget, tuple(args.workloads), args.big)
    for line in ratios(found):
        print(line)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"benchmark": "transport", "load_end": os.getloadavg()[0], "rows": found}, fh, indent=1)
    if args.plot:
        plot(found, args.plot)
    return 0


LABELS = {
    "cholesky": "Cholesky flow, precision form (deterministic)",
    "omt": "OMT flow, precision form (deterministic)",
    "nested": "Cholesky flow, nested form",
    "naive": "textbook SymPy (expand + cancel)",
    "symengine": "textbook SymEngine (expand)",
}


def plot(found: list[dict], path: str) -> None:
    """Median wall time of all checks against d, one line per workload, log-log."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for kind in WORKLOADS:
        pts = [(r["d"], r["wall_median"], r["checked"] < r["params"]) for r in found if r["workload"] == kind]
        if not pts:
            continue
        line = ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=LABELS[kind])[0]
        for d, wall, partial in pts:
            if partial:  # stopped by the budget: a lower bound
                ax.annotate("budget", (d, wall), textcoords="offset points", xytext=(4, 4), color=line.get_color())
    for d, goal in GOALS.items():
        ax.plot([d], [goal], marker="_", markersize=18, color="black")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("dimension d (all d + d(d+1)/2 parameters checked)")
    ax.set_ylabel("wall time, s (median, fresh process)")
    ax.set_title("Transport proved for every parameter, full-covariance normal", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
