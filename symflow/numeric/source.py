r"""``to_source``: an estimator as self-contained Python source (numpy, jax or torch), with no symflow import.

The generated module defines one function ``estimator(x, phi, grad_phi, params)`` computing
:math:`E = v\cdot\nabla\phi + \psi\phi` (Eq. 19) per sample, with the calling convention of
``CompiledEstimator`` except that ``params`` is a dict keyed by parameter *name* (the code knows
no SymPy Symbols).  It is built from the same formula the compile backends use (``_formula``:
literally zero terms dropped, then ``rewrite_parameter_derivatives``), printed by SymPy's code
printers with common subexpressions computed once.

Special functions: what the target library has is called by its public name
(``scipy.special.gammainc``, ``jax.scipy.special.betainc``, ``torch.special.gammainc``); symflow's
own float64 kernels (the derivatives of the regularized incomplete gamma and beta in their shape
parameters, the Student-t and von Mises CDFs) are copied into the module as source, together with
everything they call, by a small bundler (``_Bundle``): it reads each module's syntax tree, follows
the names a definition uses, and emits the definitions in dependency order, each renamed with its
module's tag so two modules' helpers cannot collide.  JAX calls those kernels through
``jax.pure_callback`` and torch on the tensors' values, as ``est.compile()`` does.

Generating text is all this module does: nothing here executes it (the tests import it from a
temporary file).

One concept although long: writing one self-contained module (imports, kernels copied from symflow's
own source, the estimator function) for three backends.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import keyword
import re
from dataclasses import dataclass, field
from types import ModuleType

import sympy as sp
from sympy.core.function import AppliedUndef

from ..errors import BackendError
from ._codegen import _with_stand_ins, first_unsupported, numpy_kernels
from ._formula import formula
from .special import SPECIAL_CLASSES, rewrite_parameter_derivatives

__all__ = ["to_source"]

# Public modules a library function is named from (first match wins).
_PUBLIC = ("numpy", "scipy.special", "jax.numpy", "jax.scipy.special", "jax.nn", "torch", "torch.special")


def _public_name(fn: object) -> str | None:
    for module_name in _PUBLIC:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        name = getattr(fn, "__name__", None)
        if name and getattr(module, name, None) is fn:
            return f"{module_name}.{name}"
    return None


# -- the bundler -----------------------------------------------------------------------------


@dataclass
class _Module:
    """One module's top-level definitions and imports, read from its syntax tree."""

    module: ModuleType
    tag: str
    defs: dict[str, ast.stmt] = field(default_factory=dict)  # name -> the statement defining it
    relative: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # alias -> (module, name or None)
    external: dict[str, str] = field(default_factory=dict)  # alias -> the import statement


def _read(module: ModuleType) -> _Module:
    tree = ast.parse(inspect.getsource(module))
    out = _Module(module, module.__name__.rsplit(".", 1)[-1])
    package = module.__name__.rsplit(".", 1)[0]
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            continue
        if isinstance(stmt, ast.ImportFrom) and stmt.level:
            base = package if stmt.level == 1 else package.rsplit(".", stmt.level - 1)[0]
            target = f"{base}.{stmt.module}" if stmt.module else base
            for alias in stmt.names:
                if stmt.module:
                    out.relative[alias.asname or alias.name] = (target, alias.name)
                else:  # from . import mp as mp_impl: a module alias
                    out.relative[alias.asname or alias.name] = (f"{target}.{alias.name}", None)
        elif isinstance(stmt, ast.Import | ast.ImportFrom):
            for alias in stmt.names:
                bound = alias.asname or alias.name.split(".")[0]
                if isinstance(stmt, ast.Import):
                    text = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
                else:
                    text = f"from {stmt.module} import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
                out.external[bound] = text
        elif isinstance(stmt, ast.FunctionDef | ast.ClassDef):
            out.defs[stmt.name] = stmt
        elif isinstance(stmt, ast.Assign | ast.AnnAssign):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                for node in ast.walk(target):
                    if isinstance(node, ast.Name) and node.id != "__all__":
                        out.defs[node.id] = stmt
    return out


