"""The documentation runs: every ```python block of README.md and docs/*.md, and an up-to-date docs/api.md.

Each Markdown file's python blocks run in order in one fresh namespace, so a
page is a script a reader can follow.  Blocks that must not run are fenced as
```text (or ```bash).  The code executed is our own repository's documentation.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def python_blocks(text: str) -> list[str]:
    """The bodies of the ```python fenced blocks, in order."""
    return [m.group(1) for m in _BLOCK.finditer(text)]


def test_block_extraction_finds_python_and_skips_text():
    page = "intro\n```python\na = 1\n```\n```text\nnot run\n```\n```python\nb = a + 1\n```\n"
    assert python_blocks(page) == ["a = 1\n", "b = a + 1\n"]


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(REPO)) for p in PAGES])
def test_page_code_runs(page: Path, tmp_path, monkeypatch):
    blocks = python_blocks(page.read_text(encoding="utf-8"))
    if page.name in ("README.md", "tutorial.md"):
        assert blocks, f"{page.name} should show runnable code"
    monkeypatch.chdir(tmp_path)  # anything a page writes lands in a scratch folder
    namespace: dict = {"__name__": "__docs__"}
    for i, source in enumerate(blocks, start=1):
        code = compile(source, f"{page.relative_to(REPO)} (python block {i})", "exec")
        exec(code, namespace)  # noqa: S102 - our own documentation's examples


def test_a_broken_block_fails():
    # The runner must be able to fail: a block that raises propagates its error.
    with pytest.raises(ZeroDivisionError):
        exec(compile(python_blocks("```python\n1 / 0\n```\n")[0], "broken", "exec"), {})  # noqa: S102


def _gen_api():
    spec = importlib.util.spec_from_file_location("gen_api", REPO / "docs" / "gen_api.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_api_reference_is_up_to_date():
    gen = _gen_api()
    current = (REPO / "docs" / "api.md").read_text(encoding="utf-8")
    assert current == gen.render(), "docs/api.md is out of date: run python docs/gen_api.py"


def test_api_reference_covers_every_public_name():
    import symflow

    text = (REPO / "docs" / "api.md").read_text(encoding="utf-8")
    missing = [name for name in symflow.__all__ if f"sf.{name}" not in text]
    assert not missing
