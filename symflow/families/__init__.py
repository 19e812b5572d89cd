"""The catalogue of named distribution families (cf. sympy's ``stats/crv_types.py``).

Every family is a function returning a ``Density``; its docstring states the
density, the parameter order, and which of sampler, reparameterization,
standardization and CDF it carries.  Default Symbols are shared between
families (``x``, ``mu``, ``sigma``, ...), so densities built separately can be
mixed in one estimator.

* ``univariate``   normal, laplace, logistic, l_distribution (Eq. 78), student_t,
  exponential, uniform, gamma, beta
* ``multivariate`` mvn (diagonal or full Cholesky-factor covariance)
"""

from .discrete import bernoulli as bernoulli
from .discrete import binomial as binomial
from .discrete import geometric as geometric
from .discrete import negative_binomial as negative_binomial
from .discrete import poisson as poisson
from .multivariate import mvn as mvn
from .univariate import beta as beta
from .univariate import exponential as exponential
from .univariate import gamma as gamma
from .univariate import l_distribution as l_distribution
from .univariate import laplace as laplace
from .univariate import logistic as logistic
from .univariate import normal as normal
from .univariate import student_t as student_t
from .univariate import uniform as uniform

__all__ = [
    "bernoulli",
    "beta",
    "binomial",
    "exponential",
    "gamma",
    "geometric",
    "l_distribution",
    "laplace",
    "logistic",
    "mvn",
    "negative_binomial",
    "normal",
    "poisson",
    "student_t",
    "uniform",
]
