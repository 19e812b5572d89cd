"""Small densities built by hand for the core tests (independent of sf.families)."""

import numpy as np
import sympy as sp

import symflow as sf

x = sp.Symbol("x", real=True)
mu = sp.Symbol("mu", real=True)
sigma = sp.Symbol("sigma", positive=True)
eps = sp.Symbol("epsilon", real=True)


def std_normal() -> sf.Density:
    return sf.Density(
        sp.exp(-(eps**2) / 2) / sp.sqrt(2 * sp.pi),
        [eps],
        [],
        sampler=lambda n, pr, rng: rng.standard_normal((n, 1)),
        name="N(0,1)",
    )


def normal() -> sf.Density:
    """N(mu, sigma) with its reparameterization x = mu + sigma eps."""
    return sf.Density(
        sp.exp(-((x - mu) ** 2) / (2 * sigma**2)) / (sp.sqrt(2 * sp.pi) * sigma),
        [x],
        [mu, sigma],
        sampler=lambda n, pr, rng: pr[mu] + pr[sigma] * rng.standard_normal((n, 1)),
        reparam=sf.Reparameterization((mu + sigma * eps,), (eps,), std_normal()),
        standardize=((x - mu) / sigma,),
        cdf=(1 + sp.erf((x - mu) / (sigma * sp.sqrt(2)))) / 2,
        name="normal",
    )


def exponential() -> sf.Density:
    lam = sp.Symbol("lambda", positive=True)
    return sf.Density(
        lam * sp.exp(-lam * x),
        [x],
        [lam],
        support=sp.Interval(0, sp.oo),
        sampler=lambda n, pr, rng: rng.exponential(1 / pr[lam], (n, 1)),
        cdf=1 - sp.exp(-lam * x),
        name="exponential",
    )


def sample_mean(p: sf.Density, params: dict, n: int = 20000, seed: int = 1) -> np.ndarray:
    return p.sample(n, params, np.random.default_rng(seed)).mean(axis=0)
