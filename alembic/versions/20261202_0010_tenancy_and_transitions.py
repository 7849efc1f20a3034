"""tenancy and transitions: event rows for dispute and CQI status changes, idempotency keys of creating actions,
shipping and receiving details on orders, and PostgreSQL row-level security on the exchange's tenant tables

Row-level security is the second line behind the scoped statements of icc_app/exchange/scoping.py. Policies are
written for the non-login role icc_tenant, which a unit of work switches to (SET LOCAL ROLE) for a signed-in
business (icc_app/core/db.py); `app.business_ids` (set_config(..., true)) names the businesses it acts for.
Without that setting the role sees no tenant rows, only listed lots. The migrating role (the app's owner role)
keeps a policy of its own so workers and system tasks, which act for no tenant, still see every row; a
superuser bypasses row-level security anyway.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 01:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel types
from alembic import op

import icc_app.core.models  # noqa: F401 - UTCDateTime

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies: the migration must not change when the application code does.
TENANT_ROLE = "icc_tenant"
TENANT_IDS_FUNCTION = """
CREATE OR REPLACE FUNCTION icc_tenant_ids() RETURNS uuid[] LANGUAGE sql STABLE AS $$
  SELECT coalesce(string_to_array(nullif(current_setting('app.business_ids', true), ''), ',')::uuid[],
                  '{}'::uuid[])
