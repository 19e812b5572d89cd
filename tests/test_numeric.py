"""Compiled estimators (symflow.numeric): planted values, dropped terms, shapes, bad inputs, pickling."""

from __future__ import annotations

import functools
import pickle
import warnings
from collections.abc import Callable

import mpmath
import numpy as np
import pytest
import sympy as sp

import symflow as sf
from symflow.numeric import BACKENDS, numpy_backend

x = sp.Symbol("x", real=True)
mu = sp.Symbol("mu", real=True)
sigma = sp.Symbol("sigma", positive=True)
x1, x2 = sp.symbols("x1 x2", real=True)
a = sp.Symbol("a", positive=True)

PARAMS = {mu: 0.3, sigma: 1.2}
PHI = x**2 + sp.sin(x)
# float64 code vs a 30-digit SymPy evaluation: a few ulps of error per operation.
RTOL = 1e-12


def assert_close(got: np.ndarray, want: np.ndarray) -> None:
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=RTOL)


def normal() -> sf.Density:
    expr = sp.exp(-((x - mu) ** 2) / (2 * sigma**2)) / sp.sqrt(2 * sp.pi * sigma**2)
    return sf.Density(
        expr, (x,), (mu, sigma), sampler=lambda n, pr, rng: pr[mu] + pr[sigma] * rng.standard_normal((n, 1))
    )


def normal_2d() -> sf.Density:
    expr = sp.exp(-((x1 - mu) ** 2) / 2 - x2**2 / (2 * a**2)) / (2 * sp.pi * a)
    return sf.Density(expr, (x1, x2), (mu, a), name="n2")


def points(n: int = 7, d: int = 1, seed: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.3, 1.5, size=(n, d))


def reference(est: sf.Estimator, phi: sp.Expr, xs: np.ndarray, params: dict) -> np.ndarray:
    """v . grad phi + psi phi evaluated by SymPy at 30 digits, point by point (the planted truth)."""
    expr = est.single_sample(phi).xreplace({k: sp.Rational(v) for k, v in params.items()})
    out = []
    for row in xs:
        point = {xi: sp.Rational(float(c)) for xi, c in zip(est.x, row, strict=True)}
        out.append(float(expr.xreplace(point).evalf(30)))
    return np.array(out)


