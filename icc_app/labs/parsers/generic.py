"""The format-independent COA parser: finds what most labs print, from the common phrasings.

It works on the text layer only (see pdftext.py) and never guesses: a value that is not found is None.
Lab-specific parsers can start from its result and correct what their format prints differently.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from icc_app.labs import dictionary
from icc_app.labs.labs import identify_lab
from icc_app.labs.schemas import AnalyteResult, ParsedCoa

NUM = r"(\d{1,3}(?:,\d{3})*(?:\.\d+)?|\.\d+)"
ND_TOKENS = {"nd": "ND", "<loq": "<LOQ", "<lod": "<LOD", "nr": "NR", "nt": "NT", "bql": "<LOQ", "<ql": "<LOQ",
             "nonedetected": "ND", "none": "ND", "notdetected": "ND"}
PASS_WORDS = {"pass": "pass", "passed": "pass", "fail": "fail", "failed": "fail"}
NOT_TESTED = re.compile(r"\b(not tested|nt|n/?a|not required|not analyzed)\b", re.I)

PANELS = {
    "pesticides_status": r"pesticides?(?: screen| analysis)?",
    "heavy_metals_status": r"heavy metals?(?: screen| analysis)?",
    "microbials_status": r"microbials?(?: contaminants| analysis| screen)?|microbiology|microbial impurities",
    "mycotoxins_status": r"mycotoxins?(?: screen| analysis)?",
    "residual_solvents_status": r"residual solvents?(?: analysis| screen)?",
    "foreign_matter_status": r"foreign (?:matter|material)|filth and foreign(?: material)?",
}

PRODUCT_TYPES = [
    ("pre-roll", r"pre-?rolls?|preroll|joint"),
    ("vape", r"vape|cartridge|\bcart\b|disposable|pod\b|inhalable.{0,20}(?:vape|cartridge)|live rosin di|\bpen\b"),
    ("edible", r"edible|gumm(?:y|ies)|chocolate|candy|beverage|ingestible|tincture|capsule"),
    ("concentrate", r"concentrate|extract|diamonds|budder|badder|shatter|rosin|resin|wax|\bco2\b|syringe|distillate|"
                    r"derivative|sauce|crumble|kief|hash"),
    ("flower", r"flower|\bbud\b|plant|cured|dried|buds"),
]

DATE_PATTERNS = [
    (re.compile(r"(\d{4})-(\d{2})-(\d{2})"), "ymd"),
    (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})"), "mdy"),
    (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2})\b"), "mdy2"),
    (re.compile(r"(\d{1,2})[ -]([A-Za-z]{3})[a-z]*[ -,]+(\d{2,4})"), "dmony"),
    (re.compile(r"([A-Za-z]{3})[a-z]* (\d{1,2}),? (\d{4})"), "mondy"),
]


def to_float(token: str) -> float | None:
    try:
        return float(token.replace(",", ""))
    except ValueError:
        return None


def parse_date(text: str) -> date | None:
    for pattern, kind in DATE_PATTERNS:
        match = pattern.search(text)
        if not match:
            continue
        try:
            a, b, c = match.groups()
            if kind == "ymd":
                return date(int(a), int(b), int(c))
            if kind == "mdy":
                return date(int(c), int(a), int(b))
            if kind == "mdy2":
                return date(2000 + int(c), int(a), int(b))
            if kind == "dmony":
                year = int(c) if len(c) == 4 else 2000 + int(c)
                return datetime.strptime(f"{a} {b[:3]} {year}", "%d %b %Y").date()
            if kind == "mondy":
                return datetime.strptime(f"{b} {a[:3]} {c}", "%d %b %Y").date()
        except ValueError:
            continue
    return None


def _lines(text: str) -> list[str]:
    return [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.split("\n")]


def _value_near(lines: list[str], label: re.Pattern, *, unit: str = "%", window: int = 2,
                allow_before: bool = True) -> tuple[float | None, str | None]:
    """A number with `unit` on the label's line, the lines around it, or an ND-like token.

    Layouts differ: "Total THC: 19.25%", "Total THC" then "23.55%" on the next line, or the value printed
    above its label ("23.55%" / "Total THC" / "0.64%" / "Total CBD"). A bare value line above the label wins
    when the line below is a bare value that belongs to the next label.
    """
    value_re = re.compile(NUM + r"\s*" + re.escape(unit)) if unit else re.compile(r"(?<![\w.])" + NUM + r"(?![\w.%])")
    bare_re = re.compile(r"^[-\s]*" + NUM + r"\s*" + re.escape(unit) + r"(?:\s+" + NUM + r"\s*mg)?\s*$") if unit else None
    for index, line in enumerate(lines):
        match = label.search(line)
        if not match:
            continue
        rest = line[match.end():]
        if re.match(r"\s*(?:=|\(|is calculated|formula)", rest) or "+" in rest or "*" in rest:
            continue  # a formula, not a value
        found = value_re.search(rest)
        if found:
            return to_float(found.group(1)), None
        if unit == "%":
            pair = _row_value(rest, "cannabinoid")
            if pair and pair[0] is not None and pair[2] is None and pair[1] is not None:
                return pair[0], None
        flag = _nd_flag(rest)
        if flag:
            return 0.0, flag
        if rest.strip() and re.search(r"\d", rest):
            continue
        prev_line = lines[index - 1] if index > 0 else ""
        next_line = lines[index + 1] if index + 1 < len(lines) else ""
        if allow_before and bare_re and bare_re.match(prev_line):
            next_is_value = bool(bare_re.match(next_line)) or _nd_flag(next_line) is not None
            if not next_is_value or _values_precede_labels(lines, index, bare_re):
                return to_float(value_re.search(prev_line).group(1)), None
        for candidate in lines[index + 1:index + 1 + window]:
            if label.search(candidate):
                break
            found = value_re.search(candidate)
            if found:
                return to_float(found.group(1)), None
            flag = _nd_flag(candidate)
            if flag:
                return 0.0, flag
    return None, None


def _values_precede_labels(lines: list[str], index: int, bare_re: re.Pattern) -> bool:
    """In a run of alternating value/label lines, do values come first? Decided by where the run starts.

    A line with other numbers (dates) or a pass/fail word is neither value nor label and ends the run.
    """

    def is_bare(line: str) -> bool:
        return bool(bare_re.match(line)) or bool(NOT_TESTED.fullmatch(line.strip()))

    def is_break(line: str) -> bool:
        return not line or (not is_bare(line) and (bool(re.search(r"\d", line)) or
                                                   bool(re.search(r"\b(pass|passed|fail|failed)\b", line, re.I))))

    start = index
    while start > 0 and not is_break(lines[start - 1]) and is_bare(lines[start - 1]) != is_bare(lines[start]):
        start -= 1
    return is_bare(lines[start])


def _nd_flag(text: str) -> str | None:
    compact = re.sub(r"[\s\-:]", "", text.lower())
    for token, flag in ND_TOKENS.items():
        if compact.startswith(token):
            return flag
    return None


def _panel_status(lines: list[str], pattern: str) -> str | None:
    label = re.compile(rf"^(?:{pattern})\b\s*:?\s*(.*)$", re.I)
    for index, line in enumerate(lines):
        match = label.match(line)
        if not match or len(line) > 60:
            continue
        rest = match.group(1).strip().lower()
        for word in re.findall(r"[a-z]+", rest)[-3:] + re.findall(r"[a-z]+", rest)[:2]:
            if word in PASS_WORDS:
                return PASS_WORDS[word]
        if NOT_TESTED.search(rest):
            return None
        if rest and not re.fullmatch(r"(p|f)", rest):
            if rest in ("p",):
                return "pass"
        if rest == "p":
            return "pass"
        neighbours = [lines[index + 1] if index + 1 < len(lines) else "", lines[index - 1] if index else ""]
        for neighbour in neighbours:
            word = neighbour.strip().lower()
            if word in PASS_WORDS:
                return PASS_WORDS[word]
            if NOT_TESTED.fullmatch(word or "-"):
                return None
    return None


def _analyte_rows(lines: list[str]) -> tuple[list[AnalyteResult], list[AnalyteResult]]:
    cannabinoids: dict[str, AnalyteResult] = {}
    terpenes: dict[str, AnalyteResult] = {}
    alias_re = _alias_regex()
    for line in lines:
        match = alias_re.match(line)
        if not match:
            continue
        printed = match.group(1)
        analyte = dictionary.lookup(printed)
        if analyte is None:
            continue
        rest = line[match.end():]
        if "=" in rest or "+" in rest or re.search(r"[a-z]{4,}", rest):
            continue
        result = _row_value(rest, analyte.category)
        if result is None:
            continue
        pct, mg_g, flag = result
        target = cannabinoids if analyte.category == "cannabinoid" else terpenes
        if analyte.key not in target:
            target[analyte.key] = AnalyteResult(key=analyte.key, name=printed, category=analyte.category, pct=pct,
                                                mg_g=mg_g, flag=flag)
    return list(cannabinoids.values()), list(terpenes.values())


_ALIAS_RE: re.Pattern | None = None


def _alias_regex() -> re.Pattern:
    global _ALIAS_RE
    if _ALIAS_RE is None:
        names = sorted({alias for a in dictionary.ALL_ANALYTES for alias in (a.name, *a.aliases)}, key=len, reverse=True)
        _ALIAS_RE = re.compile(r"^\s*(" + "|".join(re.escape(n) for n in names) + r")(?=[\s:]|$)", re.I)
    return _ALIAS_RE


def _row_value(rest: str, category: str) -> tuple[float | None, float | None, str | None] | None:
    """(pct, mg/g, flag) from the cells after an analyte name."""
    percent = re.search(NUM + r"\s*%", rest)
    tokens = rest.split()
    numbers = [to_float(t) for t in tokens if re.fullmatch(NUM, t)]
    numbers = [n for n in numbers if n is not None]
    if percent:
        pct = to_float(percent.group(1))
        mg = next((n for n in numbers if pct and abs(n - pct * 10) <= max(0.02 * n, 0.011)), None)
        return pct, mg, None
    # mg/g beside % (ratio 10), or µg/g beside % (ratio 10,000): the smaller one is the percent.
    for i, a in enumerate(numbers):
        for b in numbers[i + 1:]:
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


def _first(lines: list[str], pattern: str, group: int = 1) -> str | None:
    regex = re.compile(pattern, re.I)
    for index, line in enumerate(lines):
        match = regex.search(line)
        if match:
            value = match.group(group).strip() if match.lastindex else ""
            if value:
                return value
            if index + 1 < len(lines) and lines[index + 1]:
                return lines[index + 1].strip()
    return None


def _date_after(lines: list[str], pattern: str) -> date | None:
    regex = re.compile(pattern, re.I)
    for index, line in enumerate(lines):
        match = regex.search(line)
        if match:
            found = parse_date(line[match.end():]) or (parse_date(lines[index + 1]) if index + 1 < len(lines) else None)
            if found:
                return found
    return None


def parse_text(pages: list[str]) -> ParsedCoa:
    text = "\n".join(pages)
    lines = _lines(text)
    lab = identify_lab(text)
    result = ParsedCoa(pages=len(pages))
    if lab:
        result.lab_name, result.lab_state, result.parser = lab.name, lab.state, lab.key
    result.lab_license = _first(lines, r"(?:lab(?:oratory)? )?(?:lic(?:ense)?\.?\s*(?:#|no\.?|number)?:?)\s*([A-Z0-9][A-Z0-9\-]{4,})")

    cannabinoids, terpenes = _analyte_rows(lines)
    result.cannabinoids, result.terpenes = cannabinoids, terpenes
    by_key = {a.key: a for a in cannabinoids}
    for key in ("thca", "d9_thc", "cbda", "cbd"):
        if key in by_key:
            setattr(result, f"{key}_pct", by_key[key].pct)

    total_thc = re.compile(r"\btotal (?:active |potential )?(?:(?:d|Δ|∆|delta[- ]?)9[- ]?)?thc\b(?!\s*[-/]?\s*(?:o|v|a)\b)(?! ?=)", re.I)
    total_cbd = re.compile(r"\btotal (?:active |potential )?cbd\b(?!v)(?! ?=)", re.I)
    result.total_thc_pct, thc_flag = _value_near(lines, total_thc)
    result.total_cbd_pct, cbd_flag = _value_near(lines, total_cbd)
    if result.total_thc_pct is None and (result.thca_pct is not None or result.d9_thc_pct is not None):
        result.total_thc_pct = round((result.d9_thc_pct or 0) + 0.877 * (result.thca_pct or 0), 4)
        result.total_thc_computed = True
    if result.total_cbd_pct is None and (result.cbda_pct is not None or result.cbd_pct is not None):
        result.total_cbd_pct = round((result.cbd_pct or 0) + 0.877 * (result.cbda_pct or 0), 4)
        result.total_cbd_computed = True
    result.total_cannabinoids_pct, _ = _value_near(lines, re.compile(r"\btotal cannabinoids\b", re.I))
    result.total_terpenes_pct, _ = _value_near(lines, re.compile(r"\btotal terpen(?:e|oid)s?\b", re.I))
    if terpenes:
        top = max(terpenes, key=lambda t: t.pct or 0)
        result.top_terpene = top.name if (top.pct or 0) > 0 else None

    result.moisture_pct, _ = _value_near(lines, re.compile(r"\bmoisture(?: content)?\b(?! concentration)", re.I))
    aw, _ = _value_near(lines, re.compile(r"\bwater activity\b", re.I), unit="aw")
    if aw is None:
        aw, _ = _value_near(lines, re.compile(r"\bwater activity\b\s*:?", re.I), unit="", window=1, allow_before=False)
        if aw is not None and not (0 < aw < 1):
            aw = None
    result.water_activity_aw = aw
    if result.moisture_pct is not None and not (0 < result.moisture_pct < 40):
        result.moisture_pct = None

    for field, pattern in PANELS.items():
        setattr(result, field, _panel_status(lines, pattern))

    result.metrc_tag = _first(lines, r"\b(1A[0-9A-F]{22})\b")
    result.sample_name = _first(lines, r"^(?:sample name|product name|product|sample)\s*:\s*(.*)$")
    result.sample_id = _first(lines, r"\bsample (?:id|#|no\.?)\s*:?\s*([A-Za-z0-9\-\.]+)")
    result.batch_number = _first(lines, r"\bbatch\s*(?:#|number|no\.?|id)\s*:?\s*([A-Za-z0-9\-_]+)")
    result.date_sampled = _date_after(lines, r"\b(?:date )?(?:sampled|collected|sampling date|date collected)\b:?")
    result.date_received = _date_after(lines, r"\b(?:date )?received\b:?")
    result.date_tested = _date_after(
        lines, r"\b(?:completion date|completed|date issued|report date|date reported|reported|tested|date tested|issued)\b:?"
    )
    result.product_type = _product_type(text)
    if result.total_thc_pct is not None and thc_flag:
        result.flags.append(f"total THC printed as {thc_flag}")
    if cbd_flag:
        result.flags.append(f"total CBD printed as {cbd_flag}")
    return result


def _product_type(text: str) -> str:
    head = text[:1500].lower()
    matrix = re.search(r"(?:matrix|product type|sample type|type|category)\s*:?\s*([^\n]{0,60})", head)
    zones = [matrix.group(1)] if matrix else []
    zones.append(head)
    for zone in zones:
        for product_type, pattern in PRODUCT_TYPES:
            if re.search(pattern, zone):
                return product_type
    return "other"
