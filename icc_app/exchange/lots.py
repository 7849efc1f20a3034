"""Lots and their listings: create and edit (drafts), attach COAs and photos, and the listing status machine
draft -> active -> paused / sold out / expired / withdrawn.

A lot is listed only by a verified seller and only with a parsed COA; its lab values (THC, terpenes, safety) are
copied from that COA for search, and refreshed whenever one of its COAs is parsed again.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from icc_app.core import audit
from icc_app.core.db import enqueue
from icc_app.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from icc_app.core.models import utcnow
from icc_app.core.storage import get_storage
from icc_app.core.validation import money, quantity, safe_text
from icc_app.exchange import idempotency, scoping
from icc_app.exchange.common import seller
from icc_app.exchange.models import Lot, LotEvent, LotPhoto, LotStatus, ProductType, StrainType, Unit
from icc_app.identity.models import BusinessLicense, LicenseRegistryEntry, LicenseStatus, Verification
from icc_app.identity.schemas import Principal
from icc_app.integrations.partners import events as partner_events
from icc_app.labs.models import CoaDocument, CoaStatus

METRC_TAG_RE = re.compile(r"^[0-9A-Z]{24}$")
LISTING_DAYS = 30
CORE_PANELS = ("pesticides_status", "heavy_metals_status", "microbials_status", "mycotoxins_status")
OPTIONAL_PANELS = ("residual_solvents_status", "foreign_matter_status")

# Which verb may move a lot from which status, and by whom ("seller" or "system").
TRANSITIONS: dict[str, tuple[set[LotStatus], LotStatus, str]] = {
    "publish": ({LotStatus.draft, LotStatus.paused, LotStatus.expired}, LotStatus.active, "seller"),
    "pause": ({LotStatus.active}, LotStatus.paused, "seller"),
    "withdraw": ({LotStatus.draft, LotStatus.active, LotStatus.paused, LotStatus.expired, LotStatus.sold_out},
                 LotStatus.withdrawn, "seller"),
    "sell_out": ({LotStatus.active, LotStatus.paused}, LotStatus.sold_out, "system"),
    "restock": ({LotStatus.sold_out}, LotStatus.active, "system"),
    "expire": ({LotStatus.active}, LotStatus.expired, "system"),
    "suspend": ({LotStatus.active}, LotStatus.paused, "system"),
}


def qty_text(value: Decimal) -> str:
    """40.000 -> '40', 12.500 -> '12.5' (never '4E+1')."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def decimal(value, field: str, *, places: int = 3) -> Decimal:
    """A form's number, checked by core/validation before anything is rounded: places=2 is money (0.01 to
    MAX_MONEY), places=3 a quantity (more than 0, up to MAX_QUANTITY); ValidationFailed names the field."""
    return money(value, field) if places == 2 else quantity(value, field)


@dataclass
class LotInput:
    title: str
    product_type: str
    strain_name: str
    strain_type: str
    quantity: object
    unit: str
    min_order_qty: object
    price_per_unit: object
    harvest_date: date | None = None
    package_date: date | None = None
    metrc_tag: str | None = None
    description: str = ""
    delivery_terms: str = ""
    require_proof_of_funds: bool = False


