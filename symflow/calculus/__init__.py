"""Layer 3, calculus on densities: the residuals and integrals the checks decide.

``transport`` (the transport residual of Eq. 50/52, SymPy and dict-polynomial routes),
``heaviside`` (the Heaviside normal form: where phi jumps and by how much, Eq. 63-66),
``integrals`` (symbolic integrals over a support and the exact gradient d/dtheta E_p[phi]),
``quadrature`` (the one numeric integration: mpmath quadrature/nsum, kink points, 2-D Gauss
boxes), ``marginal`` (q_M, the marginal sampling density on a surface).
"""
