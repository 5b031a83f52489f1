"""Enquiries, their contact preferences, who they are assigned to, and the people who speak in them.

Every function takes a session and leaves committing to the caller (use
``bot.records.db.session_scope``). The ``msp`` command and the staff portal
call the same functions here.

The enquiry row holds the current contact preferences and worker; every
change (and the first values, at creation) is also appended to
``contact_preference_versions`` or ``enquiry_assignments``, so the history is
never overwritten.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from dataclasses import dataclass
from typing import Iterable, List, Optional

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .audit import escape_like
from .errors import AlreadyExists, InvalidValue, NotFound
from .models import (
    CONTACT_METHODS,
    ENQUIRY_STATUSES,
    PARTICIPANT_ROLES,
    ContactPreferenceVersion,
    Enquiry,
    EnquiryAssignment,
    Participant,
    utcnow,
)

MAX_REFERENCE_CHARS = 64
_UNSET = object()


def normalise_reference(reference) -> str:
    """A council reference, trimmed. Refuses empty, over-long or unprintable ones."""
    if not isinstance(reference, str):
        raise InvalidValue("The council reference must be text.")
    value = reference.strip()
    if not value:
        raise InvalidValue("The council reference is empty.")
    if len(value) > MAX_REFERENCE_CHARS:
        raise InvalidValue(
            f"The council reference is {len(value)} characters; the most is {MAX_REFERENCE_CHARS}."
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in value):
        raise InvalidValue("The council reference contains control characters.")
    return value


def normalise_phone(number) -> str:
    """A phone number in international form (``+447700900123``).

    UK numbers may be given as ``07700 900123``, ``+44 7700 900123`` or
    ``0044…``; other countries need the ``+`` and country code.
    """
    if not isinstance(number, str) or not number.strip():
        raise InvalidValue("The phone number is empty.")
    compact = re.sub(r"[\s\-().]", "", number.strip())
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if compact.startswith("+"):
        digits = compact[1:]
        if not digits.isdigit() or not 8 <= len(digits) <= 15:
            raise InvalidValue(f"{number!r} does not look like a phone number.")
        if digits.startswith("440"):
            digits = "44" + digits[3:]
        if digits.startswith("44") and len(digits) != 12:
            raise InvalidValue(f"{number!r} does not look like a UK phone number.")
        return "+" + digits
    if compact.isdigit() and compact.startswith("0") and len(compact) == 11:
        return "+44" + compact[1:]
    raise InvalidValue(
        f"{number!r} does not look like a phone number. Use a UK number such as "
        "07700 900123, or an international one starting with +."
    )


def _clean_optional(value, label: str, limit: int) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidValue(f"{label} must be text.")
    value = value.strip()
    if not value:
        return None
    if len(value) > limit:
        raise InvalidValue(f"{label} is {len(value)} characters; the most is {limit}.")
    return value


def create_enquiry(
    session: Session,
    reference: str,
    *,
    assigned_worker: Optional[str] = None,
    safe_to_text: bool = False,
    safe_number: Optional[str] = None,
    safe_times: Optional[str] = None,
    preferred_contact: Optional[str] = None,
    opened_at: Optional[datetime] = None,
    sms_name_allowed: bool = False,
    recorded_by: str = "staff",
) -> Enquiry:
    """Create an open enquiry. Refuses a reference that is already in use.

    ``sms_name_allowed``: texts to the safe number may name the council
    (otherwise they carry a neutral sender name). ``recorded_by``: who made
    it (the first rows of the contact and assignment histories say so)."""
    recorded_by = _check_by(recorded_by)
    reference = normalise_reference(reference)
    if get_enquiry_by_reference(session, reference) is not None:
        raise AlreadyExists(f"An enquiry with reference {reference!r} already exists.")
    now = utcnow()
    enquiry = Enquiry(reference=reference, status="open", opened_at=opened_at or now, created_at=now,
                      safe_to_text=False, sms_name_allowed=False)
    enquiry.assigned_worker = _clean_optional(assigned_worker, "The worker's name", 200)
    _apply_contact(
        enquiry,
        safe_to_text=safe_to_text,
        safe_number=safe_number,
        safe_times=safe_times,
        preferred_contact=preferred_contact,
        sms_name_allowed=sms_name_allowed,
    )
    try:
        with session.begin_nested():
            session.add(enquiry)
            session.flush()
    except IntegrityError:
        raise AlreadyExists(f"An enquiry with reference {reference!r} already exists.") from None
    _append_contact_version(session, enquiry, recorded_by, now)
    if enquiry.assigned_worker is not None:
        session.add(EnquiryAssignment(enquiry_id=enquiry.id, worker=enquiry.assigned_worker,
                                      assigned_by=recorded_by, created_at=now))
        session.flush()
    return enquiry


def _check_by(who) -> str:
    if not isinstance(who, str) or not who.strip():
        raise InvalidValue("Say who is making this change.")
    return who.strip()[:200]


CONTACT_FIELDS = ("safe_to_text", "safe_number", "safe_times", "preferred_contact", "sms_name_allowed")


def _append_contact_version(session: Session, enquiry: Enquiry, recorded_by: str,
                            now: datetime) -> ContactPreferenceVersion:
    row = ContactPreferenceVersion(enquiry_id=enquiry.id, recorded_by=recorded_by, created_at=now,
                                   **{name: getattr(enquiry, name) for name in CONTACT_FIELDS})
    session.add(row)
    session.flush()
    return row


def _apply_contact(enquiry: Enquiry, *, safe_to_text, safe_number, safe_times, preferred_contact,
                   sms_name_allowed=_UNSET) -> bool:
    """Validate everything first, then change the enquiry (all or nothing). True if anything changed."""
    values = {name: getattr(enquiry, name) for name in CONTACT_FIELDS}
    before = dict(values)
    if safe_to_text is not _UNSET:
        if not isinstance(safe_to_text, bool):
            raise InvalidValue("safe_to_text must be True or False.")
        values["safe_to_text"] = safe_to_text
    if sms_name_allowed is not _UNSET:
        if not isinstance(sms_name_allowed, bool):
            raise InvalidValue("sms_name_allowed must be True or False.")
        values["sms_name_allowed"] = sms_name_allowed
    if safe_number is not _UNSET:
        values["safe_number"] = normalise_phone(safe_number) if safe_number else None
    if safe_times is not _UNSET:
        values["safe_times"] = _clean_optional(safe_times, "Safe times", 200)
    if preferred_contact is not _UNSET:
        if preferred_contact is not None and preferred_contact not in CONTACT_METHODS:
            raise InvalidValue(
                f"Unknown contact method {preferred_contact!r}; use one of "
                + ", ".join(CONTACT_METHODS)
                + "."
            )
        values["preferred_contact"] = preferred_contact
    if values["safe_to_text"] and not values["safe_number"]:
        raise InvalidValue("It cannot be marked safe to text without a safe number to text.")
    if values["preferred_contact"] == "sms" and not values["safe_to_text"]:
        raise InvalidValue(
            "Text messages cannot be the way to keep in touch unless it is safe to text."
        )
    for key, value in values.items():
        setattr(enquiry, key, value)
    return values != before


def set_contact_preferences(
    session: Session,
    enquiry_id: int,
    *,
    safe_to_text=_UNSET,
    safe_number=_UNSET,
    safe_times=_UNSET,
    preferred_contact=_UNSET,
    sms_name_allowed=_UNSET,
    recorded_by: str = "staff",
    now: Optional[datetime] = None,
) -> Enquiry:
    """Update how (and whether) the person may be contacted. Leave out what does not change.

    The new position is appended to the history; a change that changes
    nothing is refused (``InvalidValue``), so the history holds only changes.
    """
    recorded_by = _check_by(recorded_by)
    enquiry = require_enquiry(session, enquiry_id)
    changed = _apply_contact(
        enquiry,
        safe_to_text=safe_to_text,
        safe_number=safe_number,
        safe_times=safe_times,
        preferred_contact=preferred_contact,
        sms_name_allowed=sms_name_allowed,
    )
    if not changed:
        raise InvalidValue("Nothing to change: the contact preferences are already as given.")
    session.flush()
    _append_contact_version(session, enquiry, recorded_by, now or utcnow())
    return enquiry


def contact_history(session: Session, enquiry_id: int) -> List[ContactPreferenceVersion]:
    """Every version of the enquiry's contact preferences, oldest first."""
    return list(session.execute(
        select(ContactPreferenceVersion).where(ContactPreferenceVersion.enquiry_id == enquiry_id)
        .order_by(ContactPreferenceVersion.id)
    ).scalars())


