r"""Rewrite SymPy's special-function forms into the classes of ``classes``.

Two entry points (re-exported by ``symflow.numeric.special``):

``rewrite_special_forms(expr)``
    Value-preserving renaming, for numerics: ``lowergamma(a, x)`` -> :math:`\Gamma(a) P(a, x)` (so
    ``lowergamma(a, x)/gamma(a)`` becomes :math:`P(a, x)` and no longer overflows for
    :math:`a > 171`), ``uppergamma`` -> :math:`\Gamma(a) Q`, ``betainc_regularized(a, b, 0, x)`` ->
    :math:`I_x(a, b)`, the Student-t CDF's ``hyper((1/2, (nu+1)/2), (3/2,), -s**2/nu)`` (and its
    z-derivative ``hyper((3/2, (nu+3)/2), (5/2,), ...)``) -> expressions in :math:`F_\nu(s)` and the
    density, the von Mises CDF ``Integral`` -> ``VonMisesCDF``, the Meijer G-function SymPy
    writes for :math:`\partial_a\Gamma(a, x)` -> :math:`\Gamma(a)(\psi(a) Q - \partial_a P - Q\log x)`,
    and ``KroneckerDelta(a, b)`` -> ``Piecewise((1, Eq(a, b)), (0, True))`` (printed elementwise).

``rewrite_parameter_derivatives(expr)``
    The above, then every ``Derivative``/``Subs`` whose function has a class here is differentiated
    through the classes' ``fdiff`` (so ``Derivative(betainc_regularized(a, b, 0, x), a)`` becomes
    ``RegularizedIncompleteBetaDerivA(a, b, x)``), the pushed-in derivative of a von Mises CDF
    integral becomes ``VonMisesCDFDerivKappa``, and sums in which the CDF values cancel are
    expanded so that they do cancel symbolically (:math:`\psi(a)(1 - P - Q) \to 0`, the
    :math:`F_\nu` terms of the Student-t flow): evaluated numerically those sums would lose every
    digit in the tails.

Both only ever replace a subexpression by one equal to it; ``tests/test_special.py`` checks the
values at 30 digits.  Derivatives that have no class (second derivatives, ``hyper`` outside the
Student-t family, ...) are left as they were: the numpy support check then names them.
"""

from __future__ import annotations

import sympy as sp

from .classes import (
    RegularizedIncompleteBeta,
    RegularizedIncompleteBetaDerivA,
    RegularizedIncompleteBetaDerivB,
    RegularizedLowerGamma,
    RegularizedLowerGammaDerivA,
    RegularizedUpperGamma,
    StudentTCDF,
    StudentTCDFDerivNu,
    VonMisesCDF,
    VonMisesCDFDerivKappa,
)

__all__ = ["rewrite_parameter_derivatives", "rewrite_special_forms"]

_VALUE_CLASSES = (RegularizedLowerGamma, RegularizedUpperGamma, RegularizedIncompleteBeta, StudentTCDF, VonMisesCDF)
_DERIVATIVE_CLASSES = (
    RegularizedLowerGammaDerivA,
    RegularizedIncompleteBetaDerivA,
    RegularizedIncompleteBetaDerivB,
    StudentTCDFDerivNu,
    VonMisesCDFDerivKappa,
)


# ---------------------------------------------------------------------------------------------
# Gamma family
# ---------------------------------------------------------------------------------------------


def _is_gamma_meijer(g: sp.Basic) -> bool:
    r"""Whether ``g`` is :math:`G^{3,0}_{2,3}\left(x \,\middle|\, {-;\,1, 1 \atop 0, 0, a;\,-}\right)`.

    SymPy writes :math:`\partial_a\Gamma(a, x)` with it.
    """
    if not isinstance(g, sp.meijerg) or g.an or g.bother or tuple(g.aother) != (1, 1) or len(g.bm) != 3:
        return False
    return sum(1 for b in g.bm if b == 0) >= 2


def _gamma_meijer_value(g: sp.meijerg) -> sp.Expr:
    r"""The G-function as :math:`\partial_a\Gamma(a,x) - \log(x)\Gamma(a,x)`.

    That is :math:`\Gamma(a)(\psi(a)Q - \partial_a P - Q\log x)`, with :math:`\Gamma(a, x) = \Gamma(a) Q`.
    """
    bm = list(g.bm)
    bm.remove(0)
    bm.remove(0)
    a, x = bm[0], g.argument
    q = RegularizedUpperGamma(a, x)
    return sp.gamma(a) * (sp.polygamma(0, a) * q - RegularizedLowerGammaDerivA(a, x) - sp.log(x) * q)


