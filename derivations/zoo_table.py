"""The public zoo of issue 13: the rows' flows that the catalogue claims (zoo_families.py) leave out.

A researcher types in a density, takes its implicit flow u = -(dF/dtheta)/p
(Eq. 56) and wants it checked.  Here: Student's t for its degrees of freedom nu
(the CDF is the named function F_t, whose nu-derivative the numeric layer
evaluates), Gamma for its shape (the named regularized incomplete gamma P), Beta
for both shapes, the log-normal's implicit flow against its reparameterization,
and a density typed in by hand with a support that moves with a parameter: the
exponential truncated to [0, c].  Its implicit flow moves with the edge (u(c) = 1)
and needs no boundary term; the likelihood ratio needs the moving-boundary term of
Eq. 77 and is biased without it.

The rest of the zoo (von Mises kappa with its CDF an Integral, tied Beta(a, a),
Weibull k, Dirichlet alpha_1) is claimed in zoo_families.py; the Monte Carlo
checks, throughput and timings of every row are in tests/test_zoo.py and
benchmarks/bench_zoo.py.
"""

import dataclasses

import sympy as sp

import symflow as sf

# The truncated exponential's parameter point: lambda = 0.7, c = 2 (the row).
TRUNCATED_POINT = {"lambda": 0.7, "c": 2.0}


def _transport_all(p, flow, params=None):
    params = p.params if params is None else params
    return sf.combine(
        {t: sf.check_transport(p, flow, wrt=t) for t in params},
        f"the {flow.kind.value} flow of {p.name} solves the transport equation",
    )


def _truncated_exponential():
    x = sp.Symbol("x", real=True)
    lam, c = sp.Symbol("lambda", positive=True), sp.Symbol("c", positive=True)
    norm = 1 - sp.exp(-lam * c)
    p = sf.Density(
        lam * sp.exp(-lam * x) / norm,
        x,
        (lam, c),
        support=sp.Interval(0, c),
        cdf=(1 - sp.exp(-lam * x)) / norm,
        name="truncated_exponential",
    )
    return p, lam, c


def _truncated_lr():
    p, lam, c = _truncated_exponential()
    values = {lam: TRUNCATED_POINT["lambda"], c: TRUNCATED_POINT["c"]}
    return p.x[0], sf.derive(p, sf.flows.zero(p), c), values


@sf.claim("student t: the implicit flow (CDF the named F_t) solves transport for nu", equation="56")
def student_t_nu_transport():
    p = sf.families.student_t()
    return _transport_all(p, sf.flows.implicit(p), params=p.params[2:])


@sf.claim("gamma: the implicit flow (CDF the named regularized P) solves transport for alpha and beta", equation="56")
def gamma_implicit_transport():
    p = sf.families.gamma()
    return _transport_all(p, sf.flows.implicit(p))


@sf.claim("beta: the implicit flow (CDF betainc_regularized) solves transport for alpha and beta", equation="56")
def beta_implicit_transport():
    p = sf.families.beta()
    return _transport_all(p, sf.flows.implicit(p))


@sf.claim("log-normal: the implicit flow (CDF with erf) equals the reparameterization flow", equation="57")
def log_normal_implicit_is_reparam():
    p = sf.families.log_normal()
    return sf.check_same_flow(sf.flows.implicit(p), sf.flows.reparam(p))


@sf.claim("truncated exponential on [0, c]: the implicit flow solves transport for lambda and c", equation="56")
def truncated_exponential_implicit_transport():
    p, _, _ = _truncated_exponential()
    return _transport_all(p, sf.flows.implicit(p))


@sf.claim("truncated exponential: LR plus the moving-boundary term is unbiased for d/dc E[x]", equation="77")
def truncated_exponential_lr_with_boundary():
    x, est, values = _truncated_lr()
    return sf.check_unbiased(est, x, params=values)


@sf.claim("truncated exponential: LR without the moving-boundary term is biased for d/dc E[x]", expect="refuted")
def truncated_exponential_lr_without_boundary():
    x, est, values = _truncated_lr()
    return sf.check_unbiased(dataclasses.replace(est, extra_terms=()), x, params=values)
