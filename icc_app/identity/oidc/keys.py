"""RS256 signing keys for id_tokens, with rotation that keeps retired keys published while their tokens live."""

from __future__ import annotations

import secrets
from datetime import timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import RSAKey
from sqlmodel import Session, col, or_, select

from icc_app.core import audit
from icc_app.core.models import utcnow
from icc_app.identity.oidc.models import SigningKey

# Longest life of anything a key signs (id_tokens live an hour); a retired key stays in the JWKS this long.
PUBLISH_AFTER_RETIREMENT = timedelta(hours=2)


def _new_key(session: Session) -> SigningKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    kid = secrets.token_urlsafe(12)
    public = RSAKey.import_key(pem).as_dict(private=False)
    row = SigningKey(kid=kid, private_pem=pem, public_jwk={**public, "kid": kid, "use": "sig", "alg": "RS256"})
    session.add(row)
    session.flush()
    return row


def active_key(session: Session) -> SigningKey:
    """The newest unretired key; made on first use so a fresh install needs no set-up step."""
    row = session.exec(select(SigningKey).where(col(SigningKey.retired_at).is_(None))
                       .order_by(col(SigningKey.created_at).desc())).first()
    return row or _new_key(session)


def rotate(session: Session, *, actor_id=None) -> SigningKey:
    now = utcnow()
    for old in session.exec(select(SigningKey).where(col(SigningKey.retired_at).is_(None))):
        old.retired_at, old.publish_until = now, now + PUBLISH_AFTER_RETIREMENT
        session.add(old)
    new = _new_key(session)
    audit.record(session, action="identity.oidc.key_rotated", object_type="oidc_signing_key", object_id=new.kid,
                 actor_id=actor_id)
    return new


def jwks(session: Session) -> dict:
    active_key(session)
    rows = session.exec(select(SigningKey).where(or_(col(SigningKey.retired_at).is_(None),
                                                     SigningKey.publish_until > utcnow()))
                        .order_by(col(SigningKey.created_at).desc())).all()
    return {"keys": [row.public_jwk for row in rows]}