def _validated(data: LotInput) -> dict:
    title = safe_text(data.title, "title", max_length=200)
    if len(title) < 3:
        raise ValidationFailed("Give the lot a title buyers will recognise.", field="title")
    try:
        product_type, strain_type, unit = ProductType(data.product_type), StrainType(data.strain_type), Unit(data.unit)
    except ValueError as exc:
        raise ValidationFailed(f"Unknown value: {exc}.", field="product_type") from None
    strain = safe_text(data.strain_name, "strain_name", max_length=120)
    if not strain:
        raise ValidationFailed("Enter the strain name.", field="strain_name")
    quantity = decimal(data.quantity, "quantity")
    min_order = decimal(data.min_order_qty, "min_order_qty")
    if min_order > quantity:
        raise ValidationFailed("The minimum order cannot be more than the quantity.", field="min_order_qty")
    price = decimal(data.price_per_unit, "price_per_unit", places=2)
    tag = safe_text(data.metrc_tag, "metrc_tag", max_length=24).upper() or None
    if tag and not METRC_TAG_RE.match(tag):
        raise ValidationFailed("A Metrc package tag is 24 letters and digits, e.g. 1A4FF0100000022000000123.",
                               field="metrc_tag")
    today = date.today()
    for field, value in (("harvest_date", data.harvest_date), ("package_date", data.package_date)):
        if value and value > today:
            raise ValidationFailed("This date is in the future.", field=field)
    if data.harvest_date and data.package_date and data.package_date < data.harvest_date:
        raise ValidationFailed("Packaged before it was harvested?", field="package_date")
    return dict(title=title, product_type=product_type, strain_name=strain, strain_type=strain_type,
                quantity=quantity, min_order_qty=min_order, unit=unit, price_per_unit=price,
                harvest_date=data.harvest_date, package_date=data.package_date, metrc_tag=tag,
                description=safe_text(data.description, "description", max_length=5000),
                delivery_terms=safe_text(data.delivery_terms, "delivery_terms", max_length=500),
                require_proof_of_funds=bool(data.require_proof_of_funds))


def _premises(session: Session, business_id: uuid.UUID) -> tuple[float | None, float | None, str | None]:
    """The seller's licensed premises, from the registry row its verified license matched."""
    row = session.exec(select(LicenseRegistryEntry).join(
        BusinessLicense, col(BusinessLicense.registry_entry_id) == LicenseRegistryEntry.id
    ).where(BusinessLicense.business_id == business_id, BusinessLicense.verification == Verification.verified)).first()
    if row is not None:
        return row.latitude, row.longitude, row.state
    lic = session.exec(select(BusinessLicense).where(BusinessLicense.business_id == business_id)).first()
    return None, None, lic.state if lic else None


def create_lot(session: Session, *, principal: Principal, business_id: uuid.UUID, data: LotInput,
               idempotency_key: str | None = None) -> Lot:
    """A draft lot; a repeat of the same idempotency key (a double click) returns the first one."""
    seller(principal, business_id)
    values = _validated(data)  # before the key is claimed: refused input leaves nothing behind
    earlier = idempotency.claim(session, business_id=business_id, key=idempotency_key, action="lot.create")
    if earlier is not None:
        return session.exec(scoping.writable_lots(principal).where(Lot.id == earlier)).one()
    latitude, longitude, state = _premises(session, business_id)
    lot = Lot(business_id=business_id, created_by=principal.user_id, available_qty=values["quantity"],
              latitude=latitude, longitude=longitude, state=state, **values)
    session.add(lot)
    session.flush()
    idempotency.settle(session, business_id=business_id, key=idempotency_key, object_id=lot.id)
    audit.record(session, action="exchange.lot.created", object_type="lot", object_id=lot.id,
                 actor_id=principal.user_id, business_id=business_id,
                 after={k: v for k, v in values.items() if k != "description"})
    return lot


