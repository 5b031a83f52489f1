"""SMS survey turns: a survey reply is routed to the assistant, then handled (append-only)

Revision ID: 0005_sms_turns
Revises: 0004_feedback
Create Date: 2026-12-05 00:00:00

The webhook answers Twilio at once and the assistant reads the reply
afterwards. ``sms_survey_turns`` says, durably, that an inbound message is
waiting for the assistant (``routed``, written in the same transaction as the
message) and when its replies were queued (``done``). A server that stops in
between finds the routed rows with no ``done`` when it starts again and
finishes them, so no survey answer waits for ever.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from bot.records.migration_triggers import create_append_only_triggers, drop_append_only_triggers

revision: str = "0005_sms_turns"
down_revision: Union[str, None] = "0004_feedback"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLE = "sms_survey_turns"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('routed', 'done')", name="ck_sms_survey_turns_state"),
        sa.ForeignKeyConstraint(["inbound_id"], ["sms_inbound.id"], name="fk_sms_survey_turns_inbound_id_sms_inbound"),
        sa.ForeignKeyConstraint(["survey_id"], ["feedback_surveys.id"],
                                name="fk_sms_survey_turns_survey_id_feedback_surveys"),
        sa.PrimaryKeyConstraint("id", name="pk_sms_survey_turns"),
        sa.UniqueConstraint("inbound_id", "state", name="uq_sms_survey_turns_inbound_id_state"),
    )
    create_append_only_triggers(op, [TABLE])


def downgrade() -> None:
    drop_append_only_triggers(op, [TABLE])
    op.drop_table(TABLE)
