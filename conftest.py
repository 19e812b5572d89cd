"""Collection settings for the whole repository (tests/ and the package's doctests)."""

from pathlib import Path

# Only the package's modules with docstring examples are imported for doctests: every pytest worker
# collects every file, and the others (the torch and jax backends among them: 4 s of imports a worker,
# and absent where the extras are not installed) would be imported for nothing.
_ROOT = Path(__file__).parent
collect_ignore = [
    str(path.relative_to(_ROOT))
    for path in sorted((_ROOT / "symflow").rglob("*.py"))
    if ">>>" not in path.read_text(encoding="utf-8")
]