class _Bundle:
    """Definitions copied from symflow's modules, renamed per module, in dependency order."""

    def __init__(self) -> None:
        self.modules: dict[str, _Module] = {}
        self.emitted: dict[tuple[str, str], str] = {}  # (module, name) -> emitted name
        self.imports: list[str] = []
        self.chunks: list[str] = []
        self._done_statements: set[int] = set()

    def _module(self, name: str) -> _Module:
        if name not in self.modules:
            self.modules[name] = _read(importlib.import_module(name))
        return self.modules[name]

    def _resolve(self, mod: _Module, name: str, attr: str | None = None) -> tuple[str, str] | str | None:
        """(module, name) of a symflow definition, an external import line, or None (a builtin / local)."""
        if name in mod.defs:
            return (mod.module.__name__, name)
        if name in mod.relative:
            target, member = mod.relative[name]
            if member is None:
                return (target, attr) if attr is not None else None
            return self._definition_of(target, member)
        if name in mod.external:
            return mod.external[name]
        return None

    def _definition_of(self, module_name: str, name: str) -> tuple[str, str]:
        mod = self._module(module_name)
        if name in mod.defs:
            return (module_name, name)
        if name in mod.relative:  # re-exported from a sibling
            target, member = mod.relative[name]
            return self._definition_of(target, member if member is not None else name)
        raise BackendError(f"to_source: cannot find the definition of {module_name}.{name}")

    def add(self, module_name: str, name: str) -> str:
        """Copy the definition of ``module_name.name`` (and what it uses); return its emitted name."""
        key = self._definition_of(module_name, name)
        if key in self.emitted:
            return self.emitted[key]
        mod = self._module(key[0])
        stmt = mod.defs[key[1]]
        # Names first (a cycle through one statement, e.g. recursion, is then harmless).
        for defined in (n for n, s in mod.defs.items() if s is stmt):
            self.emitted[(key[0], defined)] = f"_{mod.tag}_{defined}"
        renames: dict[str, str] = {}
        attributes: dict[tuple[str, str], str] = {}
        for node in ast.walk(stmt):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                found = self._resolve(mod, node.value.id, node.attr)
                if isinstance(found, tuple) and node.value.id in mod.relative:
                    attributes[(node.value.id, node.attr)] = self.add(*found)
            if isinstance(node, ast.Name | ast.arg):
                ident = node.id if isinstance(node, ast.Name) else node.arg
                found = self._resolve(mod, ident)
                if isinstance(found, tuple):
                    renames[ident] = self.add(*found) if found != key else self.emitted[key]
                elif isinstance(found, str) and found not in self.imports:
                    self.imports.append(found)
        for defined in (n for n, s in mod.defs.items() if s is stmt):
            renames[defined] = self.emitted[(key[0], defined)]
        if id(stmt) not in self._done_statements:
            self._done_statements.add(id(stmt))
            tree = _Renamer(renames, attributes).visit(ast.parse(ast.unparse(stmt)))
            self.chunks.append(ast.unparse(tree))
        return self.emitted[key]

    def text(self) -> str:
        return "\n\n\n".join(self.chunks)


class _Renamer(ast.NodeTransformer):
    def __init__(self, names: dict[str, str], attributes: dict[tuple[str, str], str]) -> None:
        self.names, self.attributes = names, attributes

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.names:
            return ast.copy_location(ast.Name(self.names[node.id], node.ctx), node)
        return node

    def visit_arg(self, node: ast.arg) -> ast.AST:
        if node.arg in self.names:
            node.arg = self.names[node.arg]
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        if node.name in self.names:
            node.name = self.names[node.name]
        self.generic_visit(node)
        return node

    visit_ClassDef = visit_FunctionDef

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if isinstance(node.value, ast.Name) and (node.value.id, node.attr) in self.attributes:
            return ast.copy_location(ast.Name(self.attributes[(node.value.id, node.attr)], node.ctx), node)
        self.generic_visit(node)
        return node


# -- printing the estimator ------------------------------------------------------------------


def _identifier(text: str, taken: set[str]) -> str:
    base = re.sub(r"\W", "_", text)
    if not base or base[0].isdigit() or keyword.iskeyword(base):
        base = f"_{base}"
    name, k = f"_{base}", 1
    while name in taken:
        name, k = f"_{base}_{k}", k + 1
    taken.add(name)
    return name


def _printer(backend: str):
    if backend == "numpy":
        from sympy.printing.numpy import SciPyPrinter as cls
    elif backend == "jax":
        from sympy.printing.numpy import JaxPrinter as cls
    else:
        from sympy.printing.pytorch import TorchPrinter as cls
    return cls


def _backend_table(backend: str) -> dict:
    """SymPy class -> (stand-in name, implementation) for the function calls the backend's printer lacks."""
    if backend == "numpy":
        return dict(numpy_kernels())
    from .compiled import _backend_module

    return dict(_backend_module(backend).TABLE)


