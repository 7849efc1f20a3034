"""What the Point of sale page reads in one unit of work: the business's claimed stores, its connections (each with
its queued or running sync) and the newest sync runs, as cards. No reflex here: the page state calls `page_data`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel import Session, col, select

from icc_app.identity.schemas import Principal
from icc_app.integrations import service, sync
from icc_app.integrations.models import SyncRun
from icc_app.integrations.ui.cards import ConnectionCard, RunCard, connection_card, run_card
from icc_app.maps.models import Dispensary

RUNS_SHOWN = 50


@dataclass
class PageData:
    dispensaries: list[dict[str, str]]  # the business's claimed stores: {"id", "name"}
    connections: list[ConnectionCard]
    runs: list[RunCard]


def page_data(session: Session, principal: Principal, business_id: uuid.UUID, *, run_connection: str = "all",
              run_status: str = "all", limit: int = RUNS_SHOWN) -> PageData:
    """Disconnected connections come last; runs newest first, filtered by connection id and status ("all": any)."""
    rows = service.list_for_business(session, principal, business_id)  # refuses a non-member
    stores = session.exec(select(Dispensary).where(Dispensary.claimed_by_business_id == business_id)
                          .order_by(col(Dispensary.name))).all()
    names = {d.id: d.dba or d.name for d in stores}
    missing = {c.dispensary_id for c in rows if c.dispensary_id and c.dispensary_id not in names}
    for store in (session.exec(select(Dispensary).where(col(Dispensary.id).in_(missing))) if missing else []):
        names[store.id] = store.dba or store.name  # a store no longer claimed still names what a connection fed
    active = {run.connection_id: run for run in session.exec(select(SyncRun).where(
        col(SyncRun.connection_id).in_([c.id for c in rows]), col(SyncRun.status).in_(sync.ACTIVE))
        .order_by(col(SyncRun.created_at).desc()))}
    connections = [connection_card(c, dispensary_name=names.get(c.dispensary_id), active_run=active.get(c.id))
                   for c in sorted(rows, key=lambda c: (c.status == "disconnected", c.created_at))]
    labels = {c.id: c.name for c in rows}
    query = select(SyncRun).where(SyncRun.business_id == business_id)
    if run_connection != "all":
        query = query.where(SyncRun.connection_id == uuid.UUID(run_connection))
    if run_status != "all":
        query = query.where(SyncRun.status == run_status)
    runs = [run_card(r, connection_name=labels.get(r.connection_id, "Removed connection"))
            for r in session.exec(query.order_by(col(SyncRun.created_at).desc()).limit(limit))]
    return PageData(dispensaries=[{"id": str(d.id), "name": names[d.id]} for d in stores], connections=connections,
                    runs=runs)
