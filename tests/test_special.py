"""Tests for symflow.numeric.special: the special-function tables, the parameter-derivative kernels and rewrites.

Every number is compared with an independent reference through one tolerance helper
(``assert_close``): 1e-10 relative for float64 routes, 10**(5 - DPS) for mpmath at DPS digits.
References: SymPy's own ``evalf`` for the table; for derivatives in a parameter, mpmath's numerical
differentiation (``mpmath.diff``) of mpmath's regularized functions, written out here rather than
imported, on whichever side (the function or its complement) is small.  Random points come from
fixed seeds.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass, field

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy import special as sc
from scipy import stats

from symflow.errors import BackendError
from symflow.numeric import special as S
from symflow.numeric.special import mp as mp_impl

DPS = 30
RTOL = {"float64": 1e-10, "mpmath": 10.0 ** (5 - DPS)}


def assert_close(got: object, want: object, route: str, what: str = "") -> None:
    """|got - want| <= RTOL[route] |want| (elementwise); the only tolerance in this file."""
    got_a = np.asarray([float(v) for v in np.ravel(np.asarray(got, dtype=object))])
    want_a = np.asarray([float(v) for v in np.ravel(np.asarray(want, dtype=object))])
    err = np.abs(got_a - want_a)
    bound = RTOL[route] * np.abs(want_a) + 1e-300
    bad = ~(err <= bound)
    assert not bad.any(), (
        f"{what}: {int(bad.sum())} of {bad.size} off by more than {RTOL[route]:g} relative; worst got "
        f"{got_a[bad][0]!r} want {want_a[bad][0]!r}"
    )


def _mp_close(got: object, want: object, what: str = "") -> None:
    """mpmath values compared at the working precision (keeps digits beyond float64)."""
    want = mpmath.mpf(want)
    assert abs(mpmath.mpf(got) - want) <= RTOL["mpmath"] * abs(want) + mpmath.mpf(10) ** -300, (what, got, want)


# ---------------------------------------------------------------------------------------------
# 1. The table: every entry against SymPy's evalf, through sympy.lambdify itself
# ---------------------------------------------------------------------------------------------

X0, X1, X2, X3 = sp.symbols("x0:4", real=True)
T = sp.Symbol("t", real=True)


@dataclass(frozen=True)
class TableCase:
    """One expression for one table class.

    ``sample(rng)`` gives the argument values; ``reference`` (when SymPy's evalf of the expression
    itself stays unevaluated) is an equal expression whose evalf is the truth; ``numpy`` says
    whether a float64 route exists (if not, lambdify_special must refuse it).
    """

    name: str
    cls: type
    build: Callable[[tuple], sp.Expr]
    sample: Callable[[np.random.Generator], tuple]
    reference: Callable[[tuple], sp.Expr] | None = None
    numpy: bool = True
    points: int = 10
    args: tuple = field(default=(X0, X1, X2, X3))


def U(lo: float, hi: float) -> Callable[[np.random.Generator], float]:
    return lambda rng: rng.uniform(lo, hi)


def LU(lo: float, hi: float) -> Callable[[np.random.Generator], float]:
    return lambda rng: float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def sampler(*parts: Callable) -> Callable[[np.random.Generator], tuple]:
    return lambda rng: tuple(p(rng) for p in parts)


def _ordered(lo: float, hi: float) -> Callable[[np.random.Generator], tuple]:
    return lambda rng: tuple(sorted(rng.uniform(lo, hi, 2)))


def _beta_interval(rng: np.random.Generator) -> tuple:
    """(a, b, x1, x2) with x1 < x2 below the median.  Both printed forms are differences of two CDF
    values (scipy: betainc(a, b, x2) - betainc(a, b, x1)), well conditioned only there; above the
    median the upper tail of the difference loses relative accuracy in float64 (not a table error)."""
    a, b = (float(v) for v in np.exp(rng.uniform(-2, 3, 2)))
    median = float(sc.betaincinv(a, b, 0.5))
    x1, x2 = sorted(rng.uniform(0, median, 2))
    return a, b, float(x1) if rng.random() < 0.7 else 0.0, float(x2)


fs = sp.functions
CASES = [
    TableCase("gamma", fs.gamma, lambda s: sp.gamma(s[0]), sampler(U(0.1, 30))),
    TableCase("loggamma", fs.loggamma, lambda s: sp.loggamma(s[0]), sampler(LU(0.01, 1e3))),
    TableCase("digamma", fs.digamma, lambda s: sp.digamma(s[0]), sampler(LU(0.01, 1e3))),
    TableCase("trigamma", fs.trigamma, lambda s: sp.trigamma(s[0]), sampler(LU(0.01, 1e3))),
    TableCase("polygamma", fs.polygamma, lambda s: sp.polygamma(2, s[0]), sampler(LU(0.05, 100))),
    TableCase("beta", fs.beta, lambda s: sp.beta(s[0], s[1]), sampler(LU(0.05, 50), LU(0.05, 50))),
    TableCase("lowergamma", fs.lowergamma, lambda s: sp.lowergamma(s[0], s[1]), sampler(LU(0.1, 30), LU(0.01, 40))),
    TableCase("uppergamma", fs.uppergamma, lambda s: sp.uppergamma(s[0], s[1]), sampler(LU(0.1, 30), LU(0.01, 40))),
    TableCase(
        "betainc",
        fs.betainc,
        lambda s: sp.betainc(s[0], s[1], s[2], s[3]),
        _beta_interval,
    ),
    TableCase(
        "betainc_regularized",
        fs.betainc_regularized,
        lambda s: sp.betainc_regularized(s[0], s[1], s[2], s[3]),
        _beta_interval,
    ),
    TableCase("erf", fs.erf, lambda s: sp.erf(s[0]), sampler(U(-4, 4))),
    TableCase("erfc", fs.erfc, lambda s: sp.erfc(s[0]), sampler(U(-3, 20))),
    TableCase("erfinv", fs.erfinv, lambda s: sp.erfinv(s[0]), sampler(U(-0.999, 0.999))),
    TableCase(
        "erfcinv", fs.erfcinv, lambda s: sp.erfcinv(s[0]), sampler(LU(1e-12, 1.99)), lambda s: sp.erfinv(1 - s[0])
    ),
    TableCase("erfi", fs.erfi, lambda s: sp.erfi(s[0]), sampler(U(-3, 3))),
    TableCase(
        "erf2",
        fs.erf2,
        lambda s: sp.erf2(s[0], s[1]),
        lambda rng: tuple(rng.uniform(-6, 6, 2) if rng.random() < 0.5 else rng.uniform(2, 6, 2)),
        lambda s: sp.erf(s[1]) - sp.erf(s[0]),
    ),
    TableCase("besseli", fs.besseli, lambda s: sp.besseli(s[0], s[1]), sampler(U(0, 5), LU(0.05, 50))),
    TableCase("besselk", fs.besselk, lambda s: sp.besselk(s[0], s[1]), sampler(U(0, 5), LU(0.05, 50))),
    # before the first zero: J and Y are relatively accurate only away from their zeros
    TableCase("besselj", fs.besselj, lambda s: sp.besselj(s[0], s[1]), sampler(U(0, 5), U(0.05, 2.3))),
    TableCase("bessely", fs.bessely, lambda s: sp.bessely(s[0], s[1]), sampler(U(0, 5), U(0.05, 0.85))),
    TableCase("expint", fs.expint, lambda s: sp.expint(s[0], s[1]), sampler(U(-1.5, 4.5), LU(0.05, 20))),
    TableCase("expint_integer", fs.expint, lambda s: sp.expint(3, s[0]), sampler(LU(0.05, 20))),
    TableCase("E1", fs.expint, lambda s: sp.E1(s[0]), sampler(LU(0.01, 50))),
    TableCase("Ei", fs.Ei, lambda s: sp.Ei(s[0]), sampler(U(1, 30))),
    TableCase("li", fs.li, lambda s: sp.li(s[0]), sampler(LU(2, 1e6))),
    TableCase("Si", fs.Si, lambda s: sp.Si(s[0]), sampler(U(0.01, 20))),
    TableCase("Ci", fs.Ci, lambda s: sp.Ci(s[0]), sampler(U(0.01, 0.5))),
    TableCase("Shi", fs.Shi, lambda s: sp.Shi(s[0]), sampler(U(0.01, 10))),
    TableCase("Chi", fs.Chi, lambda s: sp.Chi(s[0]), sampler(U(1, 10))),
    TableCase(
        "hyper_2F1",
        fs.hyper,
        lambda s: sp.hyper((s[0], s[1]), (s[2],), s[3]),
        sampler(U(0.1, 3), U(0.1, 3), U(0.5, 4), U(-0.9, 0.6)),
    ),
    TableCase(
        "hyper_1F1", fs.hyper, lambda s: sp.hyper((s[0],), (s[1],), s[2]), sampler(U(0.1, 3), U(0.5, 4), U(-3, 3))
    ),
    TableCase("hyper_0F1", fs.hyper, lambda s: sp.hyper((), (s[0],), s[1]), sampler(U(0.5, 4), U(-3, 3))),
    TableCase(
        "meijerg",
        fs.meijerg,
        lambda s: sp.meijerg(((), (1, 1)), ((0, 0, s[0]), ()), s[1]),
        sampler(LU(0.2, 5), LU(0.1, 5)),
        numpy=False,
        points=4,
    ),
    # mpmath.meijerg(a_s, b_s, z) takes ((an), (aother)) and ((bm), (bother)) as SymPy holds them: G-functions
    # with each group filled, with parameters, and one that is elementary (G^{1,0}_{0,1}(z | -; 0) = exp(-z))
    TableCase(
        "meijerg_exp", fs.meijerg, lambda s: sp.meijerg(((), ()), ((0,), ()), s[0]), sampler(LU(0.05, 20)), numpy=False
    ),
    TableCase(
        "meijerg_all_groups",
        fs.meijerg,
        lambda s: sp.meijerg(((1,), (2,)), ((s[0],), (sp.S.Half,)), s[1]),
        sampler(LU(0.5, 4), LU(0.1, 4)),
        numpy=False,
        points=4,
    ),
    TableCase(
        "meijerg_parameters",
        fs.meijerg,
        lambda s: sp.meijerg(((1 - s[0],), ()), ((0, s[1]), ()), s[2]),
        sampler(LU(0.3, 4), LU(0.3, 4), LU(0.1, 6)),
        numpy=False,
        points=4,
    ),
    TableCase(
        "Integral_infinite",
        sp.Integral,
        lambda s: sp.Integral(s[0] * sp.exp(-((T - s[1]) ** 2)), (T, -sp.oo, s[2])),
        sampler(U(0.5, 2), U(-1, 1), U(-3, 3)),
        # SymPy's evalf of an infinite Integral takes ~1 s a point; the closed form is equal and fast
        lambda s: s[0] * sp.sqrt(sp.pi) / 2 * (1 + sp.erf(s[2] - s[1])),
    ),
    TableCase(
        "Integral_finite",
        sp.Integral,
        lambda s: sp.Integral(T * sp.exp(-s[0] * T), (T, s[1], s[2])),
        lambda rng: (rng.uniform(0.1, 3), *_ordered(-3, 3)(rng)),
        lambda s: (sp.exp(-s[0] * s[1]) * (s[0] * s[1] + 1) - sp.exp(-s[0] * s[2]) * (s[0] * s[2] + 1)) / s[0] ** 2,
    ),
    TableCase(
        "P",
        S.RegularizedLowerGamma,
        lambda s: S.RegularizedLowerGamma(s[0], s[1]),
        sampler(LU(0.05, 500), LU(1e-3, 600)),
    ),
    TableCase(
        "Q",
        S.RegularizedUpperGamma,
        lambda s: S.RegularizedUpperGamma(s[0], s[1]),
        sampler(LU(0.05, 500), LU(1e-3, 600)),
    ),
    TableCase(
        "dP/da",
        S.RegularizedLowerGammaDerivA,
        lambda s: S.RegularizedLowerGammaDerivA(s[0], s[1]),
        sampler(LU(0.05, 500), LU(1e-3, 600)),
    ),
    TableCase(
        "I",
        S.RegularizedIncompleteBeta,
        lambda s: S.RegularizedIncompleteBeta(*s[:3]),
        sampler(LU(0.05, 100), LU(0.05, 100), U(0, 1)),
    ),
    TableCase(
        "dI/da",
        S.RegularizedIncompleteBetaDerivA,
        lambda s: S.RegularizedIncompleteBetaDerivA(*s[:3]),
        sampler(LU(0.05, 100), LU(0.05, 100), U(0, 1)),
    ),
    TableCase(
        "dI/db",
        S.RegularizedIncompleteBetaDerivB,
        lambda s: S.RegularizedIncompleteBetaDerivB(*s[:3]),
        sampler(LU(0.05, 100), LU(0.05, 100), U(0, 1)),
    ),
    TableCase("F_t", S.StudentTCDF, lambda s: S.StudentTCDF(s[0], s[1]), sampler(LU(0.1, 500), U(-30, 30))),
    TableCase(
        "dF_t/dnu", S.StudentTCDFDerivNu, lambda s: S.StudentTCDFDerivNu(s[0], s[1]), sampler(LU(0.1, 500), U(-30, 30))
    ),
    TableCase("F_vM", S.VonMisesCDF, lambda s: S.VonMisesCDF(s[0], s[1]), sampler(LU(1e-3, 300), U(-7, 7))),
    TableCase(
        "dF_vM/dkappa",
        S.VonMisesCDFDerivKappa,
        lambda s: S.VonMisesCDFDerivKappa(s[0], s[1]),
        sampler(LU(1e-3, 300), U(-7, 7)),
    ),
]


def _points(case: TableCase) -> list[tuple]:
    rng = np.random.default_rng(sum(map(ord, case.name)))
    return [tuple(float(v) for v in case.sample(rng)) for _ in range(case.points)]


def _exact(v: float) -> sp.Rational:
    return sp.Rational(v)  # the float's exact binary value, so every route sees the same number


def _reference(case: TableCase, point: tuple) -> sp.Float:
    syms = case.args[: len(point)]
    expr = (case.reference or case.build)(syms)
    value = expr.xreplace({s: _exact(v) for s, v in zip(syms, point, strict=True)}).evalf(DPS + 5)
    assert value.is_Number, f"{case.name}: SymPy's evalf left {value}; give the case a reference"
    return value


def test_table_covers_every_class() -> None:
    assert {c.cls for c in CASES} == {e.sympy_class for e in S.special_table()}


def test_printed_names_are_unique_functions() -> None:
    # one printed name means one function in each dict (the merge asserts it; this pins the result)
    assert S.mpmath_implementations()["betainc_regularized"] is not mpmath.betainc
    assert S.numpy_implementations()["RegularizedLowerGammaDerivA"] is S.gammainc_da


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_table_mpmath_route(case: TableCase) -> None:
    syms = case.args[: len(_points(case)[0])]
    fn = sp.lambdify(syms, case.build(syms), modules=[S.mpmath_implementations(), "mpmath"])
    with mpmath.workdps(DPS):
        for point in _points(case):
            got = fn(*(mpmath.mpf(v) for v in point))
            _mp_close(got, _reference(case, point), f"{case.name} at {point}")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_table_numpy_route(case: TableCase) -> None:
    points = _points(case)
    syms = case.args[: len(points[0])]
    expr = case.build(syms)
    if not case.numpy:
        with pytest.raises(BackendError, match="no vectorized float64 route"):
            S.lambdify_special(syms, expr, rewrite=False)
        return
    fn = sp.lambdify(syms, expr, modules=[S.numpy_implementations(), "scipy", "numpy"])
    columns = [np.array(c) for c in zip(*points, strict=True)]
    got = fn(*columns)  # one vectorized call over all points
    assert_close(np.broadcast_to(got, (len(points),)), [_reference(case, p) for p in points], "float64", case.name)


def test_betainc_regularized_is_regularized() -> None:
    """Regression: lambdify's own mpmath route returns the unregularized B_x(a, b)."""
    a, b, x = sp.symbols("a b x", positive=True)
    expr = sp.betainc_regularized(a, b, 0, x)
    with mpmath.workdps(DPS):
        ours = sp.lambdify((a, b, x), expr, modules=[S.mpmath_implementations(), "mpmath"])
        want = expr.subs({a: sp.Rational(23, 10), b: sp.Rational(17, 10), x: sp.Rational(2, 5)}).evalf(DPS + 5)
        _mp_close(ours(mpmath.mpf("2.3"), mpmath.mpf("1.7"), mpmath.mpf("0.4")), want, "betainc_regularized")
        _mp_close(ours(2, 3, 1), 1, "I_1(a, b) = 1")


