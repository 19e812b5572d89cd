"""Moments of a Gaussian: Isserlis by Stein's lemma, completing the square, Euler's formula.

``Terms`` splits f into polynomial(x) * exp(exponent) groups (sin and cos of
linear forms through a formal imaginary unit J with J**2 = -1); ``Moments``
evaluates E[polynomial] by Stein's lemma E[v_i h(v)] = m_i E[h] + sum_j C_ij
E[d_j h] over placeholders for m and C; ``tilt`` completes the square for an
exponent (the Woodbury form of (C^{-1} + A)^{-1}).  See the package
docstring for the identities.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.rings import ring

from .polynomials import _J, Mono, Outside, PolyDict, Walk, _collect, _mul, split_j

# -- f as sum over exponents of polynomial * exp(exponent) --------------------------------

Key = tuple  # the non-constant part of an exponent: sorted ((mono, coeff), ...)


def _key_add(k1: Key, k2: Key) -> Key:
    acc: dict[Mono, list] = {}
    for m, c in k1 + k2:
        acc.setdefault(m, []).append(c)
    return tuple(sorted(_collect(acc).items(), key=lambda mc: mc[0]))


class Terms:
    """f as {exponent key: polynomial}, so that f = sum_key poly_key(v) * exp(key . x)."""

    def __init__(self, walk: Walk, d: int) -> None:
        self.walk, self.d = walk, d
        self.memo: dict = {}

    def _exponent(self, arg: sp.Expr, max_degree: int) -> tuple[Key, sp.Expr]:
        poly = dict(self.walk.poly(arg))
        c0 = poly.pop(self.walk.zero, sp.S.Zero)
        for m, c in poly.items():
            if any(m[self.d :]) or sum(m) > max_degree:
                raise Outside(f"exp of {arg} is not exp of a linear or quadratic form in x")
            if sum(m) == 2 and c.is_real is not True:  # the definiteness argument needs a real quadratic part
                raise Outside(f"the quadratic part of exp({arg}) is not known to be real")
        re0, im0 = split_j(c0)
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
                raise Outside(f"{e.func.__name__} of {a}: only real linear forms in x are decided")
            w = sp.S.Half if isinstance(e, sp.cos) else -_J / 2
            out = self._exps([(w, _J * a, 1), (w if isinstance(e, sp.cos) else -w, -_J * a, 1)])
        elif isinstance(e, sp.cosh | sp.sinh):
            a = e.args[0]
            out = self._exps([(sp.S.Half, a, 2), (sp.S.Half if isinstance(e, sp.cosh) else -sp.S.Half, -a, 2)])
        else:
            raise Outside(f"{e.func.__name__}(...) of x is not polynomial x exp(quadratic) or a sine/cosine")
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


def _product(c: sp.Expr, factors: list[sp.Expr]) -> sp.Expr:
    """c * prod(factors) without SymPy's flatten (see ``Moments.expr``); no unit factor is kept."""
    if c != 1:
        factors = [c, *factors]
    if len(factors) <= 1:
        return factors[0] if factors else sp.S.One
    return sp.Mul(*factors, evaluate=False)


class Moments:
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

        split = [tuple(slot(part) for part in split_j(m)) for m in mean]
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
            cr, ci = split_j(c)
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
        """The placeholders replaced by their values (unexpanded): sum_m c_m prod_g value_g^m_g.

        Each product is left unevaluated: its factors are distinct placeholder values, and
        SymPy's flatten merging their common symbols (L_11^2 times L_11 L_21, ...) took most of
        the time for thousands of terms at d = 8.  The value is the same; ``expand`` merges.
        """
        acc = self.acc[part] if acc is None else acc
        terms = [_product(c, [self._power(g, e) for g, e in enumerate(m) if e]) for m, c in acc.items() if c != 0]
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


def tilt(key: Key, mean: Sequence[sp.Expr], cov: Sequence[Sequence[sp.Expr]]):
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
        raise Outside("the quadratic part of an exponent is not provably integrable against p")
    k = (sp.eye(len(s)) + a_ss * c_ss).inv()
    new_cov = (cm - cm[:, s] * k * a_ss * cm[s, :]).applyfunc(sp.cancel)
    c = b - a * mv
    new_mean = mv + new_cov * c
    expo = sp.cancel((b.T * mv)[0] - (mv.T * a * mv)[0] / 2 + (c.T * new_cov * c)[0] / 2)
    det = sp.factor((sp.eye(len(s)) + a_ss * c_ss).det())  # factored: sqrt((1 + 2k)^2) is then 1 + 2k
    cov_t = tuple(tuple(new_cov[i, j] for j in range(n)) for i in range(n))
    return expo, list(new_mean), cov_t, det
