"""Compiled estimators: E = v . grad phi + psi phi as a vectorized numeric function (Eq. 4, 19).

``compile_estimator(est)`` turns an ``Estimator`` into a ``CompiledEstimator``
``f(x, phi, grad_phi, params) -> (n,) float64 array`` giving one estimate per
sample.  Terms that are literally zero are removed before code generation
(transport holds => psi == 0 => no phi term at all; a zero component of v
=> that column of grad phi is never read), and common subexpressions are
computed once.

The pipeline, in order: ``_formula.formula`` builds E and its argument list (a
stage for rewriting the expression is reserved there); the backend decides who
evaluates each function, generates code (``sympy.lambdify`` with cse), and
evaluates rows.

Backends, one module each (see docs/backends.md):

- ``numpy`` (default, always available; ``numpy_backend``): numpy, with
  scipy.special and then mpmath for functions numpy lacks.  By default large
  inputs (>= 2 * 2**16 rows) are evaluated as row blocks on a persistent pool of
  one thread per core (``_rows``), bit-for-bit equal to ``threads=1``, the
  plain single-call path, whenever timings of earlier calls show that faster
  (``_rows.Chooser``); smaller inputs always take the plain path.
- ``jax`` (extra ``symflow[jax]``; ``jax_backend``): jitted, float64 inside a
  thread-local ``jax.enable_x64`` scope (no global configuration change).
- ``torch`` (extra ``symflow[torch]``; ``torch_backend``): torch tensor code in
  float64 under ``no_grad``.

jax and torch raise ``BackendError`` naming any function they cannot evaluate
(shared in ``_codegen``).  Asking for an unknown backend raises ``BackendError``
listing the valid names; a backend whose package is missing names the install
command.
"""

from __future__ import annotations

import importlib
import importlib.util
import warnings
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

import numpy as np
import sympy as sp

from ..errors import BackendError, ParameterError, SymflowError
from ._formula import Built

__all__ = ["BACKENDS", "CompiledEstimator", "SymflowWarning", "compile_estimator"]


class SymflowWarning(UserWarning):
    """Something works, but not the way you might assume (e.g. a slow fallback evaluator)."""


# name -> (module implementing it, package it needs, how to install that package)
BACKENDS: dict[str, tuple[str, str, str]] = {
    "numpy": ("symflow.numeric.numpy_backend", "numpy", "pip install numpy"),
    "jax": ("symflow.numeric.jax_backend", "jax", 'pip install "symflow[jax]"'),
    "torch": ("symflow.numeric.torch_backend", "torch", 'pip install "symflow[torch]"'),
}


def _backend_module(name: object):
    if not isinstance(name, str) or name not in BACKENDS:
        raise BackendError(f"unknown backend {name!r}; choose one of {', '.join(map(repr, sorted(BACKENDS)))}")
    module, package, install = BACKENDS[name]
    if importlib.util.find_spec(package) is None:
        raise BackendError(
            f"the {name!r} backend needs the package {package!r}, which is not installed; run `{install}`"
        )
    return importlib.import_module(module)


def _phi_symbol() -> sp.Dummy:
    return sp.Dummy("phi")


