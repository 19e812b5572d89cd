r"""The Dirichlet distribution over the d - 1 free coordinates of the simplex.

A Dirichlet(alpha_1, ..., alpha_d) point has d coordinates summing to 1, so
only d - 1 of them are free: the density is written over
(x_1, ..., x_{d-1}) with x_d = 1 - x_1 - ... - x_{d-1}, on the simplex
x_i > 0, x_1 + ... + x_{d-1} < 1.

A ``Density``'s support is one interval per coordinate with edges that may
depend on parameters only, so the simplex is stated as the box [0, 1]^{d-1}
times the indicator of x_1 + ... + x_{d-1} < 1 (the support docs' advice for a
support with gaps).  The indicator is a Piecewise of 1 and 0: its derivative
is 0 away from the face x_1 + ... + x_{d-1} = 1, so log-density derivatives
and transport residuals are those of the formula inside the simplex, and
checks decide the transport equation inside it, as at the box's own edges.
The flux across that face is 0 for the implicit flow below: the face is the
level set S_{d-1} = 1 of its last component for every theta, so it does not
move.

The implicit flow (Eq. 56) comes from the stick-breaking standardization, the
Rosenblatt transform of the marginal/conditional Beta construction:

.. math::
    S_k(x) = I_{x_k / (1 - x_1 - \dots - x_{k-1})}\bigl(\alpha_k,\ \alpha_{k+1} + \dots + \alpha_d\bigr),
    \qquad k = 1, \dots, d - 1,

(``sympy.betainc_regularized``), which maps the Dirichlet to the uniform
distribution on [0, 1]^{d-1}.  Its Jacobian is lower-triangular, so
u = -(dS/dx)^{-1} dS/dtheta is a forward substitution, and the first
component depends on x_1 only: it is the Beta(alpha_1, alpha_2 + ... +
alpha_d) implicit flow of the first marginal (PyTorch's
``test_dirichlet_on_diagonal``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sympy as sp

from ..core.density import Density
from ..errors import DensityError
from ._common import UNIT_INTERVAL, Slot, bind, default_x
from .samplers import Draw

__all__ = ["dirichlet"]


def _default_alpha(d: int) -> tuple[sp.Symbol, ...]:
    return tuple(sp.Symbol(f"alpha_{i}", positive=True) for i in range(1, d + 1))


def _dimension(d: object, alpha: object) -> int:
    if alpha is not None:
        if isinstance(alpha, str) or not isinstance(alpha, Sequence):
            raise DensityError("alpha must be a sequence of d >= 2 Symbols or expressions, e.g. (a1, a2, a3)")
        if d is not None and d != len(alpha):
            raise DensityError(f"d = {d} but alpha has {len(alpha)} entries; give one alpha per coordinate")
        d = len(alpha)
    d = 3 if d is None else d
    if isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 2:
        raise DensityError(f"d must be an integer >= 2 (the number of Dirichlet coordinates), got {d!r}")
    return int(d)


def dirichlet(
    d: int | None = None,
    *,
    alpha: Sequence[sp.Expr] | None = None,
    x: Sequence[sp.Symbol] | None = None,
) -> Density:
    r"""The Dirichlet(alpha_1, ..., alpha_d) density over the first d - 1 coordinates.

    .. math::
        p(x;\alpha) = \frac{\Gamma(\alpha_0)}{\prod_{i=1}^d \Gamma(\alpha_i)}
        \prod_{i=1}^{d} x_i^{\alpha_i - 1}, \qquad
        x_d = 1 - \sum_{i<d} x_i,\quad \alpha_0 = \sum_i \alpha_i,

    on the simplex x_i > 0, x_1 + ... + x_{d-1} < 1 (the box [0, 1]^{d-1}
    times the indicator of the sum < 1; see the module docstring).

    Parameter order: ``alpha_1, ..., alpha_d`` (positive), or the free
    Symbols of the alphas given, in order of first appearance
    (``dirichlet(alpha=(a, a, a))`` is the symmetric Dirichlet with params
    ``(a,)``).  Variables ``x_1, ..., x_{d-1}`` (real; the mvn's Symbols).

    Carries the numpy sampler (``Generator.dirichlet``, first d - 1 columns)
    and the stick-breaking standardization S_k = I_{x_k/(1 - x_1 - ... -
    x_{k-1})}(alpha_k, alpha_{k+1} + ... + alpha_d), so ``flows.implicit``
    gives the implicit flow (Eq. 56); no CDF and no explicit
    reparameterization.  Its parameter derivatives are SymPy
    ``Derivative``s of ``betainc_regularized``.

    Parameters
    ----------
    d : int, optional
        The number of Dirichlet coordinates (>= 2); taken from ``alpha`` when
        that is given, else 3.
    alpha : sequence of Symbols or expressions in Symbols, optional
        The concentrations (default ``alpha_1 .. alpha_d``, positive).
    x : sequence of d - 1 Symbols, optional
        Replace the default variables ``x_1 .. x_{d-1}``.
    """
    d = _dimension(d, alpha)
    defaults = _default_alpha(d)
    given = (None,) * d if alpha is None else tuple(alpha)
    bound = bind(tuple(Slot(str(s), s) for s in defaults), given)
    a = bound.values
    if x is not None and (isinstance(x, str | sp.Basic) or not isinstance(x, Sequence)):
        raise DensityError(f"x must be a sequence of d - 1 = {d - 1} sympy Symbols (the free coordinates); got {x!r}")
    xs = default_x(d - 1) if x is None else tuple(x)
    if len(xs) != d - 1 or not all(isinstance(s, sp.Symbol) for s in xs):
        raise DensityError(f"x must be d - 1 = {d - 1} sympy Symbols (the free coordinates); got {xs!r}")

    last = 1 - sp.Add(*xs)
    coords = (*xs, last)
    norm = sp.gamma(sp.Add(*a)) / sp.Mul(*[sp.gamma(ai) for ai in a])
    formula = norm * sp.Mul(*[c ** (ai - 1) for c, ai in zip(coords, a, strict=True)])
    # d = 2: the box [0, 1] is the simplex; no indicator needed.
    expr = formula if d == 2 else formula * sp.Piecewise((1, sp.StrictLessThan(sp.Add(*xs), 1)), (0, True))

    standardize = []
    used = sp.Integer(0)  # x_1 + ... + x_{k-1}: the stick already broken off
    for k in range(d - 1):
        rest = sp.Add(*a[k + 1 :])
        standardize.append(sp.betainc_regularized(a[k], rest, 0, xs[k] / (1 - used)))
        used += xs[k]

    return Density(
        expr,
        xs,
        bound.params,
        support=[UNIT_INTERVAL] * (d - 1),
        sampler=Draw("dirichlet", (a,), columns=d - 1),
        standardize=tuple(standardize),
        constraints=bound.constraints,
        name=f"dirichlet{d}",
    )
