"""Exact Gaussian expectations (symflow.calculus.gaussian).

Planted truths: textbook moments, moment generating functions, Gaussian
integrals of exp(-k x^2) and characteristic functions, compared exactly; the
score-function identity E[phi d log p] = d E[phi] as an exact identity in both
forms of mvn; mpmath quadrature at random parameter values in 1-D and 2-D;
brute-force Isserlis (every partial pairing, exact rationals) and a Monte
Carlo test with a stated false-alarm rate at d = 8; and the refusals: None,
never a guess, for everything outside the class.
"""

from __future__ import annotations

import doctest
import functools
import random
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations_with_replacement

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

import symflow.calculus.gaussian as ge_module
from symflow.calculus.gaussian import (
    gaussian_expectation,
    gaussian_expectation_gradient,
    gaussian_expectation_how,
    gaussian_parameters,
)
from symflow.core.density import Density
from symflow.errors import EstimatorError
from symflow.families.multivariate import mvn
from symflow.families.univariate import exponential, laplace, normal, student_t
from symflow.structured.atoms import Entries, PrecVec, QuadForm

t = sp.Symbol("t", real=True)
k = sp.Symbol("k", positive=True)
kr = sp.Symbol("k_r", real=True)  # real, sign unknown
k1, k2 = sp.symbols("k_1 k_2", real=True)
X1, X2 = sp.symbols("x_1 x_2", real=True)


def _std_normal_at_one() -> Density:
    """N(1, 1) with no parameters (the exp(-k x^2) truth of the brief)."""
    x = sp.Symbol("x", real=True)
    return Density(sp.exp(-((x - 1) ** 2) / 2) / sp.sqrt(2 * sp.pi), [x], [], name="N(1,1)")


def _std_normal_2d() -> Density:
    return Density(sp.exp(-(X1**2 + X2**2) / 2) / (2 * sp.pi), [X1, X2], [], name="N(0,I2)")


A, B, C = sp.symbols("a b c", positive=True)
M1, M2 = sp.symbols("m_1 m_2", real=True)
S, T = sp.symbols("s t_2", positive=True)


def _precision_bivariate() -> Density:
    """exp(-(x-m)^T Lambda (x-m)/2) expanded, Lambda = [[a+c, -c], [-c, b+c]]: only the quadratic reading applies."""
    lam = sp.Matrix([[A + C, -C], [-C, B + C]])
    z = sp.Matrix([X1 - M1, X2 - M2])
    quad = sp.expand((z.T * lam * z)[0])
    return Density(
        sp.exp(-quad / 2) * sp.sqrt(A * B + A * C + B * C) / (2 * sp.pi), [X1, X2], [M1, M2, A, B, C], name="prec2"
    )


def _random_walk() -> Density:
    """x1 ~ N(m, s^2), x2 | x1 ~ N(x1, t^2): a triangular sum of squares not written by mvn."""
    expr = sp.exp(-((X1 - M1) ** 2) / (2 * S**2) - (X2 - X1) ** 2 / (2 * T**2)) / (2 * sp.pi * S * T)
    return Density(expr, [X1, X2], [M1, S, T], name="walk")


def _unnormalized() -> Density:
    x = sp.Symbol("x", real=True)
    return Density(sp.exp(-(x**2) / 2), [x], [], name="exp(-x^2/2)")


def _cov(p: Density) -> sp.Matrix:
    """Sigma = L L^T from mvn's parameter order (test-side, independent of the module)."""
    d = p.dim
    lower = sp.zeros(d, d)
    it = iter(p.params[d:])
    for i in range(d):
        for j in range(i + 1):
            lower[i, j] = next(it)
    return lower * lower.T


def _mvn_x1sq_x2sq(p: Density) -> sp.Expr:
    """Isserlis with a mean: S11 S22 + 2 S12^2 + m1^2 S22 + m2^2 S11 + 4 m1 m2 S12 + m1^2 m2^2."""
    s, (m1, m2) = _cov(p), p.params[:2]
    central = s[0, 0] * s[1, 1] + 2 * s[0, 1] ** 2
    return central + m1**2 * s[1, 1] + m2**2 * s[0, 0] + 4 * m1 * m2 * s[0, 1] + (m1 * m2) ** 2


