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

import os
import random
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from ...core.density import Density
from .reading import GaussianParameters, Outside, read_gaussian

__all__ = ["PointTest", "affine_part", "gaussian_transport_identities", "transport_at_random_points"]


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


# -- the same identities at one exact random rational point, in process ---------------------

# Each parameter is drawn uniformly from the integers 1..SET_SIZE (Schwartz-Zippel's set S).
SET_SIZE = 10**40
TARGET_ERROR = 1e-30


class _Skip(Exception):
    """This route does not apply (not affine in x by structure, not rational, a pole); use another."""


class _Q:
    """An exact rational value of a rational function of the parameters, with degree bounds (num, den).

    The value is the function at the sampled point; (n, d) bound the total degrees of a
    numerator and denominator of the function itself, propagated through +, -, * and
    integer powers exactly as ``symflow.zero.polynomial`` bounds them on expression trees.
    """

    __slots__ = ("d", "n", "v")

    def __init__(self, v: Fraction, n: int = 0, d: int = 0) -> None:
        self.v, self.n, self.d = v, n, d

    def __add__(self, other: _Q) -> _Q:
        return _Q(self.v + other.v, max(self.n + other.d, other.n + self.d), self.d + other.d)

    def __sub__(self, other: _Q) -> _Q:
        return _Q(self.v - other.v, max(self.n + other.d, other.n + self.d), self.d + other.d)

    def __mul__(self, other: _Q) -> _Q:
        return _Q(self.v * other.v, self.n + other.n, self.d + other.d)


_ZERO = _Q(Fraction(0))


def _sum(terms) -> _Q:
    out = None
    for t in terms:
        if t.v == 0 and t.n == 0 and t.d == 0:  # a literal 0 adds nothing to the bound
            continue
        out = t if out is None else out + t
    return _ZERO if out is None else out


class _Affine:
    """Expressions affine in x, evaluated at a point of the parameters: (coefficient of each x_j, constant).

    Affinity is read off the expression tree (x enters only through sums, products with at
    most one x-dependent factor and x-free powers), so it holds for every parameter value,
    not only at the point; anything else raises ``_Skip``.
    """

    def __init__(self, x: tuple, point: dict) -> None:
        self.index = {xi: i for i, xi in enumerate(x)}
        self.d = len(x)
        self.point = point
        self.memo: dict = {}

    def const(self, e: sp.Expr) -> _Q:
        coeffs, c = self(e)
        if coeffs is not None:
            raise _Skip("depends on x")
        return c

    def __call__(self, e: sp.Expr) -> tuple[list | None, _Q]:
        got = self.memo.get(e)
        if got is None:
            got = self.memo[e] = self._eval(e)
        return got

    def _eval(self, e: sp.Expr) -> tuple[list | None, _Q]:
        if e.is_Rational:
            return None, _Q(Fraction(int(e.p), int(e.q)))
        if e.is_Float:  # the exact binary value it stores, as decide_zero reads Floats
            r = sp.Rational(e)
            return None, _Q(Fraction(int(r.p), int(r.q)))
        if e.is_Symbol:
            i = self.index.get(e)
            if i is not None:
                coeffs = [_ZERO] * self.d
                coeffs[i] = _Q(Fraction(1))
                return coeffs, _ZERO
            if e not in self.point:
                raise _Skip(f"{e} is neither a variable nor a parameter")
            return None, _Q(self.point[e], 1, 0)
        if e.is_Add:
            parts = [self(a) for a in e.args]
            const = _sum(c for _, c in parts)
            if all(cs is None for cs, _ in parts):
                return None, const
            coeffs = [_sum(cs[j] for cs, _ in parts if cs is not None) for j in range(self.d)]
            return coeffs, const
        if e.is_Mul:
            parts = [self(a) for a in e.args]
            linear = [k for k, (cs, _) in enumerate(parts) if cs is not None]
            if len(linear) > 1:
                raise _Skip("a product of two x-dependent factors")
            scale = _Q(Fraction(1))
            for k, (_, c) in enumerate(parts):
                if k not in linear:
                    scale = scale * c
            if not linear:
                return None, scale
            cs, c = parts[linear[0]]
            return [scale * cj for cj in cs], scale * c
        if e.is_Pow and e.exp.is_Integer:
            k = int(e.exp)
            if k == 1:
                return self(e.base)
            base = self.const(e.base)
            if base.v == 0 and k < 0:
                raise _Skip("a pole at the sampled point")
            value = base.v**k
            return None, _Q(value, k * base.n, k * base.d) if k >= 0 else _Q(value, -k * base.d, -k * base.n)
        raise _Skip(f"{type(e).__name__}(...) is not rational")


