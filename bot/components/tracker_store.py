"""Rasa's SQL tracker store, made cheaper on SQLite without losing a message.

``endpoints.yml`` names it (``type: bot.components.tracker_store.WALSQLTrackerStore``).
Rasa 3.6 imports a ``type`` it does not know as ``module.ClassName`` and calls
it with ``host=<url>``, ``domain``, ``event_broker`` and every other key of the
``tracker_store`` section as a keyword argument
(``rasa.core.tracker_store._load_from_module_name_in_endpoint_config``).

PostgreSQL (or any dialect but SQLite): exactly Rasa's ``SQLTrackerStore``,
same engine, pool and queries; the ``sqlite_*`` keys are ignored.

A SQLite file: the same table and the same rows as Rasa's store (Rasa's own
``SQLTrackerStore`` reads what this one writes and the other way round), but

* ``PRAGMA journal_mode=WAL``. With Rasa's default rollback journal every
  commit writes a journal, fsyncs, writes the database, fsyncs and deletes the
  journal. In WAL mode a commit appends to ``tracker.db-wal``, which is copied
  into the database at checkpoints (about every 1,000 pages). WAL mode is a
  property of the file and stays on; it keeps ``-wal`` and ``-shm`` files
  beside the database, so a backup must use ``sqlite3 tracker.db ".backup ..."``
  (or copy all three files), and the file must be on a local file system.
* connections kept in a pool (``QueuePool``). SQLAlchemy 1.4 opens a file
  database with ``NullPool``: a new connection for every session, two or three
  per message, each re-reading the schema; and in WAL mode closing the last
  connection checkpoints and deletes the WAL (measured: slower than the
  rollback journal). Rasa uses the store only on the server's event-loop
  thread and never awaits inside a session, so one connection is in use at a
  time; ``check_same_thread=False`` lets the pool hand a connection to another
  thread should that change (one checkout uses it at a time). SQLAlchemy 2.0
  makes the same choice for file databases.
* ``PRAGMA synchronous`` (``sqlite_synchronous``, default ``FULL``) and
  ``PRAGMA busy_timeout`` (``sqlite_busy_timeout_ms``, default 5000) on every
  new connection.
* the queries in SQLAlchemy Core, built once. Rasa builds an ORM query with a
  subquery for every load and save, counts the stored events through a second
  ORM query and inserts through the ORM unit of work; profiled under load that
  was more CPU than SQLite's own work. ``_retrieve`` and ``save`` below run the
  same SQL (latest session, or all sessions; count, then insert the new events
  in one transaction) without the ORM. This copies Rasa 3.6.21's logic
  (``_event_query``, ``_retrieve``, ``save``): check it when upgrading Rasa.

Durability. The project promises "nothing lost": once Rasa has answered a
message, a crash of the Rasa process must not lose it. Rasa commits the
tracker before the REST channel sends the reply. In WAL mode a committed
transaction is in the WAL file, i.e. handed to the operating system, at any
``synchronous`` level, so a killed or crashed Rasa process loses nothing: the
next connection replays the WAL (``tests/integration/test_tracker_store.py``
kills the server with SIGKILL and reads the message back). The levels differ
only if the operating system crashes or the power fails:

* ``FULL`` (our default): the WAL is fsynced at every commit; nothing
  committed is lost, as with Rasa's own store (rollback journal, FULL).
* ``NORMAL`` (SQLite's advice for WAL mode): the WAL is fsynced only at
  checkpoints; the last commits before an OS crash or power cut can be lost;
  the database is never corrupted.

Why FULL. Measured at 10 concurrent REST conversations on the 2-core machine
(bench: one full run and two shorter ones, quiet machine, 600 messages each):

    tracker store                p95 ms          msg/s               Rasa CPU ms/msg
    Rasa's SQLTrackerStore       519, 391, 398   36.0, 45.4, 42.5    26.9, 21.3, 22.7
    this one, FULL               340, 320, 330   50.8, 55.3, 53.1    19.4, 17.8, 18.5
    this one, NORMAL             327, 328, 305   54.5, 54.9, 56.5    18.3, 18.2, 17.6
    in memory (nothing kept)     290, 288, 275   55.8, 61.2, 64.6    17.9, 16.3, 15.5

Almost all of the gain is WAL, the pool and the Core queries; NORMAL saves a
further ~0.6 ms CPU and ~10 ms p95, less than the spread between runs, and
neither level meets the 300 ms p95 target on its own (even keeping nothing
barely does): the rest is Rasa's pipeline and policies, not the store. So
we keep the stronger guarantee. A deployment that wants those milliseconds
more than durability across power loss sets ``sqlite_synchronous: NORMAL`` in
``endpoints.yml``; it still loses nothing when the Rasa process crashes.
``OFF`` is refused: it can corrupt the file on power loss.

If loading this class failed with ``AttributeError`` or ``ImportError``, Rasa
would quietly keep conversations in memory instead; an ``AttributeError``
raised while setting up is therefore turned into a ``RuntimeError``, which
stops the server.
"""
from __future__ import annotations

