"""Layer 7, the paper's identities and the tools built on the estimators.

``duality`` (height-augmented flow, Sec. 4, App. D), ``divergence`` (the divergence theorem and
Stein's identity, Eq. 8, 47-48), ``equivalence`` (same flow, same estimator, ``unique_psi``,
``classify``: App. E.1-E.3, Thm. 4), ``toolbox`` (baselines and antithetic pairs, App. B),
``boxes`` (probability boxes, Sec. 3), ``variances`` and ``comparison`` (exact variances of every
estimator, side by side), ``design`` (the minimum-variance combination of several estimators),
``divergence_free`` (pathwise flows plus divergence-free fields, optimized for a phi; App. E.1).
"""
