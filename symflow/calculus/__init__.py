"""Layer 3, calculus on densities: the residuals and integrals the checks decide.

``transport`` (the transport residual of Eq. 50/52, SymPy and dict-polynomial routes),
``heaviside`` (the Heaviside normal form: where phi jumps and by how much, Eq. 63-66),
``integrals`` (symbolic integrals over a support and the exact gradient d/dtheta E_p[phi], by
Gaussian moments first when p is a Gaussian), ``gaussian`` (exact Gaussian integrals: expectations
under N(mu, Sigma) by Isserlis/Stein moments and completing the square, the transport identities of
affine flows, and ``gaussian.intervals``: 1-D polynomial x exp-quadratic integrals over any interval),
``quadrature`` (the one numeric integration: mpmath quadrature/nsum, kink points, 2-D Gauss
boxes), ``marginal`` (q_M, the marginal sampling density on a surface).
"""
