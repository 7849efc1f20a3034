"""Read the text layer of a COA PDF with pypdfium2 (fast), refusing bad input with a clear status.

pdfplumber stays available for the word positions and tables a lab-specific parser may need; reading the
plain text of every page with PDFium is an order of magnitude faster and enough for most formats.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pypdfium2 as pdfium

from icc_app.labs.parsers.layout import Run, runs_of_textpage

MAX_PAGES = 60
MIN_TEXT_CHARS = 40


class CoaReadError(Exception):
    """The file cannot be parsed; `status` is what the seller sees, `reason` says why."""

    def __init__(self, status: str, reason: str):
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class PdfText:
    pages: list[str]
    engine: str = "pdfium"
    runs: list[Run] = field(default_factory=list)  # text runs with boxes (empty when pdfplumber read it)
    ocr_pages: int = 0  # pages read by OCR (a scan without a text layer)
    total_pages: int = 0  # pages in the file when OCR read only the first of them

    @property
    def text(self) -> str:
        return "\n".join(self.pages)


def read_pdf_text(data: bytes, *, max_pages: int = MAX_PAGES) -> PdfText:
    if not data:
        raise CoaReadError("rejected", "the file is empty")
    if b"%PDF-" not in data[:1024]:
        raise CoaReadError("rejected", "not a PDF (no %PDF header)")
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            raise CoaReadError("needs review", "the PDF is encrypted with a password") from exc
        raise CoaReadError("rejected", f"corrupted or unreadable PDF ({exc})") from exc
    try:
        count = len(document)
        if count == 0:
            raise CoaReadError("rejected", "the PDF has no pages")
        if count > max_pages:
            raise CoaReadError("needs review", f"{count} pages; a COA has at most {max_pages}")
        pages, runs = [], []
        for index in range(count):
            page = document[index]
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n"))
            runs += runs_of_textpage(textpage, index + 1, page.get_height())
            textpage.close()
            page.close()
        engine = "pdfium"
        if _looks_unmapped("".join(pages)):
            # Subset fonts whose glyphs PDFium maps to the wrong code points (it reads them as Latin-1/Extended
            # letters): pdfminer, under pdfplumber, decodes the same fonts through their encoding tables.
            pages, runs = _read_with_pdfplumber(data)
            engine = "pdfplumber"
        problem = _unreadable("".join(pages))
        if problem:
            return _read_by_ocr(document, count, problem)
    finally:
        document.close()
    return PdfText(pages, engine, runs)


def _unreadable(text: str) -> str | None:
    visible = [c for c in text if not c.isspace()]
    readable = sum(c.isalnum() or c in ".,%:;-/()#<>" for c in visible)
    if len(visible) < MIN_TEXT_CHARS:
        return "no text layer (a scanned image)"
    if readable < 0.6 * len(visible) or _looks_unmapped(text):
        # Scans with an OCR-less font layer or fonts without a Unicode map print control characters.
        return "no text layer that can be read (scanned or unmapped fonts)"
    return None


def _read_by_ocr(document, count: int, problem: str) -> PdfText:
    """A page image read by OCR, or the clear status a seller sees when OCR is not installed or reads nothing."""
    from icc_app.labs.parsers import ocr
    from icc_app.labs.parsers.layout import page_texts, rows_of

    if not ocr.available():
        raise CoaReadError("needs review", f"{problem}; enter the values by hand")
    runs = ocr.ocr_pages(document, count)
    if sum(len(r.text) for r in runs) < MIN_TEXT_CHARS:
        raise CoaReadError("needs review", f"{problem}; OCR found no text either: enter the values by hand")
    read = min(count, ocr.OCR_MAX_PAGES)
    return PdfText(page_texts(rows_of(runs), read), "ocr", runs, ocr_pages=read, total_pages=count)


def _looks_unmapped(text: str) -> bool:
    visible = [c for c in text if not c.isspace()]
    if not visible:
        return False
    odd = sum(1 for c in visible if 0xC0 <= ord(c) <= 0x2FF)
    return odd > 0.2 * len(visible)


def _read_with_pdfplumber(data: bytes) -> tuple[list[str], list[Run]]:
    """Page texts and text runs (words on one line closer than the font size) through pdfminer."""
    import io

    import pdfplumber

    from icc_app.labs.parsers.layout import page_texts, rows_of

    from icc_app.labs.parsers.text import normalize

    runs = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        count = len(pdf.pages)
        for number, page in enumerate(pdf.pages, start=1):
            line: list[dict] = []
            for word in page.extract_words() + [None]:
                last = line[-1] if line else None
                if word is not None and last is not None and abs(word["top"] - last["top"]) < 2 and \
                        0 <= word["x0"] - last["x1"] < (last["bottom"] - last["top"]):
                    line.append(word)
                    continue
                if line:
                    runs.append(Run(number, line[0]["x0"], line[-1]["x1"], min(w["top"] for w in line),
                                    max(w["bottom"] for w in line), normalize(" ".join(w["text"] for w in line))))
                line = [word] if word is not None else []
    # The page text is the runs row by row: pdfminer lays the words out once, not twice.
    return page_texts(rows_of(runs), count), runs
