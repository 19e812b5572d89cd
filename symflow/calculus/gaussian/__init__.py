r"""Exact Gaussian expectations E_{x~N(mu, Sigma)}[f(x)] without quadrature.

For p a Gaussian density over all of R^d (any parameterization) and f a sum of
terms polynomial(x) * exp(linear + quadratic form in x) (with sin and cos of
linear forms, sinh and cosh of linear or quadratic forms), the integral of f p
is a closed form in the parameters.  Three identities give it:

* **Isserlis' theorem** (Wick's theorem in physics): for v ~ N(m, C),
  E[prod_k v_{i_k}] is the sum over partial pairings of the factors of
  prod_{pairs (a,b)} C_ab * prod_{unpaired c} m_c.  It is evaluated by
  **Stein's lemma** (Gaussian integration by parts),

  .. math:: E[v_i\,h(v)] = m_i\,E[h(v)] + \sum_j C_{ij}\,E[\partial_j h(v)],

  a recursion on monomials, memoized, whose terms are exactly the pairings.
* **Completing the square** (the Gaussian tilt): with exponent
  e(x) = b0 + b^T x - x^T A x / 2, A supported on the index set S,

  .. math:: E[g(x)\,e^{e(x)}] = \frac{\exp(b_0 + b^T m - \tfrac12 m^T A m + \tfrac12 c^T C' c)}
            {\sqrt{\det(I + A_{SS} C_{SS})}}\; E_{N(m + C'c,\;C')}[g],
            \qquad c = b - A m,\quad C' = C - C_{:S}(I + A_{SS}C_{SS})^{-1}A_{SS}C_{S:}

  (the Woodbury form of (C^{-1} + A)^{-1}: only an |S| x |S| matrix is
  inverted, never Sigma).  It needs C^{-1} + A positive definite, which holds
  iff C_SS + C_SS A_SS C_SS is (a congruence of C_SS^{-1} + A_SS); it is
  established from A_SS positive semidefinite or Sylvester's criterion, else
  the answer is None.  With A = 0 this is the moment generating function
  E[e^{b^T x}] = exp(b^T m + b^T C b / 2) and its shifted-mean companion.
* **Euler's formula**: cos(a) = (e^{ia} + e^{-ia})/2 and sin likewise, with i
  kept as a formal root J of J^2 + 1 so everything stays polynomial; the real
  part is read off at the end.

Why the covariance route.  The Gaussian is read off log p without inverting
anything where the parameterization allows: the nested Cholesky form
(``mvn(d)``) is a sum of squares of triangular linear forms, solved one
variable at a time into x = mu + L z, z ~ N(0, I); the precision form
(``mvn(d, form="precision")``) names mu and L in its ``QuadForm`` atom.  Both
give Sigma = L L^T entry by entry, and the moments are computed as a
polynomial in the *placeholders* m_i, Sigma_ij (at most one term per partial
pairing, however Sigma is parameterized) into which the entries are put at the
end, unexpanded.  Expanding in the standardized variable z instead gives a
polynomial in mu and L, each Sigma_ij a sum of up to d products: for a dense
quartic at d = 8, 11,704 monomials against 2,619 placeholder terms (measured),
and SymPy then spends about 4x longer building it.  Gradients go by the chain
rule through the placeholders (``gaussian_expectation_gradient``): SymPy's
``diff`` of the returned E takes 30-60 s at d = 8, the chain rule 1-3 s.
Only a density outside both forms falls back to Lambda = -Hessian(log p),
Sigma = Lambda^{-1} (small d; budgeted).

Every result is the integral of f p over R^d, which is E_p[f] for a normalized
p (the normalizer is read off log p and multiplied in when it is not 1).

The package's other modules: ``transport`` (the moment identities of an affine flow,
App. E.1) and ``intervals`` (one-dimensional integrals of polynomial x exp(-A x^2 + B x + C)
over any interval, by the J_n recursion with erf: the variances of the measure-valued and
L-distribution estimators, whose pieces live on half-lines, need that; this module's
expectations are over all of R^d).
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from ...core.budget import BudgetExceeded, resolve_timeout, run_with_budget
from ...core.density import Density
from ...errors import EstimatorError, SymflowError
from ...structured.atoms import PrecVec, QuadForm
from .moments import _J, Key, Moments, PolyDict, Terms, Walk, split_j, tilt
from .reading import GaussianParameters, Outside, log_density, may_be_gaussian, read_gaussian

__all__ = [
    "GaussianParameters",
    "gaussian_expectation",
    "gaussian_expectation_gradient",
    "gaussian_expectation_how",
    "gaussian_parameters",
    "may_be_gaussian",
]


# -- assembling ----------------------------------------------------------------------------


def _joint(gp: GaussianParameters, d: int, lp: sp.Expr, use_y: bool) -> tuple[list, list]:
    """Mean and covariance of v = (x, y) with y = Sigma^{-1}(x - mu) when y appears, else of x."""
    mean, cov = list(gp.mean), [list(r) for r in gp.cov]
    if not use_y:
        return mean, cov
    xs = tuple(gp.atom_args[0].args)
    grad = [sp.diff(lp, xi) for xi in xs]
    lam = [[-sp.diff(grad[i], xj) for xj in xs] for i in range(d)]  # Lambda = -Hessian: the P atoms, no inverse
    if any(e.free_symbols & set(xs) for r in lam for e in r):
        raise Outside("the precision form's Hessian depends on x")
    eye = [[sp.S.One if i == j else sp.S.Zero for j in range(d)] for i in range(d)]
    cov = [cov[i] + eye[i] for i in range(d)] + [eye[i] + lam[i] for i in range(d)]
    return mean + [sp.S.Zero] * d, cov


def _setup(p: Density, f: sp.Expr):
    """The Gaussian, f's terms by exponent, and the mean and covariance of f's variables."""
    gp = read_gaussian(p)
    d = p.dim
    f = f.xreplace({sp.I: _J})
    gens: dict = {xi: i for i, xi in enumerate(p.x)}
    quads = []
    markers = frozenset(p.x)
    for node in sp.preorder_traversal(f):
        if isinstance(node, PrecVec | QuadForm) and node.free_symbols & markers:
            name = type(node).__name__
            if gp.atom_args is None or tuple(node.args[-3:]) != gp.atom_args:
                raise Outside(f"a {name} atom with arguments other than the density's own")
            if isinstance(node, PrecVec):
                gens[node] = d + int(node.args[0])
            else:
                quads.append(node)
    use_y = len(gens) > d or bool(quads)
    n = 2 * d if use_y else d
    expansions = {}
    if quads:  # Q = sum_a (x_a - mu_a) y_a, written straight into the indices of y
        mu = gp.atom_args[1].args
        q: dict = {}
        for a in range(d):
            q[tuple(int(k in (a, d + a)) for k in range(n))] = sp.S.One
            if mu[a] != 0:
                q[tuple(int(k == d + a) for k in range(n))] = -mu[a]
        expansions = dict.fromkeys(quads, q)
    walk = Walk(gens, markers, n, expansions)
    terms = Terms(walk, d).terms(f)
    mean, cov = _joint(gp, d, log_density(p), use_y)
    return gp, terms, mean, cov


def _real_if(f: sp.Expr, re: sp.Expr, im: sp.Expr) -> sp.Expr:
    """re + i im; the imaginary part is dropped when f is real (then it is zero)."""
    if im == 0 or (not f.has(sp.I) and f.is_extended_real):
        return re
    return re + sp.I * im


def _group(key: Key, poly: PolyDict, mean, cov) -> tuple[Moments, sp.Expr, sp.Expr]:
    """(moments, re and im of the weight) for the terms of f with one exponent."""
    if not key:
        return Moments(poly, mean, cov), sp.S.One, sp.S.Zero
    expo, new_mean, new_cov, det = tilt(key, mean, cov)
    re, im = split_j(expo)
    scale = sp.exp(re) / sp.sqrt(det)
    return Moments(poly, new_mean, new_cov), scale * sp.cos(im), scale * sp.sin(im)


def _times(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    return sp.S.Zero if a == 0 or b == 0 else (b if a == 1 else a * b)


def _expectation_work(p: Density, f: sp.Expr, wrt: tuple | None):
    gp, terms, mean, cov = _setup(p, f)
    z = gp.normalizer
    res_re, res_im, grads = [], [], [[] for _ in wrt or ()]
    for key, poly in terms.items():
        mom, wr, wi = _group(key, poly, mean, cov)
        # The polynomial part's gradient goes by the chain rule and does not need E itself.
        chain = wrt is not None and not key and not any(c != 0 for c in mom.acc[1].values())
        if wrt is None or z != 1 or not chain:
            pr, pi = mom.expr(0), mom.expr(1)
            # (wr + i wi)(pr + i pi), skipping zero parts: 0 * E makes SymPy ask whether E is finite.
            res_re.append(_times(wr, pr) - _times(wi, pi))
            res_im.append(_times(wi, pr) + _times(wr, pi))
        if chain:
            for g, dg in zip(grads, mom.gradient(wrt), strict=True):
                g.append(dg)
        elif wrt is not None:
            real = _real_if(f, res_re[-1], res_im[-1])
            for g, t in zip(grads, wrt, strict=True):
                g.append(sp.diff(real, t))
    value = z * _real_if(f, sp.Add(*res_re), sp.Add(*res_im))
    if wrt is None:
        return value, f"exact ({gp.how}; Isserlis/Stein moments, {len(terms)} exponent group(s))"
    # d(Z E)/dtheta = Z dE/dtheta + (dZ/dtheta) E, and value = Z E
    out = tuple(z * sp.Add(*g) + (0 if z == 1 else sp.diff(z, t) * value / z) for g, t in zip(grads, wrt, strict=True))
    return out, f"exact gradient ({gp.how})"


def _run(p: Density, f: object, wrt: tuple | None, timeout: float | None):
    if not isinstance(p, Density):
        raise EstimatorError(f"p must be a symflow Density, got {type(p).__name__}")
    if isinstance(f, int) and not isinstance(f, bool):
        f = sp.Integer(f)
    if not isinstance(f, sp.Expr):
        raise EstimatorError(f"f must be a SymPy expression in {p.x}, got {type(f).__name__}; build it from p.x")
    budget = resolve_timeout(timeout)
    try:
        return run_with_budget(_guarded, p, f, wrt, timeout=budget, what="Gaussian expectation")
    except BudgetExceeded as exc:
        return None, str(exc)
    except SymflowError:
        raise
    except Exception as exc:  # noqa: BLE001 - SymPy's failures become "not decided here"
        return None, f"SymPy failed: {type(exc).__name__}: {exc}"


def _guarded(p: Density, f: sp.Expr, wrt: tuple | None):
    try:
        return _expectation_work(p, f, wrt)
    except Outside as exc:
        return None, f"outside the Gaussian class: {exc}"


def gaussian_expectation_how(p: Density, f: sp.Expr, *, timeout: float | None = None) -> tuple[sp.Expr | None, str]:
    """``(E_p[f] or None, how it was computed or why not)``; see ``gaussian_expectation``."""
    return _run(p, f, None, timeout)


def gaussian_expectation(p: Density, f: sp.Expr, *, timeout: float | None = None) -> sp.Expr | None:
    r"""E_{x~p}[f(x)] = \int f(x) p(x) dx exactly, for a Gaussian p over R^d, or None.

    f may be a sum of terms polynomial(x) * exp(b0 + b^T x - x^T A x / 2),
    times sin/cos of linear forms and sinh/cosh of linear or quadratic forms;
    for ``mvn(d, form="precision")`` also polynomials in its ``PrecVec`` and
    ``QuadForm`` atoms (y = Sigma^{-1}(x - mu) is jointly Gaussian with x).
    The module docstring states the identities (Isserlis/Stein, completing
    the square, Euler) and why the covariance route is used.

    Parameters
    ----------
    p : Density
        Any parameterization of a Gaussian over all of R^d.
    f : sympy.Expr
        The integrand's factor besides p.
    timeout : float, optional
        Seconds for the whole computation (default: the global budget).

    Returns
    -------
    sympy.Expr or None
        None when p is not a Gaussian over R^d, when f has a term outside the
        class, when a definiteness needed for an exponent cannot be
        established, or when the budget runs out.  Never a guess.

    Examples
    --------
    >>> import sympy as sp
    >>> from symflow.families.univariate import normal
    >>> p = normal(); (x,) = p.x; mu, sigma = p.params
    >>> sp.expand(gaussian_expectation(p, x**4))
    mu**4 + 6*mu**2*sigma**2 + 3*sigma**4
    """
    return _run(p, f, None, timeout)[0]


def gaussian_expectation_gradient(
    p: Density, f: sp.Expr, wrt: Sequence[sp.Symbol] | None = None, *, timeout: float | None = None
) -> tuple[sp.Expr, ...] | None:
    r"""d/dtheta E_p[f] for each theta in ``wrt`` (default: all of p's parameters), or None.

    .. math:: \frac{\partial}{\partial\theta} E[f] = \sum_i \frac{\partial E}{\partial m_i}
              \frac{\partial m_i}{\partial\theta} + \sum_{i\le j} \frac{\partial E}{\partial \Sigma_{ij}}
              \frac{\partial \Sigma_{ij}}{\partial\theta} + E\Big[\frac{\partial f}{\partial\theta}\Big]

    for the polynomial part (E as a polynomial in the placeholders m, Sigma;
    each partial built once and shared by all theta); exponential terms are
    differentiated directly.  Same class and None cases as
    ``gaussian_expectation``.
    """
    wrt = tuple(p.params if wrt is None else wrt)
    for t in wrt:
        p.check_param(t)
    return _run(p, f, wrt, timeout)[0]


def gaussian_parameters(p: Density, *, timeout: float | None = None) -> GaussianParameters | None:
    """The Gaussian behind p: ``GaussianParameters(mean, cov, factor, normalizer, atom_args, how)``, or None.

    Readings, in order: the precision form's ``QuadForm`` atom (mu and L named
    by it); a triangular sum of squares (the nested Cholesky form and
    ``normal``: x = mu + L z solved variable by variable); a quadratic
    log-density (Lambda = -Hessian, positive definite by Sylvester's
    criterion, inverted -- small d only).  Sigma = L L^T whenever L is known.
    """
    if not isinstance(p, Density):
        raise EstimatorError(f"p must be a symflow Density, got {type(p).__name__}")

    def work() -> GaussianParameters | None:
        try:
            return read_gaussian(p)
        except Outside:
            return None

    try:
        return run_with_budget(work, timeout=resolve_timeout(timeout), what="reading a Gaussian")
    except BudgetExceeded:
        return None
    except SymflowError:
        raise
    except Exception:  # noqa: BLE001 - SymPy's failures become "not a Gaussian we can read"
        return None
