"""``from_stats``: Densities from sympy.stats random variables, checked against sympy.stats' own density.

One registry of cases drives every generic test.  The reference values (normalization,
mean, variance, fourth central moment, CDF) come from mpmath quadrature (sums) of
sympy.stats' own pdf at the case's parameter values, so a sampler that maps a parameter
wrongly (shape for scale, p for 1 - p) fails the moment test.  Where sympy.stats computes
E and variance itself, a separate test shows they agree with the quadrature, which makes
the samples agree with ``sympy.stats.E`` / ``variance`` too.

Statistical tests: z-tests of the sample mean and variance at |z| <= Z_MAX = 4.89 (two-sided
false-alarm rate 1e-6 per test; 2 tests for each of ~60 cases: about 1.2e-4 for the file),
KS tests at ALPHA = 1e-6 for the distributions without a variance; fixed seeds.  The planted
parameterization mistakes below are rejected by the same tests with |z| > 50.
"""

from __future__ import annotations

import pickle
import warnings
from dataclasses import dataclass
from functools import cache

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
import sympy.stats as ss
from scipy import stats

from symflow.core.density import Density
from symflow.errors import SymflowError
from symflow.families.sympy_stats import InversionSampler, StatsSampler, from_stats, supported_distributions
from symflow.numeric.evaluate import ExprFunction
from symflow.numeric.inversion import cdf_table

Z_MAX = 4.89  # two-sided normal quantile at 1e-6
ALPHA = 1e-6  # KS rejection level
N = 200_000  # draws per moment test
DPS = 30  # mpmath precision of the references (at 15-20 digits, x - 3/10 near Levy's edge changes sign)
QUAD_TOL = 1e-9  # quadrature against exact values: far above 10**-DPS, far below Monte Carlo noise

a, b, c, d = sp.symbols("a b c d", positive=True)
m = sp.Symbol("m", real=True)
n = sp.Symbol("n", integer=True, positive=True)
p = sp.Symbol("p", positive=True)
R = sp.Rational


@dataclass(frozen=True)
class Case:
    dist: str  # the sympy.stats constructor
    args: tuple  # its arguments (Symbols or expressions in them)
    values: tuple  # ((Symbol, exact value), ...) where the numeric tests run
    route: str = "table"  # "table": a numpy/scipy formula; "inversion": numeric inversion
    cdf: bool = True  # from_stats finds a clean closed-form CDF
    moments: str = "z"  # "z": mean/variance z-tests; "ks": no variance, a KS test against the CDF
    sympy_moments: str = "fast"  # "fast" / "slow" (over 0.3 s): sympy's E, variance agree with quadrature; else why not
    kwargs: tuple = ()
    label: str = ""
    kinks: tuple = ()  # points where the pdf has a kink (quadrature breakpoints)

    @property
    def id(self) -> str:
        return self.label or self.dist

    def rv(self):
        return getattr(ss, self.dist)("X", *self.args, **dict(self.kwargs))

    @property
    def subs(self) -> dict:
        return {s: _expr(v) for s, v in self.values}

    def numeric_rv(self):
        return getattr(ss, self.dist)("X", *(_expr(e).xreplace(self.subs) for e in self.args), **dict(self.kwargs))


def _expr(e) -> sp.Expr:
    return sp.Integer(e) if isinstance(e, int) else e


