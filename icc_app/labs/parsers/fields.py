"""Labelled fields read from the layout: "Matrix: Flower", a label with its value in the next cell, or a label
over its value (forms printed as a grid of label / value rows, status tiles, header rows of a summary table).
What the document says about the sample: its product type, its completion date, its panel statuses.
"""

from __future__ import annotations

import re
from datetime import date

from icc_app.labs.parsers.choose import Candidate
from icc_app.labs.parsers.layout import Row
from icc_app.labs.parsers.text import NUM, nd_flag, parse_date, to_float

# Product types, most specific form first: a pre-roll's matrix is often "Flower", a cartridge's "Extract".
PRODUCT_FORMS = [
    ("pre-roll", r"pre-?rolls?|infused cones?|blunts?\b"),
    ("vape", r"\bvapes?\b|vaporizer|cartridge|\bcarts?\b|disposable|\bpods?\b|\bpen\b|all-in-one"),
    ("beverage", r"beverage|drink|\bsoda\b|seltzer"),
    ("tincture", r"tincture|sublingual|\bdrops?\b(?!.*chocolate)"),
    ("topical", r"topical|lotion|balm|salve|cream|transdermal"),
    ("edible", r"edible|gumm(?:y|ies)|chocolate|candy|ingestible|capsule|\bmip\b|infused product|baked goods?|"
               r"lozenge|marijuana infused"),
    ("concentrate", r"concentrate|extract|diamonds?|budder|badder|batter|shatter|rosin|resin|\bwax\b|\bco2\b|"
                    r"syringe|distillate|derivative|sauce|crumble|kief|hash|\boil\b|isolate|live sugar"),
    ("flower", r"flower|\bbuds?\b|plant material|cured|dried|dry leaf|shake|trim|smalls"),
]
SPECIFIC = ("pre-roll", "vape", "beverage", "tincture", "topical", "edible")
MATRIX_LABEL = r"matrix(?: type)?|sample matrix|product class|product type|sample type|product category|type|category"
NAME_LABEL = r"sample name|product name|retail name|item name|description|product|sample|strain|name"
DONE_LABEL = (r"date of testing|report date|date reported|completion date|date completed|completed|report submitted|"
              r"date issued|issued|produced|finali[sz]ed|released|approved on|report created|document created|"
              r"dates? of analy[a-z]*")
_RANGE = re.compile(r"(.+?)\s*(?:-|–|to)\s*(\d{1,2}/\d{1,2}/\d{2,4}.*)$")
_LABEL_END = re.compile(r"^[\s:#.\-]*")


def product_form(text: str) -> str | None:
    lowered = text.lower()
    for kind, pattern in PRODUCT_FORMS:
        if re.search(pattern, lowered):
            return kind
    return None


def labelled(rows: list[Row], label: str, *, limit: int | None = None) -> list[tuple[str, Row]]:
    """(value text, row it was printed on) for every place a label is printed with a value: in the same cell
    after a colon, in the next cell of the row, or in the cell right below the label."""
    pattern = re.compile(rf"(?:^|(?<=[\s/|]))(?:{label})\b\s*(?:#|no\.?)?\s*:?", re.I)
    out: list[tuple[str, Row]] = []
    scan = rows if limit is None else rows[:limit]
    for index, row in enumerate(scan):
        for position, run in enumerate(row.runs):
            for match in pattern.finditer(run.text):
                rest = run.text[match.end():]
                rest = _LABEL_END.sub("", rest).strip()
                colon = ":" in run.text[match.start():match.end()]
                if rest and (colon or match.start() == 0):
                    out.append((rest, row))
                    continue
                if rest:
                    continue
                following = row.runs[position + 1] if position + 1 < len(row.runs) else None
                if following is not None and following.x0 - run.x1 < 120 and colon:
                    out.append((following.text, row))
                    continue
                width = (run.x1 - run.x0) / max(len(run.text), 1)
                left, right = run.x0 + match.start() * width, run.x0 + match.end() * width
                below = _below(rows, index, left, right)
                if below:
                    out.append(below)
    return out


def _below(rows: list[Row], index: int, left: float, right: float) -> tuple[str, Row] | None:
    """The text printed under [left, right] in the next rows of the same page."""
    for row in rows[index + 1:index + 5]:
        if row.page != rows[index].page:
            return None
        words = []
        for run in row.runs:
            width = (run.x1 - run.x0) / max(len(run.text), 1)
            for match in re.finditer(r"\S+", run.text):
                x0, x1 = run.x0 + match.start() * width, run.x0 + match.end() * width
                if x1 > left - 4 and x0 < right + 4:
                    words.append(match.group(0))
        if words:
            return " ".join(words), row
    return None


