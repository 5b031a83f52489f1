"""Retention: conversations are deleted when the assistant told people they would be.

The welcome says what people type is kept for ``retention_days`` (90) and then
deleted. :func:`purge` deletes every conversation whose last event is older
than that: Rasa's ``events`` rows for its sender id, and our own rows tied to
it that are not evidence for an enquiry (the ``invitation_links`` that let it
see an enquiry's outcomes, its ``invitation_code_failures``), and what its
chat made that holds what the person wrote: its live handoffs and their
messages, its call-back requests (with their events) and declines, and the
advocacy referrals, refusals and withdrawals made in it (found by
``advocacy.chat_ref``; with their answers, consents, deliveries and delivery
events; a referral already sent stays with the provider). Desired outcomes,
feedback answers, the enquiry's consents and the audit log are the
enquiry's evidence (or the record of staff access) and stay; they hold
message ids and hashes, not the conversation. Referrals made by staff in the
portal belong to the enquiry, not to a conversation, and stay with it.

Handoff messages, call-back rows and the advocacy rows are append-only: the
ORM and Core guards let through only DELETEs carrying the ``RETENTION_DELETE``
execution option, and the database triggers (migration 0015) only those of a
conversation a ``retention_pending`` row names, so nothing else can delete
them.

A conversation an invitation linked to an enquiry is kept while that enquiry
is open, and after it closes for ``enquiry_retention_days`` (the enquiry's own
retention, a setting); then it goes like any other.

:func:`erase` removes one conversation now, on request, by an administrator
(portal) or on the command line, whatever its age; it writes the audit row
(who, when, which id, why) before it deletes anything.

Both go through :func:`_remove`, three short transactions per conversation:

1. records: a ``retention_pending`` row (the id, the kind, what was found);
2. tracker: delete the conversation's events (for a purge, only if its
   newest event is still older than the cut-off, so a person who came back
   a moment ago keeps their conversation);
3. records: delete the tied rows and the pending row, append one
   ``retention_log`` row (counts and a keyed hash, never the id or content).

A run stopped anywhere leaves at most one pending row; the next run finishes
pending rows first. Two purges never run at once: the ``retention_locks``
row ``purge`` is held for a lease renewed as the run goes. The clock is a
parameter (``now``) for tests.
"""
from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Dict, List, Optional, Set

import sqlalchemy as sa
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import advocacy as advocacy_records
from . import audit as audit_records
from . import message_search
from . import transcripts
from .db import session_scope
from .errors import InvalidValue, NotFound
from .invitations import hash_client
from .models import (
    RETENTION_DELETE,
    AdvocacyAnswer,
    AdvocacyConsent,
    AdvocacyDelivery,
    AdvocacyDeliveryEvent,
    AdvocacyReferral,
    CallbackDecline,
    CallbackEvent,
    CallbackRequest,
    CodeFailure,
    Enquiry,
    Handoff,
    HandoffMessage,
    InvitationLink,
    RetentionLock,
    RetentionLog,
    RetentionPending,
    utcnow,
)
from .tracker_index import ensure_all

logger = logging.getLogger("bot.records.retention")

LOCK_NAME = "purge"
LEASE = timedelta(minutes=10)
MAX_REASON_CHARS = 500

KEEP_OPEN = "kept: linked to an open enquiry"
KEEP_ENQUIRY = "kept: within the enquiry's retention"
DELETE = "delete"

events = transcripts.events


class LockLost(RuntimeError):
    """Another run took the purge lock (this one was too slow to renew it): stop."""


# --- the rules -----------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    retention_days: int = 90
    enquiry_retention_days: int = 2190

    @classmethod
    def from_settings(cls, settings=None) -> "Policy":
        from bot.settings import get_settings

        settings = settings or get_settings()
        return cls(_days(settings, "retention_days"), _days(settings, "enquiry_retention_days"))

    def cutoff(self, now: datetime) -> datetime:
        return now - timedelta(days=self.retention_days)


def _days(settings, name: str) -> int:
    from bot.settings import int_setting

    return int_setting(settings, name, minimum=1, error=InvalidValue)


@dataclass
class Candidate:
    """A conversation past its own retention, and what happens to it."""

    sender_id: str
    last_event_at: datetime
    events: int
    decision: str
    keep_until: Optional[datetime] = None  # for a closed enquiry's retention