import itertools
import json
import logging
from typing import Any, Dict, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import event
from sqlalchemy.pool import QueuePool

logger = logging.getLogger(__name__)

DEFAULT_SYNCHRONOUS = "FULL"
DEFAULT_BUSY_TIMEOUT_MS = 5000
#: Levels allowed for ``sqlite_synchronous`` (value: what ``PRAGMA synchronous`` reads back).
SYNCHRONOUS_LEVELS = {"NORMAL": 1, "FULL": 2, "EXTRA": 3}


def parse_synchronous(value: Optional[Any]) -> str:
    """``sqlite_synchronous`` from endpoints.yml, checked; None means the default."""
    if value is None or str(value).strip() == "":
        return DEFAULT_SYNCHRONOUS
    level = str(value).strip().upper()
    if level not in SYNCHRONOUS_LEVELS:
        raise ValueError(
            f"sqlite_synchronous must be one of {', '.join(SYNCHRONOUS_LEVELS)}, not {value!r} "
            "(OFF is refused: it can corrupt the database on power loss)"
        )
    return level


def parse_busy_timeout(value: Optional[Any]) -> int:
    if value is None or str(value).strip() == "":
        return DEFAULT_BUSY_TIMEOUT_MS
    try:
        ms = int(value)
    except (TypeError, ValueError):
        ms = -1
    if ms < 0:
        raise ValueError(f"sqlite_busy_timeout_ms must be a whole number of milliseconds >= 0, "
                         f"not {value!r}")
    return ms


def is_sqlite_file(url: "sa.engine.URL") -> bool:
    """True for a SQLite database in a file (not ``:memory:`` or a temporary one)."""
    if url.get_backend_name() != "sqlite":
        return False
    database = url.database or ""
    return database not in ("", ":memory:") and not database.startswith("file::memory:")


class WALSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore``; on a SQLite file: WAL, pooled connections, chosen
    ``synchronous``, Rasa's queries without the ORM (see the module docstring)."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        sqlite_synchronous: Optional[Text] = None,
        sqlite_busy_timeout_ms: Optional[int] = None,
        **kwargs: Any,
    ) -> None:
        # Checked first: a bad value stops the server before anything is opened.
        self.synchronous = parse_synchronous(sqlite_synchronous)
        self.busy_timeout_ms = parse_busy_timeout(sqlite_busy_timeout_ms)
        self.on_sqlite = False
        try:
            super().__init__(domain=domain, **kwargs)
            if is_sqlite_file(self.engine.url):
                self._reopen_sqlite()
            elif sqlite_synchronous is not None or sqlite_busy_timeout_ms is not None:
                logger.debug("sqlite_* settings ignored for the %s tracker store",
                             self.engine.url.get_backend_name())
        except AttributeError as exc:
            # Rasa would take an AttributeError for "no such class" and silently
            # keep conversations in memory; fail loudly instead.
            raise RuntimeError(f"could not set up {type(self).__name__}: {exc!r}") from exc

    def _reopen_sqlite(self) -> None:
        """Swap Rasa's NullPool engine (tables already created) for a pooled WAL one."""
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(
            url,
            poolclass=QueuePool,
            pool_size=5,
            max_overflow=10,
            connect_args={"check_same_thread": False},
        )
        event.listen(self.engine, "connect", self._on_connect)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self._build_statements()
        self.on_sqlite = True

        with self.engine.connect() as conn:
            mode = str(conn.exec_driver_sql("PRAGMA journal_mode").scalar()).lower()
            sync = conn.exec_driver_sql("PRAGMA synchronous").scalar()
        if mode != "wal":
            # Still durable (rollback journal), only slower; e.g. a file system
            # without shared memory. Say so rather than fail.
            logger.warning("SQLite tracker store %s: journal_mode is %r, not 'wal'",
                           url.database, mode)
        logger.info(
            "SQLite tracker store %s: journal_mode=%s, synchronous=%s (%s), busy_timeout=%d ms, "
            "pooled connections", url.database, mode, self.synchronous, sync, self.busy_timeout_ms,
        )

    def _on_connect(self, dbapi_connection: Any, connection_record: Any) -> None:  # noqa: ARG002
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms:d}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.fetchall()
            # Validated against SYNCHRONOUS_LEVELS: never user text in SQL.
            cursor.execute(f"PRAGMA synchronous = {SYNCHRONOUS_LEVELS[self.synchronous]:d}")
        finally:
            cursor.close()

    # --- Rasa 3.6's queries in SQLAlchemy Core (SQLite only; see the module doc) ---
    # Built once; SQLAlchemy caches their compiled SQL. Same table, same rows:
    # tests/integration/test_tracker_store.py reads each store's writes with the other.

    def _build_statements(self) -> None:
        table = self.SQLEvent.__table__
        sender = sa.bindparam("sender_id")
        session_start = (
            sa.select(sa.func.max(table.c.timestamp))
            .where(table.c.sender_id == sender, table.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        # Events after the latest SessionStarted, or all of them if there is none.
        latest_session = sa.and_(
            table.c.sender_id == sender,
            sa.or_(table.c.timestamp >= session_start, session_start.is_(None)),
        )
        self._select_latest = (
            sa.select(table.c.data).where(latest_session).order_by(table.c.id))
        self._select_all = (
            sa.select(table.c.data).where(table.c.sender_id == sender).order_by(table.c.id))
        self._count_latest = sa.select(sa.func.count()).select_from(table).where(latest_session)
        self._insert = table.insert()

    async def _retrieve(
        self, sender_id: Text, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        if not self.on_sqlite:
            return await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        query = self._select_all if fetch_events_from_all_sessions else self._select_latest
        with self.engine.connect() as conn:
            serialised = conn.execute(query, {"sender_id": sender_id}).scalars().all()
        events = [json.loads(data) for data in serialised]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    async def save(self, tracker: DialogueStateTracker) -> None:
        if not self.on_sqlite:
            return await super().save(tracker)
        await self.stream_events(tracker)
        # One transaction, committed (and, at synchronous=FULL, fsynced) before
        # this returns and so before Rasa sends its reply.
        with self.engine.begin() as conn:
            stored = conn.execute(self._count_latest, {"sender_id": tracker.sender_id}).scalar_one()
            rows = [_row(tracker.sender_id, e)
                    for e in itertools.islice(tracker.events, stored, len(tracker.events))]
            if rows:
                conn.execute(self._insert, rows)
        logger.debug(f"Tracker with sender_id '{tracker.sender_id}' stored to database")


def _row(sender_id: Text, evt: Event) -> Dict[str, Any]:
    """The ``events`` row Rasa's ``SQLTrackerStore.save`` writes for one event."""
    data = evt.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": evt.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }
