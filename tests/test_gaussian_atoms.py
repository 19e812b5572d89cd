"""The Gaussian atoms (P, y, Q, log det Sigma, OMT skew part) and mvn(form="precision").

Planted truths: every derivative rule agrees with differentiating the explicit
matrix expressions; the precision form has the same density values, flows and
verdicts as the nested form; transport is proved deterministically, and a
wrong flow is refuted with a witness.
"""

from __future__ import annotations

import pickle
import random

import mpmath
import numpy as np
import pytest
import sympy as sp

import symflow as sf
from symflow.structured.atoms import (
    Entries,
    LogDetCov,
    OmtSkew,
    OmtTurn,
    Precision,
    PrecVec,
    QuadForm,
)
from symflow.structured.ops import diff_structured, opaque


def _explicit(d: int):
    """The precision-form density and, for each atom, its explicit matrix expression."""
    p = sf.families.mvn(d, form="precision")
    x, mu = p.x, p.params[:d]
    L = sp.zeros(d, d)
    it = iter(p.params[d:])
    for i in range(d):
        for j in range(i + 1):
            L[i, j] = next(it)
    sigma = L * L.T
    prec = sigma.inv()
    z = sp.Matrix(x) - sp.Matrix(mu)
    y = prec * z
    lflat, X, Mu = Entries(*L), Entries(*x), Entries(*mu)
    pairs = [(QuadForm(X, Mu, lflat), (z.T * prec * z)[0]), (LogDetCov(lflat), sp.log(sigma.det()))]
    pairs += [(PrecVec(a, X, Mu, lflat), y[a]) for a in range(d)]
    pairs += [(Precision(a, b, lflat), prec[a, b]) for a in range(d) for b in range(d)]
    return p, pairs


def _point(symbols, seed: int) -> dict:
    rng = random.Random(seed)
    return {s: sp.Rational(rng.randint(5, 30), rng.randint(4, 9)) * rng.choice([1, 1, -1]) for s in symbols}


def _positive_diagonal(p, point: dict) -> dict:
    return {s: (abs(v) if s.is_positive else v) for s, v in point.items()}


@pytest.mark.slow
@pytest.mark.parametrize("d", [2, 3])
def test_every_derivative_rule_matches_explicit_differentiation(d):
    p, pairs = _explicit(d)
    symbols = list(p.x) + list(p.params)
    point = _positive_diagonal(p, _point(symbols, seed=d))
    floats = {s: sp.Float(v, 40) for s, v in point.items()}
    for atom, explicit in pairs:
        assert abs(atom.subs(floats).evalf(35) - explicit.subs(point).evalf(35)) < 1e-28
        for s in symbols:
            by_rule = diff_structured(atom, s).subs(floats).evalf(35)
            by_sympy = sp.diff(explicit, s).subs(point).evalf(35)
            assert abs(by_rule - by_sympy) < 1e-28, (atom, s)


def test_sympy_diff_uses_the_same_rules():
    p, pairs = _explicit(2)
    for atom, _ in pairs:
        for s in list(p.x) + list(p.params):
            assert sp.expand(sp.diff(atom, s) - diff_structured(atom, s)) == 0


@pytest.mark.parametrize("d", [2, 3])
def test_precision_form_has_the_nested_form_values(d):
    fast, nested = sf.families.mvn(d, form="precision"), sf.families.mvn(d)
    assert fast.params == nested.params and fast.x == nested.x
    point = _positive_diagonal(fast, _point(list(fast.x) + list(fast.params), seed=7))
    floats = {s: sp.Float(v, 40) for s, v in point.items()}
    assert abs(fast.expr.subs(floats).evalf(35) - nested.expr.subs(point).evalf(35)) < 1e-30
    for a, b in zip(fast.standardize, nested.standardize, strict=True):
        assert abs(a.subs(floats).evalf(35) - b.subs(point).evalf(35)) < 1e-28


