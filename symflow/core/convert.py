"""Turning user values into SymPy objects without ever parsing a string.

symflow never evaluates text that came from outside: a ``str`` where an
expression is expected is refused with a message that says what to pass
instead.  Numbers are converted exactly (a float becomes the exact binary
rational it stands for only when asked; by default it stays a ``Float``).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from functools import lru_cache

import sympy as sp

from ..errors import EstimatorError, ParameterError, SymflowError
from ..structured.ops import is_atom

_STRING_HINT = (
    "symflow never parses strings; build the expression with SymPy instead, "
    "e.g. x = sympy.Symbol('x'); expr = x**2 + sympy.sin(x)"
)


def as_expr(value: object, what: str) -> sp.Expr:
    """Return ``value`` as a SymPy expression, refusing strings and unknown types."""
    if isinstance(value, str | bytes):
        raise SymflowError(f"{what} is the string {value!r}; {_STRING_HINT}")
    if isinstance(value, sp.Basic):
        _check_depth(value, what)
        return value
    if isinstance(value, bool):
        raise SymflowError(f"{what} is a bool ({value}); pass a number or a SymPy expression")
    if isinstance(value, numbers.Integral):
        return sp.Integer(int(value))
    if isinstance(value, numbers.Rational):
        return sp.Rational(int(value.numerator), int(value.denominator))
    if isinstance(value, numbers.Real):
        return sp.Float(float(value))
    if hasattr(value, "dtype") and getattr(value, "shape", None) == ():
        return as_expr(value.item(), what)  # numpy scalar
    raise SymflowError(f"{what} has type {type(value).__name__}; pass a SymPy expression or a number")


def as_vector(values: object, what: str) -> tuple[sp.Expr, ...]:
    """A tuple of expressions from one expression, a sequence, or a SymPy Matrix (strings refused)."""
    if isinstance(values, sp.MatrixBase):
        values = list(values)
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        values = [values]
    return tuple(as_expr(v, what) for v in values)


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
    for key, val in out.items():
        _check_assumptions(key, val, what)
    missing = [s for s in expected if s not in out]
    if missing:
        raise ParameterError(
            f"{what} has no value for {', '.join(map(str, missing))}; "
            f"add them, e.g. {{{', '.join(f'{s}: 1.0' for s in missing)}}}"
        )
    return out


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
    floats = expr.atoms(sp.Float)
    if not floats:
        return expr
    return expr.xreplace({f: sp.Rational(f) for f in floats})


def exact_values(values: dict) -> dict:
    """Parameter values with every Float replaced by the exact rational it stores.

    Substituting a 15-digit Float into an expression makes SymPy evaluate the
    whole expression at 15 digits; exact rationals keep later high-precision
    evaluation honest.
    """
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
    return 1 + max((expression_depth(a, limit) for a in node.args), default=0)


def _check_depth(expr: sp.Basic, what: str) -> None:
    if expression_depth(expr) > MAX_DEPTH:
        raise SymflowError(
            f"{what} is nested more than {MAX_DEPTH} levels deep; SymPy's recursive algorithms cannot "
            "handle it (they raise RecursionError). Flatten it (e.g. build sums with sympy.Add(*terms)) "
            "or name repeated sub-expressions"
        )


def as_phi(phi: object, x: tuple) -> sp.Expr:
    """A test function phi over the variables ``x`` only (strings refused; other symbols named)."""
    expr = as_expr(phi, "phi")
    stray = expr.free_symbols - set(x)
    if stray:
        raise EstimatorError(
            f"phi uses {', '.join(sorted(map(str, stray)))}, which are not variables "
            f"{tuple(map(str, x))}; phi must be a function of x only (substitute numbers for the rest)"
            + same_name_hint(stray, x)
        )
    return expr
