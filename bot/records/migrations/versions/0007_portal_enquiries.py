"""Enquiry pages: the history of contact preferences and of assignments (append-only)

Revision ID: 0007_portal_enquiries
Revises: 0006_portal
Create Date: 2026-12-06 00:00:00

``enquiries`` keeps the current contact preferences and worker (the survey
sender and the portal's scope read them there); every change is now also a
row in ``contact_preference_versions`` or ``enquiry_assignments``, which
nothing may update or delete (triggers as in 0001). Enquiries made before
this revision get one row each holding what they have now, recorded by
"before history (0007)".
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from bot.records.migration_triggers import create_append_only_triggers, drop_append_only_triggers

revision: str = "0007_portal_enquiries"
down_revision: Union[str, None] = "0006_portal"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLES = ("contact_preference_versions", "enquiry_assignments")
CONTACT_METHODS = ("phone", "sms", "email", "letter", "visit", "representative")
BACKFILL_BY = "before history (0007)"


def upgrade() -> None:
    op.create_table(
        "contact_preference_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enquiry_id", sa.Integer(), nullable=False),
        sa.Column("safe_to_text", sa.Boolean(create_constraint=False), nullable=False),
        sa.Column("safe_number", sa.String(32), nullable=True),
        sa.Column("safe_times", sa.String(200), nullable=True),
        sa.Column("preferred_contact", sa.String(32), nullable=True),
        sa.Column("sms_name_allowed", sa.Boolean(create_constraint=False), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("preferred_contact IS NULL OR preferred_contact IN ("
                           + ", ".join(f"'{m}'" for m in CONTACT_METHODS) + ")",
                           name="ck_contact_preference_versions_preferred_contact"),
        sa.ForeignKeyConstraint(["enquiry_id"], ["enquiries.id"],
                                name="fk_contact_preference_versions_enquiry_id_enquiries"),
        sa.PrimaryKeyConstraint("id", name="pk_contact_preference_versions"),
    )
    op.create_index("ix_contact_preference_versions_enquiry_id_id", "contact_preference_versions",
                    ["enquiry_id", "id"])
    op.create_table(
        "enquiry_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enquiry_id", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(200), nullable=True),
        sa.Column("assigned_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["enquiry_id"], ["enquiries.id"],
                                name="fk_enquiry_assignments_enquiry_id_enquiries"),
        sa.PrimaryKeyConstraint("id", name="pk_enquiry_assignments"),
    )
    op.create_index("ix_enquiry_assignments_enquiry_id_id", "enquiry_assignments", ["enquiry_id", "id"])
    op.execute(sa.text(
        "INSERT INTO contact_preference_versions (enquiry_id, safe_to_text, safe_number, safe_times, "
        "preferred_contact, sms_name_allowed, recorded_by, created_at) "
        "SELECT id, safe_to_text, safe_number, safe_times, preferred_contact, sms_name_allowed, :by, created_at "
        "FROM enquiries ORDER BY id").bindparams(by=BACKFILL_BY))
    op.execute(sa.text(
        "INSERT INTO enquiry_assignments (enquiry_id, worker, assigned_by, created_at) "
        "SELECT id, assigned_worker, :by, created_at FROM enquiries WHERE assigned_worker IS NOT NULL "
        "ORDER BY id").bindparams(by=BACKFILL_BY))
    create_append_only_triggers(op, TABLES)


def downgrade() -> None:
    drop_append_only_triggers(op, TABLES)
    for table in reversed(TABLES):
        op.drop_table(table)
