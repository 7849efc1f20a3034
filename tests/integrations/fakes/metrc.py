"""A local server speaking Metrc's v2 API as its reference pages describe it (shapes, not data, are Metrc's):

- HTTP Basic (vendor key : user key), 401 otherwise; `licenseNumber` required on facility calls (400 without it,
  401 for a license the user cannot see).
- Lists wrapped {"Data", "Total", "TotalRecords", "PageSize", "RecordsOnPage", "Page", "CurrentPage", "TotalPages"};
  `pageSize` over 20 is a 400; without paging parameters the whole list comes in one page.
- `lastModifiedStart/End` filters (a range longer than 24 hours is a 400) on packages, transfers, templates, receipts.
- /facilities/v2, /items/v2/active, /strains/v2/active, /packages/v2/{active,onhold,inactive,intransit,{label}},
  /labtests/v2/results?packageId, /labtests/v2/labtestdocument/{id} (a PDF), /transfers/v2/{incoming,outgoing,
  rejected}, /transfers/v2/{id}/deliveries, /transfers/v2/deliveries/{id}/packages, /transfers/v2/templates/outgoing
  (GET and POST, which validates like Metrc: known recipient license, packages of this facility, not on hold),
  /transfers/v2/templates/outgoing/deliveries/{id}/packages, /sales/v2/receipts/active.

`generate_packages(n, seed)` builds a realistic active inventory from a real menu capture (names, brands,
categories, strains, potency): 5,000 for the benchmark. `short_page(path)` makes the next page of a list come back
with fewer records than it announces (a partial page); FakeVendorServer.fail injects 401/429/500/timeouts.

    with FakeMetrc() as metrc:
        metrc.generate_packages(200)
        adapter = Adapter(ConnectionConfig(vendor="metrc", base_url=metrc.url, credentials=metrc.credentials()))
"""

from __future__ import annotations

import base64
import json
import random
import re
import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.integrations.fakes.base import FakeVendorServer, Reply, Request, json_reply

CAPTURE = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "menus" / "shopcuzzies_products.json"
VENDOR_KEY = "vk-metrc-4d1c7e9a"
USER_KEY = "uk-metrc-88b2f0c3"
LICENSE = "403R-00011"
BUYER_LICENSE = "402R-00042"
NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)

