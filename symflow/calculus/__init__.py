"""symflow.calculus."""
