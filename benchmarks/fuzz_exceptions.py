"""The exception fuzzer at full size (issue 12, class 9): counts by function and outcome.

Random and adversarial inputs (special functions, Heaviside, DiracDelta, zoo, nan, oo, huge and tiny
numbers, odd supports, non-commutative symbols, wrong types) through every public callable of symflow
(``__all__`` and its public submodules), from ``tests/_fuzz.py``.  The contract is 0 escaped exceptions:
every call returns, or raises a ``SymflowError`` that names the problem and the fix.  Each call runs in
a worker thread; one still running ``--hang`` seconds after it started is reported as a hang.

Run from the repository root: ``PYTHONPATH=. python benchmarks/fuzz_exceptions.py [--calls N] [--seeds S]
[--budget SECONDS] [--json out.json]``.  Exit status 1 when anything escaped.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter, defaultdict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests._fuzz import escaped, fuzz, junk_sweep, public_callables  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2500, help="random calls per seed (default 2500)")
    parser.add_argument("--seeds", type=int, default=4, help="independent seeds (default 4)")
    parser.add_argument("--budget", type=float, default=0.5, help="timeout= given to each call (default 0.5 s)")
    parser.add_argument("--hang", type=float, default=40.0, help="seconds after which a call counts as a hang")
    parser.add_argument("--json", metavar="PATH", help="also write the counts and every escape as JSON")
    args = parser.parse_args(argv)

    start = time.monotonic()
    outcomes = junk_sweep(seed=0)
    for seed in range(args.seeds):
        outcomes += fuzz(args.calls, seed=seed, budget=args.budget, hang_after=args.hang)
    seconds = time.monotonic() - start

    by_function: dict[str, Counter] = defaultdict(Counter)
    for o in outcomes:
        by_function[o.name][o.kind] += 1
    bad = escaped(outcomes)
    kinds = Counter(o.kind for o in outcomes)
    print(
        f"# exception fuzzer: {len(outcomes)} calls of {len(by_function)} of {len(public_callables())} public "
        f"callables in {seconds:.0f} s (budget {args.budget:g} s a call, {args.seeds} seed(s) x {args.calls})"
    )
    print(f"# outcomes: {', '.join(f'{k} {n}' for k, n in kinds.most_common())}")
    print(f"# escaped (not SymflowError): {len(bad)}")
    print()
    print("| function | calls | returned | SymflowError | escaped |")
    print("|---|---:|---:|---:|---|")
    for name in sorted(by_function):
        c = by_function[name]
        other = ", ".join(f"{k} {n}" for k, n in c.items() if k not in ("ok", "SymflowError")) or "0"
        print(f"| {name} | {sum(c.values())} | {c['ok']} | {c['SymflowError']} | {other} |")
    if bad:
        print("\n## escapes\n")
        for o in bad:
            print(f"- {o.name}: {o.kind}: {o.detail}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(
                {
                    "calls": len(outcomes),
                    "seconds": seconds,
                    "outcomes": dict(kinds),
                    "by_function": {k: dict(v) for k, v in by_function.items()},
                    "escaped": [o.__dict__ for o in bad],
                },
                fh,
                indent=1,
            )
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
