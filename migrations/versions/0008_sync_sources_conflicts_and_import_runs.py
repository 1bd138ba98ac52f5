"""sync sources, conflicts and import runs

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 10:37:41.717892

"""
from alembic import op
import sqlalchemy as sa

import registry.core.db


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sync_sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('base_url', sa.String(length=500), nullable=False),
    sa.Column('token_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('cursor', sa.String(length=200), nullable=True),
    sa.Column('last_entry_at', registry.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_run_at', registry.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', registry.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_error_at', registry.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('records_applied', sa.Integer(), nullable=False),
    sa.Column('created_at', registry.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_sources')),
    sa.UniqueConstraint('name', name=op.f('uq_sync_sources_name'))
    )
    op.create_table('sync_conflicts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('source_version', sa.Integer(), nullable=False),
    sa.Column('local_origin', sa.String(length=64), nullable=False),
    sa.Column('first_seen_at', registry.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', registry.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sync_sources.id'], name=op.f('fk_sync_conflicts_source_id_sync_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_conflicts')),
    sa.UniqueConstraint('source_id', 'type', 'key', name=op.f('uq_sync_conflicts_source_id_type_key'))
    )
    op.create_table('import_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('report', sa.LargeBinary(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('via', sa.String(length=10), nullable=False),
    sa.Column('created_at', registry.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_import_runs_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_runs'))
    )
    with op.batch_alter_table('annual_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_version', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('annual_reports', schema=None) as batch_op:
        batch_op.drop_column('source_version')

    op.drop_table('import_runs')
    op.drop_table('sync_conflicts')
    op.drop_table('sync_sources')
