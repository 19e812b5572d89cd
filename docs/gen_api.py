"""Write docs/api.md, the API reference, from the docstrings of ``symflow.__all__``.

Run ``python docs/gen_api.py`` after changing a public name or its docstring;
``python docs/gen_api.py --check`` exits with status 1 when docs/api.md is out
of date (``tests/test_docs.py`` runs the same comparison).
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "api.md"

# Default values such as functions print with their memory address; drop it so
# the output is the same on every run.
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _signature(obj: object) -> str:
    try:
        text = str(inspect.signature(obj))
    except (TypeError, ValueError):
        return ""
    return _ADDRESS.sub("", text)


def _doc(obj: object) -> str:
    return inspect.getdoc(obj) or "(no docstring)"


def _members(cls: type) -> list[tuple[str, object]]:
    """Public methods and properties defined by the class itself, in source order."""
    out = []
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, property) or inspect.isfunction(value):
            out.append((name, value))
    return out


def _first_paragraph(text: str) -> str:
    return text.split("\n\n", 1)[0].replace("\n", " ")


def _entry(qualname: str, obj: object, level: int) -> list[str]:
    head = "#" * level
    lines = []
    if inspect.isclass(obj):
        lines += [f"{head} class `{qualname}{_signature(obj)}`", "", "```text", _doc(obj), "```", ""]
        members = _members(obj)
        if members:
            lines.append("| member | what it does |")
            lines.append("|---|---|")
            for name, value in members:
                if isinstance(value, property):
                    label, doc = f"`{name}` (property)", inspect.getdoc(value) or ""
                else:
                    label, doc = f"`{name}{_signature(value)}`", inspect.getdoc(value) or ""
                summary = _first_paragraph(doc).replace("|", "\\|") or "-"
                lines.append(f"| {label.replace('|', chr(92) + '|')} | {summary} |")
            lines.append("")
    elif inspect.ismodule(obj):
        lines += [f"{head} module `{qualname}`", "", "```text", _doc(obj), "```", ""]
        for name in getattr(obj, "__all__", ()):
            lines += _entry(f"{qualname}.{name}", getattr(obj, name), level + 1)
    elif callable(obj):
        lines += [f"{head} `{qualname}{_signature(obj)}`", "", "```text", _doc(obj), "```", ""]
    else:
        lines += [f"{head} `{qualname}`", "", f"A value of type `{type(obj).__name__}`.", ""]
    return lines


def render() -> str:
    """The text of docs/api.md for the installed symflow."""
    import symflow

    lines = [
        "# API reference",
        "",
        "Generated from the docstrings by `python docs/gen_api.py`; do not edit by hand.",
        "Every name below is importable as `symflow.<name>` (`import symflow as sf`).",
        "",
        "Contents: " + ", ".join(f"`{name}`" for name in symflow.__all__),
        "",
    ]
    for name in symflow.__all__:
        lines += _entry(f"sf.{name}", getattr(symflow, name), 2)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(f"{OUT} is out of date; run python docs/gen_api.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(OUT)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(OUT.parent.parent))  # the repository's symflow, also when not installed
    raise SystemExit(main(sys.argv[1:]))
