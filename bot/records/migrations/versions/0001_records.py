"""MSP records: enquiries, participants, desired outcomes, reviews, asked, consents, invitations

Revision ID: 0001_records
Revises:
Create Date: 2025-01-01 00:00:00

Also adds database triggers that refuse UPDATE and DELETE on the append-only
tables (desired_outcomes, outcome_reviews, asked_records, consents), on SQLite
and PostgreSQL, so the history holds even against hand-written SQL.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0001_records"
down_revision: Union[str, None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APPEND_ONLY_TABLES = ("desired_outcomes", "outcome_reviews", "asked_records", "consents")

CHANNELS = "channel IN ('web', 'sms', 'phone', 'staff')"
CATEGORIES = (
    "'stop_abuse_feel_safer', 'protect_myself_future', 'feel_more_confident', "
    "'harmer_stay_away', 'be_involved', 'people_do_what_they_say', 'police_prosecute', "
    "'get_support', 'make_friends', 'something_else'"
)


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "enquiries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _ts("opened_at"),
        _ts("closed_at", nullable=True),
        sa.Column("assigned_worker", sa.String(200), nullable=True),
        sa.Column("safe_to_text", sa.Boolean(create_constraint=False), nullable=False),
        sa.Column("safe_number", sa.String(32), nullable=True),
        sa.Column("safe_times", sa.String(200), nullable=True),
        sa.Column("preferred_contact", sa.String(32), nullable=True),
        _ts("created_at"),
        sa.CheckConstraint("status IN ('open', 'closed')", name="ck_enquiries_status"),
        sa.CheckConstraint(
            "(status = 'open' AND closed_at IS NULL) OR "
            "(status = 'closed' AND closed_at IS NOT NULL)",
            name="ck_enquiries_closed_at_matches_status",
        ),
        sa.CheckConstraint(
            "preferred_contact IS NULL OR preferred_contact IN "
            "('phone', 'sms', 'email', 'letter', 'visit', 'representative')",
            name="ck_enquiries_preferred_contact",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_enquiries"),
        sa.UniqueConstraint("reference", name="uq_enquiries_reference"),
    )

    op.create_table(
        "participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enquiry_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=True),
        _ts("created_at"),
        sa.CheckConstraint(
            "role IN ('person', 'representative', 'advocate')", name="ck_participants_role"
        ),
        sa.ForeignKeyConstraint(
            ["enquiry_id"], ["enquiries.id"], name="fk_participants_enquiry_id_enquiries"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_participants"),
    )
    op.create_index("ix_participants_enquiry_id", "participants", ["enquiry_id"])

    op.create_table(
        "desired_outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enquiry_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("outcome_key", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("category", sa.String(32), nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("source_ref", sa.String(200), nullable=True),
        _ts("created_at"),
        sa.CheckConstraint(
            "status IN ('active', 'withdrawn')", name="ck_desired_outcomes_status"
        ),
        sa.CheckConstraint(CHANNELS, name="ck_desired_outcomes_channel"),
        sa.CheckConstraint(
            f"category IS NULL OR category IN ({CATEGORIES})", name="ck_desired_outcomes_category"
        ),
        sa.CheckConstraint(
            "length(text) >= 1 AND length(text) <= 2000", name="ck_desired_outcomes_text_length"
        ),
        sa.CheckConstraint(
            "(version = 1 AND supersedes_id IS NULL) OR "
            "(version > 1 AND supersedes_id IS NOT NULL)",
            name="ck_desired_outcomes_version_chain",
        ),
        sa.ForeignKeyConstraint(
            ["enquiry_id"], ["enquiries.id"], name="fk_desired_outcomes_enquiry_id_enquiries"
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name="fk_desired_outcomes_participant_id_participants",
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["desired_outcomes.id"],
            name="fk_desired_outcomes_supersedes_id_desired_outcomes",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_desired_outcomes"),
        sa.UniqueConstraint("outcome_key", "version", name="uq_desired_outcomes_key_version"),
        sa.UniqueConstraint("supersedes_id", name="uq_desired_outcomes_supersedes_id"),
        sa.UniqueConstraint("source_ref", name="uq_desired_outcomes_source_ref"),
    )
    op.create_index("ix_desired_outcomes_enquiry_id_id", "desired_outcomes", ["enquiry_id", "id"])
    op.create_index("ix_desired_outcomes_participant_id", "desired_outcomes", ["participant_id"])
    op.create_index("ix_desired_outcomes_outcome_key", "desired_outcomes", ["outcome_key"])

    op.create_table(
        "outcome_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enquiry_id", sa.Integer(), nullable=False),
        sa.Column("outcome_key", sa.String(32), nullable=True),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("achievement", sa.String(16), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        _ts("created_at"),
        sa.CheckConstraint(
            "achievement IN ('fully', 'partially', 'not_achieved')",
            name="ck_outcome_reviews_achievement",
        ),
        sa.CheckConstraint(CHANNELS, name="ck_outcome_reviews_channel"),
        sa.ForeignKeyConstraint(
            ["enquiry_id"], ["enquiries.id"], name="fk_outcome_reviews_enquiry_id_enquiries"
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name="fk_outcome_reviews_participant_id_participants",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outcome_reviews"),
    )
    op.create_index("ix_outcome_reviews_enquiry_id_id", "outcome_reviews", ["enquiry_id", "id"])
    op.create_index("ix_outcome_reviews_participant_id", "outcome_reviews", ["participant_id"])

    op.create_table(
        "asked_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enquiry_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("answer", sa.String(16), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        _ts("created_at"),
        sa.CheckConstraint("answer IN ('yes', 'no', 'dont_know')", name="ck_asked_records_answer"),
        sa.CheckConstraint(CHANNELS, name="ck_asked_records_channel"),
        sa.ForeignKeyConstraint(
            ["enquiry_id"], ["enquiries.id"], name="fk_asked_records_enquiry_id_enquiries"
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name="fk_asked_records_participant_id_participants",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_asked_records"),
    )
    op.create_index("ix_asked_records_enquiry_id_id", "asked_records", ["enquiry_id", "id"])
    op.create_index("ix_asked_records_participant_id", "asked_records", ["participant_id"])

    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enquiry_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("what", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        _ts("decided_at"),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "decision IN ('given', 'refused', 'withdrawn')", name="ck_consents_decision"
        ),
        sa.CheckConstraint(CHANNELS, name="ck_consents_channel"),
        sa.ForeignKeyConstraint(
            ["enquiry_id"], ["enquiries.id"], name="fk_consents_enquiry_id_enquiries"
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participants.id"], name="fk_consents_participant_id_participants"
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["consents.id"], name="fk_consents_supersedes_id_consents"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_consents"),
        sa.UniqueConstraint("supersedes_id", name="uq_consents_supersedes_id"),
    )
    op.create_index("ix_consents_enquiry_id_what", "consents", ["enquiry_id", "what"])
    op.create_index("ix_consents_participant_id", "consents", ["participant_id"])

    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enquiry_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        _ts("created_at"),
        sa.Column("created_by", sa.String(200), nullable=True),
        _ts("expires_at"),
        _ts("used_at", nullable=True),
        sa.Column("used_by_hash", sa.String(64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enquiry_id"], ["enquiries.id"], name="fk_invitations_enquiry_id_enquiries"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_invitations"),
        sa.UniqueConstraint("token_hash", name="uq_invitations_token_hash"),
        sa.UniqueConstraint("code_hash", name="uq_invitations_code_hash"),
    )
    op.create_index("ix_invitations_enquiry_id", "invitations", ["enquiry_id"])

    op.create_table(
        "invitation_code_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_hash", sa.String(64), nullable=False),
        _ts("attempted_at"),
        sa.PrimaryKeyConstraint("id", name="pk_invitation_code_failures"),
    )
    op.create_index(
        "ix_invitation_code_failures_client_time",
        "invitation_code_failures",
        ["client_hash", "attempted_at"],
    )
    op.create_index(
        "ix_invitation_code_failures_attempted_at", "invitation_code_failures", ["attempted_at"]
    )

    _create_append_only_triggers()


def downgrade() -> None:
    _drop_append_only_triggers()
    op.drop_table("invitation_code_failures")
    op.drop_table("invitations")
    op.drop_table("consents")
    op.drop_table("asked_records")
    op.drop_table("outcome_reviews")
    op.drop_table("desired_outcomes")
    op.drop_table("participants")
    op.drop_table("enquiries")


# --- append-only triggers ---------------------------------------------------


def _create_append_only_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in APPEND_ONLY_TABLES:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: "
                    f"{action} refused'); END"
                )
    elif dialect == "postgresql":
        op.execute(
            """
            CREATE FUNCTION msp_refuse_history_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'integrity_constraint_violation';
            END;
            $$
            """
        )
        for table in APPEND_ONLY_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION msp_refuse_history_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION msp_refuse_history_change()"
            )


def _drop_append_only_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in APPEND_ONLY_TABLES:
            for action in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
    elif dialect == "postgresql":
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS msp_refuse_history_change()")
