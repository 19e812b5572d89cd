r"""Calibration of mc_check (issue 7, "Monte Carlo calibration"): false alarms, power, heavy tails.

Four groups of seeded mc_check runs at alpha = 1e-3 (n = 2 * 10**4 samples each, so the tail
diagnostic, which starts at n = 10**4, is active), every run with its own seed:

* **correct** (``--runs``, default 1000, spread over 7 estimators of 5 families: normal LR and
  RP, exponential LR and RP, Laplace LR, the Poisson GO estimator with its jump term, a
  Pareto(6) LR): target false-refutation rate <= 2 alpha.  Heavy-tail flags among them are the
  diagnostic's false-flag rate.
* **biased** (``--runs`` again, the same estimators): the estimator is compared with a value
  shifted by b = 2.2 delta_true, where delta_true = z_{1-alpha/2} sigma / sqrt(n) is
  mc_check's delta computed with the estimator's true standard deviation sigma (measured once
  from 4 * 10**6 samples).  Shifting the value tested against is the same as adding a bias b to the
  estimator, because z depends on mean - exact only.  Target: refuted in >= 99.9 % of the
  runs where b >= 2 delta with delta as mc_check defines it (the run's own
  z_{1-alpha/2} * stderr); the rate over all runs is printed too.
* **heavy** (``--heavy-runs``, default 200 per estimator): infinite variance, Pareto(1.5) LR
  and RP of d/da E[x], Student t(1.5) LR of d/dsigma E[x].  Target: all flagged (status
  unknown, reason "heavy tail"), none refuted or consistent.
* **borderline** (``--heavy-runs``): finite variance but infinite fourth moment or a
  high-degree polynomial of a Gaussian (Pareto(3) LR, normal LR of d/dsigma E[x^4], Pareto(1.9)
  LR, the last with infinite variance): no target, the flag rate is reported as measured, at n
  and (a quarter of the runs) at 10 n.

Run: ``python benchmarks/bench_calibration.py [--runs 1000] [--heavy-runs 200] [--n 20000]
[--json out.json]`` (``--runs 100 --heavy-runs 20`` for a quick look).  The exit status is 1
when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import dataclass

import numpy as np
import sympy as sp

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import symflow as sf  # noqa: E402
from symflow.montecarlo import _critical_z  # noqa: E402

ALPHA = 1e-3
# Planted bias in units of delta_true (delta computed with the true sd): 2.2 rather than 2 so that the bias is
# at least 2 delta of nearly every run too (a run's delta uses its own stderr, which scatters around the true one).
BIAS_FACTOR = 2.2


@dataclass(frozen=True)
class Case:
    name: str
    est: sf.Estimator
    phi: sp.Expr
    params: dict
    exact: float


def _normal_cases() -> list[Case]:
    p = sf.families.normal()
    x, (mu, sigma) = p.x[0], p.params
    at = {mu: 0.3, sigma: 1.2}
    return [
        Case("normal LR d/dmu E[x^2]", sf.derive(p, sf.flows.zero(p), mu), x**2, at, 2 * 0.3),
        Case("normal RP d/dsigma E[x^2]", sf.Estimator(p, sigma, [(x - mu) / sigma], 0, name="RP"), x**2, at, 2.4),
    ]


def _exponential_cases() -> list[Case]:
    p = sf.families.exponential()
    x, (rate,) = p.x[0], p.params
    at = {rate: 1.5}
    # E[x] = 1/rate, E[x^2] = 2/rate^2; RP: x = eps/rate => dx/drate = -x/rate.
    return [
        Case("exponential LR d/drate E[x]", sf.derive(p, sf.flows.zero(p), rate), x, at, -1 / 1.5**2),
        Case("exponential RP d/drate E[x^2]", sf.Estimator(p, rate, [-x / rate], 0, name="RP"), x**2, at, -4 / 1.5**3),
    ]


def _laplace_case() -> Case:
    p = sf.families.laplace()
    x, (mu, sigma) = p.x[0], p.params
    return Case("laplace LR d/dmu E[x^2]", sf.derive(p, sf.flows.zero(p), mu), x**2, {mu: 0.3, sigma: 1.0}, 0.6)


def _poisson_case() -> Case:
    p = sf.families.poisson()
    (lam,), y = p.params, p.x[0]
    return Case("poisson GO d/dlam E[y^2]", sf.go_estimator(p, lam), y**2, {lam: 1.7}, 1 + 2 * 1.7)


A = sp.Symbol("a", positive=True)


def pareto() -> sf.Density:
    """Pareto(a) on [1, oo): p = a / y^(a+1), E[y] = a/(a - 1), sampled by inversion."""
    y = sp.Symbol("y", positive=True)

    def sampler(n: int, pr: dict, rng: np.random.Generator) -> np.ndarray:
        return (1.0 / (1.0 - rng.random((n, 1)))) ** (1.0 / pr[A])

    return sf.Density(A / y ** (A + 1), (y,), (A,), support=sp.Interval(1, sp.oo), sampler=sampler, name="pareto")


def pareto_case(shape: float, kind: str) -> Case:
    """d/da E[y] = -1/(a - 1)^2.  LR: y (1/a - log y), tail index a.  RP: y = U^(-1/a) => dy/da = -y log(y)/a."""
    p = pareto()
    y = p.x[0]
    if kind == "LR":
        est = sf.Estimator(p, A, [0], 1 / A - sp.log(y), name="LR")
    else:
        est = sf.Estimator(p, A, [-y * sp.log(y) / A], 0, name="RP")
    return Case(f"pareto({shape:g}) {kind} d/da E[y]", est, y, {A: shape}, -1.0 / (shape - 1.0) ** 2)


def student_case(nu: float) -> Case:
    """Student t(nu) location-scale, LR for sigma, phi = x: E[x] = mu => exact 0; tail index nu."""
    x, mu, sigma = sp.Symbol("x", real=True), sp.Symbol("mu", real=True), sp.Symbol("sigma", positive=True)

    def sampler(n: int, pr: dict, rng: np.random.Generator) -> np.ndarray:
        return pr[mu] + pr[sigma] * rng.standard_t(nu, (n, 1))

    z = (x - mu) / sigma
    p = sf.Density((1 + z**2 / nu) ** (-(nu + 1) / 2) / sigma, (x,), (mu, sigma), sampler=sampler, name=f"t({nu:g})")
    est = sf.Estimator(p, sigma, [0], ((nu + 1) * z**2 / (nu + z**2) - 1) / sigma, name="LR")
    return Case(f"student t({nu:g}) LR d/dsigma E[x]", est, x, {mu: 0.3, sigma: 1.2}, 0.0)


def normal_x4_case() -> Case:
    p = sf.families.normal()
    x, (mu, sigma) = p.x[0], p.params
    # E[x^4] = mu^4 + 6 mu^2 sigma^2 + 3 sigma^4 => d/dsigma = 12 mu^2 sigma + 12 sigma^3
    exact = 12 * 0.3**2 * 1.2 + 12 * 1.2**3
    return Case("normal LR d/dsigma E[x^4]", sf.derive(p, sf.flows.zero(p), sigma), x**4, {mu: 0.3, sigma: 1.2}, exact)


def correct_cases() -> list[Case]:
    return [*_normal_cases(), *_exponential_cases(), _laplace_case(), _poisson_case(), pareto_case(6.0, "LR")]


def heavy_cases() -> list[Case]:
    return [pareto_case(1.5, "LR"), pareto_case(1.5, "RP"), student_case(1.5)]


def borderline_cases() -> list[Case]:
    return [pareto_case(3.0, "LR"), normal_x4_case(), pareto_case(1.9, "LR")]


def true_sd(case: Case, n: int = 4 * 10**6) -> float:
    """The estimator's standard deviation from one large run (its stderr * sqrt(n))."""
    r = sf.mc_check(case.est, case.phi, case.params, n, seed=987_654_321, exact=case.exact, progress=False)
    return r.stderr * math.sqrt(n)


