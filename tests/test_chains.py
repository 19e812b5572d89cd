"""The chain from div(p u) + dp/dtheta to the log route (``symflow.core.chains``).

Planted truth: the chain's generic steps are the very SymPy objects that plain SymPy
arithmetic builds (the module builds its products and sums directly, in canonical order,
and its derivatives without SymPy's constructor), for densities of several dimensions and
both flows of the precision-form normal.
"""

from __future__ import annotations

import pytest
import sympy as sp

import symflow as sf
from symflow.core.chains import flow_chain


def _cases():
    yield sf.families.normal(), "reparam"
    for d in (2, 3, 5):
        yield sf.families.mvn(d, form="precision"), "omt"
        yield sf.families.mvn(d, form="precision"), "reparam"


@pytest.mark.parametrize(("p", "kind"), list(_cases()), ids=lambda v: getattr(v, "name", v))
def test_generic_steps_are_what_plain_sympy_builds(p, kind):
    flow = getattr(sf.flows, kind)(p)
    for wrt in p.params[:4]:
        chain = flow_chain(p, flow.field(wrt), wrt, flow_rule="r", evaluate=p.dim < 3)
        p_f, u_f, xs = chain.p, chain.u, p.x
        assert p_f == sp.Function("p")(*xs, wrt)
        pairs = list(zip(u_f, xs, strict=True))
        divergence = sp.Add(*(sp.Derivative(p_f * u, x) for u, x in pairs), sp.Derivative(p_f, wrt), evaluate=False)
        product = sp.Add(
            *(u * sp.Derivative(p_f, x) + p_f * sp.Derivative(u, x) for u, x in pairs),
            sp.Derivative(p_f, wrt),
            evaluate=False,
        )
        bracket = sp.Add(
            *(sp.Derivative(u, x) for u, x in pairs),
            *(u * sp.Derivative(sp.log(p_f), x) for u, x in pairs),
            sp.Derivative(sp.log(p_f), wrt),
            evaluate=False,
        )
        # Equal as SymPy objects: the same arguments in the same order, all the way down.
        assert chain.divergence == divergence and chain.divergence.args == divergence.args
        assert chain.product == product
        assert all(a.args == b.args for a, b in zip(chain.product.args, product.args, strict=True))
        assert chain.bracket == bracket
        if p.dim >= 3:  # R written with its derivatives unevaluated: the same value once they are evaluated
            terms = [sp.Derivative(u, x) for u, x in zip(flow.field(wrt), xs, strict=True) if u != 0]
            terms += [u * sp.Derivative(p.log_expr, x) for u, x in zip(flow.field(wrt), xs, strict=True) if u != 0]
            written = sp.Add(*terms, sp.Derivative(p.log_expr, wrt), evaluate=False)
            assert {sp.srepr(a) for a in chain.written.args if isinstance(a, sp.Derivative)} == {
                sp.srepr(a) for a in written.args if isinstance(a, sp.Derivative)
            }
            assert len(chain.written.args) == len(written.args)
            assert sp.expand(chain.written.doit() - written.doit()) == 0
