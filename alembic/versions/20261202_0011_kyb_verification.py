"""kyb verification

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 01:50:00

Licenses get the premises address the claimant entered, the hashed one-time code sent to the regulator's contact,
and an event row per change (license_events); the registry keeps the licensee email the regulator lists.
Licenses that an earlier version verified on public data alone (verified_by 'registry') go back to pending:
their businesses finish the new checks (confirmed email, registry address, proof of control).
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - sqlmodel string types
from alembic import op

import icc_app.core.models

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REOPEN_REASON = ("Number, state and name are public, so they no longer verify a license on their own: confirm "
                 "your email, the premises address and that you control the license.")


def upgrade() -> None:
    op.create_table('license_events',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('license_id', sa.Uuid(), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('verb', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('from_state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('to_state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['license_id'], ['business_licenses.id'],
                            name=op.f('fk_license_events_license_id_business_licenses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_license_events'))
    )
    op.create_index(op.f('ix_license_events_license_id'), 'license_events', ['license_id'], unique=False)
    with op.batch_alter_table('license_registry') as batch:
        batch.add_column(sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True))
    with op.batch_alter_table('business_licenses') as batch:
        batch.add_column(sa.Column('submitted_by', sa.Uuid(), nullable=True))
        batch.add_column(sa.Column('premise_street', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch.add_column(sa.Column('premise_city', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch.add_column(sa.Column('premise_postal_code', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True))
        batch.add_column(sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch.add_column(sa.Column('code_expires_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('code_attempts', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('business_licenses') as batch:
        batch.alter_column('code_attempts', server_default=None)

    now = datetime.now(UTC)
    licenses = sa.table('business_licenses', sa.column('id', sa.Uuid()), sa.column('verification', sa.String()),
                        sa.column('verified_by', sa.String()), sa.column('verified_at', icc_app.core.models.UTCDateTime()),
                        sa.column('verification_reasons', sa.JSON()))
    events = sa.table('license_events', sa.column('created_at', icc_app.core.models.UTCDateTime()),
                      sa.column('updated_at', icc_app.core.models.UTCDateTime()), sa.column('license_id', sa.Uuid()),
                      sa.column('verb', sa.String()), sa.column('from_state', sa.String()),
                      sa.column('to_state', sa.String()), sa.column('note', sa.String()))
    public_data_only = sa.and_(licenses.c.verification == 'verified', licenses.c.verified_by == 'registry')
    op.execute(events.insert().from_select(
        ['created_at', 'updated_at', 'license_id', 'verb', 'from_state', 'to_state', 'note'],
        sa.select(sa.literal(now, icc_app.core.models.UTCDateTime()), sa.literal(now, icc_app.core.models.UTCDateTime()),
                  licenses.c.id, sa.literal('reopen'), sa.literal('verified'), sa.literal('pending'),
                  sa.literal(REOPEN_REASON)).where(public_data_only)))
    op.execute(licenses.update().where(public_data_only).values(
        verification='pending', verified_by=None, verified_at=None, verification_reasons=[REOPEN_REASON]))


def downgrade() -> None:
    with op.batch_alter_table('business_licenses') as batch:
        for column in ('code_attempts', 'code_expires_at', 'code_hash', 'premise_postal_code', 'premise_city',
                       'premise_street', 'submitted_by'):
            batch.drop_column(column)
    with op.batch_alter_table('license_registry') as batch:
        batch.drop_column('email')
    op.drop_index(op.f('ix_license_events_license_id'), table_name='license_events')
    op.drop_table('license_events')
    # Licenses in the new states read as pending to the older code.
    op.execute("UPDATE business_licenses SET verification = 'pending' WHERE verification IN ('code_sent', 'revoked')")
