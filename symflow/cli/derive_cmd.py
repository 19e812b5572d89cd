"""``symflow derive``: a density and a flow typed as text, their estimator and its verdicts.

``symflow derive --x x --params mu,sigma --density EXPR --flow EXPR --wrt sigma``
reads the expressions with ``symflow.parse`` (a whitelist: nothing typed is
executed), derives v and psi (Eq. 19) and prints them with the verdicts on the
transport equation and the normalization (and unbiasedness with ``--phi``).
Exit status 0 unless the normalization or unbiasedness is refuted (1); bad
input is 2.  See docs/parsing.md.  Registered by ``symflow.cli.app``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import keyword
import sys
from collections.abc import Sequence

from ..errors import SymflowError
from .common import EXIT_OK, EXIT_UNEXPECTED, UsageError, check_timeout

__all__ = ["format_derive", "format_derive_json", "register_derive"]


# Options whose value is an expression: a value that starts with '-' (a negative expression, -x*log(x))
# is taken as the value, not as another option, so `--flow -x*log(x)` works like `--flow=-x*log(x)`.
EXPRESSION_OPTIONS = frozenset({"--density", "--flow", "--sampling", "--lower", "--upper", "--phi", "--at"})


def join_expression_values(argv: Sequence[str]) -> list[str]:
    """``argv`` with each expression option and a following value that starts with '-' joined by '='."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in EXPRESSION_OPTIONS and i + 1 < len(argv) and argv[i + 1].startswith("-"):
            value = argv[i + 1]
            if not value.startswith("--") or value == "--":
                out.append(f"{arg}={value}")
                i += 2
                continue
        out.append(arg)
        i += 1
    return out


