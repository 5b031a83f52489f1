"""SMS records: numbers (stored once, E.164), inbound messages, STOP/START, the outbox.

Named functions taking a session, as the rest of ``bot.records``. The inbound
webhook (``bot/channels/sms.py``) calls :func:`receive` once per signed
message, in one transaction: the MessageSid is recorded (unique, so a second
delivery changes nothing), STOP/START is recorded, and a reply is put in the
outbox unless the number has opted out. The sender (``bot.sms.sender``) then
claims, sends and settles outbox rows with :func:`claim_next`,
:func:`mark_sent`, :func:`mark_retry` and the rest.

How "never lost, never twice" holds: a row is claimed (``state='sending'``,
``attempts`` + 1, a lease, an ``attempt`` event) and committed **before** the
API call. If the sender dies mid-send the row stays ``sending``; once its
lease is over it is claimed again, and because it has been tried before the
sender first asks Twilio whether that message exists (:mod:`bot.sms.sender`),
and only sends if it does not.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Optional

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.text.phone import normalise_e164

from .errors import InvalidValue
from .models import SmsInbound, SmsNumber, SmsOptEvent, SmsOutbox, SmsOutboxEvent, SmsSurveyTurn, utcnow

MAX_BODY_CHARS = 1600  # Twilio's limit for one message


def get_or_create_number(session: Session, raw: str) -> SmsNumber:
    e164 = normalise_e164(raw)
    if e164 is None:
        raise InvalidValue("That is not a phone number we can text.")
    number = session.execute(select(SmsNumber).where(SmsNumber.e164 == e164)).scalar_one_or_none()
    if number is not None:
        return number
    try:
        with session.begin_nested():
            number = SmsNumber(e164=e164)
            session.add(number)
    except IntegrityError:  # another process added it first
        number = session.execute(select(SmsNumber).where(SmsNumber.e164 == e164)).scalar_one()
    return number


def find_number(session: Session, raw: str) -> Optional[SmsNumber]:
    e164 = normalise_e164(raw)
    if e164 is None:
        return None
    return session.execute(select(SmsNumber).where(SmsNumber.e164 == e164)).scalar_one_or_none()


def is_opted_out(session: Session, number_id: int) -> bool:
    latest = session.execute(
        select(SmsOptEvent.action).where(SmsOptEvent.number_id == number_id)
        .order_by(SmsOptEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    return latest == "out"


def record_opt(session: Session, number_id: int, action: str, keyword: str,
               source_ref: Optional[str] = None) -> SmsOptEvent:
    event = SmsOptEvent(number_id=number_id, action=action, keyword=keyword, source_ref=source_ref)
    session.add(event)
    session.flush()
    return event


def enqueue(session: Session, number_id: int, kind: str, body: str, source_ref: str,
            *, now: Optional[datetime] = None) -> Optional[SmsOutbox]:
    """Put a message in the outbox, once per ``source_ref``; None if the number has opted out."""
    if is_opted_out(session, number_id):
        return None
    existing = session.execute(select(SmsOutbox).where(SmsOutbox.source_ref == source_ref)).scalar_one_or_none()
    if existing is not None:
        return existing
    now = now or utcnow()
    row = SmsOutbox(number_id=number_id, kind=kind, body=body, source_ref=source_ref, state="queued",
                    attempts=0, next_attempt_at=now, created_at=now)
    session.add(row)
    session.flush()
    session.add(SmsOutboxEvent(outbox_id=row.id, event="queued", detail=kind, created_at=now))
    session.flush()
    return row


@dataclass(frozen=True)
class Inbound:
    """What the webhook decided for one inbound message."""

    duplicate: bool
    number_id: int
    keyword: Optional[str]
    outbox_id: Optional[int]


def receive(session: Session, message_sid: str, from_number: str, body: str,
            keyword: Optional[str], reply: Optional[str], reply_kind: Optional[str]) -> Inbound:
    """Record one inbound SMS and its consequences, once per MessageSid.

    ``keyword`` is ``stop``/``start``/``help`` or None; ``reply`` the text to
    send back (None: no reply). STOP is recorded and never answered; after it
    nothing is queued for the number until START.
    """
    number = get_or_create_number(session, from_number)
    body = body[:MAX_BODY_CHARS]
    try:
        with session.begin_nested():
            session.add(SmsInbound(message_sid=message_sid, number_id=number.id, body=body, keyword=keyword))
    except IntegrityError:
        return Inbound(duplicate=True, number_id=number.id, keyword=keyword, outbox_id=None)
    if keyword == "stop":
        record_opt(session, number.id, "out", keyword, message_sid)
    elif keyword == "start":
        record_opt(session, number.id, "in", keyword, message_sid)
    outbox_id = None
    if reply is not None and reply_kind is not None:
        row = enqueue(session, number.id, reply_kind, reply, f"reply:{message_sid}")
        outbox_id = row.id if row is not None else None
    return Inbound(duplicate=False, number_id=number.id, keyword=keyword, outbox_id=outbox_id)


# --- survey replies on their way through the assistant ----------------------


@dataclass(frozen=True)
class PendingTurn:
    """A message the webhook accepted for the assistant (a survey reply when ``survey_id`` is set)
    whose replies are not queued yet."""

    inbound_id: int
    message_sid: str
    number_id: int
    survey_id: Optional[int]
    body: str


def route_turn(session: Session, message_sid: str, survey_id: Optional[int]) -> None:
    """Mark an inbound message as waiting for the assistant (same transaction as the message)."""
    inbound = session.query(SmsInbound).filter_by(message_sid=message_sid).one()
    session.add(SmsSurveyTurn(inbound_id=inbound.id, survey_id=survey_id, state="routed"))


def finish_turn(session: Session, message_sid: str) -> bool:
    """Record that the replies to ``message_sid`` are queued. False if it was already recorded."""
    inbound = session.query(SmsInbound).filter_by(message_sid=message_sid).one_or_none()
    if inbound is None:
        return False
    try:
        with session.begin_nested():
            session.add(SmsSurveyTurn(inbound_id=inbound.id, survey_id=_routed_survey(session, inbound.id),
                                      state="done"))
    except IntegrityError:
        return False
    return True


def _routed_survey(session: Session, inbound_id: int) -> Optional[int]:
    return session.query(SmsSurveyTurn.survey_id).filter_by(inbound_id=inbound_id, state="routed").scalar()


def pending_turns(session: Session) -> List[PendingTurn]:
    """Routed messages (survey replies and others) with no ``done`` row, oldest first."""
    done = session.query(SmsSurveyTurn.inbound_id).filter(SmsSurveyTurn.state == "done")
    rows = (session.query(SmsSurveyTurn, SmsInbound)
            .join(SmsInbound, SmsInbound.id == SmsSurveyTurn.inbound_id)
            .filter(SmsSurveyTurn.state == "routed", ~SmsSurveyTurn.inbound_id.in_(done))
            .order_by(SmsSurveyTurn.id).all())
    return [PendingTurn(inbound.id, inbound.message_sid, inbound.number_id, turn.survey_id, inbound.body)
            for turn, inbound in rows]


# --- the sender's side ------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    id: int
    to: str
    body: str
    attempts: int  # including this one
    tried_before: bool  # an earlier attempt may have reached Twilio
    first_attempt_at: datetime


def _event(session: Session, outbox_id: int, event: str, detail: Optional[str] = None,
           twilio_sid: Optional[str] = None, now: Optional[datetime] = None) -> None:
    session.add(SmsOutboxEvent(outbox_id=outbox_id, event=event, detail=detail, twilio_sid=twilio_sid,
                               created_at=now or utcnow()))


def claim_next(session: Session, lease_seconds: float, *, now: Optional[datetime] = None) -> Optional[Claimed]:
    """Take the next due message (queued and due, or sending with its lease over) for sending.

    The claim (state, attempts, lease, an ``attempt`` event) is committed by
    the caller *before* anything is sent.
    """
    now = now or utcnow()
    row = session.execute(
        select(SmsOutbox).where(or_(
            (SmsOutbox.state == "queued") & (SmsOutbox.next_attempt_at <= now),
            (SmsOutbox.state == "sending") & (SmsOutbox.lease_until <= now),
        )).order_by(SmsOutbox.next_attempt_at, SmsOutbox.id).limit(1)
    ).scalar_one_or_none()
    if row is None:
        return None
    first = row.first_attempt_at or now
    claimed = session.execute(
        update(SmsOutbox)
        .where(SmsOutbox.id == row.id, SmsOutbox.state == row.state, SmsOutbox.attempts == row.attempts)
        .values(state="sending", attempts=row.attempts + 1, lease_until=now + timedelta(seconds=lease_seconds),
                first_attempt_at=first)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:  # another sender took it
        return None
    _event(session, row.id, "attempt", f"attempt {row.attempts + 1}" + (" after an unfinished send"
                                                                       if row.state == "sending" else ""), now=now)
    session.flush()
    return Claimed(id=row.id, to=row.number.e164, body=row.body, attempts=row.attempts + 1,
                   tried_before=row.attempts > 0, first_attempt_at=first)


def _settle(session: Session, outbox_id: int, **values) -> None:
    session.execute(update(SmsOutbox).where(SmsOutbox.id == outbox_id).values(**values)
                    .execution_options(synchronize_session=False))


def mark_sent(session: Session, outbox_id: int, twilio_sid: str, *, reconciled: bool = False) -> None:
    _settle(session, outbox_id, state="sent", twilio_sid=twilio_sid, lease_until=None, last_error=None)
    _event(session, outbox_id, "reconciled" if reconciled else "sent", twilio_sid=twilio_sid)
    session.flush()


def mark_retry(session: Session, outbox_id: int, error: str, wait_seconds: float,
               *, now: Optional[datetime] = None) -> None:
    now = now or utcnow()
    _settle(session, outbox_id, state="queued", lease_until=None, last_error=error[:200],
            next_attempt_at=now + timedelta(seconds=wait_seconds))
    _event(session, outbox_id, "retry", f"{error[:150]}; next try in {wait_seconds:.0f} s", now=now)
    session.flush()


def mark_failed(session: Session, outbox_id: int, error: str) -> None:
    _settle(session, outbox_id, state="failed", lease_until=None, last_error=error[:200])
    _event(session, outbox_id, "failed", error[:200])
    session.flush()


def mark_suppressed(session: Session, outbox_id: int, why: str) -> None:
    _settle(session, outbox_id, state="suppressed", lease_until=None)
    _event(session, outbox_id, "suppressed", why[:200])
    session.flush()


def known_sids(session: Session) -> set:
    return set(session.execute(select(SmsOutbox.twilio_sid).where(SmsOutbox.twilio_sid.is_not(None))).scalars())


def record_status(session: Session, outbox_id: int, twilio_sid: str, status: str,
                  error_code: Optional[str] = None) -> bool:
    """A Twilio status callback for one of our messages. False if it is not ours."""
    row = session.get(SmsOutbox, outbox_id)
    if row is None or (row.twilio_sid is not None and row.twilio_sid != twilio_sid):
        return False
    if row.twilio_sid is None:
        # The sender died before recording the send: Twilio's callback says it was sent.
        mark_sent(session, outbox_id, twilio_sid, reconciled=True)
    detail = status[:40] + (f" (error {error_code[:20]})" if error_code else "")
    _event(session, outbox_id, "status", detail, twilio_sid=twilio_sid)
    session.flush()
    return True


def outbox(session: Session) -> List[SmsOutbox]:
    return list(session.execute(select(SmsOutbox).order_by(SmsOutbox.id)).scalars())


def outbox_events(session: Session, outbox_id: int) -> List[SmsOutboxEvent]:
    return list(session.execute(select(SmsOutboxEvent).where(SmsOutboxEvent.outbox_id == outbox_id)
                                .order_by(SmsOutboxEvent.id)).scalars())
