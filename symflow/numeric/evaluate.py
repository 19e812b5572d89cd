"""The one numeric evaluator: SymPy expressions as mpmath or numpy functions.

Every numeric evaluation in symflow goes through here (a CI gate,
``.ci/no_unbudgeted.py``, keeps ``lambdify`` inside ``symflow.numeric``), so a
function that SymPy's printers map wrongly or not at all is fixed once for
every caller:

``mpmath_function(args, exprs)``
    high precision (the working precision of the caller's ``mpmath.workdps``),
    for zero tests, quadrature and witnesses.  Falls back to SymPy's own
    ``evalf`` of each expression when code cannot be generated.
``numpy_function(args, exprs)``
    vectorized float64 for samples: numpy where it has the function,
    ``scipy.special`` next, and mpmath element by element last
    (``numpy_backend.plan`` decides, and reports each fallback).

Both return a function of the argument values that gives one value per
expression, in order.  Generated functions are cached by their arguments and
expressions (SymPy expressions are immutable and hashable).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

import mpmath
import numpy as np
import sympy as sp

from .numpy_backend import lambdify_many, plan

__all__ = ["mpmath_function", "numpy_function", "numpy_scalar_function"]

# Smoke-test point for generated mpmath code: printing may fail silently (an unknown name).
_SMOKE = "0.37"


def _as_tuple(exprs: sp.Expr | Sequence[sp.Expr]) -> tuple[sp.Expr, ...]:
    if isinstance(exprs, sp.Basic):
        return (exprs,)
    return tuple(exprs)


def mpmath_function(args: Sequence[sp.Symbol], exprs: sp.Expr | Sequence[sp.Expr]) -> Callable[..., list]:
    """A function of mpmath numbers returning ``[value of each expression]`` at mpmath's working precision.

    ``dummify`` keeps a parameter named like an mpmath function (``beta``)
    from shadowing that function in the generated code.  When SymPy cannot
    print an expression for mpmath, each is evaluated by ``evalf`` at the
    working precision instead (slower, same values).
    """
    return _mpmath_function(tuple(args), _as_tuple(exprs))


@lru_cache(maxsize=256)
def _mpmath_function(args: tuple, exprs: tuple) -> Callable[..., list]:
    def by_evalf(*values) -> list:
        sub = dict(zip(args, values, strict=True))
        return [mpmath.mpmathify(e.evalf(mpmath.mp.dps, subs=sub)) for e in exprs]

    # SymPy 1.14 prints -s*Mod(x, m) as "-s*x % m" ((-s*x) % m in Python): floor form instead.
    printable = [e.replace(sp.Mod, lambda a, m: a - m * sp.floor(a / m)) if e.has(sp.Mod) else e for e in exprs]
    try:
        fn = sp.lambdify(args, printable, modules="mpmath", dummify=True)
    except Exception:  # noqa: BLE001 - SymPy's printers raise many kinds on unprintable input
        return by_evalf
    try:
        fn(*[mpmath.mpf(_SMOKE)] * len(args))
    except (NameError, TypeError, AttributeError, SyntaxError, KeyError):
        return by_evalf
    except Exception:  # noqa: BLE001 - a pole or domain error at the smoke point is fine
        pass
    return fn


def numpy_function(args: Sequence, exprs: sp.Expr | Sequence[sp.Expr]) -> Callable[..., tuple]:
    """A vectorized float64 function returning a tuple with one array (or scalar) per expression.

    ``args`` may hold Symbols or tuples of Symbols (a tuple argument takes a
    sequence of arrays, e.g. the columns of a sample).  Functions numpy lacks
    go to scipy.special, then to mpmath element by element.
    """
    return _numpy_function(tuple(tuple(a) if isinstance(a, list | tuple) else a for a in args), _as_tuple(exprs))


@lru_cache(maxsize=256)
def _numpy_function(args: tuple, exprs: tuple) -> Callable[..., tuple]:
    return lambdify_many(args, plan(exprs))


def numpy_scalar_function(args: Sequence, expr: sp.Expr) -> Callable[..., np.ndarray]:
    """``numpy_function`` for one expression: returns its value (an array, or a scalar when constant)."""
    fn = numpy_function(args, expr)

    def one(*values):
        return fn(*values)[0]

    return one
