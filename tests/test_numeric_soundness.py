"""Issue 12, classes 1-3, and issue 13's quadrature: every example as a regression test.

Class 1: a symbolic integral, gradient or limit is used only after a numeric route agrees with it.
Class 2: a refutation stands only after an independent route (evalf, quadrature at the witness,
         other nodes) reproduces its witness; support edges such as pi, 2 pi, sqrt 2, log 2 are numbers.
Class 3: the numeric test looks everywhere (random spread points, numerically located kinks and
         peaks, distinct points), and at rising precision (no threshold relative to huge terms).
"""

import dataclasses

import mpmath
import pytest
import sympy as sp

import symflow as sf
from symflow.calculus import integrals, limits
from symflow.calculus.crosscheck import cross_examine
from symflow.calculus.integrals import checked_integral, expectation_gradient, numeric_gradient
from symflow.calculus.limits import LimitDisagreement, cross_examined_limit
from symflow.calculus.quadrature import numeric_integral
from symflow.core.domain import Domain, Interval1D, edge_number
from symflow.core.precision import POINTWISE, QUADRATURE, QUADRATURE_FAST, Outcome, decide
from symflow.zero import decide_zero
from symflow.zero.landmarks import LandmarkFinder
from symflow.zero.numeric import numeric_zero_test
from symflow.zero.points import sample_points
from symflow.zero.witness import confirm_witness

x = sp.Symbol("x", real=True)
y = sp.Symbol("y", real=True)
a = sp.Symbol("a", positive=True)
mu = sp.Symbol("mu", real=True)
sigma = sp.Symbol("sigma", positive=True)
REAL = Domain(((x, Interval1D()),))


def _on(lo, hi) -> Domain:
    return Domain(((x, Interval1D(sp.sympify(lo), sp.sympify(hi))),))


# -- class 1: symbolic results are cross-examined --------------------------------------------------

B = a**2 + 1
COS_DENSITY = sp.sqrt(B**2 - 1) / (2 * (B + sp.cos(sp.pi * x)))  # integrates to 1 over [0, 2]


def _cos_density(scale=1) -> sf.Density:
    return sf.Density(scale * COS_DENSITY, x, (a,), support=sp.Interval(0, 2), name="cos density")


@pytest.fixture
def sympy_integrates_to_zero(monkeypatch):
    """SymPy 1.14's answer for the integral of 1/(b + cos(pi x)) over [0, 2] (0), planted for speed."""
    raw = integrals._raw_symbolic_integral

    def wrong(p, integrand, budget, trail=None):
        if integrand.has(sp.cos(sp.pi * x)):
            return sp.S.Zero
        return raw(p, integrand, budget, trail)

    monkeypatch.setattr(integrals, "_raw_symbolic_integral", wrong)


def test_wrong_symbolic_normalization_is_neither_refuted_nor_proved(sympy_integrates_to_zero):
    v = sf.check_normalized(_cos_density(), timeout=10)
    assert v.status is sf.Status.UNKNOWN
    assert "gives 0" in v.reason and "1.0" in v.reason  # both numbers named
    v = sf.check_normalized(_cos_density(2), timeout=10)  # unnormalized, through the same integral
    assert v.status is not sf.Status.PROVED


@pytest.mark.slow
def test_biased_estimator_through_a_wrong_integral_is_not_proved(sympy_integrates_to_zero):
    # psi = 1 estimates d/da E[phi] + E[phi]: biased.  SymPy's 0 for both sides made it 'proved'.
    p = _cos_density()
    est = sf.Estimator(p, a, [0], 1)
    v = sf.check_unbiased(est, 1, timeout=10)
    assert v.status is not sf.Status.PROVED


def test_cross_examine_agrees_disagrees_and_names_both_numbers():
    dom = Domain((), ((a, Interval1D(sp.S.Zero)),))
    exact = lambda pt, dps: mpmath.mpf(2) / mpmath.sqrt((exact_b(pt)) ** 2 - 1)  # noqa: E731
    assert cross_examine(2 / sp.sqrt(B**2 - 1), exact, dom).agreed
    wrong = cross_examine(sp.S.Zero, exact, dom, symbols={a})
    assert wrong.disagreed and "gives 0" in wrong.describe("integral")


def exact_b(pt):
    return mpmath.mpmathify(sp.N(B.xreplace(pt), 40))


@pytest.mark.slow
def test_sympy_own_wrong_integral_is_caught():
    # No planting: SymPy 1.14 itself returns 0 here (takes a few seconds).
    checked = checked_integral(_cos_density(), COS_DENSITY, timeout=60)
    if checked.symbolic == 0:
        assert checked.disagreed and checked.value is None
    assert sf.check_normalized(_cos_density(), timeout=60).status is not sf.Status.REFUTED


