r"""Exact Gaussian expectations E_{x~N(mu, Sigma)}[f(x)] without quadrature.

For p a Gaussian density over all of R^d (any parameterization) and f a sum of
terms polynomial(x) * exp(linear + quadratic form in x) (with sin and cos of
linear forms, sinh and cosh of linear or quadratic forms), the integral of f p
is a closed form in the parameters.  Three identities give it:

* **Isserlis' theorem** (Wick's theorem in physics): for v ~ N(m, C),
  E[prod_k v_{i_k}] is the sum over partial pairings of the factors of
  prod_{pairs (a,b)} C_ab * prod_{unpaired c} m_c.  It is evaluated by
  **Stein's lemma** (Gaussian integration by parts),

  .. math:: E[v_i\,h(v)] = m_i\,E[h(v)] + \sum_j C_{ij}\,E[\partial_j h(v)],

  a recursion on monomials, memoized, whose terms are exactly the pairings.
* **Completing the square** (the Gaussian tilt): with exponent
  e(x) = b0 + b^T x - x^T A x / 2, A supported on the index set S,

  .. math:: E[g(x)\,e^{e(x)}] = \frac{\exp(b_0 + b^T m - \tfrac12 m^T A m + \tfrac12 c^T C' c)}
            {\sqrt{\det(I + A_{SS} C_{SS})}}\; E_{N(m + C'c,\;C')}[g],
            \qquad c = b - A m,\quad C' = C - C_{:S}(I + A_{SS}C_{SS})^{-1}A_{SS}C_{S:}

  (the Woodbury form of (C^{-1} + A)^{-1}: only an |S| x |S| matrix is
  inverted, never Sigma).  It needs C^{-1} + A positive definite, which holds
  iff C_SS + C_SS A_SS C_SS is (a congruence of C_SS^{-1} + A_SS); it is
  established from A_SS positive semidefinite or Sylvester's criterion, else
  the answer is None.  With A = 0 this is the moment generating function
  E[e^{b^T x}] = exp(b^T m + b^T C b / 2) and its shifted-mean companion.
* **Euler's formula**: cos(a) = (e^{ia} + e^{-ia})/2 and sin likewise, with i
  kept as a formal root J of J^2 + 1 so everything stays polynomial; the real
  part is read off at the end.

Why the covariance route.  The Gaussian is read off log p without inverting
anything where the parameterization allows: the nested Cholesky form
(``mvn(d)``) is a sum of squares of triangular linear forms, solved one
variable at a time into x = mu + L z, z ~ N(0, I); the precision form
(``mvn(d, form="precision")``) names mu and L in its ``QuadForm`` atom.  Both
give Sigma = L L^T entry by entry, and the moments are computed as a
polynomial in the *placeholders* m_i, Sigma_ij (at most one term per partial
pairing, however Sigma is parameterized) into which the entries are put at the
end, unexpanded.  Expanding in the standardized variable z instead gives a
polynomial in mu and L, each Sigma_ij a sum of up to d products: for a dense
quartic at d = 8, 11,704 monomials against 2,619 placeholder terms (measured),
and SymPy then spends about 4x longer building it.  Gradients go by the chain
rule through the placeholders (``gaussian_expectation_gradient``): SymPy's
``diff`` of the returned E takes 30-60 s at d = 8, the chain rule 1-3 s.
Only a density outside both forms falls back to Lambda = -Hessian(log p),
Sigma = Lambda^{-1} (small d; budgeted).

Every result is the integral of f p over R^d, which is E_p[f] for a normalized
p (the normalizer is read off log p and multiplied in when it is not 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.rings import ring

from ..core.budget import BudgetExceeded, resolve_timeout, run_with_budget
from ..core.density import Density
from ..errors import EstimatorError, SymflowError

__all__ = [
    "GaussianParameters",
    "gaussian_expectation",
    "gaussian_expectation_gradient",
    "gaussian_expectation_how",
    "gaussian_parameters",
]

Mono = tuple[int, ...]
PolyDict = dict[Mono, sp.Expr]
# The formal imaginary unit: J**2 = -1 is applied by hand, so every step stays a polynomial operation.
_J = sp.Dummy("J")


class _Outside(Exception):
    """p or f is outside the class decided here; the message says which part and why."""


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


# -- polynomials as {exponent tuple: coefficient} ------------------------------------------


def _collect(acc: dict[Mono, list]) -> PolyDict:
    out = {}
    for m, cs in acc.items():
        c = sp.Add(*cs)
        if c != 0:
            out[m] = c
    return out


def _mul(p: PolyDict, q: PolyDict) -> PolyDict:
    acc: dict[Mono, list] = {}
    for m1, c1 in p.items():
        for m2, c2 in q.items():
            acc.setdefault(tuple(a + b for a, b in zip(m1, m2, strict=True)), []).append(c1 * c2)
    return _collect(acc)


def _pow(p: PolyDict, n: int, one: PolyDict) -> PolyDict:
    out, base = one, p
    while n:  # binary powering: log2(n) products instead of n
        if n & 1:
            out = _mul(out, base)
        n >>= 1
        if n:
            base = _mul(base, base)
    return out


class _Walk:
    """Reads expressions as polynomials in generators: Symbols, or atoms mapped to an index."""

    def __init__(self, gens: dict, markers: frozenset, n: int | None = None, expansions: dict | None = None) -> None:
        self.gens = gens
        self.n = len(set(gens.values())) if n is None else n
        self.markers = markers  # an expression free of these Symbols is a coefficient
        self.expansions = expansions or {}  # atoms replaced by a polynomial (QuadForm in y)
        self.zero: Mono = (0,) * self.n
        self.one: PolyDict = {self.zero: sp.S.One}
        self.memo: dict = {}

    def constant(self, e: sp.Basic) -> bool:
        return not (e.free_symbols & self.markers)

    def poly(self, e: sp.Expr) -> PolyDict:
        got = self.memo.get(e)
        if got is not None:
            return got
        if e in self.gens:
            out = {tuple(int(k == self.gens[e]) for k in range(self.n)): sp.S.One}
        elif e in self.expansions:
            out = self.expansions[e]
        elif self.constant(e):
            out = {self.zero: e} if e != 0 else {}
        elif e.is_Add:
            acc: dict[Mono, list] = {}
            for a in e.args:
                for m, c in self.poly(a).items():
                    acc.setdefault(m, []).append(c)
            out = _collect(acc)
        elif e.is_Mul:
            out = self.one
            for a in e.args:
                out = _mul(out, self.poly(a))
        elif e.is_Pow and e.exp.is_Integer and e.exp >= 0:
            out = _pow(self.poly(e.base), int(e.exp), self.one)
        else:
            raise _Outside(f"{e.func.__name__}(...) is not a polynomial in {sorted(map(str, self.markers))}")
        self.memo[e] = out
        return out


def _split_j(e: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """(re, im) of an expression polynomial in the formal unit J (J**2 = -1)."""
    if not e.has(_J):
        return e, sp.S.Zero
    try:
        poly = _Walk({_J: 0}, frozenset({_J})).poly(e)
    except _Outside:  # J inside a function: an x-free constant of f such as exp(I), split by SymPy
        return e.xreplace({_J: sp.I}).as_real_imag()
    parts: tuple[list, list] = ([], [])
    for (k,), c in poly.items():
        parts[k % 2].append(c if k % 4 in (0, 1) else -c)
    return sp.Add(*parts[0]), sp.Add(*parts[1])


# -- reading the Gaussian off log p --------------------------------------------------------


def _named(e: sp.Basic, name: str, nargs: int) -> bool:
    # The atoms of symflow.structured are recognized by name: this layer may not import them.
    # Their definitions are restated in _atom_exact and checked against the atoms' own values.
    return type(e).__name__ == name and isinstance(e, sp.Function) and len(e.args) == nargs


def _atom_exact(name: str, args: tuple) -> sp.Expr:
    """The definition of a precision-form atom at numeric arguments, exactly (see structured.atoms)."""
    lf = args[-1].args
    d = int(round(len(lf) ** 0.5))
    sigma = sp.Matrix(d, d, lf) * sp.Matrix(d, d, lf).T
    if name == "LogDetCov":
        return sp.log(sigma.det())
    z = sp.Matrix([a - b for a, b in zip(args[-3].args, args[-2].args, strict=True)])
    y = sigma.LUsolve(z)
    return (z.T * y)[0] if name == "QuadForm" else y[int(args[0])]


def _l_value(i: int, d: int) -> sp.Rational:
    row, col = divmod(i, d)
    return d + 1 + sp.Rational(row, 7) if row == col else sp.Rational((-1) ** i * (i + 1), 11)


def _check_atom(atom: sp.Function) -> None:
    """Refuse an atom whose values disagree with the definition this module relies on.

    Evaluated at fixed exact rationals (an invertible, asymmetric L of the atom's
    zero pattern), so a renamed or redefined atom cannot be misread silently.
    """
    name = type(atom).__name__
    num_args = []
    for k, a in enumerate(atom.args):
        if not isinstance(a, sp.Basic) or not a.args:  # an index
            num_args.append(a)
            continue
        n = len(a.args)
        d = int(round(n**0.5))
        if k == len(atom.args) - 1:  # L: a dominant diagonal keeps it invertible
            vals = [_l_value(i, d) if e != 0 else sp.S.Zero for i, e in enumerate(a.args)]
        else:
            vals = [sp.Rational((-1) ** i * (2 * i + 1 + k), 5 + k) for i in range(n)]
        num_args.append(type(a)(*vals))
    want = _atom_exact(name, tuple(num_args))
    got = atom.func(*num_args).evalf(30)
    if not (got.is_Number and abs(got - want.evalf(30)) <= sp.Float("1e-20", 30) * max(1, abs(want.evalf(30)))):
        raise _Outside(f"the {name} atom does not have the value this module assumes")


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
    if coeff != sp.Rational(-1, 2) or not _named(atom, "QuadForm", 3):
        return None
    X, Mu, Lf = atom.args
    if tuple(X.args) != p.x or len(Mu.args) != d or len(Lf.args) != d * d:
        return None
    if any(e.free_symbols & xset for e in Mu.args + Lf.args):
        return None
    _check_atom(atom)
    rows = tuple(tuple(Lf.args[i * d : (i + 1) * d]) for i in range(d))
    det = _det_triangular(rows, d)
    det = sp.Matrix(rows).det() if det is None else det
    if det.is_zero is not False:
        return None
    # log det(L L^T) = log(det(L)^2) by the atom's definition; exp(-log(det^2)/2) * |det| then cancels to 1.
    logdets = {t for c in const for t in sp.preorder_traversal(c) if _named(t, "LogDetCov", 1)}
    for t in logdets:
        if t.args[0] != Lf:
            return None
        _check_atom(t)
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
        lin = _Walk(gens, frozenset(gens)).poly(u)
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
    poly = _Walk({xi: i for i, xi in enumerate(p.x)}, frozenset(p.x)).poly(lp)
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


def _log_density(p: Density) -> sp.Expr:
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


def _read(p: Density) -> GaussianParameters:
    if p.is_discrete or any(s != sp.S.Reals for s in p.support_sets):
        raise _Outside("the support is not all of R^d")
    lp = _log_density(p)
    for reader in (_from_precision_atoms, _from_squares, _from_quadratic):
        got = reader(p, lp)
        if got is not None:
            z = got.normalizer
            if not z.is_Number:  # only when the automatic cancellation did not reach 1 (no forcing: |det| matters)
                z = sp.simplify(z)
            return got._replace(normalizer=z)
    raise _Outside("log p is not a quadratic in x with a provably positive definite precision")


# -- f as sum over exponents of polynomial * exp(exponent) --------------------------------

Key = tuple  # the non-constant part of an exponent: sorted ((mono, coeff), ...)


def _key_add(k1: Key, k2: Key) -> Key:
    acc: dict[Mono, list] = {}
    for m, c in k1 + k2:
        acc.setdefault(m, []).append(c)
    return tuple(sorted(_collect(acc).items(), key=lambda mc: mc[0]))


class _Terms:
    """f as {exponent key: polynomial}, so that f = sum_key poly_key(v) * exp(key . x)."""

    def __init__(self, walk: _Walk, d: int) -> None:
        self.walk, self.d = walk, d
        self.memo: dict = {}

    def _exponent(self, arg: sp.Expr, max_degree: int) -> tuple[Key, sp.Expr]:
        poly = dict(self.walk.poly(arg))
        c0 = poly.pop(self.walk.zero, sp.S.Zero)
        for m, c in poly.items():
            if any(m[self.d :]) or sum(m) > max_degree:
                raise _Outside(f"exp of {arg} is not exp of a linear or quadratic form in x")
            if sum(m) == 2 and c.is_real is not True:  # the definiteness argument needs a real quadratic part
                raise _Outside(f"the quadratic part of exp({arg}) is not known to be real")
        re0, im0 = _split_j(c0)
        coeff = sp.exp(re0) if im0 == 0 else sp.exp(re0) * (sp.cos(im0) + _J * sp.sin(im0))
        return tuple(sorted(poly.items(), key=lambda mc: mc[0])), coeff

    def _exps(self, pairs: list) -> dict:
        """sum of w * exp(arg) over (w, arg) pairs."""
        out: dict[Key, dict] = {}
        for w, arg, deg in pairs:
            key, coeff = self._exponent(arg, deg)
            out.setdefault(key, {}).setdefault(self.walk.zero, []).append(w * coeff)
        return {k: _collect(v) for k, v in out.items()}

    def terms(self, e: sp.Expr) -> dict:
        got = self.memo.get(e)
        if got is not None:
            return got
        walk = self.walk
        if walk.constant(e) or e in walk.gens or e in walk.expansions:
            out = {(): walk.poly(e)}
        elif e.is_Add:
            acc: dict = {}
            for a in e.args:
                for k, poly in self.terms(a).items():
                    for m, c in poly.items():
                        acc.setdefault(k, {}).setdefault(m, []).append(c)
            out = {k: _collect(v) for k, v in acc.items()}
        elif e.is_Mul:
            out = {(): walk.one}
            for a in e.args:
                out = self._times(out, self.terms(a))
        elif e.is_Pow and e.exp.is_Integer and e.exp >= 0:
            out, base, n = {(): walk.one}, self.terms(e.base), int(e.exp)
            for _ in range(n):
                out = self._times(out, base)
        elif isinstance(e, sp.exp):
            out = self._exps([(sp.S.One, e.args[0], 2)])
        elif isinstance(e, sp.cos | sp.sin):  # Euler: e^{+-i a}, i as the formal unit J
            a = e.args[0]
            if a.has(_J) or any(sum(m) > 1 for m in self.walk.poly(a)):
                raise _Outside(f"{e.func.__name__} of {a}: only real linear forms in x are decided")
            w = sp.S.Half if isinstance(e, sp.cos) else -_J / 2
            out = self._exps([(w, _J * a, 1), (w if isinstance(e, sp.cos) else -w, -_J * a, 1)])
        elif isinstance(e, sp.cosh | sp.sinh):
            a = e.args[0]
            out = self._exps([(sp.S.Half, a, 2), (sp.S.Half if isinstance(e, sp.cosh) else -sp.S.Half, -a, 2)])
        else:
            raise _Outside(f"{e.func.__name__}(...) of x is not polynomial x exp(quadratic) or a sine/cosine")
        self.memo[e] = out
        return out

    def _times(self, t1: dict, t2: dict) -> dict:
        acc: dict = {}
        for k1, p1 in t1.items():
            for k2, p2 in t2.items():
                k = _key_add(k1, k2)
                for m, c in _mul(p1, p2).items():
                    acc.setdefault(k, {}).setdefault(m, []).append(c)
        return {k: v for k, v in ((k, _collect(v)) for k, v in acc.items()) if v}


# -- Isserlis by Stein's lemma -------------------------------------------------------------


class _Moments:
    """E[poly(v)] for v ~ N(mean, cov) as (re, im) polynomials in placeholders for the entries.

    The mean may carry the formal unit J (a tilt by e^{i k.x}); the covariance is real.
    """

    def __init__(self, poly: PolyDict, mean: Sequence[sp.Expr], cov: Sequence[Sequence[sp.Expr]]) -> None:
        n = len(mean)
        self.values: list[sp.Expr] = []
        index: dict = {}

        def slot(v: sp.Expr):
            """0 and rationals stay numbers; anything else gets a placeholder (one per distinct value)."""
            if v == 0 or v.is_Rational:
                return v
            if v not in index:
                index[v] = len(self.values)
                self.values.append(v)
            return index[v]

        split = [tuple(slot(part) for part in _split_j(m)) for m in mean]
        cov_slots = [[slot(cov[i][j] if i <= j else cov[j][i]) for j in range(n)] for i in range(n)]
        # One generator per placeholder, and J last.
        self.R, *gens = ring([f"g{k}" for k in range(len(self.values) + 1)], QQ)
        j_gen = gens[-1]

        def elem(s):
            if isinstance(s, int):
                return gens[s]
            return None if s == 0 else self.R(s)

        mean_r = []
        for re, im in split:
            a, b = elem(re), elem(im)
            mean_r.append(a if b is None else (b * j_gen if a is None else a + b * j_gen))
        cov_r = [[elem(c) for c in row] for row in cov_slots]
        memo: dict = {(0,) * n: self.R.one}

        def mom(alpha: Mono):
            got = memo.get(alpha)
            if got is not None:
                return got
            i = next(k for k, a in enumerate(alpha) if a)
            beta = alpha[:i] + (alpha[i] - 1,) + alpha[i + 1 :]
            out = mean_r[i] * mom(beta) if mean_r[i] is not None else self.R.zero
            for j, bj in enumerate(beta):  # Stein: E[v_i h] = m_i E[h] + sum_j C_ij E[d_j h]
                if bj and cov_r[i][j] is not None:
                    out += bj * cov_r[i][j] * mom(beta[:j] + (bj - 1,) + beta[j + 1 :])
            memo[alpha] = out
            return out

        self.acc: tuple[dict, dict] = ({}, {})
        for alpha, c in poly.items():
            cr, ci = _split_j(c)
            for mono, q in mom(alpha).items():
                k = mono[-1]
                sign = sp.Integer(-1 if k % 4 >= 2 else 1) * QQ.to_sympy(q)
                key = mono[: len(self.values)]
                # (cr + J ci) * J^k q: J^k = sign * J^(k mod 2)
                for part, coeff in ((k % 2, cr), ((k + 1) % 2, ci if k % 2 == 0 else -ci)):
                    if coeff != 0:
                        self.acc[part].setdefault(key, []).append(sign * coeff)
        self.acc = tuple({m: sp.Add(*cs) for m, cs in a.items()} for a in self.acc)
        self._powers: dict = {}

    def _power(self, g: int, e: int) -> sp.Expr:
        got = self._powers.get((g, e))
        if got is None:
            got = self._powers[g, e] = self.values[g] ** e
        return got

    def expr(self, part: int = 0, acc: dict | None = None) -> sp.Expr:
        """The placeholders replaced by their values (unexpanded): sum_m c_m prod_g value_g^m_g."""
        acc = self.acc[part] if acc is None else acc
        terms = [sp.Mul(c, *[self._power(g, e) for g, e in enumerate(m) if e]) for m, c in acc.items() if c != 0]
        return sp.Add(*terms)

    def gradient(self, wrt: Sequence[sp.Symbol]) -> list[sp.Expr]:
        """d/dtheta of the real part: the chain rule through the placeholders, each partial built once."""
        acc = self.acc[0]
        free = {m: c.free_symbols for m, c in acc.items()}
        partial: dict[int, sp.Expr] = {}
        out = []
        for t in wrt:
            terms = []
            for g, v in enumerate(self.values):
                dv = sp.diff(v, t)
                if dv == 0:
                    continue
                if g not in partial:
                    sub: dict = {}
                    for m, c in acc.items():
                        if m[g]:
                            sub[m[:g] + (m[g] - 1,) + m[g + 1 :]] = c * m[g]
                    partial[g] = self.expr(acc=sub)
                terms.append(partial[g] * dv)
            # E[df/dtheta]: only coefficients that contain theta (most are numbers).
            dcoeff = {m: sp.diff(c, t) for m, c in acc.items() if t in free[m]}
            terms.append(self.expr(acc={m: c for m, c in dcoeff.items() if c != 0}))
            out.append(sp.Add(*terms))
        return out


# -- completing the square -----------------------------------------------------------------


def _positive_definite_tilt(a_ss: sp.Matrix, c_ss: sp.Matrix) -> bool:
    """C^{-1} + A > 0 (integrability): A_SS >= 0 suffices; else Sylvester on C_SS + C_SS A_SS C_SS."""
    if a_ss.is_positive_semidefinite is True:
        return True
    m = c_ss + c_ss * a_ss * c_ss
    return all(sp.cancel(m[:k, :k].det()).is_positive is True for k in range(1, m.rows + 1))


def _tilt(key: Key, mean: Sequence[sp.Expr], cov: Sequence[Sequence[sp.Expr]]):
    """(exponent, mean', cov', det) with E[g(v) e^{key . x}] = e^exponent / sqrt(det) * E_{N(mean', cov')}[g]."""
    n = len(mean)
    b = sp.zeros(n, 1)
    a = sp.zeros(n, n)
    for m, c in key:
        idx = [i for i, e in enumerate(m) for _ in range(e)]
        if len(idx) == 1:
            b[idx[0]] = c
        else:
            i, j = idx
            a[i, j] = a[j, i] = -2 * c if i == j else -c
    cm = sp.Matrix(n, n, lambda i, j: cov[i][j])
    mv = sp.Matrix(mean)
    s = sorted({i for i in range(n) if any(a[i, j] != 0 for j in range(n))})
    if not s:
        expo = (b.T * mv)[0] + (b.T * cm * b)[0] / 2
        new_mean = mv + cm * b
        return expo, list(new_mean), cov, sp.S.One
    a_ss, c_ss = a.extract(s, s), cm.extract(s, s)
    if not _positive_definite_tilt(a_ss, c_ss):
        raise _Outside("the quadratic part of an exponent is not provably integrable against p")
    k = (sp.eye(len(s)) + a_ss * c_ss).inv()
    new_cov = (cm - cm[:, s] * k * a_ss * cm[s, :]).applyfunc(sp.cancel)
    c = b - a * mv
    new_mean = mv + new_cov * c
    expo = sp.cancel((b.T * mv)[0] - (mv.T * a * mv)[0] / 2 + (c.T * new_cov * c)[0] / 2)
    det = sp.factor((sp.eye(len(s)) + a_ss * c_ss).det())  # factored: sqrt((1 + 2k)^2) is then 1 + 2k
    cov_t = tuple(tuple(new_cov[i, j] for j in range(n)) for i in range(n))
    return expo, list(new_mean), cov_t, det


# -- assembling ----------------------------------------------------------------------------


def _joint(gp: GaussianParameters, d: int, lp: sp.Expr, use_y: bool) -> tuple[list, list]:
    """Mean and covariance of v = (x, y) with y = Sigma^{-1}(x - mu) when y appears, else of x."""
    mean, cov = list(gp.mean), [list(r) for r in gp.cov]
    if not use_y:
        return mean, cov
    xs = tuple(gp.atom_args[0].args)
    grad = [sp.diff(lp, xi) for xi in xs]
    lam = [[-sp.diff(grad[i], xj) for xj in xs] for i in range(d)]  # Lambda = -Hessian: the P atoms, no inverse
    if any(e.free_symbols & set(xs) for r in lam for e in r):
        raise _Outside("the precision form's Hessian depends on x")
    eye = [[sp.S.One if i == j else sp.S.Zero for j in range(d)] for i in range(d)]
    cov = [cov[i] + eye[i] for i in range(d)] + [eye[i] + lam[i] for i in range(d)]
    return mean + [sp.S.Zero] * d, cov


def _setup(p: Density, f: sp.Expr):
    """The Gaussian, f's terms by exponent, and the mean and covariance of f's variables."""
    gp = _read(p)
    d = p.dim
    f = f.xreplace({sp.I: _J})
    gens: dict = {xi: i for i, xi in enumerate(p.x)}
    quads = []
    markers = frozenset(p.x)
    for node in sp.preorder_traversal(f):
        name = type(node).__name__
        if name in ("PrecVec", "QuadForm") and isinstance(node, sp.Function) and node.free_symbols & markers:
            if gp.atom_args is None or tuple(node.args[-3:]) != gp.atom_args:
                raise _Outside(f"a {name} atom with arguments other than the density's own")
            _check_atom(node)
            if name == "PrecVec":
                gens[node] = d + int(node.args[0])
            else:
                quads.append(node)
    use_y = len(gens) > d or bool(quads)
    n = 2 * d if use_y else d
    expansions = {}
    if quads:  # Q = sum_a (x_a - mu_a) y_a, written straight into the indices of y
        mu = gp.atom_args[1].args
        q: dict = {}
        for a in range(d):
            q[tuple(int(k in (a, d + a)) for k in range(n))] = sp.S.One
            if mu[a] != 0:
                q[tuple(int(k == d + a) for k in range(n))] = -mu[a]
        expansions = dict.fromkeys(quads, q)
    walk = _Walk(gens, markers, n, expansions)
    terms = _Terms(walk, d).terms(f)
    mean, cov = _joint(gp, d, _log_density(p), use_y)
    return gp, terms, mean, cov


def _real_if(f: sp.Expr, re: sp.Expr, im: sp.Expr) -> sp.Expr:
    """re + i im; the imaginary part is dropped when f is real (then it is zero)."""
    if im == 0 or (not f.has(sp.I) and f.is_extended_real):
        return re
    return re + sp.I * im


def _group(key: Key, poly: PolyDict, mean, cov) -> tuple[_Moments, sp.Expr, sp.Expr]:
    """(moments, re and im of the weight) for the terms of f with one exponent."""
    if not key:
        return _Moments(poly, mean, cov), sp.S.One, sp.S.Zero
    expo, new_mean, new_cov, det = _tilt(key, mean, cov)
    re, im = _split_j(expo)
    scale = sp.exp(re) / sp.sqrt(det)
    return _Moments(poly, new_mean, new_cov), scale * sp.cos(im), scale * sp.sin(im)


def _times(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    return sp.S.Zero if a == 0 or b == 0 else (b if a == 1 else a * b)


def _expectation_work(p: Density, f: sp.Expr, wrt: tuple | None):
    gp, terms, mean, cov = _setup(p, f)
    z = gp.normalizer
    res_re, res_im, grads = [], [], [[] for _ in wrt or ()]
    for key, poly in terms.items():
        mom, wr, wi = _group(key, poly, mean, cov)
        # The polynomial part's gradient goes by the chain rule and does not need E itself.
        chain = wrt is not None and not key and not any(c != 0 for c in mom.acc[1].values())
        if wrt is None or z != 1 or not chain:
            pr, pi = mom.expr(0), mom.expr(1)
            # (wr + i wi)(pr + i pi), skipping zero parts: 0 * E makes SymPy ask whether E is finite.
            res_re.append(_times(wr, pr) - _times(wi, pi))
            res_im.append(_times(wi, pr) + _times(wr, pi))
        if chain:
            for g, dg in zip(grads, mom.gradient(wrt), strict=True):
                g.append(dg)
        elif wrt is not None:
            real = _real_if(f, res_re[-1], res_im[-1])
            for g, t in zip(grads, wrt, strict=True):
                g.append(sp.diff(real, t))
    value = z * _real_if(f, sp.Add(*res_re), sp.Add(*res_im))
    if wrt is None:
        return value, f"exact ({gp.how}; Isserlis/Stein moments, {len(terms)} exponent group(s))"
    # d(Z E)/dtheta = Z dE/dtheta + (dZ/dtheta) E, and value = Z E
    out = tuple(z * sp.Add(*g) + (0 if z == 1 else sp.diff(z, t) * value / z) for g, t in zip(grads, wrt, strict=True))
    return out, f"exact gradient ({gp.how})"


def _run(p: Density, f: object, wrt: tuple | None, timeout: float | None):
    if not isinstance(p, Density):
        raise EstimatorError(f"p must be a symflow Density, got {type(p).__name__}")
    if isinstance(f, int) and not isinstance(f, bool):
        f = sp.Integer(f)
    if not isinstance(f, sp.Expr):
        raise EstimatorError(f"f must be a SymPy expression in {p.x}, got {type(f).__name__}; build it from p.x")
    budget = resolve_timeout(timeout)
    try:
        return run_with_budget(_guarded, p, f, wrt, timeout=budget, what="Gaussian expectation")
    except BudgetExceeded as exc:
        return None, str(exc)
    except SymflowError:
        raise
    except Exception as exc:  # noqa: BLE001 - SymPy's failures become "not decided here"
        return None, f"SymPy failed: {type(exc).__name__}: {exc}"


def _guarded(p: Density, f: sp.Expr, wrt: tuple | None):
    try:
        return _expectation_work(p, f, wrt)
    except _Outside as exc:
        return None, f"outside the Gaussian class: {exc}"


def gaussian_expectation_how(p: Density, f: sp.Expr, *, timeout: float | None = None) -> tuple[sp.Expr | None, str]:
    """``(E_p[f] or None, how it was computed or why not)``; see ``gaussian_expectation``."""
    return _run(p, f, None, timeout)


def gaussian_expectation(p: Density, f: sp.Expr, *, timeout: float | None = None) -> sp.Expr | None:
    r"""E_{x~p}[f(x)] = \int f(x) p(x) dx exactly, for a Gaussian p over R^d, or None.

    f may be a sum of terms polynomial(x) * exp(b0 + b^T x - x^T A x / 2),
    times sin/cos of linear forms and sinh/cosh of linear or quadratic forms;
    for ``mvn(d, form="precision")`` also polynomials in its ``PrecVec`` and
    ``QuadForm`` atoms (y = Sigma^{-1}(x - mu) is jointly Gaussian with x).
    The module docstring states the identities (Isserlis/Stein, completing
    the square, Euler) and why the covariance route is used.

    Parameters
    ----------
    p : Density
        Any parameterization of a Gaussian over all of R^d.
    f : sympy.Expr
        The integrand's factor besides p.
    timeout : float, optional
        Seconds for the whole computation (default: the global budget).

    Returns
    -------
    sympy.Expr or None
        None when p is not a Gaussian over R^d, when f has a term outside the
        class, when a definiteness needed for an exponent cannot be
        established, or when the budget runs out.  Never a guess.

    Examples
    --------
    >>> import sympy as sp
    >>> from symflow.families.univariate import normal
    >>> p = normal(); (x,) = p.x; mu, sigma = p.params
    >>> sp.expand(gaussian_expectation(p, x**4))
    mu**4 + 6*mu**2*sigma**2 + 3*sigma**4
    """
    return _run(p, f, None, timeout)[0]


def gaussian_expectation_gradient(
    p: Density, f: sp.Expr, wrt: Sequence[sp.Symbol] | None = None, *, timeout: float | None = None
) -> tuple[sp.Expr, ...] | None:
    r"""d/dtheta E_p[f] for each theta in ``wrt`` (default: all of p's parameters), or None.

    .. math:: \frac{\partial}{\partial\theta} E[f] = \sum_i \frac{\partial E}{\partial m_i}
              \frac{\partial m_i}{\partial\theta} + \sum_{i\le j} \frac{\partial E}{\partial \Sigma_{ij}}
              \frac{\partial \Sigma_{ij}}{\partial\theta} + E\Big[\frac{\partial f}{\partial\theta}\Big]

    for the polynomial part (E as a polynomial in the placeholders m, Sigma;
    each partial built once and shared by all theta); exponential terms are
    differentiated directly.  Same class and None cases as
    ``gaussian_expectation``.
    """
    wrt = tuple(p.params if wrt is None else wrt)
    for t in wrt:
        p.check_param(t)
    return _run(p, f, wrt, timeout)[0]


def gaussian_parameters(p: Density, *, timeout: float | None = None) -> GaussianParameters | None:
    """The Gaussian behind p: ``GaussianParameters(mean, cov, factor, normalizer, atom_args, how)``, or None.

    Readings, in order: the precision form's ``QuadForm`` atom (mu and L named
    by it); a triangular sum of squares (the nested Cholesky form and
    ``normal``: x = mu + L z solved variable by variable); a quadratic
    log-density (Lambda = -Hessian, positive definite by Sylvester's
    criterion, inverted -- small d only).  Sigma = L L^T whenever L is known.
    """
    if not isinstance(p, Density):
        raise EstimatorError(f"p must be a symflow Density, got {type(p).__name__}")

    def work() -> GaussianParameters | None:
        try:
            return _read(p)
        except _Outside:
            return None

    try:
        return run_with_budget(work, timeout=resolve_timeout(timeout), what="reading a Gaussian")
    except BudgetExceeded:
        return None
    except SymflowError:
        raise
    except Exception:  # noqa: BLE001 - SymPy's failures become "not a Gaussian we can read"
        return None
