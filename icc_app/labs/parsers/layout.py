"""The page as a layout: printed text runs with their boxes, grouped into rows by baseline.

A PDF's text stream follows the order the lab's software drew things in, which is often not the reading
order: a value drawn before its label, two tables side by side interleaved, a header row drawn last. The
boxes do not lie. PDFium reports each run of text on one line with its rectangle (FPDFText_GetRect), which is
as fast as reading the plain text; a scanned page gives the same runs from OCR (ocr.py).

Coordinates are top-down in PDF points (72 per inch) so that rows sort the way a person reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from icc_app.labs.parsers.text import normalize


@dataclass(frozen=True)
class Run:
    """One run of printed text and its box."""

    page: int  # 1-based
    x0: float
    x1: float
    top: float
    bottom: float
    text: str

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def center(self) -> float:
        return (self.x0 + self.x1) / 2


@dataclass
class Row:
    page: int
    top: float
    bottom: float
    runs: list[Run] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(r.text for r in self.runs)


def runs_of_textpage(textpage, page_number: int, height: float) -> list[Run]:
    """The text runs of one page, from each character's loose box (the font's full height, so a decimal
    point stands as tall as the digits around it). A run ends at a line break, a jump to another baseline,
    or a horizontal gap wider than the font size (a column gap; a word space is a quarter of it)."""
    import pypdfium2.raw as raw

    count = raw.FPDFText_CountChars(textpage)
    text = textpage.get_text_range() if count else ""
    if len(text) != count:  # surrogate pairs: fall back to one character per index
        text = "".join(chr(raw.FPDFText_GetUnicode(textpage, i) or 32) for i in range(count))
    box = raw.FS_RECTF()
    runs: list[Run] = []
    chars: list[tuple[str, float, bool]] = []  # (character, gap before it, a space was printed before it)
    x0 = x1 = top = bottom = size = 0.0
    space = False

    def close() -> None:
        value = " ".join(normalize(_words(chars, size)).split())
        if value:
            runs.append(Run(page_number, x0, x1, height - top, height - bottom, value))

    loose_box = raw.FPDFText_GetLooseCharBox
    for index, char in enumerate(text):
        if char in "\r\n":
            close()
            chars, space = [], False
            continue
        if char.isspace():
            space = True
            continue
        loose_box(textpage, index, box)
        left, right, low, high = box.left, box.right, box.bottom, box.top
        size = max(high - low, 1.0)
        if chars and abs((low + high) / 2 - (bottom + top) / 2) < 0.5 * size and -0.3 * size < left - x1 < 1.0 * size:
            chars.append((char, left - x1, space))
            x1, top, bottom = max(x1, right), max(top, high), min(bottom, low)
        else:
            close()
            chars, x0, x1, top, bottom = [(char, 0.0, False)], left, right, high, low
        space = False
    close()
    return runs


def _words(chars: list[tuple[str, float, bool]], size: float) -> str:
    """The run's text with spaces where words break. Letter-spaced text (a space after most letters) breaks
    only where the gap is clearly wider than the letter spacing; normal text where a space was printed."""
    spaced = [gap for _, gap, space in chars[1:] if space]
    if len(chars) > 3 and len(spaced) > 0.5 * (len(chars) - 1):
        letter = sorted(spaced)[len(spaced) // 2]
        cut = max(1.6 * letter, letter + 0.2 * size)
        return "".join((" " if gap > cut else "") + char for char, gap, _ in chars)
    if 1 < len(chars) <= 3 and len(spaced) == len(chars) - 1 and all(c.isalpha() for c, _, _ in chars):
        return "".join(char for char, _, _ in chars)  # "N D", "C B D"
    return "".join((" " if space or gap > 0.6 * size else "") + char for char, gap, space in chars)


def rows_of(runs: list[Run]) -> list[Row]:
    """Runs whose vertical middles lie within a third of a row's height of its middle share it (boxes are the
    font's full height, so a row's runs line up); rows read top to bottom and runs left to right. Pages stay
    apart."""
    rows: list[Row] = []
    for run in sorted(runs, key=lambda r: (r.page, r.middle, r.x0)):
        row = rows[-1] if rows else None
        if row and row.page == run.page:
            height = max(row.bottom - row.top, 1.0)
            if abs(run.middle - (row.top + row.bottom) / 2) < 0.3 * height:
                row.runs.append(run)
                continue
        rows.append(Row(run.page, run.top, run.bottom, [run]))
    for row in rows:
        row.runs = _merge_letters(_subscripts(sorted(row.runs, key=lambda r: r.x0)), row.bottom - row.top)
    return rows


def _subscripts(runs: list[Run]) -> list[Run]:
    """A one- or two-character run drawn inside another run's span is a sub- or superscript ("Δ₉-THC" drawn
    as "Δ -THC" with a small "9" in the gap): put it back where it stands."""
    out = list(runs)
    for small in runs:
        if len(small.text) > 2:
            continue
        host = next((r for r in out if r is not small and len(r.text) > 2 and r.x0 < small.x0 and small.x1 < r.x1), None)
        if host is None:
            continue
        at = round((small.x0 - host.x0) / (host.x1 - host.x0) * len(host.text))
        before, after = host.text[:at].rstrip(), host.text[at:].lstrip()
        out[out.index(host)] = Run(host.page, host.x0, host.x1, host.top, host.bottom, before + small.text + after)
        out.remove(small)
    return out


def _merge_letters(runs: list[Run], height: float) -> list[Run]:
    """Letter-spaced titles and some LIMS templates draw every glyph as its own run ("T O T A L"): glue runs
    that almost touch into words. In a letter-spaced row the gap between letters is read from the row itself
    (the median gap between one-letter runs); a word gap is clearly wider."""
    height = max(height, 1.0)
    singles = [b.x0 - a.x1 for a, b in zip(runs, runs[1:]) if len(a.text) <= 2 and len(b.text) <= 2]
    spaced = len(runs) >= 6 and len(singles) >= 0.5 * (len(runs) - 1)
    letter_gap = sorted(singles)[len(singles) // 2] if spaced else 0.0
    limit = max(0.22 * height, min(1.6 * letter_gap, 0.6 * height)) if spaced else 0.22 * height
    out: list[Run] = []
    for run in runs:
        last = out[-1] if out else None
        if last is not None:
            gap = run.x0 - last.x1
            short = len(last.text) <= 2 or len(run.text) <= 2 or last.text[-1:] in ".-/" or run.text[:1] in ".%/"
            narrow = spaced and "1" in (last.text[-1:], run.text[:1])  # a "1" glyph's box is half a digit wide
            if -0.5 < gap < limit + (0.25 * height if narrow else 0) and (short or spaced):
                out[-1] = Run(last.page, last.x0, max(last.x1, run.x1), min(last.top, run.top),
                              max(last.bottom, run.bottom), last.text + run.text)
                continue
        out.append(run)
    return out


def page_texts(rows: list[Row], pages: int) -> list[str]:
    """Each page's rows as lines of text, in reading order (the input of the line-based reader)."""
    out = [[] for _ in range(pages)]
    for row in rows:
        out[row.page - 1].append(row.text)
    return ["\n".join(lines) for lines in out]
