"""End-of-enquiry feedback surveys: the rows, their history, the answers.

Named functions taking a session, as the rest of ``bot.records``; committing
is the caller's. A survey's ``status`` changes only through
:func:`set_status`, which appends the change and its reason to
``feedback_survey_events``. Answers are appended (:func:`record_answer`),
never changed: a second answer to the same question is a new row and the
latest counts. An answer about one desired outcome is also written as an
``OutcomeReview`` with ``view='person'``: the person's own view, kept apart
from the worker's judgement (``view='worker'``), which SG4a counts.
"""
from __future__ import annotations

from datetime import datetime
from typing import Dict, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .errors import InvalidValue, NotFound
from .models import (
    SURVEY_OPEN_STATUSES,
    SURVEY_STATUSES,
    DesiredOutcome,
    FeedbackAnswer,
    FeedbackSurvey,
    FeedbackSurveyEvent,
    utcnow,
)
from .outcomes import current_outcomes, record_review

#: The six questions of the domain brief, in order (keys).
SIX_QUESTIONS = ("goals", "say", "listened", "acted", "safe", "happier")
#: Answers any question may have besides its own.
NOT_ANSWERED = ("skipped", "unclear")
ANSWERS = ("yes", "partly", "no", "dont_know", "prefer_not")
SAFE_NOW = ("1", "2", "3", "4", "5", "dont_know", "prefer_not")
SAFE_CHANGE = ("better", "same", "worse", "dont_know", "prefer_not")
OUTCOME_ANSWERS = ("fully", "partly", "not", "dont_know", "prefer_not")
#: Every question's key and the coded values it takes.
QUESTION_VALUES: Dict[str, Tuple[str, ...]] = {
    **{key: ANSWERS for key in SIX_QUESTIONS},
    "safe_now": SAFE_NOW,
    "safe_change": SAFE_CHANGE,
    "outcome": OUTCOME_ANSWERS,
    "anything_else": ("given", "nothing"),
}
#: How an answer about one outcome becomes the person's view in outcome_reviews.
REVIEW_FOR = {"fully": "fully", "partly": "partially", "not": "not_achieved"}
MAX_ANSWER_CHARS = 2000
ENDED = ("completed", "partial", "expired", "opted_out")


def get_survey(session: Session, survey_id: int) -> Optional[FeedbackSurvey]:
    return session.get(FeedbackSurvey, survey_id)


def require_survey(session: Session, survey_id) -> FeedbackSurvey:
    survey = session.get(FeedbackSurvey, survey_id) if survey_id is not None else None
    if survey is None:
        raise NotFound(f"There is no feedback survey {survey_id}.")
    return survey


def survey_for(session: Session, enquiry_id: int, participant_id: int) -> Optional[FeedbackSurvey]:
    return session.execute(select(FeedbackSurvey).where(
        FeedbackSurvey.enquiry_id == enquiry_id, FeedbackSurvey.participant_id == participant_id)
    ).scalar_one_or_none()


def surveys_for_enquiry(session: Session, enquiry_id: int) -> List[FeedbackSurvey]:
    return list(session.execute(select(FeedbackSurvey).where(FeedbackSurvey.enquiry_id == enquiry_id)
                                .order_by(FeedbackSurvey.id)).scalars())


def survey_for_invitation(session: Session, invitation_id: int) -> Optional[FeedbackSurvey]:
    return session.execute(select(FeedbackSurvey).where(
        FeedbackSurvey.invitation_id == invitation_id)).scalar_one_or_none()


def open_survey_for_number(session: Session, number_id: int,
                           now: Optional[datetime] = None) -> Optional[FeedbackSurvey]:
    """The SMS survey still open for this number (the newest), if any and not past its end."""
    now = now or utcnow()
    return session.execute(select(FeedbackSurvey).where(
        FeedbackSurvey.number_id == number_id, FeedbackSurvey.channel == "sms",
        FeedbackSurvey.status.in_(SURVEY_OPEN_STATUSES), FeedbackSurvey.expires_at > now,
    ).order_by(FeedbackSurvey.id.desc()).limit(1)).scalar_one_or_none()


def set_status(session: Session, survey: FeedbackSurvey, status: str, *, detail: Optional[str] = None,
               recorded_by: str = "assistant", now: Optional[datetime] = None) -> FeedbackSurvey:
    """Move the survey to ``status`` and append the change (with ``detail``, the reason)."""
    if status not in SURVEY_STATUSES:
        raise InvalidValue(f"Unknown survey status {status!r}.")
    now = now or utcnow()
    survey.status = status
    session.add(FeedbackSurveyEvent(survey_id=survey.id, status=status,
                                    detail=(detail or None) and detail[:300],
                                    recorded_by=(recorded_by or "assistant")[:200], created_at=now))
    session.flush()
    return survey


def survey_events(session: Session, survey_id: int) -> List[FeedbackSurveyEvent]:
    return list(session.execute(select(FeedbackSurveyEvent).where(FeedbackSurveyEvent.survey_id == survey_id)
                                .order_by(FeedbackSurveyEvent.id)).scalars())