def _mvn_charfn(p: Density) -> sp.Expr:
    s, mu, kv = _cov(p), sp.Matrix(p.params[:2]), sp.Matrix([k1, k2])
    return sp.exp(-(kv.T * s * kv)[0] / 2) * sp.cos((kv.T * mu)[0])


def _mvn_mgf(p: Density) -> sp.Expr:
    s, mu, kv = _cov(p), sp.Matrix(p.params[:2]), sp.Matrix([k1, k2])
    return sp.exp((kv.T * mu)[0] + (kv.T * s * kv)[0] / 2)


def _x2_exp_kx2(p: Density) -> sp.Expr:
    """E[x^2 e^{-k x^2}] under N(mu, sigma^2), by completing the square by hand."""
    mu, sigma = p.params
    r = 1 + 2 * k * sigma**2
    return sp.exp(-k * mu**2 / r) / sp.sqrt(r) * ((mu / r) ** 2 + sigma**2 / r)


@dataclass(frozen=True)
class Case:
    """A planted truth: E_p[f] = want, and which cross-checks the case supports."""

    name: str
    density: Callable[[], Density]
    f: Callable[[Density], sp.Expr]
    want: Callable[[Density], sp.Expr]
    quadrature: bool = True  # 1-D cases: compared with mpmath quadrature at random parameters


def _x(p: Density) -> sp.Symbol:
    return p.x[0]


# Planted truths for N(mu, sigma^2), written by hand (mu, sigma = p.params).
def _x4(p: Density) -> sp.Expr:
    mu, sigma = p.params
    return mu**4 + 6 * mu**2 * sigma**2 + 3 * sigma**4


def _mgf(p: Density) -> sp.Expr:
    mu, sigma = p.params
    return sp.exp(mu * t + sigma**2 * t**2 / 2)


def _x_mgf(p: Density) -> sp.Expr:
    """E[x e^{tx}] = d/dt E[e^{tx}]."""
    mu, sigma = p.params
    return (mu + sigma**2 * t) * _mgf(p)


def _charfn(p: Density, part: Callable) -> sp.Expr:
    mu, sigma = p.params
    return sp.exp(-(kr**2) * sigma**2 / 2) * part(kr * mu)


def _x2_sin(p: Density) -> sp.Expr:
    """E[x^2 sin(3x + 1)] = Im e^{i} E[x^2 e^{3ix}], the mean shifted to mu + 3i sigma^2 (completing the square)."""
    mu, sigma = p.params
    a, b = 3 * mu + 1, mu**2 - 9 * sigma**4 + sigma**2  # phase; real part of (mu + 3 i sigma^2)^2 + sigma^2
    c = 6 * mu * sigma**2  # its imaginary part
    return sp.exp(-9 * sigma**2 / 2) * (b * sp.sin(a) + c * sp.cos(a))


def _cosh_x2(p: Density) -> sp.Expr:
    """E[x^2 cosh(x/3)] = (E[x^2 e^{x/3}] + E[x^2 e^{-x/3}]) / 2, each a shifted-mean second moment."""
    mu, sigma = p.params
    return sum(sp.exp(s * mu / 3 + sigma**2 / 18) * ((mu + s * sigma**2 / 3) ** 2 + sigma**2) for s in (1, -1)) / 2


