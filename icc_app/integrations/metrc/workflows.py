"""Where CCX meets Metrc: one operator workflow, each step an event on the order that both sides see.

1. **List on CCX** from a Metrc package (`fetch_listing` + `list_on_ccx`): a draft lot pre-filled with the
   item, strain, quantity and unit, the package tag and the lab results; the lab's COA document, when Metrc has
   one, goes through COA intake (labs.service.upload_coa: stored, parsed by the worker, attached to the lot).
2. **Accepted offer -> outgoing transfer template** (`order_accepted` hook in exchange.offers.accept, then the
   `metrc.create_template` task): pre-flight checks first (one message per failure, posted on the order), then
   the template (buyer's license, the package, its wholesale price) is created in the seller's Metrc.
3. **Following the transfer** (`follow_transfer`, task `metrc.follow_transfers` every 5 minutes): when the seller
   registers the template in Metrc, the outgoing transfer's manifest number lands on the order; when the transfer
   departs, the order moves to In Transit.
4. **Receiving** (`receive_order`): the buyer decides package by package (accept whole, or reject with a reason);
   every package must be on the Metrc delivery of that manifest. Accepted packages create or restock the buyer's
   retail menu item (integrations.apply.apply_menu, source "metrc", linked to the lot for its CQI badge) with the
   lab data. Doing it twice changes nothing.

Metrc v2 has no endpoint to accept or reject an incoming transfer (nor one that returns the manifest PDF): the
decisions are recorded in ICC and the buyer confirms them in Metrc's own receiving screen; the next compliance
check flags a package ICC sells that Metrc does not show as received.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlmodel import Session, col, select

from icc_app.core.db import enqueue, unit_of_work
from icc_app.core.errors import Conflict, NotFound, ValidationFailed
from icc_app.core.lifecycle import Lifecycle
from icc_app.exchange.common import notify_traders
from icc_app.exchange.models import Lot, Order, OrderEvent, OrderStatus
from icc_app.identity.models import BusinessLicense, Product, Verification
from icc_app.identity.permissions import require_member
from icc_app.identity.schemas import Principal
from icc_app.integrations import base, service
from icc_app.integrations.base import IntegrationError, InventoryRecord, MenuRecord
from icc_app.integrations.metrc import preflight
from icc_app.integrations.metrc.models import TransferLink
from icc_app.integrations.models import Connection, ConnectionStatus

USABLE = (ConnectionStatus.new, ConnectionStatus.healthy, ConnectionStatus.failing)
PRODUCT_WORDS = [("pre-roll", "pre_roll"), ("preroll", "pre_roll"), ("vape", "vape"), ("cartridge", "vape"),
                 ("concentrate", "concentrate"), ("wax", "concentrate"), ("shatter", "concentrate"),
                 ("edible", "edible"), ("tincture", "tincture"), ("topical", "topical"), ("shake", "trim"),
                 ("trim", "trim"), ("clone", "clones"), ("immature", "clones"), ("biomass", "biomass"),
                 ("bud", "flower"), ("flower", "flower")]
MENU_CATEGORY = {"flower": "flower", "trim": "flower", "pre_roll": "pre_roll", "vape": "vape",
                 "concentrate": "concentrate", "edible": "edible", "tincture": "tincture", "topical": "topical",
                 "biomass": "other", "clones": "other"}
EIGHTH_G = Decimal("3.5")
KEYSTONE = Decimal("2")  # retail = 2 x cost when the buyer gives no price (the event says so)


# ----------------------------------------------------------------------------------------------- helpers


def metrc_connection(session: Session, business_id: uuid.UUID) -> Connection | None:
    """The business's Metrc connection in use (the oldest, when it has several licenses)."""
    return session.exec(select(Connection).where(Connection.business_id == business_id, Connection.vendor == "metrc",
                                                 col(Connection.status).in_([s.value for s in USABLE]))
                        .order_by(col(Connection.created_at))).first()


