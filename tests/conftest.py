"""Shared test settings: a fixed, derandomized Hypothesis profile."""

import mpmath
import pytest
from hypothesis import settings

settings.register_profile("symflow", derandomize=True, deadline=None, max_examples=25, print_blob=True)
settings.load_profile("symflow")


@pytest.fixture(autouse=True)
def _mpmath_precision_untouched():
    """Every test leaves mpmath's global working precision as it found it.

    SymPy's evalf and mpmath's functions save, raise and restore ``mpmath.mp.prec``, one global of
    the process; two threads doing so at once can leave it at another thread's value for good
    (seen once as 3 bits: every later evalf in that pytest worker came out wrong).
    """
    before = mpmath.mp.prec
    yield
    after = mpmath.mp.prec
    if after != before:
        mpmath.mp.prec = before
        pytest.fail(f"mpmath's global precision was left at {after} bits (was {before})", pytrace=False)


@pytest.fixture(autouse=True)
def _fresh_step_memo():
    """Every test starts with an empty memo of pure steps (``symflow.core.budget``).

    A remembered step would skip the code a test plants a fault in (a monkeypatched SymPy call) or
    times, so each test sees the steps it asks for run, whatever ran before it in the worker.
    """
    from symflow.core import budget

    budget._MEMO.clear()
    yield
