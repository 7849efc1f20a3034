"""Analyte tables: rows of "name  LOD  LOQ  result ..." in one or two columns, with the unit of each column
read from the table header when the row itself does not say which number is the percent."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from icc_app.labs import dictionary
from icc_app.labs.parsers.text import ND_TOKENS, NUM, nd_flag, to_float
from icc_app.labs.schemas import AnalyteResult

# Quality-control tables (reference standards, spikes, blanks) print analyte rows too; they are not results.
QC_WORDS = re.compile(r"\brecovery\b|\bnominal\b|\bspiked?\b|\bQC\b|quality control|method blank|\bLCS\b|"
                      r"reference standard", re.I)
_HEADER_WORDS = re.compile(r"\b(?:lod|loq|lloq|results?|analyte|dil\.?|mass)\b", re.I)
_COLUMN = re.compile(r"lod\s*/\s*loq|lod|lloq|loq|dil\.?|dilution|action level|limit|results?|value|finding|mass",
                     re.I)
_UNIT = re.compile(r"%|mg/g|µg/g|ug/g|ppm|mg/serving|mg/unit|mg\b", re.I)
_STATUS = re.compile(r"^(?:pass(?:ed)?|fail(?:ed)?|tested)$", re.I)
_VALUE_TOKEN = re.compile(rf"^[<>]?{NUM}$|^{NUM}/{NUM}$|^\d+(?:\.\d+)?[eE][-+]?\d+$")


@dataclass
class Column:
    kind: str
    unit: str | None = None


@dataclass
class TableRead:
    cannabinoids: list[AnalyteResult] = field(default_factory=list)
    terpenes: list[AnalyteResult] = field(default_factory=list)
    totals: dict[str, tuple[float | None, str | None]] = field(default_factory=dict)  # category -> (pct, flag)
    named_totals: dict[str, tuple[float | None, str | None]] = field(default_factory=dict)  # "Total CBD" row: cbd


def parse_header(text: str) -> list[Column]:
    """Columns after the analyte name, with units: "LOD (%) LOQ (%) Result (%) Result (mg/g)" or
    "LOD LOQ Results Results mg/g mg/g mg/serving mg/g" (units listed after the names)."""
    columns: list[Column] = []
    for match in re.finditer(_COLUMN.pattern + "|" + _UNIT.pattern, text, re.I):
        token = match.group(0).lower()
        if _COLUMN.fullmatch(token):
            if token == "limit" and columns and columns[-1].kind == "action level":
                continue
            columns.append(Column("lod/loq" if "/" in token else token.rstrip(".")))
            continue
        parenthesized = text[:match.start()].rstrip().endswith("(")
        if parenthesized and columns and columns[-1].unit is not None:
            columns.append(Column(columns[-1].kind))  # "Result (mg/g) (%)": one more result column
        target = columns[-1] if parenthesized and columns and columns[-1].unit is None else \
            next((c for c in columns if c.unit is None), None)
        if target is not None:
            target.unit = token
    return columns


def row_value(rest: str, columns: list[Column] | None = None) -> tuple[float | None, float | None, str | None] | None:
    """(pct, mg/g, flag) from the cells after an analyte name, or None when no result can be told apart."""
    percent = re.search(NUM + r"\s*%", rest)
    if re.search(r"(?<![\w/])NT(?![\w/])", rest):
        return None  # not tested: whatever numbers follow are limits
    tokens = _unglue([t for t in rest.replace("(", " ").replace(")", " ").split() if t not in ("=", "§=")])
    numbers = [to_float(t) for t in tokens if re.fullmatch(NUM, t)]
    numbers = [n for n in numbers if n is not None]
    if percent:
        pct = to_float(percent.group(1))
        mg = next((n for n in numbers if pct and abs(n - pct * 10) <= max(0.02 * n, 0.011)), None)
        return pct, mg, None
    by_header = _by_header(tokens, columns) if columns else None
    if by_header is not None:
        return by_header
    # mg/g beside % (ratio 10) or µg/g beside % (ratio 10,000); results sit right of LOD/LOQ, so the
    # neighbouring pairs from the right are tried first.
    pairs = [(numbers[i], numbers[i + 1]) for i in range(len(numbers) - 2, -1, -1)]
    pairs += [(a, b) for i, a in enumerate(numbers) for b in numbers[i + 2:]]
    for a, b in pairs:
        big, small = max(a, b), min(a, b)
        if small > 0 and abs(big - small * 10) <= max(0.015 * big, 0.011):
            return small, big, None
        if small > 0 and abs(big - small * 10000) <= 0.015 * big:
            return small, None, None
    flags = [ND_TOKENS.get(re.sub(r"[\s\-:]", "", t.lower())) for t in tokens]
    flags = [f for f in flags if f]
    if flags and flags[-1] != "NR":
        return 0.0, 0.0, flags[-1]
    return None


def _unglue(tokens: list[str]) -> list[str]:
    """Split cells a PDF printed without a gap ("0.0020.284", "0.002<0.002"): LOQ first, then the result."""
    out = []
    for token in tokens:
        glued = re.fullmatch(r"(\d+\.\d{3})(<?\d+\.\d+)", token) or re.fullmatch(r"(\d+\.\d+)(<\d+\.\d+)", token)
        out.extend(glued.groups() if glued else (token,))
    return out


def _by_header(tokens: list[str], columns: list[Column]) -> tuple[float | None, float | None, str | None] | None:
    cells = [t for t in tokens if _VALUE_TOKEN.match(t) or nd_flag(t) or t.upper() in ("NR", "NT")]
    if len(cells) != len(columns):
        return None
    results = [(cell, col) for cell, col in zip(cells, columns) if col.kind in ("result", "results", "mass",
                                                                              "value", "finding")]
    for wanted, divisor in (("%", 1), ("mg/g", 10)):
        for cell, col in results:
            if col.unit == wanted:
                flag = nd_flag(cell)
                if flag:
                    return (None, None, None) if flag == "NR" else (0.0, 0.0, flag)
                value = to_float(cell.lstrip("<>"))
                if value is None:
                    return None
                return value / divisor, (value if divisor == 10 else None), None
    return None


_SEGMENT_RE: re.Pattern | None = None


def _segment_regex() -> re.Pattern:
    global _SEGMENT_RE
    if _SEGMENT_RE is None:
        names = sorted({alias for a in dictionary.ALL_ANALYTES for alias in (a.name, *a.aliases)}, key=len,
                       reverse=True)
        _SEGMENT_RE = re.compile(r"(?<![\w\-(])(" + "|".join(_alias_pattern(n) for n in names) + r")(?=[\s:]|$)", re.I)
    return _SEGMENT_RE


_GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "Δ"}


def _alias_pattern(alias: str) -> str:
    """An alias as a regex that also accepts its other spellings: "beta-myrcene" matches "Beta myrcene",
    "β-Myrcene" and "betamyrcene"."""
    pattern = re.escape(alias.lower()).replace(r"\-", r"[\s\-]?").replace(r"\ ", r"[\s\-]?")
    for word, letter in _GREEK.items():
        pattern = re.sub(f"{word}|{letter}", f"(?:{word}|{letter})", pattern)
    return pattern


def _segments(line: str) -> list[tuple[str, str]]:
    """(printed name, rest) for each analyte on a line; two-column tables print two analytes per line."""
    found = []
    for match in _segment_regex().finditer(line):
        if match.start() == 0:
            found.append(match)
            continue
        if not found:
            break
        before = line[found[-1].end():match.start()].split()
        if before and (_VALUE_TOKEN.match(before[-1]) or nd_flag(before[-1]) or _STATUS.match(before[-1])
                       or before[-1] == "%)"):
            found.append(match)
    segments = []
    for index, match in enumerate(found):
        end = found[index + 1].start() if index + 1 < len(found) else len(line)
        segments.append(_without_second_name(match.group(1), line[match.end():end]))
    return segments


def _without_second_name(printed: str, rest: str) -> tuple[str, str]:
    """Rows that print a name twice, "THCA Tetrahydrocannabinolic acid 6.5%" or
    "Tetrahydrocannabinolic acid (THCA) 26.1386": keep one name and the values."""
    analyte = dictionary.lookup(printed)
    stripped = rest.lstrip()
    if stripped.startswith("("):
        close = stripped.find(")")
        if close > 0 and dictionary.lookup(stripped[1:close]) == analyte:
            return printed, stripped[close + 1:]
    again = _segment_regex().match(stripped)
    if again and dictionary.lookup(again.group(1)) == analyte:
        return printed, stripped[again.end():]
    return printed, rest


def read_tables(lines: list[str]) -> TableRead:
    read = TableRead()
    seen: dict[str, dict[str, AnalyteResult]] = {"cannabinoid": {}, "terpene": {}}
    recent: list[str] = []
    columns: list[Column] | None = None
    last_category: str | None = None
    in_qc = False
    for line in lines:
        segments = _segments(line)
        named = re.match(r"^total\s+(\S+(?:\s\S+)?)\s+((?:[<>]?\d|nd\b|<).*)$", line, re.I)
        if named and not segments and dictionary.lookup(named.group(1)) and columns:
            value = row_value(named.group(2), columns)
            key = dictionary.lookup(named.group(1)).key
            if value is not None and key not in read.named_totals:
                read.named_totals[key] = (value[0], value[2])
            continue
        if not segments:
            total = re.match(r"^total\s*:?\s+(.*)$", line, re.I)
            if total and last_category and last_category not in read.totals and not re.search(r"[a-z]{3,}",
                                                                                               total.group(1)):
                value = row_value(total.group(1), columns)
                if value is not None:
                    read.totals[last_category] = (value[0], value[2])
                last_category = None
            recent = (recent + [line])[-10:]
            continue
        # A header names columns and prints no values ("<LOQ" in an unknown analyte's row is not a header).
        header_lines = [r for r in recent if _HEADER_WORDS.search(r) and not re.search(r"\d\.\d|<\s*l?loq", r, re.I)]
        if any(QC_WORDS.search(r) for r in recent):
            in_qc = True
        if header_lines:
            columns = parse_header(" ".join(recent[recent.index(header_lines[0]):])) or None
            in_qc = any(QC_WORDS.search(r) for r in recent[recent.index(header_lines[0]):])
        recent = []
        if in_qc:
            continue
        for printed, rest in segments:
            analyte = dictionary.lookup(printed)
            if analyte is None:
                continue
            if re.search(r"=\s*[A-Za-z\u0394(]|[*+]", rest) or re.search(r"[a-z]{4,}", rest):
                continue  # a formula or prose, not a result row
            value = row_value(rest, columns)
            if value is None:
                continue
            pct, mg_g, flag = value
            last_category = analyte.category
            target = seen[analyte.category]
            if analyte.key not in target:
                target[analyte.key] = AnalyteResult(key=analyte.key, name=printed, category=analyte.category,
                                                    pct=pct, mg_g=mg_g, flag=flag)
    read.cannabinoids = list(seen["cannabinoid"].values())
    read.terpenes = list(seen["terpene"].values())
    return read