def numeric_phi(xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """phi = x**2 + sin(x) (sum over coordinates) and its gradient."""
    return (xs**2 + np.sin(xs)).sum(axis=1), 2 * xs + np.cos(xs)


@functools.cache
def estimators_1d() -> tuple[sf.Estimator, ...]:
    p = normal()
    user = sf.Estimator(p, sigma, [(x - mu) / (2 * sigma)], ((x - mu) ** 2 / sigma**2 - 1) / (2 * sigma), name="half")
    derived = tuple(sf.derive(p, sf.flows.zero(p), t) for t in (mu, sigma))
    return derived + (
        sf.Estimator(p, mu, [1], 0, name="rp mu"),
        sf.Estimator(p, sigma, [(x - mu) / sigma], 0, name="rp sigma"),
        user,
    )


@pytest.mark.parametrize("index", range(5))
def test_compiled_equals_sympy_pointwise_1d(index: int) -> None:
    est = estimators_1d()[index]
    xs = points()
    phi, grad = numeric_phi(xs)
    got = est.compile()(xs, phi, grad, PARAMS)
    assert got.shape == (len(xs),) and got.dtype == np.float64
    assert_close(got, reference(est, PHI, xs, PARAMS))


def test_compiled_equals_sympy_pointwise_2d() -> None:
    p = normal_2d()
    est = sf.Estimator(p, a, [sp.sin(x1) / a, x2 / a], x1 * x2 / a**2 - mu, name="planted 2-D")
    xs = points(d=2)
    phi, grad = numeric_phi(xs)
    params = {mu: 0.3, a: 1.7}
    assert_close(
        sf.compile_estimator(est)(xs, phi, grad, params), reference(est, PHI.subs(x, x1) + PHI.subs(x, x2), xs, params)
    )


def test_psi_zero_drops_the_phi_term() -> None:
    # transport holds => psi == 0 => phi is never read: nan phi values must not reach the result.
    est = sf.Estimator(normal(), sigma, [(x - mu) / sigma], 0)
    f = est.compile()
    assert not f.uses_phi
    xs = points()
    _, grad = numeric_phi(xs)
    poisoned = np.full(len(xs), np.nan)
    assert np.isfinite(f(xs, poisoned, grad, PARAMS)).all()
    assert_close(f(xs, None, grad, PARAMS), f(xs, poisoned, grad, PARAMS))
    assert "psi*phi" in str(f)


def test_zero_components_of_v_are_dropped() -> None:
    est = sf.Estimator(normal_2d(), a, [0, x2 / a], 0)
    f = est.compile()
    assert f.kept == (1,)
    xs = points(d=2)
    _, grad = numeric_phi(xs)
    grad[:, 0] = np.nan  # the column of the dropped component is never read
    assert_close(f(xs, None, grad, {mu: 0.0, a: 2.0}), xs[:, 1] / 2 * grad[:, 1])


def test_likelihood_ratio_needs_no_gradient() -> None:
    f = estimators_1d()[0].compile()
    assert f.kept == ()
    xs = points()
    phi, _ = numeric_phi(xs)
    assert_close(f(xs, phi, None, PARAMS), (xs[:, 0] - 0.3) / 1.2**2 * phi)


@pytest.mark.parametrize(("v", "psi", "want"), [([0], 0, 0.0), ([0], 2, "2phi"), ([3], 0, "3g")])
def test_constant_coefficients_give_one_value_per_sample(v, psi, want) -> None:
    f = sf.Estimator(normal(), mu, v, psi).compile()
    xs = points()
    phi, grad = numeric_phi(xs)
    out = f(xs, phi, grad, PARAMS)
    expected = {0.0: np.zeros(len(xs)), "2phi": 2 * phi, "3g": 3 * grad[:, 0]}[want]
    assert out.shape == (len(xs),)
    assert_close(out, expected)
    out[0] = 123.0  # a fresh, writable array
    assert out.flags.writeable


def test_one_dimensional_arrays_are_accepted_for_d_equal_1() -> None:
    f = sf.Estimator(normal(), sigma, [(x - mu) / sigma], 0).compile()
    xs = points()
    phi, grad = numeric_phi(xs)
    assert_close(f(xs[:, 0], phi, grad[:, 0], PARAMS), f(xs, phi, grad, PARAMS))


def test_integer_input_is_evaluated_in_float64() -> None:
    f = sf.Estimator(normal(), sigma, [(x - mu) / sigma], 0).compile()
    xs = np.array([[1], [2], [3]])
    out = f(xs, None, xs, {mu: 0, sigma: 3})
    assert out.dtype == np.float64
    assert_close(out, np.array([1, 4, 9]) / 3)


@pytest.mark.parametrize(
    ("xs", "phi", "grad", "match"),
    [
        (np.zeros((4, 2)), np.zeros(4), np.zeros((4, 1)), r"x has shape \(4, 2\) but must be \(n, 1\)"),
        (np.zeros((4, 1, 1)), np.zeros(4), np.zeros((4, 1)), "reshape"),
        (np.zeros((4, 1)), np.zeros(3), np.zeros((4, 1)), r"phi has shape \(3,\) but must be \(4,\)"),
        (np.zeros((4, 1)), np.zeros((4, 1)), np.zeros((4, 1)), "phi.reshape"),
        (np.zeros((4, 1)), np.zeros(4), np.zeros((5, 1)), "grad_phi has 5 rows but x has 4"),
        (np.zeros((4, 1)), np.zeros(4), np.zeros((4, 3)), r"grad_phi has shape \(4, 3\)"),
        (np.array([["a"]]), np.zeros(1), np.zeros((1, 1)), "real numbers"),
        (np.zeros((4, 1)), None, np.zeros((4, 1)), "phi is None"),
        (np.zeros((4, 1)), np.zeros(4), None, "grad_phi is None"),
    ],
)
def test_bad_shapes_are_refused_with_the_fix(xs, phi, grad, match) -> None:
    f = sf.Estimator(normal(), sigma, [(x - mu) / sigma], x - mu).compile()
    with pytest.raises(sf.SymflowError, match=match):
        f(xs, phi, grad, PARAMS)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({mu: 0.3}, "no value for sigma"),
        ({}, "no value for mu, sigma"),
        ({"mu": 0.3, sigma: 1.0}, "string key 'mu'"),
        ({mu: "zero", sigma: 1.0}, "not a real number"),
        ([0.3, 1.2], "must be a dict"),
    ],
)
def test_bad_params_raise_parameter_error(params, match) -> None:
    f = sf.Estimator(normal(), sigma, [(x - mu) / sigma], 0).compile()
    xs = points()
    with pytest.raises(sf.ParameterError, match=match):
        f(xs, None, xs, params)