CASES = [
    Case("x^4", normal, lambda p: _x(p) ** 4, _x4),
    Case("mgf", normal, lambda p: sp.exp(t * _x(p)), _mgf, False),
    Case("x mgf", normal, lambda p: _x(p) * sp.exp(t * _x(p)), _x_mgf, False),
    Case(
        "exp(-k x^2), N(1,1)",
        _std_normal_at_one,
        lambda p: sp.exp(-k * _x(p) ** 2),
        lambda p: sp.exp(-k / (1 + 2 * k)) / sp.sqrt(1 + 2 * k),
        False,
    ),
    Case("x^2 exp(-k x^2)", normal, lambda p: _x(p) ** 2 * sp.exp(-k * _x(p) ** 2), _x2_exp_kx2, False),
    Case("cos(k x)", normal, lambda p: sp.cos(kr * _x(p)), lambda p: _charfn(p, sp.cos), False),
    Case("sin(k x)", normal, lambda p: sp.sin(kr * _x(p)), lambda p: _charfn(p, sp.sin), False),
    Case("x^2 sin(3x + 1)", normal, lambda p: _x(p) ** 2 * sp.sin(3 * _x(p) + 1), _x2_sin),
    Case("cosh(x/3) x^2", normal, lambda p: sp.cosh(_x(p) / 3) * _x(p) ** 2, _cosh_x2),
    Case("unnormalized x^2", _unnormalized, lambda p: _x(p) ** 2, lambda p: sp.sqrt(2 * sp.pi)),
    Case("E[x1^2 x2^2] nested", lambda: mvn(2), lambda p: p.x[0] ** 2 * p.x[1] ** 2, _mvn_x1sq_x2sq, False),
    Case(
        "E[x1^2 x2^2] precision",
        lambda: mvn(2, form="precision"),
        lambda p: p.x[0] ** 2 * p.x[1] ** 2,
        _mvn_x1sq_x2sq,
        False,
    ),
    Case("char. function 2-D", lambda: mvn(2), lambda p: sp.cos(k1 * p.x[0] + k2 * p.x[1]), _mvn_charfn, False),
    Case(
        "mgf 2-D precision",
        lambda: mvn(2, form="precision"),
        lambda p: sp.exp(k1 * p.x[0] + k2 * p.x[1]),
        _mvn_mgf,
        False,
    ),
    Case("diag x1 x2", lambda: mvn(2, "diag"), lambda p: p.x[0] * p.x[1], lambda p: p.params[0] * p.params[1], False),
    Case(
        "x1^2 exp(-k|x|^2), N(0,I)",
        _std_normal_2d,
        lambda p: p.x[0] ** 2 * sp.exp(-k * (p.x[0] ** 2 + p.x[1] ** 2)),
        lambda p: (1 + 2 * k) ** -2,  # E[z^2 e^{-k z^2}] E[e^{-k z^2}] = (1+2k)^{-3/2} (1+2k)^{-1/2}
        False,
    ),
    Case(
        "precision written out",
        _precision_bivariate,
        lambda p: p.x[0] * p.x[1],
        lambda p: C / (A * B + A * C + B * C) + M1 * M2,  # (Lambda^{-1})_12 + m1 m2
        False,
    ),
    Case("random walk", _random_walk, lambda p: p.x[1] ** 2, lambda p: M1**2 + S**2 + T**2, False),
]


def _same(got: sp.Expr, want: sp.Expr) -> bool:
    """Exact equality: the difference expands (or simplifies) to the literal 0."""
    diff = got - want
    return sp.expand(diff) == 0 or sp.simplify(diff) == 0


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_planted_truth_exact(case: Case) -> None:
    p = case.density()
    got, how = gaussian_expectation_how(p, case.f(p), timeout=30)
    assert got is not None, how
    assert _same(got, case.want(p)), (got, case.want(p))


# -- numeric cross-checks -----------------------------------------------------------------

QUAD_DPS = 30


def _agree(a, b, dps: int) -> bool:
    """Agreement to the working precision, mpmath's ``ae`` style: 10**(-dps + 5), relative above 1."""
    a, b = mpmath.mpf(a), mpmath.mpf(b)
    return abs(a - b) <= mpmath.mpf(10) ** (-dps + 5) * max(1, abs(b))


def _quad_1d(p: Density, f: sp.Expr, values: dict) -> mpmath.mpf:
    x = p.x[0]
    mu, sigma = (float(values[s]) for s in p.params)
    with mpmath.workdps(QUAD_DPS):
        fn = sp.lambdify(x, (f * p.expr).xreplace(values), "mpmath")
        return mpmath.quad(fn, [-mpmath.inf, mu - 6 * sigma, mu, mu + 6 * sigma, mpmath.inf])


QUAD_CASES = [c for c in CASES if c.quadrature and c.density is normal]
EXTRA_1D = [
    lambda x: x**3 * sp.exp(-(x**2) / 3 + x / 2),
    lambda x: x * sp.cos(x) ** 2 - sp.sin(x / 2) * sp.cos(2 * x + 1),
    lambda x: (x**2 - 1) * sp.exp(-((x - 1) ** 2)) + 7,
]


@functools.cache
def _symbolic_1d() -> tuple[tuple[sp.Expr, sp.Expr], ...]:
    """(f, E[f]) for the 1-D cross-checks, computed once (the answer does not depend on the values)."""
    p = normal()
    fs = [c.f(p) for c in QUAD_CASES] + [g(p.x[0]) for g in EXTRA_1D]
    return tuple((f, gaussian_expectation(p, f, timeout=30)) for f in fs)


