"""What every subcommand shares: exit statuses, the usage error, one-line truncation."""

from __future__ import annotations

__all__ = ["EXIT_OK", "EXIT_UNEXPECTED", "EXIT_USAGE", "UsageError", "truncate"]

# Exit statuses: 0 all as expected, 1 some claim not as expected, 2 bad usage.
EXIT_OK, EXIT_UNEXPECTED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad command-line input: reported as one line, exit status 2."""


def truncate(text: str, width: int) -> str:
    """One line of at most ``width`` characters, ending in '...' when cut."""
    line = " ".join(str(text).split())
    if len(line) <= width:
        return line
    return line[: width - 3].rstrip() + "..."
