"""False verdicts found by the first adversarial review (/work/review/r1), one section per root cause.

Each test plants the known truth: a residual that is wrong only somewhere the old test never looked
(a region of parameter space, one integer of a pmf's support), a phi whose expectation is undefined,
an infinite variance, a witness where the support is empty.  A wrong claim must be refuted or left
unknown, never called consistent; a right one must not be refuted.
"""

import mpmath
import pytest
import sympy as sp

import symflow as sf
from symflow.core.domain import Domain, Interval1D
from symflow.zero import decide_zero
from symflow.zero.landmarks import LandmarkFinder
from symflow.zero.points import sample_points

x = sp.Symbol("x", real=True)
mu = sp.Symbol("mu", real=True)
sigma = sp.Symbol("sigma", positive=True)
theta = sp.Symbol("theta", positive=True)
NORMAL_DOMAIN = Domain(((x, Interval1D()),), ((mu, Interval1D()), (sigma, Interval1D(sp.S.Zero, sp.oo))))
NOT_ZERO = (sf.Status.PROVED, sf.Status.CONSISTENT)


def _witness(v: sf.Verdict) -> dict:
    return {k: float(val) for k, val in v.witness.as_dict().items()}


# -- 1. residuals wrong only in a region of parameter space ----------------------------------------
# The numeric test located kinks and peaks in the variables only: a residual that is zero at every
# random parameter draw (mu > 1000, sigma > 50, a bump 1e-3 wide at mu = 3) was called consistent.

PARAMETER_REGIONS = [
    # (residual, the region where it is nonzero, as a test of the witness)
    (x * sp.Heaviside(mu - 1000), lambda w: w["mu"] > 1000),
    ((x - mu) * sp.Max(0, sigma - 50), lambda w: w["sigma"] > 50),
    (sp.Piecewise((x, mu > 1000), (0, True)), lambda w: w["mu"] > 1000),
    # parameters only; positive everywhere, so a witness off the peak (|mu - 3| = 0.015: e^-236, seen once)
    # is true as well; the peak's landmarks keep it near mu = 3
    (sp.exp(-(10**6) * (mu - 3) ** 2), lambda w: abs(w["mu"] - 3) < 0.05),
    # nonzero wherever x is (the fast tier at stop 24 saw a true witness at |sigma - 3| = 0.0107: e^-113 x)
    (x * sp.exp(-(10**6) * (sigma - 3) ** 2), lambda w: abs(w["sigma"] - 3) < 0.05),
    (sp.Abs(mu + 700) - (mu + 700), lambda w: w["mu"] < -700),
]


@pytest.mark.parametrize(("residual", "region"), PARAMETER_REGIONS)
def test_residual_nonzero_only_in_a_parameter_region_is_refuted(residual, region):
    v = decide_zero(residual, NORMAL_DOMAIN, timeout=15)
    assert v.status is sf.Status.REFUTED, v
    assert region({str(k): val for k, val in _witness(v).items()}), v.witness


def test_identity_with_a_parameter_kink_is_not_refuted():
    v = decide_zero(sp.Max(0, mu - 1000) - (mu - 1000) * sp.Heaviside(mu - 1000), NORMAL_DOMAIN, timeout=15)
    assert v.status in NOT_ZERO, v


def test_parameter_landmarks_stay_inside_the_interval_and_the_constraints():
    a, b = sp.Symbol("a", positive=True), sp.Symbol("b", positive=True)
    # kinks at a = 3 (inside), a = -5 (outside a > 0) and b = a + 7; constraint a < b < 20
    residual = sp.Heaviside(a - 3) + sp.Heaviside(a + 5) + sp.Max(0, b - a - 7)
    dom = Domain((), ((a, Interval1D(sp.S.Zero, sp.oo)), (b, Interval1D(sp.S.Zero, sp.oo))), (a < b, b < 20))
    # ten runs (the points are random): a landmark drawn with b < 3 breaks a < b, and the other parameters
    # are drawn again around it (a third of the runs once found no point near the kink)
    for _ in range(10):
        finder = LandmarkFinder(residual, [a, b])
        pts = sample_points(dom, {a, b}, landmarks=finder)
        assert pts and all(dom.contains(pt) for pt in pts)
        near = [pt for pt in pts if abs(pt[a] - 3) < 1e-6]
        assert any(pt[a] > 3 for pt in near) and any(pt[a] < 3 for pt in near)  # both sides of the kink


