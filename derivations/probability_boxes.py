"""Probability boxes (Sec. 3, App. C): LR and RP as Riemann sums over boxes.

N boxes of equal mass 1/N.  LR keeps the boxes fixed in x and differentiates
the mass in each (Eq. 38); RP keeps each box's mass and moves it with theta
(Eq. 34).  Both sums converge to d/dtheta E[phi] as N grows; the claims print
the error table for N = 10, 100, 1000 and check that the errors fall.
"""

import sympy as sp

import symflow as sf

P = sf.families.normal()
X = P.x[0]
MU, SIGMA = P.params
VALUES = {MU: sp.Rational(1, 2), SIGMA: sp.Rational(13, 10)}


@sf.claim("box sums for d/dmu E[x^2] converge: LR fixed boxes (Eq. 38), RP moving boxes (Eq. 34)", equation="34, 38")
def boxes_mu():
    return sf.boxes.check_boxes_converge(sf.boxes.box_gradients(P, X**2, MU, VALUES))


@sf.claim("box sums for d/dsigma E[x^3 + x] converge: LR fixed boxes, RP moving boxes", equation="34, 38")
def boxes_sigma():
    return sf.boxes.check_boxes_converge(sf.boxes.box_gradients(P, X**3 + X, SIGMA, VALUES))
