"""Errors symflow raises for bad input.

Every error names the problem and the fix.  ``SymflowError`` subclasses
``ValueError`` so callers that already catch ``ValueError`` keep working.
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "DensityError",
    "EstimatorError",
    "FlowError",
    "ParameterError",
    "ParseError",
    "SymflowError",
]


class SymflowError(ValueError):
    """Base class: bad input that symflow refuses rather than answer wrongly."""


class DensityError(SymflowError):
    """A density whose variables, parameters or support do not fit together."""


class FlowError(SymflowError):
    """A flow field that does not match its density."""


class ParameterError(SymflowError):
    """A missing, unknown or ill-typed parameter value or ``wrt`` choice."""


class ParseError(SymflowError):
    """Text that ``symflow.parse`` refuses: says what was refused, at which column, and what is allowed."""


class EstimatorError(SymflowError):
    """An estimator, test function or sampling distribution that does not fit."""


class BackendError(SymflowError):
    """A compile backend that is unknown or not installed."""
