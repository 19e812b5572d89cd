"""Every derivation module under ``derivations/`` runs, and every claim comes out as expected.

The modules are found when the tests are collected, so a module added later
is covered without touching this file (numpyro's ``test_examples.py`` habit).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp

import symflow as sf
from tests._claim_results import DERIVATIONS, MODULES, module_params, module_results


def test_derivations_folder_has_modules():
    assert MODULES, f"no derivation modules found under {DERIVATIONS}"


@pytest.mark.slow
@pytest.mark.parametrize("path", module_params())
def test_every_claim_comes_out_as_expected(path: Path):
    results = module_results(path)
    assert results, f"{path.name} declares no @symflow.claim"
    failures = []
    for r in results:
        c = r.claim
        if not r.as_expected:
            text = f"raised {r.error}" if r.error else str(r.result)
            failures.append(f"{c.name} (Eq. {c.equation or '-'}): expected {c.expect}, got {r.status}\n{text}")
    assert not failures, "\n\n".join(failures)


def test_combined_claims_report_the_weakest_part():
    """A claim over several parameters is only as strong as its weakest verdict."""

    x = sp.Symbol("x")
    proved = sf.Verdict("proved", "structural")
    consistent = sf.Verdict("consistent", "numeric at 50 digits")
    refuted = sf.Verdict("refuted", "numeric", x, sf.Witness(((x, 1),), 2.0, 2.0))
    unknown = sf.Verdict("unknown", "simplify", reason="budget")
    both = sf.combine({"a": proved, "b": consistent}, "c")
    assert both.status == "consistent" and "1 proved, 1 consistent of 2 parameters" in both.method
    assert "d/da: structural" in both.method and both.claim == "c"
    bad = sf.combine({"a": proved, "b": refuted, "c": unknown}, "c")
    assert bad.status == "refuted" and bad.witness is refuted.witness
    assert sf.combine({"a": proved, "b": unknown}, "c").status == "unknown"
