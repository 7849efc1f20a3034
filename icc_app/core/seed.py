"""Demo data for the embedded mode and for trying the platform: idempotent, safe to run twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from icc_app.core import notifications
from icc_app.identity import service as identity
from icc_app.identity.models import (
    Business,
    BusinessLicense,
    BusinessType,
    Product,
    Role,
    User,
    UserKind,
    Verification,
)


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    who: str


DEMO_PASSWORD = "Demo-pass-2026"
DEMO_LOGINS = [
    DemoLogin("admin@icc.demo", DEMO_PASSWORD, "platform administrator"),
    DemoLogin("grower@icc.demo", DEMO_PASSWORD, "Admin of Evergreen Farms (cultivator, WA)"),
    DemoLogin("buyer@icc.demo", DEMO_PASSWORD, "Admin of Capitol Hill Cannabis (retailer, WA)"),
    DemoLogin("staff@icc.demo", DEMO_PASSWORD, "Staff at Evergreen Farms (exchange only)"),
    DemoLogin("consumer@icc.demo", DEMO_PASSWORD, "consumer 'hazy_hiker'"),
]


def _user(session: Session, email: str, name: str, **kwargs) -> tuple[User, bool]:
    existing = identity.find_user_by_email(session, email)
    if existing:
        return existing, False
    return identity.create_user(session, email=email, password=DEMO_PASSWORD, display_name=name, email_verified=True,
                                **kwargs), True


def _demo_license(session: Session, business: Business, *, number: str, license_type: str, days: int) -> None:
    """Demo licenses are verified up front (the real registry may not be at hand in `make run`)."""
    from datetime import date, timedelta

    from icc_app.core.models import utcnow

    session.add(BusinessLicense(business_id=business.id, license_number=number, state="WA", license_type=license_type,
                                expires_on=date.today() + timedelta(days=days), verification=Verification.verified,
                                verified_by="seed", verified_at=utcnow(),
                                verification_reasons=["Demo workspace license, verified by the seed."]))


def seed_demo(session: Session) -> list[DemoLogin]:
    admin, _ = _user(session, "admin@icc.demo", "Avery Admin", is_platform_admin=True)
    grower, new_grower = _user(session, "grower@icc.demo", "Gale Grower")
    buyer, new_buyer = _user(session, "buyer@icc.demo", "Blair Buyer")
    staff, new_staff = _user(session, "staff@icc.demo", "Sam Staff")
    _user(session, "consumer@icc.demo", "hazy_hiker", kind=UserKind.consumer, handle="hazy_hiker",
          birth_date=date(1992, 4, 20))
    if new_grower:
        farm = identity.create_business(
            session, legal_name="Evergreen Farms LLC", dba="Evergreen Farms", business_type=BusinessType.cultivator,
            owner=grower, street="1200 Orchard Rd", city="Yakima", state="WA", postal_code="98901",
        )
        _demo_license(session, farm, number="412345", license_type="Producer Tier 2", days=365)
        if new_staff:
            identity.add_member(
                session, business=farm, user=staff, role=Role.staff, products=[Product.exchange.value], actor_id=grower.id
            )
    if new_buyer:
        shop = identity.create_business(
            session,
            legal_name="Capitol Hill Cannabis Inc",
            dba="Capitol Hill Cannabis",
            business_type=BusinessType.retailer,
            owner=buyer,
            street="500 E Pine St",
            city="Seattle",
            state="WA",
            postal_code="98122",
        )
        _demo_license(session, shop, number="415678", license_type="Adult-Use Retailer", days=45)
    if not session.exec(select(Business)).first():
        raise RuntimeError("demo seed created no business")
    from icc_app.labs.registry import seed_known_labs

    seed_known_labs(session)
    for user in (admin, grower, buyer):
        if new_grower or new_buyer:
            notifications.notify(
                session,
                user_id=user.id,
                email=None,
                kind="platform.welcome",
                title="Welcome to ICC",
                body="This is the demo workspace. Your notifications appear here.",
                link="/",
            )
    return DEMO_LOGINS


DEMO_LOTS = [
    # (COA file under ../shared/data/coas, title, product type, strain type, quantity, unit, min order, price)
    ("confident-cannabis/GDP.pdf", "Granddaddy Purple, indoor flower", "flower", "indica", "80", "lb", "5", "1150.00"),
    ("sc-labs/Cherry Punch.pdf", "Cherry Punch, greenhouse flower", "flower", "hybrid", "40", "lb", "2", "980.00"),
]


def seed_exchange_demo(shared_coas) -> int:
    """Listed demo lots for Evergreen Farms, each with a real COA parsed now. Needs the shared COA files; runs
    once (skipped when the farm already has lots). Returns how many lots it listed."""
    from sqlmodel import select as sql_select

    from icc_app.core.db import unit_of_work
    from icc_app.exchange import lots
    from icc_app.exchange.lots import LotInput
    from icc_app.exchange.models import Lot
    from icc_app.labs import service as labs
    from icc_app.labs import tasks as labs_tasks

    with unit_of_work() as session:
        grower = identity.find_user_by_email(session, "grower@icc.demo")
        farm = session.exec(sql_select(Business).where(Business.legal_name == "Evergreen Farms LLC")).first()
        if grower is None or farm is None or session.exec(sql_select(Lot.id).where(Lot.business_id == farm.id)).first():
            return 0
        principal = identity.build_principal(session, grower)
    listed = 0
    for filename, title, kind, strain_type, quantity, unit, minimum, price in DEMO_LOTS:
        path = shared_coas / filename
        if not path.is_file():
            continue
        strain = title.split(",")[0]
        with unit_of_work() as session:
            lot = lots.create_lot(session, principal=principal, business_id=farm.id, data=LotInput(
                title=title, product_type=kind, strain_name=strain, strain_type=strain_type, quantity=quantity,
                unit=unit, min_order_qty=minimum, price_per_unit=price, description=f"{strain} from Evergreen Farms.",
                delivery_terms="Delivered in WA within 3 business days"))
        with unit_of_work() as session:
            doc = labs.upload_coa(session, principal, business_id=farm.id, data=path.read_bytes(), filename=path.name,
                                  lot_id=lot.id)
        labs_tasks.parse_document(doc.id)
        with unit_of_work() as session:
            lots.publish(session, principal=principal, lot_id=lot.id)
        listed += 1
    return listed


DEMO_STORE_HOURS = {day: ["08:00", "23:00"] for day in ("monday", "tuesday", "wednesday", "thursday", "friday",
                                                         "saturday", "sunday")}


def seed_maps_demo(shared_data) -> str | None:
    """ICC Maps demo: the WA retail licensees as dispensaries (read in place from the shared lists), and Capitol
    Hill Cannabis (the demo retailer) claimed, with hours and a live menu built from a real Dutchie menu capture.
    Runs once; returns what it did."""
    import json

    from sqlmodel import select as sql_select

    from icc_app.core.db import unit_of_work
    from icc_app.integrations.dutchie.mapping import menu_item_values
    from icc_app.maps.menus import sync_items
    from icc_app.maps.models import Dispensary
    from icc_app.maps.service import import_dispensaries

    done = []
    wa_list = shared_data / "licenses" / "licenses-wa-latest.csv"
    with unit_of_work() as session:
        if wa_list.is_file() and not session.exec(sql_select(Dispensary.id).where(Dispensary.state == "WA")).first():
            done.append(import_dispensaries(session, wa_list.read_bytes(), state="WA").summary())
        shop = session.exec(sql_select(Business).where(Business.legal_name == "Capitol Hill Cannabis Inc")).first()
        if shop is None or session.exec(sql_select(Dispensary.id).where(Dispensary.license_number == "415678")).first():
            return "; ".join(done) or None
        store = Dispensary(name="Capitol Hill Cannabis", dba="Capitol Hill Cannabis", license_number="415678",
                           state="WA", street="500 E Pine St", city="Seattle", postal_code="98122", latitude=47.6154,
                           longitude=-122.3252, geo_source="demo", geo_confidence=1.0, phone="(206) 555-0142",
                           hours=DEMO_STORE_HOURS, services=["pickup", "adult_use"], slug="capitol-hill-cannabis-415678",
                           city_slug="seattle", claimed_by_business_id=shop.id)
        session.add(store)
        session.flush()
        capture = shared_data / "menus" / "shopcuzzies_products.json"
        if capture.is_file():
            items = [menu_item_values(p) for p in json.loads(capture.read_text())]
            saved, _ = sync_items(session, dispensary_id=store.id, source="dutchie", items=items)
            done.append(f"Capitol Hill Cannabis claimed, {saved} menu items from a real Dutchie menu")
        store_id = store.id
    if _link_demo_lot(store_id):
        done.append("a menu item from an exchange lot it bought (with its CQI)")
    return "; ".join(done) or None


def _complete_demo_order(order_id, *, buyer, grower) -> None:
    """The demo trade runs to the end, as the README tells it: confirmed, paid (both marks), shipped with its
    manifest, received. Evergreen Farms' record then shows a completed order."""
    from icc_app.core.db import unit_of_work
    from icc_app.exchange import orders
    from icc_app.exchange.models import Order

    with unit_of_work() as session:
        total = session.get(Order, order_id).total
        orders.act(session, principal=grower, order_id=order_id, verb="confirm")
        orders.mark_payment_sent(session, principal=buyer, order_id=order_id, reference="WIRE-DEMO-0001", amount=total)
        orders.mark_payment_received(session, principal=grower, order_id=order_id, amount=total)
        orders.act(session, principal=grower, order_id=order_id, verb="ship", manifest_number="0000012345",
                   carrier="Evergreen Farms van")
        orders.act(session, principal=buyer, order_id=order_id, verb="receive", note="Demo order: all there.")


