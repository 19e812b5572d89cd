"""A user-chosen flow on the normal: u = (x - mu) / (2 sigma) for sigma (Eq. 19).

Half the reparameterization flow (x - mu)/sigma does not solve the transport
equation, so the flow estimator keeps a phi term.  By hand (Eq. 19, log route,
Eq. 50):

    psi = du/dx + u d log p/dx + d log p/dsigma
        = 1/(2 sigma) - (x - mu)^2/(2 sigma^3) + (x - mu)^2/sigma^3 - 1/sigma
        = ((x - mu)^2 - sigma^2) / (2 sigma^3),

half the likelihood-ratio weight: the estimator sits halfway between LR and
RP (Eq. 51 with k = 1/2).  Every such estimator is unbiased; the claims check
psi, unbiasedness symbolically and by quadrature, and Monte Carlo.
"""

import sympy as sp

import symflow as sf

P = sf.families.normal()
X = P.x[0]
MU, SIGMA = P.params

FLOW = sf.Flow(P, {SIGMA: [(X - MU) / (2 * SIGMA)]}, kind="user", note="u = (x - mu)/(2 sigma)")
PSI_BY_HAND = ((X - MU) ** 2 - SIGMA**2) / (2 * SIGMA**3)
# A point away from mu = 0, sigma = 1 so that no term vanishes by accident.
AT = {MU: sp.Rational(3, 10), SIGMA: sp.Rational(6, 5)}
PHI_SMOOTH = X**2 + sp.sin(X)
SYMBOLIC_BUDGET = 30.0
QUADRATURE_BUDGET = 15.0


def _estimator():
    return sf.derive(P, FLOW, wrt=SIGMA)


@sf.claim("user flow u = (x-mu)/(2 sigma): psi = ((x-mu)^2 - sigma^2)/(2 sigma^3)", equation="19")
def user_flow_psi():
    est = _estimator()
    return sf.check_weights(est, psi=PSI_BY_HAND, equation="19")


@sf.claim("user flow estimator unbiased for phi = x^2 (symbolic)", equation="19")
def user_flow_unbiased_symbolic():
    # Two Gaussian integrals with symbolic mu and sigma take SymPy about 7 s.
    return sf.check_unbiased(_estimator(), X**2, timeout=SYMBOLIC_BUDGET)


@sf.claim("user flow estimator unbiased for phi = x^2 + sin x (quadrature)", equation="19")
def user_flow_unbiased_numeric():
    # SymPy cannot integrate p sin(x) in closed form, so the budget first runs
    # out on the symbolic attempt; the 50-digit quadrature after it needs ~5 s.
    return sf.check_unbiased(_estimator(), PHI_SMOOTH, params=AT, timeout=QUADRATURE_BUDGET)


@sf.claim("user flow estimator: Monte Carlo agrees with the exact gradient", equation="19")
def user_flow_monte_carlo():
    # The planted truth, by hand: E[x^2] = mu^2 + sigma^2 and E[sin x] = sin(mu) exp(-sigma^2/2),
    # so d/dsigma E[x^2 + sin x] = 2 sigma - sigma sin(mu) exp(-sigma^2/2).
    exact = (2 * SIGMA - SIGMA * sp.sin(MU) * sp.exp(-(SIGMA**2) / 2)).xreplace(AT)
    return sf.mc_check(_estimator(), phi=PHI_SMOOTH, params=AT, n=10**6, seed=0, exact=float(exact))
