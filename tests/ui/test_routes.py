"""Routes are unique and navigation follows role and product access (no browser needed)."""

import uuid

from icc_app.identity.models import BusinessType, Product, Role, UserKind
from icc_app.identity.schemas import MembershipRead, Principal
from icc_app.ui import routes
from icc_app.ui.routes import NavItem, nav_for


def _principal(*, role=Role.staff, products=(), admin=False, kind=UserKind.operator) -> Principal:
    member = MembershipRead(business_id=uuid.uuid4(), business_name="B", business_type=BusinessType.retailer,
                            role=role, products=list(products))
    return Principal(user_id=uuid.uuid4(), email="a@b.c", display_name="A", kind=kind, is_platform_admin=admin,
                     memberships=[member] if kind == UserKind.operator else [])


ITEMS = [
    NavItem("Home", "/", "house"),
    NavItem("Exchange", "/exchange", "x", product=Product.exchange),
    NavItem("Integrations", "/integrations", "x", product=Product.integrations),
    NavItem("Audit", "/admin/audit", "x", platform_admin=True),
    NavItem("Console", "/console", "x", consumer_visible=False),
]


def _labels(principal):
    return [i.label for i in nav_for(principal, ITEMS)]


def test_routes_are_unique():
    assert len(routes.ALL_ROUTES) == len(set(routes.ALL_ROUTES))
    assert len({i.route for i in routes.NAV_ITEMS}) == len(routes.NAV_ITEMS)


def test_anonymous_sees_no_navigation():
    assert nav_for(None, ITEMS) == []


def test_staff_sees_only_granted_products():
    assert _labels(_principal(products=["exchange"])) == ["Home", "Exchange", "Console"]


def test_business_admin_sees_every_product_but_not_platform_pages():
    assert _labels(_principal(role=Role.admin)) == ["Home", "Exchange", "Integrations", "Console"]


def test_platform_admin_sees_platform_pages():
    assert "Audit" in _labels(_principal(admin=True))


def test_consumer_does_not_see_operator_pages():
    assert _labels(_principal(kind=UserKind.consumer)) == ["Home"]


def test_next_parameter_cannot_redirect_off_site():
    assert routes.safe_next("//evil.example") == "/"
    assert routes.safe_next("https://evil.example") == "/"
    assert routes.safe_next("/notifications") == "/notifications"
    assert routes.login_url("/admin/audit") == "/login?next=/admin/audit"


def test_platform_admin_without_business_sees_only_what_applies():
    admin = Principal(user_id=uuid.uuid4(), email="a@b.c", display_name="A", kind=UserKind.operator,
                      is_platform_admin=True, memberships=[])
    labels = [i.label for i in nav_for(admin)]
    for business_page in ("My lots", "Offers", "Orders", "Lab results (COAs)", "My dispensary", "Team",
                          "Business & licenses"):
        assert business_page not in labels
    assert {"Home", "Marketplace", "License reviews", "Disputes", "Audit log"} <= set(labels)


def test_platform_admin_who_runs_a_business_keeps_its_pages():
    labels = [i.label for i in nav_for(_principal(role=Role.admin, admin=True))]
    assert {"My lots", "Offers", "Orders", "My dispensary", "Business & licenses", "Audit log"} <= set(labels)
