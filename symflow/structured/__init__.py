"""Gaussian atoms: Sigma^{-1}, log det Sigma, y = Sigma^{-1}(x - mu), the OMT skew part, as SymPy atoms.

``atoms`` defines them with exact derivative rules; ``ops`` walks and differentiates expressions
built from them without entering their d x d arguments.  ``mvn(d, form="precision")`` is written
in them, which keeps transport residuals small polynomials at any d (App. E.1).  Pure SymPy:
this layer imports nothing else of symflow.
"""