def product_type_candidates(rows: list[Row]) -> tuple[list[Candidate], list[Candidate]]:
    """(matrix candidates, name candidates): what the matrix / type line says, and what the product's name
    says about its form."""
    matrix = []
    for value, row in labelled(rows, MATRIX_LABEL):
        kind = product_form(value)
        if kind:
            matrix.append(Candidate(kind, None, "field", row.page, row.text[:200]))
    names = []
    titles = [(run.text, row) for row in rows[:8] if row.page == 1 for run in row.runs if len(run.text) < 60]
    for value, row in labelled(rows, NAME_LABEL, limit=60) + titles:
        kind = product_form(value)
        if kind in SPECIFIC:
            names.append(Candidate(kind, None, "field", row.page, row.text[:200]))
    return matrix, names


def completion_dates(rows: list[Row]) -> list[Candidate]:
    """Dates printed as the report's completion (the latest of them: labs print one per panel)."""
    found: list[tuple[date, Row]] = []
    for value, row in labelled(rows, DONE_LABEL):
        span = _RANGE.match(value)
        when = parse_date(span.group(2)) if span and parse_date(span.group(1)) else parse_date(value)
        if when and 2000 < when.year < 2100:
            found.append((when, row))
    if not found:
        return []
    latest = max(found, key=lambda item: item[0])
    return [Candidate(latest[0], None, "labelled", latest[1].page, latest[1].text[:200])]


PANEL_LABELS = {
    "pesticides_status": r"pesticides?(?: screen(?:ing)?| analysis| residues?)?|chemical residue",
    "heavy_metals_status": r"(?:heavy )?metals?(?: screen(?:ing)?| analysis)?",
    "microbials_status": r"microbials?|microbiological(?: profile| screen| contaminants)?|microbes|"
                         r"microbial (?:contaminants|impurities|screen|result)",
    "mycotoxins_status": r"mycotoxins?(?: screen(?:ing)?| analysis)?",
    "residual_solvents_status": r"residual solvents?(?: screen(?:ing)?| analysis)?|residuals solvents|solvents",
    "foreign_matter_status": r"foreign (?:matter|material)|filth(?: and foreign material)?",
}
_VERDICTS = {"pass": "pass", "passed": "pass", "fail": "fail", "failed": "fail", "nt": None, "ne": None,
             "n/a": None}


def _verdict(text: str) -> tuple[bool, str | None]:
    """(found, status) from the first verdict word in a cell: "PASSED", "All Results Pass", "NOT TESTED"."""
    text = re.sub(r"pass\s*/\s*fail|date tested", " ", text, flags=re.I)
    if re.search(r"\bnot (?:tested|examined|analy[sz]ed|required)\b", text, re.I):
        return True, None
    for word in re.findall(r"[A-Za-z/]+", text):
        if word.lower() in _VERDICTS:
            return True, _VERDICTS[word.lower()]
    return False, None


def _verdict_row(row: Row) -> bool:
    return bool(row.runs) and all(_verdict(run.text)[0] and len(run.text) < 20 for run in row.runs)


def _panel_row(row: Row) -> bool:
    return any(re.match(rf"^\W*(?:{label})\b", run.text, re.I) for run in row.runs for label in PANEL_LABELS.values())


def _verdict_above(rows: list[Row], index: int, left: float, right: float) -> str | None:
    """The verdict printed over [left, right] in a tile grid whose verdicts stand over the panel names. Grids
    alternate name rows and verdict rows, so the direction is read from the top of the grid: a verdict row
    first means verdicts stand over their names."""
    top = index
    while top > 0 and rows[top - 1].page == rows[index].page and (_verdict_row(rows[top - 1]) or
                                                                  _panel_row(rows[top - 1])):
        top -= 1
    if top == index or not _verdict_row(rows[top]) or not _verdict_row(rows[index - 1]):
        return None
    for run in rows[index - 1].runs:
        if run.x1 > left - 4 and run.x0 < right + 4:
            return run.text
    return None


