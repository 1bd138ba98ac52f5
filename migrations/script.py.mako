<%!
    import re

    def body(text):
        # Autogenerate brackets the operations with two banner comments: leave them out.
        text = re.sub(r"^ *# ### .* ###\n?", "", text or "", flags=re.M).strip()
        return text or "pass"
%>"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""
from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade():
    ${body(upgrades)}


def downgrade():
    ${body(downgrades)}
