"""One COA, three readers, one answer with a confidence and the printed evidence per field (see choose.py)."""

from __future__ import annotations

import dataclasses
import re

from icc_app.labs import dictionary
from icc_app.labs.parsers.issuer import identify_issuer
from icc_app.labs.parsers.choose import (Candidate, Choice, evidence_row, pick, pick_family, reread_family,
                                         table_candidates)
from icc_app.labs.parsers.fields import (SPECIFIC, completion_dates, labelled_percents, legend_grid, panel_statuses,
                                          product_type_candidates)
from icc_app.labs.parsers.generic import parse_text
from icc_app.labs.parsers.grid import Reading, read_grid
from icc_app.labs.parsers.layout import Row, page_texts, rows_of
from icc_app.labs.parsers.pdftext import PdfText
from icc_app.labs.schemas import AnalyteResult, Evidence, ParsedCoa

LABELS = {
    "total_thc_pct": r"total\s*(?:active\s*|potential\s*)?(?:d9[- ]?|Δ9[- ]?)?thc",
    "total_cbd_pct": r"total\s*(?:active\s*|potential\s*)?cbd",
    "total_cannabinoids_pct": r"total\s*cannabinoids",
    "total_terpenes_pct": r"total\s*terpen",
    "thca_pct": r"\bthc-?a\b|tetrahydrocannabinolic",
    "d9_thc_pct": r"(?:d|Δ|delta)[- ]?9|\bthc\b",
    "cbda_pct": r"\bcbd-?a\b|cannabidiolic",
    "cbd_pct": r"\bcbd\b",
    "moisture_pct": r"moisture|water content|% water",
    "water_activity_aw": r"water activity|\baw\b",
    "pesticides_status": r"pesticide|chemical residue",
    "heavy_metals_status": r"metals",
    "microbials_status": r"microb",
    "mycotoxins_status": r"mycotoxin",
    "residual_solvents_status": r"solvent",
    "foreign_matter_status": r"foreign|filth",
    "date_tested": r"complet|issued|report|approved|finali|released|tested|analy[sz]ed|produced|signed",
    "product_type": r"matrix|type|category|product|sample",
    "sample_name": r"sample|product|strain",
    "top_terpene": r"terpen|myrcene|limonene|caryophyllene|pinene|terpinolene",
}
# "THC max" / "CBD max": the maximum potential THC after decarboxylation, i.e. the total (WA labels).
MAX_LABELS = {"total_thc_pct": r"(?:d9-?|Δ9-?|delta-?9 )?thc[ -]?max", "total_cbd_pct": r"cbd[ -]?max"}
FAMILIES = [("total_thc_pct", "d9_thc_pct", "thca_pct", "total_thc", "d9_thc", "thca"),
            ("total_cbd_pct", "cbd_pct", "cbda_pct", "total_cbd", "cbd", "cbda")]
TEXT_FIELDS = ["pesticides_status",
               "heavy_metals_status", "microbials_status", "mycotoxins_status", "residual_solvents_status",
               "foreign_matter_status", "sample_name", "sample_id", "batch_number", "metrc_tag",
               "date_sampled", "date_received"]


