r"""symflow estimators inside JAX: a sampler whose derivative is the flow, and surrogates for any estimator.

``sampler(p, flow)`` returns ``sample(key, params, n)``: n draws from p whose JAX tangent with
respect to :math:`\theta_i` is the flow :math:`u_{\theta_i}(x)` (a ``jax.custom_jvp``).  For a flow
that solves the transport equation (reparameterization or implicit, :math:`\psi = 0`),
``jax.grad`` of the mean of any JAX :math:`\phi(x)` over these samples is then the flow estimator
:math:`\frac1n\sum_j u(x_j)\cdot\nabla\phi(x_j)` of :math:`\partial_{\theta_i}E_p[\phi]` (Eq. 19 with
:math:`q = p`), for any density symflow can derive a flow for.

``surrogate(est)`` covers every estimator, :math:`\psi \ne 0` included (likelihood ratio, weighted,
GO, importance-sampled, with surface terms): ``s.sample(key, params, n)`` draws what it needs and
``s(params, samples, phi)`` is a scalar whose ``jax.grad`` is
:math:`\frac1n\sum_j v(x_j)\cdot\nabla\phi(x_j) + \psi(x_j)\phi(x_j)` plus each extra term, on those
samples.

Both run in JAX's current precision (float32 unless ``jax_enable_x64`` is on: enable it for
float64), under ``jit``, ``vmap`` and ``grad``.  First derivatives only: the flow and the
estimator's weights are evaluated, not differentiated again (special-function kernels run on the
host through ``jax.pure_callback``).  JAX is imported when these functions are first called
(``pip install "symflow[jax]"``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp

from ..core.density import Density, checked_density
from ..core.flow import Flow
from ..errors import ParameterError, SymflowError
from ._common import (
    GoPlan,
    PointPlan,
    SurfacePlan,
    SurrogatePlan,
    checked_plan,
    default_flow,
    host_sample,
    lookup,
    native_family,
    nudge_scale,
    plan_surrogate,
    require,
)

__all__ = ["Surrogate", "draw", "sampler", "surrogate"]


def _modules():
    jax = require("jax")
    from ..numeric.jax_backend import jax_function

    return jax, jax.numpy, jax_function


def _host_callback(*args, **kwargs):
    from ..numeric.jax_backend import host_callback

    return host_callback(*args, **kwargs)


def _float_dtype(jnp, values) -> Any:
    dtype = jnp.result_type(*values) if values else jnp.result_type(float)
    return dtype if jnp.issubdtype(dtype, jnp.floating) else jnp.result_type(float)


def _count(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n <= 0:
        raise SymflowError(f"n must be a positive Python integer (a static sample count), got {n!r}")
    return int(n)


def _scalars(jnp, symbols: Sequence[sp.Symbol], params: object) -> list:
    values = [jnp.asarray(v) for v in lookup(symbols, params)]
    for t, v in zip(symbols, values, strict=True):
        if v.ndim != 0:
            raise ParameterError(
                f"params[{str(t)!r}] has shape {v.shape}; give one scalar per parameter (for a batch of "
                "parameter values, map over it with jax.vmap)"
            )
    dtype = _float_dtype(jnp, values)
    return [v.astype(dtype) for v in values]


def _native_draw(jax, jnp, name: str) -> Callable:
    r = jax.random

    def draw(key, n, dtype, *t):
        if name == "normal":
            return t[0] + t[1] * r.normal(key, (n,), dtype)
        if name == "laplace":
            return t[0] + t[1] * r.laplace(key, (n,), dtype)
        if name == "logistic":
            return t[0] + t[1] * r.logistic(key, (n,), dtype)
        if name == "exponential":
            return r.exponential(key, (n,), dtype) / t[0]
        if name == "uniform":
            return t[0] + (t[1] - t[0]) * r.uniform(key, (n,), dtype)
        if name == "gamma":
            return r.gamma(key, t[0], (n,), dtype) / t[1]
        if name == "beta":
            return r.beta(key, t[0], t[1], (n,), dtype)
        raise AssertionError(name)  # pragma: no cover - NATIVE_FAMILIES lists exactly these

    return draw


def _primal(p: Density) -> Callable:
    """``(key, n, *thetas) -> samples``: jax.random where JAX has the family, else p's numpy sampler on the host."""
    jax, jnp, _ = _modules()
    name = native_family(p)
    if name is not None:
        native = _native_draw(jax, jnp, name)
        return lambda key, n, *thetas: native(key, n, _float_dtype(jnp, thetas), *thetas)
    d = p.dim

    def on_host(key, n, *thetas):
        dtype = _float_dtype(jnp, thetas)
        words = jax.random.bits(key, (4,), jnp.uint32)
        values = jnp.stack(thetas) if thetas else jnp.zeros((0,), dtype)
        shape = (n,) if d == 1 else (n, d)

        def call(words_np, values_np):
            return host_sample(p, n, values_np, words_np).reshape(shape)

        # one generator per key => under vmap, one host call per batch element
        return _host_callback(call, shape, dtype, words, values, vmap_method="sequential")

    return on_host


