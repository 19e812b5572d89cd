"""Reading an expression typed as text, safely: a whitelist parser over Python's ``ast``.

``parse("exp(-(x - mu)**2 / (2*sigma**2))", {"x": x, "mu": mu, "sigma": sigma})``
builds the SymPy expression node by node from ``ast.parse(text, mode="eval")``.
Nothing in the text is ever executed: no ``eval``, ``exec``, ``compile``,
``sympify`` or ``parse_expr``.  Whatever is not on the whitelist (numbers,
declared names, ``pi``, ``E``, + - * / **, parentheses, calls of the functions
in ``FUNCTIONS``) is refused with a ``ParseError`` that names what was refused,
the column, and what is allowed.  (``symflow.parse`` is the function; this
module's tables are ``symflow.core.parsing.FUNCTIONS`` and so on.)

Limits are checked before the work they protect, so hostile text is refused
in milliseconds: the length and the characters before ``ast.parse`` (whose own
C parser overflows on very deep nesting), the nesting while walking, and the
size of every number before SymPy computes it (SymPy evaluates ``9**9**9`` and
``exp(10**29*log(2))`` eagerly).  See docs/parsing.md for the grammar.

One concept, about 500 lines: the whitelist, the limits and the one-pass
builder belong together, since every node type the builder accepts has its
limit checked where it is built; splitting them would put a limit and the
code it guards in different files.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
import time
import unicodedata
from collections.abc import Callable, Mapping

import sympy as sp

from ..errors import ParseError

__all__ = ["CONSTANTS", "FUNCTIONS", "parse"]

MAX_LENGTH = 10_000  # characters of text
MAX_PARENTHESES = 50  # nesting of ( )
MAX_OPERATOR_CHARS = 1_000  # + - * / characters: bounds the depth of the tree ast.parse builds
MAX_NODES = 2_000  # nodes of the Python syntax tree
MAX_DEPTH = 100  # nesting of the expression (a chain of + or * counts once)
MAX_LITERAL_DIGITS = 30  # significant digits of a number as typed
MAX_LITERAL_EXPONENT = 99  # |n| in 1.5e-n
MAX_NUMBER_DIGITS = 100  # numerator and denominator of every number in the result
MAX_EXPONENT = 1_000  # |p| and q of a rational exponent p/q
MAX_SPECIAL_ARGUMENT = 100  # |n| for gamma(n), factorial(n), ... which SymPy evaluates exactly
MAX_BUILD_SECONDS = 0.5  # CPU time for building the SymPy expression
# Longer runs of digits are refused before ast.parse: no allowed number needs more (30 significant
# digits after at most 100 zeros), and Python's int() would spend time on them first.
_MAX_DIGIT_RUN = MAX_LITERAL_DIGITS + MAX_NUMBER_DIGITS

# name -> (SymPy function, fewest arguments, most arguments)
FUNCTIONS: dict[str, tuple[Callable[..., sp.Expr], int, int]] = {
    "exp": (sp.exp, 1, 1),
    "log": (sp.log, 1, 1),
    "sqrt": (sp.sqrt, 1, 1),
    "sin": (sp.sin, 1, 1),
    "cos": (sp.cos, 1, 1),
    "tan": (sp.tan, 1, 1),
    "asin": (sp.asin, 1, 1),
    "acos": (sp.acos, 1, 1),
    "atan": (sp.atan, 1, 1),
    "sinh": (sp.sinh, 1, 1),
    "cosh": (sp.cosh, 1, 1),
    "tanh": (sp.tanh, 1, 1),
    "asinh": (sp.asinh, 1, 1),
    "acosh": (sp.acosh, 1, 1),
    "atanh": (sp.atanh, 1, 1),
    "erf": (sp.erf, 1, 1),
    "erfc": (sp.erfc, 1, 1),
    "gamma": (sp.gamma, 1, 1),
    "loggamma": (sp.loggamma, 1, 1),
    "digamma": (sp.digamma, 1, 1),
    "beta": (sp.beta, 2, 2),
    "factorial": (sp.factorial, 1, 1),
    "binomial": (sp.binomial, 2, 2),
    "erfinv": (sp.erfinv, 1, 1),
    "erfcinv": (sp.erfcinv, 1, 1),
    "erfi": (sp.erfi, 1, 1),
    "polygamma": (sp.polygamma, 2, 2),
    "lowergamma": (sp.lowergamma, 2, 2),
    "uppergamma": (sp.uppergamma, 2, 2),
    "betainc": (sp.betainc, 4, 4),
    "betainc_regularized": (sp.betainc_regularized, 4, 4),
    "besseli": (sp.besseli, 2, 2),
    "besselk": (sp.besselk, 2, 2),
    "besselj": (sp.besselj, 2, 2),
    "bessely": (sp.bessely, 2, 2),
    "expint": (sp.expint, 2, 2),
    "Ei": (sp.Ei, 1, 1),
    "hyper": (sp.hyper, 3, 3),
    "Abs": (sp.Abs, 1, 1),
    "sign": (sp.sign, 1, 1),
    "Heaviside": (sp.Heaviside, 1, 1),
    "Min": (sp.Min, 2, 50),
    "Max": (sp.Max, 2, 50),
}
# SymPy computes these exactly at numbers (gamma(n) = (n-1)!, digamma(n) a harmonic number).
# Functions SymPy evaluates or expands at numeric arguments (factorial(10**9), lowergamma(10**6, x) as a sum
# of 10**6 terms, a Bessel function of half-integer order as elementary functions): their numbers are bounded.
_EAGER = frozenset(
    {
        "gamma",
        "loggamma",
        "digamma",
        "beta",
        "factorial",
        "binomial",
        "polygamma",
        "lowergamma",
        "uppergamma",
        "expint",
        "besseli",
        "besselk",
        "besselj",
        "bessely",
    }
)
# hyper([a1, ...], [b1, ...], z): the only place a list may appear, with at most this many entries.
MAX_HYPER_PARAMETERS = 5
CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi, "E": sp.E}
_ALLOWED = "numbers, declared names, pi, E, + - * / **, parentheses and calls of " + ", ".join(FUNCTIONS)
_NOT_FINITE = frozenset({"nan", "inf", "oo", "zoo", "infinity", "NaN", "I", "j"})

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ALLOWED_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_ \t+-*/().,[]")
_CHAR_WORDS = {
    "'": "a string literal",
    '"': "a string literal",
    "{": "a set, dict or f-string field",
    "}": "a set, dict or f-string field",
    ":": "':' (lambda, slice or :=)",
    "=": "'=' (keyword argument, assignment or comparison)",
    "<": "a comparison",
    ">": "a comparison",
    "!": "a comparison",
    "^": "'^' (write powers as **)",
    "#": "a comment",
    ";": "a statement separator",
    "\\": "a backslash",
    "\n": "a line break (write the expression on one line)",
    "\r": "a line break (write the expression on one line)",
}
_NODE_WORDS = {
    ast.Subscript: "a subscript",
    ast.Lambda: "a lambda",
    ast.IfExp: "a conditional expression (a if b else c)",
    ast.Compare: "a comparison",
    ast.BoolOp: "a boolean operator (and/or)",
    ast.NamedExpr: "an assignment expression (:=)",
    ast.GeneratorExp: "a comprehension",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.JoinedStr: "an f-string",
    ast.Starred: "a starred argument",
    ast.Tuple: "a tuple (a comma outside a function call)",
    ast.List: "a list",
    ast.Set: "a set",
    ast.Dict: "a dict",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield from",
}


def _fail(what: str, column: int | None, allowed: str = _ALLOWED) -> ParseError:
    where = "" if column is None else f" (column {column})"
    return ParseError(f"refused {what}{where}; allowed: {allowed}")


def _check_symbols(symbols: object) -> dict[str, sp.Symbol]:
    if not isinstance(symbols, Mapping):
        raise ParseError(f"symbols must be a dict from names to sympy Symbols, got {type(symbols).__name__}")
    checked = {}
    for name, symbol in symbols.items():
        if type(name) is str and keyword.iskeyword(name):
            raise ParseError(
                f"refused the symbol name {name!r}: it is a Python keyword, and text is read with Python's grammar "
                "(ast.parse, never eval), where a keyword cannot be a name; use another name for it in the text "
                "(e.g. lam for lambda) and map that name to your Symbol"
            )
        if type(name) is not str or not _IDENTIFIER.match(name):
            raise ParseError(
                f"refused the symbol name {name!r}: names must be plain ASCII identifiers "
                "(letters, digits and _, not starting with a digit, not a Python keyword)"
            )
        if name in FUNCTIONS or name in CONSTANTS:
            raise ParseError(f"refused the symbol name {name!r}: it is the name of a function or constant; rename it")
        if not isinstance(symbol, sp.Symbol):
            raise ParseError(f"symbols[{name!r}] is a {type(symbol).__name__}; map each name to a sympy Symbol")
        checked[name] = symbol
    return checked


def _describe_char(ch: str) -> str:
    if ch in _CHAR_WORDS:
        return _CHAR_WORDS[ch]
    code = f"U+{ord(ch):04X}"
    if ord(ch) < 32 or ord(ch) == 127:
        return f"the control character {code}"
    if ord(ch) > 127:
        name = unicodedata.name(ch, "unnamed")
        lookalike = unicodedata.normalize("NFKC", ch)
        hint = f", which Python would read as {lookalike!r}" if lookalike != ch and lookalike.isascii() else ""
        return f"the non-ASCII character {code} {name}{hint} (names must be plain ASCII)"
    return f"the character {ch!r}"


def _scan(text: str) -> None:
    """Refuse, before ast.parse sees it, text that is too long, has foreign characters or nests too deep."""
    if len(text) > MAX_LENGTH:
        raise ParseError(f"refused text of {len(text)} characters; the limit is {MAX_LENGTH}")
    if not text.strip():
        raise ParseError("refused empty text; give an expression such as exp(-x**2/2)")
    opened: list[int] = []  # columns of the '(' not yet closed
    operators = digits = 0
    in_name = False
    for i, ch in enumerate(text):
        if ch not in _ALLOWED_CHARS:
            raise _fail(_describe_char(ch), i + 1)
        if ch.isalpha() or ch == "_":
            in_name = True
        elif not ch.isdigit():
            in_name = False
        # A run of digits outside a name is a number; Python would convert it before we could look.
        digits = digits + 1 if ch.isdigit() and not in_name else 0
        if digits > _MAX_DIGIT_RUN:
            raise _fail(
                f"a number written with more than {_MAX_DIGIT_RUN} digits",
                i + 1 - _MAX_DIGIT_RUN,
                f"numbers of at most {MAX_LITERAL_DIGITS} significant digits",
            )
        if ch == "(":
            opened.append(i + 1)
            if len(opened) > MAX_PARENTHESES:
                raise _fail(f"parentheses nested deeper than {MAX_PARENTHESES}", i + 1)
        elif ch == ")":
            if not opened:
                raise _fail("an unmatched ')'", i + 1, "balanced parentheses")
            opened.pop()
        elif ch in "+-*/":
            operators += 1
            if operators > MAX_OPERATOR_CHARS:
                raise _fail(f"more than {MAX_OPERATOR_CHARS} operator characters (+ - * /)", i + 1)
    if opened:
        raise _fail(f"{len(opened)} unclosed '('", opened[0], "balanced parentheses")


_EXPONENT_RULE = f"rational exponents p/q with |p| and q at most {MAX_EXPONENT}"


def _too_big_exponent(r: sp.Rational) -> bool:
    return abs(r.p) > MAX_EXPONENT or r.q > MAX_EXPONENT


def _number_digits(n: int) -> int:
    return len(str(abs(n))) if n.bit_length() <= 4 * MAX_NUMBER_DIGITS else 2 * MAX_NUMBER_DIGITS


def _size(e: sp.Basic) -> float:
    """Digits of the numbers a power of ``e`` can produce: SymPy distributes powers over products."""
    if isinstance(e, sp.Rational):
        return (math.log10(abs(e.p)) if e.p else 0.0) + math.log10(e.q)
    if isinstance(e, sp.Mul):
        return sum(_size(a) for a in e.args)
    if isinstance(e, sp.Pow) and isinstance(e.exp, sp.Rational):
        return _size(e.base) * float(abs(e.exp))
    return 0.0


class _Builder:
    def __init__(self, text: str, symbols: dict[str, sp.Symbol], indent: int) -> None:
        self.text = text
        self.indent = indent  # leading blanks, stripped because ast.parse refuses an indent
        self.symbols = symbols
        self.seen: set[sp.Basic] = set()  # subtrees whose numbers are already checked
        self.start = time.thread_time()  # this thread only: other threads may be busy

    def names_allowed(self) -> str:
        names = list(self.symbols)
        declared = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "") or "none"
        return f"the declared names ({declared}) and the constants pi, E"

    # -- guards: refuse before SymPy computes something huge ----------------------------------
    def guard_power(self, base: sp.Basic, exponent: sp.Basic, column: int) -> None:
        if base == sp.E:
            self.guard_exp(exponent, column)  # E**a is exp(a)
        if not isinstance(exponent, sp.Rational):
            return
        if _too_big_exponent(exponent):
            raise _fail(f"the exponent {sp.sstr(exponent)[:60]}", column, _EXPONENT_RULE)
        if _size(base) * float(abs(exponent)) > MAX_NUMBER_DIGITS:
            raise _fail(
                f"the power ({sp.sstr(base)[:60]})**({exponent}), which would exceed {MAX_NUMBER_DIGITS} digits",
                column,
                f"numbers of at most {MAX_NUMBER_DIGITS} digits",
            )

    def guard_exp(self, argument: sp.Basic, column: int) -> None:
        # exp(c*log(b)) evaluates to b**c, so each such term is a power in disguise.
        for term in sp.Add.make_args(argument):
            factors = sp.Mul.make_args(term)
            logs = [f for f in factors if isinstance(f, sp.log)]
            if len(logs) == 1 and all(f.is_comparable for f in factors if f is not logs[0]):
                coefficient = sp.Mul(*(f for f in factors if f is not logs[0]))
                self.guard_power(logs[0].args[0], coefficient, column)

    def checked(self, result: sp.Basic, column: int) -> sp.Basic:
        """``result``, after checking the size of its new numbers and the time spent so far."""
        stack = [result]
        while stack:
            e = stack.pop()
            if e in self.seen:
                continue
            self.seen.add(e)
            if isinstance(e, sp.Rational):
                if max(_number_digits(e.p), _number_digits(e.q)) > MAX_NUMBER_DIGITS:
                    raise _fail(
                        f"a number with more than {MAX_NUMBER_DIGITS} digits",
                        column,
                        f"numbers of at most {MAX_NUMBER_DIGITS} digits",
                    )
                continue
            # SymPy merges exponents, (x**1000)**1000 = x**1000000 and x**600*x**600 = x**1200.
            if isinstance(e, sp.Pow) and isinstance(e.exp, sp.Rational) and _too_big_exponent(e.exp):
                raise _fail(f"the power {sp.sstr(e)[:60]}", column, _EXPONENT_RULE)
            stack.extend(e.args)
        if time.thread_time() - self.start > MAX_BUILD_SECONDS:
            raise _fail(f"an expression that took more than {MAX_BUILD_SECONDS} s of CPU time to build", column)
        return result

    # -- the walk --------------------------------------------------------------------------
    def build(self, node: ast.AST, depth: int) -> sp.Basic:
        column = self.column(node)
        if depth > MAX_DEPTH:
            raise _fail(f"an expression nested deeper than {MAX_DEPTH} levels", column)
        if isinstance(node, ast.Constant):
            return self.checked(self.number(node, column), column)
        if isinstance(node, ast.Name):
            return self.name(node.id, column)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return self.checked(-self.build(node.operand, depth + 1), column)
            if isinstance(node.op, ast.UAdd):
                return self.build(node.operand, depth + 1)
            word = "'not'" if isinstance(node.op, ast.Not) else "the operator ~"
            raise _fail(word, column)
        if isinstance(node, ast.BinOp):
            return self.checked(self.binop(node, depth), column)
        if isinstance(node, ast.Call):
            return self.checked(self.call(node, depth), column)
        if isinstance(node, ast.Attribute):
            dot = node.end_col_offset - len(node.attr) + self.indent  # the column of the '.'
            raise _fail(f"attribute access .{node.attr[:40]}", dot)
        raise _fail(_NODE_WORDS.get(type(node), f"a {type(node).__name__} expression"), column)

    def column(self, node: ast.AST) -> int:
        return node.col_offset + 1 + self.indent

    def number(self, node: ast.Constant, column: int) -> sp.Rational:
        value = node.value
        if isinstance(value, bool) or value is None or value is Ellipsis:
            raise _fail(f"the constant {value!r}", column)
        if isinstance(value, complex):
            raise _fail("an imaginary number", column, "real numbers only")
        if not isinstance(value, int | float):
            raise _fail(f"a {type(value).__name__} literal", column)
        typed = self.text[node.col_offset : node.end_col_offset]  # one line of ASCII: offsets are indices
        if typed[:2].lower() in ("0x", "0o", "0b"):
            raise _fail(f"the non-decimal number {typed[:40]}", column, "decimal numbers such as 12, 0.5, 1.5e-3")
        mantissa, _, exp_text = typed.replace("_", "").lower().partition("e")
        whole, _, fraction = mantissa.partition(".")
        digits = (whole + fraction).lstrip("0")
        if len(digits) > MAX_LITERAL_DIGITS:
            raise _fail(
                f"a number with {len(digits)} digits", column, f"numbers of at most {MAX_LITERAL_DIGITS} digits"
            )
        if len(exp_text.lstrip("+-")) > 3 or abs(int(exp_text or "0")) > MAX_LITERAL_EXPONENT:
            raise _fail(
                f"the number {typed[:40]}", column, f"exponents e-{MAX_LITERAL_EXPONENT} to e{MAX_LITERAL_EXPONENT}"
            )
        # The decimal as typed, exactly: 0.1 is 1/10, not the binary double nearest it.
        shift = int(exp_text or "0") - len(fraction)
        numerator = int(whole + fraction or "0")
        if shift >= 0:
            return sp.Integer(numerator * 10**shift)
        return sp.Rational(numerator, 10**-shift)

    def name(self, name: str, column: int) -> sp.Basic:
        if name in self.symbols:
            return self.symbols[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in FUNCTIONS:
            raise _fail(f"the function name {name} without a call", column, f"{name}(...)")
        if name in _NOT_FINITE:
            raise _fail(f"the name {name}", column, "finite real expressions; " + self.names_allowed())
        raise _fail(f"the undeclared name {name!r}", column, self.names_allowed())

    def binop(self, node: ast.BinOp, depth: int) -> sp.Basic:
        column = self.column(node)
        if isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div):
            return self.chain(node, depth)
        if isinstance(node.op, ast.Pow):
            base = self.build(node.left, depth + 1)
            exponent = self.build(node.right, depth + 1)
            self.guard_power(base, exponent, column)
            return sp.Pow(base, exponent)
        words = {ast.FloorDiv: "floor division //", ast.Mod: "%", ast.MatMult: "@"}
        raise _fail(f"the operator {words.get(type(node.op), type(node.op).__name__)}", column)

    def chain(self, node: ast.BinOp, depth: int) -> sp.Basic:
        """a + b - c (or a * b / c), walking the left spine without recursion: the chain is one level deep.

        Applied pairwise from the left, as Python would with SymPy objects ((a + b) - c), so the
        result is the very expression the same text typed in Python gives.
        """
        ops = (ast.Add, ast.Sub) if isinstance(node.op, ast.Add | ast.Sub) else (ast.Mult, ast.Div)
        pending = []
        while isinstance(node, ast.BinOp) and isinstance(node.op, ops):
            pending.append((node.op, node.right))
            node = node.left
        first = self.build(node, depth + 1)
        if ops[0] is ast.Add:
            # Add is canonical whatever the grouping, so one n-ary Add equals the pairwise sums and
            # avoids their quadratic cost on long sums.
            terms = [first]
            for op, right in reversed(pending):
                term = self.build(right, depth + 1)
                terms.append(self.checked(-term if isinstance(op, ast.Sub) else term, self.column(right)))
            return sp.Add(*terms)
        # Mul is not: 2*(mu + x) distributes to 2*mu + 2*x before /x, as Python would do it.
        result = first
        for op, right in reversed(pending):
            factor = self.build(right, depth + 1)
            if isinstance(op, ast.Div) and factor == 0:
                raise _fail("a division by zero", self.column(right), "nonzero divisors")
            result = self.checked(result * factor if isinstance(op, ast.Mult) else result / factor, self.column(right))
        return result

    def parameter_list(self, node: ast.AST, depth: int) -> list:
        """One parameter list of ``hyper``: ``[a1, ..., ap]`` of expressions."""
        if not isinstance(node, ast.List):
            raise _fail("a hyper parameter that is not a list", self.column(node), _hyper_list_hint())
        if len(node.elts) > MAX_HYPER_PARAMETERS:
            raise _fail(f"a hyper parameter list of {len(node.elts)} entries", self.column(node), _hyper_list_hint())
        return [self.build(e, depth + 1) for e in node.elts]

    def call(self, node: ast.Call, depth: int) -> sp.Basic:
        column = self.column(node)
        if not isinstance(node.func, ast.Name):
            raise _fail("a call of something other than a function name", column)
        name = node.func.id
        if name not in FUNCTIONS:
            if name in self.symbols:
                raise _fail(f"a call of the symbol {name}", column, "calls of " + ", ".join(FUNCTIONS))
            raise _fail(f"a call of {name!r}", column, "calls of the functions " + ", ".join(FUNCTIONS))
        function, fewest, most = FUNCTIONS[name]
        if node.keywords:
            raise _fail(f"keyword arguments in {name}(...)", column, f"{name} with positional arguments only")
        if not fewest <= len(node.args) <= most:
            count = str(fewest) if fewest == most else f"{fewest} to {most}"
            raise _fail(f"{name} with {len(node.args)} argument(s)", column, f"{name} with {count}")
        if name == "hyper":
            args = [*(self.parameter_list(a, depth) for a in node.args[:2]), self.build(node.args[2], depth + 1)]
        else:
            args = [self.build(a, depth + 1) for a in node.args]
        if name in _EAGER:
            for a in args:
                if isinstance(a, sp.Rational) and (abs(a) > MAX_SPECIAL_ARGUMENT or a.q > MAX_SPECIAL_ARGUMENT):
                    raise _fail(
                        f"{name} at the number {a}, which SymPy would compute exactly",
                        column,
                        f"numeric arguments of {', '.join(sorted(_EAGER))} at most {MAX_SPECIAL_ARGUMENT} in size",
                    )
        if name == "exp":
            self.guard_exp(args[0], column)
        try:
            return function(*args)
        except (TypeError, ValueError, ArithmeticError) as exc:  # e.g. Min(x, sqrt(-1)): 'I' is not comparable
            raise _fail(f"{name} of these arguments, which SymPy rejects ({exc})", column, "real arguments") from None


def _hyper_list_hint() -> str:
    return f"hyper([a1, ..., ap], [b1, ..., bq], z) with at most {MAX_HYPER_PARAMETERS} parameters in each list"


def parse(text: str, symbols: Mapping[str, sp.Symbol]) -> sp.Expr:
    """The SymPy expression written in ``text``, built from a whitelist; nothing in ``text`` runs.

    Parameters
    ----------
    text : str
        One line of at most 10,000 ASCII characters, e.g.
        ``"exp(-(x - mu)**2/(2*sigma**2))/(sqrt(2*pi)*sigma)"``.  Grammar: decimal numbers (read
        exactly: ``0.1`` is 1/10), names declared in ``symbols``, ``pi``, ``E``, unary and binary
        + - * / **, parentheses, and calls of exp, log, sqrt, the trigonometric and hyperbolic
        functions and their inverses, erf, erfc, gamma, loggamma, digamma, beta, factorial,
        binomial, Abs, sign, Heaviside, Min and Max.  Limits (nesting, size of numbers and
        exponents) are listed in docs/parsing.md.
    symbols : dict
        ``{name: Symbol}``; names are plain ASCII identifiers.  The Symbols' assumptions
        (real, positive) are the caller's choice and are kept.

    Returns
    -------
    sympy.Expr
        Never containing oo, zoo, nan or I (such results, e.g. of ``1/0`` or ``log(0)``, are
        refused).  Whether a numeric value such as ``asin(2)`` is real is not decided here.

    Raises
    ------
    ParseError
        Naming what was refused, the column (1-based) and what is allowed.

    Examples
    --------
    >>> import sympy as sp
    >>> x, mu = sp.symbols("x mu", real=True)
    >>> parse("exp(-(x - mu)**2/2) * 0.5", {"x": x, "mu": mu})
    exp(-(-mu + x)**2/2)/2
    """
    if not isinstance(text, str):
        raise ParseError(f"text must be a str, got {type(text).__name__}")
    names = _check_symbols(symbols)
    _scan(text)
    body = text.lstrip(" \t")
    indent = len(text) - len(body)
    try:
        tree = ast.parse(body, mode="eval")
    except SyntaxError as exc:
        column = f"column {exc.offset + indent}" if exc.offset else "at the end"
        raise ParseError(f"refused text that is not an expression ({column}): {exc.msg}") from None
    except (ValueError, MemoryError, RecursionError) as exc:  # the scan's limits should prevent these
        raise ParseError(f"refused text Python's parser could not read: {type(exc).__name__}") from None
    nodes = sum(1 for _ in ast.walk(tree))
    if nodes > MAX_NODES:
        raise ParseError(f"refused an expression of {nodes} syntax nodes; the limit is {MAX_NODES}")
    try:
        result = _Builder(body, names, indent).build(tree.body, 0)
    except ParseError:
        raise
    except (TypeError, ValueError, ArithmeticError, RecursionError) as exc:  # a SymPy constructor said no
        raise ParseError(f"refused {text[:60]!r}: SymPy could not build it ({type(exc).__name__}: {exc})") from None
    if result.has(sp.oo, -sp.oo, sp.zoo, sp.nan):
        raise ParseError(f"refused {text[:60]!r}: it evaluates to an infinity or NaN; check divisions and logs")
    if result.has(sp.I):
        raise ParseError(f"refused {text[:60]!r}: it evaluates to a complex number; densities and flows are real")
    return result
