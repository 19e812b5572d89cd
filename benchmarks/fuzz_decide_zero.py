"""Differential fuzzer for ``decide_zero`` and ``check_normalized`` (issue 12, "How to close the classes").

True identities are made by applying random chains of valid rewrites (expand, factor, trig,
hyperbolic and exp/log rewrites, special-function functional equations: Gamma(z + 1) = z Gamma(z),
lowergamma + uppergamma = Gamma, erf + erfc = 1, I_x(a, b) = 1 - I_{1-x}(b, a), |u| = sqrt(u^2),
Max, floor, Mod) to random expressions over random supports (the real line, half-lines, (0, 1),
(-pi, pi), (0, 2 pi), (sqrt 2, 5), (log 2, oo)); false ones by perturbing them:

========  =====================================================================
class     perturbation
========  =====================================================================
bump      h exp(-w (x - c)^k), c a random point of the support, w up to 1e8
constant  one constant of the rewritten side changed (relative 1e-12 ... 1e-1)
swap      one function of the rewritten side swapped (sin <-> cos, erf -> erfc, ...)
far       a term h (x/F) Heaviside(x - F) supported only far out (F up to 1e8)
tiny      a term 1e-60 (1 + x^2) (or 1e-60 exp(-x^2))
periodic  x replaced by Mod(x + P/2, P) - P/2 once (equal on a window of width P)
========  =====================================================================

Every case's ground truth is checked independently of symflow (SymPy's evalf at 50 digits at
the perturbation's known place, or at random points); a case whose truth cannot be shown is
dropped.  A false ``proved`` or a false ``refuted`` is a bug; ``consistent`` for a false case is
allowed by the README ("numbers, not a proof") and its rate is reported per class.

``check_normalized`` is fuzzed the same way on densities with known normalizing constants
(symbolic edges, von Mises' Bessel constant, truncations) and their perturbations.

Usage (from the repository root)::

    python -m benchmarks.fuzz_decide_zero                 # full size: 10 000 cases, 2 jobs
    python -m benchmarks.fuzz_decide_zero --cases 200     # a smoke run
    PYTHONPATH=. python benchmarks/fuzz_decide_zero.py --cases 200 --jobs 1 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

import mpmath
import sympy as sp

import symflow as sf
from symflow.core.domain import Domain, Interval1D
from symflow.zero import decide_zero
from symflow.zero.timing import time_limit

X = sp.Symbol("x", real=True)
MU = sp.Symbol("mu", real=True)
S = sp.Symbol("s", positive=True)
PARAMS = ((MU, Interval1D()), (S, Interval1D(sp.S.Zero)))

# name -> (lo, hi, the support is positive, inside (0, 1))
SUPPORTS = {
    "real": (sp.S.NegativeInfinity, sp.oo, False, False),
    "positive": (sp.S.Zero, sp.oo, True, False),
    "unit": (sp.S.Zero, sp.S.One, True, True),
    "pi": (-sp.pi, sp.pi, False, False),
    "twopi": (sp.S.Zero, 2 * sp.pi, True, False),
    "sqrt2": (sp.sqrt(2), sp.Integer(5), True, False),
    "log2": (sp.log(2), sp.oo, True, False),
}
CLASSES = ("bump", "constant", "swap", "far", "tiny", "periodic")


@dataclass
class Case:
    """One fuzz case: a residual, its domain, whether it is truly zero, and how it was made."""

    residual: sp.Expr
    support: str
    truth: bool  # True: identically zero on the domain
    kind: str  # "true" or a perturbation class
    rewrites: tuple = field(default_factory=tuple)

    def domain(self) -> Domain:
        lo, hi, _, _ = SUPPORTS[self.support]
        return Domain(((X, Interval1D(lo, hi)),), PARAMS)


# -- random expressions ----------------------------------------------------------------------------


def _const(rng: random.Random) -> sp.Rational:
    return sp.Rational(rng.randint(1, 9), rng.choice((1, 2, 3, 4, 5, 7)))


def _leaf(rng: random.Random, support: str) -> sp.Expr:
    positive = SUPPORTS[support][2]
    choice = rng.random()
    if choice < 0.55:
        return X
    if choice < 0.7:
        return S
    if choice < 0.8 and not positive:
        return X - MU
    return _const(rng) * X + _const(rng) * (S if rng.random() < 0.5 else 1)


def _unary(rng: random.Random, u: sp.Expr, support: str) -> sp.Expr:
    _, _, positive, unit = SUPPORTS[support]
    menu = [sp.sin, sp.cos, sp.atan, sp.erf, sp.Abs, lambda v: sp.exp(-(v**2)), lambda v: sp.cosh(v / 4)]
    menu += [lambda v: sp.Max(v, _const(rng)), lambda v: sp.Heaviside(v - _const(rng)) * v]
    menu += [sp.floor, lambda v: sp.Mod(v, 3)]
    if positive and u.is_positive is not False:
        menu += [sp.log, sp.sqrt, lambda v: sp.gamma(v + 1), lambda v: sp.lowergamma(S + 1, v)]
    if unit and u == X:
        menu += [lambda v: sp.betainc_regularized(S + 1, 2, 0, v), lambda v: sp.log(1 - v)]
    return rng.choice(menu)(u)


def random_expr(rng: random.Random, support: str, depth: int = 2) -> sp.Expr:
    """A small random expression in x (and the parameters mu, s) valid on the support."""
    if depth == 0:
        return _leaf(rng, support)
    r = rng.random()
    if r < 0.35:
        return _unary(rng, random_expr(rng, support, depth - 1), support)
    if r < 0.65:
        return random_expr(rng, support, depth - 1) + random_expr(rng, support, depth - 1)
    if r < 0.9:
        return random_expr(rng, support, depth - 1) * random_expr(rng, support, depth - 1)
    return random_expr(rng, support, depth - 1) ** rng.randint(2, 3)


# -- valid rewrites --------------------------------------------------------------------------------


def _rewrite_node(node: sp.Expr, rng: random.Random, support: str) -> sp.Expr | None:
    """An expression equal to ``node`` on the support (by a functional equation), or None."""
    positive = SUPPORTS[support][2]
    if isinstance(node, sp.sin):
        u = node.args[0]
        return 2 * sp.sin(u / 2) * sp.cos(u / 2)
    if isinstance(node, sp.cos):
        u = node.args[0]
        return 1 - 2 * sp.sin(u / 2) ** 2 if rng.random() < 0.5 else sp.cos(u / 2) ** 2 - sp.sin(u / 2) ** 2
    if isinstance(node, sp.cosh):
        u = node.args[0]
        return (sp.exp(u) + sp.exp(-u)) / 2
    if isinstance(node, sp.exp):
        u = node.args[0]
        parts = sp.Add.make_args(sp.expand(u))
        if len(parts) > 1:
            return sp.Mul(*(sp.exp(t, evaluate=False) for t in parts), evaluate=False)
        return sp.exp(u / 2, evaluate=False) ** 2
    if isinstance(node, sp.log) and positive:
        u = node.args[0]
        if u.is_Mul:
            return sp.Add(*(sp.log(t) for t in u.args))
        return 2 * sp.log(sp.sqrt(u))
    if isinstance(node, sp.gamma):
        z = node.args[0]
        return (z - 1) * sp.gamma(z - 1, evaluate=False)
    if isinstance(node, sp.lowergamma):
        s, u = node.args
        return sp.gamma(s) - sp.uppergamma(s, u)
    if isinstance(node, sp.erf):
        return 1 - sp.erfc(node.args[0])
    if isinstance(node, sp.betainc_regularized):
        a, b, _, u = node.args
        return 1 - sp.betainc_regularized(b, a, 0, 1 - u)
    if isinstance(node, sp.Abs):
        u = node.args[0]
        return sp.sqrt(u**2)
    if isinstance(node, sp.Max):
        u, v = node.args[:2]
        rest = node.args[2:]
        pair = (u + v + sp.Abs(u - v)) / 2
        return sp.Max(pair, *rest) if rest else pair
    if isinstance(node, sp.floor):
        u = node.args[0]
        return u - sp.frac(u)
    if isinstance(node, sp.Mod):
        u, m = node.args
        return u - m * sp.floor(u / m)
    if isinstance(node, sp.atan):
        u = node.args[0]
        return sp.asin(u / sp.sqrt(1 + u**2))
    return None


def _identity_factor(rng: random.Random, u: sp.Expr) -> sp.Expr:
    """An expression identically 1 built on ``u`` (Pythagoras, cosh^2 - sinh^2, erf + erfc, Gamma's recursion)."""
    return rng.choice(
        (
            lambda: sp.sin(u) ** 2 + sp.cos(u) ** 2,
            lambda: sp.cosh(u / 8) ** 2 - sp.sinh(u / 8) ** 2,
            lambda: sp.erf(u) + sp.erfc(u),
            lambda: sp.gamma(S + 2) / ((S + 1) * sp.gamma(S + 1)),
            lambda: sp.exp(u / 3) * sp.exp(-u / 3),
        )
    )()


def rewrite(expr: sp.Expr, rng: random.Random, support: str) -> tuple[sp.Expr, str]:
    """One valid rewrite of ``expr``: (new expression, its name)."""
    r = rng.random()
    if r < 0.15:
        return sp.expand(expr), "expand"
    if r < 0.22:
        return sp.factor(expr), "factor"
    if r < 0.45:
        subs = [e for e in sp.preorder_traversal(expr) if isinstance(e, sp.Expr) and e.free_symbols and not e.is_Atom]
        if subs:
            node = rng.choice(subs)
            return expr.xreplace({node: node * _identity_factor(rng, rng.choice(subs))}), "times an identity 1"
    nodes = [e for e in sp.preorder_traversal(expr) if _rewrite_node(e, random.Random(0), support) is not None]
    if nodes:
        node = rng.choice(nodes)
        new = _rewrite_node(node, rng, support)
        return expr.xreplace({node: new}), f"functional equation of {type(node).__name__}"
    return expr.rewrite(sp.exp) if expr.has(sp.sin, sp.cos, sp.cosh, sp.sinh) else sp.expand(expr), "rewrite(exp)"


# -- perturbations ---------------------------------------------------------------------------------


def _inside_point(rng: random.Random, support: str) -> sp.Rational:
    lo, hi, _, _ = SUPPORTS[support]
    lo_f = float(lo) if lo.is_finite else -5.0
    hi_f = float(hi) if hi.is_finite else lo_f + 10.0
    return sp.Rational(sp.Float(rng.uniform(lo_f, hi_f), 8)).limit_denominator(10**6)


def perturb(kind: str, lhs: sp.Expr, rhs: sp.Expr, rng: random.Random, support: str):
    """(false residual, a point where it is nonzero or None) for a perturbation class."""
    lo, hi, positive, _ = SUPPORTS[support]
    base = lhs - rhs
    if kind == "bump":
        c = _inside_point(rng, support)
        w = sp.Integer(10) ** rng.randint(0, 8)
        h = sp.Rational(1, 10 ** rng.randint(0, 30))
        return base + h * sp.exp(-w * (X - c) ** rng.choice((2, 4))), {X: c}
    if kind == "constant":
        consts = [n for n in sp.preorder_traversal(rhs) if n.is_Rational and n not in (0, 1, -1)]
        if not consts:
            return base + sp.Rational(1, 10**6) * (1 + X**2), None
        n = rng.choice(consts)
        bumped = n * (1 + sp.Rational(1, 10 ** rng.randint(1, 12)))
        return lhs - rhs.xreplace({n: bumped}), None
    if kind == "swap":
        swaps = {sp.sin: sp.cos, sp.cos: sp.sin, sp.erf: sp.erfc, sp.exp: sp.cosh, sp.cosh: sp.exp, sp.atan: sp.tanh}
        nodes = [e for e in sp.preorder_traversal(rhs) if type(e) in swaps]
        if not nodes:
            return base + sp.sin(X) - sp.cos(X), None
        node = rng.choice(nodes)
        return lhs - rhs.xreplace({node: swaps[type(node)](*node.args)}), None
    if kind == "far":
        if hi.is_finite:
            edge = hi - sp.Rational(1, 10 ** rng.randint(3, 9))
            return base + sp.Heaviside(X - edge) * (X - edge), {X: (edge + hi) / 2}
        far = sp.Integer(10) ** rng.randint(2, 8)
        return base + sp.Rational(1, 10 ** rng.randint(0, 6)) * (X / far) * sp.Heaviside(X - far), {X: 2 * far}
    if kind == "tiny":
        term = (1 + X**2) if rng.random() < 0.5 else sp.exp(-(X**2))
        return base + term / sp.Integer(10) ** 60, {X: _inside_point(rng, support)}
    if kind == "periodic":
        if hi.is_finite and lo.is_finite:
            width = hi - lo
            period = width * sp.Rational(rng.randint(30, 90), 100)
            window = lo + period  # x -> Mod(x - lo, P) + lo differs beyond lo + P
            return lhs - rhs.xreplace({X: sp.Mod(X - lo, period) + lo}), {X: (window + hi) / 2}
        period = sp.Integer(10) ** rng.randint(2, 6)
        start = lo if lo.is_finite else -period / 2
        return lhs - rhs.xreplace({X: sp.Mod(X - start, period) + start}), {X: start + period + period / 3}
    raise ValueError(kind)


# -- ground truth by evalf -------------------------------------------------------------------------

TRUTH_DPS = 50
TRUTH_SECONDS = 2.0


def _value(expr: sp.Expr, point: dict) -> mpmath.mpf | None:
    try:
        with time_limit(TRUTH_SECONDS):
            v = sp.N(expr.xreplace(point), TRUTH_DPS, maxn=400)
    except Exception:  # noqa: BLE001 - a generator helper: no value (slow, or not a number)
        return None
    if not v.is_number or v.has(sp.nan, sp.zoo, sp.oo, sp.S.NegativeInfinity):
        return None
    re, im = v.as_real_imag()
    with mpmath.workdps(TRUTH_DPS):
        return abs(mpmath.mpc(sp.Float(re, TRUTH_DPS), sp.Float(im, TRUTH_DPS)))


def _params(rng: random.Random) -> dict:
    return {MU: sp.Rational(rng.randint(-20, 20), 10), S: sp.Rational(rng.randint(3, 30), 10)}


def truly_nonzero(
    expr: sp.Expr, where: dict | None, rng: random.Random, support: str, floor: int = TRUTH_DPS - 5
) -> bool:
    """Shown nonzero by evalf (above 10^-floor) at the perturbation's place (or at one of 12 random points)."""
    points = [{**_params(rng), **where}] if where else []
    points += [{**_params(rng), X: _inside_point(rng, support)} for _ in range(12)]
    for pt in points:
        v = _value(expr, pt)
        if v is not None and v > mpmath.mpf(10) ** -floor:
            return True
    return False


def truly_zero(expr: sp.Expr, rng: random.Random, support: str) -> bool:
    """No evalf value above 1e-30 at 6 random points (guards the generator's own rewrites)."""
    for _ in range(6):
        v = _value(expr, {**_params(rng), X: _inside_point(rng, support)})
        if v is not None and v > mpmath.mpf(10) ** -30:
            return False
    return True


def make_case(index: int, seed: int) -> Case | None:
    """Case ``index`` of the run with ``seed`` (reproducible; None when its truth cannot be shown).

    The identity lhs - rhs must vanish at random points by evalf (else the generator erred);
    a false case must be nonzero by evalf: the added term at its own place for additive
    perturbations (a 1e-60 term cannot be seen next to round-off), the residual otherwise.
    """
    rng = random.Random(seed * 1_000_003 + index)
    support = rng.choice(list(SUPPORTS))
    lhs = random_expr(rng, support, depth=rng.choice((1, 2, 2, 3)))
    rhs, names = lhs, []
    for _ in range(rng.randint(1, 3)):
        rhs, name = rewrite(rhs, rng, support)
        names.append(name)
    base = lhs - rhs
    if not truly_zero(base, rng, support):
        return None
    kind = "true" if rng.random() < 0.4 else rng.choice(CLASSES)
    if kind == "true":
        return None if base == 0 else Case(base, support, True, kind, tuple(names))
    residual, where = perturb(kind, lhs, rhs, rng, support)
    additive = kind in ("bump", "far", "tiny")
    added = sp.expand(residual - base) if additive else residual
    # an added term has no cancellation: evalf shows any nonzero value of it
    if residual == 0 or not truly_nonzero(added, where, rng, support, 10_000 if additive else TRUTH_DPS - 5):
        return None
    return Case(residual, support, False, kind, tuple(names))


def run_case(case: Case, timeout: float) -> str:
    """decide_zero's status on the case."""
    try:
        return decide_zero(case.residual, case.domain(), timeout=timeout).status.value
    except Exception as exc:  # noqa: BLE001 - counted, never hidden
        return f"error:{type(exc).__name__}"


# -- check_normalized ------------------------------------------------------------------------------


def make_density_case(index: int, seed: int):
    """(density, truly normalized?, kind) with a known normalizing constant."""
    rng = random.Random(seed * 7_000_003 + index)
    k = sp.Symbol("kappa", positive=True)
    c = sp.Symbol("c", positive=True)
    catalogue = [
        (sp.exp(-((X - MU) ** 2) / (2 * S**2)) / (S * sp.sqrt(2 * sp.pi)), (MU, S), None),
        (sp.exp(k * sp.cos(X)) / (2 * sp.pi * sp.besseli(0, k)), (k,), sp.Interval(-sp.pi, sp.pi)),
        (S * sp.exp(-S * X) / (1 - sp.exp(-S * c)), (S, c), sp.Interval(0, c)),
        (1 / (sp.sqrt(2) * (sp.pi - 1)), (), sp.Interval(sp.sqrt(2), sp.sqrt(2) * sp.pi)),
        (sp.exp(-X) / sp.Rational(1, 2), (), sp.Interval(sp.log(2), sp.oo)),
        (S / (sp.pi * ((X - MU) ** 2 + S**2)), (MU, S), None),
        (sp.exp(-sp.Abs(X - MU) / S) / (2 * S), (MU, S), None),
    ]
    expr, params, support = rng.choice(catalogue)
    kind = "true" if rng.random() < 0.5 else rng.choice(("scaled", "bump"))
    if kind == "scaled":
        expr = expr * (1 + sp.Rational(1, 10 ** rng.randint(1, 12)))
    elif kind == "bump":
        lo = support.inf if support is not None else -sp.oo
        center = (lo + 1) if lo.is_finite else sp.Rational(1, 3)
        expr = expr + sp.Rational(1, 10 ** rng.randint(1, 8)) * sp.exp(-(10**4) * (X - center) ** 2)
    p = sf.Density(expr, X, params, support=support, name=f"fuzz density {index}")
    return p, kind == "true", kind


def run_density_case(p, timeout: float) -> str:
    try:
        return sf.check_normalized(p, timeout=timeout).status.value
    except Exception as exc:  # noqa: BLE001
        return f"error:{type(exc).__name__}"


# -- driver ----------------------------------------------------------------------------------------

# Address space a shard may use (its budgeted steps' children inherit it).
SHARD_MEMORY = 6 << 30


def run_shard(start: int, stop: int, seed: int, timeout: float, densities: int, progress: str | None = None) -> dict:
    """Run cases ``start .. stop - 1``; with ``progress``, append each row to that file as it is made."""
    rows = []
    t0 = time.perf_counter()
    log = open(progress, "a", encoding="utf-8") if progress else None  # noqa: SIM115 - closed below
    for i in range(start, stop):
        try:
            case = make_case(i, seed)
        except (RecursionError, MemoryError, ValueError, TypeError, ArithmeticError):
            # building the case itself failed in SymPy (a Mod of a Mod recursed; the gcd inside a Mod of a
            # bumped expression ran out of memory: this, not decide_zero, was the 24 GB shard): no truth to test
            case = None
        if case is None:
            rows.append({"index": i, "kind": "dropped"})
            if log:
                log.write(json.dumps(rows[-1]) + "\n")
                log.flush()
            continue
        t = time.perf_counter()
        status = run_case(case, timeout)
        rows.append(
            {
                "index": i,
                "kind": case.kind,
                "truth": case.truth,
                "status": status,
                "support": case.support,
                "seconds": round(time.perf_counter() - t, 3),
                "residual": sp.sstr(case.residual) if _bad(case.truth, status) or status.startswith("error") else "",
            }
        )
        if log:
            log.write(json.dumps(rows[-1]) + "\n")
            log.flush()
    if log:
        log.close()
    dens = []
    for i in range(start * densities // max(stop, 1), stop * densities // max(stop, 1)):
        p, truth, kind = make_density_case(i, seed)
        status = run_density_case(p, timeout)
        dens.append({"index": i, "kind": kind, "truth": truth, "status": status, "density": str(p)})
    return {"rows": rows, "densities": dens, "seconds": time.perf_counter() - t0}


def _bad(truth: bool, status: str) -> bool:
    return (truth and status == "refuted") or (not truth and status == "proved") or status.startswith("error")


def summarize(rows: list[dict], dens: list[dict]) -> dict:
    kept = [r for r in rows if r["kind"] != "dropped"]
    out: dict = {"cases": len(kept), "dropped": len(rows) - len(kept)}
    out["false_proved"] = sum(1 for r in kept if not r["truth"] and r["status"] == "proved")
    out["false_refuted"] = sum(1 for r in kept if r["truth"] and r["status"] == "refuted")
    out["errors"] = sum(1 for r in kept if r["status"].startswith("error"))
    by_kind: dict = {}
    for kind in ("true", *CLASSES):
        sub = [r for r in kept if r["kind"] == kind]
        counts = Counter(r["status"] for r in sub)
        entry = {"cases": len(sub), **dict(sorted(counts.items()))}
        if kind != "true" and sub:
            entry["false_consistent_rate"] = round(counts.get("consistent", 0) / len(sub), 4)
        by_kind[kind] = entry
    out["by_class"] = by_kind
    out["density_cases"] = len(dens)
    out["density_false_proved"] = sum(1 for d in dens if not d["truth"] and d["status"] == "proved")
    out["density_false_refuted"] = sum(1 for d in dens if d["truth"] and d["status"] == "refuted")
    out["density_by_kind"] = {
        k: dict(Counter(d["status"] for d in dens if d["kind"] == k)) for k in ("true", "scaled", "bump")
    }
    out["bad"] = [r for r in kept if _bad(r["truth"], r["status"])][:50]
    out["bad_densities"] = [
        d for d in dens if (d["truth"] and d["status"] == "refuted") or (not d["truth"] and d["status"] == "proved")
    ]
    return out


def print_summary(summary: dict, seconds: float) -> None:
    print(f"cases {summary['cases']} (dropped {summary['dropped']} whose truth evalf could not show), {seconds:.0f} s")
    print(
        f"false proved {summary['false_proved']}, false refuted {summary['false_refuted']}, errors {summary['errors']}"
    )
    print(
        f"{'class':10s} {'cases':>6s} {'proved':>7s} {'consist':>8s} {'unknown':>8s} {'refuted':>8s}  false-consistent"
    )
    for kind, e in summary["by_class"].items():
        rate = "" if kind == "true" else f"{100 * e.get('false_consistent_rate', 0):.1f}%"
        print(
            f"{kind:10s} {e['cases']:6d} {e.get('proved', 0):7d} {e.get('consistent', 0):8d} "
            f"{e.get('unknown', 0):8d} {e.get('refuted', 0):8d}  {rate}"
        )
    print(
        f"check_normalized: {summary['density_cases']} densities, false proved {summary['density_false_proved']}, "
        f"false refuted {summary['density_false_refuted']}; {summary['density_by_kind']}"
    )
    for bad in summary["bad"][:10]:
        print("BAD", bad)
    for bad in summary["bad_densities"][:10]:
        print("BAD DENSITY", bad)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--densities", type=int, default=200, help="check_normalized cases (spread over the shards)")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--timeout", type=float, default=2.0, help="decide_zero's budget per case (seconds)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--shard", default=None, help="i/n: run only the i-th of n slices (used by --jobs)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    if args.shard:
        # A case whose evaluation grows without bound (one shard of the first 10^4 run reached 24 GB and
        # was killed by the OOM killer) becomes a MemoryError counted as an error, with its residual.
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (SHARD_MEMORY, hard))
        i, n = (int(v) for v in args.shard.split("/"))
        start, stop = args.cases * i // n, args.cases * (i + 1) // n
        dens = args.densities * i // n, args.densities * (i + 1) // n
        result = run_shard(start, stop, args.seed, args.timeout, 0, progress=args.json + ".rows")
        result["densities"] = [
            {"index": j, "kind": kind, "truth": truth, "status": run_density_case(p, args.timeout), "density": str(p)}
            for j in range(*dens)
            for p, truth, kind in [make_density_case(j, args.seed)]
        ]
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh)
        return 0
    outs = []
    procs = []
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for i in range(args.jobs):
        # each shard also appends its rows to PATH.rows as it goes: a run stopped early keeps what it did
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"fuzz_decide_zero_{os.getpid()}_{i}.json")
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.fuzz_decide_zero",
            "--cases",
            str(args.cases),
            "--densities",
            str(args.densities),
            "--seed",
            str(args.seed),
            "--timeout",
            str(args.timeout),
            "--shard",
            f"{i}/{args.jobs}",
            "--json",
            path,
        ]
        procs.append((subprocess.Popen(cmd, cwd=root, env=env), path))
    for proc, path in procs:
        proc.wait()
        with open(path, encoding="utf-8") as fh:
            outs.append(json.load(fh))
        os.unlink(path)
        os.unlink(path + ".rows")
    rows = [r for o in outs for r in o["rows"]]
    dens = [d for o in outs for d in o["densities"]]
    summary = summarize(rows, dens)
    seconds = time.perf_counter() - t0
    summary.update(seconds=round(seconds, 1), seed=args.seed, timeout=args.timeout, jobs=args.jobs)
    print_summary(summary, seconds)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(summary, fh, indent=1)
    return 0 if summary["false_proved"] == summary["false_refuted"] == 0 and not summary["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
