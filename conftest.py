"""Collection settings for the whole repository (tests/ and the package's doctests)."""

import importlib.util

# The optional backends import their package at module level: their docstrings are not collected without it.
collect_ignore = ["symflow/__main__.py"]
for _backend, _package in (("symflow/numeric/torch_backend.py", "torch"), ("symflow/numeric/jax_backend.py", "jax")):
    if importlib.util.find_spec(_package) is None:
        collect_ignore.append(_backend)
