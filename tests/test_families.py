"""The family catalogue: generic tests over one registry (tests/_family_cases.py), then planted values.

Every generic test is parametrized over ``CASES``; what a case supports (its
scipy oracle, its flows, which transport checks are decidable today and which
are pending, which parts are slow) is declared on the case.

Statistical tests: each case's sampler is checked by a Kolmogorov-Smirnov
test at level 1e-4 (Bonferroni-split over the coordinates in d > 1) at a
fixed seed, so a correct sampler fails a case with probability <= 1e-4, and
the whole registry (~30 cases) with probability <= 3e-3 were the seeds
redrawn.  For pmfs the KS statistic max_k |ECDF(k) - F(k)| is compared with
the continuous KS distribution, which is conservative for discrete data (the
false-alarm rate is then below 1e-4).

Numeric tolerances come from one helper, ``digits_agree``.  Pending transport
checks (a flow whose parameter derivative today's numeric layer cannot
evaluate) run with the case's budget and are marked slow: by design they
spend it and must come back anything but refuted.
"""

from __future__ import annotations

import functools
import pickle

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy import stats

import symflow as sf
from symflow.errors import DensityError, ParameterError
from symflow.families import (
    beta,
    chi_squared,
    dirichlet,
    exponential,
    gamma,
    kumaraswamy,
    l_distribution,
    laplace,
    log_normal,
    logistic,
    mvn,
    normal,
    student_t,
    uniform,
    von_mises,
    weibull,
)
from symflow.families.samplers import Draw
from symflow.numeric.evaluate import mpmath_function, numpy_function
from tests._family_cases import CASE_BY_ID, CASES, Case

R = sp.Rational
SEED = 20240611
N_KS = 20_000
KS_ALPHA = 1e-4
N_POINTS = 12
REL_SCIPY = 10  # digits: scipy's float64 pdfs and cdfs agree with the exact values to 1e-10 relative
QUAD_DPS = 30


def digits_agree(got, want, digits: int) -> bool:
    """|got - want| <= 10^-digits * max(1, |want|) for the real parts, imaginary parts below the same bound."""
    got, want = mpmath.mpmathify(got), mpmath.mpmathify(want)
    tol = mpmath.mpf(10) ** (-digits) * max(mpmath.mpf(1), abs(want))
    return abs(got - want) <= tol


def relative_agree(got: np.ndarray, want: np.ndarray, digits: int) -> bool:
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    return bool(np.all(np.abs(got - want) <= 10.0 ** (-digits) * np.abs(want)))


# -- helpers over the registry -------------------------------------------------------------------


@functools.cache
def density(case_id: str) -> sf.Density:
    return CASE_BY_ID[case_id].build()


@functools.cache
def flow(case_id: str, kind: str) -> sf.Flow:
    p, case = density(case_id), CASE_BY_ID[case_id]
    build = sf.flows.reparam if kind == "reparam" else sf.flows.implicit
    return build(p, timeout=case.flow_timeout)


def values(case: Case) -> dict:
    return dict(zip(density(case.id).params, case.values, strict=True))


def exact_values(case: Case) -> dict:
    # The binary value of each float, to 40 digits (exactly).  Not Rationals: SymPy evaluates a
    # Rational to a Rational power exactly, and with 2^52 in the denominators that runs out of memory.
    return {k: sp.Float(v, 40) for k, v in values(case).items()}


def points(case: Case, n: int = N_POINTS) -> np.ndarray:
    """Random points in the support: draws from the case's own sampler at a seed of their own."""
    return density(case.id).sample(n, values(case), rng=7)


def _cases(test: str, keep=lambda c: True) -> list:
    return [pytest.param(c, id=c.id, marks=[pytest.mark.slow] if test in c.slow else []) for c in CASES if keep(c)]


def _transport_params() -> list:
    out = []
    for c in CASES:
        params = density(c.id).params
        for kind in c.flows:
            for i, t in enumerate(params):
                slow = c.pending_reason(t) is not None or {"transport", f"transport:{kind}", f"transport:{t}"} & c.slow
                out.append(pytest.param(c, kind, i, id=f"{c.id}-{kind}-{t}", marks=[pytest.mark.slow] if slow else []))
    return out