def _implementation(bundle: _Bundle, backend: str, cls: type, impl: object) -> str:
    """Source text of an expression evaluating to the stand-in's implementation."""
    if cls in SPECIAL_CLASSES:
        name, kernel = numpy_kernels()[cls]
        native = {"jax": "symflow.numeric.jax_backend", "torch": "symflow.numeric.torch_backend"}.get(backend)
        if native is not None:
            natives = importlib.import_module(native)._NATIVE
            if cls.__name__ in natives:
                public = _public_name(natives[cls.__name__])
                if public is not None:
                    return public
                return bundle.add(native, f"_native_{cls.__name__}")
        kernel_text = _public_name(kernel) or bundle.add(kernel.__module__, kernel.__name__)
        if backend == "numpy":
            return kernel_text
        wrapper = bundle.add(native, "host_kernel" if backend == "jax" else "_host")
        return f"{wrapper}({kernel_text})"
    public = _public_name(impl)
    if public is not None:
        return public
    module = getattr(impl, "__module__", "")
    name = getattr(impl, "__name__", "")
    if module.startswith("symflow.") and getattr(importlib.import_module(module), name, None) is impl:
        return bundle.add(module, name)
    raise BackendError(f"to_source: no source for the {backend} implementation of {cls.__name__}; report it")


_HEADER = '''"""{title}

Generated by symflow's ``to_source`` ({backend}); needs no symflow.  Call
``estimator(x, phi, grad_phi, params)``: x the (n, {d}) samples from the sampling density q, phi the (n,)
values of phi (may be None when unused), grad_phi the (n, {d}) gradient of phi (may be None when unused),
params a dict keyed by parameter name: {names}.  Returns the (n,) per-sample estimates of
d/d{wrt} E_p[phi]: E = v . grad phi + psi phi (Eq. 19 of Parmas & Sugiyama).

    v   = {v}
    psi = {psi}
"""
'''


def to_source(est, backend: str = "numpy", name: str = "estimator") -> str:
    r"""Python source of a module defining ``name(x, phi, grad_phi, params)`` for ``est`` (Eq. 19).

    Parameters
    ----------
    est : Estimator
        Without extra terms: surface, GO and measure-valued terms draw samples of their own, so
        code of x alone would be biased and is refused (see ``symflow.mc_check``).
    backend : {"numpy", "jax", "torch"}
        The array library the code uses; the code imports it (and scipy for numpy), never symflow.
    name : str
        The function's name.

    Returns
    -------
    str
        The module's source: imports, special-function kernels as source where the library has
        none, and the function.  numpy: float64 arrays in and out; jax: jnp arrays in the caller's
        precision (jit-able); torch: tensors (float64 when given float64).

    Raises
    ------
    BackendError
        An estimator with extra terms (an MVD estimator: use ``est.compile()``), an unknown
        backend, a function the backend cannot evaluate (named), or a density written in
        Gaussian atoms (``mvn(form="precision")``), whose per-call matrix work is not exported.
    """
    from .compiled import BACKENDS, CompiledEstimator, _backend_module, refuse_extra_terms

    refuse_extra_terms(est, "to_source")
    if backend not in BACKENDS:
        raise BackendError(f"unknown backend {backend!r}; choose one of {', '.join(map(repr, sorted(BACKENDS)))}")
    if backend != "numpy":
        _backend_module(backend)  # a BackendError naming the extra when the library is missing
    if not name.isidentifier() or keyword.iskeyword(name):
        raise BackendError(f"name must be a Python identifier, got {name!r}")
    compiled = CompiledEstimator(x=est.x, params=est.params, wrt=est.wrt, v=est.v, psi=est.psi, backend=backend)
    form = formula(compiled)
    if form.derived is not None:
        raise BackendError(
            "to_source cannot export densities written in Gaussian atoms (mvn(form='precision')): their "
            "inverse and Lyapunov solutions are computed per call; use est.compile() or a Cholesky-form mvn"
        )
    expr = rewrite_parameter_derivatives(form.expr)
    if backend == "torch":
        from .torch_backend import _constants_as_floats

        expr = _constants_as_floats(expr)
    table = _backend_table(backend)
    stand_ins: dict[str, type] = {}

    def swap(node: sp.Basic) -> sp.Basic:
        stand_in = table[node.func][0]
        stand_ins[stand_in] = node.func
        return sp.Function(stand_in)(*node.args)

    expr = expr.replace(lambda e: isinstance(e, sp.Basic) and e.func in table, swap)
    printer_cls = _printer(backend)
    missing = first_unsupported(expr, printer_cls, tuple(stand_ins))
    if missing is None and expr.atoms(AppliedUndef) - {f for f in expr.atoms(AppliedUndef) if f.name in stand_ins}:
        missing = sorted(f.name for f in expr.atoms(AppliedUndef) if f.name not in stand_ins)[0]
    if missing is not None:
        raise BackendError(
            f"to_source({backend!r}) cannot export the function {missing}; use est.compile() (numpy falls back "
            "to scipy.special or mpmath) or another backend"
        )

    # Safe argument names: x columns, grad phi columns, phi, parameters.
    taken: set[str] = set(stand_ins)  # the stand-ins (e.g. _beta, the function) keep their names
    xs = [_identifier(f"x{j}", taken) for j in range(len(form.x))]
    grads = {i: _identifier(f"dphi{i}", taken) for i in form.kept}
    phi = _identifier("phi", taken) if form.uses_phi else None
    params = [_identifier(f"p_{t}", taken) for t in form.params]
    symbol_of = {}
    for sym, text in [*zip(form.x, xs, strict=True), *zip(form.params, params, strict=True)]:
        symbol_of[sym] = sp.Symbol(text)
    for i, text in grads.items():
        symbol_of[form.grads[i]] = sp.Symbol(text)
    if phi is not None:
        symbol_of[form.phi] = sp.Symbol(phi)
    expr = expr.xreplace(symbol_of)

    bundle = _Bundle()
    definitions = [
        f"{stand_in} = {_implementation(bundle, backend, cls, table[cls][1])}"
        for stand_in, cls in sorted(stand_ins.items())
    ]
    printer = _with_stand_ins(printer_cls)({"fully_qualified_modules": True})
    temporaries = sp.numbered_symbols("_t")
    subexpressions, (reduced,) = sp.cse([expr], symbols=temporaries)
    body = [f"    {sym} = {printer.doprint(value)}" for sym, value in subexpressions]
    body.append(f"    _estimate = {printer.doprint(reduced)}")
    modules = {"numpy"} if backend == "numpy" else {backend}
    modules |= set(printer.module_imports)
    imports = [f"import {m}" for m in sorted(modules)] + ["import numpy"] * (backend != "numpy")

    d = len(form.x)
    lines = _HEADER.format(
        title=f"{est.name or 'estimator'} of d/d{est.wrt} E_{est.density.name}[phi], x ~ {est.sampling.name}".replace(
            '"', "'"
        ),
        backend=backend,
        d=d,
        names=", ".join(repr(str(t)) for t in form.params) or "none",
        wrt=est.wrt,
        v=sp.sstr(list(est.v)).replace("\\", "\\\\"),
        psi=sp.sstr(est.psi).replace("\\", "\\\\"),
    ).splitlines()
    lines += ["", "from __future__ import annotations", ""]
    lines += sorted(set(imports) | set(bundle.imports))
    if bundle.chunks:
        lines += [
            "",
            "",
            "# -- special-function kernels, copied from symflow (renamed per module) --",
            "",
            bundle.text(),
        ]
    if definitions:
        lines += ["", ""] + definitions
    lines += ["", "", f"def {name}(x, phi, grad_phi, params):"]
    lines += [f'    """d/d{est.wrt} per sample: see the module docstring."""']
    lines += _arguments(backend, d, xs, grads, phi, params, form.params)
    lines += body
    lines += [_result(backend)]
    return "\n".join(lines) + "\n"


