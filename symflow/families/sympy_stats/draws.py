"""Draws for sympy.stats distributions: ``(n, parameter values in the distribution's order, rng) -> (n,) array``.

Sampled by formula (parameters as sympy.stats names them):

=============================  =================================================
Normal(mean, std)              rng.normal(mean, std)
Exponential(rate)              rng.exponential(1/rate)
Gamma(k, theta), Erlang(k, l)  rng.gamma(k, theta)       (Erlang is Gamma(k, 1/l))
Beta(a, b)                     rng.beta(a, b)
StudentT(nu)                   rng.standard_t(nu)
VonMises(mu, k)                rng.vonmises(mu, k) mod 2 pi  (sympy's support is [0, 2 pi])
Weibull(alpha, beta)           alpha rng.weibull(beta)   (alpha scale, beta shape)
LogNormal(mean, std)           rng.lognormal(mean, std)
ChiSquared(k)                  rng.chisquare(k)
Kumaraswamy(a, b)              (1 - U^(1/b))^(1/a)
Laplace(mu, b)                 rng.laplace(mu, b)
Logistic(mu, s)                rng.logistic(mu, s)
Cauchy(x0, gamma)              x0 + gamma rng.standard_cauchy()
Uniform(left, right)           rng.uniform(left, right)
Pareto(xm, alpha)              xm exp(E/alpha), E ~ Exp(1)
Rayleigh(sigma)                rng.rayleigh(sigma)
Maxwell(a)                     a sqrt(chi^2_3)
Gumbel(beta, mu, minimum)      mu +- rng.gumbel(0, beta)
Frechet(a, s, m)               m + s E^(-1/a)
GammaInverse(a, b)             b / rng.gamma(a)
Chi(k)                         sqrt(chi^2_k)
Levy(mu, c)                    mu + c / Z^2
Nakagami(mu, omega)            sqrt(Gamma(mu, omega/mu))
BetaPrime(a, b)                G_a / G_b
FDistribution(d1, d2)          rng.f(d1, d2)
FisherZ(d1, d2)                log(rng.f(d1, d2)) / 2
Triangular(a, b, c)            rng.triangular(a, c, b)   (c is the mode)
Arcsin(a, b)                   a + (b - a) sin^2(pi U/2)
Dagum(p, a, b)                 b (U^(-1/p) - 1)^(-1/a)
GaussianInverse(mean, shape)   rng.wald(mean, shape)
ExGaussian(mean, std, rate)    N(mean, std^2) + Exp(rate)
Gompertz(b, eta)               log1p(E/eta) / b
ShiftedGompertz(b, eta)        max(Exp(b), (log eta - log E)/b)
LogLogistic(alpha, beta)       alpha exp(L/beta), L standard logistic
WignerSemicircle(R)            R (2 Beta(3/2, 3/2) - 1)
LogitNormal(mu, s)             expit(N(mu, s^2))
Lomax(alpha, lamda)            lamda rng.pareto(alpha)
PowerFunction(alpha, a, b)     a + (b - a) U^(1/alpha)
Moyal(mu, sigma)               mu - sigma log(chi^2_1)
Benini(alpha, beta, sigma)     sigma exp(2E/(alpha + sqrt(alpha^2 + 4 beta E)))
QuadraticU(a, b)               (a + b)/2 + (b - a)/2 cbrt(2U - 1)
Reciprocal(a, b)               a (b/a)^U
BoundedPareto(alpha, L, H)     L (1 - U (1 - (L/H)^alpha))^(-1/alpha)
ExponentialPower(mu, a, b)     mu + a S G^(1/b), G ~ Gamma(1/b), S = +-1
ChiNoncentral(k, l)            sqrt(rng.noncentral_chisquare(k, l^2))
Poisson(lamda)                 rng.poisson(lamda)
Geometric(p)                   rng.geometric(p)          (trials, support 1, 2, ...)
NegativeBinomial(r, p)         rng.negative_binomial(r, p)   (pmf C(x + r - 1, x) p^r (1 - p)^x)
Binomial(n, p)                 rng.binomial(n, p)        (succ=1, fail=0 only)
Bernoulli(p)                   U < p                     (succ=1, fail=0 only)
BetaBinomial(n, a, b)          rng.binomial(n, Beta(a, b))
Hypergeometric(N, m, n)        rng.hypergeometric(m, N - m, n)
Logarithmic(p)                 rng.logseries(p)
Zeta(s)                        rng.zipf(s)
YuleSimon(rho)                 scipy.stats.yulesimon.rvs(rho)
FlorySchulz(a)                 1 + rng.negative_binomial(2, a)
Skellam(mu1, mu2)              Poisson(mu1) - Poisson(mu2)
Die(sides)                     rng.integers(1, sides + 1)
=============================  =================================================
"""