# -- generic tests -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", _cases("registry"))
def test_case_values_cover_the_parameters(case: Case) -> None:
    p = density(case.id)
    assert len(case.values) == len(p.params), (case.id, p.params)
    assert all(str(t) in map(str, p.params) for t, _ in case.pending), case.pending
    p.param_values(values(case))  # satisfies the constraints


def _quad_1d(p: sf.Density, case: Case, f) -> mpmath.mpf:
    s = p.support_sets[0]
    exact = exact_values(case)
    lo, hi = (e.xreplace(exact) for e in (s.inf, s.sup))
    ends = [mpmath.ninf if lo == -sp.oo else mpmath.mpf(sp.N(lo, QUAD_DPS + 5))]
    ends += [mpmath.mpf(c) for c in case.cuts]
    ends += [mpmath.inf if hi == sp.oo else mpmath.mpf(sp.N(hi, QUAD_DPS + 5))]
    return mpmath.quad(lambda t: f(t)[0], ends)


def _sum_pmf(p: sf.Density, f) -> mpmath.mpf:
    s = p.support_sets[0]
    if isinstance(s, sp.Range):
        return mpmath.fsum(f(mpmath.mpf(int(k)))[0] for k in s)
    return mpmath.nsum(lambda k: f(k)[0], [0, mpmath.inf])


def _quad_simplex(f, d: int):
    """The integral over x_i > 0, x_1 + ... + x_d < 1, innermost coordinate last."""

    def inner(prefix: list, left) -> mpmath.mpf:
        if len(prefix) == d - 1:
            return mpmath.quad(lambda t: f(*prefix, t)[0], [0, left])
        return mpmath.quad(lambda t: inner([*prefix, t], left - t), [0, left])

    return inner([], mpmath.mpf(1))


@pytest.mark.parametrize("case", _cases("normalized", lambda c: c.normalization is not None))
def test_density_is_normalized(case: Case) -> None:
    p = density(case.id)
    if case.normalization == "symbolic":
        verdict = sf.check_normalized(p)
        assert verdict.status in (sf.Status.PROVED, sf.Status.CONSISTENT), verdict
        return
    with mpmath.workdps(QUAD_DPS):
        f = mpmath_function(p.x, p.expr.xreplace(exact_values(case)))
        if p.is_discrete:
            total = _sum_pmf(p, f)
        elif case.region == "simplex":
            total = _quad_simplex(f, p.dim)
        else:
            total = _quad_1d(p, case, f)
        assert digits_agree(mpmath.re(total), 1, QUAD_DPS - 5) and abs(mpmath.im(total)) < 1e-25, total


@pytest.mark.parametrize("case", _cases("pdf", lambda c: c.oracle is not None))
def test_density_matches_scipy(case: Case) -> None:
    p = density(case.id)
    pts = points(case)
    with mpmath.workdps(QUAD_DPS):
        f = mpmath_function(p.x, p.expr.xreplace(exact_values(case)))
        got = np.array([float(mpmath.re(f(*row)[0])) for row in pts])
    want = case.oracle.pdf(case.values, pts)
    assert relative_agree(got, want, REL_SCIPY), (got, want)


def _has_cdf(c: Case) -> bool:
    return c.oracle is not None and c.oracle.cdf is not None and density(c.id).cdf is not None


@pytest.mark.parametrize("case", _cases("cdf", _has_cdf))
def test_cdf_matches_scipy(case: Case) -> None:
    # SymPy's own evalf evaluates the CDF (lambdify's mpmath printer maps betainc_regularized
    # to the unregularized betainc: ENGINEERING-NOTES).
    p = density(case.id)
    pts = points(case, 6)[:, 0]
    exact = exact_values(case)
    got = np.array([float(sp.re(sp.N(p.cdf.xreplace({**exact, p.x[0]: sp.Float(t, 40)}), 20))) for t in pts])
    want = case.oracle.cdf(case.values, pts)
    assert relative_agree(got, want, REL_SCIPY), (got, want)