def test_wrong_symbolic_limit_is_not_used(monkeypatch):
    # 1 + exp(-x) -> 1; a limit routine answering 0 would "prove" a boundary term vanishes.
    monkeypatch.setattr(limits.budgets, "limit", lambda *args, **kw: sp.S.Zero)
    with pytest.raises(LimitDisagreement, match="settle on 1"):
        cross_examined_limit(1 + sp.exp(-x), x, sp.oo, "-", timeout=5)


def test_infinite_symbolic_limit_of_a_decaying_function_is_not_used():
    # SymPy 1.14 itself: the Student t's p u ~ |x|^-nu -> 0 has "limit" oo; the values fall steadily.
    nu = sp.Symbol("nu", positive=True)
    decaying = x * (1 + x**2 / nu) ** (-nu / 2 - sp.S.Half)
    # at a random nu the values either fall steadily or have already settled near 0 (1e-111 at nu = 7.1)
    with pytest.raises(LimitDisagreement, match="fall steadily|settle on"):
        cross_examined_limit(decaying, x, sp.oo, "-", timeout=10)


def test_boundary_refutes_only_what_the_numbers_confirm(monkeypatch):
    # A limit routine answering oo for p u = x exp(-x) -> 0 (planted past the cross-examination):
    # no numbers confirm it, so the boundary check is unknown, never refuted.
    from symflow.checks import edges

    p = sf.Density(sp.exp(-x), x, (), support=sp.Interval(0, sp.oo))
    monkeypatch.setattr(edges, "cross_examined_limit", lambda *args, **kw: sp.oo)
    flux = x * sp.exp(-x)
    v = edges.edge_limit_verdict(p, flux, x, sp.oo, "-", 10, "claim", 10)
    assert v.status == "unknown" and "do not confirm" in v.reason
    # a true infinite limit is confirmed, with the flux near the edge as a two-precision witness
    v = edges.edge_limit_verdict(p, x**2, x, sp.oo, "-", 10, "claim", 10)
    assert v.status == "refuted" and v.witness.as_dict()[x] == sp.oo
    assert int(v.witness.value) == int(v.witness.value_low) == 10**32  # x**2 at x = 1e16, exact at both precisions


def test_the_callers_values_are_a_point_compared():
    # With values given, SymPy's right 2 sigma was discarded: "no parameter point could be drawn at 0 point(s)".
    params = Domain((), ((mu, Interval1D()), (sigma, Interval1D(sp.S.Zero, sp.oo))))
    given = {mu: sp.Rational(3, 10), sigma: sp.Rational(6, 5)}
    check = cross_examine(
        2 * sigma, lambda pt, dps: 2 * mpmath.mpf(pt[sigma]), params, at=(given,), symbols={mu, sigma}
    )
    assert check.agreed and len(check.comparisons) == 2 and dict(check.comparisons[0][0]) == given
    p = sf.families.normal()
    value, how = expectation_gradient(
        p, p.x[0] ** 2, p.params[1], dict(zip(p.params, (0.3, 1.2), strict=True)), timeout=20
    )
    # (under a heavy load SymPy may run out of its share and quadrature answer; never the old refusal)
    assert "no parameter point could be drawn" not in how and abs(value - 2.4) < 1e-14


def test_right_symbolic_limit_passes():
    assert cross_examined_limit(x**3 * sp.exp(-(x**2)), x, sp.oo, "-", timeout=5) == 0
    assert cross_examined_limit(mu * (1 + sp.exp(-x)), x, sp.oo, "-", timeout=5) == mu


# -- class 2: refutations are confirmed; symbolic edges are numbers ---------------------------------


@pytest.mark.slow
def test_wrong_function_mapping_does_not_refute():
    # lambdify maps betainc_regularized to the unregularized mpmath.betainc; I_x(a, b) = 1 - I_{1-x}(b, a).
    b = sp.Symbol("b", positive=True)
    residual = sp.betainc_regularized(a, b, 0, x) - 1 + sp.betainc_regularized(b, a, 0, 1 - x)
    dom = Domain(((x, Interval1D(sp.S.Zero, sp.S.One)),), ((a, Interval1D(sp.S.Zero)), (b, Interval1D(sp.S.Zero))))
    v = decide_zero(residual, dom, timeout=8)
    assert v.status is not sf.Status.REFUTED
    # The special-function table maps it right (numeric/special), so the residual is 0 to 40 digits.
    assert v.status in (sf.Status.PROVED, sf.Status.CONSISTENT), v


def test_witness_confirmation_rejects_a_wrong_value_and_a_point_outside():
    conf = confirm_witness(sp.sin(x) ** 2, {x: mpmath.mpf(1)}, mpmath.mpf("0.5"))
    assert not conf.confirmed and "evalf" in conf.reason
    assert confirm_witness(sp.sin(x) ** 2, {x: mpmath.mpf(1)}, mpmath.sin(1) ** 2).confirmed
    outside = confirm_witness(x, {x: mpmath.mpf(4)}, mpmath.mpf(4), _on(-sp.pi, sp.pi))
    assert not outside.confirmed and "not inside" in outside.reason