from __future__ import annotations

import math

import numpy as np

_TWO_PI = 2 * math.pi


# -- draws: (n, parameter values in the distribution's order, rng) -> (n,) array ----------------


def u(n, rng):
    return 1.0 - rng.random(n)  # in (0, 1]: logs and negative powers stay finite


def normal(n, a, rng):
    return rng.normal(a[0], a[1], n)


def exponential(n, a, rng):
    return rng.exponential(1 / a[0], n)


def gamma(n, a, rng):
    return rng.gamma(a[0], a[1], n)


def beta(n, a, rng):
    return rng.beta(a[0], a[1], n)


def student_t(n, a, rng):
    return rng.standard_t(a[0], n)


def von_mises(n, a, rng):
    return np.mod(rng.vonmises(a[0], a[1], n), _TWO_PI)


def weibull(n, a, rng):
    return a[0] * rng.weibull(a[1], n)


def log_normal(n, a, rng):
    return rng.lognormal(a[0], a[1], n)


def chi_squared(n, a, rng):
    return rng.chisquare(a[0], n)


def kumaraswamy(n, a, rng):
    return (-np.expm1(np.log(u(n, rng)) / a[1])) ** (1 / a[0])


def laplace(n, a, rng):
    return rng.laplace(a[0], a[1], n)


def logistic(n, a, rng):
    return rng.logistic(a[0], a[1], n)


def cauchy(n, a, rng):
    return a[0] + a[1] * rng.standard_cauchy(n)


def uniform(n, a, rng):
    return rng.uniform(a[0], a[1], n)


def pareto(n, a, rng):
    return a[0] * np.exp(rng.standard_exponential(n) / a[1])


def rayleigh(n, a, rng):
    return rng.rayleigh(a[0], n)


def maxwell(n, a, rng):
    return a[0] * np.sqrt(rng.chisquare(3, n))


def gumbel(n, a, rng):
    g = rng.gumbel(0.0, a[0], n)
    return a[1] - g if a[2] else a[1] + g


def frechet(n, a, rng):
    return a[2] + a[1] * rng.standard_exponential(n) ** (-1 / a[0])


def gamma_inverse(n, a, rng):
    return a[1] / rng.standard_gamma(a[0], n)


def chi(n, a, rng):
    return np.sqrt(rng.chisquare(a[0], n))


def levy(n, a, rng):
    return a[0] + a[1] / rng.standard_normal(n) ** 2


def nakagami(n, a, rng):
    return np.sqrt(rng.gamma(a[0], a[1] / a[0], n))


def beta_prime(n, a, rng):
    return rng.standard_gamma(a[0], n) / rng.standard_gamma(a[1], n)


def f(n, a, rng):
    return rng.f(a[0], a[1], n)


def fisher_z(n, a, rng):
    return 0.5 * np.log(rng.f(a[0], a[1], n))


def triangular(n, a, rng):
    return rng.triangular(a[0], a[2], a[1], n)


def arcsin(n, a, rng):
    return a[0] + (a[1] - a[0]) * np.sin(0.5 * np.pi * rng.random(n)) ** 2


