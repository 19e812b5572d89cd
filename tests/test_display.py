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


# -- extra terms and Monte Carlo results ----------------------------------------------------------


def _truncated_exponential() -> tuple[sf.Density, sp.Symbol, sp.Symbol]:
    lam, c = sp.Symbol("lambda", positive=True), sp.Symbol("c", positive=True)
    p = sf.Density(lam * sp.exp(-lam * x) / (1 - sp.exp(-lam * c)), x, (lam, c), support=sp.Interval(0, c), name="p")
    return p, lam, c


def test_estimator_text_and_latex_show_the_moving_boundary_term():
    p, lam, c = _truncated_exponential()
    est = sf.derive(p, sf.flows.zero(p), c)
    text = str(est)
    assert text.splitlines()[-1] == (
        "  + moving-boundary term (Eq. 77) at the upper edge x = c: "
        "+ lambda*exp(-lambda*x)/(1 - exp(-c*lambda)) * phi at x = c; q_M = point mass"
    )
    assert est._latex_body().endswith(
        r"&+ \left. \frac{\lambda e^{- \lambda x}}{1 - e^{- c \lambda}}\,\phi \right|_{x = c} "
        r"\quad \text{(moving-boundary term (Eq. 77) at the upper edge x = c)}\end{aligned}"
    )


def test_estimator_text_and_latex_show_jump_and_go_terms():
    p = _normal()
    est = sf.derive(p, _flow(p), mu, phi=sp.Heaviside(x - 1))
    assert "+ jump term (Eq. 66) across x - 1 = 0" in str(est)
    assert r"\Delta\phi \right|_{x = 1}" in est._latex_body()
    poisson = sf.families.poisson()
    go = sf.go_estimator(poisson, poisson.params[0])
    assert "+ GO jump term (Eq. 73)" in str(go)
    assert r"\text{(GO jump term, Eq. 73)}" in go._latex_body()


def test_mc_result_renders_in_notebooks():
    from symflow.core.verdict import Status as S
    from symflow.montecarlo import MCResult

    r = MCResult(0.25, 0.01, 0.2, "planted", 5.0, 0.05, S.REFUTED, 1000, 1e-6, "test", claim="toy")
    assert r._repr_latex_() == (
        r"$\displaystyle \begin{aligned}&\text{toy: }\mathsf{refuted} \\ &\bar{E} = 0.25 \pm 0.01\ (n = 1000) \\ "
        r"&\text{exact} = 0.2 \quad \text{(planted)} \\ &z = 5.000,\quad \alpha = 1e-06,\quad \delta = 0.05"
        r"\end{aligned}$"
    )
    assert set(r._repr_mimebundle_()) == {"text/plain", "text/latex"}
    assert r._repr_mimebundle_()["text/plain"] == str(r)