def test_meijerg_numpy_entry_names_the_fix() -> None:
    with pytest.raises(BackendError, match="rewrite_parameter_derivatives"):
        S.numpy_implementations()["meijerg"](((), (1, 1)), ((0, 0, 1.5), ()), 2.0)


def test_numpy_refusals_name_the_problem() -> None:
    x = sp.Symbol("x")
    with pytest.raises(BackendError, match="p=3, q=2"):
        S.check_numpy_support(sp.hyper((1, 2, 3), (4, 5), x))
    with pytest.raises(BackendError, match="undefined function"):
        S.check_numpy_support(sp.Function("f")(x))
    with pytest.raises(BackendError, match="unknown backend"):
        S.lambdify_special(x, x, "cupy")


def test_rewrites_leave_what_they_cannot_prove_equal() -> None:
    z = sp.Symbol("z")  # sign unknown: the Student-t identity needs a nonpositive 2F1 argument
    h = sp.hyper((sp.S.Half, 1), (sp.Rational(3, 2),), -(z**2))
    assert S.rewrite_special_forms(h) == h
    assert S.rewrite_special_forms(sp.uppergamma(-sp.Rational(1, 2), z)).has(sp.erfc)  # SymPy's own, untouched


# ---------------------------------------------------------------------------------------------
# 2. Derivatives in a parameter: kernels against mpmath.diff
# ---------------------------------------------------------------------------------------------