@dataclass
class Removed:
    kind: str
    events: int
    links: int
    code_failures: int
    handoffs: int = 0
    callbacks: int = 0
    referrals: int = 0


@dataclass
class PurgeResult:
    dry_run: bool
    now: datetime
    cutoff: datetime
    candidates: List[Candidate] = field(default_factory=list)
    removed: List[Removed] = field(default_factory=list)
    resumed: int = 0  # pending rows from an interrupted run, finished now
    came_back: int = 0  # a new message arrived after the plan: kept
    lock_busy: bool = False

    @property
    def to_delete(self) -> List[Candidate]:
        return [c for c in self.candidates if c.decision == DELETE]

    @property
    def kept(self) -> List[Candidate]:
        return [c for c in self.candidates if c.decision != DELETE]

    @property
    def events_removed(self) -> int:
        return sum(r.events for r in self.removed)


def _as_time(timestamp: Optional[float]) -> Optional[datetime]:
    return transcripts.when(timestamp)


def plan(session: Session, connection, *, now: datetime, policy: Policy) -> List[Candidate]:
    """Every conversation whose last event is before the cut-off, oldest first, with its fate."""
    cutoff = policy.cutoff(now).timestamp()
    rows = connection.execute(
        select(events.c.sender_id, func.max(events.c.timestamp).label("last"), func.count().label("n"))
        .group_by(events.c.sender_id)
        .having(func.max(events.c.timestamp) < cutoff)
        .order_by(func.max(events.c.timestamp), events.c.sender_id)
    ).all()
    if not rows:
        return []
    linked = _linked_enquiries(session)
    enquiry_ids = {i for ids in linked.values() for i in ids}
    enquiries: Dict[int, Enquiry] = {}
    if enquiry_ids:
        enquiries = {e.id: e for e in session.execute(
            select(Enquiry).where(Enquiry.id.in_(sorted(enquiry_ids)))).scalars()}
    keep_for = timedelta(days=policy.enquiry_retention_days)
    found = []
    for sender_id, last, n in rows:
        decision, keep_until = DELETE, None
        mine = [enquiries[i] for i in linked.get(hash_client(sender_id), ()) if i in enquiries]
        if any(e.status == "open" for e in mine):
            decision = KEEP_OPEN
        elif mine:
            until = max(e.closed_at for e in mine) + keep_for
            if until > now:
                decision, keep_until = KEEP_ENQUIRY, until
        found.append(Candidate(sender_id, _as_time(last), int(n), decision, keep_until))
    return found


def _linked_enquiries(session: Session) -> Dict[str, Set[int]]:
    from .links import linked_conversation_hashes

    return linked_conversation_hashes(session)


# --- one conversation, in three transactions ---------------------------------------------


def _start(records_url: Optional[str], sender_id: str, kind: str, *, events_found: int,
           last_event_at: Optional[datetime], cutoff: Optional[datetime], recorded_by: str,
           now: datetime, before: Optional[Callable[[Session], None]] = None) -> int:
    """Step 1: the pending row (or the one already there). ``before`` runs in the same transaction."""
    try:
        with session_scope(records_url) as db:
            if before is not None:
                before(db)
            pending = db.execute(select(RetentionPending).where(RetentionPending.sender_id == sender_id)
                                 ).scalar_one_or_none()
            if pending is None:
                pending = RetentionPending(sender_id=sender_id, kind=kind, events_found=events_found,
                                           last_event_at=last_event_at, cutoff=cutoff, recorded_by=recorded_by[:200],
                                           created_at=now)
                db.add(pending)
                db.flush()
            return pending.id
    except IntegrityError:  # another run started it at the same moment: carry on with that row
        with session_scope(records_url) as db:
            if before is not None:
                before(db)  # rolled back with the failed insert: written again
            return db.execute(select(RetentionPending.id).where(RetentionPending.sender_id == sender_id)
                              ).scalar_one()


