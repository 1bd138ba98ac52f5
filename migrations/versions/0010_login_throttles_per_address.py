"""login throttles per account name and client address

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 10:00:00.000000

The counts are short-lived (tick purges them), so the table is made anew rather than
converted: a migration forgets the failures of the last minutes and any lock running.
"""

from alembic import op
import sqlalchemy as sa

import registry.core.db


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table("login_throttles")
    op.create_table(
        "login_throttles",
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", registry.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", registry.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("email", "client_address", name=op.f("pk_login_throttles")),
    )


def downgrade():
    op.drop_table("login_throttles")
    op.create_table(
        "login_throttles",
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", registry.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", registry.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_login_throttles")),
    )
