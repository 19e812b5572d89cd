"""Numeric inversion of a CDF (``symflow.numeric.inversion``): u-errors, KS tests, refusals, pickling.

Statistical tests: KS and chi-square at ALPHA = 1e-4 with fixed seeds, so a correct
sampler fails a given test with probability 1e-4 (about 1.2e-3 for the 12 of them);
the wrong-density tests show the same tests reject planted mistakes at that level
(their p-values are below 1e-20).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass

import numpy as np
import pytest
import sympy as sp
from scipy import stats

import symflow as sf
from symflow.errors import SymflowError
from symflow.numeric.evaluate import ExprFunction
from symflow.numeric.inversion import cdf_table, inverse_cdf_sampler, inverse_pmf_sampler

U_RESOLUTION = 1e-10  # the default target, checked against the exact CDF
CDF_TOL = 1e-11  # the mass table's CDF against the exact one
ALPHA = 1e-4  # rejection level of each KS / chi-square test = its false-alarm rate
N_KS = 20_000


# -- densities as module-level functions (samplers built on them pickle); unnormalized on purpose


def _normal(x):
    return np.exp(-x * x / 2)


def _exponential(x):
    return np.exp(-x)


def _beta_2_5(x):
    return x * (1 - x) ** 4


def _beta_2_4(x):  # the planted mistake: Beta(2, 4) typed for Beta(2, 5)
    return x * (1 - x) ** 3


def _arcsine(x):
    return 1 / np.sqrt(x * (1 - x))


def _cauchy(x):
    return 1 / (1 + x * x)


def _student_15(x):
    return (1 + x * x / 1.5) ** -1.25


def _von_mises_2(x):
    return np.exp(2 * np.cos(x))


def _bimodal(x):
    return 0.3 * stats.norm.pdf(x, -3, 0.5) + 0.7 * stats.norm.pdf(x, 4, 1)


def _bimodal_cdf(x):
    return 0.3 * stats.norm.cdf(x, -3, 0.5) + 0.7 * stats.norm.cdf(x, 4, 1)


def _far_bimodal(x):
    return 0.5 * stats.norm.pdf(x, -30, 0.5) + 0.5 * stats.norm.pdf(x, 40, 1)


def _far_bimodal_cdf(x):
    return 0.5 * stats.norm.cdf(x, -30, 0.5) + 0.5 * stats.norm.cdf(x, 40, 1)


def _truncated_exponential_cdf(x):
    return -np.expm1(-x) / -np.expm1(-2.0)


def _sqrt_pole(x):
    return np.abs(x - 0.37) ** -0.5


def _sqrt_pole_cdf(x):  # of |x - 0.37|^{-1/2} / Z on (-1, 1)
    a, b = np.sqrt(1.37), np.sqrt(0.63)
    return np.where(x < 0.37, a - np.sqrt(np.abs(0.37 - x)), a + np.sqrt(np.abs(x - 0.37))) / (a + b)


@dataclass(frozen=True)
class Case:
    name: str
    pdf: object
    lo: float
    hi: float
    cdf: object  # the exact CDF
    route: str  # "pinv" when scipy's PINV also takes the density, "table" when only our route does
    u_tol: float = U_RESOLUTION  # max |F(ppf(u)) - u| beyond the float64 floor


CASES = [
    Case("normal", _normal, -np.inf, np.inf, stats.norm.cdf, "pinv"),
    Case("exponential", _exponential, 0, np.inf, stats.expon.cdf, "pinv"),
    Case("beta(2,5)", _beta_2_5, 0, 1, stats.beta(2, 5).cdf, "pinv"),
    # PINV refuses the poles at both edges; the table's power-law edge cells take them
    Case("beta(1/2,1/2)", _arcsine, 0, 1, stats.beta(0.5, 0.5).cdf, "table"),
    Case("cauchy", _cauchy, -np.inf, np.inf, stats.cauchy.cdf, "pinv"),
    Case("student_t(1.5)", _student_15, -np.inf, np.inf, stats.t(1.5).cdf, "pinv"),
    Case("von_mises(2) on (-pi, pi)", _von_mises_2, -np.pi, np.pi, stats.vonmises(2).cdf, "pinv"),
    Case("bimodal mixture", _bimodal, -np.inf, np.inf, _bimodal_cdf, "pinv"),
    Case("truncated exponential on [0, 2]", _exponential, 0, 2, _truncated_exponential_cdf, "pinv"),
    # modes 70 apart with nothing between: PINV refuses, the table does not
    Case("far bimodal", _far_bimodal, -np.inf, np.inf, _far_bimodal_cdf, "table"),
    # 0.37 lies between two floats: the mass of the float steps around the pole (~sqrt(ulp) = 1e-8)
    # is only estimated by the quadrature, and that error shifts the whole CDF (measured 3.4e-9)
    Case("interior pole |x - 0.37|^(-1/2)", _sqrt_pole, -1, 1, _sqrt_pole_cdf, "table", u_tol=1e-8),
]
IDS = [c.name for c in CASES]
_BUILT: dict[tuple[str, str], object] = {}


def built(case: Case, method: str = "auto"):
    """One build per case and method for the whole file (a build takes 20-300 ms)."""
    key = (case.name, method)
    if key not in _BUILT:
        _BUILT[key] = inverse_cdf_sampler(case.pdf, case.lo, case.hi, method=method)
    return _BUILT[key]


def u_grid() -> np.ndarray:
    ends = 10.0 ** np.linspace(-14, -1, 131)
    return np.concatenate([ends, np.linspace(0, 1, 100_001)[1:-1], 1 - ends])


def errors_beyond_float_floor(cdf, x: np.ndarray, u: np.ndarray) -> np.ndarray:
    """|F(x) - u| less the probability of the float64 step next to x (which no float64 x can avoid)."""
    with np.errstate(all="ignore"):
        f = cdf(x)
        step = np.maximum(cdf(np.nextafter(x, np.inf)) - f, f - cdf(np.nextafter(x, -np.inf)))
    return np.abs(f - u) - np.nan_to_num(step)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_u_error_against_the_exact_cdf(case):
    s = built(case)
    assert s.method == "table"  # "auto" builds the table route first and keeps it when it meets the tolerance
    u = u_grid()
    worst = float(np.max(errors_beyond_float_floor(case.cdf, s.ppf(u), u)))
    assert worst <= case.u_tol, f"{case.name}: max |F(ppf(u)) - u| = {worst:.3g}"
    assert s.u_error <= U_RESOLUTION  # what the build measured against its own table


@pytest.mark.parametrize("case", [c for c in CASES if c.route == "pinv"], ids=lambda c: c.name)
def test_pinv_route_alone(case):
    """scipy's PINV, asked for, reaches the tolerance on the densities it takes."""
    s = built(case, "pinv")
    assert s.method == "pinv"
    u = u_grid()[::7]
    assert float(np.max(errors_beyond_float_floor(case.cdf, s.ppf(u), u))) <= U_RESOLUTION


