r"""Exact integrals of polynomial x Gaussian (or exponential) integrands, over the real line or any interval.

Every variance and covariance of the normal family's estimators (LR, RP,
weighted, the L-distribution's, the measure-valued pieces on half-lines and
finite intervals, the divergence-free flows of a 2-D normal) reduces, term by
term, to

.. math:: \int_a^b c(x)\, e^{-A x^2 + B x + C}\, dx ,

c a polynomial, A provably positive, B and C free of x (B may be complex:
sin and cos are rewritten as complex exponentials first, so cos(k x) phi
integrates too).  With x = m + t, m = B/(2A), and
:math:`J_n = \int t^n e^{-A t^2} dt` over the shifted interval,

.. math::
    J_0 = \frac{1}{2}\sqrt{\pi/A}\,\big(\mathrm{erf}(\sqrt{A}\,b') - \mathrm{erf}(\sqrt{A}\,a')\big), \qquad
    J_n = \frac{(n-1) J_{n-2} + a'^{\,n-1} e^{-A a'^2} - b'^{\,n-1} e^{-A b'^2}}{2A}

(integration by parts; the boundary terms vanish at an infinite end, and over
the whole line J_{2j} = (2j - 1)!! sqrt(pi/A) / (2A)^j).  The erf of a complex
argument is entire, so the formula holds for complex m.  Functions here do
bounded algebra (no SymPy ``integrate``); they return None when a term does
not have this form, and the caller falls back to SymPy or quadrature.
A term whose exponent is linear, c(x) e^{B x + C} (the exponential and Gamma
densities), integrates by its antiderivative when Re(B) provably makes it
vanish at an infinite end.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import sympy as sp

from ...core.budget import pure
from ...core.convert import as_expr

__all__ = ["gaussian_integral", "interval_gaussian_integral", "iterated_gaussian_integral", "real_part", "trig_to_exp"]


def _double_factorial_odd(j: int) -> int:
    """(2j - 1)!! with (-1)!! = 1."""
    return math.prod(range(1, 2 * j, 2)) if j > 0 else 1


def trig_to_exp(expr: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """sin and cos whose argument contains x, written as complex exponentials."""

    def cos(arg):
        return (sp.exp(sp.I * arg) + sp.exp(-sp.I * arg)) / 2

    def sin(arg):
        return (sp.exp(sp.I * arg) - sp.exp(-sp.I * arg)) / (2 * sp.I)

    return expr.replace(
        lambda e: isinstance(e, sp.cos | sp.sin) and e.has(x),
        lambda e: cos(e.args[0]) if isinstance(e, sp.cos) else sin(e.args[0]),
    )


def _groups(expr: sp.Expr, x: sp.Symbol) -> dict[sp.Expr, sp.Expr] | None:
    """{exponent: polynomial factor} with expr = sum of poly * exp(exponent); None when a term does not fit."""
    combined = sp.powsimp(sp.expand(expr, power_exp=False, log=False), combine="exp")
    groups: dict[sp.Expr, sp.Expr] = {}
    for term in sp.Add.make_args(sp.expand(combined, power_exp=False, log=False)):
        factors = sp.Mul.make_args(sp.powsimp(term, combine="exp"))
        exps = [f for f in factors if isinstance(f, sp.exp)]
        rest = sp.Mul(*[f for f in factors if not isinstance(f, sp.exp)])
        key = sp.expand(sp.Add(*[f.args[0] for f in exps]))
        groups[key] = groups.get(key, sp.S.Zero) + rest
    return groups


def _quadratic(exponent: sp.Expr, x: sp.Symbol) -> tuple[sp.Expr, sp.Expr, sp.Expr] | None:
    """(A, B, C) with exponent = -A x^2 + B x + C and A provably positive, else None."""
    if not exponent.is_polynomial(x):
        return None
    poly = sp.Poly(exponent, x)
    if poly.degree() != 2:
        return None
    a2, a1, a0 = poly.all_coeffs()
    A = sp.expand(-a2)
    if A.is_positive is not True:
        return None  # not provably decaying: the integral may diverge
    return A, a1, a0


def _whole_line(poly: sp.Expr, A: sp.Expr, B: sp.Expr, C: sp.Expr, x: sp.Symbol) -> sp.Expr:
    m = B / (2 * A)
    shifted = sp.Poly(sp.expand(poly.xreplace({x: x + m})), x)
    moment = sp.S.Zero
    for (k,), coeff in shifted.terms():
        if k % 2 == 0:
            moment += coeff * _double_factorial_odd(k // 2) / (2 * A) ** (k // 2)
    return sp.exp(C + B**2 / (4 * A)) * sp.sqrt(sp.pi / A) * moment


def _interval(poly: sp.Expr, A: sp.Expr, B: sp.Expr, C: sp.Expr, x: sp.Symbol, lo: sp.Expr, hi: sp.Expr) -> sp.Expr:
    m = B / (2 * A)
    # the interval in t = x - m (an infinite end stays +-oo: m may be complex)
    a = lo if lo.is_infinite else lo - m
    b = hi if hi.is_infinite else hi - m
    shifted = sp.Poly(sp.expand(poly.xreplace({x: x + m})), x)
    degree = shifted.degree()
    rootA = sp.sqrt(A)

    def erf_at(e: sp.Expr) -> sp.Expr:
        if e == sp.oo:
            return sp.S.One
        if e == -sp.oo:
            return sp.S.NegativeOne
        return sp.erf(rootA * e)

    def edge(e: sp.Expr, n: int) -> sp.Expr:
        # t^n exp(-A t^2) at an end; 0 at an infinite end
        return sp.S.Zero if e.is_infinite else e**n * sp.exp(-A * e**2)

    J = [sp.sqrt(sp.pi / A) / 2 * (erf_at(b) - erf_at(a))]
    if degree >= 1:
        J.append((edge(a, 0) - edge(b, 0)) / (2 * A))
    for n in range(2, degree + 1):
        J.append(((n - 1) * J[n - 2] + edge(a, n - 1) - edge(b, n - 1)) / (2 * A))
    total = sp.Add(*[coeff * J[k] for (k,), coeff in shifted.terms()])
    return sp.exp(C + B**2 / (4 * A)) * total


@pure  # a deterministic function of its arguments: a budgeted step of it is remembered
def interval_gaussian_integral(
    expr: sp.Expr, x: sp.Symbol, lo: sp.Expr = -sp.oo, hi: sp.Expr = sp.oo, *, trig: bool = True
) -> sp.Expr | None:
    r"""The integral of a sum of polynomial x Gaussian terms over [lo, hi] (ends may be +-oo).

    Each term c(x) exp(-A x^2 + B x + C) (A provably positive) is integrated by
    the recursion in this module's docstring; over the whole line by
    E[c(m + Y)], Y ~ N(0, 1/(2A)).  With ``trig`` (default) sin and cos of
    arguments containing x are first written as complex exponentials.
    Returns None when some term does not have that form.
    """
    lo, hi = as_expr(lo, "lo"), as_expr(hi, "hi")
    if trig:
        expr = trig_to_exp(expr, x)
    groups = _groups(expr, x)
    whole = lo == -sp.oo and hi == sp.oo
    total = sp.S.Zero
    for exponent, poly in groups.items():
        if poly == 0:
            continue
        if not poly.is_polynomial(x):
            return None
        abc = _quadratic(exponent, x)
        if abc is None:
            linear = _linear(poly, exponent, x, lo, hi)
            if linear is None:
                return None
            total += linear
            continue
        A, B, C = abc
        total += _whole_line(poly, A, B, C, x) if whole else _interval(poly, A, B, C, x, lo, hi)
    return total


def _linear(poly: sp.Expr, exponent: sp.Expr, x: sp.Symbol, lo: sp.Expr, hi: sp.Expr) -> sp.Expr | None:
    r"""c(x) e^{B x + C} over [lo, hi]: e^{Bx} sum_j (-1)^j n!/(n-j)! x^{n-j} / B^{j+1} at the ends, or None.

    An infinite end needs Re(B) provably of the sign that makes the exponential
    vanish there; B = 0 (a polynomial) needs finite ends.
    """
    if not exponent.is_polynomial(x):
        return None
    e_poly = sp.Poly(exponent, x)
    if e_poly.degree() > 1:
        return None
    B, C = e_poly.all_coeffs() if e_poly.degree() == 1 else (sp.S.Zero, exponent)
    if B == 0:
        if not (lo.is_finite and hi.is_finite):
            return None
        return sp.exp(C) * _poly_integral(poly, x, lo, hi)
    re_B = sp.re(B)
    if (hi.is_infinite and re_B.is_negative is not True) or (lo.is_infinite and re_B.is_positive is not True):
        return None
    if B.is_zero is not False and not re_B.is_nonzero:
        return None
    coeffs = sp.Poly(poly, x)

    def antiderivative_at(e: sp.Expr) -> sp.Expr:
        if e.is_infinite:
            return sp.S.Zero
        out = sp.S.Zero
        for (n,), a in coeffs.terms():
            out += a * sp.Add(
                *[(-1) ** j * sp.factorial(n) / sp.factorial(n - j) * e ** (n - j) / B ** (j + 1) for j in range(n + 1)]
            )
        return sp.exp(B * e) * out

    return sp.exp(C) * (antiderivative_at(hi) - antiderivative_at(lo))


def _poly_integral(poly: sp.Expr, x: sp.Symbol, lo: sp.Expr, hi: sp.Expr) -> sp.Expr:
    anti = sp.Add(*[a * x ** (n + 1) / (n + 1) for (n,), a in sp.Poly(poly, x).terms()])
    return anti.xreplace({x: hi}) - anti.xreplace({x: lo})


def gaussian_integral(expr: sp.Expr, x: sp.Symbol) -> sp.Expr | None:
    r"""The integral over the real line of a sum of polynomial x Gaussian terms.

    Each term c(x) exp(-A x^2 + B x + C) with A provably positive integrates to

    .. math::
        e^{C + B^2/(4A)} \sqrt{\pi/A}\; \mathbb{E}\left[c(m + Y)\right],
        \quad m = \frac{B}{2A},\; Y \sim \mathcal{N}\left(0, \tfrac{1}{2A}\right),

    using E[Y^{2j}] = (2j - 1)!! / (2A)^j.  sin and cos of x are written as
    complex exponentials first.  Returns None when some term does not have
    that form (a constant term over the whole line diverges).
    """
    expr = trig_to_exp(expr, x)
    for term in sp.Add.make_args(sp.expand(expr, power_exp=False, log=False)):
        if not term.has(x):
            return None  # a constant over the real line diverges
    return interval_gaussian_integral(expr, x, trig=False)


def iterated_gaussian_integral(expr: sp.Expr, limits: Sequence[tuple[sp.Symbol, sp.Expr, sp.Expr]]) -> sp.Expr | None:
    """Integrate over each (variable, lo, hi) in turn, last first, by the closed forms above; None if any fails."""
    out = expr
    for xi, lo, hi in reversed(tuple(limits)):
        out = interval_gaussian_integral(out, xi, lo, hi)
        if out is None:
            return None
    return out


def real_part(expr: sp.Expr) -> sp.Expr:
    """A real integrand's integral after complex exponentials: exp(i a) back to cos + i sin, the i parts dropped."""
    if not expr.has(sp.I):
        return expr
    out = sp.expand(sp.expand_complex(expr))
    # erf(i y) = i erfi(y): a purely imaginary erf times i is real
    out = sp.expand(
        out.replace(
            lambda e: isinstance(e, sp.erf) and (e.args[0] / sp.I).is_real, lambda e: sp.I * sp.erfi(e.args[0] / sp.I)
        )
    )
    return sp.re(out) if out.has(sp.I) else out