def test_transport_wrong_only_for_large_mu_is_refuted():
    p = sf.families.normal()
    m, _ = p.params
    v = sf.check_transport(p, sf.Flow(p, {m: [1 + sp.Heaviside(m - 1000)]}), m, timeout=20)
    assert v.status is sf.Status.REFUTED and float(v.witness.as_dict()[m]) > 1000


def test_classify_estimator_wrong_only_for_large_mu_is_refuted():
    p = sf.families.normal()
    m, s = p.params
    e = sf.Estimator(p, m, [0], (p.x[0] - m) / s**2 * (1 + sp.Max(0, m - 1000)))
    v = sf.classify(e, bias=False, timeout=20)
    assert v.status is sf.Status.REFUTED and float(v.witness.as_dict()[m]) > 1000


def test_classify_estimator_with_a_narrow_bump_in_mu_is_refuted():
    p = sf.families.normal()
    m, s = p.params
    e = sf.Estimator(p, m, [0], (p.x[0] - m) / s**2 * (1 + sp.exp(-(10**6) * (m - 3) ** 2)))
    v = sf.classify(e, bias=False, timeout=20)
    # the bias is positive for every mu; the landmarks keep the witness near the bump (|mu - 3| < 0.05: e^-2500)
    assert v.status is sf.Status.REFUTED and abs(float(v.witness.as_dict()[m]) - 3) < 0.05


def test_density_normalized_only_below_a_parameter_kink_is_refuted():
    y = sp.Symbol("y", real=True)
    q = sf.Density(
        theta * sp.exp(-theta * y) * (1 + sp.Max(0, theta - 100)), y, (theta,), support=sp.Interval(0, sp.oo)
    )
    v = sf.check_normalized(q, timeout=30)
    assert v.status is sf.Status.REFUTED and float(v.witness.as_dict()[theta]) > 100


@pytest.mark.slow
def test_check_unbiased_bias_a_narrow_bump_in_mu_is_refuted():
    p = sf.families.normal()
    m, s = p.params
    e = sf.Estimator(p, m, [0], (p.x[0] - m) / s**2 * (1 + sp.exp(-(10**6) * (m - 3) ** 2)))
    v = sf.check_unbiased(e, p.x[0], timeout=40)
    # the bias is positive for every mu; the landmarks keep the witness near the bump (|mu - 3| < 0.05: e^-2500).
    # Quadrature confirms it only where the bump exceeds 1e-30 (|mu - 3| < 0.008): a witness farther out, which
    # a loaded machine's shorter landmark search can give (CI-like run at stop 23), leaves it unknown, never proved
    if v.status is sf.Status.UNKNOWN:
        assert "the symbolic bias is nonzero at" in v.reason, v
        return
    assert v.status is sf.Status.REFUTED and abs(float(v.witness.as_dict()[m]) - 3) < 0.05


# -- 2. a pmf's residual wrong at one integer of the support -----------------------------------------
# Integer test points were 0..11 and a few random ones: KroneckerDelta(y, 12) was never seen.


def _poisson_with(extra):
    po = sf.families.poisson()
    (lam,) = po.params
    (y,) = po.x
    lr = sf.derive(po, sf.flows.zero(po), lam)
    return sf.Estimator(po, lam, [0], lr.psi + extra(y)), y


@pytest.mark.parametrize("k", [12, 30])
@pytest.mark.parametrize(
    "extra",
    [
        lambda y, k: sp.KroneckerDelta(y, k),
        lambda y, k: sp.Piecewise((1, sp.Eq(y, k)), (0, True)),
        lambda y, k: sp.Piecewise((0, sp.Ne(y, k)), (1, True)),
    ],
    ids=["KroneckerDelta", "Eq", "Ne"],
)
def test_pmf_psi_wrong_at_one_integer_is_refuted(extra, k):
    e, y = _poisson_with(lambda y: extra(y, k))
    v = sf.classify(e, bias=False, timeout=30)
    assert v.status is sf.Status.REFUTED, v
    assert float(v.witness.as_dict()[y]) == k


def test_integer_landmarks_are_the_integers_around_the_root():
    n = sp.Symbol("n", integer=True, nonnegative=True)
    dom = Domain(((n, Interval1D(sp.S.Zero, sp.oo, True)),))
    pts = sample_points(dom, {n}, landmarks=LandmarkFinder(sp.KroneckerDelta(n, 1234), [n]))
    values = {int(pt[n]) for pt in pts}
    assert {1233, 1234, 1235} <= values
    assert all(pt[n] == mpmath.floor(pt[n]) for pt in pts)