def _delete_events(engine, sender_id: str, cutoff: Optional[datetime]) -> Optional[int]:
    """Step 2: delete the conversation's events; None if it has events newer than ``cutoff``."""
    statement = delete(events).where(events.c.sender_id == sender_id)
    if cutoff is not None:
        newest = select(func.max(events.c.timestamp)).where(events.c.sender_id == sender_id).scalar_subquery()
        statement = statement.where(newest < cutoff.timestamp())
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            # The write lock first: the ids read here are exactly the events deleted below.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        ids = list(connection.execute(select(events.c.id).where(events.c.sender_id == sender_id)).scalars())
        deleted = connection.execute(statement).rowcount
        if deleted:
            message_search.forget_events(connection, ids)
        if deleted == 0 and cutoff is not None:
            left = connection.execute(
                select(func.count()).select_from(events).where(events.c.sender_id == sender_id)).scalar_one()
            if left:
                return None
    return deleted


def _finish(records_url: Optional[str], pending_id: int, deleted: Optional[int],
            lock_holder: Optional[str], now: datetime) -> Optional[Removed]:
    """Step 3: tied rows and the pending row go, one log row is appended (None: nothing to log)."""
    with session_scope(records_url) as db:
        pending = db.get(RetentionPending, pending_id)
        if pending is None:
            return None  # another run finished it
        if lock_holder is not None:
            _renew(db, lock_holder)
        if deleted is None:
            _delete(db, RetentionPending, RetentionPending.id == pending_id)
            return None  # the person came back: the conversation stays, whole
        key = hash_client(pending.sender_id)
        links = _delete(db, InvitationLink, InvitationLink.conversation_hash == key)
        failures = _delete(db, CodeFailure, CodeFailure.client_hash == key)
        # While the pending row is here (and names the conversation), the triggers let these go.
        tied = _remove_tied(db, pending)
        _delete(db, RetentionPending, RetentionPending.id == pending_id)
        # Deleted now, or (an interrupted run deleted them) what was found when it started.
        count = deleted or pending.events_found
        db.add(RetentionLog(at=now, kind=pending.kind, conversation_hash=key, events=count, links=links,
                            code_failures=failures, recorded_by=pending.recorded_by,
                            last_event_day=pending.last_event_at.date().isoformat()
                            if pending.last_event_at else None, **tied))
        return Removed(pending.kind, count, links, failures, **tied)


def _delete(db: Session, model, *where, history: bool = False) -> int:
    statement = delete(model).where(*where).execution_options(synchronize_session=False)
    if history:
        statement = statement.execution_options(**{RETENTION_DELETE: True})
    return db.execute(statement).rowcount


def _remove_tied(db: Session, pending: RetentionPending) -> Dict[str, int]:
    """The conversation's handoffs, call backs and chat-made advocacy rows; the counts for the log."""
    sender_id = pending.sender_id
    prefix = advocacy_records.chat_ref(sender_id)
    if pending.chat_ref != prefix:
        db.execute(update(RetentionPending).where(RetentionPending.id == pending.id).values(chat_ref=prefix)
                   .execution_options(synchronize_session=False))
    requests = select(CallbackRequest.id).where(CallbackRequest.sender_id == sender_id).scalar_subquery()
    _delete(db, CallbackEvent, CallbackEvent.request_id.in_(requests), history=True)
    callbacks = _delete(db, CallbackRequest, CallbackRequest.sender_id == sender_id, history=True)
    callbacks += _delete(db, CallbackDecline, CallbackDecline.sender_id == sender_id, history=True)
    handoff_ids = select(Handoff.id).where(Handoff.sender_id == sender_id).scalar_subquery()
    _delete(db, HandoffMessage, HandoffMessage.handoff_id.in_(handoff_ids), history=True)
    handoffs = _delete(db, Handoff, Handoff.sender_id == sender_id)
    referral_ids = list(db.execute(select(AdvocacyReferral.id).where(
        AdvocacyReferral.source_ref.startswith(prefix, autoescape=True))).scalars())
    chat_made = AdvocacyConsent.source_ref.startswith(prefix, autoescape=True)
    if referral_ids:
        deliveries = select(AdvocacyDelivery.id).where(AdvocacyDelivery.referral_id.in_(referral_ids)
                                                        ).scalar_subquery()
        _delete(db, AdvocacyDeliveryEvent, AdvocacyDeliveryEvent.delivery_id.in_(deliveries), history=True)
        _delete(db, AdvocacyDelivery, AdvocacyDelivery.referral_id.in_(referral_ids))
        _delete(db, AdvocacyAnswer, AdvocacyAnswer.referral_id.in_(referral_ids), history=True)
        chat_made = or_(chat_made, AdvocacyConsent.referral_id.in_(referral_ids))
    _delete(db, AdvocacyConsent, chat_made, history=True)
    referrals = _delete(db, AdvocacyReferral, AdvocacyReferral.id.in_(referral_ids), history=True) \
        if referral_ids else 0
    return {"handoffs": handoffs, "callbacks": callbacks, "referrals": referrals}


