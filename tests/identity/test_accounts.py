"""Accounts: encrypted PII, consumer age gate and handles, email verification, password reset, sessions, and
MFA (TOTP with replay protection, emailed codes, recovery codes) in the sign-in flow."""

from datetime import date

import pyotp
import pytest
import sqlalchemy as sa
from sqlmodel import select

from icc_app.core.db import unit_of_work
from icc_app.core.errors import Conflict, RateLimited, ValidationFailed
from icc_app.identity import mfa, tokens
from icc_app.identity import service as identity
from icc_app.identity.models import TokenPurpose, User
from tests.factories import PASSWORD, make_user, queued_emails


def _emailed_token(session, template: str) -> str:
    return queued_emails(session, template)[-1]["context"]["token"]


def test_consumer_pii_is_encrypted_at_rest_and_the_age_gate_holds(connection):
    with unit_of_work() as session:
        user = identity.sign_up_consumer(session, email="Hazy@Example.test", password=PASSWORD, handle="Hazy_Hiker",
                                         birth_date=date(1990, 5, 17), phone="+1 206 555 0100")
        raw = session.execute(sa.text("SELECT email, phone, birth_date, handle, display_name FROM users WHERE id=:i"),
                              {"i": user.id}).one()
    assert "hazy" not in raw.email.lower() and "555" not in raw.phone and "1990" not in raw.birth_date
    assert raw.handle == raw.display_name == "hazy_hiker"  # the public name is the handle, never a real name
    with unit_of_work() as session:
        loaded = identity.find_user_by_email(session, "HAZY@example.test ")
        assert loaded.birth_date == "1990-05-17" and loaded.phone == "+1 206 555 0100"
    today = date.today()
    with pytest.raises(ValidationFailed, match="21 or older"), unit_of_work() as session:
        identity.sign_up_consumer(session, email="kid@example.test", password=PASSWORD, handle="kiddo",
                                  birth_date=date(today.year - 20, today.month, 1))
    with pytest.raises(Conflict, match="handle is taken"), unit_of_work() as session:
        identity.sign_up_consumer(session, email="other@example.test", password=PASSWORD, handle="hazy_hiker",
                                  birth_date=date(1980, 1, 1))


def test_email_verification_link_works_once(connection):
    with unit_of_work() as session:
        user = identity.sign_up_operator(session, email="op@example.test", password=PASSWORD, display_name="Op")
        token = _emailed_token(session, "verify_email")
    with unit_of_work() as session:
        assert identity.verify_email(session, token=token).email_verified_at is not None
    with pytest.raises(ValidationFailed, match="already used"), unit_of_work() as session:
        identity.verify_email(session, token=token)
    with pytest.raises(ValidationFailed, match="not valid"), unit_of_work() as session:
        identity.verify_email(session, token="forged")
    assert user.id


def test_password_reset_revokes_sessions_and_answers_the_same_for_unknown_emails(connection, redis_client):
    with unit_of_work() as session:
        make_user(session, email="rae@example.test")
    with unit_of_work() as session:
        before = identity.sign_in(session, email="rae@example.test", password=PASSWORD)
    with unit_of_work() as session:
        identity.request_password_reset(session, email="nobody@example.test")
        assert queued_emails(session, "reset_password") == []  # nothing sent, nothing revealed
        identity.request_password_reset(session, email="rae@example.test")
        token = _emailed_token(session, "reset_password")
    with pytest.raises(ValidationFailed, match="too easy to guess"), unit_of_work() as session:
        identity.reset_password(session, token=token, new_password="weakpassword1")
    with unit_of_work() as session:
        identity.reset_password(session, token=token, new_password="Brand-new-pass-7")
    with unit_of_work() as session:
        assert identity.resolve_session(session, token=before.token) is None
        assert identity.sign_in(session, email="rae@example.test", password="Brand-new-pass-7").ok


def test_sessions_are_listed_and_revocable_only_by_their_owner(connection, redis_client):
    with unit_of_work() as session:
        user = make_user(session, email="sal@example.test")
        other = make_user(session)
    with unit_of_work() as session:
        one = identity.sign_in(session, email="sal@example.test", password=PASSWORD, user_agent="Firefox")
        two = identity.sign_in(session, email="sal@example.test", password=PASSWORD, user_agent="Chromium")
    with unit_of_work() as session:
        rows = identity.list_sessions(session, user_id=user.id, current_session_id=two.principal.session_id)
        assert {r.user_agent for r in rows} == {"Firefox", "Chromium"} and sum(r.current for r in rows) == 1
    from icc_app.core.errors import NotFound

    with pytest.raises(NotFound), unit_of_work() as session:
        identity.revoke_session(session, user_id=other.id, session_id=one.principal.session_id)
    with unit_of_work() as session:
        identity.revoke_session(session, user_id=user.id, session_id=one.principal.session_id)
        assert identity.resolve_session(session, token=one.token) is None
        assert identity.resolve_session(session, token=two.token) is not None


