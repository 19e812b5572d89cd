"""One slow input for every public function with a ``timeout=`` parameter (issue 12, class 8).

``SLOW_CALLS[name](timeout)`` makes the call; without a budget each would take
far longer than the budget (a SymPy hang, an integral SymPy grinds on, a
quadrature that does not converge, Monte Carlo with a huge n).  The inputs are
built lazily so that importing this module costs nothing.
"""

import time

import sympy as sp

import symflow as sf

x = sp.Symbol("x", real=True)
ONE = sp.sin(x) ** 2 + sp.cos(x) ** 2  # = 1, but only simplify knows
HANG = 40 * (x + 5) ** 3 * sp.cos(10 * (x + 5) ** 4)  # sympy #21787: simplify hangs
HARD_PHI = sp.exp(sp.sin(x)) * x**3 + sp.cos(x**3) * sp.log(1 + x**2)  # no closed-form expectation


def _normal():
    p = sf.families.normal(x)
    return p, p.params[0], p.params[1]


def _hang_flow():
    p, mu, _ = _normal()
    return p, sf.Flow(p, {mu: [1 + (ONE - 1) * HANG]}), mu


def _lr(wrt_index=1):
    p = _normal()[0]
    return sf.derive(p, sf.flows.zero(p), p.params[wrt_index])


def _hard_density():
    t = sp.Symbol("t", positive=True)
    return sf.Density(sp.exp(-(x**2) - t * sp.sin(x) ** 2 * sp.cos(x**3)), [x], [t], name="hard")


def _hard_pmf():
    y = sp.Symbol("y", integer=True, nonnegative=True)
    t = sp.Symbol("t", positive=True)
    one = sp.sin(y) ** 2 + sp.cos(y) ** 2
    return sf.Density(
        sp.exp(-t) * t**y / sp.factorial(y) * (1 + sp.sin(y) ** 2 * (one - 1)), [y], [t], support=sp.Naturals0
    )


def _sleep_forever():
    while True:
        time.sleep(0.01)


def _params():
    p, mu, sigma = _normal()
    return {mu: 0.3, sigma: 1.2}


def _big_mvn():
    return sf.families.mvn(5)


def _call(fn, *args, **kwargs):
    """Build the inputs now (untimed); the returned function makes the timed call with ``timeout=``."""
    return lambda t: fn(*args, timeout=t, **kwargs)


def _hard_lr_like():
    p, mu, _ = _normal()
    return sf.Estimator(p, mu, (0,), p.score(mu) + HANG * (ONE - 1))


