"""Layer 1, the values: everything else is built on these (imports only ``printing``, ``structured``, ``numeric``).

``density`` (``Density``), ``flow`` (``Flow``, ``FlowKind``, ``field_over``), ``estimator``
(``Estimator``, the ``ExtraTerm`` protocol, ``TermKind``), ``verdict`` (``Verdict``, ``Status``,
``Witness``, ``combine``), ``status`` (``Status``), ``steps`` (``Step``, ``ProofStep``, ``Proof``:
derivations as data, with sub-proofs), ``chains`` (the div(p u) chain shared by transport proofs and
estimator derivations),
``domain`` (where symbols live, for test points), ``precision`` (working precisions and the one
two-precision decision), ``budget`` (time budgets, and SymPy's unbounded calls under them),
``convert`` (user values to SymPy without parsing text), ``parsing`` (the whitelist parser behind
``symflow.parse``).  All values are frozen dataclasses that pickle.
"""
