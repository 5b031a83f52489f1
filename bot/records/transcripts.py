"""Conversations as staff see them, read from Rasa's tracker store. Read only.

Rasa owns its ``events`` table (``rasa.core.tracker_store.SQLTrackerStore``,
written by ``bot.components.tracker_store``): one row per event, with
``sender_id``, ``type_name``, ``timestamp`` (seconds since the epoch),
``intent_name``, ``action_name`` and ``data`` (the event as JSON,
``json.dumps(event.as_dict())``). Nothing here writes to it or changes its
schema. On SQLite the file is opened read-only (``mode=ro``); on PostgreSQL
each transaction is ``READ ONLY``. The one writer besides Rasa is the
retention purge (``bot.records.retention``), through
``get_tracker_write_engine``: it deletes whole conversations, nothing else.
The same engine keeps the index of people's words in its own table beside
Rasa's (``bot.records.message_search``, which the search reads).

What a list row says is derived from the stored events alone:

* danger reply given: ``utter_danger_now`` or ``utter_danger_suicide`` was run;
* asked for a person: the ``ask_talk_to_person`` intent, or ``utter_talk_to_person``;
* outcomes recorded: the outcomes form set ``outcome_confirmed`` to true (what
  ``bot.actions.outcomes`` does once the words are saved);
* feedback given: the end-of-enquiry feedback form set one of its question
  slots to an answer (what ``bot.actions.feedback`` does once the answer is
  recorded; "stop" is not an answer);
* unreadable input: ``utter_ask_rephrase`` (SafeguardPolicy's reply to empty,
  symbols-only, too long or another script).

The slot test reads Rasa's JSON as Rasa 3.6 writes it (``"name": ..., "value":
true`` in that order); ``tests/portal/test_conversations.py`` writes events through
the real tracker store, so a change in Rasa's format fails there.
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url

from .db import PROJECT_ROOT

TRACKER_URL_ENV = "MSP_TRACKER_URL"
TRACKER_DB_ENV = "MSP_TRACKER_DB"
DEFAULT_TRACKER_DB = "var/tracker.db"

DANGER_ACTIONS = ("utter_danger_now", "utter_danger_suicide")
PERSON_INTENT = "ask_talk_to_person"
PERSON_ACTIONS = ("utter_talk_to_person",)
UNREADABLE_ACTION = "utter_ask_rephrase"
OUTCOME_SAVED_JSON = '"name": "outcome_confirmed", "value": true'

#: The feedback form's question slots (``bot.actions.feedback.FORM_SLOTS``; a test keeps them equal): the form
#: sets one to the coded answer ("yes", "skipped", ...) when the answer is recorded, and to "stop" when the
#: person stops (nothing recorded).
FEEDBACK_SLOTS = ("fb_goals", "fb_say", "fb_listened", "fb_acted", "fb_safe", "fb_happier", "fb_safe_now",
                  "fb_safe_change", "fb_outcome", "fb_anything_else")
FEEDBACK_STOP_JSON = '"value": "stop"}'

FLAGS = ("danger", "person", "outcomes", "feedback", "unreadable")
FLAG_LABELS = {
    "danger": "Danger reply given",
    "person": "Asked for a person",
    "outcomes": "Outcomes recorded",
    "feedback": "Feedback given",
    "unreadable": "Unreadable input",
}
CHANNEL_PREFIXES = {"web": "web-", "sms": "sms-", "rest": "rest-"}

_events_metadata = sa.MetaData()
#: Rasa 3.6's table, as its SQLTrackerStore declares it (never created here).
events = sa.Table(
    "events", _events_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)


class TrackerUnavailable(Exception):
    """The tracker store cannot be read (no file yet, no table yet, or the database is down)."""


# --- engine -----------------------------------------------------------------------

_lock = threading.Lock()
_engines: Dict[str, Engine] = {}
_write_engines: Dict[str, Engine] = {}


def tracker_url(url: Optional[str] = None) -> str:
    """``url``, else ``MSP_TRACKER_URL``, else the SQLite file ``MSP_TRACKER_DB`` (default var/tracker.db)."""
    raw = url or os.environ.get(TRACKER_URL_ENV, "").strip()
    if raw:
        if raw.startswith("postgres://"):
            raw = "postgresql://" + raw[len("postgres://"):]
        return raw
    path = Path(os.environ.get(TRACKER_DB_ENV, "").strip() or DEFAULT_TRACKER_DB)
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    return f"sqlite:///{path}"


def store_arguments(url: str) -> Dict[str, Any]:
    """Keyword arguments for Rasa's ``SQLTrackerStore`` (or ours) on the database at ``url``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return {"dialect": "sqlite", "db": parsed.database}
    return {"dialect": parsed.get_backend_name(), "host": parsed.host, "port": parsed.port, "db": parsed.database,
            "username": parsed.username, "password": parsed.password}


