"""Desired outcomes in the person's own words, kept as history.

* ``record_outcome`` starts a new outcome (version 1).
* ``change_outcome`` adds a version with new words and/or a new category.
* ``withdraw_outcome`` adds a version marking the outcome withdrawn.
* ``outcome_history`` reads every version for an enquiry, oldest first.
* ``current_outcomes`` reads the latest version of each outcome still active.

Nothing here updates or deletes an outcome row. ``source_ref`` is an optional
identifier from the channel (for example the Rasa message id): if the same
``source_ref`` arrives twice (a retried or duplicated message), the first row
is returned and no second row is written.

Also here: whether the person was asked (``record_asked``) and how far the
outcomes were achieved at the end (``record_review``), both append-only.
"""
from __future__ import annotations

from datetime import datetime
from typing import Dict, List, Optional, Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .enquiries import require_enquiry, require_participant
from .errors import InvalidValue, NotFound, OutcomeConflict
from .models import (
    ACHIEVEMENTS,
    ASKED_ANSWERS,
    CHANNELS,
    MAX_NOTE_CHARS,
    OUTCOME_CATEGORIES,
    AskedRecord,
    DesiredOutcome,
    OutcomeReview,
    new_outcome_key,
    utcnow,
    validate_outcome_text,
)

KEEP = object()
"""Pass as ``text`` or ``category`` to ``change_outcome`` to keep the current value."""


def _check_channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise InvalidValue(f"Unknown channel {channel!r}; use one of {', '.join(CHANNELS)}.")
    return channel


def _check_category(category: Optional[str]) -> Optional[str]:
    if category is not None and category not in OUTCOME_CATEGORIES:
        raise InvalidValue(
            f"Unknown outcome category {category!r}; use one of {', '.join(OUTCOME_CATEGORIES)}."
        )
    return category


def _check_recorded_by(recorded_by: str) -> str:
    if not isinstance(recorded_by, str) or not recorded_by.strip():
        raise InvalidValue("Say who recorded this (recorded_by).")
    if len(recorded_by) > 200:
        raise InvalidValue("recorded_by is longer than 200 characters.")
    return recorded_by.strip()


def _check_note(note: Optional[str], label: str = "The note") -> Optional[str]:
    if note is None:
        return None
    if not isinstance(note, str):
        raise InvalidValue(f"{label} must be text.")
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidValue(f"{label} is {len(note):,} characters; the most is {MAX_NOTE_CHARS:,}.")
    return note


def _check_source_ref(source_ref: Optional[str]) -> Optional[str]:
    if source_ref is None:
        return None
    if not isinstance(source_ref, str) or not source_ref or len(source_ref) > 200:
        raise InvalidValue("source_ref must be text of 1 to 200 characters.")
    return source_ref


def _by_source_ref(session: Session, source_ref: Optional[str]) -> Optional[DesiredOutcome]:
    if source_ref is None:
        return None
    return session.execute(
        select(DesiredOutcome).where(DesiredOutcome.source_ref == source_ref)
    ).scalar_one_or_none()


