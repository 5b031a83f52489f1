"""End-of-enquiry feedback: surveys, their history, answers; the person's view of outcomes

Revision ID: 0004_feedback
Revises: 0003_sms
Create Date: 2026-12-04 00:00:00

``feedback_survey_events`` and ``feedback_answers`` are append-only (database
triggers as in 0001). ``feedback_surveys.status`` is the scheduler's work
queue and changes; its history is ``feedback_survey_events``.
``outcome_reviews`` gains ``view``: ``worker`` (every existing row) or
``person`` (the person's own view, from a survey).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from bot.records.migration_triggers import create_append_only_triggers, drop_append_only_triggers

revision: str = "0004_feedback"
down_revision: Union[str, None] = "0003_sms"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APPEND_ONLY_TABLES = ("feedback_survey_events", "feedback_answers")
STATUSES = ("requested", "sent", "in_progress", "completed", "partial", "expired", "opted_out", "refused")


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _in(column, values):
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    # Adding a column with a constant default touches no row: the append-only
    # triggers on outcome_reviews (UPDATE/DELETE) are not involved.
    op.add_column("outcome_reviews", sa.Column("view", sa.String(16), nullable=False,
                                               server_default="worker"))
    op.add_column("enquiries", sa.Column("sms_name_allowed", sa.Boolean(create_constraint=False),
                                         nullable=False, server_default=sa.false()))
    op.create_table(
        "feedback_surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enquiry_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("number_id", sa.Integer(), nullable=True),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        sa.Column("requested_by", sa.String(200), nullable=False),
        _ts("requested_at"),
        _ts("expires_at"),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        _ts("last_contact_at", nullable=True),
        _ts("created_at"),
        sa.CheckConstraint(_in("status", STATUSES), name="ck_feedback_surveys_status"),
        sa.CheckConstraint(_in("channel", ("web", "sms")), name="ck_feedback_surveys_channel"),
        sa.ForeignKeyConstraint(["enquiry_id"], ["enquiries.id"],
                                name="fk_feedback_surveys_enquiry_id_enquiries"),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"],
                                name="fk_feedback_surveys_participant_id_participants"),
        sa.ForeignKeyConstraint(["number_id"], ["sms_numbers.id"],
                                name="fk_feedback_surveys_number_id_sms_numbers"),
        sa.ForeignKeyConstraint(["invitation_id"], ["invitations.id"],
                                name="fk_feedback_surveys_invitation_id_invitations"),
        sa.PrimaryKeyConstraint("id", name="pk_feedback_surveys"),
        sa.UniqueConstraint("enquiry_id", "participant_id", name="uq_feedback_surveys_enquiry_participant"),
    )
    op.create_index("ix_feedback_surveys_status_expires", "feedback_surveys", ["status", "expires_at"])
    op.create_index("ix_feedback_surveys_number_id", "feedback_surveys", ["number_id"])
    op.create_index("ix_feedback_surveys_invitation_id", "feedback_surveys", ["invitation_id"])
    op.create_table(
        "feedback_survey_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(300), nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        _ts("created_at"),
        sa.CheckConstraint(_in("status", STATUSES), name="ck_feedback_survey_events_status"),
        sa.ForeignKeyConstraint(["survey_id"], ["feedback_surveys.id"],
                                name="fk_feedback_survey_events_survey_id_feedback_surveys"),
        sa.PrimaryKeyConstraint("id", name="pk_feedback_survey_events"),
    )
    op.create_index("ix_feedback_survey_events_survey_id_id", "feedback_survey_events", ["survey_id", "id"])
    op.create_table(
        "feedback_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(32), nullable=False),
        sa.Column("outcome_key", sa.String(32), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("value", sa.String(32), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("source_ref", sa.String(200), nullable=True),
        _ts("created_at"),
        sa.ForeignKeyConstraint(["survey_id"], ["feedback_surveys.id"],
                                name="fk_feedback_answers_survey_id_feedback_surveys"),
        sa.ForeignKeyConstraint(["review_id"], ["outcome_reviews.id"],
                                name="fk_feedback_answers_review_id_outcome_reviews"),
        sa.PrimaryKeyConstraint("id", name="pk_feedback_answers"),
        sa.UniqueConstraint("source_ref", name="uq_feedback_answers_source_ref"),
    )
    op.create_index("ix_feedback_answers_survey_id_id", "feedback_answers", ["survey_id", "id"])
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    for table in ("feedback_answers", "feedback_survey_events", "feedback_surveys"):
        op.drop_table(table)
    with op.batch_alter_table("outcome_reviews") as batch:
        batch.drop_column("view")
    with op.batch_alter_table("enquiries") as batch:
        batch.drop_column("sms_name_allowed")
    _restore_review_triggers()


def _create_triggers() -> None:
    create_append_only_triggers(op, APPEND_ONLY_TABLES)


def _drop_triggers() -> None:
    drop_append_only_triggers(op, APPEND_ONLY_TABLES)


def _restore_review_triggers() -> None:
    """SQLite rebuilds the table to drop a column, and its triggers go with it."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(f"DROP TRIGGER IF EXISTS outcome_reviews_no_{action.lower()}")
        op.execute(
            f"CREATE TRIGGER outcome_reviews_no_{action.lower()} BEFORE {action} ON outcome_reviews "
            f"BEGIN SELECT RAISE(ABORT, 'outcome_reviews is append-only: {action} refused'); END"
        )