@pytest.mark.parametrize("edge", [sp.pi, 2 * sp.pi, sp.sqrt(2), sp.log(2)])
def test_symbolic_edges_are_numbers(edge):
    assert abs(edge_number(edge) - mpmath.mpmathify(sp.N(edge, 30))) < 1e-25
    assert edge_number(sp.oo) is None
    # Heaviside(x - 7) vanishes on (0, edge) for every edge < 7: points beyond the edge would refute it
    v = decide_zero(x * sp.Heaviside(x - 7), _on(0, edge), timeout=5)
    assert v.status is sf.Status.CONSISTENT
    for pt in sample_points(_on(0, edge), {x}):
        assert 0 < pt[x] < edge_number(edge)


@pytest.mark.slow
def test_quadrature_over_minus_pi_pi():
    k = sp.Symbol("kappa", positive=True)
    vm = sf.Density(sp.exp(k * sp.cos(x)) / (2 * sp.pi * sp.besseli(0, k)), x, (k,), support=sp.Interval(-sp.pi, sp.pi))
    got = numeric_integral(vm, vm.expr * sp.cos(x), {k: 2}, dps=50, timeout=20)
    with mpmath.workdps(50):
        assert abs(got - mpmath.besseli(1, 2) / mpmath.besseli(0, 2)) < mpmath.mpf(10) ** -40
    assert sf.check_normalized(vm, timeout=10).status in (sf.Status.PROVED, sf.Status.CONSISTENT)


@pytest.mark.slow
def test_refutation_by_a_symbolic_bias_is_confirmed_by_quadrature():
    p = sf.families.normal()
    m, s = p.params
    wrong = sf.Estimator(p, s, [(p.x[0] - m) / s**2], 0)
    v = sf.check_unbiased(wrong, p.x[0] ** 2, timeout=60)
    assert v.status is sf.Status.REFUTED


# -- class 3: a numeric test that sees -------------------------------------------------------------


def test_periodic_difference_beyond_a_fixed_grid_is_refuted():
    v = decide_zero(sp.Mod(x + 200, 400) - x - 200, REAL, timeout=5)
    assert v.status is sf.Status.REFUTED and abs(v.witness.as_dict()[x]) >= 200


@pytest.mark.parametrize(
    "shape",
    [
        "bump",
        *(
            pytest.param(name, marks=pytest.mark.slow)
            for name in ("disk", "max", "piecewise", "sqrt disk", "sqrt max", "abs square", "abs diamond")
        ),
    ],
)
def test_a_bump_or_disk_in_two_dimensions_is_refuted(shape):
    # review: found one coordinate at a time (the other at a random value) the landmarks never met a 2-D bump
    # of width 0.01 or a disk of radius 0.01: all four were 'consistent'; now chained across coordinates
    a, b = sp.symbols("a b", real=True)
    r2 = (a - 2) ** 2 + (b - 1) ** 2
    small = sp.Rational(1, 10**4)
    residual = {
        "bump": sp.exp(-(10**4) * r2),
        "disk": sp.Heaviside(small - r2),
        "max": sp.Max(0, small - r2),
        "piecewise": sp.Piecewise((1, r2 < small), (0, True)),
        # second review: with a sqrt, the grid point at the centre has no value (0/0) and the bracket around it
        # was dropped; with Abs, the centre is a kink, not a stationary point, and the chain did not move there
        "sqrt disk": sp.Heaviside(sp.Rational(1, 100) - sp.sqrt(r2)),
        "sqrt max": sp.Max(0, sp.Rational(1, 100) - sp.sqrt(r2)),
        "abs square": sp.Heaviside(sp.Rational(1, 100) - sp.Abs(a - 2))
        * sp.Heaviside(sp.Rational(1, 100) - sp.Abs(b - 1)),
        "abs diamond": sp.Heaviside(sp.Rational(1, 100) - sp.Abs(a - 2) - sp.Abs(b - 1)),
    }[shape]
    v = decide_zero(residual, sf.Domain().extended({a, b}), timeout=20)
    assert v.status is sf.Status.REFUTED


@pytest.mark.slow  # CI runs it; the fast tier keeps the cheaper tests of its path
def test_a_bump_of_width_a_hundredth_in_a_two_dimensional_flow_is_refuted():
    p = sf.families.mvn(2)
    x1, x2 = p.x
    mu1 = p.params[0]
    u = sf.flows.reparam(p).field(mu1)
    bump = sp.exp(-(10**4) * ((x1 - 1) ** 2 + (x2 - 1) ** 2))
    v = sf.check_transport(p, sf.Flow(p, {mu1: [u[0] + bump, u[1]]}), wrt=mu1, timeout=30)
    assert v.status is sf.Status.REFUTED


