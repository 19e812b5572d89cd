"""torch backend: the estimator evaluated with torch tensor operations in float64 on the CPU.

Inputs are shared with numpy (``torch.from_numpy``, no copy), parameters become 0-d float64
tensors, and the work runs under ``torch.no_grad()`` on torch's own intra-op thread pool.
Nothing global is changed (no default dtype, no thread count).

Special functions come from ``torch.special``: loggamma, digamma, erf, erfc, besseli of order 0
and 1 (``i0``, ``i1``: the von Mises normaliser), and through
them gamma (``exp(lgamma)`` with the sign of Gamma for negative arguments), beta and
lowergamma/uppergamma (regularized ``gammainc``/``gammaincc`` times Gamma).  Functions torch
lacks (e.g. betainc, Bessel functions of order other than 0 and 1) raise ``BackendError`` naming them,
and so does polygamma of order >= 1: torch's trigamma is off by about 5e-10 relative.
symflow's special classes: the regularized incomplete gamma (``torch.special.gammainc/gammaincc``)
natively; the regularized incomplete beta, the parameter derivatives and the Student-t and von Mises
CDFs through the float64 numpy kernels of ``symflow.numeric.special`` on the tensors' values (no
gradient flows through them).  Expressions are rewritten by ``rewrite_parameter_derivatives`` first.

``torch_function(args, exprs)`` is the same code generation without the estimator around it, in the
inputs' dtype: ``symflow.frameworks.torch`` builds samplers and surrogates with it.
"""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp
import torch
from sympy.printing.pytorch import TorchPrinter

from ..errors import BackendError
from ._codegen import generate, numpy_kernels
from ._formula import Built, formula
from .special import rewrite_parameter_derivatives

__all__ = ["build", "torch_function"]

OPTIONS: tuple[str, ...] = ()


def _tensor(value) -> torch.Tensor:
    return value if isinstance(value, torch.Tensor) else torch.tensor(value, dtype=torch.float64)


def _gamma(x):
    x = _tensor(x)
    # |Gamma(x)| = exp(lgamma(x)); Gamma < 0 exactly on (-1, 0), (-3, -2), ... <=> floor(x) odd for x < 0.
    negative = (x < 0) & (torch.remainder(torch.floor(x), 2) == 1)
    return torch.where(negative, -1.0, 1.0).to(x.dtype) * torch.exp(torch.lgamma(x))


def _beta(a, b):
    a, b = _tensor(a), _tensor(b)
    return torch.exp(torch.lgamma(a) + torch.lgamma(b) - torch.lgamma(a + b))


def _lowergamma(a, x):
    a, x = _tensor(a), _tensor(x)
    return torch.special.gammainc(a, x) * torch.exp(torch.lgamma(a))


def _uppergamma(a, x):
    a, x = _tensor(a), _tensor(x)
    return torch.special.gammaincc(a, x) * torch.exp(torch.lgamma(a))


def _digamma(order, x):
    return torch.special.digamma(_tensor(x))


def _erfc(x):
    return torch.special.erfc(_tensor(x))


def _heaviside(x, h0=0.5):
    x = _tensor(x)
    return torch.heaviside(x, torch.tensor(float(h0), dtype=x.dtype))


def _maximum(*args):
    return functools.reduce(torch.maximum, [_tensor(a) for a in args])


def _minimum(*args):
    return functools.reduce(torch.minimum, [_tensor(a) for a in args])


def _besseli(order, x):
    # order 0 or 1 (generate refuses the others): the von Mises normaliser 2 pi I_0(kappa) and its derivative
    return torch.special.i0(_tensor(x)) if order == 0 else torch.special.i1(_tensor(x))


# torch functions want tensors where SymPy's TorchPrinter passes plain numbers (max, heaviside).
TABLE = {
    sp.Max: ("_maximum", _maximum),
    sp.Min: ("_minimum", _minimum),
    sp.Heaviside: ("_heaviside", _heaviside),
    sp.gamma: ("_gamma", _gamma),
    sp.beta: ("_beta", _beta),
    sp.lowergamma: ("_lowergamma", _lowergamma),
    sp.uppergamma: ("_uppergamma", _uppergamma),
    sp.polygamma: ("_digamma", _digamma),  # order 0 only: see build
    sp.erfc: ("_erfc", _erfc),
    sp.besseli: ("_besseli", _besseli),
}