# -- 3. phi = DiracDelta -------------------------------------------------------------------------------
# E[DiracDelta(x)] = p(0) is never seen by a sample or by quadrature: every entry that takes phi
# refuses it (derive always did), with the same error.

POINT_MASSES = [
    sp.DiracDelta(x),
    2 + sp.DiracDelta(x - 1),
    sp.DiracDelta(x, 1),
    sp.Derivative(sp.Heaviside(x), x),
    sp.SingularityFunction(x, 0, -1),
]


def _entries():
    p = sf.families.normal()
    m, s = p.params
    rp = sf.derive(p, sf.flows.reparam(p), s)
    vals = {m: 0.0, s: 1.0}
    return (
        p,
        rp,
        [
            lambda phi: sf.check_unbiased(rp, phi, vals, timeout=20),
            lambda phi: sf.check_unbiased(rp, phi, timeout=20),
            lambda phi: sf.mc_check(rp, phi, vals, 1000, timeout=20),
            lambda phi: sf.variance(rp, phi, vals, timeout=20),
            lambda phi: sf.compare([rp], phi, vals, n=1000, timeout=20),
            lambda phi: sf.derive(p, sf.flows.reparam(p), s, phi=phi),
            lambda phi: rp.single_sample(phi),
        ],
    )


@pytest.mark.parametrize("phi", POINT_MASSES, ids=str)
def test_point_mass_phi_is_refused_everywhere(phi):
    p, rp, entries = _entries()
    phi = phi.xreplace({x: p.x[0]})
    for entry in entries:
        with pytest.raises(sf.EstimatorError, match="DiracDelta"):
            entry(phi)


def test_ordinary_phi_with_jumps_and_kinks_is_accepted():
    from symflow.core.convert import as_test_function

    for phi in (sp.Heaviside(x), sp.Abs(x), sp.Derivative(sp.Abs(x), x), sp.SingularityFunction(x, 0, 1)):
        assert as_test_function(phi) == phi


# -- 4. E_p[phi] infinite or undefined ------------------------------------------------------------------
# The exact gradient integrates (dp/dtheta) phi, which converges one power faster than p phi:
# for a Cauchy density and phi = x it is a number, and the estimator's mean matched it.

m_, g_ = sp.Symbol("m", real=True), sp.Symbol("g", positive=True)
CAUCHY = sf.Density(g_ / (sp.pi * (g_**2 + (x - m_) ** 2)), x, (m_, g_), name="cauchy")


def _lr(p):
    return sf.derive(p, sf.flows.zero(p), p.params[0])


def _student_t(nu):
    st = sf.families.student_t(nu=nu)  # nu = 1: the Cauchy density, with a sampler
    return st, {st.params[0]: 0.5, st.params[1]: 1.0}


@pytest.mark.parametrize(
    ("nu", "phi"),
    [(1, sp.Abs), (1, lambda t: t), (3, lambda t: t**3)],
    ids=["cauchy |x|", "cauchy x", "t(3) x^3"],
)
def test_gradient_of_an_undefined_expectation_is_unknown(nu, phi):
    p, vals = _student_t(nu)
    phi = phi(p.x[0])
    v = sf.check_unbiased(_lr(p), phi, vals, timeout=30)
    assert v.status is sf.Status.UNKNOWN and "infinite" in v.reason, v
    r = sf.mc_check(_lr(p), phi, vals, 10**4, timeout=30)
    assert r.status is sf.Status.UNKNOWN and r.exact is None and "infinite" in r.exact_method, r


@pytest.mark.slow
def test_symbolic_gradient_of_an_undefined_expectation_is_not_claimed():
    v = sf.check_unbiased(_lr(CAUCHY), x, timeout=30)
    assert v.status not in NOT_ZERO, v


@pytest.mark.slow
def test_bounded_phi_under_a_heavy_tail_is_still_checked():
    v = sf.check_unbiased(_lr(CAUCHY), sp.atan(x), {m_: 0.5, g_: 1.0}, timeout=30)
    assert v.status is sf.Status.CONSISTENT, v


# -- 5. an infinite variance reported as a number ----------------------------------------------------------
# The LR estimator under q = N(0, 0.5^2) for p = N(0, 1): (p/q)^2 q grows like exp(x^2), so
# E_q[E^2] = oo; Monte Carlo gave 1899.8 with no warning.