def assign_enquiry(session: Session, enquiry_id: int, worker: Optional[str], *, assigned_by: str,
                   now: Optional[datetime] = None) -> Enquiry:
    """Assign the enquiry to ``worker`` (a portal username, or None to unassign); appended to the history."""
    assigned_by = _check_by(assigned_by)
    enquiry = require_enquiry(session, enquiry_id)
    worker = _clean_optional(worker, "The worker's name", 200)
    if worker == enquiry.assigned_worker:
        raise InvalidValue("Nothing to change: the enquiry is already assigned that way.")
    enquiry.assigned_worker = worker
    session.add(EnquiryAssignment(enquiry_id=enquiry.id, worker=worker, assigned_by=assigned_by,
                                  created_at=now or utcnow()))
    session.flush()
    return enquiry


def assignment_history(session: Session, enquiry_id: int) -> List[EnquiryAssignment]:
    """Every assignment of the enquiry, oldest first."""
    return list(session.execute(
        select(EnquiryAssignment).where(EnquiryAssignment.enquiry_id == enquiry_id).order_by(EnquiryAssignment.id)
    ).scalars())


def can_text(enquiry: Enquiry) -> bool:
    """True only when it has been confirmed safe to text and there is a number to text."""
    return bool(enquiry.safe_to_text and enquiry.safe_number)


