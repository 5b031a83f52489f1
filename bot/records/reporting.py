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
others rounded to the nearest 5 (``publish_count``). The threshold and the
rounding base are settings (``MSP_REPORT_SUPPRESS_BELOW``,
``MSP_REPORT_ROUND_TO``; :func:`publication_rule`).

Also here: desired outcomes by reporting group (:func:`outcome_group_figures`),
end-of-enquiry feedback (:func:`feedback_figures`), and the same figures as
titled sections (:func:`report_sections`) and as CSV (:func:`report_csv`),
which the staff portal shows and offers for download.
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
class PublicationRule:
    """Counts below ``threshold`` are suppressed, the others rounded to the nearest ``base``."""

    threshold: int = SUPPRESSION_THRESHOLD
    base: int = ROUNDING_BASE

    def __post_init__(self):
        for name, low in (("threshold", 0), ("base", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 1000:
                raise ValueError(f"the publication {name} must be a whole number from {low} to 1000, not {value!r}")

    def apply(self, count: int) -> Optional[int]:
        return publish_count(count, threshold=self.threshold, base=self.base)

    def show(self, count: int) -> str:
        return format_published(self.apply(count))

    def describe(self) -> str:
        parts = []
        if self.threshold > 0:
            parts.append(f"counts below {self.threshold} suppressed ({SUPPRESSED_MARK})")
        parts.append(f"others rounded to the nearest {self.base}" if self.base > 1 else "others not rounded")
        return ", ".join(parts)


DEFAULT_RULE = PublicationRule()


def publication_rule(settings=None) -> PublicationRule:
    """The publication rule from the settings (``MSP_REPORT_SUPPRESS_BELOW``, ``MSP_REPORT_ROUND_TO``)."""
    from bot.settings import get_settings, int_setting

    settings = settings or get_settings()
    return PublicationRule(threshold=int_setting(settings, "report_suppress_below"),
                           base=int_setting(settings, "report_round_to"))


@dataclass(frozen=True)
class SG4aFigures:
    asked: Dict[str, int]
    achieved: Dict[str, int]
    achievement_not_recorded: int
    total: int
    period: Tuple[Optional[datetime], Optional[datetime]] = (None, None)
    enquiry_ids: Dict[str, List[int]] = field(default_factory=dict, compare=False, repr=False)

    def published(self, rule: PublicationRule = DEFAULT_RULE) -> Dict[str, Dict[str, Optional[int]]]:
        """The same figures with the publication rule applied (None = suppressed)."""
        return {
            "asked": {label: rule.apply(n) for label, n in self.asked.items()},
            "achieved": {label: rule.apply(n) for label, n in self.achieved.items()},
        }

    def rows(self, *, published: bool = False,
             rule: PublicationRule = DEFAULT_RULE) -> List[Tuple[str, str, Union[int, str]]]:
        """``(section, label, value)`` rows in SAC order, for tables and CSV."""
        out: List[Tuple[str, str, Union[int, str]]] = []
        for section, values in (("asked", self.asked), ("achieved", self.achieved)):
            for label, n in values.items():
                out.append((section, label, rule.show(n) if published else n))
        return out


def _as_utc(value: Union[date, datetime, None]) -> Optional[datetime]:
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _concluded(start: Optional[datetime], end: Optional[datetime]):
    """The ids of closed enquiries, closed in ``[start, end)`` (either end open when None)."""
    scope = select(Enquiry.id).where(Enquiry.status == "closed")
    if start is not None:
        scope = scope.where(Enquiry.closed_at >= start)
    if end is not None:
        scope = scope.where(Enquiry.closed_at < end)
    return scope


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
    scope = _concluded(start, end) if concluded_only else select(Enquiry.id)
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

    def rows(self, *, published: bool = False,
             rule: PublicationRule = DEFAULT_RULE) -> List[Tuple[str, str, Union[int, str]]]:
        def show(n: int):
            return rule.show(n) if published else n
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
    enquiry_ids = _concluded(start, end).scalar_subquery()
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


# --- Desired outcomes by reporting group ------------------------------------------

NO_GROUP = "No group recorded"
GROUP_COLUMNS = ("Current outcomes", FULLY, PARTIALLY, NOT_ACHIEVED, "Not reviewed")


@dataclass(frozen=True)
class OutcomeGroupFigures:
    """Desired outcomes of enquiries closed in a period, by reporting group (the latest version of each).

    ``groups``: group label -> counts in ``GROUP_COLUMNS`` order: outcomes still
    current at the end, then how far each was achieved in the worker's
    judgement (the latest worker review of that outcome; "Not reviewed" when
    there is none). ``withdrawn``: outcomes withdrawn before the end (not in
    the groups). A group is the reporting category added beside the words,
    never instead of them.
    """

    groups: Dict[str, Tuple[int, ...]]
    withdrawn: int
    enquiries: int


def outcome_group_figures(
    session: Session,
    *,
    concluded_from: Union[date, datetime, None] = None,
    concluded_to: Union[date, datetime, None] = None,
) -> OutcomeGroupFigures:
    from .models import OUTCOME_CATEGORIES, OUTCOME_CATEGORY_LABELS

    scope = _concluded(_as_utc(concluded_from), _as_utc(concluded_to))
    enquiries = len(list(session.execute(scope).scalars()))
    latest: Dict[str, Tuple[int, str, Optional[str]]] = {}
    for key, version, status, category in session.execute(
        select(DesiredOutcome.outcome_key, DesiredOutcome.version, DesiredOutcome.status, DesiredOutcome.category)
        .where(DesiredOutcome.enquiry_id.in_(scope.scalar_subquery()))
    ):
        held = latest.get(key)
        if held is None or version > held[0]:
            latest[key] = (version, status, category)
    reviews: Dict[str, str] = {}
    for key, achievement in session.execute(
        select(OutcomeReview.outcome_key, OutcomeReview.achievement)
        .where(OutcomeReview.enquiry_id.in_(scope.scalar_subquery()), OutcomeReview.view == "worker",
               OutcomeReview.outcome_key.is_not(None))
        .order_by(OutcomeReview.id)
    ):
        reviews[key] = achievement
    labels = [OUTCOME_CATEGORY_LABELS[c] for c in OUTCOME_CATEGORIES] + [NO_GROUP]
    counts = {label: [0] * len(GROUP_COLUMNS) for label in labels}
    withdrawn = 0
    column = {"fully": 1, "partially": 2, "not_achieved": 3}
    for key, (_version, status, category) in latest.items():
        if status == "withdrawn":
            withdrawn += 1
            continue
        row = counts[OUTCOME_CATEGORY_LABELS[category] if category else NO_GROUP]
        row[0] += 1
        row[column.get(reviews.get(key), 4)] += 1
    return OutcomeGroupFigures(groups={k: tuple(v) for k, v in counts.items()}, withdrawn=withdrawn,
                               enquiries=enquiries)


# --- Reports as titled sections, and as CSV ----------------------------------------

REPORTS = {
    "sg4a": "SG4a: Making Safeguarding Personal",
    "outcomes": "Desired outcomes by reporting group",
    "feedback": "End-of-enquiry feedback",
}


@dataclass(frozen=True)
class ReportSection:
    """One table of a report: rows of counts under ``columns``; charts draw ``columns[0]``."""

    key: str
    title: str
    columns: Tuple[str, ...]
    rows: Tuple[Tuple[str, Tuple[int, ...]], ...]
    row_label: str = "Answer"

    def shown(self, published: bool, rule: PublicationRule = DEFAULT_RULE):
        """The rows with each count as it is shown: the number, or under the rule (``*`` suppressed)."""
        return [(label, tuple(rule.show(n) if published else str(n) for n in counts))
                for label, counts in self.rows]

    def chart_values(self, published: bool, rule: PublicationRule = DEFAULT_RULE):
        """(label, value or None when suppressed) of the first column, for a chart."""
        return [(label, rule.apply(counts[0]) if published else counts[0]) for label, counts in self.rows]


def _single(key: str, title: str, column: str, counts: Dict[str, int], row_label: str = "Answer") -> ReportSection:
    return ReportSection(key, title, (column,), tuple((label, (n,)) for label, n in counts.items()), row_label)


def report_sections(
    session: Session,
    report: str,
    *,
    concluded_from: Union[date, datetime, None] = None,
    concluded_to: Union[date, datetime, None] = None,
) -> List[ReportSection]:
    """The figures of one report (``sg4a``, ``outcomes`` or ``feedback``) as titled tables, in SAC order."""
    period = {"concluded_from": concluded_from, "concluded_to": concluded_to}
    if report == "sg4a":
        figures = sg4a_figures(session, **period)
        return [
            _single("asked", "Was the person (or their representative) asked about their desired outcomes?",
                    "Concluded section 42 enquiries", figures.asked),
            _single("achieved", "Where outcomes were expressed, were they achieved? (the worker's judgement)",
                    "Concluded section 42 enquiries", figures.achieved),
        ]
    if report == "outcomes":
        groups = outcome_group_figures(session, **period)
        return [ReportSection("groups", "Current desired outcomes by reporting group, and how far each was "
                              "achieved (the worker's judgement)", GROUP_COLUMNS,
                              tuple(groups.groups.items()), row_label="Reporting group")]
    if report == "feedback":
        figures = feedback_figures(session, **period)
        sections = [_single("surveys", "Feedback surveys by status", "Surveys",
                            {status.replace("_", " ").capitalize(): n for status, n in figures.statuses.items()},
                            row_label="Status")]
        for key, counts in figures.questions.items():
            sections.append(_single(key, FEEDBACK_QUESTION_LABELS[key], "Answers", counts))
        sections.append(_single("achieved_person", "Where outcomes were expressed, were they achieved? "
                                "(the person's own view, from the survey)", "Concluded section 42 enquiries",
                                figures.person_sg4a.achieved))
        return sections
    raise ValueError(f"unknown report {report!r}; use one of {', '.join(REPORTS)}")


CSV_HEADER = ("Table", "Period from", "Period to", "Figures", "Section", "Row", "Column", "Value")


def report_csv(report: str, sections: List[ReportSection], *, published: bool,
               rule: PublicationRule = DEFAULT_RULE, period_from: Optional[date] = None,
               period_to: Optional[date] = None) -> str:
    """The report as CSV, one line a figure, rows in the order of the return (SAC order for SG4a).

    ``period_to`` is the last day included. ``Figures`` says whether the
    publication rule was applied; a suppressed count is ``*``.
    """
    import csv
    import io

    figures = f"published ({rule.describe()})" if published else "unsuppressed (not for publication)"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    start = period_from.isoformat() if period_from else ""
    end = period_to.isoformat() if period_to else ""
    for section in sections:
        for label, values in section.shown(published, rule):
            for column, value in zip(section.columns, values):
                writer.writerow((REPORTS[report], start, end, figures, section.title, label, column, value))
    return out.getvalue()
