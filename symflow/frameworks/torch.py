r"""symflow estimators inside PyTorch: a sampler whose derivative is the flow, and surrogates for any estimator.

The PyTorch twin of ``symflow.frameworks.jax`` (see there for the mathematics):

- ``sampler(p, flow)`` returns ``sample(params, n, generator=None)``: n draws from p (the
  density's numpy sampler, seeded from ``generator`` or torch's global generator, so
  ``torch.manual_seed`` makes runs repeatable) passed through a ``torch.autograd.Function``
  whose backward pass is :math:`\bar\theta_i = \sum_j \bar x_j\cdot u_{\theta_i}(x_j)`: the
  gradient of a sample mean of any torch :math:`\phi` is the flow estimator when :math:`\psi = 0`.
- ``surrogate(est)``: ``s.sample(params, n)`` and ``s(params, samples, phi)``, a scalar whose
  gradient (``backward`` / ``torch.autograd.grad``) is the estimator on those samples, extra
  terms included.

Computations run in the parameters' dtype (use float64 tensors for float64 results).  First
derivatives only (no ``create_graph`` through the flow).  PyTorch is imported when these
functions are first called: ``pip install "symflow[torch]"``, or the CPU-only wheel
``pip install torch --index-url https://download.pytorch.org/whl/cpu`` (docs/backends.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp

from ..core.density import Density
from ..core.flow import Flow
from ..errors import ParameterError, SymflowError
from ._common import (
    GoPlan,
    PointPlan,
    SurrogatePlan,
    default_flow,
    host_sample,
    lookup,
    nudge_scale,
    plan_surrogate,
    require,
)

__all__ = ["Surrogate", "draw", "sampler", "surrogate"]


def _modules():
    torch = require("torch")
    from ..numeric.torch_backend import torch_function

    return torch, torch_function


def _count(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n <= 0:
        raise SymflowError(f"n must be a positive integer number of samples, got {n!r}")
    return int(n)


def _scalars(torch, symbols: Sequence[sp.Symbol], params: object) -> list:
    values = [v if isinstance(v, torch.Tensor) else torch.as_tensor(v) for v in lookup(symbols, params)]
    for t, v in zip(symbols, values, strict=True):
        if v.dim() != 0:
            raise ParameterError(
                f"params[{str(t)!r}] has shape {tuple(v.shape)}; give one scalar per parameter "
                "(for a batch of parameter values, loop or use torch.func.vmap)"
            )
    dtype = torch.get_default_dtype()
    for v in values:
        if v.is_floating_point():
            dtype = torch.promote_types(dtype, v.dtype)
    return [v.to(dtype) if v.dtype != dtype else v for v in values]


def _host_draw(torch, p: Density, n: int, thetas: Sequence, generator) -> Any:
    """n samples of p from its numpy sampler, seeded by four words of the torch generator; (n,) or (n, d)."""
    words = torch.randint(0, 2**31 - 1, (4,), generator=generator).numpy()
    values = [float(t.detach()) for t in thetas]
    xs = host_sample(p, n, values, words)
    dtype = thetas[0].dtype if thetas else torch.get_default_dtype()
    out = torch.from_numpy(xs).to(dtype)
    return out[:, 0] if p.dim == 1 else out


@functools.cache
def _move_function(torch):
    class Move(torch.autograd.Function):
        """Identity on the samples; backward: theta_bar_i = sum_j x_bar_j . u_i(x_j) (the flow as the derivative)."""

        @staticmethod
        def forward(ctx, x, velocity, covered, *thetas):
            ctx.velocity, ctx.covered = velocity, covered
            ctx.save_for_backward(x, *thetas)
            return x.clone()

        @staticmethod
        def backward(ctx, x_bar):
            x, *thetas = ctx.saved_tensors
            grads = []
            with torch.no_grad():
                d = 1 if x.dim() == 1 else x.shape[1]
                columns = [x] if d == 1 else [x[:, j] for j in range(d)]
                comps = ctx.velocity(*columns, *thetas) if any(ctx.needs_input_grad[3:]) else ()
                for i, needed in enumerate(ctx.needs_input_grad[3:]):
                    if not needed:
                        grads.append(None)
                        continue
                    k = ctx.covered[i]
                    if k is None:
                        raise SymflowError(
                            "the flow has no field for a parameter that requires grad; give a flow with a field "
                            "for it, or pass that parameter without requires_grad"
                        )
                    u = [
                        torch.broadcast_to(torch.as_tensor(c, dtype=x.dtype), x.shape[:1])
                        for c in comps[k * d : (k + 1) * d]
                    ]
                    field = u[0] if d == 1 else torch.stack(u, dim=1)
                    grads.append((x_bar * field).sum())
            return (None, None, None, *grads)

    return Move


def draw(p: Density) -> Callable:
    """``draw(params, n, generator=None)``: n samples of ``p`` with no gradient ((n,) or (n, d))."""
    torch, _ = _modules()

    def sample(params, n, generator=None):
        thetas = [t.detach() for t in _scalars(torch, p.params, params)]
        return _host_draw(torch, p, _count(n), thetas, generator)

    return sample


def sampler(p: Density, flow: Flow | None = None) -> Callable:
    r"""``sample(params, n, generator=None)``: n draws from ``p`` whose gradient in :math:`\theta_i` follows the flow.

    ``params``: a dict keyed by parameter name (or Symbol) or a sequence in ``p.params`` order, of
    0-d tensors (those with ``requires_grad`` get gradients) or numbers.  ``flow`` defaults to the
    density's reparameterization flow, else its implicit (CDF) flow; it should solve the transport
    equation (otherwise use ``surrogate``).  Returns (n,) for one variable, (n, d) otherwise; the
    backward pass gives :math:`\bar\theta_i = \sum_j \bar x_j \cdot u_{\theta_i}(x_j;\theta)`.
    """
    torch, torch_function = _modules()
    flow = default_flow(p, flow)
    symbols = p.params
    covered_symbols = [t for t in symbols if t in flow.params]
    velocity = torch_function(p.x + symbols, [c for t in covered_symbols for c in flow.field(t)])
    covered = tuple(covered_symbols.index(t) if t in flow.params else None for t in symbols)
    move = _move_function(torch)

    def sample(params, n, generator=None):
        thetas = _scalars(torch, symbols, params)
        x = _host_draw(torch, p, _count(n), thetas, generator)
        return move.apply(x, velocity, covered, *thetas)

    return sample


class Surrogate:
    r"""A scalar objective whose gradient is an estimator (Eq. 19) on given samples; see ``surrogate``.

    ``sample(params, n, generator=None)`` draws the samples (dict of ``"x"`` and ``"terms"``);
    ``self(params, samples, phi)`` is the objective, with ``phi`` vectorized over samples.
    """

    def __init__(self, plan: SurrogatePlan) -> None:
        torch, torch_function = _modules()
        self.plan, self._torch = plan, torch
        q = plan.sampling
        self._dim = q.dim
        weights = [c for comps in plan.v for c in comps] + list(plan.psi)
        self._weights = torch_function(q.x + plan.params, weights)
        self._uses_v = [any(c != 0 for c in comps) for comps in plan.v]
        self._uses_psi = [psi != 0 for psi in plan.psi]
        self._terms = [self._compile_term(term, torch_function) for term in plan.terms]

    def _compile_term(self, term, torch_function):
        params = self.plan.params
        if isinstance(term, GoPlan):
            reuse = self.plan.sampling == term.density
            return torch_function(term.density.x + params, [term.weight]), (None if reuse else term.density)
        if isinstance(term, PointPlan):
            bounds = [term.lo, term.hi] if term.lo is not None else []
            return torch_function(params, [term.s, term.weight, *bounds]), None
        exprs = [e for s, ratio, slope in term.branches for e in (s, ratio, slope if slope is not None else 0)]
        return torch_function(term.q_M.x + params, exprs), term.q_M

    def sample(self, params, n, generator=None) -> dict:
        """The samples the objective averages over, with no gradient (dict of ``"x"`` and ``"terms"``)."""
        torch = self._torch
        n = _count(n)
        values = dict(
            zip(self.plan.params, (t.detach() for t in _scalars(torch, self.plan.params, params)), strict=True)
        )
        q = self.plan.sampling
        x = _host_draw(torch, q, n, [values[t] for t in q.params], generator)
        terms = []
        for _, density in self._terms:
            terms.append(
                None
                if density is None
                else _host_draw(torch, density, n, [values[t] for t in density.params], generator)
            )
        return {"x": x, "terms": tuple(terms)}

    def __call__(self, params, samples: dict, phi: Callable) -> Any:
        torch = self._torch
        thetas = _scalars(torch, self.plan.params, params)
        fixed = [t.detach() for t in thetas]
        index = {t: i for i, t in enumerate(self.plan.params)}
        deltas = [thetas[index[w]] - fixed[index[w]] for w in self.plan.wrt]  # 0 in value, d/dtheta_w = 1
        dtype = fixed[0].dtype if fixed else torch.get_default_dtype()
        x = torch.as_tensor(samples["x"]).detach().to(dtype)
        d = self._dim
        columns = [x] if d == 1 else [x[:, j] for j in range(d)]
        with torch.no_grad():
            out = [
                torch.broadcast_to(torch.as_tensor(o, dtype=dtype), x.shape[:1])
                for o in self._weights(*columns, *fixed)
            ]
        count = len(self.plan.wrt)
        moved = list(columns)
        factor = 1.0
        for i, delta in enumerate(deltas):
            if self._uses_v[i]:
                for j in range(d):
                    moved[j] = moved[j] + delta * out[i * d + j]
            if self._uses_psi[i]:
                factor = factor + delta * out[count * d + i]
        x_moved = moved[0] if d == 1 else torch.stack(moved, dim=1)
        total = (phi(x_moved) * factor).mean()
        for term, compiled, drawn in zip(self.plan.terms, self._terms, samples["terms"], strict=True):
            with torch.no_grad():
                value = self._term(term, compiled[0], drawn, x, fixed, phi)
            total = total + deltas[term.wrt_index] * value
        return total

    def _term(self, term, fn, drawn, x, fixed, phi):
        torch = self._torch
        dtype = x.dtype
        h_rel = nudge_scale(torch.finfo(dtype).eps)

        def tensor(v, shape=None):
            t = torch.as_tensor(v, dtype=dtype)
            return t if shape is None else torch.broadcast_to(t, shape)

        if isinstance(term, GoPlan):
            y = x if drawn is None else torch.as_tensor(drawn, dtype=dtype)
            (w,) = fn(y, *fixed)
            return (tensor(w, y.shape) * (phi(y + 1) - phi(y))).mean()
        if isinstance(term, PointPlan):
            s, weight, *bounds = (tensor(v) for v in fn(*fixed))
            h = h_rel * torch.clamp(s.abs(), min=1.0)
            if term.jump:
                jump = phi((s + h).reshape(1))[0] - phi((s - h).reshape(1))[0]
            else:
                jump = phi((s + term.side * h).reshape(1))[0]
            value = weight * jump
            if bounds:
                value = torch.where((bounds[0] < s) & (s < bounds[1]), value, torch.zeros_like(value))
            return value
        others = torch.as_tensor(drawn, dtype=dtype)
        m = others.shape[0]
        cols = [others] if others.dim() == 1 else [others[:, k] for k in range(others.shape[1])]
        outs = fn(*cols, *fixed)
        total = torch.zeros((), dtype=dtype)
        for b in range(len(term.branches)):
            s, ratio, slope = (tensor(v, (m,)) for v in outs[3 * b : 3 * b + 3])
            h = h_rel * torch.clamp(s.abs(), min=1.0)

            def at(xj):
                full = list(cols)
                full.insert(term.coordinate, xj)
                return phi(torch.stack(full, dim=1))

            if term.jump:
                up = torch.sign(slope)
                values = at(s + up * h) - at(s - up * h)
            else:
                values = at(s + term.side * h)
            total = total + (ratio * values).mean()
        return total


def surrogate(est: Any) -> Surrogate:
    r"""A scalar objective whose gradient is the estimator on the same samples (Eq. 19, extra terms included).

    As ``symflow.frameworks.jax.surrogate``: ``s.sample(params, n, generator=None)``, then
    ``s(params, samples, phi)``; :math:`\partial S/\partial\theta_i` is
    :math:`\frac1n\sum_j v_i\cdot\nabla\phi(x_j) + \psi_i\phi(x_j)` plus the extra terms.
    """
    return Surrogate(plan_surrogate(est))
