"""Dask scale-out: mc_check's chunks and verify's claims on a LocalCluster of 2 worker processes.

The cluster is started once for the module (processes=True, one thread each, not daemonic: claims
fork budgeted children).  Results must be the same bits as the local run, for any worker count.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import symflow as sf
from symflow.cli import main

# find_spec, not importorskip: every xdist worker collects this module, and an import here would load Dask into
# both workers for the whole suite (each later fork of a budgeted step copies its pages: conftest.py)
if importlib.util.find_spec("distributed") is None:
    pytest.skip('Dask not installed: pip install "symflow[dask]"', allow_module_level=True)

REPO = Path(__file__).resolve().parents[1]

# Fields of an MCResult that are numbers or verdicts (``method`` names the engine and differs).
NUMERIC_FIELDS = ("mean", "stderr", "exact", "z", "delta", "status", "n", "tail_index", "reason")


@pytest.fixture(scope="module")
def client():
    import dask
    from distributed import Client, LocalCluster

    # Worker processes are spawned: make the repository's symflow importable there as here.
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO), *([old] if old else [])])
    try:
        with dask.config.set({"distributed.worker.daemon": False}):
            cluster = LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=40
            )
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old
    with Client(cluster) as c:
        yield c
    cluster.close()


def _lr_check(**kwargs):
    p = sf.families.normal()
    mu, sigma = p.params
    (x,) = p.x
    est = sf.derive(p, sf.flows.zero(p), sigma)
    return sf.mc_check(est, x**2, {mu: 0.3, sigma: 1.2}, 200_000, seed=7, chunk=2**13, exact=2.4, **kwargs)


def _same(a, b) -> None:
    for name in NUMERIC_FIELDS:
        assert getattr(a, name) == getattr(b, name), name


@pytest.mark.slow
def test_mc_check_on_the_cluster_gives_the_local_bits(client):
    local_1, local_2 = _lr_check(workers=1), _lr_check(workers=2)
    on_cluster = _lr_check(client=client)
    _same(local_1, local_2)
    _same(local_1, on_cluster)
    assert "Dask" in on_cluster.method
    assert on_cluster.status == "consistent"


def test_mc_check_with_extra_terms_on_the_cluster(client):
    p = sf.families.poisson()
    (lam,) = p.params
    (y,) = p.x
    est = sf.go_estimator(p, lam)
    kwargs = dict(phi=y**2, params={lam: 2.5}, n=50_000, seed=3, chunk=2**12, exact=6.0)
    _same(sf.mc_check(est, workers=1, **kwargs), sf.mc_check(est, client=client, **kwargs))


def test_a_wrong_client_names_the_fix():
    with pytest.raises(sf.SymflowError, match="dask.distributed Client"):
        _lr_check(client="tcp://127.0.0.1:8786")


GOOD = """
import symflow as sf
import sympy as sp

p = sf.families.normal()
mu, sigma = p.params


@sf.claim("RP flow for sigma solves transport", equation="52")
def rp_sigma():
    return sf.check_transport(p, sf.flows.reparam(p), sigma)


@sf.claim("a wrong flow is refuted", expect="refuted")
def wrong():
    return sf.check_transport(p, sf.Flow(p, {sigma: [p.x[0]]}), sigma)


@sf.claim("LR estimator passes mc_check")
def lr_mc():
    est = sf.derive(p, sf.flows.zero(p), sigma)
    return sf.mc_check(est, p.x[0] ** 2, {mu: 0.3, sigma: 1.2}, 20000, seed=1, exact=2.4)
"""


def test_verify_on_the_cluster_gives_the_local_verdicts(client, tmp_path, capsys):
    (tmp_path / "planted.py").write_text(GOOD)
    assert main(["verify", str(tmp_path), "--json", "--jobs", "1"]) == 0
    local = capsys.readouterr().out
    assert main(["verify", str(tmp_path), "--json", "--scheduler", client.scheduler.address]) == 0
    remote = capsys.readouterr().out
    import json

    def key(rows):
        # Witnesses are drawn with operating-system randomness (symflow.zero.points): the verdicts must
        # agree, the witness points need not; each side's witness is a confirmed one.
        return [(r["claim"], r["status"], r["as_expected"], r["witness"] is None) for r in json.loads(rows)]

    assert key(local) == key(remote)
    assert [r["status"] for r in json.loads(remote)] == ["proved", "refuted", "consistent"]


@pytest.mark.slow
def test_verify_reports_an_unreachable_scheduler(tmp_path, capsys):
    import dask

    (tmp_path / "planted.py").write_text(GOOD)
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):  # Dask's default is 30 s
        assert main(["verify", str(tmp_path), "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err


def test_daemonic_workers_get_a_clear_error(monkeypatch):
    import multiprocessing

    from symflow.cli import claims

    monkeypatch.setattr(multiprocessing.current_process(), "daemon", True, raising=False)
    result, seconds, error = claims.run_claim_remote("no_file.py", "f")
    assert result is None and "DASK_DISTRIBUTED__WORKER__DAEMON=False" in error


@pytest.mark.slow
def test_without_a_scheduler_dask_is_not_imported():
    code = (
        "import sys, sympy as sp, symflow as sf\n"
        "p = sf.families.normal(); mu, sigma = p.params\n"
        "sf.mc_check(sf.derive(p, sf.flows.zero(p), sigma), p.x[0]**2, {mu: 0.3, sigma: 1.2}, 1000, exact=2.4)\n"
        "print([m for m in ('dask', 'distributed') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_verify_derivations_on_two_dask_workers(capsys):
    # One module of 9 quick claims keeps the slow tier short; the whole folder runs the same code path.
    module = str(REPO / "derivations" / "core_reparam.py")
    assert main(["verify", module, "--dask-workers", "2", "--json"]) == 0
    on_dask = json.loads(capsys.readouterr().out)
    assert main(["verify", module, "--jobs", "1", "--json"]) == 0
    in_process = json.loads(capsys.readouterr().out)
    assert len(on_dask) == 9
    assert [(r["claim"], r["as_expected"]) for r in on_dask] == [(r["claim"], r["as_expected"]) for r in in_process]


def test_results_do_not_depend_on_np_random_state():
    # the chunk seeds come from one SeedSequence: a global numpy seed changes nothing
    np.random.seed(1)
    a = _lr_check(workers=1)
    np.random.seed(2)
    _same(a, _lr_check(workers=1))


@pytest.mark.slow
def test_the_budget_bounds_sampling_on_the_cluster(client):
    # n = 1e9 drew every sample (92 s) past timeout=5; now the pending batches are cancelled on time
    p = sf.families.normal()
    mu, sigma = p.params
    est = sf.derive(p, sf.flows.zero(p), sigma)
    r = sf.mc_check(est, p.x[0] ** 2, {mu: 0.3, sigma: 1.2}, 10**9, seed=0, client=client, timeout=3, exact=2.4)
    assert r.status == "unknown" and "budget ran out after" in r.reason
    assert int(r.reason.split("after ")[1].split(" of")[0]) < 10**9


def test_a_closed_client_names_the_fix(client):
    from distributed import Client

    closed = Client(client.cluster)
    closed.close()
    with pytest.raises(sf.SymflowError, match="client is closed; pass an open one"):
        _lr_check(client=closed)