def read_document(pdf: PdfText) -> ParsedCoa:
    rows = rows_of(pdf.runs)
    stream = parse_text(pdf.pages)
    layout = parse_text(page_texts(rows, len(pdf.pages))) if rows else None
    grid = read_grid(rows)
    result = stream  # every candidate below is read before any field is set (the _apply loop comes last)
    chosen: dict[str, Choice | None] = {}

    for total_field, neutral_field, acid_field, total_key, neutral_key, acid_key in FAMILIES:
        total = table_candidates(grid, total_key) + _line(stream, layout, total_field) + \
            labelled_percents(rows, LABELS[total_field] + r"(?!\s*[-/]?\s*(?:a|v|o)\b)|" + MAX_LABELS[total_field])
        neutral = table_candidates(grid, neutral_key) + _line(stream, layout, neutral_field)
        acid = table_candidates(grid, acid_key) + _line(stream, layout, acid_field)
        family = pick_family(total, neutral, acid)
        if family["total"] and family["total"].confidence < 0.9:
            swapped = reread_family(grid, total, neutral_key, acid_key)
            if swapped:
                family = pick_family(total, neutral + swapped[0], acid + swapped[1])
                result.flags.append(f"{neutral_key}/{acid_key} re-read from another table column")
        chosen[total_field], chosen[neutral_field], chosen[acid_field] = family["total"], family["neutral"], \
            family["acid"]

    terpenes = _unique(r for r in grid if r.category == "terpene")
    chosen["total_terpenes_pct"] = _total_terpenes(grid, terpenes, stream, layout)
    chosen["total_cannabinoids_pct"] = pick(table_candidates(grid, "total_cannabinoids") +
                                            _line(stream, layout, "total_cannabinoids_pct"))
    chosen["top_terpene"] = _top_terpene(terpenes, stream, layout)
    for name, key, low, high in (("moisture_pct", "moisture", 0.0, 40.0), ("water_activity_aw", "water_activity", 0.0, 1.0)):
        measured = [Candidate(r.measured(low, high), None, "table", r.page, r.text) for r in grid if r.key == key]
        chosen[name] = pick([c for c in measured if c.value is not None][:1] + _line(stream, layout, name))
    panels = {**legend_grid(rows), **panel_statuses(rows)}
    for name in TEXT_FIELDS:
        # "Not tested" printed beside a panel is a reading too: it outvotes a verdict guessed from elsewhere.
        verdicts = [dataclasses.replace(c, value=c.value or "not tested") for c in panels.get(name, [])]
        choice = pick(verdicts + _line(stream, layout, name))
        chosen[name] = None if choice is not None and choice.value == "not tested" else choice
    chosen["product_type"] = _product_type(rows, stream, layout)
    chosen["date_tested"] = pick(completion_dates(rows) + _line(stream, layout, "date_tested"))

    for name, choice in chosen.items():
        _apply(result, name, choice, rows)
    _computed_totals(result)
    _analytes(result, grid)
    issuer = identify_issuer(rows, "\n".join(pdf.pages + [row.text for row in rows]))
    if issuer:
        result.lab_name, result.lab_state, result.lab_license = issuer.name, issuer.state, \
            issuer.license or result.lab_license
        result.parser = issuer.key or "generic"
        result.confidence["lab_name"] = issuer.confidence
        result.confidence["lab_state"] = issuer.state_confidence if issuer.state else 0.0
        if issuer.evidence:
            result.evidence["lab_name"] = Evidence(**issuer.evidence)
        if issuer.state_evidence:
            result.evidence["lab_state"] = Evidence(**issuer.state_evidence)
    else:
        result.lab_name = result.lab_state = None
    result.confidence = {k: v for k, v in result.confidence.items() if getattr(result, k.split(".")[0], None)
                         is not None or k.startswith("analytes.")}
    return result


def _line(stream: ParsedCoa, layout: ParsedCoa | None, name: str) -> list[Candidate]:
    out = []
    for source, reading in (("stream", stream), ("layout", layout)):
        if reading is None:
            continue
        value = getattr(reading, name, None)
        computed = getattr(reading, name.replace("_pct", "_computed"), False) if name.startswith("total_") else False
        if isinstance(value, float) and name.endswith("_pct") and not 0 <= value <= 100:
            continue  # not a percentage: a dose in mg, a recovery, a misread
        if name == "water_activity_aw" and value is not None and not 0 < value < 1:
            continue  # a water activity is a number between 0 and 1, never "ND"
        if value is not None and not computed:
            out.append(Candidate(value, None, source))
    return out


# A product's specific form and the matrix its lab files it under: a pre-roll is tested as flower.
FORM_MATRIX = {"pre-roll": "flower", "vape": "concentrate", "beverage": "edible", "tincture": "edible"}


def _product_type(rows: list[Row], stream: ParsedCoa, layout: ParsedCoa | None) -> Choice | None:
    """The specific form the product's name gives (pre-roll, vape, edible ...), else the matrix line, else
    what the line reader found; "other" when nothing says."""
    matrix, names = product_type_candidates(rows)
    named = pick(names)
    said = pick(matrix)
    if named is not None and (said is None or said.value not in SPECIFIC):
        agrees = said is None or said.value in (named.value, FORM_MATRIX.get(named.value))
        named.confidence = 0.9 if agrees else 0.75
        return named
    lines = [c for c in _line(stream, layout, "product_type") if c.value != "other"]
    if said is not None:
        if any(c.value == said.value for c in lines):
            said.confidence = max(said.confidence, 0.9)
        return said
    choice = pick(lines)
    if choice is None:
        return Choice("other", None, 0.3, None)
    return choice


def _unique(readings) -> list[Reading]:
    seen, out = set(), []
    for reading in readings:
        if reading.key not in seen and reading.percent() is not None:
            seen.add(reading.key)
            out.append(reading)
    return out