def test_totp_enrollment_and_sign_in_with_second_factor(connection, redis_client):
    with unit_of_work() as session:
        user = make_user(session, email="tia@example.test")
    with unit_of_work() as session:
        setup = mfa.start_totp_enrollment(session, user_id=user.id)
    assert setup["uri"].startswith("otpauth://totp/ICC:") and setup["qr"].startswith("data:image/svg+xml;base64,")
    with pytest.raises(ValidationFailed, match="not right"), unit_of_work() as session:
        mfa.confirm_totp(session, user_id=user.id, code="000000")
    totp = pyotp.TOTP(setup["secret"])
    with unit_of_work() as session:
        recovery = mfa.confirm_totp(session, user_id=user.id, code=totp.now())
    assert len(recovery) == 10
    with unit_of_work() as session:
        stored = session.execute(sa.text("SELECT totp_secret FROM users WHERE id=:i"), {"i": user.id}).scalar()
    assert setup["secret"] not in stored  # encrypted at rest

    with unit_of_work() as session:
        step = identity.sign_in(session, email="tia@example.test", password=PASSWORD)
    assert not step.ok and step.mfa_challenge and step.mfa_methods == ["totp", "recovery"]
    with unit_of_work() as session:
        wrong = identity.complete_mfa(session, challenge=step.mfa_challenge, code="123456", method="totp")
    assert not wrong.ok and wrong.error == "That code is not right."
    with unit_of_work() as session:
        # the code used at enrollment cannot be replayed
        replay = identity.complete_mfa(session, challenge=step.mfa_challenge, code=totp.now(), method="totp")
    assert not replay.ok
    with unit_of_work() as session:
        done = identity.complete_mfa(session, challenge=step.mfa_challenge, code=recovery[0], method="recovery")
    assert done.ok and done.principal.mfa_enabled
    with unit_of_work() as session:
        again = identity.sign_in(session, email="tia@example.test", password=PASSWORD)
        used = identity.complete_mfa(session, challenge=again.mfa_challenge, code=recovery[0], method="recovery")
    assert not used.ok and "already used" in used.error
    with unit_of_work() as session:
        assert mfa.remaining_recovery_codes(session, user_id=user.id) == 9


def test_email_codes_as_second_factor_count_attempts(connection, redis_client):
    with unit_of_work() as session:
        user = make_user(session, email="eve@example.test")
        user.email_verified_at = user.created_at
        session.add(user)
    with unit_of_work() as session:
        mfa.start_email_otp(session, user_id=user.id)
        code = queued_emails(session, "mfa_code")[-1]["context"]["code"]
    with unit_of_work() as session:
        assert len(mfa.confirm_email_otp(session, user_id=user.id, code=code)) == 10
    with unit_of_work() as session:
        step = identity.sign_in(session, email="eve@example.test", password=PASSWORD)
        assert step.mfa_methods == ["email", "recovery"]
        code = queued_emails(session, "mfa_code")[-1]["context"]["code"]
    for _ in range(tokens.MAX_CODE_ATTEMPTS):
        with unit_of_work() as session:
            outcome = identity.complete_mfa(session, challenge=step.mfa_challenge, code="000000" if code != "000000"
                                            else "111111", method="email")
            assert not outcome.ok
    assert "Too many wrong codes" in outcome.error
    with unit_of_work() as session:
        late = identity.complete_mfa(session, challenge=step.mfa_challenge, code=code, method="email")
    assert not late.ok  # the code was spent by the wrong attempts
    with unit_of_work() as session:
        assert session.exec(select(User).where(User.id == user.id)).one().email_otp_enabled
        assert tokens.LIFETIMES[TokenPurpose.mfa_email_code].total_seconds() == 600


def test_sign_up_answers_the_same_for_a_taken_address_and_emails_its_owner(connection, redis_client):
    with unit_of_work() as session:
        owner = make_user(session, email="taken@example.test", name="Tara Taken")
    with unit_of_work() as session:
        again = identity.sign_up_operator(session, email="Taken@Example.test", password="Other-pass-2026x",
                                          display_name="Mallory", ip="203.0.113.7")
        sent = queued_emails(session, to="taken@example.test") + queued_emails(session, to="mallory@example.test")
    assert again is None  # nothing created; the caller says "check your email" as for a new address
    assert [(m["to"], m["template"]) for m in sent] == [("taken@example.test", "signup_existing")]
    with unit_of_work() as session:
        assert identity.verify_password(session.get(User, owner.id).password_hash, PASSWORD)  # untouched
        fresh = identity.sign_up_operator(session, email="new@example.test", password=PASSWORD, display_name="Nia",
                                          ip="203.0.113.7")
        assert [m["template"] for m in queued_emails(session, to="new@example.test")] == ["verify_email"]
    assert fresh is not None and fresh.email_verified_at is None


def test_sign_up_is_rate_limited_per_ip_and_per_address(connection, redis_client):
    for n in range(identity.signup_by_address.limit):
        with unit_of_work() as session:
            identity.sign_up_operator(session, email="spam@example.test", password=PASSWORD, display_name="S",
                                      ip=f"203.0.113.{n}")
    with pytest.raises(RateLimited, match="Too many attempts"), unit_of_work() as session:
        identity.sign_up_operator(session, email="spam@example.test", password=PASSWORD, display_name="S",
                                  ip="203.0.113.99")
    for n in range(identity.signup_by_ip.limit):
        with unit_of_work() as session:
            identity.sign_up_operator(session, email=f"s{n}@example.test", password=PASSWORD, display_name="S",
                                      ip="198.51.100.9")
    with pytest.raises(RateLimited), unit_of_work() as session:
        identity.sign_up_operator(session, email="s99@example.test", password=PASSWORD, display_name="S",
                                  ip="198.51.100.9")
    with pytest.raises(ValidationFailed, match="breached"), unit_of_work() as session:  # checked before counting
        identity.sign_up_operator(session, email="s98@example.test", password="Password2026!", display_name="S",
                                  ip="198.51.100.9")
