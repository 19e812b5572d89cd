"""symflow.core."""
