"""Live handoff to a member of staff: handoffs and their messages

Revision ID: 0012_handoff
Revises: 0011_advocacy
Create Date: 2026-12-06 00:00:00

``handoffs.status`` is the current position and changes (a claim is a
conditional UPDATE); at most one live handoff (waiting or claimed) per
conversation, by a partial unique index. ``handoff_messages`` is append-only
(triggers as in 0001): everything either side wrote, verbatim.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from bot.records.migration_triggers import create_append_only_triggers, drop_append_only_triggers

revision: str = "0012_handoff"
down_revision: Union[str, None] = "0011_advocacy"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APPEND_ONLY_TABLES = ("handoff_messages",)
LIVE = "status IN ('waiting', 'claimed')"


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        _ts("requested_at"),
        _ts("claimed_at", nullable=True),
        _ts("ended_at", nullable=True),
        sa.Column("claimed_by_id", sa.Integer(), nullable=True),
        _ts("timeout_told_at", nullable=True),
        _ts("duty_told_at", nullable=True),
        sa.CheckConstraint(_in("status", ("waiting", "claimed", "handed_back", "closed", "left",
                                          "callback_requested")), name="ck_handoffs_status"),
        sa.CheckConstraint(_in("channel", ("web", "sms", "phone", "staff")), name="ck_handoffs_channel"),
        sa.ForeignKeyConstraint(["claimed_by_id"], ["staff_users.id"], name="fk_handoffs_claimed_by_id_staff_users"),
        sa.PrimaryKeyConstraint("id", name="pk_handoffs"),
    )
    op.create_index("ix_handoffs_sender_id", "handoffs", ["sender_id"])
    op.create_index("ix_handoffs_status_requested_at", "handoffs", ["status", "requested_at"])
    op.create_index("uq_handoffs_live_sender_id", "handoffs", ["sender_id"], unique=True,
                    sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))
    op.create_table(
        "handoff_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(16), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=True),
        sa.Column("kind", sa.String(16), nullable=True),
        _ts("created_at"),
        sa.CheckConstraint(_in("author", ("person", "worker", "automatic")), name="ck_handoff_messages_author"),
        sa.CheckConstraint("kind IS NULL OR " + _in("kind", ("danger", "timeout")), name="ck_handoff_messages_kind"),
        sa.ForeignKeyConstraint(["handoff_id"], ["handoffs.id"], name="fk_handoff_messages_handoff_id_handoffs"),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_users.id"],
                                name="fk_handoff_messages_staff_user_id_staff_users"),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_messages"),
    )
    op.create_index("ix_handoff_messages_handoff_id_id", "handoff_messages", ["handoff_id", "id"])
    create_append_only_triggers(op, APPEND_ONLY_TABLES)


def downgrade() -> None:
    drop_append_only_triggers(op, APPEND_ONLY_TABLES)
    op.drop_table("handoff_messages")
    op.drop_table("handoffs")
