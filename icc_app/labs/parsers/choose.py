"""Values are chosen, not grabbed: every reading of a field is a candidate, and the document's own arithmetic
picks between them and says how sure we are.

Three readers look at each COA: the line reader on the text stream (generic.py), the same line reader on the
rows of the layout (rows ordered by position, so a value drawn far from its label in the stream sits beside
it), and the table reader on the layout (grid.py: values under their header columns, with units). For a
number, candidates that agree pool their weight; then the printed totals are checked against their parts
(Total THC = Δ9-THC + 0.877 x THCA, the same for CBD, total terpenes = sum of terpene rows) and a combination
that satisfies the arithmetic wins over one that does not, even if fewer readers found it. A table whose
result column fails the arithmetic is re-read with its next result column before a value is reported.

Confidence is a number in 0..1 per reported field, calibrated on the truth files (docs/coa.md): agreement of
independent readers and a satisfied equation raise it, a disagreeing reader or a value found by one reader
only lowers it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from icc_app.labs.parsers.grid import Reading
from icc_app.labs.parsers.layout import Row
from icc_app.labs.schemas import ParsedCoa

DECARB = 0.877
WEIGHTS = {"table": 0.7, "labelled": 0.7, "field": 0.45, "stream": 0.35, "layout": 0.3}


@dataclass
class Candidate:
    value: object
    flag: str | None
    source: str  # table | labelled (a completion date by its label) | field | stream | layout (see WEIGHTS)
    page: int | None = None
    text: str | None = None


@dataclass
class Choice:
    value: object
    flag: str | None
    confidence: float
    evidence: dict | None
    sources: set[str] = field(default_factory=set)


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= max(0.0015, 0.003 * max(abs(a), abs(b)))
    return a == b


def _groups(candidates: list[Candidate]) -> list[tuple[float, list[Candidate]]]:
    """Candidates pooled by value, heaviest first; one source counts once per group."""
    groups: list[list[Candidate]] = []
    for candidate in candidates:
        for group in groups:
            if _same(group[0].value, candidate.value):
                group.append(candidate)
                break
        else:
            groups.append([candidate])
    weighed = [(sum(WEIGHTS[s] for s in {c.source for c in g}), g) for g in groups]
    return sorted(weighed, key=lambda item: (-item[0], [c.source for c in item[1]] != ["table"]))


def _choice(group: list[Candidate], weight: float, rivals: float, bonus: float = 0.0) -> Choice:
    sources = {c.source for c in group}
    confidence = 0.45 + 0.45 * min(weight, 1.0) - 0.35 * min(rivals, 1.0) + bonus
    with_text = next((c for c in group if c.text), None)
    evidence = {"page": with_text.page, "text": with_text.text} if with_text else None
    flag = next((c.flag for c in group if c.flag), None)
    return Choice(group[0].value, flag, round(max(0.05, min(confidence, 0.99)), 2), evidence, sources)


def pick(candidates: list[Candidate]) -> Choice | None:
    """The heaviest group of agreeing candidates; its rivals' weight lowers the confidence."""
    candidates = [c for c in candidates if c.value is not None]
    if not candidates:
        return None
    groups = _groups(candidates)
    weight, group = groups[0]
    rivals = sum(w for w, _ in groups[1:])
    return _choice(group, weight, rivals)


def _close(total: float, parts: float) -> bool:
    return abs(total - parts) <= max(0.02, 0.012 * total)