def outcomes_to_ask(session: Session, enquiry_id: int) -> List[DesiredOutcome]:
    """The enquiry's desired outcomes to read back: latest versions, withdrawn ones left out."""
    return current_outcomes(session, enquiry_id)


def record_answer(session: Session, survey_id: int, question: str, value: str, *,
                  text: Optional[str], channel: str, outcome_key: Optional[str] = None,
                  source_ref: Optional[str] = None, now: Optional[datetime] = None) -> FeedbackAnswer:
    """Append one answer: the words as sent (verbatim) and the coded value.

    The same ``source_ref`` (message id) twice records once: the first row is
    returned. An open survey that had not started is marked ``in_progress``.
    """
    if question not in QUESTION_VALUES:
        raise InvalidValue(f"Unknown survey question {question!r}.")
    if value not in QUESTION_VALUES[question] + NOT_ANSWERED:
        raise InvalidValue(f"{value!r} is not an answer to {question!r}.")
    if text is not None and (not isinstance(text, str) or len(text) > MAX_ANSWER_CHARS or "\x00" in text):
        raise InvalidValue(f"An answer is text of at most {MAX_ANSWER_CHARS:,} characters.")
    if source_ref is not None:
        existing = session.execute(select(FeedbackAnswer).where(
            FeedbackAnswer.source_ref == source_ref[:200])).scalar_one_or_none()
        if existing is not None:
            return existing
    survey = require_survey(session, survey_id)
    if not survey.is_open:
        raise InvalidValue(f"Feedback survey {survey.id} is {survey.status}; it takes no more answers.")
    if (question == "outcome") != (outcome_key is not None):
        raise InvalidValue("An answer about an outcome names the outcome (and only then).")
    now = now or utcnow()
    review_id = None
    if question == "outcome" and value in REVIEW_FOR:
        review = record_review(
            session, survey.enquiry_id, REVIEW_FOR[value], recorded_by="person (feedback survey)",
            channel=channel, outcome_key=outcome_key, participant_id=survey.participant_id,
            note=f"The person's own view, feedback survey {survey.id}.", now=now, view="person")
        review_id = review.id
    answer = FeedbackAnswer(survey_id=survey.id, question=question, outcome_key=outcome_key, text=text,
                            value=value, review_id=review_id, channel=channel,
                            source_ref=source_ref[:200] if source_ref else None, created_at=now)
    try:
        with session.begin_nested():
            session.add(answer)
    except IntegrityError:  # the same message, recorded meanwhile by another process
        return session.execute(select(FeedbackAnswer).where(
            FeedbackAnswer.source_ref == source_ref[:200])).scalar_one()
    if survey.status in ("requested", "sent"):
        set_status(session, survey, "in_progress", detail="first answer", now=now)
    survey.last_contact_at = now
    session.flush()
    return answer


def survey_answers(session: Session, survey_id: int) -> List[FeedbackAnswer]:
    return list(session.execute(select(FeedbackAnswer).where(FeedbackAnswer.survey_id == survey_id)
                                .order_by(FeedbackAnswer.id)).scalars())


def latest_answers(session: Session, survey_id: int) -> Dict[Tuple[str, Optional[str]], FeedbackAnswer]:
    """The latest answer per (question, outcome key)."""
    latest: Dict[Tuple[str, Optional[str]], FeedbackAnswer] = {}
    for row in survey_answers(session, survey_id):
        latest[(row.question, row.outcome_key)] = row
    return latest


def finish(session: Session, survey_id: int, status: str, *, detail: Optional[str] = None,
           now: Optional[datetime] = None) -> FeedbackSurvey:
    """End an open survey: ``completed``, ``partial`` (stopped), ``opted_out`` or ``expired``.

    An already ended survey is left as it is (a message delivered twice)."""
    if status not in ENDED:
        raise InvalidValue(f"{status!r} is not how a survey ends.")
    survey = require_survey(session, survey_id)
    if not survey.is_open:
        return survey
    return set_status(session, survey, status, detail=detail, now=now)


def expire_due(session: Session, now: Optional[datetime] = None) -> List[int]:
    """Expire every open survey past its end (the feedback window). Returns their ids."""
    now = now or utcnow()
    due = list(session.execute(select(FeedbackSurvey).where(
        FeedbackSurvey.status.in_(SURVEY_OPEN_STATUSES), FeedbackSurvey.expires_at <= now)
        .order_by(FeedbackSurvey.id)).scalars())
    for survey in due:
        set_status(session, survey, "expired", detail="the feedback window ended", recorded_by="scheduler",
                   now=now)
    return [survey.id for survey in due]


def answers_from_messages(session: Session, message_ids) -> List[FeedbackAnswer]:
    """Answers recorded from these chat messages (``source_ref`` is the message id), oldest first."""
    ids = sorted({m for m in message_ids if isinstance(m, str) and m})
    if not ids:
        return []
    return list(session.execute(
        select(FeedbackAnswer).where(FeedbackAnswer.source_ref.in_(ids)).order_by(FeedbackAnswer.id)
    ).scalars())
