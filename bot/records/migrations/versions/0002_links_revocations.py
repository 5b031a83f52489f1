"""Links between a conversation and an enquiry for one visit; ended widget sessions

Revision ID: 0002_links_revocations
Revises: 0001_records
Create Date: 2026-01-20 00:00:00

``invitation_links``: what a redeemed invitation opened, for which conversation
(keyed hash) and which Rasa session; reading back outcomes checks it.
``widget_revocations``: widget sessions ended by a quick exit, so a restart
cannot bring them back.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0002_links_revocations"
down_revision: Union[str, None] = "0001_records"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "invitation_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("enquiry_id", sa.Integer(), nullable=False),
        sa.Column("conversation_hash", sa.String(64), nullable=False),
        sa.Column("session_ref", sa.String(64), nullable=False),
        _ts("linked_at"),
        _ts("expires_at"),
        sa.ForeignKeyConstraint(
            ["invitation_id"], ["invitations.id"],
            name="fk_invitation_links_invitation_id_invitations",
        ),
        sa.ForeignKeyConstraint(
            ["enquiry_id"], ["enquiries.id"], name="fk_invitation_links_enquiry_id_enquiries"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_invitation_links"),
        sa.UniqueConstraint("invitation_id", name="uq_invitation_links_invitation_id"),
    )
    op.create_index("ix_invitation_links_enquiry_id", "invitation_links", ["enquiry_id"])
    op.create_index(
        "ix_invitation_links_conversation", "invitation_links",
        ["conversation_hash", "session_ref"],
    )

    op.create_table(
        "widget_revocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_hash", sa.String(64), nullable=False),
        _ts("revoked_at"),
        _ts("expires_at"),
        sa.PrimaryKeyConstraint("id", name="pk_widget_revocations"),
        sa.UniqueConstraint("session_hash", name="uq_widget_revocations_session_hash"),
    )
    op.create_index("ix_widget_revocations_expires_at", "widget_revocations", ["expires_at"])


def downgrade() -> None:
    op.drop_table("widget_revocations")
    op.drop_table("invitation_links")