@pytest.mark.parametrize("case", [c for c in CASES if c.route == "table"], ids=lambda c: c.name)
def test_pinv_refuses_or_misses_what_only_the_table_takes(case):
    with pytest.raises(sf.SymflowError, match="PINV refused|pinv reached u-error"):
        inverse_cdf_sampler(case.pdf, case.lo, case.hi, method="pinv")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_mass_table_cdf(case):
    s = built(case)
    x = s.ppf(np.linspace(0.001, 0.999, 999))
    assert np.max(np.abs(s.cdf(x) - case.cdf(x))) <= max(CDF_TOL, case.u_tol - U_RESOLUTION)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_ks(case):
    x = built(case).sample(N_KS, np.random.default_rng(20240611))
    assert x.shape == (N_KS,)
    assert stats.kstest(x, case.cdf).pvalue > ALPHA


def test_wrong_density_is_caught():
    """The KS test of ``test_ks`` rejects samples of a neighbouring density."""
    rng = np.random.default_rng(7)
    typo = inverse_cdf_sampler(_beta_2_4, 0, 1).sample(N_KS, rng)
    assert stats.kstest(typo, stats.beta(2, 5).cdf).pvalue < ALPHA
    heavier = built(CASES[5]).sample(N_KS, rng)  # Student-t(1.5) tested as Cauchy
    assert stats.kstest(heavier, stats.cauchy.cdf).pvalue < ALPHA
    untruncated = built(CASES[1]).sample(N_KS, rng)  # Exp(1) tested as Exp(1) truncated to [0, 2]
    assert stats.kstest(untruncated, _truncated_exponential_cdf).pvalue < ALPHA


