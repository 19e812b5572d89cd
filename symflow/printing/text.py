"""Text inside LaTeX: escaping prose and turning Unicode and ASCII names into math.

``latex_text`` escapes a rule, a claim name or a reason for text mode (Greek
letters and math symbols typed in prose become inline math); ``math_ascii``
spells Unicode in printed symbol names as LaTeX; ``visible_len`` measures a
LaTeX string the way a reader sees it (a command counts one character, braces
and sizing none), which decides when a long expression gets a name.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["latex_text", "math_ascii", "visible_len"]


_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "_": r"\_",
    "^": r"\^{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}

# Non-ASCII characters that appear in rules and claim names, as math.
_MATH_CHARS = {
    "∂": r"\partial",
    "∇": r"\nabla",
    "·": r"\cdot",
    "≤": r"\le",
    "≥": r"\ge",
    "≠": r"\ne",
    "≈": r"\approx",
    "→": r"\to",
    "⇒": r"\Rightarrow",
    "×": r"\times",
    "∞": r"\infty",
    "±": r"\pm",
    "∈": r"\in",
    "∫": r"\int",
    "√": r"\surd",
    "−": "-",
    "²": "^2",
    "³": "^3",
    "ϵ": r"\epsilon",
    "ϕ": r"\phi",
    "ϑ": r"\vartheta",
}
_TEXT_CHARS = {"—": "---", "–": "--", "‘": "`", "’": "'", "“": "``", "”": "''", "…": r"\ldots{}"}
_GREEK_UPPER = {"GAMMA", "DELTA", "THETA", "LAMBDA", "XI", "PI", "SIGMA", "UPSILON", "PHI", "PSI", "OMEGA"}


def _greek(ch: str) -> str | None:
    """``\\theta`` for θ (and so on); None for characters that are not Greek letters."""
    name = unicodedata.name(ch, "")
    for prefix, upper in (("GREEK SMALL LETTER ", False), ("GREEK CAPITAL LETTER ", True)):
        if name.startswith(prefix):
            letter = name[len(prefix) :]
            if " " in letter:
                return None
            if letter == "FINAL SIGMA":
                return r"\varsigma"
            if letter == "OMICRON":
                return "O" if upper else "o"
            if upper:
                return "\\" + letter.capitalize() if letter in _GREEK_UPPER else None
            return "\\" + letter.lower()
    return None


def _char_math(ch: str) -> str | None:
    return _MATH_CHARS.get(ch) or _greek(ch)


def latex_text(text: str) -> str:
    """Escape prose for LaTeX text mode; Greek and math symbols become inline math.

    Any other non-ASCII character is transliterated when it has an ASCII
    decomposition and replaced by ``?`` otherwise, so pdflatex never meets a
    character it cannot typeset.
    """
    out = []
    for ch in str(text):
        if ch in _TEXT_ESCAPES:
            out.append(_TEXT_ESCAPES[ch])
        elif ord(ch) < 128:
            out.append(ch)
        elif ch in _TEXT_CHARS:
            out.append(_TEXT_CHARS[ch])
        elif (m := _char_math(ch)) is not None:
            out.append(f"${m}$")
        else:
            plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            out.append(plain or "?")
    return "".join(out)


def math_ascii(tex: str) -> str:
    """Replace non-ASCII characters inside math (from Symbol names) by LaTeX commands."""
    if tex.isascii():
        return tex
    parts = []
    for ch in tex:
        if ord(ch) < 128:
            parts.append(ch)
        else:
            m = _char_math(ch)
            parts.append(f"{{{m}}}" if m else r"\text{?}")
    return "".join(parts)


_COMMAND = re.compile(r"\\(left|right)\b|\\[A-Za-z]+|[{}\s]")


def visible_len(tex: str) -> int:
    """Roughly how many symbols ``tex`` shows: commands count 1, delimiters sizing and braces 0."""
    return len(_COMMAND.sub(lambda m: "" if m.group(1) or not m.group(0).startswith("\\") else "c", tex))
