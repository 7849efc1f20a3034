"""Reading a CSV of series (series_id, date, value) for the `operations forecast` command. A bad file is refused
with the line at fault and what is wrong with it, never a traceback."""

from __future__ import annotations

import csv
import io
import math
from datetime import date, datetime

REQUIRED = ("series_id", "date", "value")
MAX_BYTES = 200 * 1024 * 1024


class CsvError(ValueError):
    def __init__(self, message: str, *, line: int | None = None):
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line
        self.message = message


def parse_date(text: str) -> date:
    """ISO dates (2026-04-20, also with a time part), US dates (4/20/2026) or months (2026-04)."""
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%Y-%m", "%Y/%m/%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise ValueError(f"'{text[:40]}' is not a date (use YYYY-MM-DD)") from None


def parse_number(text: str) -> float:
    cleaned = text.strip().replace(",", "").replace("$", "")
    try:
        value = float(cleaned)
    except ValueError:
        raise ValueError(f"'{text.strip()[:40]}' is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"'{text.strip()[:40]}' is not a finite number")
    return value


def decode(data: bytes) -> str:
    if not data.strip():
        raise CsvError("The file is empty.")
    if b"\x00" in data:
        line = data[:data.index(b"\x00")].count(b"\n") + 1
        raise CsvError("The file contains NUL bytes: is it a CSV text file?", line=line)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise CsvError("The file is not UTF-8 text.", line=line) from None


def read_series(data: bytes) -> dict[str, tuple[list[date], list[float]]]:
    """series_id -> (dates, values), in file order. The first problem found stops the read."""
    if len(data) > MAX_BYTES:
        raise CsvError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    reader = csv.reader(io.StringIO(decode(data), newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise CsvError("The file has no header line.", line=1) from None
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise CsvError(f"Missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)} "
                       f"(the header needs series_id, date, value).", line=1)
    where = {c: names.index(c) for c in REQUIRED}
    series: dict[str, tuple[list[date], list[float]]] = {}
    seen: dict[tuple[str, date], int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < len(names):
                raise CsvError(f"Expected {len(names)} fields, found {len(row)}.", line=line)
            series_id = row[where["series_id"]].strip()
            if not series_id:
                raise CsvError("series_id is empty.", line=line)
            try:
                day = parse_date(row[where["date"]])
                value = parse_number(row[where["value"]])
            except ValueError as exc:
                raise CsvError(str(exc) + ".", line=line) from None
            if (series_id, day) in seen:
                raise CsvError(f"{series_id} has {day.isoformat()} twice (first on line {seen[series_id, day]}).",
                               line=line)
            seen[series_id, day] = line
            dates, values = series.setdefault(series_id, ([], []))
            dates.append(day)
            values.append(value)
    except csv.Error as exc:
        raise CsvError(f"Not a readable CSV: {exc}.", line=reader.line_num) from None
    if not series:
        raise CsvError("The file has a header but no data lines.", line=2)
    return series
