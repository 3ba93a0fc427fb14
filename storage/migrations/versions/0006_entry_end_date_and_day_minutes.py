"""multi-day entries and a person's own "full day"

`entry.end_date` is the last day of a multi-day activity ("14-15 Nov"); None is a one-day
entry, which every row already there is. The entry belongs to the CPD year of its first
day (`activity_date`). `person.day_minutes` is how long a "full day" of CPD is for this
person (a "half day" is half); None, as for every row already there, is the scheme's
`day_hours` (issue 13).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("end_date", sa.Date(), nullable=True))
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("day_minutes", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("day_minutes")
    with op.batch_alter_table("entry", schema=None) as batch_op:
        batch_op.drop_column("end_date")