def _diff_small_side(small: Callable, big_complement: Callable, value_small: bool, at: object) -> mpmath.mpf:
    return mpmath.diff(small, at) if value_small else -mpmath.diff(big_complement, at)


def ref_gammainc_da(a: float, x: float) -> mpmath.mpf:
    a, x = mpmath.mpf(a), mpmath.mpf(x)
    p = lambda s: mpmath.gammainc(s, 0, x, regularized=True)  # noqa: E731
    q = lambda s: mpmath.gammainc(s, x, mpmath.inf, regularized=True)  # noqa: E731
    return _diff_small_side(p, q, p(a) < 0.5, a)


def ref_betainc_d(a: float, b: float, x: float, wrt: int) -> mpmath.mpf:
    a, b, x = mpmath.mpf(a), mpmath.mpf(b), mpmath.mpf(x)
    lower = lambda p, q: mpmath.betainc(p, q, 0, x, regularized=True)  # noqa: E731
    # 1 - I_x(p, q) = I_{1-x}(q, p), from 0: betainc(p, q, x, 1) would subtract two values near 1
    upper = lambda p, q: mpmath.betainc(q, p, 0, 1 - x, regularized=True)  # noqa: E731
    if wrt == 0:
        return _diff_small_side(lambda p: lower(p, b), lambda p: upper(p, b), lower(a, b) < 0.5, a)
    return _diff_small_side(lambda q: lower(a, q), lambda q: upper(a, q), lower(a, b) < 0.5, b)


