"""The expression printer writes like a person: golden strings for term order, fractions, exponentials, names."""

from __future__ import annotations

import pytest
import sympy as sp

import symflow as sf
from symflow.printing.latex import ProofLatexPrinter

x = sp.Symbol("x", real=True)
mu = sp.Symbol("mu", real=True)
sigma = sp.Symbol("sigma", positive=True)
theta = sp.Symbol("theta", real=True)


def tex(expr, variables=(x,), **settings) -> str:
    printer = ProofLatexPrinter(settings)
    printer.set_variables(variables)
    return printer.doprint(expr)


GOLDEN = [
    # a sum does not open with a minus sign: x - mu, not -mu + x
    ("x - mu", x - mu, r"x - \mu"),
    ("2x - 2mu", -2 * mu + 2 * x, r"2 x - 2 \mu"),
    ("1 - x^2", 1 - x**2, r"1 - x^{2}"),
    ("the variable leads", -mu + sigma + x, r"x - \mu + \sigma"),
    ("x + 1 unchanged", (x + 1) ** 2, r"\left(x + 1\right)^{2}"),
    (
        "sigma^2 and a square",
        (x - mu) ** 2 / sigma**3 - 1 / sigma,
        r"\frac{\left(x - \mu\right)^{2}}{\sigma^{3}} - \frac{1}{\sigma}",
    ),
    ("|x - mu|", sp.Abs(mu - x), r"\left|{x - \mu}\right|"),
    ("(x - mu)^2 from (mu - x)^2", (mu - x) ** 2 - sigma**2, r"\left(x - \mu\right)^{2} - \sigma^{2}"),
    # Gaussian constants and the exponential last
    (
        "normal density",
        sf.families.normal().expr,
        r"\frac{1}{\sqrt{2 \pi} \sigma} e^{- \frac{\left(x - \mu\right)^{2}}{2 \sigma^{2}}}",
    ),
    (
        "L-distribution",
        sf.families.l_distribution().expr,
        r"\frac{\left(x - \mu\right)^{2}}{\sqrt{2 \pi} \sigma^{3}} e^{- \frac{\left(x - \mu\right)^{2}}{2 \sigma^{2}}}",
    ),
    ("Laplace", sf.families.laplace().expr, r"\frac{1}{2 \sigma} e^{- \frac{\left|{x - \mu}\right|}{\sigma}}"),
    # an exponential inside the denominator stays in the fraction
    (
        "logistic",
        sf.families.logistic().expr,
        r"\frac{e^{- \frac{x - \mu}{\sigma}}}{\sigma \left(1 + e^{- \frac{x - \mu}{\sigma}}\right)^{2}}",
    ),
    # undefined functions of plain symbols by name, their derivatives as written by hand
    ("bare p", sp.Function("p")(x, theta), "p"),
    ("dp/dtheta", sp.Derivative(sp.Function("p")(x, theta), theta), r"\frac{\partial p}{\partial \theta}"),
    ("d2u/dx2", sp.Derivative(sp.Function("u")(x), x, 2), r"\frac{d^{2} u}{d x^{2}}"),
    ("g at S keeps its arguments", sp.Function("g")(sp.Function("S")(x, theta), theta), r"g{\left(S,\theta \right)}"),
]


@pytest.mark.parametrize(("name", "expr", "want"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_golden(name, expr, want):
    assert tex(expr) == want


def test_mvn_terms_in_index_order_and_long_exponent_as_exp():
    got = tex(sf.families.mvn(3, covariance="diag").expr, variables=sp.symbols("x_1:4", real=True))
    assert got.startswith(r"\frac{1}{\left(2 \pi\right)^{3/2} \sigma_{1} \sigma_{2} \sigma_{3}} \exp\left(")
    first, second, third = (got.index(f"x_{{{k}}} - \\mu_{{{k}}}") for k in (1, 2, 3))
    assert first < second < third


def test_a_vector_substitution_reads_eps_equals_S():
    e1, e2 = sp.symbols("epsilon_1:3", real=True)
    x1, x2 = sp.symbols("x_1:3", real=True)
    S = [sp.Function(f"S_{k}")(x1, x2, theta) for k in (1, 2)]
    g = sp.Function("g_1")(e1, e2, theta)
    assert tex(sp.Subs(sp.Derivative(g, theta), (e1, e2), S)) == (
        r"\left. \frac{\partial g_{1}}{\partial \theta} \right|_{\epsilon=S}"
    )


def test_exp_with_a_short_exponent_stays_e_to_the():
    assert tex(sp.exp(-x)) == "e^{- x}"
    assert tex(sp.exp(-x), exp_len=0) == r"\exp\left(- x\right)"


def test_a_difference_kept_on_purpose_is_not_cancelled_by_naming():
    # a long part that repeats is named; replacing it must not evaluate "a - a" to 0
    from symflow.core.steps import Basis, Proof, ProofStep
    from symflow.proof import proof_latex

    a = sp.erf((x - mu) / sigma) * sp.exp(-((x - mu) ** 2) / (2 * sigma**2)) + sp.log(sigma + x**2)
    r = sp.Symbol("r")
    steps = (
        ProofStep(sp.Symbol("w"), a, "first", basis=Basis.DEFINITION),
        ProofStep(r, sp.Add(a, -a, evaluate=False), "both sides kept", basis=Basis.DEFINITION),
    )
    tex = proof_latex(Proof("kept", steps), repeat_len=10)
    assert r"\mathcal{T}_{1}" in tex  # something was named ...
    line = next(ln for ln in tex.splitlines() if ln.startswith("r &= "))
    assert line.count(r"\log") == 2  # ... and both sides of the difference are still there
