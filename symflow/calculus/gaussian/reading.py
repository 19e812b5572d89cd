"""Reading a Gaussian off a density: x ~ N(mu, Sigma), without inverting anything where possible.

The precision form (``mvn(d, form="precision")``) names mu and L in its
``QuadForm`` atom; the nested Cholesky form (``mvn(d)``, and ``normal``) has
log p a sum of squares of triangular linear forms, solved one variable at a
time into x = mu + L z.  Both give Sigma = L L^T entry by entry.  Anything
else falls back to Lambda = -Hessian(log p), checked positive definite, and
Sigma = Lambda^{-1} (small d).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

import sympy as sp

from ...core import budget
from ...core.density import Density
from ...structured.atoms import LogDetCov, QuadForm
from .polynomials import Outside, Walk

__all__ = ["GaussianParameters", "Outside", "read_gaussian"]


class GaussianParameters(NamedTuple):
    """A Gaussian read off a density: x ~ N(mean, cov) over R^d.

    Attributes
    ----------
    mean : tuple of Expr
        mu(theta).
    cov : tuple of tuples of Expr
        Sigma(theta), symmetric; its entries are sums of products of L's
        entries when ``factor`` is known (no inversion).
    factor : tuple of tuples of Expr, or None
        L with x = mean + L z, z ~ N(0, I_d), when it was read off (nested
        and precision forms of ``mvn``, and ``normal``).
    normalizer : Expr
        The integral of p over R^d (1 for a normalized density).
    atom_args : tuple or None
        ``(X, Mu, L)``, the arguments of the precision form's ``QuadForm``
        atom: its ``PrecVec`` atoms y = Sigma^{-1}(x - mu) with these
        arguments are jointly Gaussian with x (E[y] = 0, Cov(x, y) = I,
        Cov(y) = Sigma^{-1}).
    how : str
        Which reading applied.
    """

    mean: tuple
    cov: tuple
    factor: tuple | None
    normalizer: sp.Expr
    atom_args: tuple | None
    how: str


# -- reading the Gaussian off log p --------------------------------------------------------


def _cov_from_factor(rows: Sequence[Sequence[sp.Expr]], d: int) -> tuple:
    """Sigma = L L^T entry by entry, as unexpanded sums of products (no inversion)."""

    def entry(i: int, j: int) -> sp.Expr:
        return sp.Add(*[rows[i][k] * rows[j][k] for k in range(d) if rows[i][k] != 0 and rows[j][k] != 0])

    return tuple(tuple(entry(i, j) for j in range(d)) for i in range(d))


def _det_triangular(rows: Sequence[Sequence[sp.Expr]], d: int) -> sp.Expr | None:
    lower = all(rows[i][j] == 0 for i in range(d) for j in range(i + 1, d))
    upper = all(rows[i][j] == 0 for i in range(d) for j in range(i))
    return sp.Mul(*[rows[i][i] for i in range(d)]) if lower or upper else None


def _from_precision_atoms(p: Density, lp: sp.Expr) -> GaussianParameters | None:
    """log p = -Q/2 + (x-free terms), Q = QuadForm(x, mu, L) = (x - mu)^T (L L^T)^{-1} (x - mu)."""
    xset, d = set(p.x), p.dim
    const = [t for t in sp.Add.make_args(lp) if not (t.free_symbols & xset)]
    quad = [t for t in sp.Add.make_args(lp) if t.free_symbols & xset]
    if len(quad) != 1:
        return None
    coeff, atom = quad[0].as_coeff_Mul()
    if coeff != sp.Rational(-1, 2) or not isinstance(atom, QuadForm):
        return None
    X, Mu, Lf = atom.args
    if tuple(X.args) != p.x or len(Mu.args) != d or len(Lf.args) != d * d:
        return None
    if any(e.free_symbols & xset for e in Mu.args + Lf.args):
        return None
    rows = tuple(tuple(Lf.args[i * d : (i + 1) * d]) for i in range(d))
    det = _det_triangular(rows, d)
    det = sp.Matrix(rows).det() if det is None else det
    if det.is_zero is not False:
        return None
    # log det(L L^T) = log(det(L)^2) by the atom's definition; exp(-log(det^2)/2) * |det| then cancels to 1.
    logdets = {t for c in const for t in sp.preorder_traversal(c) if isinstance(t, LogDetCov)}
    if any(t.args[0] != Lf for t in logdets):
        return None
    c0 = sp.Add(*const).xreplace({t: sp.log(det**2) for t in logdets})
    z = sp.exp(c0) * (2 * sp.pi) ** sp.Rational(d, 2) * sp.Abs(det)
    return GaussianParameters(tuple(Mu.args), _cov_from_factor(rows, d), rows, z, (X, Mu, Lf), "precision atoms")


def _from_squares(p: Density, lp: sp.Expr) -> GaussianParameters | None:
    """log p = c0 + sum_k a_k u_k(x)^2, a_k < 0, u_k linear and triangular (nested Cholesky form).

    With z_k = sqrt(-2 a_k) u_k ~ N(0, 1) independent, each u_k brings in one
    new variable x_new once the earlier ones are written as mu + L z; solving
    u_k = z_k / sqrt(-2 a_k) for x_new gives row x_new of x = mu + L z.
    """
    xset, d = set(p.x), p.dim
    const, squares = [], []
    for term in sp.Add.make_args(lp):
        if not (term.free_symbols & xset):
            const.append(term)
            continue
        coeff, base = [], None
        for fac in sp.Mul.make_args(term):
            if not (fac.free_symbols & xset):
                coeff.append(fac)
            elif base is None and fac.is_Pow and fac.exp == 2:
                base = fac.base
            else:
                return None
        a = sp.Mul(*coeff)
        if base is None or (-a).is_positive is not True:
            return None
        squares.append((sp.sqrt(-2 * a), base))
    if len(squares) != d:
        return None
    zeta = tuple(sp.Dummy(f"z{k}") for k in range(d))
    known: dict = {}  # x_i -> its row of mu + L z, as an expression in zeta
    rows: dict = {}
    det = sp.S.One
    for k, (scale, u) in enumerate(sorted(squares, key=lambda su: len(su[1].free_symbols & xset))):
        u = u.xreplace(known)  # earlier variables in terms of zeta: the nested parts collapse
        new = u.free_symbols & xset
        if len(new) != 1:
            return None
        (xn,) = new
        gens = {xn: 0, **{zeta[j]: j + 1 for j in range(k)}}
        lin = Walk(gens, frozenset(gens)).poly(u)
        if any(sum(m) > 1 for m in lin):
            return None
        unit = [tuple(int(i == j) for i in range(k + 1)) for j in range(k + 1)]
        cx = lin.get(unit[0], sp.S.Zero)
        if cx.is_zero is not False:
            return None
        # u = cx x_new + sum_j c_j zeta_j + c0 = zeta_k / scale
        row = [-lin.get(unit[j + 1], sp.S.Zero) / cx for j in range(k)] + [1 / (scale * cx)]
        mean = -lin.get((0,) * (k + 1), sp.S.Zero) / cx
        rows[xn] = (mean, row + [sp.S.Zero] * (d - k - 1))
        known[xn] = mean + sp.Add(*[r * zj for r, zj in zip(row, zeta, strict=False)])
        det *= row[k]
    mean = tuple(rows[xi][0] for xi in p.x)
    factor = tuple(tuple(rows[xi][1]) for xi in p.x)
    z = sp.exp(sp.Add(*const)) * (2 * sp.pi) ** sp.Rational(d, 2) * sp.Abs(det)
    return GaussianParameters(mean, _cov_from_factor(factor, d), factor, z, None, "triangular sum of squares")


def _from_quadratic(p: Density, lp: sp.Expr) -> GaussianParameters | None:
    """log p = c + b^T x - x^T Lambda x / 2: Lambda = -Hessian, Sigma = Lambda^{-1} (inverted here)."""
    d = p.dim
    poly = Walk({xi: i for i, xi in enumerate(p.x)}, frozenset(p.x)).poly(lp)
    if any(sum(m) > 2 for m in poly):
        return None
    lam = sp.zeros(d, d)
    b = sp.zeros(d, 1)
    for m, c in poly.items():
        idx = [i for i, e in enumerate(m) for _ in range(e)]
        if len(idx) == 2:
            i, j = idx
            lam[i, j] = lam[j, i] = -2 * c if i == j else -c
        elif len(idx) == 1:
            b[idx[0]] = c
    for k in range(1, d + 1):  # Sylvester's criterion: Lambda must be positive definite
        if sp.cancel(lam[:k, :k].det()).is_positive is not True:
            return None
    sigma = lam.inv().applyfunc(sp.cancel)
    mean = (sigma * b).applyfunc(sp.cancel)
    c0 = poly.get((0,) * d, sp.S.Zero)
    z = sp.exp(c0 + (b.T * mean)[0] / 2) * (2 * sp.pi) ** sp.Rational(d, 2) / sp.sqrt(sp.cancel(lam.det()))
    cov = tuple(tuple(sigma[i, j] for j in range(d)) for i in range(d))
    return GaussianParameters(tuple(mean), cov, None, z, None, "quadratic log-density (precision inverted)")


def log_density(p: Density) -> sp.Expr:
    """log p as (sum of exponents) + log(x-free factor) when p = C * exp(A) * ..., else ``p.log_expr``.

    Read straight off the product, this is exact and needs no assumptions (expand_log
    only turns log(exp(A)) into A when SymPy knows A is real).
    """
    xset = set(p.x)
    exponents, const = [], []
    for fac in sp.Mul.make_args(p.expr):
        if not (fac.free_symbols & xset):
            const.append(fac)
        elif isinstance(fac, sp.exp):
            exponents.append(fac.args[0])
        else:
            return p.log_expr
    return sp.Add(*exponents) + sp.log(sp.Mul(*const))


def may_be_gaussian(p: Density) -> bool:
    """A cheap structural pre-test, in process: False when p certainly is no Gaussian over R^d.

    False for a discrete density, a support other than R^d, or a log-density that is not a
    polynomial in x (Laplace's |x - mu|, the logistic's log(1 + e^x), Student's log(1 + x^2)):
    those need no forked reading.  True means only "read it" (``read_gaussian`` decides).
    """
    if p.is_discrete or any(s != sp.S.Reals for s in p.support_sets):
        return False
    lp = log_density(p)
    if lp.has(QuadForm):
        return True
    return lp.is_polynomial(*p.x)


def read_gaussian(p: Density) -> GaussianParameters:
    """The Gaussian p is (``Outside`` when it is none); remembered per density (reading mvn(8) takes 0.2 s)."""
    got = _read_cached(p)
    if isinstance(got, Outside):
        raise got
    return got


@lru_cache(maxsize=16)
def _read_cached(p: Density) -> GaussianParameters | Outside:
    try:
        return _read(p)
    except Outside as exc:
        return exc


def _read(p: Density) -> GaussianParameters:
    if p.is_discrete or any(s != sp.S.Reals for s in p.support_sets):
        raise Outside("the support is not all of R^d")
    lp = log_density(p)
    for reader in (_from_precision_atoms, _from_squares, _from_quadratic):
        got = reader(p, lp)
        if got is not None:
            z = got.normalizer
            if not z.is_Number:  # only when the automatic cancellation did not reach 1 (no forcing: |det| matters)
                z = budget.simplify(z)  # runs inside gaussian_expectation's budget
            return got._replace(normalizer=z)
    raise Outside("log p is not a quadratic in x with a provably positive definite precision")
