"""The COA parser on real lab reports and on bad input made in the test."""

import io

import pytest

from bench.coa_truth import compare, load_truth
from icc_app.labs.dictionary import lookup
from icc_app.labs.parse import parse_coa_bytes

ACCURACY_FLOOR = 0.99  # measured 99.6% with unprinted cells counted; target 97% (issue 15)


@pytest.mark.parametrize("printed", ["Δ9-THC", "d9-THC", "Delta 9 THC", "∆9THC", "Delta-9 THC"])
def test_dictionary_maps_printed_names_to_one_key(printed):
    assert lookup(printed).key == "d9_thc"


def test_sc_labs_flower_matches_the_printed_values(shared_data):
    parsed = parse_coa_bytes((shared_data / "coas/sc-labs/Cherry Punch.pdf").read_bytes())
    assert parsed.status == "parsed"
    assert parsed.lab_state == "CA" and parsed.product_type == "flower"
    assert parsed.total_thc_pct == 19.25 and parsed.total_cbd_pct == 0.058
    assert parsed.moisture_pct == 10.7 and parsed.total_terpenes_pct == 2.9842
    assert parsed.pesticides_status == "pass" and parsed.metrc_tag == "1A406030000633F000008330"


def test_value_printed_above_its_label(shared_data):
    """CB Labs prints '23.55%' above 'Total THC' and '0.64%' above 'Total CBD'."""
    parsed = parse_coa_bytes((shared_data / "coas/confident-cannabis/GDP.pdf").read_bytes())
    assert (parsed.total_thc_pct, parsed.total_cbd_pct) == (23.55, 0.64)
    assert parsed.moisture_pct == 9.8 and parsed.water_activity_aw == 0.41


def test_none_detected_total_is_zero_with_a_flag(shared_data):
    parsed = parse_coa_bytes((shared_data / "coas/acs/18362_0003059411.pdf").read_bytes())
    assert parsed.total_thc_pct == 20.784
    assert parsed.total_cbd_pct == 0.0
    assert "total CBD printed as ND" in parsed.flags


def test_truth_file_accuracy_does_not_regress(shared_data):
    """Every truth cell counts, including the ones the document does not print: a value reported for an empty
    cell is an invention and counts as wrong. Floor: a little under the accuracy measured (docs/coa.md); the
    target of issue 15 is 97%, with at most 2% of unprinted cells given a value."""
    cells = []
    for row in load_truth(shared_data / "coas"):
        parsed = parse_coa_bytes((shared_data / "coas" / row["file"]).read_bytes()).model_dump(mode="json")
        cells += compare(row, parsed)
    accuracy = sum(c.ok for c in cells) / len(cells)
    assert accuracy >= ACCURACY_FLOOR, f"accuracy fell to {accuracy:.1%}"


def test_an_invented_value_counts_as_wrong():
    """The comparison itself: a number for a cell the document does not print is wrong, None is right."""
    row = {"file": "x.pdf", "moisture_pct": "", "total_thc_pct": "", "pesticides_status": ""}
    invented = {c.field: c for c in compare(row, {"moisture_pct": 11.0, "pesticides_status": "pass"})}
    assert not invented["moisture_pct"].ok and invented["moisture_pct"].invented
    assert not invented["pesticides_status"].ok
    honest = {c.field: c for c in compare(row, {"total_thc_pct": 20.1, "total_thc_computed": True})}
    assert honest["moisture_pct"].ok and honest["total_thc_pct"].ok and honest["pesticides_status"].ok


def _pdf_bytes(**kwargs) -> bytes:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument.new()
    doc.new_page(612, 792)
    buffer = io.BytesIO()
    doc.save(buffer, **kwargs)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "status", "reason"),
    [
        (b"", "rejected", "empty"),
        (b"hello, not a pdf", "rejected", "not a PDF"),
        (b"%PDF-1.7\n" + b"garbage" * 50, "rejected", "corrupted"),
    ],
)
def test_bad_files_get_a_clear_status(data, status, reason):
    parsed = parse_coa_bytes(data, filename="x.pdf")
    assert parsed.status == status and reason in parsed.reason
    assert parsed.total_thc_pct is None


def test_truncated_real_pdf_is_rejected_not_crashed(shared_data):
    data = (shared_data / "coas/mtl/0524324712189959.pdf").read_bytes()
    parsed = parse_coa_bytes(data[: len(data) // 3])
    assert parsed.status in ("rejected", "needs review")


def test_image_only_page_needs_review():
    parsed = parse_coa_bytes(_pdf_bytes())  # one blank page: no text layer
    assert parsed.status == "needs review" and "no text layer" in parsed.reason


def test_cli_prints_one_json_object_per_file(shared_data, tmp_path):
    import json

    from typer.testing import CliRunner

    from icc_app.cli import app

    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"nope")
    result = CliRunner().invoke(app, ["coa", "parse", "--json", str(shared_data / "coas/sc-labs/Cherry Punch.pdf"),
                                      str(bad)])
    objects = [json.loads(line) for line in result.output.strip().splitlines()]
    assert [o["status"] for o in objects] == ["parsed", "rejected"]
    for key in ("lab_name", "lab_state", "sample_name", "product_type", "date_tested", "total_thc_pct",
                "water_activity_aw", "pesticides_status", "top_terpene", "cannabinoids", "terpenes", "flags"):
        assert key in objects[0]
    assert objects[0]["date_tested"] == "2021-11-21"
    assert objects[0]["confidence"]["total_thc_pct"] >= 0.9
    assert objects[0]["evidence"]["date_tested"]["page"] == 1
