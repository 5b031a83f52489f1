"""Staff portal: accounts, recovery codes, invitations, server-side sessions, sign-in failures, audit log

Revision ID: 0006_portal
Revises: 0005_sms_turns
Create Date: 2026-12-05 00:00:00

``audit_log`` is append-only: database triggers as in 0001 (SQLite: RAISE in
BEFORE UPDATE/DELETE triggers; PostgreSQL: ``msp_refuse_history_change()``
from 0001 for UPDATE, DELETE and TRUNCATE). The other tables change as they
are used (a session's last activity, a used recovery code...).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from bot.records.migration_triggers import create_append_only_triggers, drop_append_only_triggers

revision: str = "0006_portal"
down_revision: Union[str, None] = "0005_sms_turns"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APPEND_ONLY_TABLES = ("audit_log",)
ROLES = ("practitioner", "lead", "auditor", "admin")
STAGES = ("anonymous", "password", "enrol", "full")


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _in(column, values):
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        _ts("password_changed_at"),
        sa.Column("totp_secret", sa.String(64), nullable=True),
        _ts("totp_enrolled_at", nullable=True),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(create_constraint=False), nullable=False),
        _ts("created_at"),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        _ts("deactivated_at", nullable=True),
        sa.CheckConstraint(_in("role", ROLES), name="ck_staff_users_role"),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff_users.id"],
                                name="fk_staff_users_created_by_id_staff_users"),
        sa.PrimaryKeyConstraint("id", name="pk_staff_users"),
        sa.UniqueConstraint("username", name="uq_staff_users_username"),
    )
    op.create_table(
        "staff_recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        _ts("created_at"),
        _ts("used_at", nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["staff_users.id"],
                                name="fk_staff_recovery_codes_user_id_staff_users"),
        sa.PrimaryKeyConstraint("id", name="pk_staff_recovery_codes"),
        sa.UniqueConstraint("code_hash", name="uq_staff_recovery_codes_code_hash"),
    )
    op.create_index("ix_staff_recovery_codes_user_id", "staff_recovery_codes", ["user_id"])
    op.create_table(
        "staff_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column("note", sa.String(200), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        _ts("created_at"),
        _ts("expires_at"),
        _ts("used_at", nullable=True),
        sa.Column("used_by_id", sa.Integer(), nullable=True),
        _ts("revoked_at", nullable=True),
        sa.CheckConstraint(_in("role", ROLES), name="ck_staff_invitations_role"),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff_users.id"],
                                name="fk_staff_invitations_created_by_id_staff_users"),
        sa.ForeignKeyConstraint(["used_by_id"], ["staff_users.id"],
                                name="fk_staff_invitations_used_by_id_staff_users"),
        sa.PrimaryKeyConstraint("id", name="pk_staff_invitations"),
        sa.UniqueConstraint("token_hash", name="uq_staff_invitations_token_hash"),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("client", sa.String(64), nullable=True),
        sa.Column("pending_totp_secret", sa.String(64), nullable=True),
        _ts("created_at"),
        _ts("last_seen_at"),
        _ts("expires_at"),
        sa.CheckConstraint(_in("stage", STAGES), name="ck_staff_sessions_stage"),
        sa.ForeignKeyConstraint(["user_id"], ["staff_users.id"],
                                name="fk_staff_sessions_user_id_staff_users"),
        sa.PrimaryKeyConstraint("id", name="pk_staff_sessions"),
        sa.UniqueConstraint("token_hash", name="uq_staff_sessions_token_hash"),
    )
    op.create_index("ix_staff_sessions_user_id", "staff_sessions", ["user_id"])
    op.create_index("ix_staff_sessions_last_seen_at", "staff_sessions", ["last_seen_at"])
    op.create_table(
        "staff_login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_key", sa.String(64), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        _ts("attempted_at"),
        sa.PrimaryKeyConstraint("id", name="pk_staff_login_failures"),
    )
    op.create_index("ix_staff_login_failures_account_time", "staff_login_failures",
                    ["account_key", "attempted_at"])
    op.create_index("ix_staff_login_failures_client_time", "staff_login_failures",
                    ["client", "attempted_at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        _ts("at"),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("role", sa.String(16), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("client", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["staff_users.id"], name="fk_audit_log_user_id_staff_users"),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_user_id_id", "audit_log", ["user_id", "id"])
    op.create_index("ix_audit_log_action_id", "audit_log", ["action", "id"])
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    for table in ("audit_log", "staff_login_failures", "staff_sessions", "staff_invitations",
                  "staff_recovery_codes", "staff_users"):
        op.drop_table(table)


def _create_triggers() -> None:
    create_append_only_triggers(op, APPEND_ONLY_TABLES)


def _drop_triggers() -> None:
    drop_append_only_triggers(op, APPEND_ONLY_TABLES)
