"""Read models of ICC Maps, passed to the UI state and the API: never live ORM rows, never hand-built dicts.

Each carries the values a visitor reads already put into words (a formatted phone, "1 review", "Open now") next
to the raw values a program needs (coordinates, the rating as a number), so pages do not format anything.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote_plus

from pydantic import BaseModel

from icc_app.ui.format import label, phone, phone_href, plural

DIRECTIONS_URL = "https://www.google.com/maps/dir/?api=1&destination="
SERVICE_LABELS = {"pickup": "Pickup", "delivery": "Delivery", "medical": "Medical", "adult_use": "Adult use"}


def open_label(is_open: bool | None) -> str:
    return "" if is_open is None else ("Open now" if is_open else "Closed now")


def directions_url(street: str | None, city: str | None, state: str, postal: str | None) -> str:
    """A directions link any phone opens in its maps app: the store's address as the destination."""
    return DIRECTIONS_URL + quote_plus(", ".join(p for p in (street, city, state, postal) if p))


def services_line(services: list[str]) -> str:
    return " · ".join(SERVICE_LABELS.get(s, label(s)) for s in services)


class DispensaryCard(BaseModel):
    """One result of the locator."""

    id: str
    name: str
    address: str
    href: str
    lat: float
    lon: float
    miles: str  # "4.3 mi"
    open: str  # "Open now" / "Closed now" / "" (hours not published)
    is_open: bool = False
    services: str = ""
    rating: str = ""  # "4.5 ★"
    reviews: str = ""  # "12 reviews"
    photo_url: str = ""  # the first photo's thumbnail
    phone: str = ""
    directions: str = ""


class DispensaryProfile(BaseModel):
    """A dispensary's page header and contact card."""

    name: str = ""
    license: str = ""  # "WA 415486"
    address: str = ""
    phone: str = ""  # "(425) 861-5497"
    phone_href: str = ""  # "tel:+14258615497", or "" when it is not a number we can dial for sure
    website: str = ""
    href: str = ""
    open: str = ""
    services: str = ""
    directions: str = ""
    claimed: bool = False


class Money(BaseModel):
    """An amount with its currency: prices are Decimal, never float."""

    amount: Decimal
    currency: str = "USD"

    def text(self) -> str:
        return f"${self.amount:,.2f}" if self.currency == "USD" else f"{self.amount:,.2f} {self.currency}"


def money(value: float | Decimal | None, currency: str = "USD") -> Money | None:
    """A stored price as Money, rounded to the cent from its decimal text (a float's binary noise never shows)."""
    return None if value is None else Money(amount=Decimal(str(value)).quantize(Decimal("0.01")), currency=currency)


class MenuListing(BaseModel):
    """A product of a dispensary's menu as a visitor sees it; the numbers beside the words filter and sort it."""

    id: str
    name: str
    brand: str = ""
    category: str
    category_label: str  # "Pre-roll"
    strain: str = ""  # "Blue Dream · Hybrid"
    strain_type: str = ""
    thc: str = ""  # "THC 18-22%"
    thc_low: float | None = None
    thc_high: float | None = None
    cbd: str = ""
    price: Money | None = None
    price_text: str = ""  # "$35.00"
    terpenes: str = ""
    cqi: str = ""
    cqi_color: str = ""
    rating: str = ""  # "4.5 ★ (12)"
    rating_value: float | None = None
    effects: list[str] = []
    effects_line: str = ""
    href: str


class MenuCard(BaseModel):
    """What the browser draws for one menu item: words only (a 300-item menu is sent whole, so it stays light);
    the numbers that filter and sort stay on the server in MenuListing."""

    name: str
    brand: str
    strain: str
    thc: str
    cbd: str
    price_text: str
    terpenes: str
    cqi: str
    cqi_color: str
    rating: str
    effects_line: str
    href: str

    @classmethod
    def of(cls, listing: MenuListing) -> MenuCard:
        return cls(**listing.model_dump(include=set(cls.model_fields)))


class PriceOption(BaseModel):
    """One size of a product and its price ("3.5 g", "$35.00")."""

    label: str
    price: str


class NearbyOffer(BaseModel):
    """The same product in stock at another store nearby."""

    name: str
    miles: str
    price: str
    href: str


class MenuGroup(BaseModel):
    """One category of the menu: its tab's anchor and its products, in the chosen order."""

    label: str
    anchor: str  # "menu-pre-roll"
    count: str  # "12 products"
    products: list[MenuCard]


class ReviewRead(BaseModel):
    """A published review as a visitor reads it."""

    id: str
    author: str
    rating: int
    stars: str
    effects: str
    text: str
    reply: str = ""
    verified: bool = False
    date: str
    mine: bool = False


class ModerationItem(BaseModel):
    """A reported or hidden review in the moderators' queue."""

    id: str
    stars: str
    text: str
    effects: str
    reports: str  # "3 reports"
    status: str  # "Published" / "Hidden"
    hidden: bool
    about: str  # "Product" / "Dispensary"
    note: str = ""


class OwnReview(BaseModel):
    """The signed-in consumer's own review of this item, to show and to edit (pre-filled)."""

    id: str
    rating: int
    stars: str  # "★★★★☆"
    effects: list[str]
    effects_line: str  # "relaxed · sleepy"
    text: str
    status: str  # "Published" / "Hidden by a moderator"
    date: str


def reviews_line(count: int) -> str:
    return plural(count, "review")


__all__ = ["DispensaryCard", "DispensaryProfile", "MenuCard", "MenuGroup", "MenuListing", "ModerationItem", "Money", "NearbyOffer", "PriceOption", "OwnReview", "ReviewRead", "directions_url", "money", "open_label",
           "phone", "phone_href", "reviews_line", "services_line"]
