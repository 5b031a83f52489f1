"""SMS turns for every message the assistant reads, not only survey replies

Revision ID: 0016_sms_turns_any_message
Revises: 0015_record_gaps
Create Date: 2026-12-07 16:00:00

``sms_survey_turns.survey_id`` may now be NULL: a texter's message outside a
survey that goes to the assistant (a request for a person, a live handoff,
the call-back questions) is marked ``routed`` in the same transaction as the
message, and ``done`` once its replies are queued, like a survey reply. A
server that stops in between finishes it when it starts again, so the
assistant's reading of it (a 999 reply included) is never lost.

On SQLite the column changes in batch mode (a copy of the table), so the
append-only triggers are dropped first and made again after. A downgrade
refuses while a turn with no survey is recorded (the old column could not
hold it, and the table is append-only).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from bot.records.migration_triggers import create_append_only_triggers, drop_append_only_triggers

revision: str = "0016_sms_turns_any_message"
down_revision: Union[str, None] = "0015_record_gaps"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLE = "sms_survey_turns"


def upgrade() -> None:
    drop_append_only_triggers(op, [TABLE])
    with op.batch_alter_table(TABLE) as batch:
        batch.alter_column("survey_id", existing_type=sa.Integer(), nullable=True)
    create_append_only_triggers(op, [TABLE])


def downgrade() -> None:
    without = op.get_bind().execute(sa.text(f"SELECT COUNT(*) FROM {TABLE} WHERE survey_id IS NULL")).scalar()
    if without:
        raise RuntimeError(f"{without} SMS turns outside a survey are recorded; the old schema cannot hold them "
                           "and the table is append-only, so this downgrade is refused.")
    drop_append_only_triggers(op, [TABLE])
    with op.batch_alter_table(TABLE) as batch:
        batch.alter_column("survey_id", existing_type=sa.Integer(), nullable=False)
    create_append_only_triggers(op, [TABLE])