def test_pickle_round_trip_gives_the_same_draws():
    for case in (CASES[0], CASES[3]):  # one PINV (rebuilt after unpickling), one table
        s = built(case)
        back = pickle.loads(pickle.dumps(s))
        assert back.method == s.method
        again = back.sample(1000, np.random.default_rng(1))
        np.testing.assert_array_equal(again, s.sample(1000, np.random.default_rng(1)))


def test_center_given_or_found():
    narrow = ExprFunction(sp.exp(-((sp.Symbol("x") - sp.Rational(37, 10)) ** 2) * 500_000), sp.Symbol("x"))
    s = inverse_cdf_sampler(narrow, -np.inf, np.inf)  # sigma = 1e-3 at 3.7: the probe still sees it
    assert abs(s.ppf(np.array([0.5]))[0] - 3.7) < 1e-9
    s = inverse_cdf_sampler(_normal, -np.inf, np.inf, center=0.0, method="table")
    assert abs(s.ppf(np.array([0.975]))[0] - stats.norm.ppf(0.975)) < 1e-8


def _reciprocal(x):
    return 1 / x


def _heavy_reciprocal(x):
    return 1 / (1 + np.abs(x))


def _sine(x):
    return np.sin(x)


def _zero(x):
    return 0 * x


def _nan_inside(x):
    return np.where(np.abs(x - 0.5) < 0.1, np.nan, 1.0)


def _pole(x):
    return 1 / np.abs(x)


@pytest.mark.parametrize(
    ("pdf", "lo", "hi", "words"),
    [
        (_reciprocal, 0, 1, "not integrable"),
        (_heavy_reciprocal, -np.inf, np.inf, "not integrable"),
        (_pole, -1, 1, "not be integrable"),
        (_sine, 0, 6, "negative at x"),
        (_zero, 0, 1, "give center="),
        (_nan_inside, 0, 1, "nan at x"),
        (_normal, 1, 1, "give lo < hi"),
    ],
)
def test_refusals_name_the_problem_and_the_fix(pdf, lo, hi, words):
    with pytest.raises(SymflowError, match=words) as info:
        inverse_cdf_sampler(pdf, lo, hi)
    assert "give" in str(info.value)


def test_tail_overflow_is_cut_not_refused():
    """Gompertz: exp(b e^{ax}) overflows (inf * 0 = nan) far beyond the mass; the support is cut there."""
    x = sp.Symbol("x")
    pdf = ExprFunction(sp.Rational(3, 4) * sp.exp(sp.Rational(1, 2)) * sp.exp(3 * x / 2 - sp.exp(3 * x / 2) / 2), x)
    s = inverse_cdf_sampler(pdf, 0, np.inf)
    u = np.linspace(0.01, 0.99, 99)
    exact = np.log1p(-np.log1p(-u) / 0.5) / 1.5  # F = 1 - exp(-eta (e^{bx} - 1)) inverted
    assert np.max(np.abs(s.ppf(u) - exact)) < 1e-8


def test_cdf_table_alone():
    t = cdf_table(_exponential, 0, np.inf)
    assert abs(t.z - 1) < 1e-13 and abs(t.cdf(np.array([1.0]))[0] - stats.expon.cdf(1.0)) < 1e-13


def test_expr_function_pickles_checks_and_refuses():
    x, mu = sp.symbols("x mu", real=True)
    f = ExprFunction(sp.exp(-((x - mu) ** 2) / 2) * sp.besseli(0, x**2), x, (mu,), (0.3,))
    f.check(np.array([-1.0, 0.2, 2.5]))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(f))(np.array([0.7])), f(np.array([0.7])))
    with pytest.raises(SymflowError, match="undefined function g"):
        ExprFunction(sp.Function("g")(x), x)(np.array([1.0]))


# -- discrete ------------------------------------------------------------------


def _poisson_35(k):
    return stats.poisson.pmf(k, 3.5)


def _geometric_03(k):  # trials to the first success, k >= 1
    return 0.7 ** (k - 1)


def _binomial_10(k):
    return stats.binom.pmf(k, 10, 0.3)


def _factorial_overflow(k):
    from scipy.special import factorial

    return 3.0**k / factorial(k)  # inf / inf = nan from k = 647 on, long after the mass


DISCRETE = [
    ("poisson(3.5)", _poisson_35, 0, np.inf, stats.poisson(3.5)),
    ("geometric(0.3)", _geometric_03, 1, np.inf, stats.geom(0.3)),
    ("binomial(10, 0.3)", _binomial_10, 0, 10, stats.binom(10, 0.3)),
    ("poisson(3) as 3^k/k!", _factorial_overflow, 0, np.inf, stats.poisson(3)),
]


