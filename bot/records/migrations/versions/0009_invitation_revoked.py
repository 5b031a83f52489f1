"""Invitations can be withdrawn: ``invitations.revoked_at``

Revision ID: 0009_invitation_revoked
Revises: 0008_retention
Create Date: 2026-12-07 00:00:00

A worker who re-issues a web feedback link (``bot.surveys.request.
reissue_web_invitation``) withdraws the earlier invitation: ``revoked_at`` is
set once, never cleared. A withdrawn invitation no longer redeems, and a visit
it opened no longer counts as linked (``bot.records.links``). Nothing else of
the row changes (its expiry and use stay as they were); the survey's history
(``feedback_survey_events``) says who re-issued it and why.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0009_invitation_revoked"
down_revision: Union[str, None] = "0008_retention"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column("invitations", sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invitations") as batch:
        batch.drop_column("revoked_at")
