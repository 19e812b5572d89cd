"""boxes: Riemann sums with fixed (LR, Eq. 38) and moving (RP, Eq. 34) boxes."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symflow as sf
from symflow.errors import EstimatorError
from symflow.families import normal
from symflow.theory.boxes import BoxRow, BoxTable, box_gradients, check_boxes_converge, equal_mass_centers

P = normal()
X = P.x[0]
MU, SIGMA = P.params
VALUES = {MU: sp.Rational(1, 2), SIGMA: sp.Rational(13, 10)}


def test_equal_mass_centers_are_quantiles():
    from scipy.stats import norm

    xs = equal_mass_centers(P, VALUES, 10)
    want = norm.ppf((np.arange(10) + 0.5) / 10, loc=0.5, scale=1.3)
    assert np.max(np.abs(xs - want)) < 1e-12


def test_rp_boxes_exact_for_linear_flow_times_linear_phi_prime():
    # phi = x^2, d/dmu: RP sum = (1/N) sum 2 x_i = 2 mu exactly for symmetric centers
    table = box_gradients(P, X**2, MU, VALUES, (10,))
    assert table.exact == 1.0 and abs(table.rows[0].rp - 1.0) < 1e-13


def test_errors_fall():
    table = box_gradients(P, X**3 + X, SIGMA, VALUES)
    assert [r.n_boxes for r in table.rows] == [10, 100, 1000]
    assert table.rows[0].lr_error > table.rows[1].lr_error > table.rows[2].lr_error
    assert table.rows[0].rp_error > table.rows[1].rp_error > table.rows[2].rp_error
    assert check_boxes_converge(table).status == "consistent"
    assert "N" in str(table) and table.to_markdown().count("\n") == 4


def test_rising_error_is_refuted():
    rows = (BoxRow(10, 0.9, 1.0, 0.1, 0.0), BoxRow(100, 0.8, 1.0, 0.2, 0.0))
    v = check_boxes_converge(BoxTable(rows, 1.0, "planted", X, MU, ()))
    assert v.status == "refuted" and dict(v.witness.point)[sp.Symbol("N", positive=True, integer=True)] == 100


def test_density_without_cdf_is_refused():
    bare = sf.Density(P.expr, P.x, P.params)
    with pytest.raises(EstimatorError, match="CDF"):
        equal_mass_centers(bare, VALUES, 10)


def test_sum_settling_on_a_wrong_limit_is_not_consistent():
    # a flow 10% too slow in sigma: the RP sum tends to 0.9 * 2.6 = 2.34, not d/dsigma E[x^2] = 2 sigma = 2.6;
    # its errors still fall at N = 10, 100, 1000 (0.54, 0.29, 0.26) but it has stopped moving
    wrong = sf.Flow(P, {MU: [sp.Integer(1)], SIGMA: [sp.Rational(9, 10) * (X - MU) / SIGMA]})
    table = box_gradients(P, X**2, SIGMA, VALUES, flow=wrong)
    assert table.rows[0].rp_error > table.rows[1].rp_error > table.rows[2].rp_error
    v = check_boxes_converge(table)
    assert v.status == "unknown" and "RP sum settles away" in v.reason
    assert check_boxes_converge(box_gradients(P, X**2, SIGMA, VALUES)).status == "consistent"


def test_planted_settled_sum_is_unknown_and_moving_one_consistent():
    # errors 0.5, 0.3, 0.2 fall, but the sum moved by only 0.01 last: 0.2 > 4 x 0.01
    rows = (BoxRow(10, 1.5, 1.0, 0.5, 0.0), BoxRow(100, 1.3, 1.0, 0.3, 0.0), BoxRow(1000, 1.29, 1.0, 0.2, 0.0))
    assert check_boxes_converge(BoxTable(rows, 1.0, "planted", X, MU, ())).status == "unknown"
    rows = rows[:2] + (BoxRow(1000, 1.2, 1.0, 0.2, 0.0),)  # moved by 0.1: 0.2 <= 4 x 0.1
    assert check_boxes_converge(BoxTable(rows, 1.0, "planted", X, MU, ())).status == "consistent"