# capture category -> (Metrc item category, unit of measure, quantity range)
CATEGORIES = {
    "FLOWER": ("Buds", "Grams", (28, 454)), "PRE_ROLLS": ("Pre-Roll", "Each", (10, 200)),
    "VAPORIZERS": ("Vape Cartridge", "Each", (10, 300)), "CONCENTRATES": ("Concentrate", "Grams", (10, 200)),
    "EDIBLES": ("Edible", "Each", (20, 400)), "TINCTURES": ("Tincture", "Each", (10, 100)),
    "TOPICALS": ("Topical", "Each", (5, 80)),
}
UNIT_ABBREVIATIONS = {"Grams": "g", "Each": "ea", "Ounces": "oz", "Pounds": "lb", "Milligrams": "mg"}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def parse(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def tag(number: int, prefix: str = "1A4030100000") -> str:
    """A 24-character Metrc tag."""
    return f"{prefix}{number:0{24 - len(prefix)}d}"


def facility_body(license_number: str, name: str, *, retail: bool, can_transfer: bool = True) -> dict:
    flags = {"IsMedical": False, "IsRetail": retail, "IsHemp": False, "CanGrowPlants": not retail,
             "CanTakePackagesOnTrip": can_transfer, "CanTransferFromExternalFacilities": can_transfer,
             "CanSellToConsumers": retail, "CanCreateDerivedPackages": True, "CanTestPackages": False,
             "CanSubmitPackagesForTesting": not retail}
    return {"HireDate": "0001-01-01", "IsOwner": True, "IsManager": True, "IsFinancialContact": False,
            "Occupations": [], "Name": name, "Alias": name, "DisplayName": name, "CredentialedDate": "2019-08-15",
            "SupportActivationDate": None, "SupportExpirationDate": None, "FacilityType": flags,
            "License": {"Number": license_number, "StartDate": "2024-01-01", "EndDate": "2027-12-31",
                        "LicenseType": "Retail Marijuana Store" if retail else "Retail Marijuana Cultivation"}}


class FakeMetrc(FakeVendorServer):
    def __init__(self, *, vendor_key: str = VENDOR_KEY, user_key: str = USER_KEY, license_number: str = LICENSE,
                 facility_name: str = "Mile High Cultivation", retail: bool = False) -> None:
        super().__init__()
        self.vendor_key, self.user_key = vendor_key, user_key
        self.facilities: dict[str, dict] = {license_number: facility_body(license_number, facility_name,
                                                                          retail=retail)}
        self.license_number = license_number
        # per license: label -> package
        self.packages: dict[str, dict[str, dict]] = {license_number: {}}
        self.lab_results: dict[int, list[dict]] = {}
        self.documents: dict[int, bytes] = {}
        self.items: dict[str, list[dict]] = {license_number: []}
        self.strains: dict[str, list[dict]] = {license_number: []}
        self.transfers: list[dict] = []  # {"Shipper", "Recipient", ..., "deliveries": [{..., "packages": [...]}]}
        self.templates: dict[str, list[dict]] = {}
        self.template_packages: dict[int, list[dict]] = {}
        self.receipts: dict[str, list[dict]] = {license_number: []}
        self.known_licenses: set[str] = {license_number, BUYER_LICENSE}
        self._short_pages: Counter[str] = Counter()
        self._ids = 1000
        self._ids_lock = threading.Lock()
        self.clock = NOW

    # --- setup ---------------------------------------------------------------------------------------------------
    def credentials(self, license_number: str | None = None, state: str = "CO") -> dict[str, str]:
        return {"vendor_key": self.vendor_key, "user_key": self.user_key,
                "license_number": license_number or self.license_number, "state": state}

    def next_id(self) -> int:
        with self._ids_lock:
            self._ids += 1
            return self._ids

    def add_facility(self, license_number: str, name: str, *, retail: bool = True, can_transfer: bool = True) -> None:
        self.facilities[license_number] = facility_body(license_number, name, retail=retail, can_transfer=can_transfer)
        for store in (self.packages, self.items, self.strains, self.receipts):
            store.setdefault(license_number, {} if store is self.packages else [])
        self.known_licenses.add(license_number)

    def add_package(self, label: str, *, item: str = "Blue Dream Buds", category: str = "Buds",
                    strain: str | None = "Blue Dream", quantity: float = 100.0, unit: str = "Grams",
                    lab_state: str = "TestPassed", on_hold: bool = False, license_number: str | None = None,
                    modified: datetime | None = None, thc: float | None = 21.4, cbd: float | None = 0.1,
                    brand: str | None = None, with_document: bool = False) -> dict:
        license_number = license_number or self.license_number
        package_id = self.next_id()
        package = {
            "Id": package_id, "Label": label, "ExternalId": None, "PackageType": "Product",
            "SourceHarvestCount": 1, "SourcePackageCount": 0, "SourceProcessingJobCount": 0,
            "SourceHarvestNames": f"{(strain or 'H').split()[0]}-H{package_id % 97}", "SourcePackageLabels": None,
            "LocationId": None, "LocationName": "Vault", "SublocationId": None, "SublocationName": None,
            "LocationTypeName": "Default", "Quantity": float(quantity), "OriginalPackageQuantity": float(quantity),
            "UnitOfMeasureName": unit, "UnitOfMeasureAbbreviation": UNIT_ABBREVIATIONS.get(unit, unit[:2].lower()),
            "PatientLicenseNumber": None, "ItemFromFacilityLicenseNumber": license_number,
            "ItemFromFacilityName": self.facilities.get(license_number, {}).get("Name"), "Note": None,
            "PackagedDate": (self.clock - timedelta(days=package_id % 40 + 3)).date().isoformat(),
            "ExpirationDate": None, "SellByDate": None, "UseByDate": None,
            "InitialLabTestingState": "NotSubmitted", "LabTestingState": lab_state,
            "LabTestingStateDate": (self.clock - timedelta(days=2)).date().isoformat(),
            "LabTestingPerformedDate": None, "LabTestResultExpirationDateTime": None,
            "LabTestingRecordedDate": None, "LabTestStageId": None, "LabTestStage": None,
            "IsProductionBatch": False, "ProductionBatchNumber": None, "SourceProductionBatchNumbers": None,
            "IsTradeSample": False, "IsTradeSamplePersistent": False, "SourcePackageIsTradeSample": False,
            "IsDonation": False, "IsDonationPersistent": False, "SourcePackageIsDonation": False,
            "IsTestingSample": False, "IsProcessValidationTestingSample": False,
            "ProductRequiresRemediation": False, "ContainsRemediatedProduct": False, "RemediationDate": None,
            "ProductRequiresDecontamination": False, "ContainsDecontaminatedProduct": False,
            "DecontaminationDate": None, "ReceivedDateTime": None, "ReceivedFromManifestNumber": None,
            "ReceivedFromFacilityLicenseNumber": None, "ReceivedFromFacilityName": None,
            "IsOnHold": on_hold, "IsOnHoldCombined": on_hold, "IsOnInvestigation": False,
            "IsOnInvestigationHold": False, "IsOnInvestigationRecall": False, "IsOnRecall": None,
            "IsOnRecallCombined": False, "ArchivedDate": None, "IsFinished": False, "FinishedDate": None,
            "IsFinishedGood": False, "IsOnRetailerDelivery": False, "PackageForProductDestruction": None,
            "LabelsLastGeneratedDateTime": None, "LastModified": iso(modified or self.clock - timedelta(hours=3)),
            "Item": {"Id": package_id + 500000, "Name": item, "GlobalProductName": None, "GlobalProductNumber": None,
                     "ProductCategoryName": category, "ProductCategoryType": 0, "QuantityType": 0,
                     "DefaultLabTestingState": 0, "UnitOfMeasureName": unit, "ApprovalStatus": 0,
                     "StrainId": (package_id % 50) + 1 if strain else None, "StrainName": strain,
                     "ItemBrandId": 0, "ItemBrandName": brand, "UnitThcPercent": thc, "UnitCbdPercent": cbd,
                     "UnitWeight": None, "UnitWeightUnitOfMeasureName": None},
        }
        self.packages.setdefault(license_number, {})[label] = package
        if lab_state in ("TestPassed", "TestFailed"):
            document_id = None
            if with_document:
                document_id = package_id + 900000
                self.documents[document_id] = _pdf(f"Certificate of analysis {label} {item} THC {thc}%")
            passed = lab_state == "TestPassed"
            self.lab_results[package_id] = [
                self._lab_row(package, "THC", thc, passed, document_id),
                self._lab_row(package, "CBD", cbd, True, document_id),
                self._lab_row(package, "Microbiologicals", 0.1, passed, document_id),
                self._lab_row(package, "Pesticides", 0.0, True, document_id)]
        return package

    def _lab_row(self, package: dict, test: str, level: float | None, passed: bool, document_id: int | None) -> dict:
        return {"PackageId": package["Id"], "LabTestResultId": self.next_id(),
                "LabFacilityLicenseNumber": "405R-00003", "LabFacilityName": "Front Range Testing Labs",
                "SourcePackageLabel": package["Label"], "ProductName": package["Item"]["Name"],
                "ProductCategoryName": package["Item"]["ProductCategoryName"],
                "TestPerformedDate": (self.clock - timedelta(days=3)).date().isoformat(),
                "OverallPassed": passed, "RevokedDate": None, "LabTestResultDocumentFileId": document_id,
                "ResultReleased": True, "ResultReleaseDateTime": iso(self.clock - timedelta(days=2)),
                "ExpirationDateTime": None, "TestTypeName": f"{test} (%)" if test in ("THC", "CBD") else test,
                "TestPassed": passed, "TestResultLevel": level, "TestComment": None, "TestInformationalOnly": False,
                "LabTestDetailRevokedDate": None}

    def generate_packages(self, n: int, *, seed: int = 7, license_number: str | None = None,
                          capture: Path = CAPTURE) -> list[dict]:
        """`n` active packages from a real menu capture's products (name, brand, category, strain, THC), with
        realistic quantities, lab states (about 3% still in testing, 1% failed) and holds (about 1%), modified
        over the last 30 days."""
        rng = random.Random(seed)
        products = [p for p in json.loads(capture.read_text()) if p.get("category") in CATEGORIES]
        made = []
        start = len(self.packages.get(license_number or self.license_number, {}))
        for index in range(n):
            product = products[index % len(products)]
            category, unit, (low, high) = CATEGORIES[product["category"]]
            parts = [part.strip() for part in product["name"].split("|")]
            strain = parts[1] if len(parts) > 2 else None
            roll = rng.random()
            lab_state = "TestFailed" if roll < 0.01 else "TestPending" if roll < 0.04 else "TestPassed"
            try:
                thc = float(product.get("potencyThcRangeHigh") or 0) or None
            except ValueError:
                thc = None
            made.append(self.add_package(
                tag(start + index + 1), item=product["name"][:150], category=category, strain=strain,
                quantity=float(rng.randint(low, high)), unit=unit, lab_state=lab_state, on_hold=rng.random() < 0.01,
                license_number=license_number, thc=thc, cbd=None, brand=product.get("brandName"),
                modified=self.clock - timedelta(hours=rng.uniform(1, 24 * 30))))
        return made

    def touch(self, label: str, *, license_number: str | None = None, **changes: Any) -> dict:
        """Change a package as Metrc would (adjusted, put on hold, tested): LastModified moves to the fake's clock."""
        package = self.packages[license_number or self.license_number][label]
        package.update(changes)
        package["LastModified"] = iso(self.clock)
        return package

    def add_receipt(self, lines: list[tuple[str, float]], *, sold_at: datetime | None = None,
                    license_number: str | None = None) -> dict:
        receipt_id = self.next_id()
        when = sold_at or self.clock - timedelta(hours=2)
        receipt = {"Id": receipt_id, "ReceiptNumber": f"R{receipt_id}", "ExternalReceiptNumber": None,
                   "SalesDateTime": when.strftime("%Y-%m-%dT%H:%M:%S.000"), "SalesCustomerType": "Consumer",
                   "TotalPackages": len(lines), "TotalPrice": 0.0, "IsFinal": False, "ArchivedDate": None,
                   "RecordedDateTime": iso(when), "LastModified": iso(when),
                   "Transactions": [{"PackageId": 0, "PackageLabel": label, "QuantitySold": qty,
                                     "UnitOfMeasureName": "Each", "TotalPrice": 0.0} for label, qty in lines]}
        self.receipts.setdefault(license_number or self.license_number, []).append(receipt)
        return receipt

    def ship(self, *, shipper: str, recipient: str, labels: list[str], manifest: str | None = None,
             template_name: str | None = None, state: str = "Shipped") -> dict:
        """A transfer from shipper to recipient with these packages (what registering a template in Metrc does)."""
        transfer_id, delivery_id = self.next_id(), self.next_id()
        packages = []
        for label in labels:
            source = self.packages.get(shipper, {}).get(label) or {"Id": self.next_id(), "Label": label,
                                                                   "Quantity": 1.0, "UnitOfMeasureName": "Each",
                                                                   "LabTestingState": "TestPassed",
                                                                   "Item": {"Name": "Item", "ProductCategoryName":
                                                                            "Buds", "StrainName": None}}
            packages.append({"PackageId": source["Id"], "PackageLabel": label, "PackageType": "Product",
                             "ItemId": source["Item"].get("Id", 0), "ItemName": source["Item"]["Name"],
                             "ItemCategoryName": source["Item"]["ProductCategoryName"],
                             "ItemStrainName": source["Item"].get("StrainName"),
                             "ItemBrandName": source["Item"].get("ItemBrandName"),
                             "ItemUnitThcPercent": source["Item"].get("UnitThcPercent"),
                             "ItemUnitCbdPercent": source["Item"].get("UnitCbdPercent"),
                             "LabTestingState": source["LabTestingState"], "ProductionBatchNumber": None,
                             "IsTradeSample": False, "IsDonation": False, "IsTestingSample": False,
                             "ProductRequiresRemediation": False, "ShipmentPackageState": state,
                             "ShippedQuantity": source["Quantity"], "ShippedUnitOfMeasureName":
                             source["UnitOfMeasureName"], "GrossUnitOfWeightName": None, "ReceivedQuantity": None,
                             "ReceivedUnitOfMeasureName": None, "SourcePackageId": source["Id"]})
        transfer = {"Id": transfer_id, "ManifestNumber": manifest or f"{transfer_id:010d}", "Name": template_name,
                    "ShipperFacilityLicenseNumber": shipper,
                    "ShipperFacilityName": self.facilities.get(shipper, {}).get("Name"),
                    "RecipientFacilityLicenseNumber": recipient,
                    "RecipientFacilityName": self.facilities.get(recipient, {}).get("Name"),
                    "ShipmentTypeName": "Transfer", "ShipmentTransactionType": "Wholesale", "DeliveryId": delivery_id,
                    "PackageCount": len(packages), "ReceivedPackageCount": 0, "IsVoided": False,
                    "CreatedDateTime": iso(self.clock), "LastModified": iso(self.clock),
                    "EstimatedDepartureDateTime": iso(self.clock), "EstimatedArrivalDateTime": iso(self.clock),
                    "ReceivedDateTime": None,
                    "deliveries": [{"Id": delivery_id, "RecipientFacilityLicenseNumber": recipient,
                                    "ShipmentTypeName": "Transfer", "PlannedRoute": None,
                                    "DeliveryPackageCount": len(packages), "DeliveryReceivedPackageCount": 0,
                                    "ReceivedDateTime": None, "packages": packages}]}
        self.transfers.append(transfer)
        return transfer

    def register_template(self, template_id: int, *, manifest: str | None = None) -> dict:
        """What the shipper does in Metrc's UI: the template becomes an outgoing transfer with a manifest number."""
        for license_number, rows in self.templates.items():
            for template in rows:
                if template["Id"] == template_id:
                    destination = template["_body"]["Destinations"][0]
                    labels = [p["PackageLabel"] for p in destination["Packages"]]
                    transfer = self.ship(shipper=license_number, recipient=destination["RecipientLicenseNumber"],
                                         labels=labels, manifest=manifest, template_name=template["Name"])
                    for label in labels:
                        self.packages[license_number].pop(label, None)
                    return transfer
        raise KeyError(template_id)

    def short_page(self, path: str, times: int = 1) -> None:
        self._short_pages[path] += times

    # --- protocol --------------------------------------------------------------------------------------------------
    def handle(self, request: Request) -> Reply:
        if not self._authorized(request):
            return json_reply({"Message": "Authorization has been denied for this request."}, 401)
        path = request.path.rstrip("/") or "/"
        if path == "/facilities/v2":
            return json_reply(list(self.facilities.values()))
        license_number = request.query.get("licenseNumber")
        if not license_number:
            return json_reply({"Message": "No license number was specified."}, 400)
        if license_number not in self.facilities:
            return json_reply({"Message": "Authorization has been denied for this request."}, 401)
        problem = self._check_paging(request)
        if problem:
            return json_reply({"Message": problem}, 400)
        packages = self.packages.setdefault(license_number, {})
        if request.method == "POST" and path == "/transfers/v2/templates/outgoing":
            return self._create_templates(request, license_number)
        routes: dict[str, Any] = {
            "/items/v2/active": lambda: self.items.get(license_number, []),
            "/strains/v2/active": lambda: self.strains.get(license_number, []),
            "/packages/v2/active": lambda: [p for p in packages.values() if not p.get("FinishedDate")],
            "/packages/v2/onhold": lambda: [p for p in packages.values() if p["IsOnHold"]],
            "/packages/v2/inactive": lambda: [p for p in packages.values() if p.get("FinishedDate")],
            "/packages/v2/intransit": lambda: self._in_transit(license_number),
            "/transfers/v2/incoming": lambda: self._transfer_rows(recipient=license_number),
            "/transfers/v2/outgoing": lambda: self._transfer_rows(shipper=license_number),
            "/transfers/v2/rejected": lambda: [t for t in self._transfer_rows(shipper=license_number)
                                               if t["_rejected"]],
            "/transfers/v2/templates/outgoing": lambda: self.templates.get(license_number, []),
            "/sales/v2/receipts/active": lambda: self.receipts.get(license_number, []),
        }
        if path in routes:
            return self._listing(request, path, routes[path]())
        if path == "/labtests/v2/results":
            return self._listing(request, path, self.lab_results.get(int(request.query.get("packageId") or 0), []))
        if match := re.fullmatch(r"/labtests/v2/labtestdocument/(\d+)", path):
            document = self.documents.get(int(match.group(1)))
            if document is None:
                return json_reply({"Message": "Not found"}, 404)
            return Reply(200, document, {"Content-Type": "application/pdf"})
        if match := re.fullmatch(r"/transfers/v2/(\d+)/deliveries", path):
            rows = [d for t in self.transfers if t["Id"] == int(match.group(1)) for d in t["deliveries"]]
            return self._listing(request, path, [{k: v for k, v in d.items() if k != "packages"} for d in rows])
        if match := re.fullmatch(r"/transfers/v2/deliveries/(\d+)/packages", path):
            rows = [p for t in self.transfers for d in t["deliveries"] if d["Id"] == int(match.group(1))
                    for p in d["packages"]]
            return self._listing(request, path, rows)
        if match := re.fullmatch(r"/transfers/v2/templates/outgoing/deliveries/(\d+)/packages", path):
            return self._listing(request, path, self.template_packages.get(int(match.group(1)), []))
        if match := re.fullmatch(r"/packages/v2/([A-Z0-9]{24})", path):
            package = packages.get(match.group(1))
            return json_reply(package) if package else json_reply({"Message": "Package not found."}, 404)
        return json_reply({"Message": f"No HTTP resource was found that matches {path}."}, 404)

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == self.vendor_key and password == self.user_key

    def _check_paging(self, request: Request) -> str | None:
        size = request.query.get("pageSize")
        if size is not None and (not size.isdigit() or not 1 <= int(size) <= 20):
            return "The page size must be a number from 1 to 20."
        start, end = request.query.get("lastModifiedStart"), request.query.get("lastModifiedEnd")
        if (start is None) != (end is None):
            return "Both lastModifiedStart and lastModifiedEnd must be specified."
        if start and end and parse(end) - parse(start) > timedelta(hours=24):
            return "The date range may not exceed 24 hours."
        return None

    def _listing(self, request: Request, path: str, rows: list[dict]) -> Reply:
        start, end = request.query.get("lastModifiedStart"), request.query.get("lastModifiedEnd")
        if start and end:
            low, high = parse(start), parse(end)
            rows = [r for r in rows if low <= parse(r.get("LastModified") or iso(self.clock)) < high]
        size = int(request.query.get("pageSize") or max(len(rows), 1))
        number = int(request.query.get("pageNumber") or 1)
        pages = max(1, -(-len(rows) // size))
        data = [{k: v for k, v in r.items() if not k.startswith("_") and k != "deliveries"}
                for r in rows[(number - 1) * size: number * size]]
        on_page = len(data)
        with self._lock:
            if self._short_pages.get(path, 0) > 0 and data:
                self._short_pages[path] -= 1
                data = data[:-1]  # a partial page: fewer records than it announces
        return json_reply({"Data": data, "Total": len(rows), "TotalRecords": len(rows), "PageSize": size,
                           "RecordsOnPage": on_page, "Page": number, "CurrentPage": number, "TotalPages": pages})

    def _in_transit(self, license_number: str) -> list[dict]:
        return [{"PackageId": p["PackageId"], "PackageLabel": p["PackageLabel"], "ManifestNumber": t["ManifestNumber"],
                 "ShipperFacilityLicenseNumber": t["ShipperFacilityLicenseNumber"],
                 "RecipientFacilityLicenseNumber": t["RecipientFacilityLicenseNumber"],
                 "LastModified": t["LastModified"]}
                for t in self.transfers if license_number in (t["ShipperFacilityLicenseNumber"],
                                                              t["RecipientFacilityLicenseNumber"])
                for d in t["deliveries"] for p in d["packages"] if p["ShipmentPackageState"] == "Shipped"]

    def _transfer_rows(self, *, shipper: str | None = None, recipient: str | None = None) -> list[dict]:
        rows = []
        for transfer in self.transfers:
            if shipper and transfer["ShipperFacilityLicenseNumber"] != shipper:
                continue
            if recipient and transfer["RecipientFacilityLicenseNumber"] != recipient:
                continue
            rejected = any(p["ShipmentPackageState"] == "Rejected" for d in transfer["deliveries"]
                           for p in d["packages"])
            rows.append({**transfer, "_rejected": rejected})
        return rows

    def _create_templates(self, request: Request, license_number: str) -> Reply:
        try:
            body = request.json()
        except ValueError:
            return json_reply({"Message": "The request is invalid."}, 400)
        if not isinstance(body, list) or not body:
            return json_reply({"Message": "The request body must be a list of templates."}, 400)
        errors, ids = [], []
        for row, template in enumerate(body):
            destinations = template.get("Destinations") or []
            if not template.get("Name"):
                errors.append({"row": row, "message": "Name is required."})
            if not destinations:
                errors.append({"row": row, "message": "At least one destination is required."})
            for destination in destinations:
                if destination.get("RecipientLicenseNumber") not in self.known_licenses:
                    errors.append({"row": row, "message": f"Recipient license "
                                                          f"{destination.get('RecipientLicenseNumber')} not found."})
                for item in destination.get("Packages") or []:
                    package = self.packages[license_number].get(item.get("PackageLabel"))
                    if package is None:
                        errors.append({"row": row, "message": f"Package {item.get('PackageLabel')} not found."})
                    elif package["IsOnHold"]:
                        errors.append({"row": row, "message": f"Package {package['Label']} is on hold."})
        if errors:
            return json_reply(errors, 400)
        for template in body:
            template_id, delivery_id = self.next_id(), self.next_id()
            destination = template["Destinations"][0]
            self.templates.setdefault(license_number, []).append({
                "Id": template_id, "ManifestNumber": None, "Name": template["Name"],
                "ShipperFacilityLicenseNumber": license_number,
                "ShipperFacilityName": self.facilities[license_number]["Name"],
                "TransporterFacilityLicenseNumber": template.get("TransporterFacilityLicenseNumber"),
                "DriverName": template.get("DriverName"), "DeliveryCount": len(template["Destinations"]),
                "PackageCount": sum(len(d.get("Packages") or []) for d in template["Destinations"]),
                "IsVoided": False, "CreatedDateTime": iso(self.clock), "LastModified": iso(self.clock),
                "DeliveryId": delivery_id, "RecipientFacilityLicenseNumber": destination["RecipientLicenseNumber"],
                "ShipmentTypeName": destination.get("TransferTypeName"), "_body": template})
            self.template_packages[delivery_id] = [
                {"PackageLabel": p["PackageLabel"], "WholesalePrice": p.get("WholesalePrice"),
                 "ShippedQuantity": self.packages[license_number][p["PackageLabel"]]["Quantity"]}
                for p in destination.get("Packages") or []]
            ids.append(template_id)
        return json_reply({"Ids": ids, "Warnings": None})


def _pdf(text: str) -> bytes:
    """A small, valid one-page PDF carrying `text` (the lab's COA document in the fake)."""
    stream = f"BT /F1 11 Tf 50 740 Td ({text.replace('(', '[').replace(')', ']')}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer << /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def today() -> date:
    return NOW.date()
