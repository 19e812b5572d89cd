r"""symflow estimators inside JAX and PyTorch training code (issue 15).

Two adapters with the same shape, each importing its framework only when first used
(``import symflow`` imports neither):

- ``symflow.frameworks.jax`` (``sf.jax``): ``sampler(p, flow)`` returns ``sample(key, params, n)``,
  a ``jax.custom_jvp`` whose tangent in :math:`\theta_i` is the flow :math:`u_{\theta_i}(x)`, so
  ``jax.grad`` of a sample mean of any JAX :math:`\phi` is the flow estimator (when
  :math:`\psi = 0`); ``surrogate(est)`` is a scalar objective whose ``jax.grad`` is the estimator
  :math:`v\cdot\nabla\phi + \psi\phi` (Eq. 19) on the given samples, extra terms included.
- ``symflow.frameworks.torch`` (``sf.torch``): the same with a ``torch.autograd.Function``.

``_common`` holds what both share: the parameter look-up, the default flow, host-side sampling
from a density's numpy sampler, and the surrogate's plan (which expressions to compile, which
extra terms to add).
"""

__all__: list[str] = []
