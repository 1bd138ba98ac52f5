"""criteria versions with their effective dates; the champion rung's routes

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 21:10:00.000000

The thresholds move from ``tiers.criteria`` to ``criteria_versions``: each tier's
current thresholds become its first version, dated as the seed dates it (the rule text's
own date, or the plan's first day for rules older than the plan). ``registry seed`` then
adds the later versions. Applications gain ``route`` and ``criteria`` (the thresholds a
snapshot was judged by), enterprises ``tier_route`` and
``little_giant``, annual reports ``years_in_field`` and ``product_revenue_share``.
"""
import json
from datetime import UTC, date, datetime

from alembic import op
import sqlalchemy as sa

import registry.core.db


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

#: The first version's date per tier: seeds/criteria.json's first "effective_from".
FIRST_VERSION = {
    'tech_sme': date(2022, 1, 1),
    'high_tech': date(2016, 1, 1),
    'champion': date(2022, 8, 1),
    'navigator': date(2022, 1, 1),
    'chain_leader': date(2022, 1, 1),
}
PLAN_START = date(2022, 1, 1)
#: The single-champion route's thresholds of the first champion version (105号, 2016),
#: as the seed has them: the registry can judge that route before the next seed run.
SINGLE_CHAMPION_2016 = {
    'years_in_field_min': 10,
    'new_product_years_min': 3,
    'global_rank_max': 3,
    'product_revenue_share_min': 70,
    'main_revenue_avg_min': None,
    'main_revenue_avg_srdi_min': None,
}


def upgrade():
    versions = op.create_table('criteria_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=20), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('criteria', sa.JSON(), nullable=False),
    sa.Column('basis', sa.Text(), nullable=False),
    sa.Column('created_at', registry.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('edited_at', registry.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tier'], ['tiers.code'], name=op.f('fk_criteria_versions_tier_tiers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_criteria_versions')),
    sa.UniqueConstraint('tier', 'effective_from', name=op.f('uq_criteria_versions_tier_effective_from'))
    )
    connection = op.get_bind()
    rows = connection.execute(sa.text('SELECT code, criteria FROM tiers')).all()
    now = datetime.now(UTC).replace(microsecond=0)
    stored = {
        code: criteria if isinstance(criteria, dict) else json.loads(criteria or '{}')
        for code, criteria in rows
    }
    if 'champion' in stored:
        stored['champion'].setdefault('single_champion', SINGLE_CHAMPION_2016)
    op.bulk_insert(versions, [
        {
            'tier': code,
            'effective_from': FIRST_VERSION.get(code, PLAN_START),
            'criteria': criteria,
            'basis': criteria.get('_basis', ''),
            'created_at': now,
        }
        for code, criteria in stored.items()
    ])
    # Both engines drop a plain column in place (SQLite since 3.35): no table rebuild,
    # which the foreign keys to tiers would refuse.
    op.execute('ALTER TABLE tiers DROP COLUMN criteria')
    # Plain ADD COLUMN on both engines (a batch would rebuild the tables on SQLite).
    op.add_column('applications', sa.Column('route', sa.String(length=20), nullable=True))
    op.add_column('applications', sa.Column('criteria', sa.JSON(), nullable=True))
    op.add_column('enterprises', sa.Column('tier_route', sa.String(length=20), nullable=True))
    op.add_column('enterprises', sa.Column('little_giant', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('annual_reports', sa.Column('years_in_field', sa.Integer(), nullable=True))
    op.add_column('annual_reports', sa.Column('product_revenue_share', sa.Numeric(precision=5, scale=2, asdecimal=False), nullable=True))
    # Champion applications made before routes existed took the SRDI route.
    connection.execute(sa.text("UPDATE applications SET route = 'srdi' WHERE tier = 'champion'"))
    connection.execute(sa.text("UPDATE enterprises SET tier_route = 'srdi' WHERE tier = 'champion'"))


def downgrade():
    for table, column in (
        ('annual_reports', 'product_revenue_share'),
        ('annual_reports', 'years_in_field'),
        ('enterprises', 'little_giant'),
        ('enterprises', 'tier_route'),
        ('applications', 'criteria'),
        ('applications', 'route'),
    ):
        op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')
    op.add_column('tiers', sa.Column('criteria', sa.JSON(), nullable=True))
    connection = op.get_bind()
    latest = connection.execute(sa.text(
        'SELECT tier, criteria FROM criteria_versions ORDER BY tier, effective_from'
    )).all()
    for tier, criteria in latest:  # the last of each tier's versions wins
        value = criteria if isinstance(criteria, str) else json.dumps(criteria)
        connection.execute(
            sa.text('UPDATE tiers SET criteria = :c WHERE code = :t'), {'c': value, 't': tier}
        )
    op.drop_table('criteria_versions')
