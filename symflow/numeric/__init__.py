"""The numeric layer: SymPy expressions as vectorized numeric functions.

``compiled`` holds ``CompiledEstimator`` and ``compile_estimator`` (E = v . grad phi + psi phi,
Eq. 19, as ``f(x, phi, grad_phi, params)``); one backend module each (``numpy_backend``,
``jax_backend``, ``torch_backend``); ``_formula`` the stages every backend compiles;
``lowering`` the Gaussian atoms as per-call scalars; ``_rows`` row blocks on threads.
This layer sits below ``symflow.core``: it takes estimators by their attributes.
"""

from .compiled import BACKENDS as BACKENDS
from .compiled import CompiledEstimator as CompiledEstimator
from .compiled import SymflowWarning as SymflowWarning
from .compiled import compile_estimator as compile_estimator

__all__ = ["BACKENDS", "CompiledEstimator", "SymflowWarning", "compile_estimator"]