def ref_student_t_dnu(nu: float, x: float) -> mpmath.mpf:
    nu, x = mpmath.mpf(nu), mpmath.mpf(x)
    ax2 = x * x
    central = lambda n: mpmath.betainc(0.5, n / 2, 0, ax2 / (n + ax2), regularized=True) / 2  # F - 1/2 at |x|  # noqa: E731
    tail = lambda n: mpmath.betainc(n / 2, 0.5, 0, n / (n + ax2), regularized=True) / 2  # 1 - F at |x|  # noqa: E731
    d = mpmath.diff(central, nu) if central(nu) < 0.25 else -mpmath.diff(tail, nu)
    return d if x > 0 else -d


def ref_von_mises_dkappa(kappa: float, x: float) -> mpmath.mpf:
    """mpmath.diff of the CDF (x reduced to [-pi, pi)); each quadrature is scaled to O(1) at its peak
    because mpmath.quad stops on an absolute error estimate."""
    kappa, x = mpmath.mpf(kappa), mpmath.mpf(x)
    y = x - 2 * mpmath.pi * mpmath.floor((x + mpmath.pi) / (2 * mpmath.pi))
    sign, y = (-1, -y) if y > 0 else (1, y)
    scale = 1 / (kappa * abs(mpmath.sin(y)) + mpmath.sqrt(kappa) + 1)
    points = sorted({max(-mpmath.pi, y - d * scale) for d in (100, 30, 10, 3, 1)} | {-mpmath.pi, y})

    def cdf(k: mpmath.mpf) -> mpmath.mpf:
        body = mpmath.quad(lambda t: mpmath.exp(k * (mpmath.cos(t) - mpmath.cos(y))), points)
        return body * mpmath.exp(k * (mpmath.cos(y) - 1)) / (2 * mpmath.pi * mpmath.besseli(0, k) * mpmath.exp(-k))

    return sign * mpmath.diff(cdf, kappa)


def _gamma_points(rng: np.random.Generator, n: int) -> list[tuple]:
    a = np.exp(rng.uniform(np.log(0.05), np.log(1000), n))
    u = np.exp(rng.uniform(np.log(1e-15), np.log(0.5), n))
    lower = rng.random(n) < 0.5
    x = np.where(lower, sc.gammaincinv(a, u), sc.gammainccinv(a, u))  # both tails, down to 1e-15
    return list(zip(a, x, strict=True))


def _beta_points(rng: np.random.Generator, n: int) -> list[tuple]:
    a = np.exp(rng.uniform(np.log(0.05), np.log(1000), n))
    b = np.exp(rng.uniform(np.log(0.05), np.log(1000), n))
    u = np.exp(rng.uniform(np.log(1e-12), np.log(0.5), n))
    x = sc.betaincinv(a, b, np.where(rng.random(n) < 0.5, u, 1 - u))
    keep = (x > 0) & (x < 1)
    return list(zip(a[keep], b[keep], x[keep], strict=True))


