"""symflow.structured."""