def test_unknown_backend_lists_the_valid_ones() -> None:
    est = sf.Estimator(normal(), mu, [1], 0)
    with pytest.raises(sf.BackendError, match="unknown backend 'fortran'; choose one of 'jax', 'numpy', 'torch'"):
        est.compile(backend="fortran")
    with pytest.raises(sf.BackendError, match="unknown backend"):
        sf.compile_estimator(est, backend=None)


def test_backend_whose_package_is_missing_names_the_install_command(monkeypatch) -> None:
    monkeypatch.setitem(BACKENDS, "ghost", ("symflow.numeric.numpy_backend", "ghost_pkg_not_here", "pip install ghost"))
    with pytest.raises(sf.BackendError, match="needs the package 'ghost_pkg_not_here'.*`pip install ghost`"):
        sf.compile_estimator(sf.Estimator(normal(), mu, [1], 0), backend="ghost")


def test_unknown_option_and_non_estimator_are_refused() -> None:
    with pytest.raises(sf.BackendError, match="takes no option.*accepts threads"):
        sf.compile_estimator(sf.Estimator(normal(), mu, [1], 0), fast=True)
    with pytest.raises(sf.SymflowError, match="needs an Estimator"):
        sf.compile_estimator(x**2)


def test_undefined_function_is_refused() -> None:
    f = sp.Function("f")
    with pytest.raises(sf.BackendError, match="undefined function f"):
        sf.Estimator(normal(), mu, [0], f(x)).compile()


def test_pickles_and_rebuilds_lazily() -> None:
    f = estimators_1d()[1].compile()
    blob = pickle.dumps(f)
    g = pickle.loads(blob)
    assert "_fn" not in g.__dict__  # only expressions travel; code is regenerated on first call
    xs = points()
    phi, grad = numeric_phi(xs)
    assert_close(g(xs, phi, grad, PARAMS), f(xs, phi, grad, PARAMS))
    assert sp.simplify(g.psi - f.psi) == 0 and g.params == f.params


def test_scipy_fallback_warns_and_is_correct() -> None:
    est = sf.Estimator(normal(), mu, [0], sp.polygamma(1, x**2 + 1))
    with pytest.warns(sf.SymflowWarning, match=r"polygamma via scipy\.special"):
        f = est.compile()
    xs = points()
    phi, grad = numeric_phi(xs)
    assert_close(f(xs, phi, grad, PARAMS), reference(est, PHI, xs, PARAMS))


def test_mpmath_fallback_warns_and_is_correct() -> None:
    est = sf.Estimator(normal(), mu, [sp.zeta(x**2 + 2)], 0)
    with pytest.warns(sf.SymflowWarning, match=r"zeta via mpmath.*slow"):
        f = est.compile()
    xs = points()
    phi, grad = numeric_phi(xs)
    assert_close(f(xs, phi, grad, PARAMS), reference(est, PHI, xs, PARAMS))
    assert [str(fb) for fb in f.fallbacks] == ["zeta -> mpmath"]


def test_without_scipy_special_functions_go_to_mpmath(monkeypatch) -> None:
    monkeypatch.setattr(numpy_backend, "_scipy_available", lambda: False)
    est = sf.Estimator(normal(), mu, [0], sp.polygamma(1, x**2 + 1) + sp.zeta(3))
    with pytest.warns(sf.SymflowWarning, match="mpmath"):
        f = est.compile()
    assert {fb.via for fb in f.fallbacks} == {"mpmath"}
    xs = points()
    phi, grad = numeric_phi(xs)
    want = np.array([float(mpmath.polygamma(1, c * c + 1) + mpmath.zeta(3)) for c in xs[:, 0]]) * phi
    assert_close(f(xs, phi, grad, PARAMS), want)


def test_numpy_only_expressions_do_not_warn() -> None:
    p = normal()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = sf.derive(p, sf.flows.zero(p), sigma).compile()
    assert f.fallbacks == ()


def test_estimator_compile_is_compile_estimator() -> None:
    est = estimators_1d()[4]
    xs = points()
    phi, grad = numeric_phi(xs)
    assert_close(est.compile()(xs, phi, grad, PARAMS), sf.compile_estimator(est, "numpy")(xs, phi, grad, PARAMS))


