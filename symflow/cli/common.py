"""What every subcommand shares: exit statuses, the usage error, one-line truncation."""

from __future__ import annotations

import math

__all__ = ["EXIT_OK", "EXIT_UNEXPECTED", "EXIT_USAGE", "UsageError", "check_timeout", "truncate"]

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


def check_timeout(seconds: float | None) -> None:
    """Refuse a ``--timeout`` that is not a positive, finite number of seconds (``UsageError``).

    Large finite values are fine: the budget module clamps them to ``MAX_TIMEOUT`` (1e6 s).
    ``1e999`` parses as inf, which is refused here rather than deep inside a check.
    """
    if seconds is not None and not (seconds > 0 and math.isfinite(seconds)):
        raise UsageError(
            f"--timeout must be a positive number of seconds, got {seconds:g}; give a finite number "
            "(values above 1e6 s are treated as 1e6 s)"
        )