# name -> () -> (timeout -> result): the outer call builds the inputs, the inner one is timed.
SLOW_CALLS = {
    "decide_zero": lambda: _call(sf.decide_zero, HANG * (ONE - 1), sf.Domain().extended({x})),
    "check_transport": lambda: _call(sf.check_transport, *_hang_flow()),
    "check_boundary": lambda: _call(sf.check_boundary, *_hang_flow(), HARD_PHI),
    "check_normalized": lambda: _call(sf.check_normalized, _hard_density()),
    "check_unbiased": lambda: _call(sf.check_unbiased, _lr(), HARD_PHI),
    "check_weights": lambda: _call(sf.check_weights, _lr(), psi=_lr().psi + HANG * (ONE - 1)),
    "expectation_gradient": lambda: _call(sf.expectation_gradient, _normal()[0], HARD_PHI, _normal()[2]),
    "derive": lambda: _call(sf.derive, *_hang_flow(), phi=sp.Heaviside(x - 1)),
    "flows.implicit": lambda: _call(sf.flows.implicit, _hard_density(), S=sp.erf(x) * sp.exp(HANG * (ONE - 1))),
    "flows.reparam": lambda: _call(sf.flows.reparam, _big_mvn()),
    "flows.omt": lambda: _call(sf.flows.omt, _big_mvn()),
    "grp": lambda: _call(sf.grp, *_grp_args()[:4], x=(x,), S=_grp_args()[4]),
    "induced_density": lambda: _call(sf.induced_density, *_grp_args()[:3], x=(x,), S=_grp_args()[4]),
    "check_grp_trace_identity": lambda: _call(sf.check_grp_trace_identity, 6),
    "check_reparam_transport_identity": lambda: _call(sf.check_reparam_transport_identity, 6),
    "discrete_cdf": lambda: _call(sf.discrete_cdf, _hard_pmf()),
    "go_weight": lambda: _call(sf.go_weight, _hard_pmf(), _hard_pmf().params[0]),
    "go_estimator": lambda: _call(sf.go_estimator, _hard_pmf(), _hard_pmf().params[0]),
    "boxes.box_gradients": lambda: _call(
        sf.boxes.box_gradients, _normal()[0], HARD_PHI, _normal()[1], _params(), n_boxes=200
    ),
    "compare": lambda: _call(sf.compare, [_lr(), _lr()], HARD_PHI, _params(), n=10**7),
    "check_divergence_theorem": lambda: _call(sf.check_divergence_theorem, *_hang_flow(), HARD_PHI, _params()),
    "check_stein": lambda: _call(sf.check_stein, _hard_density(), HARD_PHI * HANG),
    "check_duality": lambda: _call(sf.check_duality, *_hang_flow(), HARD_PHI, _params()),
    "check_incompressible": lambda: _call(sf.check_incompressible, *_hang_flow()),
    "check_incompressibility_is_transport": lambda: _call(sf.check_incompressibility_is_transport, 12),
    "check_equivalent": lambda: _call(sf.check_equivalent, _lr(0), _hard_lr_like()),
    "check_same_flow": lambda: _call(sf.check_same_flow, _hang_flow()[1], sf.flows.reparam(_normal()[0])),
    "classify": lambda: _call(sf.classify, _hard_lr_like()),
    "estimator_mean": lambda: _call(sf.estimator_mean, _lr(), HARD_PHI * HANG, _params(), dps=200),
    "unique_psi": lambda: _call(sf.unique_psi, _normal()[0], (HANG * (ONE - 1),), _normal()[1]),
    "toolbox.check_baseline_unbiased": lambda: _call(
        sf.toolbox.check_baseline_unbiased, sf.Estimator(_normal()[0], _normal()[1], (0,), HANG)
    ),
    "toolbox.optimal_baseline": lambda: _call(sf.toolbox.optimal_baseline, _normal()[0], HARD_PHI, _normal()[1]),
    "toolbox.baseline_equals_mean": lambda: _call(
        sf.toolbox.baseline_equals_mean, _normal()[0], HARD_PHI, _normal()[1]
    ),
    "toolbox.check_antithetic_baseline_cancels": lambda: _call(
        sf.toolbox.check_antithetic_baseline_cancels, sf.Estimator(_normal()[0], _normal()[1], (0,), HANG)
    ),
    "toolbox.antithetic_vs_finite_difference": lambda: _call(
        sf.toolbox.antithetic_vs_finite_difference, _lr(), HARD_PHI * HANG
    ),
    "variance": lambda: _call(sf.variance, _lr(), HARD_PHI, _params(), n=10**7),
    "mc_check": lambda: _call(sf.mc_check, _lr(), HARD_PHI, _params(), n=10**9),
    "proof.check_steps": lambda: _call(sf.proof.check_steps, _hard_steps(), sf.Domain().extended({x})),
    "proof.check_proof": lambda: _call(sf.proof.check_proof, _hard_lr_like().derivation()),
    "proof.estimator_proof": lambda: _call(sf.proof.estimator_proof, _hard_lr_like()),
    "proof.proof_of": lambda: _call(sf.proof.proof_of, _hard_lr_like()),
    "proof.theorem_flow_estimator": lambda: _call(sf.proof.theorem_flow_estimator),
    # cached per timeout: the first call does the three theorems under the budget, later ones read the cache
    "proof.general_theorems": lambda: _call(sf.proof.general_theorems),
    "proof.theorem_reparameterization_transport": lambda: _call(sf.proof.theorem_reparameterization_transport),
    "proof.compile_pdf": lambda: _compile_pdf,
    "run_with_budget": lambda: _run_with_budget,
    # the sign change of dp/dsigma only simplify can see through (sympy #21787 in sigma)
    "check_weak_derivative": lambda: _call(
        sf.check_weak_derivative, *_normal()[::2], _hard_c(), sf.families.l_distribution(), _normal()[0]
    ),
    # x+ = mu + Rayleigh + cos(r^2): not monotone, so characteristic functions SymPy grinds on
    "check_coupling": lambda: _call(sf.check_coupling, *_bent_coupling()),
    "design": lambda: _call(sf.design, [_lr(0), _hard_lr_like()], HARD_PHI * HANG, _params()),
    # 3 rotations x 455 monomials of degree <= 12, each field built and decided in-process
    "divergence_free_basis": lambda: _call(sf.divergence_free_basis, sf.families.mvn(3), 12),
    "optimize_flow": lambda: _call(sf.optimize_flow, *_optimize_args(), degree=8),
    # no CDF: the masses of dp/dt on either side of x = -2 t are integrals SymPy grinds on
    "weak_derivative": lambda: _call(sf.weak_derivative, *_quartic()),
    "mvd": lambda: _call(sf.mvd, *_quartic()),
    "plot.variance_curves": lambda: _call(sf.plot.variance_curves, 10**5),
    "plot.estimator_variances": lambda: _call(sf.plot.estimator_variances, points=10**5),
    # d = 5: 120-term determinants of undefined functions, differentiated and checked
    "proof.theorem_grp_trace_identity": lambda: _call(sf.proof.theorem_grp_trace_identity, (4, 5)),
}


