"""Claim results of each derivation module, computed once per test session.

Running a module's claims is the slow part of both the derivation tests and
the LaTeX compile tests; ``module_results`` caches them per path so a second
user in the same pytest process pays nothing.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from symflow.cli.claims import ClaimResult, collect, run_claim


@cache
def module_results(path: Path) -> tuple[ClaimResult, ...]:
    """Every claim of the module at ``path``, run once (results are immutable values)."""
    return tuple(run_claim(c) for c in collect([path]))