def _total_terpenes(grid: list[Reading], terpenes: list[Reading], stream, layout) -> Choice | None:
    candidates = table_candidates(grid, "total_terpenes") + _line(stream, layout, "total_terpenes_pct")
    choice = pick(candidates)
    if choice is None or not terpenes:
        return choice
    parts = sum(r.percent()[0] or 0 for r in terpenes)
    if abs(parts - choice.value) <= max(0.02, 0.03 * choice.value):
        choice.confidence = max(choice.confidence, 0.97)
    return choice


def _top_terpene(terpenes: list[Reading], stream: ParsedCoa, layout: ParsedCoa | None) -> Choice | None:
    candidates = []
    if terpenes:
        ranked = sorted(terpenes, key=lambda r: -(r.percent()[0] or 0))
        top = ranked[0]
        if (top.percent()[0] or 0) > 0:
            candidates.append(Candidate(top.key, None, "table", top.page, top.text))
        elif len(terpenes) >= 3:
            return None  # a terpene table whose every row is ND: no top terpene
    for source, reading in (("stream", stream), ("layout", layout)):
        if reading is not None and reading.top_terpene:
            analyte = dictionary.lookup(reading.top_terpene)
            candidates.append(Candidate(analyte.key if analyte else reading.top_terpene.lower(), None, source))
    choice = pick(candidates)
    if choice is not None:
        printed = next((r.printed for r in terpenes if r.key == choice.value), None)
        analyte = dictionary.BY_KEY.get(choice.value)
        choice.value = printed or (analyte.name if analyte else choice.value)
    return choice


def _apply(result: ParsedCoa, name: str, choice: Choice | None, rows: list[Row]) -> None:
    setattr(result, name, choice.value if choice else None)
    if choice is None:
        return
    result.confidence[name] = choice.confidence
    evidence = choice.evidence
    if evidence is None and name in LABELS:
        evidence = evidence_row(rows, re.compile(LABELS[name], re.I), choice.value)
    if evidence:
        result.evidence[name] = Evidence(**evidence)
    if choice.flag and name.endswith("_pct") and choice.value == 0:
        result.flags.append(f"{name.removesuffix('_pct').replace('_', ' ')} printed as {choice.flag}")


def _computed_totals(result: ParsedCoa) -> None:
    """A total the report does not print, from its parts, marked as computed (never counted as printed)."""
    for total, neutral, acid in (("total_thc", "d9_thc_pct", "thca_pct"), ("total_cbd", "cbd_pct", "cbda_pct")):
        if getattr(result, f"{total}_pct") is not None:
            setattr(result, f"{total}_computed", False)
            continue
        parts = getattr(result, neutral), getattr(result, acid)
        if any(p is not None for p in parts):
            setattr(result, f"{total}_pct", round((parts[0] or 0) + 0.877 * (parts[1] or 0), 4))
            setattr(result, f"{total}_computed", True)
            result.confidence[f"{total}_pct"] = min(result.confidence.get(neutral, 0.5),
                                                    result.confidence.get(acid, 0.5), 0.8)


def _analytes(result: ParsedCoa, grid: list[Reading]) -> None:
    """Analyte lists from the layout tables when they read more rows than the line reader did."""
    for category, attribute in (("cannabinoid", "cannabinoids"), ("terpene", "terpenes")):
        readings = _unique(r for r in grid if r.category == category)
        if len(readings) < len(getattr(result, attribute)):
            continue
        analytes = []
        for reading in readings:
            pct, flag, _ = reading.percent()
            analytes.append(AnalyteResult(key=reading.key, name=reading.printed, category=category, pct=pct,
                                          mg_g=None if pct is None else round(pct * 10, 6), flag=flag))
            # The potency rows share their field's confidence (the arithmetic checked them); other rows are
            # as sure as their unit: from a header column or the cell (0.8), or not known (0.6).
            field_name = {"thca": "thca_pct", "d9_thc": "d9_thc_pct", "cbda": "cbda_pct", "cbd": "cbd_pct"}.get(reading.key)
            same = field_name and getattr(result, field_name) is not None and abs(getattr(result, field_name) - (pct or 0)) < 1e-6
            result.confidence[f"analytes.{reading.key}"] = result.confidence.get(field_name, 0.8) if same else \
                (0.8 if reading.header or any(c.unit for c in reading.cells) else 0.6)
            result.evidence[f"analytes.{reading.key}"] = Evidence(page=reading.page, text=reading.text[:200])
        setattr(result, attribute, analytes)
