"""applications and decisions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 03:38:17.976558

"""
import sqlalchemy as sa
from alembic import op

import registry.core.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.Enum('promotion', 'renewal', name='kind', native_enum=False, create_constraint=True, length=10), nullable=False),
    sa.Column('state', sa.Enum('draft', 'submitted', 'in_review', 'changes_requested', 'in_notice', 'granted', 'rejected', 'withdrawn', name='state', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('nominated_by', sa.Integer(), nullable=True),
    sa.Column('submitted_by', sa.Integer(), nullable=True),
    sa.Column('claimed_by', sa.Integer(), nullable=True),
    sa.Column('approvals_required', sa.Integer(), nullable=True),
    sa.Column('notice_days', sa.Integer(), nullable=True),
    sa.Column('eligibility', sa.JSON(), nullable=True),
    sa.Column('submitted_at', registry.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('notice_started_at', registry.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('notice_ends_at', registry.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('closed_reason', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', registry.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', registry.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['claimed_by'], ['users.id'], name=op.f('fk_applications_claimed_by_users')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_applications_created_by_users')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_applications_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['nominated_by'], ['users.id'], name=op.f('fk_applications_nominated_by_users')),
    sa.ForeignKeyConstraint(['submitted_by'], ['users.id'], name=op.f('fk_applications_submitted_by_users')),
    sa.ForeignKeyConstraint(['tier'], ['tiers.code'], name=op.f('fk_applications_tier_tiers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applications'))
    )
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_applications_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_notice_ends_at'), ['notice_ends_at'], unique=False)
        batch_op.create_index('ix_applications_state_submitted_at_id', ['state', 'submitted_at', 'id'], unique=False)
        batch_op.create_index('uq_applications_open_enterprise', ['enterprise_id'], unique=True, sqlite_where=sa.text("state IN ('draft', 'submitted', 'in_review', 'changes_requested', 'in_notice')"), postgresql_where=sa.text("state IN ('draft', 'submitted', 'in_review', 'changes_requested', 'in_notice')"))

    op.create_table('decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_name', sa.String(length=254), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('manual_checks', sa.JSON(), nullable=True),
    sa.Column('innovation_score', sa.Integer(), nullable=True),
    sa.Column('void', sa.Boolean(), nullable=False),
    sa.Column('at', registry.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_decisions_application_id_applications')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_decisions_reviewer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions'))
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decisions_application_id'), ['application_id'], unique=False)


def downgrade():
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decisions_application_id'))

    op.drop_table('decisions')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('uq_applications_open_enterprise', sqlite_where=sa.text("state IN ('draft', 'submitted', 'in_review', 'changes_requested', 'in_notice')"), postgresql_where=sa.text("state IN ('draft', 'submitted', 'in_review', 'changes_requested', 'in_notice')"))
        batch_op.drop_index('ix_applications_state_submitted_at_id')
        batch_op.drop_index(batch_op.f('ix_applications_notice_ends_at'))
        batch_op.drop_index(batch_op.f('ix_applications_enterprise_id'))

    op.drop_table('applications')
