"""Call-back requests: the person's answers, word for word, and what happened next.

Named functions that take a session (``bot.records.session_scope``). A
request (:func:`request_callback`) is one append-only row holding every
answer exactly as given, made once per ``source_ref`` (one chat turn), with
a ``requested`` event. Nothing is ever changed: the duty team's email and a
worker's "called" or "could not reach" are new ``callback_events`` rows, and
the status shown is the newest of ``requested``, ``called`` and ``not_reached``.

The duty email is taken like the handoff's (``bot.handoff.timeouts``), but
without changing a row: a process claims try number *n* by inserting a
``duty_claimed`` event with ``attempt`` *n*; the unique index on (request,
event, attempt) lets exactly one process in. It then appends ``duty_emailed``,
or ``duty_failed`` so that try *n + 1* can be claimed on a later round.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Mapping, Optional, Tuple

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.text.phone import normalise_e164

from .errors import InvalidValue, NotFound
from .models import (
    CALLBACK_ASKERS,
    CALLBACK_DECLINE_OUTCOMES,
    CALLBACK_OUTCOMES,
    CHANNELS,
    FOR_WHOM,
    MAX_CALLBACK_ANSWER_CHARS,
    CallbackDecline,
    CallbackEvent,
    CallbackRequest,
    Handoff,
    StaffUser,
    utcnow,
)

#: The questions, in the order asked, and how each reads to staff.
QUESTION_LABELS = {
    "safe_words": "Is it safe for us to call?",
    "number_words": "The number to call, as they typed it",
    "safe_times": "When it is safe to call",
    "message_words": "May we leave a message?",
    "others_words": "Who else might answer the phone",
}
STATUS_EVENTS = ("requested",) + CALLBACK_OUTCOMES


def _words(question: str, text) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidValue(f"The answer to {QUESTION_LABELS[question]!r} is empty.")
    if len(text) > MAX_CALLBACK_ANSWER_CHARS:
        raise InvalidValue(f"The answer to {QUESTION_LABELS[question]!r} is {len(text):,} characters long; the "
                           f"most one answer can hold is {MAX_CALLBACK_ANSWER_CHARS:,}.")
    return text  # verbatim: never stripped or changed


def _check_who(channel: str, asked_by: str, for_whom: Optional[str], source_ref: str, sender_id: str) -> None:
    if channel not in CHANNELS:
        raise InvalidValue(f"Unknown channel {channel!r}; use one of {', '.join(CHANNELS)}.")
    if asked_by not in CALLBACK_ASKERS:
        raise InvalidValue(f"Who asked must be one of {', '.join(CALLBACK_ASKERS)}, not {asked_by!r}.")
    if for_whom is not None and for_whom not in FOR_WHOM:
        raise InvalidValue(f"Who the call is for must be one of {', '.join(FOR_WHOM)}, not {for_whom!r}.")
    if asked_by == "person" and for_whom == "other":
        raise InvalidValue("Someone asking for someone else is a representative, not the person.")
    if not isinstance(source_ref, str) or not source_ref.strip() or len(source_ref) > 200:
        raise InvalidValue("source_ref must be 1 to 200 characters.")
    if not isinstance(sender_id, str) or not sender_id or len(sender_id) > 255:
        raise InvalidValue("sender_id must be 1 to 255 characters.")


def request_callback(session: Session, answers: Mapping[str, str], *, number: str, leave_message: bool,
                     sender_id: str, channel: str, asked_by: str, source_ref: str,
                     handoff_id: Optional[int] = None, for_whom: Optional[str] = None,
                     now: Optional[datetime] = None) -> CallbackRequest:
    """Record a call-back request once per ``source_ref``; the existing one if it was made already.

    ``answers`` maps every key of ``QUESTION_LABELS`` to the words given.
    ``number`` is the number to call, a UK number in E.164 (``bot.text.phone``).
    ``asked_by``: who is writing (the person, or a representative such as a
    carer); ``for_whom``: ``self`` (the call is for the one writing: a carer
    may ask for a call for themselves) or ``other`` (for someone else).
    """
    _check_who(channel, asked_by, for_whom, source_ref, sender_id)
    unknown = set(answers) - set(QUESTION_LABELS)
    if unknown:
        raise InvalidValue(f"Unknown call-back question(s): {', '.join(sorted(unknown))}.")
    checked = {key: _words(key, answers.get(key)) for key in QUESTION_LABELS}
    if normalise_e164(number) != number or not number.startswith("+44"):
        raise InvalidValue("The number to call must be a UK number in E.164 form (+44...).")
    if not isinstance(leave_message, bool):
        raise InvalidValue("Whether we may leave a message must be yes or no.")
    existing = session.execute(select(CallbackRequest).where(CallbackRequest.source_ref == source_ref)
                               ).scalar_one_or_none()
    if existing is not None:
        return existing
    if handoff_id is not None and session.get(Handoff, handoff_id) is None:
        raise NotFound(f"There is no handoff number {handoff_id}.")
    now = now or utcnow()
    row = CallbackRequest(source_ref=source_ref, sender_id=sender_id, handoff_id=handoff_id, channel=channel,
                          asked_by=asked_by, for_whom=for_whom, number=number, leave_message=leave_message,
                          created_at=now, **checked)
    session.add(row)
    session.flush()
    session.add(CallbackEvent(request_id=row.id, event="requested", created_at=now))
    session.flush()
    return row


def record_decline(session: Session, outcome: str, words: str, *, sender_id: str, channel: str, asked_by: str,
                   source_ref: str, for_whom: Optional[str] = None, question: Optional[str] = None,
                   handoff_id: Optional[int] = None, now: Optional[datetime] = None) -> CallbackDecline:
    """A call back offered and then not asked for: ``not_safe`` (it is not safe to call) or ``cancelled``
    (the person stopped the questions). ``words`` is their message, verbatim. Once per ``source_ref``."""
    if outcome not in CALLBACK_DECLINE_OUTCOMES:
        raise InvalidValue(f"A decline is one of {', '.join(CALLBACK_DECLINE_OUTCOMES)}, not {outcome!r}.")
    _check_who(channel, asked_by, for_whom, source_ref, sender_id)
    if not isinstance(words, str):
        raise InvalidValue("The person's words must be text.")
    if len(words) > MAX_CALLBACK_ANSWER_CHARS:
        raise InvalidValue(f"The words are {len(words):,} characters long; the most kept is "
                           f"{MAX_CALLBACK_ANSWER_CHARS:,}.")
    if question is not None and question not in ("who",) + tuple(QUESTION_LABELS):
        raise InvalidValue(f"Unknown call-back question {question!r}.")
    existing = session.execute(select(CallbackDecline).where(CallbackDecline.source_ref == source_ref)
                               ).scalar_one_or_none()
    if existing is not None:
        return existing
    if handoff_id is not None and session.get(Handoff, handoff_id) is None:
        raise NotFound(f"There is no handoff number {handoff_id}.")
    row = CallbackDecline(source_ref=source_ref, sender_id=sender_id, handoff_id=handoff_id, channel=channel,
                          asked_by=asked_by, for_whom=for_whom, outcome=outcome, question=question, words=words,
                          created_at=now or utcnow())
    session.add(row)
    session.flush()
    return row


def get_request(session: Session, request_id: int) -> CallbackRequest:
    row = session.get(CallbackRequest, request_id)
    if row is None:
        raise NotFound(f"There is no call-back request number {request_id}.")
    return row


def record_outcome(session: Session, request_id: int, outcome: str, staff_user_id: int,
                   now: Optional[datetime] = None) -> CallbackEvent:
    """A worker called (``called``) or tried and could not reach them (``not_reached``): a new event."""
    if outcome not in CALLBACK_OUTCOMES:
        raise InvalidValue(f"The outcome must be one of {', '.join(CALLBACK_OUTCOMES)}, not {outcome!r}.")
    get_request(session, request_id)
    row = CallbackEvent(request_id=request_id, event=outcome, staff_user_id=staff_user_id,
                        created_at=now or utcnow())
    session.add(row)
    session.flush()
    return row


# --- the duty team's email ------------------------------------------------------------


def _count(event: str):
    return (select(CallbackEvent.request_id, func.count().label("n")).where(CallbackEvent.event == event)
            .group_by(CallbackEvent.request_id).subquery())


#: How long a process holds one try at the duty email before another may take the next try (it died).
DUTY_LEASE = timedelta(minutes=2)
_DUTY_EVENTS = ("duty_claimed", "duty_failed", "duty_emailed")


def _next_try(events, now: datetime, lease: timedelta) -> Optional[int]:
    """The number of the next try at the duty email, or None (emailed, or a try is under way within its lease).

    ``events``: (event, attempt, created_at) of one request's duty events. The newest try *n* is settled by a
    ``duty_failed`` of attempt *n* (or, for rows written before failures carried it, by as many failures as
    tries); an unsettled try whose lease is over was abandoned (its process died) and *n + 1* may start.
    """
    claims = {attempt: at for event, attempt, at in events if event == "duty_claimed"}
    if any(event == "duty_emailed" for event, _, _ in events):
        return None
    latest = max(claims, default=0)
    failures = [attempt for event, attempt, _ in events if event == "duty_failed"]
    settled = latest == 0 or latest in failures or len(failures) >= latest
    if not settled and claims[latest] > now - lease:
        return None
    return latest + 1


def _duty_events(session: Session, request_ids=None) -> dict:
    query = select(CallbackEvent.request_id, CallbackEvent.event, CallbackEvent.attempt, CallbackEvent.created_at
                   ).where(CallbackEvent.event.in_(_DUTY_EVENTS)).order_by(CallbackEvent.id)
    if request_ids is not None:
        query = query.where(CallbackEvent.request_id.in_(request_ids))
    found: dict = {}
    for request_id, event, attempt, at in session.execute(query):
        found.setdefault(request_id, []).append((event, attempt, at))
    return found


def duty_not_told(session: Session, now: Optional[datetime] = None, lease: timedelta = DUTY_LEASE) -> List[int]:
    """Requests the duty team has not been emailed about and no process is emailing now, oldest first."""
    now = now or utcnow()
    events = _duty_events(session)
    return [request_id for request_id in session.execute(select(CallbackRequest.id).order_by(CallbackRequest.id)
                                                         ).scalars()
            if _next_try(events.get(request_id, []), now, lease) is not None]


def claim_duty_email(session: Session, request_id: int, now: Optional[datetime] = None,
                     lease: timedelta = DUTY_LEASE) -> Optional[int]:
    """Take the next try at emailing the duty team about this request: its number for one caller only, else None.

    A try is held for ``lease``: if its process died before recording how it went, the next try may be taken
    once the lease is over (the email is then sent by that one; never lost, and at most once unless a sender
    outlives its lease).
    """
    now = now or utcnow()
    attempt = _next_try(_duty_events(session, [request_id]).get(request_id, []), now, lease)
    if attempt is None:
        return None
    try:
        with session.begin_nested():
            session.add(CallbackEvent(request_id=request_id, event="duty_claimed", attempt=attempt, created_at=now))
    except IntegrityError:
        return None  # another process took this try
    return attempt


def duty_email_done(session: Session, request_id: int, sent: bool, now: Optional[datetime] = None,
                    attempt: Optional[int] = None) -> None:
    """After a claimed try (``attempt``, its number): ``duty_emailed``, or ``duty_failed`` (a later round tries
    again)."""
    session.add(CallbackEvent(request_id=request_id, event="duty_emailed" if sent else "duty_failed",
                              attempt=attempt, created_at=now or utcnow()))
    session.flush()


# --- reading ------------------------------------------------------------------------------


def _statuses(session: Session, request_ids: Optional[List[int]] = None) -> dict:
    """request id -> (its status event, when, by whom): the newest of requested / called / not_reached."""
    newest = (select(CallbackEvent.request_id, func.max(CallbackEvent.id).label("last_id"))
              .where(CallbackEvent.event.in_(STATUS_EVENTS)).group_by(CallbackEvent.request_id))
    if request_ids is not None:
        newest = newest.where(CallbackEvent.request_id.in_(request_ids))
    newest = newest.subquery()
    rows = session.execute(
        select(CallbackEvent.request_id, CallbackEvent.event, CallbackEvent.created_at, StaffUser.display_name)
        .join(newest, and_(newest.c.request_id == CallbackEvent.request_id, newest.c.last_id == CallbackEvent.id))
        .outerjoin(StaffUser, StaffUser.id == CallbackEvent.staff_user_id)
    ).all()
    return {request_id: (event, at, by) for request_id, event, at, by in rows}


@dataclass(frozen=True)
class CallbackRow:
    id: int
    created_at: datetime
    channel: str
    asked_by: str
    handoff_id: Optional[int]
    status: str
    status_at: datetime
    status_by: Optional[str]
    duty_emailed: bool
    for_whom: Optional[str] = None
    #: A decline (``status`` not_safe or cancelled): ``id`` is the decline's, and these are its words.
    declined: bool = False
    words: Optional[str] = None
    question: Optional[str] = None


def list_requests(session: Session) -> List[CallbackRow]:
    """Every request, those still to call first (oldest first), then the rest newest first.

    The rest includes the declines (not safe to call, cancelled), with the person's words.
    """
    requests = session.execute(select(CallbackRequest).order_by(CallbackRequest.id)).scalars().all()
    statuses = _statuses(session)
    emailed = set(session.execute(select(CallbackEvent.request_id).where(CallbackEvent.event == "duty_emailed"))
                  .scalars())
    rows = []
    for r in requests:
        status, at, by = statuses.get(r.id, ("requested", r.created_at, None))
        rows.append(CallbackRow(r.id, r.created_at, r.channel, r.asked_by, r.handoff_id, status, at, by,
                                r.id in emailed, r.for_whom))
    declines = [CallbackRow(d.id, d.created_at, d.channel, d.asked_by, d.handoff_id, d.outcome, d.created_at,
                            None, False, d.for_whom, True, d.words, d.question)
                for d in session.execute(select(CallbackDecline).order_by(CallbackDecline.id)).scalars()]
    open_ = [row for row in rows if row.status != "called"]
    done = sorted([row for row in rows if row.status == "called"] + declines,
                  key=lambda row: (row.created_at, row.declined, row.id), reverse=True)
    return open_ + done


@dataclass(frozen=True)
class CallbackView:
    id: int
    created_at: datetime
    sender_id: str
    channel: str
    asked_by: str
    handoff_id: Optional[int]
    number: str
    leave_message: bool
    for_whom: Optional[str]
    answers: Tuple[Tuple[str, str, str], ...]  # (key, label, words)
    status: str
    events: Tuple[Tuple[datetime, str, Optional[int], Optional[str]], ...]  # (when, event, attempt, staff name)


def request_view(session: Session, request_id: int) -> CallbackView:
    r = get_request(session, request_id)
    events = session.execute(
        select(CallbackEvent.created_at, CallbackEvent.event, CallbackEvent.attempt, StaffUser.display_name)
        .outerjoin(StaffUser, StaffUser.id == CallbackEvent.staff_user_id)
        .where(CallbackEvent.request_id == request_id).order_by(CallbackEvent.id)
    ).all()
    status = _statuses(session, [request_id]).get(request_id, ("requested", None, None))[0]
    answers = tuple((key, label, getattr(r, key)) for key, label in QUESTION_LABELS.items())
    return CallbackView(r.id, r.created_at, r.sender_id, r.channel, r.asked_by, r.handoff_id, r.number,
                        r.leave_message, r.for_whom, answers, status, tuple(tuple(e) for e in events))