def run_group(group: str, cases: list[Case], runs: int, n: int, seed0: int, biases: dict | None = None) -> list[dict]:
    rows = []
    per_case = [runs // len(cases) + (1 if i < runs % len(cases) else 0) for i in range(len(cases))]
    for case_index, (case, count) in enumerate(zip(cases, per_case, strict=True)):
        shift = biases[case.name] if biases else 0.0
        counts = {"refuted": 0, "consistent": 0, "unknown": 0, "heavy": 0, "bias_ge_2delta": 0, "refuted_of_those": 0}
        start = time.perf_counter()
        for r in range(count):
            seed = seed0 + 100_000 * case_index + r
            res = sf.mc_check(case.est, case.phi, case.params, n, seed=seed, alpha=ALPHA, exact=case.exact - shift)
            counts[str(res.status)] += 1
            counts["heavy"] += res.heavy_tailed
            # "bias >= 2 delta" with delta as mc_check defines it: this run's own z_{1-alpha/2} * stderr.
            if shift and shift >= 2 * res.delta:
                counts["bias_ge_2delta"] += 1
                counts["refuted_of_those"] += res.status == "refuted"
        rows.append(
            {
                "group": group,
                "case": case.name,
                "runs": count,
                **counts,
                "bias": shift,
                "seconds": time.perf_counter() - start,
            }
        )
    return rows


def summarize(rows: list[dict], group: str) -> dict:
    mine = [r for r in rows if r["group"] == group]
    total = sum(r["runs"] for r in mine)
    out = {"group": group, "runs": total}
    for key in ("refuted", "consistent", "unknown", "heavy", "bias_ge_2delta", "refuted_of_those"):
        out[key] = sum(r[key] for r in mine)
        out[f"{key}_rate"] = out[key] / total if total else math.nan
    eligible = out["bias_ge_2delta"]
    out["refuted_of_those_rate"] = out["refuted_of_those"] / eligible if eligible else math.nan
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="runs of correct, and of biased, estimators")
    parser.add_argument("--heavy-runs", type=int, default=200, help="runs per heavy-tailed or borderline estimator")
    parser.add_argument("--n", type=int, default=20_000, help="samples per mc_check run")
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    load_before = os.getloadavg()
    correct = correct_cases()
    crit = _critical_z(ALPHA)
    biases = {c.name: BIAS_FACTOR * crit * true_sd(c) / math.sqrt(args.n) for c in correct}
    rows = run_group("correct", correct, args.runs, args.n, seed0=1)
    rows += run_group("biased (>= 2 delta)", correct, args.runs, args.n, seed0=50_000_001, biases=biases)
    heavy, border = heavy_cases(), borderline_cases()
    rows += run_group("heavy (infinite variance)", heavy, args.heavy_runs * len(heavy), args.n, seed0=90_000_001)
    rows += run_group("borderline", border, args.heavy_runs * len(border), args.n, seed0=95_000_001)
    # The same at 10 n: the finite-variance ones should lose their flag as the top values move out.
    big = f"borderline, n = {10 * args.n}"
    rows += run_group(big, border, max(1, args.heavy_runs // 4) * len(border), 10 * args.n, seed0=97_000_001)
    groups = [summarize(rows, g) for g in dict.fromkeys(r["group"] for r in rows)]
    by = {g["group"]: g for g in groups}
    targets = {
        "false refutations <= 2 alpha": by["correct"]["refuted_rate"] <= 2 * ALPHA,
        "biased (bias >= 2 delta of the run) refuted >= 99.9 %": (
            by["biased (>= 2 delta)"]["refuted_of_those_rate"] >= 0.999
        ),
        "heavy-tailed all flagged": by["heavy (infinite variance)"]["heavy_rate"] == 1.0,
    }
    seconds = time.perf_counter() - start

    print(f"mc_check calibration: alpha = {ALPHA:g}, n = {args.n} per run, {seconds:.0f} s")
    print(f"load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}")
    columns = f"{'runs':>5s} {'refuted':>8s} {'consist.':>8s} {'unknown':>8s} {'heavy':>6s}"
    print(f"{'group':26s} {'estimator':34s} {columns}")
    for r in rows:
        print(
            f"{r['group']:26s} {r['case']:34s} {r['runs']:5d} {r['refuted']:8d} {r['consistent']:8d} "
            f"{r['unknown']:8d} {r['heavy']:6d}"
        )
    print()
    for g in groups:
        print(
            f"{g['group']:26s} {'(all)':34s} {g['runs']:5d} {g['refuted']:8d} {g['consistent']:8d} "
            f"{g['unknown']:8d} {g['heavy']:6d}   refuted {g['refuted_rate']:.4f}, flagged {g['heavy_rate']:.4f}"
        )
    b = by["biased (>= 2 delta)"]
    print(
        f"biased: bias = {BIAS_FACTOR} delta_true (delta from the true sd) in all {b['runs']} runs; "
        f"bias >= 2 delta of the run "
        f"(the run's own z * stderr) in {b['bias_ge_2delta']}, of which {b['refuted_of_those']} refuted "
        f"({b['refuted_of_those_rate']:.4f})"
    )
    for name, ok in targets.items():
        print(f"target {name}: {'met' if ok else 'NOT met'}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(
                {
                    "alpha": ALPHA,
                    "n": args.n,
                    "rows": rows,
                    "groups": groups,
                    "targets": targets,
                    "seconds": seconds,
                    "load_before": load_before,
                },
                fh,
                indent=2,
            )
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
