r"""Measure-valued derivatives (MVD): :math:`E = c\,(\phi(x^+) - \phi(x^-))`, x± ~ p±.

The third family of Monte Carlo gradients (Pflug 1989; Mohamed et al. 2020,
Sec. 6), outside the paper's single-sample form v . grad phi + psi phi: given
a weak derivative dp/dtheta = c (p+ - p-) (``WeakDerivative``),

.. math::
    \frac{d}{d\theta}\mathbb{E}_p[\phi] = \int \phi\,\partial_\theta p\,dx
        = c\left(\mathbb{E}_{p^+}[\phi] - \mathbb{E}_{p^-}[\phi]\right)
        = \mathbb{E}\left[c\,(\phi(x^+) - \phi(x^-))\right]

for any joint law of (x+, x-) with those marginals (linearity of the
expectation; differentiating under the integral sign is the one analytic
assumption, as for LR).  It needs phi only, not its gradient.

``mvd(p, wrt)`` returns an ``MVDEstimator``: an ``Estimator`` with v = 0 and
psi = 0 whose one extra term (``MVDTerm``, kind ``TermKind.MVD``) is the
difference, drawn from its own stream -- so ``check_unbiased``, ``mc_check``,
``variance``, ``compare`` and ``design`` take it like any other estimator.
``est.compile()`` returns a ``CompiledMVD``: ``f(phi_plus, phi_minus, params)``
and ``f.sample(n, params, rng) -> (x_plus, x_minus)``.

Couplings: ``"natural"`` (default: the decomposition's own, e.g. the mirrored
Rayleigh pair of the normal mean; independent when it has none),
``"independent"``, ``"common"`` (x± = Q±(u), the same uniform),
``"antithetic"`` (x- = Q-(1 - u)), or a ``Coupling``.  Common and antithetic
uniforms become a ``Coupling`` in closed form when both quantiles are closed
form: over x+ ~ p+ with x- = T(x+), T = Q- o F+ (or Q- o (1 - F+)) when T
simplifies to a polynomial (for the normal mean, antithetic uniforms give
T(x) = 2 mu - x, the mirrored pair), else over u ~ U(0, 1).

One concept although long: the MVD estimator value, its term (sampling, exact moments over p+/p- or
over the coupling's base) and the coupling check at construction belong together; the decompositions
and couplings themselves live in weak_derivative.py and coupling.py.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from ..calculus.gaussian.intervals import interval_gaussian_integral, real_part
from ..calculus.integrals import symbolic_integral
from ..calculus.quadrature import numeric_integral
from ..core import budget as budgets
from ..core.budget import SYMPY_GAVE_UP, BudgetExceeded, resolve_timeout, run_with_budget
from ..core.convert import as_expr, as_param_values, as_test_function, exact_values
from ..core.density import Density
from ..core.estimator import Estimator, TermKind
from ..core.steps import Basis, Proof, ProofStep, Step
from ..core.verdict import Status
from ..errors import BackendError, EstimatorError, SymflowError
from ..numeric.evaluate import numpy_scalar_function
from . import _inversion
from .coupling import Coupling, coupling_marginals, exact_expectation, uniform_base
from .known_weak import known_weak_derivative
from .weak_derivative import WeakDerivative, closed_quantile, hahn_jordan, mixture_density, mixture_moment

__all__ = ["COUPLINGS", "CompiledMVD", "MVDEstimator", "MVDTerm", "mvd", "weak_derivative"]

COUPLINGS = ("natural", "independent", "common", "antithetic")


@budgets.bounded
def weak_derivative(
    p: Density, wrt: sp.Symbol, *, method: str = "hahn-jordan", params: dict | None = None, timeout: float | None = None
) -> WeakDerivative:
    r"""A weak derivative :math:`\partial_\theta p = c\,(p^+ - p^-)` of a 1-D density.

    Parameters
    ----------
    p : Density
        One variable.
    wrt : Symbol
        The parameter theta.
    method : {"hahn-jordan", "known"}
        ``"hahn-jordan"`` (default): p± proportional to the positive and
        negative parts of dp/dtheta, with the sign changes found and c exact
        (``symflow.estimators.weak_derivative``).  ``"known"``: the
        literature's decomposition for the normal (mean, scale), exponential
        and Poisson (rate), with its natural coupling
        (``symflow.estimators.known_weak``).
    params : dict, optional
        Parameter values, used only when a mass of dp/dtheta has no closed
        form (it is then computed by quadrature, and the decomposition holds
        at these values).
    timeout : float, optional
        Budget in seconds for the whole call (default: the global one).

    Examples
    --------
    >>> import symflow as sf
    >>> p = sf.families.normal(); mu, sigma = p.params
    >>> sf.weak_derivative(p, mu).c
    sqrt(2)/(2*sqrt(pi)*sigma)
    """
    if not isinstance(p, Density):
        raise EstimatorError(f"p must be a Density, got {type(p).__name__}")
    wrt = p.check_param(wrt)
    if p.dim != 1:
        raise EstimatorError(f"weak derivatives here are for 1-D densities; {p.name} has {p.dim} variables")
    if not isinstance(method, str):
        raise EstimatorError(f"method must be 'hahn-jordan' or 'known', got a {type(method).__name__}")
    if method == "hahn-jordan":
        return hahn_jordan(p, wrt, params, timeout=timeout)
    if method == "known":
        return known_weak_derivative(p, wrt)
    raise EstimatorError(f"method must be 'hahn-jordan' or 'known', got {method!r}")


# -- quantiles of a mixture (common uniforms) -------------------------------------------------


def _part_quantiles(part: Density, values: dict, u: np.ndarray) -> np.ndarray:
    sampler = part.sampler
    if isinstance(sampler, functools.partial) and sampler.func is _inversion._sample:
        return _inversion.quantiles(*sampler.args, values, u)
    s = part.support_sets[0]
    return _inversion.quantiles(
        part.expr, part.x[0], part.params, s.inf, s.sup, part.cdf, None, part.is_discrete, values, u
    )


def _mixture_quantiles(parts: tuple, values: dict, u: np.ndarray) -> np.ndarray:
    """Q(u) of sum_j w_j part_j for parts on disjoint intervals (ordered by their lower edges here)."""
    subs = exact_values(values)
    lows = [float(sp.N(d.support_sets[0].inf.xreplace(subs))) for _, d in parts]
    order = np.argsort(lows)
    w = np.array([float(sp.N(parts[j][0].xreplace(subs))) for j in order])
    edges = np.concatenate([[0.0], np.cumsum(w / w.sum())])
    out = np.empty_like(u)
    for k, j in enumerate(order):
        lo, hi = edges[k], edges[k + 1]
        idx = np.nonzero((u > lo) & (u <= hi)) if k else np.nonzero(u <= hi)
        if idx[0].size:
            inner = np.clip((u[idx] - lo) / max(hi - lo, 1e-300), 2.0**-53, 1.0 - 2.0**-53)
            out[idx] = _part_quantiles(parts[j][1], values, inner)
    return out


def _side_sample(parts: tuple, n: int, params: dict, rng: np.random.Generator) -> np.ndarray:
    d = mixture_density(parts, "side")
    return d.sample(n, {t: params[t] for t in d.params}, rng)[:, 0]


def _sample_pairs(coupling: Any, plus: tuple, minus: tuple, n: int, params: dict, rng: np.random.Generator):
    """n pairs (x+, x-): by the Coupling, independently, or through common/antithetic uniforms."""
    if isinstance(coupling, Coupling):
        return coupling.sample(n, params, rng)
    if coupling == "independent":
        return _side_sample(plus, n, params, rng), _side_sample(minus, n, params, rng)
    u = np.clip(1.0 - rng.random(n), 2.0**-53, 1.0 - 2.0**-53)
    xp = _mixture_quantiles(plus, params, u)
    xm = _mixture_quantiles(minus, params, u if coupling == "common" else 1.0 - u)
    return xp, xm


# -- the term ------------------------------------------------------------------------------


def _budgeted(fn, *args, timeout: float, what: str):
    try:
        return run_with_budget(fn, *args, timeout=timeout, what=what)
    except (BudgetExceeded, *SYMPY_GAVE_UP):
        return None


def _part_expectation(part: Density, f: sp.Expr, timeout: float | None) -> sp.Expr | None:
    """E_part[f] exactly: the polynomial x Gaussian closed form over the part's interval, else SymPy."""
    budget = resolve_timeout(timeout)
    x = part.x[0]
    s = part.support_sets[0]
    integrand = part.expr * f
    if not part.is_discrete:
        got = _budgeted(interval_gaussian_integral, integrand, x, s.inf, s.sup, timeout=budget, what="closed form")
        if got is not None:
            return real_part(got) if not integrand.has(sp.I) else got
    return symbolic_integral(part, integrand, timeout=timeout)


