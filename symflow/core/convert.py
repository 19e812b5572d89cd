"""Turning user values into SymPy objects without ever parsing a string.

symflow never evaluates text that came from outside: a ``str`` where an
expression is expected is refused with a message that says what to pass
instead.  Numbers are converted exactly (a float becomes the exact binary
rational it stands for only when asked; by default it stays a ``Float``).

One concept although long: every conversion of a user's value into a SymPy object (expressions,
symbols, vectors, parameter values, test functions) with one error style; none of them parses a
string.
"""

from __future__ import annotations

import numbers
import sys
from collections.abc import Iterable
from functools import lru_cache

import sympy as sp

from ..errors import EstimatorError, ParameterError, SymflowError
from ..structured.ops import distinct_atoms, has_any, is_atom, noncommutative_symbols

_STRING_HINT = (
    "symflow never parses strings; build the expression with SymPy instead, "
    "e.g. x = sympy.Symbol('x'); expr = x**2 + sympy.sin(x)"
)


def as_expr(value: object, what: str) -> sp.Expr:
    """Return ``value`` as a SymPy expression, refusing strings and unknown types."""
    if isinstance(value, str | bytes):
        raise SymflowError(f"{what} is the string {value!r}; {_STRING_HINT}")
    if isinstance(value, sp.Basic | sp.MatrixBase):
        if isinstance(value, sp.Basic):
            _check_depth(value, what)  # first: SymPy's own walks (assumptions, free symbols) recurse
        _refuse_stats_objects(value, what)
        _check_scalar(value, what)
        return value
    if isinstance(value, bool):
        raise SymflowError(f"{what} is a bool ({value}); pass a number or a SymPy expression")
    if isinstance(value, numbers.Integral):
        return sp.Integer(int(value))
    if isinstance(value, numbers.Rational):
        return sp.Rational(int(value.numerator), int(value.denominator))
    if isinstance(value, numbers.Real):
        return _finite(sp.Float(float(value)), what)
    if hasattr(value, "dtype") and getattr(value, "shape", None) == ():
        return as_expr(value.item(), what)  # numpy scalar
    raise SymflowError(f"{what} has type {type(value).__name__}; pass a SymPy expression or a number")


_FROM_STATS_HINT = (
    "for a Density from a sympy.stats random variable X use sf.from_stats(X) (support, CDF and sampler "
    "included); for its formula in your own variable x use sympy.stats.density(X)(x)"
)


def _refuse_stats_objects(value: sp.Basic, what: str) -> None:
    """Refuse sympy.stats distributions and random variables, and Lambdas (such as cdf(X)), naming the fix.

    sympy.stats is imported only by users of it, so it is looked up in sys.modules: a value can
    hold one of its objects only when the module is loaded.
    """
    if isinstance(value, sp.Lambda):
        raise SymflowError(
            f"{what} is a Lambda ({sp.sstr(value)[:80]}), a function rather than an expression (sympy.stats' "
            f"cdf(X) and density(X) return these); apply it to your variable, e.g. F(x); {_FROM_STATS_HINT}"
        )
    rv = sys.modules.get("sympy.stats.rv")
    if rv is None:
        return
    if isinstance(value, rv.Distribution):
        raise SymflowError(
            f"{what} is the sympy.stats distribution {sp.sstr(value)[:80]}, not an expression; {_FROM_STATS_HINT}"
        )
    randoms = value.atoms(rv.RandomSymbol) if not isinstance(value, sp.MatrixBase) else set()
    if isinstance(value, rv.RandomSymbol):
        randoms = {value}
    if randoms:
        names = ", ".join(sorted(str(r) for r in randoms))
        raise SymflowError(
            f"{what} holds the sympy.stats random variable {names}; symflow works with plain Symbols: "
            f"{_FROM_STATS_HINT}, and write test functions in the Density's own variables (p.x)"
        )


# Atoms no density, flow, weight or test function can contain: SymPy makes them from 1/0, 0/0 and
# oo - oo, and every later step would compute with them as if they were numbers.
_UNDEFINED = (sp.nan, sp.zoo)


def _finite(value: sp.Expr, what: str) -> sp.Expr:
    if value in _UNDEFINED or value.is_infinite:
        raise SymflowError(f"{what} is {value}, not a finite number; give a finite value")
    return value


