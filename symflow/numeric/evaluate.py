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
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from ..errors import SymflowError
from .numpy_backend import lambdify_many, plan
from .special import mpmath_implementations, rewrite_parameter_derivatives

__all__ = ["ExprFunction", "mpmath_function", "numpy_function", "numpy_scalar_function"]

_SAMPLER_FIX = "give sampler=... (a function (n, params, rng) -> (n, 1) array) to the Density instead"

# Smoke-test point for generated mpmath code: printing may fail silently (an unknown name).
_SMOKE = "0.37"


def _as_tuple(exprs: sp.Expr | Sequence[sp.Expr]) -> tuple[sp.Expr, ...]:
    if isinstance(exprs, sp.Basic):
        return (exprs,)
    return tuple(exprs)


def _as_sympy_number(value: Any) -> Any:
    """An mpmath number as a SymPy Float (or Float + I Float) at the working precision; others as given."""
    if isinstance(value, mpmath.mpf):
        return sp.Float(value, mpmath.mp.dps)
    if isinstance(value, mpmath.mpc):
        return sp.Float(value.real, mpmath.mp.dps) + sp.I * sp.Float(value.imag, mpmath.mp.dps)
    return value


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
        # SymPy numbers in subs: evalf's floor/ceiling (get_integer_part) calls as_real_imag on the
        # substituted values, which an mpmath number lacks (AttributeError, found by the decide_zero fuzzer)
        sub = {a: _as_sympy_number(v) for a, v in zip(args, values, strict=True)}
        try:
            return [mpmath.mpmathify(e.evalf(mpmath.mp.dps, subs=sub)) for e in exprs]
        except MemoryError:  # an exponent beyond memory: not available here (see guarded)
            raise OverflowError("the value is too large for mpmath to hold (an exponent beyond memory)") from None

    # The special-function table first: lambdify's own mapping of some functions is wrong (it calls the
    # unregularized mpmath.betainc for betainc_regularized) and knows no parameter derivatives.
    exprs = tuple(rewrite_parameter_derivatives(e) for e in exprs)
    # SymPy 1.14 prints -s*Mod(x, m) as "-s*x % m" ((-s*x) % m in Python): floor form instead.
    printable = [e.replace(sp.Mod, lambda a, m: a - m * sp.floor(a / m)) if e.has(sp.Mod) else e for e in exprs]
    try:
        fn = sp.lambdify(args, printable, modules=[mpmath_implementations(), "mpmath"], dummify=True)
    except Exception:  # noqa: BLE001 - SymPy's printers raise many kinds on unprintable input
        return by_evalf
    try:
        fn(*[mpmath.mpf(_SMOKE)] * len(args))
    except _UNPRINTED:
        return by_evalf
    except Exception:  # noqa: BLE001 - a pole or domain error at the smoke point is fine
        pass

    def guarded(*values) -> list:
        # A branch the smoke point did not reach may still call a name mpmath lacks (exp_polar inside a
        # hyper of the Student-t flow): evaluate that call by evalf instead of failing.
        try:
            return fn(*values)
        except _UNPRINTED:
            return by_evalf(*values)
        except MemoryError:
            # exp(exp(huge)) (a Gumbel density far out): mpmath cannot hold the exponent => the value is
            # not available here, an ArithmeticError like any overflow, never a foreign exception
            raise OverflowError("the value is too large for mpmath to hold (an exponent beyond memory)") from None

    return guarded


# What generated code raises when a function was printed under a name the namespace lacks.
_UNPRINTED = (NameError, AttributeError, KeyError, SyntaxError)


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


class ExprFunction:
    """x -> expr(x; theta) as a vectorized float64 function, for a density written in SymPy.

    Holds the expression, its variable, its parameters and their values; it is compiled
    (``numpy_function``) on first call and pickles as the expression, so samplers built
    on it pickle too.  ``check`` compares it with ``evalf`` at given points.
    """

    def __init__(self, expr: sp.Expr, x: sp.Symbol, params: tuple = (), values: tuple = ()) -> None:
        if len(params) != len(values):
            raise SymflowError(f"{len(params)} parameters but {len(values)} values; give one value per parameter")
        self.expr, self.x, self.params = expr, x, tuple(params)
        self.values = tuple(float(v) for v in values)
        self._fn = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        try:
            if self._fn is None:
                self._fn = numpy_scalar_function((self.x, *self.params), self.expr)
            with np.errstate(all="ignore"):
                out = np.asarray(self._fn(x, *self.values), dtype=float)
            return out if out.shape == np.shape(x) else np.broadcast_to(out, np.shape(x)).copy()  # a constant
        except (NameError, TypeError, AttributeError) as e:  # a function lambdify has no numeric version of
            raise SymflowError(f"{self.expr} cannot be evaluated numerically ({e}); " + _SAMPLER_FIX) from e

    def check(self, points: np.ndarray, rtol: float = 1e-8) -> ExprFunction:
        """Return self if it agrees with ``evalf`` at ``points`` (where finite), else raise SymflowError."""
        points = np.asarray(points, dtype=float)
        got = np.broadcast_to(self(points), points.shape)
        subs = dict(zip(self.params, map(sp.Float, self.values), strict=True))
        for xv, g in zip(points, got, strict=True):
            want = complex(sp.N(self.expr.xreplace({**subs, self.x: sp.Float(float(xv))}), 20))
            if abs(want.imag) > 1e-12 * max(1.0, abs(want.real)) or not np.isfinite(want.real):
                continue
            if not abs(g - want.real) <= rtol * max(abs(want.real), 1e-300):
                raise SymflowError(
                    f"{self.expr} evaluates to {g} at x = {xv} numerically but to {want.real} by evalf; "
                    "a function in it is mapped wrongly by lambdify: " + _SAMPLER_FIX
                )
        return self

    def __getstate__(self) -> dict:
        return {"expr": self.expr, "x": self.x, "params": self.params, "values": self.values}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _fn=None)

    def __repr__(self) -> str:
        bound = ", ".join(f"{p}={v:g}" for p, v in zip(self.params, self.values, strict=True))
        return f"ExprFunction({self.expr}, {self.x}{'; ' + bound if bound else ''})"
