"""What the public site reads: a dispensary's menu with each product's CQI (when it is linked to a scored exchange
lot) and review summary, a product's page, where else a product is in stock nearby, and the sitemap."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from icc_app.core.errors import NotFound
from icc_app.core.geo import haversine_miles
from icc_app.maps import service
from icc_app.maps.models import Dispensary, MenuItem, ReviewSummary
from icc_app.maps.schemas import MenuListing, money
from icc_app.ui.format import label

NEARBY_MILES = 25

# Terpene keys as menus send them (squashed: lower case, letters and digits only, Greek letters spelled out) and the
# name a shopper reads.
TERPENE_NAMES = {
    "caryophyllene": "β-Caryophyllene", "betacaryophyllene": "β-Caryophyllene", "bcaryophyllene": "β-Caryophyllene",
    "transcaryophyllene": "β-Caryophyllene", "caryophylleneoxide": "Caryophyllene oxide",
    "pinene": "Pinene", "alphapinene": "α-Pinene", "apinene": "α-Pinene", "betapinene": "β-Pinene",
    "bpinene": "β-Pinene", "limonene": "Limonene", "dlimonene": "D-Limonene", "linalool": "Linalool",
    "myrcene": "Myrcene", "betamyrcene": "β-Myrcene", "bmyrcene": "β-Myrcene", "humulene": "Humulene",
    "alphahumulene": "α-Humulene", "ahumulene": "α-Humulene", "terpinolene": "Terpinolene",
    "ocimene": "Ocimene", "betaocimene": "β-Ocimene", "bocimene": "β-Ocimene", "bisabolol": "Bisabolol",
    "alphabisabolol": "α-Bisabolol", "abisabolol": "α-Bisabolol", "nerolidol": "Nerolidol",
    "transnerolidol": "trans-Nerolidol", "cisnerolidol": "cis-Nerolidol", "eucalyptol": "Eucalyptol",
    "18cineole": "Eucalyptol", "cineole": "Eucalyptol", "geraniol": "Geraniol", "camphene": "Camphene",
    "borneol": "Borneol", "fenchol": "Fenchol", "guaiol": "Guaiol", "valencene": "Valencene",
    "terpineol": "Terpineol", "alphaterpineol": "α-Terpineol", "alphaterpinene": "α-Terpinene",
    "gammaterpinene": "γ-Terpinene", "pcymene": "p-Cymene", "phytol": "Phytol", "farnesene": "Farnesene",
    "isopulegol": "Isopulegol", "sabinene": "Sabinene", "carene": "3-Carene", "3carene": "3-Carene",
    "delta3carene": "3-Carene", "pulegone": "Pulegone", "menthol": "Menthol", "citral": "Citral",
}
_GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta"}


def terpene_name(key: str) -> str:
    """A terpene's readable name from a menu's key ("caryophylleneoxide", "beta_caryophyllene", "d-limonene");
    an unknown key is shown in title case with its separators as spaces."""
    text = (key or "").strip()
    squashed = "".join(_GREEK.get(ch, ch) for ch in text.lower())
    squashed = "".join(ch for ch in squashed if ch.isalnum())
    if squashed in TERPENE_NAMES:
        return TERPENE_NAMES[squashed]
    words = text.replace("_", " ").replace("-", " ").split()
    return " ".join(w[:1].upper() + w[1:] for w in words)


@dataclass(frozen=True)
class Listing:
    """A menu item as a visitor sees it."""

    item: MenuItem
    cqi: float | None
    summary: ReviewSummary | None

    @property
    def top_effects(self) -> list[str]:
        effects = self.summary.effects if self.summary else {}
        return [tag for tag, _ in sorted(effects.items(), key=lambda kv: -kv[1])[:3]]


@dataclass(frozen=True)
class MenuFilter:
    """What a visitor narrows a menu by; None (or empty) means "any"."""

    query: str = ""
    category: str | None = None
    strain_type: str | None = None
    thc_min: float | None = None  # the product's THC reaches this (its upper value)
    thc_max: float | None = None  # the product's THC stays under this (its lower value)
    max_price: float | None = None
    effect: str | None = None  # among the effects reviewers name most

    def keeps(self, *, text: str, category: str, strain_type: str | None, thc_low: float | None,
              thc_high: float | None, price: float | None, effects: list[str]) -> bool:
        """A product without THC or price on file is out of any THC or price range (we cannot say it fits)."""
        query = self.query.strip().lower()
        return not (
            (query and query not in text.lower())
            or (self.category and category != self.category)
            or (self.strain_type and strain_type != self.strain_type)
            or (self.thc_min is not None and (thc_high is None or thc_high < self.thc_min))
            or (self.thc_max is not None and (thc_low is None or thc_low > self.thc_max))
            or (self.max_price is not None and (price is None or price > self.max_price))
            or (self.effect and self.effect not in effects))


def potency_range(low: float | None, high: float | None, unit: str) -> str:
    """"18%", "18-22%", "10mg"; "" when nothing is on file."""
    if low is None:
        return ""
    return f"{low:g}{unit}" if high in (None, low) else f"{low:g}-{high:g}{unit}"


def listing_read(listing: Listing, dispensary: Dispensary, *, cqi_band=None) -> MenuListing:
    """The Read model of a menu item (`cqi_band` names the colour band of a CQI score, from the quality UI)."""
    item, summary = listing.item, listing.summary
    price = money(item.price)
    rated = summary is not None and summary.rating is not None
    return MenuListing(
        id=str(item.id), name=item.name, brand=item.brand or "", category=item.category,
        category_label=label(item.category),
        strain=" · ".join(p for p in (item.strain_name, label(item.strain_type) if item.strain_type else None) if p),
        strain_type=item.strain_type or "",
        thc=f"THC {potency_range(item.thc_min, item.thc_max, item.thc_unit)}" if item.thc_min is not None else "",
        thc_low=item.thc_min, thc_high=item.thc_max if item.thc_max is not None else item.thc_min,
        cbd=f"CBD {potency_range(item.cbd_min, item.cbd_max, item.cbd_unit)}" if item.cbd_min else "",
        price=price, price_text=price.text() if price else "",
        terpenes=" · ".join(f"{terpene_name(t['name'])} {t['pct']:g}%" for t in item.terpenes[:3] if t.get("pct") is not None),
        cqi="" if listing.cqi is None else f"{listing.cqi:.0f}",
        cqi_color=cqi_band(listing.cqi) if cqi_band else "",
        rating=f"{summary.rating:.1f} ★ ({summary.count})" if rated else "",
        rating_value=summary.rating if rated else None, effects=listing.top_effects,
        effects_line=" · ".join(listing.top_effects), href=product_path(dispensary, item))


def product_path(dispensary: Dispensary, item: MenuItem) -> str:
    return f"{service.page_path(dispensary)}/{service.slugify(item.name)[:60]}-{item.id}"


def product_id_from(segment: str) -> uuid.UUID | None:
    try:
        return uuid.UUID((segment or "")[-36:])
    except ValueError:
        return None


def _listings(session: Session, *conditions) -> list[tuple]:
    """(item, CQI of its exchange lot, its review summary) of the active items that meet the conditions."""
    from icc_app.exchange.models import Lot

    query = (select(MenuItem, Lot.cqi_score, ReviewSummary)
             .outerjoin(Lot, col(Lot.id) == MenuItem.lot_id)
             .outerjoin(ReviewSummary, sa.and_(ReviewSummary.target_type == "product",
                                               col(ReviewSummary.target_id) == MenuItem.id))
             .where(MenuItem.is_active == True, *conditions)  # noqa: E712
             .order_by(col(MenuItem.category), col(MenuItem.name)))
    return list(session.exec(query).all())


def open_dispensary(session: Session, dispensary_id: uuid.UUID) -> Dispensary:
    """An active dispensary (404 otherwise)."""
    dispensary = session.get(Dispensary, dispensary_id)
    if dispensary is None or not dispensary.is_active:
        raise NotFound("Dispensary not found.")
    return dispensary


def menu(session: Session, dispensary_id: uuid.UUID) -> list[Listing]:
    """Active, in-stock items by category and name, each with its CQI and review summary."""
    rows = _listings(session, MenuItem.dispensary_id == dispensary_id, MenuItem.in_stock_qty > 0)
    return [Listing(item, cqi, summary) for item, cqi, summary in rows]


def product(session: Session, item_id: uuid.UUID) -> tuple[Listing, Dispensary]:
    rows = _listings(session, MenuItem.id == item_id)
    if not rows:
        raise NotFound("Product not found.")
    item, cqi, summary = rows[0]
    dispensary = session.get(Dispensary, item.dispensary_id)
    if dispensary is None or not dispensary.is_active:
        raise NotFound("Product not found.")
    return Listing(item, cqi, summary), dispensary


def elsewhere(session: Session, item: MenuItem, dispensary: Dispensary, *, radius_miles: float = NEARBY_MILES,
              limit: int = 10) -> list[tuple[MenuItem, Dispensary, float]]:
    """The same product in stock at other dispensaries nearby, nearest first: same name, or same brand and strain."""
    same = sa.func.lower(MenuItem.name) == item.name.lower()
    if item.brand and item.strain_name:
        same = sa.or_(same, sa.and_(sa.func.lower(MenuItem.brand) == item.brand.lower(),
                                    sa.func.lower(MenuItem.strain_name) == item.strain_name.lower(),
                                    MenuItem.category == item.category))
    geo, order = service.within(session, dispensary.latitude, dispensary.longitude, radius_miles)
    rows = session.exec(select(MenuItem, Dispensary).join(Dispensary, col(Dispensary.id) == MenuItem.dispensary_id)
                        .where(same, MenuItem.dispensary_id != dispensary.id, MenuItem.is_active == True,  # noqa: E712
                               MenuItem.in_stock_qty > 0, Dispensary.is_active == True, *geo)  # noqa: E712
                        .order_by(*order).limit(limit)).all()
    return [(other, place, round(haversine_miles(place.latitude, place.longitude, dispensary.latitude,
                                                 dispensary.longitude), 1)) for other, place in rows]


def sitemap_paths(session: Session, *, limit: int = 45000) -> list[tuple[str, object]]:
    """(path, last modified) of every public dispensary page, and of the products they have in stock."""
    paths: list[tuple[str, object]] = []
    dispensaries = {d.id: d for d in session.exec(select(Dispensary).where(Dispensary.is_active == True)  # noqa: E712
                                                  .order_by(col(Dispensary.state), col(Dispensary.slug)).limit(limit))}
    paths += [(service.page_path(d), d.updated_at) for d in dispensaries.values()]
    items = session.exec(select(MenuItem).where(MenuItem.is_active == True, MenuItem.in_stock_qty > 0)  # noqa: E712
                         .order_by(col(MenuItem.dispensary_id), col(MenuItem.name)).limit(limit - len(paths))).all()
    paths += [(product_path(dispensaries[i.dispensary_id], i), i.updated_at) for i in items
              if i.dispensary_id in dispensaries]
    return paths
