"""Pre-flight checks of an outgoing transfer template: each failure refused with its own message, all at once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from icc_app.integrations.metrc.preflight import Line, check
from tests.integrations.fakes.metrc import BUYER_LICENSE, LICENSE, FakeMetrc, facility_body, tag

TODAY = date(2026, 12, 2)


def _package(**changes) -> dict:
    fake = FakeMetrc()
    package = fake.add_package(tag(1), quantity=453.6, unit="Grams")
    package.update(changes)
    return package


def _messages(lines, packages, facility=None, recipient=BUYER_LICENSE) -> list[str]:
    facility = facility or facility_body(LICENSE, "Mile High Cultivation", retail=False)
    return [p.message for p in check(facility, LICENSE, lines, packages, today=TODAY, recipient_license=recipient)]


def test_a_clean_template_passes():
    line = Line(tag(1), Decimal("1"), "lb", Decimal("1200"))
    assert _messages([line], {tag(1): _package()}) == []


def test_each_failure_has_its_message():
    assert _messages([Line(tag(1), Decimal("1"), "lb", None)], {tag(1): _package()}) == [
        "Package …00000001 has no wholesale price: enter the price of the package (Metrc asks for it on wholesale "
        "transfers)."]
    assert "the order moves 2 lb, Metrc holds 453.6 Grams" in _messages(
        [Line(tag(1), Decimal("2"), "lb", Decimal("1"))], {tag(1): _package()})[0]
    assert _messages([Line(tag(1), Decimal("10"), "units", Decimal("1"))], {tag(1): _package()}) == [
        "Package …00000001 is counted in Grams in Metrc, the order in units: the units must match."]
    assert _messages([Line(tag(1), Decimal("1"), "lb", Decimal("1"))], {tag(1): _package(IsOnHold=True)}) == [
        "Package …00000001 is on hold in Metrc: it cannot be transferred until the hold is lifted."]
    assert _messages([Line(tag(1), Decimal("1"), "lb", Decimal("1"))],
                     {tag(1): _package(LabTestingState="TestPending")}) == [
        "Package …00000001 has not passed lab testing (Metrc says test pending)."]
    assert _messages([Line("1A40301000", Decimal("1"), "lb", Decimal("1"))], {}) == [
        "1A40301000 is not a Metrc package tag: tags are 24 letters and digits (this one has 10)."]
    assert _messages([Line(tag(9), Decimal("1"), "lb", Decimal("1"))], {}) == [
        f"Package …00000009 is not an active package of license {LICENSE} in Metrc."]


def test_facility_that_may_not_transfer():
    expired = facility_body(LICENSE, "Old Farm", retail=False)
    expired["License"]["EndDate"] = "2026-11-30"
    expired["IsOwner"] = expired["IsManager"] = False
    messages = _messages([Line(tag(1), Decimal("1"), "lb", Decimal("1"))], {tag(1): _package()}, facility=expired)
    assert messages == [f"License {LICENSE} ended on 2026-11-30: an expired license cannot send transfers.",
                        f"The Metrc user is neither owner nor manager of license {LICENSE}: ask for the Manage "
                        "Transfer Templates permission."]


def test_all_problems_at_once_and_no_recipient():
    lines = [Line(tag(1), Decimal("1"), "lb", None), Line(tag(2), None, "g", Decimal("5"))]
    messages = _messages(lines, {tag(1): _package(IsOnHold=True, LabTestingState="TestFailed")}, recipient=None)
    assert messages[0].startswith("The buyer has no Metrc license on file")
    assert len(messages) == 5  # recipient, price, hold, lab of the first; the second is not in Metrc
