r"""The paper's figures, drawn from symflow's own densities and flows.

* ``flow_lines``      Fig. 3: the probability-flow lines in the augmented (x, h) space
  under the curve of p (Eq. 16-18).
* ``boxes``           Fig. 2: LR keeps the "boxes" fixed and watches their mass change;
  RP keeps each box's mass fixed and watches it move (Sec. 3).
* ``l_distribution``  Fig. 4/6: horizontal slices of the normal and the slice
  ("L") distribution of Eq. (78) against the normal.
* ``estimator_variances``  Mohamed et al. (2020), Fig. 2: exact variances of the score
  function, pathwise and measure-valued estimators of E_{N(1,1)}[f(x; k)] over k, and of
  their ``sf.design`` combination (``variance_curves`` gives the data without matplotlib).

Every function returns a ``matplotlib.figure.Figure`` and does nothing else: no
file is written, nothing is shown, pyplot's global figure list is not touched.
matplotlib is imported inside the functions, so ``import symflow`` works without
it (install it with ``pip install "symflow[plot]"``).  ``flow_line_paths``
returns the flow lines as arrays, without matplotlib.

One module per figure (``fig2_boxes``, ``fig3_flow_lines``,
``fig6_l_distribution``, ``fig_estimator_variances``) and the shared helpers in ``_common``.
"""

from __future__ import annotations

from typing import Any

from .fig2_boxes import boxes as boxes
from .fig3_flow_lines import flow_line_paths as flow_line_paths
from .fig3_flow_lines import flow_lines as flow_lines
from .fig6_l_distribution import l_distribution as l_distribution
from .fig_estimator_variances import estimator_variances as estimator_variances
from .fig_estimator_variances import variance_curves as variance_curves

__all__ = ["boxes", "estimator_variances", "flow_line_paths", "flow_lines", "l_distribution", "variance_curves"]


def _figure_set(points: int = 41) -> dict[str, Any]:
    """The figures ``symflow figures`` writes: file stem -> zero-argument builder (``points``: grid of k)."""
    from .. import families as families
    from ..estimators import flows as flows

    def fig3():
        p = families.normal()
        return flow_lines(p, flows.reparam(p), wrt=p.params)

    def fig3_lr():
        p = families.normal()
        return flow_lines(p, flows.zero(p), wrt=p.params)

    return {
        "fig2_boxes": lambda: boxes(),
        "fig3_flow_lines": fig3,
        "fig3_flow_lines_lr": fig3_lr,
        "fig6_l_distribution": lambda: l_distribution(),
        "estimator_variances": lambda: estimator_variances(points=points),
    }
