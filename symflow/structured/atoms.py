r"""Gaussian structure as SymPy atoms with exact derivative rules.

For x ~ N(mu, Sigma) with Sigma = L L^T (L any invertible matrix of
expressions in the parameters; a Cholesky factor in ``mvn``) write z = x - mu
and

    P = Sigma^{-1},   y = P z,   Q = z^T P z,   D = log det Sigma .

Written out in the entries of L, P is a rational function whose size grows
exponentially with d (ENGINEERING-NOTES: d = 8 blows up expand/cancel).
Here P_ab, y_a, Q and D are kept as *atoms*: SymPy functions of (x, mu, L)
whose derivatives are given in closed form, so every derivative of log p is
a small polynomial in the atoms.  With Sigma-dot = dL L^T + L dL^T (a dot is
d/ds for any symbol s, through the entries of x, mu and L):

    dP = -P Sigma-dot P                       (derivative of an inverse)
    dD = tr(P Sigma-dot)                      (Jacobi's formula)
    dy = -P Sigma-dot y + P (x-dot - mu-dot)
    dQ = -y^T Sigma-dot y + 2 y^T (x-dot - mu-dot)

Only identities that hold for every invertible L are used, and an atom's
value is its definition: evaluated numerically (``evalf``, mpmath at the
requested precision) whenever its arguments are numbers.  With these rules
the transport residual (Eq. 52) of the Cholesky flow u = mu-dot + dL L^T y
and of every flow u = mu-dot + (dL L^T + A) y with A antisymmetric (the
optimal-transport flow is one of them, App. E.1) expands to the literal 0:
P is stored symmetric (P_ab and P_ba are one atom) and A antisymmetric, so
tr(A P) and y^T A y cancel term by term.

``OmtSkew`` is A for the optimal-transport flow: A = W Sigma - dL L^T where
W = W^T solves the Lyapunov equation W Sigma + Sigma W = Sigma-dot
(A + A^T = W Sigma + Sigma W - Sigma-dot = 0, so A is antisymmetric).  Its
derivative in the parameters is left unevaluated.

What the engine does with expressions in these atoms (derivatives without
SymPy's bookkeeping, the transport residual as a dict polynomial, lowering for
compiled code) is in ``symflow.structured.ops`` (walks and derivatives),
``symflow.calculus.transport`` and ``symflow.numeric.lowering``.

One concept although long: the Gaussian atom classes and their derivative rules; the rules refer to
each other (dSigma^{-1} in terms of Sigma^{-1}, ...), so they live together.
"""

from __future__ import annotations

from functools import lru_cache

import mpmath
import sympy as sp
from mpmath.libmp.libmpf import prec_to_dps

__all__ = [
    "Entries",
    "LogDetCov",
    "OmtSkew",
    "OmtTurn",
    "PrecVec",
    "Precision",
    "QuadForm",
    "entry_derivatives",
    "numeric_matrices",
    "precision_density",
    "standardized",
]


class Entries(sp.Basic):
    """An immutable tuple of expressions whose hash is computed once.

    SymPy's ``Tuple`` rehashes all its entries on every ``hash`` call; the
    atoms' d x d arguments are hashed at every construction and cache lookup.
    """

    def __new__(cls, *entries):
        return sp.Basic.__new__(cls, *[sp.Integer(e) if isinstance(e, int) else e for e in entries])

    # A leaf for expand and the like (they would otherwise walk all d x d entries of every
    # atom); free_symbols, subs, xreplace and has still see the entries through args.
    is_Atom = True
    # Not a container to SymPy's rewriters (factor_terms would rebuild it from a list).
    _iterable = False

    def __len__(self) -> int:
        return len(self.args)

    def __getitem__(self, i):
        return self.args[i]

    def __iter__(self):
        return iter(self.args)


@lru_cache(maxsize=4096)
def _integer(i: int) -> sp.Integer:
    return sp.Integer(i)


def _square(flat: Entries) -> int:
    d = int(round(len(flat) ** 0.5))
    if d * d != len(flat):
        raise ValueError(f"a flattened d x d matrix has a square number of entries, got {len(flat)}")
    return d