def test_threaded_evaluation_is_bit_identical_to_single_threaded() -> None:
    est = estimators_1d()[1]  # LR for sigma: several elementwise operations
    n = 3 * numpy_backend.MIN_ROWS_PER_THREAD + 5  # uneven blocks
    xs = points(n=n)
    phi, grad = numeric_phi(xs)
    one = est.compile(threads=1)(xs, phi, grad, PARAMS)
    three = est.compile(threads=3)(xs, phi, grad, PARAMS)
    assert np.array_equal(one, three)
    assert_close(three[:5], reference(est, PHI, xs[:5], PARAMS))


@pytest.mark.parametrize(
    "psi", [sp.exp(-x) * sp.sin(x) ** 2 + sp.log(1 + x**2) / sigma, sp.sqrt(sp.Abs(x - mu)) * sp.cos(3 * x) - x**3]
)
def test_default_threads_equal_the_plain_path_bit_for_bit(psi) -> None:
    # The default (threads=None: one per core, row blocks) against the plain one-call path.
    est = sf.Estimator(normal(), sigma, [x * sp.atan(x)], psi)
    n = 2 * numpy_backend.MIN_ROWS_PER_THREAD + 3 * 2**14 + 7  # several blocks per thread, a ragged last one
    xs = points(n=n)
    phi, grad = numeric_phi(xs)
    plain = est.compile(threads=1)(xs, phi, grad, PARAMS)
    default = est.compile()
    assert dict(default.options) == {"threads": None}
    # The default's first two large calls try threads, then the plain call (see Chooser) => both checked.
    first, second = default(xs, phi, grad, PARAMS), default(xs, phi, grad, PARAMS)
    threaded = est.compile(threads=2)(xs, phi, grad, PARAMS)
    for got in (first, second, threaded):
        assert np.array_equal(plain, got)
    assert_close(first[:4], reference(est, PHI, xs[:4], PARAMS))


def test_chooser_tries_both_ways_then_keeps_the_faster_and_probes_the_other() -> None:
    from symflow.numeric._rows import Chooser

    chooser = Chooser()
    tried = []
    for _ in range(2):
        way = chooser.threaded()
        tried.append(way)
        chooser.record(way, 1.0 if way else 3.0, 10**6)  # planted: threads 3x faster
    assert tried == [True, False]
    picks = [chooser.threaded() for _ in range(3 * Chooser.PROBE_EVERY)]
    assert picks.count(False) == 3 and picks.count(True) == 3 * Chooser.PROBE_EVERY - 3  # one probe per 16 calls
    for _ in range(4):  # the machine got busy: threads now measure 5x slower than the plain call
        chooser.record(True, 15.0, 10**6)
    assert [chooser.threaded() for _ in range(Chooser.PROBE_EVERY)].count(False) == Chooser.PROBE_EVERY - 1


def test_small_inputs_are_never_split() -> None:
    from symflow.numeric import _rows

    calls = []
    assert _rows.evaluate_rows(lambda lo, hi: calls.append((lo, hi)), 2 * _rows.MIN_ROWS_PER_THREAD - 1, 8) is None
    assert calls == []  # too small for two threads => the caller makes its one plain call


def test_an_error_in_a_worker_thread_reaches_the_caller() -> None:
    from symflow.numeric import _rows

    n = 4 * _rows.MIN_ROWS_PER_THREAD

    def block(lo: int, hi: int) -> np.ndarray:
        if lo >= n // 2:  # only the worker's share fails
            raise ValueError(f"bad rows {lo}:{hi}")
        return np.zeros(hi - lo)

    with pytest.raises(ValueError, match="bad rows"):
        _rows.evaluate_rows(block, n, 2)


def test_threads_carry_the_callers_errstate() -> None:
    f = sf.Estimator(normal(), mu, [0], 1 / x).compile(threads=2)
    xs = np.zeros((2 * numpy_backend.MIN_ROWS_PER_THREAD, 1))
    with np.errstate(divide="ignore"):
        assert np.isinf(f(xs, np.ones(len(xs)), None, PARAMS)).all()
    with pytest.raises(FloatingPointError), np.errstate(divide="raise"):
        f(xs, np.ones(len(xs)), None, PARAMS)


@pytest.mark.parametrize("threads", [0, -1, 1.5, True, "2"])
def test_bad_thread_count_is_refused(threads) -> None:
    with pytest.raises(sf.BackendError, match="threads must be a positive integer"):
        sf.Estimator(normal(), mu, [1], 0).compile(threads=threads)


