"""The ``Density`` value: a SymPy density over variables x with parameters theta.

A density is immutable.  Besides its expression it may carry what the rest
of symflow uses when present: a numpy sampler, an explicit
reparameterization x = g(eps; theta) with the base density of eps, a
standardization function S(x; theta) (the inverse of g), a CDF, and
constraints between parameters (``a < b``).

One concept although long: the Density value and the validation of everything it is built from
(expression, variables, parameters, support, sampler, CDF); the validation has to run at
construction, so it lives with the class.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
import sympy as sp

from ..errors import DensityError, EstimatorError, ParameterError, SymflowError
from ..numeric.evaluate import numpy_function
from ..numeric.inversion import InversionSampler
from ..printing.display import LatexDisplay
from ..structured.ops import diff_structured, has_gaussian_atoms
from .convert import as_expr, as_param_values, as_symbols, refuse_bound_variables, same_name_hint
from .domain import Domain, interval_of_set, interval_of_symbol, support_regions

__all__ = ["Density", "Reparameterization", "Sampler", "checked_density", "same_variables"]

Sampler = Callable[[int, dict, np.random.Generator], np.ndarray]

_INTEGER_SETS = (sp.Naturals0, sp.Naturals, sp.Integers)


def _is_integer_set(s: sp.Set) -> bool:
    return (
        s in _INTEGER_SETS
        or isinstance(s, sp.Range)
        or (isinstance(s, sp.FiniteSet) and all(getattr(v, "is_integer", False) for v in s))
    )


@dataclass(frozen=True)
class Reparameterization:
    """x = g(eps; theta) with eps drawn from ``base`` (which must not depend on theta).

    ``g`` has one component per variable of the density; ``eps`` are the base
    density's variables.
    """

    g: tuple[sp.Expr, ...]
    eps: tuple[sp.Symbol, ...]
    base: Density


def _coerce_support(support: object, d: int) -> tuple[sp.Set, ...]:
    if support is None:
        return (sp.S.Reals,) * d
    if isinstance(support, str):
        raise DensityError(f"support is the string {support!r}; pass a SymPy Set such as sympy.Interval(0, sympy.oo)")
    if isinstance(support, sp.ProductSet):
        sets = tuple(support.sets)
    elif isinstance(support, sp.Set):
        sets = (support,)
    elif isinstance(support, Sequence):
        sets = tuple(support)
    else:
        raise DensityError(
            f"support has type {type(support).__name__}; pass a SymPy Set (1-D) or a "
            "sequence / ProductSet of per-coordinate sets (d-D)"
        )
    if len(sets) == 1 and d > 1:
        sets = sets * d
    if len(sets) != d:
        raise DensityError(
            f"support has {len(sets)} coordinate set(s) but the density has {d} variable(s); give one set per variable"
        )
    for s in sets:
        if not isinstance(s, sp.Set):
            raise DensityError(f"support entry {s!r} is not a SymPy Set; use e.g. sympy.Interval(a, b)")
        if s.is_empty:
            raise DensityError("support has an empty coordinate set; give a nonempty set")
        _check_no_gaps(s)
        if not (s == sp.S.Reals or isinstance(s, sp.Interval) or _is_integer_set(s)):
            # Integrals run from inf to sup and test points fill [inf, sup]: a gap in a
            # Union, or a FiniteSet of non-integers, would be integrated as an interval.
            raise DensityError(
                f"support {s} is not supported: each coordinate's support must be an interval "
                "(sympy.Interval or sympy.S.Reals) or a set of integers (Naturals0, Range, a FiniteSet "
                "of integers); for a support with gaps, use the enclosing interval and a Piecewise density "
                "that is 0 in the gaps"
            )
    return sets


def _check_no_gaps(s: sp.Set) -> None:
    """Refuse a set of integers with gaps: sums run over every integer between the ends.

    A pmf on FiniteSet(0, 2) would be summed over 0, 1, 2 (its normalization
    refuted, its expectations wrong), and the GO estimator's jumps phi(y + 1) -
    phi(y) need consecutive integers.
    """
    if isinstance(s, sp.Range) and s.step not in (1, -1) and s.size != 1:
        raise DensityError(
            f"the support {s} skips integers (step {s.step}); sums run over consecutive integers: write the pmf "
            f"over k in Range({s.inf}, ...) with y = {s.inf} + {s.step} k, or over Range({s.inf}, {s.sup} + 1) with "
            "a pmf that is 0 off the grid"
        )
    if isinstance(s, sp.FiniteSet):
        if not all(v.is_number and v.is_real for v in s):
            if all(getattr(v, "is_integer", False) for v in s):
                raise DensityError(
                    f"the support {s} has members that are not numbers; give the members as integers "
                    "(or a Range(lo, hi + 1) whose ends may depend on parameters)"
                )
            return  # not a set of integers: refused with its own message below
        vals = sorted(int(v) for v in s if v.is_integer)
        if len(vals) == len(s) and vals[-1] - vals[0] + 1 != len(vals):
            missing = sorted(set(range(vals[0], vals[-1] + 1)) - set(vals))
            shown = ", ".join(map(str, missing[:5])) + (", ..." if len(missing) > 5 else "")
            raise DensityError(
                f"the support {s} has gaps ({shown} missing); symflow sums a pmf over every integer between the "
                f"ends of its support: give sympy.Range({vals[0]}, {vals[-1] + 1}) and a pmf that is 0 at the "
                "missing points (e.g. with sympy.Piecewise), or relabel the points as consecutive integers"
            )


# (assumption, the set it confines a variable to) for the checks below
_SIGN_SETS = (
    ("positive", sp.Interval(0, sp.oo)),
    ("nonnegative", sp.Interval(0, sp.oo)),
    ("negative", sp.Interval(-sp.oo, 0)),
    ("nonpositive", sp.Interval(-sp.oo, 0)),
)


# Assumptions only a countable set of points can satisfy: on an interval they hold on a null set at most.
_POINT_ASSUMPTIONS = ("integer", "rational", "algebraic", "even", "odd", "prime", "composite", "zero")

# Assumptions a variable over a set of integers may carry, and the test each member must pass.
_MEMBER_TESTS = {
    "positive": lambda v: v > 0,
    "nonnegative": lambda v: v >= 0,
    "negative": lambda v: v < 0,
    "nonpositive": lambda v: v <= 0,
    "nonzero": lambda v: v != 0,
    "zero": lambda v: v == 0,
    "even": lambda v: v % 2 == 0,
    "odd": lambda v: v % 2 == 1,
    "prime": lambda v: v.is_prime,
    "composite": lambda v: v.is_composite,
}


def _check_discrete_assumptions(xi: sp.Symbol, s: sp.Set) -> None:
    """Over a set of integers every member has mass: each assumption of x must hold at every member."""
    lo, hi = s.inf, s.sup
    for name, test in _MEMBER_TESTS.items():
        if getattr(xi, f"is_{name}") is not True:
            continue
        if lo.is_number and hi.is_number and (hi - lo).is_finite and hi - lo <= 10_000:
            members = [sp.Integer(v) for v in range(int(lo), int(hi) + 1)]
            ok = all(bool(test(v)) for v in members if (s.contains(v) is sp.true))
        else:  # an infinite (or parameter-dependent) set: only a sign can be read off its ends
            ok = (
                (name == "positive" and bool(lo.is_finite) and (lo > 0) is sp.true)
                or (name == "nonnegative" and bool(lo.is_finite) and (lo >= 0) is sp.true)
                or (name == "negative" and bool(hi.is_finite) and (hi < 0) is sp.true)
                or (name == "nonpositive" and bool(hi.is_finite) and (hi <= 0) is sp.true)
                or (name == "nonzero" and s.contains(0) is sp.false)
            )
        if not ok:
            raise DensityError(
                f"the variable {xi} is declared {name} but its support {s} has members that are not; SymPy "
                f"simplifies with the assumption, so sums over the support would be wrong: declare it with "
                f"sympy.Symbol({str(xi)!r}, integer=True), or give a support where it is {name}"
            )


def _check_variable_assumptions(xi: sp.Symbol, s: sp.Set) -> None:
    """Refuse a variable whose Symbol assumptions do not hold on its whole support.

    SymPy simplifies with the assumptions (x positive => sqrt(x**2) = x), so a
    variable declared positive over a support reaching below 0 would let a
    check "prove" an identity that fails on part of the support.
    """
    if xi.is_extended_real is False or xi.is_commutative is False:
        raise DensityError(
            f"the variable {xi} is declared {'non-commutative' if xi.is_commutative is False else 'non-real'}, "
            f"but densities live on real numbers; declare it with sympy.Symbol({str(xi)!r}, real=True)"
        )
    if _is_integer_set(s):
        _check_discrete_assumptions(xi, s)
        return
    for name in _POINT_ASSUMPTIONS:
        if getattr(xi, f"is_{name}") is True:
            raise DensityError(
                f"the variable {xi} is declared {name}, but its support {s} is an interval of real numbers; "
                f"declare it with sympy.Symbol({str(xi)!r}, real=True), or give a set of integers as support"
            )
    if xi.is_integer and not _is_integer_set(s):
        raise DensityError(
            f"the variable {xi} is declared integer but its support {s} is not a set of integers; "
            f"declare it with sympy.Symbol({str(xi)!r}, real=True) or give an integer support (e.g. sympy.Naturals0)"
        )
    for name, allowed in _SIGN_SETS:
        # Interval(sigma, 2 sigma) with sigma > 0: is_subset cannot tell, the edge's sign can.
        edge_ok = s.inf.is_nonnegative if allowed.inf == 0 else s.sup.is_nonpositive
        if getattr(xi, f"is_{name}") and not (edge_ok or s.is_subset(allowed)):
            raise DensityError(
                f"the variable {xi} is declared {name} but its support {s} is not inside {allowed}; "
                f"declare it with sympy.Symbol({str(xi)!r}, real=True), or give a support where it is {name}"
            )


@dataclass(frozen=True, eq=False)
class Density(LatexDisplay):
    """A probability density p(x; theta) given as a SymPy expression.

    Parameters
    ----------
    expr : sympy.Expr
        The density (a pmf when the support is a set of integers).
    x : Symbol or sequence of Symbols
        The variables, d >= 1 of them.
    params : sequence of Symbols
        The parameters theta.  Their order is the order used everywhere.
    support : sympy.Set or sequence of Sets, optional
        1-D: a Set; d-D: a ProductSet or one Set per coordinate.  Edges may
        depend on parameters.  Default: all reals.
    sampler : callable, optional
        ``sampler(n, params, rng) -> (n, d) array`` with ``params`` a dict
        from Symbols to floats.
    reparam : Reparameterization, optional
        x = g(eps; theta) and the base density of eps.
    standardize : sequence of Expr, optional
        S(x; theta), the inverse of g: eps = S(x; theta).
    cdf : sympy.Expr, optional
        The CDF in 1-D.
    constraints : sequence of relationals, optional
        Conditions between parameters, e.g. ``a < b``.
    name : str
        A short name used when printing.

    Notes
    -----
    A complex ``expr`` (one holding ``I``) is refused.  Nonnegativity is *not* checked: a signed
    function that integrates to 1, such as ``normal * (1 + x**3 - 3*x)``, is accepted and
    ``check_normalized`` proves it normalized; symflow's identities (Eq. 19, 50) hold for it, but it is
    not a probability density and it cannot be sampled.  Make sure ``expr >= 0`` on the support.
    """

    expr: sp.Expr
    x: tuple[sp.Symbol, ...]
    params: tuple[sp.Symbol, ...]
    support: Any = None
    sampler: Sampler | None = field(default=None, repr=False)
    reparam: Reparameterization | None = field(default=None, repr=False)
    standardize: tuple[sp.Expr, ...] | None = field(default=None, repr=False)
    cdf: sp.Expr | None = field(default=None, repr=False)
    constraints: tuple[sp.Basic, ...] = ()
    name: str = "p"

    def __post_init__(self) -> None:
        if self.sampler is not None and not callable(self.sampler):
            raise DensityError(
                f"sampler must be a function (n, params, rng) -> (n, d) array, got {type(self.sampler).__name__}"
            )
        if self.reparam is not None and not isinstance(self.reparam, Reparameterization):
            raise DensityError(
                f"reparam must be a symflow Reparameterization(g, eps, base), got {type(self.reparam).__name__}"
            )
        expr = as_expr(self.expr, "density expr")
        x = as_symbols(self.x, "x")
        if not x:
            raise DensityError("x is empty; a density needs at least one variable Symbol")
        params = as_symbols(self.params, "params")
        overlap = set(x) & set(params)
        if overlap:
            raise DensityError(
                f"{', '.join(sorted(map(str, overlap)))} appear both as variables and as parameters; "
                "each Symbol must be either a variable (x) or a parameter (params)"
            )
        if expr.has(sp.DiracDelta):
            raise DensityError(
                "the density contains DiracDelta: a point mass is not a density symflow can integrate or sample; "
                "give a continuous density, or a pmf on a set of integers (support=sympy.Naturals0, Range, ...)"
            )
        if expr.has(sp.I) or expr.is_extended_real is False:
            raise DensityError(
                "the density is complex (it holds the imaginary unit I): a density is a real, nonnegative "
                "function of x; remove I (write abs(f)**2 or re(f) if that is what is meant)"
            )
        refuse_bound_variables(expr, x, "the density")
        unknown = expr.free_symbols - set(x) - set(params)
        if unknown:
            raise DensityError(
                f"the density uses {', '.join(sorted(map(str, unknown)))}, which are neither "
                f"variables {tuple(map(str, x))} nor parameters {tuple(map(str, params))}; "
                "add them to params (or to x), or substitute numbers for them" + same_name_hint(unknown, x + params)
            )
        sets = _coerce_support(self.support, len(x))
        for s in sets:
            stray = s.free_symbols - set(params)
            if stray:
                raise DensityError(
                    f"the support {s} depends on {', '.join(sorted(map(str, stray)))}, which are not "
                    "parameters; support edges may depend on parameters only"
                )
        for xi, s in zip(x, sets, strict=True):
            _check_variable_assumptions(xi, s)
        kinds = {_is_integer_set(s) for s in sets}
        if len(kinds) > 1:
            raise DensityError("mixed discrete and continuous coordinates are not supported; use one kind")
        standardize = self.standardize
        if standardize is not None:
            standardize = tuple(
                as_expr(e, "standardize")
                for e in (standardize if isinstance(standardize, Sequence) else (standardize,))
            )
            if len(standardize) != len(x):
                raise DensityError(
                    f"standardize has {len(standardize)} component(s) for {len(x)} variable(s); give one per variable"
                )
        cdf = None if self.cdf is None else as_expr(self.cdf, "cdf")
        if self.reparam is not None and len(self.reparam.g) != len(x):
            raise DensityError(
                f"the reparameterization has {len(self.reparam.g)} component(s) for {len(x)} variable(s)"
            )
        if not isinstance(self.name, str):
            raise DensityError(f"name must be a string, got {type(self.name).__name__}")
        raw_constraints = self.constraints
        if isinstance(raw_constraints, sp.Basic | bool | str):
            raw_constraints = (raw_constraints,)
        constraints = tuple(raw_constraints)
        for c in constraints:
            if isinstance(c, str):
                raise DensityError(f"constraint {c!r} is a string; pass a SymPy relational such as a < b")
            if not isinstance(c, sp.logic.boolalg.Boolean) and not isinstance(c, bool):
                raise DensityError(
                    f"constraint {c!r} is not a condition; pass SymPy relationals between parameters such as a < b"
                )
            if c is False or c == sp.false:
                raise DensityError(f"a constraint is always false ({c}); give conditions some parameters satisfy")
            stray = c.free_symbols - set(params) if not isinstance(c, bool) else set()
            if stray:
                raise DensityError(
                    f"the constraint {c} uses {', '.join(sorted(map(str, stray)))}, which are not parameters; "
                    "constraints relate parameters only"
                )
        constraints = tuple(c for c in constraints if not (c is True or c == sp.true))
        object.__setattr__(self, "expr", expr)
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "support", sets[0] if len(sets) == 1 else sp.ProductSet(*sets))
        object.__setattr__(self, "_sets", sets)
        object.__setattr__(self, "standardize", standardize)
        object.__setattr__(self, "cdf", cdf)
        object.__setattr__(self, "constraints", constraints)

    # -- structure ---------------------------------------------------------
    @property
    def dim(self) -> int:
        """The number of variables d."""
        return len(self.x)

    @property
    def support_sets(self) -> tuple[sp.Set, ...]:
        """One Set per coordinate."""
        return self._sets  # type: ignore[attr-defined]

    @property
    def is_discrete(self) -> bool:
        """True when the support is a set of integers (``expr`` is then a pmf)."""
        return _is_integer_set(self.support_sets[0])

    @property
    def has_moving_support(self) -> bool:
        """True when an edge of the support depends on a parameter."""
        return any(s.free_symbols for s in self.support_sets)

    def moves_with(self, wrt: sp.Symbol) -> bool:
        """True when an edge of the support depends on ``wrt`` (Pareto's edge m moves with m, not with alpha)."""
        return any(wrt in s.free_symbols for s in self.support_sets)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Density):
            return NotImplemented
        # The constraints are part of the mathematics (where theta lives): densities that differ only in them
        # must not share cached domains, points or verdicts.  Sampler, CDF and reparameterization are tools.
        return (self.expr, self.x, self.params, self.support_sets, tuple(self.constraints)) == (
            other.expr,
            other.x,
            other.params,
            other.support_sets,
            tuple(other.constraints),
        )

    def __hash__(self) -> int:
        # Equal densities have equal (expr, x, params), so this agrees with __eq__; the support and the constraints
        # are left out because hashing sympy's Reals builds an Interval each time (2.4 ms per hash of mvn(32), whose
        # checks look the density up in caches about 1700 times).
        return hash((self.expr, self.x, self.params))

    # -- calculus helpers --------------------------------------------------
    @cached_property
    def log_expr(self) -> sp.Expr:
        """log p with products and powers expanded.

        Only derivatives of this are used, and d log(ab) = d log a + d log b
        holds for any nonzero factors, so expanding with ``force=True``
        is safe for that purpose.
        """
        return sp.expand_log(sp.log(self.expr), force=True)

    @cached_property
    def is_structured(self) -> bool:
        """Whether the density is written in Gaussian atoms (``mvn(form="precision")``)."""
        return has_gaussian_atoms(self.expr)

    def diff(self, expr: sp.Expr, s: sp.Symbol) -> sp.Expr:
        """d expr / d s; for densities written in Gaussian atoms (``mvn(form="precision")``),
        by the atoms' rules without SymPy's Derivative bookkeeping (the same derivative, faster)."""
        if self.is_structured:
            return diff_structured(expr, s)
        return sp.diff(expr, s)

    def score(self, wrt: sp.Symbol) -> sp.Expr:
        """d log p / d theta_i (Eq. 1, 21)."""
        self.check_param(wrt)
        return self.diff(self.log_expr, wrt)

    def grad_log(self) -> tuple[sp.Expr, ...]:
        """The gradient of log p in x (computed once per density)."""
        return self._grad_log

    @cached_property
    def _grad_log(self) -> tuple[sp.Expr, ...]:
        return tuple(self.diff(self.log_expr, xi) for xi in self.x)

    def check_param(self, wrt: object) -> sp.Symbol:
        """Return ``wrt`` if it is a parameter of this density, else raise."""
        if isinstance(wrt, str):
            raise ParameterError(
                f"wrt is the string {wrt!r}; pass the parameter Symbol itself, e.g. mu, sigma = p.params"
            )
        if not isinstance(wrt, sp.Symbol):
            raise ParameterError(
                f"wrt must be one of the parameter Symbols {', '.join(map(str, self.params))}, got {type(wrt).__name__}"
            )
        if wrt not in self._param_set:
            raise ParameterError(
                f"wrt={wrt!r} is not a parameter of {self.name}; choose one of {', '.join(map(str, self.params))}"
            )
        return wrt  # type: ignore[return-value]

    @cached_property
    def _param_set(self) -> frozenset:
        # A set lookup per check_param: scanning the 2144 parameters of mvn(64) at every call was quadratic.
        return frozenset(self.params)

    def domain(self) -> Domain:
        """Where x and theta live, for choosing numeric test points."""
        return _domain(self)  # a value of a value: built once per density (8 ms at mvn(32)'s 560 parameters)

    def _build_domain(self) -> Domain:
        variables = tuple((xi, interval_of_set(s)) for xi, s in zip(self.x, self.support_sets, strict=True))
        parameters = tuple((t, interval_of_symbol(t)) for t in self.params)
        # indicator factors (the simplex x_1 + x_2 < 1 inside its box) are regions: test points stay inside them
        return Domain(variables, parameters, self.constraints, regions=support_regions(self.expr, self.x))

    def param_values(self, params: object, what: str = "params") -> dict:
        """Validate a ``{Symbol: number}`` dict that covers every parameter."""
        values = as_param_values(params, self.params, what)
        for c in self.constraints:
            if c.xreplace(values) == sp.false:
                raise ParameterError(
                    f"{what} violates the constraint {c} of {self.name}; choose values that satisfy it"
                )
        return values

    # -- sampling ----------------------------------------------------------
    def _checked_floats(self, params: dict) -> tuple[dict, dict]:
        """``param_values(params)`` and its floats, remembered for the last few parameter dicts.

        Monte Carlo draws chunk after chunk with the same parameters; checking
        them with SymPy every time held the GIL for about 0.3 ms a chunk.
        """
        try:
            key = tuple(params.items()) if isinstance(params, dict) else None
            hash(key)
        except TypeError:
            key = None
        if key is None:
            values = self.param_values(params)
            return values, {k: float(v) for k, v in values.items()}
        values, floats = _checked_values(self, self.constraints, key)
        return dict(values), dict(floats)

    def sample(self, n: int, params: dict, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """Draw ``n`` samples as an (n, d) float array.

        Uses the density's sampler, or its reparameterization when the base
        density has a sampler; a 1-D density with neither is sampled by
        numeric inversion of its CDF (``symflow.numeric.inversion``, u-error
        <= 1e-10, built once per parameter value).
        """
        if not isinstance(n, int | np.integer) or isinstance(n, bool) or n <= 0:
            raise SymflowError(f"n must be a positive integer number of samples, got {n!r}")
        values, floats = self._checked_floats(params)
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        if self.sampler is not None:
            try:
                out = np.asarray(self.sampler(int(n), floats, rng), dtype=float)
            except (TypeError, ValueError) as exc:  # not numbers (a list of strings, ragged rows)
                raise SymflowError(
                    f"{self.name}'s sampler returned something that is not an array of numbers ({exc}); "
                    f"a sampler is a function (n, params, rng) -> ({n}, {self.dim}) float array"
                ) from None
            if out.size != int(n) * self.dim:
                raise SymflowError(
                    f"{self.name}'s sampler returned an array of shape {out.shape} for n = {n}; a sampler is a "
                    f"function (n, params, rng) -> ({n}, {self.dim}) float array (or ({n},) in 1-D)"
                )
        elif self.reparam is not None and self.reparam.base.sampler is not None:
            eps = self.reparam.base.sample(n, {k: v for k, v in values.items() if k in self.reparam.base.params}, rng)
            g = numpy_function([self.reparam.eps, self.params], self.reparam.g)
            cols = g(tuple(eps.T), tuple(floats[t] for t in self.params))
            out = np.column_stack([np.broadcast_to(np.asarray(c, dtype=float), (n,)) for c in cols])
        elif self.dim == 1:
            out = self._inversion(n, floats, rng)
        else:
            raise SymflowError(
                f"{self.name} has no sampler; pass sampler=... (a function (n, params, rng) -> (n, d) array) "
                "or a reparameterization whose base density has one (numeric inversion covers 1-D densities only)"
            )
        return out.reshape(int(n), self.dim)

    @cached_property
    def inversion_sampler(self) -> InversionSampler:
        """The numeric-inversion sampler ``sample`` falls back to in 1-D (one build per parameter value)."""
        s = self.support_sets[0]
        return InversionSampler(self.expr, self.x[0], self.params, s.inf, s.sup, self.is_discrete)

    def _inversion(self, n: int, floats: dict, rng: np.random.Generator) -> np.ndarray:
        try:
            return self.inversion_sampler(int(n), floats, rng)
        except SymflowError as e:
            raise SymflowError(
                f"{self.name} has no sampler and numeric inversion of its CDF failed ({e}); "
                "pass sampler=... (a function (n, params, rng) -> (n, 1) array)"
            ) from e

    def with_(self, **changes: Any) -> Density:
        """A copy with some fields replaced."""
        kwargs = {
            "expr": self.expr,
            "x": self.x,
            "params": self.params,
            "support": self.support_sets,
            "sampler": self.sampler,
            "reparam": self.reparam,
            "standardize": self.standardize,
            "cdf": self.cdf,
            "constraints": self.constraints,
            "name": self.name,
        }
        kwargs.update(changes)
        return Density(**kwargs)

    def __str__(self) -> str:
        xs = ", ".join(map(str, self.x))
        ps = ", ".join(map(str, self.params))
        return f"{self.name}({xs}; {ps}) = {sp.sstr(self.expr)} on {sp.sstr(self.support)}"


def checked_density(p: object, what: str = "p") -> Density:
    """``p`` after checking that it is a ``Density`` (the one guard of every public function taking one)."""
    if not isinstance(p, Density):
        raise DensityError(
            f"{what} must be a symflow Density (e.g. sf.families.normal() or sf.Density(expr, x, params)), "
            f"got {type(p).__name__}"
        )
    return p


def same_variables(p: Density, q: object, what: str = "q") -> Density:
    """``q`` after checking that it is a ``Density`` over the same variable Symbols as ``p``.

    The one validation of a sampling density (or a second density compared
    with ``p``) used by derive, the estimators and the checks.
    """
    if not isinstance(q, Density):
        raise EstimatorError(f"{what} must be a Density, got {type(q).__name__}")
    if q.x != p.x:
        raise EstimatorError(
            f"{what} is over {tuple(map(str, q.x))} but p is over {tuple(map(str, p.x))}; "
            f"build {what} over the same variable Symbols"
        )
    return q


@lru_cache(maxsize=16)
def _checked_values(p: Density, constraints: tuple, items: tuple) -> tuple[dict, dict]:
    # ``constraints`` in the key: densities that differ only in them compare equal.
    values = p.param_values(dict(items))
    return values, {k: float(v) for k, v in values.items()}


@lru_cache(maxsize=64)
def _domain(p: Density) -> Domain:
    return p._build_domain()
