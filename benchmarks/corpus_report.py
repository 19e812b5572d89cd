"""Run the soundness corpus (tests/corpus/generate.py) and print its counts as a Markdown table.

Mutants (wrong claims derived from every shipped (density, flow) pair), controls (true claims in
unusual forms), near misses and boundary/support cases; for each group the number of items per
verdict, and for each mutation kind how many were refuted, left unknown, or wrongly passed
(proved or consistent).  ``--tier default`` runs what the default test suite runs; ``--tier full``
(the default here) runs everything, including the slow multivariate psi mutants.

Run from the repository root: ``python benchmarks/corpus_report.py [--tier full|default] [--json out.json]``.
The JSON holds the summary (counts, failures, seconds) and one record per item.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.corpus import generate  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tier", choices=("default", "full"), default="full")
    parser.add_argument("--json", metavar="PATH", help="also write the counts and per-item records as JSON")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    items = generate.all_items(tier=args.tier)
    built = time.perf_counter() - t0
    outcomes = [generate.run_item(item) for item in items]
    summary = generate.summarize(outcomes)
    summary["tier"] = args.tier
    summary["build_seconds"] = round(built, 1)
    summary["wall_seconds"] = round(time.perf_counter() - t0, 1)
    print(f"## Soundness corpus ({args.tier} tier)\n")
    print(generate.format_table(summary))
    print(f"\nbuilt in {summary['build_seconds']} s, {summary['wall_seconds']} s in all")
    if args.json:
        records = [
            {
                "name": o.item.name,
                "group": o.item.group,
                "kind": o.item.kind,
                "status": o.status,
                "witness": o.has_witness,
                "ok": o.ok,
                "seconds": round(o.seconds, 3),
                "error": o.error,
            }
            for o in outcomes
        ]
        with open(args.json, "w") as fh:
            json.dump({"summary": summary, "items": records}, fh, indent=1)
    return 0 if not summary["failures"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