def _lr_under(tau_value):
    p = sf.families.normal()
    m, s = p.params
    tau, nu0 = sp.Symbol("tau", positive=True), sp.Symbol("nu0", real=True)
    lr = sf.derive(p, sf.flows.zero(p), m, q=sf.families.normal(mu=nu0, sigma=tau))
    return lr, p.x[0], {m: 0.0, s: 1.0, nu0: 0.0, tau: tau_value}


def test_infinite_variance_is_reported_infinite():
    lr, x_, vals = _lr_under(0.5)
    res = sf.variance(lr, x_, vals, timeout=30)
    assert res.route == "divergent" and res.value == float("inf") and "infinite" in res.reason, res
    table = sf.compare([lr], x_, vals, n=10**4, timeout=30)
    row = table.rows[0]
    assert float(row.variance) == float("inf") and "diverges" in row.how


@pytest.mark.slow
def test_finite_variance_under_a_wider_q_is_a_number():
    lr, x_, vals = _lr_under(2.0)
    res = sf.variance(lr, x_, vals, timeout=30)
    assert res.route != "divergent" and 0 < float(res.value) < float("inf"), res


# -- 6. a witness where the support is empty -------------------------------------------------------------
# A uniform density on [a, b] without the constraint a < b: the residual of a correct flow no longer
# holds x, and it was "refuted" at a = 0.57, b = -0.18, where the support is empty.

a_, b_ = sp.Symbol("a", real=True), sp.Symbol("b", real=True)
UNIFORM_AB = Domain(((x, Interval1D(a_, b_)),), ((a_, Interval1D()), (b_, Interval1D())))


def test_correct_flow_of_a_uniform_without_constraints_is_not_refuted():
    pu = sf.Density(1 / (b_ - a_), x, (a_, b_), support=sp.Interval(a_, b_))
    v = sf.check_transport(pu, sf.Flow(pu, {b_: [(x - a_) / sp.Abs(b_ - a_)]}), b_, timeout=30)
    assert v.status in NOT_ZERO, v


@pytest.mark.slow
def test_residual_nonzero_only_where_the_support_is_empty_is_not_refuted():
    v = decide_zero(sp.Heaviside(a_ - b_) * (a_ - b_), UNIFORM_AB, timeout=10)
    assert v.status in NOT_ZERO, v


def test_points_and_witnesses_lie_where_the_support_is_non_empty():
    assert not UNIFORM_AB.contains({a_: sp.Rational(57, 100), b_: sp.Rational(-18, 100)})
    assert UNIFORM_AB.contains({a_: sp.Rational(-18, 100), b_: sp.Rational(57, 100)})
    pts = sample_points(UNIFORM_AB, {a_, b_})
    assert pts and all(pt[a_] < pt[b_] for pt in pts)


# -- review of stop 20: densities that differ only in their constraints; constraints on a parameter the
# residual does not hold ------------------------------------------------------------------------------


def test_densities_that_differ_only_in_constraints_do_not_share_a_domain():
    # u equals the RP flow 1 only for theta >= 0: true under theta > 0, false for theta any real
    th = sp.Symbol("theta", real=True)
    dens = sp.exp(-((x - th) ** 2) / 2) / sp.sqrt(2 * sp.pi)
    u = 1 + (sp.Abs(th) - th) * x
    constrained = sf.Density(dens, x, (th,), constraints=(th > 0,))
    free = sf.Density(dens, x, (th,))
    assert constrained != free
    assert sf.check_transport(constrained, sf.Flow(constrained, {th: u}), th, timeout=20).status in NOT_ZERO
    assert free.domain().constraints == ()
    assert sf.check_transport(free, sf.Flow(free, {th: u}), th, timeout=20).status is sf.Status.REFUTED


def test_a_constraint_on_a_parameter_the_residual_does_not_hold_still_lets_it_be_refuted():
    th = sp.Symbol("theta", real=True)
    d = Domain(((x, Interval1D(sp.Integer(-3), sp.Integer(3))),), ((th, Interval1D()),), (th > -1,))
    v = decide_zero(sp.Integer(1), d, timeout=10)
    assert v.status is sf.Status.REFUTED, v
    assert float(v.witness.as_dict()[th]) > -1


