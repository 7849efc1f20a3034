"""Second factors: TOTP (authenticator apps, enrolled with a QR code), emailed one-time codes, and recovery
codes (ten, single use, shown once, stored hashed).

TOTP secrets are encrypted at rest; a TOTP code cannot be used twice within its window (the last accepted
time step is kept with the enrollment).
"""

from __future__ import annotations

import base64
import io
import secrets
import time
import uuid
from datetime import UTC, datetime

import pyotp
import segno
from sqlmodel import Session, col, delete, select

from icc_app.core import audit
from icc_app.core.errors import ValidationFailed
from icc_app.core.models import utcnow
from icc_app.core.security import constant_time_equal, hash_token, verify_password
from icc_app.identity import tokens
from icc_app.identity.models import RecoveryCode, TokenPurpose, User

ISSUER = "ICC"
RECOVERY_CODE_COUNT = 10


def methods_for(user: User) -> list[str]:
    methods = []
    if user.totp_enabled_at is not None:
        methods.append("totp")
    if user.email_otp_enabled:
        methods.append("email")
    return methods + ["recovery"] if methods else []


def _qr_data_uri(uri: str) -> str:
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=5, border=2, dark="#111", light="#fff")
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def start_totp_enrollment(session: Session, *, user_id: uuid.UUID) -> dict:
    """A fresh secret (not active until a code confirms it), its otpauth:// URI and a QR code as a data URI."""
    user = session.get(User, user_id)
    if user.totp_enabled_at is not None:
        raise ValidationFailed("An authenticator app is already set up. Turn it off first to replace it.")
    secret = pyotp.random_base32()
    user.totp_secret = secret
    session.add(user)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return {"secret": secret, "uri": uri, "qr": _qr_data_uri(uri)}


def _totp_ok(user: User, code: str) -> bool:
    """A right code for the current 30 s step or a neighbour, never one already accepted (no replay)."""
    code = (code or "").replace(" ", "")
    if not user.totp_secret or not code.isdigit():
        return False
    totp = pyotp.TOTP(user.totp_secret)
    now = int(time.time())
    for offset in (0, -1, 1):
        moment = now + offset * totp.interval
        step = totp.timecode(datetime.fromtimestamp(moment, UTC))
        if constant_time_equal(totp.at(moment), code) and step > (user.totp_last_step or 0):
            user.totp_last_step = step
            return True
    return False


def confirm_totp(session: Session, *, user_id: uuid.UUID, code: str, ip: str | None = None) -> list[str]:
    """Turn TOTP on once the app shows a right code; returns new recovery codes (shown once)."""
    user = session.get(User, user_id)
    if not user.totp_secret or user.totp_enabled_at is not None:
        raise ValidationFailed("Start the set-up again.", field="code")
    if not _totp_ok(user, code):
        raise ValidationFailed("That code is not right. Check the time on your phone and try the next code.",
                               field="code")
    user.totp_enabled_at = utcnow()
    session.add(user)
    audit.record(session, action="identity.mfa.totp_enabled", object_type="user", object_id=user.id,
                 actor_id=user.id, ip=ip)
    return regenerate_recovery_codes(session, user_id=user.id, ip=ip)


def send_email_code(session: Session, *, user: User) -> None:
    from icc_app.identity.service import send_email

    code = tokens.issue(session, user_id=user.id, purpose=TokenPurpose.mfa_email_code, numeric=True)
    send_email(session, to=user.email, template="mfa_code", context={"name": user.display_name, "code": code})


def start_email_otp(session: Session, *, user_id: uuid.UUID) -> None:
    user = session.get(User, user_id)
    if user.email_verified_at is None:
        raise ValidationFailed("Verify your email address first.")
    send_email_code(session, user=user)


def confirm_email_otp(session: Session, *, user_id: uuid.UUID, code: str, ip: str | None = None) -> list[str]:
    """Outcome-style: a wrong code raises after the attempt is flushed; the caller commits it."""
    user = session.get(User, user_id)
    error = tokens.check_code(session, user_id=user.id, code=code, purpose=TokenPurpose.mfa_email_code)
    if error:
        raise ValidationFailed(error, field="code")
    user.email_otp_enabled = True
    session.add(user)
    audit.record(session, action="identity.mfa.email_enabled", object_type="user", object_id=user.id,
                 actor_id=user.id, ip=ip)
    has_codes = session.exec(select(RecoveryCode.id).where(RecoveryCode.user_id == user.id,
                                                           col(RecoveryCode.used_at).is_(None))).first()
    return [] if has_codes else regenerate_recovery_codes(session, user_id=user.id, ip=ip)


def regenerate_recovery_codes(session: Session, *, user_id: uuid.UUID, ip: str | None = None) -> list[str]:
    session.exec(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = [f"{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}" for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all([RecoveryCode(user_id=user_id, code_hash=hash_token(code)) for code in codes])
    session.flush()
    audit.record(session, action="identity.mfa.recovery_codes_generated", object_type="user", object_id=user_id,
                 actor_id=user_id, ip=ip)
    return codes


def remaining_recovery_codes(session: Session, *, user_id: uuid.UUID) -> int:
    return len(session.exec(select(RecoveryCode.id).where(RecoveryCode.user_id == user_id,
                                                          col(RecoveryCode.used_at).is_(None))).all())


def check_second_factor(session: Session, *, user: User, method: str, code: str) -> str | None:
    """None when the code is right (and it is spent), else the message to show."""
    if method not in methods_for(user):
        return "Choose one of your sign-in methods."
    if method == "totp":
        ok = _totp_ok(user, code)
        session.add(user)
        return None if ok else "That code is not right."
    if method == "email":
        return tokens.check_code(session, user_id=user.id, code=code, purpose=TokenPurpose.mfa_email_code)
    normalized = (code or "").strip().lower()
    row = session.exec(select(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                                  RecoveryCode.code_hash == hash_token(normalized),
                                                  col(RecoveryCode.used_at).is_(None))).first()
    if row is None:
        return "That recovery code is not valid or was already used."
    row.used_at = utcnow()
    session.add(row)
    audit.record(session, action="identity.mfa.recovery_code_used", object_type="user", object_id=user.id,
                 actor_id=user.id)
    return None


def disable_mfa(session: Session, *, user_id: uuid.UUID, password: str, ip: str | None = None) -> None:
    user = session.get(User, user_id)
    if not verify_password(user.password_hash, password or ""):
        raise ValidationFailed("Your password is not right.", field="password")
    user.totp_secret = None
    user.totp_enabled_at = None
    user.email_otp_enabled = False
    session.add(user)
    session.exec(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record(session, action="identity.mfa.disabled", object_type="user", object_id=user.id, actor_id=user.id,
                 ip=ip)