def get_enquiry(session: Session, enquiry_id: int) -> Optional[Enquiry]:
    return session.get(Enquiry, enquiry_id)


def require_enquiry(session: Session, enquiry_id: int) -> Enquiry:
    enquiry = session.get(Enquiry, enquiry_id)
    if enquiry is None:
        raise NotFound(f"There is no enquiry with id {enquiry_id}.")
    return enquiry


def get_enquiry_by_reference(session: Session, reference: str) -> Optional[Enquiry]:
    reference = normalise_reference(reference)
    return session.execute(
        select(Enquiry).where(Enquiry.reference == reference)
    ).scalar_one_or_none()


def require_enquiry_by_reference(session: Session, reference: str) -> Enquiry:
    enquiry = get_enquiry_by_reference(session, reference)
    if enquiry is None:
        raise NotFound(f"There is no enquiry with reference {reference.strip()!r}.")
    return enquiry


def close_enquiry(session: Session, enquiry_id: int, *, when: Optional[datetime] = None) -> Enquiry:
    enquiry = require_enquiry(session, enquiry_id)
    if enquiry.status == "closed":
        raise InvalidValue(f"Enquiry {enquiry.reference!r} is already closed.")
    enquiry.status = "closed"
    enquiry.closed_at = when or utcnow()
    session.flush()
    return enquiry


def reopen_enquiry(session: Session, enquiry_id: int) -> Enquiry:
    enquiry = require_enquiry(session, enquiry_id)
    enquiry.status = "open"
    enquiry.closed_at = None
    session.flush()
    return enquiry


