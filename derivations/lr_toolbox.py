"""The likelihood-ratio toolbox (App. B): baselines, the optimal baseline, antithetic pairs.

* A constant baseline b keeps LR unbiased because the score has mean zero:
  E_p[d log p/d theta] = d/d theta of the integral of p = 0 (Eq. 22).
* The variance-minimizing baseline is b_opt = E[s^2 phi] / E[s^2] (Eq. 23-24);
  for linear phi under the Gaussian it is E[phi], for both mu and sigma, and
  not for phi = x^2.
* For an antithetic pair x+- = mu +- sigma eps the baseline cancels in the
  LR estimator for mu (psi(x+-) = +-eps/sigma) -- but not for sigma, where
  psi(x+-) = (eps^2 - 1)/sigma has the same sign on both.
* The antithetic LR average eps (phi(x+) - phi(x-)) / (2 sigma) (Eq. 27) is
  not the finite difference (phi(x+) - phi(x-)) / (2 sigma eps) (Eq. 26): for
  phi = x they differ by eps^2 - 1 (both unbiased); for phi = x^3 the finite
  difference is even biased (mean 3 mu^2 + sigma^2 against 3 mu^2 + 3 sigma^2).
"""

import sympy as sp

import symflow as sf

P = sf.families.normal()
X = P.x[0]
MU, SIGMA = P.params
A, C = sp.symbols("a c", real=True)
TIMEOUT = 20


def lr(wrt):
    return sf.derive(P, sf.flows.zero(P), wrt=wrt)


@sf.claim("a constant baseline keeps LR for mu unbiased: E[score_mu] = 0", equation="22")
def baseline_unbiased_mu():
    return sf.toolbox.check_baseline_unbiased(lr(MU), timeout=TIMEOUT)


@sf.claim("a constant baseline keeps LR for sigma unbiased: E[score_sigma] = 0", equation="22")
def baseline_unbiased_sigma():
    return sf.toolbox.check_baseline_unbiased(lr(SIGMA), timeout=TIMEOUT)


@sf.claim("a baseline biases an estimator whose psi has nonzero mean (psi = (x - mu)^2/sigma^2)", expect="refuted")
def baseline_biases_wrong_psi():
    wrong = sf.Estimator(P, MU, (0,), (X - MU) ** 2 / SIGMA**2, name="not a score")
    return sf.toolbox.check_baseline_unbiased(wrong, timeout=TIMEOUT)


@sf.claim("optimal baseline for mu equals E[phi] for linear phi = a x + c under the Gaussian", equation="24")
def optimal_baseline_linear_mu():
    return sf.toolbox.baseline_equals_mean(P, A * X + C, MU, timeout=TIMEOUT)


@sf.claim("optimal baseline for sigma equals E[phi] for linear phi = a x + c under the Gaussian", equation="24")
def optimal_baseline_linear_sigma():
    return sf.toolbox.baseline_equals_mean(P, A * X + C, SIGMA, timeout=TIMEOUT)


@sf.claim("optimal baseline for mu equals E[phi] for phi = x^2", equation="24", expect="refuted")
def optimal_baseline_quadratic():
    return sf.toolbox.baseline_equals_mean(P, X**2, MU, timeout=TIMEOUT)


@sf.claim("a baseline cancels in the antithetic LR pair for mu, for every phi and b")
def antithetic_baseline_mu():
    return sf.toolbox.check_antithetic_baseline_cancels(lr(MU), timeout=TIMEOUT)


@sf.claim("a baseline cancels in the antithetic LR pair for sigma", expect="refuted")
def antithetic_baseline_sigma():
    return sf.toolbox.check_antithetic_baseline_cancels(lr(SIGMA), timeout=TIMEOUT)


@sf.claim("antithetic LR (Eq. 27) equals the finite difference (Eq. 26) for phi = x", equation="27", expect="refuted")
def antithetic_is_not_fd_linear():
    return sf.toolbox.antithetic_vs_finite_difference(lr(MU), X, timeout=TIMEOUT)


@sf.claim("antithetic LR (Eq. 27) equals the finite difference (Eq. 26) for phi = x^3", equation="27", expect="refuted")
def antithetic_is_not_fd_cubic():
    return sf.toolbox.antithetic_vs_finite_difference(lr(MU), X**3, timeout=TIMEOUT)
