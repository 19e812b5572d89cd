"""The jax and torch backends agree with the numpy backend; missing functions are named.

One registry of cases (``CASES``); each case declares the backends that cannot evaluate it and
the function they must name.  Tests skip only when the backend's package is not installed.
"""

from __future__ import annotations

import functools
import importlib.util
import warnings
from dataclasses import dataclass

import numpy as np
import pytest
import sympy as sp

import symflow as sf
from symflow.numeric import BACKENDS as REGISTRY

# Both sides are float64 code of the same formula; special functions (digamma, lgamma) come from
# different libraries => a few hundred ulps near cancellation, far below this.
RTOL = 1e-12

BACKENDS = ("jax", "torch")

x, y = sp.symbols("x y", real=True)
mu = sp.Symbol("mu", real=True)
sigma, a = sp.symbols("sigma a", positive=True)


def needs(backend: str) -> None:
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"package {backend!r} not installed (pip install 'symflow[{backend}]')")


def assert_agrees(got: np.ndarray, want: np.ndarray) -> None:
    """Relative agreement, measured against the largest value (psi crosses zero between samples)."""
    assert got.dtype == np.float64 and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=RTOL * float(np.max(np.abs(want))))


@dataclass(frozen=True)
class Case:
    name: str
    make: object  # () -> (Estimator, params dict, samples (n, d))
    missing: tuple[tuple[str, str], ...] = ()  # (backend, function it must name)


def _normal():
    p = sf.families.normal()
    return p, {p.params[0]: 0.3, p.params[1]: 1.2}


def _family(name: str, flow: str, which: int):
    def make():
        p = getattr(sf.families, name)()
        params = {t: 1.7 + 0.6 * i for i, t in enumerate(p.params)}
        est = sf.derive(p, getattr(sf.flows, flow)(p), p.params[which])
        return est, params, p.sample(257, params, np.random.default_rng(5))

    return make


def _planted(v, psi, d: int = 1):
    def make():
        if d == 1:
            p, params = _normal()
            est = sf.Estimator(p, p.params[1], [v(p.x[0])], psi(p.x[0], p.params[1]))
        else:
            expr = sp.exp(-((x - mu) ** 2) / 2 - y**2 / (2 * a**2)) / (2 * sp.pi * a)
            p = sf.Density(expr, (x, y), (mu, a), name="n2")
            params = {mu: 0.3, a: 1.7}
            est = sf.Estimator(p, a, [sp.sin(x) / a, y / a], x * y / a**2 - mu)
        xs = np.random.default_rng(7).uniform(0.2, 3.0, size=(257, d))
        return est, params, xs

    return make


CASES = (
    Case("normal LR mu", _family("normal", "zero", 0)),
    Case("normal LR sigma", _family("normal", "zero", 1)),
    Case("normal RP sigma", _family("normal", "reparam", 1)),
    Case("gamma LR alpha (digamma)", _family("gamma", "zero", 0)),
    Case("gamma LR beta", _family("gamma", "zero", 1)),
    Case("beta LR alpha (digamma)", _family("beta", "zero", 0)),
    Case("beta LR beta (digamma)", _family("beta", "zero", 1)),
    Case("planted 2-D, sin", _planted(None, None, d=2)),
    Case("gamma function and erf", _planted(lambda t: sp.gamma(t + 1) * sp.erf(t), lambda t, s: sp.loggamma(t) / s)),
    Case("gamma at negative arguments, erfc", _planted(lambda t: sp.gamma(-t - sp.S(1) / 3), lambda t, s: sp.erfc(t))),
    Case(
        "kinks and branches",
        _planted(
            lambda t: sp.Max(t, 1) + sp.Abs(t - 1) * sp.sign(t - 2),
            lambda t, s: sp.Heaviside(t - 1) + sp.Piecewise((t, t > 2), (t**2, True)) * sp.exp(t) * sp.atan(t),
        ),
    ),
    Case("incomplete gamma", _planted(lambda t: sp.lowergamma(2, t), lambda t, s: sp.uppergamma(s, t))),
    Case("beta function", _planted(lambda t: sp.polygamma(0, t), lambda t, s: sp.beta(t, s))),
    Case(
        "trigamma",
        _planted(lambda t: sp.polygamma(1, t), lambda t, s: t),
        missing=(("torch", "polygamma of order >= 1"),),
    ),
    # rewritten to the regularized incomplete beta times B(a, b): jax natively, torch through symflow's kernel
    Case("incomplete beta", _planted(lambda t: t, lambda t, s: sp.betainc(2, s, 0, 1 / (1 + t)))),
    Case(
        "Bessel K",
        _planted(lambda t: t, lambda t, s: sp.besselk(1, t)),
        missing=(("torch", "besselk"), ("jax", "besselk")),
    ),
)


