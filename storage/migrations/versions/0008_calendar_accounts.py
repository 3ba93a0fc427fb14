"""Calendar accounts (Outlook through Microsoft Graph, CalDAV), sign-ins and absences

`calendarfeed` gains its kind (ics, graph or caldav; existing feeds are ics), the account
shown in /calendar list, the encrypted refresh token or password (`secret`), the encrypted
Graph access token and when it expires, and `retry_at` (a server's Retry-After). The Graph
delta state goes in the existing `body` column.

`calendar_signin` holds a sign-in under way (an Outlook device code, or CalDAV calendars
offered to choose from), one per person and kind, the device code encrypted. `absence`
holds out-of-office stretches read from calendars, which hold nudges and prompts. Both
are erased with the person (issue 15). New tables: no rows to carry over.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _utc(name: str, *, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("calendarfeed", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=10), nullable=False, server_default="ics")
        )
        batch_op.add_column(sa.Column("account", _text(320), nullable=True))
        batch_op.add_column(sa.Column("secret", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("access_secret", sa.LargeBinary(), nullable=True))
        batch_op.add_column(_utc("access_expires_at", nullable=True))
        batch_op.add_column(_utc("retry_at", nullable=True))

    op.create_table(
        "calendar_signin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", _text(10), nullable=False),
        sa.Column("device_code", sa.LargeBinary(), nullable=False),
        sa.Column("user_code", _text(32), nullable=False),
        sa.Column("verification_uri", _text(300), nullable=False),
        sa.Column("interval", sa.Integer(), nullable=False),
        _utc("expires_at", nullable=False),
        _utc("next_poll_at", nullable=False),
        _utc("created_at", nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id", "kind"),
    )

    op.create_table(
        "absence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("uid", _text(500), nullable=False),
        _utc("starts_at", nullable=False),
        _utc("ends_at", nullable=False),
        sa.Column("told", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["feed_id"], ["calendarfeed.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("feed_id", "uid", "starts_at"),
    )
    with op.batch_alter_table("absence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_absence_feed_id"), ["feed_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_absence_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("absence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_absence_person_id"))
        batch_op.drop_index(batch_op.f("ix_absence_feed_id"))
    op.drop_table("absence")
    op.drop_table("calendar_signin")
    with op.batch_alter_table("calendarfeed", schema=None) as batch_op:
        batch_op.drop_column("retry_at")
        batch_op.drop_column("access_expires_at")
        batch_op.drop_column("access_secret")
        batch_op.drop_column("secret")
        batch_op.drop_column("account")
        batch_op.drop_column("kind")