CASES = [
    Case("Normal", (m, b), ((m, R(3, 10)), (b, R(6, 5))), sympy_moments="slow"),
    Case("Exponential", (a,), ((a, R(3, 2)),), sympy_moments="slow"),
    Case("Gamma", (a, b), ((a, R(5, 2)), (b, R(7, 10))), sympy_moments="slow"),
    Case("Erlang", (n, a), ((n, 3), (a, R(3, 2)))),
    Case("Beta", (a, b), ((a, 2), (b, 5))),
    Case("StudentT", (a,), ((a, 9),), sympy_moments="sympy raises NotImplementedError (no MGF)"),
    Case("VonMises", (m, a), ((m, R(1, 2)), (a, 2)), cdf=False, sympy_moments="sympy's E took 428 s"),
    Case("Weibull", (a, b), ((a, R(3, 2)), (b, R(5, 2))), sympy_moments="slow"),
    Case("LogNormal", (m, b), ((m, R(1, 5)), (b, R(1, 2))), sympy_moments="sympy raises NotImplementedError"),
    Case("ChiSquared", (a,), ((a, 3),)),
    Case("Kumaraswamy", (a, b), ((a, 2), (b, 3)), sympy_moments="sympy's support (0, oo) makes its E infinite"),
    Case("Laplace", (m, b), ((m, R(3, 10)), (b, R(6, 5))), kinks=(m,), sympy_moments="slow"),
    Case("Logistic", (m, b), ((m, R(3, 10)), (b, R(6, 5))), sympy_moments="slow"),
    Case("Cauchy", (m, b), ((m, R(3, 10)), (b, R(6, 5))), moments="ks", sympy_moments="no mean"),
    Case("Uniform", (m, m + b), ((m, R(-1)), (b, 3)), sympy_moments="slow"),
    Case("Pareto", (a, b), ((a, R(3, 2)), (b, 9)), sympy_moments="slow"),
    Case("Rayleigh", (a,), ((a, R(6, 5)),), sympy_moments="slow"),
    Case("Maxwell", (a,), ((a, R(6, 5)),), sympy_moments="slow"),
    Case("Gumbel", (b, m), ((b, R(6, 5)), (m, R(3, 10))), sympy_moments="slow"),
    Case(
        "Gumbel",
        (b, m),
        ((b, R(6, 5)), (m, R(3, 10))),
        kwargs=(("minimum", True),),
        label="Gumbel(minimum)",
        sympy_moments="slow",
    ),
    Case("Frechet", (a, b, m), ((a, 9), (b, R(3, 2)), (m, R(1, 2))), sympy_moments="sympy's E ran > 25 s"),
    Case("GammaInverse", (a, b), ((a, 7), (b, 2)), sympy_moments="sympy raises NotImplementedError"),
    Case("Chi", (a,), ((a, 3),), sympy_moments="slow"),
    Case("Levy", (m, b), ((m, R(3, 10)), (b, R(6, 5))), moments="ks", sympy_moments="no mean"),
    Case("Nakagami", (a, b), ((a, 2), (b, R(3, 2))), sympy_moments="slow"),
    Case("BetaPrime", (a, b), ((a, 2), (b, 9)), sympy_moments="slow"),
    Case("FDistribution", (a, b), ((a, 5), (b, 12)), sympy_moments="sympy raises NotImplementedError"),
    Case("FisherZ", (a, b), ((a, 5), (b, 12)), cdf=False, sympy_moments="not computed by sympy"),
    Case(
        "Triangular", (m, m + a + b, m + a), ((m, -1), (a, R(3, 2)), (b, R(3, 2))), sympy_moments="slow", kinks=(m + a,)
    ),
    Case("Arcsin", (m, m + b), ((m, -1), (b, 3)), sympy_moments="slow"),
    Case("Dagum", (a, b, c), ((a, 2), (b, 5), (c, R(3, 2))), sympy_moments="sympy's E ran > 25 s"),
    Case("GaussianInverse", (a, b), ((a, R(3, 2)), (b, 2)), sympy_moments="slow"),
    Case("ExGaussian", (m, b, a), ((m, R(3, 10)), (b, R(6, 5)), (a, 2)), sympy_moments="slow"),
    Case("Gompertz", (a, b), ((a, R(3, 2)), (b, R(1, 2))), sympy_moments="sympy's E has the wrong sign"),
    Case("ShiftedGompertz", (a, b), ((a, R(3, 2)), (b, R(1, 2))), sympy_moments="sympy's E ran > 25 s"),
    Case("LogLogistic", (a, b), ((a, R(3, 2)), (b, 9)), sympy_moments="sympy's variance equals its mean"),
    Case("WignerSemicircle", (a,), ((a, R(3, 2)),), sympy_moments="slow"),
    Case("LogitNormal", (m, b), ((m, R(3, 10)), (b, R(6, 5))), sympy_moments="sympy's E ran > 25 s"),
    Case("Lomax", (a, b), ((a, 9), (b, R(3, 2))), sympy_moments="slow"),
    Case("PowerFunction", (a, m, m + b), ((a, R(5, 2)), (m, -1), (b, 3)), sympy_moments="slow"),
    Case("Moyal", (m, b), ((m, R(3, 10)), (b, R(6, 5))), sympy_moments="slow"),
    Case("Benini", (a, b, c), ((a, 2), (b, 3), (c, R(3, 2))), sympy_moments="sympy raises NotImplementedError"),
    Case("QuadraticU", (m, m + b), ((m, -1), (b, 3)), sympy_moments="sympy's E is wrong, its variance negative"),
    Case("Reciprocal", (a, a + b), ((a, 1), (b, 2)), sympy_moments="slow"),
    Case("BoundedPareto", (a, b, b + c), ((a, R(3, 2)), (b, 1), (c, 3)), sympy_moments="slow"),
    Case("ExponentialPower", (m, a, b), ((m, R(3, 10)), (a, R(6, 5)), (b, 3)), sympy_moments="slow"),
    Case("ChiNoncentral", (a, b), ((a, 3), (b, R(3, 2))), cdf=False, sympy_moments="slow"),
    Case("RaisedCosine", (m, b), ((m, R(3, 10)), (b, R(6, 5))), route="inversion", sympy_moments="slow"),
    Case(
        "Trapezoidal",
        (m, m + a, m + a + b, m + a + b + c),
        ((m, -1), (a, 1), (b, 1), (c, 1)),
        route="inversion",
        cdf=False,
        kinks=(m + a, m + a + b),
        sympy_moments="slow",
    ),
    Case(
        "Davis",
        (a, b, m),
        ((a, 2), (b, 7), (m, R(1, 2))),
        route="inversion",
        cdf=False,
        sympy_moments="sympy's support (0, oo) is wrong",
    ),
    # discrete
    Case("Poisson", (a,), ((a, R(7, 2)),)),
    Case("Geometric", (p,), ((p, R(3, 10)),), sympy_moments="slow"),
    Case("NegativeBinomial", (a, p), ((a, R(5, 2)), (p, R(3, 10))), sympy_moments="slow"),
    Case("Binomial", (n, p), ((n, 7), (p, R(3, 10)))),
    Case("Bernoulli", (p,), ((p, R(3, 10)),)),
    Case("BetaBinomial", (n, a, b), ((n, 7), (a, 2), (b, 3)), cdf=False),
    Case("Hypergeometric", (n, a, b), ((n, 20), (a, 7), (b, 12)), cdf=False),
    Case("Logarithmic", (p,), ((p, R(3, 5)),), sympy_moments="slow"),
    Case("Zeta", (a,), ((a, R(13, 2)),), sympy_moments="slow"),
    Case("YuleSimon", (a,), ((a, R(11, 2)),), sympy_moments="slow"),
    Case("FlorySchulz", (p,), ((p, R(3, 10)),), sympy_moments="slow"),
    Case("Skellam", (a, b), ((a, R(3, 2)), (b, R(5, 2))), cdf=False, sympy_moments="slow"),
    Case("Die", (n,), ((n, 6),)),
]
IDS = [case.id for case in CASES]
DISCRETE = {
    "Poisson",
    "Geometric",
    "NegativeBinomial",
    "Binomial",
    "Bernoulli",
    "BetaBinomial",
    "Hypergeometric",
    "Logarithmic",
    "Zeta",
    "YuleSimon",
    "FlorySchulz",
    "Skellam",
    "Die",
}


