"""Quadrature that takes any support (issue 13): wall time of ``numeric_integral`` on the hard cases.

Each row is one integral at the given digits, timed in this process after one warm-up call
(``numeric_integral`` compiles the integrand once per call and forks one budgeted worker):

* von Mises on (-pi, pi), phi = cos x, constants I_0(kappa) folded once (goal: 50 digits < 1 s);
* Student-t (nu = 3/2) normalization and E|x|^(1/2): heavy tails, pieces out to 1e6 scales;
* d/dc E[x] of the truncated exponential on [0, c]: the moving edge by Leibniz;
* a 2-D normal with phi = sin(x y + 1)^2: float64 cubature.

Usage: ``python -m benchmarks.bench_quadrature [--repeats N] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import json
import time

import mpmath
import sympy as sp

import symflow as sf
from symflow.calculus.integrals import numeric_gradient
from symflow.calculus.quadrature import numeric_integral

X, Y = sp.symbols("x y", real=True)


def _cases():
    k = sp.Symbol("kappa", positive=True)
    vm = sf.Density(sp.exp(k * sp.cos(X)) / (2 * sp.pi * sp.besseli(0, k)), X, (k,), support=sp.Interval(-sp.pi, sp.pi))
    nu = sp.Rational(3, 2)
    t = sf.Density(
        sp.gamma((nu + 1) / 2) / (sp.sqrt(nu * sp.pi) * sp.gamma(nu / 2)) * (1 + X**2 / nu) ** (-(nu + 1) / 2), X, ()
    )
    lam, c = sp.Symbol("lambda", positive=True), sp.Symbol("c", positive=True)
    te = sf.Density(lam * sp.exp(-lam * X) / (1 - sp.exp(-lam * c)), X, (lam, c), support=sp.Interval(0, c))
    n2 = sf.Density(sp.exp(-(X**2 + Y**2) / 2) / (2 * sp.pi), (X, Y), ())
    return [
        ("von Mises E[cos x], 50 digits", lambda: numeric_integral(vm, vm.expr * sp.cos(X), {k: 2}, dps=50)),
        ("von Mises E[cos x], 30 digits", lambda: numeric_integral(vm, vm.expr * sp.cos(X), {k: 2}, dps=30)),
        ("Student-t(3/2) normalization, 50 digits", lambda: numeric_integral(t, t.expr, {}, dps=50)),
        ("Student-t(3/2) E|x|^(1/2), 30 digits", lambda: numeric_integral(t, t.expr * sp.sqrt(sp.Abs(X)), {}, dps=30)),
        (
            "truncated exponential d/dc E[x] (Leibniz), 50 digits",
            lambda: numeric_gradient(te, X, c, {lam: sp.Rational(7, 10), c: 2}, dps=50),
        ),
        (
            "2-D normal E[sin(xy + 1)^2], cubature",
            lambda: numeric_integral(n2, n2.expr * sp.sin(X * Y + 1) ** 2, {}, dps=15),
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    rows = []
    print(f"{'integral':58s} {'value':>22s} {'best s':>8s}")
    for name, fn in _cases():
        value = fn()  # warm-up (imports, SymPy caches)
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            value = fn()
            times.append(time.perf_counter() - t0)
        shown = mpmath.nstr(value, 18) if value is not None else "None"
        print(f"{name:58s} {shown:>22s} {min(times):8.3f}")
        rows.append({"integral": name, "value": shown, "best_seconds": round(min(times), 4), "times": times})
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