def draw(p: Density) -> Callable:
    """``draw(key, params, n)``: n samples of ``p`` with no derivative (stop-gradient), as ``sampler`` draws them.

    (n,) for one variable, (n, d) otherwise.  For the samples of a ``surrogate`` use its ``sample``.
    """
    p = checked_density(p)
    jax, jnp, _ = _modules()
    primal = _primal(p)

    def sample(key, params, n):
        thetas = [jax.lax.stop_gradient(t) for t in _scalars(jnp, p.params, params)]
        return primal(key, _count(n), *thetas)

    return sample


def sampler(p: Density, flow: Flow | None = None) -> Callable:
    r"""``sample(key, params, n)``: n draws from ``p`` whose tangent in :math:`\theta_i` is the flow :math:`u_i`.

    Parameters
    ----------
    p : Density
        A continuous density with a numpy sampler (or a reparameterization with one).
    flow : Flow, optional
        The flow that moves the samples; default: the density's reparameterization flow, else its
        implicit (CDF) flow (Eq. 56).  It should solve the transport equation
        (``sf.check_transport``): only then is the derivative of a sample mean unbiased (:math:`\psi = 0`);
        for any other flow use ``surrogate(sf.derive(p, flow, theta))``.

    Returns
    -------
    callable
        ``sample(key, params, n)`` with a JAX PRNG key, ``params`` a dict keyed by parameter name
        (or by Symbol) or a sequence in ``p.params`` order (a pytree: ``jax.grad`` returns the same
        structure), and a static int ``n``; returns (n,) for one variable, (n, d) otherwise.  The
        primal draws come from ``jax.random`` for the normal, Laplace, logistic, exponential,
        uniform, gamma and beta families, otherwise from the density's numpy sampler through
        ``jax.pure_callback`` (seeded from the key).  The tangent is
        :math:`\dot x = \sum_i u_{\theta_i}(x;\theta)\,\dot\theta_i`, a ``jax.custom_jvp``; asking
        for the derivative in a parameter the flow has no field for raises ``SymflowError``.

    Examples
    --------
    The Gamma's implicit (CDF) flow as the derivative of its samples (docs/howto-train-with-jax.md)::

        p = sf.families.gamma()
        sample = sf.jax.sampler(p)
        loss = lambda th, key: jnp.mean((sample(key, th, 1000) - 3.0) ** 2)
        jax.grad(loss)({"alpha": 2.0, "beta": 1.0}, jax.random.key(0))   # {'alpha': ~ -1, ...}
    """
    jax, jnp, jax_function = _modules()
    from jax.custom_derivatives import SymbolicZero

    flow = default_flow(p, flow)
    symbols, d = p.params, p.dim
    covered = [t for t in symbols if t in flow.params]
    velocity = jax_function(p.x + symbols, [c for t in covered for c in flow.field(t)])
    primal = _primal(p)

    @functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
    def move(n, key, *thetas):
        return primal(key, n, *thetas)

    def move_jvp(n, primals, tangents):
        key, *thetas = primals
        x = move(n, key, *thetas)
        columns = [x] if d == 1 else [x[:, j] for j in range(d)]
        comps = velocity(*columns, *thetas)
        column_shape = x.shape[:1]
        dx = jnp.zeros_like(x)
        for t, dtheta in zip(symbols, tangents[1:], strict=True):
            if isinstance(dtheta, SymbolicZero):
                continue
            if t not in flow.params:
                raise SymflowError(
                    f"the {flow.kind} flow has no field for {t}: the samples cannot be differentiated in it; "
                    f"differentiate in {', '.join(map(str, covered))} only, or give a flow with a field for {t}"
                )
            k = covered.index(t)
            u = [jnp.broadcast_to(jnp.asarray(c, x.dtype), column_shape) for c in comps[k * d : (k + 1) * d]]
            dx = dx + (u[0] if d == 1 else jnp.stack(u, axis=1)) * dtheta
        return x, dx

    move.defjvp(move_jvp, symbolic_zeros=True)

    def sample(key, params, n):
        return move(_count(n), key, *_scalars(jnp, symbols, params))

    return sample


