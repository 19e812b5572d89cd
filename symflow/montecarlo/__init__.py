r"""Monte Carlo check of an estimator against the exact gradient.

``mc_check`` averages the estimator :math:`E = v\cdot\nabla\phi + \psi\phi`
(Eq. 19) over n draws x ~ q, adds the separately sampled ``extra_terms``
(surface, jump and moving-boundary contributions), and compares the mean
with the exact :math:`\partial_{\theta_i} E_p[\phi]` by a two-sided z-test.
Unbiasedness (Eq. 4) says the two agree in expectation, so a rejection at a
tiny level alpha is strong evidence of a wrong estimator, while acceptance
only bounds the bias by ``delta``.

Modules: ``check`` (mc_check itself), ``result`` (MCResult), ``stream`` (per-chunk
seeds, mergeable moments, the ordered thread pool, the progress bar), ``tails``
(the heavy-tail diagnostic).
"""

from .check import ROUNDING_ULPS as ROUNDING_ULPS
from .check import mc_check as mc_check
from .result import MCResult as MCResult
from .result import critical_z as _critical_z  # noqa: F401 - tests and benchmarks use it

__all__ = ["MCResult", "mc_check"]