def own_lot(session: Session, principal: Principal, lot_id: uuid.UUID, *, lock: bool = False) -> Lot:
    """A lot of one of the principal's businesses, for the seller's actions; another tenant's lot is a 404."""
    query = scoping.writable_lots(principal).where(Lot.id == lot_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    lot = session.exec(query).first()
    if lot is None:
        raise NotFound("Lot not found.")
    seller(principal, lot.business_id)
    return lot


def update_lot(session: Session, *, principal: Principal, lot_id: uuid.UUID, data: LotInput, version: int) -> Lot:
    """Edit a lot; `version` is what the editor saw, so two people editing at once cannot overwrite each other."""
    lot = own_lot(session, principal, lot_id, lock=True)
    if lot.version != version:
        raise Conflict("Someone else changed this lot meanwhile. Reload it and make your change again.")
    if LotStatus(lot.status) in (LotStatus.withdrawn, LotStatus.sold_out):
        raise Conflict(f"A {LotStatus(lot.status).value.replace('_', ' ')} lot cannot be edited.")
    values = _validated(data)
    sold = lot.quantity - lot.available_qty
    if values["quantity"] < sold:
        raise ValidationFailed(f"{sold} {lot.unit} are already sold: the quantity cannot go below that.",
                               field="quantity")
    before = {k: getattr(lot, k) for k in values if k != "description"}
    for key, value in values.items():
        setattr(lot, key, value)
    lot.available_qty = values["quantity"] - sold
    lot.version += 1
    session.add(lot)
    if LotStatus(lot.status) == LotStatus.active and lot.available_qty < lot.min_order_qty:
        transition(session, lot, "sell_out", actor_id=principal.user_id, note="less than a minimum order left")
    enqueue(session, "quality.score_lot", str(lot.id))  # a changed lot may score differently
    audit.record(session, action="exchange.lot.updated", object_type="lot", object_id=lot.id,
                 actor_id=principal.user_id, business_id=lot.business_id, before=before,
                 after={k: v for k, v in values.items() if k != "description"})
    partner_events.lot_changed(session, lot)
    return lot


def transition(session: Session, lot: Lot, verb: str, *, actor_id: uuid.UUID | None, note: str = "") -> Lot:
    allowed_from, target, _ = TRANSITIONS[verb]
    current = LotStatus(lot.status)
    if current not in allowed_from:
        raise Conflict(f"A {current.value.replace('_', ' ')} lot cannot be {verb.replace('_', ' ')}ed.")
    lot.status, lot.status_reason = target, note[:300] or None
    if target == LotStatus.active and verb == "publish":
        lot.listed_at = utcnow()
        lot.listing_expires_at = utcnow() + timedelta(days=LISTING_DAYS)
    session.add(lot)
    session.add(LotEvent(lot_id=lot.id, actor_id=actor_id, from_status=current.value, to_status=target.value,
                         note=note[:500]))
    audit.record(session, action=f"exchange.lot.{verb}", object_type="lot", object_id=lot.id, actor_id=actor_id,
                 business_id=lot.business_id, before={"status": current.value},
                 after={"status": target.value, "note": note})
    partner_events.lot_changed(session, lot, listed=verb == "publish")
    return lot


def parsed_coa(session: Session, lot: Lot) -> CoaDocument | None:
    """The newest parsed COA of the lot (of the lot's own business: another business's file never counts)."""
    return session.exec(select(CoaDocument).where(
        CoaDocument.lot_id == lot.id, CoaDocument.business_id == lot.business_id,
        CoaDocument.status == CoaStatus.parsed,
    ).order_by(col(CoaDocument.date_tested).desc().nulls_last(), col(CoaDocument.created_at).desc())).first()


def safety_verdict(coa: CoaDocument) -> bool | None:
    """False when any panel failed; True only when the core panels were all tested and passed; else None."""
    statuses = {p: (getattr(coa, p) or "").lower() for p in CORE_PANELS + OPTIONAL_PANELS}
    if any(s == "fail" for s in statuses.values()):
        return False
    if all(statuses[p] == "pass" for p in CORE_PANELS):
        return True
    return None


def sync_lab_values(session: Session, lot: Lot) -> bool:
    """Copy the lab values of the lot's parsed COA onto it; True when it has one."""
    coa = parsed_coa(session, lot)
    if coa is None:
        lot.coa_id = None
        lot.thc_pct = lot.cbd_pct = lot.terpenes_pct = lot.safety_passed = lot.tested_on = None
    else:
        lot.coa_id, lot.thc_pct, lot.cbd_pct = coa.id, coa.total_thc_pct, coa.total_cbd_pct
        lot.terpenes_pct, lot.safety_passed, lot.tested_on = coa.total_terpenes_pct, safety_verdict(coa), coa.date_tested
    session.add(lot)
    return coa is not None


def _squashed(name: str | None) -> str:
    """Lower case, letters and digits only: "Granddaddy Purple #4" -> "granddaddypurple4"."""
    return re.sub(r"[^0-9a-z]", "", (name or "").lower())


@dataclass(frozen=True)
class StrainCheck:
    sample_name: str  # what the lab printed as the sample ("" when it could not be read)
    matches: bool | None  # None: no sample name to compare


def strain_check(lot: Lot, coa: CoaDocument | None) -> StrainCheck:
    """Does the COA's sample name name the lot's strain? Compared without case, spaces or punctuation, so
    "GRANDDADDY PURPLE - flower" matches "Granddaddy Purple"; a COA of another strain is flagged to the buyer."""
    sample = (coa.sample_name or "").strip() if coa is not None else ""
    strain = _squashed(lot.strain_name)
    if not sample or not strain:
        return StrainCheck(sample, None)
    squashed = _squashed(sample)
    return StrainCheck(sample, strain in squashed or (len(squashed) >= 4 and squashed in strain))


def publish(session: Session, *, principal: Principal, lot_id: uuid.UUID) -> Lot:
    from icc_app.labs.service import coa_ready_for_listing  # late: labs reads exchange models

    lot = own_lot(session, principal, lot_id, lock=True)
    if not sync_lab_values(session, lot):
        newest = session.exec(select(CoaDocument.id).where(CoaDocument.lot_id == lot.id,
                                                           CoaDocument.business_id == lot.business_id)
                              .order_by(col(CoaDocument.created_at).desc())).first()
        problem = coa_ready_for_listing(session, newest) if newest else None
        raise ValidationFailed(problem or "Attach the lot's COA and wait for it to be parsed before listing it.",
                               field="coa")
    if problem := coa_ready_for_listing(session, lot.coa_id):  # e.g. a parse with no potency or no test date
        raise ValidationFailed(problem, field="coa")
    if lot.safety_passed is False:
        raise ValidationFailed("The COA shows a failed safety panel: this lot cannot be listed.", field="coa")
    if lot.available_qty < lot.min_order_qty:
        raise ValidationFailed("Less is left than the minimum order.", field="min_order_qty")
    transition(session, lot, "publish", actor_id=principal.user_id)
    enqueue(session, "quality.score_lot", str(lot.id))
    return lot


def _note(note: str | None) -> str:
    """A seller's reason for pausing or withdrawing: it becomes the lot's status_reason (300 characters)."""
    return safe_text(note, "note", max_length=300)


def pause(session: Session, *, principal: Principal, lot_id: uuid.UUID, note: str = "") -> Lot:
    note = _note(note)
    return transition(session, own_lot(session, principal, lot_id, lock=True), "pause", actor_id=principal.user_id,
                       note=note)


def withdraw(session: Session, *, principal: Principal, lot_id: uuid.UUID, note: str = "") -> Lot:
    note = _note(note)
    return transition(session, own_lot(session, principal, lot_id, lock=True), "withdraw",
                      actor_id=principal.user_id, note=note)


def add_photo(session: Session, *, principal: Principal, lot_id: uuid.UUID, data: bytes, filename: str) -> LotPhoto:
    filename = safe_text(filename, "photo", max_length=1000)[:255] or "photo"  # a long name is cut, NUL refused
    lot = own_lot(session, principal, lot_id)
    count = len(session.exec(select(LotPhoto.id).where(LotPhoto.lot_id == lot.id)).all())
    if count >= 12:
        raise ValidationFailed("A lot has at most 12 photos.", field="photo")
    stored = get_storage().save("lot_photos", data, filename=filename)
    photo = LotPhoto(lot_id=lot.id, storage_key=stored.key, filename=filename, position=count)
    session.add(photo)
    session.flush()
    enqueue(session, "exchange.make_thumbnail", str(photo.id))
    audit.record(session, action="exchange.lot.photo_added", object_type="lot", object_id=lot.id,
                 actor_id=principal.user_id, business_id=lot.business_id, after={"photo": str(photo.id)})
    return photo


def expire_listings(session: Session) -> int:
    """Beat: listings past their window expire (the seller can list them again)."""
    count = 0
    for lot in session.exec(select(Lot).where(Lot.status == LotStatus.active, Lot.listing_expires_at <= utcnow())):
        transition(session, lot, "expire", actor_id=None, note=f"listed for {LISTING_DAYS} days")
        count += 1
    return count


def suspend_unlicensed(session: Session) -> int:
    """Beat: active lots of a business with no license in force are paused until it is renewed."""
    in_force = select(BusinessLicense.business_id).where(BusinessLicense.verification == Verification.verified,
                                                         BusinessLicense.status == LicenseStatus.active)
    count = 0
    for lot in session.exec(select(Lot).where(Lot.status == LotStatus.active, col(Lot.business_id).not_in(in_force))):
        transition(session, lot, "suspend", actor_id=None, note="the seller's license expired or is not verified")
        count += 1
    return count


def list_own(session: Session, *, principal: Principal, business_id: uuid.UUID, limit: int = 100) -> list[Lot]:
    """The business's lots, newest first, for its people with exchange access."""
    from icc_app.identity.models import Product
    from icc_app.identity.permissions import require_member

    require_member(principal, business_id, product=Product.exchange)
    return list(session.exec(scoping.writable_lots(principal).where(Lot.business_id == business_id)
                             .order_by(col(Lot.created_at).desc()).limit(limit)))


def lot_coas(session: Session, *, principal: Principal, lot_id: uuid.UUID) -> list[CoaDocument]:
    """The COAs uploaded for one of the principal's lots, newest first."""
    lot = session.exec(scoping.writable_lots(principal).where(Lot.id == lot_id)).first()
    if lot is None:
        raise NotFound("Lot not found.")
    return list(session.exec(select(CoaDocument).where(CoaDocument.lot_id == lot.id, CoaDocument.business_id == lot.business_id)
                             .order_by(col(CoaDocument.created_at).desc())))


def visible_lot(session: Session, principal: Principal | None, lot_id: uuid.UUID) -> Lot:
    """Buyers see active lots (and lots they hold an offer or order on); sellers see their own in any state."""
    lot = session.exec(scoping.readable_lots(principal).where(Lot.id == lot_id)).first()
    if lot is None:
        raise NotFound("Lot not found.")
    return lot


def require_not_own(principal: Principal, lot: Lot) -> None:
    if principal.membership(lot.business_id) is not None:
        raise PermissionDenied("This is your own lot.")


def coa_file(session: Session, principal: Principal | None, lot_id: uuid.UUID) -> tuple[bytes, str]:
    """The lot's COA PDF for whoever may see the lot (buyers browsing included)."""
    lot = visible_lot(session, principal, lot_id)
    coa = session.get(CoaDocument, lot.coa_id) if lot.coa_id else None
    if coa is None:
        raise NotFound("This lot has no parsed COA.")
    return get_storage().read(coa.storage_key), coa.filename


def photo_file(session: Session, principal: Principal | None, photo_id: uuid.UUID, *, thumbnail: bool = False
               ) -> tuple[bytes, str]:
    photo = session.get(LotPhoto, photo_id)
    if photo is None:
        raise NotFound("Photo not found.")
    visible_lot(session, principal, photo.lot_id)
    key = photo.thumbnail_key if thumbnail and photo.thumbnail_key else photo.storage_key
    return get_storage().read(key), photo.filename


def photos(session: Session, lot_id: uuid.UUID) -> list[LotPhoto]:
    return list(session.exec(select(LotPhoto).where(LotPhoto.lot_id == lot_id).order_by(LotPhoto.position)))


@dataclass(frozen=True)
class Reputation:
    completed: int
    cancelled: int
    disputes: int
    disputes_lost: int

    @property
    def label(self) -> str:
        if self.completed == 0:
            return "New seller"
        return f"{self.completed} completed order{'s' if self.completed != 1 else ''}"


def reputation(session: Session, business_id: uuid.UUID) -> Reputation:
    """What buyers see of a seller's track record on the exchange."""
    from sqlmodel import func

    from icc_app.exchange.models import Dispute, DisputeResolution, Order, OrderStatus

    def count(*conditions) -> int:
        return session.exec(select(func.count()).select_from(Order).where(Order.seller_business_id == business_id,
                                                                          *conditions)).one()

    disputes = session.exec(select(Dispute).join(Order, col(Order.id) == Dispute.order_id)
                            .where(Order.seller_business_id == business_id)).all()
    lost = sum(1 for d in disputes if d.resolution in (DisputeResolution.full_refund, DisputeResolution.partial_refund,
                                                        DisputeResolution.cancel))
    return Reputation(completed=count(Order.status == OrderStatus.received),
                      cancelled=count(Order.status == OrderStatus.cancelled), disputes=len(disputes), disputes_lost=lost)
