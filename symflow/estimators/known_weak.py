r"""Weak derivatives from the literature, with their natural couplings (Mohamed et al. 2020, Table 1).

========================== ==================== ======================================= ======================
density, parameter         c                    p+ / p-                                 coupling
========================== ==================== ======================================= ======================
normal, mean mu            1/(sigma sqrt(2 pi)) mu + Rayleigh(sigma) / mu - Rayleigh      the same Rayleigh draw
normal, scale sigma        1/sigma              double-sided Maxwell(mu, sigma) / normal   x- = mu + sigma m v
exponential, rate lambda   1/lambda             Exp(lambda) / Gamma(2, lambda)           x- = x+ + Exp(lambda)
Poisson, rate lambda       1                    1 + Poisson(lambda) / Poisson(lambda)    the same draw (= GO)
========================== ==================== ======================================= ======================

Each one follows from dp/dtheta by hand:
d/dmu N = (x - mu)/sigma^2 N splits at mu into two Rayleigh halves of mass
1/(sigma sqrt(2 pi)); d/dsigma N = ((x - mu)^2/sigma^2 - 1) N / sigma =
(Maxwell - N)/sigma (not Hahn-Jordan: both parts cover the whole line);
d/dlambda (lambda e^{-lambda x}) = (lambda e^{-lambda x} - lambda^2 x e^{-lambda x})/lambda;
d/dlambda Poisson(y) = Poisson(y - 1) - Poisson(y).  ``check_weak_derivative``
proves each.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import sympy as sp

from ..core.density import Density
from ..errors import EstimatorError
from ..families import exponential, l_distribution, normal, poisson
from .coupling import E1, E2, Coupling, M, R, V, exponential_pair_base, maxwell_uniform_base, rayleigh_base
from .weak_derivative import WeakDerivative

__all__ = ["known_weak_derivative"]

Z = sp.Symbol("z", integer=True, nonnegative=True)


def _rayleigh_side(sign: float, mu: sp.Symbol, sigma: sp.Symbol, n: int, params: dict, rng: np.random.Generator):
    return (params[mu] + sign * params[sigma] * rng.rayleigh(1.0, n)).reshape(-1, 1)


def _gamma2(lam: sp.Symbol, n: int, params: dict, rng: np.random.Generator):
    return rng.gamma(2.0, 1.0 / params[lam], n).reshape(-1, 1)


def _shifted_poisson(lam: sp.Symbol, n: int, params: dict, rng: np.random.Generator):
    return (1.0 + rng.poisson(params[lam], n)).reshape(-1, 1)


def _same(p: Density, built: Density) -> bool:
    return p.expr == built.expr and p.support_sets == built.support_sets


def _normal(p: Density, wrt: sp.Symbol) -> WeakDerivative | None:
    if p.is_discrete or len(p.params) != 2 or not _same(p, normal(p.x[0], *p.params)):
        return None
    (x,), (mu, sigma) = p.x, p.params
    z2 = (x - mu) ** 2 / (2 * sigma**2)
    if wrt == mu:
        plus = Density(
            (x - mu) / sigma**2 * sp.exp(-z2),
            (x,),
            (mu, sigma),
            support=sp.Interval(mu, sp.oo),
            sampler=partial(_rayleigh_side, 1.0, mu, sigma),
            cdf=1 - sp.exp(-z2),
            name="mu + Rayleigh(sigma)",
        )
        minus = Density(
            (mu - x) / sigma**2 * sp.exp(-z2),
            (x,),
            (mu, sigma),
            support=sp.Interval(-sp.oo, mu),
            sampler=partial(_rayleigh_side, -1.0, mu, sigma),
            cdf=sp.exp(-z2),
            name="mu - Rayleigh(sigma)",
        )
        coupling = Coupling(rayleigh_base(), mu + sigma * R, mu - sigma * R, "one Rayleigh draw, mirrored")
        c = 1 / (sigma * sp.sqrt(2 * sp.pi))
        return WeakDerivative(
            p, mu, c, plus, minus, "Rayleigh pair (Hahn-Jordan)", coupling=coupling, name="normal mean"
        )
    maxwell = l_distribution(x, mu, sigma).with_(name="double-sided Maxwell(mu, sigma)")
    coupling = Coupling(
        maxwell_uniform_base(), mu + sigma * M, mu + sigma * M * V, "Maxwell draw m, x- = mu + sigma m v"
    )
    return WeakDerivative(p, sigma, 1 / sigma, maxwell, p, "Maxwell-normal", coupling=coupling, name="normal scale")


def _exponential(p: Density, wrt: sp.Symbol) -> WeakDerivative | None:
    if p.is_discrete or len(p.params) != 1 or not _same(p, exponential(p.x[0], p.params[0])):
        return None
    (x,), (lam,) = p.x, p.params
    gamma2 = Density(
        lam**2 * x * sp.exp(-lam * x),
        (x,),
        (lam,),
        support=sp.Interval(0, sp.oo),
        sampler=partial(_gamma2, lam),
        cdf=1 - (1 + lam * x) * sp.exp(-lam * x),
        name="Gamma(2, lambda)",
    )
    coupling = Coupling(exponential_pair_base(), E1 / lam, (E1 + E2) / lam, "x- = x+ + an independent Exp(lambda)")
    return WeakDerivative(p, lam, 1 / lam, p, gamma2, "exponential-Erlang", coupling=coupling, name="exponential rate")


def _poisson(p: Density, wrt: sp.Symbol) -> WeakDerivative | None:
    if not p.is_discrete or len(p.params) != 1 or not _same(p, poisson(p.x[0], p.params[0])):
        return None
    (y,), (lam,) = p.x, p.params
    shifted = Density(
        lam ** (y - 1) * sp.exp(-lam) / sp.factorial(y - 1),
        (y,),
        (lam,),
        support=sp.Naturals,
        sampler=partial(_shifted_poisson, lam),
        name="1 + Poisson(lambda)",
    )
    base = poisson(Z, lam)
    coupling = Coupling(base, Z + 1, Z, "one Poisson draw y: x+ = y + 1, x- = y (the GO gradient, Eq. 73)")
    return WeakDerivative(p, lam, sp.S.One, shifted, p, "shifted Poisson", coupling=coupling, name="Poisson rate")


def known_weak_derivative(p: Density, wrt: sp.Symbol) -> WeakDerivative:
    """The literature's decomposition of dp/dtheta for p (see the table above), or EstimatorError."""
    for build in (_normal, _exponential, _poisson):
        got = build(p, wrt)
        if got is not None:
            return got
    raise EstimatorError(
        f"no known weak derivative of {p.name} in {wrt}: the catalogue has the normal (mu, sigma), the "
        "exponential (rate) and the Poisson (rate), built by symflow.families; use method='hahn-jordan' or "
        "give the decomposition (sf.WeakDerivative)"
    )
