"""A wrong flow on the normal, caught: u = (x - mu)/sigma^2 for sigma (Eq. 52).

The reparameterization flow for sigma is (x - mu)/sigma; dividing by sigma
once more breaks the transport equation div(p u) + dp/dsigma = 0.  Its
residual (divided by p) is

    (1 - sigma)/sigma^2 + (x - mu)^2 (sigma - 1)/sigma^4,

zero only at sigma = 1, so ``check_transport`` must refute it with a witness.
Using that flow as if it were a reparameterization -- keeping v and dropping
psi -- gives a biased estimator: at mu = 0.3, sigma = 1.2 and phi = x^2 its
mean is E[2x(x - mu)]/sigma^2 = 2 while d/dsigma E[x^2] = 2 sigma = 2.4, and
Monte Carlo must reject it.
"""

import sympy as sp

import symflow as sf

P = sf.families.normal()
X = P.x[0]
MU, SIGMA = P.params

WRONG = sf.Flow(P, {SIGMA: [(X - MU) / SIGMA**2]}, kind="user", note="u = (x - mu)/sigma^2 (wrong)")
AT = {MU: sp.Rational(3, 10), SIGMA: sp.Rational(6, 5)}


@sf.claim("wrong flow u = (x-mu)/sigma^2 solves the transport equation", equation="52", expect="refuted")
def wrong_flow_transport():
    return sf.check_transport(P, WRONG, wrt=SIGMA)


@sf.claim("wrong flow with psi dropped: Monte Carlo rejects it", equation="52", expect="refuted")
def wrong_flow_psi_dropped_monte_carlo():
    v = sf.derive(P, WRONG, wrt=SIGMA).v
    dropped = sf.Estimator(P, SIGMA, v, sp.S.Zero, name="wrong flow, psi dropped")
    return sf.mc_check(dropped, phi=X**2, params=AT, n=10**5, seed=0)