@pytest.mark.parametrize("width", [sp.Rational(1, 10**12), pytest.param(sp.Rational(1, 10**9), marks=pytest.mark.slow)])
def test_a_window_narrower_than_1e_8_next_to_a_kink_is_refuted(width):
    # review: points were placed 1e-8 (relative) from a located kink, never inside a narrower window
    assert decide_zero(sp.Heaviside(x - 3) - sp.Heaviside(x - 3 - width), REAL, timeout=20).status is sf.Status.REFUTED
    assert decide_zero(sp.Heaviside(width**2 - x**2), REAL, timeout=20).status is sf.Status.REFUTED


def test_quartic_bump_in_a_flow_is_refuted():
    p = sf.families.normal()
    m, s = p.params
    u = sf.flows.reparam(p).field(s)[0] + sp.exp(-(10**6) * (p.x[0] - 3) ** 4)
    v = sf.check_transport(p, sf.Flow(p, {s: [u]}), s, timeout=10)
    assert v.status is sf.Status.REFUTED
    assert abs(float(v.witness.as_dict()[p.x[0]]) - 3) < 0.1


def test_residual_one_under_huge_terms_is_refuted():
    big = sp.Integer(10) ** 50
    v = decide_zero(big * sp.sin(x) ** 2 + big * sp.cos(x) ** 2 - big + 1, REAL, timeout=5)
    assert v.status is sf.Status.REFUTED and abs(v.witness.value - 1) < 1e-20


def test_rising_precision_sees_past_cancellation_and_does_not_refute_round_off():
    one_hidden = lambda dps: mpmath.mpf(10) ** (50 - dps) * mpmath.sin(dps) + 1  # noqa: E731
    assert decide(lambda dps: (one_hidden(dps), mpmath.mpf(10) ** 50), POINTWISE).outcome is Outcome.NONZERO
    round_off = lambda dps: (mpmath.mpf(10) ** (5 - dps) * mpmath.sin(dps), mpmath.mpf(1))  # noqa: E731
    assert decide(round_off, POINTWISE).outcome is Outcome.ZERO
    # a value that repeats exactly at every precision far below the round-off floor is not 'real'
    artifact = lambda dps: (mpmath.mpf(10) ** -2000, mpmath.mpf(1))  # noqa: E731
    assert decide(artifact, POINTWISE).outcome is not Outcome.NONZERO


def test_round_off_amplified_by_an_ill_conditioned_step_is_zero_and_a_real_value_under_it_is_not():
    # CI at 0b3d0f5: (x^a)^(1/a) log(x^a)/a^2 - x log(x)/a at a = 1.9e-8, x = 1 - 2e-8 is round-off times 1e14
    # (-1.4e-36 at 50 digits, 1.2e-116 at 130), above the 10-digit floor: ambiguous, and a Kumaraswamy claim
    # came out unknown.  Round-off shrinks with the digits added; a real value above 40 digits does not.
    amplified = lambda dps: (mpmath.mpf(10) ** (14 - dps) * (1 + mpmath.sin(dps) / 3), mpmath.mpf(1))  # noqa: E731
    assert decide(amplified, POINTWISE).outcome is Outcome.ZERO
    real = lambda dps: (mpmath.mpf(10) ** (14 - dps) + mpmath.mpf(10) ** -30, mpmath.mpf(1))  # noqa: E731
    assert decide(real, POINTWISE).outcome is Outcome.NONZERO
    a, y = sp.symbols("a y", positive=True)
    residual = y * sp.log(y) / a - (y**a) ** (1 / a) * sp.log(y**a) / a**2
    at = {y: sp.Rational(99999998, 10**8), a: sp.Rational(1914576, 10**14)}
    terms = sp.Add.make_args(residual)
    value = lambda dps: (  # noqa: E731
        mpmath.mpf(sp.N(residual, dps, subs=at)),
        max(abs(mpmath.mpf(sp.N(t, dps, subs=at))) for t in terms),
    )
    assert decide(value, POINTWISE).outcome is Outcome.ZERO


@pytest.mark.parametrize(
    "residual",
    [
        sp.Max(0, sp.Rational(1, 10**7) - sp.Abs(x - sp.pi)),  # a tent 1e-7 wide at pi (Abs)
        sp.Max(0, sp.frac(x) - 1 + sp.Rational(1, 10**7)),  # 1e-7 below each integer (frac)
        sp.Max(0, sp.Mod(x, 3) - 3 + sp.Rational(1, 10**7)),  # 1e-7 below each multiple of 3 (Mod)
        # nonzero only within ~3e-7 of 5, on one side (im, re, arg change there)
        sp.im(sp.sqrt(x - 5)) * sp.exp(-((10**7 * (x - 5)) ** 2)),
        sp.re(sp.sqrt(x - 5)) * sp.exp(-((10**7 * (x - 5)) ** 2)),
        sp.arg(x - 5) * sp.exp(-((10**7 * (x - 5)) ** 2)),
    ],
)
@pytest.mark.slow
def test_features_at_kinks_are_found(residual):
    v = decide_zero(residual, REAL, timeout=8)
    assert v.status is sf.Status.REFUTED, v


