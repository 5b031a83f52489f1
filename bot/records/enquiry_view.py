"""One enquiry as staff read it: the read model that ``msp enquiry show`` prints and the portal renders.

:func:`enquiry_detail` gathers everything in one read-only pass: the enquiry,
who speaks in it, the contact-preference and assignment histories, whether
the person was asked, every version of every desired outcome (numbered in the
order the outcomes were first said), the reviews, consents, feedback surveys
with their history and answers, and the invitations with their state. It
changes nothing; the ORM objects it returns are plain to read after the
session ends (callers expunge or copy what they need).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Dict, List, Optional

from sqlalchemy.orm import Session

from . import feedback
from .consents import consent_history
from .enquiries import assignment_history, contact_history, list_participants, require_enquiry
from .invitations import list_invitations
from .models import (
    AskedRecord,
    Consent,
    ContactPreferenceVersion,
    DesiredOutcome,
    Enquiry,
    EnquiryAssignment,
    FeedbackAnswer,
    FeedbackSurvey,
    FeedbackSurveyEvent,
    Invitation,
    OutcomeReview,
    Participant,
    utcnow,
)
from .outcomes import asked_history, latest_versions, outcome_history, review_history

@dataclass
class SurveyDetail:
    survey: FeedbackSurvey
    events: List[FeedbackSurveyEvent]
    answers: List[FeedbackAnswer]


@dataclass
class InvitationState:
    invitation: Invitation
    state: str  # "used", "expired" or "open"
    at: datetime  # when it was used, expired, or will expire


@dataclass
class EnquiryDetail:
    enquiry: Enquiry
    participants: Dict[int, Participant]
    contacts: List[ContactPreferenceVersion]
    assignments: List[EnquiryAssignment]
    asked: List[AskedRecord]
    history: List[DesiredOutcome]
    current: List[DesiredOutcome]
    numbers: Dict[str, int]  # outcome key -> 1, 2, ... in the order first said
    reviews: List[OutcomeReview]
    consents: List[Consent]
    surveys: List[SurveyDetail]
    invitations: List[InvitationState] = field(default_factory=list)

    @property
    def latest_asked(self) -> Optional[AskedRecord]:
        return self.asked[-1] if self.asked else None

    @property
    def withdrawn(self) -> List[DesiredOutcome]:
        """The latest version of each outcome that has been withdrawn."""
        return [row for row in latest_versions(self.history) if row.status == "withdrawn"]

    def who(self, participant_id: Optional[int]) -> Optional[Participant]:
        return self.participants.get(participant_id) if participant_id is not None else None

    def versions_by_outcome(self) -> List[List[DesiredOutcome]]:
        """Each outcome's versions, oldest first, outcomes in the order they were first said."""
        grouped: Dict[str, List[DesiredOutcome]] = {}
        for row in self.history:
            grouped.setdefault(row.outcome_key, []).append(row)
        return list(grouped.values())


def outcome_action(row: DesiredOutcome) -> str:
    """What a version did: recorded, changed or withdrawn."""
    if row.status == "withdrawn":
        return "withdrawn"
    return "recorded" if row.version == 1 else "changed"


def enquiry_detail(session: Session, enquiry_id: int, *, now: Optional[datetime] = None) -> EnquiryDetail:
    enquiry = require_enquiry(session, enquiry_id)
    history = outcome_history(session, enquiry.id)
    numbers: Dict[str, int] = {}
    for row in history:
        numbers.setdefault(row.outcome_key, len(numbers) + 1)
    asked = asked_history(session, enquiry.id)
    surveys = [SurveyDetail(s, feedback.survey_events(session, s.id), feedback.survey_answers(session, s.id))
               for s in feedback.surveys_for_enquiry(session, enquiry.id)]
    now = now or utcnow()
    invitations = []
    for inv in list_invitations(session, enquiry.id):
        if inv.used_at:
            invitations.append(InvitationState(inv, "used", inv.used_at))
        elif inv.expires_at <= now:
            invitations.append(InvitationState(inv, "expired", inv.expires_at))
        else:
            invitations.append(InvitationState(inv, "open", inv.expires_at))
    return EnquiryDetail(
        enquiry=enquiry,
        participants={p.id: p for p in list_participants(session, enquiry.id)},
        contacts=contact_history(session, enquiry.id),
        assignments=assignment_history(session, enquiry.id),
        asked=asked,
        history=history,
        current=[row for row in latest_versions(history) if row.status == "active"],
        numbers=numbers,
        reviews=review_history(session, enquiry.id),
        consents=consent_history(session, enquiry.id),
        surveys=surveys,
        invitations=invitations,
    )