def get_tracker_engine(url: Optional[str] = None) -> Engine:
    """The read-only engine on the tracker store (the portal's)."""
    return _cached(_engines, tracker_url(url), writable=False)


def get_tracker_write_engine(url: Optional[str] = None) -> Engine:
    """A writable engine on the tracker store, for the retention purge only.

    On SQLite it never creates the file (Rasa does) and waits up to 30 s for
    Rasa's write lock; the file is already in WAL mode (Rasa's store sets it).
    """
    return _cached(_write_engines, tracker_url(url), writable=True)


def _cached(cache: Dict[str, Engine], resolved: str, *, writable: bool) -> Engine:
    with _lock:
        engine = cache.get(resolved)
        if engine is None:
            engine = _make_engine(resolved, writable)
            cache[resolved] = engine
        return engine


def _make_engine(url: str, writable: bool) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:"):
            raise TrackerUnavailable("the tracker store must be a file or a server")
        # Read-only at the SQLite level unless writable: the portal cannot write to Rasa's file.
        return sa.create_engine(
            "sqlite://", future=True, hide_parameters=True,
            creator=lambda: _sqlite(database, "rw" if writable else "ro", 30 if writable else 10),
        )
    engine = sa.create_engine(url, future=True, hide_parameters=True, pool_pre_ping=True)
    if parsed.get_backend_name() == "postgresql" and not writable:
        return engine.execution_options(postgresql_readonly=True)
    return engine


def _sqlite(path: str, mode: str, timeout: int):
    import sqlite3

    if not Path(path).exists():
        raise sqlite3.OperationalError("no tracker database yet")
    connection = sqlite3.connect(f"file:{path}?mode={mode}", uri=True, timeout=timeout, check_same_thread=False)
    connection.execute(f"PRAGMA busy_timeout={timeout * 1000:d}")
    return connection


def dispose_tracker_engines() -> None:
    with _lock:
        for engine in list(_engines.values()) + list(_write_engines.values()):
            engine.dispose()
        _engines.clear()
        _write_engines.clear()


def connect(url: Optional[str] = None) -> Connection:
    """A read-only connection to the tracker store; ``TrackerUnavailable`` if it cannot be read."""
    try:
        connection = get_tracker_engine(url).connect()
    except sa.exc.OperationalError as error:
        raise TrackerUnavailable(_first_line(error)) from None
    try:
        if not sa.inspect(connection).has_table("events"):
            connection.close()
            raise TrackerUnavailable("no conversations have been stored yet")
    except sa.exc.DBAPIError as error:
        connection.close()
        raise TrackerUnavailable(_first_line(error)) from None
    return connection


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", error)).strip().splitlines()
    return text[0] if text else type(error).__name__


# --- helpers ------------------------------------------------------------------------


