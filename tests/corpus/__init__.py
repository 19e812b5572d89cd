"""The soundness corpus: mutants that must not pass, controls that must not fail (issue 7)."""
