"""The normal's score function (Eq. 21): the likelihood-ratio estimator's psi.

With the zero flow u = 0 the flow estimator (Eq. 19) reduces to the
likelihood ratio, psi = d log p / d theta_i.  For the normal the paper gives

    d log p / d mu    = (x - mu) / sigma^2
    d log p / d sigma = (x - mu)^2 / sigma^3 - 1 / sigma

and these claims check that ``derive`` reproduces both.
"""

import symflow as sf

P = sf.families.normal()
X = P.x[0]
MU, SIGMA = P.params

# The paper's closed forms (Eq. 21), typed in by hand: the planted truth.
SCORE = {
    MU: (X - MU) / SIGMA**2,
    SIGMA: (X - MU) ** 2 / SIGMA**3 - 1 / SIGMA,
}


def _score_verdict(wrt):
    est = sf.derive(P, sf.flows.zero(P), wrt=wrt)
    return sf.check_weights(est, psi=SCORE[wrt], v=[0], equation="21")


@sf.claim("normal LR estimator: psi for mu is (x - mu)/sigma^2", equation="21")
def normal_score_mu():
    return _score_verdict(MU)


@sf.claim("normal LR estimator: psi for sigma is (x - mu)^2/sigma^3 - 1/sigma", equation="21")
def normal_score_sigma():
    return _score_verdict(SIGMA)
