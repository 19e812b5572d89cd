"""symflow.printing."""
