"""symflow.theory."""