@cache
def density(case: Case) -> Density:
    return from_stats(case.rv())


def floats(case: Case) -> dict:
    return {s: float(v) for s, v in case.values}


@dataclass(frozen=True)
class Reference:
    total: mp.mpf  # the pdf's integral (sum) by mpmath
    cdf: dict  # {x: F(x)} at the probes, by the same integrals (partial sums)
    mean: float  # moments by QUADPACK (float64 sums when discrete): the z-tests need 1e-6
    var: float
    mu4: float


def _edges(case: Case) -> tuple[sp.Expr, sp.Expr]:
    s = density(case).support_sets[0]
    return s.inf.xreplace(case.subs), s.sup.xreplace(case.subs)


def _discrete_terms(expr, x, f_mp, lo: sp.Expr, hi: sp.Expr) -> tuple[np.ndarray, list]:
    """(k, pmf(k)) over a finite support (exactly, by evalf: mpmath's binomial has poles there), or out
    from lo (from 0 both ways for Skellam) until the terms fall below 1e-18 (tails below 1e-15 beyond)."""
    if lo.is_finite and hi.is_finite:
        ks = np.arange(int(lo), int(hi) + 1)
        return ks, [mp.mpf(str(sp.N(expr.xreplace({x: int(k)}), DPS))) for k in ks]
    start = int(lo) if lo.is_finite else 0
    ks, ws = [start], [f_mp(start)]
    for step in (1, -1):
        k = start + step
        while (step == 1 or not lo.is_finite) and len(ks) < 20_000:
            w = f_mp(k)
            ks.append(k), ws.append(w)
            if w * max(1, abs(k)) ** 2 < 1e-18 and abs(k - start) > 20:  # the variance's tail is left out too
                break
            k += step
    order = np.argsort(ks)
    return np.array(ks)[order], [ws[i] for i in order]