def _ks_pvalues(case: Case, xs: np.ndarray) -> list[float]:
    p = density(case.id)
    if p.dim > 1:
        u = case.oracle.uniformize(case.values, xs)
        return [stats.kstest(col, "uniform").pvalue for col in u.T]
    if p.is_discrete:
        ks = np.arange(xs.min(), xs.max() + 1)
        ecdf = np.searchsorted(np.sort(xs[:, 0]), ks, side="right") / len(xs)
        statistic = np.max(np.abs(ecdf - case.oracle.cdf(case.values, ks)))
        return [stats.kstwo.sf(statistic, len(xs))]
    return [stats.kstest(xs[:, 0], lambda t: case.oracle.cdf(case.values, t)).pvalue]


@pytest.mark.parametrize("case", _cases("sampler", lambda c: c.oracle is not None))
def test_sampler_passes_ks(case: Case) -> None:
    p = density(case.id)
    xs = p.sample(N_KS, values(case), rng=SEED)
    assert xs.shape == (N_KS, p.dim)
    np.testing.assert_array_equal(xs, p.sample(N_KS, values(case), rng=SEED))  # seeded => reproducible
    exact = exact_values(case)
    for j, s in enumerate(p.support_sets):
        lo, hi = (float(e.xreplace(exact)) for e in (s.inf, s.sup))
        assert np.all((xs[:, j] >= lo) & (xs[:, j] <= hi))
    pvalues = _ks_pvalues(case, xs)
    assert min(pvalues) >= KS_ALPHA / len(pvalues), pvalues


@pytest.mark.parametrize(
    ("case_id", "wrong"),
    [
        ("normal", lambda n, pr, rng: rng.normal(0.3, 1.1 * 1.2, (n, 1))),  # 10% too wide
        ("beta_2a", lambda n, pr, rng: rng.beta(1.3, 1.3, (n, 1))),  # the tie dropped: Beta(a, a)
        ("dirichlet3", lambda n, pr, rng: rng.dirichlet([1.5, 2.5, 2.0], n)[:, :2]),  # alpha_2, alpha_3 swapped
        ("poisson", lambda n, pr, rng: rng.poisson(2.6, (n, 1))),  # rate 4% off
    ],
    ids=["normal-wide", "beta-untied", "dirichlet-swapped", "poisson-off"],
)
def test_ks_catches_a_wrong_sampler(case_id: str, wrong) -> None:
    case = CASE_BY_ID[case_id]
    xs = density(case_id).with_(sampler=wrong).sample(N_KS, values(case), rng=SEED)
    assert min(_ks_pvalues(case, xs)) < KS_ALPHA


@pytest.mark.parametrize("case", _cases("pickle"))
def test_pickle_round_trip(case: Case) -> None:
    p = density(case.id)
    q = pickle.loads(pickle.dumps(p))
    assert q == p
    for field in ("sampler", "reparam", "standardize", "cdf", "constraints", "name", "support"):
        assert getattr(q, field) == getattr(p, field), field
    np.testing.assert_array_equal(q.sample(50, values(case), rng=3), p.sample(50, values(case), rng=3))
    if p.reparam is not None:
        base = p.reparam.base
        assert pickle.loads(pickle.dumps(base)).sample(20, {}, rng=3).tolist() == base.sample(20, {}, rng=3).tolist()


@pytest.mark.parametrize(("case", "kind", "index"), _transport_params())
def test_flow_solves_transport(case: Case, kind: str, index: int) -> None:
    p = density(case.id)
    theta = p.params[index]
    u = flow(case.id, kind)
    assert len(u.field(theta)) == p.dim
    verdict = sf.check_transport(p, u, theta, timeout=case.transport_timeout)
    if case.pending_reason(theta) is not None:
        assert verdict.status is not sf.Status.REFUTED, verdict
    else:
        assert verdict.status in (sf.Status.PROVED, sf.Status.CONSISTENT), verdict


