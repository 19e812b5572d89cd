"""Every derivation module under ``derivations/`` runs, and every claim comes out as expected.

The modules are found when the tests are collected, so a module added later
is covered without touching this file (numpyro's ``test_examples.py`` habit).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from symflow.claims import collect, module_paths, run_claim

DERIVATIONS = Path(__file__).resolve().parents[1] / "derivations"
MODULES = module_paths([DERIVATIONS]) if DERIVATIONS.is_dir() else []


def test_derivations_folder_has_modules():
    assert MODULES, f"no derivation modules found under {DERIVATIONS}"


@pytest.mark.parametrize("path", MODULES, ids=[p.stem for p in MODULES])
def test_every_claim_comes_out_as_expected(path: Path):
    claims = collect([path])
    assert claims, f"{path.name} declares no @symflow.claim"
    failures = []
    for c in claims:
        r = run_claim(c)
        if not r.as_expected:
            text = f"raised {r.error}" if r.error else str(r.result)
            failures.append(f"{c.name} (Eq. {c.equation or '-'}): expected {c.expect}, got {r.status}\n{text}")
    assert not failures, "\n\n".join(failures)