def pick_family(total: list[Candidate], neutral: list[Candidate], acid: list[Candidate]) -> dict[str, Choice | None]:
    """Total = neutral + 0.877 x acid: the combination of candidate groups that satisfies it wins, and all
    three are then reported with high confidence. Without a satisfying combination each is picked alone."""
    tg, ng, ag = (_groups([c for c in cs if c.value is not None]) for cs in (total, neutral, acid))
    best = None
    for ti, (tw, tgroup) in enumerate(tg):
        for ni, (nw, ngroup) in enumerate(ng):
            for ai, (aw, agroup) in enumerate(ag):
                t, n, a = tgroup[0].value, ngroup[0].value, agroup[0].value
                if t and _close(t, n + DECARB * a) and (best is None or tw + nw + aw > best[0]):
                    best = (tw + nw + aw, ti, ni, ai)
    if best is None:
        return {"total": pick(total), "neutral": pick(neutral), "acid": pick(acid)}
    _, ti, ni, ai = best
    # Total = neutral + 0 proves little (the same number read twice would pass): a smaller bonus.
    bonus = 0.3 if min(ng[ni][1][0].value, ag[ai][1][0].value) > 0.05 else 0.1
    out = {}
    for name, groups, index in (("total", tg, ti), ("neutral", ng, ni), ("acid", ag, ai)):
        weight, group = groups[index]
        rivals = sum(w for j, (w, _) in enumerate(groups) if j != index)
        out[name] = _choice(group, weight, rivals * 0.3, bonus=bonus)
    return out


def table_candidates(readings: list[Reading], key: str, *, skip: int = 0) -> list[Candidate]:
    out = []
    for reading in readings:
        if reading.key != key:
            continue
        value = reading.percent(skip=skip)
        if value is None or value[0] is None or not 0 <= value[0] <= 100:
            continue
        out.append(Candidate(value[0], value[1], "table", reading.page, reading.text))
    return out


def reread_family(readings: list[Reading], total: list[Candidate], neutral_key: str, acid_key: str
                  ) -> tuple[list[Candidate], list[Candidate]] | None:
    """Re-read the neutral and acid rows of a table with another column assignment (the same cell position
    in both rows, in % or in mg/g) when the header's assignment fails the printed total and another one
    satisfies it: the columns were printed, or read, the other way round."""
    totals = [c.value for c in total if c.value]
    neutral_row = next((r for r in readings if r.key == neutral_key), None)
    acid_row = next((r for r in readings if r.key == acid_key), None)
    if not totals or neutral_row is None or acid_row is None or len(neutral_row.cells) != len(acid_row.cells):
        return None
    for position, (n_cell, a_cell) in enumerate(zip(neutral_row.cells, acid_row.cells)):
        n_value = 0.0 if n_cell.flag else n_cell.value
        a_value = 0.0 if a_cell.flag else a_cell.value
        if n_value is None or a_value is None or (n_value == 0 and a_value == 0):
            continue
        for factor in (1.0, 0.1):
            neutral, acid = round(n_value * factor, 6), round(a_value * factor, 6)
            if acid <= 100 and neutral <= 100 and any(_close(t, neutral + DECARB * acid) for t in totals):
                how = f"re-read: column {position + 1}" + (" (mg/g)" if factor != 1.0 else "")
                return ([Candidate(neutral, n_cell.flag, "table", neutral_row.page, f"{neutral_row.text} [{how}]")],
                        [Candidate(acid, a_cell.flag, "table", acid_row.page, f"{acid_row.text} [{how}]")])
    return None


def evidence_row(rows: list[Row], label: re.Pattern, value: object = None) -> dict | None:
    """The printed row that carries a field: its label, and the value when one is given."""
    needle = _printed_forms(value)
    fallback = None
    for index, row in enumerate(rows):
        if not label.search(row.text):
            continue
        nearby = " ".join(r.text for r in rows[index:index + 3] if r.page == row.page)
        if not needle or any(n in nearby for n in needle):
            return {"page": row.page, "text": row.text[:200]}
        fallback = fallback or {"page": row.page, "text": row.text[:200]}
    return fallback


def _printed_forms(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, date):
        return [value.strftime("%m/%d/%Y"), value.isoformat(), f"{value.month}/{value.day}/", value.strftime("%b")]
    if isinstance(value, float):
        text = f"{value:.6f}".rstrip("0").rstrip(".")
        return [text, text.lstrip("0") or "0"]
    return [str(value)]


def readings_agree(result: ParsedCoa, other: ParsedCoa | None, name: str) -> bool | None:
    """Do the stream and layout line readings agree on a field (None when only one read it)?"""
    if other is None:
        return None
    a, b = getattr(result, name), getattr(other, name)
    if a is None or b is None:
        return None if a is None and b is None else False
    return _same(a, b) if isinstance(a, float) else a == b
