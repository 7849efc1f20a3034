"""workers and audit: COA parse attempts and status events, an idempotent email outbox

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 01:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel types
from alembic import op

import icc_app.core.models  # noqa: F401 - UTCDateTime
import icc_app.core.security  # noqa: F401 - EncryptedString

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column]:
    return [sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
            sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False)]


def upgrade() -> None:
    with op.batch_alter_table('coa_documents') as batch:
        batch.add_column(sa.Column('parse_attempt_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch.add_column(sa.Column('parse_runs', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('parse_started_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('coa_documents') as batch:
        batch.alter_column('parse_runs', server_default=None)
    op.create_table('coa_events',
    *_timestamps(),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('document_id', sa.Uuid(), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('verb', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('attempt_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_coa_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['document_id'], ['coa_documents.id'], name=op.f('fk_coa_events_document_id_coa_documents'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coa_events'))
    )
    op.create_index(op.f('ix_coa_events_document_id'), 'coa_events', ['document_id'], unique=False)
    op.create_table('outbound_emails',
    *_timestamps(),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('recipient', icc_app.core.security.EncryptedString(), nullable=False),
    sa.Column('template', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('context', icc_app.core.security.EncryptedString(), nullable=False),
    sa.Column('sent_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_emails'))
    )


def downgrade() -> None:
    op.drop_table('outbound_emails')
    op.drop_index(op.f('ix_coa_events_document_id'), table_name='coa_events')
    op.drop_table('coa_events')
    with op.batch_alter_table('coa_documents') as batch:
        batch.drop_column('parse_started_at')
        batch.drop_column('parse_runs')
        batch.drop_column('parse_attempt_id')
