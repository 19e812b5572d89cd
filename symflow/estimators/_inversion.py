"""Inverse-CDF samplers for the pieces of a weak derivative (p+ and p-), as picklable partials.

``quantile_sampler`` draws x = Q(u) from uniforms u, by the first route that
applies:

1. a closed-form quantile Q(u) (SymPy solved F(x) = u once, when the piece
   was built);
2. a closed-form CDF F: vectorized bisection of F(x) = u in float64 (60 halvings
   of a bracket found by doubling outwards from the piece's finite edge);
3. anything else: ``generic_inverse_cdf``, numeric inversion of the density
   alone by ``symflow.numeric.inversion`` (u-error <= 1e-10; the same sampler
   ``Density.sample`` falls back to), built once per parameter value.

Pmfs (integer pieces) are inverted by the same module (cumulative sums of the
pmf up to a tail mass below 1e-14).  ``quantiles(...)`` maps given uniforms, which is what
coupling two pieces through common uniforms needs.  Samplers are module-level
functions bound with ``functools.partial`` (so Densities carrying them pickle);
the numeric functions are built lazily and cached per process.
"""

from __future__ import annotations

from functools import lru_cache, partial

import numpy as np
import sympy as sp

from ..core.convert import as_expr
from ..errors import SymflowError
from ..numeric.evaluate import numpy_scalar_function
from ..numeric.inversion import InversionSampler

__all__ = ["generic_inverse_cdf", "quantile_sampler", "quantiles"]

_U = sp.Symbol("u", positive=True)
_BISECTIONS = 60
# How far short of 0 or 1 a saturated CDF may stop (round-off of a CDF written as a difference).
_SATURATED = 1e-12


def _floats(params: tuple, values: dict) -> tuple[float, ...]:
    return tuple(float(values[t]) for t in params)


def _edge(e: sp.Expr, params: tuple, vals: tuple) -> float:
    got = as_expr(e, "edge").xreplace({t: sp.Float(v) for t, v in zip(params, vals, strict=True)})
    return float(got) if got.is_finite else (np.inf if got == sp.oo else -np.inf)


@lru_cache(maxsize=128)
def _cdf_fn(cdf: sp.Expr, x: sp.Symbol, params: tuple):
    return numpy_scalar_function([x, params], cdf)


def _bisect(cdf: sp.Expr, x: sp.Symbol, params: tuple, lo: sp.Expr, hi: sp.Expr, vals: tuple, u: np.ndarray):
    fn = _cdf_fn(cdf, x, params)

    def F(t: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.broadcast_to(np.asarray(fn(t, vals), dtype=float), np.shape(t))

    a, b = _edge(lo, params, vals), _edge(hi, params, vals)
    # a finite bracket holding every u in [2^-53, 1 - 2^-53]: double outwards from a finite edge (or 0).
    # A CDF written as a difference saturates a few ulps short of its limit (0.9999999999999993 for a piece of
    # the L-distribution) and 1 - 1e-17 == 1.0 in float64 => an infinite side is bracketed once F is within
    # _SATURATED of its limit; a u beyond the saturated F lands on that bracket edge, out in the tail.
    start = a if np.isfinite(a) else (b if np.isfinite(b) else 0.0)
    width = 1.0
    for _ in range(200):
        left = a if np.isfinite(a) else start - width
        right = b if np.isfinite(b) else start + width
        low_ok = np.isfinite(a) or F(np.array([left]))[0] <= _SATURATED
        if low_ok and (np.isfinite(b) or F(np.array([right]))[0] >= 1.0 - _SATURATED):
            break
        width *= 2.0
    else:  # a CDF that never comes near 0 or 1 (nan far out also lands here)
        raise SymflowError("could not bracket the quantiles of a piece: its CDF does not reach 0 and 1")
    left_arr = np.full(u.shape, left)
    right_arr = np.full(u.shape, right)
    for _ in range(_BISECTIONS):
        mid = 0.5 * (left_arr + right_arr)
        below = F(mid) < u
        left_arr = np.where(below, mid, left_arr)
        right_arr = np.where(below, right_arr, mid)
    return 0.5 * (left_arr + right_arr)


@lru_cache(maxsize=64)
def _inverter(expr: sp.Expr, x: sp.Symbol, params: tuple, lo: sp.Expr, hi: sp.Expr, discrete: bool):
    return InversionSampler(expr, x, params, lo, hi, discrete)


def generic_inverse_cdf(
    expr: sp.Expr, x: sp.Symbol, params: tuple, lo: sp.Expr, hi: sp.Expr, vals: tuple, u, discrete: bool = False
):
    """Q(u) for the density (pmf) ``expr`` on [lo, hi] at parameter values ``vals``: numeric inversion."""
    inverse = _inverter(expr, x, params, lo, hi, discrete).inverse(dict(zip(params, vals, strict=True)))
    return np.asarray(inverse.ppf(u), dtype=float)


def quantiles(
    expr: sp.Expr,
    x: sp.Symbol,
    params: tuple,
    lo: sp.Expr,
    hi: sp.Expr,
    cdf: sp.Expr | None,
    quantile: sp.Expr | None,
    discrete: bool,
    values: dict,
    u: np.ndarray,
) -> np.ndarray:
    """Q(u) of the piece ``expr`` on [lo, hi] (see the module docstring for the routes)."""
    vals = _floats(params, values)
    u = np.asarray(u, dtype=float)
    if discrete:
        return generic_inverse_cdf(expr, x, params, lo, hi, vals, u, discrete=True)
    if quantile is not None:
        fn = numpy_scalar_function([_U, params], quantile)
        with np.errstate(all="ignore"):
            got = np.asarray(fn(u, vals))
        if np.iscomplexobj(got):
            # scipy's lambertw (and a few others) return complex dtype on their real branch
            if np.any(np.abs(got.imag) > 1e-12 * np.maximum(1.0, np.abs(got.real))):
                raise SymflowError("the closed-form quantile is complex at some u; its branch is wrong")
            got = got.real
        return np.broadcast_to(got.astype(float), u.shape).copy()
    if cdf is not None:
        return _bisect(cdf, x, params, lo, hi, vals, u)
    return generic_inverse_cdf(expr, x, params, lo, hi, vals, u)


def _sample(
    expr: sp.Expr,
    x: sp.Symbol,
    params: tuple,
    lo: sp.Expr,
    hi: sp.Expr,
    cdf: sp.Expr | None,
    quantile: sp.Expr | None,
    discrete: bool,
    n: int,
    values: dict,
    rng: np.random.Generator,
) -> np.ndarray:
    u = 1.0 - rng.random(n)  # in (0, 1]: a quantile at u = 0 may be -oo
    u = np.minimum(u, 1.0 - 2.0**-53)
    return quantiles(expr, x, params, lo, hi, cdf, quantile, discrete, values, u).reshape(-1, 1)


def quantile_sampler(
    expr: sp.Expr,
    x: sp.Symbol,
    params: tuple,
    support: sp.Set,
    *,
    cdf: sp.Expr | None = None,
    quantile: sp.Expr | None = None,
) -> partial:
    """A sampler ``(n, params, rng) -> (n, 1)`` drawing from ``expr`` on ``support`` by inverse CDF."""
    discrete = isinstance(support, sp.Range) or support in (sp.S.Naturals0, sp.S.Naturals, sp.S.Integers)
    return partial(_sample, expr, x, tuple(params), support.inf, support.sup, cdf, quantile, discrete)


def quantile_symbol() -> sp.Symbol:
    """The uniform variable u of closed-form quantiles Q(u)."""
    return _U
