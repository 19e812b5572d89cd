"""Wall time of exact Gaussian expectations and their gradients (symflow.calculus.gaussian).

Each row is one (d, form, phi) with phi a polynomial of degree <= 4 under ``mvn(d)``: the time of
``gaussian_expectation(p, phi)`` (E) and of ``gaussian_expectation_gradient(p, phi)`` (d/dtheta E for
every parameter, d + d(d+1)/2 of them, E included), each measured in a fresh Python process after
``sympy.core.cache.clear_cache()`` (SymPy caches results; a second run in one process would look
free).  The times include the forked budget process and the pickled result.  The reference column
``sp.diff`` is SymPy differentiating the returned E parameter by parameter (what a caller without
the gradient function would do), measured in the same fresh process after clearing the cache.

The column ``check_unbiased`` is ``sf.check_unbiased`` (symbolic, no parameter values) of the LR
estimator for the last parameter (an entry of L), same fresh-process timing: both sides exact by
moments (``calculus.integrals.gaussian_moment_integral``), then ``decide_zero``.

Goals: d = 2 gradient and check under 1 s, d = 8 under 5 s, both forms.  Run from the repository root:
``python benchmarks/bench_gaussian_expectation.py [--dims 2 8] [--repeats 3] [--naive] [--json out.json]``.

Measured (2 cores, load average 4.6 from other work; median of 3, max in brackets):

==  =========  =============  =======  =====  =============  ===========
d   form       phi            E terms  E [s]  gradient [s]   sp.diff [s]
==  =========  =============  =======  =====  =============  ===========
2   nested     dense quartic       34   0.08   0.10 (0.11)          0.24
2   precision  dense quartic       34   0.05   0.06 (0.10)          0.19
8   nested     sum x^4             24   0.09   0.23 (0.24)          0.25
8   nested     (sum x)^4         2292   0.61   0.64 (0.65)         33.36
8   nested     |x|^4              192   0.16   0.42 (0.46)          3.26
8   nested     dense quartic     2702   0.46   1.58 (1.65)         61.62
8   precision  sum x^4             24   0.30   0.59 (0.61)          0.53
8   precision  (sum x)^4         2292   0.99   1.04 (1.14)         47.07
8   precision  |x|^4              192   0.27   0.60 (0.64)          3.14
8   precision  dense quartic     2702   1.04   2.72 (2.98)         53.70
==  =========  =============  =======  =====  =============  ===========

Every d = 2 row is under 0.2 s.  Unloaded, the d = 8 dense gradients took 1.6-2.2 s.
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

FORMS = ("nested", "precision")
PHIS = ("sum x^4", "(sum x)^4", "|x|^4", "dense quartic")
GOALS = {2: 1.0, 8: 5.0}  # seconds for the full gradient
UNBIASED_BUDGET_S = 120.0  # check_unbiased's timeout (a row past it reads "unknown")


def _phi(name: str, x: tuple):
    import random
    from itertools import combinations_with_replacement

    import sympy as sp

    if name == "sum x^4":
        return sp.Add(*[xi**4 for xi in x])
    if name == "(sum x)^4":
        return sp.Add(*x) ** 4
    if name == "|x|^4":
        return sp.Add(*[xi**2 for xi in x]) ** 2
    # every monomial of degree <= 4 with an integer coefficient in [-9, 9] (495 monomials at d = 8)
    rng = random.Random(0)
    monos = [c for deg in range(5) for c in combinations_with_replacement(x, deg)]
    return sp.Add(*[rng.randint(-9, 9) * sp.Mul(*c) for c in monos])


def one(d: int, form: str, phi_name: str, what: str) -> dict:
    """Time one workload in this (fresh) process."""
    import sympy as sp

    from symflow.calculus.gaussian import gaussian_expectation, gaussian_expectation_gradient
    from symflow.families.multivariate import mvn

    p = mvn(d, form=form)
    phi = _phi(phi_name, p.x)
    sp.core.cache.clear_cache()
    start = time.perf_counter()
    if what == "E":
        out = gaussian_expectation(p, phi, timeout=600)
        ok, size = out is not None, (len(sp.Add.make_args(out)) if out is not None else 0)
    elif what == "gradient":
        out = gaussian_expectation_gradient(p, phi, timeout=600)
        ok, size = out is not None and len(out) == len(p.params), len(p.params)
    elif what == "unbiased":  # check_unbiased, symbolic, of the LR estimator for the last parameter (an L entry)
        import symflow as sf

        est = sf.derive(p, sf.flows.zero(p), p.params[-1])
        sp.core.cache.clear_cache()
        start = time.perf_counter()
        verdict = sf.check_unbiased(est, phi, timeout=UNBIASED_BUDGET_S)
        ok, size = verdict.status is sf.Status.PROVED, str(verdict.status)
    else:  # the reference: SymPy's diff of the returned E, parameter by parameter
        value = gaussian_expectation(p, phi, timeout=600)
        sp.core.cache.clear_cache()
        start = time.perf_counter()
        out = [sp.diff(value, t) for t in p.params]
        ok, size = True, len(p.params)
    return {"seconds": time.perf_counter() - start, "ok": ok, "size": size}


def measure(d: int, form: str, phi_name: str, what: str, repeats: int) -> dict:
    here = os.path.abspath(__file__)
    root = os.path.dirname(os.path.dirname(here))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    runs = []
    for _ in range(repeats):
        got = subprocess.run(
            [sys.executable, here, "--one", str(d), form, phi_name, what],
            capture_output=True,
            text=True,
            env=env,
            cwd=root,
            check=True,
        )
        runs.append(json.loads(got.stdout.strip().splitlines()[-1]))
    secs = [r["seconds"] for r in runs]
    ok = all(r["ok"] for r in runs)
    return {"median": statistics.median(secs), "max": max(secs), "ok": ok, "size": runs[0]["size"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dims", type=int, nargs="+", default=[2, 8])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--naive", action="store_true", help="also time sp.diff of E at d > 2 (about 30 s a row at d = 8)")
    ap.add_argument("--phis", nargs="+", default=list(PHIS), choices=PHIS)
    ap.add_argument("--json", default=None)
    ap.add_argument("--one", nargs=4, metavar=("D", "FORM", "PHI", "WHAT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        d, form, phi_name, what = args.one
        print(json.dumps(one(int(d), form, phi_name, what)))
        return
    rows = []
    header = f"{'d':>2} {'form':<9} {'phi':<14} {'E terms':>7} {'E [s]':>7} {'gradient [s]':>12} {'goal':>5}"
    header += f" {'sp.diff [s]':>11} {'check_unbiased [s]':>18}"
    print(f"load average {os.getloadavg()[0]:.2f}; median of {args.repeats} fresh processes (max in brackets)")
    print(header)
    print("-" * len(header))
    for d in args.dims:
        for form in FORMS:
            for phi_name in args.phis:
                e = measure(d, form, phi_name, "E", args.repeats)
                g = measure(d, form, phi_name, "gradient", args.repeats)
                u = measure(d, form, phi_name, "unbiased", args.repeats)
                naive = measure(d, form, phi_name, "diff", 1) if (d <= 2 or args.naive) else None
                goal = GOALS.get(d)
                met = "" if goal is None else ("met" if g["ok"] and g["median"] < goal else "MISS")
                nv = "-" if naive is None else f"{naive['median']:.2f}"
                print(
                    f"{d:>2} {form:<9} {phi_name:<14} {e['size']:>7} {e['median']:>7.2f} "
                    f"{g['median']:>6.2f} ({g['max']:.2f}) {met:>5} {nv:>11} "
                    f"{u['median']:>7.2f} ({u['max']:.2f}) {'proved' if u['ok'] else u['size']}",
                    flush=True,
                )
                rows.append(
                    {
                        "d": d,
                        "form": form,
                        "phi": phi_name,
                        "E_s": e["median"],
                        "E_terms": e["size"],
                        "gradient_s": g["median"],
                        "gradient_max_s": g["max"],
                        "sp_diff_s": None if naive is None else naive["median"],
                        "check_unbiased_s": u["median"],
                        "check_unbiased_max_s": u["max"],
                        "check_unbiased": "proved" if u["ok"] else u["size"],
                        "goal_s": goal,
                        "load_average": os.getloadavg()[0],
                    }
                )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"benchmark": "gaussian", "load": os.getloadavg(), "rows": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
