"""Figures for the Safeguarding Adults Collection (SAC), table SG4a.

SG4a counts concluded section 42 enquiries by whether the person (or their
representative) was asked about their desired outcomes, and, where outcomes
were expressed, how far they were achieved.

How each enquiry is counted:

* **Yes, asked and outcomes expressed** if at least one desired outcome was
  ever recorded for it (even if later withdrawn: it was still expressed).
* Otherwise the latest "asked" record decides: ``yes`` → **Yes, asked but no
  outcomes expressed**; ``no`` → **No**; ``dont_know`` → **Don't know**; none
  → **Not recorded**.
* Achievement, for expressed enquiries only: the latest review of the enquiry
  as a whole. If there is none but every current (not withdrawn) outcome has
  its own review, they are combined: all fully → **Fully achieved**, all not
  → **Not achieved**, any other mix → **Partially achieved**. Otherwise the
  enquiry is counted in ``achievement_not_recorded`` (not a SAC line, but it
  makes the totals add up).

Published figures follow the national rule: counts below 5 are suppressed,
others rounded to the nearest 5 (``publish_count``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Dict, List, Optional, Set, Tuple, Union

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import AskedRecord, DesiredOutcome, Enquiry, OutcomeReview

ASKED_EXPRESSED = "Yes they were asked and outcomes were expressed"
ASKED_NOT_EXPRESSED = "Yes they were asked but no outcomes were expressed"
NOT_ASKED = "No"
DONT_KNOW = "Don't know"
NOT_RECORDED = "Not recorded"
ASKED_LABELS = (ASKED_EXPRESSED, ASKED_NOT_EXPRESSED, NOT_ASKED, DONT_KNOW, NOT_RECORDED)

FULLY = "Fully achieved"
PARTIALLY = "Partially achieved"
NOT_ACHIEVED = "Not achieved"
ACHIEVED_LABELS = (FULLY, PARTIALLY, NOT_ACHIEVED)

_ASKED_ANSWER_LABEL = {"yes": ASKED_NOT_EXPRESSED, "no": NOT_ASKED, "dont_know": DONT_KNOW}
_ACHIEVEMENT_LABEL = {"fully": FULLY, "partially": PARTIALLY, "not_achieved": NOT_ACHIEVED}

SUPPRESSION_THRESHOLD = 5
ROUNDING_BASE = 5
SUPPRESSED_MARK = "*"


def publish_count(
    count: int, *, threshold: int = SUPPRESSION_THRESHOLD, base: int = ROUNDING_BASE
) -> Optional[int]:
    """Apply the publication rule to one count.

    Below ``threshold`` (zero included) → ``None`` (suppressed); otherwise the
    nearest multiple of ``base`` (7 → 5, 8 → 10; halves, possible only with an
    even base, round up).
    """
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise ValueError(f"a count must be a whole number of 0 or more, not {count!r}")
    if count < threshold:
        return None
    return (count + base // 2) // base * base


def format_published(value: Optional[int]) -> str:
    """A published count as it appears in a table: the number, or ``*`` if suppressed."""
    return SUPPRESSED_MARK if value is None else str(value)


@dataclass(frozen=True)
class SG4aFigures:
    asked: Dict[str, int]
    achieved: Dict[str, int]
    achievement_not_recorded: int
    total: int
    period: Tuple[Optional[datetime], Optional[datetime]] = (None, None)
    enquiry_ids: Dict[str, List[int]] = field(default_factory=dict, compare=False, repr=False)

    def published(self) -> Dict[str, Dict[str, Optional[int]]]:
        """The same figures with the publication rule applied (None = suppressed)."""
        return {
            "asked": {label: publish_count(n) for label, n in self.asked.items()},
            "achieved": {label: publish_count(n) for label, n in self.achieved.items()},
        }

    def rows(self, *, published: bool = False) -> List[Tuple[str, str, Union[int, str]]]:
        """``(section, label, value)`` rows in SAC order, for tables and CSV."""
        out: List[Tuple[str, str, Union[int, str]]] = []
        for section, values in (("asked", self.asked), ("achieved", self.achieved)):
            for label, n in values.items():
                out.append((section, label, format_published(publish_count(n)) if published else n))
        return out


def _as_utc(value: Union[date, datetime, None]) -> Optional[datetime]:
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _combine(achievements: List[str]) -> str:
    if all(a == "fully" for a in achievements):
        return FULLY
    if all(a == "not_achieved" for a in achievements):
        return NOT_ACHIEVED
    return PARTIALLY


def sg4a_figures(
    session: Session,
    *,
    concluded_from: Union[date, datetime, None] = None,
    concluded_to: Union[date, datetime, None] = None,
    concluded_only: bool = True,
    view: str = "worker",
) -> SG4aFigures:
    """SG4a counts over enquiries.

    By default only closed enquiries count, optionally those closed in
    ``[concluded_from, concluded_to)`` (dates mean midnight UTC; naive
    datetimes are taken as UTC). ``concluded_only=False`` counts every
    enquiry, open or closed, and ignores the dates. ``view``: whose
    judgement of achievement counts, the worker's (``worker``, what SAC asks
    for) or the person's own, from the feedback survey (``person``).
    """
    start, end = _as_utc(concluded_from), _as_utc(concluded_to)
    scope = select(Enquiry.id)
    if concluded_only:
        scope = scope.where(Enquiry.status == "closed")
        if start is not None:
            scope = scope.where(Enquiry.closed_at >= start)
        if end is not None:
            scope = scope.where(Enquiry.closed_at < end)
    enquiry_ids = list(session.execute(scope.order_by(Enquiry.id)).scalars())
    scope_subquery = scope.scalar_subquery()

    # Latest version of every outcome, per enquiry.
    latest: Dict[int, Dict[str, Tuple[int, str]]] = {}
    for enquiry_id, key, version, status in session.execute(
        select(
            DesiredOutcome.enquiry_id,
            DesiredOutcome.outcome_key,
            DesiredOutcome.version,
            DesiredOutcome.status,
        ).where(DesiredOutcome.enquiry_id.in_(scope_subquery))
    ):
        per_enquiry = latest.setdefault(enquiry_id, {})
        held = per_enquiry.get(key)
        if held is None or version > held[0]:
            per_enquiry[key] = (version, status)

    asked: Dict[int, str] = {}
    for enquiry_id, answer in session.execute(
        select(AskedRecord.enquiry_id, AskedRecord.answer)
        .where(AskedRecord.enquiry_id.in_(scope_subquery))
        .order_by(AskedRecord.id)
    ):
        asked[enquiry_id] = answer

    whole_review: Dict[int, str] = {}
    outcome_review: Dict[int, Dict[str, str]] = {}
    for enquiry_id, key, achievement in session.execute(
        select(OutcomeReview.enquiry_id, OutcomeReview.outcome_key, OutcomeReview.achievement)
        .where(OutcomeReview.enquiry_id.in_(scope_subquery), OutcomeReview.view == view)
        .order_by(OutcomeReview.id)
    ):
        if key is None:
            whole_review[enquiry_id] = achievement
        else:
            outcome_review.setdefault(enquiry_id, {})[key] = achievement

    asked_counts = {label: 0 for label in ASKED_LABELS}
    achieved_counts = {label: 0 for label in ACHIEVED_LABELS}
    ids: Dict[str, List[int]] = {label: [] for label in ASKED_LABELS + ACHIEVED_LABELS}
    ids["achievement not recorded"] = []
    not_recorded_achievement = 0

    for enquiry_id in enquiry_ids:
        outcomes = latest.get(enquiry_id)
        if outcomes:
            label = ASKED_EXPRESSED
        else:
            label = _ASKED_ANSWER_LABEL.get(asked.get(enquiry_id), NOT_RECORDED)
        asked_counts[label] += 1
        ids[label].append(enquiry_id)
        if label != ASKED_EXPRESSED:
            continue

        achievement_label: Optional[str] = None
        if enquiry_id in whole_review:
            achievement_label = _ACHIEVEMENT_LABEL[whole_review[enquiry_id]]
        else:
            active: Set[str] = {k for k, (_v, status) in outcomes.items() if status == "active"}
            reviews = outcome_review.get(enquiry_id, {})
            if active and all(k in reviews for k in active):
                achievement_label = _combine([reviews[k] for k in sorted(active)])
        if achievement_label is None:
            not_recorded_achievement += 1
            ids["achievement not recorded"].append(enquiry_id)
        else:
            achieved_counts[achievement_label] += 1
            ids[achievement_label].append(enquiry_id)

    return SG4aFigures(
        asked=asked_counts,
        achieved=achieved_counts,
        achievement_not_recorded=not_recorded_achievement,
        total=len(enquiry_ids),
        period=(start, end),
        enquiry_ids=ids,
    )


# --- End-of-enquiry feedback (bot/records/feedback.py) ------------------------

#: Plain labels for the coded answers, in the order figures are shown.
FEEDBACK_LABELS = {
    "answer": (("yes", "Yes"), ("partly", "Partly"), ("no", "No"), ("dont_know", "Don't know"),
               ("prefer_not", "Prefer not to say"), ("skipped", "Skipped"), ("unclear", "Unclear")),
    "safe_now": (("1", "1 (not safe at all)"), ("2", "2"), ("3", "3"), ("4", "4"), ("5", "5 (very safe)"),
                 ("dont_know", "Don't know"), ("prefer_not", "Prefer not to say"), ("skipped", "Skipped"),
                 ("unclear", "Unclear")),
    "safe_change": (("better", "Better"), ("same", "The same"), ("worse", "Worse"),
                    ("dont_know", "Don't know"), ("prefer_not", "Prefer not to say"), ("skipped", "Skipped"),
                    ("unclear", "Unclear")),
}
FEEDBACK_QUESTION_LABELS = {
    "goals": "Got the goals they wanted",
    "say": "Had a chance to say what they wanted, and were told how it went",
    "listened": "Felt listened to",
    "acted": "We acted on their wishes and views",
    "safe": "Feel as safe as they want to",
    "happier": "Feel happier as a result of the support",
    "safe_now": "How safe they feel now",
    "safe_change": "Feeling safe, compared with when the enquiry started",
}


@dataclass(frozen=True)
class FeedbackFigures:
    """Counts over the surveys of enquiries closed in a period: statuses, and each question's answers."""

    statuses: Dict[str, int]
    questions: Dict[str, Dict[str, int]]  # question key -> plain label -> count
    person_sg4a: SG4aFigures  # achievement in the person's own view (feedback), same enquiries

    def rows(self, *, published: bool = False) -> List[Tuple[str, str, Union[int, str]]]:
        def show(n: int):
            return format_published(publish_count(n)) if published else n
        out: List[Tuple[str, str, Union[int, str]]] = []
        for status, n in self.statuses.items():
            out.append(("surveys", status, show(n)))
        for key, counts in self.questions.items():
            for label, n in counts.items():
                out.append((key, label, show(n)))
        for label, n in self.person_sg4a.achieved.items():
            out.append(("achieved (their view)", label, show(n)))
        return out


