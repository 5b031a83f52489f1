"""Consent decisions, kept as history.

Each decision (given, refused, withdrawn) about one thing (``what``, a short
key such as ``record_outcomes`` or ``contact_by_sms``) by one participant is a
new row that supersedes the one before it. The latest row is the current
position; nothing is updated or deleted.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import List, Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .enquiries import require_enquiry, require_participant
from .errors import InvalidValue, Conflict
from .models import CHANNELS, Consent, utcnow
from .outcomes import _check_note, _check_recorded_by

#: Consent keys the assistant uses. Others are allowed if they fit the pattern.
RECORD_OUTCOMES = "record_outcomes"
CONTACT_BY_SMS = "contact_by_sms"
SHARE_INFORMATION = "share_information"

_WHAT = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _check_what(what: str) -> str:
    if not isinstance(what, str) or not _WHAT.match(what):
        raise InvalidValue(
            f"Consent key {what!r} must be lower-case letters, digits and underscores."
        )
    return what


def latest_consent(
    session: Session, enquiry_id: int, participant_id: int, what: str
) -> Optional[Consent]:
    return session.execute(
        select(Consent)
        .where(
            Consent.enquiry_id == enquiry_id,
            Consent.participant_id == participant_id,
            Consent.what == what,
        )
        .order_by(Consent.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def consent_status(
    session: Session, enquiry_id: int, participant_id: int, what: str
) -> Optional[str]:
    """``given``, ``refused``, ``withdrawn``, or ``None`` if never asked."""
    row = latest_consent(session, enquiry_id, participant_id, _check_what(what))
    return row.decision if row else None


def has_consent(session: Session, enquiry_id: int, participant_id: int, what: str) -> bool:
    return consent_status(session, enquiry_id, participant_id, what) == "given"


def _record(
    session: Session,
    enquiry_id: int,
    participant_id: int,
    what: str,
    decision: str,
    *,
    recorded_by: str,
    channel: str,
    note: Optional[str],
    now: Optional[datetime],
) -> Consent:
    _check_what(what)
    if channel not in CHANNELS:
        raise InvalidValue(f"Unknown channel {channel!r}; use one of {', '.join(CHANNELS)}.")
    recorded_by = _check_recorded_by(recorded_by)
    note = _check_note(note)
    require_enquiry(session, enquiry_id)
    require_participant(session, enquiry_id, participant_id)
    previous = latest_consent(session, enquiry_id, participant_id, what)
    if decision == "withdrawn" and (previous is None or previous.decision != "given"):
        raise InvalidValue("There is no consent to withdraw: it was not given.")
    row = Consent(
        enquiry_id=enquiry_id,
        participant_id=participant_id,
        what=what,
        decision=decision,
        decided_at=now or utcnow(),
        supersedes_id=previous.id if previous else None,
        recorded_by=recorded_by,
        channel=channel,
        note=note,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Conflict(
            "Another decision about this consent was recorded at the same moment; read it again."
        ) from None
    return row


def give_consent(
    session: Session,
    enquiry_id: int,
    participant_id: int,
    what: str,
    *,
    recorded_by: str,
    channel: str,
    note: Optional[str] = None,
    now: Optional[datetime] = None,
) -> Consent:
    return _record(
        session, enquiry_id, participant_id, what, "given",
        recorded_by=recorded_by, channel=channel, note=note, now=now,
    )


def refuse_consent(
    session: Session,
    enquiry_id: int,
    participant_id: int,
    what: str,
    *,
    recorded_by: str,
    channel: str,
    note: Optional[str] = None,
    now: Optional[datetime] = None,
) -> Consent:
    return _record(
        session, enquiry_id, participant_id, what, "refused",
        recorded_by=recorded_by, channel=channel, note=note, now=now,
    )


def withdraw_consent(
    session: Session,
    enquiry_id: int,
    participant_id: int,
    what: str,
    *,
    recorded_by: str,
    channel: str,
    note: Optional[str] = None,
    now: Optional[datetime] = None,
) -> Consent:
    """Record that consent given earlier is withdrawn (a new row; the old one stays)."""
    return _record(
        session, enquiry_id, participant_id, what, "withdrawn",
        recorded_by=recorded_by, channel=channel, note=note, now=now,
    )


def consent_history(
    session: Session,
    enquiry_id: int,
    *,
    participant_id: Optional[int] = None,
    what: Optional[str] = None,
) -> List[Consent]:
    query = select(Consent).where(Consent.enquiry_id == enquiry_id)
    if participant_id is not None:
        query = query.where(Consent.participant_id == participant_id)
    if what is not None:
        query = query.where(Consent.what == _check_what(what))
    return list(session.execute(query.order_by(Consent.id)).scalars())
