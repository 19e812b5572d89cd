"""The generated proof documents show their mathematics (issue 17).

* No step whose body is only "symbol = 0" except the last step of its chain:
  counted over every committed document in ``docs/proofs/`` (fast, by reading
  the LaTeX) and over every claim's proof value (slow, by running the claims).
* A claim over k parameters (parts) has k sub-proofs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests._claim_results import module_params, module_proofs, module_results

REPO = Path(__file__).resolve().parents[1]
PROOFS = REPO / "docs" / "proofs"
DOCUMENTS = sorted(PROOFS.glob("*.tex"))

_ALIGN = re.compile(r"\\begin\{align\}\n(.*?)\n\\end\{align\}", re.S)
_EQUATION = re.compile(r"(?<=\}) \\\\\n(?!&\\quad)")  # an equation ends with its \label{...}; "&\quad" goes on
_LABEL = re.compile(r"\\label\{(.+):s(\d+)\}")
_SYMBOL = re.compile(r"[A-Za-z]|\\[A-Za-z]+|[A-Za-z]+_\{?[A-Za-z0-9]+\}?|\\text\{[^{}]*\}|\\tilde\{u\}_\{\w+\}")


def steps_of(tex: str) -> list[tuple[str, str, str]]:
    """(proof label, lhs, rhs) of every numbered equation, in order; a chain's later lines repeat its lhs."""
    out = []
    for block in _ALIGN.findall(tex):
        lhs = ""
        for equation in _EQUATION.split(block):
            first = equation.split(" \\notag \\\\\n")[0]
            left, _, right = first.partition("&= ")
            label = _LABEL.search(equation)
            assert label is not None, f"an equation without a label: {equation[:80]}"
            if left.strip():
                lhs = left.strip()
            out.append((label.group(1), lhs, _LABEL.sub("", right).strip()))
    return out


def bare_zero_equations(tex: str) -> list[tuple[str, str]]:
    """Equations "symbol = 0" that are not the last of their chain (a later equation of the same proof has the lhs)."""
    steps = steps_of(tex)
    found = []
    for i, (proof, lhs, rhs) in enumerate(steps):
        if rhs == "0" and _SYMBOL.fullmatch(lhs) and any(p == proof and left == lhs for p, left, _ in steps[i + 1 :]):
            found.append((proof, lhs))
    return found


def test_the_counter_finds_a_bare_zero_step():
    tex = (
        "\\begin{align}\nR &= 0 \\label{symflow:c:s1} \\\\\n &= 0 \\label{symflow:c:s2}\n\\end{align}\n"
        "\\begin{align}\nT &= x \\label{symflow:c:s3} \\\\\n &= 0 \\label{symflow:c:s4}\n\\end{align}"
    )
    assert bare_zero_equations(tex) == [("symflow:c", "R")]  # T = 0 closes its chain: fine


@pytest.mark.skipif(not DOCUMENTS, reason="docs/proofs has no generated documents")
@pytest.mark.parametrize("document", DOCUMENTS, ids=[d.stem for d in DOCUMENTS])
def test_no_generated_proof_step_is_a_bare_symbol_equal_to_zero(document):
    tex = document.read_text(encoding="utf-8")
    assert steps_of(tex), f"{document.name} has no equations"
    assert bare_zero_equations(tex) == []


@pytest.mark.skipif(not DOCUMENTS, reason="docs/proofs has no generated documents")
def test_every_document_opens_with_the_general_theorems():
    for document in (d for d in DOCUMENTS if not d.stem.endswith("-fragment")):
        tex = document.read_text(encoding="utf-8")
        first = tex.index("General theorems")
        assert first < tex.index("Claims")
        for title in ("Theorem 3 and 4", "any invertible g", "GRP's u term is the divergence of the flow"):
            assert title in tex[first : tex.index("Claims")], f"{document.name} lacks {title!r}"


_TALLY = re.compile(r"^(?:\d+ \w+, )*\d+ \w+ of (\d+) (?:parameters|parts|weights)")


def _parts_of(verdict) -> int | None:
    """k for a verdict made by combine (its method opens with the tally "... of k parts"), else None."""
    m = _TALLY.match(str(getattr(verdict, "method", "")))
    return int(m.group(1)) if m else None


@pytest.mark.slow
@pytest.mark.parametrize("module", module_params())
def test_every_claim_proof_shows_its_mathematics(module):
    for result, proof in zip(module_results(module), module_proofs(module), strict=True):
        for part in proof.walk():
            assert part.bare_zero_steps() == (), f"{result.claim.name}: {part.title}"
        k = _parts_of(result.result)
        if k is not None and proof.parts:
            assert len(proof.parts) == k, f"{result.claim.name}: {k} parts, {len(proof.parts)} sub-proofs"
        elif k is not None and "weights" not in result.result.method:
            pytest.fail(f"{result.claim.name} covers {k} parts but its proof has no sub-proofs")