def _arguments(backend: str, d: int, xs, grads, phi, params, symbols) -> list[str]:
    if backend == "numpy":
        array = "numpy.asarray({}, dtype=numpy.float64)"
    elif backend == "jax":
        array = "jax.numpy.asarray({})"
    else:
        array = "torch.as_tensor({})"
    out = [f"    x = {array.format('x')}.reshape(-1, {d})"]
    out += [f"    {name} = x[:, {j}]" for j, name in enumerate(xs)]
    if grads:
        out.append(f"    grad_phi = {array.format('grad_phi')}.reshape(-1, {d})")
        out += [f"    {name} = grad_phi[:, {i}]" for i, name in grads.items()]
    if phi is not None:
        out.append(f"    {phi} = {array.format('phi')}.reshape(-1)")
    for name, sym in zip(params, symbols, strict=True):
        if backend == "numpy":
            out.append(f"    {name} = float(params[{str(sym)!r}])")
        elif backend == "jax":
            out.append(f"    {name} = jax.numpy.asarray(params[{str(sym)!r}], dtype=x.dtype)")
        else:
            out.append(f"    {name} = torch.as_tensor(params[{str(sym)!r}], dtype=x.dtype)")
    return out


def _result(backend: str) -> str:
    if backend == "numpy":
        return (
            "    return numpy.array(numpy.broadcast_to(numpy.asarray(_estimate, dtype=numpy.float64), (x.shape[0],)))"
        )
    if backend == "jax":
        return "    return jax.numpy.broadcast_to(jax.numpy.asarray(_estimate, dtype=x.dtype), (x.shape[0],))"
    return "    return torch.broadcast_to(torch.as_tensor(_estimate, dtype=x.dtype), (x.shape[0],))"