# -- second review: a support cut by an indicator, per-parameter moving edges, p = 0 on the support -----
# A simplex x + y < 1 written as an indicator inside [0, 1]^2 has the face x + y = 1: only the box's faces
# were examined, so a flow that pushes mass across x + y = 1 (y held fixed) was proved unbiased.  The
# truth (scipy dblquad): the estimator's mean is 0.33036 while d/dtheta E[x] = 2/(theta + 2)^2 = 0.16327.

_xs, _ys = sp.symbols("x y", real=True)
_SIMPLEX_INDICATORS = {
    "piecewise": sp.Piecewise((1, _xs + _ys < 1), (0, True)),
    "heaviside": sp.Heaviside(1 - _xs - _ys),
}


def _dirichlet_theta_1_1(indicator):
    p = sf.Density(
        theta * (theta + 1) * _xs ** (theta - 1) * indicator, (_xs, _ys), (theta,), support=[sp.Interval(0, 1)] * 2
    )
    marginal_cdf = _xs**theta * ((theta + 1) - theta * _xs)  # Beta(theta, 2)
    ux = -sp.diff(marginal_cdf, theta) / (theta * (theta + 1) * _xs ** (theta - 1) * (1 - _xs))
    return p, ux


def test_both_indicator_forms_cut_the_same_face():
    # from the face on, check_boundary does the same for both forms: the fast tier runs the test below with the
    # Piecewise form (the Heaviside form took 15-19 s more) and checks here that the Heaviside form gives its face
    from symflow.checks.faces import indicator_faces

    faces = {k: [f.level for f in indicator_faces(_dirichlet_theta_1_1(i)[0])] for k, i in _SIMPLEX_INDICATORS.items()}
    assert faces == {"piecewise": [_xs + _ys - 1], "heaviside": [_xs + _ys - 1]}


@pytest.mark.parametrize(
    "kind", [k if k == "piecewise" else pytest.param(k, marks=pytest.mark.slow) for k in sorted(_SIMPLEX_INDICATORS)]
)
def test_flux_through_an_indicators_face_is_examined(kind):
    p, ux = _dirichlet_theta_1_1(_SIMPLEX_INDICATORS[kind])
    crossing = sf.Flow(p, {theta: (ux, sp.S.Zero)})  # y fixed: mass crosses x + y = 1
    verdict = sf.check_boundary(p, crossing, theta, _ys, timeout=60)
    assert verdict.status is sf.Status.REFUTED
    w = _witness(verdict)
    assert w[_xs] + w[_ys] == pytest.approx(1)  # the witness lies on the indicator's face
    # the transport flow (y scales with 1 - x) passes, and plus (0, 1/p) it still solves transport
    # inside but carries p u_y phi = phi = y across the face: biased, whatever the box faces say
    inside = -ux * _ys / (1 - _xs)
    assert sf.check_boundary(p, sf.Flow(p, {theta: (ux, inside)}), theta, _ys, timeout=60).status in NOT_ZERO
    plus = sf.Flow(p, {theta: (ux, inside + 1 / (theta * (theta + 1) * _xs ** (theta - 1)))})
    assert sf.check_boundary(p, plus, theta, _ys, timeout=60).status is sf.Status.REFUTED


def test_classify_refutes_a_flow_crossing_the_simplex_face():
    p, ux = _dirichlet_theta_1_1(_SIMPLEX_INDICATORS["piecewise"])
    est = sf.derive(p, sf.Flow(p, {theta: (ux, sp.S.Zero)}), wrt=theta, timeout=30)
    verdict = sf.classify(est, timeout=60)
    assert verdict.status is sf.Status.REFUTED
    assert sum(_witness(verdict)[s] for s in (_xs, _ys)) == pytest.approx(1)


def test_an_indicator_face_moving_with_the_parameter_is_never_proved():
    # x + y < theta: the face moves, and no moving-face term is derived => unknown, naming the face
    p = sf.Density(
        2 / theta**2 * sp.Piecewise((1, _xs + _ys < theta), (0, True)),
        (_xs, _ys),
        (theta,),
        support=[sp.Interval(0, 2)] * 2,
    )
    verdict = sf.check_boundary(p, sf.Flow(p, {theta: (_xs / theta, _ys / theta)}), theta, _xs, timeout=60)
    assert verdict.status is sf.Status.UNKNOWN
    assert "unknown: flux through the indicator's face" in str(verdict.details)