def test_fallbacks_name_the_function_numpy_lacks_not_its_parents():
    # the von Mises estimator's warning named Mul (a parent of besseli) as a missing function
    pytest.importorskip("scipy")
    kappa, z = sp.Symbol("kappa", positive=True), sp.Symbol("z", real=True)
    got = numpy_backend.plan([2 * z * sp.besseli(0, kappa) + 1])
    assert [f.function for f in got.fallbacks] == ["besseli"]


def _counting(make: Callable, calls: list) -> Callable:
    """``make`` whose every returned function records its calls in ``calls``."""

    def counted_make(*args, **kwargs):
        fn = make(*args, **kwargs)

        def counted(*values):
            calls.append(fn)
            return fn(*values)

        return counted

    return counted_make


# A flow whose components share one special function (as the Dirichlet implicit flow's components
# share d/da I_x(a, b)): the kernel numpy lacks must run once per call, not once per occurrence.
_SHARED_SPECIAL = {
    "kernel": ("lambdify_special", sp.Derivative(sp.betainc_regularized(a, 2, 0, 1 / (1 + sp.exp(-x1))), a)),
    "mpmath": ("_mpmath_elementwise", sp.zeta(x1**2 + 2)),
}


@pytest.mark.parametrize("route", sorted(_SHARED_SPECIAL))
def test_a_special_function_shared_by_components_is_evaluated_once(route: str, monkeypatch) -> None:
    factory, shared = _SHARED_SPECIAL[route]
    calls: list = []
    monkeypatch.setattr(numpy_backend, factory, _counting(getattr(numpy_backend, factory), calls))
    est = sf.Estimator(normal_2d(), a, [shared * x2, shared / a], shared * x1, name="shared")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sf.SymflowWarning)
        f = est.compile(threads=1)
        alone = sf.Estimator(normal_2d(), a, [shared, 0], 0, name="alone").compile(threads=1)
    xs = points(n=5, d=2)
    phi, grad = numeric_phi(xs)
    params = {mu: 0.3, a: 1.7}
    got = f(xs, phi, grad, params)
    assert len(calls) == 1, f"{len(calls)} evaluations of the shared {route} function in one call"
    # the same value as each occurrence evaluated on its own
    s = alone(xs, None, np.column_stack([np.ones(5), np.zeros(5)]), params)
    assert_close(got, s * xs[:, 1] * grad[:, 0] + s / 1.7 * grad[:, 1] + s * xs[:, 0] * phi)


def test_a_true_identity_through_floor_frac_and_abs_is_not_an_error() -> None:
    # the decide_zero fuzzer's case 5346: the landmark search evaluates d/ds of the residual by evalf with the
    # point in subs; mpmath numbers there made evalf's floor call as_real_imag on an mpf (an AttributeError
    # out of decide_zero).  The point now goes in as SymPy Floats.
    from symflow import Domain, decide_zero

    x = sp.Symbol("x", real=True)
    s = sp.Symbol("s", positive=True)
    residual = sp.Abs(12 * x / 5 + sp.floor(s) + 1) - sp.Abs(
        s + 12 * x * (sp.cosh(sp.frac(s) / 8) ** 2 - sp.sinh(sp.frac(s) / 8) ** 2) / 5 - sp.frac(s) + 1
    )
    verdict = decide_zero(residual, Domain().extended({x, s}), timeout=20)
    assert verdict.status.value in ("proved", "consistent", "unknown")


def test_sums_print_a_positive_term_first_with_the_same_bits() -> None:
    # SymPy orders terms by name: -a + b (an array negation, then an addition) becomes b - a (one subtraction)
    from sympy.printing.numpy import NumPyPrinter

    from symflow.numeric._codegen import PositiveFirst

    a, b, c = sp.symbols("a b c")
    printer = type("P", (PositiveFirst, NumPyPrinter), {})()
    assert NumPyPrinter().doprint(b - a) == "-a + b" and printer.doprint(b - a) == "b - a"
    assert printer.doprint(-a - b) == "-a - b"  # nothing positive to put first
    assert printer.doprint(c - a - b) == "-a - b + c"  # only the first two terms may trade places
    assert printer.doprint(c * (b - a) ** 2 - c) == "c*(b - a)**2 - c"
    expr = sp.exp(b - a) * (c - a) ** 2 - c**2 + b
    rng = np.random.default_rng(5)
    args = [rng.normal(size=1000) for _ in range(3)]
    plain = sp.lambdify([a, b, c], expr, modules="numpy")(*args)
    ordered = sp.lambdify([a, b, c], expr, modules="numpy", printer=printer)(*args)
    assert np.array_equal(plain, ordered)