@settings(max_examples=10)
@given(
    mu=st.fractions(min_value=-2, max_value=2, max_denominator=12),
    sigma=st.fractions(min_value=Fraction(1, 4), max_value=3, max_denominator=12),
)
@pytest.mark.slow
@example(mu=Fraction(0), sigma=Fraction(1))
@example(mu=Fraction(-2), sigma=Fraction(1, 4))
def test_quadrature_1d(mu: Fraction, sigma: Fraction) -> None:
    p = normal()
    values = {p.params[0]: sp.Rational(mu.numerator, mu.denominator)}
    values[p.params[1]] = sp.Rational(sigma.numerator, sigma.denominator)
    for f, got in _symbolic_1d():
        assert got is not None, f
        with mpmath.workdps(QUAD_DPS):
            assert _agree(sp.N(got.xreplace(values), QUAD_DPS), _quad_1d(p, f, values), QUAD_DPS), f


# 2-D: float-precision Gauss-Legendre over |z| <= 9 in the standardized frame x = mu + L z (the mass
# outside is below 1e-17); tanh-sinh at this size takes 10-25 s a case.
QUAD_DPS_2D = 15


def _quad_2d(p: Density, f: sp.Expr, values: dict) -> mpmath.mpf:
    m1, m2, l11, l21, l22 = (mpmath.mpf(sp.Rational(values[s])) for s in p.params)
    # The precision form's atoms do not lambdify; its density equals the nested form's (test_gaussian_atoms).
    density = mvn(2).expr
    with mpmath.workdps(QUAD_DPS_2D):
        fn = sp.lambdify(p.x, (f * density).xreplace(values), "mpmath")
        g = lambda z1, z2: fn(m1 + l11 * z1, m2 + l21 * z1 + l22 * z2) * l11 * l22  # noqa: E731
        return mpmath.quad(g, [-9, 0, 9], [-9, 0, 9], method="gauss-legendre", maxdegree=4)


@pytest.mark.parametrize(
    ("form", "integrand", "seed"),
    [
        ("nested", lambda x1, x2: x1**2 * x2 * sp.cos(x1 - x2) + sp.exp(-(x1**2 + x2**2) / 4) * x1, 1),
        ("precision", lambda x1, x2: x1 * x2**3 * sp.exp(x1 / 2 - x2**2 / 3) - sp.sin(x1 + 2 * x2) ** 2, 2),
    ],
)
@pytest.mark.slow
def test_quadrature_2d(form: str, integrand: Callable, seed: int) -> None:
    p = mvn(2, form=form)
    rng = random.Random(seed)  # parameter values drawn once per case, reproducibly
    values = {s: sp.Rational(rng.randint(-8, 8), 5) for s in p.params[:2]}
    values.update({s: sp.Rational(rng.randint(3, 9), 5) for s in (p.params[2], p.params[4])})
    values[p.params[3]] = sp.Rational(rng.randint(-5, 5), 7)
    f = integrand(*p.x)
    got = gaussian_expectation(p, f, timeout=30)
    assert got is not None
    with mpmath.workdps(QUAD_DPS_2D):
        assert _agree(sp.N(got.xreplace(values), QUAD_DPS_2D), _quad_2d(p, f, values), QUAD_DPS_2D)


# -- d = 8: brute-force Isserlis and Monte Carlo ------------------------------------------


def _isserlis_brute(indices: list[int], mean: list[Fraction], cov: list[list[Fraction]]) -> Fraction:
    """E[prod x_i] by enumerating every partial pairing of the factors (Isserlis with a mean)."""
    if not indices:
        return Fraction(1)
    first, rest = indices[0], indices[1:]
    total = mean[first] * _isserlis_brute(rest, mean, cov)  # the first factor unpaired
    for j, other in enumerate(rest):  # or paired with a later factor
        total += cov[first][other] * _isserlis_brute(rest[:j] + rest[j + 1 :], mean, cov)
    return total


