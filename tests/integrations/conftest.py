"""A retailer whose claimed dispensary a POS connection feeds (the owner's principal, business, store)."""

from __future__ import annotations

import json

import pytest

from icc_app.integrations.models import Connection
from tests.maps.conftest import retailer_with_store


def claimed_store(session, *, name: str = "Green Door", number: str = "412001"):
    principal, business, store = retailer_with_store(session, name=name, number=number)
    store.claimed_by_business_id = business.id
    session.add(store)
    session.flush()
    return principal, business, store


def make_connection(session, business, store, *, vendor: str = "dutchie", base_url: str = "http://127.0.0.1:9",
                    credentials: dict | None = None, webhook_secret: str | None = None,
                    location_id: str | None = None) -> Connection:
    connection = Connection(business_id=business.id, vendor=vendor, name=f"{vendor} test", base_url=base_url,
                            dispensary_id=store.id if store else None,
                            credentials=json.dumps(credentials or {"location_key": "k-123456789"}),
                            credentials_hint="…6789", webhook_secret=webhook_secret, location_id=location_id)
    session.add(connection)
    session.flush()
    return connection


@pytest.fixture()
def store(session):
    return claimed_store(session)