def feedback_figures(
    session: Session,
    *,
    concluded_from: Union[date, datetime, None] = None,
    concluded_to: Union[date, datetime, None] = None,
) -> FeedbackFigures:
    """The feedback figures for enquiries closed in ``[concluded_from, concluded_to)``.

    Each question counts the latest answer of each survey that answered it
    (a survey stopped part-way counts for the questions it reached).
    Refused requests are counted under ``statuses`` only.
    """
    from .models import SURVEY_STATUSES, FeedbackAnswer, FeedbackSurvey

    start, end = _as_utc(concluded_from), _as_utc(concluded_to)
    scope = select(Enquiry.id).where(Enquiry.status == "closed")
    if start is not None:
        scope = scope.where(Enquiry.closed_at >= start)
    if end is not None:
        scope = scope.where(Enquiry.closed_at < end)
    enquiry_ids = scope.scalar_subquery()
    statuses = {status: 0 for status in SURVEY_STATUSES}
    survey_ids = []
    for survey_id, status in session.execute(
        select(FeedbackSurvey.id, FeedbackSurvey.status).where(FeedbackSurvey.enquiry_id.in_(enquiry_ids))
    ):
        statuses[status] += 1
        survey_ids.append(survey_id)
    latest: Dict[Tuple[int, str], str] = {}
    if survey_ids:
        for survey_id, question, value in session.execute(
            select(FeedbackAnswer.survey_id, FeedbackAnswer.question, FeedbackAnswer.value)
            .where(FeedbackAnswer.survey_id.in_(survey_ids), FeedbackAnswer.outcome_key.is_(None))
            .order_by(FeedbackAnswer.id)
        ):
            latest[(survey_id, question)] = value
    questions: Dict[str, Dict[str, int]] = {}
    for key in FEEDBACK_QUESTION_LABELS:
        kind = key if key in ("safe_now", "safe_change") else "answer"
        labels = dict(FEEDBACK_LABELS[kind])
        counts = {label: 0 for label in labels.values()}
        for (_survey, question), value in latest.items():
            if question == key and value in labels:
                counts[labels[value]] += 1
        questions[key] = counts
    person = sg4a_figures(session, concluded_from=concluded_from, concluded_to=concluded_to, view="person")
    return FeedbackFigures(statuses=statuses, questions=questions, person_sg4a=person)
