"""The format-independent COA parser: finds what most labs print, from the common phrasings.

It works on the text layer only (see pdftext.py) and never guesses: a value that is not found is None.
Lab-specific parsers (labspecific.py) start from its result and correct what their format prints differently.
"""

from __future__ import annotations

import re
from datetime import date

from icc_app.labs.labs import LAB_LICENSE, identify_lab
from icc_app.labs.parsers.tables import read_tables, row_value
from icc_app.labs.parsers.text import NUM, lines_of, nd_flag, normalize, parse_date, to_float
from icc_app.labs.schemas import ParsedCoa

PASS_WORDS = {"pass": "pass", "passed": "pass", "fail": "fail", "failed": "fail"}
NOT_TESTED = re.compile(r"\b(not tested|nt|n/?a|not required|not analyzed)\b", re.I)

PANELS = {
    "pesticides_status": r"pesticides?(?: screen| analysis)?|chemical residue|agricultural agents",
    "heavy_metals_status": r"heavy metals?(?: screen| analysis)?",
    "microbials_status": r"(?:compliance )?microbials?(?: contaminants| analysis| screen)?|microbiology|"
                         r"microbiological(?: screen)?|microbial impurities",
    "mycotoxins_status": r"mycotoxins?(?: screen| analysis)?",
    "residual_solvents_status": r"residual solvents?(?: analysis| screen)?",
    "foreign_matter_status": r"foreign (?:matter|material)s?|filth and foreign(?: material)?",
}

PRODUCT_TYPES = [
    ("pre-roll", r"pre-?rolls?|preroll|joint"),
    ("vape", r"vape|cartridge|\bcart\b|disposable|pod\b|inhalable.{0,20}(?:vape|cartridge)|live rosin di|\bpen\b"),
    ("edible", r"edible|gumm(?:y|ies)|chocolate|candy|beverage|ingestible|tincture|capsule"),
    ("concentrate", r"concentrate|extract|diamonds|budder|badder|shatter|rosin|resin|wax|\bco2\b|syringe|distillate|"
                    r"derivative|sauce|crumble|kief|hash"),
    ("flower", r"flower|\bbud\b|plant|cured|dried|buds"),
]

# Completion dates, strongest first; within a tier the latest date wins (labs print one per panel).
DATE_TIERS = [
    r"\b(?:completion date|completed|complete|date issued|issued|report created|report date|date reported|"
    r"approved|finali[sz]ed|released)\b:?",
    r"\b(?:lab(?:oratory)? director|signed|signature)\b",
    r"\b(?:date tested|tested|analy[sz]ed(?: on)?)\b:?",
]

_VALUE_EXPR = re.compile(rf"^[<>≤]?\s*{NUM}\s*(%|mg/g|aw|ppm)?(?:\s*\(.*\))?$|^(?:nd|nt|nr|n/?a|<\s*l?loq|<\s*lod|"
                         r"not tested|not detected|none ?detected)$", re.I)
_STATUS_WORDS = re.compile(r"\b(?:pass(?:ed)?|fail(?:ed)?|complete|tested)\b|(?<!\S)-(?!\S)", re.I)
_SUMMARY_LABEL = re.compile(r"\btotal (?:active |potential )?(?:(?:d|\u0394|delta[- ]?)9[- ]?)?(?:thc|cbd)\b|"
                            r"\btotal (?:cannabinoids|terpenes|potential)\b|\bmoisture\b|\bwater activity\b", re.I)


def _value_line(line: str) -> bool:
    """A line that is only a value ("23.55%", "251.63 mg/g", "0.41 aw", "ND") and/or a status word."""
    if not line:
        return False
    rest = _STATUS_WORDS.sub("", line).strip()
    return not rest or bool(_VALUE_EXPR.match(rest))


def _in_run(line: str) -> bool:
    return _value_line(line) or (bool(line) and len(line) <= 40 and not re.search(r"\d", line))


def _numeric(line: str) -> bool:
    text = _STATUS_WORDS.sub("", line).strip()
    return bool(text) and _value_line(line)