def test_wrong_flow_is_refuted() -> None:
    # The gamma's rate flow -x/beta used for the shape alpha does not transport p.
    p = gamma()
    alpha, rate = p.params
    wrong = sf.Flow(p, {alpha: [-p.x[0] / rate]})
    assert sf.check_transport(p, wrong, alpha).status is sf.Status.REFUTED


# -- ties and expressions ------------------------------------------------------------------------

A = sp.Symbol("a", positive=True)
C = sp.Symbol("c", positive=True)


def test_tied_beta_is_beta_a_a() -> None:
    p, q = beta(alpha=A, beta=A), beta()
    alpha, b = q.params
    assert p.params == (A,)
    assert p.expr == q.expr.xreplace({alpha: A, b: A})
    assert p.cdf == sp.betainc_regularized(A, A, 0, p.x[0])
    # The sampler receives {a: value} and draws numpy's Beta(a, a).
    want = np.random.default_rng(5).beta(1.7, 1.7, 10)
    np.testing.assert_array_equal(p.sample(10, {A: 1.7}, rng=5)[:, 0], want)


def test_expression_parameters_follow_the_tie() -> None:
    p = beta(alpha=A, beta=2 * A)
    assert p.params == (A,)
    np.testing.assert_array_equal(p.sample(10, {A: 1.3}, rng=5)[:, 0], np.random.default_rng(5).beta(1.3, 2.6, 10))
    g = gamma(alpha=A, beta=A)
    np.testing.assert_array_equal(g.sample(10, {A: 2.2}, rng=5)[:, 0], np.random.default_rng(5).gamma(2.2, 1 / 2.2, 10))
    # The reparameterization follows by the chain rule: x = m + m^2 eps => u_m = 1 + 2 m eps at eps = (x - m)/m^2.
    m = sp.Symbol("m", real=True)
    n = normal(mu=m, sigma=m**2)
    u = sf.flows.reparam(n)[m][0]
    assert sp.cancel(u - (1 + 2 * (n.x[0] - m) / m)) == 0
    assert sf.check_transport(n, sf.flows.reparam(n), m).status is sf.Status.PROVED


def test_params_in_order_of_first_appearance() -> None:
    b = sp.Symbol("b", positive=True)
    assert beta(alpha=C, beta=A + b).params == (C, A, b)
    assert dirichlet(alpha=(C, A, A + b)).params == (C, A, b)
    assert student_t(sigma=C, nu=2 * C).params == (sp.Symbol("mu", real=True), C)
    iso = mvn(2, "diag", scale=(C, C))
    assert tuple(map(str, iso.params)) == ("mu_1", "mu_2", "c")
    xs = iso.sample(4000, {iso.params[0]: 0.0, iso.params[1]: 0.0, C: 2.0}, rng=1)
    assert abs(xs.std() - 2.0) < 0.1


def test_range_constraints_for_unassumed_symbols() -> None:
    s = sp.Symbol("s")  # no assumptions: positivity becomes a constraint
    p = normal(sigma=s)
    assert p.constraints == (sp.StrictGreaterThan(s, 0),)
    with pytest.raises(ParameterError):
        p.param_values({p.params[0]: 0.0, s: -1.0})
    a, b = uniform().params  # real Symbols: positivity becomes constraints
    assert kumaraswamy(a=a, b=b).constraints == (sp.StrictGreaterThan(a, 0), sp.StrictGreaterThan(b, 0))
    assert beta(alpha=A + 1, beta=A).constraints == ()  # a > 0 => a + 1 > 0
    with pytest.raises(DensityError, match="never positive"):
        beta(alpha=-A)


# -- planted values ------------------------------------------------------------------------------