class Surrogate:
    r"""A scalar objective whose ``jax.grad`` is an estimator (Eq. 19) on given samples; see ``surrogate``.

    ``sample(key, params, n)`` draws the samples (a dict: ``"x"``, the (n,) or (n, d) draws from the
    sampling density q, and ``"terms"``, one entry per extra term that needs draws of its own);
    ``self(params, samples, phi)`` is the objective, with ``phi`` vectorized over samples
    (``phi(x)`` of shape (n,); use ``jax.vmap`` on a per-sample function).
    """

    def __init__(self, plan: SurrogatePlan) -> None:
        plan = checked_plan(plan)
        jax, jnp, jax_function = _modules()
        self.plan = plan
        self._jax, self._jnp = jax, jnp
        q = plan.sampling
        self._dim = q.dim
        weights = [c for comps in plan.v for c in comps] + list(plan.psi)
        self._weights = jax_function(q.x + plan.params, weights)
        self._uses_v = [any(c != 0 for c in comps) for comps in plan.v]
        self._uses_psi = [psi != 0 for psi in plan.psi]
        self._draw_q = _primal(q)
        self._terms = [self._compile_term(term, jax_function) for term in plan.terms]

    def _compile_term(self, term, jax_function):
        params = self.plan.params
        if isinstance(term, GoPlan):
            reuse = self.plan.sampling == term.density
            return (jax_function(term.density.x + params, [term.weight]), None if reuse else _primal(term.density))
        if isinstance(term, PointPlan):
            bounds = [term.lo, term.hi] if term.lo is not None else []
            return (jax_function(params, [term.s, term.weight, *bounds]), None)
        args = term.q_M.x + params
        exprs = [e for s, ratio, slope in term.branches for e in (s, ratio, slope if slope is not None else 0)]
        return (jax_function(args, exprs), _primal(term.q_M))

    def sample(self, key, params, n) -> dict:
        """The samples the objective averages over, with no derivative (dict of ``"x"`` and ``"terms"``)."""
        jax, jnp = self._jax, self._jnp
        n = _count(n)
        if isinstance(key, bool | int | float) or not hasattr(key, "dtype"):
            raise SymflowError(
                f"key must be a JAX random key, e.g. jax.random.key(0) (split it for each call), got {key!r}"
            )
        keys = jax.random.split(key, 1 + len(self._terms))
        given = _scalars(jnp, self.plan.params, params)
        values = {t: jax.lax.stop_gradient(v) for t, v in zip(self.plan.params, given, strict=True)}
        q = self.plan.sampling
        x = self._draw_q(keys[0], n, *(values[t] for t in q.params))
        terms = []
        for k, (term, (_, drawer)) in enumerate(zip(self.plan.terms, self._terms, strict=True)):
            density = term.density if isinstance(term, GoPlan) else term.q_M if isinstance(term, SurfacePlan) else None
            terms.append(None if drawer is None else drawer(keys[1 + k], n, *(values[t] for t in density.params)))
        return {"x": x, "terms": tuple(terms)}

    def __call__(self, params, samples: dict, phi: Callable) -> Any:
        jax, jnp = self._jax, self._jnp
        stop = jax.lax.stop_gradient
        if not (isinstance(samples, dict) and "x" in samples and "terms" in samples):
            raise SymflowError('samples must be the dict that .sample(key, params, n) returns ("x" and "terms")')
        if not callable(phi):
            raise SymflowError(f"phi must be a function of the samples x (shape (n,) or (n, d)), got {phi!r}")
        thetas = _scalars(jnp, self.plan.params, params)
        fixed = [stop(t) for t in thetas]
        index = {t: i for i, t in enumerate(self.plan.params)}
        deltas = [thetas[index[w]] - fixed[index[w]] for w in self.plan.wrt]  # 0 in value, d/dtheta_w = 1
        x = stop(jnp.asarray(samples["x"], fixed[0].dtype if fixed else None))
        d = self._dim
        columns = [x] if d == 1 else [x[:, j] for j in range(d)]
        out = self._weights(*columns, *fixed)
        count = len(self.plan.wrt)
        moved = list(columns)
        factor = 1.0
        for i, delta in enumerate(deltas):
            if self._uses_v[i]:
                for j in range(d):
                    moved[j] = moved[j] + delta * stop(jnp.asarray(out[i * d + j], x.dtype))
            if self._uses_psi[i]:
                factor = factor + delta * stop(jnp.asarray(out[count * d + i], x.dtype))
        x_moved = moved[0] if d == 1 else jnp.stack([jnp.broadcast_to(c, x.shape[:1]) for c in moved], axis=1)
        values = phi(x_moved)
        if jnp.shape(values) != x.shape[:1]:
            raise SymflowError(
                f"phi must return one value per sample, shape {x.shape[:1]}, got shape {jnp.shape(values)}; "
                "write phi over the whole batch (e.g. lambda x: x**2) or vectorize a per-sample one with jax.vmap"
            )
        total = jnp.mean(values * factor)
        for term, compiled, drawn in zip(self.plan.terms, self._terms, samples["terms"], strict=True):
            total = total + deltas[term.wrt_index] * self._term(term, compiled, drawn, x, fixed, phi)
        return total

    def _term(self, term, compiled, drawn, x, fixed, phi):
        """The term's value with gradients stopped; it is multiplied by delta_i (its derivative in theta_i)."""
        jax, jnp = self._jax, self._jnp
        stop = jax.lax.stop_gradient
        fn = compiled[0]
        dtype = x.dtype
        eps = jnp.finfo(dtype).eps
        if isinstance(term, GoPlan):
            y = x if drawn is None else stop(drawn)
            (w,) = fn(y, *fixed)
            return stop(jnp.mean(jnp.asarray(w, dtype) * (phi(y + 1) - phi(y))))
        if isinstance(term, PointPlan):
            s, weight, *bounds = (jnp.asarray(v, dtype) for v in fn(*fixed))
            h = nudge_scale(eps) * jnp.maximum(1.0, jnp.abs(s))
            if term.jump:
                jump = phi(jnp.stack([s + h]))[0] - phi(jnp.stack([s - h]))[0]
            else:
                jump = phi(jnp.stack([s + term.side * h]))[0]
            value = weight * jump
            if bounds:
                value = jnp.where((bounds[0] < s) & (s < bounds[1]), value, 0.0)
            return stop(value)
        others = stop(drawn)
        m = others.shape[0]
        cols = [others] if others.ndim == 1 else [others[:, k] for k in range(others.shape[1])]
        outs = fn(*cols, *fixed)
        total = 0.0
        for b in range(len(term.branches)):
            s, ratio, slope = (jnp.broadcast_to(jnp.asarray(v, dtype), (m,)) for v in outs[3 * b : 3 * b + 3])
            h = nudge_scale(eps) * jnp.maximum(1.0, jnp.abs(s))

            def at(xj):
                full = list(cols)
                full.insert(term.coordinate, xj)
                return phi(jnp.stack(full, axis=1))

            if term.jump:
                up = jnp.sign(slope)
                values = at(s + up * h) - at(s - up * h)
            else:
                values = at(s + term.side * h)
            total = total + jnp.mean(ratio * values)
        return stop(total)