def dagum(n, a, rng):
    return a[2] * np.expm1(-np.log(u(n, rng)) / a[0]) ** (-1 / a[1])


def gaussian_inverse(n, a, rng):
    return rng.wald(a[0], a[1], n)


def ex_gaussian(n, a, rng):
    return rng.normal(a[0], a[1], n) + rng.exponential(1 / a[2], n)


def gompertz(n, a, rng):
    return np.log1p(rng.standard_exponential(n) / a[1]) / a[0]


def shifted_gompertz(n, a, rng):
    # F = (1 - e^{-bx}) exp(-eta e^{-bx}) is the CDF of the larger of Exp(b) and a Gumbel
    gumbel = (np.log(a[1]) - np.log(rng.standard_exponential(n))) / a[0]
    return np.maximum(rng.exponential(1 / a[0], n), gumbel)


def log_logistic(n, a, rng):
    return a[0] * np.exp(rng.logistic(0.0, 1.0, n) / a[1])


def wigner(n, a, rng):
    return a[0] * (2 * rng.beta(1.5, 1.5, n) - 1)


def logit_normal(n, a, rng):
    from scipy.special import expit

    return expit(rng.normal(a[0], a[1], n))


def lomax(n, a, rng):
    return a[1] * rng.pareto(a[0], n)


def power_function(n, a, rng):
    return a[1] + (a[2] - a[1]) * u(n, rng) ** (1 / a[0])


def moyal(n, a, rng):
    return a[0] - a[1] * np.log(rng.chisquare(1, n))


def benini(n, a, rng):
    e = rng.standard_exponential(n)  # solves beta t^2 + alpha t = E for t = log(x/sigma) >= 0
    return a[2] * np.exp(2 * e / (a[0] + np.sqrt(a[0] ** 2 + 4 * a[1] * e)))


def quadratic_u(n, a, rng):
    return 0.5 * (a[0] + a[1]) + 0.5 * (a[1] - a[0]) * np.cbrt(2 * rng.random(n) - 1)


def reciprocal(n, a, rng):
    return a[0] * np.exp(rng.random(n) * np.log(a[1] / a[0]))


def bounded_pareto(n, a, rng):
    alpha, lo, hi = a
    return lo * (1 - rng.random(n) * -np.expm1(alpha * np.log(lo / hi))) ** (-1 / alpha)


def exponential_power(n, a, rng):
    sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    return a[0] + a[1] * sign * rng.standard_gamma(1 / a[2], n) ** (1 / a[2])


def chi_noncentral(n, a, rng):
    return np.sqrt(rng.noncentral_chisquare(a[0], a[1] ** 2, n))


def poisson(n, a, rng):
    return rng.poisson(a[0], n)


def geometric(n, a, rng):
    return rng.geometric(a[0], n)


def negative_binomial(n, a, rng):
    return rng.negative_binomial(a[0], a[1], n)  # sympy's p^r (1 - p)^x: p is numpy's success probability


def binomial(n, a, rng):
    return rng.binomial(round(a[0]), a[1], n)


def bernoulli(n, a, rng):
    return (rng.random(n) < a[0]).astype(float)


def beta_binomial(n, a, rng):
    return rng.binomial(round(a[0]), rng.beta(a[1], a[2], n))


def hypergeometric(n, a, rng):
    total, good, draws = round(a[0]), round(a[1]), round(a[2])
    return rng.hypergeometric(good, total - good, draws, n)


def logarithmic(n, a, rng):
    return rng.logseries(a[0], n)


def zeta(n, a, rng):
    return rng.zipf(a[0], n)


def yule_simon(n, a, rng):
    from scipy.stats import yulesimon

    return yulesimon.rvs(a[0], size=n, random_state=rng)


def flory_schulz(n, a, rng):
    return 1 + rng.negative_binomial(2, a[0], n)


def skellam(n, a, rng):
    return rng.poisson(a[0], n) - rng.poisson(a[1], n)


def die(n, a, rng):
    return rng.integers(1, round(a[0]) + 1, n)
