"""menu prices as money: a Decimal to the cent with its currency

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 03:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("menu_items") as batch:
        batch.alter_column("price", existing_type=sa.Float(), type_=sa.Numeric(12, 2), existing_nullable=True,
                           postgresql_using="round(price::numeric, 2)")
        batch.add_column(sa.Column("currency", sa.String(length=3), nullable=False, server_default="USD"))


def downgrade() -> None:
    with op.batch_alter_table("menu_items") as batch:
        batch.drop_column("currency")
        batch.alter_column("price", existing_type=sa.Numeric(12, 2), type_=sa.Float(), existing_nullable=True)
