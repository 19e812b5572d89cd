"""Flow values and the flow constructors of Sec. 2.2, Eq. 51, Eq. 56."""

import pytest
import sympy as sp

import symflow as sf
from tests._cases import eps, exponential, mu, normal, sigma, x


def test_zero_flow_covers_every_parameter():
    u = sf.flows.zero(normal())
    assert u.params == (mu, sigma) and u.field(sigma) == (0,)


def test_reparam_flow_of_the_normal():
    u = sf.flows.reparam(normal())
    assert u.field(mu) == (1,)
    assert sp.simplify(u.field(sigma)[0] - (x - mu) / sigma) == 0


def test_reparam_with_user_g_solves_for_the_standardization():
    u = sf.flows.reparam(normal(), g=mu + sigma * eps, eps=eps)
    assert sp.simplify(u.field(sigma)[0] - (x - mu) / sigma) == 0


def test_implicit_flow_from_cdf_equals_reparam_flow():
    p = normal()
    ui, ur = sf.flows.implicit(p), sf.flows.reparam(p)
    for t in p.params:
        assert sp.simplify(ui.field(t)[0] - ur.field(t)[0]) == 0


def test_implicit_flow_of_the_exponential():
    p = exponential()
    lam = p.params[0]
    # F = 1 - exp(-lam x): u = -(dF/dlam)/(dF/dx) = -x/lam
    assert sp.simplify(sf.flows.implicit(p).field(lam)[0] + x / lam) == 0


def test_weighted_flow_scales():
    u = sf.flows.weighted(sf.flows.reparam(normal()), sp.Rational(1, 4))
    assert sp.simplify(u.field(sigma)[0] - (x - mu) / (4 * sigma)) == 0
    assert u.kind == "weighted"


def test_flow_is_immutable_and_comparable():
    p = normal()
    a = sf.Flow(p, {sigma: [(x - mu) / sigma]})
    b = sf.Flow(p, {sigma: (x - mu) / sigma})
    assert a == b
    with pytest.raises(AttributeError):
        a.kind = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    "fields, error, match",
    [
        ({sigma: [x, x]}, sf.FlowError, "2 component"),
        ({sigma: [sp.Symbol("y") * x]}, sf.FlowError, "not variables or parameters"),
        ({x: [1]}, sf.ParameterError, "not a parameter"),
        ({"sigma": [1]}, sf.ParameterError, "string"),
        ({sigma: ["x - mu"]}, sf.SymflowError, "never parses strings"),
        ([1, 2], sf.FlowError, "must be a dict"),
    ],
)
def test_bad_flows_are_refused(fields, error, match):
    with pytest.raises(error, match=match):
        sf.Flow(normal(), fields)


def test_missing_field_is_an_error():
    u = sf.Flow(normal(), {sigma: [0]})
    with pytest.raises(sf.ParameterError, match="no field for mu"):
        u.field(mu)


def test_reparam_errors():
    with pytest.raises(sf.FlowError, match="no reparameterization"):
        sf.flows.reparam(exponential())
    with pytest.raises(sf.FlowError, match="without eps"):
        sf.flows.reparam(normal(), g=mu + sigma * eps)
    with pytest.raises(sf.FlowError, match="solution"):
        sf.flows.reparam(normal(), g=mu + sigma * eps**2, eps=eps)
    with pytest.raises(sf.FlowError, match="not parameters"):
        sf.flows.weighted(sf.flows.zero(normal()), sp.Symbol("k"))


def test_polar_numbers_leave_the_flow():
    # simplify writes -1 as exp_polar(I*pi) inside hyper(...; -z**2/nu); a flow holds real values
    from symflow.estimators.flows import _principal

    nu = sp.Symbol("nu", positive=True)
    polar = x * sp.hyper((sp.S.Half, nu / 2), (sp.Rational(3, 2),), x**2 * sp.exp_polar(sp.I * sp.pi) / nu)
    assert _principal(polar) == x * sp.hyper((sp.S.Half, nu / 2), (sp.Rational(3, 2),), -(x**2) / nu)


@pytest.mark.slow
def _mp(symbol, expr):
    """``expr`` as an mpmath function of one symbol, through symflow's table (its CDF is a named class)."""
    from symflow.numeric.evaluate import mpmath_function

    fn = mpmath_function([symbol], expr)
    return lambda t: fn(t)[0]


@pytest.mark.slow
def test_implicit_flow_of_student_t_in_nu_is_real_and_right():
    # derive refused the flow: "must be real; remove the imaginary unit I"
    import mpmath

    p = sf.families.student_t()
    m, s, nu = p.params
    flow = sf.flows.implicit(p, timeout=30)
    assert not flow.field(nu)[0].has(sp.exp_polar)
    est = sf.derive(p, flow, nu, timeout=30)
    # u = -(dF/dnu) / p, every derivative in nu by numerical differentiation at nu = 7/3
    at = {m: sp.Rational(3, 10), s: sp.Rational(6, 5), x: sp.Rational(-17, 10)}
    n0 = sp.Rational(7, 3)

    def value(expr):
        expr = expr.xreplace(at)
        with mpmath.workdps(30):
            ders = {d: mpmath.diff(_mp(nu, d.expr), mpmath.mpf(7) / 3) for d in expr.atoms(sp.Derivative)}
            return mpmath.mpmathify(sp.N(expr.xreplace(ders).xreplace({nu: n0}), 30))

    with mpmath.workdps(30):
        want = -mpmath.diff(_mp(nu, p.cdf.xreplace(at)), mpmath.mpf(7) / 3) / value(p.expr)
        assert abs(value(est.v[0]) - want) < 1e-15 * abs(want)
