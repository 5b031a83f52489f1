"""Call-back requests: what the person asked, word for word, and what happened next

Revision ID: 0013_callback
Revises: 0012_handoff
Create Date: 2026-12-06 03:30:00

``callback_requests`` and ``callback_events`` are append-only (triggers as
in 0001): a request is never changed; the duty team's email and a worker's
"called" or "could not reach" are new ``callback_events`` rows.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from bot.records.migration_triggers import create_append_only_triggers, drop_append_only_triggers

revision: str = "0013_callback"
down_revision: Union[str, None] = "0012_handoff"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APPEND_ONLY_TABLES = ("callback_requests", "callback_events")


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "callback_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_ref", sa.String(200), nullable=False),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("asked_by", sa.String(16), nullable=False),
        sa.Column("safe_words", sa.Text(), nullable=False),
        sa.Column("number_words", sa.Text(), nullable=False),
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("safe_times", sa.Text(), nullable=False),
        sa.Column("message_words", sa.Text(), nullable=False),
        sa.Column("leave_message", sa.Boolean(), nullable=False),
        sa.Column("others_words", sa.Text(), nullable=False),
        _ts("created_at"),
        sa.CheckConstraint(_in("channel", ("web", "sms", "phone", "staff")), name="ck_callback_requests_channel"),
        sa.CheckConstraint(_in("asked_by", ("person", "representative")), name="ck_callback_requests_asked_by"),
        sa.ForeignKeyConstraint(["handoff_id"], ["handoffs.id"], name="fk_callback_requests_handoff_id_handoffs"),
        sa.PrimaryKeyConstraint("id", name="pk_callback_requests"),
        sa.UniqueConstraint("source_ref", name="uq_callback_requests_source_ref"),
    )
    op.create_index("ix_callback_requests_sender_id", "callback_requests", ["sender_id"])
    op.create_index("ix_callback_requests_handoff_id", "callback_requests", ["handoff_id"])
    op.create_table(
        "callback_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=True),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        _ts("created_at"),
        sa.CheckConstraint(_in("event", ("requested", "duty_claimed", "duty_emailed", "duty_failed", "called",
                                         "not_reached")), name="ck_callback_events_event"),
        sa.ForeignKeyConstraint(["request_id"], ["callback_requests.id"],
                                name="fk_callback_events_request_id_callback_requests"),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_users.id"],
                                name="fk_callback_events_staff_user_id_staff_users"),
        sa.PrimaryKeyConstraint("id", name="pk_callback_events"),
        sa.UniqueConstraint("request_id", "event", "attempt", name="uq_callback_events_request_id"),
    )
    op.create_index("ix_callback_events_request_id_id", "callback_events", ["request_id", "id"])
    create_append_only_triggers(op, APPEND_ONLY_TABLES)


def downgrade() -> None:
    drop_append_only_triggers(op, APPEND_ONLY_TABLES)
    op.drop_table("callback_events")
    op.drop_table("callback_requests")