def test_gamma_implicit_flow_reference_value() -> None:
    # REFERENCE-CASES: Gamma(alpha, rate 1), theta = alpha, alpha = 2, x = 1.3.
    p = density("gamma")
    alpha, rate = p.params
    x = p.x[0]
    u = flow("gamma", "implicit")[alpha][0]
    with mpmath.workdps(40):
        got = mpmath_function((x, alpha, rate), u)(mpmath.mpf("1.3"), 2, 1)[0]
        assert digits_agree(got, mpmath.mpf("0.867725835238768662"), 17)
        # Independent route: u = -(dP/dalpha)/p with P the regularized lower incomplete gamma.
        pdf = mpmath.mpf("1.3") * mpmath.exp(-mpmath.mpf("1.3"))
        dP = mpmath.diff(lambda a: mpmath.gammainc(a, 0, mpmath.mpf("1.3"), regularized=True), 2)
        assert digits_agree(got, -dP / pdf, 30)


def _beta_inc_derivative(a, b, x, which: int) -> mpmath.mpf:
    """dI_x(a, b)/da (which = 0) or /db (1) from the integral representation (not a finite difference)."""
    weight = (lambda t: mpmath.log(t)) if which == 0 else (lambda t: mpmath.log(1 - t))
    shift = mpmath.digamma(a if which == 0 else b) - mpmath.digamma(a + b)
    cuts = [0, x * mpmath.mpf("1e-6"), x / 1000, x / 10, x]  # split near the t^(a-1) singularity
    integral = mpmath.quad(lambda t: t ** (a - 1) * (1 - t) ** (b - 1) * weight(t), cuts)
    return integral / mpmath.beta(a, b) - mpmath.betainc(a, b, 0, x, regularized=True) * shift


def _with_betainc_derivatives(u: sp.Expr, point: dict) -> sp.Expr:
    """u with each d/da betainc_regularized(a, b, 0, z) (a Derivative, or a Subs of one) valued at ``point``."""
    subs = {}
    for d in u.atoms(sp.Subs) | {e for e in u.atoms(sp.Derivative) if not e.has(sp.Dummy)}:
        at = dict(zip(d.variables, d.point, strict=True)) if isinstance(d, sp.Subs) else {}
        inner = d.expr if isinstance(d, sp.Subs) else d
        (fn,), (wrt,) = inner.atoms(sp.betainc_regularized), inner.variables
        a, b, _, z = (e.xreplace(at).xreplace(point) for e in fn.args)
        which = 0 if fn.args[0] == wrt else 1
        subs[d] = sp.Float(_beta_inc_derivative(*(mpmath.mpf(sp.N(e, 60)) for e in (a, b, z)), which), 60)
    return u.xreplace(subs).xreplace(point)


@pytest.mark.parametrize("which", [0, 1], ids=["alpha", "beta"])
@pytest.mark.parametrize(("a", "b", "x"), [(R(5, 2), R(7, 2), R(3, 10)), (R(1, 2), R(3, 1), R(4, 5))])
def test_beta_implicit_flow_matches_finite_differences(which: int, a, b, x) -> None:
    # u_theta = -(dI_x(a, b)/dtheta)/p, its derivative from the integral representation, against a
    # central finite difference of mpmath's regularized incomplete beta at 60 digits.
    p = density("beta")
    theta = p.params[which]
    u = flow("beta", "implicit")[theta][0]
    with mpmath.workdps(60):
        got = mpmath.mpf(sp.N(_with_betainc_derivatives(u, {p.params[0]: a, p.params[1]: b, p.x[0]: x}), 60))
        am, bm, xm = (mpmath.mpf(sp.N(v, 60)) for v in (a, b, x))
        h = mpmath.mpf("1e-20")
        shifted = (
            (lambda t: mpmath.betainc(t, bm, 0, xm, regularized=True))
            if which == 0
            else (lambda t: mpmath.betainc(am, t, 0, xm, regularized=True))
        )
        centre = am if which == 0 else bm
        fd = (shifted(centre + h) - shifted(centre - h)) / (2 * h)
        pdf = xm ** (am - 1) * (1 - xm) ** (bm - 1) / mpmath.beta(am, bm)
        assert digits_agree(got, -fd / pdf, 30)