def _values_before(lines: list[str], index: int) -> bool:
    """In a block of summary labels and values on their own lines, do values sit above their labels?

    Each reading is tried on the whole block: the one that gives more summary labels a value wins; on a tie,
    a value right above the first summary label means values come first. Status-only lines ("PASSED") are
    part of the block but are not values.
    """
    start = index
    while start > 0 and _in_run(lines[start - 1]):
        start -= 1
    end = index
    while end + 1 < len(lines) and _in_run(lines[end + 1]):
        end += 1
    labels = [i for i in range(start, end + 1) if not _value_line(lines[i]) and _SUMMARY_LABEL.search(lines[i])]

    def has_value(i: int, step: int) -> bool:
        j = i + step
        while start <= j <= end and _value_line(lines[j]):
            if _numeric(lines[j]):
                return True
            j += step
        return False

    before = sum(has_value(i, -1) for i in labels)
    after = sum(has_value(i, 1) for i in labels)
    if before != after:
        return before > after
    return bool(labels) and has_value(labels[0], -1)


def _pick(group: list[str], unit: str, explicit_only: bool) -> tuple[bool, float | None, str | None]:
    """(found, value, flag) for `unit` from a group of value lines."""
    for line in group:
        text = _STATUS_WORDS.sub("", line).strip()
        match = re.search(NUM + r"\s*" + re.escape(unit), text) if unit else None
        if match:
            return True, to_float(match.group(1)), None
    if unit == "%":
        for line in group:
            match = re.search(NUM + r"\s*mg/g", line)
            if match:
                return True, round(to_float(match.group(1)) / 10, 6), None
    if explicit_only:
        return False, None, None
    for line in group:
        text = _STATUS_WORDS.sub("", line).strip()
        flag = nd_flag(text) if text else None
        if flag in ("NT",) or NOT_TESTED.fullmatch(text or "-"):
            return True, None, None
        if flag:
            return True, 0.0, flag
        if unit == "aw":
            match = re.fullmatch(NUM, text)
            if match and 0 < to_float(match.group(1)) < 1:
                return True, to_float(match.group(1)), None
    return False, None, None


def value_near(lines: list[str], label: re.Pattern, *, unit: str = "%", window: int = 2) -> tuple[float | None, str | None]:
    """The value of a summary label: on its line ("Total THC: 19.25%"), or on value lines above or below it,
    whichever way the block is laid out; then a few lines below it for tables that wrap."""
    for index, line in enumerate(lines):
        match = label.search(line)
        if not match:
            continue
        rest = line[match.end():]
        if re.match(r"\s*(?:=|\(|is calculated|formula)", rest) or "+" in rest or "*" in rest:
            continue  # a formula, not a value
        found = re.search(NUM + r"\s*" + re.escape(unit), rest)
        if found:
            return to_float(found.group(1)), None
        if unit == "%":
            mg = re.search(NUM + r"\s*mg/g", rest)
            if mg:
                return round(to_float(mg.group(1)) / 10, 6), None
            pair = row_value(rest)
            if pair and pair[0] is not None and pair[2] is None and pair[1] is not None:
                return pair[0], None
        flag = nd_flag(rest)
        if flag:
            return (None, None) if flag == "NT" else (0.0, flag)
        explicit_only = bool(rest.strip() and re.search(r"\d", rest))
        before = index > 0 and _value_line(lines[index - 1])
        after = index + 1 < len(lines) and _value_line(lines[index + 1])
        if before or after:
            direction = -1 if (before and not after) or (before and _values_before(lines, index)) else 1
            group, cursor = [], index + direction
            while 0 <= cursor < len(lines) and _value_line(lines[cursor]) and len(group) < 4:
                group.append(lines[cursor])
                cursor += direction
            found_it, value, flag = _pick(group, unit, explicit_only)
            if found_it:
                return value, flag
        if explicit_only:
            continue
        for candidate in lines[index + 1:index + 1 + window]:
            if label.search(candidate):
                break
            found = re.search(NUM + r"\s*" + re.escape(unit), candidate)
            if found:
                return to_float(found.group(1)), None
    return None, None


