"""symflow.estimators."""