def when(timestamp: Optional[float]) -> Optional[datetime]:
    if timestamp is None:
        return None
    try:
        return datetime.fromtimestamp(float(timestamp), tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def channel_of(sender_id: str) -> str:
    for channel, prefix in CHANNEL_PREFIXES.items():
        if sender_id.startswith(prefix):
            return channel
    return "other"


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _flag_conditions():
    """Each flag's condition on one event (a conversation has the flag if any of its events meets it)."""
    t = events.c
    answered = sa.or_(*[t.data.like("%" + _escape_like(f'"name": "{slot}", "value": "') + "%", escape="\\")
                        for slot in FEEDBACK_SLOTS])
    return {
        "danger": t.action_name.in_(DANGER_ACTIONS),
        "person": sa.or_(t.intent_name == PERSON_INTENT, t.action_name.in_(PERSON_ACTIONS)),
        "outcomes": sa.and_(t.type_name == "slot",
                            t.data.like("%" + _escape_like(OUTCOME_SAVED_JSON) + "%", escape="\\")),
        "feedback": sa.and_(t.type_name == "slot", answered,
                            sa.not_(t.data.like("%" + _escape_like(FEEDBACK_STOP_JSON) + "%", escape="\\"))),
        "unreadable": t.action_name == UNREADABLE_ACTION,
    }


def _flag_columns():
    one, zero = sa.literal(1), sa.literal(0)
    return {name: sa.func.max(sa.case((condition, one), else_=zero))
            for name, condition in _flag_conditions().items()}


# --- the list -----------------------------------------------------------------------


@dataclass(frozen=True)
class ConversationRow:
    sender_id: str
    channel: str
    started: Optional[datetime]
    last: Optional[datetime]
    user_messages: int
    flags: Tuple[str, ...]


@dataclass(frozen=True)
class ConversationPage:
    rows: List[ConversationRow]
    total: int


def all_sender_ids(connection: Connection) -> List[str]:
    return list(connection.execute(sa.select(events.c.sender_id).distinct()).scalars())


def matching_senders(connection: Connection, term: str, *, within: Optional[Set[str]] = None) -> Set[str]:
    """Conversations where a message from the person contains ``term`` (any case), exactly.

    The index of people's words (``bot.records.message_search``) answers for
    the events it holds; newer events, or all of them when there is no index
    or the term is under three characters, are read here: the database narrows
    the candidates on the stored JSON, then each candidate's decoded words are
    checked, so a term that only matches a JSON key or another field does not
    count.
    """
    from . import message_search

    needle = message_search.fold(term)
    if not needle or (within is not None and not within):
        return set()
    boundary = message_search.usable(connection, needle)
    if boundary is None:
        found: Set[str] = set()
        statement = sa.select(events.c.sender_id, events.c.data).where(events.c.type_name == "user")
    else:
        found = message_search.indexed_matches(connection, needle)
        # Only the events above the boundary, by primary key: ``|| ''`` keeps SQLite's planner off the
        # (type_name, sender_id) index, which would read every message from a person instead.
        statement = sa.select(events.c.sender_id, events.c.data).where(
            events.c.id > boundary, events.c.type_name.concat("") == "user")
    if term.isascii():
        # How the words sit in Rasa's JSON (``json.dumps`` escapes other characters, so the case of
        # those cannot be matched in the JSON: a term with any of them reads every candidate).
        encoded = json.dumps(term.lower())[1:-1]
        statement = statement.where(
            sa.func.lower(events.c.data).like("%" + _escape_like(encoded) + "%", escape="\\"))
    for sender_id, data in connection.execute(statement):
        if sender_id in found:
            continue
        text = _decode(data).get("text")
        if isinstance(text, str) and needle in message_search.fold(text):
            found.add(sender_id)
    return found if within is None else found & within


def _flag_senders(name: str):
    """The conversations with flag ``name``: a subquery over the events that set it."""
    return sa.select(events.c.sender_id).where(_flag_conditions()[name])


def list_conversations(connection: Connection, *, senders: Optional[Set[str]] = None,
                       channel: Optional[str] = None, since: Optional[datetime] = None,
                       until: Optional[datetime] = None, flags: Sequence[str] = (),
                       limit: int = 50, offset: int = 0) -> ConversationPage:
    """One row per conversation, the most recent first.

    ``senders`` limits the list to those conversations (a practitioner's, or
    the result of a search); ``since``/``until`` keep conversations with any
    event in that period; every flag in ``flags`` must be set.

    Two queries, so that a million stored events stay quick to page through:
    the first orders every conversation by its last event using only
    ``sender_id`` and ``timestamp`` (the index ``bot.records.tracker_index``
    answers it without reading the events' JSON) and counts them; the second
    reads the events of the conversations on this page only, for their
    message counts and flags.
    """
    if senders is not None and not senders:
        return ConversationPage([], 0)
    t = events.c
    started = sa.func.min(t.timestamp).label("started")
    last = sa.func.max(t.timestamp).label("last")
    grouped = sa.select(t.sender_id, started, last).group_by(t.sender_id)
    if senders is not None:
        grouped = grouped.where(t.sender_id.in_(sorted(senders)))
    if channel in CHANNEL_PREFIXES:
        grouped = grouped.where(t.sender_id.like(_escape_like(CHANNEL_PREFIXES[channel]) + "%", escape="\\"))
    elif channel == "other":
        for prefix in CHANNEL_PREFIXES.values():
            grouped = grouped.where(sa.not_(t.sender_id.like(_escape_like(prefix) + "%", escape="\\")))
    if since is not None:
        grouped = grouped.having(sa.func.max(t.timestamp) >= since.timestamp())
    if until is not None:
        grouped = grouped.having(sa.func.min(t.timestamp) < until.timestamp())
    for name in flags:
        if name in FLAGS:
            grouped = grouped.where(t.sender_id.in_(_flag_senders(name)))
    subquery = grouped.subquery()
    page = connection.execute(
        sa.select(subquery, sa.func.count().over().label("total"))
        .order_by(subquery.c.last.desc(), subquery.c.sender_id).limit(limit).offset(offset)
    ).all()
    if page:
        total = page[0].total
    else:
        total = connection.execute(sa.select(sa.func.count()).select_from(subquery)).scalar_one()
    details = _page_details(connection, [r.sender_id for r in page])
    rows = []
    for r in page:
        user_messages, flag_values = details.get(r.sender_id, (0, {}))
        rows.append(ConversationRow(
            sender_id=r.sender_id, channel=channel_of(r.sender_id), started=when(r.started), last=when(r.last),
            user_messages=user_messages, flags=tuple(name for name in FLAGS if flag_values.get(name)),
        ))
    return ConversationPage(rows, total)


def _page_details(connection: Connection, sender_ids: List[str]) -> Dict[str, Tuple[int, Dict[str, Any]]]:
    """Messages from the person and the flags, for these conversations only."""
    if not sender_ids:
        return {}
    t = events.c
    flag_columns = _flag_columns()
    user_messages = sa.func.sum(sa.case((t.type_name == "user", sa.literal(1)), else_=sa.literal(0)))
    result = connection.execute(
        sa.select(t.sender_id, user_messages.label("user_messages"),
                  *[column.label(name) for name, column in flag_columns.items()])
        .where(t.sender_id.in_(sender_ids)).group_by(t.sender_id)
    )
    return {r.sender_id: (int(r.user_messages or 0), {name: getattr(r, name) for name in FLAGS}) for r in result}


# --- one transcript -------------------------------------------------------------------


@dataclass
class Entry:
    """One line of a transcript: what the person wrote, or what the assistant replied."""

    kind: str  # "user", "bot" or "session"
    at: Optional[datetime]
    text: str = ""
    buttons: List[str] = field(default_factory=list)
    flags: List[str] = field(default_factory=list)
    message_id: Optional[str] = None
    response: Optional[str] = None  # the response name for a bot line (utter_...)


@dataclass
class Transcript:
    sender_id: str
    channel: str
    entries: List[Entry]
    flags: Set[str]

    @property
    def message_ids(self) -> List[str]:
        return [e.message_id for e in self.entries if e.kind == "user" and e.message_id]


def _decode(data: Optional[str]) -> Dict[str, Any]:
    if not data:
        return {}
    try:
        value = json.loads(data)
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def load_transcript(connection: Connection, sender_id: str, *, max_events: int = 20000) -> Optional[Transcript]:
    """Every message as typed and every reply, oldest first; None if there is no such conversation."""
    rows = connection.execute(
        sa.select(events.c.type_name, events.c.timestamp, events.c.action_name, events.c.data)
        .where(events.c.sender_id == sender_id)
        .order_by(events.c.id)
        .limit(max_events)
    ).all()
    if not rows:
        return None
    entries: List[Entry] = []
    flags: Set[str] = set()
    last_action: Optional[str] = None
    for type_name, timestamp, action_name, data in rows:
        at = when(timestamp)
        if type_name == "action":
            last_action = action_name
            if action_name in DANGER_ACTIONS:
                flags.add("danger")
            elif action_name in PERSON_ACTIONS:
                flags.add("person")
            elif action_name == UNREADABLE_ACTION:
                flags.add("unreadable")
            continue
        if type_name == "session_started":
            entries.append(Entry("session", at))
            continue
        if type_name == "slot":
            event = _decode(data)
            if event.get("name") == "outcome_confirmed" and event.get("value") is True:
                flags.add("outcomes")
            continue
        if type_name == "user":
            event = _decode(data)
            text = event.get("text")
            parse = event.get("parse_data") if isinstance(event.get("parse_data"), dict) else {}
            intent = (parse.get("intent") or {}).get("name") if isinstance(parse.get("intent"), dict) else None
            net = parse.get("safety_net") if isinstance(parse.get("safety_net"), dict) else {}
            line_flags = []
            if net.get("danger"):
                line_flags.append(f"danger: {net['danger']}")
            elif net.get("check"):
                line_flags.append("danger possible")
            if net.get("input"):
                line_flags.append(f"unreadable: {str(net['input']).replace('_', ' ')}")
            if intent == PERSON_INTENT:
                line_flags.append("asked for a person")
                flags.add("person")
            message_id = event.get("message_id")
            entries.append(Entry("user", at, text if isinstance(text, str) else "", flags=line_flags,
                                 message_id=message_id if isinstance(message_id, str) else None))
            continue
        if type_name == "bot":
            event = _decode(data)
            text = event.get("text")
            payload = event.get("data") if isinstance(event.get("data"), dict) else {}
            buttons = [str(b.get("title", "")) for b in payload.get("buttons") or [] if isinstance(b, dict)]
            metadata = event.get("metadata") if isinstance(event.get("metadata"), dict) else {}
            response = metadata.get("utter_action") or last_action
            line_flags = ["danger reply"] if response in DANGER_ACTIONS else []
            entries.append(Entry("bot", at, text if isinstance(text, str) else "", buttons=buttons,
                                 flags=line_flags, response=response if isinstance(response, str) else None))
    return Transcript(sender_id, channel_of(sender_id), entries, flags)