def _t_points(rng: np.random.Generator, n: int) -> list[tuple]:
    nu = np.exp(rng.uniform(np.log(0.1), np.log(1000), n))
    u = np.exp(rng.uniform(np.log(1e-12), np.log(0.5), n))
    x = stats.t.ppf(np.where(rng.random(n) < 0.5, u, 1 - u), nu)
    x[: max(1, n // 8)] = rng.normal(size=max(1, n // 8)) * 1e-3  # near the zero at x = 0
    return list(zip(nu, x, strict=True))


def _vm_points(rng: np.random.Generator, n: int) -> list[tuple]:
    kappa = np.exp(rng.uniform(np.log(1e-3), np.log(1000), n))
    x = rng.uniform(-np.pi, np.pi, n)
    x[: max(1, n // 8)] *= 1e-3
    return list(zip(kappa, x, strict=True))


@dataclass(frozen=True)
class KernelCase:
    name: str
    kernel: Callable
    reference: Callable
    points: Callable[[np.random.Generator, int], list[tuple]]
    fast: int = 12  # points in the default run (the von Mises reference, a differentiated quadrature, is slow)


KERNELS = [
    KernelCase("gammainc_da", S.gammainc_da, ref_gammainc_da, _gamma_points),
    KernelCase("betainc_da", S.betainc_da, lambda a, b, x: ref_betainc_d(a, b, x, 0), _beta_points),
    KernelCase("betainc_db", S.betainc_db, lambda a, b, x: ref_betainc_d(a, b, x, 1), _beta_points),
    KernelCase("student_t_cdf_dnu", S.student_t_cdf_dnu, ref_student_t_dnu, _t_points),
    KernelCase("von_mises_cdf_dkappa", S.von_mises_cdf_dkappa, ref_von_mises_dkappa, _vm_points, fast=5),
]


def _check_kernel(case: KernelCase, n: int, seed: int) -> None:
    points = case.points(np.random.default_rng(seed), n)
    got = case.kernel(*(np.array(c) for c in zip(*points, strict=True)))
    with mpmath.workdps(DPS):
        want = [case.reference(*p) for p in points]
    normal = [abs(w) > 1e-290 for w in want]  # subnormal results carry fewer digits by construction
    assert_close(got[normal], np.array(want, dtype=object)[normal], "float64", case.name)


@pytest.mark.parametrize("case", KERNELS, ids=lambda c: c.name)
def test_kernel_against_mpmath_diff(case: KernelCase) -> None:
    _check_kernel(case, case.fast, seed=2024)


@pytest.mark.slow
@pytest.mark.parametrize("case", KERNELS, ids=lambda c: c.name)
def test_kernel_against_mpmath_diff_wide(case: KernelCase) -> None:
    _check_kernel(case, 25 * case.fast, seed=7)


def test_kernel_edges_and_shapes() -> None:
    assert S.gammainc_da(2.0, 0.0) == 0.0 and S.gammainc_da(2.0, np.inf) == 0.0
    assert np.isnan(S.gammainc_da(-1.0, 1.0)) and np.isnan(S.gammainc_da(1.0, -1.0))
    assert S.betainc_da(2.0, 3.0, 0.0) == 0.0 and S.betainc_db(2.0, 3.0, 1.0) == 0.0
    assert np.isnan(S.betainc_db(2.0, 3.0, 1.5))
    assert S.student_t_cdf_dnu(3.0, 0.0) == 0.0 and S.von_mises_cdf_dkappa(2.0, np.pi) == 0.0
    grid = S.betainc_da(np.array([[1.0], [2.0]]), 3.0, np.array([0.2, 0.5, 0.7]))
    assert grid.shape == (2, 3)
    assert isinstance(S.gammainc_da(1.5, 2.0), float)
    # odd / periodic / complementary structure
    assert S.student_t_cdf_dnu(4.0, -1.3) == -S.student_t_cdf_dnu(4.0, 1.3)
    assert_close(S.von_mises_cdf_dkappa(3.0, 0.7 + 2 * np.pi), S.von_mises_cdf_dkappa(3.0, 0.7), "float64")
    assert S.gammaincc_da(2.5, 1.0) == -S.gammainc_da(2.5, 1.0)


def test_upper_beta_mass_on_each_route() -> None:
    # 1 - I_x(a, b) as the betainc_d kernels compute it (betaincc is 10-20x slower than betainc):
    # 1 - I_x where I_x <= 1/2; I_{1-x}(b, a) where x >= 1/2; the same at fl(1 - x) plus the first-order
    # correction where x < 1/2; betaincc below x = 2^-30.  Planted points on every route, vs mpmath.
    from symflow.numeric.special.beta import _LINEAR_X, _upper_mass

    a = np.array([2.0, 2.0, 1.2, 300.0, 500.0, 0.001, 0.001])
    b = np.array([3.0, 3.0, 2.7, 500.0, 300.0, 2.0, 2.0])
    x = np.array([0.1, 0.8, 0.4, 0.38, 0.65, 1e-12, 1e-20])  # at 1e-20 a first-order correction is wrong
    lower = sc.betainc(a, b, x)
    routes = {
        "1 - I": lower <= 0.5,
        "symmetry": (lower > 0.5) & (x >= 0.5),
        "corrected symmetry": (lower > 0.5) & (x < 0.5) & (x >= _LINEAR_X),
        "betaincc": (lower > 0.5) & (x < _LINEAR_X),
    }
    assert all(r.any() for r in routes.values()), {k: r.tolist() for k, r in routes.items()}
    got = _upper_mass(a, b, x, np.log(x), np.log1p(-x))
    with mpmath.workdps(DPS):
        want = [1 - mpmath.betainc(p, q, 0, mpmath.mpf(t), regularized=True) for p, q, t in zip(a, b, x, strict=True)]
    assert_close(got, np.array(want, dtype=object), "float64", "1 - I_x(a, b)")


def test_beta_kernels_in_blocks_equal_one_block_bit_for_bit(monkeypatch) -> None:
    # the kernels evaluate long inputs in blocks (their quadrature arrays stay in cache) and every
    # element is computed on its own, down to its node sums (beta._node_sum): blocks of 7 leave some
    # elements alone on their route, and must not change a single bit
    from symflow.numeric.special import beta

    a, b, x = (np.array(c) for c in zip(*_beta_points(np.random.default_rng(5), 200), strict=True))
    x[:3] = (0.0, 1.0, 1.5)  # edges and a nan among the blocks
    whole = S.betainc_da(a, b, x), S.betainc_db(a, b, x)
    monkeypatch.setattr(beta, "_BLOCK", 7)
    for got, want in zip((S.betainc_da(a, b, x), S.betainc_db(a, b, x)), whole, strict=True):
        np.testing.assert_array_equal(got, want)


def test_digamma_difference_and_log1pmx() -> None:
    from symflow.numeric.special.kernels import digamma_difference, log1pmx

    x = np.array([0.3, 5.0, 12.0, 1e3, 1e6])
    d = np.array([1e-8, 0.5, 3.0, 0.05, 1e-3])
    with mpmath.workdps(DPS):
        want = [
            mpmath.digamma(mpmath.mpf(a) + mpmath.mpf(b)) - mpmath.digamma(mpmath.mpf(a))
            for a, b in zip(x, d, strict=True)
        ]
        want_l = [mpmath.log1p(mpmath.mpf(u)) - mpmath.mpf(u) for u in (1e-9, -0.05, 0.3)]
    assert_close(digamma_difference(x, d), want, "float64", "digamma_difference")
    assert_close(log1pmx(np.array([1e-9, -0.05, 0.3])), want_l, "float64", "log1pmx")


# ---------------------------------------------------------------------------------------------
# 3. Rewrites: what SymPy writes -> the classes, with equal values
# ---------------------------------------------------------------------------------------------

a, b, x, nu, kappa = sp.symbols("a b x nu kappa", positive=True)
mu, xr = sp.Symbol("mu", real=True), sp.Symbol("y", real=True)
sigma = sp.Symbol("sigma", positive=True)


def _t_cdf(nu_: sp.Expr, z: sp.Expr) -> sp.Expr:
    return sp.S.Half + z * sp.gamma((nu_ + 1) / 2) * sp.hyper(
        (sp.S.Half, (nu_ + 1) / 2), (sp.Rational(3, 2),), -(z**2) / nu_
    ) / (sp.sqrt(sp.pi * nu_) * sp.gamma(nu_ / 2))


_VM_CDF = sp.Integral(sp.exp(kappa * sp.cos(T - mu)) / (2 * sp.pi * sp.besseli(0, kappa)), (T, mu - sp.pi, xr))


@dataclass(frozen=True)
class RewriteCase:
    """A SymPy form, the class it must become, and where to evaluate it."""

    name: str
    expr: sp.Expr
    becomes: type
    values: Callable[[np.random.Generator], dict]


def _vals(**ranges: tuple) -> Callable[[np.random.Generator], dict]:
    syms = {"a": a, "b": b, "x": x, "nu": nu, "kappa": kappa, "mu": mu, "y": xr, "sigma": sigma}
    return lambda rng: {syms[k]: float(rng.uniform(*r)) for k, r in ranges.items()}


_BETA = _vals(a=(0.3, 8), b=(0.3, 8), x=(0.05, 0.95))
_GAMMA = _vals(a=(0.2, 10), x=(0.1, 15))
_VM = _vals(kappa=(0.1, 20), mu=(-1, 1), y=(-2.5, 2.5))
_GAMMA_CDF = 1 - sp.uppergamma(a, b * x) / sp.gamma(a)  # symflow's gamma family, rate b
# simplify leaves the hyper argument as exp_polar(I*pi) * r in symflow's Student-t flow
_T_CDF_POLAR = _t_cdf(nu, (xr - mu) / sigma).replace(
    lambda e: isinstance(e, sp.hyper), lambda e: sp.hyper(e.ap, e.bq, -e.argument * sp.exp_polar(sp.I * sp.pi))
)

REWRITES = [
    RewriteCase(
        "d/da betainc_regularized",
        sp.diff(sp.betainc_regularized(a, b, 0, x), a),
        S.RegularizedIncompleteBetaDerivA,
        _BETA,
    ),
    RewriteCase(
        "d/db betainc_regularized",
        sp.diff(sp.betainc_regularized(a, b, 0, x), b),
        S.RegularizedIncompleteBetaDerivB,
        _BETA,
    ),
    RewriteCase(
        "Subs(Derivative(betainc_regularized))",
        sp.diff(sp.betainc_regularized(a**2, b, 0, x), a),
        S.RegularizedIncompleteBetaDerivA,
        _vals(a=(0.5, 2.5), b=(0.3, 8), x=(0.05, 0.95)),
    ),
    RewriteCase(
        "d/db betainc_regularized, two limits",
        sp.diff(sp.betainc_regularized(a, b, x / 2, x), b),
        S.RegularizedIncompleteBetaDerivB,
        _BETA,
    ),
    RewriteCase(
        "Derivative(betainc)", sp.Derivative(sp.betainc(a, b, 0, x), a), S.RegularizedIncompleteBetaDerivA, _BETA
    ),
    RewriteCase("Derivative(lowergamma)", sp.Derivative(sp.lowergamma(a, x), a), S.RegularizedLowerGammaDerivA, _GAMMA),
    RewriteCase(
        "meijerg: d/da lowergamma/gamma",
        sp.diff(sp.lowergamma(a, x) / sp.gamma(a), a),
        S.RegularizedLowerGammaDerivA,
        _GAMMA,
    ),
    RewriteCase(
        "meijerg: d/da uppergamma/gamma",
        sp.diff(sp.uppergamma(a, x) / sp.gamma(a), a),
        S.RegularizedLowerGammaDerivA,
        _GAMMA,
    ),
    RewriteCase(
        "meijerg: gamma implicit flow",
        -sp.diff(_GAMMA_CDF, a) / sp.diff(_GAMMA_CDF, x),
        S.RegularizedLowerGammaDerivA,
        _vals(a=(0.5, 10), b=(0.5, 2), x=(0.2, 8)),
    ),
    RewriteCase(
        "hyper: d/dnu Student-t CDF", sp.diff(_t_cdf(nu, x), nu), S.StudentTCDFDerivNu, _vals(nu=(0.5, 30), x=(0.1, 6))
    ),
    RewriteCase(
        "hyper: Student-t implicit flow (exp_polar)",
        -sp.diff(_T_CDF_POLAR, nu) / sp.diff(_T_CDF_POLAR, xr),
        S.StudentTCDFDerivNu,
        _vals(nu=(0.5, 30), y=(-4, 4), mu=(-1, 1), sigma=(0.5, 2)),
    ),
    RewriteCase("Integral: d/dkappa von Mises CDF", sp.diff(_VM_CDF, kappa), S.VonMisesCDFDerivKappa, _VM),
    RewriteCase(
        "Integral: Derivative(von Mises CDF)",
        sp.Derivative(_VM_CDF.subs(kappa, kappa**2), kappa),
        S.VonMisesCDFDerivKappa,
        _vals(kappa=(0.3, 4), mu=(-1, 1), y=(-2.5, 2.5)),
    ),
]


def _principal(expr: sp.Expr) -> sp.Expr:
    return expr.replace(lambda e: isinstance(e, sp.exp_polar), lambda e: sp.exp(e.args[0]))


def _mp_regularized_betainc(p, q, x1, x2):
    return mpmath.betainc(p, q, x1, x2, regularized=True)


def oracle(expr: sp.Expr, values: dict) -> sp.Float:
    """``expr`` at ``values`` without the rewrite: each Derivative/Subs by mpmath.diff of its mpmath-lambdified
    function, the rest by SymPy's evalf."""
    exact = {s: _exact(v) for s, v in values.items()}
    expr = _principal(expr)

    def derivative_at(d: sp.Derivative, at: dict) -> sp.Float:
        (var, order), *more = d.variable_count
        assert not more, "one differentiation variable"
        inner = d.expr.xreplace({s: v for s, v in at.items() if s != var})
        f = sp.lambdify([var], inner, modules=[{"betainc_regularized": _mp_regularized_betainc}, "mpmath"])
        with mpmath.workdps(DPS + 15):
            return sp.Float(mpmath.diff(f, mpmath.mpf(at[var]), order), DPS + 10)

    def numeric(node: sp.Basic) -> sp.Basic:  # top-down: a Subs owns the Derivative inside it
        if isinstance(node, sp.Subs):
            at = dict(exact)
            at.update({v: p.xreplace(exact).evalf(DPS + 10) for v, p in zip(node.variables, node.point, strict=True)})
            return derivative_at(node.expr, at)
        if isinstance(node, sp.Derivative):
            return derivative_at(node, exact)
        if isinstance(node, sp.Integral):  # SymPy's evalf of an Integral costs seconds; mpmath.quad directly
            (var, lo, hi), integrand = node.limits[0], node.function.xreplace(exact)
            f = sp.lambdify([var], integrand, modules="mpmath")
            with mpmath.workdps(DPS + 10):
                ends = [mpmath.mpf(sp.N(e.xreplace(exact), DPS + 10)) for e in (lo, hi)]
                return sp.Float(mpmath.quad(f, ends), DPS + 5)
        if not node.args or not node.has(sp.Subs, sp.Derivative, sp.Integral):
            return node
        return node.func(*(numeric(arg) for arg in node.args))

    value = numeric(expr).xreplace(exact).evalf(DPS + 5)
    assert value.is_Number, value
    return value  # a Float of DPS + 5 digits (an mpf made here would be rounded to mpmath's current precision)


@pytest.mark.parametrize("case", REWRITES, ids=lambda c: c.name)
def test_rewrite_recognizes_and_keeps_value(case: RewriteCase) -> None:
    out = S.rewrite_parameter_derivatives(case.expr)
    assert out.has(case.becomes), out
    assert not out.has(sp.Derivative, sp.Subs, sp.meijerg, sp.exp_polar), out
    assert not out.has(sp.hyper) or not case.expr.has(sp.hyper), out
    rng = np.random.default_rng(sum(map(ord, case.name)))
    points = [case.values(rng) for _ in range(3)]
    fn = S.lambdify_special(sorted(out.free_symbols, key=str), out, rewrite=False)
    for values in points:
        want = oracle(case.expr, values)
        with mpmath.workdps(DPS):
            got = out.xreplace({s: _exact(v) for s, v in values.items()}).evalf(DPS + 5)
            _mp_close(got, want, f"{case.name} evalf at {values}")
        got_np = fn(*(values[s] for s in sorted(out.free_symbols, key=str)))
        assert_close(got_np, want, "float64", f"{case.name} numpy at {values}")


def test_rewritten_expressions_pickle() -> None:
    for case in REWRITES:
        out = S.rewrite_parameter_derivatives(case.expr)
        assert pickle.loads(pickle.dumps(out)) == out


def test_rewrite_cancels_the_cdf_terms() -> None:
    """The values P + Q = 1 and the Student-t CDF terms must cancel symbolically, not in float64."""
    assert S.rewrite_parameter_derivatives(
        sp.diff(sp.lowergamma(a, x) / sp.gamma(a), a)
    ) == S.RegularizedLowerGammaDerivA(a, x)
    assert S.rewrite_parameter_derivatives(sp.diff(_t_cdf(nu, x), nu)) == S.StudentTCDFDerivNu(nu, x)
    assert S.rewrite_special_forms(_t_cdf(nu, x)) == S.StudentTCDF(nu, x)
    assert S.rewrite_special_forms(sp.lowergamma(a, x) / sp.gamma(a)) == S.RegularizedLowerGamma(a, x)


def test_symbol_named_like_a_function() -> None:
    """symflow's Beta family has a Symbol "beta" beside beta(alpha, beta); a plain lambdify shadows the function."""
    alpha, beta_ = sp.Symbol("alpha", positive=True), sp.Symbol("beta", positive=True)
    fn = S.lambdify_special((alpha, beta_), sp.beta(alpha, beta_) * beta_)
    assert_close(fn(2.0, 3.0), 3.0 * sc.beta(2.0, 3.0), "float64", "beta(alpha, beta) * beta")


def test_regularized_gamma_does_not_overflow() -> None:
    """lowergamma(a, x)/gamma(a) prints as gamma(a)*gammainc(a, x)/gamma(a) => inf/inf for a > 171."""
    fn = S.lambdify_special((a, x), sp.lowergamma(a, x) / sp.gamma(a))
    assert_close(fn(400.0, 390.0), sc.gammainc(400.0, 390.0), "float64", "P(400, 390)")


def test_unrecognized_derivatives_stay_and_are_refused() -> None:
    second = sp.Derivative(sp.betainc_regularized(a, b, 0, x), (a, 2))
    assert S.rewrite_parameter_derivatives(second).has(sp.Derivative)
    other = sp.Derivative(sp.hyper((a, 1), (2,), -x), a)
    assert S.rewrite_parameter_derivatives(other) == other
    with pytest.raises(BackendError, match="derivative with no closed form"):
        S.lambdify_special((a, x), other)


def test_latex_of_the_classes() -> None:
    assert sp.latex(S.RegularizedIncompleteBeta(a, b, x)) == r"I_{x}\left(a, b\right)"
    assert sp.latex(S.RegularizedLowerGammaDerivA(a, x)) == r"\frac{\partial P}{\partial a}\left(a, x\right)"


def test_classes_differentiate_within_the_family() -> None:
    assert sp.diff(S.RegularizedLowerGamma(a, x), a) == S.RegularizedLowerGammaDerivA(a, x)
    assert sp.diff(S.RegularizedUpperGamma(a, x), a) == -S.RegularizedLowerGammaDerivA(a, x)
    assert sp.diff(S.StudentTCDF(nu, x), nu) == S.StudentTCDFDerivNu(nu, x)
    assert sp.diff(S.VonMisesCDF(kappa, x), kappa) == S.VonMisesCDFDerivKappa(kappa, x)
    density = x ** (a - 1) * (1 - x) ** (b - 1) / sp.beta(a, b)
    assert sp.simplify(sp.diff(S.RegularizedIncompleteBeta(a, b, x), x) - density) == 0
    assert sp.diff(S.RegularizedLowerGammaDerivA(a, x), a).has(sp.Derivative)  # no second derivative: left unevaluated


# ---------------------------------------------------------------------------------------------
# 4. integrate_1d (the float64 Integral route)
# ---------------------------------------------------------------------------------------------


def test_integrate_1d_limits() -> None:
    xs = np.linspace(-3, 3, 7)
    assert_close(
        S.integrate_1d(lambda t: np.exp(-t * t / 2) / np.sqrt(2 * np.pi), -np.inf, xs), stats.norm.cdf(xs), "float64"
    )
    assert_close(S.integrate_1d(lambda t: 1 / (1 + t * t), -np.inf, np.inf), np.pi, "float64")
    assert_close(S.integrate_1d(lambda t: np.exp(-t), 2.0, np.inf), np.exp(-2.0), "float64")
    assert_close(S.integrate_1d(lambda t: t**2, 1.0, 0.0), -1 / 3, "float64")  # reversed limits
    assert S.integrate_1d(np.sin, 1.0, 1.0) == 0.0


def test_integrate_1d_refuses_rather_than_guesses() -> None:
    with pytest.warns(S.SpecialFunctionWarning, match="did not converge"):
        out = S.integrate_1d(lambda t: np.sin(1 / t), 1e-4, 1.0)
    assert np.isnan(out)


@pytest.mark.slow
@pytest.mark.parametrize("family", ["gamma", "beta", "student_t"])
def test_symflow_implicit_flows_compile(family: str) -> None:
    """symflow's own implicit flows (CDF-based, through its simplify) rewrite to the classes and evaluate in float64."""
    import symflow as sf

    density = getattr(sf.families, family)()
    flow = sf.flows.implicit(density)
    rng = np.random.default_rng(sum(map(ord, family)))
    for theta, (u,) in flow.fields:
        out = S.rewrite_parameter_derivatives(u)
        assert not out.has(sp.Derivative, sp.Subs, sp.meijerg, sp.exp_polar), (theta, out)
        args = sorted(out.free_symbols | u.free_symbols, key=str)
        fn = S.lambdify_special(args, out, rewrite=False)
        for _ in range(2):
            params = {p: float(rng.uniform(0.5, 4)) for p in density.params}
            draw = density.sample(1, {p: v for p, v in params.items()}, rng)[0, 0]
            values = {**params, density.x[0]: float(draw)}
            assert_close(fn(*(values[s] for s in args)), oracle(u, values), "float64", f"{family} d/d{theta}")


# -- the mpmath series routes against mpmath.diff --------------------------------------------------

_SERIES_RNG = np.random.default_rng(13)


def _series_points(n: int) -> list[tuple[float, ...]]:
    a = np.exp(_SERIES_RNG.uniform(np.log(0.05), np.log(150), n))
    b = np.exp(_SERIES_RNG.uniform(np.log(0.05), np.log(40), n))
    b[::5] = _SERIES_RNG.integers(1, 6, b[::5].size)  # integer b: (1 - b)_n vanishes from n = b on
    x = _SERIES_RNG.uniform(0, 1, n)
    x[::7] = 10.0 ** -_SERIES_RNG.integers(1, 12, x[::7].size)
    x[3::7] = 1 - 10.0 ** -_SERIES_RNG.integers(1, 12, x[3::7].size)
    return list(zip(a, b, x, strict=True))


@pytest.mark.parametrize("point", _series_points(40))
def test_beta_series_derivatives_match_mpmath_diff(point):
    a, b, x = (mpmath.mpf(float(v)) for v in point)
    with mpmath.workdps(40):
        for series, by_diff in (
            (mp_impl.betainc_da, mp_impl.betainc_da_by_diff),
            (mp_impl.betainc_db, mp_impl.betainc_db_by_diff),
        ):
            got, want = series(a, b, x), by_diff(a, b, x)
            assert abs(got - want) <= mpmath.mpf(10) ** -30 * abs(want), (point, got, want)


@pytest.mark.parametrize("a", [0.01, 0.3, 2.3, 40.0, 150.0])
@pytest.mark.parametrize("x", [1e-6, 0.4, 3.0, 45.0, 320.0])
def test_gamma_series_derivative_matches_mpmath_diff(a, x):
    # x = 320 with small a: dP/da ~ e^-320, the difference of two O(1) parts the guard bits cover
    with mpmath.workdps(40):
        got, want = mp_impl.gammainc_da(a, x), mp_impl.gammainc_da_by_diff(a, x)
        assert abs(got - want) <= mpmath.mpf(10) ** -30 * abs(want)


@pytest.mark.parametrize("kappa", [0.001, 0.7, 2.0, 13.0, 49.0])
def test_von_mises_fourier_derivative_matches_the_quadrature_route(kappa, monkeypatch):
    xs = [-3.14159, -2.0, -0.3, 0.0, 1.1, 2.9, float(mpmath.pi) - 1e-9]
    with mpmath.workdps(40):
        got = [mp_impl.von_mises_cdf_dkappa(kappa, x) for x in xs]
        monkeypatch.setattr(mp_impl, "_FOURIER_MAX_KAPPA", 0)  # the quadrature route
        want = [mp_impl.von_mises_cdf_dkappa(kappa, x) for x in xs]
    for g, w, x in zip(got, want, xs, strict=True):
        assert abs(g - w) <= mpmath.mpf(10) ** -30 * abs(w) or (w == 0 and g == 0), (kappa, x, g, w)


@pytest.mark.parametrize("nu", [0.1, 0.9, 5.5, 40.0, 350.0])
@pytest.mark.parametrize("x", [-1e4, -2.5, 1e-6, 0.3, 7.0])
def test_student_t_chain_rule_derivative_matches_mpmath_diff(nu, x):
    with mpmath.workdps(40):
        got, want = mp_impl.student_t_cdf_dnu(nu, x), mp_impl.student_t_cdf_dnu_by_diff(nu, x)
        assert abs(got - want) <= mpmath.mpf(10) ** -30 * abs(want)
