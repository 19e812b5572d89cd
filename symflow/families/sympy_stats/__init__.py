"""sympy.stats random variables as symflow densities: ``from_stats(Normal("X", mu, sigma))``.

``bridge`` builds the Density (pdf, parameters, support, a checked CDF, a sampler); ``table`` lists the
supported distributions and holds the sampler values; ``draws`` the numpy/scipy draw for each.
"""

from .bridge import from_stats as from_stats
from .table import InversionSampler as InversionSampler
from .table import StatsSampler as StatsSampler
from .table import supported_distributions as supported_distributions

__all__ = ["InversionSampler", "StatsSampler", "from_stats", "supported_distributions"]
