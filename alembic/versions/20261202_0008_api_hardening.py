"""api hardening: one open offer per buyer business and lot (partial unique index)

Existing duplicates (the check-then-insert race let a buyer open several threads on one lot) are closed first,
newest kept, each with a "close" round saying why, so the index can be built.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:50:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from icc_app.core.models import UTCDateTime

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "uq_offers_open_per_buyer_lot"
OPEN = sa.text("status = 'open'")
REASON = "a newer open offer of the same buyer on this lot"

offers = sa.table("offers", sa.column("id", sa.Uuid()), sa.column("lot_id", sa.Uuid()),
                  sa.column("buyer_business_id", sa.Uuid()), sa.column("status", sa.String()),
                  sa.column("closed_reason", sa.String()), sa.column("created_at", UTCDateTime()),
                  sa.column("updated_at", UTCDateTime()))
rounds = sa.table("offer_rounds", sa.column("offer_id", sa.Uuid()), sa.column("party", sa.String()),
                  sa.column("action", sa.String()), sa.column("message", sa.String()),
                  sa.column("created_at", UTCDateTime()), sa.column("updated_at", UTCDateTime()))


def _close_duplicates(conn) -> None:
    rows = conn.execute(sa.select(offers.c.id, offers.c.lot_id, offers.c.buyer_business_id)
                        .where(offers.c.status == "open")
                        .order_by(offers.c.created_at.desc(), offers.c.id.desc())).all()
    seen, duplicates = set(), []
    for offer_id, lot_id, buyer_id in rows:
        if (lot_id, buyer_id) in seen:
            duplicates.append(offer_id)
        seen.add((lot_id, buyer_id))
    now = datetime.now(UTC)
    for offer_id in duplicates:
        conn.execute(offers.update().where(offers.c.id == offer_id)
                     .values(status="closed", closed_reason=REASON, updated_at=now))
        conn.execute(rounds.insert().values(offer_id=offer_id, party="buyer", action="close", message=REASON,
                                            created_at=now, updated_at=now))


def upgrade() -> None:
    _close_duplicates(op.get_bind())
    op.create_index(INDEX, "offers", ["lot_id", "buyer_business_id"], unique=True,
                    postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="offers")
