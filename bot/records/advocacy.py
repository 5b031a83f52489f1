"""Independent advocacy referrals: what was said, the consent, and the delivery outbox.

A referral is made only with consent (:func:`make_referral`): one transaction
writes the referral, each answer exactly as given, the consent and a queued
delivery. A refusal (:func:`record_refusal`) writes a consent row and nothing
of what was said, and nothing is sent.

The delivery outbox mirrors ``bot.records.sms``: the sender
(``bot.advocacy.sender``) **claims** a due delivery and commits (state
``sending``, attempts + 1, a lease, an ``attempt`` event) before anything
leaves the process, then records ``sent``, ``retry`` or ``failed``. A sender
killed mid-send leaves the row ``sending``; when the lease is over it is
claimed again and sent again *with the same idempotency key* (the referral's
``reference``: the email's Message-ID, the webhook's ``Idempotency-Key``), so
the provider sees one referral however many times the transport carried it.

Nothing here decides anything about a person's capacity: the answers are kept
as words, and the provider and the worker decide.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Dict, List, Mapping, Optional

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from .enquiries import require_enquiry
from .errors import InvalidValue, NotFound
from .models import (ADVOCACY_ANSWERERS, ADVOCACY_CHANNELS, ADVOCACY_DIFFICULTIES, ADVOCACY_QUESTIONS, CHANNELS,
                     FOR_WHOM,
                     AdvocacyAnswer, AdvocacyConsent, AdvocacyDelivery, AdvocacyDeliveryEvent, AdvocacyReferral,
                     Enquiry, utcnow)
from .outcomes import _check_recorded_by

MAX_ANSWER_CHARS = 2000


def chat_ref(sender_id: str) -> str:
    """The start of the ``source_ref`` of everything one conversation's chat makes here.

    ``chat:`` and a digest of the conversation id (never the id itself), then
    ``:``; the chat turn's message id follows. Retention finds a conversation's
    referrals, refusals and withdrawals by it (``bot.records.retention``).
    """
    return f"chat:{hashlib.sha256(sender_id.encode()).hexdigest()[:24]}:"

#: How each question reads to staff and to the provider.
QUESTION_LABELS = {
    "understand": "Finds it hard to understand what is said",
    "remember": "Finds it hard to remember it",
    "weigh_up": "Finds it hard to weigh it up",
    "say_what_they_want": "Finds it hard to say what they want",
    "support": "Someone suitable to support them (family or friend, able and willing, not the person causing harm)",
    "contact": "Preferred way to be contacted",
    "safe_times": "Safe times to contact",
}


def _check_answer(question: str, text) -> str:
    if question not in ADVOCACY_QUESTIONS:
        raise InvalidValue(f"Unknown advocacy question {question!r}; use one of {', '.join(ADVOCACY_QUESTIONS)}.")
    if not isinstance(text, str) or not text.strip():
        raise InvalidValue(f"The answer to {QUESTION_LABELS[question]!r} is empty.")
    if len(text) > MAX_ANSWER_CHARS:
        raise InvalidValue(f"The answer to {QUESTION_LABELS[question]!r} is {len(text):,} characters long; the most "
                           f"one answer can hold is {MAX_ANSWER_CHARS:,}. Nothing is cut: please shorten it.")
    return text  # verbatim: never stripped or changed


def _check_answerer(value: str) -> str:
    if value not in ADVOCACY_ANSWERERS:
        raise InvalidValue(f"Who answered must be one of {', '.join(ADVOCACY_ANSWERERS)}, not {value!r}.")
    return value


def _check_for_whom(answered_by: str, for_whom: Optional[str]) -> None:
    if for_whom is not None and for_whom not in FOR_WHOM:
        raise InvalidValue(f"Whom the referral is for must be one of {', '.join(FOR_WHOM)}, not {for_whom!r}.")
    if answered_by == "person" and for_whom == "other":
        raise InvalidValue("Someone answering for someone else is a representative, not the person.")


def _event(session: Session, delivery_id: int, event: str, detail: Optional[str] = None,
           recorded_by: Optional[str] = None, now: Optional[datetime] = None) -> None:
    session.add(AdvocacyDeliveryEvent(delivery_id=delivery_id, event=event, detail=detail,
                                      recorded_by=recorded_by, created_at=now or utcnow()))


def make_referral(session: Session, answers: Mapping[str, str], *, answered_by: str, consent_words: Optional[str],
                  recorded_by: str, channel: str, source: str, source_ref: str, enquiry_id: Optional[int] = None,
                  delivery_channel: str = "email", for_whom: Optional[str] = None,
                  now: Optional[datetime] = None) -> AdvocacyReferral:
    """Record a referral made with consent and queue its delivery, once per ``source_ref``.

    ``answers`` maps question keys (``ADVOCACY_QUESTIONS``) to the words given;
    at least one of the four difficulties must be answered. Unknown keys are
    refused, so nothing else slips into what the provider receives.
    ``answered_by`` is who answered (the person, a representative such as a
    carer, or staff); ``for_whom`` whom the referral is for: ``self`` (the one
    answering: a carer may ask for themselves) or ``other`` (someone else).
    """
    recorded_by = _check_recorded_by(recorded_by)
    _check_answerer(answered_by)
    _check_for_whom(answered_by, for_whom)
    if channel not in CHANNELS:
        raise InvalidValue(f"Unknown channel {channel!r}; use one of {', '.join(CHANNELS)}.")
    if delivery_channel not in ADVOCACY_CHANNELS:
        raise InvalidValue(f"Delivery must be one of {', '.join(ADVOCACY_CHANNELS)}.")
    if not isinstance(source_ref, str) or not source_ref.strip() or len(source_ref) > 200:
        raise InvalidValue("source_ref must be 1 to 200 characters.")
    existing = session.execute(select(AdvocacyReferral).where(AdvocacyReferral.source_ref == source_ref)
                               ).scalar_one_or_none()
    if existing is not None:
        return existing
    checked = [(q, _check_answer(q, answers[q])) for q in ADVOCACY_QUESTIONS if answers.get(q) is not None]
    unknown = set(answers) - set(ADVOCACY_QUESTIONS)
    if unknown:
        raise InvalidValue(f"Unknown advocacy question(s): {', '.join(sorted(unknown))}.")
    if not any(q in ADVOCACY_DIFFICULTIES for q, _ in checked):
        raise InvalidValue("A referral needs what was said about at least one of the four difficulties.")
    if enquiry_id is not None:
        require_enquiry(session, enquiry_id)
    now = now or utcnow()
    referral = AdvocacyReferral(source_ref=source_ref, enquiry_id=enquiry_id, source=source,
                                answered_by=answered_by, for_whom=for_whom, recorded_by=recorded_by,
                                created_at=now)
    session.add(referral)
    session.flush()
    for question, text in checked:
        session.add(AdvocacyAnswer(referral_id=referral.id, question=question, text=text, created_at=now))
    session.add(AdvocacyConsent(referral_id=referral.id, enquiry_id=enquiry_id, decision="given",
                                given_by=answered_by, words=consent_words, recorded_by=recorded_by,
                                channel=channel, created_at=now))
    delivery = AdvocacyDelivery(referral_id=referral.id, channel=delivery_channel, state="queued", attempts=0,
                                next_attempt_at=now, alerted=False, created_at=now)
    session.add(delivery)
    session.flush()
    _event(session, delivery.id, "queued", delivery_channel, recorded_by, now)
    session.flush()
    return referral


def record_refusal(session: Session, *, given_by: str, words: Optional[str], recorded_by: str, channel: str,
                   enquiry_id: Optional[int] = None, source_ref: Optional[str] = None) -> AdvocacyConsent:
    """Consent to a referral refused: recorded, and nothing made or sent.

    ``source_ref``: the chat turn (``chat_ref`` + message id), so it goes with the conversation."""
    row = AdvocacyConsent(referral_id=None, enquiry_id=enquiry_id, decision="refused",
                          given_by=_check_answerer(given_by), words=words,
                          recorded_by=_check_recorded_by(recorded_by), channel=channel, source_ref=source_ref)
    session.add(row)
    session.flush()
    return row


# --- reading ------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralView:
    """A referral as staff and the provider see it."""

    id: int
    reference: str
    created_at: datetime
    source: str
    answered_by: str
    recorded_by: str
    enquiry_reference: Optional[str]
    answers: List[tuple]  # (question key, label, words)
    state: str
    attempts: int
    last_error: Optional[str]
    alerted: bool
    events: List[tuple]  # (when, event, detail, recorded_by)


def get_referral(session: Session, referral_id: int) -> AdvocacyReferral:
    referral = session.get(AdvocacyReferral, referral_id)
    if referral is None:
        raise NotFound(f"There is no advocacy referral {referral_id}.")
    return referral


def _delivery(session: Session, referral_id: int, kind: str = "referral") -> AdvocacyDelivery:
    return session.execute(select(AdvocacyDelivery).where(AdvocacyDelivery.referral_id == referral_id,
                                                          AdvocacyDelivery.kind == kind)).scalar_one()


def referral_view(session: Session, referral_id: int) -> ReferralView:
    referral = get_referral(session, referral_id)
    delivery = _delivery(session, referral_id)
    answers = session.execute(select(AdvocacyAnswer).where(AdvocacyAnswer.referral_id == referral_id)
                              .order_by(AdvocacyAnswer.id)).scalars()
    events = session.execute(select(AdvocacyDeliveryEvent).where(AdvocacyDeliveryEvent.delivery_id == delivery.id)
                             .order_by(AdvocacyDeliveryEvent.id)).scalars()
    return ReferralView(
        id=referral.id, reference=referral.reference, created_at=referral.created_at, source=referral.source,
        answered_by=referral.answered_by, recorded_by=referral.recorded_by,
        enquiry_reference=referral.enquiry.reference if referral.enquiry is not None else None,
        answers=[(a.question, QUESTION_LABELS[a.question], a.text) for a in answers],
        state=delivery.state, attempts=delivery.attempts, last_error=delivery.last_error, alerted=delivery.alerted,
        events=[(e.created_at, e.event, e.detail, e.recorded_by) for e in events],
    )


@dataclass(frozen=True)
class ReferralRow:
    id: int
    reference: str
    created_at: datetime
    enquiry_reference: Optional[str]
    state: str
    attempts: int
    last_error: Optional[str]


def list_referrals(session: Session, state: Optional[str] = None) -> List[ReferralRow]:
    query = (select(AdvocacyReferral, AdvocacyDelivery, Enquiry.reference)
             .join(AdvocacyDelivery, (AdvocacyDelivery.referral_id == AdvocacyReferral.id)
                   & (AdvocacyDelivery.kind == "referral"))
             .outerjoin(Enquiry, Enquiry.id == AdvocacyReferral.enquiry_id)
             .order_by(AdvocacyReferral.id.desc()))
    if state is not None:
        query = query.where(AdvocacyDelivery.state == state)
    return [ReferralRow(r.id, r.reference, r.created_at, ref, d.state, d.attempts, d.last_error)
            for r, d, ref in session.execute(query)]


def consents(session: Session, referral_id: Optional[int] = None) -> List[AdvocacyConsent]:
    query = select(AdvocacyConsent).order_by(AdvocacyConsent.id)
    if referral_id is not None:
        query = query.where(AdvocacyConsent.referral_id == referral_id)
    return list(session.execute(query).scalars())


# --- the sender's side ----------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    referral_id: int
    reference: str
    channel: str
    attempts: int  # including this one
    tried_before: bool
    kind: str = "referral"  # or "withdrawal": the notice that consent was withdrawn


def claim_next(session: Session, lease_seconds: float, *, now: Optional[datetime] = None) -> Optional[Claimed]:
    """Take the next due delivery (queued and due, or sending with its lease over).

    The caller commits the claim before sending anything.
    """
    now = now or utcnow()
    row = session.execute(
        select(AdvocacyDelivery).where(or_(
            (AdvocacyDelivery.state == "queued") & (AdvocacyDelivery.next_attempt_at <= now),
            (AdvocacyDelivery.state == "sending") & (AdvocacyDelivery.lease_until <= now),
        )).order_by(AdvocacyDelivery.next_attempt_at, AdvocacyDelivery.id).limit(1)
    ).scalar_one_or_none()
    if row is None:
        return None
    claimed = session.execute(
        update(AdvocacyDelivery)
        .where(AdvocacyDelivery.id == row.id, AdvocacyDelivery.state == row.state,
               AdvocacyDelivery.attempts == row.attempts)
        .values(state="sending", attempts=row.attempts + 1, lease_until=now + timedelta(seconds=lease_seconds),
                first_attempt_at=row.first_attempt_at or now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:  # another sender took it
        return None
    _event(session, row.id, "attempt", f"attempt {row.attempts + 1}"
           + (" after an unfinished send" if row.state == "sending" else ""), now=now)
    session.flush()
    return Claimed(delivery_id=row.id, referral_id=row.referral_id, reference=row.referral.reference,
                   channel=row.channel, attempts=row.attempts + 1, tried_before=row.attempts > 0, kind=row.kind)


def _settle(session: Session, delivery_id: int, *, only_from: Optional[tuple] = None, **values) -> None:
    condition = [AdvocacyDelivery.id == delivery_id]
    if only_from is not None:  # the sender's outcome never undoes a withdrawal made while it was sending
        condition.append(AdvocacyDelivery.state.in_(only_from))
    session.execute(update(AdvocacyDelivery).where(*condition).values(**values)
                    .execution_options(synchronize_session=False))


def mark_sent(session: Session, delivery_id: int, detail: Optional[str] = None) -> None:
    _settle(session, delivery_id, state="sent", lease_until=None, last_error=None, only_from=("sending",))
    _event(session, delivery_id, "sent", detail)
    session.flush()


def mark_retry(session: Session, delivery_id: int, error: str, wait_seconds: float,
               *, now: Optional[datetime] = None) -> None:
    now = now or utcnow()
    _settle(session, delivery_id, state="queued", lease_until=None, last_error=error[:200],
            next_attempt_at=now + timedelta(seconds=wait_seconds), only_from=("sending",))
    _event(session, delivery_id, "retry", f"{error[:150]}; next try in {wait_seconds:.0f} s", now=now)
    session.flush()


def mark_failed(session: Session, delivery_id: int, error: str) -> None:
    _settle(session, delivery_id, state="failed", lease_until=None, last_error=error[:200], only_from=("sending",))
    _event(session, delivery_id, "failed", error[:200])
    session.flush()


def mark_alerted(session: Session, delivery_id: int, ok: bool, detail: Optional[str] = None) -> None:
    """The duty team was told (or telling them failed: the sender tries again later)."""
    if ok:
        _settle(session, delivery_id, alerted=True)
    _event(session, delivery_id, "alerted" if ok else "alert_failed", (detail or "")[:200] or None)
    session.flush()


def failed_unalerted(session: Session) -> List[int]:
    return list(session.execute(select(AdvocacyDelivery.id).where(
        AdvocacyDelivery.state == "failed", AdvocacyDelivery.alerted.is_(False)).order_by(AdvocacyDelivery.id)
    ).scalars())


def resend(session: Session, referral_id: int, recorded_by: str) -> None:
    """Staff: send a referral again (same reference, so the provider sees it once)."""
    recorded_by = _check_recorded_by(recorded_by)
    delivery = _delivery(session, get_referral(session, referral_id).id)
    if delivery.state == "sending":
        raise InvalidValue("This referral is being sent now; wait a minute and look again.")
    if delivery.state == "withdrawn":
        raise InvalidValue("Consent to this referral was withdrawn: it is not sent again.")
    _settle(session, delivery.id, state="queued", attempts=0, next_attempt_at=utcnow(), lease_until=None,
            alerted=False)
    _event(session, delivery.id, "resend", f"was {delivery.state}", recorded_by)
    session.flush()


def acknowledge(session: Session, reference: str, recorded_by: str, detail: Optional[str] = None) -> bool:
    """The provider says it has the referral. False if the reference is unknown."""
    recorded_by = _check_recorded_by(recorded_by)
    referral = session.execute(select(AdvocacyReferral).where(AdvocacyReferral.reference == reference)
                               ).scalar_one_or_none()
    if referral is None:
        return False
    delivery = _delivery(session, referral.id)
    if delivery.state == "withdrawn":
        _event(session, delivery.id, "acknowledged", (detail or "")[:200] or None, recorded_by)
        session.flush()
        return True
    if delivery.state != "acknowledged":
        _settle(session, delivery.id, state="acknowledged", lease_until=None, last_error=None)
    _event(session, delivery.id, "acknowledged", (detail or "")[:200] or None, recorded_by)
    session.flush()
    return True


def delivery_events(session: Session, delivery_id: int) -> List[AdvocacyDeliveryEvent]:
    return list(session.execute(select(AdvocacyDeliveryEvent).where(AdvocacyDeliveryEvent.delivery_id == delivery_id)
                                .order_by(AdvocacyDeliveryEvent.id)).scalars())


def delivery_for(session: Session, referral_id: int) -> AdvocacyDelivery:
    return _delivery(session, referral_id)


def answers_by_question(view: ReferralView) -> Dict[str, str]:
    return {key: words for key, _label, words in view.answers}


def chat_referral_to_withdraw(session: Session, sender_id: str) -> Optional[AdvocacyReferral]:
    """The latest referral this conversation's chat made whose consent still stands (None if none).

    Found by the ``source_ref`` the chat gave it (``chat_ref``), so the
    conversation id itself is never stored or compared.
    """
    prefix = chat_ref(sender_id)
    referrals = session.execute(
        select(AdvocacyReferral).where(AdvocacyReferral.source == "chat",
                                       AdvocacyReferral.source_ref.startswith(prefix, autoescape=True))
        .order_by(AdvocacyReferral.id.desc())).scalars()
    for referral in referrals:
        if _delivery(session, referral.id).state != "withdrawn":
            return referral
    return None


def withdraw_consent(session: Session, referral_id: int, *, given_by: str, words: Optional[str], recorded_by: str,
                     channel: str, source_ref: Optional[str] = None, now: Optional[datetime] = None) -> bool:
    """Consent to a referral withdrawn (by the person, a representative, or staff for them): a consent event.

    The referral's delivery becomes ``withdrawn`` whatever its state, so the sender never sends it (again).
    If any try was made (it may have reached the provider: sending, sent, acknowledged, or a try that
    failed), the provider is told through the same outbox: a ``withdrawal`` delivery with the same
    reference. True if the provider is to be told. Withdrawing twice records the words again and tells
    the provider once.
    """
    recorded_by = _check_recorded_by(recorded_by)
    _check_answerer(given_by)
    if channel not in CHANNELS:
        raise InvalidValue(f"Unknown channel {channel!r}; use one of {', '.join(CHANNELS)}.")
    referral = get_referral(session, referral_id)
    now = now or utcnow()
    session.add(AdvocacyConsent(referral_id=referral.id, enquiry_id=referral.enquiry_id, decision="withdrawn",
                                given_by=given_by, words=words, recorded_by=recorded_by, channel=channel,
                                source_ref=source_ref, created_at=now))
    delivery = _delivery(session, referral.id)
    was, tried = delivery.state, delivery.attempts > 0
    if was != "withdrawn":
        _settle(session, delivery.id, state="withdrawn", lease_until=None)
        _event(session, delivery.id, "withdrawn", f"consent withdrawn; was {was}", recorded_by, now)
    if not tried:
        session.flush()
        return False
    exists = session.execute(select(AdvocacyDelivery.id).where(AdvocacyDelivery.referral_id == referral.id,
                                                               AdvocacyDelivery.kind == "withdrawal")).first()
    if exists is None:
        notice = AdvocacyDelivery(referral_id=referral.id, kind="withdrawal", channel=delivery.channel,
                                  state="queued", attempts=0, next_attempt_at=now, alerted=False, created_at=now)
        session.add(notice)
        session.flush()
        _event(session, notice.id, "queued", "tell the provider consent was withdrawn", recorded_by, now)
    session.flush()
    return True
