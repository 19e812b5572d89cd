"""Samplers as values: what numpy draws, with which arguments, as SymPy expressions.

A family's sampler is a ``Draw``: a frozen dataclass naming a numpy
``Generator`` method (or a module-level function) and its arguments as
expressions in the parameters, plus an affine map ``loc + scale * draw``.
It holds no closure, so a ``Density`` carrying it pickles, compares equal
after a round trip, and draws the same numbers from the same seed.  Ties
come for free: the arguments are evaluated at the parameter values the
sampler receives (a dict keyed by the density's free Symbols), so the
sampler of ``beta(alpha=a, beta=2*a)`` draws numpy's ``beta(a, 2a)``.

The custom draws below are the ones numpy lacks; each is a plain function
``f(rng, *args, size)`` at module level, so pickling stores its name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from ..errors import DensityError
from ..numeric.evaluate import numpy_function

__all__ = ["Draw", "bernoulli_draw", "kumaraswamy_draw", "mvn_draw", "std_l_draw"]


def std_l_draw(rng: np.random.Generator, size: int) -> np.ndarray:
    """Eq. (79) with mu = 0, sigma = 1: +-sqrt(-2 log eps_h + eps_x^2), each sign with probability 1/2."""
    eps_x = rng.standard_normal(size)
    eps_h = 1.0 - rng.random(size)  # in (0, 1]: log(0) cannot occur
    sign = np.where(rng.random(size) < 0.5, -1.0, 1.0)
    return sign * np.sqrt(-2.0 * np.log(eps_h) + eps_x**2)


def kumaraswamy_draw(rng: np.random.Generator, a: float, b: float, size: int) -> np.ndarray:
    """The inverse CDF x = (1 - (1 - u)^(1/b))^(1/a) at u ~ U(0, 1).

    Written with log1p/expm1: (1 - u)^(1/b) is close to 1 for large b, and
    1 minus it would lose every digit.
    """
    u = rng.random(size)
    return (-np.expm1(np.log1p(-u) / b)) ** (1.0 / a)


def bernoulli_draw(rng: np.random.Generator, p: float, size: int) -> np.ndarray:
    """1 with probability p, else 0."""
    return (rng.random(size) < p).astype(float)


def mvn_draw(rng: np.random.Generator, mean: np.ndarray, lower: np.ndarray, size: int) -> np.ndarray:
    """x = mean + L eps with eps ~ N(0, I_d), row by row."""
    return mean + rng.standard_normal((size, len(mean))) @ lower.T


def _evaluate(arg: Any, params: Mapping[sp.Symbol, float]) -> Any:
    """A Draw argument at the parameter values: a float (an int for SymPy integers), or an array for a tuple."""
    if isinstance(arg, tuple):
        return np.array([_evaluate(a, params) for a in arg], dtype=float)
    if isinstance(arg, sp.Symbol):
        return params[arg]
    if arg.is_Integer:
        return int(arg)  # numpy's binomial wants an integer number of trials
    if arg.is_number:
        return float(arg)
    symbols = tuple(sorted(arg.free_symbols, key=sp.default_sort_key))
    return float(numpy_function(symbols, arg)(*(params[s] for s in symbols))[0])


def _is_module_level(fn: Callable) -> bool:
    qualname = getattr(fn, "__qualname__", "")
    return bool(getattr(fn, "__module__", None)) and "<" not in qualname and "." not in qualname


@dataclass(frozen=True)
class Draw:
    """``loc + scale * draw(*args, size=n)``, as an (n, d) float array.

    Parameters
    ----------
    draw : str or callable
        The name of a ``numpy.random.Generator`` method (``"normal"``), or a
        module-level function ``f(rng, *args, size)`` (picklable by name).
    args : tuple
        The positional arguments: SymPy expressions in the parameters, or
        tuples of them (passed as arrays, e.g. a Dirichlet's alpha vector).
    loc, scale : sympy.Expr
        The affine map applied to the draws.
    columns : int, optional
        Keep only the first ``columns`` columns of a vector draw.
    """

    draw: str | Callable[..., np.ndarray]
    args: tuple = ()
    loc: sp.Expr = sp.S.Zero
    scale: sp.Expr = sp.S.One
    columns: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.draw, str):
            if not callable(getattr(np.random.Generator, self.draw, None)):
                raise DensityError(f"{self.draw!r} is not a numpy.random.Generator method")
        elif not (callable(self.draw) and _is_module_level(self.draw)):
            # A closure or lambda would make the density unpicklable.
            raise DensityError(f"draw must be a Generator method name or a module-level function, got {self.draw!r}")

    def __call__(self, n: int, params: Mapping[sp.Symbol, float], rng: np.random.Generator) -> np.ndarray:
        args = [_evaluate(a, params) for a in self.args]
        if isinstance(self.draw, str):
            out = getattr(rng, self.draw)(*args, size=n)
        else:
            out = self.draw(rng, *args, size=n)
        out = np.asarray(out, dtype=float)
        if self.columns is not None:
            out = out[:, : self.columns]
        if self.loc != 0 or self.scale != 1:
            out = _evaluate(self.loc, params) + _evaluate(self.scale, params) * out
        return out.reshape(n, -1)
