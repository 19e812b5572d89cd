"""Density: construction, validation, calculus helpers and sampling."""

import numpy as np
import pytest
import sympy as sp

import symflow as sf
from tests._cases import exponential, mu, normal, sigma, x


def test_attributes_and_support_default():
    p = normal()
    assert p.x == (x,) and p.params == (mu, sigma)
    assert p.support == sp.S.Reals and p.dim == 1 and not p.is_discrete


def test_score_matches_eq21():
    p = normal()
    assert sp.simplify(p.score(mu) - (x - mu) / sigma**2) == 0
    assert sp.simplify(p.score(sigma) - ((x - mu) ** 2 / sigma**3 - 1 / sigma)) == 0


def test_density_is_immutable():
    p = normal()
    with pytest.raises(AttributeError):
        p.expr = x  # type: ignore[misc]


def test_equality_ignores_sampler():
    assert normal() == normal() and hash(normal()) == hash(normal())


def test_sample_shape_and_moments():
    p = normal()
    draws = p.sample(40000, {mu: 0.3, sigma: 1.2}, np.random.default_rng(0))
    assert draws.shape == (40000, 1)
    # mean: 5-sigma band, false-alarm rate ~6e-7
    assert abs(draws.mean() - 0.3) < 5 * 1.2 / np.sqrt(40000)


def test_sample_through_reparameterization_without_sampler():
    p = normal().with_(sampler=None)
    draws = p.sample(40000, {mu: -1.0, sigma: 0.5}, 3)
    assert abs(draws.mean() + 1.0) < 5 * 0.5 / np.sqrt(40000)


def test_multivariate_support_and_domain():
    y = sp.Symbol("y", real=True)
    p = sf.Density(sp.exp(-x - y), [x, y], [], support=[sp.Interval(0, sp.oo), sp.Interval(0, sp.oo)])
    assert p.dim == 2 and isinstance(p.support, sp.ProductSet)
    assert [iv.lo for _, iv in p.domain().variables] == [0, 0]


def test_moving_support_detected():
    a, b = sp.symbols("a b", real=True)
    p = sf.Density(1 / (b - a), [x], [a, b], support=sp.Interval(a, b), constraints=(a < b,))
    assert p.has_moving_support
    with pytest.raises(sf.ParameterError, match="constraint"):
        p.param_values({a: 2, b: 1})


def test_discrete_support_detected():
    k = sp.Symbol("k", integer=True)
    lam = sp.Symbol("lambda", positive=True)
    p = sf.Density(lam**k * sp.exp(-lam) / sp.factorial(k), [k], [lam], support=sp.Naturals0)
    assert p.is_discrete


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"expr": sp.exp(-x * sp.Symbol("c")), "x": [x], "params": []}, "neither"),
        ({"expr": sp.exp(-x * mu), "x": [x], "params": [x, mu]}, "both as variables and as parameters"),
        ({"expr": sp.exp(-x), "x": ["x"], "params": []}, "string"),
        ({"expr": sp.exp(-x), "x": [x**2], "params": []}, "sympy.Symbol"),
        ({"expr": "exp(-x)", "x": [x], "params": []}, "never parses strings"),
        ({"expr": sp.exp(-x), "x": [], "params": []}, "at least one variable"),
        ({"expr": sp.exp(-x), "x": [x], "params": [], "support": "[0, oo)"}, "SymPy Set"),
        ({"expr": sp.exp(-x), "x": [x], "params": [], "support": sp.Interval(sp.Symbol("c"), 1)}, "not parameters"),
        ({"expr": sp.exp(-x), "x": [x, x], "params": []}, "twice"),
    ],
)
def test_bad_densities_are_refused_with_a_fix(kwargs, match):
    with pytest.raises(sf.SymflowError, match=match):
        sf.Density(**kwargs)


def test_sample_refuses_bad_n_and_missing_params():
    p = normal()
    for n in (0, -3, 2.5, True):
        with pytest.raises(sf.SymflowError, match="positive integer"):
            p.sample(n, {mu: 0, sigma: 1})
    with pytest.raises(sf.ParameterError, match="no value for sigma"):
        p.sample(10, {mu: 0})
    with pytest.raises(sf.ParameterError, match="string key"):
        p.sample(10, {"mu": 0, sigma: 1})


def test_no_sampler_falls_back_to_inversion_in_1d_and_is_a_clear_error_in_2d():
    p = exponential().with_(sampler=None, reparam=None)
    draws = p.sample(4000, {p.params[0]: 2.0}, rng=0)
    assert abs(draws.mean() - 0.5) < 6 * 0.5 / 4000**0.5  # Exp(rate 2): mean 1/2, sd 1/2; 6 sigma
    x1, x2 = sp.symbols("x1 x2", real=True)
    q = sf.Density(sp.exp(-(x1**2) - x2**2) / sp.pi, (x1, x2), ())
    with pytest.raises(sf.SymflowError, match="no sampler"):
        q.sample(5, {})


def test_wrt_must_be_a_parameter():
    with pytest.raises(sf.ParameterError, match="not a parameter"):
        normal().score(x)
    with pytest.raises(sf.ParameterError, match="string"):
        normal().check_param("mu")