@lru_cache(maxsize=4096)
def _free(t: Entries) -> frozenset:
    """The free symbols of an argument tuple, computed once per tuple (its hash is cached)."""
    # Numbers skipped: the d^2 entries of dL/dtheta are all 0 but one or two.
    return frozenset().union(*(e.free_symbols for e in t if not e.is_Number))


@lru_cache(maxsize=4096)
def _all_zero(t: Entries) -> bool:
    return all(e == 0 for e in t)


@lru_cache(maxsize=65536)
def entry_derivatives(flat: Entries, s: sp.Symbol) -> dict[int, sp.Expr]:
    """{flat index: d entry / d s} for the entries that depend on s (cached: do not mutate the result).

    Only the entries s occurs in are differentiated (an index of them is built once per tuple).
    """
    if s not in _free(flat):
        return {}
    out = {}
    for i in _where(flat).get(s, ()):
        e = flat[i]
        out[i] = sp.S.One if e == s else sp.diff(e, s)
    return out


@lru_cache(maxsize=4096)
def _where(flat: Entries) -> dict:
    """{symbol: indices of the entries it occurs in}: one pass over the d x d entries, not one per symbol."""
    out: dict = {}
    for i, e in enumerate(flat):
        for sym in (e,) if e.is_Symbol else () if e.is_number else e.free_symbols:
            out.setdefault(sym, []).append(i)
    return out


class _GaussianAtom(sp.Function):
    """Common machinery: real-valued, symbols from the arguments, numeric evaluation."""

    is_real = True

    @classmethod
    def eval(cls, *args):  # noqa: D102 - canonicalization lives in the subclasses
        return None

    @classmethod
    def make(cls, *args):
        """Build an atom without SymPy's Function machinery (cache, evalf check, nargs set).

        The same object as ``cls(*args)`` (equal and equally hashed), after the
        same canonicalization (``eval``); building atoms is the hot spot of
        large flows, and this is about 10x faster.
        """
        args = tuple(sp.Integer(a) if isinstance(a, int) else a for a in args)
        got = cls.eval(*args)
        if got is not None:
            return got
        return sp.Expr.__new__(cls, *args)

    @property
    def free_symbols(self) -> set:  # type: ignore[override]
        got = self.__dict__.get("_free_symbols")
        if got is None:
            got = frozenset().union(*(_free(a) for a in self.args if not a.is_Integer))
            self.__dict__["_free_symbols"] = got
        return set(got)

    def _numbers(self, prec: int):
        """(dps, values of the matrix arguments as mpf tuples), or None when an argument is symbolic."""
        dps = prec_to_dps(prec) + 10
        vals = []
        with mpmath.workdps(dps):
            for a in self._matrix_args():
                row = []
                for e in a:
                    v = e.evalf(dps)
                    if not v.is_Number:
                        return None
                    row.append(mpmath.mpf(v))
                vals.append(tuple(row))
        return dps, vals

    def _matrix_args(self) -> tuple:
        raise NotImplementedError

    def _eval_evalf(self, prec):
        got = self._numbers(prec)
        if got is None:
            return None
        dps, vals = got
        with mpmath.workdps(dps):
            value = self._value(dps, *vals)
        return sp.Float(value, prec_to_dps(prec))

    def _sympystr(self, printer) -> str:
        return self._label()

    def _latex(self, printer) -> str:
        return self._latex_label()


@lru_cache(maxsize=64)
def numeric_matrices(lflat: tuple, dps: int):
    """(P = (L L^T)^{-1}, Sigma, log det Sigma) as mpmath matrices at dps digits, cached by L's values."""
    with mpmath.workdps(dps):
        d = int(round(len(lflat) ** 0.5))
        lower = mpmath.matrix(d, d)
        for i in range(d):
            for j in range(d):
                lower[i, j] = lflat[i * d + j]
        sigma = lower * lower.T
        prec = mpmath.inverse(sigma)
        logdet = 2 * mpmath.log(abs(mpmath.det(lower)))
        return prec, sigma, logdet, lower