def _values_d8(p: Density, rng: random.Random) -> tuple[dict, list, list]:
    d = p.dim
    values = {s: sp.Rational(rng.randint(-9, 9), rng.randint(1, 5)) for s in p.params}
    lower = [[Fraction(0)] * d for _ in range(d)]
    it = iter(p.params[d:])
    for i in range(d):
        for j in range(i + 1):
            s = next(it)
            if i == j:
                values[s] = sp.Rational(rng.randint(1, 9), rng.randint(1, 5))
            lower[i][j] = Fraction(int(values[s].p), int(values[s].q))
    mean = [Fraction(int(values[s].p), int(values[s].q)) for s in p.params[:d]]
    cov = [[sum(lower[i][m] * lower[j][m] for m in range(d)) for j in range(d)] for i in range(d)]
    return values, mean, cov


@pytest.mark.parametrize("form", ["nested", "precision"])
def test_d8_isserlis_brute_force(form: str) -> None:
    p = mvn(8, form=form)
    rng = random.Random(8)  # fixed: the monomials and the exact rational parameter point
    monos = [c for deg in range(7) for c in combinations_with_replacement(range(8), deg)]
    chosen = rng.sample(monos, 60)
    coeffs = [rng.randint(-5, 5) or 1 for _ in chosen]
    f = sp.Add(*[c * sp.Mul(*[p.x[i] for i in m]) for c, m in zip(coeffs, chosen, strict=True)])
    got = gaussian_expectation(p, f, timeout=60)
    assert got is not None
    values, mean, cov = _values_d8(p, rng)
    want = sum(c * _isserlis_brute(list(m), mean, cov) for c, m in zip(coeffs, chosen, strict=True))
    assert got.xreplace(values) == sp.Rational(want.numerator, want.denominator)


# Two-sided z-test: |z| > 4.42 has probability 1e-5 under a correct mean (CLT; n = 4e5 draws,
# fixed seed), so a false alarm is rarer than 1 in 10^5 runs.
Z_CRIT = 4.42


def _z_score(p: Density, f: sp.Expr, value: float, params: dict, n: int = 400_000) -> float:
    xs = p.sample(n, params, np.random.default_rng(20240601))
    fn = sp.lambdify(p.x, f, "numpy")
    draws = np.asarray(fn(*xs.T), dtype=float)
    return float((draws.mean() - value) / (draws.std(ddof=1) / np.sqrt(n)))


def test_d8_monte_carlo_agrees_and_catches_a_wrong_value() -> None:
    p = mvn(8)
    x = p.x
    f = sp.Add(*[xi**2 for xi in x]) ** 2 / 10 + x[0] * x[1] * x[7] - 3 * x[7] ** 2 + x[2] * x[5]
    got = gaussian_expectation(p, f, timeout=60)
    assert got is not None
    rng = random.Random(3)
    params = {s: sp.Rational(rng.randint(-10, 10), 10) for s in p.params}
    for s in p.params[8:]:
        if s.is_positive:
            params[s] = sp.Rational(rng.randint(5, 12), 10)
    value = float(got.xreplace(params))
    floats = {s: float(v) for s, v in params.items()}
    assert abs(_z_score(p, f, value, floats)) < Z_CRIT
    # the same test catches a value off by 2% (its power against the wrong answer)
    assert abs(_z_score(p, f, value * 1.02, floats)) > Z_CRIT


# -- identities ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("form", ["nested", "precision"])
def test_score_identity_exact(form: str) -> None:
    """E[phi d log p / d theta] = d E[phi] / d theta for every parameter (the score-function identity)."""
    p = mvn(2, form=form)
    x1, x2 = p.x
    for phi in (x1**2 * x2 + x2**3, sp.exp(x1 / 3 - x2 / 2)):
        grads = gaussian_expectation_gradient(p, phi, timeout=30)
        assert grads is not None
        for theta, g in zip(p.params, grads, strict=True):
            lhs = gaussian_expectation(p, phi * p.score(theta), timeout=30)
            assert lhs is not None
            assert _same(lhs, g), theta


@pytest.mark.slow
def test_precision_atoms_joint_moments() -> None:
    """y = Sigma^{-1}(x - mu) is jointly Gaussian with x: E[y_a (x_b - mu_b)] = delta_ab, E[y y^T] = P, E[Q] = d."""
    d = 3
    p = mvn(d, form="precision")
    X, Mu, Lf = gaussian_parameters(p).atom_args
    ys = [PrecVec(a, X, Mu, Lf) for a in range(d)]
    for a in range(d):
        for b in range(d):
            got = gaussian_expectation(p, ys[a] * (p.x[b] - p.params[b]))
            assert got == (1 if a == b else 0)
    got = gaussian_expectation(p, ys[0] * ys[2])
    assert got == sp.diff(QuadForm(X, Mu, Lf), p.x[0], p.x[2]) / 2  # P_13
    assert gaussian_expectation(p, QuadForm(X, Mu, Lf)) == d


