"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 01:49:41.818254

"""
import secrets

import sqlalchemy as sa
from alembic import op

import registry.core.db


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', registry.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=254), nullable=False),
    sa.Column('via', sa.String(length=10), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.String(length=40), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('client_address', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('calendar_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_days'))
    )
    op.create_table('calendar_years',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('source', sa.String(length=200), nullable=True),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_calendar_years'))
    )
    op.create_table('change_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('op', sa.String(length=10), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('occurred_at', registry.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('data', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_log')),
    sqlite_autoincrement=True
    )
    op.create_table('cities',
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('name_zh', sa.String(length=40), nullable=False),
    sa.Column('name_en', sa.String(length=60), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_cities'))
    )
    op.create_table('feed_counter',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_counter'))
    )
    op.create_table('industries',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_zh', sa.String(length=40), nullable=False),
    sa.Column('name_en', sa.String(length=80), nullable=False),
    sa.Column('group', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_industries'))
    )
    op.create_table('registry_meta',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_registry_meta'))
    )
    op.create_table('tiers',
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('name_zh', sa.String(length=60), nullable=False),
    sa.Column('name_en', sa.String(length=60), nullable=False),
    sa.Column('quota', sa.Integer(), nullable=False),
    sa.Column('validity', sa.String(length=20), nullable=False),
    sa.Column('notice_days', sa.Integer(), nullable=False),
    sa.Column('approvals_required', sa.Integer(), nullable=False),
    sa.Column('self_apply', sa.Boolean(), nullable=False),
    sa.Column('prerequisite', sa.String(length=20), nullable=True),
    sa.Column('registration_pattern', sa.String(length=60), nullable=False),
    sa.Column('criteria', sa.JSON(), nullable=False),
    sa.Column('edited_at', registry.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['prerequisite'], ['tiers.code'], name=op.f('fk_tiers_prerequisite_tiers')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_tiers')),
    sa.UniqueConstraint('rank', name=op.f('uq_tiers_rank'))
    )
    op.create_table('enterprises',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('city_code', sa.String(length=6), nullable=True),
    sa.Column('county', sa.String(length=64), nullable=True),
    sa.Column('industry_code', sa.String(length=40), nullable=True),
    sa.Column('founded_on', sa.Date(), nullable=True),
    sa.Column('legal_representative', sa.String(length=100), nullable=True),
    sa.Column('contact_name', sa.String(length=100), nullable=True),
    sa.Column('contact_phone', sa.String(length=40), nullable=True),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('main_products', sa.Text(), nullable=True),
    sa.Column('status', sa.Enum('active', 'deregistered', 'merged', name='status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('merged_into', sa.String(length=18), nullable=True),
    sa.Column('origin', sa.String(length=64), nullable=False),
    sa.Column('source_version', sa.Integer(), nullable=True),
    sa.Column('verified', sa.Boolean(), nullable=False),
    sa.Column('tier', sa.String(length=20), nullable=True),
    sa.Column('tier_since', sa.Date(), nullable=True),
    sa.Column('tier_expires_at', registry.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('registration_number', sa.String(length=40), nullable=True),
    sa.Column('ban_until', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', registry.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', registry.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tier'], ['tiers.code'], name=op.f('fk_enterprises_tier_tiers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprises')),
    sa.UniqueConstraint('uscc', name=op.f('uq_enterprises_uscc'))
    )
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.create_index('ix_enterprises_city_code_uscc', ['city_code', 'uscc'], unique=False)
        batch_op.create_index('ix_enterprises_industry_code_uscc', ['industry_code', 'uscc'], unique=False)
        batch_op.create_index('ix_enterprises_name', ['name'], unique=False)
        batch_op.create_index('ix_enterprises_tier_expires_at', ['tier_expires_at'], unique=False)
        batch_op.create_index('ix_enterprises_tier_uscc', ['tier', 'uscc'], unique=False)
        batch_op.create_index('ix_enterprises_updated_at_uscc', ['updated_at', 'uscc'], unique=False)

    op.create_table('registration_counters',
    sa.Column('tier', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tier'], ['tiers.code'], name=op.f('fk_registration_counters_tier_tiers')),
    sa.PrimaryKeyConstraint('tier', 'year', name=op.f('pk_registration_counters'))
    )
    op.create_table('registration_numbers',
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('tier', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('issued_at', registry.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tier'], ['tiers.code'], name=op.f('fk_registration_numbers_tier_tiers')),
    sa.PrimaryKeyConstraint('number', name=op.f('pk_registration_numbers'))
    )
    op.create_table('annual_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('employees', sa.Integer(), nullable=True),
    sa.Column('tech_staff', sa.Integer(), nullable=True),
    sa.Column('rd_staff', sa.Integer(), nullable=True),
    sa.Column('ip_class1', sa.Integer(), nullable=True),
    sa.Column('ip_class2', sa.Integer(), nullable=True),
    sa.Column('ip_transfers', sa.Integer(), nullable=True),
    sa.Column('niche_years', sa.Integer(), nullable=True),
    sa.Column('global_market_rank', sa.Integer(), nullable=True),
    sa.Column('revenue', sa.BigInteger(), nullable=True),
    sa.Column('total_income', sa.BigInteger(), nullable=True),
    sa.Column('total_assets', sa.BigInteger(), nullable=True),
    sa.Column('net_assets', sa.BigInteger(), nullable=True),
    sa.Column('total_cost', sa.BigInteger(), nullable=True),
    sa.Column('rd_expense', sa.BigInteger(), nullable=True),
    sa.Column('rd_domestic_expense', sa.BigInteger(), nullable=True),
    sa.Column('hightech_income', sa.BigInteger(), nullable=True),
    sa.Column('main_business_share', sa.Numeric(precision=5, scale=2, asdecimal=False), nullable=True),
    sa.Column('debt_ratio', sa.Numeric(precision=5, scale=2, asdecimal=False), nullable=True),
    sa.Column('national_market_share', sa.Numeric(precision=5, scale=2, asdecimal=False), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', registry.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', registry.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_annual_reports_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_annual_reports')),
    sa.UniqueConstraint('enterprise_id', 'year', name=op.f('uq_annual_reports_enterprise_id_year'))
    )
    op.create_table('reservations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=20), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('created_at', registry.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_reservations_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['tier'], ['tiers.code'], name=op.f('fk_reservations_tier_tiers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reservations')),
    sa.UniqueConstraint('application_id', name=op.f('uq_reservations_application_id')),
    sa.UniqueConstraint('enterprise_id', name=op.f('uq_reservations_enterprise_id'))
    )
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reservations_tier'), ['tier'], unique=False)

    op.create_table('tier_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('grant', 'renew', 'demote', 'revoke', 'lapse', name='kind', native_enum=False, create_constraint=True, length=10), nullable=False),
    sa.Column('from_tier', sa.String(length=20), nullable=True),
    sa.Column('to_tier', sa.String(length=20), nullable=True),
    sa.Column('effective_at', registry.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', registry.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('tier_since', sa.Date(), nullable=True),
    sa.Column('tier_expires_at', registry.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('registration_number', sa.String(length=40), nullable=True),
    sa.Column('ban_until', sa.Date(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=254), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_tier_events_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tier_events'))
    )
    with op.batch_alter_table('tier_events', schema=None) as batch_op:
        batch_op.create_index('ix_tier_events_enterprise_id_id', ['enterprise_id', 'id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('role', sa.Enum('enterprise', 'reviewer', 'admin', name='role', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=True),
    sa.Column('created_at', registry.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_users_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_enterprise_id'), ['enterprise_id'], unique=False)

    # The feed epoch is created with the database (and replaced on restore); the feed
    # counter row is PostgreSQL's sequence of change-log positions.
    meta = sa.table("registry_meta", sa.column("key", sa.String), sa.column("value", sa.String))
    op.bulk_insert(meta, [{"key": "feed_epoch", "value": secrets.token_hex(8)}])
    counter = sa.table("feed_counter", sa.column("id", sa.Integer), sa.column("value", sa.BigInteger))
    op.bulk_insert(counter, [{"id": 1, "value": 0}])


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_enterprise_id'))

    op.drop_table('users')
    with op.batch_alter_table('tier_events', schema=None) as batch_op:
        batch_op.drop_index('ix_tier_events_enterprise_id_id')

    op.drop_table('tier_events')
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reservations_tier'))

    op.drop_table('reservations')
    op.drop_table('annual_reports')
    op.drop_table('registration_numbers')
    op.drop_table('registration_counters')
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.drop_index('ix_enterprises_updated_at_uscc')
        batch_op.drop_index('ix_enterprises_tier_uscc')
        batch_op.drop_index('ix_enterprises_tier_expires_at')
        batch_op.drop_index('ix_enterprises_name')
        batch_op.drop_index('ix_enterprises_industry_code_uscc')
        batch_op.drop_index('ix_enterprises_city_code_uscc')

    op.drop_table('enterprises')
    op.drop_table('tiers')
    op.drop_table('registry_meta')
    op.drop_table('industries')
    op.drop_table('feed_counter')
    op.drop_table('cities')
    op.drop_table('change_log')
    op.drop_table('calendar_years')
    op.drop_table('calendar_days')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))

    op.drop_table('audit_log')
