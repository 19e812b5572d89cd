"""Operations on expressions in the Gaussian atoms: detection, derivatives, polynomial transport, lowering.

The atoms themselves (``Precision``, ``PrecVec``, ``QuadForm``, ``LogDetCov``,
``OmtSkew``) and their derivative rules live in ``gaussian_atoms``; this module
holds what the engine does with expressions built from them:

- ``has_gaussian_atoms`` / ``opaque``: walks that never enter an atom's d x d arguments;
- ``diff_structured``: derivatives by the atoms' rules without SymPy's ``Derivative``
  bookkeeping;
- ``transport_polynomial``: the transport residual (Eq. 52) as a dict polynomial;
- ``lower_for_numeric``: atoms as per-call scalars for compiled code.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .atoms import (
    LogDetCov,
    OmtSkew,
    Precision,
    PrecVec,
    QuadForm,
    _GaussianAtom,
    _square,
)

__all__ = [
    "diff_structured",
    "has_gaussian_atoms",
    "lower_for_numeric",
    "opaque",
    "transport_polynomial",
]


def _is_atom(e: sp.Basic) -> bool:
    return isinstance(e, _GaussianAtom)


def _outside_atoms(expr: sp.Basic):
    """Every node of ``expr``, atoms included, without walking into the atoms' d x d arguments."""
    stack = [expr]
    while stack:
        e = stack.pop()
        yield e
        if not _is_atom(e):
            stack.extend(e.args)


def has_gaussian_atoms(expr: sp.Basic) -> bool:
    """Whether ``expr`` contains an atom of ``gaussian_atoms``."""
    return any(_is_atom(e) for e in _outside_atoms(expr))


def opaque(expr: sp.Basic) -> tuple[sp.Basic, dict]:
    """``expr`` with every atom of this module replaced by a Dummy, and the map back.

    Treating the atoms as independent indeterminates is sound for proving a
    polynomial identity (an identity in free indeterminates holds for any
    values), and it keeps expand from walking the atoms' d x d arguments.
    """
    table: dict = {}
    memo: dict = {}

    def rec(e: sp.Basic) -> sp.Basic:
        if _is_atom(e):
            if e not in table:
                table[e] = sp.Dummy(e._label(), real=True)
            return table[e]
        if not e.args:
            return e
        got = memo.get(e)
        if got is None:
            got = e.func(*[rec(a) for a in e.args])
            memo[e] = got
        return got

    out = rec(expr)
    return out, {v: k for k, v in table.items()}


def diff_structured(expr: sp.Expr, s: sp.Symbol) -> sp.Expr:
    """d expr / d s by the chain and product rules, the atoms by their own rules.

    The same derivative as ``sympy.diff``, without SymPy's ``Derivative``
    bookkeeping (a ``replace`` over the whole result and an ``is_zero``
    query at every node), which dominates the cost on sums of many atoms.
    Anything other than +, *, powers with s-free exponents, exp, log,
    numbers, symbols and the atoms goes to ``sympy.diff``.
    """
    memo: dict = {}

    def rec(e: sp.Expr) -> sp.Expr:
        if e.is_Number or e.is_NumberSymbol:
            return sp.S.Zero
        if e.is_Symbol:
            return sp.S.One if e == s else sp.S.Zero
        got = memo.get(e)
        if got is not None:
            return got
        if _is_atom(e):
            out = sp.S.Zero if s not in e.free_symbols else e._eval_derivative(s)
            if out is None:
                out = sp.diff(e, s)
        elif e.is_Add:
            out = sp.Add(*[rec(a) for a in e.args])
        elif e.is_Mul:
            terms = []
            for i, a in enumerate(e.args):
                da = rec(a)
                if da != 0:
                    terms.append(sp.Mul(*e.args[:i], da, *e.args[i + 1 :]))
            out = sp.Add(*terms)
        elif e.is_Pow and s not in e.exp.free_symbols:
            db = rec(e.base)
            out = sp.S.Zero if db == 0 else e.exp * e.base ** (e.exp - 1) * db
        elif isinstance(e, sp.exp):
            da = rec(e.args[0])
            out = sp.S.Zero if da == 0 else e * da
        elif isinstance(e, sp.log):
            da = rec(e.args[0])
            out = sp.S.Zero if da == 0 else da / e.args[0]
        else:
            out = sp.diff(e, s)
        memo[e] = out
        return out

    return rec(expr)


