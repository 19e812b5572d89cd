"""symflow.parse: valid text round-trips to the SymPy expression it spells; hostile text is refused, not run.

The hostile corpus is the issue's list (``__import__``, dunder attributes, lambdas, f-strings,
``9**9**9**9``, 10**6-deep parentheses, Unicode look-alikes, code inside symbol names, ...).  A
harness proves nothing ran: a canary builtin that any executed call of ``symflow_canary()`` would
trip, and recorders on ``eval``, ``exec``, ``compile`` (other than ast.parse's AST-only compile)
and imports of ``os``/``subprocess``.  Each refusal takes under 1 s of CPU time (the issue's bound;
process time, so a loaded machine does not make it flaky).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import example, given
from hypothesis import strategies as st

import symflow as sf
from symflow.errors import ParseError, SymflowError

x, mu = sp.symbols("x mu", real=True)
sigma = sp.Symbol("sigma", positive=True)
y = sp.Symbol("y", real=True)
SYMBOLS = {"x": x, "mu": mu, "sigma": sigma, "y": y, "fi": sp.Symbol("fi")}
X, A, B = sp.symbols("x a b", positive=True)
parse_module = sys.modules["symflow.core.parsing"]  # the module behind symflow.parse
REFUSAL_SECONDS = 1.0  # the bound for refusing one hostile string


# -- the harness: nothing may run --------------------------------------------------------------


class Tripwires:
    """Records anything that would mean the text was executed."""

    def __init__(self) -> None:
        self.events: list[str] = []

    @contextlib.contextmanager
    def armed(self):
        real_eval, real_exec, real_compile, real_import = builtins.eval, builtins.exec, builtins.compile, __import__
        events = self.events

        def canary(*args, **kwargs):
            events.append("symflow_canary() ran")

        def eval_(*args, **kwargs):
            events.append(f"eval{args[:1]!r}")
            return real_eval(*args, **kwargs)

        def exec_(*args, **kwargs):
            events.append(f"exec{args[:1]!r}")
            return real_exec(*args, **kwargs)

        def compile_(source, filename, mode, flags=0, *args, **kwargs):
            if not flags & ast.PyCF_ONLY_AST:  # ast.parse compiles to a syntax tree only: allowed
                events.append(f"compile({source!r:.60}, mode={mode!r})")
            return real_compile(source, filename, mode, flags, *args, **kwargs)

        def import_(name, *args, **kwargs):
            if name.split(".")[0] in ("os", "subprocess", "shutil", "socket"):
                events.append(f"import {name}")
            return real_import(name, *args, **kwargs)

        builtins.symflow_canary = canary
        builtins.eval, builtins.exec, builtins.compile, builtins.__import__ = eval_, exec_, compile_, import_
        try:
            yield self
        finally:
            builtins.eval, builtins.exec, builtins.compile, builtins.__import__ = (
                real_eval,
                real_exec,
                real_compile,
                real_import,
            )
            del builtins.symflow_canary


def refuse(text, symbols=SYMBOLS) -> tuple[ParseError, float]:
    """Parse ``text`` with tripwires armed; return the error and the CPU seconds it took."""
    wires = Tripwires()
    with wires.armed():
        start = time.process_time()
        with pytest.raises(ParseError) as info:
            sf.parse(text, symbols)
        seconds = time.process_time() - start
    assert wires.events == [], f"{text[:60]!r} ran something: {wires.events}"
    return info.value, seconds


def test_tripwires_can_fire():
    # The harness is only evidence if it catches execution: run hostile text the unsafe way.
    wires = Tripwires()
    with wires.armed():
        builtins.eval("symflow_canary()")
        builtins.exec(builtins.compile("import os", "<hostile>", "exec"))
    assert "symflow_canary() ran" in wires.events
    assert any(e.startswith("eval") for e in wires.events)
    assert any(e.startswith("compile") for e in wires.events)
    assert "import os" in wires.events


# -- hostile text ----------------------------------------------------------------------------------

DEEP = 10**6
# (label, text, what the message must mention, column or None)
HOSTILE = [
    ("import call", "__import__('os').system('echo pwned')", "string literal", 12),
    ("import without quotes", "__import__(os)", "call of '__import__'", 1),
    ("dunder attributes", "().__class__.__bases__[0].__subclasses__()", "call of something other than a function", 1),
    ("dunder attribute", "x.__class__", "attribute access .__class__", 2),
    ("attribute of a number", "1 .real", "attribute access .real", 3),
    ("attribute call", "x.conjugate()", "call of something other than a function name", 1),
    ("lambda", "(lambda: symflow_canary())()", "lambda", 8),
    ("lambda without colon", "lambda x", "not an expression", None),
    ("f-string", "f'{symflow_canary()}'", "string literal", 2),
    ("bytes", "b'abc'", "string literal", 2),
    ("tower of powers", "9**9**9**9", "exponent 387420489", 4),
    ("big power", "2**10**6", "exponent 1000000", 1),
    ("power of a product", "(10**50*x)**3", "exceed 100 digits", 1),
    ("exp of a log", "exp(10**29*log(2))", "exponent 1000000000", 1),
    ("E to a log", "E**(10**9*log(3))", "exponent 1000000000", 1),
    ("exact factorial", "factorial(99999)", "factorial at the number 99999", 1),
    ("exact gamma", "gamma(10**6)", "gamma at the number 1000000", 1),
    ("merged exponents", "exp(log(x)*1000)**1000", "the power x**1000000", 1),
    ("merged product", "x**600*x**600", "the power x**1200", 8),
    ("complex argument", "Min(x, sqrt(-1))", "not comparable", 1),
    ("10**6-deep parentheses", "(" * DEEP + "x" + ")" * DEEP, "2000001 characters", None),
    ("51-deep parentheses", "(" * 51 + "x" + ")" * 51, "parentheses nested deeper than 50", 51),
    ("power chain deeper than 100", "x**" * 101 + "x", "nested deeper than 100", None),
    ("unary chain", "-" * 1001 + "x", "more than 1000 operator characters", 1001),
    ("Cyrillic x", "\u0445 + 1", "U+0445 CYRILLIC SMALL LETTER HA", 1),
    ("Cyrillic a in sigma", "sigm\u0430", "U+0430 CYRILLIC SMALL LETTER A", 5),
    ("fullwidth x", "\uff58", "read as 'x'", 1),
    ("NFKC ligature fi", "\ufb01", "read as 'fi'", 1),
    ("mathematical italic x", "mu*\U0001d465", "read as 'x'", 4),
    ("zero-width space", "x\u200b", "U+200B", 2),
    ("walrus", "(y := 1)", "':'", 4),
    ("list comprehension", "[symflow_canary() for _ in x]", "comprehension", 1),
    ("generator argument", "exp(symflow_canary() for x in mu)", "comprehension", 4),
    ("starred argument", "exp(*x)", "starred argument", 5),
    ("dict unpacking", "Min(**x)", "keyword arguments", 1),
    ("keyword argument", "exp(x=1)", "'='", 6),
    ("subscript", "x[0]", "subscript", 1),
    ("string", "'x'", "string literal", 1),
    ("huge integer", "1" + "0" * 5000, "more than 130 digits", 1),
    ("31-digit integer", "1" + "0" * 30, "31 digits", 1),
    ("float overflow", "1e999", "1e999", 1),
    ("hex literal", "0x7fffffff", "non-decimal number", 1),
    ("long identifier digits", "x" + "1" * 200, "undeclared name", 1),
    ("long fraction", "1." + "0" * 200, "more than 130 digits", 3),
    ("imaginary literal", "1j", "imaginary number", 1),
    ("nan", "nan", "the name nan", 1),
    ("inf", "inf * x", "the name inf", 1),
    ("oo", "oo", "the name oo", 1),
    ("comparison chain", "x < mu < sigma", "comparison", 3),
    ("identity comparison", "x is mu", "comparison", 1),
    ("boolean operator", "x and mu", "boolean operator", 1),
    ("not", "not x", "'not'", 1),
    ("conditional expression", "x if mu else sigma", "conditional expression", 1),
    ("eval", "eval(x)", "call of 'eval'", 1),
    ("exec", "exec(x)", "call of 'exec'", 1),
    ("open", "open(x)", "call of 'open'", 1),
    ("getattr", "getattr(x, mu)", "call of 'getattr'", 1),
    ("globals", "globals()", "call of 'globals'", 1),
    ("breakpoint", "breakpoint()", "call of 'breakpoint'", 1),
    ("the canary itself", "symflow_canary()", "call of 'symflow_canary'", 1),
    ("call of a symbol", "x(1)", "call of the symbol x", 1),
    ("call of a call", "exp(x)(mu)", "call of something other than a function name", 1),
    ("very long input", "x+" * 5000 + "x", "10001 characters", None),
    ("many names", "Min(" + "x," * 2500 + "x)", "syntax nodes", None),
    ("null byte", "x\x00", "U+0000", 2),
    ("line break", "x\n+ __import__", "line break", 2),
    ("statement separator", "x; import os", "statement separator", 2),
    ("comment", "x # symflow_canary()", "comment", 3),
    ("backslash", "x \\\n+ 1", "backslash", 3),
    ("floor division", "x // 2", "floor division", 1),
    ("modulo", "x % 2", "'%'", 3),
    ("matrix product", "x @ mu", "'@'", 3),
    ("xor", "x ^ 2", "write powers as **", 3),
    ("invert", "~x", "'~'", 1),
    ("await", "await x", "await", 1),
    ("yield", "(yield x)", "yield", 2),
    ("tuple", "x, mu", "tuple", 1),
    ("ellipsis", "...", "Ellipsis", 1),
    ("True", "True", "the constant True", 1),
    ("bare function name", "exp", "without a call", 1),
    ("wrong arity", "exp(x, mu)", "exp with 2 argument(s)", 1),
    ("undeclared name", "z + x", "undeclared name 'z'", 1),
    ("division by zero", "1/0", "division by zero", 3),
    ("hidden division by zero", "1/(x - x)", "division by zero", 4),
    ("log of zero", "log(0)", "infinity or NaN", None),
    ("imaginary result", "sqrt(-1)", "complex number", None),
    ("empty", "   ", "empty", None),
    ("unbalanced", "exp(x))", "unmatched ')'", 7),
    ("unclosed", "exp((x)", "1 unclosed '('", 4),
]


@pytest.mark.parametrize(("label", "text", "mentions", "column"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_text_is_refused_without_running(label, text, mentions, column):
    err, seconds = refuse(text)
    message = str(err)
    assert isinstance(err, SymflowError)
    assert message.startswith("refused"), message
    assert mentions in message, message
    if column is not None:
        assert f"(column {column})" in message, message
    assert seconds < REFUSAL_SECONDS, f"{label}: refused after {seconds:.2f} s of CPU time"


def test_the_corpus_is_large_enough():
    assert len(HOSTILE) >= 30


HOSTILE_SYMBOLS = [
    ("code as a name", {"__import__('os')": x}, "plain ASCII identifiers"),
    ("statement in a name", {"x; import os": x}, "plain ASCII identifiers"),
    ("space in a name", {"x y": x}, "plain ASCII identifiers"),
    ("leading digit", {"1x": x}, "plain ASCII identifiers"),
    ("keyword", {"lambda": x}, "Python keyword"),
    ("Cyrillic name", {"\u0445": x}, "plain ASCII identifiers"),
    ("fullwidth name", {"\uff58": x}, "plain ASCII identifiers"),
    ("empty name", {"": x}, "plain ASCII identifiers"),
    ("trailing newline", {"x\n": x}, "plain ASCII identifiers"),
    ("function name", {"exp": x}, "name of a function or constant"),
    ("constant name", {"pi": x}, "name of a function or constant"),
    ("non-str key", {3: x}, "plain ASCII identifiers"),
    ("str value", {"x": "x"}, "map each name to a sympy Symbol"),
    ("expression value", {"x": x + 1}, "map each name to a sympy Symbol"),
    ("not a dict", [("x", x)], "must be a dict"),
]


@pytest.mark.parametrize(("label", "symbols", "mentions"), HOSTILE_SYMBOLS, ids=[h[0] for h in HOSTILE_SYMBOLS])
def test_hostile_symbol_names_are_refused(label, symbols, mentions):
    err, seconds = refuse("x", symbols)
    assert mentions in str(err), str(err)
    assert seconds < REFUSAL_SECONDS


@pytest.mark.parametrize("text", [b"x", None, 1, sp.Symbol("x")], ids=["bytes", "None", "int", "Symbol"])
def test_text_must_be_a_str(text):
    err, _ = refuse(text)
    assert "text must be a str" in str(err)


# -- valid text ------------------------------------------------------------------------------------

VALID = [
    (
        "exp(-(x - mu)**2/(2*sigma**2))/(sqrt(2*pi)*sigma)",
        sp.exp(-((x - mu) ** 2) / (2 * sigma**2)) / (sp.sqrt(2 * sp.pi) * sigma),
    ),
    ("exp(-Abs(x - mu)/sigma)/(2*sigma)", sp.exp(-sp.Abs(x - mu) / sigma) / (2 * sigma)),
    ("(x - mu)/sigma", (x - mu) / sigma),
    ("x - mu - sigma + 1", x - mu - sigma + 1),
    ("x/mu/sigma", x / mu / sigma),
    ("-x**2", -(x**2)),
    ("(-x)**2", x**2),
    ("+x", x),
    ("2**-1", sp.Rational(1, 2)),
    ("x**0.5", sp.sqrt(x)),
    ("0.1", sp.Rational(1, 10)),
    ("1e-3", sp.Rational(1, 1000)),
    ("2.5E2", sp.Integer(250)),
    (".5", sp.Rational(1, 2)),
    ("1.", sp.Integer(1)),
    ("1_000", sp.Integer(1000)),
    ("007", None),  # Python refuses leading zeros: not an expression
    ("pi*E", sp.pi * sp.E),
    ("\t  x + mu", x + mu),
    ("Min(x, mu, 3)", sp.Min(x, mu, 3)),
    ("Heaviside(x - mu)*sign(x)", sp.Heaviside(x - mu) * sp.sign(x)),
    ("mu**x*exp(-mu)/factorial(x)", mu**x * sp.exp(-mu) / sp.factorial(x)),
    ("beta(mu, sigma)*binomial(x, 3)", sp.beta(mu, sigma) * sp.binomial(x, 3)),
    ("gamma(5)", sp.Integer(24)),
    ("2**332", sp.Integer(2) ** 332),
    ("x**1000", x**1000),
    ("x**(1/1000)", x ** sp.Rational(1, 1000)),
    ("1" * 30, sp.Integer(int("1" * 30))),
    ("1e99", sp.Integer(10) ** 99),
    ("fi", SYMBOLS["fi"]),
]


@pytest.mark.parametrize(("text", "want"), VALID, ids=[v[0][:40] for v in VALID])
def test_valid_text_round_trips(text, want):
    if want is None:
        refuse(text)
        return
    got = sf.parse(text, SYMBOLS)
    assert got == want, (got, want)


@pytest.mark.parametrize("name", sorted(parse_module.FUNCTIONS))
def test_every_function_builds_its_sympy_function(name):
    function, fewest, _ = parse_module.FUNCTIONS[name]
    if name == "hyper":  # hyper([a1, ...], [b1, ...], z)
        assert sf.parse("hyper([x], [mu], y)", SYMBOLS) == function([x], [mu], y)
        return
    args = (x, mu, y, sigma)[:fewest]
    got = sf.parse(f"{name}({', '.join(map(str, args))})", SYMBOLS)
    assert got == function(*args)


def test_symbols_keep_their_assumptions():
    got = sf.parse("sigma", SYMBOLS)
    assert got is sigma and got.is_positive


@pytest.mark.parametrize(
    ("inside", "outside"),
    [
        ("(" * 50 + "x" + ")" * 50, "(" * 51 + "x" + ")" * 51),
        ("x**" * 100 + "x", "x**" * 101 + "x"),
        ("x" + " " * 9_999, "x" + " " * 10_000),
        ("2**332", "2**333"),
        ("x**1000", "x**1001"),
        ("1" * 30, "1" * 31),
        ("1e-99", "1e-100"),
        ("digamma(100)", "digamma(101)"),
    ],
    ids=["parentheses", "depth", "length", "digits", "exponent", "literal digits", "literal exponent", "gamma"],
)
def test_each_limit_is_where_the_docs_say(inside, outside):
    assert isinstance(sf.parse(inside, SYMBOLS), sp.Basic)
    refuse(outside)


def test_the_cpu_time_net_refuses_between_nodes(monkeypatch):
    # The last safety net: with a budget already spent, the first built node trips it.
    monkeypatch.setattr(parse_module, "MAX_BUILD_SECONDS", -1.0)
    err, _ = refuse("exp(x) + 1")
    assert "CPU time" in str(err)


def test_long_sums_are_not_deep():
    # A sum of 200 terms is a left-nested tree 200 deep in Python's ast; it is one level here.
    text = " + ".join(f"{k}*x**{k % 7}" for k in range(1, 201))
    assert len(text) < 10_000
    got = sf.parse(text, SYMBOLS)
    assert got == sum((k * x ** (k % 7) for k in range(1, 201)), sp.S.Zero)


_ALPHABET = "xmu()+-*/.,1 e_" + "abcdefijklnopqrst"


@given(st.text(alphabet=_ALPHABET + "'[]:=<>^%~\u0445\x00", max_size=40))
@example("x**-x**-x")
@example("exp(,)")
@example("Min(x, x)")
@example("1e")
@example("x.e")
def test_any_text_gives_an_expression_or_a_parse_error(text):
    # Never another exception (a TypeError from SymPy, a RecursionError, a ValueError from int()).
    try:
        result = sf.parse(text, SYMBOLS)
    except ParseError as err:
        assert str(err).startswith("refused") or str(err).startswith("text must")
    else:
        assert isinstance(result, sp.Basic)


# -- the package itself: no eval, exec, sympify or parse_expr (.ci/no_eval.py) ------------------

REPO = Path(__file__).resolve().parents[1]


def _no_eval():
    spec = importlib.util.spec_from_file_location("no_eval", REPO / ".ci" / "no_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_package_has_no_untrusted_eval():
    run = subprocess.run(
        [sys.executable, str(REPO / ".ci" / "no_eval.py")], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr


PLANTED = '''
"""Docstrings may say eps = S(x) and eval(text) freely."""
import builtins
import sympy as sp
from sympy import sympify
from sympy.parsing.sympy_parser import parse_expr as pe


class Atom(sp.Function):
    @classmethod
    def eval(cls, a):  # SymPy's hook, not the builtin
        return None


def load(spec, m):
    spec.loader.exec_module(m)
    return sp.S(1) + sp.S(-2.5) + sp.S.Zero


def run(text):
    f = exec
    return eval(text), builtins.compile(text, "t", "eval"), sp.S(text), sp.sympify(text), __import__(text)
'''


def test_no_eval_flags_planted_uses_and_nothing_else(tmp_path):
    no_eval = _no_eval()
    (tmp_path / "symflow").mkdir()
    (tmp_path / "symflow" / "bad.py").write_text(PLANTED, encoding="utf-8")
    found = sorted((f.function, f.name) for f in no_eval.scan(tmp_path))
    assert found == [
        ("<module>", "parse_expr"),
        ("<module>", "sympify"),
        ("run", "S"),
        ("run", "__import__"),
        ("run", "compile"),
        ("run", "eval"),
        ("run", "exec"),
        ("run", "sympify"),
    ]
    assert len(no_eval.check(tmp_path)) == len(found)
    assert no_eval.main(["no_eval", str(tmp_path)]) == 1


def test_no_eval_trusted_entries_must_match(tmp_path):
    no_eval = _no_eval()
    (tmp_path / "symflow").mkdir()
    (tmp_path / "symflow" / "gen.py").write_text("def run_generated(code, ns):\n    exec(code, ns)\n", encoding="utf-8")
    entry = no_eval.Trusted("symflow/gen.py", "run_generated", "exec", "runs code we generated")
    assert no_eval.check(tmp_path, (entry,)) == []
    stale = no_eval.Trusted("symflow/gen.py", "gone", "exec", "was removed")
    problems = no_eval.check(tmp_path, (entry, stale))
    assert len(problems) == 1 and "stale trusted entry" in problems[0]


# -- what SymPy prints, parse reads back ----------------------------------------------------------

_UNARY = [sp.exp, sp.log, sp.sqrt, sp.sin, sp.cos, sp.atan, sp.tanh, sp.erf, sp.erfc, sp.gamma, sp.loggamma]
_UNARY += [sp.Abs, sp.sign, sp.Heaviside, sp.factorial]
_ATOMS = st.sampled_from([x, mu, sigma, sp.pi, sp.E, sp.Integer(2), sp.Rational(1, 3), sp.Rational(-5, 2)])


def _grow(children):
    pairs = st.tuples(children, children)
    return st.one_of(
        st.builds(lambda f, a: f(a), st.sampled_from(_UNARY), children),
        pairs.map(lambda ab: ab[0] + ab[1]),
        pairs.map(lambda ab: ab[0] - ab[1]),
        pairs.map(lambda ab: ab[0] * ab[1]),
        pairs.map(lambda ab: ab[0] / ab[1]),
        st.tuples(children, st.integers(-3, 3)).map(lambda ae: ae[0] ** ae[1]),
        pairs.map(lambda ab: sp.Min(ab[0], ab[1]) if ab[0].is_real and ab[1].is_real else ab[0]),
    )


@given(st.recursive(_ATOMS, _grow, max_leaves=8))
@example(sp.exp(-((x - mu) ** 2) / (2 * sigma**2)) / (sp.sqrt(2 * sp.pi) * sigma))
@example(sp.Rational(1, 3) / (mu + x))  # reads back as 1/(3*mu + 3*x): equal in value, not in form
def test_printed_expressions_read_back_as_sympy_reads_them(expr):
    if expr.has(sp.zoo, sp.oo, -sp.oo, sp.nan, sp.I):
        return  # parse refuses these by design
    text = sp.sstr(expr)
    # The oracle is SymPy's own reader, safe here only because the text is SymPy's printout of our own
    # expression: parse must build exactly what Python's precedence rules and SymPy's evaluation give.
    assert sf.parse(text, SYMBOLS) == sp.sympify(text, locals=dict(SYMBOLS))


_CHAIN_ATOMS = ["x", "mu", "sigma", "2", "3", "(x - mu)", "(mu + x)", "exp(x)", "1/3", "-x", "2*(x + mu)", "(x + mu)/x"]


@given(
    st.sampled_from(_CHAIN_ATOMS),
    st.lists(st.tuples(st.sampled_from([" + ", " - ", "*", "/"]), st.sampled_from(_CHAIN_ATOMS)), max_size=12),
)
@example("2", [("*", "(mu + x)"), ("/", "x")])  # 2*(mu + x) distributes before the division, as in Python
@example("x", [(" - ", "(x - mu)"), (" + ", "2*(x + mu)")])
def test_chains_of_operators_group_as_python_does(first, rest):
    text = first + "".join(op + atom for op, atom in rest)
    want = sp.sympify(text, locals=dict(SYMBOLS))  # SymPy's reader on our own generated text, as the oracle
    if want.has(sp.zoo, sp.nan, sp.oo):
        refuse(text)
    else:
        assert sf.parse(text, SYMBOLS) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("besseli(0, x)", sp.besseli(0, X)),
        ("besselk(1, x) + besselj(2, x) + bessely(0, x)", sp.besselk(1, X) + sp.besselj(2, X) + sp.bessely(0, X)),
        ("lowergamma(a, x)/gamma(a)", sp.lowergamma(A, X) / sp.gamma(A)),
        ("uppergamma(a, x)", sp.uppergamma(A, X)),
        ("betainc_regularized(a, b, 0, x)", sp.betainc_regularized(A, B, 0, X)),
        ("betainc(a, b, 0, x)", sp.betainc(A, B, 0, X)),
        ("hyper([a, b], [a + 1], x)", sp.hyper([A, B], [A + 1], X)),
        (
            "polygamma(1, x) + erfinv(x) + erfi(x) + Ei(x) + expint(2, x)",
            sp.polygamma(1, X) + sp.erfinv(X) + sp.erfi(X) + sp.Ei(X) + sp.expint(2, X),
        ),
    ],
)
def test_special_functions_of_densities_and_flows_parse(text, want):
    assert sf.parse(text, {"x": X, "a": A, "b": B}) == want


@pytest.mark.parametrize(
    "text",
    [
        "hyper(a, [b], x)",
        "hyper([a, b, a, b, a, b], [b], x)",
        "[x]",
        "x[0]",
        "lowergamma(100000, x)",
        "besselj(101, x)",
    ],
)
def test_lists_outside_hyper_and_huge_special_arguments_are_refused(text):
    with pytest.raises(sf.ParseError):
        sf.parse(text, {"x": X, "a": A, "b": B})
