"""Collection settings for the whole repository (tests/ and the package's doctests), and xdist's groups."""

import json
import shutil
import tempfile
from pathlib import Path

import pytest

# Only the package's modules with docstring examples are imported for doctests: every pytest worker
# collects every file, and the others (the torch and jax backends among them: 4 s of imports a worker,
# and absent where the extras are not installed) would be imported for nothing.
_ROOT = Path(__file__).parent
collect_ignore = [
    str(path.relative_to(_ROOT))
    for path in sorted((_ROOT / "symflow").rglob("*.py"))
    if ">>>" not in path.read_text(encoding="utf-8")
]


# -- the tests that import jax, torch or dask run last, on one worker --------------------------------------------
# Every budgeted step forks (symflow.core.budget), and a fork copies the page tables of the whole process: 5.7 ms
# in a worker with symflow, pytest and hypothesis, 11.4 ms once jax is imported, 18 ms with torch too (measured
# on this machine).  The modules below used to run first (test_backends sorts second), so both workers forked
# at the higher cost for almost the whole suite; now the frameworks are imported at the end.
_FRAMEWORK_FILES = frozenset(
    {
        "test_backends.py",
        "test_dask.py",
        "test_framework_agreement.py",
        "test_frameworks.py",
        "test_source.py",
    }
)
_FRAMEWORK_WORDS = ("jax", "torch", "dask")


def _imports_frameworks(item: pytest.Item) -> bool:
    if item.path.name in _FRAMEWORK_FILES or any(word in item.name for word in _FRAMEWORK_WORDS):
        return True
    page = getattr(getattr(item, "callspec", None), "params", {}).get("page")  # test_docs runs each page's code
    return isinstance(page, Path) and any(word in page.read_text(encoding="utf-8") for word in _FRAMEWORK_WORDS)


def _frameworks_last(items: list[pytest.Item]) -> None:
    # the scheduler hands out tests (and groups) in this order => both workers meet the frameworks at the end
    late = [item for item in items if _imports_frameworks(item)]
    chosen = set(late)
    items[:] = [item for item in items if item not in chosen] + late


# -- one xdist_group, one worker, on any pytest ---------------------------------------------------------------
# --dist loadgroup tells the scheduler a test's group by renaming the test "<node id>@<group>" in the worker;
# from pytest 9.2 on the rename no longer takes effect (pytest-xdist issue 1386) and every grouped test was
# scheduled on its own: on CI (pytest 9.2, commit 4a40a52) the claims of choosing_estimators ran in both
# workers (test_derivations' 39 s, then 69 s in test_latex_compile) and so did the corpus's 76 s of mutants.
# So each worker also writes the groups of the tests it collected to a file (the controller names the folder
# through workerinput), and the scheduler below reads them before it splits the tests into units.
_GROUPS_KEY = "symflow_xdist_groups"


def _group_of(item: pytest.Item) -> str | None:
    """The group xdist's loadgroup gives the item: its xdist_group names, sorted and joined by "_"."""
    names = {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")}
    return "_".join(sorted(names)) or None


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    # the controller: one folder a run, where each worker writes its groups
    config = node.config
    if not hasattr(config, "_symflow_groups_dir"):
        config._symflow_groups_dir = tempfile.mkdtemp(prefix="symflow-xdist-groups-")
    node.workerinput[_GROUPS_KEY] = config._symflow_groups_dir


@pytest.hookimpl(trylast=True)  # after xdist's own hook, so the node ids are those the controller receives
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _frameworks_last(items)
    folder = getattr(config, "workerinput", {}).get(_GROUPS_KEY)
    if folder is None:
        return
    groups = {item.nodeid: group for item in items if (group := _group_of(item))}
    path = Path(folder) / f"{config.workerinput['workerid']}.json"
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(groups), encoding="utf-8")
    partial.replace(path)  # written before the worker reports its collection => read complete by the scheduler


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if config.getvalue("dist") != "loadgroup" or not hasattr(config, "_symflow_groups_dir"):
        return None  # xdist's own scheduler
    from xdist.scheduler import LoadGroupScheduling

    folder = Path(config._symflow_groups_dir)

    class GroupsFromWorkers(LoadGroupScheduling):
        """loadgroup whose groups come from the workers' files, where xdist's node-id suffix may be missing."""

        _groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self._groups is None:  # first called once every worker has reported its collection
                self._groups = {}
                for path in sorted(folder.glob("*.json")):
                    self._groups.update(json.loads(path.read_text(encoding="utf-8")))
            return self._groups.get(nodeid) or super()._split_scope(nodeid)

    return GroupsFromWorkers(config, log)


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = getattr(config, "_symflow_groups_dir", None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