# ---------------------------------------------------------------------------------------------
# Student-t family: hyper((1/2 + k, (nu+1)/2 + k), (3/2 + k,), z), k = 0, 1
# ---------------------------------------------------------------------------------------------


def _t_family(h: sp.Basic) -> tuple[int, sp.Expr] | None:
    """(k, nu) if ``h`` is the k-th member of the Student-t hypergeometric family, else None."""
    if not isinstance(h, sp.hyper) or len(h.ap) != 2 or len(h.bq) != 1:
        return None
    for k in (0, 1):
        lower = sp.Rational(1, 2) + k
        if h.bq[0] != sp.Rational(3, 2) + k or lower not in h.ap:
            continue
        other = [p for p in h.ap if p != lower] or [lower]
        nu = sp.expand(2 * (other[0] - k) - 1)
        if nu.is_nonpositive:
            return None
        return k, nu
    return None


def _t_hyper_value(k: int, nu: sp.Expr, z: sp.Expr) -> sp.Expr:
    r"""The k-th Student-t hypergeometric function in terms of :math:`F_\nu` and the density.

    :math:`{}_2F_1(\tfrac12, \tfrac{\nu+1}{2}; \tfrac32; -s^2/\nu) = \frac{C(\nu)}{s}(F_\nu(s) - \tfrac12)`,
    :math:`C = \sqrt{\pi\nu}\,\Gamma(\nu/2)/\Gamma(\frac{\nu+1}{2})`, :math:`s = \sqrt{-z\nu}`
    (the function is even in :math:`s`).  Members with :math:`k \ge 1` are
    :math:`\frac{(3/2)_k}{(1/2)_k((\nu+1)/2)_k}\,d^kH/dz^k`, differentiated through ``StudentTCDF``'s
    ``fdiff``.  :math:`C` is kept as gammas so that it cancels against SymPy's own prefactor.
    """
    zz = sp.Dummy("z")
    c = sp.sqrt(sp.pi) * sp.sqrt(nu) * sp.gamma(nu / 2) / sp.gamma((nu + 1) / 2)
    s = sp.sqrt(-zz * nu)
    base = c / s * (StudentTCDF(nu, s) - sp.S.Half)
    if k == 0:
        return base.subs(zz, z)
    scale = sp.rf(sp.Rational(3, 2), k) / (sp.rf(sp.S.Half, k) * sp.rf((nu + 1) / 2, k))
    return (scale * sp.diff(base, zz, k)).subs(zz, z)


# ---------------------------------------------------------------------------------------------
# von Mises family: Integral of exp(kappa cos(t - mu)) / (2 pi I0(kappa)) and of its kappa-derivative
# ---------------------------------------------------------------------------------------------


def _von_mises_match(integral: sp.Integral) -> sp.Expr | None:
    """The Integral in terms of VonMisesCDF / VonMisesCDFDerivKappa, or None if it is not one of them."""
    if len(integral.limits) != 1 or len(integral.limits[0]) != 3:
        return None
    t, lo, hi = integral.limits[0]
    f = integral.function
    kappas = {b.args[1] for b in f.atoms(sp.besseli) if b.args[0] == 0}
    # cos is even, and SymPy writes cos(t - mu) as cos(mu - t): accept the argument as t - mu or mu - t
    shifts = set()
    for c in f.atoms(sp.cos):
        slope = sp.expand(c.args[0]).coeff(t)
        if slope in (1, -1):
            shifts.add(sp.expand(t - slope * c.args[0]))
    for kappa in kappas:
        for mu in shifts:
            if kappa.has(t) or mu.has(t):
                continue
            k = sp.Dummy("kappa", positive=True)
            density = sp.exp(k * sp.cos(t - mu)) / (2 * sp.pi * sp.besseli(0, k))
            for candidate, cls in ((density, VonMisesCDF), (sp.diff(density, k), VonMisesCDFDerivKappa)):
                ratio = sp.cancel(sp.powsimp(f / candidate.subs(k, kappa)))
                if not ratio.has(t):
                    return ratio * (cls(kappa, hi - mu) - cls(kappa, lo - mu))
    return None


# ---------------------------------------------------------------------------------------------
# The rewrites
# ---------------------------------------------------------------------------------------------