def test_variable_assumptions_must_hold_on_the_whole_support():
    # x declared positive over the real line: SymPy turns |x| into x, so check_transport
    # "proved" the wrong flow u = |x - 0| / sigma for the normal's sigma.
    xp = sp.Symbol("x", positive=True)
    body = sp.exp(-(xp**2) / (2 * sigma**2)) / (sp.sqrt(2 * sp.pi) * sigma)
    with pytest.raises(sf.SymflowError, match="declared positive.*real=True"):
        sf.Density(body, [xp], [sigma])
    with pytest.raises(sf.SymflowError, match="declared positive"):
        sf.Density(body, [xp], [sigma, mu], support=sp.Interval(mu, sp.oo))
    k = sp.Symbol("k", integer=True)
    with pytest.raises(sf.SymflowError, match="declared integer"):
        sf.Density(sp.exp(-(k**2)), [k], [])
    # supports inside the declared range are fine
    sf.Density(2 * body, [xp], [sigma], support=sp.Interval(0, sp.oo))
    sf.Density(1 / sigma, [xp], [sigma], support=sp.Interval(sigma, 2 * sigma))
    sf.Density(sp.exp(-k) * (1 - sp.exp(-1)), [k], [], support=sp.Naturals0)


def test_a_same_named_symbol_with_other_assumptions_is_explained():
    # Symbol('x') is not Symbol('x', real=True): "uses x, which is not the variable x" alone puzzles
    plain_x = sp.Symbol("x")
    with pytest.raises(sf.SymflowError, match="different Symbol from the one of the same name"):
        sf.Density(sp.exp(-(plain_x**2)), [x], [mu])
    p = normal()
    with pytest.raises(sf.SymflowError, match="different Symbol"):
        sf.Flow(p, {mu: [plain_x]})
    with pytest.raises(sf.SymflowError, match="different Symbol"):
        sf.check_boundary(p, sf.flows.zero(p), mu, plain_x)
    with pytest.raises(sf.SymflowError, match="different Symbol"):
        sf.Estimator(p, mu, [plain_x], 0)


def test_supports_with_gaps_or_non_integer_points_are_refused():
    # integrated from inf to sup, 1/2 on [0, 1] u [2, 3] had integral 3/2 and was "refuted"
    for support in (sp.Union(sp.Interval(0, 1), sp.Interval(2, 3)), sp.FiniteSet(sp.Rational(1, 2), 1)):
        with pytest.raises(sf.SymflowError, match="must be an interval"):
            sf.Density(sp.Rational(1, 2), [x], [], support=support)
    for support in (sp.Interval.Ropen(0, 1), sp.S.Reals, sp.Range(0, 3), sp.FiniteSet(0, 1), sp.Naturals0):
        sf.Density(sp.S.Half, [x], [], support=support)


# -- issue 12, class 6: input that must be refused (with the fix) or handled ------------------------


def test_finite_set_with_gaps_is_refused_not_summed_over_the_gap():
    # a pmf on {0, 2} was summed over 0, 1, 2 and its normalization "refuted"
    k = sp.Symbol("k", integer=True)
    t = sp.Symbol("t", positive=True)
    with pytest.raises(sf.DensityError, match=r"gaps \(1 missing\).*Range\(0, 3\)"):
        sf.Density(sp.S.Half + 0 * t, [k], [t], support=sp.FiniteSet(0, 2))
    # consecutive members are fine, and summed over exactly those
    p = sf.Density(sp.S.Half + 0 * t, [k], [t], support=sp.FiniteSet(1, 2))
    assert sf.check_normalized(p).status == "proved"


def test_discrete_variable_assumptions_must_hold_at_every_member():
    # x positive over Naturals0: 0 carries mass, yet SymPy would simplify with x > 0
    for name in ("positive", "odd", "even", "prime"):
        y = sp.Symbol("y", integer=True, **{name: True})
        with pytest.raises(sf.DensityError, match="is declared"):
            sf.Density(sp.exp(-y) * (1 - sp.exp(-1)), [y], [], support=sp.Naturals0)
    y = sp.Symbol("y", integer=True, positive=True)
    sf.Density(sp.exp(-(y - 1)) * (1 - sp.exp(-1)), [y], [], support=sp.Naturals)  # 1, 2, ...: fine


def test_continuous_variable_with_point_assumptions_or_not_real_is_refused():
    for kwargs in ({"rational": True}, {"even": True}, {"imaginary": True}, {"commutative": False}):
        z = sp.Symbol("z", **kwargs)
        with pytest.raises(sf.SymflowError, match="declare it with sympy.Symbol|non-commutative"):
            sf.Density(sp.exp(-(z**2)) / sp.sqrt(sp.pi), [z], [])


@pytest.mark.parametrize(
    "expr, match",
    [
        (sp.DiracDelta(x), "DiracDelta"),
        (sp.Matrix([x, 1]), "matrix"),
        (x > 0, "not an expression"),
        (sp.Interval(0, 1), "not an expression"),
        (sp.zoo * x, "undefined"),
        (sp.nan, "undefined"),
    ],
)
def test_densities_that_are_not_functions_are_refused(expr, match):
    with pytest.raises(sf.SymflowError, match=match):
        sf.Density(expr, [x], [])


def test_bad_constraints_samplers_and_parameter_values_are_refused():
    a, b = sp.symbols("a b", real=True)
    with pytest.raises(sf.DensityError, match="not a condition"):
        sf.Density(1 / (b - a), [x], [a, b], support=sp.Interval(a, b), constraints=(a - b,))
    with pytest.raises(sf.DensityError, match="not parameters"):
        sf.Density(1 / (b - a), [x], [a, b], support=sp.Interval(a, b), constraints=(a < sp.Symbol("c"),))
    with pytest.raises(sf.DensityError, match="sampler must be a function"):
        sf.Density(sp.exp(-x), [x], [], support=sp.Interval(0, sp.oo), sampler=3)
    p = normal()
    for bad in (float("inf"), float("nan"), sp.oo, sp.I, 1 + 2j):
        with pytest.raises(sf.SymflowError, match="finite|complex"):
            p.param_values({mu: bad, sigma: 1})
