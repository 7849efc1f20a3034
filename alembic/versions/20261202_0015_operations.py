"""operations suite - forecasts, reorder, purchase orders, pricing

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 07:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel types
from alembic import op

import icc_app.core.models  # noqa: F401 - UTCDateTime
from icc_app.core.migrations import disable_tenant_rls, enable_tenant_rls

TENANT_TABLES = ('ops_demand_days', 'ops_stock_items', 'ops_forecasts', 'ops_reorder_policies', 'ops_purchase_orders',
                 'ops_purchase_order_lines', 'ops_purchase_order_events', 'ops_category_rules',
                 'ops_price_suggestions')

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ops_category_rules',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('min_margin_pct', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('max_discount_pct', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('max_change_pct_per_day', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('radius_miles', sa.Float(), nullable=False),
    sa.Column('expiry_alert_days', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_ops_category_rules_business_id_businesses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ops_category_rules')),
    sa.UniqueConstraint('business_id', 'category', name='uq_ops_category_rules_key')
    )
    op.create_index(op.f('ix_ops_category_rules_business_id'), 'ops_category_rules', ['business_id'], unique=False)
    op.create_table('ops_demand_days',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('location_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('product_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=14, scale=3), nullable=False),
    sa.Column('revenue', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_ops_demand_days_business_id_businesses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ops_demand_days')),
    sa.UniqueConstraint('business_id', 'location_key', 'product_key', 'day', name='uq_ops_demand_days_key')
    )
    op.create_index(op.f('ix_ops_demand_days_business_id'), 'ops_demand_days', ['business_id'], unique=False)
    op.create_table('ops_purchase_orders',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('location_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('supplier_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('supplier_business_id', sa.Uuid(), nullable=True),
    sa.Column('supplier_email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('total', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('auto', sa.Boolean(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('sent_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_via', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_ops_purchase_orders_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_ops_purchase_orders_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['supplier_business_id'], ['businesses.id'], name=op.f('fk_ops_purchase_orders_supplier_business_id_businesses'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ops_purchase_orders'))
    )
    op.create_index(op.f('ix_ops_purchase_orders_business_id'), 'ops_purchase_orders', ['business_id'], unique=False)
    op.create_index(op.f('ix_ops_purchase_orders_status'), 'ops_purchase_orders', ['status'], unique=False)
    op.create_table('ops_reorder_policies',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('location_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('product_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('supplier_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('supplier_business_id', sa.Uuid(), nullable=True),
    sa.Column('supplier_email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    sa.Column('lead_time_days', sa.Integer(), nullable=False),
    sa.Column('review_period_days', sa.Integer(), nullable=False),
    sa.Column('min_order_qty', sa.Numeric(precision=14, scale=3), nullable=False),
    sa.Column('service_level', sa.Float(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_ops_reorder_policies_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supplier_business_id'], ['businesses.id'], name=op.f('fk_ops_reorder_policies_supplier_business_id_businesses'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ops_reorder_policies')),
    sa.UniqueConstraint('business_id', 'location_key', 'product_key', name='uq_ops_reorder_policies_key')
    )
    op.create_index(op.f('ix_ops_reorder_policies_business_id'), 'ops_reorder_policies', ['business_id'], unique=False)
    op.create_table('ops_purchase_order_events',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('purchase_order_id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_ops_purchase_order_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_ops_purchase_order_events_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['purchase_order_id'], ['ops_purchase_orders.id'], name=op.f('fk_ops_purchase_order_events_purchase_order_id_ops_purchase_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ops_purchase_order_events'))
    )
    op.create_index(op.f('ix_ops_purchase_order_events_business_id'), 'ops_purchase_order_events', ['business_id'], unique=False)
    op.create_index(op.f('ix_ops_purchase_order_events_purchase_order_id'), 'ops_purchase_order_events', ['purchase_order_id'], unique=False)
    op.create_table('ops_purchase_order_lines',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('purchase_order_id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('product_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('strain_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=14, scale=3), nullable=False),
    sa.Column('unit_cost', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('on_hand', sa.Numeric(precision=14, scale=3), nullable=False),
    sa.Column('reorder_point', sa.Numeric(precision=14, scale=3), nullable=False),
    sa.Column('order_up_to', sa.Numeric(precision=14, scale=3), nullable=False),
    sa.Column('lot_id', sa.Uuid(), nullable=True),
    sa.Column('offer_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_ops_purchase_order_lines_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lot_id'], ['lots.id'], name=op.f('fk_ops_purchase_order_lines_lot_id_lots'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_ops_purchase_order_lines_offer_id_offers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['purchase_order_id'], ['ops_purchase_orders.id'], name=op.f('fk_ops_purchase_order_lines_purchase_order_id_ops_purchase_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ops_purchase_order_lines'))
    )
    op.create_index(op.f('ix_ops_purchase_order_lines_business_id'), 'ops_purchase_order_lines', ['business_id'], unique=False)
    op.create_index(op.f('ix_ops_purchase_order_lines_purchase_order_id'), 'ops_purchase_order_lines', ['purchase_order_id'], unique=False)
    op.create_table('ops_forecasts',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('location_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('node_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('menu_item_id', sa.Uuid(), nullable=True),
    sa.Column('frequency', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('model', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('model_version', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('backtest_mase', sa.Float(), nullable=True),
    sa.Column('backtest_mae', sa.Float(), nullable=True),
    sa.Column('residual_sd', sa.Float(), nullable=True),
    sa.Column('history_points', sa.Integer(), nullable=False),
    sa.Column('horizon', sa.Integer(), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('notes', sa.JSON(), nullable=False),
    sa.Column('fast_mover', sa.Boolean(), nullable=False),
    sa.Column('refreshed_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_ops_forecasts_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['menu_item_id'], ['menu_items.id'], name=op.f('fk_ops_forecasts_menu_item_id_menu_items'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ops_forecasts')),
    sa.UniqueConstraint('business_id', 'location_key', 'level', 'node_key', name='uq_ops_forecasts_node')
    )
    op.create_index(op.f('ix_ops_forecasts_business_id'), 'ops_forecasts', ['business_id'], unique=False)
    op.create_table('ops_price_suggestions',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('location_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('product_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('menu_item_id', sa.Uuid(), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('current_price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('suggested_price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('floor_price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('factors', sa.JSON(), nullable=False),
    sa.Column('expected_revenue_change_pct', sa.Float(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('decided_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('applied_via', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_ops_price_suggestions_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_ops_price_suggestions_decided_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['menu_item_id'], ['menu_items.id'], name=op.f('fk_ops_price_suggestions_menu_item_id_menu_items'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ops_price_suggestions'))
    )
    op.create_index('ix_ops_price_suggestions_open', 'ops_price_suggestions', ['business_id', 'status'], unique=False)
    op.create_table('ops_stock_items',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('location_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('product_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('batch', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('menu_item_id', sa.Uuid(), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('strain_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('size_label', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=14, scale=3), nullable=False),
    sa.Column('unit_cost', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('price', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_ops_stock_items_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['menu_item_id'], ['menu_items.id'], name=op.f('fk_ops_stock_items_menu_item_id_menu_items'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ops_stock_items')),
    sa.UniqueConstraint('business_id', 'location_key', 'product_key', 'batch', name='uq_ops_stock_items_key')
    )
    op.create_index(op.f('ix_ops_stock_items_business_id'), 'ops_stock_items', ['business_id'], unique=False)
    enable_tenant_rls(op, *TENANT_TABLES)


def downgrade() -> None:
    disable_tenant_rls(op, *TENANT_TABLES)
    op.drop_index(op.f('ix_ops_stock_items_business_id'), table_name='ops_stock_items')
    op.drop_table('ops_stock_items')
    op.drop_index('ix_ops_price_suggestions_open', table_name='ops_price_suggestions')
    op.drop_table('ops_price_suggestions')
    op.drop_index(op.f('ix_ops_forecasts_business_id'), table_name='ops_forecasts')
    op.drop_table('ops_forecasts')
    op.drop_index(op.f('ix_ops_purchase_order_lines_purchase_order_id'), table_name='ops_purchase_order_lines')
    op.drop_index(op.f('ix_ops_purchase_order_lines_business_id'), table_name='ops_purchase_order_lines')
    op.drop_table('ops_purchase_order_lines')
    op.drop_index(op.f('ix_ops_purchase_order_events_purchase_order_id'), table_name='ops_purchase_order_events')
    op.drop_index(op.f('ix_ops_purchase_order_events_business_id'), table_name='ops_purchase_order_events')
    op.drop_table('ops_purchase_order_events')
    op.drop_index(op.f('ix_ops_reorder_policies_business_id'), table_name='ops_reorder_policies')
    op.drop_table('ops_reorder_policies')
    op.drop_index(op.f('ix_ops_purchase_orders_status'), table_name='ops_purchase_orders')
    op.drop_index(op.f('ix_ops_purchase_orders_business_id'), table_name='ops_purchase_orders')
    op.drop_table('ops_purchase_orders')
    op.drop_index(op.f('ix_ops_demand_days_business_id'), table_name='ops_demand_days')
    op.drop_table('ops_demand_days')
    op.drop_index(op.f('ix_ops_category_rules_business_id'), table_name='ops_category_rules')
    op.drop_table('ops_category_rules')
