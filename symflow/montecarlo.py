r"""Monte Carlo check of an estimator against the exact gradient.

``mc_check`` averages the estimator :math:`E = v\cdot\nabla\phi + \psi\phi`
(Eq. 19) over n draws x ~ q, adds the separately sampled ``extra_terms``
(surface, jump and moving-boundary contributions), and compares the mean
with the exact :math:`\partial_{\theta_i} E_p[\phi]` by a two-sided z-test.
Unbiasedness (Eq. 4) says the two agree in expectation, so a rejection at a
tiny level alpha is strong evidence of a wrong estimator, while acceptance
only bounds the bias by ``delta``.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ._convert import as_param_values
from .checks import phi_expr
from .errors import EstimatorError, SymflowError
from .estimator import Estimator
from .integrals import expectation_gradient
from .numeric import compile_estimator
from .numeric.numpy_backend import as_samples, lambdify_many, plan
from .verdict import Status

# Rounding floor on the standard error, in units of the mean's last bit (see mc_check).
ROUNDING_ULPS = 64

__all__ = ["MCResult", "mc_check"]


@dataclass(frozen=True)
class MCResult:
    r"""The outcome of ``mc_check``.

    Attributes
    ----------
    mean, stderr : float
        The sample mean of the estimator (main part plus every extra term) and
        its standard error :math:`\sqrt{\sum_k s_k^2 / n}` (one sample variance
        :math:`s_k^2` per independently sampled part).
    exact : float or None
        :math:`\partial_{\theta_i} E_p[\phi]` at the parameter values; ``exact_method`` says how it
        was found (symbolic integration or mpmath quadrature), or why not.
    z : float or None
        :math:`(\text{mean} - \text{exact}) / \text{stderr}`.
    delta : float
        :math:`z_{1-\alpha/2}\,\text{stderr}`: the smallest bias this n could detect at this alpha, in
        the sense that a true bias of size delta is detected (|z| above the critical value) with
        probability about 1/2, and larger biases with higher probability.
    status : Status
        ``refuted`` when :math:`|z| > z_{1-\alpha/2}`; ``consistent`` otherwise; ``unknown`` (with
        ``reason``) when no exact value or no finite estimate was available.
    n, alpha : the sample size and the test's level (its false-alarm rate for a correct estimator).
    method : str
        How the test was run.
    """

    mean: float
    stderr: float
    exact: float | None
    exact_method: str
    z: float | None
    delta: float
    status: Status
    n: int
    alpha: float
    method: str
    reason: str = ""
    claim: str = ""

    def __str__(self) -> str:
        lines = [f"Monte Carlo check{': ' + self.claim if self.claim else ''} -> {self.status}"]
        lines.append(f"  mean   = {self.mean:.10g} +- {self.stderr:.3g} (standard error), n = {self.n}")
        if self.exact is not None:
            lines.append(f"  exact  = {self.exact:.15g} ({self.exact_method})")
        else:
            lines.append(f"  exact  = unavailable ({self.exact_method})")
        if self.z is not None:
            crit = _critical_z(self.alpha)
            relation = ">" if abs(self.z) > crit else "<="
            lines.append(
                f"  z      = {self.z:.3f}; |z| {relation} {crit:.3f} = z_(1-alpha/2) at alpha = {self.alpha:g}"
            )
        lines.append(f"  delta  = {self.delta:.3g} (smallest bias this n detects, with probability 1/2)")
        if self.reason:
            lines.append(f"  reason: {self.reason}")
        lines.append(f"  method: {self.method}")
        return "\n".join(lines)


def _critical_z(alpha: float) -> float:
    """z_{1 - alpha/2} of the standard normal."""
    return statistics.NormalDist().inv_cdf(1.0 - alpha / 2.0)


class _Moments:
    """Running count, mean and sum of squared deviations, merged chunk by chunk.

    Merging whole chunks (Chan et al.'s pairwise update) keeps the variance
    accurate for any n without holding more than one chunk in memory.
    """

    def __init__(self) -> None:
        self.count = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.nonfinite = 0

    def add(self, values: np.ndarray) -> None:
        finite = np.isfinite(values)
        if not finite.all():
            self.nonfinite += int(values.size - np.count_nonzero(finite))
            values = values[finite]
        m = values.size
        if m == 0:
            return
        chunk_mean = float(values.mean())
        chunk_m2 = float(np.square(values - chunk_mean).sum())
        total = self.count + m
        step = chunk_mean - self.mean
        self.mean += step * m / total
        self.m2 += chunk_m2 + step * step * self.count * m / total
        self.count = total

    def variance_of_mean(self) -> float:
        if self.count < 2:
            return math.nan
        return self.m2 / (self.count - 1) / self.count


def _positive_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise SymflowError(f"{what} must be a positive integer, got {value!r}; e.g. {what}=10**5")
    return int(value)


def mc_check(
    est: Estimator,
    phi: sp.Expr,
    params: dict,
    n: int,
    seed: object = 0,
    alpha: float = 1e-6,
    chunk: int = 2**16,
    timeout: float | None = None,
    *,
    exact: float | None = None,
) -> MCResult:
    r"""Is the estimator's Monte Carlo mean consistent with :math:`\partial_{\theta_i} E_p[\phi]`?

    Draws n samples x ~ q (the estimator's sampling density) in chunks of at most ``chunk`` rows
    from one ``np.random.default_rng(seed)``, so memory does not grow with n and a seeded run is
    reproducible.  Each ``extra_term`` draws its own n samples from an independent child stream
    (``rng.spawn``), so the main stream, and hence the main part's samples, do not depend on
    ``chunk`` when the sampler draws row by row.  The test statistic is

    .. math:: z = \frac{\bar E - \partial_{\theta_i} E_p[\phi]}{\mathrm{se}}, \qquad
              \mathrm{se}^2 = \frac{s_{\text{main}}^2}{n} + \sum_k \frac{s_k^2}{n},

    with :math:`\bar E` the mean of the main part plus the means of the extra terms (unbiasedness,
    Eq. 4 with the estimator of Eq. 19).  The estimator is refuted when
    :math:`|z| > z_{1-\alpha/2}`; a correct estimator is refuted with probability alpha (up to the
    normal approximation of the mean).  ``delta`` = :math:`z_{1-\alpha/2}\,\mathrm{se}` is the bias
    that would be detected with probability about 1/2.

    Parameters
    ----------
    est : Estimator
    phi : sympy.Expr
        The test function, over the density's variables only.
    params : dict
        ``{Symbol: number}`` covering ``est.params``.
    n : int
        Number of samples (> 0).
    seed : int, optional
        Seed for ``np.random.default_rng``.
    alpha : float
        Level of the two-sided test, in (0, 1).
    chunk : int
        Rows drawn and evaluated at once.
    timeout : float, optional
        Budget in seconds for the exact value's symbolic integration (and its quadrature).
    exact : float, optional
        A known value of the gradient (e.g. a planted truth) to test against instead of
        computing it with ``symflow.integrals.expectation_gradient``.

    Returns
    -------
    MCResult
    """
    if not isinstance(est, Estimator):
        raise EstimatorError(f"mc_check needs an Estimator, got {type(est).__name__}")
    n = _positive_int(n, "n")
    chunk = _positive_int(chunk, "chunk")
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0.0 < alpha < 1.0:
        raise SymflowError(f"alpha must be a number in (0, 1), got {alpha!r}; e.g. alpha=1e-6")
    if exact is not None:
        given = None if isinstance(exact, bool | str) else _real_float(exact)
        if given is None:
            raise SymflowError(f"exact must be a finite real number, got {exact!r}")
        exact = given
    p, q = est.density, est.sampling
    phi = phi_expr(p, phi)
    values = as_param_values(params, est.params)
    p_values = p.param_values({t: values[t] for t in p.params})
    q_values = {t: values[t] for t in q.params}
    q.param_values(q_values)  # constraint check for q as well
    floats = {t: float(v) for t, v in values.items()}

    compiled = compile_estimator(est)
    kept, uses_phi = compiled.kept, compiled.uses_phi
    # pointwise derivative: DiracDelta from a jump of phi is never hit by a sample (jumps -> extra_terms, Eq. 66)
    grads = [sp.diff(phi, p.x[i]).replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero) for i in kept]
    wanted = ([phi] if uses_phi else []) + grads
    phi_fn = lambdify_many(p.x, plan(wanted)) if wanted else None
    param_floats = compiled.param_floats(floats)
    evaluate = compiled._function()

    rng = np.random.default_rng(seed)
    # Child streams leave the main stream untouched => main samples do not depend on extra terms.
    extra_rngs = rng.spawn(len(est.extra_terms)) if est.extra_terms else []
    main = _Moments()
    extras = [_Moments() for _ in est.extra_terms]
    done = 0
    while done < n:
        m = min(chunk, n - done)
        xs = q.sample(m, q_values, rng)
        # nan/inf estimates are counted and reported (status unknown) => numpy's warnings would only repeat that.
        with np.errstate(all="ignore"):
            outs = [as_samples(o, m) for o in phi_fn(*xs.T)] if phi_fn is not None else []
            phis = outs.pop(0) if uses_phi else None
            grads = None
            if kept:
                grads = np.zeros((m, p.dim))
                for i, col in zip(kept, outs, strict=True):
                    grads[:, i] = col
            main.add(evaluate(xs, phis, grads, param_floats))
            for term, acc, term_rng in zip(est.extra_terms, extras, extra_rngs, strict=True):
                acc.add(np.asarray(term.mc_samples(phi, floats, m, term_rng), dtype=np.float64).reshape(m))
        done += m

    mean = main.mean + sum(acc.mean for acc in extras)
    stderr = math.sqrt(main.variance_of_mean() + sum(acc.variance_of_mean() for acc in extras))
    crit = _critical_z(alpha)
    delta = crit * stderr

    if exact is not None:
        exact_method = "given by the caller"
    else:
        exact_value, exact_method = expectation_gradient(p, phi, est.wrt, p_values, timeout=timeout)
        exact = _real_float(exact_value)
        if exact_value is not None and exact is None:
            exact_method = f"{exact_method} gave {exact_value}, not a finite real number"

    name = est.name or "estimator"
    claim = f"{name} of d/d{est.wrt} E_{p.name}[{sp.sstr(phi)}]"
    extra_note = f" plus {len(est.extra_terms)} extra term(s) from independent streams" if est.extra_terms else ""
    method = (
        f"two-sided z-test at alpha = {alpha:g} (|z| > {crit:.4g} refutes): {n} samples from {q.name} "
        f"in chunks of {chunk}, seed {seed!r}{extra_note}"
    )
    common = dict(mean=mean, stderr=stderr, exact=exact, exact_method=exact_method, n=n, alpha=alpha, method=method)
    nonfinite = main.nonfinite + sum(acc.nonfinite for acc in extras)
    if nonfinite:
        reason = f"{nonfinite} of the sampled estimates were not finite (nan or inf); the estimator is undefined there"
        return MCResult(**common, z=None, delta=delta, status=Status.UNKNOWN, reason=reason, claim=claim)
    if exact is None:
        reason = f"no exact value: {exact_method}"
        return MCResult(**common, z=None, delta=delta, status=Status.UNKNOWN, reason=reason, claim=claim)
    if not math.isfinite(stderr):
        reason = "n = 1 gives no variance estimate; use n >= 2"
        return MCResult(**common, z=None, delta=delta, status=Status.UNKNOWN, reason=reason, claim=claim)
    gap = mean - exact
    # Float64 rounding of the per-sample arithmetic and of the sum is a floor under the
    # statistical error: without it a (near-)deterministic estimator, stderr ~ 1e-18,
    # would be "refuted" by the last bit of the mean.
    rounding = ROUNDING_ULPS * np.finfo(float).eps * max(abs(mean), abs(exact), np.finfo(float).tiny)
    z = gap / math.hypot(stderr, rounding)
    status = Status.REFUTED if abs(z) > crit else Status.CONSISTENT
    return MCResult(**common, z=z, delta=delta, status=status, claim=claim)


def _real_float(value: object) -> float | None:
    """``value`` (SymPy number or mpmath number) as a finite float, else None."""
    if value is None:
        return None
    try:
        c = complex(value)
    except (TypeError, ValueError):
        return None
    if abs(c.imag) > 1e-12 * max(1.0, abs(c.real)) or not math.isfinite(c.real):
        return None
    return c.real
