"""Small PDFs built in the tests: a text COA that prints no potency or date, and a decompression bomb."""

from __future__ import annotations

import zlib


def text_pdf(lines: list[str], *, extra_stream: bytes | None = None) -> bytes:
    """A one-page PDF printing `lines` in Helvetica; `extra_stream`: raw Flate data of a second content stream."""
    text = b"BT /F1 11 Tf 72 740 Td 14 TL " + b" ".join(b"(" + line.encode() + b") '" for line in lines) + b" ET"
    contents = b"5 0 R 6 0 R" if extra_stream else b"5 0 R"
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
               b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Resources<</Font<</F1 4 0 R>>>>/Contents["
               + contents + b"]>>",
               b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
               b"<</Length %d>>stream\n" % len(text) + text + b"\nendstream"]
    if extra_stream:
        objects.append(b"<</Length %d/Filter/FlateDecode>>stream\n" % len(extra_stream) + extra_stream + b"\nendstream")
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


NO_POTENCY_NO_DATE = ["Certificate of Analysis", "SC Laboratories  Lic. C8-0000013-LIC", "Sample: Blue Dream",
                      "Matrix: Flower", "Pesticides PASS", "Heavy Metals PASS"]


def bomb_pdf(expanded_mb: int = 100) -> bytes:
    """A valid PDF of a few hundred KB whose second content stream inflates to `expanded_mb` MB of spaces."""
    compressor = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    stream = b"".join(compressor.compress(chunk) for _ in range(expanded_mb)) + compressor.flush()
    return text_pdf(["Certificate of Analysis"], extra_stream=stream)
