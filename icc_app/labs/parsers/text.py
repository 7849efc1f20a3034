"""Text helpers shared by the COA parsers: normalization, numbers, ND-like tokens and dates."""

from __future__ import annotations

import re
from datetime import date, datetime

# A number as printed: 12, 1,234.5, 21690, .5 (never part of a word or a larger number).
NUM = r"((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)"
ND_TOKENS = {"nd": "ND", "<loq": "<LOQ", "<lloq": "<LOQ", "<lod": "<LOD", "nr": "NR", "nt": "NT", "bql": "<LOQ",
             "<ql": "<LOQ", "nonedetected": "ND", "none": "ND", "notdetected": "ND", "noanalytesdetected": "ND"}

_LIGATURE = re.compile(r"(?<=[A-Za-z])[\u00d7\ufffe\ufb01](?=[a-z])|[\ufb01]")
_SPACED_WORD = re.compile(r"\b(P a s s|F a i l|P A S S|F A I L)\b")


def normalize(text: str) -> str:
    """Undo what PDF text layers do to words: fi ligatures read as × or U+FFFE, letter-spaced words,
    the increment sign used for Delta, non-breaking spaces."""
    text = _LIGATURE.sub("fi", text)
    text = text.replace("\ufffe", "fi").replace("\u2206", "\u0394").replace("\u00a0", " ")
    text = _SPACED_WORD.sub(lambda m: m.group(1).replace(" ", ""), text)
    # Some Greek glyphs come out as other Latin letters: "ſ-Myrcene" (beta), "ž-Pinene" (alpha).
    text = re.sub(r"(?<!\w)\u017f(?=-[A-Z])", "\u03b2", text)
    return re.sub(r"(?<!\w)\u017e(?=-[A-Z])", "\u03b1", text)


def lines_of(text: str) -> list[str]:
    return [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]


def to_float(token: str) -> float | None:
    try:
        return float(token.replace(",", ""))
    except ValueError:
        return None


def nd_flag(text: str) -> str | None:
    """ND, <LOQ, NR ... when `text` starts with such a token."""
    compact = re.sub(r"[\s\-:]", "", text.lower())
    for token, flag in ND_TOKENS.items():
        if compact.startswith(token):
            return flag
    return None


DATE_PATTERNS = [
    (re.compile(r"(\d{4})-(\d{2})-(\d{2})"), "ymd"),
    (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})"), "mdy"),
    (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2})(?!\d)"), "mdy2"),  # "09/23/19Expires" has no word break
    (re.compile(r"(\d{1,2})[ -]([A-Za-z]{3})[A-Za-z]*\.?[ -,]+(\d{2,4})"), "dmony"),
    (re.compile(r"([A-Za-z]{3})[A-Za-z]*\.? (\d{1,2}),? (\d{4})"), "mondy"),
]


def parse_date(text: str) -> date | None:
    """The first date printed in `text` (ISO, US numeric, or with a month name)."""
    found = sorted(((m.start(), kind, m) for pattern, kind in DATE_PATTERNS for m in pattern.finditer(text)),
                   key=lambda item: item[0])
    for _, kind, match in found:
        value = _to_date(kind, match.groups())
        if value:
            return value
    return None


def _to_date(kind: str, groups: tuple[str, ...]) -> date | None:
    a, b, c = groups
    try:
        if kind == "ymd":
            return date(int(a), int(b), int(c))
        if kind == "mdy":
            return date(int(c), int(a), int(b))
        if kind == "mdy2":
            return date(2000 + int(c), int(a), int(b))
        if kind == "dmony":
            year = int(c) if len(c) == 4 else 2000 + int(c)
            return datetime.strptime(f"{a} {b[:3]} {year}", "%d %b %Y").date()
        return datetime.strptime(f"{b} {a[:3]} {c}", "%d %b %Y").date()
    except ValueError:
        return None