def _host(kernel):
    """An elementwise float64 numpy kernel applied to tensors' values (no gradient), in their dtype."""

    def call(*args):
        tensors = torch.broadcast_tensors(*(_tensor(a) for a in args))
        dtype = torch.promote_types(tensors[0].dtype, torch.get_default_dtype())
        for t in tensors[1:]:
            dtype = torch.promote_types(dtype, t.dtype)
        values = [t.detach().cpu().numpy().astype(np.float64) for t in tensors]
        out = np.asarray(kernel(*values), dtype=np.float64).reshape(values[0].shape)
        return torch.from_numpy(out).to(dtype=dtype, device=tensors[0].device)

    return call


def _native_RegularizedLowerGamma(a, x):
    return torch.special.gammainc(_tensor(a), _tensor(x))


def _native_RegularizedUpperGamma(a, x):
    return torch.special.gammaincc(_tensor(a), _tensor(x))


_NATIVE = {
    "RegularizedLowerGamma": _native_RegularizedLowerGamma,
    "RegularizedUpperGamma": _native_RegularizedUpperGamma,
}
TABLE.update(
    {cls: (name, _NATIVE.get(cls.__name__) or _host(kernel)) for cls, (name, kernel) in numpy_kernels().items()}
)


def _refuse_higher_polygamma(expr: sp.Expr) -> None:
    higher = sorted({str(p) for p in expr.atoms(sp.polygamma) if p.args[0] != 0}, key=str)
    if higher:
        # torch.special.polygamma(1, 1.2) = 1.2673772060 vs 1.2673772054 (mpmath, scipy): 5e-10 relative.
        raise BackendError(
            f"the 'torch' backend cannot evaluate the function polygamma of order >= 1 ({', '.join(higher)}): "
            "torch's is accurate to only about 1e-9; use backend='numpy' or 'jax'"
        )


def _constants_as_floats(expr: sp.Expr) -> sp.Expr:
    """Numeric subexpressions (sqrt(2), 1/sqrt(pi)) as Floats: TorchPrinter prints torch.sqrt(2), needing a tensor."""

    def is_constant(e: sp.Basic) -> bool:
        return isinstance(e, sp.Expr) and not e.is_Number and not e.free_symbols and e.is_real is True

    return expr.replace(is_constant, lambda e: sp.Float(e.evalf(30), 17))


def torch_function(args, exprs):
    """A torch function of ``args`` returning a tuple, one tensor per expression of ``exprs`` (lambdify, cse).

    Special-function forms are rewritten first (``rewrite_parameter_derivatives``); raises
    ``BackendError`` naming a function torch cannot evaluate.
    """
    rewritten = sp.Tuple(*(_constants_as_floats(rewrite_parameter_derivatives(sp.S.Zero + e)) for e in exprs))
    _refuse_higher_polygamma(rewritten)
    return generate(list(args), rewritten, "torch", TorchPrinter, TABLE, "torch")


def build(compiled) -> Built:
    """The function ``(xs, phis, grads, values) -> (n,) numpy float64`` for a ``CompiledEstimator``."""
    form = formula(compiled)
    expr = _constants_as_floats(rewrite_parameter_derivatives(form.expr))
    _refuse_higher_polygamma(expr)
    fn = generate(form.args, expr, "torch", TorchPrinter, TABLE, "torch")

    def evaluate(xs: np.ndarray, phis: np.ndarray | None, grads: np.ndarray | None, values: tuple) -> np.ndarray:
        n = xs.shape[0]
        columns = [torch.from_numpy(c) for c in form.columns(xs, phis, grads, 0, n)]
        params = [torch.tensor(v, dtype=torch.float64) for v in values]
        with torch.no_grad():
            out = _tensor(fn(*columns, *params))
        # A constant E (no x dependence) still gives one value per sample; a fresh, writable array.
        return np.array(torch.broadcast_to(out, (n,)).numpy(), dtype=np.float64)

    return Built(evaluate, (), form.derived)