def test_pareto_edge_moves_with_m_only_and_the_implicit_flow_moves_with_it():
    from sympy.stats import Pareto

    from symflow.checks.unbiased import _edges_left_behind

    p = sf.from_stats(Pareto("X", sp.Symbol("m", positive=True), sp.Symbol("alpha", positive=True)))
    m, alpha = p.params
    assert p.moves_with(m) and not p.moves_with(alpha)
    assert _edges_left_behind(sf.derive(p, sf.flows.zero(p), alpha)) == ()
    assert _edges_left_behind(sf.derive(p, sf.flows.implicit(p), m)) == ()  # u(m) = x/m at x = m is 1
    lr = sf.derive(p, sf.flows.zero(p), m)
    bare = sf.Estimator(p, m, lr.v, lr.psi)  # the likelihood ratio without its moving-boundary term
    assert _edges_left_behind(bare) == (f"{p.x[0]} = m",)  # what check_unbiased's diagnosis names (below)


# check_unbiased in full (10 s on CI, up to 30 s loaded): slow; the fast tier keeps the diagnosis above
@pytest.mark.slow
def test_pareto_lr_without_its_moving_boundary_term_is_not_proved_and_the_implicit_flow_is():
    from sympy.stats import Pareto

    p = sf.from_stats(Pareto("X", sp.Symbol("m", positive=True), sp.Symbol("alpha", positive=True)))
    m = p.params[0]
    lr = sf.derive(p, sf.flows.zero(p), m)
    bare = sf.Estimator(p, m, lr.v, lr.psi)
    verdict = sf.check_unbiased(bare, 1 / p.x[0], timeout=60)
    assert verdict.status not in NOT_ZERO  # refuted, or unknown when quadrature at the witness runs out
    assert "x = m moves with m" in verdict.reason
    implicit = sf.check_unbiased(sf.derive(p, sf.flows.implicit(p), m), 1 / p.x[0], timeout=60)
    assert implicit.status is sf.Status.PROVED and "moving-boundary" not in (implicit.reason or "")


def test_a_density_zero_on_part_of_its_support_names_the_cause():
    pos = sp.Symbol("x", positive=True)
    p = sf.Density(
        sp.Piecewise((theta * pos ** (theta - 1), pos < 1), (0, True)),
        (pos,),
        (theta,),
        support=[sp.Interval(0, sp.oo)],
    )
    with pytest.raises(sf.SymflowError, match="0 on part of its stated support.*state the support where p > 0"):
        sf.derive(p, sf.flows.zero(p), wrt=theta)


# -- third review (stop 23): flows that jump in x, and Floats in the inputs --------------------------------------


def test_a_flow_whose_flux_jumps_is_not_proved_and_derive_refuses_it():
    # p w = 1/2 on (0, 1): div(p u) + dp/dmu = (delta(x) - delta(x - 1)) / 2, invisible pointwise; the estimator
    # derive built with psi = 0 had mean 1.5 against 1 for phi = x
    p = sf.families.normal()
    mu, _ = p.params
    (x,) = p.x
    as_piecewise = 1 + sp.Piecewise((sp.Rational(1, 2) / p.expr, (x > 0) & (x < 1)), (0, True))
    as_heaviside = 1 + sp.Rational(1, 2) * (sp.Heaviside(x) - sp.Heaviside(x - 1)) / p.expr
    for u in (as_piecewise, as_heaviside):
        flow = sf.Flow(p, {mu: [u]})
        v = sf.check_transport(p, flow, wrt=mu, timeout=60)
        # the Heaviside form's pointwise residual takes 16 s idle: under load the surfaces may be left undecided
        named = "jumps across" in v.reason or (u is as_heaviside and "undecided" in v.reason)
        assert v.status is sf.Status.UNKNOWN and named, v
        with pytest.raises(sf.FlowError, match="jumps across"):
            sf.derive(p, flow, wrt=mu)


def test_a_flow_written_with_branches_that_meet_is_still_proved():
    # Laplace's implicit flows are Piecewise in x (its CDF), and p u is continuous at the mode
    p = sf.families.laplace()
    for wrt in p.params:
        flow = sf.flows.implicit(p)
        assert sf.check_transport(p, flow, wrt=wrt).status is sf.Status.PROVED
        assert sf.derive(p, flow, wrt=wrt).psi == 0


