"""Live handoffs to a member of staff: the queue, claims, the end, and every message verbatim.

Named functions that take a session (``bot.records.session_scope``). The
handoff row's ``status`` is the current position; what either side wrote is
appended to ``handoff_messages`` and never changed.

A claim is one conditional ``UPDATE ... WHERE id = :id AND status =
'waiting'``: the database decides, so of two workers who press Claim at the
same moment exactly one gets a row count of 1 (SQLite serialises writers with
``BEGIN IMMEDIATE``; PostgreSQL makes the second UPDATE wait for the first's
row lock and then re-check the condition). Ending a handoff works the same way.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Optional, Tuple

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .errors import InvalidValue, NotFound
from .models import (
    CHANNELS,
    HANDOFF_ACTIVE_STATUSES,
    HANDOFF_AUTHORS,
    HANDOFF_AUTOMATIC_KINDS,
    MAX_HANDOFF_TEXT_CHARS,
    Handoff,
    HandoffMessage,
    StaffUser,
    utcnow,
)

#: How a handoff may end, and from which positions.
ENDINGS = {
    "handed_back": ("claimed",),
    "closed": HANDOFF_ACTIVE_STATUSES,
    "left": HANDOFF_ACTIVE_STATUSES,
    "callback_requested": ("waiting",),
}


def live_handoff(session: Session, sender_id: str) -> Optional[Handoff]:
    """The conversation's waiting or claimed handoff, if any."""
    return session.execute(
        select(Handoff).where(Handoff.sender_id == sender_id, Handoff.status.in_(HANDOFF_ACTIVE_STATUSES))
    ).scalars().first()


def get_handoff(session: Session, handoff_id: int) -> Handoff:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise NotFound(f"There is no handoff number {handoff_id}.")
    return handoff


def request_handoff(session: Session, sender_id: str, channel: str,
                    now: Optional[datetime] = None) -> Tuple[Handoff, bool]:
    """Put the conversation in the queue: (the live handoff, whether it is new).

    Asking again while one is live returns that one (a partial unique index
    keeps it to one live handoff per conversation, also across processes).
    """
    if channel not in CHANNELS:
        raise InvalidValue(f"Unknown channel {channel!r}.")
    existing = live_handoff(session, sender_id)
    if existing is not None:
        return existing, False
    handoff = Handoff(sender_id=sender_id, channel=channel, status="waiting", requested_at=now or utcnow())
    try:
        with session.begin_nested():
            session.add(handoff)
    except IntegrityError:
        existing = live_handoff(session, sender_id)
        if existing is None:
            raise
        return existing, False
    return handoff, True


