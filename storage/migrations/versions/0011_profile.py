"""HCPC CPD profile (issue 16): what /profile gathers for `/export hcpc`

`cpd_profile` holds one person's profile under way or done: the entries picked for the
statement of standards (4-6 entry numbers, JSON), the summary of recent work, the statement
for each of the five HCPC CPD standards (JSON list of five), and when it was last changed.
Gaps of three months or more are explained in the existing `gap_note` table (/plan gap, or
asked by /profile). Erased with the person (foreign key). New table: no rows to carry over.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cpd_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("entry_numbers", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("standards", sa.JSON(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id"),
    )


def downgrade() -> None:
    op.drop_table("cpd_profile")