def _row_number(lines: list[str], label: str, *, low: float, high: float) -> float | None:
    """A number on a row that starts with `label` ("Water Activity 0.65 ±0.003 0.4438 PASS").

    Which of several numbers is the result is read from the table header above the row: "Findings Limit"
    puts the result first, "Action Level ... Result" puts it last.
    """
    regex = re.compile(rf"^(?:{label})\b\s*:?\s*(.*)$", re.I)
    for index, line in enumerate(lines):
        match = regex.match(line)
        if not match:
            continue
        numbers = [to_float(n) for n in re.findall(rf"(?<![±\d.]){NUM}(?![\d/])", match.group(1))]
        numbers = [n for n in numbers if n is not None and low < n < high]
        if not numbers:
            continue
        limit_line = next((j for j in range(index - 1, max(-1, index - 9), -1)
                           if re.search(r"\blimit\b|\baction level\b", lines[j], re.I)), None)
        if limit_line is None:
            return numbers[-1]
        header = " ".join(lines[max(0, limit_line - 2):index]).lower()
        result_at = min((p for p in (header.find("finding"), header.find("result")) if p >= 0), default=-1)
        limit_at = min(p for p in (header.find("limit"), header.find("action")) if p >= 0)
        return numbers[0] if 0 <= result_at < limit_at else numbers[-1]
    return None


def _panel_status(lines: list[str], pattern: str) -> str | None:
    at_start = re.compile(rf"^(?:{pattern})\b\s*:?\s*(.*)$", re.I)
    inline = re.compile(rf"\b(?:{pattern})\b\s*(?:test results|results?)?\s*[:\-]?\s*(pass(?:ed)?|fail(?:ed)?)\b", re.I)
    for index, line in enumerate(lines):
        match = at_start.match(line)
        if not match or len(line) > 60:
            continue
        rest = re.sub(r"pass\s*/\s*fail", "", match.group(1), flags=re.I).strip().lower()  # a header, not a verdict
        words = re.findall(r"[a-z]+", rest)
        for word in words[-3:] + words[:2]:
            if word in PASS_WORDS:
                return PASS_WORDS[word]
        if NOT_TESTED.search(rest):
            return None
        if rest == "p":
            return "pass"
        for neighbour in (lines[index + 1] if index + 1 < len(lines) else "", lines[index - 1] if index else ""):
            word = neighbour.strip().lower()
            if word in PASS_WORDS:
                return PASS_WORDS[word]
            if NOT_TESTED.fullmatch(word or "-"):
                return None
        following = lines[index + 1].strip().lower() if index + 1 < len(lines) else ""
        if re.fullmatch(r"no ?analytes ?detected", following):
            return "pass"
    for line in lines:
        match = inline.search(line)
        if match:
            return PASS_WORDS[match.group(1).lower()]
    return _section_status(lines, pattern)


BLOCK_PANELS = {
    "pesticides_status": r"pesticides?",
    "heavy_metals_status": r"(?:heavy )?metals?",
    "microbials_status": r"microbials?|biological(?: analysis)?",
    "mycotoxins_status": r"mycotoxins?",
    "residual_solvents_status": r"(?:residual )?solvents?",
    "foreign_matter_status": r"foreign matter|filth",
}
_BLOCK_STATUS = re.compile(r"^(pass(?:ed)?|fail(?:ed)?|not tested|nt)$", re.I)


def _status_block(lines: list[str]) -> dict[str, str | None]:
    """A "Safety" block that prints each status above its panel name: Pass / Pesticides / Pass / Microbials."""
    out: dict[str, str | None] = {}
    for index, line in enumerate(lines):
        if line.lower() != "safety":
            continue
        cursor = index + 1
        while cursor < len(lines) and _BLOCK_STATUS.match(lines[cursor]):
            status = PASS_WORDS.get(lines[cursor].lower())
            label, cursor = [], cursor + 1
            while cursor < len(lines) and not _BLOCK_STATUS.match(lines[cursor]) and len(label) < 2:
                label.append(lines[cursor])
                cursor += 1
            name = " ".join(label)
            for field_name, pattern in BLOCK_PANELS.items():
                if re.fullmatch(pattern, name, re.I):
                    out[field_name] = status
        break
    return out


