"""Cross-cutting soundness properties of verdicts.

* proved never comes from numbers alone: residuals that are nonzero but tiny
  everywhere we can look must not be 'proved';
* refuted always carries a witness, unknown always a reason;
* checks run correctly from several threads at once.
"""

import threading

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import symflow as sf
from symflow.domain import Domain, Interval1D
from symflow.zero import decide_zero
from tests._cases import mu, normal, sigma, x

DOM = Domain(((x, Interval1D()),), ((mu, Interval1D()), (sigma, Interval1D(sp.S.Zero))))


@settings(max_examples=4)
@given(st.integers(min_value=41, max_value=80))
def test_nonrational_residual_below_resolution_is_never_proved(k):
    # exp(-x^2) 10^-k: nonzero everywhere, invisible to 50-digit arithmetic relative to 1.
    residual = sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1 + sp.exp(-(x**2)) / sp.Integer(10) ** k
    assert decide_zero(residual, DOM, timeout=3).status is not sf.Status.PROVED


def test_verdict_invariants_are_enforced():
    with pytest.raises(ValueError, match="witness"):
        sf.Verdict(sf.Status.REFUTED, "m")
    with pytest.raises(ValueError, match="reason"):
        sf.Verdict(sf.Status.UNKNOWN, "m")
    assert sf.Verdict("proved", "m").status is sf.Status.PROVED
    assert sf.Status.PROVED == "proved"


def test_checks_from_many_threads_agree():
    p = normal()
    good, bad = sf.flows.reparam(p), sf.Flow(p, {sigma: [(x - mu) / sigma**2]})
    results = {}

    def run(i):
        flow = good if i % 2 == 0 else bad
        results[i] = sf.check_transport(p, flow, sigma).status

    threads = [threading.Thread(target=run, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert [results[i] for i in range(6)] == ["proved", "refuted"] * 3


@pytest.mark.parametrize(
    "call",
    [
        lambda p: sf.Flow(p, {p.params[0]: ["1"]}),
        lambda p: sf.flows.weighted(sf.flows.zero(p), "1/2"),
        lambda p: sf.Estimator(p, p.params[0], ["0"], 0),
        lambda p: sf.check_boundary(p, sf.flows.zero(p), p.params[0], "x"),
        lambda p: sf.flows.implicit(p, S="x"),
    ],
)
def test_strings_are_refused_everywhere(call):
    with pytest.raises(sf.SymflowError, match="never parses strings"):
        call(normal())
