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


@pytest.mark.parametrize(("password", "message"), [
    ("short1A", "at least 10"),
    ("Aaaaaaaaa1", "too easy to guess. This is similar to a commonly used"),  # zxcvbn
    ("Summer2026!", "breached passwords"),  # a common word with a year and a symbol
    ("P@ssw0rd123", "breached passwords"),  # look-alike characters read back
    ("warren@example.test", "too easy to guess"),  # the person's own address (zxcvbn's user inputs)
])
def test_weak_and_breached_passwords_are_refused_with_a_hint(connection, password, message):
    with pytest.raises(ValidationFailed, match=message) as refused, unit_of_work() as session:
        identity.create_user(session, email="warren@example.test", password=password, display_name="Warren Weak")
    assert refused.value.field == "password"


@pytest.mark.parametrize("password", [PASSWORD, "Demo-pass-2026", "Grow-strong-2026", "violet tractor pumice"])
def test_good_passwords_pass(password):
    identity.validate_password(password)


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


def test_failures_slow_down_one_ip_without_locking_out_the_owner(connection, redis_client):
    with unit_of_work() as session:
        make_user(session, email="dee@example.test")
    with unit_of_work() as session:  # the owner signed in from home before
        assert identity.sign_in(session, email="dee@example.test", password=PASSWORD, ip="192.0.2.10").ok
    attacker = "198.51.100.1"
    for _ in range(identity.failures_by_account_ip.free):
        with unit_of_work() as session:
            assert identity.sign_in(session, email="dee@example.test", password="Nope-nope-1", ip=attacker).error
    with unit_of_work() as session:
        blocked = identity.sign_in(session, email="dee@example.test", password=PASSWORD, ip=attacker)
    assert not blocked.ok and blocked.error.startswith("Too many attempts. Try again in ")  # that IP waits
    assert 0 < blocked.retry_after <= 2
    with unit_of_work() as session:  # the owner, from their own address, is not slowed down
        assert identity.sign_in(session, email="dee@example.test", password=PASSWORD, ip="192.0.2.10").ok
    # Progressive: each further failure doubles the wait (here the wait is skipped by rewinding the clock).
    key = f"throttle:login-account-ip:{email_lookup('dee@example.test')}:{attacker}"
    waits = []
    for _ in range(3):
        redis_client.hset(key, "last", "0")
        with unit_of_work() as session:
            identity.sign_in(session, email="dee@example.test", password="Nope-nope-2", ip=attacker)
        with unit_of_work() as session:
            waits.append(identity.sign_in(session, email="dee@example.test", password=PASSWORD, ip=attacker).retry_after)
    assert waits[0] < waits[1] < waits[2] <= identity.failures_by_account_ip.max_delay
    # The counter lives in Redis under the email's blind index: the address itself is not written there.
    assert not redis_client.keys("*dee@example.test*")
    with unit_of_work() as session:
        assert _actions(session, ip=attacker)[-1] == "identity.sign_in.rate_limited"


def test_a_distributed_guesser_slows_down_only_unknown_ips(connection, redis_client):
    with unit_of_work() as session:
        make_user(session, email="fay@example.test")
    with unit_of_work() as session:
        assert identity.sign_in(session, email="fay@example.test", password=PASSWORD, ip="192.0.2.20").ok
    for _ in range(identity.failures_by_account.free):
        identity.failures_by_account.failure(email_lookup("fay@example.test"))
    with unit_of_work() as session:
        stranger = identity.sign_in(session, email="fay@example.test", password=PASSWORD, ip="203.0.113.99")
        owner = identity.sign_in(session, email="fay@example.test", password=PASSWORD, ip="192.0.2.20")
    assert stranger.retry_after and not stranger.ok
    assert owner.ok


def test_inactive_user_cannot_sign_in(connection, redis_client):
    with unit_of_work() as session:
        user = make_user(session, email="eve@example.test")
        session.get(User, user.id).is_active = False
    with unit_of_work() as session:
        assert not identity.sign_in(session, email="eve@example.test", password=PASSWORD).ok
