"""audit history index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 04:49:07.345815

"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_workflow_object', ['object_type', 'object_id', 'id'], unique=False, sqlite_where=sa.text("object_type NOT IN ('enterprise', 'annual_report')"), postgresql_where=sa.text("object_type NOT IN ('enterprise', 'annual_report')"))


def downgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_workflow_object', sqlite_where=sa.text("object_type NOT IN ('enterprise', 'annual_report')"), postgresql_where=sa.text("object_type NOT IN ('enterprise', 'annual_report')"))