def license_of(session: Session, business_id: uuid.UUID, connection: Connection | None) -> str | None:
    if connection is not None:
        import json

        number = json.loads(connection.credentials or "{}").get("license_number")
        if number:
            return number
    row = session.exec(select(BusinessLicense).where(BusinessLicense.business_id == business_id,
                                                     BusinessLicense.verification == Verification.verified)).first()
    return row.license_number if row else None


def order_event(session: Session, order: Order, note: str, *, party: str = "system",
                actor_id: uuid.UUID | None = None) -> None:
    """A step on the order's history without a status change (both sides see it)."""
    status = OrderStatus(order.status).value
    session.add(OrderEvent(order_id=order.id, actor_id=actor_id, actor_party=party, from_status=status,
                           to_status=status, note=note[:1000]))


def _tell(session: Session, order: Order, title: str, body: str = "") -> None:
    for business_id in (order.buyer_business_id, order.seller_business_id):
        notify_traders(session, business_id, kind="exchange.order", title=title[:200], body=body,
                       link=f"/exchange/orders/{order.id}")


def product_type(category: str | None) -> str:
    words = (category or "").lower()
    for word, kind in PRODUCT_WORDS:
        if word in words:
            return kind
    return "flower"


def lot_quantity(quantity: Decimal, unit: str) -> tuple[Decimal, str]:
    """Metrc's quantity in a CCX lot unit (g, lb, units)."""
    key = (unit or "").strip().lower()
    if key in ("each", "ea"):
        return quantity, "units"
    if key in ("pounds", "lb"):
        return quantity, "lb"
    base_ = preflight.to_base(quantity, unit)
    if base_ is None or base_[0] != "weight":
        raise ValidationFailed(f"Metrc counts this package in {unit}: CCX lots are in g, lb or units.",
                               field="unit")
    return base_[1].quantize(Decimal("0.001")), "g"


def _pct(value: Any) -> float | None:
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


# ----------------------------------------------------------------------------------------------- 1. list on CCX


@dataclass
class MetrcListing:
    label: str
    package_id: int
    title: str
    product_type: str
    strain_name: str
    quantity: Decimal
    unit: str
    lab_state: str
    lab_passed: bool
    thc_pct: float | None = None
    cbd_pct: float | None = None
    tested_on: date | None = None
    lab_name: str | None = None
    document_id: int | None = None
    on_hold: bool = False
    lab_results: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        out = asdict(self)
        out["quantity"] = str(self.quantity)
        out["tested_on"] = self.tested_on.isoformat() if self.tested_on else None
        return out


def fetch_listing(adapter, label: str) -> MetrcListing:
    """A Metrc package as a CCX listing draft (reads the package and its lab results; no database)."""
    label = (label or "").strip().upper()
    if not preflight.TAG_RE.match(label):
        raise ValidationFailed("A Metrc package tag is 24 letters and digits.", field="label")
    try:
        package = adapter.package(label)
    except IntegrationError as exc:
        if "(404)" in exc.message:
            raise NotFound(f"Metrc has no package {label} for license {adapter.license_number}.") from None
        raise
    item = package.get("Item") or {}
    results = adapter.lab_results(int(package["Id"])) if package.get("Id") else []
    thc = cbd = None
    tested_on, lab_name, document_id = None, None, None
    for row in results:
        test = (row.get("TestTypeName") or "").lower()
        level = _pct(row.get("TestResultLevel"))
        if thc is None and test.startswith("thc") and "thca" not in test:
            thc = level
        if thc is None and "total thc" in test:
            thc = level
        if cbd is None and test.startswith("cbd"):
            cbd = level
        tested_on = tested_on or (date.fromisoformat(row["TestPerformedDate"][:10]) if row.get("TestPerformedDate")
                                  else None)
        lab_name = lab_name or row.get("LabFacilityName")
        document_id = document_id or row.get("LabTestResultDocumentFileId")
    quantity, unit = lot_quantity(Decimal(str(package.get("Quantity") or 0)), package.get("UnitOfMeasureName") or "")
    lab_state = package.get("LabTestingState") or "NotSubmitted"
    return MetrcListing(
        label=label, package_id=int(package.get("Id") or 0), title=(item.get("Name") or label)[:200],
        product_type=product_type(item.get("ProductCategoryName")),
        strain_name=(item.get("StrainName") or item.get("Name") or "Unknown")[:120], quantity=quantity, unit=unit,
        lab_state=lab_state, lab_passed=lab_state in preflight.PASSED,
        thc_pct=thc if thc is not None else _pct(item.get("UnitThcPercent")),
        cbd_pct=cbd if cbd is not None else _pct(item.get("UnitCbdPercent")), tested_on=tested_on,
        lab_name=lab_name, document_id=int(document_id) if document_id else None,
        on_hold=bool(package.get("IsOnHold")), lab_results=[
            {"test": r.get("TestTypeName"), "level": r.get("TestResultLevel"), "passed": r.get("TestPassed"),
             "lab": r.get("LabFacilityName"), "date": r.get("TestPerformedDate")} for r in results])