def register_derive(subparsers) -> None:
    parser = subparsers.add_parser(
        "derive",
        help="derive psi and v for a density and flow typed as text, and check them",
        description=(
            "Read a density and a flow with symflow.parse (a whitelist: nothing typed is executed), derive "
            "the flow estimator's v and psi (Eq. 19) and check the transport equation (Eq. 52) and the "
            "normalization.  Variables and parameters are real Symbols; --positive makes some positive.  "
            "Exit status: 0 no check refuted (a refuted transport equation only means psi != 0), "
            "1 normalization or unbiasedness refuted, 2 bad input."
        ),
    )
    parser.add_argument("--x", required=True, metavar="NAMES", help="the variables, comma-separated, e.g. x or x,y")
    parser.add_argument("--params", required=True, metavar="NAMES", help="the parameters, e.g. mu,sigma")
    parser.add_argument("--positive", default="", metavar="NAMES", help="names assumed positive, e.g. sigma")
    parser.add_argument("--density", required=True, metavar="EXPR", help="p(x; params)")
    parser.add_argument(
        "--flow",
        action="append",
        metavar="EXPR",
        help="a component of u for --wrt; give it once per variable, in --x order (default 0: likelihood ratio)",
    )
    parser.add_argument("--wrt", required=True, metavar="NAME", help="the parameter to differentiate by")
    parser.add_argument("--sampling", metavar="EXPR", help="the sampling density q(x; params) (default p)")
    parser.add_argument("--lower", metavar="EXPR", help="lower edge of the support in each variable (default -oo)")
    parser.add_argument("--upper", metavar="EXPR", help="upper edge of the support in each variable (default oo)")
    parser.add_argument("--phi", metavar="EXPR", help="also check unbiasedness for this test function phi(x)")
    parser.add_argument(
        "--at", metavar="NAME=NUMBER,...", help="parameter values for --phi (quadrature instead of symbolic)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="budget in seconds for each check")
    parser.set_defaults(handler=_run_derive)


def _keyword_alternative(name: str) -> str:
    """A usable name for a symbol the user wanted to call by a Python keyword (lambda -> lam)."""
    return {"lambda": "lam"}.get(name, name + "_")


def _names(raw: str, option: str) -> list[str]:
    names = [n.strip() for n in raw.split(",") if n.strip()]
    for name in names:
        if keyword.iskeyword(name):
            raise UsageError(
                f"{option}: {name!r} is a Python keyword, and the expressions are read with Python's grammar "
                f"(without eval), where it cannot be a name; call it e.g. {_keyword_alternative(name)!r}"
            )
        if not (name.isascii() and name.isidentifier()):
            raise UsageError(f"{option}: {name!r} is not a plain ASCII identifier (letters, digits, _)")
    if len(set(names)) != len(names):
        raise UsageError(f"{option} lists a name twice: {raw}")
    return names


def _parsed(text: str, option: str, symbols: dict) -> object:
    from ..core.parsing import parse

    try:
        return parse(text, symbols)
    except SymflowError as exc:
        raise UsageError(f"{option}: {exc}") from None


def _verdict_row(verdict) -> dict:
    return {
        "status": verdict.status.value,
        "method": verdict.method,
        "reason": verdict.reason,
        "residual": "" if verdict.residual is None else str(verdict.residual),
        "witness": "" if verdict.witness is None else str(verdict.witness),
    }


def _run_derive(args: argparse.Namespace) -> int:
    from ..core import budget as budget

    check_timeout(args.timeout)
    scope = budget.timeout_scope(args.timeout) if args.timeout is not None else contextlib.nullcontext()
    with scope:
        try:
            return _derive(args)
        except SymflowError as exc:  # a Density, Flow or Estimator that does not fit together
            raise UsageError(str(exc)) from None


def _derive(args: argparse.Namespace) -> int:
    import sympy as sp

    from ..checks import check_normalized, check_transport, check_unbiased
    from ..core.density import Density
    from ..core.flow import Flow
    from ..estimators.deriver import derive
    from ..estimators.flows import zero

    x_names, param_names = _names(args.x, "--x"), _names(args.params, "--params")
    positive = set(_names(args.positive, "--positive"))
    unknown = positive - set(x_names) - set(param_names)
    if unknown:
        raise UsageError(f"--positive names {', '.join(sorted(unknown))}, which are not in --x or --params")
    # Real Symbols: densities and flows are real functions of real arguments; positivity only when asked.
    symbols = {n: sp.Symbol(n, real=True, **({"positive": True} if n in positive else {})) for n in x_names}
    symbols.update({n: sp.Symbol(n, real=True, **({"positive": True} if n in positive else {})) for n in param_names})
    if args.wrt not in param_names:
        raise UsageError(f"--wrt {args.wrt} is not one of --params {', '.join(param_names)}")
    xs = tuple(symbols[n] for n in x_names)
    params = tuple(symbols[n] for n in param_names)
    only_params = {n: symbols[n] for n in param_names}
    lower = _parsed(args.lower, "--lower", only_params) if args.lower else sp.S.NegativeInfinity
    upper = _parsed(args.upper, "--upper", only_params) if args.upper else sp.S.Infinity
    support = sp.Interval(lower, upper) if len(xs) == 1 else sp.ProductSet(*[sp.Interval(lower, upper)] * len(xs))
    p = Density(_parsed(args.density, "--density", symbols), xs, params, support=support)
    wrt = symbols[args.wrt]
    if args.flow is None:
        flow = zero(p)
    elif len(args.flow) != len(xs):
        raise UsageError(f"give --flow once per variable ({len(xs)}: {', '.join(x_names)}), got {len(args.flow)}")
    else:
        flow = Flow(p, {wrt: [_parsed(f, "--flow", symbols) for f in args.flow]}, note="typed flow")
    q = None
    if args.sampling:
        q = Density(_parsed(args.sampling, "--sampling", symbols), xs, params, support=support, name="q")
    phi = _parsed(args.phi, "--phi", {n: symbols[n] for n in x_names}) if args.phi else None
    values = None
    if args.at:
        if phi is None:
            raise UsageError("--at gives parameter values for --phi; give --phi too")
        values = {}
        for item in args.at.split(","):
            name, _, number = item.partition("=")
            if name.strip() not in only_params:
                raise UsageError(f"--at: {name.strip()!r} is not one of --params {', '.join(param_names)}")
            values[symbols[name.strip()]] = _parsed(number, "--at", {})

    verdicts = {"transport": check_transport(p, flow, wrt), "normalized": check_normalized(p)}
    if q is not None:
        verdicts["q normalized"] = check_normalized(q)
    est = derive(p, flow, wrt, q)
    if phi is not None:
        verdicts["unbiased"] = check_unbiased(est, phi, values)
    refuted = [k for k, v in verdicts.items() if k != "transport" and v.status.value == "refuted"]
    status = EXIT_UNEXPECTED if refuted else EXIT_OK
    print(format_derive_json(est, verdicts, status) if args.json else format_derive(est, verdicts))
    if refuted and not args.json:
        print(f"refuted: {', '.join(refuted)}", file=sys.stderr)
    return status


def format_derive(est, verdicts: dict) -> str:
    """p, q, u, v and psi of a derived estimator, then each verdict (``symflow derive``)."""
    import sympy as sp

    p, q, wrt = est.density, est.q, est.wrt
    lines = [f"p   = {sp.sstr(p.expr)}"]
    if q is not None:
        lines.append(f"q   = {sp.sstr(q.expr)}")
    lines += [f"u_{wrt}[{xi}] = {sp.sstr(ui)}" for xi, ui in zip(p.x, est.flow.field(wrt), strict=True)]
    lines += [f"v[{xi}] = {sp.sstr(vi)}" for xi, vi in zip(p.x, est.v, strict=True)]
    lines.append(f"psi = {sp.sstr(est.psi)}")
    for name, verdict in verdicts.items():
        lines.append(f"{name}: {verdict}")
        if name == "transport" and verdict.status.value == "refuted":
            lines.append("  (not an error: u is not a reparameterization flow, so psi carries the rest; Eq. 19)")
    return "\n".join(lines)


def format_derive_json(est, verdicts: dict, status: int) -> str:
    """The same as ``format_derive``, as one JSON object (expressions as SymPy strings)."""
    row = {
        "density": str(est.density.expr),
        "sampling": None if est.q is None else str(est.q.expr),
        "wrt": str(est.wrt),
        "flow": [str(c) for c in est.flow.field(est.wrt)],
        "v": [str(c) for c in est.v],
        "psi": str(est.psi),
        "verdicts": {k: _verdict_row(v) for k, v in verdicts.items()},
        "exit_status": status,
    }
    return json.dumps(row, indent=2)