@cache
def reference(case: Case) -> Reference:
    """Integral, CDF and moments of sympy.stats' own pdf at the case's values (see the module docstring)."""
    dens = density(case)
    x = dens.x[0]
    expr = dens.expr.xreplace(case.subs)
    # constants such as zeta(13/2) evaluated once, not per term
    f_mp = sp.lambdify(x, sp.N(expr, DPS) if case.dist in DISCRETE else expr, "mpmath")
    lo, hi = _edges(case)
    with mp.workdps(DPS):
        if case.dist in DISCRETE:
            ks, weights = _discrete_terms(expr, x, f_mp, lo, hi)
            cum = np.cumsum([float(w) for w in weights])
            inner = np.random.default_rng(len(case.id)).uniform(0.05, 0.95, 3)  # random probes, fixed seed
            probes = sorted({float(k) for k in ks[np.searchsorted(cum, inner)]})
            total = mp.fsum(weights)
            cdf = {v: mp.fsum(weights[: int(v) - int(ks[0]) + 1]) for v in probes}
            w = np.array([float(v) for v in weights])
            moments = [float(np.sum(w * ks.astype(float) ** j)) for j in range(5)]
        else:
            # finite bounds from the numeric CDF table where the support is infinite: mpmath's tanh-sinh on an
            # infinite range does not return for double-exponential tails (docs/ENGINEERING-NOTES)
            table = cdf_table(ExprFunction(expr, x), float(lo), float(hi))
            inner = sorted(np.random.default_rng(len(case.id)).uniform(0.05, 0.95, 3))  # random probes, fixed seed
            qs = np.interp([1e-16, *inner, 1 - 1e-15], table.fs, table.xs)
            left = mp.mpf(str(sp.N(lo, DPS))) if lo.is_finite else mp.mpf(qs[0])
            right = mp.mpf(str(sp.N(hi, DPS))) if hi.is_finite else mp.mpf(qs[-1])
            probes = [float(v) for v in qs[1:4]]
            kinks = {float(sp.N(k.xreplace(case.subs))) for k in case.kinks}
            pts = sorted({left, right, *(mp.mpf(v) for v in kinks | set(probes) if left < v < right)})
            pieces = [mp.quad(f_mp, [u, v]) for u, v in zip(pts[:-1], pts[1:], strict=True)]
            total = mp.fsum(pieces)
            cdf = {v: mp.fsum(pieces[: pts.index(mp.mpf(v))]) for v in probes}
            moments = _quadpack_moments(ExprFunction(expr, x), [float(v) for v in pts], table)
            if moments is None:  # QUADPACK gave up (Arcsin's poles at both edges): mpmath on the same pieces
                moments = [
                    float(
                        mp.fsum(
                            mp.quad(lambda t, j=j: t**j * f_mp(t), [u, v])
                            for u, v in zip(pts[:-1], pts[1:], strict=True)
                        )
                    )
                    for j in range(5)
                ]
        for v in probes[:2]:  # lambdify(..., "mpmath") maps some functions wrongly: check against evalf
            want = mp.mpf(str(sp.N(expr.xreplace({x: sp.Rational(v)}), DPS)))
            assert abs(f_mp(v) - want) <= QUAD_TOL * max(1, abs(want))
    m0, m1, m2, m3, m4 = moments
    mean = m1 / m0
    var = m2 / m0 - mean**2
    mu4 = m4 / m0 - 4 * mean * m3 / m0 + 6 * mean**2 * m2 / m0 - 3 * mean**4
    return Reference(total, cdf, mean, var, mu4)