@lru_cache(maxsize=64)
def _skew_matrix(dvals: tuple, lvals: tuple, dps: int):
    """A = W Sigma - dL L^T (mpmath, dps digits), W the Lyapunov solution; cached by the values."""
    with mpmath.workdps(dps):
        _, sigma, _, lower = numeric_matrices(lvals, dps)
        d = sigma.rows
        dlow = mpmath.matrix(d, d)
        for i in range(d):
            for j in range(d):
                dlow[i, j] = dvals[i * d + j]
        sdot = dlow * lower.T + lower * dlow.T
        # Lyapunov W Sigma + Sigma W = Sigma-dot through Sigma = V diag(lam) V^T.
        lam, vecs = mpmath.eigsy(sigma)
        c = vecs.T * sdot * vecs
        w_eig = mpmath.matrix(d, d)
        for i in range(d):
            for j in range(d):
                w_eig[i, j] = c[i, j] / (lam[i] + lam[j])
        return vecs * w_eig * vecs.T * sigma - dlow * lower.T


class Precision(_GaussianAtom):
    r"""P_ab = ((L L^T)^{-1})_ab; arguments (a, b, L flattened row-major), indices from 0, a <= b."""

    @classmethod
    def eval(cls, a, b, lflat):
        if int(a) > int(b):  # int: SymPy's Integer comparison sympifies both sides
            return cls.make(b, a, lflat)
        return None

    def _matrix_args(self) -> tuple:
        return (self.args[2],)

    def _value(self, dps, lvals):
        prec, *_ = numeric_matrices(lvals, dps)
        return prec[int(self.args[0]), int(self.args[1])]

    def _eval_derivative(self, s):
        a, b, lflat = int(self.args[0]), int(self.args[1]), self.args[2]
        dl = entry_derivatives(lflat, s)
        if not dl:
            return sp.S.Zero
        d = _square(lflat)
        terms = []
        for idx, dval in dl.items():
            j, k = divmod(idx, d)
            # -(P Sigma-dot P)_ab with Sigma-dot = e_j L_:k^T + L_:k e_j^T (times dL_jk)
            pl_b = _pl(b, k, lflat, d)
            pl_a = _pl(a, k, lflat, d)
            terms.append(-dval * (Precision.make(a, j, lflat) * pl_b + pl_a * Precision.make(j, b, lflat)))
        return sp.Add(*terms)

    def _label(self) -> str:
        return f"P_{int(self.args[0]) + 1}{int(self.args[1]) + 1}"

    def _latex_label(self) -> str:
        return f"P_{{{int(self.args[0]) + 1}{int(self.args[1]) + 1}}}"


def _pl(a: int, k: int, lflat: Entries, d: int) -> sp.Expr:
    """(P L)_ak = sum_e P_ae L_ek."""
    return sp.Add(*[Precision.make(a, e, lflat) * lflat[e * d + k] for e in range(d) if lflat[e * d + k] != 0])


def _ly(k: int, lflat: Entries, d: int, xs: Entries, mus: Entries) -> sp.Expr:
    """(L^T y)_k = sum_e L_ek y_e (the standardized coordinate S_k)."""
    return sp.Add(*[lflat[e * d + k] * PrecVec.make(e, xs, mus, lflat) for e in range(d) if lflat[e * d + k] != 0])


def _dz(xs: Entries, mus: Entries, s: sp.Symbol) -> list[sp.Expr]:
    """d(x - mu)/ds, entry by entry."""
    dx, dm = entry_derivatives(xs, s), entry_derivatives(mus, s)
    return [dx.get(i, sp.S.Zero) - dm.get(i, sp.S.Zero) for i in range(len(xs))]


class LogDetCov(_GaussianAtom):
    r"""D = log det(L L^T); argument L flattened row-major."""

    def _matrix_args(self) -> tuple:
        return (self.args[0],)

    def _value(self, dps, lvals):
        return numeric_matrices(lvals, dps)[2]

    def _eval_derivative(self, s):
        lflat = self.args[0]
        dl = entry_derivatives(lflat, s)
        d = _square(lflat)
        terms = []
        for idx, dval in dl.items():
            j, k = divmod(idx, d)
            # tr(P Sigma-dot) = 2 (P L)_jk
            terms.append(2 * dval * _pl(j, k, lflat, d))
        return sp.Add(*terms)

    def _label(self) -> str:
        return "logdet(Sigma)"

    def _latex_label(self) -> str:
        return r"\log\det\Sigma"