def _link_demo_lot(store_id) -> bool:
    """Capitol Hill Cannabis buys Evergreen Farms' demo Cherry Punch lot on the exchange and sells it by the eighth:
    the menu item shows the lot's CQI and lab terpenes. Needs the demo lots (skipped without them)."""
    from sqlmodel import select as sql_select

    from icc_app.core.db import unit_of_work
    from icc_app.exchange import offers
    from icc_app.exchange.models import Lot, LotStatus
    from icc_app.maps.menus import upsert_item

    with unit_of_work() as session:
        farm = session.exec(select(Business).where(Business.legal_name == "Evergreen Farms LLC")).first()
        shop = session.exec(select(Business).where(Business.legal_name == "Capitol Hill Cannabis Inc")).first()
        lot = farm and session.exec(sql_select(Lot).where(Lot.business_id == farm.id, Lot.status == LotStatus.active,
                                                          Lot.title.startswith("Cherry Punch"))).first()
        if not (lot and shop):
            return False
        buyer = identity.build_principal(session, identity.find_user_by_email(session, "buyer@icc.demo"))
        grower = identity.build_principal(session, identity.find_user_by_email(session, "grower@icc.demo"))
        offer = offers.make_offer(session, principal=buyer, buyer_business_id=shop.id, lot_id=lot.id,
                                  quantity=lot.min_order_qty, price_per_unit=lot.price_per_unit,
                                  message="For our shelves: demo order.")
        lot_id = lot.id
    with unit_of_work() as session:
        order = offers.accept(session, principal=grower, offer_id=offer.id)
    _complete_demo_order(order.id, buyer=buyer, grower=grower)
    with unit_of_work() as session:
        upsert_item(session, principal=buyer, dispensary_id=store_id, external_id="CCX-CHERRY-PUNCH",
                    row={"name": "Cherry Punch 3.5g", "brand": "Evergreen Farms", "category": "flower",
                         "strain_name": "Cherry Punch", "strain_type": "hybrid", "price": "42", "weight_g": "3.5",
                         "in_stock_qty": "18", "lot_id": str(lot_id)})
    return True