@functools.cache
def built(index: int):
    """Estimator, params, samples, phi, grad phi and the numpy backend's answer (cached: derive is slow)."""
    est, params, xs = CASES[index].make()
    phi = (xs**2 + np.sin(xs)).sum(axis=1)
    grad = 2 * xs + np.cos(xs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sf.SymflowWarning)  # scipy.special fallbacks are the reference here
        want = est.compile(threads=1)(xs, phi, grad, params)
    return est, params, xs, phi, grad, want


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("index", range(len(CASES)), ids=[c.name for c in CASES])
def test_backend_agrees_with_numpy(backend: str, index: int) -> None:
    needs(backend)
    missing = dict(CASES[index].missing).get(backend)
    est, params, xs, phi, grad, want = built(index)
    if missing is not None:
        with pytest.raises(sf.BackendError, match=f"{backend!r} backend cannot evaluate the function {missing}"):
            est.compile(backend=backend)
        return
    got = est.compile(backend=backend)(xs, phi, grad, params)
    assert_agrees(got, want)


@pytest.mark.parametrize("backend", BACKENDS)
def test_constant_estimate_gives_one_value_per_sample(backend: str) -> None:
    needs(backend)
    p, params = _normal()
    xs = np.linspace(-1, 1, 5).reshape(-1, 1)
    out = sf.Estimator(p, p.params[0], [0], 2).compile(backend=backend)(xs, 3 * np.ones(5), None, params)
    assert_agrees(out, np.full(5, 6.0))
    out[0] = 1.0  # a fresh, writable array


def test_jax_leaves_the_global_x64_flag_alone() -> None:
    needs("jax")
    import jax

    before = jax.config.jax_enable_x64
    est, params, xs, phi, grad, _ = built(1)
    out = est.compile(backend="jax")(xs, phi, grad, params)
    assert out.dtype == np.float64
    assert jax.config.jax_enable_x64 == before


def test_backends_are_registered_with_their_extras() -> None:
    for backend in BACKENDS:
        module, package, install = REGISTRY[backend]
        assert module == f"symflow.numeric.{backend}_backend" and package == backend
        assert f"symflow[{backend}]" in install


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_besseli_of_order_0_and_1_matches_scipy(backend):
    # the von Mises normaliser 2 pi I_0(kappa): compile('jax'/'torch') refused besseli
    pytest.importorskip(backend)
    import scipy.special as ss

    kappa = sp.Symbol("kappa", positive=True)
    if backend == "jax":
        import jax

        from symflow.numeric.jax_backend import jax_function as make
    else:
        from symflow.numeric.torch_backend import torch_function as make
    points = np.random.default_rng(5).uniform(0.0, 30.0, 64)
    fn = make([kappa], [sp.besseli(0, kappa), sp.besseli(1, kappa) / sp.besseli(0, kappa)])
    if backend == "jax":
        with jax.enable_x64(True):
            i0, ratio = (np.asarray(v, dtype=np.float64) for v in fn(points))
    else:
        import torch

        i0, ratio = (v.numpy() for v in fn(torch.from_numpy(points)))
    np.testing.assert_allclose(i0, ss.i0(points), rtol=1e-12)
    np.testing.assert_allclose(ratio, ss.i1(points) / ss.i0(points), rtol=1e-12)
    with pytest.raises(sf.BackendError, match=r"order 0 and 1 only, not besseli\(2"):
        make([kappa], [sp.besseli(2, kappa)])
