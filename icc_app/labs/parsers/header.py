"""The header of a result table: which column is the analyte's name, which the result, which a limit, a
status or something else (dilution, units), and in which unit each column is printed.

Headers come in many shapes: "Analyte LOD LOQ Result (%) Result (mg/g)", names over a row of units
("Conc. Conc. LOQ LOD" / "(mg/serving) (mg/g) (mg/g) (mg/g)"), units printed apart from their names, and two
tables side by side whose headers sit at slightly different heights. grid.py reads the values under them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from icc_app.labs.parsers.layout import Row
from icc_app.labs.parsers.text import NUM

NAME_WORDS = {"analyte", "analytes", "compound", "compounds", "cannabinoid", "cannabinoids", "terpene", "terpenes",
              "name", "component", "test", "tests", "analysis"}
RESULT_WORDS = {"result", "results", "amt", "amount", "concentration", "conc", "conc.", "value", "mass", "measured",
                "finding", "findings", "reading"}
LIMIT_WORDS = {"lod", "loq", "lloq", "lod/loq", "mdl", "limit", "limits", "action", "spec", "specification",
               "lod/lloq", "loq/lod", "uloq"}
STATUS_WORDS = {"status", "pass/fail", "pass", "result/status", "p/f"}
OTHER_WORDS = {"dilution", "dil", "dil.", "factor", "uncertainty", "mu", "±", "rsd", "rpd", "method", "batch",
               "units", "unit"}
UNIT = re.compile(r"^\(?(%|mg/g|mg/unit|mg/serving|mg/srv|mg/pkg|mg/package|mg/ml|µg/g|ug/g|ppm|ppb|mg|w/w|"
                  r"%\s*\(w/w\)|%w/w)\)?$", re.I)
NUMBER = re.compile(rf"^[<>≤]?\s*{NUM}$")
GLUED = re.compile(r"(\d+\.\d{3})(<?\d+\.\d+)")


@dataclass
class Token:
    x0: float
    x1: float
    text: str
    opens_run: bool = False  # the first word of a printed run (a cell boundary)

    @property
    def center(self) -> float:
        return (self.x0 + self.x1) / 2


@dataclass
class Column:
    kind: str  # name | result | limit | status
    x0: float
    x1: float
    unit: str | None = None

    @property
    def center(self) -> float:
        return (self.x0 + self.x1) / 2


def tokens_of(row: Row) -> list[Token]:
    """Words of a row with their x-extent (interpolated inside a run by character position)."""
    out = []
    for run in row.runs:
        width = (run.x1 - run.x0) / max(len(run.text), 1)
        for match in re.finditer(r"\S+", run.text):
            start, text = match.start(), match.group(0)
            glued = GLUED.fullmatch(text)  # "0.0020.349": an LOQ and a result printed without a gap
            for part in glued.groups() if glued else (text,):
                out.append(Token(run.x0 + start * width, run.x0 + (start + len(part)) * width, part,
                                 start == 0))
                start += len(part)
    return out


def header_columns(tokens: list[Token]) -> list[Column] | None:
    """Columns of a header row, or None when the row is not a header (mostly column words, a result or unit
    column and a limit, name or second result column, and no numbers)."""
    columns: list[Column] = []
    known = 0
    for token in tokens:
        word = token.text.lower().strip(":,")
        if NUMBER.match(word) and not UNIT.match(word):
            return None
        known += word in NAME_WORDS | RESULT_WORDS | LIMIT_WORDS | STATUS_WORDS | OTHER_WORDS or \
            bool(UNIT.match(word)) or word.startswith(("lod", "loq", "("))
        if word in NAME_WORDS:
            columns.append(Column("name", token.x0, token.x1))
        elif word in RESULT_WORDS:
            columns.append(Column("result", token.x0, token.x1))
        elif word in LIMIT_WORDS or word.startswith(("lod", "loq")):
            if word in ("limit", "limits") and columns and columns[-1].kind == "limit" and \
                    token.x0 - columns[-1].x1 < 15:
                continue  # "Action Limit"
            columns.append(Column("limit", token.x0, token.x1))
        elif word in STATUS_WORDS:
            columns.append(Column("status", token.x0, token.x1))
        elif word in OTHER_WORDS:
            columns.append(Column("other", token.x0, token.x1))
        elif UNIT.match(word):
            unit = UNIT.match(word).group(1)
            previous = columns[-1] if columns else None
            close = previous is not None and token.x0 - previous.x1 < 12
            bare_after_limit = previous is not None and previous.kind == "limit" and not word.startswith("(")
            if previous is not None and previous.unit is None and (close or word.startswith("(")) and \
                    not bare_after_limit:
                previous.unit = unit
                previous.x1 = token.x1
            elif previous is not None and previous.unit and word.startswith("(") and close:
                continue  # "% (w/w)"
            elif previous is not None and token.x0 - previous.x1 > 25:
                columns.append(Column("unit", token.x0, token.x1, unit))  # placed by place_units
            else:
                columns.append(Column("result", token.x0, token.x1, unit))
    if all(UNIT.match(t.text) for t in tokens):
        return None  # a row of units belongs to the header above it (attach_unit_row)
    if known < 0.4 * len(tokens):
        return None  # a sentence that happens to say "result" and "limit" is not a header
    kinds = [c.kind for c in columns if c.kind != "unit"]
    results = kinds.count("result")
    if results == 0 or len(columns) < 2 or (results == 1 and "limit" not in kinds and "name" not in kinds):
        return None
    return columns


def place_units(columns: list[Column]) -> list[Column]:
    """Units printed apart from their column names ("Analyte LOD LOQ Value" over "mg/g mg/g mg/g"): each goes
    to the nearest column without a unit; one under no column is a result column of its own."""
    named = [c for c in columns if c.kind != "unit"]
    for unit in (c for c in columns if c.kind == "unit"):
        free = [c for c in named if c.unit is None and c.kind != "name" and abs(c.center - unit.center) < 25]
        if free:
            min(free, key=lambda c: abs(c.center - unit.center)).unit = unit.unit
        else:
            named.append(Column("result", unit.x0, unit.x1, unit.unit))
    return sorted(named, key=lambda c: c.x0)


def attach_unit_row(columns: list[Column], tokens: list[Token]) -> bool:
    """A row of units under the header ("(1:n) (%) (%) (mg/g)"): each unit goes to the column right above it;
    a unit under no column is a column of its own ("Result" spanning "(mg/g)" and "(%)")."""
    left, right = min(c.x0 for c in columns) - 10, max(c.x1 for c in columns) + 30
    tokens = [t for t in tokens if t.x1 > left and t.x0 < right]  # what sits beside the table is not its business
    units = [t for t in tokens if UNIT.match(t.text) or t.text == "(1:n)"]
    if not units or any(NUMBER.match(t.text) for t in tokens) or len(units) < 0.4 * len(tokens):
        return False
    for token in units:
        if token.text == "(1:n)":
            continue
        unit = UNIT.match(token.text).group(1)
        nearest = min(columns, key=lambda c: abs(c.center - token.center))
        if abs(nearest.center - token.center) <= (nearest.x1 - nearest.x0) / 2 + 8 and nearest.unit is None:
            nearest.unit = unit
        elif abs(nearest.center - token.center) > (nearest.x1 - nearest.x0) / 2 + 8 and nearest.kind != "name":
            columns.append(Column(nearest.kind if nearest.kind != "other" else "result", token.x0, token.x1, unit))
    columns.sort(key=lambda c: c.x0)
    return True