@pytest.mark.slow
def test_gradient_matches_differentiating_the_expectation() -> None:
    p = mvn(3)
    x = p.x
    for f in (sp.Add(*x) ** 4 - x[0] * x[2] ** 2, x[1] * sp.exp(x[0] / 2) + sp.cos(x[2])):
        value = gaussian_expectation(p, f, timeout=30)
        grads = gaussian_expectation_gradient(p, f, timeout=30)
        assert value is not None and grads is not None
        for theta, g in zip(p.params, grads, strict=True):
            assert sp.expand(g - sp.diff(value, theta)) == 0 or sp.simplify(g - sp.diff(value, theta)) == 0


def test_gradient_with_theta_in_f() -> None:
    """E[mu x + sigma x^2] = mu^2 + sigma (mu^2 + sigma^2): the coefficients' own derivatives count."""
    p = normal()
    mu, sigma = p.params
    got = gaussian_expectation_gradient(p, mu * p.x[0] + sigma * p.x[0] ** 2)
    assert [sp.expand(g) for g in got] == [2 * mu + 2 * mu * sigma, mu**2 + 3 * sigma**2]


# -- the Gaussian read off p ---------------------------------------------------------------


@pytest.mark.slow
def test_gaussian_parameters() -> None:
    p = normal()
    mu, sigma = p.params
    got = gaussian_parameters(p)
    assert (got.mean, got.cov, got.factor, got.normalizer) == ((mu,), ((sigma**2,),), ((sigma,),), 1)
    for form in ("nested", "precision"):
        q = mvn(3, form=form)
        got = gaussian_parameters(q)
        assert got.normalizer == 1
        assert sp.expand(sp.Matrix(got.cov) - _cov(q)) == sp.zeros(3, 3)
        assert got.mean == q.params[:3]
    got = gaussian_parameters(_precision_bivariate())
    lam = sp.Matrix([[A + C, -C], [-C, B + C]])
    assert (sp.Matrix(got.cov) - lam.inv()).applyfunc(sp.cancel) == sp.zeros(2, 2)
    assert sp.simplify(got.normalizer - 1) == 0
    assert gaussian_parameters(laplace()) is None


# -- refusals ------------------------------------------------------------------------------


def _impostor_density() -> Density:
    """A density over a class that is *named* QuadForm and means the same, but is not the atom."""

    class QuadForm(sp.Function):
        is_real = True

    x = (X1, X2)
    return Density(sp.exp(-QuadForm(Entries(*x), Entries(M1, M2), Entries(1, 0, 0, 1)) / 2) / (2 * sp.pi), x, [M1, M2])


def test_atoms_are_recognized_by_their_class_not_their_name() -> None:
    """Only symflow's own atom (whose value is its definition) is read as a Gaussian: a namesake is refused."""
    lf = Entries(1, 0, 0, 1)
    x = (X1, X2)
    real = Density(sp.exp(-QuadForm(Entries(*x), Entries(M1, M2), lf) / 2) / (2 * sp.pi), x, [M1, M2])
    assert gaussian_expectation(real, X1 * X2) == M1 * M2
    assert gaussian_expectation(_impostor_density(), X1 * X2) is None


def _correlated() -> Density:
    """The textbook bivariate normal with correlation rho (real, |rho| < 1 not declared)."""
    return Density(sp.exp(-(X1**2 - 2 * kr * X1 * X2 + X2**2) / (2 * (1 - kr**2))), [X1, X2], [kr])


def _foreign_precvec(p: Density) -> sp.Expr:
    """y_1 of N(0, I), not of p."""
    return PrecVec(0, Entries(*p.x), Entries(0, 0), Entries(1, 0, 0, 1))