@dataclass(frozen=True, eq=False)
class CompiledEstimator:
    r"""A vectorized single-sample estimator :math:`E(x) = v(x)\cdot\nabla\phi(x) + \psi(x)\,\phi(x)` (Eq. 19).

    Call it as ``f(x, phi, grad_phi, params)``:

    x : (n, d) array
        Samples from the estimator's sampling density q (for d = 1 an (n,) array is accepted).
    phi : (n,) array or None
        phi(x) at the samples; may be None when the phi term was dropped (psi == 0).
    grad_phi : (n, d) array or None
        grad phi(x) at the samples (for d = 1, (n,) is accepted); may be None when every
        component of v is zero.
    params : dict
        ``{Symbol: number}`` covering ``self.params``.

    Returns the (n,) float64 array of per-sample estimates (the main part only: an
    estimator's ``extra_terms`` are sampled separately, see ``symflow.mc_check``).
    When the estimate is a plain copy of one input column the result may share memory
    with that input.  ``compile_estimator`` refuses an estimator with extra terms (code
    without them would be biased).

    Only SymPy expressions are stored, so a compiled estimator pickles; the numeric
    function is generated again, lazily, after unpickling.
    """

    x: tuple[sp.Symbol, ...]
    params: tuple[sp.Symbol, ...]
    wrt: sp.Symbol
    v: tuple[sp.Expr, ...]
    psi: sp.Expr
    backend: str = "numpy"
    name: str = ""
    options: tuple = field(default=(), repr=False)

    # -- structure -----------------------------------------------------------
    # Cached: SymPy comparisons cost microseconds, and these are read on every call.
    @cached_property
    def kept(self) -> tuple[int, ...]:
        """Indices i whose v_i is not literally zero (the grad phi columns read)."""
        return tuple(i for i, vi in enumerate(self.v) if vi != 0)

    @cached_property
    def uses_phi(self) -> bool:
        """False when psi == 0: transport holds => psi == 0 => the phi term was dropped."""
        return bool(self.psi != 0)

    @property
    def dim(self) -> int:
        return len(self.x)

    def expression(self) -> tuple[sp.Expr, tuple[sp.Symbol, ...], sp.Symbol]:
        """The compiled formula ``(E, (g_1..g_d), phi)`` with placeholder Symbols for grad phi and phi."""
        grads = tuple(sp.Dummy(f"dphi_d{xi}") for xi in self.x)
        phi = _phi_symbol()
        expr = sum((self.v[i] * grads[i] for i in self.kept), sp.S.Zero)
        if self.uses_phi:
            expr = expr + self.psi * phi
        return expr, grads, phi

    # -- evaluation ----------------------------------------------------------
    @cached_property
    def built(self) -> Built:
        """The generated function, the fallbacks it takes and the per-call parameter extension (stage 2)."""
        return _backend_module(self.backend).build(self)

    @property
    def fallbacks(self) -> tuple:
        """The functions numpy could not evaluate itself, and what evaluates them (``Fallback`` values)."""
        return self.built.fallbacks

    def _fields(self) -> tuple:
        return tuple(getattr(self, f.name) for f in fields(self))

    def __eq__(self, other: object) -> bool:
        # by the fields (the expressions), not the generated function: an unpickled copy equals its original
        return type(other) is type(self) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __getstate__(self) -> dict:
        # The generated function does not pickle; the expressions do => keep only the fields, rebuild lazily.
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def param_floats(self, params: object) -> tuple[float, ...]:
        """The parameter values in ``self.params`` order, as floats."""
        if not isinstance(params, dict):
            raise ParameterError(
                f"params must be a dict from parameter Symbols to numbers, got {type(params).__name__}"
            )
        for key in params:
            if isinstance(key, str):
                raise ParameterError(
                    f"params has the string key {key!r}; use the parameter Symbol itself (e.g. mu, sigma = p.params)"
                )
        missing = [t for t in self.params if t not in params]
        if missing:
            raise ParameterError(
                f"params has no value for {', '.join(map(str, missing))}; "
                f"add them, e.g. {{{', '.join(f'{t}: 1.0' for t in missing)}}}"
            )
        out = []
        for t in self.params:
            try:
                out.append(float(params[t]))
            except (TypeError, ValueError):
                raise ParameterError(f"params[{t}] = {params[t]!r} is not a real number; give a number") from None
        return tuple(out)

    def _columns(self, value: object, what: str, n: int | None) -> np.ndarray:
        d = self.dim
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise SymflowError(f"{what} must be an array of real numbers ({exc})") from None
        if arr.ndim == 1 and d == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim != 2 or arr.shape[1] != d:
            raise SymflowError(
                f"{what} has shape {arr.shape} but must be (n, {d}): one row per sample, one column per variable "
                f"{tuple(map(str, self.x))}; e.g. pass np.column_stack([...]) or {what}.reshape(-1, {d})"
            )
        if n is not None and arr.shape[0] != n:
            raise SymflowError(f"{what} has {arr.shape[0]} rows but x has {n}; give one row per sample")
        return arr

    def __call__(self, x: object, phi: object, grad_phi: object, params: dict) -> np.ndarray:
        xs = self._columns(x, "x", None)
        n = xs.shape[0]
        values = self.param_floats(params)
        phis = None
        if phi is not None:
            try:
                phis = np.asarray(phi, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise SymflowError(f"phi must be an array of real numbers ({exc})") from None
            if phis.shape != (n,):
                raise SymflowError(
                    f"phi has shape {phis.shape} but must be ({n},): one value per sample; e.g. pass phi.reshape(-1)"
                )
        elif self.uses_phi:
            raise SymflowError("phi is None but this estimator has a phi term (psi != 0); pass phi(x) at the samples")
        grads = None
        if grad_phi is not None:
            grads = self._columns(grad_phi, "grad_phi", n)
        elif self.kept:
            raise SymflowError("grad_phi is None but this estimator weights grad phi (v != 0); pass grad phi(x)")
        built = self.built
        if built.derived is not None:
            values = tuple(values) + built.derived(tuple(values))
        return built.evaluate(xs, phis, grads, values)

    def __str__(self) -> str:
        expr, grads, phi = self.expression()
        head = self.name or "compiled estimator"
        dropped = [f"v_{i + 1}" for i, vi in enumerate(self.v) if vi == 0]
        if not self.uses_phi:
            dropped.append("psi*phi")
        lines = [f"{head} of d/d{self.wrt} ({self.backend}): E = {sp.sstr(expr)}"]
        if dropped:
            lines.append(f"  dropped (literally zero): {', '.join(dropped)}")
        if self.fallbacks:
            lines.append(f"  fallbacks: {', '.join(map(str, self.fallbacks))}")
        return "\n".join(lines)


def compile_estimator(est: Any, backend: str = "numpy", **options: Any) -> CompiledEstimator:
    r"""Compile :math:`E = v\cdot\nabla\phi + \psi\phi` (Eq. 19) to a vectorized function of samples.

    Parameters
    ----------
    est : Estimator
        The estimator; its ``v`` and ``psi`` are compiled as they are (no simplification).
    backend : str
        ``"numpy"`` (default), ``"jax"`` or ``"torch"`` (optional extras: ``pip install
        "symflow[jax]"``).  Unknown names raise ``BackendError`` listing the valid ones.
    **options
        numpy: ``threads`` (int >= 1, or None: the default).  With more than one thread,
        inputs of at least 2 * 2**16 rows are cut into row blocks evaluated on a persistent
        pool of threads (numpy releases the GIL); the result is bit-for-bit the one of
        ``threads=1``, the plain path that makes one whole-array call.  Smaller inputs always
        take the plain path (no thread hand-off).  None: one thread per core, and each
        compiled function times its own large calls to keep whichever way is faster on this
        machine now (threads lose when other processes keep the cores busy), trying the
        other way every 16th call.  jax, torch: no options.
        Unknown options raise ``BackendError``.

    Returns
    -------
    CompiledEstimator
        ``f(x, phi, grad_phi, params) -> (n,) float64 array``.

    Raises
    ------
    BackendError
        An unknown backend or option, a missing package, or an estimator with extra terms
        (surface, GO or measure-valued terms draw samples of their own, so a function of x
        alone would be biased): compile an MVD estimator with ``est.compile()`` (a
        ``CompiledMVD``), and sample any other with ``sf.mc_check``.

    Warns
    -----
    SymflowWarning
        When a function has no numpy implementation and is evaluated by
        scipy.special or (slowly, element by element) by mpmath.
    """
    if not all(hasattr(est, a) for a in ("x", "params", "wrt", "v", "psi")):
        raise SymflowError(f"compile_estimator needs an Estimator, got {type(est).__name__}")
    refuse_extra_terms(est, "compile_estimator")
    return compile_main_part(est, backend, _stacklevel=3, **options)


def refuse_extra_terms(est: Any, what: str) -> None:
    """BackendError when ``est`` has extra terms: code for v . grad phi + psi phi alone would be biased."""
    terms = tuple(getattr(est, "extra_terms", ()) or ())
    if not terms:
        return
    kinds = sorted({str(getattr(t, "kind", type(t).__name__)) for t in terms})
    zero = all(vi == 0 for vi in est.v) and est.psi == 0
    if "mvd" in kinds:
        use = "use est.compile(), a CompiledMVD (f.sample(n, params, rng), f.estimate(phi, n, params, rng))"
    else:
        use = "use sf.mc_check(est, phi, params, n) or sf.variance(est, phi, params), which sample every term"
    raise BackendError(
        f"{what} writes E = v . grad phi + psi phi for x ~ q, but this estimator also has {len(terms)} extra "
        f"term(s) ({', '.join(kinds)}) drawn from samples of their own; without them the code is biased"
        + (" (here v = 0 and psi = 0: it would return 0)" if zero else "")
        + f"; {use}"
    )


def compile_main_part(est: Any, backend: str = "numpy", *, _stacklevel: int = 2, **options: Any) -> CompiledEstimator:
    """``compile_estimator`` of the main part alone, for callers that sample the extra terms themselves (mc_check)."""
    module = _backend_module(backend)
    unknown = sorted(set(options) - set(getattr(module, "OPTIONS", ())))
    if unknown:
        raise BackendError(
            f"the {backend!r} backend takes no option(s) {', '.join(unknown)}; "
            f"it accepts {', '.join(getattr(module, 'OPTIONS', ())) or 'none'}"
        )
    checked = module.check_options(options) if hasattr(module, "check_options") else {}
    compiled = CompiledEstimator(
        x=est.x,
        params=est.params,
        wrt=est.wrt,
        v=est.v,
        psi=est.psi,
        backend=backend,
        name=est.name,
        options=tuple(sorted(checked.items())),
    )
    if compiled.fallbacks:  # builds the function now, so a slow fallback is reported where it is compiled
        warnings.warn(fallback_message(compiled.fallbacks), SymflowWarning, stacklevel=_stacklevel)
    return compiled


def fallback_message(fallbacks: tuple) -> str:
    """The warning text naming every function that numpy could not evaluate."""
    by_via: dict[str, list[str]] = {}
    for f in fallbacks:
        by_via.setdefault(f.via, []).append(f.function)
    parts = [f"{', '.join(names)} via {via}" for via, names in sorted(by_via.items())]
    slow = " (mpmath runs one Python call per sample: expect it to be slow)" if "mpmath" in by_via else ""
    return f"numpy has no implementation of some functions; evaluating {'; '.join(parts)}{slow}"
