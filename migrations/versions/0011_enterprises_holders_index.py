"""the holders' index of enterprises, for the statistics and reports

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 09:12:50.147865

"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.create_index('ix_enterprises_tier_city_code_industry_code_id', ['tier', 'city_code', 'industry_code', 'id'], unique=False, sqlite_where=sa.text('tier IS NOT NULL'), postgresql_where=sa.text('tier IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.drop_index('ix_enterprises_tier_city_code_industry_code_id', sqlite_where=sa.text('tier IS NOT NULL'), postgresql_where=sa.text('tier IS NOT NULL'))
