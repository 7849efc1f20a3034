"""metrc seed-to-sale: compliance alerts, package links, transfer templates

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 07:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel types
from alembic import op

import icc_app.core.models  # noqa: F401 - UTCDateTime
from icc_app.core.migrations import disable_tenant_rls, enable_tenant_rls

TENANT_TABLES = ('metrc_packages', 'metrc_compliance_checks', 'metrc_alerts', 'metrc_alert_events')
# metrc_transfers belongs to both sides of an order: the seller (business_id) and the buyer.
BOTH_SIDES = "(business_id = ANY (icc_tenant_ids()) OR buyer_business_id = ANY (icc_tenant_ids()))"

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('metrc_compliance_checks',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('connection_id', sa.Uuid(), nullable=False),
    sa.Column('license_number', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('trigger', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('mode', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('read_from', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('read_until', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('calls', sa.Integer(), nullable=False),
    sa.Column('calls_avoided', sa.Integer(), nullable=False),
    sa.Column('packages', sa.Integer(), nullable=False),
    sa.Column('discrepancies', sa.Integer(), nullable=False),
    sa.Column('opened', sa.Integer(), nullable=False),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('finished_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_metrc_compliance_checks_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['connection_id'], ['integration_connections.id'], name=op.f('fk_metrc_compliance_checks_connection_id_integration_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metrc_compliance_checks'))
    )
    op.create_index(op.f('ix_metrc_compliance_checks_business_id'), 'metrc_compliance_checks', ['business_id'], unique=False)
    op.create_index(op.f('ix_metrc_compliance_checks_connection_id'), 'metrc_compliance_checks', ['connection_id'], unique=False)
    op.create_table('metrc_packages',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('connection_id', sa.Uuid(), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('package_id', sa.BigInteger(), nullable=False),
    sa.Column('item_name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('strain_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=14, scale=3), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('lab_state', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('on_hold', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_modified', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_sale_reported_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_metrc_packages_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['connection_id'], ['integration_connections.id'], name=op.f('fk_metrc_packages_connection_id_integration_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metrc_packages')),
    sa.UniqueConstraint('connection_id', 'label', name='uq_metrc_packages_label')
    )
    op.create_index(op.f('ix_metrc_packages_business_id'), 'metrc_packages', ['business_id'], unique=False)
    op.create_table('metrc_transfers',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('buyer_business_id', sa.Uuid(), nullable=False),
    sa.Column('connection_id', sa.Uuid(), nullable=True),
    sa.Column('buyer_connection_id', sa.Uuid(), nullable=True),
    sa.Column('template_name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('template_id', sa.BigInteger(), nullable=True),
    sa.Column('manifest_number', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('transfer_id', sa.BigInteger(), nullable=True),
    sa.Column('recipient_license', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('packages', sa.JSON(), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_metrc_transfers_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['buyer_business_id'], ['businesses.id'], name=op.f('fk_metrc_transfers_buyer_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['buyer_connection_id'], ['integration_connections.id'], name=op.f('fk_metrc_transfers_buyer_connection_id_integration_connections'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['connection_id'], ['integration_connections.id'], name=op.f('fk_metrc_transfers_connection_id_integration_connections'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_metrc_transfers_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metrc_transfers'))
    )
    op.create_index(op.f('ix_metrc_transfers_business_id'), 'metrc_transfers', ['business_id'], unique=False)
    op.create_index(op.f('ix_metrc_transfers_buyer_business_id'), 'metrc_transfers', ['buyer_business_id'], unique=False)
    op.create_index(op.f('ix_metrc_transfers_order_id'), 'metrc_transfers', ['order_id'], unique=False)
    op.create_table('metrc_alerts',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('connection_id', sa.Uuid(), nullable=False),
    sa.Column('license_number', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('package_label', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('suggested_fix', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('first_seen_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('check_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_metrc_alerts_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['check_id'], ['metrc_compliance_checks.id'], name=op.f('fk_metrc_alerts_check_id_metrc_compliance_checks'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['connection_id'], ['integration_connections.id'], name=op.f('fk_metrc_alerts_connection_id_integration_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metrc_alerts'))
    )
    op.create_index('ix_metrc_alerts_business_status', 'metrc_alerts', ['business_id', 'status'], unique=False)
    op.create_index(op.f('ix_metrc_alerts_connection_id'), 'metrc_alerts', ['connection_id'], unique=False)
    op.create_index('uq_metrc_alerts_open', 'metrc_alerts', ['connection_id', 'kind', 'package_label'], unique=True, postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
    op.create_table('metrc_alert_events',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('alert_id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['metrc_alerts.id'], name=op.f('fk_metrc_alert_events_alert_id_metrc_alerts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_metrc_alert_events_business_id_businesses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metrc_alert_events'))
    )
    op.create_index(op.f('ix_metrc_alert_events_alert_id'), 'metrc_alert_events', ['alert_id'], unique=False)

    enable_tenant_rls(op, *TENANT_TABLES)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE metrc_transfers ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE metrc_transfers FORCE ROW LEVEL SECURITY")
        op.execute("CREATE POLICY metrc_transfers_system ON metrc_transfers TO CURRENT_USER USING (true) "
                   "WITH CHECK (true)")
        op.execute(f"CREATE POLICY metrc_transfers_own ON metrc_transfers FOR ALL TO icc_tenant USING ({BOTH_SIDES}) "
                   f"WITH CHECK ({BOTH_SIDES})")


def downgrade() -> None:
    disable_tenant_rls(op, *TENANT_TABLES, 'metrc_transfers')
    op.drop_index(op.f('ix_metrc_alert_events_alert_id'), table_name='metrc_alert_events')
    op.drop_table('metrc_alert_events')
    op.drop_index('uq_metrc_alerts_open', table_name='metrc_alerts', postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
    op.drop_index(op.f('ix_metrc_alerts_connection_id'), table_name='metrc_alerts')
    op.drop_index('ix_metrc_alerts_business_status', table_name='metrc_alerts')
    op.drop_table('metrc_alerts')
    op.drop_index(op.f('ix_metrc_transfers_order_id'), table_name='metrc_transfers')
    op.drop_index(op.f('ix_metrc_transfers_buyer_business_id'), table_name='metrc_transfers')
    op.drop_index(op.f('ix_metrc_transfers_business_id'), table_name='metrc_transfers')
    op.drop_table('metrc_transfers')
    op.drop_index(op.f('ix_metrc_packages_business_id'), table_name='metrc_packages')
    op.drop_table('metrc_packages')
    op.drop_index(op.f('ix_metrc_compliance_checks_connection_id'), table_name='metrc_compliance_checks')
    op.drop_index(op.f('ix_metrc_compliance_checks_business_id'), table_name='metrc_compliance_checks')
    op.drop_table('metrc_compliance_checks')
