"""symflow.checks."""
