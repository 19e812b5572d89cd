r"""Weak derivatives of a 1-D density: :math:`\partial_\theta p = c(\theta)\,(p^+ - p^-)`.

The measure-valued derivative (MVD) of d/dtheta E_p[phi] rests on writing the
signed measure dp/dtheta as a scaled difference of two probability densities,

.. math::
    \frac{d}{d\theta} \mathbb{E}_p[\phi] = \int \phi\,\partial_\theta p\,dx
        = c\,\big(\mathbb{E}_{p^+}[\phi] - \mathbb{E}_{p^-}[\phi]\big).

``WeakDerivative`` is that triple as a value.  ``p+`` and ``p-`` are each a
mixture of *parts*: ``((weight, Density), ...)``, every part a density on one
interval without gaps (the Hahn-Jordan parts of the normal's scale live on
(-oo, mu - sigma] and [mu + sigma, oo)).  Moments over a mixture are weighted
sums of moments over its parts, so no integrand ever holds a Piecewise.

``hahn_jordan(p, wrt)`` (``sf.weak_derivative``'s default) derives the Hahn-Jordan decomposition
(p± proportional to the positive and negative parts of dp/dtheta):

1. the score dlog p/dtheta = N(x)/D is factored: D has a fixed sign and N is a
   polynomial in x whose real roots are found (``sympy.roots``) and ordered
   by the parameters' assumptions; so the sign of dp/dtheta = p N/D on each
   interval between roots follows from the factors (recorded as steps, and
   checked again by ``check_weak_derivative``);
2. each interval's mass c_j = integral of |dp/dtheta| is exact: from the CDF
   (c_j = |dF/dtheta(b) - dF/dtheta(a)|, dF/dtheta vanishing at the support's
   fixed edges), else by closed-form or SymPy integration, else by quadrature
   at given parameter values;
3. c = sum of the positive c_j (it equals the negative ones' sum, since the
   integral of dp/dtheta is 0), and the parts are |dp/dtheta|/c_j with
   weights c_j / c.

The decompositions of the literature (normal mean and scale, exponential,
Poisson) are in ``known_weak``.

One concept although long: the WeakDerivative value and the two ways of obtaining it (Hahn-Jordan
and the table of known decompositions, known_weak.py holding the table).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from ..calculus.gaussian.intervals import interval_gaussian_integral
from ..calculus.quadrature import numeric_integral
from ..core import budget as budgets
from ..core.budget import SYMPY_GAVE_UP, BudgetExceeded, resolve_timeout, run_with_budget
from ..core.convert import as_expr, as_param_values, exact_values
from ..core.density import Density, same_variables
from ..core.steps import Step
from ..errors import EstimatorError
from ._inversion import quantile_sampler, quantile_symbol

__all__ = ["Part", "WeakDerivative", "closed_quantile", "hahn_jordan", "mixture_density", "mixture_moment"]

Part = tuple[sp.Expr, Density]


def _samplable(d: Density) -> Density:
    """``d``, given an inverse-CDF sampler when it has none (from its CDF when it has one, else the generic hook)."""
    if d.sampler is not None or (d.reparam is not None and d.reparam.base.sampler is not None):
        return d
    return d.with_(sampler=quantile_sampler(d.expr, d.x[0], d.params, d.support_sets[0], cdf=d.cdf))


def _as_parts(value: object, what: str, p: Density) -> tuple[Part, ...]:
    if isinstance(value, Density):
        return ((sp.S.One, _samplable(same_variables(p, value, what))),)
    if isinstance(value, tuple | list) and value:
        out = []
        for item in value:
            if not (isinstance(item, tuple | list) and len(item) == 2 and isinstance(item[1], Density)):
                raise EstimatorError(f"{what} must be a Density or a sequence of (weight, Density) pairs")
            out.append((as_expr(item[0], f"weight of {what}"), _samplable(same_variables(p, item[1], what))))
        return tuple(out)
    raise EstimatorError(f"{what} must be a Density (or (weight, Density) parts), got {type(value).__name__}")


@dataclass(frozen=True)
class WeakDerivative:
    r"""A weak derivative :math:`\partial_\theta p = c\,(p^+ - p^-)` of a 1-D density.

    Parameters
    ----------
    density : Density
        p(x; theta), one variable.
    wrt : Symbol
        theta.
    c : expression
        The constant c(theta) (in the parameters only).
    plus, minus : Density, or sequence of (weight, Density)
        p+ and p-: one density, or a mixture of parts on intervals (weights
        summing to 1).
    method : str
        How it was obtained ("Hahn-Jordan", "given", or a literature name).
    steps : tuple of Step
        The derivation.
    coupling : Coupling, optional
        The coupling of x+ and x- the construction suggests (``sf.mvd`` uses
        it for ``coupling="natural"``).

    ``check_weak_derivative`` decides whether it holds.
    """

    density: Density
    wrt: sp.Symbol
    c: sp.Expr
    plus: Any
    minus: Any
    method: str = "given"
    steps: tuple[Step, ...] = field(default=(), repr=False, compare=False)  # how it was derived, not what it is
    coupling: Any = field(default=None, repr=False)
    name: str = ""

    def __post_init__(self) -> None:
        p = self.density
        if not isinstance(p, Density):
            raise EstimatorError(f"density must be a Density, got {type(p).__name__}")
        if p.dim != 1:
            raise EstimatorError(f"weak derivatives here are for 1-D densities; {p.name} has {p.dim} variables")
        wrt = p.check_param(self.wrt)
        c = as_expr(self.c, "c")
        plus, minus = _as_parts(self.plus, "p_plus", p), _as_parts(self.minus, "p_minus", p)
        for side, parts in (("p_plus", plus), ("p_minus", minus)):
            for w, d in parts:
                if w.is_negative:
                    # not a mixture of densities, even when the parts add up to one (2 N - N): the check would
                    # refute a part's weight while the sum is a density (second review)
                    raise EstimatorError(
                        f"{side} has the weight {w} < 0 on {d.name}: mixture weights must be nonnegative; "
                        "write that side as one Density (the sum of its parts)"
                    )
        allowed = set(p.params) | {t for _, d in plus + minus for t in d.params}
        stray = c.free_symbols - allowed
        if stray:
            raise EstimatorError(
                f"c uses {', '.join(sorted(map(str, stray)))}; c must depend on the parameters only (not on x)"
            )
        object.__setattr__(self, "wrt", wrt)
        object.__setattr__(self, "c", c)
        object.__setattr__(self, "plus", plus)
        object.__setattr__(self, "minus", minus)
        object.__setattr__(self, "steps", tuple(self.steps))

    @property
    def x(self) -> sp.Symbol:
        return self.density.x[0]

    @property
    def params(self) -> tuple[sp.Symbol, ...]:
        """The parameters of p, then any extra ones of the parts."""
        extra = [t for _, d in self.plus + self.minus for t in d.params if t not in self.density.params]
        return self.density.params + tuple(dict.fromkeys(extra))

    @property
    def p_plus(self) -> Density:
        """p+ as one Density (a mixture of its parts when it has several)."""
        return mixture_density(self.plus, "p_plus")

    @property
    def p_minus(self) -> Density:
        """p- as one Density (a mixture of its parts when it has several)."""
        return mixture_density(self.minus, "p_minus")

    def __str__(self) -> str:
        def parts(ps: tuple[Part, ...]) -> str:
            if len(ps) == 1:
                return f"{ps[0][1].name}: {sp.sstr(ps[0][1].expr)} on {sp.sstr(ps[0][1].support)}"
            return " + ".join(f"{sp.sstr(w)} x [{sp.sstr(d.expr)} on {sp.sstr(d.support)}]" for w, d in ps)

        head = f"{self.name} ({self.method})" if self.name else f"{self.method} weak derivative"
        return (
            f"{head} of {self.density.name} in {self.wrt}: dp/d{self.wrt} = c (p+ - p-)\n"
            f"  c  = {sp.sstr(self.c)}\n  p+ = {parts(self.plus)}\n  p- = {parts(self.minus)}"
        )


# -- mixtures ------------------------------------------------------------------------------


def _sample_mixture(weights: tuple, parts: tuple, params: tuple, n: int, values: dict, rng: np.random.Generator):
    subs = {t: values[t] for t in params}
    w = np.array([float(sp.N(wi.xreplace(subs))) for wi in weights])
    w = np.clip(w, 0.0, None)
    w = w / w.sum()
    which = rng.choice(len(parts), size=n, p=w)
    out = np.empty((n, 1))
    for j, part in enumerate(parts):
        idx = np.nonzero(which == j)[0]
        if idx.size:
            out[idx] = part.sample(int(idx.size), {t: values[t] for t in part.params}, rng)
    return out


def mixture_density(parts: tuple[Part, ...], name: str) -> Density:
    """One Density for sum_j w_j part_j: the part itself when there is one, else a Piecewise on the hull."""
    if len(parts) == 1 and parts[0][0] == 1:
        return parts[0][1]
    x = parts[0][1].x[0]
    pieces = []
    for w, d in parts:
        s = d.support_sets[0]
        pieces.append((w * d.expr, sp.And(x >= s.inf, x <= s.sup)))
    lo = sp.Min(*[d.support_sets[0].inf for _, d in parts])
    hi = sp.Max(*[d.support_sets[0].sup for _, d in parts])
    params = tuple(dict.fromkeys(t for _, d in parts for t in d.params))
    weights = tuple(w for w, _ in parts)
    return Density(
        sp.Piecewise(*pieces, (0, True)),
        (x,),
        params,
        support=sp.Interval(lo, hi),
        sampler=functools.partial(_sample_mixture, weights, tuple(d for _, d in parts), params),
        name=name,
    )


# -- Hahn-Jordan -----------------------------------------------------------------------------


def _sign(e: sp.Expr) -> int | None:
    if e.is_positive:
        return 1
    if e.is_negative:
        return -1
    return None


def _less(a: sp.Expr, b: sp.Expr) -> bool | None:
    """a < b, decided by the assumptions on the symbols (None when they do not settle it)."""
    if a == -sp.oo or b == sp.oo:
        return a != b
    if a == sp.oo or b == -sp.oo:
        return False
    return (b - a).is_positive


def _budgeted(fn, *args, timeout: float, what: str):
    try:
        return run_with_budget(fn, *args, timeout=timeout, what=what)
    except (BudgetExceeded, *SYMPY_GAVE_UP):
        return None


def _score_factors(p: Density, wrt: sp.Symbol, budget: float):
    """(lc_sign, real roots [(r, multiplicity)], N, D) of the score N/D, or raise naming what failed."""
    x = p.x[0]
    score = p.score(wrt)

    def split():
        num, den = sp.fraction(sp.cancel(sp.together(score)))
        if den.has(x):
            return None
        poly = sp.Poly(num, x)
        roots = sp.roots(poly)
        return num, den, poly, roots

    got = _budgeted(split, timeout=budget, what="factoring the score")
    if got is None:
        raise EstimatorError(
            f"the score dlog p/d{wrt} of {p.name} is not a polynomial in {x} over an x-free denominator (or "
            "SymPy could not factor it in the budget); the Hahn-Jordan sign changes could not be found: give the "
            "decomposition yourself (sf.WeakDerivative) or use method='known'"
        )
    num, den, poly, roots = got
    if sum(roots.values()) != poly.degree():
        raise EstimatorError(f"SymPy found only some roots of the score's numerator {num}; give the decomposition")
    real = [(r, m) for r, m in roots.items() if r.is_real]
    undecided = [r for r, _ in roots.items() if r.is_real is None]
    if undecided:
        raise EstimatorError(f"cannot tell whether the roots {undecided} of the score are real; give the decomposition")
    sign = _sign(poly.LC()) if _sign(den) is not None else None
    if sign is None:
        raise EstimatorError(f"cannot tell the signs of {poly.LC()} and {den}; declare the parameters' signs")
    return sign * _sign(den), real, num, den


def _ordered(points: list, what: str) -> list:
    out: list = []
    for r in points:
        k = 0
        while k < len(out):
            smaller = _less(r, out[k])
            if smaller is None:
                raise EstimatorError(f"cannot order {r} and {out[k]} ({what}) from the parameters' assumptions")
            if smaller:
                break
            k += 1
        out.insert(k, r)
    return out


def _interval_integral(expr: sp.Expr, x: sp.Symbol, a: sp.Expr, b: sp.Expr, budget: float) -> sp.Expr | None:
    got = _budgeted(interval_gaussian_integral, expr, x, a, b, timeout=budget, what="closed-form integral")
    if got is not None:
        return got

    def by_sympy():
        out = budgets.integrate(expr, (x, a, b))
        return None if out.has(sp.Integral, sp.Piecewise, sp.nan) else out

    return _budgeted(by_sympy, timeout=budget, what="integrating dp/dtheta")


def _carrier(expr: sp.Expr, x: sp.Symbol, params: tuple, a: sp.Expr, b: sp.Expr, name: str, **kw) -> Density:
    return Density(expr, (x,), params, support=sp.Interval(a, b), name=name, **kw)


def closed_quantile(cdf: sp.Expr, x: sp.Symbol, a: sp.Expr, b: sp.Expr, params: tuple, budget: float):
    """Q(u) with F(Q(u)) = u, when SymPy solves it within the budget and the root checks out numerically."""
    u = quantile_symbol()
    sols = _budgeted(budgets.solve, sp.Eq(cdf, u), x, timeout=budget, what="solving F(x) = u")
    if not sols:
        return None
    rng = np.random.default_rng(3)
    point = {t: sp.Float(float(rng.uniform(0.5, 1.5)), 30) for t in params}
    for q in sols:
        ok = True
        for uv in (
            sp.Rational(1, 100),
            sp.Rational(1, 10),
            sp.Rational(1, 3),
            sp.Rational(2, 3),
            sp.Rational(9, 10),
            sp.Rational(99, 100),
        ):
            try:
                val = complex(sp.N(q.xreplace({**point, u: uv}), 30))
                back = complex(sp.N(cdf.xreplace({**point, x: sp.Float(val.real, 30)}), 30))
            except (TypeError, ValueError):
                ok = False
                break
            lo, hi = (float(sp.N(e.xreplace(point))) for e in (a, b))
            if abs(val.imag) > 1e-20 or not lo <= val.real <= hi or abs(back - float(uv)) > 1e-12:
                ok = False
                break
        if ok:
            return q
    return None


def _part(
    p: Density, dp: sp.Expr, sign: int, a: sp.Expr, b: sp.Expr, mass: sp.Expr, G: sp.Expr | None, k: int
) -> Density:
    x = p.x[0]
    expr = sign * dp / mass
    cdf = None if G is None else sign * (G - _at(G, x, a)) / mass
    # inverse CDF by bisection of the exact CDF; a closed-form quantile is sought only when a coupling needs it
    sampler = quantile_sampler(expr, x, p.params, sp.Interval(a, b), cdf=cdf)
    tag = "+" if sign > 0 else "-"
    return _carrier(expr, x, p.params, a, b, f"p{tag}_{k}", sampler=sampler, cdf=cdf)


def _at(G: sp.Expr, x: sp.Symbol, e: sp.Expr) -> sp.Expr:
    """dF/dtheta at an edge: 0 at +-oo and at the support's fixed edges (F is 0 or 1 there)."""
    return sp.S.Zero if e.is_infinite else G.xreplace({x: e})