def fetch_for_listing(session_principal: Principal, connection_id: uuid.UUID, label: str, *,
                      with_document: bool = False, http_options: dict | None = None
                      ) -> tuple[uuid.UUID, MetrcListing, bytes | None]:
    """Read the package from the business's Metrc (outside any transaction). Returns (business, listing, COA PDF)."""
    with unit_of_work(tenant=session_principal) as session:
        connection = service.get(session, session_principal, connection_id)
        if connection.vendor != "metrc":
            raise NotFound("Not a Metrc connection.")
        config, business_id = service.config_for(connection, **(http_options or {})), connection.business_id
    adapter = base.make_adapter(config)
    try:
        listing = fetch_listing(adapter, label)
        document = adapter.lab_document(listing.document_id) if with_document and listing.document_id else None
    finally:
        adapter.close()
    return business_id, listing, document


def list_on_ccx(session: Session, *, principal: Principal, business_id: uuid.UUID, listing: MetrcListing,
                price_per_unit, min_order_qty=None, strain_type: str = "hybrid", title: str | None = None,
                description: str = "", document: bytes | None = None, idempotency_key: str | None = None) -> Lot:
    """A draft lot from a Metrc package; the lab's COA document (when Metrc has one) goes through COA intake."""
    from icc_app.exchange import lots
    from icc_app.labs import service as labs

    if listing.on_hold:
        raise ValidationFailed(f"Package {preflight.short(listing.label)} is on hold in Metrc: it cannot be sold.",
                               field="label")
    if not listing.lab_passed:
        raise ValidationFailed(f"Package {preflight.short(listing.label)} has not passed lab testing in Metrc "
                               f"({preflight._words(listing.lab_state)}).", field="label")
    tested = (f"Lab: {listing.lab_name}, tested {listing.tested_on.isoformat()}. " if listing.lab_name and
              listing.tested_on else "")
    lot = lots.create_lot(session, principal=principal, business_id=business_id, idempotency_key=idempotency_key,
                          data=lots.LotInput(
                              title=title or listing.title, product_type=listing.product_type,
                              strain_name=listing.strain_name, strain_type=strain_type, quantity=listing.quantity,
                              unit=listing.unit, min_order_qty=min_order_qty if min_order_qty is not None
                              else listing.quantity, price_per_unit=price_per_unit, metrc_tag=listing.label,
                              description=(description or f"{tested}From Metrc package {listing.label}.")))
    if listing.thc_pct is not None and lot.thc_pct is None:
        lot.thc_pct = listing.thc_pct
    if listing.cbd_pct is not None and lot.cbd_pct is None:
        lot.cbd_pct = listing.cbd_pct
    lot.tested_on = lot.tested_on or listing.tested_on
    session.add(lot)
    if document:
        labs.upload_coa(session, principal, business_id=business_id, data=document, lot_id=lot.id,
                        filename=f"coa-{listing.label}.pdf", claimed_total_thc_pct=listing.thc_pct)
    return lot