@pytest.mark.parametrize("d", [2, 3, 5])
@pytest.mark.parametrize("kind", ["reparam", "omt"])
def test_transport_is_proved_deterministically(d, kind):
    p = sf.families.mvn(d, form="precision")
    flow = getattr(sf.flows, kind)(p)
    for theta in p.params:
        verdict = sf.check_transport(p, flow, theta)
        assert verdict.status is sf.Status.PROVED, (theta, verdict)
        assert verdict.method.startswith("structural"), verdict.method


def test_structured_omt_flow_equals_the_solved_one():
    fast, nested = sf.families.mvn(2, form="precision"), sf.families.mvn(2)
    u_fast, u_nested = sf.flows.omt(fast), sf.flows.omt(nested)
    point = _positive_diagonal(fast, _point(list(fast.x) + list(fast.params), seed=11))
    floats = {s: sp.Float(v, 40) for s, v in point.items()}
    for theta in fast.params:
        for a, b in zip(u_fast.field(theta), u_nested.field(theta), strict=True):
            assert abs(a.subs(floats).evalf(30) - b.subs(point).evalf(30)) < 1e-25


def test_omt_skew_part_solves_the_lyapunov_equation():
    p = sf.families.mvn(3, form="precision")
    lflat = next(iter(p.expr.atoms(QuadForm))).args[2]
    theta = p.params[4]  # L_21
    dl = Entries(*[sp.diff(e, theta) for e in lflat])
    point = _positive_diagonal(p, _point(p.params, seed=3))
    L = sp.Matrix(3, 3, list(lflat)).subs(point)
    dL = sp.Matrix(3, 3, list(dl))
    with mpmath.workdps(30):
        A = sp.Matrix(3, 3, lambda a, b: OmtSkew(a, b, dl, lflat).subs(point).evalf(30))
    sigma = L * L.T
    W = (A + dL * L.T) * sigma.inv()  # A = W Sigma - dL L^T
    assert max(abs(v) for v in (W - W.T)) < 1e-25  # W symmetric
    lyap = W * sigma + sigma * W - (dL * L.T + L * dL.T)
    assert max(abs(v) for v in lyap) < 1e-25
    assert max(abs(v) for v in (A + A.T)) < 1e-25


def test_wrong_flow_is_refuted_with_a_witness():
    p = sf.families.mvn(3, form="precision")
    theta = p.params[4]
    u = list(sf.flows.reparam(p).field(theta))
    u[1] = 2 * u[1]
    verdict = sf.check_transport(p, sf.Flow(p, {theta: u}), theta)
    assert verdict.status is sf.Status.REFUTED
    assert verdict.witness is not None


def _omt_variants(p, theta):
    """The OMT flow's field for theta, and wrong fields that keep its turns (or most of them)."""
    u = list(sf.flows.omt(p).field(theta))
    turn = [next(t for t in (c.args if c.is_Add else (c,)) if isinstance(t, OmtTurn)) for c in u]
    dl, X, Mu, lflat = turn[0].args[1:]
    shifted = Entries(*(m + 1 for m in Mu))  # the turns' y taken about mu + 1: not p's y
    return {
        "omt": u,
        "turn negated": [u[0] - 2 * turn[0], *u[1:]],
        "turns swapped": [u[0] - turn[0] + turn[1], u[1] - turn[1] + turn[0], *u[2:]],
        "one turn dropped": [u[0] - turn[0], *u[1:]],
        "rest of one component doubled": [*u[:1], 2 * u[1] - turn[1], *u[2:]],
        "turns about another mean": [u[a] - turn[a] + OmtTurn(a, dl, X, shifted, lflat) for a in range(len(u))],
    }


