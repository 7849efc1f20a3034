"""Platform tasks: email delivery and the nightly audit-chain check."""

from __future__ import annotations

import logging

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
)
def send_email(*, to: str, template: str, context: dict) -> str:
    return notifications.send_email(to=to, template=template, context=context)


@celery_app.task(name="core.verify_audit_chain")
def verify_audit_chain() -> dict:
    """Verify the whole chain; on failure notify every platform admin (in-app and email)."""
    from icc_app.identity.models import User

    with unit_of_work() as session:
        report = audit.verify_chain(session)
        if not report.ok:
            log.error("audit chain broken at row %s: %s", report.first_bad_id, report.problem)
            admins = session.exec(select(User).where(User.is_platform_admin == True)).all()  # noqa: E712
            for admin in admins:
                notifications.notify(
                    session,
                    user_id=admin.id,
                    email=admin.email,
                    kind="security.audit_chain_broken",
                    title=f"Audit log integrity check failed at row {report.first_bad_id}",
                    body=report.problem or "",
                    link="/admin/audit",
                    template="audit_chain_broken",
                    context={"row_id": report.first_bad_id, "problem": report.problem, "rows_checked": report.rows_checked},
                )
    return {"ok": report.ok, "rows_checked": report.rows_checked, "first_bad_id": report.first_bad_id}