# ----------------------------------------------------------------------------------------------- 2. template


def order_accepted(session: Session, order: Order) -> None:
    """Hook of exchange.offers.accept: a Metrc-connected seller's lot with a tag gets its transfer template."""
    lot = session.get(Lot, order.lot_id)
    if lot is None or not lot.metrc_tag or metrc_connection(session, order.seller_business_id) is None:
        return
    enqueue(session, "metrc.create_template", str(order.id))


def template_body(link: TransferLink, *, now: datetime, planned_route: str | None = None) -> dict:
    """The outgoing transfer template, as Metrc's reference example shapes it."""
    departure = now + timedelta(days=1)
    return {"Name": link.template_name, "TransporterFacilityLicenseNumber": None,
            "DriverOccupationalLicenseNumber": None, "DriverName": None, "DriverLicenseNumber": None,
            "PhoneNumberForQuestions": None, "VehicleMake": None, "VehicleModel": None,
            "VehicleLicensePlateNumber": None,
            "Destinations": [{
                "RecipientLicenseNumber": link.recipient_license, "TransferTypeName": "Wholesale Manifest",
                "PlannedRoute": planned_route,
                "EstimatedDepartureDateTime": departure.strftime("%Y-%m-%dT%H:%M:%S.000"),
                "EstimatedArrivalDateTime": (departure + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M:%S.000"),
                "Transporters": [],
                "Packages": [{"PackageLabel": p["label"], "WholesalePrice": float(Decimal(p["wholesale_price"]))
                              if p.get("wholesale_price") is not None else None} for p in link.packages]}]}


_OPEN_LINK = ["manifested", "in_transit", "closed", "received"]
# How an order's Metrc transfer moves: pre-flight blocks it or the template is created (a blocked one can be tried
# again), Metrc registers the manifest, the packages depart, the buyer receives them package by package; "closed"
# is an order that left the Metrc path (shipped by hand, cancelled or disputed).
LINK_LIFECYCLE = Lifecycle(object_type="metrc_transfer_link", action="integrations.metrc.transfer", moves={
    "pending": ["blocked", "template_created", *_OPEN_LINK],
    "blocked": ["blocked", "template_created", *_OPEN_LINK],
    "template_created": _OPEN_LINK,
    "manifested": _OPEN_LINK[1:],
    "in_transit": _OPEN_LINK[1:],
}, labels={"template_created": "template created", "in_transit": "in transit"})


def _link_for(session: Session, order: Order, lot: Lot) -> TransferLink:
    link = session.exec(select(TransferLink).where(TransferLink.order_id == order.id)).first()
    if link is None:
        seller = metrc_connection(session, order.seller_business_id)
        buyer = metrc_connection(session, order.buyer_business_id)
        link = TransferLink(order_id=order.id, business_id=order.seller_business_id,
                            buyer_business_id=order.buyer_business_id, connection_id=seller.id if seller else None,
                            buyer_connection_id=buyer.id if buyer else None, template_name=order.reference,
                            recipient_license=license_of(session, order.buyer_business_id, buyer),
                            packages=[{"label": lot.metrc_tag, "quantity": str(order.quantity),
                                       "unit": str(order.unit), "wholesale_price": str(order.total),
                                       "state": "planned", "reason": None}])
        session.add(link)
        session.flush()
    return link


def create_template(order_id: uuid.UUID, *, now: datetime | None = None, http_options: dict | None = None) -> str:
    """Pre-flight, then the seller's outgoing transfer template for the order. Returns created / exists / blocked /
    skipped. Safe to run twice (the template's name is the order's reference; Metrc is asked before a retry)."""
    now = now or datetime.now(UTC)
    with unit_of_work() as session:
        order = session.get(Order, order_id)
        lot = session.get(Lot, order.lot_id) if order else None
        if order is None or lot is None or not lot.metrc_tag:
            return "skipped"
        link = _link_for(session, order, lot)
        if link.template_id is not None:
            return "exists"
        connection = session.get(Connection, link.connection_id) if link.connection_id else None
        if connection is None:
            return "skipped"
        config = service.config_for(connection, **(http_options or {}))
        link_id, recipient = link.id, link.recipient_license
        lines = [preflight.Line(p["label"], Decimal(p["quantity"]), p["unit"],
                                Decimal(p["wholesale_price"]) if p.get("wholesale_price") else None)
                 for p in link.packages]
        body = template_body(link, now=now)
    adapter = base.make_adapter(config)
    try:
        try:
            facility = adapter.facility()
        except IntegrationError:
            facility = None
        packages: dict[str, dict | None] = {}
        for line in lines:
            try:
                packages[line.label] = adapter.package(line.label)
            except IntegrationError as exc:
                if "(404)" not in exc.message:
                    raise
                packages[line.label] = None
        problems = preflight.check(facility, adapter.license_number, lines, packages, today=now.date(),
                                   recipient_license=recipient)
        template_id, error = None, None
        if not problems:
            try:
                template_id = adapter.create_template(body, now=now)
            except IntegrationError as exc:
                error = exc.message
    finally:
        adapter.close()
    with unit_of_work() as session:
        # the order first, then its link: the order's own actions (receive) lock in that order too
        order = session.exec(select(Order).where(Order.id == order_id).with_for_update()).one()
        link = session.exec(select(TransferLink).where(TransferLink.id == link_id).with_for_update()).one()
        if link.template_id is not None or link.status not in ("pending", "blocked"):
            return "exists"  # a duplicate delivery of this task finished first
        if problems or error:
            messages = [p.message for p in problems] or [f"Metrc refused the template: {error}"]
            LINK_LIFECYCLE.move(session, link, "blocked", last_error=" ".join(messages)[:1000], why=" ".join(messages))
            order_event(session, order, "Metrc transfer template not sent: " + " ".join(messages))
            _tell(session, order, f"Order {order.reference}: the Metrc transfer template needs attention",
                  "\n".join(messages))
            return "blocked"
        LINK_LIFECYCLE.move(session, link, "template_created", template_id=template_id, last_error=None,
                            why=f"template {template_id}")
        for package in link.packages:
            package["state"] = "templated"
        link.packages = list(link.packages)
        session.add(link)
        order_event(session, order, f"Metrc transfer template {link.template_name} created (id {template_id}) for "
                                    f"license {link.recipient_license}: register it in Metrc to get the manifest")
        _tell(session, order, f"Order {order.reference}: Metrc transfer template created",
              f"Template {link.template_name} for license {link.recipient_license}.")
        return "created"


# ----------------------------------------------------------------------------------------------- 3. follow


def follow_transfer(order_id: uuid.UUID, *, now: datetime | None = None, http_options: dict | None = None) -> str:
    """Pick up the manifest once the seller registered the template in Metrc; In Transit once it departs."""
    from icc_app.exchange import orders

    now = now or datetime.now(UTC)
    with unit_of_work() as session:
        link = session.exec(select(TransferLink).where(TransferLink.order_id == order_id)).first()
        if link is None or link.connection_id is None or link.status not in ("template_created", "manifested"):
            return "nothing"
        connection = session.get(Connection, link.connection_id)
        config = service.config_for(connection, **(http_options or {}))
        since, name = link.created_at - timedelta(hours=1), link.template_name
        labels = {p["label"] for p in link.packages}
    adapter = base.make_adapter(config)
    try:
        found = None
        for transfer in adapter.outgoing_transfers(since=since, until=now):
            if transfer.get("Name") == name:
                found = transfer
                break
        if found is None:  # matched by package when the template was renamed in Metrc
            for transfer in adapter.outgoing_transfers(since=since, until=now):
                deliveries = adapter.deliveries(int(transfer["Id"]))
                if any(p.get("PackageLabel") in labels for d in deliveries
                       for p in adapter.delivery_packages(int(d["Id"]))):
                    found = transfer
                    break
    finally:
        adapter.close()
    if found is None:
        return "waiting"
    with unit_of_work() as session:
        order = session.exec(select(Order).where(Order.id == order_id).with_for_update()).one()
        link = session.exec(select(TransferLink).where(TransferLink.id == link.id).with_for_update()).one()
        if link.status not in ("template_created", "manifested"):
            return "unchanged"  # received, closed or followed by another run meanwhile
        result = "unchanged"
        if link.manifest_number is None:
            LINK_LIFECYCLE.move(session, link, "manifested", manifest_number=found.get("ManifestNumber"),
                                transfer_id=found.get("Id"), why=f"manifest {found.get('ManifestNumber')}")
            order.manifest_number = link.manifest_number
            session.add_all([link, order])
            order_event(session, order, f"Metrc manifest {link.manifest_number}: the transfer is registered")
            result = "manifested"
        departed = found.get("ActualDepartureDateTime")
        if OrderStatus(order.status) not in (OrderStatus.pending, OrderStatus.confirmed):
            # shipped by hand, received, cancelled or disputed: nothing left to follow
            LINK_LIFECYCLE.move(session, link, "in_transit" if OrderStatus(order.status) == OrderStatus.in_transit
                                else "closed", why=f"the order is {OrderStatus(order.status).value.replace('_', ' ')}")
        elif departed and OrderStatus(order.status) == OrderStatus.confirmed:
            if orders.why_not(order, "ship") is None:
                orders.transition(session, order, "ship", party="seller", actor_id=None,
                                  note=f"Metrc transfer departed (manifest {link.manifest_number})")
                LINK_LIFECYCLE.move(session, link, "in_transit", why="the transfer departed")
                result = "in_transit"
            else:
                order_event(session, order, f"Metrc transfer departed but the order cannot ship yet: "
                                            f"{orders.why_not(order, 'ship')}")
        return result


def links_to_follow(session: Session) -> list[uuid.UUID]:
    return list(session.exec(select(TransferLink.order_id).where(
        col(TransferLink.status).in_(["template_created", "manifested"]))))


# ----------------------------------------------------------------------------------------------- 4. receive


@dataclass
class Decision:
    label: str
    accept: bool
    reason: str = ""
    retail_price: Decimal | None = None


def _decisions(raw: list[Decision], delivered: dict[str, dict]) -> list[Decision]:
    by_label: dict[str, Decision] = {}
    for decision in raw:
        label = (decision.label or "").strip().upper()
        if label not in delivered:
            raise ValidationFailed(f"Package {preflight.short(label) or '(empty)'} is not on this Metrc delivery.",
                                   field="packages")
        if not decision.accept and not (decision.reason or "").strip():
            raise ValidationFailed(f"Say why package {preflight.short(label)} is rejected.", field="reason")
        if decision.retail_price is not None and decision.retail_price <= 0:
            raise ValidationFailed("A retail price is more than zero.", field="retail_price")
        by_label[label] = Decision(label, decision.accept, (decision.reason or "").strip()[:300],
                                   decision.retail_price)
    missing = [preflight.short(label) for label in delivered if label not in by_label]
    if missing:
        raise ValidationFailed(f"Decide on every package of the delivery (full receipt only): {', '.join(missing)} "
                               "left.", field="packages")
    return list(by_label.values())


def receive_order(principal: Principal, order_id: uuid.UUID, decisions: list[Decision], *,
                  http_options: dict | None = None) -> dict:
    """The buyer receives: every package of the Metrc delivery accepted (whole) or rejected with a reason; accepted
    ones reach the retail menu. Twice changes nothing (the second call returns the first's result)."""
    from icc_app.exchange import orders

    with unit_of_work(tenant=principal) as session:
        order, party = orders.load(session, principal, order_id)
        if party != "buyer":
            raise Conflict("Only the buyer receives the order.")
        link = session.exec(select(TransferLink).where(TransferLink.order_id == order_id)).first()
        if link is not None and link.status == "received":
            return receipt_json(link, order)
        if OrderStatus(order.status) != OrderStatus.in_transit:
            raise Conflict(f"A {OrderStatus(order.status).value.replace('_', ' ')} order cannot be received.")
        buyer = metrc_connection(session, order.buyer_business_id)
        manifest = (link.manifest_number if link else None) or order.manifest_number
        if buyer is None or not manifest:
            raise ValidationFailed("Receiving through Metrc needs your Metrc connection and the order's manifest "
                                   "number.", field="manifest_number")
        config = service.config_for(buyer, **(http_options or {}))
        since = order.created_at - timedelta(days=1)
    adapter = base.make_adapter(config)
    try:
        transfer = next((t for t in adapter.incoming_transfers(since=since, until=datetime.now(UTC) + timedelta(
            minutes=5)) if t.get("ManifestNumber") == manifest), None)
        if transfer is None:
            raise NotFound(f"Metrc shows no incoming transfer with manifest {manifest} for license "
                           f"{adapter.license_number}.")
        delivered = {p["PackageLabel"]: p for d in adapter.deliveries(int(transfer["Id"]))
                     for p in adapter.delivery_packages(int(d["Id"]))}
    finally:
        adapter.close()
    chosen = _decisions(decisions, delivered)
    with unit_of_work(tenant=principal) as session:
        order, party = orders.load(session, principal, order_id, lock=True)
        link = session.exec(select(TransferLink).where(TransferLink.order_id == order_id)).first()
        if link is not None and link.status == "received":
            return receipt_json(link, order)  # a concurrent receipt finished first
        if link is None:
            link = TransferLink(order_id=order.id, business_id=order.seller_business_id,
                                buyer_business_id=order.buyer_business_id, template_name=order.reference,
                                manifest_number=manifest, transfer_id=transfer.get("Id"), packages=[])
        buyer = metrc_connection(session, order.buyer_business_id)
        link.buyer_connection_id = buyer.id
        lot = session.get(Lot, order.lot_id)
        states, accepted_qty, notes, records = [], Decimal("0"), [], []
        for decision in chosen:
            package = delivered[decision.label]
            quantity = Decimal(str(package.get("ShippedQuantity") or 0))
            unit = package.get("ShippedUnitOfMeasureName") or ""
            state = {"label": decision.label, "quantity": preflight.qty(quantity), "unit": unit,
                     "state": "accepted" if decision.accept else "rejected",
                     "reason": decision.reason or None}
            states.append(state)
            if decision.accept:
                ordered = next((Decimal(p["quantity"]) for p in link.packages if p["label"] == decision.label), None)
                accepted_qty += ordered if ordered is not None else order.quantity
                record, priced = _menu_record(package, lot, order, decision, quantity, unit)
                records.append(record)
                notes.append(f"package {preflight.short(decision.label)} accepted ({preflight.qty(quantity)} {unit})"
                             + ("; menu priced at keystone (2x cost): edit the price" if not priced else ""))
            else:
                notes.append(f"package {preflight.short(decision.label)} rejected: {decision.reason}")
        for note in notes:
            order_event(session, order, f"Metrc receipt: {note}", party="buyer", actor_id=principal.user_id)
        LINK_LIFECYCLE.move(session, link, "received", packages=states, actor_id=principal.user_id,
                            why=f"{sum(1 for p in states if p['state'] == 'accepted')} of {len(states)} packages accepted")
        menu_note = _restock_menu(session, buyer, records, order)
        if menu_note:
            order_event(session, order, menu_note, party="buyer", actor_id=principal.user_id)
        if accepted_qty > 0:
            orders.act(session, principal=principal, order_id=order.id, verb="receive",
                       received_qty=min(accepted_qty, order.quantity),
                       note="received through Metrc (confirm the receipt in Metrc's receiving screen)")
        else:
            _tell(session, order, f"Order {order.reference}: every package was rejected",
                  "; ".join(notes))
        session.flush()
        return receipt_json(link, order)


def _menu_record(package: dict, lot: Lot | None, order: Order, decision: Decision, quantity: Decimal,
                 unit: str) -> tuple[MenuRecord, bool]:
    kind = product_type(package.get("ItemCategoryName"))
    grams = preflight.to_base(quantity, unit)
    if grams is not None and grams[0] == "weight":
        shelf_units = int(grams[1] // EIGHTH_G)
        cost = order.total / shelf_units if shelf_units else order.total
        variants = [{"label": "3.5g", "weight_g": 3.5}]
    else:
        shelf_units = int(quantity)
        cost = order.total / shelf_units if shelf_units else order.total
        variants = []
    price = decision.retail_price or (cost * KEYSTONE).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    for variant in variants:
        variant["price"] = float(price)
    thc = _pct(package.get("ItemUnitThcPercent")) or (lot.thc_pct if lot else None)
    cbd = _pct(package.get("ItemUnitCbdPercent")) or (lot.cbd_pct if lot else None)
    values = {"name": package.get("ItemName") or (lot.title if lot else decision.label),
              "brand": package.get("ItemBrandName"), "category": MENU_CATEGORY.get(kind, "other"),
              "strain_name": package.get("ItemStrainName") or (lot.strain_name if lot else None),
              "strain_type": str(lot.strain_type) if lot else None, "thc_min": thc, "thc_max": thc, "thc_unit": "%",
              "cbd_min": cbd, "cbd_max": cbd, "cbd_unit": "%", "price": price, "variants": variants,
              "in_stock_qty": shelf_units}
    return (MenuRecord(external_id=decision.label, values=values, raw={"metrc_delivery_package": package},
                       inventory=InventoryRecord(quantity=grams[1] if variants else quantity,
                                                 unit="g" if variants else "each",
                                                 unit_cost=cost.quantize(Decimal("0.01")),
                                                 package_label=decision.label)),
            decision.retail_price is not None)


def _restock_menu(session: Session, buyer: Connection, records: list[MenuRecord], order: Order) -> str | None:
    from icc_app.integrations import apply
    from icc_app.maps.models import MenuItem

    if not records:
        return None
    if buyer.dispensary_id is None:
        return ("Menu not updated: choose which of your dispensaries the Metrc connection feeds "
                "(Point of sale > Metrc > Settings).")
    counts = apply.Counts()
    apply.apply_menu(session, buyer, records, counts, complete=False)
    items = session.exec(select(MenuItem).where(MenuItem.dispensary_id == buyer.dispensary_id,
                                                MenuItem.source == "metrc",
                                                col(MenuItem.external_id).in_([r.external_id for r in records])))
    for item in items:
        if item.lot_id != order.lot_id:
            item.lot_id = order.lot_id  # the lot's CQI badge follows the product onto the menu
            session.add(item)
    return (f"Retail menu: {counts.created} item(s) created, {counts.updated} restocked with the lab data"
            + (f"; skipped: {counts.errors}" if getattr(counts, "errors", None) else ""))


def receipt_json(link: TransferLink, order: Order) -> dict:
    return {"order_id": str(order.id), "status": OrderStatus(order.status).value, "manifest_number":
            link.manifest_number, "template_name": link.template_name, "template_id": link.template_id,
            "transfer_status": link.status, "packages": link.packages}


def transfer_for(session: Session, principal: Principal, order_id: uuid.UUID) -> dict | None:
    """The Metrc side of an order, for either party's order page."""
    from icc_app.exchange import orders

    order, _party = orders.load(session, principal, order_id)
    require_member(principal, order.buyer_business_id if principal.membership(order.buyer_business_id)
                   else order.seller_business_id, product=Product.exchange)
    link = session.exec(select(TransferLink).where(TransferLink.order_id == order_id)).first()
    if link is None:
        return None
    return {**receipt_json(link, order), "recipient_license": link.recipient_license,
            "last_error": link.last_error}


_ = re  # reserved for tag parsing helpers