def test_a_pole_of_a_flows_argument_on_an_edge_of_the_support_is_no_jump_and_inside_it_is_undecided():
    # CI at 7e1d226: the Dirichlet's implicit flow applies betainc to x_2/(1 - x_1), whose pole x_1 = 1 is an
    # edge of the support; the flux check refused it as a possible jump, and derive refused a correct flow
    from symflow.calculus.flux_jumps import flux_jumps

    p = sf.families.beta()
    (x,) = p.x
    on_edge = (sp.atan(x / (1 - x)),)
    assert flux_jumps(p, on_edge).status == "none"
    inside = flux_jumps(p, (sp.atan(1 / (x - sp.Rational(1, 2))),))
    assert inside.status == "undecided" and "where 2*x - 1 = 0" in inside.detail, inside
    q = sf.families.normal()
    (y,) = q.x
    assert flux_jumps(q, (sp.atan(1 / y),)).status == "undecided"


def test_the_flux_check_passes_over_the_gaussian_atoms():
    # CI at 7e1d226: the pole search applied SymPy's fraction to the matrix entries of a precision-form mvn
    p = sf.families.mvn(3, form="precision")
    assert sf.derive(p, sf.flows.reparam(p), p.params[4]).psi == 0


@pytest.mark.slow  # 10 s: the full suite only
def test_floats_in_a_jump_point_or_a_weight_are_not_read_finer_than_they_are_written():
    # 2 H(x - 0.5): the binary 0.5 is exact, but the jump term's values were compared at 50 digits with an input
    # known to 15; and the weighted RP/LR flow with k = 0.3 has weights 0.3 and 0.7 that do not sum to 1 in binary
    p = sf.families.normal()
    mu, sigma = p.params
    (x,) = p.x
    phi = 2 * sp.Heaviside(x - 0.5)
    est = sf.derive(p, sf.flows.reparam(p), wrt=mu, phi=phi)
    assert sf.check_unbiased(est, phi, {mu: 0.3, sigma: 1.1}, timeout=30).status is sf.Status.CONSISTENT
    lp = sf.families.laplace()
    m, s = lp.params
    (y,) = lp.x
    weighted = sf.derive(lp, sf.flows.weighted(sf.flows.reparam(lp), 0.3), wrt=s)
    assert sf.check_unbiased(weighted, y**2, {m: 0.5, s: 2.0}, timeout=30).status is sf.Status.CONSISTENT
    assert sf.check_unbiased(weighted, y**2, timeout=30).status is not sf.Status.REFUTED


def test_a_pole_of_phi_inside_the_support_makes_the_gradient_undefined():
    # E|1/x| under a normal is infinite (p(0) > 0); quadrature gave a finite "exact gradient" and consistent
    p = sf.families.normal()
    mu, sigma = p.params
    (x,) = p.x
    lr = sf.derive(p, sf.flows.zero(p), wrt=sigma)
    at = {mu: 0.3, sigma: 1.0}
    for phi in (1 / sp.Abs(x), x**-2, 1 / x):
        v = sf.check_unbiased(lr, phi, at, timeout=20)
        assert v.status is sf.Status.UNKNOWN and "pole at x = 0" in v.reason, (phi, v)
    for phi in (1 / sp.sqrt(sp.Abs(x)), sp.log(sp.Abs(x))):  # integrable poles
        assert sf.check_unbiased(lr, phi, at, timeout=20).status is sf.Status.CONSISTENT


def test_a_mixture_with_decimal_weights_is_normalized_at_parameter_values_too():
    # 0.3 N(mu, 1) + 0.7 N(2, 1): proved normalized, but at parameter values its integral 1 - 5.6e-17 (the binary
    # weights) was "not normalized (its integral is 1.0)" and check_unbiased unknown
    x, m = sp.Symbol("x", real=True), sp.Symbol("mu", real=True)

    def n(c):
        return sp.exp(-((x - c) ** 2) / 2) / sp.sqrt(2 * sp.pi)

    q = sf.Density(0.3 * n(m) + 0.7 * n(2), x, (m,), name="mix")
    est = sf.derive(q, sf.flows.zero(q), wrt=m)
    assert sf.check_unbiased(est, x**2, {m: 0.25}, timeout=30).status is sf.Status.CONSISTENT


# -- review at stop 24: jumps at poles that no denominator shows ---------------------------------------------------


