"""Claim results of each derivation module, computed once per test session.

Running a module's claims is the slow part of the derivation tests, the LaTeX
compile tests and the proof-document tests; ``module_results`` caches them per
path so a second user in the same pytest process pays nothing, and
``module_params`` groups a module's tests into one xdist worker.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from symflow.cli.claims import ClaimResult, collect, module_paths, run_claim

DERIVATIONS = Path(__file__).resolve().parents[1] / "derivations"
MODULES = module_paths([DERIVATIONS]) if DERIVATIONS.is_dir() else []


def module_params() -> list:
    """One ``pytest.param`` a derivation module, grouped by module for ``--dist loadgroup``.

    Under pytest-xdist every test of a module's group runs in one worker process,
    so the claims run once there and the later tests read them from the cache.
    """
    return [pytest.param(m, id=m.stem, marks=pytest.mark.xdist_group(f"claims-{m.stem}")) for m in MODULES]


@cache
def module_results(path: Path) -> tuple[ClaimResult, ...]:
    """Every claim of the module at ``path``, run once (results are immutable values)."""
    return tuple(run_claim(c) for c in collect([path]))


@cache
def module_proofs(path: Path) -> tuple:
    """``proof_of`` of each claim of the module at ``path``, checked once (proofs are immutable values)."""
    from symflow.proof import proof_of

    return tuple(proof_of(r) for r in module_results(path))
