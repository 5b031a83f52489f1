"""The indexes the MSP records add to Rasa's ``events`` table, and nothing else.

The table stays Rasa's (``rasa.core.tracker_store.SQLTrackerStore`` creates it
and writes every row; its schema is never changed here). Rasa indexes
``sender_id`` only. The portal's conversation list and the retention purge
both ask, for every conversation, when its first and last events were: an
index on ``(sender_id, timestamp)`` answers that from the index alone, without
reading a million rows of JSON. Rasa's own queries neither need nor notice it.

The conversation list's flag filters ("danger reply given", "asked for a
person", "outcomes recorded", "unreadable input") ask which conversations
have an event with a given action, intent or type. Three more indexes,
``(action_name, sender_id)``, ``(intent_name, sender_id)`` and
``(type_name, sender_id)``, answer those from the index too
(:func:`ensure_all`, with the first; the purge and the scheduler's search tick add
them, the migrations do not). Each makes Rasa's inserts a little slower; the
benchmark (``bench/PORTAL.md``) measures what they buy.

``ensure_index`` is idempotent (``IF NOT EXISTS``) and does nothing where
there is no ``events`` table yet (or one that is not Rasa's). Migration 0008 runs it on the records
database (PostgreSQL deployments often keep both there); the purge runs it on
the tracker database before its first pass (the SQLite default keeps
conversations in their own file, which Rasa creates after the migrations
have run). Building it on a large table holds the table's write lock for a few
seconds, once: Rasa waits or, past its busy timeout, spools (nothing is lost).
"""
from __future__ import annotations

import sqlalchemy as sa

INDEX_NAME = "ix_events_sender_id_timestamp"
INDEX_COLUMNS = "(sender_id, timestamp)"


def has_events_table(connection) -> bool:
    """Is there an ``events`` table shaped like Rasa's (another program's table of that name is left alone)?"""
    inspector = sa.inspect(connection)
    if not inspector.has_table("events"):
        return False
    return {"sender_id", "timestamp"} <= {c["name"] for c in inspector.get_columns("events")}


def ensure_index(connection) -> bool:
    """Create the index if the ``events`` table is there; True if it exists afterwards."""
    if not has_events_table(connection):
        return False
    _create_missing(connection, {INDEX_NAME: INDEX_COLUMNS})
    return True


def _create_missing(connection, indexes) -> None:
    """Create those of ``indexes`` (name -> columns) that ``events`` does not have (no DDL otherwise)."""
    existing = {i["name"] for i in sa.inspect(connection).get_indexes("events")}
    for name, columns in indexes.items():
        if name not in existing:
            connection.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {name} ON events {columns}")


FLAG_INDEXES = {
    "ix_events_action_name_sender_id": "(action_name, sender_id)",
    "ix_events_intent_name_sender_id": "(intent_name, sender_id)",
    "ix_events_type_name_sender_id": "(type_name, sender_id)",
}


def ensure_all(connection) -> bool:
    """Every index of this module (the purge's and the scheduler's call)."""
    if not has_events_table(connection):
        return False
    _create_missing(connection, {INDEX_NAME: INDEX_COLUMNS, **FLAG_INDEXES})
    return True


def drop_index(connection) -> None:
    connection.exec_driver_sql(f"DROP INDEX IF EXISTS {INDEX_NAME}")