def _check_scalar(value: sp.Basic, what: str, undefined_ok: bool = False) -> None:
    """Refuse what is not a commuting scalar expression: matrices, sets, relations, non-commutative symbols."""
    if isinstance(value, sp.MatrixBase):
        raise SymflowError(f"{what} is a {value.shape[0]}x{value.shape[1]} matrix; give one scalar expression")
    if not isinstance(value, sp.Expr):
        kind = "a relation or Boolean" if isinstance(value, sp.logic.boolalg.Boolean) else type(value).__name__
        raise SymflowError(
            f"{what} is {kind} ({sp.sstr(value)[:80]}), not an expression; give a SymPy expression "
            "(conditions go inside sympy.Piecewise or sympy.Heaviside)"
        )
    noncommuting = sorted(map(str, noncommutative_symbols(value)))  # the atoms' argument tuples read once
    if noncommuting or value.is_commutative is False:
        raise SymflowError(
            f"{what} uses the non-commutative symbol(s) {', '.join(noncommuting) or sp.sstr(value)}; symflow "
            "works with commuting scalars (A*B - B*A would be taken as 0 by its algebra): declare them with "
            "sympy.Symbol('A') (commutative by default) or sympy.symbols('A B', real=True)"
        )
    # has_any: SymPy's has walked the d x d arguments of every Gaussian atom again (30 s for the OMT flow of mvn(32))
    bad = [] if undefined_ok or not has_any(value, *_UNDEFINED) else [a for a in _UNDEFINED if has_any(value, a)]
    if bad:
        raise SymflowError(
            f"{what} contains {bad[0]} (SymPy's value for 0/0, 1/0 or oo - oo); it is undefined: "
            "rewrite the expression so that it has a value everywhere it is used"
        )


def as_residual(residual: object, domain: object) -> sp.Expr:
    """The caller-facing check of ``decide_zero``'s inputs: a commuting scalar expression and a ``Domain``."""
    from .domain import Domain

    if not isinstance(domain, Domain):
        raise SymflowError(
            f"domain must be a symflow Domain, got {type(domain).__name__}; e.g. Domain().extended({{x}}) "
            "or p.domain() of a density"
        )
    if isinstance(residual, sp.Basic):
        # O(1) checks only: a residual can be a DAG of millions of nodes (no tree walk here)
        if isinstance(residual, sp.MatrixBase) or not isinstance(residual, sp.Expr):
            _check_scalar(residual, "the residual")
        try:
            commutative = residual.is_commutative
        except (RecursionError, KeyError):  # nested too deep for SymPy's assumptions: decide_zero says so
            commutative = None
        if commutative is False:
            raise SymflowError(
                "the residual is not commutative (it uses non-commutative symbols); symflow works with commuting "
                "scalars (A*B - B*A would be taken as 0 by its algebra): declare them with sympy.Symbol('A')"
            )
        return residual
    return as_expr(residual, "the residual")


def as_vector(values: object, what: str, accepted: set | None = None) -> tuple[sp.Expr, ...]:
    """A tuple of expressions from one expression, a sequence, or a SymPy Matrix (strings refused).

    ``accepted``: SymPy expressions already accepted by ``as_expr`` (a caller validating
    many vectors that share entries, such as the d^2 / 2 fields of a flow); they are not
    checked again, and every entry accepted here is added.
    """
    if isinstance(values, sp.MatrixBase):
        values = list(values)
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        values = [values]
    if accepted is None:
        return tuple(as_expr(v, what) for v in values)
    out = []
    for v in values:
        if not (isinstance(v, sp.Basic) and v in accepted):
            v = as_expr(v, what)
            accepted.add(v)
        out.append(v)
    return tuple(out)


def as_symbols(values: object, what: str) -> tuple[sp.Symbol, ...]:
    """Return a tuple of Symbols from one Symbol or a sequence of them."""
    if isinstance(values, str | bytes):
        raise SymflowError(
            f"{what} is the string {values!r}; pass sympy.Symbol objects, e.g. sympy.symbols('x y', real=True)"
        )
    if isinstance(values, sp.Basic):
        values = (values,)
    if not isinstance(values, Iterable):
        raise SymflowError(f"{what} must be a Symbol or a sequence of Symbols")
    out = tuple(values)
    for s in out:
        if isinstance(s, str | bytes):
            raise SymflowError(
                f"{what} contains the string {s!r}; symflow never parses strings: pass sympy.Symbol "
                "objects, e.g. sympy.symbols('x y', real=True)"
            )
        if not isinstance(s, sp.Symbol):
            raise SymflowError(
                f"{what} contains {s!r} of type {type(s).__name__}; every entry must be a "
                "sympy.Symbol (create them with sympy.symbols)"
            )
    if len(set(out)) != len(out):
        raise SymflowError(f"{what} lists a Symbol twice: {out}; list each once")
    return out


