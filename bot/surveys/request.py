"""Request end-of-enquiry feedback: the one function the CLI (and later the portal) calls.

:func:`request_feedback` checks, in this order, and refuses with the reason
(nothing sent, nothing issued) when any check fails:

1. the enquiry is closed (feedback is about a finished enquiry);
2. it is inside the feedback window after closing (``feedback_window_days``,
   8 weeks by default): later would "open old wounds";
3. the participant has no survey yet for this enquiry (one each), or only a
   refused request;
4. for SMS only, deterministically, no score and no guess: the enquiry says it
   is safe to text, there is a safe number, the number has not replied STOP,
   no other survey is open on that number, and *now* is inside the safe times
   on record (or the council's default window when none are recorded); safe
   times that cannot be read refuse the request and say so.

A refused request is recorded as a survey with status ``refused`` and the
reason in its history, so staff see what was tried. A later request that
passes turns that row into a live survey (the refusal stays in the history).

Web: an invitation (link and short code) to the closed enquiry that opens the
feedback conversation instead of the outcomes form; status ``requested``.
SMS: the invitation text goes into the durable outbox (``bot.records.sms``);
status ``sent``; the person replies to that number (``bot/channels/sms.py``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy.orm import Session

from bot.records import feedback as records
from bot.records import sms
from bot.records.enquiries import add_participant, list_participants, require_enquiry, require_participant
from bot.records.errors import InvalidValue
from bot.records.invitations import MAX_DAYS, create_invitation, invitation_link
from bot.records.models import FeedbackSurvey, utcnow
from bot.settings import Settings, get_settings, int_setting
from bot.surveys import safe_times, texts

CHANNELS = ("web", "sms")


@dataclass(frozen=True)
class FeedbackRequest:
    """What became of a request. ``reason`` (for staff) says why it was refused."""

    ok: bool
    survey_id: Optional[int]
    status: str
    reason: Optional[str] = None
    link: Optional[str] = None
    code: Optional[str] = None
    outbox_id: Optional[int] = None
    expires_at: Optional[datetime] = None


def _int_setting(settings: Settings, name: str) -> int:
    return int_setting(settings, name, error=InvalidValue)


def feedback_window(settings: Optional[Settings] = None) -> timedelta:
    return timedelta(days=_int_setting(settings or get_settings(), "feedback_window_days"))


def sms_refusal(session: Session, enquiry, when: datetime, settings: Settings,
                survey_id: Optional[int] = None) -> Optional[str]:
    """Why an SMS must not go to this enquiry's safe number at ``when`` (None: it may)."""
    if not enquiry.safe_to_text:
        return "The enquiry is not marked safe to text."
    if not enquiry.safe_number:
        return "There is no safe number to text on the enquiry."
    number = sms.find_number(session, enquiry.safe_number)
    if number is not None:
        if sms.is_opted_out(session, number.id):
            return "The safe number has replied STOP: no texts go to it until it sends START."
        other = records.open_survey_for_number(session, number.id, now=when)
        if other is not None and other.id != survey_id:
            return "Another feedback survey is still open on the safe number."
    rule = enquiry.safe_times or settings.sms_default_safe_times
    source = "the safe times on record" if enquiry.safe_times else "the council's default times"
    try:
        inside = safe_times.allows(rule, when, settings.council_timezone)
    except safe_times.SafeTimesError as error:
        return (f"The safe times on record cannot be read ({error}). Write them like "
                f"'Mon-Fri 10:00-16:00', then ask again.")
    if not inside:
        return f"It is outside {source} ({rule!r}). Ask again inside them."
    return None


def _participant(session: Session, enquiry_id: int, participant_id: Optional[int]):
    if participant_id is not None:
        return require_participant(session, enquiry_id, participant_id)
    people = list_participants(session, enquiry_id)
    if not people:
        return add_participant(session, enquiry_id, "person")
    if len(people) == 1:
        return people[0]
    persons = [p for p in people if p.role == "person"]
    if len(persons) == 1:
        return persons[0]
    raise InvalidValue("The enquiry has more than one participant: say which one to ask "
                       "(participant ids: " + ", ".join(str(p.id) for p in people) + ").")


