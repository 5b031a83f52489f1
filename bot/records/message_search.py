"""An index of what people typed, so that the portal's search stays quick with a million events.

The portal's search finds the conversations where a message from the person
contains the words searched for, in any case (``transcripts.matching_senders``).
Without an index that reads the JSON of every message the person ever sent.

This module keeps a second table beside Rasa's ``events`` table, in the same
database, with one row per message from a person: the event's id, the
conversation's ``sender_id`` and the words, case-folded (``str.casefold``).
Rasa's table is never changed: no column, no trigger. The table is:

* on SQLite, an FTS5 table with the ``trigram`` tokenizer (``rowid`` = the
  event's id). A quoted phrase of three or more characters then matches
  exactly the rows whose words contain it;
* on PostgreSQL, a plain table with a ``pg_trgm`` GIN index on the words, so
  ``LIKE '%words%'`` uses the index. Without the ``pg_trgm`` extension (it
  needs the right to create it) the table is still there, only scanned.

How it stays exact:

* :func:`catch_up` adds the messages stored since it last ran. The survey
  scheduler runs it every minute (``bot.surveys.scheduler``), so the first
  run after an upgrade builds the whole index.
* A search uses the index for the events it holds and reads the others
  directly: every event newer than the newest indexed one, less a margin of
  ``LOOKBACK`` ids (on PostgreSQL two writers can commit ids out of order).
  A search is therefore complete whether the index is built, half built or
  missing; only its speed changes.
* The retention purge and erasure delete the rows of the events they
  delete, in the same transaction (``bot.records.retention``). A row whose
  event went some other way can still name its conversation, but the
  conversation list only shows conversations that have events.
* SQLite reuses the highest ids after a deletion. The purge and erasure
  remove their rows, and a row whose id comes back for another conversation
  is indexed again by the next catch-up, within the margin. Only a deletion
  outside this project of more than ``LOOKBACK`` of the newest messages
  could leave a reused id unindexed.
* Searches shorter than three characters (after case folding) cannot use a
  trigram index: they read the events, as before.
"""
from __future__ import annotations

import logging
from typing import Iterable, List, Optional, Set, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .tracker_index import ensure_all, has_events_table
from .transcripts import _decode, _escape_like

logger = logging.getLogger("bot.records.message_search")

TABLE = "msp_message_text"
PG_INDEX = "ix_msp_message_text_trgm"
#: Events this far below the newest indexed one are checked again (and read directly by a search).
LOOKBACK = 2000
BATCH = 5000
MIN_INDEXED_CHARS = 3


def fold(text: str) -> str:
    return text.casefold()


def text_of(data: Optional[str]) -> Optional[str]:
    """The words of a stored ``user`` event (Rasa's JSON), or None."""
    text = _decode(data).get("text")
    return text if isinstance(text, str) else None


def _dialect(connection: Connection) -> str:
    return connection.dialect.name


def exists(connection: Connection) -> bool:
    if _dialect(connection) == "sqlite":
        return connection.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = ?", (TABLE,)).first() is not None
    return sa.inspect(connection).has_table(TABLE)


