"""inbox rows know who sent them

`inboxupdate.sender` ("platform:workspace:user", as in `identity`) lets /export all show a
person's raw updates still held and /forget erase them in its own transaction (issue 12,
item 3). Rows already there: "" (unknown); their payloads are emptied once handled.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 20:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inboxupdate", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "sender",
                sqlmodel.sql.sqltypes.AutoString(length=210),
                nullable=False,
                server_default="",
            )
        )
        batch_op.create_index(batch_op.f("ix_inboxupdate_sender"), ["sender"], unique=False)
    with op.batch_alter_table("inboxupdate", schema=None) as batch_op:
        batch_op.alter_column("sender", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("inboxupdate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inboxupdate_sender"))
        batch_op.drop_column("sender")