def hahn_jordan(p: Density, wrt: sp.Symbol, params: dict | None = None, *, timeout: float | None = None):
    """The Hahn-Jordan decomposition of dp/dtheta (see the module docstring)."""
    budget = resolve_timeout(timeout)
    x = p.x[0]
    if p.is_discrete:
        raise EstimatorError(
            f"{p.name} is a pmf: its Hahn-Jordan parts live on integer sets whose ends depend on {wrt} "
            "(floor of the score's roots); use method='known' (Poisson) or give the decomposition"
        )
    s = p.support_sets[0]
    lo, hi = s.inf, s.sup
    if wrt in lo.free_symbols | hi.free_symbols:
        raise EstimatorError(
            f"the support of {p.name} moves with {wrt}: dp/d{wrt} then has a point mass at the edge (Eq. 77), "
            "which a decomposition into densities cannot hold"
        )
    sign_right, roots, num, den = _score_factors(p, wrt, budget)
    inside = [r for r, m in roots if _less(lo, r) and _less(r, hi) and m % 2 == 1]
    edges = [lo, *_ordered(inside, "roots of the score"), hi]
    odd_roots = [r for r, m in roots if m % 2 == 1]
    signs = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        right = [r for r in odd_roots if _less(a, r) is not False]  # roots at or right of this interval
        right = [r for r in right if _less(r, b) is not True]
        signs.append(sign_right * (-1) ** len(right))
    dp = p.expr * num / den
    G = sp.diff(p.cdf, wrt) if p.cdf is not None else None
    values = None if params is None else exact_values(as_param_values(params, p.params))
    masses = []
    how = set()
    for (a, b), sgn in zip(zip(edges[:-1], edges[1:], strict=True), signs, strict=True):
        mass = None
        if G is not None:
            mass = sgn * (_at(G, x, b) - _at(G, x, a))
            how.add("dF/dtheta at the ends")
        else:
            got = _interval_integral(sgn * dp, x, a, b, budget)
            if got is not None:
                mass = got
                how.add("exact integral of |dp/dtheta|")
        if mass is None:
            if values is None:
                raise EstimatorError(
                    f"the mass of dp/d{wrt} on [{a}, {b}] has no closed form; pass params= for quadrature"
                )
            carrier = _carrier(sgn * dp, x, p.params, a, b, "piece")
            num_mass = numeric_integral(carrier, carrier.expr, values, timeout=budget)
            if num_mass is None:
                raise EstimatorError(f"quadrature of dp/d{wrt} on [{a}, {b}] failed")
            mass = sp.Float(num_mass, 30)
            how.add("quadrature at 30 digits")
        masses.append(budgets.simplify(mass, timeout=budget))
    if values is not None and any(isinstance(m, sp.Float) for m in masses):
        dp, masses = dp.xreplace(values), [m.xreplace(values) for m in masses]
    c = budgets.simplify(sp.Add(*[m for m, sg in zip(masses, signs, strict=True) if sg > 0]), timeout=budget)
    c_minus = sp.Add(*[m for m, sg in zip(masses, signs, strict=True) if sg < 0])
    plus, minus = [], []
    for k, ((a, b), sgn, mass) in enumerate(zip(zip(edges[:-1], edges[1:], strict=True), signs, masses, strict=True)):
        part = _part(p, dp, sgn, a, b, mass, G, k + 1)
        (plus if sgn > 0 else minus).append((budgets.simplify(mass / c, timeout=budget), part))
    D = sp.Symbol(f"dp/d{wrt}")
    steps = (
        Step(D, p.expr * sp.factor(num) / den, f"dp/d{wrt} = p dlog p/d{wrt}, the score factored over its real roots"),
        Step(
            sp.Symbol("sign"),
            sp.Tuple(*signs),
            "sign of dp/dtheta between the roots "
            + ", ".join(map(sp.sstr, edges))
            + ": p > 0, the leading coefficient's and the denominator's signs, odd roots flip it",
        ),
        Step(sp.Symbol("c"), c, f"c = integral of (dp/d{wrt})^+ ({', '.join(sorted(how))})"),
        Step(sp.Symbol("c"), c_minus, f"= integral of (dp/d{wrt})^-, since the integral of dp/d{wrt} is 0"),
    )
    return WeakDerivative(p, wrt, c, tuple(plus), tuple(minus), method="Hahn-Jordan", steps=steps)


def mixture_moment(parts: tuple[Part, ...], f: sp.Expr, values: dict, dps: int, timeout: float | None):
    """sum_j w_j E_{part_j}[f] by quadrature at ``values`` (an mpmath number, or None)."""
    total = mpmath.mpf(0)
    with mpmath.workdps(dps):
        for w, d in parts:
            val = numeric_integral(d, d.expr * f, values, dps=dps, timeout=timeout)
            if val is None:
                return None
            total += mpmath.mpmathify(sp.N(w.xreplace(values), dps)) * val
    return total
