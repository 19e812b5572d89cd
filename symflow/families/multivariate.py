"""The multivariate normal, parameterized by its mean and a Cholesky factor.

Sigma = L L^T with L lower-triangular and a positive diagonal.  The density is
written through the standardized vector

    z = L^{-1} (x - mu),   computed by forward substitution
    z_i = (x_i - mu_i - sum_{j<i} L_ij z_j) / L_ii,

never through Sigma^{-1} or the entries of L^{-1}: those expand into
exponentially many terms (ENGINEERING-NOTES), while the nested form stays
small, so building the density, its flows and its transport residual stays
fast at d = 8.  log p = -d/2 log(2 pi) - sum_i log L_ii - |z|^2/2 is then a
rational function of x and the parameters (plus logs of the L_ii, which drop
out of every derivative but d/dL_ii), so transport residuals are rational and
the polynomial-identity test decides them.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
import sympy as sp

from ..core.density import Density, Reparameterization
from ..errors import DensityError
from ..structured.atoms import Entries, precision_density, standardized
from ._common import POSITIVE, REAL, Slot, _index, bind, default_x
from .samplers import Draw, mvn_draw

__all__ = ["default_x", "mvn"]

_COVARIANCES = ("full", "diag")
_FORMS = ("nested", "precision")


def _default_mu(d: int) -> tuple[sp.Symbol, ...]:
    return tuple(sp.Symbol(f"mu_{_index(i)}", real=True) for i in range(1, d + 1))


def _default_eps(d: int) -> tuple[sp.Symbol, ...]:
    return tuple(sp.Symbol(f"epsilon_{_index(i)}", real=True) for i in range(1, d + 1))


def _default_scale(d: int, covariance: str) -> tuple[sp.Symbol, ...]:
    if covariance == "diag":
        return tuple(sp.Symbol(f"sigma_{_index(i)}", positive=True) for i in range(1, d + 1))
    return tuple(
        sp.Symbol(f"L_{_index(i, j)}", positive=True) if i == j else sp.Symbol(f"L_{_index(i, j)}", real=True)
        for i in range(1, d + 1)
        for j in range(1, i + 1)
    )


def _variables(given: object, default: tuple[sp.Symbol, ...]) -> tuple[sp.Symbol, ...]:
    if given is None:
        return default
    out = _sequence(given, default, "x")
    if not all(isinstance(s, sp.Symbol) for s in out):
        raise DensityError(f"x must be {len(default)} sympy Symbols; got {out!r}")
    return out


def _sequence(given: object, default: tuple[sp.Symbol, ...], what: str) -> tuple:
    if isinstance(given, str) or not isinstance(given, Sequence):
        raise DensityError(
            f"{what} must be a sequence of {len(default)} sympy Symbols or expressions (or None for the defaults)"
        )
    out = tuple(given)
    if len(out) != len(default):
        raise DensityError(
            f"{what} must have {len(default)} entries, in the order {', '.join(map(str, default))}; got {out!r}"
        )
    return out


def _slots(default: tuple[sp.Symbol, ...]) -> tuple[Slot, ...]:
    # Positive defaults (the diagonal of L, the sigmas) are positive slots; the rest real.
    return tuple(Slot(str(s), s, POSITIVE if s.is_positive else REAL) for s in default)


def _lower_rows(scale: tuple[sp.Symbol, ...], d: int, covariance: str) -> tuple[tuple[sp.Expr, ...], ...]:
    """L as a tuple of rows (lower-triangular, zeros above the diagonal)."""
    if covariance == "diag":
        return tuple(tuple(scale[i] if j == i else sp.S.Zero for j in range(d)) for i in range(d))
    rows, k = [], 0
    for i in range(d):
        row = list(scale[k : k + i + 1]) + [sp.S.Zero] * (d - i - 1)
        k += i + 1
        rows.append(tuple(row))
    return tuple(rows)


def _forward_substitution(rows: tuple, rhs: tuple[sp.Expr, ...]) -> tuple[sp.Expr, ...]:
    """Solve L z = rhs for z, keeping each z_i in terms of the earlier z_j (no expansion)."""
    z: list[sp.Expr] = []
    for i, row in enumerate(rows):
        acc = rhs[i] - sp.Add(*[row[j] * z[j] for j in range(i) if row[j] != 0])
        z.append(acc / row[i])
    return tuple(z)


@cache
def _standard_normal(eps: tuple[sp.Symbol, ...]) -> Density:
    d = len(eps)
    expr = sp.exp(-sp.Add(*[e**2 for e in eps]) / 2) / (2 * sp.pi) ** sp.Rational(d, 2)
    # size=(n, d): numpy's standard_normal takes a shape
    return Density(expr, eps, (), sampler=Draw(_standard_normal_rows, (sp.Integer(d),)), name=f"N(0, I_{d})")


def _standard_normal_rows(rng: np.random.Generator, d: int, size: int) -> np.ndarray:
    """n rows of d independent N(0, 1) draws."""
    return rng.standard_normal((size, d))


def mvn(
    d: int,
    covariance: str = "full",
    *,
    x: Sequence[sp.Symbol] | None = None,
    mu: Sequence[sp.Expr] | None = None,
    scale: Sequence[sp.Expr] | None = None,
    form: str = "nested",
) -> Density:
    r"""The d-dimensional normal N(mu, L L^T) with a Cholesky-factor parameterization.

    .. math::
        p(x;\mu,L) = \frac{\exp(-\tfrac12 \lVert z\rVert^2)}{(2\pi)^{d/2}\prod_i L_{ii}},
        \qquad z = L^{-1}(x-\mu)

    Parameter order: ``mu_1, ..., mu_d`` (real), then the entries of L:

    * ``covariance="diag"``: ``sigma_1, ..., sigma_d`` (positive; L = diag(sigma));
    * ``covariance="full"``: ``L_ij`` for i >= j in row-major order
      (``L_11, L_21, L_22, L_31, L_32, L_33, ...``), the diagonal positive and
      the rest real -- d + d(d+1)/2 parameters in all.

    Variables ``x_1, ..., x_d`` (real).  Reparameterization x = mu + L eps with
    eps ~ N(0, I_d) over ``epsilon_1..epsilon_d``; standardization
    S(x) = L^{-1}(x - mu) (forward substitution).  The reparameterization flow
    for an entry theta of L is the Cholesky flow u = (dL/dtheta) L^{-1}(x - mu)
    (App. E.1).

    Parameters
    ----------
    d : int
        The dimension, d >= 1.
    covariance : {"full", "diag"}
        A full lower-triangular Cholesky factor or a diagonal one.
    x : sequence of Symbols, optional
        Replace the default variables.
    mu, scale : sequences of Symbols or expressions in Symbols, optional
        Replace the default means or Cholesky entries (in the parameter
        order above).  Shared Symbols tie entries (``scale=(s, s)`` with
        ``covariance="diag"`` is the isotropic s^2 I); the parameters are
        then the free Symbols in order of first appearance, means first.
    form : {"nested", "precision"}
        How the density is written.  ``"nested"``: z by forward
        substitution, an explicit expression in x and the parameters
        (SymPy can integrate, print and simplify it; checks slow down past
        d = 6).  ``"precision"``: through the atoms of
        ``symflow.structured.atoms``,
        p = exp(-Q/2 - log det(Sigma)/2) / (2 pi)^(d/2) with Q = z^T P z and
        P = Sigma^{-1} kept as symbols with exact derivative rules, and the
        standardization S = L^T P (x - mu).  Transport residuals then
        expand to 0 term by term, deterministically, in milliseconds per
        parameter at any d (docs/performance.md).
    """
    if isinstance(d, bool) or not isinstance(d, int | np.integer) or not 1 <= d <= 64:
        raise DensityError(f"d must be an integer dimension in 1..64, got {d!r}")
    d = int(d)
    if covariance not in _COVARIANCES:
        raise DensityError(f"covariance must be one of {_COVARIANCES}, got {covariance!r}")
    if form not in _FORMS:
        raise DensityError(f"form must be one of {_FORMS}, got {form!r}")
    xs = _variables(x, default_x(d))
    default_mu, default_scale = _default_mu(d), _default_scale(d, covariance)
    given_mu = (None,) * d if mu is None else _sequence(mu, default_mu, "mu")
    given_scale = (None,) * len(default_scale) if scale is None else _sequence(scale, default_scale, "scale")
    bound = bind(_slots(default_mu + default_scale), given_mu + given_scale)
    mus, scales = bound.values[:d], bound.values[d:]
    eps = _default_eps(d)
    rows = _lower_rows(scales, d, covariance)
    diag = tuple(rows[i][i] for i in range(d))

    if form == "precision":
        expr, z = _precision_form(xs, mus, rows)
    else:
        z = _forward_substitution(rows, tuple(xi - mi for xi, mi in zip(xs, mus, strict=True)))
        expr = sp.exp(-sp.Add(*[zi**2 for zi in z]) / 2) / ((2 * sp.pi) ** sp.Rational(d, 2) * sp.Mul(*diag))
    g = tuple(mus[i] + sp.Add(*[rows[i][j] * eps[j] for j in range(i + 1)]) for i in range(d))

    return Density(
        expr,
        xs,
        bound.params,
        sampler=Draw(mvn_draw, (mus, rows)),
        reparam=Reparameterization(g, eps, _standard_normal(eps)),
        standardize=z,
        constraints=bound.constraints,
        name=f"mvn{d}_{covariance}" + ("_precision" if form == "precision" else ""),
    )


def _precision_form(xs: tuple, mus: tuple, rows: tuple) -> tuple[sp.Expr, tuple[sp.Expr, ...]]:
    """p and S = L^T y in the atoms Q, D, y (gaussian_atoms)."""
    lflat = Entries(*[e for row in rows for e in row])
    X, Mu = Entries(*xs), Entries(*mus)
    return precision_density(X, Mu, lflat), standardized(X, Mu, lflat)