def _remove(records_url, engine, pending_id: int, cutoff: Optional[datetime], lock_holder: Optional[str],
            now: datetime) -> Optional[Removed]:
    sender_id = _pending_sender(records_url, pending_id)
    if sender_id is None:
        return None
    deleted = _delete_events(engine, sender_id, cutoff)
    return _finish(records_url, pending_id, deleted, lock_holder, now)


def _pending_sender(records_url, pending_id: int) -> Optional[str]:
    with session_scope(records_url, read_only=True) as db:
        return db.execute(select(RetentionPending.sender_id).where(RetentionPending.id == pending_id)
                          ).scalar_one_or_none()


# --- the lock ------------------------------------------------------------------------------


def new_holder() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire_lock(records_url: Optional[str], holder: str, *, lease: timedelta = LEASE) -> bool:
    """Take the purge lock if it is free or lapsed (the wall clock, not a test's ``now``)."""
    now = utcnow()
    with session_scope(records_url) as db:
        taken = db.execute(
            update(RetentionLock)
            .where(RetentionLock.name == LOCK_NAME,
                   or_(RetentionLock.holder.is_(None), RetentionLock.expires_at < now,
                       RetentionLock.holder == holder))
            .values(holder=holder, expires_at=now + lease)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken == 0 and db.get(RetentionLock, LOCK_NAME) is None:
            db.add(RetentionLock(name=LOCK_NAME, holder=holder, expires_at=now + lease))
            taken = 1
    return taken == 1


def _renew(db: Session, holder: str, lease: timedelta = LEASE) -> None:
    renewed = db.execute(
        update(RetentionLock).where(RetentionLock.name == LOCK_NAME, RetentionLock.holder == holder)
        .values(expires_at=utcnow() + lease).execution_options(synchronize_session=False)
    ).rowcount
    if renewed != 1:
        raise LockLost("another purge took the lock")


def release_lock(records_url: Optional[str], holder: str) -> None:
    with session_scope(records_url) as db:
        db.execute(update(RetentionLock).where(RetentionLock.name == LOCK_NAME, RetentionLock.holder == holder)
                   .values(holder=None, expires_at=None).execution_options(synchronize_session=False))


# --- the purge -----------------------------------------------------------------------------


def _tracker_connection(engine):
    try:
        connection = engine.connect()
    except sa.exc.OperationalError as error:
        raise transcripts.TrackerUnavailable(transcripts._first_line(error)) from None
    if not sa.inspect(connection).has_table("events"):
        connection.close()
        raise transcripts.TrackerUnavailable("no conversations have been stored yet")
    return connection


def pending_count(records_url: Optional[str] = None) -> int:
    with session_scope(records_url, read_only=True) as db:
        return db.execute(select(func.count()).select_from(RetentionPending)).scalar_one()


def purge(*, now: Optional[datetime] = None, dry_run: bool = False, policy: Optional[Policy] = None,
          records_url: Optional[str] = None, tracker_url: Optional[str] = None,
          recorded_by: str = "scheduler", after_each: Optional[Callable[[Removed], None]] = None) -> PurgeResult:
    """Delete every conversation past its retention (``dry_run``: only say which).

    Pending rows left by an interrupted run (or an interrupted erasure) are
    finished first. ``after_each`` is called after each conversation is gone.
    Raises ``transcripts.TrackerUnavailable`` when the tracker store cannot be read.
    """
    now = now or utcnow()
    policy = policy or Policy.from_settings()
    result = PurgeResult(dry_run=dry_run, now=now, cutoff=policy.cutoff(now))
    engine = transcripts.get_tracker_write_engine(tracker_url)
    if dry_run:
        with _tracker_connection(engine) as connection, session_scope(records_url, read_only=True) as db:
            result.candidates = plan(db, connection, now=now, policy=policy)
        result.resumed = pending_count(records_url)
        return result
    holder = new_holder()
    if not acquire_lock(records_url, holder):
        result.lock_busy = True
        return result
    try:
        with _tracker_connection(engine) as connection:
            ensure_all(connection)
            connection.commit()
        with session_scope(records_url, read_only=True) as db:
            leftovers = [(p.id, p.cutoff if p.kind == "purge" else None) for p in db.execute(
                select(RetentionPending).order_by(RetentionPending.id)).scalars()]
        for pending_id, cutoff in leftovers:
            removed = _remove(records_url, engine, pending_id, cutoff, holder, now)
            result.resumed += 1
            _note(result, removed, after_each)
        with _tracker_connection(engine) as connection, session_scope(records_url, read_only=True) as db:
            result.candidates = plan(db, connection, now=now, policy=policy)
        for candidate in result.to_delete:
            pending_id = _start(records_url, candidate.sender_id, "purge", events_found=candidate.events,
                                last_event_at=candidate.last_event_at, cutoff=result.cutoff,
                                recorded_by=recorded_by, now=now)
            removed = _remove(records_url, engine, pending_id, result.cutoff, holder, now)
            if removed is None:
                result.came_back += 1
            _note(result, removed, after_each)
    finally:
        release_lock(records_url, holder)
    return result


def _note(result: PurgeResult, removed: Optional[Removed], after_each) -> None:
    if removed is None:
        return
    result.removed.append(removed)
    if after_each is not None:
        after_each(removed)


# --- erasure of one conversation -------------------------------------------------------------


@dataclass(frozen=True)
class ConversationFacts:
    """What an administrator may know before erasing: counts and dates, never content."""

    sender_id: str
    events: int
    last_event_at: Optional[datetime]
    linked_open: bool
    linked_closed: bool


def facts(sender_id: str, *, records_url: Optional[str] = None,
          tracker_url: Optional[str] = None) -> Optional[ConversationFacts]:
    """None if there is no such conversation."""
    with transcripts.connect(tracker_url) as connection:
        n, last = connection.execute(
            select(func.count(), func.max(events.c.timestamp)).where(events.c.sender_id == sender_id)).one()
    if not n:
        return None
    with session_scope(records_url, read_only=True) as db:
        statuses = set(db.execute(
            select(Enquiry.status).join(InvitationLink, InvitationLink.enquiry_id == Enquiry.id)
            .where(InvitationLink.conversation_hash == hash_client(sender_id))).scalars())
    return ConversationFacts(sender_id, int(n), _as_time(last), "open" in statuses, "closed" in statuses)


def erase(sender_id: str, *, reason: str, user=None, username: Optional[str] = None,
          client: Optional[str] = None, now: Optional[datetime] = None, records_url: Optional[str] = None,
          tracker_url: Optional[str] = None) -> Removed:
    """Erase one conversation now. The audit row (who, when, which id, why) is written first,
    with the pending row, in one transaction; ``NotFound`` if there is no such conversation."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidValue("Give the reason for the erasure (the request it answers).")
    if len(reason) > MAX_REASON_CHARS:
        raise InvalidValue(f"The reason is too long: at most {MAX_REASON_CHARS} characters.")
    now = now or utcnow()
    found = facts(sender_id, records_url=records_url, tracker_url=tracker_url)
    if found is None:
        raise NotFound("There is no conversation with that id.")
    who = user.username if user is not None else (username or "msp")

    def audit_first(db: Session) -> None:
        audit_records.record(db, "conversation.erased", user=user, username=username,
                             target=f"conversation:{sender_id}", client=client, now=now,
                             detail={"reason": reason, "events": found.events})

    pending_id = _start(records_url, sender_id, "erasure", events_found=found.events,
                        last_event_at=found.last_event_at, cutoff=None, recorded_by=who, now=now,
                        before=audit_first)
    engine = transcripts.get_tracker_write_engine(tracker_url)
    removed = _remove(records_url, engine, pending_id, None, None, now)
    return removed or Removed("erasure", found.events, 0, 0)


def log_rows(session: Session, limit: int = 100) -> List[RetentionLog]:
    return list(session.execute(select(RetentionLog).order_by(RetentionLog.id.desc()).limit(limit)).scalars())


def day(value: Optional[datetime]) -> str:
    return value.astimezone(timezone.utc).date().isoformat() if value else "-"