def as_param_values(params: object, expected: Iterable[sp.Symbol], what: str = "params") -> dict:
    """Validate a ``{Symbol: number}`` dict covering every expected parameter."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ParameterError(f"{what} must be a dict from parameter Symbols to numbers, got {type(params).__name__}")
    out: dict[sp.Symbol, sp.Expr] = {}
    for key, val in params.items():
        if isinstance(key, str):
            raise ParameterError(
                f"{what} has the string key {key!r}; use the parameter Symbol itself "
                "(e.g. mu, sigma = p.params) as the key"
            )
        out[key] = as_expr(val, f"{what}[{key}]")
        if out[key].free_symbols:
            raise ParameterError(f"{what}[{key}] = {out[key]} is not a number; give a number")
        if out[key].is_extended_real is False or out[key].is_infinite or out[key].has(sp.I):
            raise ParameterError(f"{what}[{key}] = {out[key]} is not a finite real number; give a finite real number")
        magnitude = abs(out[key])
        if magnitude != 0 and not (MIN_MAGNITUDE <= magnitude <= MAX_MAGNITUDE):
            raise ParameterError(
                f"{what}[{key}] = {sp.sstr(sp.N(out[key], 6))} is outside 1e-100 .. 1e100 in magnitude: symflow "
                "evaluates exactly at parameter values (gamma(1e300) has no exact value to compute) and samples in "
                "float64, where such numbers overflow or vanish; rescale the problem (units) so parameters are moderate"
            )
    for key, val in out.items():
        _check_assumptions(key, val, what)
    missing = [s for s in expected if s not in out]
    if missing:
        raise ParameterError(
            f"{what} has no value for {', '.join(map(str, missing))}; "
            f"add them, e.g. {{{', '.join(f'{s}: 1.0' for s in missing)}}}"
        )
    return out


# Magnitudes a parameter value may have (0 aside): exact special functions and float64 samplers break beyond.
MIN_MAGNITUDE = sp.Rational(1, 10**100)
MAX_MAGNITUDE = sp.Integer(10) ** 100


def same_name_hint(stray: Iterable[sp.Symbol], known: Iterable[sp.Symbol]) -> str:
    """A note for symbols that look known but are not: same name, other assumptions.

    ``Symbol('x')`` and ``Symbol('x', real=True)`` are different Symbols, so
    "uses x, which is not the variable x" needs this explanation.
    """
    names = {str(k) for k in known}
    twins = sorted(str(s) for s in stray if str(s) in names)
    if not twins:
        return ""
    return (
        f" (note: {', '.join(twins)} here is a different Symbol from the one of the same name: their "
        "assumptions differ, e.g. Symbol('x') vs Symbol('x', real=True); use the same Symbol object)"
    )


def exact_floats(expr: sp.Expr) -> sp.Expr:
    """Replace every Float by the exact rational it stores (binary value, no rounding)."""
    floats = distinct_atoms(expr, sp.Float)
    if not floats:
        return expr
    return expr.xreplace({f: sp.Rational(f) for f in floats})


def exact_values(values: dict) -> dict:
    """Parameter values with every Float replaced by the exact rational it stores.

    Substituting a 15-digit Float into an expression makes SymPy evaluate the
    whole expression at 15 digits; exact rationals keep later high-precision
    evaluation honest.
    """
    if not isinstance(values, dict):
        raise ParameterError(f"values must be a dict from parameter Symbols to numbers, got {type(values).__name__}")
    return {k: exact_floats(as_expr(v, f"value of {k}")) for k, v in values.items()}


_ASSUMPTIONS = ("positive", "nonnegative", "negative", "nonpositive", "nonzero", "integer")


def _check_assumptions(symbol: object, value: sp.Expr, what: str) -> None:
    """Refuse a value that contradicts its Symbol's assumptions (sigma declared positive, given -1)."""
    for name in _ASSUMPTIONS:
        if getattr(symbol, f"is_{name}", None) is True and getattr(value, f"is_{name}") is False:
            raise ParameterError(f"{what}[{symbol}] = {value} but {symbol} is declared {name}; give a {name} value")