@dataclass(frozen=True)
class MVDTerm:
    r"""The measure-valued difference :math:`c\,(\phi(x^+) - \phi(x^-))`, an extra term of an ``MVDEstimator``.

    Follows the ``ExtraTerm`` protocol of ``Estimator`` (kind ``TermKind.MVD``)
    and states its moments as a plan for ``variance`` (``moment_plan``).

    Attributes
    ----------
    decomposition : WeakDerivative
    coupling : Coupling or str
        A ``Coupling`` (closed-form joint law), ``"independent"``, or
        ``"common"``/``"antithetic"`` when the quantiles are numeric only.
    marginals_proved : bool
        The ``Coupling``'s marginals are known to be p+ and p- (``check_coupling``
        proved it, or symflow built it so).  When False, expectations and
        moments are integrals over the coupling's base density -- the law that
        is actually sampled -- never the marginals it claims.
    """

    decomposition: WeakDerivative
    coupling: Any = "independent"
    timeout: float | None = field(default=None, repr=False, compare=False)  # a budget, not part of the value
    kind: TermKind = TermKind.MVD
    marginals_proved: bool = False

    @property
    def _over_base(self) -> bool:
        # an unproved Coupling => its maps are what is sampled => integrate over its base, not over p+ and p-
        return isinstance(self.coupling, Coupling) and not self.marginals_proved

    def _sampled(self, phi: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
        """phi(x+) and phi(x-) as functions of the coupling's base variables."""
        cp = self.coupling
        return phi.xreplace({self.x: cp.plus}), phi.xreplace({self.x: cp.minus})

    @property
    def wrt(self) -> sp.Symbol:
        return self.decomposition.wrt

    @property
    def c(self) -> sp.Expr:
        return self.decomposition.c

    @property
    def x(self) -> sp.Symbol:
        return self.decomposition.x

    @property
    def coupling_name(self) -> str:
        return self.coupling.name if isinstance(self.coupling, Coupling) else str(self.coupling)

    # -- expectations ----------------------------------------------------------------
    def _mixture(self, parts: tuple, f: sp.Expr) -> sp.Expr | None:
        total = sp.S.Zero
        for w, part in parts:
            got = _part_expectation(part, f, self.timeout)
            if got is None:
                return None
            total += w * got
        return total

    def symbolic_expectation(self, phi: sp.Expr) -> sp.Expr | None:
        """c (E+[phi] - E-[phi]) exactly, or None."""
        phi = as_test_function(phi)
        if self._over_base:
            fp, fm = self._sampled(phi)
            got = exact_expectation(self.coupling.base, fp - fm, self.timeout)
            if got is None:
                return None
            return budgets.simplify(self.c * got, timeout=resolve_timeout(self.timeout))
        plus = self._mixture(self.decomposition.plus, phi)
        minus = self._mixture(self.decomposition.minus, phi) if plus is not None else None
        if plus is None or minus is None:
            return None
        return budgets.simplify(self.c * (plus - minus), timeout=resolve_timeout(self.timeout))

    def numeric_expectation(self, phi: sp.Expr, values: dict, dps: int) -> mpmath.mpf | None:
        """c (E+[phi] - E-[phi]) at ``values`` by quadrature at ``dps`` digits."""
        phi = as_test_function(phi)
        values = exact_values({k: as_expr(v, "value") for k, v in values.items()})
        if self._over_base:
            fp, fm = self._sampled(phi)
            base = self.coupling.base
            got = numeric_integral(base, base.expr * (fp - fm), values, dps=dps, timeout=self.timeout)
            if got is None:
                return None
            with mpmath.workdps(dps):
                return mpmath.mpmathify(sp.N(self.c.xreplace(values), dps)) * got
        wd = self.decomposition
        plus = mixture_moment(wd.plus, phi, values, dps, self.timeout)
        minus = mixture_moment(wd.minus, phi, values, dps, self.timeout) if plus is not None else None
        if minus is None:
            return None
        with mpmath.workdps(dps):
            return mpmath.mpmathify(sp.N(self.c.xreplace(values), dps)) * (plus - minus)

    # -- sampling ----------------------------------------------------------------------
    def sample_pairs(self, n: int, params: dict, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """n pairs (x+, x-) drawn with the coupling, as two (n,) arrays."""
        return _sample_pairs(self.coupling, self.decomposition.plus, self.decomposition.minus, n, params, rng)

    def mc_samples(self, phi: sp.Expr, params: dict, n: int, rng: np.random.Generator) -> np.ndarray:
        """c (phi(x+) - phi(x-)) for n coupled pairs."""
        xp, xm = self.sample_pairs(n, params, rng)
        fixed = {t: sp.Float(float(params[t]), 17) for t in params}
        f = numpy_scalar_function([self.x], as_test_function(phi).xreplace(fixed))
        c = float(sp.N(self.c.xreplace(fixed)))
        with np.errstate(all="ignore"):
            fp = np.broadcast_to(np.asarray(f(xp), dtype=float), (n,))
            fm = np.broadcast_to(np.asarray(f(xm), dtype=float), (n,))
        return c * (fp - fm)

    # -- moments for variance ------------------------------------------------------------
    def moment_plan(self, phi: sp.Expr, k: int) -> tuple | None:
        r"""E[T^k] as ((coef, ((density, f), ...)), ...) for ``variance``; None when the coupling is numeric only.

                The mean needs the marginals only, c (E+[phi] - E-[phi]); the second
                moment needs the coupling in one cross term,
                :math:`c^2\left(E_+[\phi^2] + E_-[\phi^2] - 2\,E[\phi(x^+)\phi(x^-)]
        ight)`,
                a product of marginal means when x+ and x- are independent.
        """
        phi = as_test_function(phi)
        c = self.c
        wd = self.decomposition
        if self._over_base:
            # what is sampled: T = c (phi(g+(z)) - phi(g-(z))), z ~ base => every moment is one integral over the base
            fp, fm = self._sampled(phi)
            return ((c**k, ((self.coupling.base, sp.expand((fp - fm) ** k)),)),) if k in (1, 2) else None
        if k == 1:
            return tuple((c * w, ((d, phi),)) for w, d in wd.plus) + tuple((-c * w, ((d, phi),)) for w, d in wd.minus)
        if k != 2:
            return None
        squares = [(c**2 * w, ((d, phi**2),)) for w, d in wd.plus + wd.minus]
        if isinstance(self.coupling, Coupling):
            cp = self.coupling
            cross = phi.xreplace({self.x: cp.plus}) * phi.xreplace({self.x: cp.minus})
            return (*squares, (-2 * c**2, ((cp.base, cross),)))
        if self.coupling != "independent":
            return None
        return (*squares, *[(-2 * c**2 * wp * wm, ((dp, phi), (dm, phi))) for wp, dp in wd.plus for wm, dm in wd.minus])

    def steps(self) -> tuple[Step, ...]:
        x, w = self.x, self.wrt
        G = sp.Symbol("G_mvd")
        return (
            Step(
                G,
                sp.Symbol("c") * (sp.Function("phi")(sp.Symbol("x+")) - sp.Function("phi")(sp.Symbol("x-"))),
                f"measure-valued difference, (x+, x-) by {self.coupling_name}",
            ),
            Step(
                G,
                self.c * (sp.Symbol("E+[phi]") - sp.Symbol("E-[phi]")),
                "linearity of the expectation: only the marginals x+ ~ p+, x- ~ p- matter",
            ),
            Step(
                G,
                sp.Integral(sp.Derivative(self.decomposition.density.expr, w) * sp.Function("phi")(x), x),
                f"dp/d{w} = c (p+ - p-)",
            ),
        )

    def __str__(self) -> str:
        return f"MVD term: + {sp.sstr(self.c)} * (phi(x+) - phi(x-)), {self.coupling_name}"


# -- the estimator ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # Estimator's equality: what it computes, not how it was derived
class MVDEstimator(Estimator):
    r"""An ``Estimator`` whose whole estimate is its ``MVDTerm``: :math:`c\,(\phi(x^+) - \phi(x^-))`.

    v = 0 and psi = 0, so the sample x ~ p of the main part contributes
    nothing; ``compile()`` returns a ``CompiledMVD`` instead of the (zero)
    main-part function.
    """

    @property
    def term(self) -> MVDTerm:
        return self.extra_terms[0]

    @property
    def decomposition(self) -> WeakDerivative:
        return self.term.decomposition

    @property
    def coupling(self) -> Any:
        return self.term.coupling

    def compile(self, backend: str = "numpy", **options: Any) -> CompiledMVD:
        """``f(phi_plus, phi_minus, params) -> c (phi_plus - phi_minus)``, with ``f.sample(n, params, rng)``."""
        if backend != "numpy" or options:
            raise BackendError("an MVD estimator compiles to numpy only (c times a difference), with no options")
        wd = self.decomposition
        return CompiledMVD(wd.c, self.params, self.wrt, self.coupling, wd.plus, wd.minus, self.name)

    def sample_pairs(self, n: int, params: dict, rng: np.random.Generator | int | None = None):
        """n coupled pairs (x+, x-)."""
        return self.compile().sample(n, params, rng)  # the same checks of n and params

    def derivation(self) -> Proof:
        """The unbiasedness argument; the weak-derivative identity is ``check_weak_derivative``'s verdict."""
        wd = self.decomposition
        p = wd.density
        phi = sp.Function("phi")(wd.x)
        c = sp.Symbol("c")
        steps = [
            ProofStep(c, wd.c, f"the weak derivative's constant ({wd.method})", basis=Basis.DEFINITION),
            ProofStep(
                sp.Symbol("G"),
                c * (sp.Symbol("E_{p+}[phi]") - sp.Symbol("E_{p-}[phi]")),
                f"E[c (phi(x+) - phi(x-))] under the {self.term.coupling_name} coupling: linearity, marginals p+/p-",
                basis=Basis.ARGUMENT,
            ),
            ProofStep(
                sp.Symbol("G"),
                sp.Integral(sp.Derivative(p.expr, wd.wrt) * phi, wd.x),
                f"dp/d{wd.wrt} = c (p+ - p-) with p+ and p- normalized: checked by sf.check_weak_derivative",
                basis=Basis.ARGUMENT,
            ),
        ]
        return Proof(
            f"{self.name}: d/d{self.wrt} of E_{p.name}[phi]",
            tuple(steps),
            f"c (phi(x+) - phi(x-)) is unbiased for d/d{self.wrt} E_{p.name}[phi] for every phi.",
            ("differentiation under the integral sign is allowed (p is smooth in theta)",),
        )

    def __str__(self) -> str:
        wd = self.decomposition
        return (
            f"{self.name} of d/d{self.wrt} E_{self.density.name}[phi]\n"
            f"  E   = {sp.sstr(wd.c)} * (phi(x+) - phi(x-))\n"
            f"  x+ ~ {wd.p_plus.name}, x- ~ {wd.p_minus.name}; {self.term.coupling_name}"
        )


@dataclass(frozen=True)
class CompiledMVD:
    r"""A vectorized measure-valued estimator :math:`c(\theta)\,(\phi(x^+) - \phi(x^-))`.

    Call it as ``f(phi_plus, phi_minus, params)`` with phi at n pairs drawn by
    ``f.sample(n, params, rng)``; ``f.estimate(phi, n, params, rng)`` does both
    for a numpy function ``phi``.  It holds c, the coupling and the parts of
    p+ and p- (not p): it pickles whenever their samplers do (module-level
    functions; the function of c is rebuilt lazily).
    """

    c_expr: sp.Expr
    params: tuple[sp.Symbol, ...]
    wrt: sp.Symbol
    coupling: Any
    plus: tuple
    minus: tuple
    name: str = ""

    @functools.cached_property
    def _c(self):
        return numpy_scalar_function([self.params], self.c_expr)

    def __getstate__(self) -> dict:
        return {f: getattr(self, f) for f in ("c_expr", "params", "wrt", "coupling", "plus", "minus", "name")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def _values(self, params: object) -> dict:
        """params checked as compile() does elsewhere: Symbol keys, numbers, every parameter, sigma > 0 and such."""
        values = as_param_values(params, self.params)
        for _, part in (*self.plus, *self.minus):
            part.param_values({t: values[t] for t in part.params})
        return {t: float(values[t]) for t in self.params}

    def c(self, params: dict) -> float:
        """c at these parameter values."""
        values = self._values(params)
        return float(self._c(tuple(values[t] for t in self.params)))

    def __call__(self, phi_plus: object, phi_minus: object, params: dict) -> np.ndarray:
        fp = np.asarray(phi_plus, dtype=np.float64)
        fm = np.asarray(phi_minus, dtype=np.float64)
        if fp.shape != fm.shape or fp.ndim != 1:
            raise SymflowError(
                f"phi_plus and phi_minus must be (n,) arrays of the same shape; got {fp.shape} and {fm.shape}"
            )
        return self.c(params) * (fp - fm)

    def sample(self, n: int, params: dict, rng: np.random.Generator | int | None = None):
        """n coupled pairs (x+, x-) as two (n,) arrays."""
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise SymflowError(f"n must be a positive integer number of pairs, got {n!r}")
        values = self._values(params)
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        return _sample_pairs(self.coupling, self.plus, self.minus, int(n), values, rng)

    def estimate(self, phi: Any, n: int, params: dict, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """n per-pair estimates for a vectorized numpy function ``phi``."""
        xp, xm = self.sample(n, params, rng)
        outs = []
        for xs in (xp, xm):
            out = np.asarray(phi(xs), float)
            if out.shape != xs.shape:
                raise SymflowError(
                    f"phi returned shape {out.shape} for {xs.shape[0]} points; give a vectorized phi with one value "
                    "per point (e.g. lambda x: x**2, or np.vectorize(f))"
                )
            outs.append(out)
        return self(*outs, params)

    def __str__(self) -> str:
        return f"{self.name or 'MVD'} of d/d{self.wrt} (numpy): E = {sp.sstr(self.c_expr)} * (phi(x+) - phi(x-))"


# -- building ------------------------------------------------------------------------------


def _quantile_of(part: Density, budget: float) -> sp.Expr | None:
    sampler = part.sampler
    if isinstance(sampler, functools.partial) and sampler.func is _inversion._sample and sampler.args[6] is not None:
        return sampler.args[6]
    if part.cdf is None:
        return None
    s = part.support_sets[0]
    return closed_quantile(part.cdf, part.x[0], s.inf, s.sup, part.params, budget)


def _uniform_coupling(wd: WeakDerivative, kind: str, budget: float) -> Coupling | None:
    """Common or antithetic uniforms as a closed-form Coupling, when both quantiles are closed form."""
    if len(wd.plus) != 1 or len(wd.minus) != 1:
        return None
    ((_, plus),), ((_, minus),) = wd.plus, wd.minus
    qp, qm = _quantile_of(plus, budget), _quantile_of(minus, budget)
    if qp is None or qm is None:
        return None
    u = _inversion.quantile_symbol()
    qm_u = qm if kind == "common" else qm.xreplace({u: 1 - u})
    x = wd.x
    lo, hi = plus.support_sets[0].inf, plus.support_sets[0].sup
    if plus.cdf is not None and (lo.is_finite or hi.is_finite):
        # x- = T(x+) with T = Q- o F+: a polynomial T makes the moments closed-form integrals over p+
        t = sp.Dummy("t", positive=True)
        at = lo + t if lo.is_finite else hi - t
        T = _budgeted(
            lambda: budgets.simplify(qm_u.xreplace({u: plus.cdf}).xreplace({x: at})),
            timeout=budget,
            what="the transport map of the coupling",
        )
        if T is not None and T.is_polynomial(t):
            back = sp.expand(T.xreplace({t: (x - lo) if lo.is_finite else (hi - x)}))
            return Coupling(plus, x, back, f"{kind} uniforms: x- = {sp.sstr(back)}")
    z = sp.Symbol("u", real=True)
    return Coupling(
        uniform_base(), qp.xreplace({u: z}), qm_u.xreplace({u: z}), f"{kind} uniforms through the inverse CDFs"
    )


def _checked_coupling(wd: WeakDerivative, coupling: Coupling, timeout: float | None) -> bool:
    """True when the coupling's marginals are proved to be p+ and p-; raises when they are refuted."""
    if not isinstance(coupling.base, Density) or coupling.base.sampler is None:
        raise EstimatorError("the coupling's base density has no sampler; give a base Density with sampler=...")
    verdict = coupling_marginals(coupling, wd.p_plus, wd.p_minus, timeout)
    if verdict.status is Status.REFUTED:
        wrong = [label for label, part in verdict.details if str(part).startswith("refuted")]
        raise EstimatorError(
            f"the coupling {coupling.name!r} does not draw {' and '.join(wrong) or 'x+ ~ p+ and x- ~ p-'} "
            "(sf.check_coupling(decomposition, coupling) refutes it); give maps that push its base forward to p+ "
            "and p- (the estimator is unbiased only then), or a coupling by name: 'independent', 'common', "
            "'antithetic'"
        )
    # undecided => accepted, but its moments are taken over the base (what is sampled), never over p+ and p-
    return verdict.status is Status.PROVED


@budgets.bounded
def mvd(
    p: Density,
    wrt: sp.Symbol,
    *,
    decomposition: WeakDerivative | None = None,
    coupling: str | Coupling = "natural",
    method: str = "hahn-jordan",
    params: dict | None = None,
    timeout: float | None = None,
) -> MVDEstimator:
    r"""The measure-valued estimator :math:`c(\phi(x^+) - \phi(x^-))` of d/dtheta E_p[phi] (see the module docstring).

    Parameters
    ----------
    p : Density
        A 1-D density or pmf.
    wrt : Symbol
        The parameter theta.
    decomposition : WeakDerivative, optional
        The weak derivative to use; by default ``weak_derivative(p, wrt, method=method)``.
    coupling : {"natural", "independent", "common", "antithetic"} or Coupling
        How x+ and x- are drawn together.
    method : {"hahn-jordan", "known"}
        Passed to ``weak_derivative`` when no decomposition is given.
    params : dict, optional
        Passed to ``weak_derivative`` (quadrature for masses without a closed form).
    timeout : float, optional
        Budget in seconds for the whole call (default: the global one).

    Examples
    --------
    >>> import symflow as sf
    >>> p = sf.families.normal(); mu, sigma = p.params; (x,) = p.x
    >>> est = sf.mvd(p, mu)
    >>> est.term.symbolic_expectation(x**2)
    2*mu
    """
    if not isinstance(p, Density):
        raise EstimatorError(f"p must be a Density, got {type(p).__name__}")
    wrt = p.check_param(wrt)
    budget = resolve_timeout(timeout)
    wd = (
        decomposition
        if decomposition is not None
        else weak_derivative(p, wrt, method=method, params=params, timeout=timeout)
    )
    if not isinstance(wd, WeakDerivative):
        raise EstimatorError(f"decomposition must be a WeakDerivative, got {type(wd).__name__}")
    if wd.density != p or wd.wrt != wrt:
        raise EstimatorError(f"the decomposition is of d{wd.density.name}/d{wd.wrt}, not d{p.name}/d{wrt}")
    built = False  # symflow built it from the quantiles => its marginals are right by construction
    if not isinstance(coupling, Coupling | str):
        raise EstimatorError(
            f"coupling must be one of {', '.join(COUPLINGS)} or a Coupling, got a {type(coupling).__name__}"
        )
    if isinstance(coupling, Coupling):
        chosen: Any = coupling
    elif coupling == "natural":
        chosen = wd.coupling if wd.coupling is not None else "independent"
    elif coupling == "independent":
        chosen = "independent"
    elif coupling in ("common", "antithetic"):
        chosen = _uniform_coupling(wd, coupling, budget) or coupling
        built = True
    else:
        raise EstimatorError(f"coupling must be one of {', '.join(COUPLINGS)} or a Coupling, got {coupling!r}")
    proved = built
    if isinstance(chosen, Coupling) and not built:
        proved = _checked_coupling(wd, chosen, timeout)
    term = MVDTerm(wd, chosen, timeout, marginals_proved=proved)
    name = f"MVD ({wd.method}; {term.coupling_name.split(':')[0]})"
    return MVDEstimator(p, wrt, (sp.S.Zero,) * p.dim, sp.S.Zero, extra_terms=(term,), steps=term.steps(), name=name)
