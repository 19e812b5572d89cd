"""The command line: ``symflow verify``, ``derive``, ``latex``, ``figures`` (and the claims they run)."""

from .app import main as main

__all__ = ["main"]
