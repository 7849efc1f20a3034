"""In-app notifications and templated email.

Services call `notify(session, ...)`: it stores the in-app notification in the caller's transaction and
enqueues the email on the `notifications` queue, so mail goes out only for changes that committed. Every email
is first a row of the outbox (`queue_email`, recipient and context encrypted at rest) and the task takes only its
id: a task delivered twice (a worker killed after sending, a retry) finds the row marked sent and sends nothing. Email
templates live in icc_app/core/templates/email/<name>.txt (first line "Subject: ..."). SMTP_URL picks the
transport: smtp(s)://... or console:// (embedded mode: the message is written to the log).
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import uuid
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from urllib.parse import unquote, urlparse

import sqlalchemy as sa
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlmodel import Field, Session, col, select

from icc_app.core.db import enqueue
from icc_app.core.models import UTCDateTime, UUIDModel, utcnow
from icc_app.core.security import EncryptedString
from icc_app.settings import get_settings

log = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).parent / "templates" / "email"
_env = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR), undefined=StrictUndefined, autoescape=select_autoescape([])
)


class Notification(UUIDModel, table=True):
    """One in-app notification for one user (the bell in the top bar)."""

    __tablename__ = "notifications"

    user_id: uuid.UUID = Field(index=True)
    kind: str = Field(max_length=60)
    title: str = Field(max_length=200)
    body: str = Field(default="", sa_type=sa.Text)
    link: str | None = Field(default=None, max_length=500)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutboundEmail(UUIDModel, table=True):
    """One email to send; `sent_at` makes delivery idempotent (the task is keyed by this id)."""

    __tablename__ = "outbound_emails"

    recipient: str = Field(sa_type=EncryptedString)
    template: str = Field(max_length=60)
    context: str = Field(sa_type=EncryptedString)  # JSON; may hold one-time codes and tokens, so encrypted
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    message_id: str | None = Field(default=None, max_length=200)


def render_email(template: str, context: dict) -> tuple[str, str]:
    """Return (subject, body) of a template; a missing variable is an error, not a blank."""
    text = _env.get_template(f"{template}.txt").render(**context, public_url=get_settings().public_url)
    first, _, body = text.partition("\n")
    if not first.startswith("Subject:"):
        raise ValueError(f"email template {template!r} must start with 'Subject: '")
    return first.removeprefix("Subject:").strip(), body.lstrip("\n")


def notify(
    session: Session,
    *,
    user_id: uuid.UUID,
    email: str | None,
    kind: str,
    title: str,
    body: str = "",
    link: str | None = None,
    template: str | None = None,
    context: dict | None = None,
) -> Notification:
    note = Notification(user_id=user_id, kind=kind, title=title, body=body, link=link)
    session.add(note)
    session.flush()
    if email and template:
        queue_email(session, to=email, template=template, context=context or {})
    return note


def queue_email(session: Session, *, to: str, template: str, context: dict) -> OutboundEmail:
    """Store one email in the outbox and send it after the caller's commit (task keyed by the row id)."""
    render_email(template, context)  # fail now, in the caller's transaction, on a bad template
    email = OutboundEmail(recipient=to, template=template, context=json.dumps(context, default=str))
    session.add(email)
    session.flush()
    enqueue(session, "notifications.send_email", str(email.id))
    return email


def deliver(email_id: uuid.UUID) -> str:
    """Send one outbox email unless it was already sent; returns its Message-ID.

    The row is locked while sending, so two workers holding the same task send once. If the process dies
    after the SMTP server accepted the message but before the commit, the next run sends it again with the
    same Message-ID (at-least-once; receivers can de-duplicate on it)."""
    from icc_app.core.db import unit_of_work

    with unit_of_work() as session:
        query = select(OutboundEmail).where(OutboundEmail.id == email_id)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        email = session.exec(query).first()
        if email is None:
            log.warning("email %s is not in the outbox; nothing sent", email_id)
            return "missing"
        if email.sent_at is not None:
            return email.message_id or "sent"
        message_id = f"<{email.id}@icc.local>"
        send_email(to=email.recipient, template=email.template, context=json.loads(email.context), message_id=message_id)
        email.sent_at, email.message_id = utcnow(), message_id
        session.add(email)
        return message_id


def send_email(*, to: str, template: str, context: dict, message_id: str | None = None) -> str:
    """Render and deliver one email; returns its Message-ID."""
    settings = get_settings()
    subject, body = render_email(template, context)
    message = EmailMessage()
    message["From"] = settings.email_from
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="icc.local")
    message.set_content(body)
    url = urlparse(settings.smtp_url)
    if url.scheme == "console":
        log.warning("EMAIL (console backend)\nTo: %s\nSubject: %s\n\n%s", to, subject, body)
        return message["Message-ID"]
    port = url.port or (465 if url.scheme == "smtps" else 25)
    if url.scheme == "smtps":
        server: smtplib.SMTP = smtplib.SMTP_SSL(url.hostname, port, context=ssl.create_default_context(), timeout=20)
    else:
        server = smtplib.SMTP(url.hostname, port, timeout=20)
    with server:
        if url.scheme == "smtp" and port == 587:
            server.starttls(context=ssl.create_default_context())
        if url.username:
            server.login(unquote(url.username), unquote(url.password or ""))
        server.send_message(message)
    return message["Message-ID"]


def unread_count(session: Session, *, user_id: uuid.UUID) -> int:
    return session.exec(
        select(sa.func.count()).select_from(Notification).where(
            Notification.user_id == user_id, col(Notification.read_at).is_(None)
        )
    ).one()


def list_for_user(session: Session, *, user_id: uuid.UUID, limit: int = 50, offset: int = 0) -> list[Notification]:
    return list(
        session.exec(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(col(Notification.created_at).desc())
            .limit(limit)
            .offset(offset)
        )
    )


def mark_all_read(session: Session, *, user_id: uuid.UUID) -> int:
    result = session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user_id, col(Notification.read_at).is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount or 0