def claim(session: Session, handoff_id: int, user_id: int, now: Optional[datetime] = None) -> bool:
    """Claim a waiting handoff for ``user_id``. True for the one claim that wins; False if it was taken."""
    result = session.execute(
        update(Handoff)
        .where(Handoff.id == handoff_id, Handoff.status == "waiting")
        .values(status="claimed", claimed_by_id=user_id, claimed_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def end(session: Session, handoff_id: int, status: str, *, user_id: Optional[int] = None,
        now: Optional[datetime] = None) -> bool:
    """End a live handoff as ``status`` (handed_back, closed, left, callback_requested).

    ``user_id``: for handed_back, only the worker who claimed it. False when it
    had already ended (or was not in a position to end that way).
    """
    allowed = ENDINGS.get(status)
    if allowed is None:
        raise InvalidValue(f"A handoff cannot end as {status!r}.")
    condition = [Handoff.id == handoff_id, Handoff.status.in_(allowed)]
    if status == "handed_back" and user_id is not None:
        condition.append(Handoff.claimed_by_id == user_id)
    result = session.execute(
        update(Handoff).where(*condition).values(status=status, ended_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def overdue(session: Session, requested_before: datetime) -> List[Tuple[int, str]]:
    """(id, sender id) of handoffs still waiting since before ``requested_before`` whose person was not told yet."""
    return [tuple(row) for row in session.execute(
        select(Handoff.id, Handoff.sender_id).where(Handoff.status == "waiting", Handoff.timeout_told_at.is_(None),
                                                    Handoff.requested_at < requested_before)
        .order_by(Handoff.requested_at)
    ).all()]


def mark_timeout_told(session: Session, handoff_id: int, now: Optional[datetime] = None) -> bool:
    """Take the job of telling the person nobody has claimed it yet: True for one caller only."""
    result = session.execute(
        update(Handoff).where(Handoff.id == handoff_id, Handoff.status == "waiting",
                              Handoff.timeout_told_at.is_(None))
        .values(timeout_told_at=now or utcnow()).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def unanswered(session: Session, written_before: datetime) -> List[Tuple[int, str, int]]:
    """Claimed handoffs whose newest message is the person's, written (and claimed) before ``written_before``.

    (id, sender id, that message's id): the worker has not answered for a while and nothing has been
    said since. Once something is written after it (the worker, or the notice), it is not listed again.
    """
    newest = (select(HandoffMessage.handoff_id, func.max(HandoffMessage.id).label("last_id"))
              .group_by(HandoffMessage.handoff_id).subquery())
    rows = session.execute(
        select(Handoff.id, Handoff.sender_id, HandoffMessage.id)
        .join(newest, newest.c.handoff_id == Handoff.id)
        .join(HandoffMessage, HandoffMessage.id == newest.c.last_id)
        .where(Handoff.status == "claimed", HandoffMessage.author == "person",
               HandoffMessage.created_at < written_before, Handoff.claimed_at < written_before)
        .order_by(HandoffMessage.id)
    ).all()
    return [tuple(row) for row in rows]


#: How long a process holds the job of one duty email before another may take it (the process died).
DUTY_LEASE = timedelta(minutes=2)


def duty_not_told(session: Session, now: Optional[datetime] = None) -> List[int]:
    """Ids of waiting handoffs the duty team has not been emailed about and nobody holds the job of, oldest first."""
    now = now or utcnow()
    return list(session.execute(
        select(Handoff.id).where(Handoff.status == "waiting", Handoff.duty_told_at.is_(None),
                                 or_(Handoff.duty_lease_until.is_(None), Handoff.duty_lease_until <= now))
        .order_by(Handoff.requested_at)
    ).scalars())


def claim_duty_email(session: Session, handoff_id: int, now: Optional[datetime] = None,
                     lease: timedelta = DUTY_LEASE) -> bool:
    """Take the job of emailing the duty team about this handoff, until ``now + lease``: True for one caller.

    Free when nobody holds it or the holder's lease is over (it died between taking it and sending); the
    caller commits this before sending and then calls :func:`duty_email_sent` or :func:`release_duty_email`.
    """
    now = now or utcnow()
    result = session.execute(
        update(Handoff).where(Handoff.id == handoff_id, Handoff.duty_told_at.is_(None),
                              or_(Handoff.duty_lease_until.is_(None), Handoff.duty_lease_until <= now))
        .values(duty_lease_until=now + lease).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def duty_email_sent(session: Session, handoff_id: int, now: Optional[datetime] = None) -> None:
    session.execute(update(Handoff).where(Handoff.id == handoff_id)
                    .values(duty_told_at=now or utcnow(), duty_lease_until=None)
                    .execution_options(synchronize_session=False))


def release_duty_email(session: Session, handoff_id: int) -> None:
    """The relay did not take it: the next round tries again."""
    session.execute(update(Handoff).where(Handoff.id == handoff_id, Handoff.duty_told_at.is_(None))
                    .values(duty_lease_until=None).execution_options(synchronize_session=False))


def unmark_timeout_told(session: Session, handoff_id: int) -> None:
    """The person could not be told (Rasa did not answer): try again next time."""
    session.execute(update(Handoff).where(Handoff.id == handoff_id).values(timeout_told_at=None)
                    .execution_options(synchronize_session=False))


#: A claimed handoff with nothing written or claimed for this long is over (see ``resume``).
STALE_CLAIMED = timedelta(hours=12)


def resume(session: Session, sender_id: str, now: Optional[datetime] = None) -> Optional[str]:
    """At a new Rasa session (the person was idle an hour or more): the status to put back in the slot.

    A claimed handoff comes back (a worker is there), unless nothing was written or claimed for
    ``STALE_CLAIMED``: then it is closed. A handoff still waiting after all that time is closed
    too: nobody claimed it, and a person who comes back must not talk to a silent assistant (they
    can ask again). None: nothing live, the assistant answers.
    """
    now = now or utcnow()
    handoff = live_handoff(session, sender_id)
    if handoff is None:
        return None
    if handoff.status == "claimed":
        latest = session.execute(select(func.max(HandoffMessage.created_at))
                                 .where(HandoffMessage.handoff_id == handoff.id)).scalar()
        active = max(t for t in (handoff.claimed_at, latest, handoff.requested_at) if t is not None)
        if now - active < STALE_CLAIMED:
            return "claimed"
    end(session, handoff.id, "closed", now=now)
    return None


def person_left(session: Session, sender_id: str, now: Optional[datetime] = None) -> Optional[int]:
    """The person left (quick exit, STOP): their live handoff, if any, ends as "left". Its id, or None."""
    handoff = live_handoff(session, sender_id)
    if handoff is None:
        return None
    return handoff.id if end(session, handoff.id, "left", now=now) else None


def add_message(session: Session, handoff_id: int, author: str, text: str, *, staff_user_id: Optional[int] = None,
                message_id: Optional[str] = None, kind: Optional[str] = None,
                now: Optional[datetime] = None) -> Optional[HandoffMessage]:
    """Append one message, exactly as written. None if ``message_id`` is already stored for this handoff.

    ``kind`` (automatic messages only): "danger" for the 999 reply (an alert), "timeout" for the notice.
    """
    if author not in HANDOFF_AUTHORS:
        raise InvalidValue(f"Unknown author {author!r}.")
    if kind is not None and (author != "automatic" or kind not in HANDOFF_AUTOMATIC_KINDS):
        raise InvalidValue(f"Only an automatic message has a kind ({', '.join(HANDOFF_AUTOMATIC_KINDS)}).")
    if not isinstance(text, str):
        raise InvalidValue("A message must be text.")
    if len(text) > MAX_HANDOFF_TEXT_CHARS:
        raise InvalidValue(f"The message is {len(text):,} characters long; the most one message can hold is "
                           f"{MAX_HANDOFF_TEXT_CHARS:,}.")
    if author == "worker" and staff_user_id is None:
        raise InvalidValue("A worker's message must name the member of staff.")
    if message_id is not None:
        seen = session.execute(select(HandoffMessage.id).where(
            HandoffMessage.handoff_id == handoff_id, HandoffMessage.message_id == message_id)).first()
        if seen is not None:
            return None
    row = HandoffMessage(handoff_id=handoff_id, author=author, text=text, staff_user_id=staff_user_id,
                         message_id=message_id, kind=kind, created_at=now or utcnow())
    session.add(row)
    session.flush()
    return row


def has_message(session: Session, handoff_id: int, message_id: str) -> bool:
    """Whether a message with this ``message_id`` is stored for this handoff."""
    return session.execute(select(HandoffMessage.id).where(
        HandoffMessage.handoff_id == handoff_id, HandoffMessage.message_id == message_id)).first() is not None


def messages(session: Session, handoff_id: int, after_id: int = 0) -> List[HandoffMessage]:
    return list(session.execute(
        select(HandoffMessage).where(HandoffMessage.handoff_id == handoff_id, HandoffMessage.id > after_id)
        .order_by(HandoffMessage.id)
    ).scalars())


@dataclass(frozen=True)
class QueueRow:
    id: int
    channel: str
    status: str
    requested_at: datetime
    claimed_at: Optional[datetime]
    claimed_by: Optional[str]
    messages: int
    alerts: int


def queue(session: Session) -> List[QueueRow]:
    """Live handoffs, oldest request first, with message and alert (automatic 999 reply) counts."""
    counts = (select(HandoffMessage.handoff_id, func.count().label("n"),
                     func.sum(case((HandoffMessage.kind == "danger", 1), else_=0)).label("alerts"))
              .group_by(HandoffMessage.handoff_id).subquery())
    rows = session.execute(
        select(Handoff, StaffUser.display_name, counts.c.n, counts.c.alerts)
        .outerjoin(StaffUser, StaffUser.id == Handoff.claimed_by_id)
        .outerjoin(counts, counts.c.handoff_id == Handoff.id)
        .where(Handoff.status.in_(HANDOFF_ACTIVE_STATUSES))
        .order_by(Handoff.requested_at, Handoff.id)
    ).all()
    return [QueueRow(h.id, h.channel, h.status, h.requested_at, h.claimed_at, name, int(n or 0), int(alerts or 0))
            for h, name, n, alerts in rows]


def state_marker(session: Session) -> Tuple:
    """Changes whenever the queue or any live handoff's messages change (the console's push checks it)."""
    live = session.execute(
        select(Handoff.id, Handoff.status).where(Handoff.status.in_(HANDOFF_ACTIVE_STATUSES)).order_by(Handoff.id)
    ).all()
    newest = session.execute(select(func.max(HandoffMessage.id))).scalar()
    ended = session.execute(select(func.count()).select_from(Handoff)
                            .where(Handoff.status.notin_(HANDOFF_ACTIVE_STATUSES))).scalar()
    return (tuple((i, s) for i, s in live), newest or 0, ended or 0)