def _section_status(lines: list[str], pattern: str) -> str | None:
    """A panel's section ("RESIDUAL SOLVENT ANALYSIS") whose analyte rows each end in Pass or Fail."""
    heading = re.compile(rf"^\W*(?:{pattern})\b.{{0,30}}\b(?:analysis|test results|screen)\b", re.I)
    for index, line in enumerate(lines):
        if not heading.search(line):
            continue
        passes = fails = 0
        for row in lines[index + 1:index + 80]:
            if re.search(r"\banalysis\b|test results", row, re.I) and row.isupper():
                break
            row = re.sub(r"pass\s*/\s*fail", "", row, flags=re.I)  # a column header, not a verdict
            fails += len(re.findall(r"\bfail(?:ed)?\b", row, re.I))
            passes += len(re.findall(r"\bpass(?:ed)?\b", row, re.I))
        if fails:
            return "fail"
        if passes >= 2:
            return "pass"
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


def _dates_after(lines: list[str], pattern: str) -> list[date]:
    regex = re.compile(pattern, re.I)
    found = []
    for index, line in enumerate(lines):
        for match in regex.finditer(line):
            if re.search(r"\bexp(?:ires|iration|\.)?\b", line[max(0, match.start() - 12):match.start()], re.I):
                continue
            value = parse_date(line[match.end():]) or (parse_date(lines[index + 1]) if index + 1 < len(lines)
                                                       and not re.search(r"\d", line[match.end():]) else None)
            if value:
                found.append(value)
    return found


def _date_tested(lines: list[str]) -> date | None:
    for tier in DATE_TIERS:
        found = _dates_after(lines, tier)
        if found:
            return max(found)
    return None


