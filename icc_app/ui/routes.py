"""Every route of the web app, in one place, with the navigation entries built from them.

No reflex import here: the navigation rules are plain data and functions, tested without a browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from icc_app.identity.models import Product
from icc_app.identity.permissions import can_use_product
from icc_app.identity.schemas import Principal

HOME = "/"
LOGIN = "/login"
LOGOUT = "/logout"
NOTIFICATIONS = "/notifications"
ADMIN_AUDIT = "/admin/audit"
NOT_FOUND = "/404"
COAS = "/coas"
SIGNUP = "/signup"
VERIFY_EMAIL = "/verify-email"
FORGOT_PASSWORD = "/forgot-password"
RESET_PASSWORD = "/reset-password"
ONBOARDING = "/onboarding"
TEAM = "/team"
INVITE = "/invite"
SECURITY = "/account/security"
ADMIN_LICENSES = "/admin/licenses"
ADMIN_CLIENTS = "/admin/oauth-clients"
CONSENT = "/oauth/consent"
MARKETPLACE = "/exchange"
MY_LOTS = "/exchange/sell"
OFFERS = "/exchange/offers"
ORDERS = "/exchange/orders"
ADMIN_DISPUTES = "/admin/disputes"
ADMIN_CQI = "/admin/cqi"
DISPENSARIES = "/dispensaries"
MY_DISPENSARY = "/maps/manage"
ADMIN_REVIEWS = "/admin/reviews"
POINT_OF_SALE = "/console/integrations"
API_KEYS = "/console/api-keys"
METRC_ALERTS = "/console/integrations/metrc/alerts"
FORECASTS = "/operations"
REORDER = "/operations/reorder"
EXPIRATIONS = "/operations/expirations"
PRICING = "/operations/pricing"
LOYALTY = "/loyalty"
CAMPAIGNS = "/loyalty/campaigns"
CHURN = "/loyalty/churn"
LOYALTY_PROGRAM = "/loyalty/program"
FIND_MY_PRODUCT = "/find-my-product"
MY_BUDTENDER = "/find-my-product/saved"

ALL_ROUTES = [HOME, LOGIN, LOGOUT, NOTIFICATIONS, ADMIN_AUDIT, COAS, SIGNUP, VERIFY_EMAIL, FORGOT_PASSWORD,
              RESET_PASSWORD, ONBOARDING, TEAM, INVITE, SECURITY, ADMIN_LICENSES, ADMIN_CLIENTS, CONSENT, MARKETPLACE,
              MY_LOTS, OFFERS, ORDERS, ADMIN_DISPUTES, ADMIN_CQI, DISPENSARIES, MY_DISPENSARY, ADMIN_REVIEWS,
              POINT_OF_SALE, API_KEYS, METRC_ALERTS, FORECASTS, REORDER, EXPIRATIONS, PRICING, LOYALTY, CAMPAIGNS, CHURN,
              LOYALTY_PROGRAM, FIND_MY_PRODUCT, MY_BUDTENDER]


def login_url(next_path: str | None = None) -> str:
    if not next_path or next_path in (LOGIN, LOGOUT) or not next_path.startswith("/") or next_path.startswith("//"):
        return LOGIN
    return f"{LOGIN}?next={quote(next_path, safe='/')}"


def safe_next(next_path: str | None) -> str:
    """Only same-site paths: an open redirect after sign-in is a phishing tool."""
    if not next_path or not next_path.startswith("/") or next_path.startswith("//") or "\\" in next_path:
        return HOME
    return next_path


@dataclass(frozen=True)
class NavItem:
    label: str
    route: str
    icon: str
    section: str = "Workspace"
    product: Product | None = None  # shown only to people with access to this product
    platform_admin: bool = False  # shown only to platform administrators
    consumer_visible: bool = True
    needs_business: bool = False  # shown only to members of at least one business
    # A platform administrator who belongs to no business runs the platform: onboarding one is not their work.
    platform_admin_without_business: bool = True


NAV_ITEMS: list[NavItem] = [
    NavItem("Home", HOME, "house"),
    NavItem("Notifications", NOTIFICATIONS, "bell"),
    NavItem("Find a dispensary", DISPENSARIES, "map-pin", section="Maps"),
    NavItem("Find My Product", FIND_MY_PRODUCT, "sparkles", section="Maps"),
    NavItem("My dispensary", MY_DISPENSARY, "store", section="Maps", product=Product.maps, consumer_visible=False,
            needs_business=True),
    NavItem("Business & licenses", ONBOARDING, "badge-check", section="Business", consumer_visible=False,
            platform_admin_without_business=False),
    NavItem("Team", TEAM, "users", section="Business", consumer_visible=False, needs_business=True),
    NavItem("Point of sale", POINT_OF_SALE, "plug", section="Business", product=Product.integrations,
            consumer_visible=False, needs_business=True),
    NavItem("Metrc compliance", METRC_ALERTS, "shield-alert", section="Business", product=Product.integrations,
            consumer_visible=False, needs_business=True),
    NavItem("API keys & webhooks", API_KEYS, "key", section="Business", product=Product.integrations,
            consumer_visible=False, needs_business=True),
    NavItem("Forecasts", FORECASTS, "chart-line", section="Operations", product=Product.operations,
            consumer_visible=False, needs_business=True),
    NavItem("Reorder", REORDER, "shopping-cart", section="Operations", product=Product.operations,
            consumer_visible=False, needs_business=True),
    NavItem("Expirations", EXPIRATIONS, "calendar-clock", section="Operations", product=Product.operations,
            consumer_visible=False, needs_business=True),
    NavItem("Pricing", PRICING, "tag", section="Operations", product=Product.operations, consumer_visible=False,
            needs_business=True),
    NavItem("Customers & segments", LOYALTY, "users-round", section="Loyalty", product=Product.operations,
            consumer_visible=False, needs_business=True),
    NavItem("Campaigns", CAMPAIGNS, "megaphone", section="Loyalty", product=Product.operations,
            consumer_visible=False, needs_business=True),
    NavItem("Who may not come back", CHURN, "user-minus", section="Loyalty", product=Product.operations,
            consumer_visible=False, needs_business=True),
    NavItem("Programme settings", LOYALTY_PROGRAM, "gift", section="Loyalty", product=Product.operations,
            consumer_visible=False, needs_business=True),
    NavItem("Marketplace", MARKETPLACE, "store", section="Exchange", product=Product.exchange, consumer_visible=False),
    NavItem("My lots", MY_LOTS, "package", section="Exchange", product=Product.exchange, consumer_visible=False,
            needs_business=True),
    NavItem("Offers", OFFERS, "handshake", section="Exchange", product=Product.exchange, consumer_visible=False,
            needs_business=True),
    NavItem("Orders", ORDERS, "receipt", section="Exchange", product=Product.exchange, consumer_visible=False,
            needs_business=True),
    NavItem("Lab results (COAs)", COAS, "flask-conical", section="Exchange", product=Product.exchange,
            consumer_visible=False, needs_business=True),
    NavItem("Security", SECURITY, "lock-keyhole", section="Account"),
    NavItem("License reviews", ADMIN_LICENSES, "file-check", section="Platform", platform_admin=True),
    NavItem("OAuth clients", ADMIN_CLIENTS, "key-round", section="Platform", platform_admin=True),
    NavItem("Disputes", ADMIN_DISPUTES, "scale", section="Platform", platform_admin=True),
    NavItem("CQI scoring", ADMIN_CQI, "gauge", section="Platform", platform_admin=True),
    NavItem("Review moderation", ADMIN_REVIEWS, "flag", section="Platform", platform_admin=True),
    NavItem("Audit log", ADMIN_AUDIT, "shield-check", section="Platform", platform_admin=True),
]


def nav_for(principal: Principal | None, items: list[NavItem] | None = None) -> list[NavItem]:
    """The navigation a person sees: filtered by sign-in, platform role and per-product access."""
    visible = []
    for item in NAV_ITEMS if items is None else items:
        if principal is None:
            continue
        if item.platform_admin and not principal.is_platform_admin:
            continue
        if item.product is not None and not can_use_product(principal, item.product):
            continue
        if not item.consumer_visible and principal.kind.value == "consumer":
            continue
        if item.needs_business and not principal.memberships:
            continue
        if principal.is_platform_admin and not principal.memberships and not item.platform_admin_without_business:
            continue
        visible.append(item)
    return visible
