r"""The lowest layer: LaTeX for symflow's values and proofs, as pure strings.

``expr`` holds the expression printer, a SymPy ``LatexPrinter`` subclass that writes the way people
write (x - mu, 1/(sqrt(2 pi) sigma) e^{...}, repeated parts named once; ``_print_<ClassName>``
dispatch; it reads values by their attributes and imports none of them), ``document`` the layout of
proofs (numbered align chains, sub-proofs, the appendix of checks, documents and ``\input``-able
fragments), ``latex`` the public printer and functions, ``text`` escaping of prose, ``display`` the
notebook mixin (``_repr_latex_``, ``_repr_mimebundle_``) the values inherit.
"""
