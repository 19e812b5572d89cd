"""The one-dimensional continuous families, in one place (an index; the recipes live elsewhere).

``location_scale`` holds the families f((x - mu)/sigma)/sigma (normal,
laplace, logistic, l_distribution, student_t); ``shape`` holds those with
shape, rate or edge parameters (exponential, uniform, gamma, beta,
chi_squared, weibull, log_normal, kumaraswamy, von_mises).  This module
re-exports both, so ``symflow.families.univariate.normal`` keeps working.
"""

from .location_scale import l_distribution as l_distribution
from .location_scale import laplace as laplace
from .location_scale import logistic as logistic
from .location_scale import normal as normal
from .location_scale import student_t as student_t
from .shape import beta as beta
from .shape import chi_squared as chi_squared
from .shape import exponential as exponential
from .shape import gamma as gamma
from .shape import kumaraswamy as kumaraswamy
from .shape import log_normal as log_normal
from .shape import uniform as uniform
from .shape import von_mises as von_mises
from .shape import weibull as weibull

__all__ = [
    "beta",
    "chi_squared",
    "exponential",
    "gamma",
    "kumaraswamy",
    "l_distribution",
    "laplace",
    "log_normal",
    "logistic",
    "normal",
    "student_t",
    "uniform",
    "von_mises",
    "weibull",
]
