"""Shared test settings: a fixed, derandomized Hypothesis profile."""

from hypothesis import settings

settings.register_profile("symflow", derandomize=True, deadline=None, max_examples=25, print_blob=True)
settings.load_profile("symflow")
