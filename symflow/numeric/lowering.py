"""Stage 2 of the compile pipeline: Gaussian atoms as scalars computed per call from the parameters.

Densities written in the atoms of ``symflow.structured.atoms`` (``mvn(d, form="precision")``)
keep Sigma^{-1}, log det Sigma and the OMT skew part as opaque atoms; compiled code needs
numbers.  Each atom becomes a fresh scalar parameter whose value is computed once per call
from the user's parameters (numpy inverse, scipy's Lyapunov solver), and the vector and
quadratic-form atoms become explicit sums over them.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..structured.atoms import LogDetCov, OmtSkew, OmtTurn, Precision, PrecVec, QuadForm, _square
from ..structured.ops import is_atom, walk_outside_atoms

__all__ = ["lower_for_numeric"]


def lower_for_numeric(expr: sp.Expr, params: tuple[sp.Symbol, ...]):
    """Rewrite the atoms for compiled code: (expr', new parameter symbols, their values from the parameters).

    Atoms that depend on the parameters only (P_ab, log det Sigma, A_ab) become
    new scalar symbols, computed once per call by numpy/scipy from the
    parameter values; y and Q become explicit sums over those scalars and the
    columns of x.  ``values(floats) -> tuple`` takes the parameter floats in
    ``params`` order and returns the new symbols' values in order.  Returns
    ``(expr, (), None)`` when ``expr`` has no atoms.
    """
    found = list(dict.fromkeys(e for e in walk_outside_atoms(expr) if is_atom(e)))
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

    def skew(a: int, b: int, dl, lflat) -> sp.Expr:
        # A is antisymmetric => one scalar per pair a < b
        return scalar("A", (a, b, dl, lflat)) if a < b else -scalar("A", (b, a, dl, lflat))

    rule = {}
    for atom in sorted(found, key=sp.default_sort_key):
        args = atom.args
        if isinstance(atom, Precision):
            rule[atom] = prec(int(args[0]), int(args[1]), args[2])
        elif isinstance(atom, LogDetCov):
            rule[atom] = scalar("D", (args[0],))
        elif isinstance(atom, OmtSkew):
            rule[atom] = scalar("A", (int(args[0]), int(args[1]), args[2], args[3]))
        elif isinstance(atom, OmtTurn):
            a, dl, xs, mus, lflat = int(args[0]), *args[1:]
            rule[atom] = sp.Add(*[skew(a, b, dl, lflat) * vec(b, xs, mus, lflat) for b in range(len(xs)) if b != a])
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
                if (key[2], lflat) not in cache:  # one Lyapunov solve per (dL, L), not per entry of A
                    dlow = entries(key[2], floats)
                    sdot = dlow @ lower.T + lower @ dlow.T
                    w = solve_continuous_lyapunov(sigma, sdot)
                    cache[(key[2], lflat)] = w @ sigma - dlow @ lower.T
                out.append(float(cache[(key[2], lflat)][key[0], key[1]]))
        return tuple(out)

    return lowered, tuple(scalars[k] for k in keys), values
