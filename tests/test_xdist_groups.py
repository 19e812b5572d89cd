"""The tests of one xdist_group run in one worker, on the pytest CI installs (conftest.py's scheduler).

pytest 9.2 dropped the node-id suffix that pytest-xdist's loadgroup groups by (pytest-xdist issue 1386): the
groups fell apart without a word, and a derivation module's claims or the corpus's mutants ran once per
worker. This runs a small suite with the repository's conftest.py in two workers and reads who ran what.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("xdist")

ROOT = Path(__file__).resolve().parents[1]

SUITE = """
import pytest

@pytest.mark.xdist_group("whole")
@pytest.mark.parametrize("i", range(6))
def test_marked(i):
    pass

@pytest.mark.parametrize("i", [pytest.param(k, marks=pytest.mark.xdist_group("by-param")) for k in range(6)])
def test_param_marked(i):
    pass

@pytest.mark.parametrize("i", range(6))
def test_free(i):
    pass
"""


@pytest.mark.slow  # two pytest workers start (5 s)
def test_a_group_runs_in_one_worker(tmp_path):
    (tmp_path / "conftest.py").write_text((ROOT / "conftest.py").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "test_suite.py").write_text(SUITE, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-v", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    assert "scheduling tests via GroupsFromWorkers" in out, out
    ran = re.findall(r"\[(gw\d)\] .*PASSED test_suite\.py::(\w+)\[", out)
    assert len(ran) == 18, out
    workers = {name: {w for w, test in ran if test == name} for name in ("test_marked", "test_param_marked")}
    assert all(len(w) == 1 for w in workers.values()), out