def add_participant(
    session: Session, enquiry_id: int, role: str, *, display_name: Optional[str] = None
) -> Participant:
    """Add someone who speaks in the enquiry (person, representative or advocate)."""
    if role not in PARTICIPANT_ROLES:
        raise InvalidValue(f"Unknown role {role!r}; use one of {', '.join(PARTICIPANT_ROLES)}.")
    require_enquiry(session, enquiry_id)
    participant = Participant(
        enquiry_id=enquiry_id,
        role=role,
        display_name=_clean_optional(display_name, "The name", 200),
    )
    session.add(participant)
    session.flush()
    return participant


def get_or_create_participant(
    session: Session, enquiry_id: int, role: str, *, display_name: Optional[str] = None
) -> Participant:
    """The first participant with this role (and name, if given), created if there is none."""
    query = select(Participant).where(
        Participant.enquiry_id == enquiry_id, Participant.role == role
    )
    name = _clean_optional(display_name, "The name", 200)
    if name is not None:
        query = query.where(Participant.display_name == name)
    existing = session.execute(query.order_by(Participant.id).limit(1)).scalar_one_or_none()
    if existing is not None:
        return existing
    return add_participant(session, enquiry_id, role, display_name=name)


def list_participants(session: Session, enquiry_id: int) -> List[Participant]:
    return list(
        session.execute(
            select(Participant).where(Participant.enquiry_id == enquiry_id).order_by(Participant.id)
        ).scalars()
    )


def require_participant(session: Session, enquiry_id: int, participant_id: int) -> Participant:
    participant = session.get(Participant, participant_id)
    if participant is None or participant.enquiry_id != enquiry_id:
        raise NotFound(f"Participant {participant_id} does not belong to enquiry {enquiry_id}.")
    return participant


def _worker_names(workers) -> List[str]:
    return sorted({w.strip().lower() for w in workers if isinstance(w, str) and w.strip()})


def enquiries_assigned_to(session: Session, workers) -> List[Enquiry]:
    """Enquiries whose assigned worker is one of ``workers`` (portal usernames; any case).

    The link between an enquiry and a member of staff is this text: assigned
    in the portal, or ``msp enquiry create --worker USERNAME``.
    """
    names = _worker_names(workers)
    if not names:
        return []
    return list(session.execute(
        select(Enquiry).where(func.lower(Enquiry.assigned_worker).in_(names)).order_by(Enquiry.id)
    ).scalars())


def is_assigned_to(enquiry: Enquiry, workers) -> bool:
    return bool(enquiry.assigned_worker) and enquiry.assigned_worker.strip().lower() in _worker_names(workers)


@dataclass(frozen=True)
class EnquiryPage:
    rows: List[Enquiry]
    total: int


def list_enquiries(session: Session, *, workers: Optional[Iterable[str]] = None, status: Optional[str] = None,
                   reference: Optional[str] = None, limit: int = 50, offset: int = 0) -> EnquiryPage:
    """Enquiries, newest first. ``workers``: only those assigned to these usernames (None: every
    enquiry); ``status``: open or closed; ``reference``: part of the council's reference."""
    conditions = []
    if workers is not None:
        names = _worker_names(workers)
        if not names:
            return EnquiryPage([], 0)
        conditions.append(func.lower(Enquiry.assigned_worker).in_(names))
    if status is not None:
        if status not in ENQUIRY_STATUSES:
            raise InvalidValue(f"Unknown status {status!r}; use one of {', '.join(ENQUIRY_STATUSES)}.")
        conditions.append(Enquiry.status == status)
    if reference:
        conditions.append(Enquiry.reference.like(f"%{escape_like(reference)}%", escape="\\"))
    total = session.execute(select(func.count()).select_from(Enquiry).where(*conditions)).scalar_one()
    rows = list(session.execute(
        select(Enquiry).where(*conditions).order_by(Enquiry.id.desc()).limit(limit).offset(offset)).scalars())
    return EnquiryPage(rows, total)


def enquiry_references(session: Session, enquiry_ids) -> dict:
    ids = sorted({int(i) for i in enquiry_ids})
    if not ids:
        return {}
    return dict(session.execute(select(Enquiry.id, Enquiry.reference).where(Enquiry.id.in_(ids))).all())