@dataclass(frozen=True)
class PointTest:
    """The transport identities of one parameter at exact random rational points.

    ``zero``: every identity vanished at every point (then transport holds with
    probability at least 1 - ``error_bound``, by Schwartz-Zippel); ``degree``: the largest
    numerator degree bound; ``trials``: the points used.  ``nonzero`` names an identity that
    did not vanish (the rational function is then not identically zero).
    """

    zero: bool
    degree: int
    trials: int
    error_bound: float
    nonzero: str = ""


def transport_at_random_points(
    p: Density, u: tuple[sp.Expr, ...], wrt: sp.Symbol, *, rng: random.Random | None = None
) -> PointTest | None:
    r"""The identities of ``gaussian_transport_identities`` evaluated exactly at random rational parameter values.

    No identity is built symbolically: u is read as A x + c structurally (``_Affine``), at a
    point theta* drawn uniformly from {1, ..., 10^40}^k, and A mu + c - dmu/dtheta and
    A Sigma + Sigma A^T - dSigma/dtheta (Sigma = L L^T from the factor read off p) are computed
    in exact rationals, with a bound D on the total degree of each numerator carried along.
    A nonzero rational function vanishes at such a point with probability at most D/10^40
    (Schwartz-Zippel), so all identities vanishing is a proof with that error bound (points are
    added until it is below 1e-30); a pole of a denominator at the point means another draw.
    Returns None when the route does not apply (p not read as a Gaussian with its factor and
    normalizer 1, u not affine in x by structure, a non-rational coefficient).

    The points come from the operating system's randomness on every call (``rng`` for tests
    only): the bound is a probability over our draws and must not be foreseeable by the input.
    """
    try:
        gp: GaussianParameters = read_gaussian(p)
    except Outside:
        return None
    if gp.factor is None or gp.normalizer != 1:
        return None
    rng = rng or random.Random(int.from_bytes(os.urandom(32), "big"))
    d = p.dim
    symbols = set(p.params)
    for e in (*gp.mean, *(v for row in gp.factor for v in row)):
        symbols |= e.free_symbols
    symbols -= set(p.x)
    dmean_e = [sp.diff(m, wrt) for m in gp.mean]
    dfactor_e = [[sp.diff(v, wrt) for v in row] for row in gp.factor]
    trials, degree, bound = 0, 1, 1.0
    for _attempt in range(64):
        point = {s: Fraction(rng.randint(1, SET_SIZE)) for s in symbols}
        ev = _Affine(p.x, point)
        try:
            mean = [ev.const(m) for m in gp.mean]
            low = [[ev.const(v) for v in row] for row in gp.factor]
            dmean = [ev.const(m) for m in dmean_e]
            dlow = [[ev.const(v) for v in row] for row in dfactor_e]
            rows = [ev(ui) for ui in u]
        except _Skip as exc:
            if "pole" in str(exc):
                continue
            return None
        A = [cs if cs is not None else [_ZERO] * d for cs, _ in rows]
        c = [const for _, const in rows]
        sigma = [[_sum(low[i][k] * low[j][k] for k in range(d)) for j in range(d)] for i in range(d)]
        dsigma = [
            [_sum(dlow[i][k] * low[j][k] + low[i][k] * dlow[j][k] for k in range(d)) for j in range(d)]
            for i in range(d)
        ]
        found = []
        for i in range(d):
            found.append(
                (f"(A mu + c - dmu/d{wrt})_{i + 1}", _sum(A[i][j] * mean[j] for j in range(d)) + c[i] - dmean[i])
            )
        for i in range(d):
            for j in range(i, d):
                r = _sum(A[i][k] * sigma[k][j] + sigma[i][k] * A[j][k] for k in range(d)) - dsigma[i][j]
                found.append((f"(A Sigma + Sigma A^T - dSigma/d{wrt})_{i + 1}{j + 1}", r))
        trials += 1
        for name, r in found:
            if r.v != 0:
                return PointTest(False, max(r.n, 1), trials, 0.0, name)
        degree = max(degree, *(r.n for _, r in found))
        if degree * 10 > SET_SIZE:
            return None  # the bound would say nothing
        bound = (degree / SET_SIZE) ** trials
        if bound <= TARGET_ERROR:
            return PointTest(True, degree, trials, bound)
    return None  # every draw hit a pole
