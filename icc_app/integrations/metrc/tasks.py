"""Metrc tasks: the compliance check of one connection (scheduled by `metrc.compliance_tick`, hourly, with each
connection sent at a random moment within ten minutes), and the CCX order workflows (create the outgoing transfer
template, follow the transfer). Each takes ids, reloads, and is safe to run twice."""

from __future__ import annotations

import random
import uuid

from sqlmodel import col, select

from icc_app.core.db import unit_of_work
from icc_app.integrations.base import IntegrationError
from icc_app.integrations.metrc import compliance
from icc_app.integrations.models import Connection, ConnectionStatus
from workers.celery_app import celery_app

CHECKED = (ConnectionStatus.new, ConnectionStatus.healthy, ConnectionStatus.failing)


@celery_app.task(name="metrc.compliance_check", soft_time_limit=900, time_limit=960)
def compliance_check(connection_id: str, trigger: str = "schedule") -> dict:
    try:
        check_id = compliance.run_check(uuid.UUID(connection_id), trigger=trigger)
    except IntegrationError as exc:  # stored on a failed check row; the next tick tries again
        return {"status": "failed", "error": exc.message}
    return {"status": "succeeded", "check_id": str(check_id)}


@celery_app.task(name="metrc.compliance_tick")
def compliance_tick() -> int:
    with unit_of_work() as session:
        ids = list(session.exec(select(Connection.id).where(Connection.vendor == "metrc",
                                                            col(Connection.status).in_([s.value for s in CHECKED]))))
    for connection_id in ids:
        compliance_check.apply_async((str(connection_id), "schedule"), countdown=random.uniform(0, 600))
    return len(ids)


@celery_app.task(name="metrc.create_template", soft_time_limit=300, time_limit=360)
def create_template(order_id: str) -> str:
    from icc_app.integrations.metrc import workflows

    return workflows.create_template(uuid.UUID(order_id))


@celery_app.task(name="metrc.follow_transfer", soft_time_limit=300, time_limit=360)
def follow_transfer(order_id: str) -> str:
    from icc_app.integrations.metrc import workflows

    try:
        return workflows.follow_transfer(uuid.UUID(order_id))
    except IntegrationError as exc:
        return f"failed: {exc.message}"


@celery_app.task(name="metrc.follow_transfers")
def follow_transfers() -> int:
    """Every 5 minutes: orders whose template waits for its manifest or whose transfer has not departed."""
    from icc_app.integrations.metrc import workflows

    with unit_of_work() as session:
        order_ids = workflows.links_to_follow(session)
    for order_id in order_ids:
        follow_transfer.apply_async((str(order_id),), countdown=random.uniform(0, 120))
    return len(order_ids)
