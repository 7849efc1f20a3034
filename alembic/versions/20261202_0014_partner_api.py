"""partner API keys and outbound webhooks

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 07:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel types
from alembic import op
from sqlalchemy.dialects import postgresql

import icc_app.core.models  # noqa: F401 - UTCDateTime
import icc_app.core.security  # noqa: F401 - EncryptedString
from icc_app.core.migrations import disable_tenant_rls, enable_tenant_rls

TENANT_TABLES = ('partner_api_keys', 'partner_api_key_events', 'partner_webhook_endpoints',
                 'partner_webhook_deliveries', 'partner_webhook_attempts')

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('partner_api_keys',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('prefix', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('key_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('expires_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rate_limit_per_minute', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('last_used_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_used_ip', sqlmodel.sql.sqltypes.AutoString(length=45), nullable=True),
    sa.Column('rotated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('grace_until', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('replaced_by_id', sa.Uuid(), nullable=True),
    sa.Column('revoked_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_partner_api_keys_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_partner_api_keys_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['revoked_by'], ['users.id'], name=op.f('fk_partner_api_keys_revoked_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_partner_api_keys_key_hash'))
    )
    op.create_index(op.f('ix_partner_api_keys_business_id'), 'partner_api_keys', ['business_id'], unique=False)
    op.create_table('partner_webhook_endpoints',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('secret', icc_app.core.security.EncryptedString(), nullable=False),
    sa.Column('secret_hint', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_partner_webhook_endpoints_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_partner_webhook_endpoints_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_webhook_endpoints'))
    )
    op.create_index(op.f('ix_partner_webhook_endpoints_business_id'), 'partner_webhook_endpoints', ['business_id'], unique=False)
    op.create_table('partner_api_key_events',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('key_id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_partner_api_key_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_partner_api_key_events_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['key_id'], ['partner_api_keys.id'], name=op.f('fk_partner_api_key_events_key_id_partner_api_keys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_api_key_events'))
    )
    op.create_index(op.f('ix_partner_api_key_events_business_id'), 'partner_api_key_events', ['business_id'], unique=False)
    op.create_index(op.f('ix_partner_api_key_events_key_id'), 'partner_api_key_events', ['key_id'], unique=False)
    op.create_table('partner_webhook_deliveries',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('endpoint_id', sa.Uuid(), nullable=False),
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('event_type', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('locked_until', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_attempt_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('redelivery_of', sa.Uuid(), nullable=True),
    sa.Column('requested_by', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_partner_webhook_deliveries_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['endpoint_id'], ['partner_webhook_endpoints.id'], name=op.f('fk_partner_webhook_deliveries_endpoint_id_partner_webhook_endpoints'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_partner_webhook_deliveries_requested_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_webhook_deliveries'))
    )
    op.create_index(op.f('ix_partner_webhook_deliveries_business_id'), 'partner_webhook_deliveries', ['business_id'], unique=False)
    op.create_index('ix_partner_webhook_deliveries_due', 'partner_webhook_deliveries', ['status', 'next_attempt_at'], unique=False)
    op.create_index('ix_partner_webhook_deliveries_endpoint_created', 'partner_webhook_deliveries', ['endpoint_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_partner_webhook_deliveries_event_id'), 'partner_webhook_deliveries', ['event_id'], unique=False)
    op.create_table('partner_webhook_attempts',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('delivery_id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('response_excerpt', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_partner_webhook_attempts_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['delivery_id'], ['partner_webhook_deliveries.id'], name=op.f('fk_partner_webhook_attempts_delivery_id_partner_webhook_deliveries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_webhook_attempts'))
    )
    op.create_index(op.f('ix_partner_webhook_attempts_business_id'), 'partner_webhook_attempts', ['business_id'], unique=False)
    op.create_index(op.f('ix_partner_webhook_attempts_delivery_id'), 'partner_webhook_attempts', ['delivery_id'], unique=False)
    enable_tenant_rls(op, *TENANT_TABLES)


def downgrade() -> None:
    disable_tenant_rls(op, *TENANT_TABLES)
    op.drop_index(op.f('ix_partner_webhook_attempts_delivery_id'), table_name='partner_webhook_attempts')
    op.drop_index(op.f('ix_partner_webhook_attempts_business_id'), table_name='partner_webhook_attempts')
    op.drop_table('partner_webhook_attempts')
    op.drop_index(op.f('ix_partner_webhook_deliveries_event_id'), table_name='partner_webhook_deliveries')
    op.drop_index('ix_partner_webhook_deliveries_endpoint_created', table_name='partner_webhook_deliveries')
    op.drop_index('ix_partner_webhook_deliveries_due', table_name='partner_webhook_deliveries')
    op.drop_index(op.f('ix_partner_webhook_deliveries_business_id'), table_name='partner_webhook_deliveries')
    op.drop_table('partner_webhook_deliveries')
    op.drop_index(op.f('ix_partner_api_key_events_key_id'), table_name='partner_api_key_events')
    op.drop_index(op.f('ix_partner_api_key_events_business_id'), table_name='partner_api_key_events')
    op.drop_table('partner_api_key_events')
    op.drop_index(op.f('ix_partner_webhook_endpoints_business_id'), table_name='partner_webhook_endpoints')
    op.drop_table('partner_webhook_endpoints')
    op.drop_index(op.f('ix_partner_api_keys_business_id'), table_name='partner_api_keys')
    op.drop_table('partner_api_keys')