def test_landmarks_locate_kinks_of_mod_frac_arg_re_im():
    exprs = {
        sp.Mod(x, 3): 3,
        sp.frac(x - sp.Rational(1, 3)): sp.Rational(4, 3),
        sp.arg(x - 2): 2,
        sp.re(sp.sqrt(x - 5)): 5,
        sp.im(sp.log(x - 7)): 7,
        sp.Max(x, 11): 11,
    }
    for expr, where in exprs.items():
        roots = LandmarkFinder(sp.S.Zero, [x], tuple(LandmarkFinder(expr, [x]).kinks)).kink_roots(x, Interval1D(), {})
        assert any(abs(r - float(where)) < 1e-12 for r in roots), (expr, roots)


def test_points_are_distinct_random_and_spread():
    pts = sample_points(REAL, {x}, draws=4)
    keys = [mpmath.nstr(p[x], 30) for p in pts]
    assert len(keys) == len(set(keys))
    mags = [abs(float(p[x])) for p in pts]
    assert max(mags) > 1e6 and min(mags) < 1
    assert {mpmath.nstr(p[x], 20) for p in sample_points(REAL, {x})} != set(keys)  # drawn afresh


def test_repeated_points_do_not_count():
    # on the finite support {0, 1, 2} only 3 distinct points exist: never 16, so never 'consistent'
    k = sp.Symbol("k", integer=True)
    dom = Domain(((k, Interval1D(sp.S.Zero, sp.Integer(2), True, (sp.S.Zero, sp.S.One, sp.Integer(2)))),))
    res = numeric_zero_test(sp.sin(sp.pi * k), dom)
    assert res.outcome != "zero" and res.points_tried <= 3


# -- issue 13: quadrature that takes any support -----------------------------------------------------


def _truncated_exponential():
    lam, c = sp.Symbol("lambda", positive=True), sp.Symbol("c", positive=True)
    p = sf.Density(lam * sp.exp(-lam * x) / (1 - sp.exp(-lam * c)), x, (lam, c), support=sp.Interval(0, c))
    return p, lam, c


@pytest.mark.slow
def test_moving_edge_gradient_follows_the_edge():
    p, lam, c = _truncated_exponential()
    values = {lam: sp.Rational(7, 10), c: 2}
    got = numeric_gradient(p, x, c, values, dps=30)
    # d/dc E[x] on [0, c] by hand: c p(c) - (integral of x p) dlog Z/dc
    with mpmath.workdps(30):
        lv, cv = mpmath.mpf("0.7"), mpmath.mpf(2)
        z = 1 - mpmath.exp(-lv * cv)
        mean = (1 - mpmath.exp(-lv * cv) * (1 + lv * cv)) / (lv * z)
        want = cv * lv * mpmath.exp(-lv * cv) / z - mean * lv * mpmath.exp(-lv * cv) / z
    assert abs(got - want) < 1e-25
    assert mpmath.nstr(want, 9) == "0.280909647"
    value, how = expectation_gradient(p, x, c, values, timeout=10)
    assert abs(mpmath.mpmathify(value) - want) < 1e-25


@pytest.mark.slow
def test_truncated_exponential_lr_with_moving_edge_is_not_refuted():
    p, lam, c = _truncated_exponential()
    lr = sf.derive(p, sf.flows.zero(p), c)
    v = sf.check_unbiased(lr, x, {lam: sp.Rational(7, 10), c: 2}, timeout=20)
    assert v.status is sf.Status.CONSISTENT
    naive = dataclasses.replace(lr, extra_terms=())
    assert sf.check_unbiased(naive, x, {lam: sp.Rational(7, 10), c: 2}, timeout=20).status is sf.Status.REFUTED


def test_heavy_tail_quadrature():
    nu = sp.Rational(3, 2)
    t = sf.Density(
        sp.gamma((nu + 1) / 2) / (sp.sqrt(nu * sp.pi) * sp.gamma(nu / 2)) * (1 + x**2 / nu) ** (-(nu + 1) / 2), x, ()
    )
    # the zero threshold of 30-digit quadrature (the pieces stop 4 digits below 30; a scale from the
    # curvature at the mode, 0.77, moves the splits: 1.6e-25 off, was below 1e-25 at scale 1)
    assert abs(numeric_integral(t, t.expr, {}, dps=30) - 1) < mpmath.mpf(10) ** -QUADRATURE_FAST.zero_digits
    with mpmath.workdps(30):  # E|x|^(1/2) = nu^(1/4) Gamma(3/4) Gamma((nu - 1/2)/2) / (sqrt(pi) Gamma(nu/2))
        n = mpmath.mpf(3) / 2
        num = n ** mpmath.mpf(0.25) * mpmath.gamma(mpmath.mpf(0.75)) * mpmath.gamma((n - mpmath.mpf(0.5)) / 2)
        want = num / (mpmath.sqrt(mpmath.pi) * mpmath.gamma(n / 2))
    assert abs(numeric_integral(t, t.expr * sp.sqrt(sp.Abs(x)), {}, dps=30) - want) < 1e-20


