"""``Status``: the four outcomes of a check, ordered by strength.

Its own module so that both the verdict (``verdict.py``) and the proof values
(``steps.py``) use it, and ``combine`` can hand a combined verdict a proof
holding every part's proof without an import cycle.
"""

from __future__ import annotations

import enum

__all__ = ["Status"]


class Status(str, enum.Enum):
    """The four possible outcomes of a check (compares equal to its string)."""

    PROVED = "proved"
    CONSISTENT = "consistent"
    REFUTED = "refuted"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value

    @property
    def strength(self) -> int:
        """refuted 0 < unknown 1 < consistent 2 < proved 3: a conjunction is as strong as its weakest part."""
        return _STRENGTH[self.value]


_STRENGTH = {"refuted": 0, "unknown": 1, "consistent": 2, "proved": 3}