@pytest.mark.parametrize(("name", "pmf", "lo", "hi", "dist"), DISCRETE, ids=[d[0] for d in DISCRETE])
def test_pmf_sampler(name, pmf, lo, hi, dist):
    s = inverse_pmf_sampler(pmf, lo, hi)
    ks = np.arange(lo - 2, lo + 40)
    assert np.max(np.abs(s.cdf(ks) - dist.cdf(ks))) < 1e-14
    u = np.random.default_rng(3).random(100_000)
    np.testing.assert_array_equal(s.ppf(u), dist.ppf(u).astype(int))
    draws = s.sample(N_KS, np.random.default_rng(11))
    assert draws.dtype == np.int64
    assert chi_square_pvalue(draws, dist) > ALPHA


def chi_square_pvalue(draws: np.ndarray, dist) -> float:
    """Pearson's test on the values with expected count >= 5 and one bin for the rest."""
    support = np.arange(int(dist.ppf(1e-12)), int(dist.ppf(1 - 1e-12)) + 1)
    expected = dist.pmf(support) * draws.size
    big = expected >= 5
    observed = np.array([(draws == k).sum() for k in support[big]])
    obs = np.append(observed, draws.size - observed.sum())
    exp = np.append(expected[big], draws.size - expected[big].sum())
    return float(stats.chisquare(obs, exp).pvalue)


def test_wrong_pmf_is_caught():
    draws = inverse_pmf_sampler(_poisson_35, 0).sample(N_KS, np.random.default_rng(5))
    assert chi_square_pvalue(draws, stats.poisson(3.3)) < ALPHA


def _zipf_105(k):
    return k**-1.05


def test_pmf_refusals():
    with pytest.raises(SymflowError, match="tail"):
        inverse_pmf_sampler(_zipf_105, 1, max_terms=10**5)
    with pytest.raises(SymflowError, match="finite integer"):
        inverse_pmf_sampler(_zipf_105, -np.inf)
    with pytest.raises(SymflowError, match="empty"):
        inverse_pmf_sampler(_zipf_105, 3, 2)


# -- Density.sample falls back to numeric inversion -----------------------------------------------


def test_density_without_a_sampler_samples_by_inversion():
    # von Mises typed in by hand: no sampler, no reparameterization, symbolic edges (-pi, pi)
    x = sp.Symbol("x", real=True)
    kappa = sp.Symbol("kappa", positive=True)
    p = sf.Density(
        sp.exp(kappa * sp.cos(x)) / (2 * sp.pi * sp.besseli(0, kappa)), x, (kappa,), support=sp.Interval(-sp.pi, sp.pi)
    )
    assert p.sampler is None and p.reparam is None
    draws = p.sample(N_KS, {kappa: 2.0}, np.random.default_rng(7)).ravel()
    assert stats.kstest(draws, stats.vonmises(2.0).cdf).pvalue > ALPHA
    # the sampler it falls back to pickles with the Density and draws the same after a round trip
    again = pickle.loads(pickle.dumps(p))
    assert np.array_equal(again.sample(5, {kappa: 2.0}, 3), p.sample(5, {kappa: 2.0}, 3))


def test_density_without_a_sampler_refuses_in_two_dimensions():
    x1, x2 = sp.symbols("x1 x2", real=True)
    p = sf.Density(sp.exp(-(x1**2) - x2**2) / sp.pi, (x1, x2), ())
    with pytest.raises(SymflowError, match="numeric inversion covers 1-D densities only"):
        p.sample(10, {})


def test_a_pmf_without_a_sampler_samples_by_inversion():
    k = sp.Symbol("k", integer=True, nonnegative=True)
    m = sp.Symbol("m", positive=True)
    p = sf.Density(sp.exp(-m) * m**k / sp.factorial(k), k, (m,), support=sp.Naturals0)
    draws = p.sample(N_KS, {m: 2.5}, np.random.default_rng(8)).ravel()
    # chi-squared goodness of fit on 0..7 and the tail, against Poisson(2.5)
    counts = np.bincount(np.minimum(draws.astype(int), 8), minlength=9)
    probs = np.append(stats.poisson(2.5).pmf(np.arange(8)), stats.poisson(2.5).sf(7))
    assert stats.chisquare(counts, N_KS * probs).pvalue > ALPHA
