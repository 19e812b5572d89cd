"""``est.to_source(backend)``: self-contained source, imported from a temporary module, equals ``est.compile()``.

One registry of estimators (``CASES``), each run on every backend that is installed.  The generated
module must not import symflow: it is also imported in a fresh interpreter in which importing
symflow fails.
"""

from __future__ import annotations

import functools
import importlib.util
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symflow as sf

# Same formula, same float64 operations up to order and the library's special functions.
RTOL = 1e-11

BACKENDS = ("numpy", "jax", "torch")


def _family(name: str, flow: str, which: int, params: tuple[float, ...]):
    def make():
        p = getattr(sf.families, name)()
        values = dict(zip(p.params, params, strict=True))
        est = sf.derive(p, getattr(sf.flows, flow)(p), p.params[which])
        return est, values, p.sample(300, values, np.random.default_rng(11))

    return make


def _two_d():
    x, y = sp.symbols("x y", real=True)
    mu = sp.Symbol("mu", real=True)
    a = sp.Symbol("a", positive=True)
    expr = sp.exp(-((x - mu) ** 2) / 2 - y**2 / (2 * a**2)) / (2 * sp.pi * a)
    p = sf.Density(expr, (x, y), (mu, a), name="n2")
    est = sf.Estimator(p, a, [sp.sin(x) / a, y / a], x * y / a**2 - mu)
    return est, {mu: 0.3, a: 1.7}, np.random.default_rng(7).uniform(0.2, 3.0, size=(300, 2))


CASES = {
    "normal LR sigma": _family("normal", "zero", 1, (0.3, 1.2)),
    "normal RP sigma": _family("normal", "reparam", 1, (0.3, 1.2)),
    "gamma implicit alpha (incomplete gamma derivative)": _family("gamma", "implicit", 0, (2.3, 1.4)),
    "beta implicit alpha (incomplete beta derivative)": _family("beta", "implicit", 0, (1.7, 2.4)),
    "beta implicit beta": _family("beta", "implicit", 1, (1.7, 2.4)),
    "planted 2-D": _two_d,
}


def needs(backend: str):
    if backend != "numpy" and importlib.util.find_spec(backend) is None:
        pytest.skip(f'package "{backend}" not installed: pip install "symflow[{backend}]"')


@functools.cache
def built(case: str):
    est, values, xs = CASES[case]()
    phi = (xs**2 + np.sin(xs)).sum(axis=1)
    grad = 2 * xs + np.cos(xs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sf.SymflowWarning)
        want = est.compile(threads=1)(xs, phi, grad, values)
    return est, values, xs, phi, grad, want


def load(source: str, path: Path):
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def call(module, backend: str, xs, phi, grad, params: dict) -> np.ndarray:
    if backend == "torch":
        import torch

        args = [torch.from_numpy(a) for a in (xs, phi, grad)]
        return module.estimator(*args, params).numpy()
    if backend == "jax":
        import jax

        with jax.enable_x64(True):
            return np.asarray(module.estimator(xs, phi, grad, params))
    return module.estimator(xs, phi, grad, params)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", CASES)
def test_source_matches_compile(case: str, backend: str, tmp_path: Path):
    needs(backend)
    est, values, xs, phi, grad, want = built(case)
    source = est.to_source(backend)
    assert not [line for line in source.splitlines() if "import" in line and "symflow" in line]
    module = load(source, tmp_path / f"generated_{backend}.py")
    got = call(module, backend, xs, phi, grad, {str(t): v for t, v in values.items()})
    assert got.dtype == np.float64 and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=RTOL * float(np.max(np.abs(want))))


def test_source_runs_where_symflow_cannot_be_imported(tmp_path: Path):
    est, values, xs, phi, grad, want = built("beta implicit alpha (incomplete beta derivative)")
    (tmp_path / "generated.py").write_text(est.to_source("numpy"), encoding="utf-8")
    np.save(tmp_path / "inputs.npy", np.column_stack([xs, phi, grad]))
    script = (
        "import sys; sys.modules['symflow'] = None\n"  # any `import symflow` now raises ImportError
        "import numpy as np, generated\n"
        "a = np.load('inputs.npy')\n"
        "np.save('out.npy', generated.estimator(a[:, 0], a[:, 1], a[:, 2], {'alpha': 1.7, 'beta': 2.4}))\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True, capture_output=True)
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), want, rtol=RTOL)


def test_jax_source_can_be_jitted(tmp_path: Path):
    needs("jax")
    import jax

    est, values, xs, phi, grad, want = built("gamma implicit alpha (incomplete gamma derivative)")
    module = load(est.to_source("jax"), tmp_path / "generated_jit.py")
    with jax.enable_x64(True):
        got = jax.jit(module.estimator)(xs, phi, grad, {str(t): v for t, v in values.items()})
        np.testing.assert_allclose(np.asarray(got), want, rtol=RTOL)


def test_refusals_name_the_problem():
    p = sf.families.normal()
    est = sf.derive(p, sf.flows.zero(p), p.params[1])
    with pytest.raises(sf.BackendError, match="unknown backend"):
        est.to_source("tensorflow")
    with pytest.raises(sf.BackendError, match="identifier"):
        est.to_source(name="not a name")
    x = p.x[0]
    bessel = sf.Estimator(p, p.params[1], [x], sp.besselk(1, x**2 + 1))
    # Without torch installed the refusal names the extra to install instead.
    missing = "besselk" if importlib.util.find_spec("torch") is not None else "symflow\\[torch\\]"
    with pytest.raises(sf.BackendError, match=missing):
        bessel.to_source("torch")


@pytest.mark.parametrize("make", ["mvd", "go", "jump"])
def test_estimators_with_extra_terms_are_refused_not_compiled_to_zero(make: str):
    # v . grad phi + psi phi alone drops the terms that draw their own samples: for the MVD and GO
    # estimators (v = 0, psi = 0) the code returned 0 for every sample; for a jump of phi, a biased main part
    p = sf.families.normal()
    mu, sigma = p.params
    if make == "mvd":
        est, use = sf.mvd(p, sigma, method="known"), "est.compile\\(\\)"
    elif make == "go":
        poisson = sf.families.poisson()
        est, use = sf.go_estimator(poisson, poisson.params[0]), "sf.mc_check"
    else:
        est, use = sf.derive(p, sf.flows.reparam(p), mu, phi=sp.Heaviside(p.x[0])), "sf.mc_check"
    assert est.extra_terms
    for compile_it in (sf.compile_estimator, lambda e: e.to_source("numpy")):
        with pytest.raises(sf.BackendError, match=f"extra term.*biased.*{use}"):
            compile_it(est)
    if make != "mvd":
        with pytest.raises(sf.BackendError, match="extra term"):
            est.compile()