# d = 4 (8-14 s) is slow; the fast tier keeps d = 3, whose L_21 flow has turns too and takes every branch.
@pytest.mark.parametrize("d", [3, pytest.param(4, marks=pytest.mark.slow)])
def test_omt_turns_are_decided_once_and_wrong_turns_are_not_proved(d):
    from symflow.calculus.transport import TURNS_NOTE, _polys, transport_polynomial

    p = sf.families.mvn(d, form="precision")
    theta = p.params[d + 2]  # an entry of L (L_21 or L_22): its flow has turns
    for name, u in _omt_variants(p, theta).items():
        poly, note = transport_polynomial(p, u, theta)
        # Only the OMT flow and the one whose turns are all in place use the turns' shortcut.
        assert (note == TURNS_NOTE) == (name in ("omt", "rest of one component doubled")), name
        assert (poly == {}) == (name == "omt"), name  # the residual polynomial, decided deterministically
        verdict = sf.check_transport(p, sf.Flow(p, {theta: u}), theta)
        if name == "omt":
            assert verdict.status is sf.Status.PROVED and TURNS_NOTE in verdict.method, verdict
        else:  # refuted by the SymPy route with a witness (unknown if its budget runs out under load)
            assert verdict.status is not sf.Status.PROVED, (name, verdict)
    X, Mu, lflat = next(iter(p.expr.atoms(QuadForm))).args
    assert _polys(p).turns_cancel(X, Mu, lflat)
    assert not _polys(p).turns_cancel(X, Entries(*(m + 1 for m in Mu)), lflat)  # y^T A y' does not cancel


def test_antisymmetry_and_canonical_order():
    p = sf.families.mvn(3, form="precision")
    lflat = next(iter(p.expr.atoms(QuadForm))).args[2]
    dl = Entries(*([1] + [0] * 8))
    assert Precision(2, 0, lflat) == Precision(0, 2, lflat) == Precision.make(2, 0, lflat)
    assert OmtSkew(1, 1, dl, lflat) == 0
    assert OmtSkew(2, 1, dl, lflat) == -OmtSkew(1, 2, dl, lflat)
    assert OmtSkew(0, 1, Entries(*[0] * 9), lflat) == 0


def test_atoms_pickle_and_print():
    p = sf.families.mvn(2, form="precision")
    assert pickle.loads(pickle.dumps(p.expr)) == p.expr
    assert "Q" in str(p.expr) and r"\log\det\Sigma" in sp.latex(p.expr)


def test_opaque_keeps_the_atoms_apart():
    p = sf.families.mvn(2, form="precision")
    expr = p.log_expr
    hidden, back = opaque(expr)
    assert not any(isinstance(a, (QuadForm, LogDetCov)) for a in sp.preorder_traversal(hidden))
    assert hidden.xreplace(back) == expr


def test_form_is_validated():
    with pytest.raises(sf.DensityError, match="form must be one of"):
        sf.families.mvn(2, form="fast")


def _values(p, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {s: (1.0 + rng.random()) if s.is_positive else 0.5 * rng.normal() for s in p.params}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["reparam", "zero"])
def test_compiled_precision_form_equals_the_nested_form(kind):
    fast, nested = sf.families.mvn(3, form="precision"), sf.families.mvn(3)
    values = _values(fast, 1)
    x = fast.sample(20_000, values, np.random.default_rng(2))
    phi, grad = (x**2).sum(axis=1) + np.sin(x).sum(axis=1), 2 * x + np.cos(x)
    for theta in (fast.params[1], fast.params[4], fast.params[8]):
        a = sf.derive(fast, getattr(sf.flows, kind)(fast), theta).compile()(x, phi, grad, values)
        b = sf.derive(nested, getattr(sf.flows, kind)(nested), theta).compile()(x, phi, grad, values)
        assert np.max(np.abs(a - b)) <= 1e-12 * np.max(np.abs(b))


@pytest.mark.slow
def test_compiled_omt_estimator_agrees_with_the_cholesky_one_in_mean():
    p = sf.families.mvn(3, form="precision")
    values = _values(p, 3)
    x = p.sample(400_000, values, np.random.default_rng(4))
    phi, grad = (x**2).sum(axis=1) + x[:, 0] * x[:, 2], 2 * x + x[:, ::-1] * np.array([1, 0, 1])
    for theta in (p.params[4], p.params[7]):
        omt = sf.derive(p, sf.flows.omt(p), theta).compile()(x, phi, grad, values)
        chol = sf.derive(p, sf.flows.reparam(p), theta).compile()(x, phi, grad, values)
        assert not np.allclose(omt, chol)  # different estimators ...
        stderr = np.sqrt(np.var(omt - chol) / len(x))
        assert abs(np.mean(omt) - np.mean(chol)) < 5 * stderr  # ... of the same gradient


