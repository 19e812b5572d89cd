"""The differential fuzzer of ``benchmarks/fuzz_decide_zero.py`` at small sizes.

True identities (random rewrite chains) must never be refuted; perturbed ones (bump, changed
constant, swapped function, far-out term, 1e-60 term, periodic difference) must never be
proved.  The full size (10^4 cases, with the false-consistent rate per class) is a benchmark:
``python -m benchmarks.fuzz_decide_zero``.  Cases are reproducible from (index, seed); the
verdicts draw their test points afresh (as in use).
"""

import pytest

from benchmarks.fuzz_decide_zero import make_case, make_density_case, run_case, run_density_case, summarize

SEED = 12


def _run(indices, timeout: float) -> dict:
    rows = []
    for i in indices:
        case = make_case(i, SEED)
        if case is None:
            rows.append({"index": i, "kind": "dropped"})
            continue
        rows.append({"index": i, "kind": case.kind, "truth": case.truth, "status": run_case(case, timeout)})
    return summarize(rows, [])


def _assert_sound(summary: dict) -> None:
    assert summary["false_proved"] == 0, summary["bad"]
    assert summary["false_refuted"] == 0, summary["bad"]
    assert summary["errors"] == 0, summary["bad"]


def test_fuzz_decide_zero_small():
    summary = _run(range(10), timeout=1.5)
    assert summary["cases"] >= 5
    _assert_sound(summary)


def test_fuzz_check_normalized_small():
    for i in range(3):
        p, truth, kind = make_density_case(i, SEED)
        status = run_density_case(p, timeout=5)
        assert not (truth and status == "refuted"), (p, status)
        assert not (not truth and status == "proved"), (p, status)


@pytest.mark.slow
def test_fuzz_decide_zero_larger():
    # 40 cases (~40 s); the full run of 10^4 is benchmarks/fuzz_decide_zero.py
    summary = _run(range(100, 140), timeout=2.0)
    assert summary["cases"] >= 25
    _assert_sound(summary)
    # every perturbation class occurs and is mostly caught
    for kind in ("bump", "constant", "swap", "far", "periodic"):
        entry = summary["by_class"][kind]
        assert entry["cases"] > 0 and entry.get("refuted", 0) >= entry["cases"] // 2, (kind, entry)


@pytest.mark.slow
def test_fuzz_check_normalized_larger():
    for i in range(3, 13):
        p, truth, kind = make_density_case(i, SEED)
        status = run_density_case(p, timeout=10)
        assert not (truth and status == "refuted"), (p, status)
        assert not (not truth and status == "proved"), (p, status)
