"""Regressions from the independent review (round 1): bad or unusual input gives SymflowError, never a foreign one.

Each test names the reproducer in the review (``R02`` ... ``R12``) it pins.  Fast tier: each is cheap.
"""

import pytest
import sympy as sp

import symflow as sf
from symflow.core.budget import SYMPY_GAVE_UP, StepFailed, run_with_budget

# -- R02: the worker process always sends back something picklable ------------------------------------


def _relational_truth_value():
    # SymPy's Relational.__bool__ raises TypeError(LazyExceptionMessage(lambda: ...)): the lambda does not pickle
    return bool(sp.Symbol("t") > 1)


def _returns_a_closure():
    return lambda: 1


def test_an_unpicklable_exception_comes_back_as_the_same_kind():
    with pytest.raises(TypeError, match="cannot determine truth value of Relational"):
        run_with_budget(_relational_truth_value, timeout=20)


def test_an_unpicklable_result_is_a_step_that_could_not_be_done():
    with pytest.raises(StepFailed, match="could not be sent back") as info:
        run_with_budget(_returns_a_closure, timeout=20)
    assert isinstance(info.value, SYMPY_GAVE_UP)  # every handler of SymPy giving up handles it


def test_heaviside_in_a_parameter_is_not_a_runtime_error():
    # R02: check_normalized raised RuntimeError("result could not be pickled: ... Relational.__bool__ ...")
    th = sp.Symbol("theta", positive=True)
    x = sp.Symbol("x", real=True)
    p = sf.Density(th * sp.exp(-th * x) * (1 + sp.Heaviside(th - 100)), x, (th,), support=sp.Interval(0, sp.oo))
    v = sf.check_normalized(p, timeout=20)
    assert v.status in ("proved", "refuted", "consistent", "unknown")