def test_tail_piece_keeps_a_kink_far_out():
    # Beyond 40 scales an infinite end is one piece in units of the scale: a jump at 1000 scales is
    # one of its break points.  Planted: the Cauchy mass above 1000 is 1/2 - atan(1000)/pi.
    cauchy = sf.Density(1 / (sp.pi * (1 + x**2)), x, ())
    got = numeric_integral(cauchy, cauchy.expr * sp.Heaviside(x - 1000), {}, dps=30)
    with mpmath.workdps(30):
        want = mpmath.mpf(1) / 2 - mpmath.atan(1000) / mpmath.pi
        assert abs(got - want) < mpmath.mpf(10) ** -QUADRATURE_FAST.zero_digits * want


def test_expectation_gradient_at_values_is_the_50_digit_quadrature():
    # With values in 1-D the quadrature comes first (SymPy's look only when it fails); planted:
    # d/dalpha E[x^2] = (2 alpha + 1)/beta^2 under Gamma(alpha, beta), at alpha = 23/10, beta = 1.
    p = sf.families.gamma()
    alpha, rate = p.params
    value, how = expectation_gradient(p, p.x[0] ** 2, alpha, {alpha: sp.Rational(23, 10), rate: 1}, timeout=30)
    assert how == "mpmath quadrature at 50 digits"
    with mpmath.workdps(QUADRATURE.high):
        assert abs(value - mpmath.mpf(28) / 5) < QUADRATURE.zero_tol


@pytest.mark.slow
def test_two_dimensional_cubature_with_non_polynomial_phi():
    p = sf.Density(sp.exp(-(x**2 + y**2) / 2) / (2 * sp.pi), (x, y), ())
    got = numeric_integral(p, p.expr * sp.sin(x * y + 1) ** 2, {}, dps=15, timeout=30)
    with mpmath.workdps(20):
        f = lambda u, v: mpmath.exp(-(u * u + v * v) / 2) / (2 * mpmath.pi) * mpmath.sin(u * v + 1) ** 2  # noqa: E731
        want = mpmath.quad(f, [-12, -3, 0, 3, 12], [-12, -3, 0, 3, 12])
    assert abs(got - want) < 1e-10
    assert sf.check_normalized(p, timeout=20).status in (sf.Status.PROVED, sf.Status.CONSISTENT)


# -- d >= 3: no d-D quadrature, so SymPy's iterated integral is cross-examined one 1-D step at a time --------


@pytest.mark.slow
def test_three_dimensional_integral_is_cross_examined_step_by_step():
    """SymPy's wrong 1-D integral (class 1) inside a 3-D product is caught by the step-wise check."""
    a = sp.Symbol("a", positive=True)
    x, y, z = sp.symbols("x y z", real=True)
    b = a**2 + 1
    expr = sp.sqrt(b**2 - 1) / (2 * (b + sp.cos(sp.pi * x))) * sp.exp(-(y**2) / 2) / sp.sqrt(2 * sp.pi) * sp.exp(-z)
    p = sf.Density(expr, [x, y, z], [a], support=[sp.Interval(0, 2), sp.Reals, sp.Interval(0, sp.oo)])
    verdict = sf.check_normalized(p, timeout=20)
    assert verdict.status is sf.Status.UNKNOWN, verdict  # it is normalized; SymPy says 0: never refuted
    assert "not used" in verdict.reason


def test_three_dimensional_normalization_proved_and_refuted():
    assert sf.check_normalized(sf.families.mvn(3, "diag")).status is sf.Status.PROVED
    x, y, z = sp.symbols("x y z", real=True)
    twice = sf.Density(2 * sp.exp(-(x**2 + y**2 + z**2) / 2) / (2 * sp.pi) ** sp.Rational(3, 2), [x, y, z], [])
    verdict = sf.check_normalized(twice)
    assert verdict.status is sf.Status.REFUTED and verdict.residual == 1, verdict


# -- review of the numeric exact values (rev2): narrow peaks, oscillating heavy tails, the tail test --------

theta = sp.Symbol("theta", real=True)
s_w = sp.Symbol("s", positive=True)


def _narrow_normal() -> sf.Density:
    """A typed-in normal (no sampler): quadrature must find its peak itself."""
    return sf.Density(sp.exp(-((x - theta) ** 2) / (2 * s_w**2)) / sp.sqrt(2 * sp.pi * s_w**2), x, (theta, s_w))


