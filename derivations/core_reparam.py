"""Reparameterization flows solve the transport equation, so psi = 0 (Sec. 2.2, Eq. 52).

For x = g(eps; theta) with eps drawn from a theta-free base density, the flow
u = dg/dtheta_i evaluated at eps = S(x; theta) moves samples exactly as p
changes: div(p u) + dp/dtheta_i = 0 (Eq. 52).  The flow estimator of
Eq. (19) then has no phi term -- it is the reparameterization gradient.
Checked here for every parameter of the normal, Laplace, logistic and
exponential families and of the multivariate normal with diagonal and full
(Cholesky-factor) covariance in 2 and 3 dimensions.
"""

import symflow as sf


def _transport(p, params=None):
    flow = sf.flows.reparam(p)
    params = p.params if params is None else params
    if len(params) == 1:
        return sf.check_transport(p, flow, wrt=params[0])
    return sf.combine(
        ((t, sf.check_transport(p, flow, wrt=t)) for t in params),
        f"reparameterization flow of {p.name} solves the transport equation",
    )


@sf.claim("normal reparam flow u = 1 solves transport for mu", equation="52")
def normal_mu():
    p = sf.families.normal()
    return _transport(p, p.params[:1])


@sf.claim("normal reparam flow u = (x-mu)/sigma solves transport for sigma", equation="52")
def normal_sigma():
    p = sf.families.normal()
    return _transport(p, p.params[1:])


@sf.claim("laplace reparam flow solves transport for mu and scale", equation="52")
def laplace_all():
    return _transport(sf.families.laplace())


@sf.claim("logistic reparam flow solves transport for mu and scale", equation="52")
def logistic_all():
    return _transport(sf.families.logistic())


@sf.claim("exponential reparam flow solves transport for the rate", equation="52")
def exponential_all():
    return _transport(sf.families.exponential())


@sf.claim("mvn d=2, diagonal: reparam flow solves transport for all 4 parameters", equation="52")
def mvn_diag_2():
    return _transport(sf.families.mvn(2, covariance="diag"))


@sf.claim("mvn d=3, diagonal: reparam flow solves transport for all 6 parameters", equation="52")
def mvn_diag_3():
    return _transport(sf.families.mvn(3, covariance="diag"))


@sf.claim("mvn d=2, full Cholesky: reparam flow solves transport for all 5 parameters", equation="52")
def mvn_full_2():
    return _transport(sf.families.mvn(2, covariance="full"))


@sf.claim("mvn d=3, full Cholesky: reparam flow solves transport for all 9 parameters", equation="52")
def mvn_full_3():
    return _transport(sf.families.mvn(3, covariance="full"))