# Deepest expression tree accepted.  SymPy's differentiation recurses a few Python
# frames per level and raised RecursionError from about 160 nested levels on
# (sin(sin(...(x)))); real densities and flows are a few dozen levels deep.
MAX_DEPTH = 120


def expression_depth(expr: sp.Basic, limit: int = MAX_DEPTH) -> int:
    """The nesting depth of ``expr`` (1 for an atom), counted without recursion.

    Stops and returns ``limit + 1`` as soon as the depth exceeds ``limit``.
    """
    deepest = 0
    best: dict = {}
    stack = [(expr, 1)]
    while stack:
        node, d = stack.pop()
        if best.get(node, 0) >= d:
            continue  # a shared subtree already walked at least this deep
        best[node] = d
        leaf = node.is_Atom or is_atom(node)
        if leaf and node.args:
            # A leaf with arguments (a Gaussian atom and its d x d argument tuples, shared by thousands of
            # expressions of one flow) => its own depth once, not once per expression it appears in.
            d += _leaf_depth(node, limit) - 1
        if d > deepest:
            deepest = d
            if deepest > limit:
                return limit + 1
        if not leaf:
            stack.extend((a, d + 1) for a in node.args)
    return deepest


@lru_cache(maxsize=1024)
def _leaf_depth(node: sp.Basic, limit: int) -> int:
    # An argument without arguments (a number or symbol: most of a d x d tuple) has depth 1, without a walk.
    return 1 + max((expression_depth(a, limit) if a.args else 1 for a in node.args), default=0)


def _check_depth(expr: sp.Basic, what: str) -> None:
    if expression_depth(expr) > MAX_DEPTH:
        raise SymflowError(
            f"{what} is nested more than {MAX_DEPTH} levels deep; SymPy's recursive algorithms cannot "
            "handle it (they raise RecursionError). Flatten it (e.g. build sums with sympy.Add(*terms)) "
            "or name repeated sub-expressions"
        )


POINT_MASS_MESSAGE = "phi contains DiracDelta; phi must be an ordinary function (jumps are fine)"


def _point_mass(expr: sp.Basic) -> bool:
    """Whether ``expr`` holds a point mass: DiracDelta or a derivative of one, a SingularityFunction of
    negative order, or an unevaluated derivative of a jump that SymPy evaluates to one
    (d/dx Heaviside(x) is DiracDelta(x))."""
    if expr.has(sp.DiracDelta):
        return True
    if any(f.args[2].is_negative for f in expr.atoms(sp.SingularityFunction)):
        return True
    jumps = (sp.Heaviside, sp.sign, sp.Piecewise, sp.floor, sp.ceiling, sp.frac, sp.Mod, sp.Abs)
    return any(d.expr.has(*jumps) and d.doit().has(sp.DiracDelta) for d in expr.atoms(sp.Derivative))


def as_test_function(phi: object) -> sp.Expr:
    """phi as a SymPy expression, refusing a point mass (the one guard every entry that takes phi uses).

    E_p[DiracDelta(x)] = p(0) is not an expectation a sample ever sees: every estimator's
    value is 0 almost surely, and the numeric routes, which never hit the delta, would call
    a gradient of p(0) 'consistent' with 0.  So phi = DiracDelta (or its derivative) is refused,
    as ``derive`` always did.
    """
    expr = as_expr(phi, "phi")
    if _point_mass(expr):
        raise EstimatorError(POINT_MASS_MESSAGE)
    return expr


def as_phi(phi: object, x: tuple) -> sp.Expr:
    """A test function phi over the variables ``x`` only (strings and point masses refused; other symbols named)."""
    expr = as_test_function(phi)
    refuse_bound_variables(expr, x, "phi")
    stray = expr.free_symbols - set(x)
    if stray:
        raise EstimatorError(
            f"phi uses {', '.join(sorted(map(str, stray)))}, which are not variables "
            f"{tuple(map(str, x))}; phi must be a function of x only (substitute numbers for the rest)"
            + same_name_hint(stray, x)
        )
    return expr


