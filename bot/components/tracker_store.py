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

When the database fails (any dialect). Rasa wraps every tracker store in a
``FailSafeTrackerStore``: a failed save is logged and the conversation kept
in memory only (lost at the next restart, and not even read back: a failed
load starts the conversation afresh). That would silently lose what people
typed, so this store does not let a database error reach it:

* a save that fails appends the conversation's events to a **spool file**
  (JSON lines, fsynced; ``spool_path``, default ``<database>.spool.jsonl``
  beside a SQLite file, else ``var/tracker-spool.jsonl``) and logs an error;
  the person gets their reply as usual;
* loading a conversation that is in the spool first moves the spooled events
  into the database; while that still fails, the conversation is served
  from the spool, so it carries on where it was (a form stays a form);
* a conversation not in the spool whose load fails is served from the last
  state this process saved, if it has one (the ``recent_conversations`` most
  recently saved, default 200), else it starts afresh; either way its next
  save stores whatever the database lacks rather than counting on it;
* at start-up, and after each save that works, spooled conversations are
  moved into the database, in order, in one transaction each. Moving is
  idempotent: an event already stored (same type and timestamp) is not stored
  again. The spool file is removed once nothing is pending.

Only if the spool file cannot be written either (a full disk) does the error
reach Rasa, which logs it and keeps the conversation in memory.
"""
from __future__ import annotations

import collections
import itertools
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import QueuePool

logger = logging.getLogger(__name__)

DEFAULT_SYNCHRONOUS = "FULL"
DEFAULT_BUSY_TIMEOUT_MS = 5000
DEFAULT_SPOOL = "var/tracker-spool.jsonl"
DEFAULT_RECENT = 200
#: What a failing database raises (OSError: e.g. a vanished directory).
DATABASE_ERRORS = (SQLAlchemyError, OSError)
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
        spool_path: Optional[Text] = None,
        recent_conversations: Optional[int] = None,
        **kwargs: Any,
    ) -> None:
        # Checked first: a bad value stops the server before anything is opened.
        self.synchronous = parse_synchronous(sqlite_synchronous)
        self.busy_timeout_ms = parse_busy_timeout(sqlite_busy_timeout_ms)
        self.on_sqlite = False
        try:
            super().__init__(domain=domain, **kwargs)
            # Rasa builds its engine without it: errors (logged) would carry the
            # events' data, i.e. what people typed. Read on every error.
            self.engine.hide_parameters = True
            if is_sqlite_file(self.engine.url):
                self._reopen_sqlite()
            else:
                self._build_statements()
                if sqlite_synchronous is not None or sqlite_busy_timeout_ms is not None:
                    logger.debug("sqlite_* settings ignored for the %s tracker store",
                                 self.engine.url.get_backend_name())
        except AttributeError as exc:
            # Rasa would take an AttributeError for "no such class" and silently
            # keep conversations in memory; fail loudly instead.
            raise RuntimeError(f"could not set up {type(self).__name__}: {exc!r}") from exc
        if spool_path:
            path = Path(spool_path)
        elif self.on_sqlite:
            path = Path(str(self.engine.url.database) + ".spool.jsonl")
        else:
            path = Path(DEFAULT_SPOOL)
        self.spool = Spool(path)
        #: Each conversation's events at this process's last save (bounded).
        self._recent: "collections.OrderedDict[str, List[Event]]" = collections.OrderedDict()
        self._recent_max = DEFAULT_RECENT if recent_conversations is None else int(recent_conversations)
        #: Conversations whose last load did not come from the database.
        self._not_from_database: set = set()
        self.flush_spool()

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
            hide_parameters=True,
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
        if sender_id in self.spool and not self._move_to_database(sender_id):
            # The database still fails: carry on from what was spooled.
            self._not_from_database.add(sender_id)
            return self._tracker_from(sender_id, self.spool.events(sender_id))
        try:
            tracker = await self._retrieve_from_database(sender_id, fetch_events_from_all_sessions)
        except DATABASE_ERRORS as exc:
            # Whatever Rasa gets instead, its next save must not count on the database.
            self._not_from_database.add(sender_id)
            recent = self._recent.get(sender_id)
            logger.error("Could not load conversation %s from the database (%r); %s", sender_id,
                         exc, "carrying on from this process's last copy" if recent else
                         "it starts afresh, and nothing new is lost")
            if recent:
                return self._tracker_from(sender_id, [e.as_dict() for e in recent])
            raise
        self._not_from_database.discard(sender_id)
        return tracker

    async def _retrieve_from_database(
        self, sender_id: Text, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        if not self.on_sqlite:
            return await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        query = self._select_all if fetch_events_from_all_sessions else self._select_latest
        with self.engine.connect() as conn:
            serialised = conn.execute(query, {"sender_id": sender_id}).scalars().all()
        events = [json.loads(data) for data in serialised]
        return self._tracker_from(sender_id, events)

    def _tracker_from(self, sender_id: Text, events: Optional[List[Dict[str, Any]]]
                      ) -> Optional[DialogueStateTracker]:
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    async def save(self, tracker: DialogueStateTracker) -> None:
        sender_id = tracker.sender_id
        try:
            if sender_id in self.spool or sender_id in self._not_from_database:
                # Not loaded from the database: store whatever it lacks, in order.
                self._store_missing(sender_id, list(tracker.events))
                self.spool.done(sender_id)
            else:
                await self._save_to_database(tracker)
        except DATABASE_ERRORS as exc:
            events = [e.as_dict() for e in tracker.events]
            # If this fails too (a full disk), the error goes to Rasa (see the module doc).
            self.spool.add(sender_id, events)
            logger.error("Could not save conversation %s to the database (%r); its %d events "
                         "are in %s until it works again", sender_id, exc, len(events),
                         self.spool.path)
        else:
            self._not_from_database.discard(sender_id)
            if self.spool:
                self.flush_spool(limit=1)
        self._remember(tracker)

    async def _save_to_database(self, tracker: DialogueStateTracker) -> None:
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

    def _remember(self, tracker: DialogueStateTracker) -> None:
        """This process's last copy of a conversation, for when a later load fails."""
        if self._recent_max <= 0:
            return
        self._recent[tracker.sender_id] = list(tracker.events)
        self._recent.move_to_end(tracker.sender_id)
        while len(self._recent) > self._recent_max:
            self._recent.popitem(last=False)

    # --- the spool: conversations the database could not take -----------------

    def flush_spool(self, limit: Optional[int] = None) -> int:
        """Move spooled conversations into the database; how many are still pending."""
        for sender_id in self.spool.senders()[:limit]:
            if not self._move_to_database(sender_id):
                break
        return len(self.spool)

    def _move_to_database(self, sender_id: Text) -> bool:
        """Store what the database lacks of a spooled conversation; True when it is done."""
        events = self.spool.events(sender_id)
        if events is None:
            return True
        try:
            added = self._store_missing(
                sender_id, [e for e in map(Event.from_parameters, events) if e is not None])
        except DATABASE_ERRORS as exc:
            logger.warning("Spooled conversation %s still cannot be stored: %r", sender_id, exc)
            return False
        self.spool.done(sender_id)
        logger.info("Spooled conversation %s moved into the database (%d new events)",
                    sender_id, added)
        return True

    def _store_missing(self, sender_id: Text, events: List[Event]) -> int:
        """Insert, in order and in one transaction, the events the database does not have.

        An event is already stored if a stored event of that sender has the same
        type and timestamp (counted, so equal keys are matched one for one).
        Idempotent: storing the same list twice adds nothing the second time.
        """
        if not events:
            return 0
        table = self.SQLEvent.__table__
        first = min(evt.timestamp or 0 for evt in events)
        with self.engine.begin() as conn:
            stored = collections.Counter(
                (name, ts) for name, ts in conn.execute(
                    sa.select(table.c.type_name, table.c.timestamp)
                    .where(table.c.sender_id == sender_id, table.c.timestamp >= first)))
            rows = []
            for evt in events:
                key = (evt.type_name, evt.timestamp)
                if stored[key] > 0:
                    stored[key] -= 1
                else:
                    rows.append(_row(sender_id, evt))
            if rows:
                conn.execute(self._insert, rows)
        return len(rows)