def _atan_gradient_truth(th, s) -> mpmath.mpf:
    # d/dtheta E[atan(theta + s eps)] = E[1/(1 + (theta + s eps)^2)], eps ~ N(0, 1)
    with mpmath.workdps(40):
        th, s = mpmath.mpf(th), mpmath.mpf(sp.Rational(s).p) / sp.Rational(s).q
        return mpmath.quad(lambda e: mpmath.npdf(e) / (1 + (th + s * e) ** 2), [-mpmath.inf, -4, 0, 4, mpmath.inf])


@pytest.mark.parametrize("th, s", [(10, sp.Rational(1, 100)), (3, sp.Rational(1, 1000)), (100, sp.Rational(1, 1000))])
def test_narrow_typed_in_peak_far_from_zero_is_found(th, s):
    got, _ = expectation_gradient(_narrow_normal(), sp.atan(x), theta, {theta: th, s_w: s}, timeout=30)
    truth = _atan_gradient_truth(th, f"{s.p}/{s.q}")
    assert got is not None and abs(mpmath.mpmathify(got) - truth) < mpmath.mpf(10) ** -25 * abs(truth)


def test_narrow_typed_in_peak_is_not_refuted_by_mc_check():
    p = _narrow_normal()
    rp = sf.derive(p, sf.Flow(p, {theta: sp.Integer(1)}), wrt=theta, timeout=20)
    res = sf.mc_check(rp, sp.atan(x), {theta: 10.0, s_w: 0.01}, n=10000, seed=1, timeout=60)
    assert res.status is not sf.Status.REFUTED
    assert res.exact is not None and abs(res.exact - float(_atan_gradient_truth(10, "1/100"))) < 1e-12


def test_pieces_that_miss_the_mass_give_no_value(monkeypatch):
    # the old fixed center 0, scale 1: the peak at 10 is missed => no number, never a wrong one
    from symflow.calculus import quadrature

    monkeypatch.setattr(quadrature, "_mode_scale", lambda p, values: None)
    monkeypatch.setattr(quadrature, "peak_expressions", lambda expr: [])  # and no breakpoint at the peak
    got = numeric_gradient(_narrow_normal(), sp.atan(x), theta, {theta: 10, s_w: sp.Rational(1, 100)}, timeout=30)
    assert got is None


def test_mc_check_does_not_refute_on_an_unconfirmed_quadrature(monkeypatch):
    from symflow.calculus import quadrature

    p = _narrow_normal()
    rp = sf.derive(p, sf.Flow(p, {theta: sp.Integer(1)}), wrt=theta, timeout=20)
    monkeypatch.setattr(integrals, "_holds_all_mass", lambda *a: True)  # let a wrong exact value through
    monkeypatch.setattr(quadrature, "_mode_scale", lambda p, values: None)
    monkeypatch.setattr(quadrature, "peak_expressions", lambda expr: [])  # and no breakpoint at the peak
    res = sf.mc_check(rp, sp.atan(x), {theta: 10.0, s_w: 0.01}, n=10000, seed=1, timeout=60)
    assert res.status is sf.Status.UNKNOWN and "not confirmed" in res.reason


def _t_cf(nu, t=1) -> mpmath.mpf:
    """The characteristic function of Student's t(nu) at t (a Bessel K closed form)."""
    z = mpmath.sqrt(nu) * abs(t)
    return mpmath.besselk(nu / 2, z) * z ** (nu / 2) / (mpmath.gamma(nu / 2) * 2 ** (nu / 2 - 1))


def test_oscillating_heavy_tail_cauchy():
    c = sp.Symbol("c", real=True)
    p = sf.Density(1 / (sp.pi * (1 + (x - c) ** 2)), x, (c,))
    got, _ = expectation_gradient(p, sp.cos(x), c, {c: sp.Rational(1, 5)}, timeout=60)
    with mpmath.workdps(40):
        truth = -(mpmath.e**-1) * mpmath.sin(mpmath.mpf(1) / 5)  # E cos X = e^-1 cos c
        assert got is not None and abs(mpmath.mpmathify(got) - truth) < mpmath.mpf(10) ** -20


def test_oscillating_heavy_tail_student_t_half():
    p = sf.families.student_t(nu=sp.Rational(1, 2))
    m, sg = p.params
    got, _ = expectation_gradient(p, sp.cos(x), m, {m: sp.Rational(1, 5), sg: 1}, timeout=60)
    with mpmath.workdps(40):
        truth = -mpmath.sin(mpmath.mpf(1) / 5) * _t_cf(mpmath.mpf(1) / 2)
        assert got is not None and abs(mpmath.mpmathify(got) - truth) < mpmath.mpf(10) ** -20


