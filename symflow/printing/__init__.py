"""The lowest layer: LaTeX for symflow's values and proofs, as pure strings.

``latex`` holds the SymPy ``LatexPrinter`` subclass (``_print_<ClassName>`` dispatch; it reads
values by their attributes and imports none of them), ``text`` escaping of prose, ``display`` the
notebook mixin (``_repr_latex_``, ``_repr_mimebundle_``) the values inherit.
"""
