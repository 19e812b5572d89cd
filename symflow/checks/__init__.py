"""The checks: each decides one statement about a density, a flow or an estimator and returns a ``Verdict``.

One check a module: ``transport`` (Eq. 52), ``normalization``, ``boundary``
(Eq. 47, footnote 4), ``unbiased`` (Eq. 4, 19), ``weights`` (closed forms from
a paper), ``weak_derivative`` (measure-valued decompositions and couplings).
Every symbolic step runs under the call's time budget (``timeout=`` in
seconds, default the global one).  Each verdict records how it came about as
an unchecked ``Proof`` (``records``: the integrals, limits and differences
written out); ``symflow.proof_of`` checks it when asked.
"""

from .boundary import check_boundary as check_boundary
from .normalization import check_normalized as check_normalized
from .transport import check_transport as check_transport
from .unbiased import check_unbiased as check_unbiased
from .weak_derivative import check_coupling as check_coupling
from .weak_derivative import check_weak_derivative as check_weak_derivative
from .weights import check_weights as check_weights

__all__ = [
    "check_boundary",
    "check_coupling",
    "check_normalized",
    "check_transport",
    "check_unbiased",
    "check_weak_derivative",
    "check_weights",
]
