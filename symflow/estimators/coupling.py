r"""Couplings of the two samples of a measure-valued derivative: x+ = g+(z), x- = g-(z), z ~ r.

A measure-valued estimator c (phi(x+) - phi(x-)) is unbiased whatever the
joint law of (x+, x-), as long as x+ ~ p+ and x- ~ p- (linearity of the
expectation); the joint law only changes the variance,

.. math::
    \mathbb{V} = c^2\left(\mathbb{V}_{p^+}[\phi] + \mathbb{V}_{p^-}[\phi]
                 - 2\,\mathrm{Cov}(\phi(x^+), \phi(x^-))\right).

A ``Coupling`` states the joint law as one base draw z ~ r (1-D or 2-D) and
two maps, so its moments are integrals over r, exact when the integrands
are polynomial x Gaussian.  ``check_coupling`` (``symflow.checks``) decides
that the maps push r forward to p+ and p-.  The couplings of the literature
(DeepMind's ``mc_gradients``; Mohamed et al. 2020, Sec. 6):

* normal mean: one Rayleigh draw r for both, x± = mu ± sigma r (``mirrored``);
* normal scale: x+ = mu + sigma m with m double-sided Maxwell and
  x- = mu + sigma m v with v ~ U(0, 1) (m v is standard normal);
* exponential rate: x+ = e1/lambda, x- = (e1 + e2)/lambda, e1, e2 ~ Exp(1);
* Poisson rate: x+ = y + 1, x- = y with one y ~ Poisson (this is the GO
  gradient of Eq. 73).

Common and antithetic uniforms through the inverse CDFs (x± = Q±(u), or
x- = Q-(1 - u)) are couplings too; ``sf.mvd`` builds them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

import numpy as np
import sympy as sp

from ..calculus.gaussian.intervals import iterated_gaussian_integral
from ..calculus.integrals import symbolic_integral
from ..core.convert import as_expr
from ..core.density import Density
from ..core.domain import Domain, Interval1D
from ..core.verdict import Status, Verdict, combine
from ..errors import EstimatorError
from ..numeric.evaluate import numpy_function
from ..zero import decide_zero

__all__ = [
    "Coupling",
    "coupling_marginals",
    "exact_expectation",
    "exponential_pair_base",
    "maxwell_uniform_base",
    "rayleigh_base",
    "uniform_base",
]

R = sp.Symbol("r", real=True)
M = sp.Symbol("m", real=True)
V = sp.Symbol("v", real=True)
E1, E2 = sp.Symbol("e_1", real=True), sp.Symbol("e_2", real=True)
U = sp.Symbol("u", real=True)


@dataclass(frozen=True)
class Coupling:
    """A joint law of (x+, x-): z ~ ``base``, x+ = ``plus``(z), x- = ``minus``(z).

    ``plus`` and ``minus`` are expressions in the base's variables and in
    parameters (of p); the base must have a sampler.
    """

    base: Density
    plus: sp.Expr
    minus: sp.Expr
    name: str = "coupling"

    def __post_init__(self) -> None:
        if not isinstance(self.base, Density):
            raise EstimatorError(f"a coupling's base must be a Density, got {type(self.base).__name__}")
        object.__setattr__(self, "plus", as_expr(self.plus, "coupling plus"))
        object.__setattr__(self, "minus", as_expr(self.minus, "coupling minus"))

    @property
    def z(self) -> tuple[sp.Symbol, ...]:
        return self.base.x

    def params_of(self) -> tuple[sp.Symbol, ...]:
        """The parameters the maps and the base use (everything but the base's variables)."""
        free = (self.plus.free_symbols | self.minus.free_symbols) - set(self.z)
        return tuple(sorted(free | set(self.base.params), key=str))

    def sample(self, n: int, params: dict, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """n pairs (x+, x-) as two (n,) arrays."""
        zs = self.base.sample(n, {t: params[t] for t in self.base.params}, rng)
        thetas = self.params_of()
        fn = numpy_function([self.z, thetas], [self.plus, self.minus])
        with np.errstate(all="ignore"):
            xp, xm = fn(tuple(zs.T), tuple(float(params[t]) for t in thetas))
        return np.broadcast_to(np.asarray(xp, float), (n,)).copy(), np.broadcast_to(np.asarray(xm, float), (n,)).copy()

    def __str__(self) -> str:
        return (
            f"{self.name}: x+ = {sp.sstr(self.plus)}, x- = {sp.sstr(self.minus)}, "
            f"{', '.join(map(str, self.z))} ~ {self.base.name}"
        )


# -- base densities (theta-free), built once ----------------------------------------------


def _uniform(n: int, _params: dict, rng: np.random.Generator) -> np.ndarray:
    return (1.0 - rng.random(n)).reshape(-1, 1)  # (0, 1]: an inverse CDF at 0 may be infinite


def _rayleigh(n: int, _params: dict, rng: np.random.Generator) -> np.ndarray:
    return rng.rayleigh(1.0, n).reshape(-1, 1)


def _maxwell_uniform(n: int, _params: dict, rng: np.random.Generator) -> np.ndarray:
    # double-sided Maxwell: a random sign times the length of a standard normal 3-vector
    length = np.sqrt(rng.chisquare(3, n))
    sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    return np.column_stack([sign * length, rng.random(n)])


def _exponential_pair(n: int, _params: dict, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_exponential((n, 2))


@cache
def uniform_base() -> Density:
    """U(0, 1) over u."""
    return Density(sp.S.One, (U,), (), support=sp.Interval(0, 1), sampler=_uniform, name="U(0,1)")


@cache
def rayleigh_base() -> Density:
    """The standard Rayleigh density r exp(-r^2/2) on [0, oo) (Weibull with scale sqrt(2), shape 2)."""
    return Density(
        R * sp.exp(-(R**2) / 2), (R,), (), support=sp.Interval(0, sp.oo), sampler=_rayleigh, name="Rayleigh(1)"
    )


@cache
def maxwell_uniform_base() -> Density:
    """(m, v): the standard double-sided Maxwell density m^2 exp(-m^2/2)/sqrt(2 pi) times U(0, 1)."""
    return Density(
        M**2 * sp.exp(-(M**2) / 2) / sp.sqrt(2 * sp.pi),
        (M, V),
        (),
        support=(sp.S.Reals, sp.Interval(0, 1)),
        sampler=_maxwell_uniform,
        name="Maxwell(1) x U(0,1)",
    )


@cache
def exponential_pair_base() -> Density:
    """(e1, e2), two independent Exp(1)."""
    return Density(
        sp.exp(-E1 - E2),
        (E1, E2),
        (),
        support=(sp.Interval(0, sp.oo), sp.Interval(0, sp.oo)),
        sampler=_exponential_pair,
        name="Exp(1) x Exp(1)",
    )


# -- the marginals (check_coupling; sf.mvd checks a user's Coupling with it) -------------------------


_T = sp.Symbol("t", positive=True)


def exact_expectation(d: Density, f: sp.Expr, timeout: float | None) -> sp.Expr | None:
    """E_d[f] by the closed forms (both orders in 2-D), else SymPy; None if neither."""
    limits = [(xi, s.inf, s.sup) for xi, s in zip(d.x, d.support_sets, strict=True)]
    if not d.is_discrete:
        for order in [limits] if len(limits) == 1 else [limits, limits[::-1]]:
            got = iterated_gaussian_integral(d.expr * f, order)
            if got is not None:
                return got
    return symbolic_integral(d, d.expr * f, timeout=timeout)


def _pushforward(coupling: Coupling, g: sp.Expr, target: Density, timeout: float | None) -> Verdict:
    r"""The law of g(z), z ~ base, is ``target``.

    One base coordinate and a monotone g: change of variables,
    r(z) = target(g(z)) |g'(z)| on the base's support.  Otherwise the
    characteristic functions, :math:`E_r[e^{i t g(z)}] = E_{target}[e^{i t x}]`
    for every t > 0 (t < 0 is the complex conjugate; equal characteristic
    functions mean equal laws), each computed exactly.
    """
    base = coupling.base
    claim = f"{sp.sstr(g)} with {', '.join(map(str, base.x))} ~ {base.name} has law {target.name}"
    x = target.x[0]
    params = _coupling_params(coupling, target)
    if base.dim == 1:
        (z,) = base.x
        dg = sp.diff(g, z)
        if dg.is_positive or dg.is_negative:
            jacobian = sp.S.One if base.is_discrete else sp.Abs(dg)  # a shift of integers has no Jacobian
            residual = target.expr.xreplace({x: g}) * jacobian - base.expr
            zs = base.support_sets[0]
            iv = Interval1D(zs.inf, zs.sup, integer=base.is_discrete)
            verdict = decide_zero(residual, Domain(((z, iv),), params), timeout=timeout, claim=claim)
            return replace(verdict, method=f"change of variables x = {sp.sstr(g)}, then {verdict.method}")
    push = exact_expectation(base, sp.exp(sp.I * _T * g), timeout)
    own = exact_expectation(target, sp.exp(sp.I * _T * x), timeout)
    if push is None or own is None:
        return Verdict(
            Status.UNKNOWN,
            "characteristic functions",
            None,
            claim=claim,
            reason="a characteristic function has no closed form",
        )
    dom = Domain(((_T, Interval1D(sp.S.Zero, sp.oo)),), params)
    verdict = decide_zero(push - own, dom, timeout=timeout, claim=claim)
    return replace(verdict, method=f"characteristic functions E[exp(i t x)] equal for all t > 0: {verdict.method}")


def _coupling_params(coupling: Coupling, target: Density) -> tuple:
    seen: dict = {}
    for s, iv in target.domain().parameters + coupling.base.domain().parameters:
        seen.setdefault(s, iv)
    for s in coupling.params_of():
        seen.setdefault(s, Interval1D())
    return tuple(seen.items())


def coupling_marginals(coupling: Coupling, p_plus: Density, p_minus: Density, timeout: float | None) -> Verdict:
    """Does ``coupling`` draw x+ from ``p_plus`` and x- from ``p_minus``?  (``sf.check_coupling``'s verdict.)"""
    parts = {}
    for side, g, target in (("x+", coupling.plus, p_plus), ("x-", coupling.minus, p_minus)):
        parts[f"{side} ~ {target.name}"] = _pushforward(coupling, g, target, timeout)
    return combine(parts, f"{coupling.name} has marginals p+ and p-", noun="marginals", label="{}")
