"""Sign-in: argon2 hashes, audited attempts, rate limits in Redis, session resolve and revoke."""

import pytest
from sqlmodel import select

from icc_app.core.audit import AuditLog
from icc_app.core.db import unit_of_work
from icc_app.core.errors import Conflict, ValidationFailed
from icc_app.core.security import email_lookup
from icc_app.identity import service as identity
from icc_app.identity.models import User, UserSession
from tests.factories import PASSWORD, make_business, make_user


def _actions(session, ip=None):
    query = select(AuditLog.action).order_by(AuditLog.id)
    return list(session.exec(query.where(AuditLog.ip == ip) if ip else query))


def test_password_is_stored_as_argon2(connection):
    with unit_of_work() as session:
        user = make_user(session, email="ana@example.test")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


@pytest.mark.parametrize(("password", "message"), [("short1A", "at least 10"), ("alllowercase1", "upper and lower")])
def test_weak_passwords_are_refused(connection, password, message):
    with pytest.raises(ValidationFailed, match=message), unit_of_work() as session:
        identity.create_user(session, email="weak@example.test", password=password, display_name="W")


def test_duplicate_email_is_refused_case_insensitively(connection):
    with unit_of_work() as session:
        make_user(session, email="dup@example.test")
    with pytest.raises(Conflict, match="already exists"), unit_of_work() as session:
        make_user(session, email="DUP@example.test ")


def test_sign_in_success_opens_a_session_and_is_audited(connection, redis_client):
    with unit_of_work() as session:
        user = make_user(session, email="bo@example.test")
        make_business(session, owner=user, name="Bo Farms")
    with unit_of_work() as session:
        outcome = identity.sign_in(session, email="Bo@Example.test", password=PASSWORD, ip="203.0.113.5")
    assert outcome.ok
    assert [m.business_name for m in outcome.principal.memberships] == ["Bo Farms"]
    with unit_of_work() as session:
        stored = session.exec(select(UserSession).where(UserSession.user_id == user.id)).one()
        assert stored.token_hash != outcome.token  # only a keyed hash is stored
        assert identity.resolve_session(session, token=outcome.token).user_id == user.id
        assert _actions(session, ip="203.0.113.5") == ["identity.sign_in.succeeded"]
        identity.sign_out(session, token=outcome.token)
    with unit_of_work() as session:
        assert identity.resolve_session(session, token=outcome.token) is None


def test_wrong_password_is_refused_and_audited(connection, redis_client):
    with unit_of_work() as session:
        make_user(session, email="cy@example.test")
    with unit_of_work() as session:
        outcome = identity.sign_in(session, email="cy@example.test", password="Wrong-pass-1", ip="203.0.113.6")
    assert not outcome.ok and outcome.error == "Email or password is incorrect."
    with unit_of_work() as session:
        assert _actions(session, ip="203.0.113.6") == ["identity.sign_in.failed"]
        unknown = identity.sign_in(session, email="nobody@example.test", password="x", ip="203.0.113.6")
    assert unknown.error == "Email or password is incorrect."  # same answer: no account enumeration


def test_rate_limit_per_account_with_retry_time(connection, redis_client):
    with unit_of_work() as session:
        make_user(session, email="dee@example.test")
    for _ in range(identity.login_by_account.limit):
        with unit_of_work() as session:
            assert identity.sign_in(session, email="dee@example.test", password="Nope-nope-1", ip="198.51.100.1").error
    with unit_of_work() as session:
        blocked = identity.sign_in(session, email="dee@example.test", password=PASSWORD, ip="198.51.100.1")
    assert not blocked.ok  # even the right password waits out the window
    assert blocked.error.startswith("Too many attempts. Try again in ")
    assert 0 < blocked.retry_after <= identity.login_by_account.window
    # The counter lives in Redis under the email's blind index: the address itself is not written there.
    assert redis_client.exists(f"ratelimit:login-account:{email_lookup('dee@example.test')}")
    assert not redis_client.keys("*dee@example.test*")
    with unit_of_work() as session:
        assert _actions(session, ip="198.51.100.1")[-1] == "identity.sign_in.rate_limited"


def test_inactive_user_cannot_sign_in(connection, redis_client):
    with unit_of_work() as session:
        user = make_user(session, email="eve@example.test")
        session.get(User, user.id).is_active = False
    with unit_of_work() as session:
        assert not identity.sign_in(session, email="eve@example.test", password=PASSWORD).ok