def test_dirichlet_first_coordinate_is_the_beta_flow() -> None:
    # PyTorch's test_dirichlet_on_diagonal: dx_1/dalpha_i of Dirichlet(alpha) is the implicit flow of
    # its first marginal Beta(alpha_1, alpha_2 + alpha_3), for every alpha_i.
    p = density("dirichlet3")
    a1, a2, a3 = p.params
    x1 = p.x[0]
    marginal = beta(x=x1, alpha=a1, beta=a2 + a3)
    assert marginal.params == p.params
    u = flow("dirichlet3", "implicit")
    first = sf.Flow(marginal, {t: [u[t][0]] for t in p.params})
    verdict = sf.check_same_flow(first, sf.flows.implicit(marginal))
    assert verdict.status is sf.Status.PROVED, verdict
    # and a value: u_{alpha_1}[0] = -(dI/da)/p_Beta at a planted point, from the integral representation.
    point = {a1: R(3, 2), a2: 2, a3: R(5, 2), x1: R(3, 10)}
    with mpmath.workdps(40):
        got = mpmath.mpf(sp.N(_with_betainc_derivatives(u[a1][0], point), 40))
        a, b, x = mpmath.mpf(1.5), mpmath.mpf(4.5), mpmath.mpf(3) / 10
        want = -_beta_inc_derivative(a, b, x, 0) / (x ** (a - 1) * (1 - x) ** (b - 1) / mpmath.beta(a, b))
        assert digits_agree(got, want, 30)


def test_dirichlet_standardization_makes_samples_uniform() -> None:
    # S (stick-breaking Beta CDFs, evaluated by scipy through the numeric layer) maps Dirichlet
    # samples to U(0, 1)^2: KS per coordinate at level 1e-4 / 2.
    case = CASE_BY_ID["dirichlet3"]
    p = density("dirichlet3")
    xs = p.sample(N_KS, values(case), rng=SEED)
    s = numpy_function((p.x, p.params), p.standardize)(tuple(xs.T), tuple(case.values))
    assert min(stats.kstest(np.asarray(c), "uniform").pvalue for c in s) >= KS_ALPHA / 2


def test_dirichlet_any_dimension() -> None:
    p = dirichlet(4)
    assert len(p.x) == 3 and len(p.params) == 4 and len(p.standardize) == 3
    assert p.sample(5, dict.fromkeys(p.params, 1.0), rng=0).shape == (5, 3)
    two = dirichlet(2)
    b = beta(x=two.x[0], alpha=two.params[0], beta=two.params[1])
    assert sp.simplify(two.expr - b.expr) == 0 and two.standardize == (b.cdf,)


def test_von_mises_mean_flow_is_closed_form() -> None:
    # F = Integral of p from -pi: d/dmu F = p(-pi) - p(x), so u_mu = 1 - p(-pi)/p(x).
    p = density("von_mises")
    mu, _ = p.params
    x = p.x[0]
    want = 1 - p.expr.xreplace({x: -sp.pi}) / p.expr
    point = {mu: R(2, 5), p.params[1]: 2, x: R(-1, 3)}
    got = flow("von_mises", "implicit")[mu][0]
    assert digits_agree(sp.N(got.xreplace(point), 30), sp.N(want.xreplace(point), 30), 25)


def test_student_t_cdf_forms_agree() -> None:
    # The 2F1 CDF equals the incomplete-beta form 1 - I_{nu/(nu + z^2)}(nu/2, 1/2)/2 (z > 0) and its
    # mirror (z < 0), at 30 digits with nu a parameter.
    p = student_t()
    mu, sigma, nu = p.params
    x = p.x[0]
    for xv, nv in ((R(3), R(7, 2)), (R(-5, 2), R(3, 10)), (R(40), R(5))):
        z = (xv - R(1, 5)) / R(13, 10)
        tail = sp.betainc_regularized(nv / 2, sp.S.Half, 0, nv / (nv + z**2)) / 2
        want = 1 - tail if z > 0 else tail
        got = p.cdf.xreplace({mu: R(1, 5), sigma: R(13, 10), nu: nv, x: xv})
        assert digits_agree(sp.N(got, 30), sp.N(want, 30), 25)


