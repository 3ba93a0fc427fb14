"""a person's full name and membership number for the record

`person.full_name` (with post-nominals) and `person.membership_number` head the PDF and
Markdown record and fill the STEP cover sheet; `/settings name …` and `/settings number …`
set them (issue 13). Rows already there: "" (not given).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 21:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (("full_name", 200), ("membership_number", 64))


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        for name, length in _COLUMNS:
            batch_op.add_column(
                sa.Column(
                    name,
                    sqlmodel.sql.sqltypes.AutoString(length=length),
                    nullable=False,
                    server_default="",
                )
            )
    with op.batch_alter_table("person", schema=None) as batch_op:
        for name, _ in _COLUMNS:
            batch_op.alter_column(name, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        for name, _ in reversed(_COLUMNS):
            batch_op.drop_column(name)
