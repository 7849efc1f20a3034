"""A retailer with a verified license and the dispensary of that license (not yet claimed)."""

from icc_app.identity import service as identity
from icc_app.identity.models import BusinessType
from icc_app.maps.models import Dispensary
from tests.exchange.conftest import market  # noqa: F401 - the exchange's listed lot serves the Maps tests too
from tests.factories import make_business, make_user, verified_license


def retailer_with_store(session, *, name: str, number: str):
    """(principal of the owner, business, dispensary) for a store called `name` with WA license `number`."""
    owner = make_user(session)
    business = make_business(session, owner=owner, name=f"{name} LLC", business_type=BusinessType.retailer)
    verified_license(session, business, number=number)
    store = Dispensary(name=name, license_number=number, state="WA", latitude=47.6, longitude=-122.3,
                       slug=f"{name.lower().replace(' ', '-')}-{number}")
    session.add(store)
    session.flush()
    return identity.build_principal(session, owner), business, store