def _hard_c():
    _, _, sigma = _normal()
    return 1 / sigma + (ONE - 1).xreplace({x: sigma}) * HANG.xreplace({x: sigma})


def _bent_coupling():
    p, mu, _ = _normal()
    wd = sf.weak_derivative(p, mu, method="known")
    (r,) = wd.coupling.base.x
    bent = sf.estimators.coupling.Coupling(wd.coupling.base, wd.coupling.plus + sp.cos(r**2), wd.coupling.minus)
    return wd, bent


def _optimize_args():
    q = sf.families.mvn(2, "diag")
    return q, sf.flows.reparam(q), q.params[0], sp.sin(q.x[0] * q.x[1]), dict.fromkeys(q.params, 0.5)


def _quartic():
    t = sp.Symbol("t", positive=True)
    return sf.Density(sp.exp(-(x**4) + t * x + t**2), [x], [t], name="quartic"), t


def _grp_args():
    """A sinh-normal base map with its inverse given, wrapped in a residual only simplify can clear."""
    eps = sp.Symbol("epsilon", real=True)
    theta = sp.Symbol("theta", positive=True)
    base = sf.Density(sp.exp(-(eps**2) / 2) / sp.sqrt(2 * sp.pi), [eps], [], name="N(0,1)")
    g = theta + theta * sp.sinh(eps)
    S = sp.asinh((x - theta) / theta) + (ONE - 1) * HANG
    return base, (g,), (eps,), theta, S


def _hard_estimator():
    p, mu, _ = _normal()
    return sf.Estimator(p, mu, (0,), p.score(mu) + HANG * (ONE - 1))


def _hard_steps():
    lhs = sp.Symbol("r")
    return (sf.ProofStep(lhs, HANG * ONE, "start", basis=sf.proof.Basis.DEFINITION), sf.ProofStep(lhs, HANG, "ONE = 1"))


def _compile_pdf(t):
    try:
        return sf.proof.compile_pdf(
            "\\documentclass{article}\\begin{document}\\def\\a{\\a}\\a\\end{document}", timeout=t
        )
    except sf.SymflowError:
        return None


def _run_with_budget(t):
    from symflow.core.budget import BudgetExceeded

    try:
        return sf.run_with_budget(_sleep_forever, timeout=t)
    except BudgetExceeded:
        return None


def public_functions_with_timeout() -> dict:
    """name -> function for every public function (``symflow.__all__`` and its public submodules) with timeout=."""
    import inspect
    import types

    found: dict = {}
    seen: set = set()

    def walk(prefix: str, module: types.ModuleType) -> None:
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if isinstance(obj, types.ModuleType):
                if obj.__name__.startswith("symflow") and obj not in seen:
                    seen.add(obj)
                    walk(f"{prefix}{name}.", obj)
                continue
            if not inspect.isfunction(obj):
                continue  # classes (GOTerm, SurfaceTerm) hold a timeout for later calls; they compute nothing
            if "timeout" in inspect.signature(obj).parameters and obj not in found.values():
                found[f"{prefix}{name}"] = obj

    walk("", sf)
    return found
