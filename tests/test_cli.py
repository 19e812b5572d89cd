"""The ``symflow`` command line: table and JSON output, exit statuses, ``python -m symflow``."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from symflow.cli.app import main, truncate
from symflow.core import budget

REPO = Path(__file__).resolve().parents[1]

# Claims whose verdicts are planted by hand, so the CLI's reporting is tested
# independently of the checks.  `good` holds and is expected to; `wrong` is
# expected refuted and is; `long` carries a method too long for the table.
GOOD_MODULE = textwrap.dedent(
    """
    import sympy as sp
    import symflow as sf

    x = sp.Symbol("x")

    @sf.claim("planted identity holds", equation="21")
    def good():
        return sf.Verdict("proved", "structural: planted")

    @sf.claim("planted wrong flow", equation="52", expect="refuted")
    def wrong():
        w = sf.Witness(((x, 2),), 0.5, 0.5)
        return sf.Verdict("refuted", "numeric at 50 digits", x / 4, w)

    @sf.claim("planted with long method", equation="56")
    def long():
        return sf.Verdict("consistent", "mpmath " + "very " * 40 + "END-OF-METHOD")
    """
)

# A claim declared to hold whose verdict is refuted: verify must exit 1 and
# print the full verdict text, witness included.
FAILING_MODULE = textwrap.dedent(
    """
    import sympy as sp
    import symflow as sf

    x = sp.Symbol("x")

    @sf.claim("claimed but false", equation="7")
    def false_claim():
        w = sf.Witness(((x, 3),), 1.25, 1.25)
        return sf.Verdict("refuted", "planted refutation", x - 1.75, w, claim="planted false claim")
    """
)


@pytest.fixture
def good_dir(tmp_path: Path) -> Path:
    (tmp_path / "planted.py").write_text(GOOD_MODULE)
    return tmp_path


@pytest.fixture
def failing_dir(tmp_path: Path) -> Path:
    (tmp_path / "planted.py").write_text(GOOD_MODULE)
    (tmp_path / "zz_failing.py").write_text(FAILING_MODULE)
    return tmp_path


def test_table_lists_every_claim_and_exits_0(good_dir, capsys):
    assert main(["verify", str(good_dir)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = lines[0].split()
    assert header == ["claim", "eq.", "expected", "verdict", "method", "seconds"]
    row = next(ln for ln in lines if ln.startswith("planted identity holds"))
    assert "21" in row and "holds" in row and "proved" in row and "structural: planted" in row
    row = next(ln for ln in lines if ln.startswith("planted wrong flow"))
    assert "refuted" in row.split()  # expected and verdict
    assert row.split().count("refuted") == 2
    assert "3 claims: 3 as expected, 0 not" in out
    # an expected refutation is shown with its witness
    assert "refuted as expected: planted wrong flow" in out
    assert "witness: at x = 2" in out


def test_long_method_is_truncated_in_the_table(good_dir, capsys):
    main(["verify", str(good_dir)])
    lines = capsys.readouterr().out.splitlines()
    row = next(ln for ln in lines if ln.startswith("planted with long method"))
    assert "..." in row and "END-OF-METHOD" not in row
    assert max(len(ln) for ln in lines[:5]) < 170


def test_truncate_keeps_short_text_and_cuts_long_text():
    assert truncate("short  text\nhere", 40) == "short text here"
    cut = truncate("x" * 100, 20)
    assert len(cut) == 20 and cut.endswith("...")


def test_json_output(good_dir, capsys):
    assert main(["verify", str(good_dir), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["claim"] for r in rows] == ["planted identity holds", "planted wrong flow", "planted with long method"]
    wrong = rows[1]
    assert wrong["module"] == "planted"
    assert wrong["equation"] == "52"
    assert wrong["expected"] == "refuted" and wrong["status"] == "refuted"
    assert wrong["as_expected"] is True
    assert "x = 2" in wrong["witness"]
    assert all(isinstance(r[k], str) for r in rows for k in ("claim", "module", "method", "reason", "witness"))
    assert all(isinstance(r["seconds"], float) for r in rows)


def test_claim_expected_to_hold_that_fails_exits_1(failing_dir, capsys):
    assert main(["verify", str(failing_dir)]) == 1
    out = capsys.readouterr().out
    assert "4 claims: 3 as expected, 1 not" in out
    assert "NOT AS EXPECTED: claimed but false" in out
    # the full verdict text, with its witness, follows the summary
    assert "planted false claim: refuted (planted refutation)" in out
    assert "witness: at x = 3" in out


def test_json_marks_unexpected_claim_and_exits_1(failing_dir, capsys):
    assert main(["verify", str(failing_dir / "zz_failing.py"), "--json"]) == 1
    (row,) = json.loads(capsys.readouterr().out)
    assert row["as_expected"] is False and row["status"] == "refuted" and row["expected"] == "holds"


def test_raising_claim_and_broken_module_are_reported_not_fatal(tmp_path, capsys):
    (tmp_path / "a_broken.py").write_text("import a_module_that_does_not_exist_anywhere\n")
    (tmp_path / "b_raises.py").write_text(
        "import symflow as sf\n\n@sf.claim('raises', equation='1')\ndef r():\n    raise RuntimeError('boom')\n"
    )
    assert main(["verify", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "ModuleNotFoundError" in out
    assert "raised RuntimeError: boom" in out
    assert "2 claims: 0 as expected, 2 not" in out


def test_missing_path_is_a_usage_error(tmp_path, capsys):
    missing = tmp_path / "no_such_folder"
    assert main(["verify", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "no such file or folder" in err and str(missing) in err
    assert "Traceback" not in err


def test_folder_without_claims_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "empty.py").write_text("X = 1\n")
    assert main(["verify", str(tmp_path)]) == 2
    assert "no claims found" in capsys.readouterr().err


def test_non_python_file_is_a_usage_error(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    assert main(["verify", str(notes)]) == 2
    assert "neither a directory nor a .py file" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [[], ["frobnicate"], ["verify", "--timeout", "soon"], ["verify", "--no-such-flag"]],
)
def test_bad_arguments_exit_2(argv, capsys):
    assert main(argv) == 2
    assert "usage: symflow" in capsys.readouterr().err


def test_nonpositive_timeout_is_a_usage_error(good_dir, capsys):
    assert main(["verify", str(good_dir), "--timeout", "0"]) == 2
    assert "--timeout must be a positive" in capsys.readouterr().err


def test_timeout_is_scoped_to_the_run(good_dir, capsys):
    before = budget.default_timeout()
    assert main(["verify", str(good_dir), "--timeout", "1.5"]) == 0
    assert budget.default_timeout() == before


def test_default_path_is_derivations_in_cwd(good_dir, monkeypatch, capsys):
    (good_dir / "derivations").mkdir()
    (good_dir / "planted.py").rename(good_dir / "derivations" / "planted.py")
    monkeypatch.chdir(good_dir)
    assert main(["verify", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 3


@pytest.mark.slow
def test_python_dash_m_symflow(failing_dir):
    ok = subprocess.run(
        [sys.executable, "-m", "symflow", "verify", str(failing_dir / "planted.py")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert "3 claims: 3 as expected, 0 not" in ok.stdout
    usage = subprocess.run(
        [sys.executable, "-m", "symflow", "verify", str(failing_dir / "missing")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert usage.returncode == 2
    assert "Traceback" not in usage.stderr


def test_worker_processes_give_the_same_report_as_one_process(failing_dir, capsys):
    reports = []
    for jobs in ("1", "3"):
        assert main(["verify", str(failing_dir), "--json", "--jobs", jobs]) == 1
        rows = json.loads(capsys.readouterr().out)
        reports.append([{k: v for k, v in r.items() if k != "seconds"} for r in rows])
    assert reports[0] == reports[1]
    assert len(reports[0]) >= 4 and any(not r["as_expected"] for r in reports[0])


def test_jobs_must_be_positive(good_dir, capsys):
    assert main(["verify", str(good_dir), "--jobs", "0"]) == 2
    assert "--jobs must be a positive number" in capsys.readouterr().err
