"""Result tables read from the layout: a header row names the columns (Analyte / Result / LOD / LOQ / %, mg/g,
Status ...) and every value below it belongs to the header column it sits under.

This is what a person does with a COA table, and it works wherever the table is on the page, for two tables
side by side (each value goes to the nearest header column right of its own analyte name), across page
breaks (a page without its own header continues the last one), and for tables printed sideways (analyte
names in one row, a row of values per unit below them). Units come from the cell when it prints one
("0.192 %"), else from its column header, else from a unit row under the header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from icc_app.labs import dictionary
from icc_app.labs.parsers.header import (LIMIT_WORDS, NAME_WORDS, NUMBER, UNIT, Column, Token, attach_unit_row,
                                          header_columns, place_units, tokens_of)
from icc_app.labs.parsers.layout import Row
from icc_app.labs.parsers.tables import QC_WORDS
from icc_app.labs.parsers.text import NUM, to_float

_FLAG = {"nd": "ND", "n.d.": "ND", "<loq": "<LOQ", "<lloq": "<LOQ", "<lod": "<LOD", "bql": "<LOQ", "nr": "NR",
         "nt": "NT", "n/a": "NA", "na": "NA", "-": "-", "--": "-", "—": "-"}
_TWO_WORD_FLAGS = {("not", "detected"): "ND", ("none", "detected"): "ND", ("not", "tested"): "NT",
                   ("<", "loq"): "<LOQ", ("<", "lod"): "<LOD"}
_TOTALS = [
    ("total_thc", re.compile(r"^total\s*(?:active\s*|potential\s*)?(?:(?:d|Δ|delta[- ]?)9[- ]?)?thc\b", re.I)),
    ("total_cbd", re.compile(r"^total\s*(?:active\s*|potential\s*)?cbd\b(?!v)", re.I)),
    ("total_terpenes", re.compile(r"^total\s*terpen(?:e|oid)s?\b", re.I)),
    ("total_cannabinoids", re.compile(r"^total\s*cannabinoids\b", re.I)),
]

# Physical measurements printed as table rows ("Moisture Content 1 % 12.47 PASS 15", "Water Activity 0.01 aw
# 0.496 PASS 0.65"): the value is the cell under the Result column.
_PHYSICAL = [
    ("moisture", re.compile(r"^(?:%|percent)?\s*moisture(?:\s*content)?(?:\s*\(%\))?$|^%\s*water(?:\s*\(w/w\))?$|"
                            r"^water\s*content(?:\s*%)?(?:\s*\(w/w\))?$", re.I)),
    ("water_activity", re.compile(r"^water\s*activity(?:\s*\(aw\))?$", re.I)),
]


@dataclass
class Cell:
    value: float | None  # the printed number (None for a flag)
    flag: str | None  # ND, <LOQ ... or None
    unit: str | None  # from the cell, else the column
    column: Column | None
    x: float


@dataclass
class Reading:
    """One analyte (or printed total) row of a result table."""

    key: str  # dictionary key, or total_thc / total_cbd / total_terpenes / total_cannabinoids
    printed: str
    category: str  # cannabinoid | terpene | total
    page: int
    text: str  # the printed row segment (evidence)
    cells: list[Cell] = field(default_factory=list)
    header: str = ""  # the header row it was read under (evidence of the unit)
    x: float = 0.0  # where its name starts on the page

    def measured(self, low: float, high: float) -> float | None:
        """The result of a physical measurement row: the cell under a result column, or the only number
        printed when the table has no header; within [low, high]."""
        cells = [c for c in self.cells if c.value is not None and not c.flag]
        if self.header:
            cells = [c for c in cells if c.column is not None and c.column.kind == "result"]
        elif len(cells) != 1:
            return None
        value = cells[0].value if cells else None
        return value if value is not None and low <= value <= high else None

    def percent(self, *, skip: int = 0) -> tuple[float | None, str | None, str] | None:
        """(percent, flag, how) from the result cells: a cell's own % or mg/g unit first, then a result column
        in % or mg/g; `skip` passes over that many result cells (the re-read with another column)."""
        if any(cell.flag == "NT" for cell in self.cells):
            return None  # not tested: the numbers in the row are limits
        options = []
        for cell in self.cells:
            if cell.column is None and self.header:
                continue  # under no header column: another block beside the table
            kind = cell.column.kind if cell.column else "result"
            if kind in ("limit", "status", "name", "other"):
                continue
            unit = (cell.unit or "").lower().replace("(", "").replace(")", "").replace(" ", "")
            if unit.startswith("%"):
                options.append((cell, 1.0, "percent"))
            elif unit == "mg/g":
                options.append((cell, 0.1, "mg/g"))
            elif unit in ("w/w",):
                options.append((cell, 1.0, "percent"))
        for cell, factor, how in options[skip:]:
            if cell.flag:
                if cell.flag in ("NR", "NT", "NA", "-"):
                    return None
                return 0.0, cell.flag, how
            return round(cell.value * factor, 6), None, how
        return None


def _flag(text: str) -> str | None:
    return _FLAG.get(text.lower().strip("*"))


def _is_value(token: str) -> bool:
    return bool(NUMBER.match(token.rstrip("%*")) or _flag(token) or UNIT.match(token))


_PREFIXES: set[str] = set()


def _is_prefix(normalized: str) -> bool:
    """Could an analyte name start with this (normalized) text? Keeps the name search linear."""
    if not _PREFIXES:
        for alias in dictionary.ALIASES:
            _PREFIXES.update(alias[:i] for i in range(1, len(alias) + 1))
    return normalized in _PREFIXES


def _names(tokens: list[Token]) -> list[tuple[int, int, str, str, str]]:
    """(start, end, key, printed, category) for each analyte name or printed total in a row of tokens."""
    found = []
    index = 0
    while index < len(tokens):
        match = None
        if tokens[index].text.lower().startswith("total"):
            for length in (4, 3, 2):
                printed = " ".join(t.text for t in tokens[index:index + length]).rstrip("*†:")
                total = next((key for key, pattern in _TOTALS if pattern.match(printed)
                              and pattern.match(printed).end() >= len(printed.rstrip(" (%)*")) - 1), None)
                if total:
                    match = (index, min(index + length, len(tokens)), total, printed, "total")
                    break
        if match is None and tokens[index].text.lower().startswith(("moist", "percent", "water", "%", "(")):
            for length in (4, 3, 2, 1):
                printed = " ".join(t.text for t in tokens[index:index + length]).rstrip(":")
                physical = next((key for key, pattern in _PHYSICAL if pattern.match(printed)), None)
                if physical and index + length <= len(tokens):
                    match = (index, index + length, physical, printed, "physical")
                    break
        if match is None:
            joined = ""
            for end in range(index, min(index + 5, len(tokens))):
                joined += dictionary.normalize(tokens[end].text.rstrip("*†:"))
                if not joined or not _is_prefix(joined):
                    break
                analyte = dictionary.ALIASES.get(joined)
                if analyte and not _is_value(tokens[end].text):
                    printed = " ".join(t.text for t in tokens[index:end + 1]).rstrip("*†:")
                    match = (index, end + 1, analyte.key, printed, analyte.category)
        if match:
            previous = tokens[index - 1] if index else None
            starts_cell = previous is None or _is_value(previous.text) or tokens[index].x0 - previous.x1 > 12 or \
                tokens[index].opens_run or \
                previous.text.lower() in ("pass", "fail", "passed", "failed")
            if starts_cell:
                found.append(match)
                index = match[1]
                continue
        index += 1
    return found


def _cells(tokens: list[Token], columns: list[Column] | None, low: float, high: float) -> list[Cell]:
    cells: list[Cell] = []
    index = 0
    candidates = [c for c in (columns or []) if c.kind != "name" and low - 6 <= c.center <= high + 6]
    while index < len(tokens):
        token = tokens[index]
        text = token.text
        nxt = tokens[index + 1].text.lower() if index + 1 < len(tokens) else ""
        two = _TWO_WORD_FLAGS.get((text.lower(), nxt))
        value, flag, unit, used = None, None, None, 1
        if two:
            flag, used = two, 2
        elif _flag(text):
            flag = _flag(text)
        else:
            number = re.match(rf"^([<>≤])?\s*{NUM}(%|mg/g)?\*?$", text)
            if not number:
                index += 1
                continue
            if number.group(1) in ("<", "≤"):
                flag = "<LOQ"
            value = to_float(number.group(2))
            unit = number.group(3)
            if unit is None and UNIT.match(nxt) and nxt.strip("()") in ("%", "mg/g"):
                unit, used = nxt.strip("()"), 2
        column = min(candidates, key=lambda c: abs(c.center - token.center)) if candidates else None
        if column is not None and abs(column.center - token.center) > 60:
            column = None
        cells.append(Cell(value, flag, unit or (column.unit if column else None), column, token.center))
        index += used
    return cells


def read_grid(rows: list[Row]) -> list[Reading]:
    """Every analyte and total row of every result table, in reading order."""
    readings: list[Reading] = []
    columns: list[Column] | None = None
    header_text = ""
    previous_was_header = in_qc = False
    for row_index, row in enumerate(rows):
        tokens = tokens_of(row)
        unit_row = len(tokens) >= 2 and all(UNIT.match(t.text) for t in tokens)
        if columns and (previous_was_header or unit_row) and attach_unit_row(columns, tokens):
            continue  # units may take two rows under the header, or come after the other table's header
        header = header_columns(tokens)
        if header:
            if previous_was_header and columns:
                # Two header rows in a row: side-by-side tables whose headers sit at different heights.
                header = [c for c in columns if not any(n.x0 < c.x1 and c.x0 < n.x1 for n in header)] + header
            columns, header_text, previous_was_header = place_units(header), row.text, True
            _title_unit(columns, rows[max(0, row_index - 2):row_index], row.page)
            in_qc = bool(QC_WORDS.search(row.text))
            continue
        if QC_WORDS.search(row.text):
            in_qc = True  # "Recovery (%)" on the header's second row, a QC table's title
        if previous_was_header and tokens and all(t.text.lower() in NAME_WORDS for t in tokens):
            continue  # "Analyte Cannabinoid" between the header and its units
        previous_was_header = False
        if in_qc:
            continue
        names = _names(tokens)
        total = _closing_total(row, tokens, names, readings, columns, header_text)
        if total is not None:
            readings.append(total)
            continue
        if len(names) >= 3 and not any(NUMBER.match(t.text) for t in tokens):
            readings += _sideways(rows, row_index, tokens, names)
            continue
        for position, (start, end, key, printed, category) in enumerate(names):
            stop = names[position + 1][0] if position + 1 < len(names) else len(tokens)
            segment = tokens[end:stop]
            if any(re.search(r"[a-z]{4,}", t.text) and not _flag(t.text) and t.text.lower() not in
                   ("pass", "fail", "passed", "failed", "detected", "tested") for t in segment) or \
                    any(t.text in ("=", "+", "x", "X", "*", "×") or "=" in t.text for t in segment):
                continue  # prose or a formula ("Total THC = THCA x 0.877 + THC"), not a result row
            high = tokens[stop].x0 if stop < len(tokens) else 10_000.0
            cells = _cells(segment, columns, tokens[end - 1].x1, high)
            if not cells:
                continue
            text = " ".join(t.text for t in tokens[start:stop])
            readings.append(Reading(key, printed, category, row.page, text, cells, header_text, tokens[start].x0))
    return readings


def _title_unit(columns: list[Column], above: list[Row], page: int) -> None:
    """A table titled with its unit ("TERPENES % (w/w)" over "Terpene Result"): result columns without a
    unit of their own take it."""
    for row in reversed(above):
        match = re.search(r"(?:^|\s)\(?(%|mg/g)(?:\)|\s|$)", row.text) if row.page == page else None
        if match and len(row.text.split()) <= 8 and not re.search(r"\d", row.text.split("=")[0]):
            for column in columns:
                if column.kind == "result" and column.unit is None:
                    column.unit = match.group(1)
            return


_CLOSING = re.compile(r"^(?:total|sum)\s*(?:\(%\)|%|\(mg/g\))?\s*:?$", re.I)


def _closing_total(row: Row, tokens: list[Token], names, readings: list[Reading], columns, header: str):
    """A bare "Total" / "Sum" row closing a table of terpenes (or cannabinoids): the table's total."""
    if names or not tokens or not readings or readings[-1].category not in ("terpene", "cannabinoid"):
        return None
    same_column = [r for r in readings[-12:] if r.category in ("terpene", "cannabinoid") and abs(r.x - tokens[0].x0) < 25]
    if readings[-1].page not in (row.page, row.page - 1) or not same_column:
        return None  # a total of this table sits under its analyte names
    label_end = next((i for i in range(len(tokens), 0, -1)
                      if _CLOSING.match(" ".join(t.text for t in tokens[:i]))), 0)
    if not label_end or label_end == len(tokens):
        return None
    label = " ".join(t.text for t in tokens[:label_end])
    cells = _cells(tokens[label_end:], columns, tokens[label_end - 1].x1, 10_000.0)
    if not cells:
        return None
    if "%" in label:
        cells[0].unit = "%"  # "Total (%)": the label's unit is the value's
    key = "total_terpenes" if same_column[-1].category == "terpene" else "total_cannabinoids"
    return Reading(key, label, "total", row.page, row.text[:200], cells, header)