class Spool:
    """Conversations the database could not take, in an append-only JSON-lines file.

    Each line is ``{"sender_id": ..., "events": [...]}`` (the conversation's
    events at a failed save; the latest line for a sender wins) or
    ``{"sender_id": ..., "done": true}`` (moved into the database). Every line
    is fsynced before ``add`` returns. The file is removed when nothing is
    pending, and read back at start-up; a torn last line (a crash mid-write)
    is ignored.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._pending: "collections.OrderedDict[str, List[Dict[str, Any]]]" = collections.OrderedDict()
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("r", encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, 1):
                try:
                    entry = json.loads(line)
                    sender = entry["sender_id"]
                except (ValueError, KeyError, TypeError):
                    logger.warning("%s line %d is not a whole entry; ignored", self.path, number)
                    continue
                if entry.get("done"):
                    self._pending.pop(sender, None)
                elif isinstance(entry.get("events"), list):
                    self._pending[sender] = entry["events"]
                    self._pending.move_to_end(sender)
        if self._pending:
            logger.warning("%d conversation(s) waiting in %s to be stored", len(self._pending),
                           self.path)

    def _append(self, entry: Dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def add(self, sender_id: Text, events: List[Dict[str, Any]]) -> None:
        with self._lock:
            self._append({"sender_id": sender_id, "events": events})
            self._pending[sender_id] = events
            self._pending.move_to_end(sender_id)

    def done(self, sender_id: Text) -> None:
        with self._lock:
            if self._pending.pop(sender_id, None) is None:
                return
            if self._pending:
                self._append({"sender_id": sender_id, "done": True})
            else:
                self.path.unlink(missing_ok=True)

    def events(self, sender_id: Text) -> Optional[List[Dict[str, Any]]]:
        return self._pending.get(sender_id)

    def senders(self) -> List[Text]:
        return list(self._pending)

    def __contains__(self, sender_id: object) -> bool:
        return sender_id in self._pending

    def __len__(self) -> int:
        return len(self._pending)


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
