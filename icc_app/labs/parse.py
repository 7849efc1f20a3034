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
    result = read_document(pdf)
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
