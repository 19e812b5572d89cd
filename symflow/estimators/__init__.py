"""Layer 5, building estimators: flows, derive, and the extra terms of discontinuous models.

``flows`` (zero, reparam, implicit, weighted, omt: Sec. 2.2, Eq. 51, 56, App. E.1), ``deriver``
(``derive``: v and psi from a flow, Eq. 19/50), ``surface`` (``SurfaceTerm``: a surface integral
sampled from its own q_M), ``jumps`` (jump terms, Eq. 66), ``moving_boundary`` (moving support
edges, Eq. 77), ``go`` (the GO gradient for pmfs, Eq. 73-75), ``generalized`` (GRP, Eq. 58-62),
and the measure-valued derivatives outside the flow form: ``weak_derivative`` (Hahn-Jordan
decompositions), ``known_weak`` (the literature's), ``coupling`` (joint laws of x+ and x-),
``mvd`` (the estimator), ``_inversion`` (inverse-CDF samplers for the pieces).
"""