def _sideways(rows: list[Row], index: int, tokens: list[Token], names) -> list[Reading]:
    """Analyte names across one row, then rows that start with a unit ("%", "mg/g", "LOD") and hold one value
    per name below it: each value belongs to the name whose centre is nearest."""
    heads = [(key, printed, category, (tokens[start].x0 + tokens[end - 1].x1) / 2)
             for start, end, key, printed, category in names]
    readings = {key: Reading(key, printed, category, rows[index].page, printed) for key, printed, category, _ in heads}
    centers = sorted(h[3] for h in heads)
    spacing = sorted(b - a for a, b in zip(centers, centers[1:]))[len(centers) // 2 - 1]
    for row in rows[index + 1:index + 6]:
        if row.page != rows[index].page:
            break
        below = tokens_of(row)
        if not below:
            continue
        label = below[0].text.lower().strip("()")
        kind = "limit" if label in LIMIT_WORDS else "result" if UNIT.match(label) else None
        if kind is None:
            continue
        column = Column(kind, below[0].x0, below[0].x1, label if kind == "result" else None)
        for cell in _cells(below[1:], None, 0, 0):
            key, printed, category, center = min(heads, key=lambda h: abs(h[3] - cell.x))
            if abs(center - cell.x) > 0.6 * spacing:
                continue
            cell.column, cell.unit = column, cell.unit or column.unit
            readings[key].cells.append(cell)
            readings[key].text += f" {label}: {cell.flag or cell.value}"
    return [r for r in readings.values() if r.cells]
