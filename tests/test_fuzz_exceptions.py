"""The exception fuzzer (issue 12, class 9): no exception other than SymflowError leaves a public function.

Small here (the fast tier: a wrong-type sweep over a sample of the public callables and a light random run,
about 15 s), larger in the slow tier, full size in ``benchmarks/fuzz_exceptions.py``.  An escaped exception
is reported with the function, its type, the symflow line it came from and the arguments.
"""

import pytest
import sympy as sp

import symflow as sf
from tests._fuzz import escaped, fuzz, in_fresh_interpreter, junk_sweep, public_callables


def _report(outcomes) -> str:
    return "\n".join(f"{o.name}: {o.kind}: {o.detail}" for o in escaped(outcomes))


def test_the_fuzzer_reaches_every_public_callable():
    names = set(public_callables())
    assert {"derive", "check_unbiased", "mc_check", "families.normal", "flows.reparam", "proof.proof_of"} <= names
    assert len(names) > 100


def test_wrong_types_in_a_sample_of_callables_give_symflow_errors_only():
    # the fast tier: one call each of 30 callables (the sample changes with the seed; the slow tier sweeps all)
    outcomes = junk_sweep(seed=0, per_callable=1, sample=30)
    assert len({o.name for o in outcomes}) == 30
    assert not escaped(outcomes), _report(outcomes)


@pytest.mark.slow
def test_wrong_types_everywhere_give_symflow_errors_only():
    outcomes = in_fresh_interpreter("junk_sweep", seed=0)  # 420 forks: cheap there (see in_fresh_interpreter)
    assert len({o.name for o in outcomes}) == len(public_callables())
    assert not escaped(outcomes), _report(outcomes)


def test_random_adversarial_inputs_light():
    outcomes = fuzz(30, seed=0, budget=0.3, light=True)
    assert not escaped(outcomes), _report(outcomes)


def test_a_call_leaves_nothing_running_after_it():
    # each call runs in a child process killed at its limit: an abandoned call cannot change mpmath's
    # precision (process-global) under later tests, as an abandoned worker thread once did
    import mpmath

    from tests._fuzz import call_once

    def spin_at_high_precision():
        mpmath.mp.dps = 500
        while True:
            pass

    before = mpmath.mp.dps
    outcome = call_once("spin", spin_at_high_precision, [], {}, 0.5)
    assert outcome.kind == "hang" and mpmath.mp.dps == before


@pytest.mark.slow
def test_random_adversarial_inputs():
    # 150 calls (~40 s); the full run (4 seeds of 2,500 calls) is benchmarks/fuzz_exceptions.py
    outcomes = in_fresh_interpreter("fuzz", calls=150, seed=1, budget=0.5)
    assert not escaped(outcomes), _report(outcomes)


# -- the examples ---------------------------------------------------------------------------


def test_huge_parameter_values_are_refused_not_overflowed():
    # issue 12: a huge parameter value gave OverflowError
    p = sf.families.normal()
    mu, sigma = p.params
    lr = sf.Estimator(p, sigma, (0,), p.score(sigma))
    x = p.x[0]
    for call in (
        lambda: sf.check_unbiased(lr, x**2, {mu: 1e308, sigma: 1.0}, timeout=2),
        lambda: sf.mc_check(lr, x**2, {mu: 0.0, sigma: 10**400}, n=100),
        lambda: sf.variance(lr, x**2, {mu: 0.0, sigma: 1e-320}, n=100),
    ):
        with pytest.raises(sf.ParameterError, match="1e-100 .. 1e100|finite"):
            call()


def test_expressions_without_a_float64_value_are_refused_before_sampling():
    p = sf.families.normal()
    mu, sigma = p.params
    i = sp.Symbol("i", integer=True)
    est = sf.Estimator(
        p, mu, (0,), p.score(mu) + sp.Sum(1 / i**2, (i, 1, sp.oo)) * 0 + sp.Integral(p.x[0], (sp.Symbol("s"), 0, 1))
    )
    with pytest.raises(sf.SymflowError, match="unevaluated"):
        sf.mc_check(est, p.x[0], {mu: 0.1, sigma: 1.0}, n=100)