def panel_statuses(rows: list[Row]) -> dict[str, list[Candidate]]:
    """Safety panel verdicts printed beside or under the panel's name: "Metals : PASS", "Metals (Ingest Only)"
    then "PASS" in the next cell, a tile with "Pesticides" over "PASSED", "Microbiological Profile" over
    "All Results Pass". The first place a panel is named with a verdict wins (the summary comes first)."""
    out: dict[str, list[Candidate]] = {}
    for name, label in PANEL_LABELS.items():
        pattern = re.compile(rf"^\W*(?:{label})\b", re.I)
        for index, row in enumerate(rows):
            found = False
            for position, run in enumerate(row.runs):
                match = pattern.match(run.text)
                if not match:
                    continue
                texts = [run.text[match.end():]]
                beside = [r.text for r in row.runs[position + 1:] if r.x0 - run.x1 < 250]
                if beside:
                    texts.append(" ".join(beside[:3]))
                above = _verdict_above(rows, index, run.x0, run.x1)
                below = _below(rows, index, run.x0, run.x1)
                if above is not None:
                    texts.append(above)  # status tiles with the verdict over the name
                elif below:
                    texts.append(below[0])
                for text in texts:
                    if len(text) > 40:
                        continue
                    found, status = _verdict(text)
                    if found:
                        out[name] = [Candidate(status, None, "field", row.page, row.text[:200])]
                        break
                if found:
                    break
            if found:
                break
    return out


def labelled_percents(rows: list[Row], label: str) -> list[Candidate]:
    """A total printed as a label with its value beside or under it ("Total THC" over "25.129%"): every
    such reading is a candidate; the document's arithmetic chooses between them (dry weight or as received)."""
    out = []
    for value, row in labelled(rows, label, limit=None):
        value = value.strip()
        number = re.match(rf"^{NUM}\s*(%|mg/g)", value)
        if number:
            amount = to_float(number.group(1)) / (10 if number.group(2) == "mg/g" else 1)
            if 0 <= amount <= 100:
                out.append(Candidate(round(amount, 6), None, "field", row.page, row.text[:200]))
        elif nd_flag(value) in ("ND", "<LOQ", "<LOD"):
            out.append(Candidate(0.0, nd_flag(value), "field", row.page, row.text[:200]))
    return out


_LEGEND = re.compile(r"(?:^|\s)\"?([A-Z]|-)\"?\s*=\s*(Pass|Fail|Tested|Not Tested)\b", re.I)
_MICROBIAL_TESTS = re.compile(r"yeast|mold|aerobic|coliform|enterobacteri|pathogenic|e\.? ?coli|salmonella|"
                              r"aspergillus|listeria", re.I)


def legend_grid(rows: list[Row]) -> dict[str, list[Candidate]]:
    """A results grid written in codes the report defines ("Y = Tested  - = Not Tested  P = Pass  F = Fail"):
    each code belongs to the test named just left of it, on its row or on the rows above and below (names
    wrap around the code). The microbial tests together give the microbials verdict."""
    legend: dict[str, str | None] = {}
    for row in rows:
        for code, meaning in _LEGEND.findall(row.text):
            legend[code.upper()] = {"pass": "pass", "fail": "fail"}.get(meaning.lower())
    if "P" not in legend or "F" not in legend:
        return {}
    found: dict[str, list[tuple[str | None, Row]]] = {}
    for index, row in enumerate(rows):
        codes = [run for run in row.runs if run.text.strip('"').upper() in legend and len(run.text) <= 3]
        if len(codes) < 3:
            continue
        around = [r for r in rows[max(0, index - 1):index + 2] if r.page == row.page]
        for code in codes:
            label = " ".join(r.text for near in around for r in near.runs
                             if code.x0 - 90 < r.x1 <= code.x0 + 1 and r.text.strip('"').upper() not in legend)
            verdict = legend[code.text.strip('"').upper()]
            names = [n for n, pattern in PANEL_LABELS.items() if re.search(rf"\b(?:{pattern})\b", label, re.I)]
            if _MICROBIAL_TESTS.search(label):
                names.append("microbials_status")
            for name in names:
                found.setdefault(name, []).append((verdict, row))
    out = {}
    for name, verdicts in found.items():
        tested = [v for v, _ in verdicts if v is not None]
        if tested:
            status = "fail" if "fail" in tested else "pass"
            row = verdicts[0][1]
            out[name] = [Candidate(status, None, "field", row.page, row.text[:200])]
    return out