$$;
"""
MINE = "business_id = ANY (icc_tenant_ids())"
PARTY = "(buyer_business_id = ANY (icc_tenant_ids()) OR seller_business_id = ANY (icc_tenant_ids()))"
# table -> [(policy, command, USING, WITH CHECK or None)]; sub-selects are filtered by their own table's policies.
POLICIES: dict[str, list[tuple[str, str, str, str | None]]] = {
    "lots": [
        ("lots_own", "ALL", MINE, MINE),
        ("lots_listed", "SELECT", "status IN ('active', 'sold_out')", None),
        ("lots_offered_read", "SELECT", "id IN (SELECT lot_id FROM offers WHERE buyer_business_id = ANY "
                                        "(icc_tenant_ids()))", None),
        # A buyer's acceptance and cancellation change what is left of the seller's lot.
        ("lots_offered_update", "UPDATE", "id IN (SELECT lot_id FROM offers WHERE buyer_business_id = ANY "
                                          "(icc_tenant_ids()))", "true"),
    ],
    "lot_photos": [("lot_photos_read", "SELECT", "lot_id IN (SELECT id FROM lots)", None),
                   ("lot_photos_own", "ALL", f"lot_id IN (SELECT id FROM lots WHERE {MINE})",
                    f"lot_id IN (SELECT id FROM lots WHERE {MINE})")],
    "lot_events": [("lot_events_visible", "ALL", "lot_id IN (SELECT id FROM lots)", "lot_id IN (SELECT id FROM lots)")],
    "offers": [("offers_party", "ALL", PARTY, PARTY)],
    "offer_rounds": [("offer_rounds_party", "ALL", "offer_id IN (SELECT id FROM offers)",
                      "offer_id IN (SELECT id FROM offers)")],
    "orders": [("orders_party", "ALL", PARTY, PARTY)],
    "order_events": [("order_events_party", "ALL", "order_id IN (SELECT id FROM orders)",
                      "order_id IN (SELECT id FROM orders)")],
    "disputes": [("disputes_party", "ALL", "order_id IN (SELECT id FROM orders)", "order_id IN (SELECT id FROM orders)")],
    "dispute_messages": [("dispute_messages_party", "ALL", "dispute_id IN (SELECT id FROM disputes)",
                          "dispute_id IN (SELECT id FROM disputes)")],
    "dispute_events": [("dispute_events_party", "ALL", "dispute_id IN (SELECT id FROM disputes)",
                        "dispute_id IN (SELECT id FROM disputes)")],
    "exchange_idempotency_keys": [("exchange_idempotency_keys_own", "ALL", MINE, MINE)],
    "coa_documents": [("coa_documents_own", "ALL", MINE, MINE),
                      ("coa_documents_of_visible_lots", "SELECT", "id IN (SELECT coa_id FROM lots)", None)],
}


def _timestamps() -> list[sa.Column]:
    return [sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
            sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False)]


def _bigint_id() -> sa.Column:
    return sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False)


def upgrade() -> None:
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('manifest_number', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch.add_column(sa.Column('carrier', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
        batch.add_column(sa.Column('tracking_number', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
        batch.add_column(sa.Column('received_qty', sa.Numeric(precision=14, scale=3), nullable=True))
    op.create_table('dispute_events',
    *_timestamps(), _bigint_id(),
    sa.Column('dispute_id', sa.Uuid(), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['dispute_id'], ['disputes.id'], name=op.f('fk_dispute_events_dispute_id_disputes'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispute_events'))
    )
    op.create_index(op.f('ix_dispute_events_dispute_id'), 'dispute_events', ['dispute_id'], unique=False)
    op.create_table('exchange_idempotency_keys',
    *_timestamps(), _bigint_id(),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('object_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'],
                            name=op.f('fk_exchange_idempotency_keys_business_id_businesses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_idempotency_keys')),
    sa.UniqueConstraint('business_id', 'key', name='uq_exchange_idempotency_business_key')
    )
    op.create_table('cqi_events',
    *_timestamps(), _bigint_id(),
    sa.Column('object_type', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('object_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cqi_events'))
    )
    op.create_index(op.f('ix_cqi_events_object_id'), 'cqi_events', ['object_id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        _enable_row_level_security()


def _enable_row_level_security() -> None:
    # Roles are cluster-wide: another database (or a parallel migration) may have created it already.
    op.execute(f"""
        DO $$ BEGIN
          CREATE ROLE {TENANT_ROLE} NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$;""")
    op.execute(f"""
        DO $$ BEGIN
          EXECUTE format('GRANT {TENANT_ROLE} TO %I', current_user);
        EXCEPTION WHEN OTHERS THEN NULL;  -- a superuser needs no membership; others get it from the DBA
        END $$;""")
    op.execute(TENANT_IDS_FUNCTION)
    op.execute(f"GRANT USAGE ON SCHEMA public TO {TENANT_ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {TENANT_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {TENANT_ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES "
               f"TO {TENANT_ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {TENANT_ROLE}")
    for table, policies in POLICIES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        # The app's own role (workers, system tasks, migrations) acts for no tenant and sees every row.
        op.execute(f"CREATE POLICY {table}_system ON {table} TO CURRENT_USER USING (true) WITH CHECK (true)")
        for name, command, using, check in policies:
            op.execute(f"CREATE POLICY {name} ON {table} FOR {command} TO {TENANT_ROLE} USING ({using})"
                       + (f" WITH CHECK ({check})" if check else ""))


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table, policies in POLICIES.items():
            for name, *_ in policies:
                op.execute(f"DROP POLICY IF EXISTS {name} ON {table}")
            op.execute(f"DROP POLICY IF EXISTS {table}_system ON {table}")
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {TENANT_ROLE}")
        op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {TENANT_ROLE}")
        op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {TENANT_ROLE}")
        op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {TENANT_ROLE}")
        op.execute(f"REVOKE USAGE ON SCHEMA public FROM {TENANT_ROLE}")
        op.execute("DROP FUNCTION IF EXISTS icc_tenant_ids()")
        # The role stays: roles are cluster-wide and other databases may still use it.
    op.drop_index(op.f('ix_cqi_events_object_id'), table_name='cqi_events')
    op.drop_table('cqi_events')
    op.drop_table('exchange_idempotency_keys')
    op.drop_index(op.f('ix_dispute_events_dispute_id'), table_name='dispute_events')
    op.drop_table('dispute_events')
    with op.batch_alter_table('orders') as batch:
        batch.drop_column('received_qty')
        batch.drop_column('tracking_number')
        batch.drop_column('carrier')
        batch.drop_column('manifest_number')