def _insert_version(session: Session, row: DesiredOutcome) -> DesiredOutcome:
    """Insert one version; a duplicate ``source_ref`` or a lost race is reported clearly."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        if row.source_ref is not None:
            existing = _by_source_ref(session, row.source_ref)
            if existing is not None:
                return existing
        if row.supersedes_id is not None:
            raise OutcomeConflict(
                "This outcome was changed or withdrawn at the same moment by someone else. "
                "Read it again and retry."
            ) from None
        raise
    return row


def record_outcome(
    session: Session,
    enquiry_id: int,
    text: str,
    *,
    participant_id: int,
    recorded_by: str,
    channel: str,
    category: Optional[str] = None,
    source_ref: Optional[str] = None,
    now: Optional[datetime] = None,
) -> DesiredOutcome:
    """Record a new desired outcome, exactly as given (nothing is trimmed or cut).

    Raises ``OutcomeTooLong`` over 2,000 characters and ``EmptyOutcomeText``
    when there are no words.
    """
    validate_outcome_text(text)
    _check_channel(channel)
    _check_category(category)
    recorded_by = _check_recorded_by(recorded_by)
    source_ref = _check_source_ref(source_ref)
    existing = _by_source_ref(session, source_ref)
    if existing is not None:
        return existing
    require_enquiry(session, enquiry_id)
    require_participant(session, enquiry_id, participant_id)
    row = DesiredOutcome(
        enquiry_id=enquiry_id,
        participant_id=participant_id,
        outcome_key=new_outcome_key(),
        version=1,
        supersedes_id=None,
        status="active",
        text=text,
        category=category,
        recorded_by=recorded_by,
        channel=channel,
        source_ref=source_ref,
        created_at=now or utcnow(),
    )
    return _insert_version(session, row)


def get_outcome(session: Session, outcome_id: int) -> DesiredOutcome:
    row = session.get(DesiredOutcome, outcome_id)
    if row is None:
        raise NotFound(f"There is no desired outcome with id {outcome_id}.")
    return row


def latest_version(session: Session, outcome_key: str) -> DesiredOutcome:
    """The newest version of one outcome."""
    row = session.execute(
        select(DesiredOutcome)
        .where(DesiredOutcome.outcome_key == outcome_key)
        .order_by(DesiredOutcome.version.desc())
        .limit(1)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"There is no desired outcome {outcome_key!r}.")
    return row


def _require_latest(session: Session, outcome_id: int) -> DesiredOutcome:
    previous = get_outcome(session, outcome_id)
    latest = latest_version(session, previous.outcome_key)
    if latest.id != previous.id:
        raise OutcomeConflict(
            f"Outcome version {outcome_id} has already been replaced by version "
            f"{latest.id}; change the latest version instead."
        )
    if latest.status == "withdrawn":
        raise OutcomeConflict(
            "This outcome has been withdrawn. Record a new outcome instead of changing it."
        )
    return latest


def change_outcome(
    session: Session,
    outcome_id: int,
    *,
    text=KEEP,
    category=KEEP,
    recorded_by: str,
    channel: str,
    participant_id: Optional[int] = None,
    reason: Optional[str] = None,
    source_ref: Optional[str] = None,
    now: Optional[datetime] = None,
) -> DesiredOutcome:
    """Add a new version of an outcome with new words and/or category.

    ``outcome_id`` must be the latest version (the one the person was shown);
    otherwise ``OutcomeConflict``. Leave ``text`` or ``category`` out to keep
    it; pass ``category=None`` to clear the category. ``participant_id``
    defaults to whoever gave the previous version.
    """
    _check_channel(channel)
    recorded_by = _check_recorded_by(recorded_by)
    source_ref = _check_source_ref(source_ref)
    reason = _check_note(reason, "The reason")
    if text is not KEEP:
        validate_outcome_text(text)
    if category is not KEEP:
        _check_category(category)
    existing = _by_source_ref(session, source_ref)
    if existing is not None:
        return existing
    previous = _require_latest(session, outcome_id)
    new_text = previous.text if text is KEEP else text
    new_category = previous.category if category is KEEP else category
    if new_text == previous.text and new_category == previous.category:
        raise InvalidValue("Nothing to change: the words and the category are the same.")
    if participant_id is None:
        participant_id = previous.participant_id
    else:
        require_participant(session, previous.enquiry_id, participant_id)
    row = DesiredOutcome(
        enquiry_id=previous.enquiry_id,
        participant_id=participant_id,
        outcome_key=previous.outcome_key,
        version=previous.version + 1,
        supersedes_id=previous.id,
        status="active",
        text=new_text,
        category=new_category,
        recorded_by=recorded_by,
        channel=channel,
        reason=reason,
        source_ref=source_ref,
        created_at=now or utcnow(),
    )
    return _insert_version(session, row)


def withdraw_outcome(
    session: Session,
    outcome_id: int,
    *,
    recorded_by: str,
    channel: str,
    participant_id: Optional[int] = None,
    reason: Optional[str] = None,
    source_ref: Optional[str] = None,
    now: Optional[datetime] = None,
) -> DesiredOutcome:
    """Add a version marking the outcome withdrawn (it keeps the words it withdraws)."""
    _check_channel(channel)
    recorded_by = _check_recorded_by(recorded_by)
    source_ref = _check_source_ref(source_ref)
    reason = _check_note(reason, "The reason")
    existing = _by_source_ref(session, source_ref)
    if existing is not None:
        return existing
    previous = _require_latest(session, outcome_id)
    if participant_id is None:
        participant_id = previous.participant_id
    else:
        require_participant(session, previous.enquiry_id, participant_id)
    row = DesiredOutcome(
        enquiry_id=previous.enquiry_id,
        participant_id=participant_id,
        outcome_key=previous.outcome_key,
        version=previous.version + 1,
        supersedes_id=previous.id,
        status="withdrawn",
        text=previous.text,
        category=previous.category,
        recorded_by=recorded_by,
        channel=channel,
        reason=reason,
        source_ref=source_ref,
        created_at=now or utcnow(),
    )
    return _insert_version(session, row)


def outcome_history(
    session: Session, enquiry_id: int, *, outcome_key: Optional[str] = None
) -> List[DesiredOutcome]:
    """Every version of every outcome for the enquiry, in the order they were recorded."""
    query = select(DesiredOutcome).where(DesiredOutcome.enquiry_id == enquiry_id)
    if outcome_key is not None:
        query = query.where(DesiredOutcome.outcome_key == outcome_key)
    return list(session.execute(query.order_by(DesiredOutcome.id)).scalars())


def latest_versions(rows: Sequence[DesiredOutcome]) -> List[DesiredOutcome]:
    """From a history, the newest version of each outcome, in the order the outcomes began."""
    first_seen: Dict[str, int] = {}
    latest: Dict[str, DesiredOutcome] = {}
    for row in rows:
        first_seen.setdefault(row.outcome_key, row.id)
        held = latest.get(row.outcome_key)
        if held is None or row.version > held.version:
            latest[row.outcome_key] = row
    return sorted(latest.values(), key=lambda r: first_seen[r.outcome_key])


def current_outcomes(
    session: Session, enquiry_id: int, *, include_withdrawn: bool = False
) -> List[DesiredOutcome]:
    """The latest version of each outcome, in the order the outcomes were first said.

    Withdrawn outcomes are left out unless ``include_withdrawn``.
    """
    rows = latest_versions(outcome_history(session, enquiry_id))
    if include_withdrawn:
        return rows
    return [row for row in rows if row.status == "active"]


# --- was the person asked? --------------------------------------------------


def record_asked(
    session: Session,
    enquiry_id: int,
    answer: str,
    *,
    recorded_by: str,
    channel: str,
    participant_id: Optional[int] = None,
    note: Optional[str] = None,
    now: Optional[datetime] = None,
) -> AskedRecord:
    """Record whether the person (or representative) was asked what they want.

    ``answer``: ``yes``, ``no`` or ``dont_know``. Recording an outcome already
    shows they were asked; this is for when they were asked but said nothing,
    or were not asked (SAC SG4a).
    """
    if answer not in ASKED_ANSWERS:
        raise InvalidValue(f"Unknown answer {answer!r}; use one of {', '.join(ASKED_ANSWERS)}.")
    _check_channel(channel)
    recorded_by = _check_recorded_by(recorded_by)
    note = _check_note(note)
    require_enquiry(session, enquiry_id)
    if participant_id is not None:
        require_participant(session, enquiry_id, participant_id)
    row = AskedRecord(
        enquiry_id=enquiry_id,
        participant_id=participant_id,
        answer=answer,
        recorded_by=recorded_by,
        channel=channel,
        note=note,
        created_at=now or utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def asked_history(session: Session, enquiry_id: int) -> List[AskedRecord]:
    """Every "were they asked" record of the enquiry, oldest first (the latest counts)."""
    return list(session.execute(
        select(AskedRecord).where(AskedRecord.enquiry_id == enquiry_id).order_by(AskedRecord.id)
    ).scalars())


def latest_asked(session: Session, enquiry_id: int) -> Optional[AskedRecord]:
    return session.execute(
        select(AskedRecord)
        .where(AskedRecord.enquiry_id == enquiry_id)
        .order_by(AskedRecord.id.desc())
        .limit(1)
    ).scalar_one_or_none()


# --- how far were they achieved? --------------------------------------------


def record_review(
    session: Session,
    enquiry_id: int,
    achievement: str,
    *,
    recorded_by: str,
    channel: str,
    outcome_key: Optional[str] = None,
    participant_id: Optional[int] = None,
    note: Optional[str] = None,
    now: Optional[datetime] = None,
    view: str = "worker",
) -> OutcomeReview:
    """Record how far outcomes were achieved: ``fully``, ``partially`` or ``not_achieved``.

    ``view`` is whose judgement it is: ``worker`` (the default; what SG4a
    counts) or ``person`` (their own view, from the feedback survey). The two
    are kept apart: one never replaces the other.

    Without ``outcome_key`` the review is of the enquiry's outcomes as a whole
    (the figure SAC SG4a reports); with it, of that one outcome. A later
    review of the same thing is a new row; the latest one counts.
    """
    if achievement not in ACHIEVEMENTS:
        raise InvalidValue(
            f"Unknown achievement {achievement!r}; use one of {', '.join(ACHIEVEMENTS)}."
        )
    _check_channel(channel)
    recorded_by = _check_recorded_by(recorded_by)
    note = _check_note(note)
    require_enquiry(session, enquiry_id)
    if outcome_key is not None:
        if not outcome_history(session, enquiry_id, outcome_key=outcome_key):
            raise NotFound(f"Enquiry {enquiry_id} has no outcome {outcome_key!r}.")
    if participant_id is not None:
        require_participant(session, enquiry_id, participant_id)
    row = OutcomeReview(
        enquiry_id=enquiry_id,
        outcome_key=outcome_key,
        participant_id=participant_id,
        achievement=achievement,
        recorded_by=recorded_by,
        channel=channel,
        note=note,
        created_at=now or utcnow(),
        view=view,
    )
    session.add(row)
    session.flush()
    return row


def review_history(session: Session, enquiry_id: int) -> List[OutcomeReview]:
    return list(
        session.execute(
            select(OutcomeReview)
            .where(OutcomeReview.enquiry_id == enquiry_id)
            .order_by(OutcomeReview.id)
        ).scalars()
    )


def latest_reviews(session: Session, enquiry_id: int, *,
                   view: str = "worker") -> Dict[Optional[str], OutcomeReview]:
    """The latest review per outcome key (``None`` for the whole enquiry), of one ``view``."""
    latest: Dict[Optional[str], OutcomeReview] = {}
    for row in review_history(session, enquiry_id):
        if row.view == view:
            latest[row.outcome_key] = row
    return latest


def outcomes_from_messages(session: Session, message_ids) -> List[DesiredOutcome]:
    """Outcome versions recorded from these chat messages (``source_ref`` is the message id), oldest first."""
    ids = sorted({m for m in message_ids if isinstance(m, str) and m})
    if not ids:
        return []
    return list(session.execute(
        select(DesiredOutcome).where(DesiredOutcome.source_ref.in_(ids)).order_by(DesiredOutcome.id)
    ).scalars())