class PrecVec(_GaussianAtom):
    r"""y_a = ((L L^T)^{-1} (x - mu))_a; arguments (a, x, mu, L flattened)."""

    def _matrix_args(self) -> tuple:
        return (self.args[1], self.args[2], self.args[3])

    def _value(self, dps, xv, mv, lvals):
        prec, *_ = numeric_matrices(lvals, dps)
        a = int(self.args[0])
        return mpmath.fsum(prec[a, b] * (xv[b] - mv[b]) for b in range(len(xv)))

    def _eval_derivative(self, s):
        a = int(self.args[0])
        xs, mus, lflat = self.args[1], self.args[2], self.args[3]
        d = _square(lflat)
        terms = [Precision.make(a, b, lflat) * dzb for b, dzb in enumerate(_dz(xs, mus, s)) if dzb != 0]
        for idx, dval in entry_derivatives(lflat, s).items():
            j, k = divmod(idx, d)
            # -(P Sigma-dot y)_a = -(P_aj (L^T y)_k + (P L)_ak y_j)
            y_j = PrecVec.make(j, xs, mus, lflat)
            terms.append(-dval * (Precision.make(a, j, lflat) * _ly(k, lflat, d, xs, mus) + _pl(a, k, lflat, d) * y_j))
        return sp.Add(*terms)

    def _label(self) -> str:
        return f"y_{int(self.args[0]) + 1}"

    def _latex_label(self) -> str:
        return f"y_{{{int(self.args[0]) + 1}}}"


class QuadForm(_GaussianAtom):
    r"""Q = (x - mu)^T (L L^T)^{-1} (x - mu); arguments (x, mu, L flattened)."""

    def _matrix_args(self) -> tuple:
        return self.args

    def _value(self, dps, xv, mv, lvals):
        prec, *_ = numeric_matrices(lvals, dps)
        z = [xv[b] - mv[b] for b in range(len(xv))]
        return mpmath.fsum(z[a] * prec[a, b] * z[b] for a in range(len(z)) for b in range(len(z)))

    def _eval_derivative(self, s):
        xs, mus, lflat = self.args
        d = _square(lflat)
        terms = [2 * PrecVec.make(b, xs, mus, lflat) * dzb for b, dzb in enumerate(_dz(xs, mus, s)) if dzb != 0]
        for idx, dval in entry_derivatives(lflat, s).items():
            j, k = divmod(idx, d)
            # -y^T Sigma-dot y = -2 y_j (L^T y)_k
            terms.append(-2 * dval * PrecVec.make(j, xs, mus, lflat) * _ly(k, lflat, d, xs, mus))
        return sp.Add(*terms)

    def _label(self) -> str:
        return "Q"

    def _latex_label(self) -> str:
        return "Q"


class OmtSkew(_GaussianAtom):
    r"""A_ab = (W Sigma - dL L^T)_ab with W = W^T, W Sigma + Sigma W = dL L^T + L dL^T.

    Arguments (a, b, dL flattened, L flattened); antisymmetric (A_ba = -A_ab,
    A_aa = 0) and 0 when dL = 0.
    """

    @classmethod
    def eval(cls, a, b, dlflat, lflat):
        if a == b or _all_zero(dlflat):
            return sp.S.Zero
        if int(a) > int(b):  # int: SymPy's Integer comparison sympifies both sides
            return -cls.make(b, a, dlflat, lflat)
        return None

    def _matrix_args(self) -> tuple:
        return (self.args[2], self.args[3])

    def _value(self, dps, dvals, lvals):
        return _skew_matrix(dvals, lvals, dps)[int(self.args[0]), int(self.args[1])]

    def _eval_derivative(self, s):
        if not (self.args[2].free_symbols | self.args[3].free_symbols) & {s}:
            return sp.S.Zero
        return None  # the derivative of a Lyapunov solution is left unevaluated

    def _label(self) -> str:
        return f"A_{int(self.args[0]) + 1}{int(self.args[1]) + 1}"

    def _latex_label(self) -> str:
        return f"A_{{{int(self.args[0]) + 1}{int(self.args[1]) + 1}}}"


