"""mc_check: agreement with exact gradients, refutation of a wrong estimator, seeds, chunking, bad inputs.

Every statistical assertion below uses a fixed seed.  A check of a correct estimator is
"refuted" with probability alpha = 1e-6 per call (two-sided z-test), so the whole file's
false-alarm rate is below 1e-5; the wrong estimator is off by |z| ~ 60, far past 4.9.
"""

from __future__ import annotations

import functools
import math
import tracemalloc
from dataclasses import FrozenInstanceError

import numpy as np
import pytest
import sympy as sp

import symflow as sf
from symflow.montecarlo import _critical_z

x = sp.Symbol("x", real=True)
mu = sp.Symbol("mu", real=True)
sigma = sp.Symbol("sigma", positive=True)
m2 = sp.Symbol("m2", real=True)
s2 = sp.Symbol("s2", positive=True)

MU, SIGMA = 0.3, 1.2
PARAMS = {mu: MU, sigma: SIGMA}
N = 200_000
# REFERENCE-CASES, normal, phi = x**2: d/dmu E = 2 mu; with sigma itself as the parameter d/dsigma E = 2 sigma.
PLANTED = {mu: 2 * MU, sigma: 2 * SIGMA}
EXACT_RTOL = 1e-12  # symbolic integration evaluated at 50 digits, compared in float64


def _normal_sampler(loc, scale):
    return lambda n, pr, rng: pr[loc] + pr[scale] * rng.standard_normal((n, 1))


def gaussian(loc: sp.Symbol, scale: sp.Symbol, name: str) -> sf.Density:
    expr = sp.exp(-((x - loc) ** 2) / (2 * scale**2)) / sp.sqrt(2 * sp.pi * scale**2)
    return sf.Density(expr, (x,), (loc, scale), sampler=_normal_sampler(loc, scale), name=name)


def normal() -> sf.Density:
    return gaussian(mu, sigma, "normal")


@functools.cache
def estimator(kind: str, wrt_name: str) -> sf.Estimator:
    p = normal()
    wrt = {"mu": mu, "sigma": sigma}[wrt_name]
    if kind == "lr":
        return sf.derive(p, sf.flows.zero(p), wrt)
    # RP: u = dg/dtheta at eps = (x - mu)/sigma for x = mu + sigma eps (Sec. 2.2); psi = 0.
    u = {mu: sp.S.One, sigma: (x - mu) / sigma}[wrt]
    return sf.Estimator(p, wrt, [u], 0, name=f"rp {wrt}")


@functools.cache
def run(kind: str, wrt_name: str, seed: int = 0) -> sf.MCResult:
    return sf.mc_check(estimator(kind, wrt_name), x**2, PARAMS, N, seed=seed)


@pytest.mark.parametrize("kind", ["lr", "rp"])
@pytest.mark.parametrize("wrt_name", ["mu", "sigma"])
def test_correct_estimators_are_consistent_with_the_planted_gradient(kind: str, wrt_name: str) -> None:
    r = run(kind, wrt_name)
    wrt = {"mu": mu, "sigma": sigma}[wrt_name]
    assert r.exact == pytest.approx(PLANTED[wrt], rel=EXACT_RTOL)
    assert r.status == "consistent", str(r)
    assert abs(r.mean - r.exact) <= r.delta
    assert r.delta == pytest.approx(_critical_z(1e-6) * r.stderr)
    assert r.z == pytest.approx((r.mean - r.exact) / r.stderr)
    assert r.n == N and r.alpha == 1e-6


def test_wrong_flow_estimator_is_refuted() -> None:
    # u = (x - mu)/sigma**2 with psi = 0 for sigma: E[2 x (x - mu)/sigma**2] = 2, but d/dsigma E[x**2] = 2 sigma = 2.4.
    wrong = sf.Estimator(normal(), sigma, [(x - mu) / sigma**2], 0, name="wrong")
    r = sf.mc_check(wrong, x**2, PARAMS, N, seed=0)
    assert r.status == "refuted", str(r)
    assert r.mean == pytest.approx(2.0, abs=5 * r.stderr)
    assert abs(r.z) > 40 and r.delta < 0.4  # this n can see a bias of 0.4 and did


def test_importance_sampled_estimator_uses_q_and_its_parameters() -> None:
    q = gaussian(m2, s2, "q")
    est = sf.derive(normal(), sf.flows.zero(normal()), mu, q=q)
    with pytest.raises(sf.ParameterError, match="no value for m2, s2"):
        sf.mc_check(est, x**2, PARAMS, 10)
    r = sf.mc_check(est, x**2, {**PARAMS, m2: 0.5, s2: 1.5}, N, exact=PLANTED[mu])
    assert r.status == "consistent", str(r)
    assert "from q" in r.method


def test_same_seed_same_result_other_seed_other_samples() -> None:
    est = estimator("lr", "sigma")
    again = sf.mc_check(est, x**2, PARAMS, N, seed=0, exact=PLANTED[sigma])
    first = run("lr", "sigma")
    assert (again.mean, again.stderr) == (first.mean, first.stderr)
    other = sf.mc_check(est, x**2, PARAMS, N, seed=1, exact=PLANTED[sigma])
    assert other.mean != first.mean


def test_chunk_size_changes_only_the_summation_order() -> None:
    # One generator consumed chunk by chunk and a row-by-row sampler => the same N samples for any chunk size;
    # only the merge order of the partial sums differs, so the results agree to float rounding.
    est = estimator("lr", "sigma")
    small = sf.mc_check(est, x**2, PARAMS, N, seed=0, chunk=1000, exact=PLANTED[sigma])
    whole = sf.mc_check(est, x**2, PARAMS, N, seed=0, chunk=N, exact=PLANTED[sigma])
    assert small.mean == pytest.approx(whole.mean, rel=1e-12)
    assert small.stderr == pytest.approx(whole.stderr, rel=1e-10)
    assert small.mean == pytest.approx(run("lr", "sigma").mean, rel=1e-12)


