"""Parse one COA file end to end: read the text layer (or OCR a scan), run the readers, never raise on bad input."""

from __future__ import annotations

from icc_app.labs.parsers.pdftext import CoaReadError, read_pdf_text
from icc_app.labs.parsers.reader import read_document
from icc_app.labs.schemas import ParsedCoa


def parse_coa_bytes(data: bytes, *, filename: str | None = None) -> ParsedCoa:
    try:
        pdf = read_pdf_text(data)
    except CoaReadError as exc:
        return ParsedCoa(file=filename, status=exc.status, reason=exc.reason, flags=[f"{exc.status}: {exc.reason}"])
    try:
        result = read_document(pdf)
    except Exception as exc:  # noqa: BLE001 - a layout nobody foresaw must not lose the upload
        result = _line_reading_only(pdf, exc)
    result.file, result.engine = filename, pdf.engine
    if pdf.ocr_pages:
        # OCR misreads digits now and then: every value wants a look, none is reported as sure.
        result.status = "needs review"
        result.reason = (f"no text layer (a scanned image): read by OCR ({pdf.ocr_pages} of {pdf.total_pages} "
                         "pages), check the values")
        result.pages, result.ocr_pages = pdf.total_pages, pdf.ocr_pages
        result.confidence = {k: round(min(v * 0.85, 0.8), 2) for k, v in result.confidence.items()}
        result.flags.append(f"read by OCR: {pdf.ocr_pages} of {pdf.total_pages} pages")
    return result


def _line_reading_only(pdf, exc: Exception) -> ParsedCoa:
    """When the layout readers fail on a document, the line reader alone, every value to be checked."""
    from icc_app.labs.parsers.generic import parse_text

    try:
        result = parse_text(pdf.pages)
    except Exception:  # noqa: BLE001
        return ParsedCoa(status="needs review", reason=f"the reader failed on this document ({type(exc).__name__}); "
                         "enter the values by hand", pages=len(pdf.pages))
    result.status, result.reason = "needs review", f"layout reader failed ({type(exc).__name__}): read as plain text"
    result.confidence = {name: 0.5 for name, value in result.model_dump().items()
                         if value is not None and name in _FIELDS_WITH_CONFIDENCE}
    return result


_FIELDS_WITH_CONFIDENCE = {
    "lab_name", "lab_state", "product_type", "date_tested", "total_thc_pct", "total_cbd_pct", "total_cannabinoids_pct",
    "thca_pct", "d9_thc_pct", "cbda_pct", "cbd_pct", "total_terpenes_pct", "top_terpene", "moisture_pct",
    "water_activity_aw", "pesticides_status", "heavy_metals_status", "microbials_status", "mycotoxins_status",
    "residual_solvents_status", "foreign_matter_status", "sample_name", "sample_id", "batch_number", "metrc_tag",
    "date_sampled", "date_received",
}