def request_feedback(session: Session, enquiry_id: int, *, channel: str, requested_by: str,
                     participant_id: Optional[int] = None, now: Optional[datetime] = None,
                     settings: Optional[Settings] = None,
                     base_url: Optional[str] = None) -> FeedbackRequest:
    """Ask one participant of a closed enquiry for feedback, by ``web`` or ``sms``.

    Raises ``RecordsError`` for a request that makes no sense (unknown
    enquiry, unknown channel); returns ``ok=False`` with the reason when the
    request is refused.
    """
    if channel not in CHANNELS:
        raise InvalidValue(f"Unknown channel {channel!r}; use web or sms.")
    if not isinstance(requested_by, str) or not requested_by.strip():
        raise InvalidValue("Say who is asking for the feedback.")
    requested_by = requested_by.strip()[:200]
    settings = settings or get_settings()
    now = now or utcnow()
    enquiry = require_enquiry(session, enquiry_id)
    participant = _participant(session, enquiry.id, participant_id)
    survey = records.survey_for(session, enquiry.id, participant.id)
    if survey is not None and survey.status != "refused":
        return FeedbackRequest(False, survey.id, survey.status,
                               reason=f"Feedback was already asked for ({survey.status.replace('_', ' ')}).")

    reason = None
    expires_at = None
    if enquiry.status != "closed":
        reason = "The enquiry is still open: close it first."
    else:
        expires_at = enquiry.closed_at + feedback_window(settings)
        if now >= expires_at:
            weeks = feedback_window(settings).days / 7
            reason = (f"It is more than {weeks:g} weeks since the enquiry closed: too late to ask for "
                      "feedback.")
        elif channel == "sms":
            reason = sms_refusal(session, enquiry, now, settings, survey.id if survey else None)

    if survey is None:
        survey = FeedbackSurvey(enquiry_id=enquiry.id, participant_id=participant.id, channel=channel,
                                status="refused" if reason else ("sent" if channel == "sms" else "requested"),
                                requested_by=requested_by, requested_at=now,
                                expires_at=expires_at or now, reminders_sent=0, created_at=now)
        session.add(survey)
        session.flush()
    else:
        survey.channel = channel
        survey.requested_by = requested_by
        survey.requested_at = now
        survey.expires_at = expires_at or now
    if reason:
        records.set_status(session, survey, "refused", detail=f"{channel}: {reason}", recorded_by=requested_by,
                           now=now)
        return FeedbackRequest(False, survey.id, "refused", reason=reason)

    if channel == "web":
        days = max(1, min(MAX_DAYS, math.ceil((expires_at - now).total_seconds() / 86400)))
        issued = create_invitation(session, enquiry.id, days=days, created_by=requested_by, now=now,
                                   for_feedback=True)
        survey.invitation_id = issued.invitation.id
        records.set_status(session, survey, "requested", detail="web: invitation issued",
                           recorded_by=requested_by, now=now)
        return FeedbackRequest(True, survey.id, "requested", link=invitation_link(issued.token, base_url),
                               code=issued.code, expires_at=expires_at)

    number = sms.get_or_create_number(session, enquiry.safe_number)
    survey.number_id = number.id
    body = texts.render("survey_invite", name_allowed=bool(enquiry.sms_name_allowed), settings=settings)
    row = sms.enqueue(session, number.id, "survey_invite", body, f"survey:{survey.id}:invite", now=now)
    if row is None:  # opted out between the check and now
        records.set_status(session, survey, "refused", detail="sms: the number has replied STOP",
                           recorded_by=requested_by, now=now)
        return FeedbackRequest(False, survey.id, "refused", reason="The safe number has replied STOP.")
    survey.last_contact_at = now
    records.set_status(session, survey, "sent", detail="sms: invitation text queued", recorded_by=requested_by,
                       now=now)
    return FeedbackRequest(True, survey.id, "sent", outbox_id=row.id, expires_at=expires_at)
