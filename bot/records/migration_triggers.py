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


def _guard_function(table: str) -> str:
    return f"msp_{table}_history_guard"


def allow_retention_deletes(op, conditions) -> None:
    """Let the retention purge and erasure delete rows of append-only tables, and nothing else.

    ``conditions`` maps a table to an SQL condition on ``OLD`` that holds only
    while a ``retention_pending`` row names the conversation the row belongs
    to (``bot.records.retention`` writes that row first and removes it in the
    same transaction as the rows). UPDATE stays refused always, DELETE
    otherwise; TRUNCATE stays refused on PostgreSQL. The trigger names stay
    those of :func:`create_append_only_triggers`.
    """
    dialect = op.get_bind().dialect.name
    for table, condition in conditions.items():
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            op.execute(
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} WHEN NOT ({condition}) "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END"
            )
        elif dialect == "postgresql":
            function = _guard_function(table)
            op.execute(
                f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                "BEGIN\n"
                f"    IF TG_OP = 'DELETE' AND ({condition}) THEN RETURN OLD; END IF;\n"
                "    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP\n"
                "        USING ERRCODE = 'integrity_constraint_violation';\n"
                "END;\n$$"
            )
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION {function}()")


def refuse_retention_deletes(op, tables: Iterable[str]) -> None:
    """Undo :func:`allow_retention_deletes`: the plain append-only guard again."""
    dialect = op.get_bind().dialect.name
    for table in tables:
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            op.execute(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION msp_refuse_history_change()")
            op.execute(f"DROP FUNCTION IF EXISTS {_guard_function(table)}()")