def test_simplify_and_factor_terms_accept_the_atoms():
    p = sf.families.mvn(2, form="precision")
    expr = p.score(p.params[3]) * p.params[0]
    point = {s: sp.Float(v, 30) for s, v in _positive_diagonal(p, _point(list(p.x) + list(p.params), 5)).items()}
    for rewritten in (sp.simplify(expr), sp.factor_terms(expr)):
        assert abs((rewritten - expr).subs(point).evalf(25)) < 1e-20


def test_omt_turn_is_the_sum_of_skew_times_y():
    p = sf.families.mvn(3, form="precision")
    theta = p.params[4]  # L_21
    flow = sf.flows.omt(p)
    turns = sorted({t for c in flow.field(theta) for t in sp.preorder_traversal(c) if isinstance(t, OmtTurn)}, key=str)
    point = _positive_diagonal(p, _point(list(p.x) + list(p.params), seed=5))
    floats = {s: sp.Float(v, 40) for s, v in point.items()}
    for turn in turns:
        assert abs(turn.subs(floats).evalf(30) - turn.expanded().subs(floats).evalf(30)) < 1e-25
        for s in (p.x[0], p.x[2], p.params[1]):
            # the rule for x is exact; for parameters both sides hold the same unevaluated Lyapunov derivatives
            assert sp.expand(sp.diff(turn, s) - sp.diff(turn.expanded(), s)) == 0
    assert OmtTurn(0, Entries(*[0] * 9), *turns[0].args[2:]) == 0
    assert str(turns[0]).startswith("(A y)_") and "(A y)_{" in sp.latex(turns[0])


def test_free_symbols_and_depth_read_each_argument_tuple_once():
    from symflow.core.convert import expression_depth
    from symflow.structured.ops import free_symbols

    p = sf.families.mvn(4, form="precision")
    flow = sf.flows.omt(p)
    for _, comps in flow.fields:
        for c in comps:
            assert free_symbols(c) == c.free_symbols
    x = p.x[0]
    for e in (sp.Integral(x * p.params[0], (x, 0, 1)), sp.Lambda(x, x + p.params[1]), sp.exp(x) * p.params[2]):
        assert free_symbols(e) == e.free_symbols

    def naive(e) -> int:
        return 1 + max((naive(a) for a in e.args), default=0)

    for c in flow.field(p.params[5]) + (p.expr,):
        assert expression_depth(c) == naive(c)  # the atoms' depths are cached, the answer is the same


def test_has_any_and_noncommutative_symbols_agree_with_sympy_inside_the_atoms():
    from symflow.structured.ops import has_any, noncommutative_symbols

    p = sf.families.mvn(3, form="precision")
    flow = sf.flows.omt(p)
    X, Mu, lflat = next(iter(p.expr.atoms(QuadForm))).args
    a, b = sp.symbols("a b", commutative=False)
    # Planted inside an atom's argument tuple, where has_any reads each tuple once.
    odd = [sp.nan, sp.DiracDelta(p.x[0]), a * b]
    planted = [PrecVec(0, X, Entries(*Mu[:-1], m), lflat) for m in odd]
    exprs = [c for _, comps in flow.fields for c in comps] + [p.expr, *planted, planted[0] + sp.zoo]
    for e in exprs:
        for pats in ((sp.nan,), (sp.zoo,), (sp.nan, sp.zoo), (sp.DiracDelta,), (sp.Heaviside, sp.DiracDelta)):
            assert has_any(e, *pats) == e.has(*pats), (e, pats)
        assert noncommutative_symbols(e) == {s for s in e.free_symbols if s.is_commutative is False}
    assert has_any(planted[0], sp.nan) and has_any(planted[1], sp.DiracDelta)
    assert noncommutative_symbols(planted[2]) == {a, b}
    with pytest.raises(sf.FlowError, match="DiracDelta"):
        sf.Flow(p, {p.params[0]: [planted[1], 0, 0]})