@pytest.mark.parametrize(
    "jump",
    [
        lambda x, mu: sp.acot(x) + sp.atan(x),  # acot(x) = atan(1/x): (pi/2) sign(x)
        lambda x, mu: sp.atan(sp.tan(x)) - x,  # jumps by -pi at every (k + 1/2) pi
        lambda x, mu: sp.acot(x - mu) + sp.atan(x - mu),  # a jump that moves with the parameter
    ],
    ids=["acot", "atan-tan", "acot-moving"],
)
def test_a_flux_jump_at_a_pole_no_denominator_shows_is_not_proved_and_derive_refuses_it(jump):
    # review at stop 24: check_transport proved 1 + (acot(x) + atan(x))/p for a normal's mu (the flux jumps by pi
    # at 0, so the estimator derive built with psi = 0 was biased by -pi phi(0))
    p = sf.families.normal()
    mu, _ = p.params
    (x,) = p.x
    flow = sf.Flow(p, {mu: [1 + jump(x, mu) / p.expr]})
    v = sf.check_transport(p, flow, mu, timeout=30)
    assert v.status is sf.Status.UNKNOWN and "may jump or be singular where" in v.reason, v
    with pytest.raises(sf.FlowError, match="may jump or be singular where"):
        sf.derive(p, flow, mu, timeout=30)


@pytest.mark.parametrize("phi", [lambda x: sp.acot(x), lambda x: sp.atan(sp.tan(x))], ids=["acot", "atan-tan"])
def test_phi_that_jumps_at_a_pole_no_denominator_shows_is_refused(phi):
    p = sf.families.normal()
    (x,) = p.x
    with pytest.raises(sf.EstimatorError, match="may jump where"):
        sf.derive(p, sf.flows.reparam(p), p.params[0], phi=phi(x))


def test_a_pole_outside_the_support_is_no_jump_of_the_flux():
    # review at stop 24: a pole at x = -1, outside an exponential's [0, oo), made the flow undecided
    from symflow.calculus.flux_jumps import flux_jumps

    p = sf.families.exponential()
    (x,) = p.x
    assert flux_jumps(p, ((sp.atan(1 / (x + 1)) + sp.atan(x + 1)) / p.expr,)).status == "none"
    assert flux_jumps(p, ((sp.atan(1 / (x - 1)) + sp.atan(x - 1)) / p.expr,)).status == "undecided"


def test_a_flux_jump_along_the_surface_is_no_source_and_a_normal_one_is():
    # review at stop 24: p u = (p + H, H) jumps by (1, 1) across x_1 = x_2, tangentially, so div(p u) has no delta;
    # it was unknown and derive refused it.  (p + H, 0) jumps normally and stays refused.
    p = sf.families.mvn(2, covariance="diag")
    x1, x2 = p.x
    mu1 = p.params[0]
    h = sp.Heaviside(x1 - x2)
    along = sf.Flow(p, {mu1: [1 + h / p.expr, h / p.expr]})
    assert sf.check_transport(p, along, mu1, timeout=60).status is sf.Status.PROVED
    assert sf.derive(p, along, mu1, timeout=60).psi == 0
    across = sf.Flow(p, {mu1: [1 + h / p.expr, 0]})
    v = sf.check_transport(p, across, mu1, timeout=60)
    assert v.status is sf.Status.UNKNOWN and "normal component of p u jumps across" in v.reason, v
    with pytest.raises(sf.FlowError, match="normal component of p u jumps across"):
        sf.derive(p, across, mu1, timeout=60)


def test_a_flow_with_a_point_source_is_not_proved_and_derive_refuses_it():
    # second review at stop 24: J = x/|x|^2 added to p (1, 0) for mu_1 of a diagonal mvn(2) is divergence-free off
    # 0, but div(x/|x|^2) = 2 pi delta(x) in 2-D: check_transport proved it and derive's psi = 0 was biased by
    # -2 pi phi(0) (mc_check refuted it, z = -547)
    p = sf.families.mvn(2, covariance="diag")
    x1, x2 = p.x
    mu1 = p.params[0]
    r2 = x1**2 + x2**2
    flow = sf.Flow(p, {mu1: [1 + x1 / r2 / p.expr, x2 / r2 / p.expr]})
    v = sf.check_transport(p, flow, mu1, timeout=30)
    assert v.status is sf.Status.UNKNOWN and "singular where x_1**2 + x_2**2 = 0" in v.reason, v
    with pytest.raises(sf.FlowError, match="singular where"):
        sf.derive(p, flow, mu1, timeout=30)
