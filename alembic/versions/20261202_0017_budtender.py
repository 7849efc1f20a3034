"""budtender: strain reference, quiz profiles, favourites, runs, feedback, widget settings and events, trained models

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 07:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel types
from alembic import op

import icc_app.core.models  # noqa: F401 - UTCDateTime
from icc_app.core.migrations import disable_tenant_rls, enable_tenant_rls

TENANT_TABLES = ('budtender_widget_settings', 'budtender_widget_events')

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('budtender_models',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('promoted', sa.Boolean(), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('compared_to', sa.JSON(), nullable=False),
    sa.Column('trained_on', sa.JSON(), nullable=False),
    sa.Column('artifact', sa.LargeBinary(), nullable=False),
    sa.Column('promoted_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budtender_models')),
    sa.UniqueConstraint('version', name=op.f('uq_budtender_models_version'))
    )
    op.create_index(op.f('ix_budtender_models_promoted'), 'budtender_models', ['promoted'], unique=False)
    op.create_table('budtender_strains',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('strain_type', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('thc_level', sa.Float(), nullable=True),
    sa.Column('dominant_terpene', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('effects', sa.JSON(), nullable=False),
    sa.Column('review_count', sa.Integer(), nullable=False),
    sa.Column('terpenes', sa.JSON(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budtender_strains')),
    sa.UniqueConstraint('key', name=op.f('uq_budtender_strains_key'))
    )
    op.create_table('budtender_model_events',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('model_id', sa.Uuid(), nullable=False),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('why', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['budtender_models.id'], name=op.f('fk_budtender_model_events_model_id_budtender_models'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budtender_model_events'))
    )
    op.create_index(op.f('ix_budtender_model_events_model_id'), 'budtender_model_events', ['model_id'], unique=False)
    op.create_table('budtender_profiles',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('wanted', sa.JSON(), nullable=False),
    sa.Column('avoided', sa.JSON(), nullable=False),
    sa.Column('experience', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('formats', sa.JSON(), nullable=False),
    sa.Column('budget_max', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('radius_miles', sa.Float(), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('place', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_budtender_profiles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budtender_profiles')),
    sa.UniqueConstraint('user_id', name=op.f('uq_budtender_profiles_user_id'))
    )
    op.create_table('budtender_runs',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('request', sa.JSON(), nullable=False),
    sa.Column('results', sa.JSON(), nullable=False),
    sa.Column('model_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_budtender_runs_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budtender_runs'))
    )
    op.create_index('ix_budtender_runs_user_created', 'budtender_runs', ['user_id', 'created_at'], unique=False)
    op.create_table('budtender_widget_settings',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('customer_salt', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_budtender_widget_settings_business_id_businesses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budtender_widget_settings')),
    sa.UniqueConstraint('business_id', name=op.f('uq_budtender_widget_settings_business_id'))
    )
    op.create_table('budtender_favourites',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('menu_item_id', sa.Uuid(), nullable=True),
    sa.Column('strain_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('terpenes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['menu_item_id'], ['menu_items.id'], name=op.f('fk_budtender_favourites_menu_item_id_menu_items'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_budtender_favourites_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budtender_favourites')),
    sa.UniqueConstraint('user_id', 'menu_item_id', name='uq_budtender_favourites_user_item')
    )
    op.create_index(op.f('ix_budtender_favourites_user_id'), 'budtender_favourites', ['user_id'], unique=False)
    op.create_table('budtender_feedback',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('run_id', sa.Uuid(), nullable=True),
    sa.Column('menu_item_id', sa.Uuid(), nullable=True),
    sa.Column('strain_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['menu_item_id'], ['menu_items.id'], name=op.f('fk_budtender_feedback_menu_item_id_menu_items'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['run_id'], ['budtender_runs.id'], name=op.f('fk_budtender_feedback_run_id_budtender_runs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_budtender_feedback_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budtender_feedback'))
    )
    op.create_index('ix_budtender_feedback_user', 'budtender_feedback', ['user_id', 'created_at'], unique=False)
    op.create_table('budtender_widget_events',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('dispensary_id', sa.Uuid(), nullable=False),
    sa.Column('customer_ref', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('menu_item_id', sa.Uuid(), nullable=True),
    sa.Column('strain_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_budtender_widget_events_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['dispensary_id'], ['dispensaries.id'], name=op.f('fk_budtender_widget_events_dispensary_id_dispensaries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['menu_item_id'], ['menu_items.id'], name=op.f('fk_budtender_widget_events_menu_item_id_menu_items'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budtender_widget_events'))
    )
    op.create_index('ix_budtender_widget_events_customer', 'budtender_widget_events', ['business_id', 'customer_ref'], unique=False)
    enable_tenant_rls(op, *TENANT_TABLES)


def downgrade() -> None:
    disable_tenant_rls(op, *TENANT_TABLES)
    op.drop_index('ix_budtender_widget_events_customer', table_name='budtender_widget_events')
    op.drop_table('budtender_widget_events')
    op.drop_index('ix_budtender_feedback_user', table_name='budtender_feedback')
    op.drop_table('budtender_feedback')
    op.drop_index(op.f('ix_budtender_favourites_user_id'), table_name='budtender_favourites')
    op.drop_table('budtender_favourites')
    op.drop_table('budtender_widget_settings')
    op.drop_index('ix_budtender_runs_user_created', table_name='budtender_runs')
    op.drop_table('budtender_runs')
    op.drop_table('budtender_profiles')
    op.drop_index(op.f('ix_budtender_model_events_model_id'), table_name='budtender_model_events')
    op.drop_table('budtender_model_events')
    op.drop_table('budtender_strains')
    op.drop_index(op.f('ix_budtender_models_promoted'), table_name='budtender_models')
    op.drop_table('budtender_models')