def test_bounded_phi_has_a_finite_expectation_under_a_heavy_tail():
    from symflow.calculus.quadrature import infinite_expectation

    p = sf.families.student_t(nu=sp.Symbol("nu", positive=True))
    m, sg, nu = p.params
    vals = {m: sp.Rational(1, 5), sg: 1, nu: sp.Rational(1, 4)}
    assert infinite_expectation(p, sp.cos(x), vals) == ""
    assert infinite_expectation(p, sp.atan(x) + sp.sin(3 * x), vals) == ""
    assert infinite_expectation(p, x, vals) != ""  # E|x| under t(1/4) is infinite


@pytest.mark.slow  # 8-15 s; the fast tier differentiates under t(1/2) (test_oscillating_heavy_tail_student_t_half)
def test_gradient_of_a_bounded_phi_under_a_heavy_tail():
    p = sf.families.student_t(nu=sp.Symbol("nu", positive=True))
    m, sg, nu = p.params
    vals = {m: sp.Rational(1, 5), sg: 1, nu: sp.Rational(1, 4)}
    got, how = expectation_gradient(p, sp.cos(x), m, vals, timeout=60)
    with mpmath.workdps(40):
        truth = -mpmath.sin(mpmath.mpf(1) / 5) * _t_cf(mpmath.mpf(1) / 4)
    assert got is None or abs(mpmath.mpmathify(got) - truth) < mpmath.mpf(10) ** -20, how


@pytest.mark.slow  # CI runs it; the fast tier keeps the cheaper tests of its path
def test_gumbel_overflow_is_not_a_foreign_exception():
    p = sf.Density(sp.exp(-(x - mu) - sp.exp(-(x - mu))), x, (mu,))
    got, _ = expectation_gradient(p, sp.atan(x), mu, {mu: sp.Rational(3, 10)}, timeout=10)
    if got is not None:  # d/dmu E[atan(mu + G)], G standard Gumbel
        with mpmath.workdps(30):
            truth = mpmath.quad(
                lambda g: mpmath.exp(-g - mpmath.exp(-g)) / (1 + (mpmath.mpf(3) / 10 + g) ** 2), [-6, 0, 6, 40, 200]
            )
        assert abs(mpmath.mpmathify(got) - truth) < mpmath.mpf(10) ** -20


def test_quadrature_keeps_its_digits_when_the_mode_is_an_edge():
    # The shifted exponential's log p has curvature 0 up to rounding (-1e-32): its "width" 1e16 made
    # one quadrature piece of the whole support, 14 digits of 30 came back, and the cross-examination
    # of SymPy's right gradient was inconclusive at random points (check_unbiased unknown half the time).
    import mpmath

    from symflow.calculus.quadrature import _mode_scale, numeric_integral

    x_, lam, m = sp.Symbol("x", real=True), sp.Symbol("lambda", positive=True), sp.Symbol("m", real=True)
    p = sf.Density(lam * sp.exp(-lam * (x_ - m)), (x_,), (lam, m), support=sp.Interval(m, sp.oo))
    vals = {lam: sp.Rational(32472, 100000), m: sp.Rational(17081, 100000)}
    _, scale = _mode_scale(p, vals)
    assert abs(scale - 1 / 0.32472) < 1e-9
    got = numeric_integral(p, sp.diff(p.expr, m) * x_**2, vals, dps=30, timeout=30)
    exact = sp.integrate((sp.diff(p.expr, m) * x_**2).subs(vals), (x_, vals[m], sp.oo))
    with mpmath.workdps(30):
        assert abs(mpmath.mpf(got) - mpmath.mpf(sp.N(exact, 40))) < mpmath.mpf(10) ** -24


def test_a_pole_at_the_edge_is_not_taken_for_a_mode_and_a_finite_variance_stays_finite():
    # review: Gamma(shape 3/10, rate b) typed in climbs to x = 1e-21; its "width" 1e-15 put the tail
    # test's far probes at x = 1..5 and sf.variance said inf (truth 4734/125) for the LR estimator
    from symflow.calculus.quadrature import _mode_scale, infinite_expectation

    x = sp.Symbol("x", positive=True)
    b = sp.Symbol("b", positive=True)
    a = sp.Rational(3, 10)
    p = sf.Density(b**a * x ** (a - 1) * sp.exp(-b * x) / sp.gamma(a), (x,), (b,), support=sp.Interval(0, sp.oo))
    values = {b: sp.Rational(1, 2)}
    assert _mode_scale(p, values) is None
    assert infinite_expectation(p, x, values) == ""
    assert infinite_expectation(p, sp.exp(-x), values) == ""
    lr = sf.derive(p, sf.flows.zero(p), wrt=b)
    v = sf.variance(lr, x, values, timeout=60)
    assert v.value != sp.oo and abs(float(v.value) - 4734 / 125) < 1e-6 * 37.872, v
