"""Connections as an operator makes them: vendor addresses that cannot reach inside our network, credentials
checked per vendor and kept encrypted, and status changes that leave a trail."""

from __future__ import annotations

import pytest
from sqlmodel import select

from icc_app.core.errors import Conflict, PermissionDenied, ValidationFailed
from icc_app.identity import service as identity
from icc_app.identity.models import Role
from icc_app.integrations import service
from icc_app.integrations.models import ConnectionEvent
from icc_app.settings import get_settings
from tests.factories import add_member


@pytest.fixture()
def deployed(monkeypatch):
    """The app as deployed: a public address, not this machine."""
    monkeypatch.setenv("PUBLIC_URL", "https://icc.example.com")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "https://localhost:6379", "https://10.1.2.3/api",
                                 "https://169.254.169.254/latest", "https://[::1]:9000", "http://api.example.com"])
def test_a_deployed_app_refuses_vendor_addresses_inside_the_network(deployed, url):
    with pytest.raises(ValidationFailed) as refused:
        service.clean_base_url(url)
    assert refused.value.field == "base_url"


def test_local_test_servers_are_fine_where_the_app_runs_locally():
    assert service.clean_base_url("http://127.0.0.1:8765/") == "http://127.0.0.1:8765"
    assert service.clean_base_url("https://api.pos.dutchie.com") == "https://api.pos.dutchie.com"
    with pytest.raises(ValidationFailed, match="credential fields"):
        service.clean_base_url("https://user:secret@api.example.com")


def test_credentials_are_checked_against_what_the_vendor_needs():
    assert service.clean_credentials("dutchie", '{"location_key": " abc "}') == {"location_key": "abc"}
    with pytest.raises(ValidationFailed, match="Missing: Location API key"):
        service.clean_credentials("dutchie", {})
    with pytest.raises(ValidationFailed, match="Unknown credential"):
        service.clean_credentials("dutchie", {"location_key": "a", "password": "b"})
    with pytest.raises(ValidationFailed, match="JSON object"):
        service.clean_credentials("dutchie", "not json")
    with pytest.raises(ValidationFailed, match="non-empty text"):
        service.clean_credentials("dutchie", {"location_key": 12})
    assert service.clean_credentials("treez", {"client_id": "c", "api_key": "k"}) == {"client_id": "c",
                                                                                      "api_key": "k"}


def _connect(session, principal, business, shop, **overrides):
    data = dict(vendor="dutchie", name="Main", base_url="http://127.0.0.1:9", credentials={"location_key": "k-1234567"},
                dispensary_id=shop.id) | overrides
    return service.connect(session, principal=principal, business_id=business.id, data=service.ConnectInput(**data))


def test_pause_resume_rotate_and_disconnect_each_leave_an_event(session, store):
    principal, business, shop = store
    connection = _connect(session, principal, business, shop)
    service.set_paused(session, principal=principal, connection_id=connection.id, paused=True)
    with pytest.raises(Conflict):
        service.set_paused(session, principal=principal, connection_id=connection.id, paused=True)
    service.set_paused(session, principal=principal, connection_id=connection.id, paused=False)
    service.rotate_credentials(session, principal=principal, connection_id=connection.id,
                               credentials={"location_key": "new-key-98765"})
    assert connection.credentials_hint == "…8765" and "new-key-98765" in connection.credentials
    service.disconnect(session, principal=principal, connection_id=connection.id)
    assert connection.status == "disconnected" and connection.credentials == "{}"
    moves = session.exec(select(ConnectionEvent.from_status, ConnectionEvent.to_status).where(
        ConnectionEvent.connection_id == connection.id).order_by(ConnectionEvent.created_at)).all()
    assert sorted(tuple(m) for m in moves) == sorted([("new", "paused"), ("paused", "new"), ("new", "new"),
                                                      ("new", "disconnected")])


def test_only_admins_disconnect_and_a_store_must_be_the_businesss_own(session, store):
    principal, business, shop = store
    connection = _connect(session, principal, business, shop)
    manager = add_member(session, business, role=Role.manager, products=["integrations"])
    manager_principal = identity.build_principal(session, manager)
    with pytest.raises(PermissionDenied):
        service.disconnect(session, principal=manager_principal, connection_id=connection.id)
    from tests.integrations.conftest import claimed_store

    _, _, other_shop = claimed_store(session, name="Not Yours", number="412777")
    with pytest.raises(ValidationFailed, match="claimed dispensaries"):
        _connect(session, principal, business, shop, dispensary_id=other_shop.id)
    with pytest.raises(ValidationFailed, match="15 to 60"):
        _connect(session, principal, business, shop, interval_minutes=5)