def surrogate(est: Any) -> Surrogate:
    r"""A scalar objective whose ``jax.grad`` is the estimator on the same samples (Eq. 19, extra terms included).

    Parameters
    ----------
    est : Estimator or sequence of Estimator
        One estimator per parameter to differentiate (e.g. ``[sf.derive(p, u, mu), sf.derive(p, u, sigma)]``),
        all of one density p and sampled from one density q.

    Returns
    -------
    Surrogate
        ``s.sample(key, params, n)`` draws x ~ q (and what the extra terms sample); ``s(params, samples, phi)``
        is :math:`S = \frac1n\sum_j \phi(\tilde x_j)(1 + \sum_i\delta_i\bar\psi_i(x_j)) + \sum_{terms}\delta_i T_i`
        with :math:`\tilde x_j = x_j + \sum_i \delta_i \bar v_i(x_j)` and
        :math:`\delta_i = \theta_i - \mathrm{stop\_gradient}(\theta_i)`: its value is the sample mean of
        phi, and :math:`\partial S/\partial\theta_i = \frac1n\sum_j v_i\cdot\nabla\phi(x_j) + \psi_i\phi(x_j)`
        plus the extra terms' estimates: the GO term :math:`\frac1n\sum_j w(y_j)(\phi(y_j+1)-\phi(y_j))`
        (on the main samples when q = p), 1-D surface terms exactly (weight times the jump of phi, or phi at
        a moving edge), d-D surface terms averaged over draws from their own :math:`q_M`.  Jumps of phi are
        read by evaluating phi a relative eps**(3/4) to either side of the surface.
        The parameters in ``params`` without an estimator get no gradient from the surrogate (only
        through ``phi`` if it closes over them).
    """
    return Surrogate(plan_surrogate(est))
