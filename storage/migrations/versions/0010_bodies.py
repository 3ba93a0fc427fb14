"""Several bodies, one record (issue 16)

`person_scheme` holds the other bodies a member follows besides their primary scheme
(`person.scheme_id`, unchanged): the scheme and the member's status in it. `entry_category`
holds an entry's category in each other body: derived from the primary category through
the schemes' `maps_to` tables, or the member's answer (`chosen`, kept when the primary
category changes); `category` NULL while the question is still open. Both are erased with
the person (cascades from person and entry). New tables: no rows to carry over.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "person_scheme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", _text(64), nullable=False),
        sa.Column("status_id", _text(64), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id", "scheme_id"),
    )
    with op.batch_alter_table("person_scheme", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_scheme_person_id"), ["person_id"], unique=False)

    op.create_table(
        "entry_category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", _text(64), nullable=False),
        sa.Column("category", _text(64), nullable=True),
        sa.Column("chosen", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["entry.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entry_id", "scheme_id"),
    )
    with op.batch_alter_table("entry_category", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_entry_category_entry_id"), ["entry_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("entry_category", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entry_category_entry_id"))
    op.drop_table("entry_category")
    with op.batch_alter_table("person_scheme", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_scheme_person_id"))
    op.drop_table("person_scheme")
