"""OCR for scanned COAs (pages without a text layer), with RapidOCR: its ONNX detection and recognition models
ship inside the rapidocr-onnxruntime wheel, so nothing is downloaded at run time and no system package is
needed. Each recognised line becomes a layout Run with its box, so the same readers work on a scan.

OCR is slow on a CPU (seconds per page), so only the first OCR_MAX_PAGES pages are read: a COA's summary and
potency tables are at the front. Values read this way carry a lower confidence (see reader.py).
"""

from __future__ import annotations

import re

from icc_app.labs.parsers.layout import Run
from icc_app.labs.parsers.text import normalize

OCR_MAX_PAGES = 3
RENDER_SCALE = 1.5  # 108 dpi: enough for 8-pt print, a third faster than 144 dpi
_ENGINE = None


def available() -> bool:
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def _engine():
    global _ENGINE
    if _ENGINE is None:
        from rapidocr_onnxruntime import RapidOCR

        _ENGINE = RapidOCR()
    return _ENGINE


def _spaced(text: str) -> str:
    """OCR drops spaces between words: split "NoAnalytesDetected" and "TOTALTHC" where the case changes."""
    text = re.sub(r"(?<=[a-z])(?=[A-Z][a-z])", " ", text)
    text = re.sub(r"\b(TOTAL|SAMPLE|BATCH|DATE|UNIT|HEAVY|RESIDUAL|WATER)(?=[A-Z]{3})", r"\1 ", text)
    return normalize(text)


def ocr_pages(document, count: int) -> list[Run]:
    """Runs of the first pages of a PDFium document, read by OCR (coordinates in PDF points, top-down)."""
    runs: list[Run] = []
    for index in range(min(count, OCR_MAX_PAGES)):
        page = document[index]
        bitmap = page.render(scale=RENDER_SCALE).to_numpy()
        page.close()
        image = bitmap[:, :, :3] if bitmap.ndim == 3 and bitmap.shape[2] == 4 else bitmap
        found, _ = _engine()(image, use_cls=False)  # scans are upright; the angle model costs a third
        for box, text, score in found or []:
            if score < 0.5 or not text.strip():
                continue
            xs, ys = [p[0] for p in box], [p[1] for p in box]
            runs.append(Run(index + 1, min(xs) / RENDER_SCALE, max(xs) / RENDER_SCALE, min(ys) / RENDER_SCALE,
                            max(ys) / RENDER_SCALE, _spaced(text.strip())))
    return runs
