r"""``mc_check``: the estimator's Monte Carlo mean against the exact gradient, streamed over chunks."""

from __future__ import annotations

import math
import os
import time

import numpy as np
import sympy as sp

from ..calculus.integrals import confirm_gradient, expectation_gradient
from ..core import budget as budgets
from ..core.budget import BudgetExceeded, deadline, time_left
from ..core.convert import as_param_values, as_phi, refuse_unevaluated
from ..core.estimator import Estimator
from ..core.precision import QUADRATURE
from ..core.verdict import Status
from ..errors import EstimatorError, SymflowError
from ..numeric.compiled import compile_main_part
from ..numeric.evaluate import numpy_function
from ..numeric.numpy_backend import as_samples
from ..numeric.special import rewrite_parameter_derivatives
from .result import MCResult, critical_z
from .stream import Moments, chunk_seed, ordered_map, part_stats, progress_bar, want_progress
from .tails import OUTLIER_MIN_N, OUTLIER_SHARE, TAIL_INDEX_LIMIT, block_size, hill_k

# Rounding floor on the standard error, in units of the mean's last bit (see mc_check).
ROUNDING_ULPS = 64

__all__ = ["ROUNDING_ULPS", "mc_check"]


def _positive_int(value: object, what: str, example: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise SymflowError(f"{what} must be a positive integer, got {value!r}; e.g. {what}={example}")
    return int(value)


def _seed_sequence(seed: object) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator | np.random.BitGenerator):
        raise SymflowError(
            "seed must be an integer, None or a numpy SeedSequence, not a Generator: every chunk gets its own "
            "generator from SeedSequence(seed).spawn, so pass the integer you would seed the Generator with"
        )
    if isinstance(seed, bool | float | str):
        raise SymflowError(f"seed must be a non-negative integer, None or a SeedSequence, got {seed!r}")
    try:
        return np.random.SeedSequence(seed)
    except (TypeError, ValueError) as exc:
        raise SymflowError(
            f"seed must be a non-negative integer, None or a SeedSequence, got {seed!r} ({exc})"
        ) from None


# Below this n a dominating draw says the sample is too small, not that the variance is infinite (a light
# tail's largest share of the squared deviations falls below 0.25 only from n = 100 on; see tails.py).
OUTLIER_JUDGE_N = 100
# Fraction of the call's budget the exact value may use before sampling starts.
EXACT_SHARE = 0.5


def mc_check(
    est: Estimator,
    phi: sp.Expr,
    params: dict,
    n: int,
    seed: int | np.random.SeedSequence | None = 0,
    alpha: float = 1e-6,
    chunk: int = 2**16,
    timeout: float | None = None,
    *,
    exact: float | None = None,
    workers: int | None = None,
    progress: bool | None = None,
    client: object = None,
) -> MCResult:
    r"""Is the estimator's Monte Carlo mean consistent with :math:`\partial_{\theta_i} E_p[\phi]`?

    Draws n samples x ~ q (the estimator's sampling density) in ``ceil(n / chunk)`` chunks of
    at most ``chunk`` rows.  Chunk k draws from its own generator, seeded by child k of
    ``np.random.SeedSequence(seed)`` (``SeedSequence(seed).spawn(K)[k]``), and each
    ``extra_term`` of chunk k from child j of that child; the chunks are evaluated by
    ``workers`` threads (numpy's generators and ufuncs release the GIL) and their partial sums
    merged in chunk order.  Memory does not grow with n, and a seeded run gives identical
    results for any number of workers (changing ``chunk`` changes which generator draws which
    sample, so the samples).  The test statistic is

    .. math:: z = \frac{\bar E - \partial_{\theta_i} E_p[\phi]}{\mathrm{se}}, \qquad
              \mathrm{se}^2 = \frac{s_{\text{main}}^2}{n} + \sum_k \frac{s_k^2}{n},

    with :math:`\bar E` the mean of the main part plus the means of the extra terms (unbiasedness,
    Eq. 4 with the estimator of Eq. 19).  The estimator is refuted when
    :math:`|z| > z_{1-\alpha/2}`; a correct estimator is refuted with probability alpha (up to the
    normal approximation of the mean).  ``delta`` = :math:`z_{1-\alpha/2}\,\mathrm{se}` is the bias
    that would be detected with probability about 1/2.

    The normal approximation needs a finite variance.  A Hill estimate of the tail index of
    every sampled part (both tails, from the :math:`\min(1000, \sqrt n)` largest deviations
    from the mean) below 2 means the variance is likely infinite: the verdict is then
    ``unknown`` with a reason starting "heavy tail" (``z`` is still reported, labelled unused).

    Parameters
    ----------
    est : Estimator
    phi : sympy.Expr
        The test function, over the density's variables only.
    params : dict
        ``{Symbol: number}`` covering ``est.params``.
    n : int
        Number of samples (> 0).
    seed : int, None or numpy.random.SeedSequence
        Root of the per-chunk seeds; None draws fresh entropy (reported in ``method``).
    alpha : float
        Level of the two-sided test, in (0, 1).
    chunk : int
        Rows drawn and evaluated at once (memory is a few chunks per worker).
    timeout : float, optional
        Budget in seconds for the whole call: sampling stops when it runs out (the verdict is then
        ``unknown``, with the samples drawn so far reported), and the exact value's symbolic
        integration and quadrature share it.  None: the sampling is not bounded (n samples are
        drawn) and the exact value gets the global default budget.
    exact : float, optional
        A known value of the gradient (e.g. a planted truth) to test against instead of
        computing it with ``symflow.calculus.integrals.expectation_gradient``.
    workers : int, optional
        Threads evaluating chunks; None = one per CPU core.  The compiled estimator runs
        single-threaded inside each worker (no oversubscription).
    progress : bool, optional
        A tqdm progress bar on stderr.  None (default) shows it only when stderr is a terminal,
        the environment variable CI is unset, and the run is expected (from the first chunk)
        to take more than about 2 s; True or False force it on or off.
    client : dask.distributed.Client, optional
        Run the chunks as tasks on a Dask cluster instead of local threads (``workers`` is then
        unused): the same chunks and per-chunk seeds, merged in chunk order, so the result is the
        same as the local run's whatever the number of Dask workers (``montecarlo.distributed``;
        docs/scaling.md).  None (default): local threads, and Dask is not imported.

    Returns
    -------
    MCResult
    """
    if timeout is None:
        return _mc_check(est, phi, params, n, seed, alpha, chunk, None, exact, workers, progress, client)
    with deadline(timeout):  # validates timeout; every step below, sampling included, shares it
        return _mc_check(est, phi, params, n, seed, alpha, chunk, timeout, exact, workers, progress, client)


