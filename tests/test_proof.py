"""Proofs: every step checked, wrong and undecidable steps marked, golden LaTeX, general theorems."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sympy as sp

import symflow as sf
from symflow.core.domain import Domain, Interval1D
from symflow.core.steps import Step
from symflow.core.verdict import Status, Verdict, Witness
from symflow.proof import (
    Basis,
    Proof,
    ProofStep,
    check_steps,
    estimator_proof,
    latex_text,
    proof_latex,
    proof_of,
    theorem_flow_estimator,
    theorem_reparameterization_transport,
)

x = sp.Symbol("x", real=True)
y = sp.Symbol("y")
mu = sp.Symbol("mu", real=True)
sigma = sp.Symbol("sigma", positive=True)
LINE = Domain(((x, Interval1D()),))


def _normal() -> sf.Density:
    return sf.Density(sp.exp(-((x - mu) ** 2) / (2 * sigma**2)) / sp.sqrt(2 * sp.pi) / sigma, x, (mu, sigma), name="p")


def _reparam(p: sf.Density) -> sf.Flow:
    return sf.Flow(p, {mu: [1], sigma: [(x - mu) / sigma]}, kind="reparam")


def _square_proof() -> Proof:
    steps = [Step(y, (x + 1) ** 2, "definition of y"), Step(y, x**2 + 2 * x + 1, "expand the square", "1")]
    return Proof("Square", check_steps(steps, LINE), "y is a polynomial in x.")


# -- checking ------------------------------------------------------------------------


def test_recorded_steps_get_a_basis_and_a_verdict():
    pr = _square_proof()
    first, second = pr.steps
    assert first.basis is Basis.DEFINITION and first.verdict is None
    assert second.basis is Basis.PREVIOUS and second.follows == 1
    assert second.verdict.status is Status.PROVED
    assert pr.status is Status.PROVED and pr.unchecked == ()


def test_a_wrong_step_is_refuted_with_a_witness():
    steps = check_steps([Step(y, (x + 1) ** 2, "definition"), Step(y, x**2 + 1, "a wrong expansion")], LINE)
    wrong = steps[1]
    assert wrong.verdict.status is Status.REFUTED
    assert wrong.verdict.witness is not None
    assert Proof("wrong", steps).status is Status.REFUTED
    tex = proof_latex(Proof("wrong", steps))
    assert r"\textbf{REFUTED}" in tex and "counterexample" in tex


def test_an_identity_on_its_own_is_checked():
    (step,) = check_steps([Step(sp.sin(x) ** 2 + sp.cos(x) ** 2, sp.S.One, "Pythagoras")], LINE)
    assert step.basis is Basis.IDENTITY and step.verdict.status is Status.PROVED


def test_an_undecidable_step_is_marked_not_checked():
    f, g = sp.Function("f")(x), sp.Function("g")(x)
    steps = check_steps([Step(f, g, "an unrelated claim about undefined functions")], LINE)
    pr = Proof("undecidable", steps)
    assert steps[0].verdict.status is Status.UNKNOWN
    assert steps[0].status_text == "not checked (unknown)"
    assert pr.unchecked == (1,) and pr.status is Status.UNKNOWN
    tex = proof_latex(pr)
    assert r"\textbf{NOT CHECKED}" in tex and r"\textbf{Not checked:} \eqref{symflow:undecidable:s1}" in tex
    assert "[not checked (unknown)]" in str(pr)


def test_a_step_without_a_verdict_counts_as_unchecked():
    pr = Proof("unchecked", (ProofStep(x, x, "reflexivity"),))
    assert pr.unchecked == (1,) and pr.status is Status.UNKNOWN
    assert "no check was run" in proof_latex(pr)


def test_assumptions_and_arguments_are_not_claimed_as_checked():
    steps = check_steps(
        [
            ProofStep(y, sp.S.Zero, "a hypothesis", basis=Basis.ASSUMPTION),
            ProofStep(x, sp.S.Zero, "an argument", basis=Basis.ARGUMENT),
        ]
    )
    assert all(s.verdict is None for s in steps)
    tex = proof_latex(Proof("hyp", steps))
    assert "assumption, not machine-checked" in tex and "argument, not machine-checked" in tex


def test_given_substitutions_are_applied_before_the_check():
    a = sp.Symbol("a")
    steps = check_steps(
        [
            ProofStep(a, 2 * x, "hypothesis", basis=Basis.ASSUMPTION),
            ProofStep(a + x, 3 * x, "uses (1)", given=((a, 2 * x),), given_from=(1,)),
            ProofStep(a + x, 4 * x, "wrong even with (1)", given=((a, 2 * x),), given_from=(1,), basis=Basis.IDENTITY),
        ],
        LINE,
    )
    assert steps[1].verdict.status is Status.PROVED
    assert steps[2].verdict.status is Status.REFUTED


# -- estimators ------------------------------------------------------------------------


def test_estimator_proof_checks_every_recorded_step():
    p = _normal()
    est = sf.derive(p, _reparam(p), sigma)
    pr = sf.proof_of(est)
    assert isinstance(pr, Proof)
    # p and u defined, psi from Eq. 19 in undefined p and u, the log route, p and u substituted, then the
    # recorded steps (collected, psi = 0), and v_1 = u, v_1 = its value
    assert len(pr.steps) == 2 + 3 + (len(est.steps) - 1) + 1
    assert [str(s.lhs) for s in pr.steps[:2]] == ["p(x, sigma)", "u(x)"]
    assert pr.status is Status.PROVED and pr.unchecked == ()
    checked = [s for s in pr.steps if s.needs_check]
    assert checked and all(s.verdict.status is Status.PROVED for s in checked)
    psi_steps = [s for s in pr.steps if s.lhs == sp.Symbol("psi")]
    assert psi_steps[-1].rhs == 0  # psi = 0: the transport equation holds
    assert pr.bare_zero_steps() == ()


def test_estimator_proof_under_another_q_checks_v():
    p = _normal()
    q = p.with_(expr=p.expr.subs(sigma, 2 * sigma), name="q")
    est = sf.derive(p, _reparam(p), mu, q=q)
    pr = estimator_proof(est)
    v_steps = [s for s in pr.steps if s.lhs == sp.Symbol("v_1")]
    assert [s.basis for s in v_steps] == [Basis.DEFINITION, Basis.PREVIOUS]
    assert v_steps[1].verdict.ok
    assert pr.ok


def test_a_typed_in_biased_estimator_is_refuted():
    p = _normal()
    biased = sf.Estimator(p, mu, [1], (x - mu) / sigma**2)  # RP weight plus the score: counts twice
    pr = estimator_proof(biased)
    assert pr.steps[-1].verdict.status is Status.REFUTED
    assert pr.status is Status.REFUTED


def test_a_typed_in_likelihood_ratio_estimator_is_proved():
    p = _normal()
    lr = sf.Estimator(p, mu, [0], (x - mu) / sigma**2)
    pr = estimator_proof(lr)
    assert pr.steps[-1].verdict.status is Status.PROVED and pr.ok


# -- claims ------------------------------------------------------------------------------


def test_proof_of_a_verdict_shows_its_residual_and_decision():
    p = _normal()
    wrong = sf.Flow(p, {sigma: [(x - mu) / sigma**2]}, kind="user")
    verdict = sf.check_transport(p, wrong, wrt=sigma)
    bare = replace(verdict, proof=None)  # a verdict with no recorded proof
    pr = proof_of(bare, title="wrong flow")
    assert pr.title == "wrong flow"
    # the residual, its factored form (sigma - 1) (x - mu - sigma) (x - mu + sigma) / sigma^4, and R = 0 refuted
    assert [s.basis for s in pr.steps] == [Basis.DEFINITION, Basis.PREVIOUS, Basis.VERDICT]
    assert pr.steps[0].rhs == verdict.residual and pr.steps[2].verdict is bare
    assert sp.simplify(pr.steps[1].rhs - verdict.residual) == 0 and (sigma - 1) in sp.Mul.make_args(pr.steps[1].rhs)
    assert pr.steps[1].verdict.status is Status.PROVED
    assert pr.status is Status.REFUTED


def test_check_transport_attaches_a_stepwise_proof():
    p = _normal()
    good = sf.check_transport(p, sf.Flow(p, {sigma: [(x - mu) / sigma]}), wrt=sigma)
    pr = proof_of(good)
    # p and u defined; T = div(p u) + dp/dsigma; product rule; p (log route); R = the bracket (p > 0 divided out);
    # R with p and u substituted; R collected; R = 0
    assert [s.basis for s in pr.steps] == [Basis.DEFINITION] * 3 + [Basis.PREVIOUS] * 2 + [
        Basis.DEFINITION,
        Basis.PREVIOUS,
        Basis.PREVIOUS,
        Basis.VERDICT,
    ]
    assert all(s.verdict.status is Status.PROVED for s in pr.steps if s.needs_check)  # every step machine-checked
    assert pr.steps[6].given_from == (1, 2)  # the substitution of the density and the flow
    assert pr.status is Status.PROVED and pr.bare_zero_steps() == ()
    wrong = sf.check_transport(p, sf.Flow(p, {sigma: [(x - mu) / sigma**2]}), wrt=sigma)
    pr = proof_of(wrong)
    assert pr.steps[4].verdict.status is Status.PROVED and pr.status is Status.REFUTED
    assert pr.steps[-2].rule == "expand over one denominator and factor"  # R's factored form before R = 0


def test_proof_of_returns_an_attached_proof():
    attached = _square_proof()
    verdict = Verdict(Status.PROVED, "test", proof=attached)
    assert proof_of(verdict).steps == attached.steps
    assert proof_of(verdict).verdict is verdict
    assert proof_of(verdict, title="renamed").title == "renamed"


def test_proof_of_a_monte_carlo_result_keeps_its_status():
    class FakeMC:
        status = "refuted"
        method = "two-sided z-test"
        reason = ""

    pr = proof_of(FakeMC(), title="mc")
    assert pr.steps == () and pr.status is Status.REFUTED
    assert "two-sided z-test" in pr.to_latex()  # how it was decided: after the proof, not in its body


def test_proof_of_a_passing_measurement_does_not_claim_it_vanishes():
    # a Riemann-sum error of 0.067 that passed a convergence test is not "R = 0"
    measured = Verdict(Status.CONSISTENT, "errors fall with N", sp.Float(0.067), claim="sums converge")
    pr = proof_of(measured)
    assert pr.steps == () and pr.status is Status.CONSISTENT
    assert "0.067" in pr.notes[0] and "need not vanish" in pr.notes[0]
    assert "R &= 0" not in pr.to_latex()
    # a residual that was decided zero, and a refuted nonzero number, keep their R steps
    assert len(proof_of(Verdict(Status.PROVED, "symbolic", sp.log(2) + sp.log(3) - sp.log(6))).steps) == 2
    refuted = Verdict(Status.REFUTED, "numeric", sp.Float(0.5), Witness(((x, 1),), 0.5, 0.5, (15, 15)))
    assert len(proof_of(refuted).steps) == 2


def test_proof_of_a_crashed_claim_is_unknown():
    from symflow.cli.claims import Claim, run_claim

    def boom():
        raise RuntimeError("broken")

    result = run_claim(Claim("crashes", "1", "holds", boom))
    pr = proof_of(result)
    assert pr.status is Status.UNKNOWN and "broken" in pr.statement
    assert "NOT as expected" in pr.checks[-1]


# -- theorems ------------------------------------------------------------------------------


def test_theorem_3_and_4_general_proof_checks_out():
    pr = theorem_flow_estimator()
    assert pr.status is Status.PROVED and pr.unchecked == ()
    bases = [s.basis for s in pr.steps]
    assert bases.count(Basis.ASSUMPTION) == 2 and bases.count(Basis.ARGUMENT) == 1
    assert sum(s.needs_check for s in pr.steps) >= 7
    # The proof is about undefined functions, not one family.
    assert any(isinstance(a, sp.core.function.AppliedUndef) for s in pr.steps for a in sp.preorder_traversal(s.rhs))


def test_transport_for_any_invertible_g_checks_out():
    pr = theorem_reparameterization_transport()
    assert pr.status is Status.PROVED and pr.unchecked == ()
    last = pr.steps[-1]
    assert last.rhs == 0 and last.given_from == (4,) and last.verdict.status is Status.PROVED


def test_a_tampered_general_step_is_not_passed():
    p = sp.Function("p")(x, sp.Symbol("theta"))
    u, phi = sp.Function("u")(x), sp.Function("phi")(x)
    wrong = Step(sp.Derivative(p * u * phi, x), p * u * sp.Derivative(phi, x), "product rule, missing a term")
    (step,) = check_steps([wrong], LINE)
    assert step.verdict.status is not Status.PROVED and not step.checked


# -- LaTeX -----------------------------------------------------------------------------------


GOLDEN_SQUARE = (
    "\\par\\medskip\\noindent\\textbf{Square.}\\hfill[\\textsf{proved}]\\par\n"
    "\\noindent y is a polynomial in x.\\par\n"
    "\\begin{align}\n"
    "y &= \\left(x + 1\\right)^{2} \\label{symflow:square:s1} \\\\\n"
    " &= x^{2} + 2 x + 1 \\label{symflow:square:s2}\n"
    "\\end{align}\n"
    "\\noindent{\\small \\eqref{symflow:square:s1}~definition of y; "
    "\\eqref{symflow:square:s2}~expand the square (Eq.~1): $\\checkmark$.}\\par\n"
    "\\noindent{\\footnotesize\\emph{How the steps were checked.} \\eqref{symflow:square:s2} proved: "
    "structural: expands to the literal 0 term by term (deterministic).}\\par"
)


def test_golden_latex_fragment():
    assert _square_proof().to_latex() == GOLDEN_SQUARE


def test_standalone_document_wraps_the_fragment():
    doc = _square_proof().to_latex(standalone=True)
    assert doc.startswith("\\documentclass") and doc.rstrip().endswith("\\end{document}")
    assert "\\usepackage{amsmath,amssymb}" in doc and "\\usepackage{longtable}" in doc
    # the same chain, numbered per proof, and how each step was checked in an appendix table, not in the body
    chain = GOLDEN_SQUARE.split("\\begin{align}")[1].split("\\end{align}")[0].replace("square:", "square-1:")
    assert chain in doc and "\\renewcommand{\\theequation}{1.\\arabic{equation}}" in doc
    assert "\\section*{Appendix: how each step was checked}" in doc and "\\begin{longtable}" in doc


def test_long_expressions_are_broken_into_named_parts():
    big = sp.log(sum(sp.exp(-((x - k) ** 2) / (k + 1)) * sp.sin(k * x) ** 2 for k in range(1, 9)))
    steps = check_steps([Step(y, big, "a long definition")], LINE)
    tex = proof_latex(Proof("long", steps), max_expr_len=60)
    assert "\\mathcal{T}_{1}" in tex and "\\text{where}" in tex
    whole = proof_latex(Proof("long", steps), max_expr_len=10**6)
    assert "\\mathcal{T}" not in whole


def test_a_long_sum_of_short_terms_is_broken_across_lines():
    # as by hand: break after a term, continue with "+", one equation number for the whole
    big = sum(sp.exp(-((x - k) ** 2) / (k + 1)) * sp.sin(k * x) ** 2 for k in range(1, 9))
    tex = proof_latex(Proof("long", check_steps([Step(y, big, "a long definition")], LINE)), max_expr_len=60)
    assert "\\mathcal{T}" not in tex
    assert tex.count("\\notag \\\\\n&\\quad + ") == 2 and tex.count("\\label{") == 1


def test_a_named_part_is_written_out_once_and_reused():
    # step 1 (43 symbols) is over the limit of 40: the part (40 symbols) occurs in both steps, so it is named
    # first; step 2, sqrt(part), would fit written out but would repeat the part: it is printed with the name
    part = sp.erf((x - mu) / sigma) + sp.exp(-((x - mu) ** 2) / (2 * sigma**2)) * (x - mu) ** 3 / sigma**5
    steps = (
        ProofStep(y, sp.sin(part) ** 2, "first", basis=Basis.DEFINITION),
        ProofStep(sp.Symbol("w"), sp.sqrt(part), "second", basis=Basis.DEFINITION),
    )
    tex = proof_latex(Proof("reuse", steps), max_expr_len=40)
    assert tex.count("\\operatorname{erf}") == 1
    assert "w &= \\sqrt{\\mathcal{T}_{1}} \\label{symflow:reuse:s2}" in tex  # the repeated part is named first


def test_derivatives_of_products_are_bracketed():
    f = sp.Function("f")(x, y)
    tex = proof_latex(Proof("d", (ProofStep(y, sp.Derivative(f * x, x), "d", basis=Basis.DEFINITION),)))
    assert "\\frac{\\partial}{\\partial x}\\left(x f\\right)" in tex  # f(x, y) prints as f, as by hand


def test_text_is_escaped_for_latex():
    assert latex_text("a_b & 50% <= θ — ∇") == "a\\_b \\& 50\\% \\textless{}= $\\theta$ --- $\\nabla$"
    assert latex_text("ü") == "u" and latex_text("☃") == "?"


# -- sub-proofs, theorems, the checks' recorded mathematics ---------------------------------


def test_combine_keeps_one_sub_proof_per_part():
    p = _normal()
    verdict = sf.combine([(t, sf.check_transport(p, _reparam(p), t)) for t in (mu, sigma)], "both parameters")
    pr = proof_of(verdict)
    assert [part.title for part in pr.parts] == ["d/dmu", "d/dsigma"]
    assert all(part.status is Status.PROVED and part.steps for part in pr.parts)
    assert pr.status is Status.PROVED and pr.walk()[1:] == pr.parts
    # a part that failed makes the whole fail, and its own proof says where
    wrong = sf.Flow(p, {mu: [1], sigma: [(x - mu) / sigma**2]}, kind="user")
    bad = proof_of(sf.combine([(t, sf.check_transport(p, wrong, t)) for t in (mu, sigma)], "both"))
    assert [part.status for part in bad.parts] == [Status.PROVED, Status.REFUTED] and bad.status is Status.REFUTED


def test_a_part_without_a_recorded_proof_shows_its_residual():
    part = Verdict(Status.PROVED, "symbolic", sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1, claim="Pythagoras")
    pr = proof_of(sf.combine({"a": part}, "one part", noun="parts", label="{}"))
    (only,) = pr.parts
    assert [s.basis for s in only.steps] == [Basis.DEFINITION, Basis.VERDICT] and only.steps[0].rhs == part.residual


@pytest.mark.slow
def test_grp_trace_identity_in_one_two_three_dimensions():
    from symflow.proof import theorem_grp_trace_identity

    pr = theorem_grp_trace_identity(timeout=120)  # timeout= bounds the whole call; the d = 3 part takes ~5 s
    assert [part.title for part in pr.parts] == ["d = 1", "d = 2", "d = 3"]
    assert pr.status is Status.PROVED and all(part.unchecked == () for part in pr.parts)
    for part in pr.parts:
        bases = [s.basis for s in part.steps]
        assert bases.count(Basis.ASSUMPTION) == 1  # the inverse function theorem, stated
        assert sum(s.needs_check for s in part.steps) == 5  # every other step machine-checked


@pytest.mark.slow
def test_a_wrong_jacobi_step_is_not_passed():
    from symflow.estimators.identity_proofs import grp_trace_derivation
    from symflow.proof import check_proof

    pr = grp_trace_derivation(2)
    jacobi = pr.steps[2]
    wrong = replace(jacobi, rhs=jacobi.rhs * 2)  # twice the trace
    checked = check_proof(replace(pr, steps=(*pr.steps[:2], wrong, *pr.steps[3:])))
    assert checked.steps[2].verdict.status is not Status.PROVED and not checked.ok


@pytest.mark.slow
def test_normalization_proof_shows_the_antiderivative_and_the_limits():
    pr = proof_of(sf.check_normalized(sf.families.l_distribution(), timeout=60))  # the record shares the budget
    assert isinstance(pr.steps[0].rhs, sp.Integral)
    antiderivative = [s for s in pr.steps if s.rule == "F is an antiderivative of p"]
    assert antiderivative and antiderivative[0].verdict.status is Status.PROVED  # F' = p, machine-checked
    assert any(isinstance(s.rhs, sp.Add) and s.rhs.has(sp.Limit) for s in pr.steps)  # [F] at the edges
    assert pr.steps[-1].rhs == 1 and pr.status is Status.PROVED


def test_unbiasedness_proof_shows_both_integrals_and_the_bias():
    p = _normal()
    est = sf.derive(p, sf.Flow(p, {sigma: [(x - mu) / (2 * sigma)]}), sigma)
    pr = proof_of(sf.check_unbiased(est, x**2, timeout=30))
    names = [str(s.lhs) for s in pr.steps]
    assert names[:4] == ["L", "L", "G", "G"] and isinstance(pr.steps[0].rhs, sp.Integral)
    assert pr.steps[-1].rhs == 0 and pr.status is Status.PROVED and pr.bare_zero_steps() == ()


def test_classify_proof_derives_psi_star():
    p = _normal()
    pr = proof_of(sf.classify(sf.Estimator(p, sigma, [(x - mu) / sigma], (x - mu) ** 2 / sigma**3 - 1 / sigma)))
    assert str(pr.steps[0].lhs) == "psi^*" and pr.steps[1].verdict.status is Status.PROVED  # psi* = 0, checked
    assert pr.status is Status.REFUTED and "Counterexample" in pr.notes[0]


def test_a_closed_form_equal_to_the_derived_value_is_not_repeated():
    p = _normal()
    pr = proof_of(sf.check_weights(sf.derive(p, sf.flows.zero(p), mu), psi=(x - mu) / sigma**2, v=[0]))
    v_steps = [s for s in pr.steps if str(s.lhs) == "v_1"]
    assert [str(s.rhs) for s in v_steps] == ["u(x)", "0"] and "closed form" in v_steps[-1].rule
    assert pr.bare_zero_steps() == ()


@pytest.mark.slow
def test_term_by_term_and_factor_fallbacks_do_not_pass_a_wrong_step():
    # the fallbacks only run when the whole was not decided; a wrong term, or a product whose factors are
    # nonzero, must still not be proved
    f = sp.Function("f")(x)  # an undefined function: the whole difference is not decided numerically
    a, b = sp.sin(x) ** 2 + sp.cos(x) ** 2, sp.exp(x)
    steps = check_steps(
        [
            ProofStep(y, sp.Add(f * sp.S.One, b, evaluate=False), "start", basis=Basis.DEFINITION),
            ProofStep(y, sp.Add(f * a, b, evaluate=False), "right: f * 1 = f (sin^2 + cos^2)", basis=Basis.PREVIOUS),
            ProofStep(y, sp.Add(f * a, b + 1, evaluate=False), "wrong: one term off by 1", basis=Basis.PREVIOUS),
            ProofStep(
                y, sp.Add(2 * f * a, b, evaluate=False), "wrong: f (2 - 1) does not vanish", basis=Basis.PREVIOUS
            ),
        ],
        LINE,
    )
    assert steps[1].verdict.status is Status.PROVED
    assert steps[2].verdict.status is not Status.PROVED and steps[3].verdict.status is not Status.PROVED
