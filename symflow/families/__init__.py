"""The catalogue of named distribution families (cf. sympy's ``stats/crv_types.py``).

Every family is a function returning a ``Density``; its docstring states the
density, the parameter order, and which of sampler, reparameterization,
standardization and CDF it carries.  Default Symbols are shared between
families (``x``, ``mu``, ``sigma``, ...), so densities built separately can be
mixed in one estimator.  Every parameter may also be given as a Symbol or an
expression in Symbols: ``beta(alpha=a, beta=a)`` is Beta(a, a) with params
``(a,)`` (ties; ``_common``).

Densities are plain values: their samplers are ``samplers.Draw`` values (no
closures), so a density pickles and samples the same after a round trip.

* ``location_scale`` normal, laplace, logistic, l_distribution (Eq. 78), student_t
* ``shape``          exponential, uniform, gamma, beta, chi_squared, weibull,
  log_normal, kumaraswamy, von_mises
* ``discrete``       poisson, geometric, negative_binomial, binomial, bernoulli
* ``multivariate``   mvn (diagonal or full Cholesky-factor covariance)
* ``simplex``        dirichlet (over the simplex's d - 1 free coordinates)
"""

from .discrete import bernoulli as bernoulli
from .discrete import binomial as binomial
from .discrete import geometric as geometric
from .discrete import negative_binomial as negative_binomial
from .discrete import poisson as poisson
from .location_scale import l_distribution as l_distribution
from .location_scale import laplace as laplace
from .location_scale import logistic as logistic
from .location_scale import normal as normal
from .location_scale import student_t as student_t
from .multivariate import mvn as mvn
from .shape import beta as beta
from .shape import chi_squared as chi_squared
from .shape import exponential as exponential
from .shape import gamma as gamma
from .shape import kumaraswamy as kumaraswamy
from .shape import log_normal as log_normal
from .shape import uniform as uniform
from .shape import von_mises as von_mises
from .shape import weibull as weibull
from .simplex import dirichlet as dirichlet

__all__ = [
    "bernoulli",
    "beta",
    "binomial",
    "chi_squared",
    "dirichlet",
    "exponential",
    "gamma",
    "geometric",
    "kumaraswamy",
    "l_distribution",
    "laplace",
    "log_normal",
    "logistic",
    "mvn",
    "negative_binomial",
    "normal",
    "poisson",
    "student_t",
    "uniform",
    "von_mises",
    "weibull",
]
