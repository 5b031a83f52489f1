"""Independent advocacy referrals: referrals, verbatim answers, consents, the delivery outbox

Revision ID: 0011_advocacy
Revises: 0010_totp_encrypted
Create Date: 2026-12-05 00:00:00

``advocacy_referrals``, ``advocacy_answers``, ``advocacy_consents`` and
``advocacy_delivery_events`` are append-only (triggers as in 0001).
``advocacy_deliveries.state`` is the sender's work queue and changes; its
history is ``advocacy_delivery_events``.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from bot.records.migration_triggers import create_append_only_triggers, drop_append_only_triggers

revision: str = "0011_advocacy"
down_revision: Union[str, None] = "0010_totp_encrypted"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APPEND_ONLY_TABLES = ("advocacy_referrals", "advocacy_answers", "advocacy_consents", "advocacy_delivery_events")


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "advocacy_referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(32), nullable=False),
        sa.Column("source_ref", sa.String(200), nullable=False),
        sa.Column("enquiry_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("answered_by", sa.String(16), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        _ts("created_at"),
        sa.CheckConstraint(_in("source", ("chat", "staff")), name="ck_advocacy_referrals_source"),
        sa.CheckConstraint(_in("answered_by", ("person", "representative", "staff")),
                           name="ck_advocacy_referrals_answered_by"),
        sa.ForeignKeyConstraint(["enquiry_id"], ["enquiries.id"], name="fk_advocacy_referrals_enquiry_id_enquiries"),
        sa.PrimaryKeyConstraint("id", name="pk_advocacy_referrals"),
        sa.UniqueConstraint("reference", name="uq_advocacy_referrals_reference"),
        sa.UniqueConstraint("source_ref", name="uq_advocacy_referrals_source_ref"),
    )
    op.create_index("ix_advocacy_referrals_enquiry_id", "advocacy_referrals", ["enquiry_id"])
    op.create_table(
        "advocacy_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _ts("created_at"),
        sa.CheckConstraint(_in("question", ("understand", "remember", "weigh_up", "say_what_they_want", "support",
                                            "contact", "safe_times")), name="ck_advocacy_answers_question"),
        sa.ForeignKeyConstraint(["referral_id"], ["advocacy_referrals.id"],
                                name="fk_advocacy_answers_referral_id_advocacy_referrals"),
        sa.PrimaryKeyConstraint("id", name="pk_advocacy_answers"),
    )
    op.create_index("ix_advocacy_answers_referral_id_id", "advocacy_answers", ["referral_id", "id"])
    op.create_table(
        "advocacy_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("enquiry_id", sa.Integer(), nullable=True),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("given_by", sa.String(16), nullable=False),
        sa.Column("words", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        _ts("created_at"),
        sa.CheckConstraint(_in("decision", ("given", "refused", "withdrawn")), name="ck_advocacy_consents_decision"),
        sa.CheckConstraint(_in("given_by", ("person", "representative", "staff")),
                           name="ck_advocacy_consents_given_by"),
        sa.ForeignKeyConstraint(["referral_id"], ["advocacy_referrals.id"],
                                name="fk_advocacy_consents_referral_id_advocacy_referrals"),
        sa.ForeignKeyConstraint(["enquiry_id"], ["enquiries.id"], name="fk_advocacy_consents_enquiry_id_enquiries"),
        sa.PrimaryKeyConstraint("id", name="pk_advocacy_consents"),
    )
    op.create_index("ix_advocacy_consents_referral_id", "advocacy_consents", ["referral_id"])
    op.create_index("ix_advocacy_consents_enquiry_id", "advocacy_consents", ["enquiry_id"])
    op.create_table(
        "advocacy_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("next_attempt_at"),
        _ts("lease_until", nullable=True),
        _ts("first_attempt_at", nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("alerted", sa.Boolean(create_constraint=False), nullable=False),
        _ts("created_at"),
        sa.CheckConstraint(_in("state", ("queued", "sending", "sent", "failed", "acknowledged")),
                           name="ck_advocacy_deliveries_state"),
        sa.CheckConstraint(_in("channel", ("email", "webhook")), name="ck_advocacy_deliveries_channel"),
        sa.ForeignKeyConstraint(["referral_id"], ["advocacy_referrals.id"],
                                name="fk_advocacy_deliveries_referral_id_advocacy_referrals"),
        sa.PrimaryKeyConstraint("id", name="pk_advocacy_deliveries"),
        sa.UniqueConstraint("referral_id", name="uq_advocacy_deliveries_referral_id"),
    )
    op.create_index("ix_advocacy_deliveries_state_next", "advocacy_deliveries", ["state", "next_attempt_at"])
    op.create_table(
        "advocacy_delivery_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(200), nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=True),
        _ts("created_at"),
        sa.ForeignKeyConstraint(["delivery_id"], ["advocacy_deliveries.id"],
                                name="fk_advocacy_delivery_events_delivery_id_advocacy_deliveries"),
        sa.PrimaryKeyConstraint("id", name="pk_advocacy_delivery_events"),
    )
    op.create_index("ix_advocacy_delivery_events_delivery_id_id", "advocacy_delivery_events", ["delivery_id", "id"])
    create_append_only_triggers(op, APPEND_ONLY_TABLES)


def downgrade() -> None:
    drop_append_only_triggers(op, APPEND_ONLY_TABLES)
    for table in ("advocacy_delivery_events", "advocacy_deliveries", "advocacy_consents", "advocacy_answers",
                  "advocacy_referrals"):
        op.drop_table(table)