def refuse_bound_variables(expr: sp.Expr, x: Iterable[sp.Symbol], what: str) -> None:
    """Refuse an unevaluated Integral, Sum, ... that binds one of the variables x (substituting x breaks it)."""
    xs = set(x)
    for node in expr.atoms(sp.Integral, sp.Sum, sp.Product, sp.Subs, sp.Lambda):
        bound = set(getattr(node, "bound_symbols", ())) & xs
        if bound:
            raise SymflowError(
                f"{what} contains {type(node).__name__} over {', '.join(sorted(map(str, bound)))}, which is also a "
                f"variable: {what} would change meaning when the variable is substituted; evaluate it (.doit()) or "
                "use another Symbol as the dummy variable"
            )


def at_values(expr: sp.Expr, values: dict) -> sp.Expr:
    """``expr`` with ``values`` substituted, also where it is differentiated with respect to them.

    ``xreplace`` turns Derivative(betainc_regularized(alpha, ...), alpha) at alpha = 0.3 into a
    derivative with respect to a number, which SymPy refuses (ValueError); such a derivative
    becomes Subs(Derivative(f(d), d), d, 0.3) first (d a Dummy), the value SymPy means by it.
    """
    keys = set(values)
    derivatives = [d for d in expr.atoms(sp.Derivative) if keys & {v for v, _ in d.variable_count}]
    if derivatives:
        swap = {}
        for d in derivatives:
            hit = [v for v, _ in d.variable_count if v in keys]
            dummies = {v: sp.Dummy(str(v)) for v in hit}
            swap[d] = sp.Subs(d.xreplace(dummies), tuple(dummies.values()), tuple(hit))
        expr = expr.xreplace(swap)
    try:
        return expr.xreplace(values)
    except RecursionError:
        # SymPy's automatic evaluation at the values recursed (gamma(nu/2) at nu = 1e400 did)
        shown = ", ".join(f"{k} = {v!s:.20}" for k, v in values.items())
        raise ParameterError(
            f"SymPy could not evaluate the expression at {shown} (its evaluation recursed without end); "
            "give parameter values of ordinary size"
        ) from None


# What SymPy's evalf raises where it has no numeric method (not evidence of anything): AttributeError from
# hyper._eval_evalf when the argument is still symbolic (a meijerg term), RecursionError from a Subs whose
# derivative SymPy cannot carry out, KeyError from evalf's own bookkeeping.
EVALF_FAILED = (TypeError, ValueError, ArithmeticError, AttributeError, NotImplementedError, RecursionError, KeyError)


def evalf_or_none(expr: sp.Expr, dps: int, **options: object) -> sp.Expr | None:
    """SymPy's ``evalf`` of ``expr`` to ``dps`` digits, or None where evalf fails (a clean "cannot say").

    A ``Subs`` that SymPy cannot carry out (a derivative of ``betainc_regularized`` in a parameter at a
    number) sends evalf into a recursion of about 2 s before it fails: it is refused at once instead.
    """
    try:
        if expr.has(sp.Subs):
            expr = expr.replace(lambda node: isinstance(node, sp.Subs), lambda node: node.doit())
            if expr.has(sp.Subs):
                return None
        return sp.N(expr, dps, **options)
    except EVALF_FAILED:
        return None


def evalf_constants(expr: sp.Expr, dps: int) -> sp.Expr:
    """``expr`` with its constants evaluated to ``dps`` digits, or as given where SymPy's evalf fails there.

    An optimization before generating mpmath code (special functions of the parameters once, not at every
    point), so a failure only costs speed: the generated code evaluates the same terms.  ``ArithmeticError``
    (an exponent of 1e308 overflows mpmath's integers) still propagates: the expression cannot be evaluated.
    """
    try:
        return sp.N(expr, dps)
    except ArithmeticError:
        raise
    except EVALF_FAILED:
        return expr


def refuse_unevaluated(expr: sp.Expr, what: str) -> sp.Expr:
    """``expr`` if it has no unevaluated Sum, Integral, Product or Limit; these have no float64 evaluation."""
    left = expr.atoms(sp.Sum, sp.Integral, sp.Product, sp.Limit)
    if left:
        first = sp.sstr(next(iter(left)))[:80]
        raise SymflowError(
            f"{what} holds the unevaluated {first}: sampling evaluates it in float64, which cannot; evaluate it "
            "(.doit()) or give it in closed form"
        )
    return expr