def _mc_check(est, phi, params, n, seed, alpha, chunk, timeout, exact, workers, progress, client) -> MCResult:
    if not isinstance(est, Estimator):
        raise EstimatorError(f"mc_check needs an Estimator, got {type(est).__name__}")
    n = _positive_int(n, "n", "10**5")
    chunk = _positive_int(chunk, "chunk", "2**16")
    if workers is None:
        workers = os.cpu_count() or 1
    workers = _positive_int(workers, "workers", "2")
    if progress is not None and not isinstance(progress, bool):
        raise SymflowError(f"progress must be True, False or None (automatic), got {progress!r}")
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0.0 < alpha < 1.0:
        raise SymflowError(f"alpha must be a number in (0, 1), got {alpha!r}; e.g. alpha=1e-6")
    root = _seed_sequence(seed)
    if exact is not None:
        given = None if isinstance(exact, bool | str) else _real_float(exact)
        if given is None:
            raise SymflowError(f"exact must be a finite real number, got {exact!r}")
        exact = given
    p, q = est.density, est.sampling
    phi = as_phi(phi, p.x)
    for part in (*est.v, est.psi, phi):
        # what the compiled estimator evaluates: integrals the special-function layer names
        # (the von Mises CDF and its kappa-derivative) are functions, not unevaluated Integrals
        refuse_unevaluated(rewrite_parameter_derivatives(part), "the estimator or phi")
    values = as_param_values(params, est.params)
    p_values = p.param_values({t: values[t] for t in p.params})
    q_values = {t: values[t] for t in q.params}
    q.param_values(q_values)  # constraint check for q as well
    floats = {t: float(v) for t, v in values.items()}

    # threads=1: the parallelism is ours (one chunk per worker) => compiled code must not add threads of its own.
    # the main part only: the extra terms are sampled below, each from its own stream
    compiled = compile_main_part(est, threads=1)
    kept, uses_phi = compiled.kept, compiled.uses_phi
    # pointwise derivative: DiracDelta from a jump of phi is never hit by a sample (jumps -> extra_terms, Eq. 66)
    grads = [sp.diff(phi, p.x[i]).replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero) for i in kept]
    wanted = ([phi] if uses_phi else []) + grads
    phi_fn = numpy_function(p.x, wanted) if wanted else None
    compiled_params = {t: floats[t] for t in compiled.params}
    terms = est.extra_terms
    chunks = -(-n // chunk)
    block, keep = block_size(n), 2 * hill_k(n) + 2

    def run_chunk(k: int) -> list:
        m = min(chunk, n - k * chunk)
        seq = chunk_seed(root, k)
        rng = np.random.default_rng(seq)
        # nan/inf estimates are counted and reported (status unknown) => numpy's warnings would only repeat that.
        # (np.errstate is per thread => set here, inside the worker.)
        with np.errstate(all="ignore"):
            xs = q.sample(m, q_values, rng)
            outs = [as_samples(o, m) for o in phi_fn(*xs.T)] if phi_fn is not None else []
            phis = outs.pop(0) if uses_phi else None
            grad_cols = None
            if kept == (0,) and p.dim == 1:
                grad_cols = outs[0].reshape(m, 1)  # a view: no copy for the common 1-D case
            elif kept:
                grad_cols = np.empty((m, p.dim))
                for i in range(p.dim):
                    grad_cols[:, i] = 0.0 if i not in kept else outs[kept.index(i)]
            estimates = np.asarray(compiled(xs, phis, grad_cols, compiled_params), np.float64)
            # The estimates are ours (at most a view of this chunk's own inputs) => overwrite them in part_stats.
            parts = [part_stats(estimates, block, keep, scratch=True)]
            for term, term_seq in zip(terms, seq.spawn(len(terms)) if terms else [], strict=True):
                draws = term.mc_samples(phi, floats, m, np.random.default_rng(term_seq))
                parts.append(part_stats(np.asarray(draws, dtype=np.float64).reshape(m), block, keep))
        return parts

    exact_method = "given by the caller" if exact is not None else None
    if exact is None and timeout is not None:
        # the exact value first, with its share of the budget: sampling stops on time by itself (with the
        # samples so far), while an exact value left for last got what sampling left of the budget (nothing)
        exact, exact_method = _exact_gradient(p, phi, est.wrt, p_values, budgets.share(timeout, EXACT_SHARE))

    accs = [Moments(keep) for _ in range(1 + len(terms))]
    bar = None
    out_of_budget = None
    seconds_left = time_left if timeout is not None else None
    try:
        for k, parts, elapsed in _chunk_results(run_chunk, chunks, workers, client, seconds_left):
            for acc, part in zip(accs, parts, strict=True):
                acc.merge(part)
            done = min(n, (k + 1) * chunk)
            if k == 0 and done < n and want_progress(progress, elapsed * chunks / min(workers, chunks)):
                bar = progress_bar(n, done)
            elif bar is not None:
                bar.update(done - bar.n)
    except BudgetExceeded:
        out_of_budget = f"the {timeout:g} s budget ran out after {accs[0].count} of {n} samples"
    except OverflowError as exc:  # an exact integer beyond float64 (10**400) in the estimator or phi
        raise SymflowError(
            f"the estimator or phi cannot be evaluated in float64 at these values ({exc}); rescale their constants"
        ) from None
    finally:
        if bar is not None:
            bar.close()

    main, extras = accs[0], accs[1:]
    mean = main.mean + sum(acc.mean for acc in extras)
    stderr = math.sqrt(main.variance_of_mean() + sum(acc.variance_of_mean() for acc in extras))
    crit = critical_z(alpha)
    delta = crit * stderr
    tails = [(a, i) for i, acc in enumerate(accs) if (a := acc.tail_index()) is not None]
    tail_index, tail_part = min(tails) if tails else (None, 0)

    if exact_method is None:
        if out_of_budget is not None:
            exact_method = "not computed: the budget ran out while sampling"
        else:
            exact, exact_method = _exact_gradient(p, phi, est.wrt, p_values, timeout)

    name = est.name or "estimator"
    claim = f"{name} of d/d{est.wrt} E_{p.name}[{sp.sstr(phi)}]"
    extra_note = f" plus {len(terms)} extra term(s) from independent streams" if terms else ""
    seed_note = repr(seed) if seed is not None else f"None (entropy {root.entropy})"
    method = (
        f"two-sided z-test at alpha = {alpha:g} (|z| > {crit:.4g} refutes): {n} samples from {q.name} "
        f"in {chunks} chunk(s) of {chunk}, seed {seed_note}, "
        f"{'a Dask cluster' if client is not None else f'{workers} worker(s)'}{extra_note}"
    )
    common = dict(
        mean=mean,
        stderr=stderr,
        exact=exact,
        exact_method=exact_method,
        n=n,
        alpha=alpha,
        method=method,
        claim=claim,
        tail_index=tail_index,
    )
    if out_of_budget is not None:
        return MCResult(**common, z=None, delta=delta, status=Status.UNKNOWN, reason=out_of_budget)
    nonfinite = sum(acc.nonfinite for acc in accs)
    if nonfinite:
        reason = f"{nonfinite} of the sampled estimates were not finite (nan or inf); the estimator is undefined there"
        return MCResult(**common, z=None, delta=delta, status=Status.UNKNOWN, reason=reason)
    if exact is None:
        reason = f"no exact value: {exact_method}"
        return MCResult(**common, z=None, delta=delta, status=Status.UNKNOWN, reason=reason)
    if not math.isfinite(stderr):
        reason = "n = 1 gives no variance estimate; use n >= 2"
        return MCResult(**common, z=None, delta=delta, status=Status.UNKNOWN, reason=reason)
    gap = mean - exact
    # Float64 rounding of the per-sample arithmetic and of the sum is a floor under the
    # statistical error: without it a (near-)deterministic estimator, stderr ~ 1e-18,
    # would be "refuted" by the last bit of the mean.
    rounding = ROUNDING_ULPS * np.finfo(float).eps * max(abs(mean), abs(exact), np.finfo(float).tiny)
    z = gap / math.hypot(stderr, rounding)
    if tail_index is not None and tail_index < TAIL_INDEX_LIMIT:
        part = "the estimator" if tail_part == 0 else f"extra term {tail_part}"
        reason = (
            f"heavy tail: {part} has Hill tail index {tail_index:.3g} < {TAIL_INDEX_LIMIT:g} "
            f"(from the {hill_k(n)} largest deviations from the mean): its variance is likely infinite, or at "
            "least too unsettled at this n for the z-test's standard error to be trusted; a larger n tells the "
            "two apart, an estimator with a lighter tail (another flow or sampling density) avoids the problem"
        )
        return MCResult(**common, z=z, delta=delta, status=Status.UNKNOWN, reason=reason)
    if n >= OUTLIER_MIN_N:
        shares = [(acc.outlier_share(), i) for i, acc in enumerate(accs)]
        share, part_index = max(shares)
        if share > OUTLIER_SHARE:
            part = "the estimator" if part_index == 0 else f"extra term {part_index}"
            if n < OUTLIER_JUDGE_N:
                reason = (
                    f"n = {n} is too small to judge: a single draw of {part} holds {100 * share:.0f} % of the sum "
                    f"of squared deviations (common for a skewed estimator at this n, whatever its variance), so "
                    f"the standard error is not to be trusted; use n >= {OUTLIER_JUDGE_N} (e.g. 10**5)"
                )
                return MCResult(**common, z=z, delta=delta, status=Status.UNKNOWN, reason=reason)
            reason = (
                f"one outlier dominates: a single draw of {part} holds {100 * share:.0f} % of the sum of squared "
                f"deviations, so the mean {mean:.6g} and its standard error rest on one sample; the estimator has "
                "likely no finite variance (or no mean: an importance weight p/q that grows where q has less mass "
                "than p, a psi that is nonzero where p = 0); use a sampling density with heavier tails than p, or a "
                "larger n to tell a rare large value from an infinite variance"
            )
            return MCResult(**common, z=z, delta=delta, status=Status.UNKNOWN, reason=reason)
    if abs(z) <= crit:
        return MCResult(**common, z=z, delta=delta, status=Status.CONSISTENT)
    if any(m in exact_method for m in _QUADRATURE_METHODS):
        # the exact value is itself a quadrature => before it refutes, an independent route must confirm it
        # (the integrand against evalf, other nodes, p's mass on its pieces), as check_unbiased asks
        conf = confirm_gradient(p, phi, est.wrt, p_values, gap, dps=QUADRATURE.high, timeout=timeout)
        if not conf.confirmed:
            reason = (
                f"|z| = {abs(z):.4g} > {crit:.4g}, but the exact value {exact:.15g} ({exact_method}) is not "
                f"confirmed by an independent route: {conf.reason}"
            )
            return MCResult(**common, z=z, delta=delta, status=Status.UNKNOWN, reason=reason)
    return MCResult(**common, z=z, delta=delta, status=Status.REFUTED)


# How expectation_gradient names an exact value that is a quadrature (confirmed before it refutes).
_QUADRATURE_METHODS = ("mpmath quadrature", "float64 cubature")


def _exact_gradient(p, phi, wrt, p_values, timeout) -> tuple[float | None, str]:
    """The exact gradient as a finite float (None when not found) and how it was computed."""
    start = time.monotonic()
    exact_value, exact_method = expectation_gradient(p, phi, wrt, p_values, timeout=timeout)
    exact = _real_float(exact_value)
    if exact_value is not None and exact is None:
        exact_method = f"{exact_method} gave {exact_value}, not a finite real number"
    elif exact is None and timeout is not None and time.monotonic() - start >= 0.9 * timeout:
        exact_method = f"{exact_method} (its {timeout:.3g} s of the budget ran out)"
    return exact, exact_method


def _chunk_results(run_chunk, chunks: int, workers: int, client: object, seconds_left=None):
    """The chunks' results in order: local threads, or (``client`` given) Dask tasks (``distributed``).

    ``seconds_left`` stops waiting for chunks when the call's budget runs out (pending Dask tasks
    are cancelled).
    """
    if client is None:
        return ordered_map(run_chunk, chunks, workers, seconds_left)
    from .distributed import check_client, ordered_map_dask

    return ordered_map_dask(check_client(client), run_chunk, chunks, seconds_left)


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
