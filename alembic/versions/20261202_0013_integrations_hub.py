"""integrations hub: connections, sync runs, webhook events, POS sales, customers, inventory

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 07:03:19.174980
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel types
from alembic import op

import icc_app.core.models  # noqa: F401 - UTCDateTime
import icc_app.core.security  # noqa: F401 - EncryptedString
from icc_app.core.migrations import disable_tenant_rls, enable_tenant_rls
from sqlalchemy.dialects import postgresql

TENANT_TABLES = ('integration_connections', 'integration_connection_events', 'integration_sync_runs',
                 'integration_synced_records', 'integration_webhook_events', 'pos_customers', 'pos_inventory',
                 'pos_sales', 'pos_sale_lines')

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('integration_connections',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('vendor', sa.String(length=20), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('base_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('location_id', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('dispensary_id', sa.Uuid(), nullable=True),
    sa.Column('credentials', icc_app.core.security.EncryptedString(), nullable=False),
    sa.Column('credentials_hint', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('webhook_secret', icc_app.core.security.EncryptedString(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('interval_minutes', sa.Integer(), nullable=False),
    sa.Column('next_sync_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('last_error_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cursors', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_integration_connections_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_integration_connections_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['dispensary_id'], ['dispensaries.id'], name=op.f('fk_integration_connections_dispensary_id_dispensaries'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integration_connections'))
    )
    op.create_index(op.f('ix_integration_connections_business_id'), 'integration_connections', ['business_id'], unique=False)
    op.create_index('ix_integration_connections_due', 'integration_connections', ['status', 'next_sync_at'], unique=False)
    op.create_table('integration_connection_events',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('connection_id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_integration_connection_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_integration_connection_events_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['connection_id'], ['integration_connections.id'], name=op.f('fk_integration_connection_events_connection_id_integration_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integration_connection_events'))
    )
    op.create_index(op.f('ix_integration_connection_events_business_id'), 'integration_connection_events', ['business_id'], unique=False)
    op.create_index(op.f('ix_integration_connection_events_connection_id'), 'integration_connection_events', ['connection_id'], unique=False)
    op.create_table('integration_sync_runs',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('connection_id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('trigger', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('streams', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('requested_by', sa.Uuid(), nullable=True),
    sa.Column('started_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_until', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('progress', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('out_of_stock', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('sales', sa.Integer(), nullable=False),
    sa.Column('customers', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_integration_sync_runs_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['connection_id'], ['integration_connections.id'], name=op.f('fk_integration_sync_runs_connection_id_integration_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_integration_sync_runs_requested_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integration_sync_runs'))
    )
    op.create_index(op.f('ix_integration_sync_runs_business_id'), 'integration_sync_runs', ['business_id'], unique=False)
    op.create_index('ix_integration_sync_runs_connection_created', 'integration_sync_runs', ['connection_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_integration_sync_runs_connection_id'), 'integration_sync_runs', ['connection_id'], unique=False)
    op.create_table('integration_synced_records',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('connection_id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_integration_synced_records_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['connection_id'], ['integration_connections.id'], name=op.f('fk_integration_synced_records_connection_id_integration_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integration_synced_records')),
    sa.UniqueConstraint('connection_id', 'kind', 'external_id', name='uq_integration_synced_records_key')
    )
    op.create_index(op.f('ix_integration_synced_records_business_id'), 'integration_synced_records', ['business_id'], unique=False)
    op.create_table('integration_webhook_events',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('vendor', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('connection_id', sa.Uuid(), nullable=True),
    sa.Column('business_id', sa.Uuid(), nullable=True),
    sa.Column('event_type', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('processed_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_integration_webhook_events_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['connection_id'], ['integration_connections.id'], name=op.f('fk_integration_webhook_events_connection_id_integration_connections'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integration_webhook_events')),
    sa.UniqueConstraint('vendor', 'event_id', name='uq_integration_webhook_events_vendor_event')
    )
    op.create_index(op.f('ix_integration_webhook_events_business_id'), 'integration_webhook_events', ['business_id'], unique=False)
    op.create_index(op.f('ix_integration_webhook_events_connection_id'), 'integration_webhook_events', ['connection_id'], unique=False)
    op.create_table('pos_customers',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('connection_id', sa.Uuid(), nullable=False),
    sa.Column('external_ref', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('email_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('phone_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('name', icc_app.core.security.EncryptedString(), nullable=True),
    sa.Column('email', icc_app.core.security.EncryptedString(), nullable=True),
    sa.Column('phone', icc_app.core.security.EncryptedString(), nullable=True),
    sa.Column('birth_date', icc_app.core.security.EncryptedString(), nullable=True),
    sa.Column('customer_type', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('email_opt_in', sa.Boolean(), nullable=True),
    sa.Column('sms_opt_in', sa.Boolean(), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
    sa.Column('postal_code', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('first_seen_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_pos_customers_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['connection_id'], ['integration_connections.id'], name=op.f('fk_pos_customers_connection_id_integration_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pos_customers')),
    sa.UniqueConstraint('connection_id', 'external_ref', name='uq_pos_customers_external')
    )
    op.create_index('ix_pos_customers_business_email', 'pos_customers', ['business_id', 'email_hash'], unique=False)
    op.create_index(op.f('ix_pos_customers_business_id'), 'pos_customers', ['business_id'], unique=False)
    op.create_index('ix_pos_customers_business_phone', 'pos_customers', ['business_id', 'phone_hash'], unique=False)
    op.create_table('pos_inventory',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('connection_id', sa.Uuid(), nullable=False),
    sa.Column('menu_item_id', sa.Uuid(), nullable=True),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=14, scale=3), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('unit_cost', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('batch', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('package_label', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_pos_inventory_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['connection_id'], ['integration_connections.id'], name=op.f('fk_pos_inventory_connection_id_integration_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['menu_item_id'], ['menu_items.id'], name=op.f('fk_pos_inventory_menu_item_id_menu_items'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pos_inventory')),
    sa.UniqueConstraint('connection_id', 'external_id', name='uq_pos_inventory_external')
    )
    op.create_index(op.f('ix_pos_inventory_business_id'), 'pos_inventory', ['business_id'], unique=False)
    op.create_table('pos_sales',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('connection_id', sa.Uuid(), nullable=False),
    sa.Column('dispensary_id', sa.Uuid(), nullable=True),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('occurred_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('customer_ref', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('subtotal', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('discount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('tax', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('total', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('is_return', sa.Boolean(), nullable=False),
    sa.Column('is_void', sa.Boolean(), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_pos_sales_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['connection_id'], ['integration_connections.id'], name=op.f('fk_pos_sales_connection_id_integration_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['dispensary_id'], ['dispensaries.id'], name=op.f('fk_pos_sales_dispensary_id_dispensaries'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pos_sales')),
    sa.UniqueConstraint('connection_id', 'external_id', name='uq_pos_sales_external')
    )
    op.create_index('ix_pos_sales_business_time', 'pos_sales', ['business_id', 'occurred_at'], unique=False)
    op.create_index(op.f('ix_pos_sales_connection_id'), 'pos_sales', ['connection_id'], unique=False)
    op.create_index(op.f('ix_pos_sales_customer_ref'), 'pos_sales', ['customer_ref'], unique=False)
    op.create_table('pos_sale_lines',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('sale_id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('product_external_id', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('menu_item_id', sa.Uuid(), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=14, scale=3), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('discount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('total', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('unit_cost', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_pos_sale_lines_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['menu_item_id'], ['menu_items.id'], name=op.f('fk_pos_sale_lines_menu_item_id_menu_items'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sale_id'], ['pos_sales.id'], name=op.f('fk_pos_sale_lines_sale_id_pos_sales'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pos_sale_lines'))
    )
    op.create_index('ix_pos_sale_lines_business_product', 'pos_sale_lines', ['business_id', 'product_external_id'], unique=False)
    op.create_index(op.f('ix_pos_sale_lines_sale_id'), 'pos_sale_lines', ['sale_id'], unique=False)
    enable_tenant_rls(op, *TENANT_TABLES)


def downgrade() -> None:
    disable_tenant_rls(op, *TENANT_TABLES)
    op.drop_index(op.f('ix_pos_sale_lines_sale_id'), table_name='pos_sale_lines')
    op.drop_index('ix_pos_sale_lines_business_product', table_name='pos_sale_lines')
    op.drop_table('pos_sale_lines')
    op.drop_index(op.f('ix_pos_sales_customer_ref'), table_name='pos_sales')
    op.drop_index(op.f('ix_pos_sales_connection_id'), table_name='pos_sales')
    op.drop_index('ix_pos_sales_business_time', table_name='pos_sales')
    op.drop_table('pos_sales')
    op.drop_index(op.f('ix_pos_inventory_business_id'), table_name='pos_inventory')
    op.drop_table('pos_inventory')
    op.drop_index('ix_pos_customers_business_phone', table_name='pos_customers')
    op.drop_index(op.f('ix_pos_customers_business_id'), table_name='pos_customers')
    op.drop_index('ix_pos_customers_business_email', table_name='pos_customers')
    op.drop_table('pos_customers')
    op.drop_index(op.f('ix_integration_webhook_events_connection_id'), table_name='integration_webhook_events')
    op.drop_index(op.f('ix_integration_webhook_events_business_id'), table_name='integration_webhook_events')
    op.drop_table('integration_webhook_events')
    op.drop_index(op.f('ix_integration_synced_records_business_id'), table_name='integration_synced_records')
    op.drop_table('integration_synced_records')
    op.drop_index(op.f('ix_integration_sync_runs_connection_id'), table_name='integration_sync_runs')
    op.drop_index('ix_integration_sync_runs_connection_created', table_name='integration_sync_runs')
    op.drop_index(op.f('ix_integration_sync_runs_business_id'), table_name='integration_sync_runs')
    op.drop_table('integration_sync_runs')
    op.drop_index(op.f('ix_integration_connection_events_connection_id'), table_name='integration_connection_events')
    op.drop_index(op.f('ix_integration_connection_events_business_id'), table_name='integration_connection_events')
    op.drop_table('integration_connection_events')
    op.drop_index('ix_integration_connections_due', table_name='integration_connections')
    op.drop_index(op.f('ix_integration_connections_business_id'), table_name='integration_connections')
    op.drop_table('integration_connections')