def test_memory_does_not_grow_with_n() -> None:
    est = estimator("rp", "sigma")
    n, chunk = 10**6, 2**12
    sf.mc_check(est, x**2, PARAMS, 100, chunk=chunk, exact=PLANTED[sigma])  # warm imports and caches
    tracemalloc.start()
    try:
        sf.mc_check(est, x**2, PARAMS, n, chunk=chunk, exact=PLANTED[sigma])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * n / 4, f"peak {peak} bytes: mc_check held something the size of n"  # one (n,) array is 8n


class HalfGradient:
    """An extra term contributing E[phi'(x)]/2 from its own draws x ~ N(mu, sigma) (the test's planted split)."""

    def symbolic_expectation(self, phi):
        return None

    def numeric_expectation(self, phi, values, dps):
        return None

    def mc_samples(self, phi, params, n, rng):
        draws = params[mu] + params[sigma] * rng.standard_normal(n)
        return sp.lambdify(x, sp.diff(phi, x) / 2, "numpy")(draws)


def test_extra_terms_are_added_with_their_variance() -> None:
    p = normal()
    half = sf.Estimator(p, mu, [sp.Rational(1, 2)], 0, extra_terms=(HalfGradient(),), name="half + extra")
    n = 50_000
    r = sf.mc_check(half, x**2, PARAMS, n, seed=5, chunk=n, exact=PLANTED[mu])
    assert r.status == "consistent", str(r)
    # Recompute from the same streams: main from default_rng(5), the extra term from its spawned child.
    rng = np.random.default_rng(5)
    child = rng.spawn(1)[0]
    main = 2 * (MU + SIGMA * rng.standard_normal((n, 1)))[:, 0] / 2
    extra = 2 * (MU + SIGMA * child.standard_normal(n)) / 2
    assert r.mean == pytest.approx(main.mean() + extra.mean(), rel=1e-12)
    assert r.stderr == pytest.approx(math.sqrt(main.var(ddof=1) / n + extra.var(ddof=1) / n), rel=1e-10)
    # Without the extra term the same main part is biased by -mu: caught.
    alone = sf.Estimator(p, mu, [sp.Rational(1, 2)], 0)
    assert sf.mc_check(alone, x**2, PARAMS, n, seed=5, exact=PLANTED[mu]).status == "refuted"


def test_no_exact_value_gives_unknown_with_reason() -> None:
    r = sf.mc_check(estimator("rp", "mu"), x**2, PARAMS, 1000, timeout=1e-3)
    assert r.status == "unknown" and r.exact is None and r.z is None
    assert r.reason.startswith("no exact value")


def test_non_finite_estimates_give_unknown() -> None:
    est = sf.Estimator(normal(), mu, [0], sp.log(x))  # log of negative samples => nan
    r = sf.mc_check(est, x**2, PARAMS, 1000, exact=0.6)
    assert r.status == "unknown" and "not finite" in r.reason


def test_deterministic_estimator_is_judged_against_the_rounding_floor() -> None:
    est = estimator("rp", "mu")
    r = sf.mc_check(est, x, PARAMS, 100, exact=1.0)  # phi = x: every sample gives exactly 1
    assert (r.stderr, r.z, r.status) == (0.0, 0.0, "consistent")
    # One ulp off: float rounding, not bias
    r = sf.mc_check(est, x, PARAMS, 100, exact=math.nextafter(1.0, 2.0))
    assert r.status == "consistent"
    r = sf.mc_check(est, x, PARAMS, 100, exact=1.5)
    assert r.status == "refuted" and r.z < -1e12


@pytest.mark.parametrize("n", [0, -5, 2.5, True, "100", None])
def test_bad_n_is_refused(n) -> None:
    with pytest.raises(sf.SymflowError, match="n must be a positive integer"):
        sf.mc_check(estimator("rp", "mu"), x**2, PARAMS, n)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"params": {mu: 0.3}}, sf.ParameterError, "no value for sigma"),
        ({"params": {mu: 0.3, sigma: -1.0}}, sf.ParameterError, "sigma is declared positive"),
        ({"phi": x**2 + mu}, sf.EstimatorError, "phi uses mu"),
        ({"phi": "x**2"}, sf.SymflowError, "never parses strings"),
        ({"alpha": 0.0}, sf.SymflowError, r"alpha must be a number in \(0, 1\)"),
        ({"alpha": 1.5}, sf.SymflowError, "alpha"),
        ({"chunk": 0}, sf.SymflowError, "chunk must be a positive integer"),
        ({"exact": "2.4"}, sf.SymflowError, "exact must be a finite real number"),
        ({"exact": float("nan")}, sf.SymflowError, "exact must be a finite real number"),
    ],
)
def test_bad_inputs_are_refused(kwargs, error, match) -> None:
    args = {"phi": x**2, "params": PARAMS, "n": 10, **kwargs}
    with pytest.raises(error, match=match):
        sf.mc_check(estimator("rp", "sigma"), **args)


def test_non_estimator_is_refused() -> None:
    with pytest.raises(sf.EstimatorError, match="needs an Estimator"):
        sf.mc_check(x**2, x**2, PARAMS, 10)


def test_result_is_frozen_and_prints_readably() -> None:
    r = run("lr", "mu")
    text = str(r)
    assert "-> consistent" in text and "exact  = 0.6" in text and f"n = {N}" in text and "z_(1-alpha/2)" in text
    with pytest.raises(FrozenInstanceError):
        r.mean = 0.0  # type: ignore[misc]
