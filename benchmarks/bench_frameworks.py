"""symflow's implicit flows against the frameworks' own per-sample gradients, on the same samples (issue 15).

For each case the framework draws n samples and differentiates them itself (JAX:
``jax.random.gamma``'s implicit gradient, forward mode; PyTorch: ``rsample()`` and backward with one
parameter copy per sample), and symflow evaluates its flow u = dx/dtheta at those very samples:

* Gamma(alpha, 1), d/dalpha: symflow's implicit (CDF) flow, u = -(dP(alpha, x)/dalpha) / p(x).
* Beta(a, b) in JAX: ``jax.random.beta`` draws x = G_a / (G_a + G_b) from two gammas and
  differentiates through them, so its dx/da is not the Beta CDF flow sample by sample (it depends on
  G_a and G_b, not on x alone).  Compared through the same route: the gammas are redrawn with the
  same keys (``split`` + ``loggamma``; x is checked to be the same bits), and symflow's Gamma flow
  moves G_a: dx/da = u_Gamma(G_a; a) G_b / (G_a + G_b)^2 (and likewise for b).
* Beta(a, b) in PyTorch: ``Beta.rsample`` differentiates by the Beta CDF (``_dirichlet_grad``), the
  same flow as symflow's implicit Beta flow, u = -(dI_x(a, b)/da) / p(x): compared directly.

The relative difference |u_symflow - u_framework| / |u_symflow| is summarized by its maximum and
median over the n samples.  ``python benchmarks/bench_frameworks.py [--n 100000]`` prints the table.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import os
import sys
import time
import warnings
from dataclasses import dataclass

import mpmath
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import symflow as sf  # noqa: E402

SEED = 20260
GAMMA_ALPHAS = (0.3, 1.0, 2.5, 10.0)
BETA_PARAMS = ((0.5, 0.7), (2.0, 3.0), (6.0, 1.5))


@dataclass(frozen=True)
class Row:
    """One case: the relative differences, and at the sample where they are largest, each side's
    relative error against mpmath at 30 digits (``reference``: a function of that sample's values)."""

    framework: str
    case: str
    n: int
    max_rel: float
    median_rel: float
    seconds: float
    ours_error: float = float("nan")  # symflow vs mpmath at the worst sample
    theirs_error: float = float("nan")  # the framework vs mpmath there


def _relative(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    return np.abs(ours - theirs) / np.abs(ours)


def _row(framework: str, case: str, ours, theirs, start: float, reference=None, point=None) -> Row:
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    rel = _relative(ours, theirs)
    if not np.all(np.isfinite(rel)):
        raise AssertionError(f"{framework} {case}: non-finite flows ({int(np.sum(~np.isfinite(rel)))} samples)")
    worst = int(np.argmax(rel))
    ours_error = theirs_error = float("nan")
    if reference is not None:
        exact = reference(*(float(np.asarray(c)[worst]) for c in point))
        ours_error = abs(ours[worst] - exact) / abs(exact)
        theirs_error = abs(theirs[worst] - exact) / abs(exact)
    seconds = time.perf_counter() - start
    return Row(framework, case, rel.size, float(rel.max()), float(np.median(rel)), seconds, ours_error, theirs_error)


def gamma_reference(alpha: float, x: float) -> float:
    """dx/dalpha = -(dP(alpha, x)/dalpha) / p(x) for Gamma(alpha, 1), by mpmath at 30 digits."""
    with mpmath.workdps(30):
        a, t = mpmath.mpf(alpha), mpmath.mpf(x)
        dP = mpmath.diff(lambda s: mpmath.gammainc(s, 0, t, regularized=True), a)
        return float(-dP / (t ** (a - 1) * mpmath.exp(-t) / mpmath.gamma(a)))


def _ratio_reference(wrt: int):
    """d/da (wrt=0) or d/db of G_a / (G_a + G_b) when the moved gamma follows its exact implicit flow."""

    def flow(a: float, b: float, g_a: float, g_b: float) -> float:
        if wrt == 0:
            return gamma_reference(a, g_a) * g_b / (g_a + g_b) ** 2
        return -gamma_reference(b, g_b) * g_a / (g_a + g_b) ** 2

    return flow


def beta_reference(wrt: int):
    """dx/da (wrt=0) or dx/db (wrt=1) = -(dI_x(a, b)/dtheta) / p(x) for Beta(a, b), by mpmath at 30 digits."""

    def flow(a: float, b: float, x: float) -> float:
        with mpmath.workdps(30):
            a_, b_, t = mpmath.mpf(a), mpmath.mpf(b), mpmath.mpf(x)

            def cdf(s):
                return (
                    mpmath.betainc(s, b_, 0, t, regularized=True)
                    if wrt == 0
                    else mpmath.betainc(a_, s, 0, t, regularized=True)
                )

            dI = mpmath.diff(cdf, a_ if wrt == 0 else b_)
            return float(-dI / (t ** (a_ - 1) * (1 - t) ** (b_ - 1) / mpmath.beta(a_, b_)))

    return flow


def _gamma_flow():
    p = sf.families.gamma()
    alpha, _ = p.params
    return p, sf.flows.implicit(p).field(alpha)[0]


def _beta_flow():
    p = sf.families.beta()
    flow = sf.flows.implicit(p)
    return p, [flow.field(t)[0] for t in p.params]


def jax_rows(n: int) -> list[Row]:
    import jax
    import jax.numpy as jnp

    from symflow.numeric.jax_backend import jax_function

    rows = []
    with jax.enable_x64(True):
        p, u = _gamma_flow()
        u_gamma = jax_function(p.x + p.params, [u])
        for k, alpha in enumerate(GAMMA_ALPHAS):
            start = time.perf_counter()
            key = jax.random.fold_in(jax.random.key(SEED), k)
            x, dx = jax.jvp(lambda a, key=key: jax.random.gamma(key, a, (n,), jnp.float64), (alpha,), (1.0,))
            (ours,) = u_gamma(x, alpha, 1.0)
            point = (np.full(n, alpha), x)
            rows.append(_row("JAX", f"Gamma({alpha:g}, 1): dx/dalpha", ours, dx, start, gamma_reference, point))
        for k, (a, b) in enumerate(BETA_PARAMS):
            start = time.perf_counter()
            key = jax.random.fold_in(jax.random.key(SEED + 1), k)

            def beta(a_, b_, key=key):
                return jax.random.beta(key, a_, b_, (n,), jnp.float64)

            x, dx_da = jax.jvp(functools.partial(beta, b_=b), (a,), (1.0,))
            _, dx_db = jax.jvp(functools.partial(beta, a), (b,), (1.0,))
            key_a, key_b = jax.random.split(key)
            g_a = jnp.exp(jax.random.loggamma(key_a, a, (n,), jnp.float64))
            g_b = jnp.exp(jax.random.loggamma(key_b, b, (n,), jnp.float64))
            same = np.max(np.abs(np.asarray(g_a / (g_a + g_b)) - np.asarray(x)) / np.asarray(x))
            if same > 1e-14:
                raise AssertionError(f"the redrawn gammas do not give jax.random.beta's samples ({same:.1e})")
            (u_a,) = u_gamma(g_a, a, 1.0)
            (u_b,) = u_gamma(g_b, b, 1.0)
            total2 = (g_a + g_b) ** 2
            point = (np.full(n, a), np.full(n, b), g_a, g_b)
            case = f"Beta({a:g}, {b:g}) via gammas: dx/d"
            rows.append(_row("JAX", case + "a", u_a * g_b / total2, dx_da, start, _ratio_reference(0), point))
            rows.append(_row("JAX", case + "b", -u_b * g_a / total2, dx_db, start, _ratio_reference(1), point))
    return rows


def torch_rows(n: int) -> list[Row]:
    import torch

    from symflow.numeric.torch_backend import torch_function

    rows = []
    generator_seed = SEED
    p, u = _gamma_flow()
    u_gamma = torch_function(p.x + p.params, [u])
    f64 = torch.float64
    for alpha in GAMMA_ALPHAS:
        start = time.perf_counter()
        torch.manual_seed(generator_seed)
        generator_seed += 1
        a_vec = torch.full((n,), alpha, dtype=f64, requires_grad=True)  # one copy per sample => per-sample grads
        x = torch.distributions.Gamma(a_vec, torch.ones(n, dtype=f64)).rsample()
        x.sum().backward()
        (ours,) = u_gamma(x.detach(), torch.tensor(alpha, dtype=f64), torch.tensor(1.0, dtype=f64))
        case, point = f"Gamma({alpha:g}, 1): dx/dalpha", (np.full(n, alpha), x.detach().numpy())
        rows.append(_row("PyTorch", case, ours.numpy(), a_vec.grad.numpy(), start, gamma_reference, point))
    pb, (u_a, u_b) = _beta_flow()
    u_beta = torch_function(pb.x + pb.params, [u_a, u_b])
    for a, b in BETA_PARAMS:
        start = time.perf_counter()
        torch.manual_seed(generator_seed)
        generator_seed += 1
        a_vec = torch.full((n,), a, dtype=f64, requires_grad=True)
        b_vec = torch.full((n,), b, dtype=f64, requires_grad=True)
        x = torch.distributions.Beta(a_vec, b_vec).rsample()
        x.sum().backward()
        ours_a, ours_b = u_beta(x.detach(), torch.tensor(a, dtype=f64), torch.tensor(b, dtype=f64))
        point = (np.full(n, a), np.full(n, b), x.detach().numpy())
        for k, (ours, grad) in enumerate(((ours_a, a_vec.grad), (ours_b, b_vec.grad))):
            case = f"Beta({a:g}, {b:g}): dx/d{'ab'[k]}"
            rows.append(_row("PyTorch", case, ours.numpy(), grad.numpy(), start, beta_reference(k), point))
    return rows


def agreement(n: int = 10**5) -> list[Row]:
    """Every case of every installed framework (PyTorch skipped when it is not installed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sf.SymflowWarning)
        rows = jax_rows(n)
        if importlib.util.find_spec("torch") is not None:
            rows += torch_rows(n)
    return rows


def table(rows: list[Row]) -> str:
    lines = [
        "| framework | case | n | max rel. diff | median rel. diff | at the max: symflow vs mpmath "
        "| framework vs mpmath |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.framework} | {r.case} | {r.n} | {r.max_rel:.2e} | {r.median_rel:.2e} | {r.ours_error:.1e} | "
        f"{r.theirs_error:.1e} |"
        for r in rows
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10**5)
    args = parser.parse_args(argv)
    rows = agreement(args.n)
    print(table(rows))
    print(f"\nload average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
