"""Notebook and terminal display: mimebundle keys and golden strings for each value."""

from __future__ import annotations

import pytest
import sympy as sp

import symflow as sf
from symflow.core.domain import Domain, Interval1D
from symflow.core.steps import Step
from symflow.core.verdict import Status, Verdict
from symflow.proof import Proof, check_steps

x = sp.Symbol("x", real=True)
y = sp.Symbol("y")
mu = sp.Symbol("mu", real=True)
sigma = sp.Symbol("sigma", positive=True)


def _normal() -> sf.Density:
    return sf.Density(sp.exp(-((x - mu) ** 2) / (2 * sigma**2)) / sp.sqrt(2 * sp.pi) / sigma, x, (mu, sigma), name="p")


def _flow(p: sf.Density) -> sf.Flow:
    return sf.Flow(p, {mu: [1], sigma: [(x - mu) / sigma]}, kind="reparam")


def _values():
    p = _normal()
    flow = _flow(p)
    est = sf.derive(p, flow, mu)
    verdict = Verdict(Status.PROVED, "structural", (x - mu) - (x - mu), claim="toy")
    steps = check_steps(
        [Step(y, (x + 1) ** 2, "definition of y"), Step(y, x**2 + 2 * x + 1, "expand the square", "1")],
        Domain(((x, Interval1D()),)),
    )
    return {"Density": p, "Flow": flow, "Estimator": est, "Verdict": verdict, "Proof": Proof("Square", steps)}


GOLDEN_LATEX = {
    "Density": "$\\displaystyle p\\left(x;\\ \\mu, \\sigma\\right) = \\frac{1}{\\sqrt{2 \\pi} \\sigma} e^{- \\frac{"
    "\\left(x - \\mu\\right)^{2}}{2 \\sigma^{2}}}, \\quad x \\in \\mathbb{R}$",
    "Flow": "$\\displaystyle \\begin{aligned}&\\text{reparam flow on p} \\\\ &u_{\\mu}\\left(x\\right) = 1 \\\\ "
    "&u_{\\sigma}\\left(x\\right) = \\frac{x - \\mu}{\\sigma}\\end{aligned}$",
    "Estimator": "$\\displaystyle \\begin{aligned}&\\text{reparam estimator},\\quad x \\sim p \\\\ "
    "&\\frac{\\partial}{\\partial \\mu}\\mathbb{E}_{p}\\left[\\phi\\right] = \\mathbb{E}\\left[v \\cdot "
    "\\nabla\\phi + \\psi\\,\\phi\\right] \\\\ &v = 1 \\\\ &\\psi = 0\\end{aligned}$",
    "Verdict": "$\\displaystyle \\begin{aligned}&\\text{toy: }\\mathsf{proved}\\ \\text{(structural)} \\\\ "
    "&\\text{residual: } 0\\end{aligned}$",
    "Proof": "$\\displaystyle \\begin{aligned}&\\textbf{Square}\\quad[\\mathsf{proved}] \\\\ (1)\\quad & y = "
    "\\left(x + 1\\right)^{2} && \\text{definition of y: definition} \\\\ (2)\\quad & y = x^{2} + 2 x + 1 && "
    "\\text{expand the square (Eq. 1): proved, from (1)}\\end{aligned}$",
}

GOLDEN_TEXT = {
    "Density": "p(x; mu, sigma) = sqrt(2)*exp(-(-mu + x)**2/(2*sigma**2))/(2*sqrt(pi)*sigma) on Reals",
    "Flow": "reparam flow on p\n  u_mu = 1\n  u_sigma = (-mu + x)/sigma",
    "Estimator": "reparam estimator of d/dmu E_p[phi], x ~ p\n  v   = 1\n  psi = 0",
    "Verdict": "toy: proved (structural)\n  residual: 0",
    "Proof": "Proof: Square  [proved]\n  (1) y = (x + 1)**2\n          by definition of y  [definition]\n"
    "  (2) y = x**2 + 2*x + 1\n          by expand the square, Eq. 1  [proved] from step 1\n"
    "          check: structural: expands to the literal 0 term by term (deterministic)",
}


@pytest.fixture(scope="module")
def values():
    return _values()


@pytest.mark.parametrize("name", sorted(GOLDEN_LATEX))
def test_mimebundle_has_text_and_latex(values, name):
    bundle = values[name]._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/latex"}
    assert bundle["text/plain"] == str(values[name])
    assert bundle["text/latex"] == values[name]._repr_latex_()


@pytest.mark.parametrize("name", sorted(GOLDEN_LATEX))
def test_golden_latex(values, name):
    assert values[name]._repr_latex_() == GOLDEN_LATEX[name]


@pytest.mark.parametrize("name", sorted(GOLDEN_TEXT))
def test_golden_text(values, name):
    assert str(values[name]) == GOLDEN_TEXT[name]


def test_mimebundle_include_and_exclude(values):
    p = values["Density"]
    assert set(p._repr_mimebundle_(include={"text/latex"})) == {"text/latex"}
    assert set(p._repr_mimebundle_(exclude={"text/latex"})) == {"text/plain"}


def test_a_refuted_verdict_shows_its_witness():
    p = _normal()
    wrong = sf.Flow(p, {sigma: [(x - mu) / sigma**2]}, kind="user")
    verdict = sf.check_transport(p, wrong, wrt=sigma)
    assert verdict.status is Status.REFUTED
    assert "\\text{witness: at" in verdict._repr_latex_()
    assert "witness: at" in verdict._repr_mimebundle_()["text/plain"]