def ensure_table(connection: Connection) -> bool:
    """Create the table (and on PostgreSQL the trigram index where possible); False if not possible here."""
    if not has_events_table(connection):
        return False
    if _dialect(connection) == "sqlite":
        if exists(connection):
            return True
        try:
            connection.exec_driver_sql(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5("
                "text, sender_id UNINDEXED, tokenize = 'trigram case_sensitive 1')")
        except sa.exc.OperationalError as error:  # an SQLite built without FTS5 or trigram
            logger.warning("the search index cannot be built on this SQLite: %s", error)
            return False
        return True
    connection.exec_driver_sql(
        f"CREATE TABLE IF NOT EXISTS {TABLE} (event_id BIGINT PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
        "text TEXT NOT NULL)")
    if _dialect(connection) == "postgresql":
        try:
            with connection.begin_nested():
                connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                connection.exec_driver_sql(
                    f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON {TABLE} USING gin (text gin_trgm_ops)")
        except sa.exc.DBAPIError as error:
            logger.warning("no pg_trgm index for the search (the table is scanned instead): %s",
                           str(getattr(error, "orig", error)).strip().splitlines()[0])
    return True


def _id_column(connection: Connection) -> str:
    return "rowid" if _dialect(connection) == "sqlite" else "event_id"


def newest_indexed(connection: Connection) -> Optional[int]:
    """The highest event id in the index (None: nothing indexed, or no index)."""
    if not exists(connection):
        return None
    id_column = _id_column(connection)  # ORDER BY ... LIMIT 1: FTS5 reads max() from every row
    return connection.exec_driver_sql(f"SELECT {id_column} FROM {TABLE} ORDER BY {id_column} DESC LIMIT 1").scalar()


def _insert(connection: Connection, rows: List[Tuple[int, str, str]]) -> None:
    if not rows:
        return
    if _dialect(connection) == "sqlite":
        connection.exec_driver_sql(f"INSERT OR REPLACE INTO {TABLE} (rowid, sender_id, text) VALUES (?, ?, ?)",
                                   rows)
    else:
        connection.exec_driver_sql(
            f"INSERT INTO {TABLE} (event_id, sender_id, text) VALUES (%s, %s, %s) ON CONFLICT (event_id) "
            "DO UPDATE SET sender_id = excluded.sender_id, text = excluded.text", rows)


def _missing(connection: Connection, after: int, limit: int) -> List[Tuple[int, str, Optional[str]]]:
    """Messages from people with ids above ``after`` that the index does not hold, oldest first.

    A row for the same id but another conversation is stale (SQLite reuses the
    highest ids after a deletion): the message is indexed again over it.
    """
    id_column = _id_column(connection)
    placeholder = "?" if _dialect(connection) == "sqlite" else "%s"
    return list(connection.exec_driver_sql(
        f"SELECT e.id, e.sender_id, e.data FROM events e WHERE e.id > {placeholder} AND e.type_name = 'user' "
        f"AND NOT EXISTS (SELECT 1 FROM {TABLE} m WHERE m.{id_column} = e.id AND m.sender_id = e.sender_id) "
        f"ORDER BY e.id LIMIT {int(limit)}",
        (after,)))


def _boundary(connection: Connection) -> Optional[int]:
    """The id below which the index holds every message (None: nothing indexed, or no index)."""
    newest = newest_indexed(connection)
    return None if newest is None else max(0, newest - LOOKBACK)


def catch_up(engine, *, batch: int = BATCH, max_batches: Optional[int] = None) -> int:
    """Index the messages stored since the last run (the first run: all of them). Returns how many.

    Each batch is one short transaction; on SQLite it takes the write lock
    first (``BEGIN IMMEDIATE``), so a purge deleting events cannot run between
    reading the events and indexing them. With nothing new, no lock is taken.
    """
    with engine.connect() as connection:
        if not ensure_table(connection):
            connection.rollback()
            return 0
        ensure_all(connection)  # the list's indexes too, for a deployment that has not purged yet
        connection.commit()
        if not _missing(connection, _boundary(connection) or 0, 1):
            return 0
    added = done = 0
    while max_batches is None or done < max_batches:
        with engine.connect() as connection:
            if _dialect(connection) == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            rows = _missing(connection, _boundary(connection) or 0, batch)
            _insert(connection, [(i, s, fold(t)) for i, s, t in ((i, s, text_of(d)) for i, s, d in rows)
                                 if t is not None])
            connection.commit()
        added += len(rows)
        done += 1
        if len(rows) < batch:
            break
    return added


def forget_events(connection: Connection, event_ids: Iterable[int]) -> None:
    """Remove these events' rows (called in the transaction that deletes the events)."""
    ids = [int(i) for i in event_ids]
    if not ids or not exists(connection):
        return
    id_column = _id_column(connection)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        connection.execute(sa.text(f"DELETE FROM {TABLE} WHERE {id_column} IN :ids")
                           .bindparams(sa.bindparam("ids", expanding=True)), {"ids": chunk})


def _quoted_phrase(needle: str) -> str:
    return '"' + needle.replace('"', '""') + '"'


def indexed_matches(connection: Connection, needle: str) -> Set[str]:
    """The conversations whose indexed messages contain ``needle`` (already case-folded, 3+ characters).

    Not checked against Rasa's table here: the conversation list only shows conversations that have
    events, so one whose events went some other way than the purge does not appear.
    """
    if _dialect(connection) == "sqlite":
        statement = f"SELECT DISTINCT sender_id FROM {TABLE} WHERE {TABLE} MATCH ?"
        value = _quoted_phrase(needle)
    else:
        statement = f"SELECT DISTINCT sender_id FROM {TABLE} WHERE text LIKE %s ESCAPE '\\'"
        value = "%" + _escape_like(needle) + "%"
    return set(connection.exec_driver_sql(statement, (value,)).scalars())


def usable(connection: Connection, needle: str) -> Optional[int]:
    """The id below which a search may trust the index (None: read every event instead)."""
    if len(needle) < MIN_INDEXED_CHARS:
        return None
    return _boundary(connection)
