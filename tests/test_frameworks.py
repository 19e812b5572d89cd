"""sf.jax and sf.torch: samplers whose derivative is the flow, surrogates whose gradient is the estimator.

One registry of estimators (``SURROGATE_CASES``) drives the surrogate tests of both frameworks:
each case's gradient on fixed samples must equal the estimator evaluated by ``est.compile()`` (the
main part) plus its extra terms evaluated by numpy on the same samples.  Training loops converge to
known optima with fixed seeds.  torch tests skip, naming the install command, where torch is
missing.
"""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
import warnings

import numpy as np
import pytest
import sympy as sp

import symflow as sf

if importlib.util.find_spec("jax") is None:
    pytest.skip('package "jax" not installed: pip install "symflow[jax]"', allow_module_level=True)


class _Imported:
    """A module imported on first use: every xdist worker collects this file, and importing jax here
    loaded it into both workers for the whole suite (each fork of a budgeted step copies its pages)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str):
        if attr.startswith("_"):  # pytest's collection probes module globals (__test__, _pytestfixturefunction)
            raise AttributeError(attr)
        return getattr(importlib.import_module(self._name), attr)


jax = _Imported("jax")
jnp = _Imported("jax.numpy")

# Tolerances, in one place.  Same formula, same samples: the surrogate's gradient and est.compile()
# differ only by the order of float64 operations.
SAME_SAMPLES_RTOL = 1e-10
# Jumps of phi are read a relative eps**(3/4) (1.8e-12) to either side of the surface.
SURFACE_RTOL = 1e-9
# Training loops: the final parameter within 2 % of the optimum (the target).
OPTIMUM_RTOL = 0.02


def needs_torch():
    if importlib.util.find_spec("torch") is None:
        pytest.skip(
            'package "torch" not installed: pip install "symflow[torch]" '
            "(CPU wheel: pip install torch --index-url https://download.pytorch.org/whl/cpu)"
        )
    import torch

    return torch


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


# -- densities built by hand (torch and JAX ship neither) -----------------------------------

X = sp.Symbol("x", real=True)
A, B = sp.symbols("a b", positive=True)


def _kumaraswamy_sample(n: int, params: dict, rng: np.random.Generator) -> np.ndarray:
    u = rng.uniform(size=n)  # inverse CDF: F(x) = 1 - (1 - x^a)^b
    return ((1.0 - (1.0 - u) ** (1.0 / params[B])) ** (1.0 / params[A])).reshape(-1, 1)


def kumaraswamy() -> sf.Density:
    """Kumaraswamy(a, b) on (0, 1): p = a b x^(a-1) (1 - x^a)^(b-1)."""
    return sf.Density(
        A * B * X ** (A - 1) * (1 - X**A) ** (B - 1),
        (X,),
        (A, B),
        support=sp.Interval(0, 1),
        sampler=_kumaraswamy_sample,
        cdf=1 - (1 - X**A) ** B,
        name="kumaraswamy",
    )


# -- the sampler -----------------------------------------------------------------------------


@pytest.mark.slow
def test_sampler_tangent_is_the_flow_for_gamma():
    p = sf.families.gamma()
    sample = sf.jax.sampler(p)
    key = jax.random.key(3)
    # the reference case: Gamma(2, 1), x = 1.3 => u = 0.867725835238768662 (docs: REFERENCE-CASES)
    x, dx = jax.jvp(lambda a: sample(key, {"alpha": a, "beta": 1.0}, 4), (2.0,), (1.0,))
    flow = sf.flows.implicit(p).field(p.params[0])[0]
    want = [float(flow.subs({p.x[0]: xi, p.params[0]: 2, p.params[1]: 1}).evalf(30)) for xi in np.asarray(x)]
    np.testing.assert_allclose(np.asarray(dx), want, rtol=1e-12)
    # the primal is jax.random.gamma's own draw: the same samples
    np.testing.assert_array_equal(np.asarray(x), np.asarray(jax.random.gamma(key, 2.0, (4,), jnp.float64)))


@pytest.mark.slow
def test_sampler_gradient_of_a_mean_is_the_flow_estimator():
    p = sf.families.normal()
    mu, sigma = p.params
    sample = sf.jax.sampler(p)
    key = jax.random.key(0)
    params = {"mu": 0.3, "sigma": 1.2}

    def objective(th):
        return jnp.mean(sample(key, th, 1000) ** 2 + jnp.sin(sample(key, th, 1000)))

    grad = jax.grad(objective)(params)
    xs = np.asarray(sample(key, params, 1000)).reshape(-1, 1)
    for t in (mu, sigma):
        est = sf.derive(p, sf.flows.reparam(p), t)
        want = est.compile()(xs, None, 2 * xs + np.cos(xs), {mu: 0.3, sigma: 1.2}).mean()
        assert float(grad[str(t)]) == pytest.approx(want, rel=SAME_SAMPLES_RTOL)


@pytest.mark.slow
def test_sampler_works_under_jit_vmap_and_grad():
    p = sf.families.gamma()
    sample = sf.jax.sampler(p)
    key = jax.random.key(1)

    def grad_alpha(alpha):
        return jax.grad(lambda a: jnp.mean(sample(key, (a, 1.0), 200)))(alpha)

    batched = jax.jit(jax.vmap(grad_alpha))(jnp.array([1.0, 2.0, 4.0]))
    one_by_one = [grad_alpha(a) for a in (1.0, 2.0, 4.0)]
    np.testing.assert_allclose(np.asarray(batched), np.asarray(one_by_one), rtol=1e-12)
    # the mean of x ~ Gamma(alpha, 1) is alpha => d/dalpha is 1 on average
    assert np.all(np.abs(np.asarray(batched) - 1.0) < 0.2)


@pytest.mark.slow
def test_sampler_on_a_density_jax_does_not_ship_uses_the_numpy_sampler():
    p = kumaraswamy()
    sample = sf.jax.sampler(p)
    key = jax.random.key(2)
    x1 = jax.jit(lambda k: sample(k, {"a": 2.0, "b": 3.0}, 5))(key)
    x2 = sample(key, {"a": 2.0, "b": 3.0}, 5)
    np.testing.assert_array_equal(np.asarray(x1), np.asarray(x2))  # seeded from the key
    assert np.all((np.asarray(x1) > 0) & (np.asarray(x1) < 1))
    x, dx = jax.jvp(lambda b: sample(key, {"a": 2.0, "b": b}, 5), (3.0,), (1.0,))
    xv = np.asarray(x)
    want = (1 - xv**2) * np.log(1 - xv**2) / (2.0 * 3.0 * xv)  # u_b = x^(1-a)(1-x^a)log(1-x^a)/(a b)
    np.testing.assert_allclose(np.asarray(dx), want, rtol=1e-12)


def test_sampler_refuses_a_parameter_without_a_field():
    p = sf.families.normal()
    mu, sigma = p.params
    only_mu = sf.Flow(p, {mu: [1]}, kind="user")
    sample = sf.jax.sampler(p, only_mu)
    key = jax.random.key(0)
    jax.grad(lambda m: jnp.mean(sample(key, {"mu": m, "sigma": 1.0}, 10)))(0.0)  # fine: mu has a field
    with pytest.raises(sf.SymflowError, match="no field for sigma"):
        jax.grad(lambda s: jnp.mean(sample(key, {"mu": 0.0, "sigma": s}, 10)))(1.0)


def test_parameters_are_named_and_counted():
    sample = sf.jax.sampler(sf.families.normal())
    key = jax.random.key(0)
    with pytest.raises(sf.ParameterError, match="no value for sigma"):
        sample(key, {"mu": 0.0}, 3)
    with pytest.raises(sf.ParameterError, match="2 parameters"):
        sample(key, [0.0], 3)
    with pytest.raises(sf.SymflowError, match="positive"):
        sample(key, {"mu": 0.0, "sigma": 1.0}, 0)


def test_discrete_densities_have_no_sampler_but_a_go_surrogate():
    with pytest.raises(sf.FlowError, match="go_estimator"):
        sf.jax.sampler(sf.families.poisson())


# -- surrogates: one registry of estimators --------------------------------------------------


def _normal_lr():
    p = sf.families.normal()
    mu, sigma = p.params
    ests = [sf.derive(p, sf.flows.zero(p), mu), sf.derive(p, sf.flows.zero(p), sigma)]
    return ests, {"mu": 0.3, "sigma": 1.2}, "x**2 + sin(x)"


def _normal_weighted():
    p = sf.families.normal()
    _, sigma = p.params
    est = sf.derive(p, sf.flows.weighted(sf.flows.reparam(p), sp.Rational(1, 3)), sigma)
    return [est], {"mu": 0.3, "sigma": 1.2}, "x**2 + sin(x)"


def _gamma_lr():
    p = sf.families.gamma()
    return [sf.derive(p, sf.flows.zero(p), p.params[0])], {"alpha": 2.3, "beta": 1.4}, "x**2 + sin(x)"


def _importance_sampled():
    p = sf.families.normal()
    mu, sigma = p.params
    q = sf.families.laplace(p.x[0], mu, sigma)
    return [sf.derive(p, sf.flows.zero(p), sigma, q=q)], {"mu": 0.3, "sigma": 1.2}, "x**2 + sin(x)"


CASES = {
    "normal LR (mu, sigma)": _normal_lr,
    "normal weighted RP/LR (1/3)": _normal_weighted,
    "gamma LR alpha (digamma)": _gamma_lr,
    "normal LR sampled from a Laplace q": _importance_sampled,
}


def _phi(name: str, module):
    assert name == "x**2 + sin(x)"
    return lambda z: z**2 + module.sin(z), lambda z: z**2 + np.sin(z), lambda z: 2 * z + np.cos(z)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_jax_surrogate_gradient_is_the_compiled_estimator(case):
    ests, params, phi_name = CASES[case]()
    phi_jax, phi_np, dphi_np = _phi(phi_name, jnp)
    s = sf.jax.surrogate(ests)
    samples = s.sample(jax.random.key(4), params, 500)
    value, grad = jax.value_and_grad(s)(params, samples, phi_jax)
    xs = np.asarray(samples["x"]).reshape(-1, 1)
    assert float(value) == pytest.approx(phi_np(xs).mean(), rel=1e-12)  # its value: the sample mean of phi
    symbols = {str(t): t for t in ests[0].params}
    values = {symbols[k]: v for k, v in params.items()}
    for est in ests:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sf.SymflowWarning)
            want = est.compile(threads=1)(xs, phi_np(xs[:, 0]), dphi_np(xs), values).mean()
        assert float(grad[str(est.wrt)]) == pytest.approx(want, rel=SAME_SAMPLES_RTOL)


@pytest.mark.parametrize("case", CASES)
def test_torch_surrogate_gradient_is_the_compiled_estimator(case):
    torch = needs_torch()
    ests, params, phi_name = CASES[case]()
    phi_torch, phi_np, dphi_np = _phi(phi_name, torch)
    s = sf.torch.surrogate(ests)
    torch.manual_seed(0)
    theta = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    samples = s.sample(theta, 500)
    s(theta, samples, phi_torch).backward()
    xs = samples["x"].numpy().reshape(-1, 1)
    symbols = {str(t): t for t in ests[0].params}
    values = {symbols[k]: v for k, v in params.items()}
    for est in ests:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sf.SymflowWarning)
            want = est.compile(threads=1)(xs, phi_np(xs[:, 0]), dphi_np(xs), values).mean()
        assert float(theta[str(est.wrt)].grad) == pytest.approx(want, rel=SAME_SAMPLES_RTOL)


def test_go_surrogate_adds_the_jump_term_on_the_same_samples():
    p = sf.families.poisson()
    (lam,) = p.params
    est = sf.go_estimator(p, lam)
    s = sf.jax.surrogate(est)
    samples = s.sample(jax.random.key(5), {"lambda": 2.5}, 20000)
    grad = jax.grad(s)({"lambda": 2.5}, samples, lambda y: y**2)
    ys = np.asarray(samples["x"])
    want = np.mean(1.0 * ((ys + 1) ** 2 - ys**2))  # GO weight 1 for the Poisson (REFERENCE-CASES)
    assert float(grad["lambda"]) == pytest.approx(want, rel=SAME_SAMPLES_RTOL)
    assert float(grad["lambda"]) == pytest.approx(1 + 2 * 2.5, abs=0.1)  # d/dlambda E[y^2] = 1 + 2 lambda


@pytest.mark.slow
def test_surface_terms_in_one_dimension_are_added_exactly():
    # phi = H(x - 1/2) under N(mu, sigma): the RP estimator sees no gradient; the jump term is p(1/2)
    p = sf.families.normal()
    mu, sigma = p.params
    (x,) = p.x
    est = sf.derive(p, sf.flows.reparam(p), mu, phi=sp.Heaviside(x - sp.Rational(1, 2)))
    s = sf.jax.surrogate(est)
    samples = s.sample(jax.random.key(6), {"mu": 0.3, "sigma": 1.2}, 100)
    grad = jax.grad(s)({"mu": 0.3, "sigma": 1.2}, samples, lambda z: jnp.where(z > 0.5, 1.0, 0.0))
    exact = float(p.expr.subs({x: sp.Rational(1, 2), mu: sp.Rational(3, 10), sigma: sp.Rational(6, 5)}))
    assert float(grad["mu"]) == pytest.approx(exact, rel=SURFACE_RTOL)
    # a moving support edge: Uniform(a, b), LR plus the boundary term -phi(a)/(b - a) (Eq. 77)
    pu = sf.families.uniform()
    a, b = pu.params
    est = sf.derive(pu, sf.flows.zero(pu), a)
    s = sf.jax.surrogate(est)
    samples = s.sample(jax.random.key(7), {"a": 0.5, "b": 2.0}, 1000)
    grad = jax.grad(s)({"a": 0.5, "b": 2.0}, samples, lambda z: z**3 - 2 * z)
    xs = np.asarray(samples["x"])
    lr = np.mean((xs**3 - 2 * xs) / (2.0 - 0.5))
    boundary = -(0.5**3 - 2 * 0.5) / (2.0 - 0.5)
    assert float(grad["a"]) == pytest.approx(lr + boundary, rel=SURFACE_RTOL)


@pytest.mark.slow
def test_surface_term_in_two_dimensions_is_sampled_from_its_q_m():
    # phi = H(x + y) under two independent normals (means mu, 0; unit scales): d/dmu P(x + y > 0) = N(mu; 0, 2)
    x, y = sp.symbols("x y", real=True)
    mu = sp.Symbol("mu", real=True)
    expr = sp.exp(-((x - mu) ** 2) / 2 - y**2 / 2) / (2 * sp.pi)

    def sample(n, params, rng):
        return np.column_stack([rng.normal(params[mu], 1.0, n), rng.normal(0.0, 1.0, n)])

    p = sf.Density(expr, (x, y), (mu,), sampler=sample, name="n2")
    flow = sf.Flow(p, {mu: [1, 0]}, kind="reparam")
    est = sf.derive(p, flow, mu, phi=sp.Heaviside(x + y))
    (term,) = est.extra_terms
    s = sf.jax.surrogate(est)
    samples = s.sample(jax.random.key(8), {"mu": 0.4}, 20000)
    grad = jax.grad(s)({"mu": 0.4}, samples, lambda z: jnp.where(z[:, 0] + z[:, 1] > 0, 1.0, 0.0))
    ys = np.asarray(samples["terms"][0])
    (other,) = term.others
    ratio = sp.lambdify([other], (term.weight / term.q_M.expr).subs({term.coordinate: term.branches[0], mu: 0.4}))
    want = np.mean(np.broadcast_to(ratio(ys.reshape(-1)), (ys.size,)))
    assert float(grad["mu"]) == pytest.approx(want, rel=SURFACE_RTOL)
    exact = np.exp(-(0.4**2) / 4) / np.sqrt(4 * np.pi)
    assert float(grad["mu"]) == pytest.approx(exact, rel=0.05)


def test_surrogate_refuses_estimators_of_different_densities():
    p = sf.families.normal()
    g = sf.families.gamma()
    with pytest.raises(sf.EstimatorError, match="one density"):
        sf.jax.surrogate([sf.derive(p, sf.flows.zero(p), p.params[0]), sf.derive(g, sf.flows.zero(g), g.params[0])])


# -- training loops with known optima --------------------------------------------------------


def gamma_training(steps: int = 300, n: int = 1000, lr: float = 0.05, seed: int = 0) -> float:
    """Minimize E_{Gamma(alpha, 1)}[(x - 3)^2] = alpha + (alpha - 3)^2 by plain gradient steps; optimum 2.5."""
    sample = sf.jax.sampler(sf.families.gamma())

    def loss(alpha, key):
        return jnp.mean((sample(key, {"alpha": alpha, "beta": 1.0}, n) - 3.0) ** 2)

    step = jax.jit(jax.grad(loss))
    alpha, key = 0.5, jax.random.key(seed)
    for _ in range(steps):
        key, sub = jax.random.split(key)
        alpha = alpha - lr * step(alpha, sub)
    return float(alpha)


KUMARASWAMY_C = 0.25
# E[x^(2a)] - 2c E[x^a] + c^2 with E[x^a] = 1/(b+1), E[x^(2a)] = 2/((b+1)(b+2)): the minimum solves
# c (b + 2)^2 = 2b + 3, i.e. b = 2 + 2 sqrt(3) for c = 1/4 (a fixed).
KUMARASWAMY_OPTIMUM = 2 + 2 * np.sqrt(3)


def kumaraswamy_training(steps: int = 400, n: int = 1000, lr: float = 40.0, seed: int = 0) -> float:
    """Minimize E_{Kumaraswamy(2, b)}[(x^2 - 1/4)^2] over b by plain gradient steps; optimum 2 + 2 sqrt(3)."""
    sample = sf.jax.sampler(kumaraswamy())

    def loss(b, key):
        return jnp.mean((sample(key, {"a": 2.0, "b": b}, n) ** 2 - KUMARASWAMY_C) ** 2)

    step = jax.jit(jax.grad(loss))
    b, key = 1.0, jax.random.key(seed)
    for _ in range(steps):
        key, sub = jax.random.split(key)
        b = b - lr * step(b, sub)
    return float(b)


@pytest.mark.slow
def test_gamma_training_loop_converges_to_the_optimum():
    assert gamma_training() == pytest.approx(2.5, rel=OPTIMUM_RTOL)


@pytest.mark.slow
def test_kumaraswamy_training_loop_converges_to_the_optimum():
    b = sp.Symbol("b", positive=True)
    target = 2 / ((b + 1) * (b + 2)) - 2 * KUMARASWAMY_C / (b + 1) + KUMARASWAMY_C**2
    assert abs(float(sp.diff(target, b).subs(b, KUMARASWAMY_OPTIMUM))) < 1e-12  # the planted optimum
    assert kumaraswamy_training() == pytest.approx(KUMARASWAMY_OPTIMUM, rel=OPTIMUM_RTOL)


@pytest.mark.slow
def test_torch_training_loop_converges_to_the_gamma_optimum():
    torch = needs_torch()
    sample = sf.torch.sampler(sf.families.gamma())
    torch.manual_seed(0)
    alpha = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([alpha], lr=0.05)
    for _ in range(300):
        optimizer.zero_grad()
        loss = ((sample({"alpha": alpha, "beta": 1.0}, 1000) - 3.0) ** 2).mean()
        loss.backward()
        optimizer.step()
    assert float(alpha.detach()) == pytest.approx(2.5, rel=OPTIMUM_RTOL)


def test_torch_sampler_backward_is_the_flow():
    torch = needs_torch()
    p = kumaraswamy()
    sample = sf.torch.sampler(p)
    b = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    generator = torch.Generator().manual_seed(4)
    x = sample({"a": 2.0, "b": b}, 5, generator)
    x.sum().backward()
    xv = x.detach().numpy()
    want = np.sum((1 - xv**2) * np.log(1 - xv**2) / (2.0 * 3.0 * xv))
    assert float(b.grad) == pytest.approx(want, rel=1e-12)


# -- the package stays light ------------------------------------------------------------------


@pytest.mark.slow
def test_import_symflow_imports_no_framework():
    code = (
        "import sys, symflow as sf; sf.jax; sf.torch; "
        "print(sorted(m for m in ('jax', 'torch', 'dask', 'distributed') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_missing_framework_names_the_install_command(monkeypatch):
    from symflow.frameworks import _common

    def missing(name):
        raise ModuleNotFoundError(name)

    monkeypatch.setattr("importlib.import_module", missing)
    with pytest.raises(sf.SymflowError, match=r'pip install "symflow\[torch\]"'):
        _common.require("torch")
    with pytest.raises(sf.SymflowError, match=r'pip install "symflow\[jax\]"'):
        _common.require("jax")


@pytest.mark.parametrize("module", ["jax", "torch"])
@pytest.mark.parametrize("junk", [b"x", 1 + 2j, "normal", [3]])
def test_adapters_refuse_what_is_not_a_density_estimator_or_plan(module, junk):
    # the exception fuzzer found AttributeError ('bytes' object has no attribute 'sampling', ...) here
    pytest.importorskip(module)
    adapter = getattr(sf, module)
    for call in (
        lambda: adapter.draw(junk),
        lambda: adapter.sampler(junk),
        lambda: adapter.sampler(sf.families.normal(), junk),
        lambda: adapter.surrogate(junk),
        lambda: adapter.Surrogate(junk),
    ):
        with pytest.raises(sf.SymflowError, match="Density|Flow|Estimator|SurrogatePlan"):
            call()


def test_surrogates_refuse_mvd_terms_briefly():
    # was: a 937-character repr of the term ending "report it"
    p = sf.families.normal()
    est = sf.mvd(p, p.params[0], method="known")
    makers = [sf.jax.surrogate] + ([sf.torch.surrogate] if importlib.util.find_spec("torch") else [])
    for make in makers:
        with pytest.raises(sf.EstimatorError, match=r"measure-valued \(MVD\).*est\.compile\(\)") as info:
            make(est)
        assert len(str(info.value)) < 250


def test_surrogate_calls_name_the_fix():
    # an int key and a phi of the wrong shape raised JAX's TypeError / broadcast silently
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    p = sf.families.normal()
    mu, sigma = p.params
    s = sf.jax.surrogate(sf.derive(p, sf.flows.zero(p), sigma))
    th = {"mu": 0.3, "sigma": 1.2}
    with pytest.raises(sf.SymflowError, match=r"jax.random.key\(0\)"):
        s.sample(0, th, 10)
    samples = s.sample(jax.random.key(0), th, 10)
    with pytest.raises(sf.SymflowError, match="one value per sample"):
        jax.grad(s)(th, samples, lambda z: jnp.ones(3))
    with pytest.raises(sf.SymflowError, match="samples must be the dict"):
        s(th, samples["x"], lambda z: z**2)
    assert jnp.isfinite(jax.grad(s)(th, samples, lambda z: z**2)["sigma"])
