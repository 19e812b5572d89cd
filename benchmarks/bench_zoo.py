"""The public zoo of issue 13: compiled-estimator throughput and the time of each check, per row.

For each row of ``tests/_zoo_cases.py`` (von Mises kappa, Beta alpha, tied Beta,
Gamma alpha, Student-t nu, Weibull k, truncated exponential c, Dirichlet alpha_1,
log-normal sigma) this prints

- **samples/s**: the compiled estimator (``est.compile(threads=1)``) evaluated on n draws
  of x ~ p (with phi and grad phi at them), median over the repeats of n / CPU seconds of
  this process (``time.process_time``): one core, whatever the neighbours do;
- the seconds (wall clock, in this process) of ``check_transport`` of the row's implicit
  flow, ``derive``, ``mc_check`` (n = 10**5, no sampler=, no exact=) and ``check_unbiased``
  at the default budget, with each verdict; and |mc_check's exact - mpmath truth|;
- the load average before and after (``os.getloadavg``): wall-clock seconds on a shared
  2-core machine measure the neighbours too.

Run from the repository root: ``PYTHONPATH=. python benchmarks/bench_zoo.py [--n 200000]
[--repeats 5] [--only ROW] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import sympy as sp

if __package__ in (None, ""):  # run as a script from the checkout => import the checkout's symflow
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import symflow as sf  # noqa: E402
from symflow.numeric.compiled import compile_main_part  # noqa: E402
from tests._zoo_cases import CASES, built, estimator, truth  # noqa: E402


def throughput(case_id: str, n: int, repeats: int) -> float:
    """Median samples per CPU second of the compiled estimator on n draws of x ~ p.

    An estimator with extra terms (the truncated exponential's moving boundary) is timed on its
    per-sample part, the code mc_check runs; ``compile()`` refuses it on its own (it would be biased).
    """
    p, _, _, wrt, phi, params = built(case_id)
    est = estimator(case_id)
    compiled = compile_main_part(est, threads=1) if est.extra_terms else est.compile(threads=1)
    floats = {k: float(v) for k, v in params.items()}
    xs = p.sample(n, {t: floats[t] for t in p.params}, np.random.default_rng(0))
    cols = tuple(xs.T)
    phi_fn = sf.numeric.evaluate.numpy_function(p.x, [phi, *(sp.diff(phi, xi) for xi in p.x)])
    values = [np.broadcast_to(np.asarray(v, dtype=float), (n,)) for v in phi_fn(*cols)]
    phis, grads = values[0], np.column_stack(values[1:])
    compiled(xs[:10], phis[:10], grads[:10], floats)  # build the function outside the timing
    rates = []
    for _ in range(repeats):
        t0 = time.process_time()
        compiled(xs, phis, grads, floats)
        rates.append(n / max(time.process_time() - t0, 1e-9))
    return statistics.median(rates)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def row(case_id: str, n: int, repeats: int) -> dict:
    p, transport_flow, _, wrt, phi, params = built(case_id)
    transport, t_transport = timed(lambda: sf.check_transport(p, transport_flow, wrt=wrt))
    est, t_derive = timed(lambda: sf.derive(p, built(case_id)[2], wrt))
    rate = throughput(case_id, n, repeats)
    mc, t_mc = timed(lambda: sf.mc_check(est, phi, params, 10**5, seed=0))
    unbiased, t_unbiased = timed(lambda: sf.check_unbiased(est, phi, params=params))
    exact_error = abs(mc.exact - truth(case_id)) if mc.exact is not None else None
    return {
        "row": case_id,
        "transport": transport.status.value,
        "transport_s": round(t_transport, 2),
        "derive_s": round(t_derive, 2),
        "psi_is_zero": bool(est.psi == 0),
        "samples_per_s": round(rate),
        "mc_check": mc.status.value,
        "mc_check_s": round(t_mc, 2),
        "exact_error": exact_error,
        "check_unbiased": unbiased.status.value,
        "check_unbiased_s": round(t_unbiased, 2),
        "unbiased_reason": unbiased.reason,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", default=None)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    before = os.getloadavg()
    rows = [row(c.id, args.n, args.repeats) for c in CASES if args.only in (None, c.id)]
    after = os.getloadavg()
    head = f"{'row':26} {'transport':10} {'s':>5} {'samples/s':>10} {'mc_check':10} {'s':>5} {'|exact-truth|':>13} "
    print(head + f"{'unbiased':10} {'s':>5}")
    for r in rows:
        err = f"{r['exact_error']:.1e}" if r["exact_error"] is not None else "-"
        print(
            f"{r['row']:26} {r['transport']:10} {r['transport_s']:5.1f} {r['samples_per_s']:10.3g} "
            f"{r['mc_check']:10} {r['mc_check_s']:5.1f} {err:>13} {r['check_unbiased']:10} {r['check_unbiased_s']:5.1f}"
        )
        if r["check_unbiased"] not in ("proved", "consistent"):
            print(f"    unbiased: {r['unbiased_reason']}")
    print(f"load average before {before[0]:.2f}, after {after[0]:.2f} (1 min)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"rows": rows, "load_before": before, "load_after": after}, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