@pytest.mark.parametrize("d", [2, 3])
def test_mvn_cholesky_flow_is_Ldot_Linv(d: int) -> None:
    # REFERENCE-CASES / App. E.1: for an entry theta of L, u = (dL/dtheta) L^{-1} (x - mu).
    p = mvn(d, "full")
    mus, scale = p.params[:d], p.params[d:]
    lower = sp.Matrix(d, d, lambda i, j: scale[i * (i + 1) // 2 + j] if j <= i else 0)
    centred = sp.Matrix(p.x) - sp.Matrix(mus)
    u = sf.flows.reparam(p)
    for theta in scale:
        want = lower.diff(theta) * lower.inv() * centred
        got = sp.Matrix(u[theta])
        assert (got - want).applyfunc(sp.cancel) == sp.zeros(d, 1), theta
    for i, m in enumerate(mus):
        assert sp.Matrix(u[m]) == sp.Matrix([int(j == i) for j in range(d)])


def test_mvn_wrong_cholesky_flow_is_refuted() -> None:
    # L^{-1} dL/dtheta (x - mu): the factors in the wrong order do not transport p.
    p = mvn(2, "full")
    mus, (l11, l21, l22) = p.params[:2], p.params[2:]
    lower = sp.Matrix([[l11, 0], [l21, l22]])
    wrong = lower.inv() * lower.diff(l21) * (sp.Matrix(p.x) - sp.Matrix(mus))
    assert sf.check_transport(p, sf.Flow(p, {l21: list(wrong)}), l21).status is sf.Status.REFUTED


def test_lr_under_l_distribution_is_eq80() -> None:
    # Eq. (80): the LR estimator of d/dmu E_N[phi] sampled from q_L weighs phi by 1/(x - mu).
    p, q = normal(), l_distribution()
    mu = p.params[0]
    est = sf.derive(p, sf.flows.zero(p), wrt=mu, q=q)
    assert est.v == (0,)
    assert sp.simplify(est.psi - 1 / (p.x[0] - mu)) == 0


# -- structure: Symbols, parameter order, supports -----------------------------------------------


def test_parameter_orders_and_shared_symbols() -> None:
    names = {
        normal: ("mu", "sigma"),
        laplace: ("mu", "sigma"),
        logistic: ("mu", "sigma"),
        l_distribution: ("mu", "sigma"),
        student_t: ("mu", "sigma", "nu"),
        exponential: ("lambda",),
        uniform: ("a", "b"),
        gamma: ("alpha", "beta"),
        beta: ("alpha", "beta"),
        chi_squared: ("k",),
        weibull: ("lambda", "k"),
        log_normal: ("mu", "sigma"),
        kumaraswamy: ("a", "b"),
        von_mises: ("mu", "kappa"),
    }
    for family, want in names.items():
        p = family()
        assert tuple(map(str, p.params)) == want, family
        assert p.x == normal().x == (sp.Symbol("x", real=True),)
        assert p.name == family.__name__
    assert l_distribution().params == normal().params == log_normal().params
    assert gamma().params == beta().params
    assert tuple(map(str, kumaraswamy().params)) == tuple(map(str, uniform().params))
    assert kumaraswamy().params[0] != uniform().params[0]  # positive shapes, not the uniform's real edges
    assert weibull().params[0] == exponential().params[0] and weibull().params[1] == chi_squared().params[0]
    assert tuple(map(str, mvn(3, "full").params)) == (
        "mu_1",
        "mu_2",
        "mu_3",
        "L_11",
        "L_21",
        "L_22",
        "L_31",
        "L_32",
        "L_33",
    )
    assert tuple(map(str, mvn(2, "diag").params)) == ("mu_1", "mu_2", "sigma_1", "sigma_2")
    assert mvn(3).params[3].is_positive and mvn(3).params[4].is_positive is None  # diagonal > 0, off-diagonal real
    assert tuple(map(str, dirichlet().params)) == ("alpha_1", "alpha_2", "alpha_3")
    assert dirichlet().x == mvn(2).x


def test_symbol_overrides() -> None:
    y, m, s = sp.Symbol("y", real=True), sp.Symbol("m", real=True), sp.Symbol("s", positive=True)
    p = normal(x=y, mu=m, sigma=s)
    assert p.x == (y,) and p.params == (m, s)
    renamed = dict(zip((*normal().x, *normal().params), (y, m, s), strict=True))
    assert sp.simplify(p.expr - normal().expr.xreplace(renamed)) == 0
    xs = sp.symbols("u v", real=True)
    assert mvn(2, "diag", x=xs).x == xs
    assert von_mises(x=sp.Symbol("xi", real=True)).cdf.free_symbols == {sp.Symbol("xi", real=True), *von_mises().params}


def test_supports_and_constraints() -> None:
    u = uniform()
    a, b = u.params
    assert u.support == sp.Interval(a, b) and u.has_moving_support
    with pytest.raises(ParameterError):
        u.param_values({a: 2.0, b: 1.0})
    for family in (exponential, gamma, chi_squared, weibull, log_normal):
        assert family().support == sp.Interval(0, sp.oo)
    assert beta().support == kumaraswamy().support == sp.Interval(0, 1)
    assert von_mises().support == sp.Interval(-sp.pi, sp.pi)
    assert dirichlet().support_sets == (sp.Interval(0, 1),) * 2
    assert not normal().has_moving_support
    assert student_t(nu=5).params == student_t().params[:2]
    assert student_t().reparam is None and student_t(nu=5).reparam is not None


def test_mvn_builds_quickly_at_d8_and_its_flow_is_plain() -> None:
    # Not a timing test: the flow for L_88 must be S_8 exactly as the density states it
    # (no simplify rewrote it), which is what keeps large d cheap.
    p = mvn(8, "full")
    assert len(p.params) == 8 + 36
    u = sf.flows.reparam(p)
    assert u[p.params[-1]][7] == p.standardize[7]


def _closure_sampler() -> Draw:
    return Draw(lambda rng, size: rng.random(size))


@pytest.mark.parametrize(
    "make",
    [
        lambda: normal(x="x"),
        lambda: normal(mu=3),
        lambda: normal(mu=sp.Integer(3)),
        lambda: student_t(nu=-1),
        lambda: student_t(nu="5"),
        lambda: beta(alpha="a"),
        lambda: mvn(0),
        lambda: mvn(2.5),
        lambda: mvn(True),
        lambda: mvn(2, "dense"),
        lambda: mvn(2, x=sp.symbols("u", real=True)),
        lambda: mvn(2, "diag", scale=["s1", "s2"]),
        lambda: dirichlet(1),
        lambda: dirichlet(3, alpha=(A, A)),
        lambda: dirichlet(alpha="abc"),
        lambda: dirichlet(x=sp.symbols("u v w", real=True)),
        _closure_sampler,
        lambda: Draw("no_such_method"),
    ],
    ids=[
        "string-x",
        "number-mu",
        "sympy-number-mu",
        "negative-nu",
        "string-nu",
        "string-alpha",
        "d0",
        "fractional-d",
        "bool-d",
        "unknown-covariance",
        "short-x",
        "string-scale",
        "dirichlet-d1",
        "dirichlet-d-mismatch",
        "dirichlet-string-alpha",
        "dirichlet-long-x",
        "closure-sampler",
        "unknown-generator-method",
    ],
)
def test_bad_input_is_refused(make) -> None:
    with pytest.raises(DensityError):
        make()


def test_a_number_for_a_slot_says_how_to_fix_the_parameter():
    y, lam = sp.Symbol("y", positive=True), sp.Symbol("lam", positive=True)
    with pytest.raises(sf.DensityError, match=r"To fix alpha to 2.*p.expr.subs\(alpha, 2\)"):
        sf.families.gamma(y, 2, lam)
