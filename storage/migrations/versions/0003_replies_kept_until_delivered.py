"""replies kept with their dedupe key until delivered

A handled update's replies are kept with its dedupe key until the adapter confirms it
sent them, so an update replayed after a crash re-sends what was lost (issue 12, item 7).
Rows already there were delivered, or lost before this existed: NULL. `recipient_id`
(a person's id) says whose replies they are (no foreign key: the dedupe key outlives an
erasure, its replies and this link do not).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("processedevent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replies", sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(sa.Column("recipient_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_processedevent_recipient_id", ["recipient_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("processedevent", schema=None) as batch_op:
        batch_op.drop_index("ix_processedevent_recipient_id")
        batch_op.drop_column("recipient_id")
        batch_op.drop_column("replies")
