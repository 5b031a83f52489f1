"""Retention: the purge's append-only log, its work list and its lock; an index on Rasa's events

Revision ID: 0008_retention
Revises: 0007_portal_enquiries
Create Date: 2026-12-05 00:00:00

``retention_log`` is append-only (triggers as in 0001: SQLite RAISE, PostgreSQL
``msp_refuse_history_change()`` for UPDATE, DELETE and TRUNCATE): one row per
conversation removed, counts and a keyed hash only. ``retention_pending``
holds a conversation while it is being removed (restart-safe);
``retention_locks`` lets one purge run at a time.

Rasa's ``events`` table stays Rasa's: this migration does not create it or
change its columns. Where it lives in this database, only an index on
``(sender_id, timestamp)`` is added (``bot.records.tracker_index``, which says
why); the downgrade drops that index and nothing else of Rasa's.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from bot.records.migration_triggers import create_append_only_triggers, drop_append_only_triggers
from bot.records.tracker_index import drop_index, ensure_index, has_events_table

revision: str = "0008_retention"
down_revision: Union[str, None] = "0007_portal_enquiries"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APPEND_ONLY_TABLES = ("retention_log",)
KINDS = "kind IN ('purge', 'erasure')"


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "retention_log",
        sa.Column("id", sa.Integer(), nullable=False),
        _ts("at"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("conversation_hash", sa.String(64), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("links", sa.Integer(), nullable=False),
        sa.Column("code_failures", sa.Integer(), nullable=False),
        sa.Column("last_event_day", sa.String(10), nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.CheckConstraint(KINDS, name="ck_retention_log_kind"),
        sa.PrimaryKeyConstraint("id", name="pk_retention_log"),
    )
    op.create_index("ix_retention_log_at", "retention_log", ["at"])
    op.create_table(
        "retention_pending",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("events_found", sa.Integer(), nullable=False),
        _ts("last_event_at", nullable=True),
        _ts("cutoff", nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        _ts("created_at"),
        sa.CheckConstraint(KINDS, name="ck_retention_pending_kind"),
        sa.PrimaryKeyConstraint("id", name="pk_retention_pending"),
        sa.UniqueConstraint("sender_id", name="uq_retention_pending_sender_id"),
    )
    op.create_table(
        "retention_locks",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("holder", sa.String(64), nullable=True),
        _ts("expires_at", nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_retention_locks"),
    )
    op.bulk_insert(sa.table("retention_locks", sa.column("name", sa.String)), [{"name": "purge"}])
    create_append_only_triggers(op, APPEND_ONLY_TABLES)
    ensure_index(op.get_bind())


def downgrade() -> None:
    if has_events_table(op.get_bind()):
        drop_index(op.get_bind())
    drop_append_only_triggers(op, APPEND_ONLY_TABLES)
    for table in ("retention_locks", "retention_pending", "retention_log"):
        op.drop_table(table)
