"""The append-only guard in the database, for the migrations that create history tables.

SQLite: a trigger per table refuses UPDATE and DELETE. PostgreSQL: a row
trigger refuses UPDATE and DELETE and a statement trigger refuses TRUNCATE,
both calling ``msp_refuse_history_change()`` (made in 0001_records). The ORM
and Core guards in ``bot.records.db`` say the same thing earlier, with a
clearer message; these hold for anything that reaches the database directly.
"""
from __future__ import annotations

from typing import Iterable


def create_append_only_triggers(op, tables: Iterable[str]) -> None:
    dialect = op.get_bind().dialect.name
    for table in tables:
        if dialect == "sqlite":
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {action} refused'); END"
                )
        elif dialect == "postgresql":
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION msp_refuse_history_change()")
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION msp_refuse_history_change()")


def drop_append_only_triggers(op, tables: Iterable[str]) -> None:
    dialect = op.get_bind().dialect.name
    for table in tables:
        if dialect == "sqlite":
            for action in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