def parse_text(pages: list[str]) -> ParsedCoa:
    text = normalize("\n".join(pages))
    lines = lines_of(text)
    lab = identify_lab(text)
    result = ParsedCoa(pages=len(pages))
    if lab:
        result.lab_name, result.lab_state, result.parser = lab.name, lab.state, lab.key
    lab_license = LAB_LICENSE.search(text)
    result.lab_license = lab_license.group(1) if lab_license else _first(
        lines, r"(?:lab(?:oratory)? )(?:lic(?:ense)?\.?\s*(?:#|no\.?|number)?:?)\s*([A-Z0-9][A-Z0-9\-_]{4,})")

    tables = read_tables(lines)
    result.cannabinoids, result.terpenes = tables.cannabinoids, tables.terpenes
    by_key = {a.key: a for a in tables.cannabinoids}
    for key in ("thca", "d9_thc", "cbda", "cbd"):
        if key in by_key:
            setattr(result, f"{key}_pct", by_key[key].pct)

    total_thc = re.compile(r"\btotal (?:active |potential )?(?:(?:d|Δ|delta[- ]?)9[- ]?)?thc\b(?!\s*[-/]?\s*(?:o|v|a)\b)"
                           r"(?! ?=)(?! per)", re.I)
    total_cbd = re.compile(r"\btotal (?:active |potential )?cbd\b(?!v)(?! ?=)(?! per)", re.I)
    result.total_thc_pct, thc_flag = value_near(lines, total_thc)
    result.total_cbd_pct, cbd_flag = value_near(lines, total_cbd)
    if result.total_thc_pct is None:
        result.total_thc_pct, thc_flag = tables.named_totals.get("d9_thc", (None, None))
    if result.total_cbd_pct is None:
        result.total_cbd_pct, cbd_flag = tables.named_totals.get("cbd", (None, None))
    if result.total_thc_pct is None and (result.thca_pct is not None or result.d9_thc_pct is not None):
        result.total_thc_pct = round((result.d9_thc_pct or 0) + 0.877 * (result.thca_pct or 0), 4)
        result.total_thc_computed = True
    if result.total_cbd_pct is None and (result.cbda_pct is not None or result.cbd_pct is not None):
        result.total_cbd_pct = round((result.cbd_pct or 0) + 0.877 * (result.cbda_pct or 0), 4)
        result.total_cbd_computed = True
    result.total_cannabinoids_pct, _ = value_near(lines, re.compile(r"\btotal cannabinoids\b(?! per)", re.I))
    terp_label = re.compile(r"\btotal terpen(?:e|oid)s?\b|\bterpenes total\b", re.I)
    result.total_terpenes_pct, terp_flag = value_near(lines, terp_label)
    if result.total_terpenes_pct is None and "terpene" in tables.totals:
        result.total_terpenes_pct, terp_flag = tables.totals["terpene"]
    if result.total_cannabinoids_pct is None and "cannabinoid" in tables.totals:
        result.total_cannabinoids_pct = tables.totals["cannabinoid"][0]
    if tables.terpenes:
        top = max(tables.terpenes, key=lambda t: t.pct or 0)
        result.top_terpene = top.name if (top.pct or 0) > 0 else None

    result.moisture_pct, _ = value_near(lines, re.compile(r"\bmoisture(?: content)?\b(?! concentration)", re.I))
    aw, _ = value_near(lines, re.compile(r"\bwater activity\b", re.I), unit="aw")
    if aw is None:
        aw = _row_number(lines, r"water activity|aw", low=0, high=1)
    result.water_activity_aw = aw
    if result.moisture_pct is not None and not (0 < result.moisture_pct < 40):
        result.moisture_pct = None
    if result.moisture_pct is None:
        result.moisture_pct = _row_number(lines, r"moisture(?: content)?", low=0, high=40)

    for field_name, pattern in PANELS.items():
        setattr(result, field_name, _panel_status(lines, pattern))
    for field_name, status in _status_block(lines).items():
        setattr(result, field_name, status)

    result.metrc_tag = _first(lines, r"\b(1A[0-9A-F]{22})\b")
    result.sample_name = _first(lines, r"^(?:sample name|product name|product|sample)\s*:\s*(.*)$")
    result.sample_id = _first(lines, r"\bsample (?:id|#|no\.?)\s*:?\s*([A-Za-z0-9\-\.]+)")
    result.batch_number = _first(lines, r"\bbatch\s*(?:#|number|no\.?|id)\s*:?\s*([A-Za-z0-9\-_]+)")
    sampled = _dates_after(lines, r"\b(?:date )?(?:sampled|collected|sampling date|date collected)\b:?")
    result.date_sampled = sampled[0] if sampled else None
    received = _dates_after(lines, r"\b(?:date )?received\b:?")
    result.date_received = received[0] if received else None
    result.date_tested = _date_tested(lines)
    result.product_type = product_type(lines, text)
    if result.total_thc_pct is not None and thc_flag:
        result.flags.append(f"total THC printed as {thc_flag}")
    if cbd_flag:
        result.flags.append(f"total CBD printed as {cbd_flag}")
    if terp_flag:
        result.flags.append(f"total terpenes printed as {terp_flag}")

    from icc_app.labs.parsers.labspecific import refine

    return refine(result, lines)


def product_type(lines: list[str], text: str) -> str:
    """From what the report calls the sample (matrix, type, product name), then from its first page."""
    label = re.compile(r"^(?:matrix(?: type)?|product type|sample type|type|category|product name|sample name|"
                       r"description|product|strain)\s*:?\s*(.*)$", re.I)
    named = []
    for index, line in enumerate(lines[:80]):
        match = label.match(line)
        if match:
            following = lines[index + 1] if index + 1 < len(lines) else ""
            named.append(match.group(1) + " " + (following if ":" not in following else ""))
    zones = [" ".join(named).lower()] if named else []
    zones.append(text[:1500].lower())
    for zone in zones:
        for kind, pattern in PRODUCT_TYPES:
            if re.search(pattern, zone):
                return kind
    return "other"
