"""Shared code generation for the array-library backends (jax, torch): special functions, errors.

Each backend gives a table of SymPy functions its printer lacks but that it can express with
its own library (e.g. ``lowergamma(a, x) = gammainc(a, x) Gamma(a)``).  ``substitute``
replaces those by named stand-ins whose implementations go into the generated code's
namespace; ``first_unsupported`` then names the first function the printer still cannot
print, so the user learns which function is missing rather than a printer traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.functions.elementary.piecewise import ExprCondPair

from ..errors import BackendError
from .special import SPECIAL_CLASSES, special_table

__all__ = ["PositiveFirst", "first_unsupported", "generate", "numpy_kernels", "substitute"]

# A SymPy function class -> (stand-in name, implementation taking the same arguments).
Table = Mapping[type, tuple[str, Callable]]


def numpy_kernels() -> dict[type, tuple[str, Callable]]:
    """symflow's special classes -> (stand-in name, the float64 numpy kernel of ``symflow.numeric.special``).

    The parameter derivatives of the regularized incomplete gamma and beta and the Student-t and
    von Mises CDFs have no implementation in JAX or torch; a backend calls these kernels on the
    host (jax: ``jax.pure_callback``; torch: on the tensors' numpy views) and wraps the result.
    """
    out = {}
    for entry in special_table():
        if entry.sympy_class in SPECIAL_CLASSES:
            name = entry.sympy_class.__name__
            out[entry.sympy_class] = (f"_{name}", entry.numpy[name])
    return out


def substitute(expr: sp.Expr, table: Table) -> tuple[sp.Expr, dict[str, Callable]]:
    """``expr`` with every call of a function in ``table`` replaced by its named stand-in."""
    used: dict[str, Callable] = {}

    def swap(node: sp.Basic) -> sp.Basic:
        name, impl = table[node.func]
        used[name] = impl
        return sp.Function(name)(*node.args)

    out = expr.replace(lambda e: isinstance(e, sp.Basic) and e.func in table, swap)
    return out, used


def _head_name(node: sp.Basic) -> str:
    return getattr(node.func, "__name__", type(node).__name__)


def first_unsupported(expr: sp.Expr, printer_cls: type, stand_ins: Sequence[str]) -> str | None:
    """The name of the first function (innermost first) that ``printer_cls`` cannot print, or None."""
    printer = printer_cls({"fully_qualified_modules": True, "strict": True, "allow_unknown_functions": False})
    for node in sp.postorder_traversal(expr):
        if not isinstance(node, sp.Basic) or not node.args or isinstance(node, sp.Symbol | sp.Number):
            continue
        if isinstance(node, ExprCondPair):  # printed as part of its Piecewise, never alone
            continue
        if isinstance(node, AppliedUndef):
            if _head_name(node) in stand_ins:
                continue
            return _head_name(node)
        # Children replaced by symbols => only this node's own printing is tested.
        try:
            shallow = node.func(*(sp.Dummy() if isinstance(a, sp.Expr) and a.args else a for a in node.args))
        except Exception:  # noqa: BLE001 - some heads refuse symbolic stand-ins => print the whole node
            shallow = node
        try:
            code = printer.doprint(shallow)
        except Exception:  # noqa: BLE001 - any printing failure means "not supported by this backend"
            return _head_name(node)
        # SymPy's array printers fall back to the scalar `math` module for functions they do not
        # map (e.g. JaxPrinter prints gamma as math.gamma) => that code would fail on arrays.
        if "math." in code:
            return _head_name(node)
    return None


class PositiveFirst:
    """Printer mixin: a sum whose first term is negative and whose second is not is printed second first.

    SymPy orders a sum's terms by their symbols' names (Dummies in generated code), so ``mu - x``
    may print as ``-x + mu``: an array negation and an addition, one pass over the samples more
    than ``mu - x``.  Only the first two terms trade places, and b + (-a) is b - a exactly in IEEE
    arithmetic, so the generated code computes the same bits with one array operation fewer.
    """

    def _as_ordered_terms(self, expr: sp.Expr, order: str | None = None) -> list:
        terms = super()._as_ordered_terms(expr, order=order)
        if len(terms) >= 2 and terms[0].could_extract_minus_sign() and not terms[1].could_extract_minus_sign():
            terms = [terms[1], terms[0], *terms[2:]]
        return terms


def _with_stand_ins(printer_cls: type) -> type:
    """``printer_cls`` printing undefined functions (our stand-ins) by their plain name (and ``PositiveFirst``)."""

    class Printer(PositiveFirst, printer_cls):
        def _print_AppliedUndef(self, expr: sp.Expr) -> str:
            # Resolved in the generated code's namespace, where `substitute` put the implementation.
            return f"{expr.func.__name__}({', '.join(self._print(a) for a in expr.args)})"

    return Printer


def generate(
    args: Sequence[sp.Symbol], expr: sp.Expr, backend: str, printer_cls: type, table: Table, module: str
) -> Callable:
    """A function of ``args`` evaluating ``expr`` with ``module``'s functions (lambdify, cse).

    Raises ``BackendError`` naming the first function the backend cannot evaluate.
    """
    if sp.besseli in table:
        orders = sorted({str(b.args[0]) for b in expr.atoms(sp.besseli) if b.args[0] not in (0, 1)})
        if orders:
            raise BackendError(
                f"the {backend!r} backend evaluates besseli of order 0 and 1 only, not besseli({orders[0]}, .); "
                "use backend='numpy' (scipy.special.iv) or rewrite the expression"
            )
    replaced, impls = substitute(expr, table)
    missing = first_unsupported(replaced, printer_cls, tuple(impls))
    if missing is not None:
        raise BackendError(
            f"the {backend!r} backend cannot evaluate the function {missing}; "
            "use backend='numpy' (which falls back to scipy.special or mpmath) or rewrite the expression"
        )
    try:
        printer = _with_stand_ins(printer_cls)()
        # functools: printers write Max/Min as functools.reduce(maximum, ...).
        namespace = {"functools": functools, **impls}
        return sp.lambdify(list(args), replaced, modules=[namespace, module], cse=True, printer=printer)
    except Exception as exc:  # noqa: BLE001 - report as a backend problem with the cause
        raise BackendError(f"{backend} code generation failed: {exc}; use backend='numpy' or report it") from exc
