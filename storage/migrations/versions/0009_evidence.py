"""Evidence: files and links kept with entries (issue 16)

`evidence_blob` holds a file's bytes once, keyed by their SHA-256 (`content` is NULL when
the bytes are in the directory store, `EVIDENCE_DIR`, as a file named by the hash).
`evidence` is one piece of a person's evidence, E1, E2, ... (`number`, per person, never
reused: `person.last_evidence_number` counts them), linked to an entry (`entry_id`; NULL
while it waits for one) and to its blob (`sha256`; NULL for a link, whose address is in
`url`). The same content twice on one entry is refused (unique entry_id + sha256).
Erased with the person (issue 15); a blob goes with its last link. New tables: no rows to
carry over; people start at 0.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-10 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _utc(name: str, *, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_evidence_number", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.alter_column("last_evidence_number", server_default=None)

    op.create_table(
        "evidence_blob",
        sa.Column("sha256", _text(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        _utc("created_at", nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("kind", _text(8), nullable=False),
        sa.Column("name", _text(120), nullable=False),
        sa.Column("mime", _text(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", _text(64), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        _utc("received_at", nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["entry.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["sha256"], ["evidence_blob.sha256"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id", "number"),
        sa.UniqueConstraint("entry_id", "sha256"),
    )
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_sha256"), ["sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_sha256"))
        batch_op.drop_index(batch_op.f("ix_evidence_person_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_entry_id"))
    op.drop_table("evidence")
    op.drop_table("evidence_blob")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("last_evidence_number")