# (name, density, f, the reason it is refused)
OUTSIDE = [
    ("Laplace density", laplace, lambda p: p.x[0] ** 2, "Abs"),
    ("Student t density", lambda: student_t(nu=5), lambda p: p.x[0] ** 2, "log"),
    ("support [0, oo)", exponential, lambda p: p.x[0], "support"),
    ("|x|", normal, lambda p: sp.Abs(p.x[0]), "Abs"),
    ("1/(1 + x^2)", normal, lambda p: 1 / (1 + p.x[0] ** 2), "Pow"),
    ("exp(x^3)", normal, lambda p: sp.exp(p.x[0] ** 3), "linear or quadratic"),
    ("sin(x^2)", normal, lambda p: sp.sin(p.x[0] ** 2), "linear"),
    ("exp(+k x^2): not integrable", normal, lambda p: sp.exp(k * p.x[0] ** 2), "integrable"),
    ("exp(-k x^2), sign of k unknown", normal, lambda p: sp.exp(-kr * p.x[0] ** 2), "integrable"),
    ("log(1 + x^2)", normal, lambda p: sp.log(1 + p.x[0] ** 2), "log"),
    ("Heaviside", normal, lambda p: sp.Heaviside(p.x[0]), "Heaviside"),
    ("another density's PrecVec", lambda: mvn(2, form="precision"), _foreign_precvec, "other than the density's own"),
    ("correlation, |rho| < 1 not provable", _correlated, lambda p: p.x[0], "positive definite"),
]


@pytest.mark.parametrize(("name", "density", "f", "why"), OUTSIDE, ids=[c[0] for c in OUTSIDE])
def test_outside_the_class_returns_none(name: str, density: Callable, f: Callable, why: str) -> None:
    p = density()
    value, how = gaussian_expectation_how(p, f(p), timeout=30)
    assert value is None and why in how, how
    assert gaussian_expectation_gradient(p, f(p), timeout=30) is None


def test_budget_runs_out_to_none() -> None:
    """(sum x)^40 at d = 8 has C(47, 7) = 6.3e7 monomials: the budget stops the work, and the answer is None."""
    p = mvn(8)
    value, why = gaussian_expectation_how(p, sp.Add(*p.x) ** 40, timeout=0.5)
    assert value is None and "budget" in why


def test_bad_input_is_a_symflow_error() -> None:
    p = normal()
    with pytest.raises(EstimatorError):
        gaussian_expectation(p, "x**2")
    with pytest.raises(EstimatorError):
        gaussian_expectation(sp.exp(-X1), X1)
    assert gaussian_expectation(p, 3) == 3


def test_docstring_examples_run() -> None:
    failures, _ = doctest.testmod(ge_module)
    assert failures == 0


# -- the moment route inside check_unbiased, expectation_gradient and check_normalized ---------------------


@pytest.mark.slow
@pytest.mark.parametrize("form", ["nested", "precision"])
def test_check_unbiased_proves_lr_under_mvn2_by_moments(form: str) -> None:
    import symflow as sf

    p = mvn(2, form=form)
    x1, x2 = p.x
    phi = x1**3 + x1 * x2 + x2**2
    for theta in (p.params[0], p.params[-1]):  # a mean and an entry of L
        verdict = sf.check_unbiased(sf.derive(p, sf.flows.zero(p), theta), phi, timeout=60)
        assert verdict.status is sf.Status.PROVED, verdict
        assert "Gaussian moments" in verdict.method  # both sides exact by moments, not SymPy's integrate


@pytest.mark.slow
def test_check_unbiased_refutes_a_wrong_estimator_under_mvn2() -> None:
    import symflow as sf

    p = mvn(2)
    x1, x2 = p.x
    theta = p.params[2]  # L_11
    wrong = sf.Estimator(p, theta, (sp.S.Zero, sp.S.Zero), 2 * p.score(theta), name="LR, score doubled")
    verdict = sf.check_unbiased(wrong, x1**2 + x2, timeout=60)
    assert verdict.status is sf.Status.REFUTED, verdict


def test_expectation_gradient_by_moments_is_the_planted_truth() -> None:
    import symflow as sf

    p = normal()
    (x,) = p.x
    mu, sigma = p.params
    got, how = sf.expectation_gradient(p, x**4, sigma, timeout=60)
    assert sp.expand(got - (12 * mu**2 * sigma + 12 * sigma**3)) == 0
    assert "Gaussian moments" in how
    # not a Gaussian: the moment route steps aside without a forked reading
    assert not ge_module.may_be_gaussian(laplace())
    assert not ge_module.may_be_gaussian(student_t())
    assert ge_module.may_be_gaussian(mvn(3, form="precision"))
