"""the plan's settings: the last day of its period

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 18:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import registry.core.db


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('plan_settings',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('plan_period_end', sa.Date(), nullable=False),
    sa.Column('edited_at', registry.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_settings'))
    )


def downgrade():
    op.drop_table('plan_settings')
