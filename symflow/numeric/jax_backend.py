"""jax backend: the estimator as a ``jax.jit``-compiled float64 function.

Float64 without changing the user's global JAX configuration: the function is traced, compiled
and run inside ``jax.enable_x64(True)``, a context manager that sets the ``jax_enable_x64``
flag for the current thread only while our code runs and restores it afterwards (it does not
call ``jax.config.update``).  Arrays the user creates outside a call stay float32 unless the
user enables x64 themselves.

Special functions come from ``jax.scipy.special``: gamma, loggamma (as ``gammaln``, real
arguments), polygamma, erf, erfc, beta, besseli of order 0 and 1 (``i0``, ``i1``: the von Mises
normaliser), and lowergamma/uppergamma through the regularized
``gammainc``/``gammaincc`` times Gamma; the regularized incomplete gamma and beta of
``symflow.numeric.special`` map to ``gammainc``/``gammaincc``/``betainc``.  Their derivatives in a
shape parameter (``RegularizedLowerGammaDerivA``, ``RegularizedIncompleteBetaDerivA/B``) and the
Student-t and von Mises CDFs and their parameter derivatives have no JAX implementation: they run
as symflow's float64 numpy kernels on the host through ``jax.pure_callback`` (so they work under
``jit`` and ``vmap``, but are not differentiable themselves).  Expressions are first rewritten by
``rewrite_parameter_derivatives`` (SymPy's Meijer G of d/da lowergamma becomes
``RegularizedLowerGammaDerivA``).  A function JAX cannot evaluate raises ``BackendError`` naming it.

``jax_function(args, exprs)`` is the same code generation without the estimator around it, in the
caller's precision (no x64 scope): ``symflow.frameworks.jax`` builds samplers and surrogates with it.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import jax.scipy.special as jss
import numpy as np
import sympy as sp
from sympy.printing.numpy import JaxPrinter

from ._codegen import generate, numpy_kernels
from ._formula import Built, formula
from .special import rewrite_parameter_derivatives

__all__ = ["build", "host_callback", "host_kernel", "jax_function"]

OPTIONS: tuple[str, ...] = ()


def _polygamma(order, x):
    return jss.polygamma(jnp.asarray(order, dtype=jnp.int32), x)


def _lowergamma(a, x):
    # gammainc is regularized: gamma(a, x) / Gamma(a) => multiply back by Gamma(a) (a > 0).
    return jss.gammainc(a, x) * jnp.exp(jss.gammaln(a))


def _uppergamma(a, x):
    return jss.gammaincc(a, x) * jnp.exp(jss.gammaln(a))


def _float_dtype(*arrays):
    dtype = jnp.result_type(*arrays)
    return dtype if jnp.issubdtype(dtype, jnp.floating) else jnp.result_type(float)


def host_callback(fn: Callable, shape: tuple, dtype, *args, vmap_method: str):
    """``jax.pure_callback`` of ``fn`` (numpy arrays in, one array of ``shape`` and ``dtype`` out), float64-safe.

    JAX converts a callback's arguments and result to the precision of the thread that *runs* the
    callback, and with ``jax.enable_x64(True)`` (a thread-local switch) that is not the thread that
    traced it once XLA dispatches asynchronously (measured: from about 10^5 elements on), so float64
    arrays arrived as float32 and the float64 result was refused.  float64 arrays therefore cross
    as their bits (uint32 pairs, the same in both modes) and are viewed as float64 on either side.
    """
    jnp = jax.numpy
    as_bits = [jnp.asarray(a).dtype == jnp.float64 for a in args]
    sent = [jax.lax.bitcast_convert_type(a, jnp.uint32) if bits else a for a, bits in zip(args, as_bits, strict=True)]
    wide = jnp.dtype(dtype) == jnp.float64

    def on_host(*values):
        decoded = [
            np.ascontiguousarray(v).view(np.float64).reshape(np.shape(v)[:-1]) if bits else np.asarray(v)
            for v, bits in zip(values, as_bits, strict=True)
        ]
        out = np.asarray(fn(*decoded), dtype=np.float64 if wide else dtype)
        return np.ascontiguousarray(out).view(np.uint32).reshape(*out.shape, 2) if wide else out

    if wide:
        spec = jax.ShapeDtypeStruct((*shape, 2), jnp.uint32)
        return jax.lax.bitcast_convert_type(jax.pure_callback(on_host, spec, *sent, vmap_method=vmap_method), dtype)
    return jax.pure_callback(on_host, jax.ShapeDtypeStruct(shape, dtype), *sent, vmap_method=vmap_method)


def host_kernel(kernel: Callable) -> Callable:
    """An elementwise float64 numpy kernel as a JAX function (``jax.pure_callback``, batched by broadcasting).

    The kernel computes in float64 on the host; the result has the inputs' floating dtype
    (float32 unless x64 is enabled).  Works under ``jit`` and ``vmap``; not differentiable.
    """

    def call(*args):
        arrays = [jnp.asarray(a) for a in args]
        dtype = _float_dtype(*arrays)
        arrays = jnp.broadcast_arrays(*(a.astype(dtype) for a in arrays))

        def on_host(*values):
            out = kernel(*(np.asarray(v, dtype=np.float64) for v in values))
            return np.asarray(out, dtype=np.float64).reshape(np.shape(values[0]))

        # elementwise => a batch is just a larger array: one host call per batch, not per element
        return host_callback(on_host, arrays[0].shape, dtype, *arrays, vmap_method="broadcast_all")

    return call


def _besseli(order, x):
    # order 0 or 1 (generate refuses the others): the von Mises normaliser 2 pi I_0(kappa) and its derivative
    return jss.i0(x) if order == 0 else jss.i1(x)


# SymPy's JaxPrinter maps these to the scalar `math` module (which fails on arrays) or not at all.
TABLE = {
    sp.gamma: ("_gamma", jss.gamma),
    sp.loggamma: ("_loggamma", jss.gammaln),
    sp.polygamma: ("_polygamma", _polygamma),
    sp.erf: ("_erf", jss.erf),
    sp.erfc: ("_erfc", jss.erfc),
    sp.beta: ("_beta", jss.beta),
    sp.lowergamma: ("_lowergamma", _lowergamma),
    sp.uppergamma: ("_uppergamma", _uppergamma),
    sp.besseli: ("_besseli", _besseli),
}
# symflow's special classes: the regularized functions natively, their parameter derivatives on the host.
_NATIVE = {
    "RegularizedLowerGamma": jss.gammainc,
    "RegularizedUpperGamma": jss.gammaincc,
    "RegularizedIncompleteBeta": jss.betainc,
}
TABLE.update(
    {cls: (name, _NATIVE.get(cls.__name__) or host_kernel(kernel)) for cls, (name, kernel) in numpy_kernels().items()}
)


def jax_function(args, exprs) -> Callable:
    """A JAX function of ``args`` returning a tuple, one array per expression of ``exprs`` (lambdify, cse).

    Special-function forms are rewritten first (``rewrite_parameter_derivatives``); raises
    ``BackendError`` naming a function JAX cannot evaluate.  Runs in the caller's precision.
    """
    rewritten = sp.Tuple(*(rewrite_parameter_derivatives(sp.S.Zero + e) for e in exprs))
    return generate(list(args), rewritten, "jax", JaxPrinter, TABLE, "jax")


def _x64():
    """A context in which JAX computes in float64, for this thread only (restored on exit)."""
    enable = getattr(jax, "enable_x64", None)
    if enable is None:  # JAX before the top-level context manager
        from jax.experimental import enable_x64 as enable
    return enable(True)


def build(compiled) -> Built:
    """The jitted function ``(xs, phis, grads, values) -> (n,) numpy float64`` for a ``CompiledEstimator``."""
    form = formula(compiled)
    with _x64():
        fn = generate(form.args, rewrite_parameter_derivatives(form.expr), "jax", JaxPrinter, TABLE, "jax")

    def kernel(*arrays):
        # arrays[0] is the x_1 column => a constant E (no x dependence) still gives one value per sample.
        return jnp.broadcast_to(jnp.asarray(fn(*arrays), dtype=jnp.float64), arrays[0].shape)

    jitted: Callable = jax.jit(kernel)

    def evaluate(xs: np.ndarray, phis: np.ndarray | None, grads: np.ndarray | None, values: tuple) -> np.ndarray:
        n = xs.shape[0]
        with _x64():
            out = jitted(*form.columns(xs, phis, grads, 0, n), *(np.float64(v) for v in values))
            # A fresh, writable numpy array (jax arrays are read-only views when shared).
            return np.array(out, dtype=np.float64)

    return Built(evaluate, (), form.derived)
