"""Hand corrections of a COA with hostile input, as the correction form sends it (raw strings): each is refused
with a ValidationFailed naming the field, and neither the document nor its correction history changes."""

import pytest
from sqlmodel import func, select

from icc_app.core.audit import AuditLog
from icc_app.core.db import unit_of_work
from icc_app.core.errors import ValidationFailed
from icc_app.identity import service as identity
from icc_app.labs import service
from icc_app.labs.models import CoaCorrection, CoaDocument
from icc_app.labs.tasks import parse_document
from tests.factories import make_business, make_user
from tests.labs.pdf_samples import NO_POTENCY_NO_DATE, text_pdf

BAD_PERCENT = ["1e30", "1E+400", "-1", "-0.5", "100.01", "NaN", "nan%", "Infinity", "-Infinity", "inf", "1e20",
               "12\x00", "abc", "12..5"]
NUL = "Lab\x00 name"


@pytest.fixture()
def coa(connection):
    """A parsed COA (in review: potency and date were not printed) of a member's business."""
    with unit_of_work() as session:
        owner = make_user(session)
        business = make_business(session, owner=owner)
        principal = identity.build_principal(session, owner)
        doc = service.upload_coa(session, principal, business_id=business.id, data=text_pdf(NO_POTENCY_NO_DATE),
                                 filename="blue-dream.pdf")
    parse_document(doc.id)
    return principal, doc.id


def _state(document_id) -> tuple:
    with unit_of_work() as session:
        doc = session.get(CoaDocument, document_id).model_dump(exclude={"updated_at"})
        counts = [session.exec(select(func.count()).select_from(m)).one() for m in (CoaCorrection, AuditLog)]
    return doc, counts


def _refused(coa, field: str, *, value="20.1", reason="page 2 prints it", error_field=None) -> ValidationFailed:
    principal, document_id = coa
    before = _state(document_id)
    with pytest.raises(ValidationFailed) as refused, unit_of_work() as session:
        service.correct(session, principal, document_id, field=field, value=value, reason=reason)
    assert refused.value.field == (error_field or field), refused.value.message
    assert _state(document_id) == before
    return refused.value


@pytest.mark.parametrize("value", BAD_PERCENT)
@pytest.mark.parametrize("field", ["total_thc_pct", "total_terpenes_pct", "water_activity_aw"])
def test_hand_entered_numbers_are_refused(coa, field, value):
    _refused(coa, field, value=value)


@pytest.mark.parametrize("field,value", [("lab_name", NUL), ("lab_name", "x" * 201), ("lab_license", "x" * 81),
                                         ("sample_name", NUL), ("batch_number", "x" * 121),
                                         ("top_terpene", "x" * 81), ("date_tested", "2026-11-02\x00"),
                                         ("pesticides_status", "pass\x00"), ("metrc_tag", "1A4FF01000000220000\x0000123")])
def test_hand_entered_text_is_refused(coa, field, value):
    _refused(coa, field, value=value)


@pytest.mark.parametrize("reason", ["page 2\x00 prints it", "x" * 501])
def test_the_reason_is_checked_too(coa, reason):
    _refused(coa, "total_thc_pct", reason=reason, error_field="reason")


def test_a_good_correction_still_lands(coa):
    principal, document_id = coa
    with unit_of_work() as session:
        doc = service.correct(session, principal, document_id, field="lab_license", value="x" * 80,
                              reason="as printed")
    assert doc.lab_license == "x" * 80
