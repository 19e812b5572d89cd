"""``symflow derive``: densities and flows typed as text, read by sf.parse, derived and checked.

Planted truths: the Gaussian's scale flow (x - mu)/sigma solves the transport equation (psi = 0);
half of it leaves psi = ((x - mu)^2 - sigma^2)/(2 sigma^3), derived by hand from Eq. 19; the zero
flow for mu gives the score (x - mu)/sigma^2; twice a density is not normalized (exit 1).
Hostile text in any option is refused with exit status 2 and runs nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

import symflow as sf
from symflow.cli.app import EXIT_OK, EXIT_UNEXPECTED, EXIT_USAGE, main

REPO = Path(__file__).resolve().parents[1]
GAUSS = "exp(-(x - mu)**2/(2*sigma**2))/(sqrt(2*pi)*sigma)"
# A generous budget per symbolic step: the verdicts asserted below must not turn unknown on a loaded machine.
BASE = ["derive", "--x", "x", "--params", "mu,sigma", "--positive", "sigma", "--density", GAUSS, "--timeout", "60"]

x, mu = sp.symbols("x mu", real=True)
sigma = sp.Symbol("sigma", real=True, positive=True)
NAMES = {"x": x, "mu": mu, "sigma": sigma}


def run_json(capsys, *extra: str) -> tuple[int, dict]:
    status = main([*BASE, *extra, "--json"])
    return status, json.loads(capsys.readouterr().out)


def test_reparameterization_flow_has_zero_psi(capsys):
    status = main([*BASE, "--flow", "(x - mu)/sigma", "--wrt", "sigma"])
    out = capsys.readouterr().out
    assert status == EXIT_OK
    assert "psi = 0" in out
    assert "transport: transport equation for user flow, d/dsigma: proved" in out
    assert "normalized: p is normalized: proved" in out


@pytest.mark.slow
def test_half_flow_psi_matches_the_hand_derivation(capsys):
    status, row = run_json(capsys, "--flow", "(x - mu)/(2*sigma)", "--wrt", "sigma", "--phi", "x**2")
    assert status == EXIT_OK
    psi = sf.parse(row["psi"], NAMES)  # the printed psi reads back through the same parser
    assert sp.simplify(psi - ((x - mu) ** 2 - sigma**2) / (2 * sigma**3)) == 0
    assert sp.simplify(sf.parse(row["v"][0], NAMES) - (x - mu) / (2 * sigma)) == 0
    assert row["verdicts"]["transport"]["status"] == "refuted"  # not a reparameterization flow ...
    assert row["verdicts"]["unbiased"]["status"] == "proved"  # ... but still an unbiased estimator


@pytest.mark.slow
def test_no_flow_is_the_likelihood_ratio(capsys):
    status, row = run_json(capsys, "--wrt", "mu")
    assert status == EXIT_OK
    assert row["flow"] == ["0"]
    assert sp.simplify(sf.parse(row["psi"], NAMES) - (x - mu) / sigma**2) == 0


@pytest.mark.slow
def test_unnormalized_density_exits_1(capsys):
    argv = ["derive", "--x", "x", "--params", "mu,sigma", "--positive", "sigma", "--density", f"2*{GAUSS}"]
    status = main([*argv, "--wrt", "mu", "--timeout", "60", "--json"])
    row = json.loads(capsys.readouterr().out)
    assert status == EXIT_UNEXPECTED == row["exit_status"]
    assert row["verdicts"]["normalized"]["status"] == "refuted"


@pytest.mark.slow
def test_support_sampling_and_values(capsys):
    # Exponential on [0, oo), sampled from an exponential of half the rate, checked at lam = 2.
    argv = ["derive", "--x", "x", "--params", "lam", "--positive", "lam", "--density", "lam*exp(-lam*x)"]
    argv += ["--lower", "0", "--sampling", "lam/2*exp(-lam*x/2)", "--wrt", "lam", "--phi", "x", "--at", "lam=2"]
    status = main([*argv, "--timeout", "60", "--json"])
    row = json.loads(capsys.readouterr().out)
    assert status == EXIT_OK
    lam, xp = sp.Symbol("lam", positive=True), sp.Symbol("x", real=True)
    psi = sf.parse(row["psi"], {"lam": lam, "x": xp})
    want = (1 / lam - xp) * lam * sp.exp(-lam * xp) / (lam / 2 * sp.exp(-lam * xp / 2))  # (dp/dlam) / q
    assert sp.simplify(psi - want) == 0
    assert row["verdicts"]["q normalized"]["status"] == "proved"
    assert row["verdicts"]["unbiased"]["status"] == "consistent"


HOSTILE_ARGS = [
    ["--density", "__import__('os').system('touch PWNED')", "--wrt", "mu"],
    ["--flow", "().__class__.__bases__[0].__subclasses__()", "--wrt", "mu"],
    ["--flow", "exec(x)", "--wrt", "mu"],
    ["--sampling", "(lambda: open('PWNED', 'w'))()", "--wrt", "mu"],
    ["--lower", "9**9**9**9", "--wrt", "mu"],
    ["--upper", "\u0445", "--wrt", "mu"],
    ["--phi", "x.__class__", "--wrt", "mu"],
    ["--phi", "x**2", "--at", "mu=__import__('os'),sigma=1", "--wrt", "mu"],
    ["--phi", "x**2", "--at", "__class__=1", "--wrt", "mu"],
    ["--wrt", "__import__('os')"],
]


@pytest.mark.parametrize("extra", HOSTILE_ARGS, ids=[a[0] + ":" + a[1][:20] for a in HOSTILE_ARGS])
def test_hostile_text_in_any_option_is_refused(extra, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main([*BASE, *extra]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("symflow derive: error: ")
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["derive", "--x", "x;import os", "--params", "mu", "--density", "x", "--wrt", "mu"], "plain ASCII"),
        (["derive", "--x", "x", "--params", "lambda", "--density", "x", "--wrt", "lambda"], "Python keyword"),
        (["derive", "--x", "x", "--params", "exp", "--density", "x", "--wrt", "exp"], "name of a function"),
        (["derive", "--x", "x", "--params", "mu,mu", "--density", "x", "--wrt", "mu"], "twice"),
        (["derive", "--x", "x", "--params", "mu", "--density", "x", "--wrt", "sigma"], "--wrt sigma"),
        (["derive", "--x", "x", "--params", "mu", "--positive", "s", "--density", "x", "--wrt", "mu"], "--positive"),
        (["derive", "--x", "x", "--params", "mu", "--density", "z", "--wrt", "mu"], "undeclared name 'z'"),
        (["derive", "--x", "x", "--params", "mu", "--density", "x", "--wrt", "mu", "--at", "mu=1"], "--phi"),
        ([*BASE, "--flow", "x", "--flow", "x", "--wrt", "mu"], "once per variable"),
        ([*BASE, "--wrt", "mu", "--timeout", "-1"], "--timeout"),
        ([*BASE, "--wrt", "mu", "--phi", "mu"], "--phi: refused the undeclared name 'mu'"),
    ],
)
def test_bad_usage_exits_2_with_the_reason(argv, message, capsys):
    assert main(argv) == EXIT_USAGE
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_python_dash_m_symflow_derive_runs():
    run = subprocess.run(
        [sys.executable, "-m", "symflow", *BASE, "--flow", "(x - mu)/sigma", "--wrt", "sigma"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert run.returncode == EXIT_OK, run.stderr
    assert "psi = 0" in run.stdout


@pytest.mark.slow
def test_a_negative_expression_after_an_option_is_its_value(capsys):
    """``--flow -x/a`` is the flow -x/a, not an unknown option (argparse would read it as one)."""
    argv = ["derive", "--x", "x", "--params", "a", "--positive", "x,a", "--density", "a*exp(-a*x)", "--lower", "0"]
    assert main([*argv, "--flow", "-x/a", "--wrt", "a"]) == EXIT_OK
    spaced = capsys.readouterr().out
    assert main([*argv, "--flow=-x/a", "--wrt", "a"]) == EXIT_OK
    assert capsys.readouterr().out == spaced
    assert "u_a[x] = -x/a" in spaced and "psi = 0" in spaced
