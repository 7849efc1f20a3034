"""The layout-aware COA reader on real reports: tables read by header columns, the arithmetic re-read, the
issuing lab against a client's brand, OCR of a scan, and the confidence / evidence contract."""

import dataclasses
import re

from icc_app.labs.parse import parse_coa_bytes
from icc_app.labs.parsers.choose import reread_family, table_candidates
from icc_app.labs.parsers.grid import read_grid
from icc_app.labs.parsers.layout import rows_of
from icc_app.labs.parsers.pdftext import read_pdf_text


def _runs(shared_data, name):
    return read_pdf_text((shared_data / "coas" / name).read_bytes()).runs


def test_table_columns_carry_their_units(shared_data):
    """Genesis Testing Labs prints mg/g on page 1 and % beside mg/g on page 2: both read as the same %."""
    readings = read_grid(rows_of(_runs(shared_data, "gtl/Pineapple-XX-5-13-2129146.pdf")))
    thca = {round(r.percent()[0], 4) for r in readings if r.key == "thca"}
    assert thca == {20.2615}
    d9 = [r for r in readings if r.key == "d9_thc"]
    assert {r.page for r in d9} == {1, 2} and all(abs(r.percent()[0] - 0.4588) < 0.0001 for r in d9)


def test_sideways_table_reads_each_value_under_its_name(shared_data):
    """Kaycha prints cannabinoid names across a row and a row of % values below them."""
    readings = read_grid(rows_of(_runs(shared_data, "kaycha-labs/DA30318004-001-Original.pdf")))
    by_key = {r.key: r.percent()[0] for r in readings if r.page == 1}
    assert by_key["d9_thc"] == 0.627 and by_key["thca"] == 21.459 and by_key["cbda"] == 0.058


def test_swapped_columns_are_reread_until_the_total_adds_up(shared_data):
    """A real table (Genesis Testing Labs, page 2) with its Result % and LOQ cells swapped in every analyte
    row: the header now points at the LOQ, the printed Total THC (18.2281) does not add up, and the re-read
    finds the column that does."""
    runs = _runs(shared_data, "gtl/Pineapple-XX-5-13-2129146.pdf")
    rows = rows_of(runs)
    swapped = []
    for row in rows:
        cells = row.runs
        if row.page == 2 and len(cells) == 5 and cells[0].text in ("Δ9-THC", "THCA", "CBGA", "CBD", "CBN"):
            first, last = cells[1], cells[-1]
            cells = [cells[0], dataclasses.replace(last, x0=first.x0, x1=first.x1), *cells[2:-1],
                     dataclasses.replace(first, x0=last.x0, x1=last.x1)]
        swapped += cells
    readings = [r for r in read_grid(rows_of(swapped)) if r.page == 2]
    total = table_candidates(readings, "total_thc")
    assert [c.value for c in total] == [18.2281]
    assert table_candidates(readings, "d9_thc")[0].value == 1.0  # the LOQ, read by the header
    neutral, acid = reread_family(readings, total, "d9_thc", "thca")
    assert (neutral[0].value, acid[0].value) == (0.4588, 20.2615)
    assert "re-read" in neutral[0].text


def test_the_lab_is_the_issuer_not_the_template_or_brand(shared_data):
    """Reports printed from the TagLeaf LIMS carry its name and web address; the lab is the one in the header."""
    parsed = parse_coa_bytes((shared_data / "coas/tagleaf/BCL-211214-151.pdf").read_bytes())
    assert parsed.lab_name == "Belcosta Labs" and parsed.lab_state == "CA"
    assert "BELCOSTA" in parsed.evidence["lab_name"].text.upper()
    parsed = parse_coa_bytes((shared_data / "coas/tagleaf/Sunbeam.pdf").read_bytes())
    assert parsed.lab_name.lower().startswith("2 river labs") and parsed.lab_license == "C8-0000072-LIC"


def test_a_client_brand_at_the_top_is_not_the_lab(shared_data):
    """ACS Laboratory prints the client's product brand as the first line of the page; the lab is ACS."""
    runs = _runs(shared_data, "acs/18362_0003059411.pdf")
    assert "ACS" not in rows_of(runs)[0].text.upper()
    parsed = parse_coa_bytes((shared_data / "coas/acs/18362_0003059411.pdf").read_bytes())
    assert parsed.lab_name == "ACS Laboratory" and parsed.lab_state == "FL"
    assert re.search(r"acs ?lab", parsed.evidence["lab_name"].text, re.I)  # its fine print or web address


def test_every_reported_field_has_a_confidence_and_evidence(shared_data):
    parsed = parse_coa_bytes((shared_data / "coas/sc-labs/Cherry Punch.pdf").read_bytes())
    data = parsed.model_dump(mode="json")
    for name in ("total_thc_pct", "total_cbd_pct", "date_tested", "lab_name", "product_type", "moisture_pct"):
        assert data[name] is not None
        assert 0 <= data["confidence"][name] <= 1
    assert data["confidence"]["total_thc_pct"] >= 0.9
    assert data["evidence"]["total_thc_pct"]["page"] == 1 and "19.25" in data["evidence"]["total_thc_pct"]["text"]
    for name in data["confidence"]:
        assert name.startswith("analytes.") or data[name] is not None, name


def test_scanned_coa_is_read_by_ocr(shared_data):
    """Cannalysis' Cloud Cake report is a scan: OCR reads its totals, the status says so, and nothing read
    from the image is reported as sure."""
    parsed = parse_coa_bytes((shared_data / "coas/cannalysis/Cloud-Cake-Concentrate.pdf").read_bytes())
    assert parsed.status == "needs review" and "OCR" in parsed.reason and parsed.ocr_pages >= 2
    assert parsed.total_thc_pct == 81.84 and parsed.total_cannabinoids_pct == 85.39
    assert parsed.total_cbd_pct == 0.0 and parsed.lab_name == "Cannalysis"
    assert max(parsed.confidence.values()) < 0.9


def test_a_layout_the_reader_chokes_on_still_gives_the_plain_text_reading(shared_data, monkeypatch):
    """If the layout readers raise on some unforeseen document, the upload is not lost: the line reader's
    values come back, marked for review, none of them sure."""
    import icc_app.labs.parse as parse

    def broken(pdf):
        raise IndexError("a layout nobody foresaw")

    monkeypatch.setattr(parse, "read_document", broken)
    parsed = parse.parse_coa_bytes((shared_data / "coas/sc-labs/Cherry Punch.pdf").read_bytes())
    assert parsed.status == "needs review" and "IndexError" in parsed.reason
    assert parsed.total_thc_pct == 19.25 and max(parsed.confidence.values()) < 0.9
