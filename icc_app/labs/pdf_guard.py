"""Refuse PDFs that would cost the parser far more than their size says, before the parser sees them.

A PDF's streams are usually Flate-compressed; a 400 KB file can hold a stream that inflates to gigabytes (a
decompression bomb) and keep a worker busy for minutes. The guard walks every stream in the raw bytes and
inflates Flate streams incrementally, stopping as soon as the running total passes the cap, so checking a
bomb costs at most the cap's worth of work. Image streams are not counted: reading a text layer never decodes
them, and scanned COAs legitimately hold hundreds of MB of pixels. It also caps the page count. It never parses the document: what
it does not understand (other filters, broken syntax) it leaves to the parser, which reports unreadable files.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

MAX_DECODED_MB = 32  # all non-image streams together, inflated; the 65 real COAs of the test set need at most 1.4
MAX_PAGES = 300  # real COAs have 1-30 pages
_CHUNK = 1 << 20

_STREAM = re.compile(rb"stream\r?\n")
_FLATE = re.compile(rb"/Filter\s*(\[[^\]]*)?/(FlateDecode|Fl)\b")
_IMAGE = re.compile(rb"/Subtype\s*/Image\b")
_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


@dataclass(frozen=True)
class GuardVerdict:
    ok: bool
    reason: str | None = None  # for people: what happened, never a guess about the content
    decoded_bytes: int = 0
    pages: int = 0


def _inflate_capped(data: bytes, start: int, budget: int) -> tuple[int, int, bool]:
    """Inflate one Flate stream starting at `start`; (bytes produced, end offset, over budget)."""
    inflater = zlib.decompressobj()
    produced, position = 0, start
    try:
        while position < len(data) and not inflater.eof:
            chunk = data[position:position + _CHUNK]
            out = inflater.decompress(chunk, max(budget - produced + 1, 1))
            produced += len(out)
            if produced > budget:
                return produced, position, True
            while inflater.unconsumed_tail:  # output was capped: keep pulling from the same input
                out = inflater.decompress(inflater.unconsumed_tail, max(budget - produced + 1, 1))
                produced += len(out)
                if produced > budget:
                    return produced, position, True
            position += len(chunk) - len(inflater.unused_data)
            if inflater.unused_data:
                break
    except zlib.error:
        pass  # a broken stream is the parser's to report
    return produced, position, False


def check_pdf(data: bytes, *, max_decoded_mb: int = MAX_DECODED_MB, max_pages: int = MAX_PAGES) -> GuardVerdict:
    """Inspect the raw bytes; `ok` False with a reason when the file expands past the cap or has too many pages."""
    budget = max_decoded_mb * 1024 * 1024
    decoded = 0
    pages = len(_PAGE.findall(data))
    position = 0
    while True:
        match = _STREAM.search(data, position)
        if match is None:
            break
        header = data[max(0, match.start() - 4096):match.start()]
        start = max(header.rfind(b"obj"), header.rfind(b"endstream"))
        dictionary = header[start:] if start >= 0 else header
        body = match.end()
        if _FLATE.search(dictionary) and not _IMAGE.search(dictionary):
            produced, end, over = _inflate_capped(data, body, budget - decoded)
            decoded += produced
            if over:
                return GuardVerdict(False, f"the file expands beyond {max_decoded_mb} MB when decompressed "
                                           f"({len(data) / 1024:.0f} KB on disk), so it was not parsed; the file is "
                                           "kept. Export the COA again from the lab's portal.", decoded, pages)
            if b"/Type/ObjStm" in dictionary.replace(b" ", b""):
                pages += _count_pages_in_object_stream(data, body, end)
        else:
            end = body
        close = data.find(b"endstream", max(end, body))
        position = close + 9 if close >= 0 else len(data)
    if pages > max_pages:
        return GuardVerdict(False, f"the file has {pages} pages, more than the {max_pages} a COA can have, so it was "
                                   "not parsed; the file is kept.", decoded, pages)
    return GuardVerdict(True, None, decoded, pages)


def _count_pages_in_object_stream(data: bytes, body: int, end: int) -> int:
    try:
        inflated = zlib.decompressobj().decompress(data[body:end + 1], 16 * 1024 * 1024)
    except zlib.error:
        return 0
    return len(_PAGE.findall(inflated))