def _replace_values(expr: sp.Expr) -> sp.Expr:
    """Bottom-up replacement of SymPy's special-function forms by the classes (values unchanged)."""
    if expr.has(sp.exp_polar):
        # exp_polar(I*pi) from simplify sits in hyper arguments on the negative real axis, where
        # 2F1 has no branch cut => the plain value -1 is exact
        expr = sp.unpolarify(expr)

    def rule(node: sp.Basic) -> sp.Basic:
        # P and Q are the regularized functions of a > 0 (Gamma(a) Q(a, x) is meaningless at a = 0, -1, ...)
        if isinstance(node, sp.lowergamma) and not node.args[0].is_nonpositive:
            return sp.gamma(node.args[0]) * RegularizedLowerGamma(*node.args)
        if isinstance(node, sp.uppergamma) and not node.args[0].is_nonpositive:
            return sp.gamma(node.args[0]) * RegularizedUpperGamma(*node.args)
        if isinstance(node, sp.betainc_regularized):
            a, b, x1, x2 = node.args
            return RegularizedIncompleteBeta(a, b, x2) - RegularizedIncompleteBeta(a, b, x1)
        if isinstance(node, sp.betainc):
            a, b, x1, x2 = node.args
            return sp.beta(a, b) * (RegularizedIncompleteBeta(a, b, x2) - RegularizedIncompleteBeta(a, b, x1))
        if _is_gamma_meijer(node):
            return _gamma_meijer_value(node)
        if isinstance(node, sp.KroneckerDelta):
            # the printers write KroneckerDelta(a, b) as "(1 if a == b else 0)", a Python conditional that
            # an array cannot answer; Piecewise prints as an elementwise select in every backend
            return sp.Piecewise((sp.S.One, sp.Eq(node.args[0], node.args[1])), (sp.S.Zero, True))
        family = _t_family(node)
        if family is not None:
            # unpolarify keeps hyper arguments polar; 2F1 is single-valued off [1, oo), so a polar
            # argument (exp_polar(I*pi) * r from simplify) is just its principal value here
            z = node.argument.replace(sp.exp_polar, sp.exp)
            # the identity needs z = -s^2/nu <= 0 (s real); of unknown sign => leave the 2F1 alone
            if z.is_extended_nonpositive:
                return _t_hyper_value(*family, z)
        if isinstance(node, sp.Integral):
            matched = _von_mises_match(node)
            if matched is not None:
                return matched
        return node

    return _bottom_up(expr, rule)


def _bottom_up(expr: sp.Basic, rule) -> sp.Basic:
    """Apply ``rule`` to every node after its arguments (Derivative/Subs/Integral bodies included)."""
    if not isinstance(expr, sp.Basic) or not expr.args or expr.is_Atom:
        return rule(expr) if isinstance(expr, sp.Basic) else expr
    args = tuple(_bottom_up(arg, rule) for arg in expr.args)
    if args != expr.args:
        expr = expr.func(*args)
    return rule(expr)


def rewrite_special_forms(expr: sp.Expr) -> sp.Expr:
    r"""``expr`` with SymPy's special-function forms replaced by equal expressions in the classes.

    See the module docstring for the list.  Nothing is differentiated and nothing is expanded.

    Parameters
    ----------
    expr : sympy.Expr

    Returns
    -------
    sympy.Expr
        Equal to ``expr`` wherever ``expr`` is defined.

    Examples
    --------
    >>> import sympy as sp
    >>> a, x = sp.symbols("a x", positive=True)
    >>> rewrite_special_forms(sp.lowergamma(a, x) / sp.gamma(a))
    RegularizedLowerGamma(a, x)
    """
    if not isinstance(expr, sp.Basic):
        raise TypeError(f"expected a SymPy expression, got {type(expr).__name__}; build it with SymPy objects")
    return _replace_values(expr)


def _differentiate(node: sp.Basic) -> sp.Basic:
    """A Derivative or Subs node carried out through the classes, or the node itself if that leaves a Derivative."""
    if isinstance(node, sp.Derivative):
        inner = _replace_values(node.expr)
        if inner == node.expr and not inner.has(*_VALUE_CLASSES, sp.Integral):
            return node
        done = sp.Derivative(inner, *node.variable_count).doit(deep=False)
    elif isinstance(node, sp.Subs):
        done = node.doit(deep=False)
    else:
        return node
    done = _replace_values(done)  # a Leibniz-rule Integral may be a von Mises derivative
    return node if done.has(sp.Derivative) else done


def _count_values(expr: sp.Basic) -> int:
    return sum(1 for node in sp.preorder_traversal(expr) if isinstance(node, _VALUE_CLASSES))


def _canonical(expr: sp.Basic) -> sp.Basic:
    """Rebuild every node with evaluation on: factor_terms can leave e.g. Mul(1/2, nu + 1) undistributed,
    which compares unequal to the nu/2 + 1/2 that the same expression becomes after pickling."""
    if not isinstance(expr, sp.Basic) or expr.is_Atom or not expr.args:
        return expr
    return expr.func(*(_canonical(arg) for arg in expr.args))