def lower_for_numeric(expr: sp.Expr, params: tuple[sp.Symbol, ...]):
    """Rewrite the atoms for compiled code: (expr', new parameter symbols, their values from the parameters).

    Atoms that depend on the parameters only (P_ab, log det Sigma, A_ab) become
    new scalar symbols, computed once per call by numpy/scipy from the
    parameter values; y and Q become explicit sums over those scalars and the
    columns of x.  ``values(floats) -> tuple`` takes the parameter floats in
    ``params`` order and returns the new symbols' values in order.  Returns
    ``(expr, (), None)`` when ``expr`` has no atoms.
    """
    found = list(dict.fromkeys(e for e in _outside_atoms(expr) if _is_atom(e)))
    if not found:
        return expr, (), None
    scalars: dict = {}  # (kind, key) -> Dummy, in creation order

    def scalar(kind: str, key: tuple) -> sp.Symbol:
        if (kind, key) not in scalars:
            scalars[(kind, key)] = sp.Dummy(f"{kind}{len(scalars)}", real=True)
        return scalars[(kind, key)]

    def prec(a: int, b: int, lflat) -> sp.Symbol:
        return scalar("P", (min(a, b), max(a, b), lflat))

    def vec(a: int, xs, mus, lflat) -> sp.Expr:
        return sp.Add(*[prec(a, b, lflat) * (xs[b] - mus[b]) for b in range(len(xs))])

    rule = {}
    for atom in sorted(found, key=sp.default_sort_key):
        args = atom.args
        if isinstance(atom, Precision):
            rule[atom] = prec(int(args[0]), int(args[1]), args[2])
        elif isinstance(atom, LogDetCov):
            rule[atom] = scalar("D", (args[0],))
        elif isinstance(atom, OmtSkew):
            rule[atom] = scalar("A", (int(args[0]), int(args[1]), args[2], args[3]))
        elif isinstance(atom, PrecVec):
            rule[atom] = vec(int(args[0]), *args[1:])
        elif isinstance(atom, QuadForm):
            xs, mus, lflat = args
            rule[atom] = sp.Add(*[(xs[a] - mus[a]) * vec(a, xs, mus, lflat) for a in range(len(xs))])
    lowered = expr.xreplace(rule)
    keys = list(scalars)
    from scipy.linalg import solve_continuous_lyapunov  # only here: keeps `import symflow` light

    entry_fns: dict = {}

    def entries(flat, values):
        fn = entry_fns.get(flat)
        if fn is None:
            fn = entry_fns[flat] = sp.lambdify(params, list(flat), modules="numpy")
        d = _square(flat)
        return np.asarray(fn(*values), dtype=np.float64).reshape(d, d)

    def values(floats: tuple) -> tuple:
        cache: dict = {}
        out = []
        for kind, key in keys:
            lflat = key[-1]
            if lflat not in cache:
                lower = entries(lflat, floats)
                sigma = lower @ lower.T
                cache[lflat] = (lower, sigma, np.linalg.inv(sigma), 2 * np.log(abs(np.linalg.det(lower))))
            lower, sigma, prec_m, logdet = cache[lflat]
            if kind == "P":
                out.append(float(prec_m[key[0], key[1]]))
            elif kind == "D":
                out.append(float(logdet))
            else:
                dlow = entries(key[2], floats)
                sdot = dlow @ lower.T + lower @ dlow.T
                w = solve_continuous_lyapunov(sigma, sdot)
                out.append(float((w @ sigma - dlow @ lower.T)[key[0], key[1]]))
        return tuple(out)

    return lowered, tuple(scalars[k] for k in keys), values


def transport_polynomial(p, u: tuple, wrt: sp.Symbol):
    """The transport residual div u + u . grad log p + d log p/d theta (Eq. 52) as a dict polynomial.

    For densities written in the atoms: every piece is a polynomial in the
    atoms and symbols, so the residual is computed and compared with 0 in
    ``symflow.zero.polydict``'s plain-dict arithmetic, without building the
    SymPy expression.  Returns the polynomial ({} is the zero polynomial), or
    None when some leaf has no derivative rule (then use the SymPy route).
    """
    from ..zero import polydict

    cache = p.__dict__.setdefault("_poly_cache", {})
    memo = cache.setdefault("memo", {})
    leaf_memo = cache.setdefault("leaf", {})

    def leaf_diff(leaf: sp.Expr, s: sp.Symbol):
        if leaf.is_Symbol:
            return dict(polydict.ONE) if leaf == s else {}
        key = (leaf, s)
        got = leaf_memo.get(key, False)
        if got is not False:
            return got
        if s not in leaf.free_symbols:
            got = {}
        elif _is_atom(leaf):
            d = leaf._eval_derivative(s)
            got = None if d is None else polydict.to_poly(d, memo=memo)
        else:
            got = None
        leaf_memo[key] = got
        return got

    try:
        if "log" not in cache:
            cache["log"] = polydict.to_poly(p.log_expr, memo=memo)
        log_poly = cache["log"]
        if "grad" not in cache:
            cache["grad"] = [polydict.diff(log_poly, xi, leaf_diff) for xi in p.x]
        grad = cache["grad"]
        score = polydict.diff(log_poly, wrt, leaf_diff)
        if score is None or any(g is None for g in grad):
            return None
        total = dict(score)
        for ui, xi, gi in zip(u, p.x, grad, strict=True):
            up = polydict.to_poly(ui, memo=memo)
            div = polydict.diff(up, xi, leaf_diff)
            if div is None:
                return None
            total = polydict.add(total, div, polydict.mul(up, gi))
        return total
    except polydict.TooBig:
        return None
