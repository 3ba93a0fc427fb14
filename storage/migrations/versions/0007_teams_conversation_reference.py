"""Teams conversation references, for messages the bot starts

`conversation_reference` holds, per identity, where to write to it first on Teams: the
service URL (kept whole, path included, up to 2,048 characters), the personal chat's
conversation id (~130 characters, up to 512), the tenant, the bot's id and the channel.
They do not fit `identity.chat_id` (128 characters). One row per identity; erased with it
(issue 14). New table: no rows to carry over.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "conversation_reference",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("service_url", _text(2048), nullable=False),
        sa.Column("conversation_id", _text(512), nullable=False),
        sa.Column("tenant_id", _text(64), nullable=False),
        sa.Column("bot_id", _text(128), nullable=False),
        sa.Column("channel_id", _text(32), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["identity_id"], ["identity.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("identity_id"),
    )


def downgrade() -> None:
    op.drop_table("conversation_reference")
