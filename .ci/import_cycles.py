#!/usr/bin/env python3
"""CI step: no import cycles between symflow's modules, imports inside functions included.

The layers contract (``lint-imports``, configured in pyproject.toml) keeps imports between
folders pointing down; this step also catches cycles inside one folder.  It builds the
import graph with grimp (import-linter's engine, which reads every import statement of a
module, nested ones too) and prints each strongly connected component of more than one
module.  A package's ``__init__`` re-exporting its own modules is not a cycle of meaning,
so edges into a package from its own submodules' parents are kept, but edges from a
submodule up to its own package ``__init__`` are reported like any other.

Usage: ``python .ci/import_cycles.py`` (prints the count; exit 1 when it is not 0).
"""

from __future__ import annotations

import sys

import grimp


def cycles(package: str = "symflow") -> list[list[str]]:
    graph = grimp.build_graph(package, include_external_packages=False)
    modules = sorted(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:  # Tarjan's algorithm, iterative over each node's edges
        work = [(v, iter(edges[v]))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        while work:
            node, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(edges[w])))
                    break
                if w in on_stack:
                    low[node] = min(low[node], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == node:
                            break
                    if len(comp) > 1:
                        found.append(sorted(comp))

    for m in modules:
        if m not in index:
            visit(m)
    return found


def main() -> int:
    package = sys.argv[1] if len(sys.argv) > 1 else "symflow"
    found = cycles(package)
    for comp in found:
        print("cycle: " + " <-> ".join(comp))
    print(f"{len(found)} import cycle(s) in {package}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