def _use_complements(expr: sp.Basic) -> sp.Basic:
    """Apply P + Q = 1 where it removes a value, or leaves as many values in fewer terms.

    (``c - c*Q`` becomes ``c*P``: the complement is computed directly, not as a cancelling difference.)
    """
    best = expr
    for args in {f.args for f in expr.atoms(RegularizedUpperGamma, RegularizedLowerGamma)}:
        p, q = RegularizedLowerGamma(*args), RegularizedUpperGamma(*args)
        for old, new in ((q, 1 - p), (p, 1 - q)):
            if best.has(old):
                trial = sp.expand_mul(best.xreplace({old: new}))
                if (_count_values(trial), len(sp.Add.make_args(trial))) < (
                    _count_values(best),
                    len(sp.Add.make_args(best)),
                ):
                    best = trial
    return best


def _cancel_values(expr: sp.Basic) -> sp.Basic:
    r"""Expand the sums in which CDF values cancel, so that they cancel exactly.

    Post-order over Add nodes that also contain a derivative class: the expanded form replaces the
    sum only if it holds fewer CDF values (:math:`P, Q, I, F_\nu, F_{vM}`); then
    :math:`Q \to 1 - P` is tried the same way (SymPy writes :math:`\partial_a\gamma(a, x)` with
    :math:`\Gamma(a) = \gamma + \Gamma(a, x)`).  Common factors are pulled out of an accepted
    sum so that a ratio of two such sums cancels them (:math:`\Gamma(\nu/2)` in the Student-t flow
    would overflow for :math:`\nu > 343`).
    """

    def rule(node: sp.Basic) -> sp.Basic:
        if not isinstance(node, sp.Add) or not node.has(*_VALUE_CLASSES):
            return node
        values = _count_values(node)
        # expand_mul alone misses coefficients such as (nu + 1)/(nu/4 + 1/4); over a common
        # denominator they cancel too
        fewer = [c for c in (sp.expand_mul(node), sp.expand_mul(sp.together(node))) if _count_values(c) < values]
        best = min(fewer, key=lambda c: (_count_values(c), sp.count_ops(c))) if fewer else node
        best = _use_complements(best)
        return node if best is node else _canonical(sp.factor_terms(best))

    return _bottom_up(expr, rule)


def rewrite_parameter_derivatives(expr: sp.Expr) -> sp.Expr:
    r"""Replace derivatives of special functions in their parameters by the classes that evaluate them.

    Recognized (after ``rewrite_special_forms``):

    - ``Derivative(betainc_regularized(a, b, x1, x2), a)`` (or ``b``, or through ``Subs`` when the
      parameter is an expression) -> ``RegularizedIncompleteBetaDerivA/B``; likewise ``betainc``;
    - ``Derivative(lowergamma(a, x), a)``, ``Derivative(uppergamma(a, x), a)`` and SymPy's evaluated
      form with ``meijerg(((), (1, 1)), ((0, 0, a), ()), x)`` -> ``RegularizedLowerGammaDerivA``;
    - ``Derivative(hyper((1/2, (nu+1)/2), (3/2,), -s**2/nu), nu)`` from the Student-t CDF ->
      ``StudentTCDFDerivNu`` (with ``exp_polar`` arguments as left by ``simplify``);
    - the von Mises CDF ``Integral(exp(kappa*cos(t - mu))/(2*pi*besseli(0, kappa)), (t, lo, hi))``
      differentiated in ``kappa`` (pushed inside by SymPy, or as an unevaluated ``Derivative``) ->
      ``VonMisesCDFDerivKappa``; any other ``Derivative`` of an ``Integral`` is carried out by
      Leibniz's rule, leaving an ``Integral`` the numeric tables evaluate.

    Parameters
    ----------
    expr : sympy.Expr

    Returns
    -------
    sympy.Expr
        Equal to ``expr``; unrecognized ``Derivative`` nodes are left in place.

    Examples
    --------
    >>> import sympy as sp
    >>> a, b, x = sp.symbols("a b x", positive=True)
    >>> rewrite_parameter_derivatives(sp.diff(sp.betainc_regularized(a, b, 0, x), a))
    RegularizedIncompleteBetaDerivA(a, b, x)
    >>> rewrite_parameter_derivatives(sp.diff(sp.lowergamma(a, x) / sp.gamma(a), a))
    RegularizedLowerGammaDerivA(a, x)
    """
    expr = rewrite_special_forms(expr)
    expr = _bottom_up(expr, _differentiate)
    return _cancel_values(expr)
