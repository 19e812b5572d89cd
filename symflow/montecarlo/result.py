"""The value ``mc_check`` returns, and the normal quantile its test uses."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from ..core.verdict import Status
from ..printing.display import LatexDisplay

__all__ = ["MCResult", "critical_z"]


def critical_z(alpha: float) -> float:
    """z_{1 - alpha/2} of the standard normal."""
    return statistics.NormalDist().inv_cdf(1.0 - alpha / 2.0)


@dataclass(frozen=True)
class MCResult(LatexDisplay):
    r"""The outcome of ``mc_check``.

    Prints as text (``str``) and renders in notebooks (``_repr_latex_``, ``_repr_mimebundle_``:
    the claim, the verdict, mean +- standard error against the exact value, z and delta).

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
        :math:`(\text{mean} - \text{exact}) / \text{stderr}`.  Present but not used for the
        verdict when the tail diagnostic found a heavy tail (``status`` is then ``unknown``).
    delta : float
        :math:`z_{1-\alpha/2}\,\text{stderr}`: the smallest bias this n could detect at this alpha, in
        the sense that a true bias of size delta is detected (|z| above the critical value) with
        probability about 1/2, and larger biases with higher probability.
    status : Status
        ``refuted`` when :math:`|z| > z_{1-\alpha/2}`; ``consistent`` otherwise; ``unknown`` (with
        ``reason``) when no exact value, no finite estimate or no trustworthy variance (a heavy
        tail) was available.
    n, alpha : the sample size and the test's level (its false-alarm rate for a correct estimator).
    method : str
        How the test was run (sample size, chunks, seed, workers).
    tail_index : float or None
        The smallest Hill estimate of the tail index over both tails of every sampled part
        (``inf`` for tails lighter than any power law); below 2 the variance is likely
        infinite.  None when n was too small to estimate it or every part is bounded on both
        sides of its mean by a constant.
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
    tail_index: float | None = None

    def __str__(self) -> str:
        lines = [f"Monte Carlo check{': ' + self.claim if self.claim else ''} -> {self.status}"]
        lines.append(f"  mean   = {self.mean:.10g} +- {self.stderr:.3g} (standard error), n = {self.n}")
        if self.exact is not None:
            lines.append(f"  exact  = {self.exact:.15g} ({self.exact_method})")
        else:
            lines.append(f"  exact  = unavailable ({self.exact_method})")
        if self.z is not None:
            crit = critical_z(self.alpha)
            relation = ">" if abs(self.z) > crit else "<="
            note = " (not used: heavy tail, see reason)" if self.heavy_tailed else ""
            lines.append(
                f"  z      = {self.z:.3f}; |z| {relation} {crit:.3f} = z_(1-alpha/2) at alpha = {self.alpha:g}{note}"
            )
        lines.append(f"  delta  = {self.delta:.3g} (smallest bias this n detects, with probability 1/2)")
        if self.tail_index is not None:
            lines.append(f"  tail   = Hill tail index {self.tail_index:.3g} (< 2 => infinite variance likely)")
        if self.reason:
            lines.append(f"  reason: {self.reason}")
        lines.append(f"  method: {self.method}")
        return "\n".join(lines)

    @property
    def heavy_tailed(self) -> bool:
        """True when the verdict was withheld because the estimator's tail looked too heavy."""
        return self.status == Status.UNKNOWN and self.reason.startswith("heavy tail")
