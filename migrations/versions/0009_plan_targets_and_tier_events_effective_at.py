"""plan targets and the tier events' effective_at index

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 06:11:24.546723

"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('plan_targets',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('industries', sa.JSON(), nullable=False),
    sa.Column('revenue', sa.BigInteger(), nullable=True),
    sa.Column('rd_intensity', sa.Numeric(precision=5, scale=2, asdecimal=False), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_plan_targets'))
    )
    with op.batch_alter_table('tier_events', schema=None) as batch_op:
        batch_op.create_index('ix_tier_events_effective_at', ['effective_at', 'from_tier', 'to_tier'], unique=False)


def downgrade():
    with op.batch_alter_table('tier_events', schema=None) as batch_op:
        batch_op.drop_index('ix_tier_events_effective_at')

    op.drop_table('plan_targets')
