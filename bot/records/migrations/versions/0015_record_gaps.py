"""Gaps in the handoff, call-back and advocacy records: retention, declines, who asked, leases, withdrawal

Revision ID: 0015_record_gaps
Revises: 0013_callback
Create Date: 2026-12-06 16:00:00

(Written beside a parallel 0014; whoever merges the two puts one after the other.)

* Retention: ``retention_pending.chat_ref`` (the prefix of the ``source_ref``
  of what a conversation's chat made in the advocacy tables) and three counts
  in ``retention_log`` (handoffs, call backs, advocacy referrals removed). The
  DELETE guard of the append-only handoff, call-back and advocacy tables now
  lets a row go only while a ``retention_pending`` row names its conversation
  (``bot.migration_triggers.allow_retention_deletes``); UPDATE, TRUNCATE and
  any other DELETE are still refused.
* ``callback_declines`` (append-only): a call back refused as not safe, or
  cancelled, with the person's words.
* ``for_whom`` on ``callback_requests`` and ``advocacy_referrals``: ``self``
  (for the one asking, a carer for themselves included) or ``other`` (for
  someone else); NULL on rows made before it was asked.
* ``handoffs.duty_lease_until``: the duty email's claim is a lease.
* ``advocacy_consents.source_ref`` (a refusal or withdrawal made in the chat
  belongs to that conversation); ``advocacy_deliveries.kind`` (``referral``
  or ``withdrawal``: telling the provider consent was withdrawn goes through
  the same outbox), one delivery per referral and kind, and the state
  ``withdrawn``. A downgrade refuses while withdrawals are recorded (the old
  state check does not know them).

For whoever alters these tables later: on SQLite the retention triggers name
``handoffs``, ``callback_requests``, ``advocacy_referrals``,
``advocacy_deliveries`` and ``retention_pending``; a batch-mode copy of one
of them must drop the triggers first (``refuse_retention_deletes``) and make
them again after (``allow_retention_deletes``), as this migration does.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from bot.records.migration_triggers import (
    allow_retention_deletes,
    create_append_only_triggers,
    drop_append_only_triggers,
    refuse_retention_deletes,
)

revision: str = "0015_record_gaps"
down_revision: Union[str, None] = "0013_callback"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_PENDING_SENDER = "EXISTS (SELECT 1 FROM retention_pending p WHERE p.sender_id = {sender})"
_CHAT = ("p.chat_ref IS NOT NULL AND {ref} IS NOT NULL "
         "AND substr({ref}, 1, length(p.chat_ref)) = p.chat_ref")
_REFERRAL = ("EXISTS (SELECT 1 FROM advocacy_referrals r JOIN retention_pending p ON "
             + _CHAT.format(ref="r.source_ref") + " WHERE r.id = {referral})")

#: The rows retention may delete: those of a conversation a retention_pending row names.
RETENTION_DELETES = {
    "handoff_messages": "EXISTS (SELECT 1 FROM handoffs h JOIN retention_pending p ON p.sender_id = h.sender_id "
                        "WHERE h.id = OLD.handoff_id)",
    "callback_requests": _PENDING_SENDER.format(sender="OLD.sender_id"),
    "callback_declines": _PENDING_SENDER.format(sender="OLD.sender_id"),
    "callback_events": "EXISTS (SELECT 1 FROM callback_requests r JOIN retention_pending p "
                       "ON p.sender_id = r.sender_id WHERE r.id = OLD.request_id)",
    "advocacy_referrals": "EXISTS (SELECT 1 FROM retention_pending p WHERE "
                          + _CHAT.format(ref="OLD.source_ref") + ")",
    "advocacy_answers": _REFERRAL.format(referral="OLD.referral_id"),
    "advocacy_consents": "(" + _REFERRAL.format(referral="OLD.referral_id")
                         + " OR EXISTS (SELECT 1 FROM retention_pending p WHERE "
                         + _CHAT.format(ref="OLD.source_ref") + "))",
    "advocacy_delivery_events": "EXISTS (SELECT 1 FROM advocacy_deliveries d JOIN advocacy_referrals r "
                                "ON r.id = d.referral_id JOIN retention_pending p ON "
                                + _CHAT.format(ref="r.source_ref") + " WHERE d.id = OLD.delivery_id)",
}

OLD_STATES = ("queued", "sending", "sent", "failed", "acknowledged")
NEW_STATES = OLD_STATES + ("withdrawn",)


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.add_column("retention_pending", sa.Column("chat_ref", sa.String(64), nullable=True))
    for column in ("handoffs", "callbacks", "referrals"):
        op.add_column("retention_log", sa.Column(column, sa.Integer(), nullable=False, server_default="0"))
    op.add_column("handoffs", _ts("duty_lease_until", nullable=True))
    op.add_column("callback_requests", sa.Column("for_whom", sa.String(16), nullable=True))
    op.add_column("advocacy_referrals", sa.Column("for_whom", sa.String(16), nullable=True))
    op.add_column("advocacy_consents", sa.Column("source_ref", sa.String(200), nullable=True))
    op.create_index("ix_advocacy_consents_source_ref", "advocacy_consents", ["source_ref"])

    op.create_table(
        "callback_declines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_ref", sa.String(200), nullable=False),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("asked_by", sa.String(16), nullable=False),
        sa.Column("for_whom", sa.String(16), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("question", sa.String(32), nullable=True),
        sa.Column("words", sa.Text(), nullable=False),
        _ts("created_at"),
        sa.CheckConstraint(_in("channel", ("web", "sms", "phone", "staff")), name="ck_callback_declines_channel"),
        sa.CheckConstraint(_in("asked_by", ("person", "representative")), name="ck_callback_declines_asked_by"),
        sa.CheckConstraint(_in("outcome", ("not_safe", "cancelled")), name="ck_callback_declines_outcome"),
        sa.ForeignKeyConstraint(["handoff_id"], ["handoffs.id"], name="fk_callback_declines_handoff_id_handoffs"),
        sa.PrimaryKeyConstraint("id", name="pk_callback_declines"),
        sa.UniqueConstraint("source_ref", name="uq_callback_declines_source_ref"),
    )
    op.create_index("ix_callback_declines_sender_id", "callback_declines", ["sender_id"])
    create_append_only_triggers(op, ("callback_declines",))

    with op.batch_alter_table("advocacy_deliveries") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="referral"))
        batch.drop_constraint("uq_advocacy_deliveries_referral_id", type_="unique")
        batch.create_unique_constraint("uq_advocacy_deliveries_referral_id_kind", ["referral_id", "kind"])
        batch.drop_constraint("ck_advocacy_deliveries_state", type_="check")
        batch.create_check_constraint("ck_advocacy_deliveries_state", _in("state", NEW_STATES))
        batch.create_check_constraint("ck_advocacy_deliveries_kind", _in("kind", ("referral", "withdrawal")))

    allow_retention_deletes(op, RETENTION_DELETES)


def downgrade() -> None:
    refuse_retention_deletes(op, [t for t in RETENTION_DELETES if t != "callback_declines"])
    with op.batch_alter_table("advocacy_deliveries") as batch:
        batch.drop_constraint("ck_advocacy_deliveries_kind", type_="check")
        batch.drop_constraint("ck_advocacy_deliveries_state", type_="check")
        batch.create_check_constraint("ck_advocacy_deliveries_state", _in("state", OLD_STATES))
        batch.drop_constraint("uq_advocacy_deliveries_referral_id_kind", type_="unique")
        batch.create_unique_constraint("uq_advocacy_deliveries_referral_id", ["referral_id"])
        batch.drop_column("kind")
    refuse_retention_deletes(op, ("callback_declines",))
    drop_append_only_triggers(op, ("callback_declines",))
    op.drop_table("callback_declines")
    op.drop_index("ix_advocacy_consents_source_ref", table_name="advocacy_consents")
    # Append-only tables: their own ALTER TABLE ... DROP COLUMN, not batch mode's copy (which would
    # lose the triggers). SQLite has had DROP COLUMN since 3.35.
    for table, column in (("advocacy_consents", "source_ref"), ("advocacy_referrals", "for_whom"),
                          ("callback_requests", "for_whom"), ("retention_log", "referrals"),
                          ("retention_log", "callbacks"), ("retention_log", "handoffs")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.execute("ALTER TABLE handoffs DROP COLUMN duty_lease_until")  # a copy would lose its partial index
    op.execute("ALTER TABLE retention_pending DROP COLUMN chat_ref")