def _quadpack_moments(f, pts: list[float], table) -> list[float]:
    """Raw moments 0..4 by scipy's quad between breakpoints at the quantiles 1e-12 ... 1 - 1e-12 (None if it warns)."""
    from scipy.integrate import IntegrationWarning, quad

    more = np.interp(
        [1e-12, 1e-9, 1e-6, 1e-3, 0.05, 0.35, 0.65, 0.95, 1 - 1e-3, 1 - 1e-6, 1 - 1e-9, 1 - 1e-12], table.fs, table.xs
    )
    grid = sorted({*pts, *(v for v in more if pts[0] < v < pts[-1])})

    def integrand(t, j):
        v = float(f(np.array([t]))[0])
        return t**j * v if np.isfinite(v) else 0.0  # inf only where t rounds onto a singular edge

    def piece(j, u, v):
        return quad(integrand, u, v, args=(j,), epsabs=0, epsrel=1e-12, limit=200)[0]

    with warnings.catch_warnings():
        warnings.simplefilter("error", IntegrationWarning)
        try:
            return [sum(piece(j, u, v) for u, v in zip(grid[:-1], grid[1:], strict=True)) for j in range(5)]
        except IntegrationWarning:
            return None


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_builds(case):
    dens = density(case)
    assert isinstance(dens, Density)
    assert dens.name == type(case.rv().pspace.distribution).__name__.removesuffix("Distribution")  # Erlang: Gamma
    assert dens.is_discrete == (case.dist in DISCRETE)
    free = list(dict.fromkeys(s for e in case.args for s in sp.preorder_traversal(_expr(e)) if s.is_Symbol))
    assert list(dens.params) == free
    sampler_type = StatsSampler if case.route == "table" else InversionSampler
    assert isinstance(dens.sampler, sampler_type)
    assert (dens.cdf is not None) == case.cdf