class OmtTurn(_GaussianAtom):
    r"""(A y)_a = sum_b A_ab y_b: the OMT flow's turn, A = ``OmtSkew`` and y = ``PrecVec``.

    Arguments (a, dL flattened, x, mu, L flattened); 0 when dL = 0.  One atom
    per flow component instead of a SymPy sum of d - 1 products: building those
    sums (SymPy sorts the terms of every Add) was most of the time of
    ``flows.omt`` at d = 32 (17,920 components of 31 terms).  Its derivative is
    the sum's, and ``terms`` gives the summands to code that expands it (the
    transport polynomial, where yᵀAy and tr(AP) cancel term by term).
    """

    @classmethod
    def eval(cls, a, dlflat, xs, mus, lflat):
        if _all_zero(dlflat):
            return sp.S.Zero
        return None

    def signed_terms(self) -> tuple[tuple[int, sp.Expr, sp.Expr], ...]:
        """The summands as (sign, A_ij with i < j, y_b), b != a: A_ab = sign * A_ij by antisymmetry."""
        a, dl, xs, mus, lflat = int(self.args[0]), *self.args[1:]
        out = []
        for b in range(len(xs)):
            if b != a:
                i, j = (a, b) if a < b else (b, a)
                # Already canonical (i < j, dL != 0, checked by eval) => built without eval.
                skew = sp.Expr.__new__(OmtSkew, _integer(i), _integer(j), dl, lflat)
                out.append((1 if a < b else -1, skew, PrecVec.make(b, xs, mus, lflat)))
        return tuple(out)

    def terms(self) -> tuple[tuple[sp.Expr, sp.Expr], ...]:
        """The summands (A_ab, y_b), b != a, with A_ab as ``OmtSkew.make`` gives it (-A_ba when a > b)."""
        return tuple((skew if sign > 0 else -skew, y) for sign, skew, y in self.signed_terms())

    def expanded(self) -> sp.Expr:
        """The sum itself, sum_b A_ab y_b, as a SymPy expression."""
        return sp.Add(*[skew * y for skew, y in self.terms()])

    def _matrix_args(self) -> tuple:
        return (self.args[1], self.args[2], self.args[3], self.args[4])

    def _value(self, dps, dvals, xv, mv, lvals):
        a = int(self.args[0])
        prec, *_ = numeric_matrices(lvals, dps)
        skew = _skew_matrix(dvals, lvals, dps)
        d = len(xv)
        z = [xv[e] - mv[e] for e in range(d)]
        y = [mpmath.fsum(prec[b, e] * z[e] for e in range(d)) for b in range(d)]
        return mpmath.fsum(skew[a, b] * y[b] for b in range(d) if b != a)

    def _eval_derivative(self, s):
        if s not in self.free_symbols:
            return sp.S.Zero
        out = []
        for skew, y in self.terms():
            dskew = sp.diff(skew, s)  # 0 in x; an unevaluated derivative of a Lyapunov solution in the parameters
            dy = y._eval_derivative(s)
            if dskew != 0:
                out.append(dskew * y)
            if dy != 0:
                out.append(skew * dy)
        return sp.Add(*out)

    def _label(self) -> str:
        return f"(A y)_{int(self.args[0]) + 1}"

    def _latex_label(self) -> str:
        return f"(A y)_{{{int(self.args[0]) + 1}}}"


def precision_density(X: Entries, Mu: Entries, lflat: Entries) -> sp.Expr:
    """p = exp(-Q/2 - log det(Sigma)/2) / (2 pi)^(d/2): the normal density in the atoms."""
    return sp.exp(-QuadForm(X, Mu, lflat) / 2 - LogDetCov(lflat) / 2) / (2 * sp.pi) ** sp.Rational(len(X), 2)


def standardized(X: Entries, Mu: Entries, lflat: Entries) -> tuple[sp.Expr, ...]:
    """S = L^T y = L^{-1}(x - mu), component by component, in the atoms y."""
    d = len(X)
    return tuple(_ly(k, lflat, d, X, Mu) for k in range(d))
