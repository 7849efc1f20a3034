"""loyalty and CRM: customers, consent ledger, programmes, tiers, points ledger, redemptions, scores, segments,
templates, campaigns, messages, status events

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 07:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel types
from alembic import op

import icc_app.core.models  # noqa: F401 - UTCDateTime
import icc_app.core.security  # noqa: F401 - EncryptedString
from icc_app.core.migrations import disable_tenant_rls, enable_tenant_rls

TENANT_TABLES = ("loyalty_customers", "loyalty_customer_links", "loyalty_consents", "loyalty_suppressions",
                 "loyalty_programs", "loyalty_tiers", "loyalty_points", "loyalty_redemptions",
                 "loyalty_customer_scores", "loyalty_model_runs", "loyalty_segments", "loyalty_segment_snapshots",
                 "loyalty_templates", "loyalty_campaigns", "loyalty_messages", "loyalty_events")

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('loyalty_campaigns',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('segment_key', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('body_a', sa.Text(), nullable=False),
    sa.Column('body_b', sa.Text(), nullable=True),
    sa.Column('holdout_percent', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('scheduled_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attribution_days', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_loyalty_campaigns_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_loyalty_campaigns_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_campaigns'))
    )
    op.create_index(op.f('ix_loyalty_campaigns_business_id'), 'loyalty_campaigns', ['business_id'], unique=False)
    op.create_table('loyalty_customers',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('email_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('phone_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('name', icc_app.core.security.EncryptedString(), nullable=True),
    sa.Column('email', icc_app.core.security.EncryptedString(), nullable=True),
    sa.Column('phone', icc_app.core.security.EncryptedString(), nullable=True),
    sa.Column('birth_date', icc_app.core.security.EncryptedString(), nullable=True),
    sa.Column('customer_type', sa.String(length=20), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('enrollment', sa.String(length=20), nullable=False),
    sa.Column('email_consent', sa.Boolean(), nullable=False),
    sa.Column('sms_consent', sa.Boolean(), nullable=False),
    sa.Column('first_purchase_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_purchase_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_loyalty_customers_business_id_businesses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_customers'))
    )
    op.create_index('ix_loyalty_customers_business_email', 'loyalty_customers', ['business_id', 'email_hash'], unique=False)
    op.create_index(op.f('ix_loyalty_customers_business_id'), 'loyalty_customers', ['business_id'], unique=False)
    op.create_index('ix_loyalty_customers_business_phone', 'loyalty_customers', ['business_id', 'phone_hash'], unique=False)
    op.create_table('loyalty_events',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('object_type', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('object_id', sa.Uuid(), nullable=False),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_loyalty_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_loyalty_events_business_id_businesses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_events'))
    )
    op.create_index(op.f('ix_loyalty_events_business_id'), 'loyalty_events', ['business_id'], unique=False)
    op.create_index(op.f('ix_loyalty_events_object_id'), 'loyalty_events', ['object_id'], unique=False)
    op.create_table('loyalty_programs',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('points_per_dollar', sa.Numeric(precision=8, scale=2), nullable=False),
    sa.Column('category_multipliers', sa.JSON(), nullable=False),
    sa.Column('bonus_days', sa.JSON(), nullable=False),
    sa.Column('points_per_dollar_off', sa.Integer(), nullable=False),
    sa.Column('min_redeem_points', sa.Integer(), nullable=False),
    sa.Column('quiet_start_hour', sa.Integer(), nullable=False),
    sa.Column('quiet_end_hour', sa.Integer(), nullable=False),
    sa.Column('max_messages_per_week', sa.Integer(), nullable=False),
    sa.Column('sms_provider', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('sms_base_url', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('sms_account_sid', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('sms_auth_token', icc_app.core.security.EncryptedString(), nullable=True),
    sa.Column('sms_from', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_loyalty_programs_business_id_businesses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_programs')),
    sa.UniqueConstraint('business_id', name=op.f('uq_loyalty_programs_business_id'))
    )
    op.create_table('loyalty_segment_snapshots',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('segment_key', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('day', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('member_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_loyalty_segment_snapshots_business_id_businesses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_segment_snapshots')),
    sa.UniqueConstraint('business_id', 'segment_key', 'day', name='uq_loyalty_segment_snapshots')
    )
    op.create_index(op.f('ix_loyalty_segment_snapshots_business_id'), 'loyalty_segment_snapshots', ['business_id'], unique=False)
    op.create_table('loyalty_segments',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('member_count', sa.Integer(), nullable=False),
    sa.Column('counted_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_loyalty_segments_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_loyalty_segments_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_segments'))
    )
    op.create_index(op.f('ix_loyalty_segments_business_id'), 'loyalty_segments', ['business_id'], unique=False)
    op.create_table('loyalty_suppressions',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('contact_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_loyalty_suppressions_business_id_businesses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_suppressions')),
    sa.UniqueConstraint('business_id', 'channel', 'contact_hash', name='uq_loyalty_suppressions_contact')
    )
    op.create_index(op.f('ix_loyalty_suppressions_business_id'), 'loyalty_suppressions', ['business_id'], unique=False)
    op.create_table('loyalty_templates',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_loyalty_templates_business_id_businesses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_templates'))
    )
    op.create_index(op.f('ix_loyalty_templates_business_id'), 'loyalty_templates', ['business_id'], unique=False)
    op.create_table('loyalty_consents',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('granted', sa.Boolean(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('effective', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_loyalty_consents_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_loyalty_consents_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['loyalty_customers.id'], name=op.f('fk_loyalty_consents_customer_id_loyalty_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_consents'))
    )
    op.create_index(op.f('ix_loyalty_consents_business_id'), 'loyalty_consents', ['business_id'], unique=False)
    op.create_index(op.f('ix_loyalty_consents_customer_id'), 'loyalty_consents', ['customer_id'], unique=False)
    op.create_table('loyalty_customer_scores',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('segment', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('recency_days', sa.Integer(), nullable=False),
    sa.Column('frequency', sa.Integer(), nullable=False),
    sa.Column('monetary', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('rfm_score', sa.Integer(), nullable=False),
    sa.Column('buy_again_probability', sa.Float(), nullable=True),
    sa.Column('recency_rule_probability', sa.Float(), nullable=True),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('model', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('computed_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_loyalty_customer_scores_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['loyalty_customers.id'], name=op.f('fk_loyalty_customer_scores_customer_id_loyalty_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_customer_scores')),
    sa.UniqueConstraint('customer_id', name=op.f('uq_loyalty_customer_scores_customer_id'))
    )
    op.create_index(op.f('ix_loyalty_customer_scores_business_id'), 'loyalty_customer_scores', ['business_id'], unique=False)
    op.create_table('loyalty_messages',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('campaign_id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('variant', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('send_after', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('provider_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('converted_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_loyalty_messages_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['campaign_id'], ['loyalty_campaigns.id'], name=op.f('fk_loyalty_messages_campaign_id_loyalty_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['loyalty_customers.id'], name=op.f('fk_loyalty_messages_customer_id_loyalty_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_messages')),
    sa.UniqueConstraint('campaign_id', 'customer_id', name='uq_loyalty_messages_campaign_customer')
    )
    op.create_index(op.f('ix_loyalty_messages_business_id'), 'loyalty_messages', ['business_id'], unique=False)
    op.create_index(op.f('ix_loyalty_messages_campaign_id'), 'loyalty_messages', ['campaign_id'], unique=False)
    op.create_index('ix_loyalty_messages_customer_sent', 'loyalty_messages', ['customer_id', 'sent_at'], unique=False)
    op.create_index('ix_loyalty_messages_due', 'loyalty_messages', ['status', 'send_after'], unique=False)
    op.create_index(op.f('ix_loyalty_messages_provider_id'), 'loyalty_messages', ['provider_id'], unique=False)
    op.create_table('loyalty_redemptions',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('value', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('campaign_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_loyalty_redemptions_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['campaign_id'], ['loyalty_campaigns.id'], name=op.f('fk_loyalty_redemptions_campaign_id_loyalty_campaigns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['loyalty_customers.id'], name=op.f('fk_loyalty_redemptions_customer_id_loyalty_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_redemptions'))
    )
    op.create_index(op.f('ix_loyalty_redemptions_business_id'), 'loyalty_redemptions', ['business_id'], unique=False)
    op.create_index(op.f('ix_loyalty_redemptions_code'), 'loyalty_redemptions', ['code'], unique=False)
    op.create_index(op.f('ix_loyalty_redemptions_customer_id'), 'loyalty_redemptions', ['customer_id'], unique=False)
    op.create_table('loyalty_tiers',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('program_id', sa.Uuid(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('threshold_points', sa.Integer(), nullable=False),
    sa.Column('multiplier', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('benefits', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_loyalty_tiers_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['program_id'], ['loyalty_programs.id'], name=op.f('fk_loyalty_tiers_program_id_loyalty_programs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_tiers'))
    )
    op.create_index(op.f('ix_loyalty_tiers_business_id'), 'loyalty_tiers', ['business_id'], unique=False)
    op.create_index(op.f('ix_loyalty_tiers_program_id'), 'loyalty_tiers', ['program_id'], unique=False)
    op.create_table('loyalty_customer_links',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('pos_customer_id', sa.Uuid(), nullable=False),
    sa.Column('external_ref', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_loyalty_customer_links_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['loyalty_customers.id'], name=op.f('fk_loyalty_customer_links_customer_id_loyalty_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pos_customer_id'], ['pos_customers.id'], name=op.f('fk_loyalty_customer_links_pos_customer_id_pos_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_customer_links')),
    sa.UniqueConstraint('pos_customer_id', name=op.f('uq_loyalty_customer_links_pos_customer_id'))
    )
    op.create_index(op.f('ix_loyalty_customer_links_business_id'), 'loyalty_customer_links', ['business_id'], unique=False)
    op.create_index(op.f('ix_loyalty_customer_links_customer_id'), 'loyalty_customer_links', ['customer_id'], unique=False)
    op.create_index(op.f('ix_loyalty_customer_links_external_ref'), 'loyalty_customer_links', ['external_ref'], unique=False)
    op.create_table('loyalty_points',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('balance_after', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('sale_id', sa.Uuid(), nullable=True),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_loyalty_points_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_loyalty_points_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['loyalty_customers.id'], name=op.f('fk_loyalty_points_customer_id_loyalty_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sale_id'], ['pos_sales.id'], name=op.f('fk_loyalty_points_sale_id_pos_sales'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_points')),
    sa.UniqueConstraint('business_id', 'idempotency_key', name='uq_loyalty_points_idempotency')
    )
    op.create_index(op.f('ix_loyalty_points_business_id'), 'loyalty_points', ['business_id'], unique=False)
    op.create_index('ix_loyalty_points_customer', 'loyalty_points', ['customer_id', 'id'], unique=False)
    op.create_table('loyalty_model_runs',
    sa.Column('created_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', icc_app.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('trained_on', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('horizon_days', sa.Integer(), nullable=False),
    sa.Column('customers', sa.Integer(), nullable=False),
    sa.Column('positives', sa.Integer(), nullable=False),
    sa.Column('auc_model', sa.Float(), nullable=True),
    sa.Column('auc_recency', sa.Float(), nullable=True),
    sa.Column('auc_rfm', sa.Float(), nullable=True),
    sa.Column('importance', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_loyalty_model_runs_business_id_businesses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_model_runs'))
    )
    op.create_index(op.f('ix_loyalty_model_runs_business_id'), 'loyalty_model_runs', ['business_id'], unique=False)
    enable_tenant_rls(op, *TENANT_TABLES)


def downgrade() -> None:
    disable_tenant_rls(op, *TENANT_TABLES)
    op.drop_index(op.f('ix_loyalty_model_runs_business_id'), table_name='loyalty_model_runs')
    op.drop_table('loyalty_model_runs')
    op.drop_index('ix_loyalty_points_customer', table_name='loyalty_points')
    op.drop_index(op.f('ix_loyalty_points_business_id'), table_name='loyalty_points')
    op.drop_table('loyalty_points')
    op.drop_index(op.f('ix_loyalty_customer_links_external_ref'), table_name='loyalty_customer_links')
    op.drop_index(op.f('ix_loyalty_customer_links_customer_id'), table_name='loyalty_customer_links')
    op.drop_index(op.f('ix_loyalty_customer_links_business_id'), table_name='loyalty_customer_links')
    op.drop_table('loyalty_customer_links')
    op.drop_index(op.f('ix_loyalty_tiers_program_id'), table_name='loyalty_tiers')
    op.drop_index(op.f('ix_loyalty_tiers_business_id'), table_name='loyalty_tiers')
    op.drop_table('loyalty_tiers')
    op.drop_index(op.f('ix_loyalty_redemptions_customer_id'), table_name='loyalty_redemptions')
    op.drop_index(op.f('ix_loyalty_redemptions_code'), table_name='loyalty_redemptions')
    op.drop_index(op.f('ix_loyalty_redemptions_business_id'), table_name='loyalty_redemptions')
    op.drop_table('loyalty_redemptions')
    op.drop_index(op.f('ix_loyalty_messages_provider_id'), table_name='loyalty_messages')
    op.drop_index('ix_loyalty_messages_due', table_name='loyalty_messages')
    op.drop_index('ix_loyalty_messages_customer_sent', table_name='loyalty_messages')
    op.drop_index(op.f('ix_loyalty_messages_campaign_id'), table_name='loyalty_messages')
    op.drop_index(op.f('ix_loyalty_messages_business_id'), table_name='loyalty_messages')
    op.drop_table('loyalty_messages')
    op.drop_index(op.f('ix_loyalty_customer_scores_business_id'), table_name='loyalty_customer_scores')
    op.drop_table('loyalty_customer_scores')
    op.drop_index(op.f('ix_loyalty_consents_customer_id'), table_name='loyalty_consents')
    op.drop_index(op.f('ix_loyalty_consents_business_id'), table_name='loyalty_consents')
    op.drop_table('loyalty_consents')
    op.drop_index(op.f('ix_loyalty_templates_business_id'), table_name='loyalty_templates')
    op.drop_table('loyalty_templates')
    op.drop_index(op.f('ix_loyalty_suppressions_business_id'), table_name='loyalty_suppressions')
    op.drop_table('loyalty_suppressions')
    op.drop_index(op.f('ix_loyalty_segments_business_id'), table_name='loyalty_segments')
    op.drop_table('loyalty_segments')
    op.drop_index(op.f('ix_loyalty_segment_snapshots_business_id'), table_name='loyalty_segment_snapshots')
    op.drop_table('loyalty_segment_snapshots')
    op.drop_table('loyalty_programs')
    op.drop_index(op.f('ix_loyalty_events_object_id'), table_name='loyalty_events')
    op.drop_index(op.f('ix_loyalty_events_business_id'), table_name='loyalty_events')
    op.drop_table('loyalty_events')
    op.drop_index('ix_loyalty_customers_business_phone', table_name='loyalty_customers')
    op.drop_index(op.f('ix_loyalty_customers_business_id'), table_name='loyalty_customers')
    op.drop_index('ix_loyalty_customers_business_email', table_name='loyalty_customers')
    op.drop_table('loyalty_customers')
    op.drop_index(op.f('ix_loyalty_campaigns_business_id'), table_name='loyalty_campaigns')
    op.drop_table('loyalty_campaigns')