def test_every_table_entry_has_a_case():
    assert set(supported_distributions()) <= {case.dist for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_pdf_integrates_to_one(case):
    assert abs(reference(case).total - 1) < QUAD_TOL


@pytest.mark.parametrize("case", [c for c in CASES if c.cdf], ids=lambda c: c.id)
def test_cdf_is_nan_free_and_matches_the_integral(case):
    dens = density(case)
    assert not dens.cdf.has(sp.nan, sp.zoo, sp.Integral, sp.Sum)
    x = dens.x[0]
    for v, want in reference(case).cdf.items():
        got = sp.N(dens.cdf.xreplace({**case.subs, x: sp.Rational(v)}), DPS)
        with mp.workdps(DPS):
            assert abs(mp.mpf(str(got)) - want) < QUAD_TOL, (v, got, want)


def moment_z(samples: np.ndarray, ref: Reference) -> tuple[float, float]:
    """z of the sample mean and of the sample variance against the reference moments."""
    mean, var, mu4 = ref.mean, ref.var, ref.mu4
    k = samples.size
    z_mean = (samples.mean() - mean) / np.sqrt(var / k)
    z_var = (samples.var(ddof=1) - var) / np.sqrt((mu4 - var**2) / k)
    return float(z_mean), float(z_var)


@pytest.mark.parametrize("case", [c for c in CASES if c.moments == "z"], ids=lambda c: c.id)
def test_sample_mean_and_variance(case):
    dens = density(case)
    draws = dens.sample(N, floats(case), rng=20240611).ravel()
    assert draws.shape == (N,) and np.isfinite(draws).all()
    z_mean, z_var = moment_z(draws, reference(case))
    assert abs(z_mean) < Z_MAX and abs(z_var) < Z_MAX, (z_mean, z_var)


@pytest.mark.parametrize("case", [c for c in CASES if c.moments == "ks"], ids=lambda c: c.id)
def test_sample_ks_without_variance(case):
    dens = density(case)
    draws = dens.sample(20_000, floats(case), rng=20240611).ravel()
    x = dens.x[0]
    cdf = ExprFunction(dens.cdf, x, dens.params, tuple(floats(case)[s] for s in dens.params))
    assert stats.kstest(draws, cdf).pvalue > ALPHA


def _sympy_cases(speed):
    return [c for c in CASES if c.sympy_moments == speed]


def _check_sympy_moments(case):
    X, ref = case.numeric_rv(), reference(case)
    with mp.workdps(DPS):
        assert abs(float(sp.N(ss.E(X), DPS)) - ref.mean) < QUAD_TOL * max(1, abs(ref.mean))
        assert abs(float(sp.N(ss.variance(X), DPS)) - ref.var) < QUAD_TOL * max(1, ref.var)


@pytest.mark.parametrize("case", _sympy_cases("fast"), ids=lambda c: c.id)
def test_sympy_moments_agree_with_quadrature(case):
    _check_sympy_moments(case)


@pytest.mark.slow
@pytest.mark.parametrize("case", _sympy_cases("slow"), ids=lambda c: c.id)
def test_sympy_moments_agree_with_quadrature_slow(case):
    _check_sympy_moments(case)


@pytest.mark.slow
@pytest.mark.parametrize("dist", ["Gompertz", "LogLogistic", "QuadraticU"])
def test_the_sympy_moment_bugs_named_above_are_real(dist):
    """sympy.stats 1.14 gets these moments wrong (the reasons given on the cases): they disagree with quadrature."""
    case = next(c for c in CASES if c.dist == dist)
    X, ref = case.numeric_rv(), reference(case)
    got = (float(sp.N(ss.E(X), DPS)), float(sp.N(ss.variance(X), DPS)))
    assert max(abs(got[0] - ref.mean), abs(got[1] - ref.var)) > 0.1


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_pickle_round_trip(case):
    dens = density(case)
    back = pickle.loads(pickle.dumps(dens))
    assert back == dens and back.cdf == dens.cdf and back.constraints == dens.constraints
    again = back.sample(50, floats(case), rng=5)
    np.testing.assert_array_equal(again, dens.sample(50, floats(case), rng=5))


# -- planted mistakes: the moment test catches a parameter mapped wrongly ---------------------


def _negative_binomial_with_1_minus_p(k, params, rng):
    return rng.negative_binomial(params[a], 1 - params[p], k).reshape(-1, 1).astype(float)


def _weibull_shape_for_scale(k, params, rng):
    return (params[b] * rng.weibull(params[a], k)).reshape(-1, 1)


@pytest.mark.parametrize(
    ("dist", "wrong"), [("NegativeBinomial", _negative_binomial_with_1_minus_p), ("Weibull", _weibull_shape_for_scale)]
)
def test_wrong_parameterization_is_caught(dist, wrong):
    case = next(c for c in CASES if c.dist == dist)
    draws = density(case).with_(sampler=wrong).sample(N, floats(case), rng=1).ravel()
    assert max(map(abs, moment_z(draws, reference(case)))) > 50


# -- refusals ----------------------------------------------------------------------------


def test_refuses_what_is_not_a_random_variable():
    X = ss.Normal("X", m, b)
    x = sp.Symbol("x", real=True)
    for bad, words in [
        (ss.density(X), "pass X itself"),
        (ss.density(X)(x), "not a sympy.stats random variable"),
        (2 * X + 1, "expression of random variables"),
        ("Normal(0, 1)", "never parses strings"),
        (ss.MultivariateNormal("M", [0, 0], [[1, 0], [0, 1]]), "single 1-D distribution"),
    ]:
        with pytest.raises(SymflowError, match=words):
            from_stats(bad)


def test_density_refuses_sympy_stats_objects_and_points_to_from_stats():
    # Density(density(X), ...) used to be accepted and fail later with an AttributeError
    X = ss.Normal("X", m, b)
    x = sp.Symbol("x", real=True)
    for bad, words in [
        (ss.density(X), "sympy.stats distribution"),
        (ss.density(ss.Poisson("N", b)), "sympy.stats distribution"),
        (X, "random variable X"),
        (ss.density(X)(x) * sp.exp(-(X**2)), "random variable X"),
        (ss.cdf(X), "Lambda"),
    ]:
        with pytest.raises(SymflowError, match=words) as info:
            Density(bad, x, (m, b))
        assert "sf.from_stats" in str(info.value)
    # the working glue still works: density(X)(x) is an expression in x
    assert Density(ss.density(X)(x), x, (m, b)).params == (m, b)


def test_params_order_and_its_refusal():
    assert from_stats(ss.Normal("X", m, b), params=(b, m)).params == (b, m)
    with pytest.raises(SymflowError, match="must list each parameter"):
        from_stats(ss.Normal("X", m, b), params=(m,))


def test_refuses_what_it_cannot_sample_and_takes_a_sampler():
    with pytest.raises(SymflowError, match="cannot be evaluated numerically"):
        from_stats(ss.UniformSum("X", n))  # its pdf is an unevaluated Sum
    with pytest.raises(SymflowError, match="numeric inversion fails"):
        from_stats(ss.LogCauchy("X", m, b))  # too heavy a tail for float64
    with pytest.raises(SymflowError, match="succ=1, fail=0"):
        from_stats(ss.Binomial("X", 3, p, succ=2, fail=-1))
    given = from_stats(ss.UniformSum("X", n), sampler=_uniform_sum)
    assert given.sample(3, {n: 4.0}, rng=0).shape == (3, 1)


def _uniform_sum(k, params, rng):
    return rng.random((k, int(params[n]))).sum(axis=1, keepdims=True)


def test_plain_symbols_get_constraints():
    lo, hi, s = sp.symbols("lo hi s")  # no assumptions: the Density carries what sympy.stats checks
    assert from_stats(ss.Uniform("X", lo, hi)).constraints == (lo < hi,)
    assert from_stats(ss.Normal("X", lo, s)).constraints == (s > 0,)
    with pytest.raises(SymflowError, match="violates the constraint"):
        from_stats(ss.Normal("X", lo, s)).sample(3, {lo: 0.0, s: -1.0}, rng=0)
