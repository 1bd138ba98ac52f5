"""accounts, attachments and objections

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 04:13:25.946881

"""
from alembic import op
import sqlalchemy as sa

import registry.core.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_throttles',
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('first_failure_at', registry.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('locked_until', registry.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('email', name=op.f('pk_login_throttles'))
    )
    op.create_table('account_claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('stated_name', sa.String(length=200), nullable=False),
    sa.Column('state', sa.Enum('pending', 'confirmed', 'refused', name='claim_state', native_enum=False, create_constraint=True, length=10), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', registry.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('created_at', registry.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_account_claims_decided_by_users')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_account_claims_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_claims_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_claims'))
    )
    with op.batch_alter_table('account_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_claims_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_claims_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_claims_user_id'), ['user_id'], unique=False)

    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('extension', sa.String(length=10), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('created_at', registry.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_attachments_application_id_applications')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_attachments_uploaded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_application_id'), ['application_id'], unique=False)

    op.create_table('objections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('contact', sa.String(length=200), nullable=False),
    sa.Column('grounds', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('open', 'upheld', 'dismissed', name='objection_state', native_enum=False, create_constraint=True, length=10), nullable=False),
    sa.Column('resolution_comment', sa.Text(), nullable=True),
    sa.Column('resolved_by', sa.Integer(), nullable=True),
    sa.Column('resolved_at', registry.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('client_address', sa.String(length=45), nullable=True),
    sa.Column('created_at', registry.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_objections_application_id_applications')),
    sa.ForeignKeyConstraint(['resolved_by'], ['users.id'], name=op.f('fk_objections_resolved_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objections'))
    )
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objections_application_id'), ['application_id'], unique=False)
        batch_op.create_index('ix_objections_client_address_created_at', ['client_address', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_objections_state'), ['state'], unique=False)


def downgrade():
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objections_state'))
        batch_op.drop_index('ix_objections_client_address_created_at')
        batch_op.drop_index(batch_op.f('ix_objections_application_id'))

    op.drop_table('objections')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_application_id'))

    op.drop_table('attachments')
    with op.batch_alter_table('account_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_claims_user_id'))
        batch_op.drop_index(batch_op.f('ix_account_claims_state'))
        batch_op.drop_index(batch_op.f('ix_account_claims_enterprise_id'))

    op.drop_table('account_claims')
    op.drop_table('login_throttles')
