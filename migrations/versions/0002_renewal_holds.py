"""renewal holds

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 03:24:15.627320

"""

import sqlalchemy as sa
from alembic import op

import registry.core.db


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "renewal_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("created_at", registry.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_renewal_holds_enterprise_id_enterprises"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renewal_holds")),
        sa.UniqueConstraint("application_id", name=op.f("uq_renewal_holds_application_id")),
        sa.UniqueConstraint("enterprise_id", name=op.f("uq_renewal_holds_enterprise_id")),
    )


def downgrade():
    op.drop_table("renewal_holds")
