"""compare: a table of estimators of one gradient, exact where possible."""

from __future__ import annotations

import functools

import pytest
import sympy as sp

import symflow as sf
from symflow.errors import EstimatorError
from symflow.families import l_distribution, normal
from symflow.theory.comparison import Comparison, compare

P = normal()
X = P.x[0]
MU, SIGMA = P.params
VALUES = {MU: sp.Rational(1, 2), SIGMA: sp.Rational(13, 10)}
Z_MAX = 4.0  # false-alarm rate 6.3e-5 per Monte Carlo comparison


def estimators():
    rp = sf.flows.reparam(P)
    return {
        "LR": sf.derive(P, sf.flows.zero(P), wrt=MU),
        "RP": sf.derive(P, rp, wrt=MU),
        "half": sf.derive(P, sf.flows.weighted(rp, sp.Rational(1, 2)), wrt=MU),
        "L": sf.derive(P, sf.flows.zero(P), wrt=MU, q=l_distribution()),
    }


@functools.cache
def exact_table() -> Comparison:
    return compare(estimators(), X**2, VALUES)


@pytest.mark.slow
def test_exact_table_planted_values():
    table = exact_table()
    assert isinstance(table, Comparison)
    assert table.target == 1  # d/dmu E[x^2] = 2 mu
    for row in table.rows:
        assert row.exact and row.mean == 1
    sigma2 = VALUES[SIGMA] ** 2
    mu = VALUES[MU]
    assert table.row("RP").variance == 4 * sigma2
    assert sp.simplify(table.row("LR").variance - (mu**4 + 14 * mu**2 * sigma2 + 15 * sigma2**2) / sigma2) == 0
    # q_L: E = x^2/(x - mu); by hand Var = (mu^4 + 2 mu^2 sigma^2 + 3 sigma^4)/sigma^2
    assert sp.simplify(table.row("L").variance - (mu**4 + 2 * mu**2 * sigma2 + 3 * sigma2**2) / sigma2) == 0


def test_rendering():
    table = exact_table()
    text = str(table)
    for name in ("LR", "RP", "half", "L"):
        assert name in text
    md = table.to_markdown()
    assert "| estimator | mean | variance | how |" in md
    assert md.count("\n| ") == 1 + len(table.rows)
    assert table._repr_markdown_() == md


@pytest.mark.slow
def test_quadrature_rows():
    # no closed form for 1/(1 + x^2): every row comes from quadrature, and each mean is the gradient
    est = {"LR": sf.derive(P, sf.flows.zero(P), wrt=MU), "RP": sf.derive(P, sf.flows.reparam(P), wrt=MU)}
    table = compare(est, 1 / (1 + X**2), VALUES, timeout=3)
    target = float(table.target)
    for row in table.rows:
        assert not row.exact and row.how.startswith("quadrature")
        assert abs(row.mean - target) < 1e-12


def test_estimators_of_different_gradients_are_refused():
    with pytest.raises(EstimatorError, match="same gradient"):
        compare([sf.derive(P, sf.flows.zero(P), wrt=MU), sf.derive(P, sf.flows.zero(P), wrt=SIGMA)], X, VALUES)
    with pytest.raises(EstimatorError):
        compare([], X, VALUES)
    with pytest.raises(EstimatorError):
        compare([P], X, VALUES)
