"""The ``Flow`` value: a vector field u_theta_i(x) for each parameter theta_i.

Perturbing theta_i moves probability mass along u (Sec. 4).  Any field gives
an unbiased estimator through Eq. (19); the field decides how much of the
estimate comes from grad phi and how much from phi.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import sympy as sp

from ..errors import FlowError, ParameterError
from ..printing.display import LatexDisplay
from ..structured.ops import free_symbols, has_any
from .convert import as_vector, same_name_hint
from .density import Density

__all__ = ["Flow", "FlowKind", "field_over", "flow_over"]


class FlowKind(str, enum.Enum):
    """How a flow was built (compares equal to its string, e.g. ``flow.kind == "implicit"``)."""

    USER = "user"  # typed in by hand
    ZERO = "zero"  # u = 0: the likelihood ratio (Eq. 1, 20)
    REPARAM = "reparam"  # u = dg/dtheta at eps = S(x) (Sec. 2.2, Eq. 52)
    IMPLICIT = "implicit"  # u = -(dS/dx)^{-1} dS/dtheta (Eq. 56)
    WEIGHTED = "weighted"  # k u (Eq. 51)
    OMT = "omt"  # optimal transport for Gaussians (App. E.1)
    INTEGRATION_BY_PARTS = "integration-by-parts"  # u = -(dF/dtheta)/p (Eq. 12)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, eq=False)
class Flow(LatexDisplay):
    """An immutable map theta_i -> (u_1, ..., u_d) over a density's variables.

    Parameters
    ----------
    density : Density
        The density whose variables the field is over.
    fields : mapping
        ``{theta: [u_1, ..., u_d]}``; in 1-D a single expression is accepted.
        Parameters left out have no field (asking for one raises).
    kind : FlowKind or str
        How the flow was built (``FlowKind``; its string value is accepted:
        "user", "zero", "reparam", "implicit", "weighted", "omt",
        "integration-by-parts").
    note : str
        A description used when printing and in proofs.
    """

    density: Density
    fields: Mapping | tuple
    kind: FlowKind = FlowKind.USER
    note: str = ""

    def __post_init__(self) -> None:
        p = self.density
        if not isinstance(p, Density):
            raise FlowError(f"the first argument must be a Density, got {type(p).__name__}")
        try:
            object.__setattr__(self, "kind", FlowKind(self.kind))
        except ValueError:
            raise FlowError(
                f"kind={self.kind!r} is not a flow kind; choose one of {', '.join(k.value for k in FlowKind)} "
                "(describe the flow in note=)"
            ) from None
        if not isinstance(self.note, str):
            raise FlowError(f"note must be a string, got {type(self.note).__name__}")
        raw = self.fields
        if isinstance(raw, tuple):
            raw = dict(raw)
        if not isinstance(raw, Mapping):
            raise FlowError(f"fields must be a dict {{parameter Symbol: [u_1, ..., u_d]}}, got {type(raw).__name__}")
        params = set(p.params)
        allowed = set(p.x) | params
        # Components repeat across parameters (0, 1, the S_k of a reparameterization): each distinct one is
        # checked once; the checks below depend only on the component and the density.
        accepted: set = set()
        checked: set = set()
        items = []
        for theta, comps in raw.items():
            if isinstance(theta, str):
                raise ParameterError(f"flow key {theta!r} is a string; use the parameter Symbol itself")
            if theta not in params:
                raise ParameterError(
                    f"flow key {theta} is not a parameter of {p.name}; parameters are {', '.join(map(str, p.params))}"
                )
            comps = as_vector(comps, f"flow component for {theta}", accepted)
            if len(comps) != p.dim:
                raise FlowError(
                    f"the flow for {theta} has {len(comps)} component(s) but the density has "
                    f"{p.dim} variable(s) {tuple(map(str, p.x))}; give one component per variable"
                )
            for c in comps:
                if c in checked:
                    continue
                checked.add(c)
                if has_any(c, sp.DiracDelta):  # the atoms' argument tuples searched once
                    raise FlowError(
                        f"the flow for {theta} contains DiracDelta; a flow is a field of ordinary functions "
                        "(jumps of phi get their surface terms from derive(..., phi=...))"
                    )
                stray = free_symbols(c) - allowed  # Gaussian atoms' d x d arguments read once
                if stray:
                    raise FlowError(
                        f"the flow for {theta} uses {', '.join(sorted(map(str, stray)))}, which are not "
                        f"variables or parameters of {p.name}; write it over {tuple(map(str, p.x))} "
                        "and the density's parameters" + same_name_hint(stray, allowed)
                    )
            items.append((theta, comps))
        object.__setattr__(self, "fields", tuple(items))

    @property
    def params(self) -> tuple[sp.Symbol, ...]:
        """The parameters that have a field."""
        return tuple(t for t, _ in self.fields)

    def field(self, wrt: sp.Symbol) -> tuple[sp.Expr, ...]:
        """The vector field u_wrt(x) as a tuple of d expressions."""
        self.density.check_param(wrt)
        comps = self._by_param.get(wrt)
        if comps is not None:
            return comps
        raise ParameterError(
            f"this {self.kind} flow has no field for {wrt}; it covers "
            f"{', '.join(map(str, self.params)) or 'no parameter'}"
        )

    @cached_property
    def _by_param(self) -> dict:
        # A lookup per check: a scan of the fields made the 2144 checks of mvn(64) quadratic (2.6 s).
        return dict(self.fields)

    def __getitem__(self, wrt: sp.Symbol) -> tuple[sp.Expr, ...]:
        return self.field(wrt)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Flow):
            return NotImplemented
        return self.density == other.density and self.fields == other.fields

    def __hash__(self) -> int:
        return hash((self.density, self.fields))

    def __str__(self) -> str:
        lines = [f"{self.kind} flow on {self.density.name}" + (f" ({self.note})" if self.note else "")]
        for theta, comps in self.fields:
            body = sp.sstr(comps[0]) if len(comps) == 1 else sp.sstr(list(comps))
            lines.append(f"  u_{theta} = {body}")
        return "\n".join(lines)


def flow_over(p: Density, flow: object) -> Flow:
    """``flow`` after checking that it is a ``Flow`` over the density ``p``.

    The one validation of "this flow over this density" every function that
    takes both uses, so they all refuse the same inputs with the same words.
    """
    if not isinstance(p, Density):
        raise FlowError(f"p must be a Density, got {type(p).__name__}")
    if not isinstance(flow, Flow):
        raise FlowError(f"flow must be a Flow (see symflow.flows), got {type(flow).__name__}")
    if flow.density != p:
        raise FlowError(
            f"the flow is over {flow.density.name} = {sp.sstr(flow.density.expr)}, not over {p.name} = "
            f"{sp.sstr(p.expr)}; build the flow from the same density"
        )
    return flow


def field_over(p: Density, flow: object, wrt: object) -> tuple[sp.Expr, ...]:
    """The field u_wrt of ``flow`` (``flow_over`` checked, and ``wrt`` a parameter of p)."""
    return flow_over(p, flow).field(p.check_param(wrt))
