r"""The transport equation for a Gaussian density and an affine flow, as two matrix identities.

For p = N(mu(theta), Sigma(theta)) over R^d (normalized) and a flow affine in x,
u(x) = A x + c, the transport residual (Eq. 50, 52) is, with y = x - mu and
Lambda = Sigma^{-1},

.. math::
    R = \operatorname{tr} A - y^\top A^\top \Lambda y - (A\mu + c)^\top \Lambda y
        + \dot\mu^\top \Lambda y - \tfrac12 y^\top \dot\Lambda y + \tfrac12 \operatorname{tr}(\Sigma\dot\Lambda),

a quadratic polynomial in y.  It vanishes for every y exactly when its
coefficients do: the linear part gives A mu + c = mu-dot, the quadratic part
A^T Lambda + Lambda A + Lambda-dot = 0, which (multiplied by Sigma on both
sides, Sigma-dot = -Sigma Lambda-dot Sigma) is

.. math:: A\Sigma + \Sigma A^\top = \dot\Sigma ,

and the constant part then follows (tr(Sigma Lambda-dot) = -2 tr A).  So the
flow moves the mean with the mean and the covariance with the covariance
(App. E.1: the Cholesky and the OMT flows both do, and differ by a field with
div(p w) = 0).  Both identities are polynomial or rational in the parameters
with no x left, and Sigma = L L^T is read off the density without inversion
(``symflow.calculus.gaussian.reading``), so each entry is a small expression
that the identity test of ``decide_zero`` settles at exact random points.

This is what makes ``check_transport`` on the default (nested) ``mvn(d)`` as
fast as on its precision form: the residual is never expanded in x.
"""

from __future__ import annotations

import sympy as sp

from ...core.density import Density
from .reading import GaussianParameters, Outside, read_gaussian

__all__ = ["affine_part", "gaussian_transport_identities"]


def affine_part(u: tuple[sp.Expr, ...], x: tuple[sp.Symbol, ...]) -> tuple[sp.Matrix, sp.Matrix] | None:
    """(A, c) with u(x) = A x + c, or None when some component is not affine in x.

    A is the Jacobian; u is affine on R^d exactly when every entry of it is free
    of x (a function with a constant gradient on a connected set is affine; the
    derivative of a kink or jump, sign or DiracDelta, keeps x).  c = u(0).
    Cheaper than ``sympy.Poly`` by orders of magnitude on the nested mvn's flows.
    """
    xs = set(x)
    rows = []
    for ui in u:
        row = [sp.diff(ui, xj) for xj in x]
        if any(entry.free_symbols & xs for entry in row):
            return None
        rows.append(row)
    origin = {xi: sp.S.Zero for xi in x}
    return sp.Matrix(rows), sp.Matrix([ui.xreplace(origin) for ui in u])


def gaussian_transport_identities(
    p: Density, u: tuple[sp.Expr, ...], wrt: sp.Symbol
) -> tuple[tuple[str, sp.Expr], ...] | None:
    r"""The residuals whose vanishing is the transport equation, for a Gaussian p and an affine u.

    Returns ``(name, residual)`` pairs -- the entries of A mu + c - mu-dot, the
    upper triangle of A Sigma + Sigma A^T - Sigma-dot, and d(log normalizer)/d theta
    (0 for a normalized p) -- all free of x; or None when p is not a Gaussian read
    without inversion (nested or precision form of ``mvn``, ``normal``) or u is not
    affine in x (then use the general route).
    """
    try:
        gp: GaussianParameters = read_gaussian(p)
    except Outside:
        return None
    if gp.factor is None:
        return None  # Sigma only through an inverse: the general route is as good
    affine = affine_part(u, p.x)
    if affine is None:
        return None
    A, c = affine
    d = p.dim
    mean = sp.Matrix(gp.mean)
    cov = sp.Matrix(d, d, lambda i, j: gp.cov[i][j])
    dmean = mean.diff(wrt)
    dcov = cov.diff(wrt)
    out: list[tuple[str, sp.Expr]] = []
    shift = A * mean + c - dmean
    out.extend((f"(A mu + c - dmu/d{wrt})_{i + 1}", shift[i]) for i in range(d))
    lyapunov = A * cov + cov * A.T - dcov
    out.extend(
        (f"(A Sigma + Sigma A^T - dSigma/d{wrt})_{i + 1}{j + 1}", lyapunov[i, j]) for i in range(d) for j in range(i, d)
    )
    out.append((f"d log(normalizer)/d{wrt}", sp.diff(gp.normalizer, wrt) / gp.normalizer))
    return tuple(out)
