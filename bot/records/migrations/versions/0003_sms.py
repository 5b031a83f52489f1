"""SMS: numbers (E.164, stored once), inbound messages, STOP/START, the durable outbox

Revision ID: 0003_sms
Revises: 0002_links_revocations
Create Date: 2026-02-01 00:00:00

``sms_inbound``, ``sms_opt_events`` and ``sms_outbox_events`` are append-only
(database triggers as in 0001). ``sms_outbox.state`` is the sender's work
queue and changes; its history is ``sms_outbox_events``.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from bot.records.migration_triggers import create_append_only_triggers, drop_append_only_triggers

revision: str = "0003_sms"
down_revision: Union[str, None] = "0002_links_revocations"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APPEND_ONLY_TABLES = ("sms_inbound", "sms_opt_events", "sms_outbox_events")


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "sms_numbers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("e164", sa.String(16), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_sms_numbers"),
        sa.UniqueConstraint("e164", name="uq_sms_numbers_e164"),
    )
    op.create_table(
        "sms_inbound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_sid", sa.String(64), nullable=False),
        sa.Column("number_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("keyword", sa.String(16), nullable=True),
        _ts("received_at"),
        sa.ForeignKeyConstraint(["number_id"], ["sms_numbers.id"],
                                name="fk_sms_inbound_number_id_sms_numbers"),
        sa.PrimaryKeyConstraint("id", name="pk_sms_inbound"),
        sa.UniqueConstraint("message_sid", name="uq_sms_inbound_message_sid"),
    )
    op.create_index("ix_sms_inbound_number_id", "sms_inbound", ["number_id"])
    op.create_table(
        "sms_opt_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("keyword", sa.String(16), nullable=False),
        sa.Column("source_ref", sa.String(64), nullable=True),
        _ts("created_at"),
        sa.CheckConstraint("action IN ('out', 'in')", name="ck_sms_opt_events_action"),
        sa.ForeignKeyConstraint(["number_id"], ["sms_numbers.id"],
                                name="fk_sms_opt_events_number_id_sms_numbers"),
        sa.PrimaryKeyConstraint("id", name="pk_sms_opt_events"),
    )
    op.create_index("ix_sms_opt_events_number_id_id", "sms_opt_events", ["number_id", "id"])
    op.create_table(
        "sms_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("source_ref", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("next_attempt_at"),
        _ts("lease_until", nullable=True),
        _ts("first_attempt_at", nullable=True),
        sa.Column("twilio_sid", sa.String(64), nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        _ts("created_at"),
        sa.CheckConstraint("state IN ('queued', 'sending', 'sent', 'failed', 'suppressed')",
                           name="ck_sms_outbox_state"),
        sa.ForeignKeyConstraint(["number_id"], ["sms_numbers.id"],
                                name="fk_sms_outbox_number_id_sms_numbers"),
        sa.PrimaryKeyConstraint("id", name="pk_sms_outbox"),
        sa.UniqueConstraint("source_ref", name="uq_sms_outbox_source_ref"),
        sa.UniqueConstraint("twilio_sid", name="uq_sms_outbox_twilio_sid"),
    )
    op.create_index("ix_sms_outbox_number_id", "sms_outbox", ["number_id"])
    op.create_index("ix_sms_outbox_state_next", "sms_outbox", ["state", "next_attempt_at"])
    op.create_table(
        "sms_outbox_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(200), nullable=True),
        sa.Column("twilio_sid", sa.String(64), nullable=True),
        _ts("created_at"),
        sa.ForeignKeyConstraint(["outbox_id"], ["sms_outbox.id"],
                                name="fk_sms_outbox_events_outbox_id_sms_outbox"),
        sa.PrimaryKeyConstraint("id", name="pk_sms_outbox_events"),
    )
    op.create_index("ix_sms_outbox_events_outbox_id_id", "sms_outbox_events", ["outbox_id", "id"])
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    for table in ("sms_outbox_events", "sms_outbox", "sms_opt_events", "sms_inbound", "sms_numbers"):
        op.drop_table(table)


def _create_triggers() -> None:
    create_append_only_triggers(op, APPEND_ONLY_TABLES)


def _drop_triggers() -> None:
    drop_append_only_triggers(op, APPEND_ONLY_TABLES)
