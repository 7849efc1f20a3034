"""The Metrc v2 client against a local server speaking the protocol: auth, licenseNumber, paging of 20, 24-hour
windows, retries (429 Retry-After, 500, timeouts), partial pages, lab results and documents, transfers, templates."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from icc_app.integrations.base import AuthFailed, IntegrationError, MalformedPayload, VendorUnavailable
from icc_app.integrations.metrc.client import state_base_url, windows
from tests.integrations.fakes.metrc import BUYER_LICENSE, NOW, tag
from tests.integrations.metrc.conftest import adapter_for


def test_basic_auth_and_license_on_every_call(metrc):
    metrc.generate_packages(45)
    adapter = adapter_for(metrc)
    assert "Mile High Cultivation" in adapter.test_connection()
    packages = adapter.active_packages()
    assert len(packages) == 45 and len({p["Label"] for p in packages}) == 45
    calls = metrc.calls("/packages/v2/active")
    assert [c.query["pageNumber"] for c in calls] == ["1", "2", "3"]  # 20 + 20 + 5
    assert all(c.query["pageSize"] == "20" and c.query["licenseNumber"] == metrc.license_number for c in calls)
    assert all(c.headers["authorization"].startswith("Basic ") for c in metrc.requests)


def test_wrong_key_is_refused_at_once(metrc):
    adapter = adapter_for(metrc, credentials={"user_key": "wrong"})
    with pytest.raises(AuthFailed, match="refused the credentials"):
        adapter.active_packages()
    assert len(metrc.requests) == 1  # 401 is not retried


def test_license_the_user_cannot_see(metrc):
    adapter = adapter_for(metrc, credentials={"license_number": "999-NOPE"})
    with pytest.raises(IntegrationError, match="no access to license 999-NOPE"):
        adapter.test_connection()


def test_modified_reads_go_in_24_hour_windows(metrc):
    metrc.generate_packages(60)
    adapter = adapter_for(metrc)
    since = NOW - timedelta(days=3, hours=5)
    changed = adapter.active_packages(since=since, until=NOW)
    starts = [c.query["lastModifiedStart"] for c in metrc.calls("/packages/v2/active")]
    assert len(set(starts)) == 4  # 3 days 5 hours: four windows, none over 24 hours (the server refuses those)
    expected = {p["Label"] for p in metrc.packages[metrc.license_number].values()
                if p["LastModified"] >= since.strftime("%Y-%m-%dT%H:%M:%S")}
    assert {p["Label"] for p in changed} == expected
    assert windows(NOW - timedelta(hours=50), NOW)[-1] == (NOW - timedelta(hours=2), NOW)


def test_429_honours_retry_after_then_succeeds(metrc):
    metrc.generate_packages(5)
    waits: list[float] = []
    adapter = adapter_for(metrc, http_options={"sleep": waits.append, "max_backoff_s": 5})
    metrc.fail(429, times=2, retry_after=2, path="/packages/v2/active")
    assert len(adapter.active_packages()) == 5
    assert waits == [2.0, 2.0]


def test_500_and_timeouts_back_off_then_give_up(metrc):
    metrc.generate_packages(5)
    adapter = adapter_for(metrc)
    metrc.fail(500, times=1, path="/packages")
    metrc.fail("timeout", times=1, path="/packages")
    assert len(adapter.active_packages()) == 5  # two failures, two retries
    metrc.fail(500, times=3, path="/packages")
    with pytest.raises(VendorUnavailable, match=r"kept failing \(500\) after 3 tries"):
        adapter.active_packages()


def test_partial_page_is_read_again_then_refused(metrc):
    metrc.generate_packages(30)
    adapter = adapter_for(metrc)
    metrc.short_page("/packages/v2/active", times=1)
    assert len(adapter.active_packages()) == 30  # the short page was read again
    metrc.short_page("/packages/v2/active", times=2)
    with pytest.raises(MalformedPayload, match="came back incomplete"):
        adapter.active_packages()


def test_rate_budget_is_shared_by_the_key(metrc):
    metrc.generate_packages(10)
    key = f"uk-{uuid.uuid4().hex[:8]}"  # a fresh budget for this test
    metrc.user_key = key
    first = adapter_for(metrc, credentials={"user_key": key}, http_options={"get_rate": (2, 60)})
    second = adapter_for(metrc, credentials={"user_key": key}, http_options={"get_rate": (2, 60)})
    assert first.budget.key == second.budget.key and "uk-" not in first.budget.key  # hashed, never the key

    class Spent(Exception):
        pass

    def no_wait(_seconds):
        raise Spent

    first.budget.sleep = second.budget.sleep = no_wait
    first.active_packages()  # one page: one call of the two
    second.package(metrc.packages[metrc.license_number][tag(1)]["Label"])  # the second call
    with pytest.raises(Spent):  # a third call by either worker waits for the next window
        second.active_packages()


def test_on_hold_by_label_lab_results_and_document(metrc):
    metrc.add_package(tag(1), on_hold=True)
    metrc.add_package(tag(2), with_document=True)
    adapter = adapter_for(metrc)
    assert [p["Label"] for p in adapter.onhold_packages()] == [tag(1)]
    package = adapter.package(tag(2))
    results = adapter.lab_results(package["Id"])
    assert {r["TestTypeName"] for r in results} >= {"THC (%)", "Microbiologicals"}
    document = adapter.lab_document(results[0]["LabTestResultDocumentFileId"])
    assert document.startswith(b"%PDF")


def test_transfers_and_templates(metrc):
    metrc.add_facility(BUYER_LICENSE, "Green Door Dispensary")
    metrc.add_package(tag(7))
    adapter = adapter_for(metrc)
    template = {"Name": "CCX-1", "TransporterFacilityLicenseNumber": None, "Destinations": [
        {"RecipientLicenseNumber": BUYER_LICENSE, "TransferTypeName": "Wholesale", "PlannedRoute": "I-25 north",
         "EstimatedDepartureDateTime": "2026-12-02T09:00:00.000", "EstimatedArrivalDateTime":
         "2026-12-02T11:00:00.000", "Transporters": [], "Packages": [{"PackageLabel": tag(7),
                                                                      "WholesalePrice": 1200.0}]}]}
    template_id = adapter.create_template(template, now=NOW)
    assert adapter.find_template("CCX-1", since=NOW - timedelta(hours=1))["Id"] == template_id
    transfer = metrc.register_template(template_id, manifest="0000123456")
    outgoing = adapter.outgoing_transfers(since=NOW - timedelta(hours=1), until=NOW + timedelta(minutes=1))
    assert [t["ManifestNumber"] for t in outgoing] == ["0000123456"]
    buyer = adapter_for(metrc, credentials={"license_number": BUYER_LICENSE})
    incoming = buyer.incoming_transfers(since=NOW - timedelta(hours=1), until=NOW + timedelta(minutes=1))
    assert incoming[0]["Id"] == transfer["Id"]
    delivery = buyer.deliveries(transfer["Id"])[0]
    assert [p["PackageLabel"] for p in buyer.delivery_packages(delivery["Id"])] == [tag(7)]
    assert buyer.rejected_transfers() == []


def test_template_refused_with_metrcs_reason(metrc):
    adapter = adapter_for(metrc)
    bad = {"Name": "CCX-2", "Destinations": [{"RecipientLicenseNumber": "000-UNKNOWN", "Packages": []}]}
    with pytest.raises(IntegrationError, match="Recipient license 000-UNKNOWN not found"):
        adapter.create_template(bad, now=NOW)


def test_template_not_created_twice_after_a_lost_answer(metrc):
    metrc.add_facility(BUYER_LICENSE, "Green Door Dispensary")
    metrc.add_package(tag(8))
    adapter = adapter_for(metrc)
    original = metrc._create_templates

    def lose_answer(request, license_number):  # Metrc creates the template, the answer is lost (a 503)
        original(request, license_number)
        from tests.integrations.fakes.base import json_reply
        return json_reply({"Message": "Service Unavailable"}, 503)

    metrc._create_templates = lose_answer
    template = {"Name": "CCX-3", "Destinations": [{"RecipientLicenseNumber": BUYER_LICENSE,
                                                   "Packages": [{"PackageLabel": tag(8), "WholesalePrice": 10}]}]}
    template_id = adapter.create_template(template, now=NOW)
    assert [t["Id"] for t in metrc.templates[metrc.license_number]] == [template_id]


def test_receipts_and_state_hosts(metrc):
    metrc.add_receipt([(tag(3), 2.0)])
    adapter = adapter_for(metrc)
    receipts = adapter.receipts(since=NOW - timedelta(days=1), until=NOW)
    assert receipts[0]["Transactions"][0]["PackageLabel"] == tag(3)
    assert state_base_url("co") == "https://api-co.metrc.com"
    assert state_base_url("MI", sandbox=True) == "https://sandbox-api-mi.metrc.com"


def test_items_strains_in_transit_inactive_and_template_packages(metrc):
    metrc.items[metrc.license_number] = [{"Id": n, "Name": f"Item {n}", "ProductCategoryName": "Buds",
                                          "LastModified": "2026-12-01T10:00:00+00:00"} for n in range(25)]
    metrc.strains[metrc.license_number] = [{"Id": 1, "Name": "Blue Dream", "IndicaPercentage": 20.0,
                                            "SativaPercentage": 80.0}]
    metrc.add_facility(BUYER_LICENSE, "Green Door Dispensary")
    metrc.add_package(tag(4))
    finished = metrc.add_package(tag(5))
    adapter = adapter_for(metrc)
    assert len(adapter.items()) == 25 and len(metrc.calls("/items/v2/active")) == 2
    assert adapter.strains()[0]["SativaPercentage"] == 80.0
    template_id = adapter.create_template({"Name": "CCX-9", "Destinations": [{
        "RecipientLicenseNumber": BUYER_LICENSE, "Packages": [{"PackageLabel": tag(4), "WholesalePrice": 99.0}]}]},
        now=NOW)
    template = adapter.find_template("CCX-9", since=NOW - timedelta(hours=1))
    assert template["Id"] == template_id
    assert adapter.template_packages(template["DeliveryId"]) == [
        {"PackageLabel": tag(4), "WholesalePrice": 99.0, "ShippedQuantity": 100.0}]
    metrc.ship(shipper=metrc.license_number, recipient=BUYER_LICENSE, labels=[tag(4)])
    assert [p["PackageLabel"] for p in adapter.intransit_packages()] == [tag(4)]
    metrc.touch(tag(5), FinishedDate="2026-12-02")
    inactive = adapter.inactive_packages(since=NOW - timedelta(hours=1), until=NOW + timedelta(hours=1))
    assert [p["Label"] for p in inactive] == [finished["Label"]]
    assert tag(5) not in {p["Label"] for p in adapter.active_packages()}
