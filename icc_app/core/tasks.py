"""Platform tasks: email delivery, the nightly audit-chain check and the audit checkpoint."""

from __future__ import annotations

import logging
import uuid

from sqlmodel import select

from icc_app.core import audit, notifications
from icc_app.core.db import unit_of_work
from workers.celery_app import celery_app

log = logging.getLogger(__name__)


@celery_app.task(
    name="notifications.send_email",
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_kwargs={"max_retries": 5},
    soft_time_limit=60,
    time_limit=90,
)
def send_email(email_id: str | None = None, *, to: str | None = None, template: str | None = None,
               context: dict | None = None) -> str:
    """Deliver one outbox email by its id (idempotent: a second run sends nothing). The keyword form (to,
    template, context) is kept for messages queued before the outbox existed and is not de-duplicated."""
    if email_id is not None:
        return notifications.deliver(uuid.UUID(email_id))
    return notifications.send_email(to=to or "", template=template or "", context=context or {})


@celery_app.task(name="core.anchor_audit_chain", soft_time_limit=120, time_limit=180)
def anchor_audit_chain() -> dict:
    """Write a signed checkpoint of the chain's head to storage (outside the database). Idempotent: with no row
    appended since the last checkpoint, a run writes nothing."""
    with unit_of_work() as session:
        anchor = audit.write_anchor(session)
    return {"head_id": anchor.head_id if anchor else None}


def _alerted_today(session, user_id, title: str) -> bool:
    from datetime import timedelta

    from icc_app.core.models import utcnow

    return session.exec(select(notifications.Notification.id).where(
        notifications.Notification.user_id == user_id, notifications.Notification.title == title,
        notifications.Notification.created_at > utcnow() - timedelta(days=1))).first() is not None


@celery_app.task(name="core.verify_audit_chain", soft_time_limit=1000, time_limit=1150)
def verify_audit_chain() -> dict:
    """Verify the whole chain; on failure notify every platform admin (in-app and email)."""
    from icc_app.identity.models import User

    with unit_of_work() as session:
        report = audit.verify_chain(session)
        if not report.ok:
            log.error("audit chain broken at row %s: %s", report.first_bad_id, report.problem)
            admins = session.exec(select(User).where(User.is_platform_admin == True)).all()  # noqa: E712
            where = f" at row {report.first_bad_id}" if report.first_bad_id is not None else ""
            title = f"Audit log integrity check failed{where}"
            for admin in admins:
                if _alerted_today(session, admin.id, title):
                    continue  # the task ran twice (re-delivered, or by hand): one alert a day is enough
                notifications.notify(
                    session,
                    user_id=admin.id,
                    email=admin.email,
                    kind="security.audit_chain_broken",
                    title=title,
                    body=report.problem or "",
                    link="/admin/audit",
                    template="audit_chain_broken",
                    context={"row_id": report.first_bad_id, "problem": report.problem, "rows_checked": report.rows_checked},
                )
    return {"ok": report.ok, "rows_checked": report.rows_checked, "first_bad_id": report.first_bad_id}
