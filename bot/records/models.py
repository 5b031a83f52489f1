"""The MSP tables: enquiries, who speaks, what they want, consents, invitations.

History is evidence. Desired outcomes, outcome reviews, "were they asked"
records and consents are **append-only**: a change or a withdrawal is a new
row that points at the row it replaces (``supersedes_id``). Three layers keep
it that way:

1. a ``before_flush`` listener on every ORM session refuses to flush a changed
   or deleted append-only object (:class:`~bot.records.errors.AppendOnlyError`);
2. a ``before_execute`` listener on every engine made by ``bot.records.db``
   refuses Core or ORM-bulk ``UPDATE``/``DELETE`` statements on those tables;
3. the migration adds database triggers that refuse ``UPDATE`` and ``DELETE``
   on them, for anything that goes round the first two.

Timestamps are timezone-aware UTC everywhere (SQLite stores them as naive UTC;
they come back aware).
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Optional

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    inspect,
)
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, declarative_base, relationship, validates
from sqlalchemy.sql.dml import Delete, Update
from sqlalchemy.types import TypeDecorator

from .errors import AppendOnlyError, EmptyOutcomeText, InvalidValue, OutcomeTextError, OutcomeTooLong

# --- vocabularies -----------------------------------------------------------

ENQUIRY_STATUSES = ("open", "closed")
PARTICIPANT_ROLES = ("person", "representative", "advocate")
OUTCOME_STATUSES = ("active", "withdrawn")
CHANNELS = ("web", "sms", "phone", "staff")
CONTACT_METHODS = ("phone", "sms", "email", "letter", "visit", "representative")
ACHIEVEMENTS = ("fully", "partially", "not_achieved")
ASKED_ANSWERS = ("yes", "no", "dont_know")
CONSENT_DECISIONS = ("given", "refused", "withdrawn")
#: Whose judgement an OutcomeReview is: the worker's, or the person's own view
#: (given in the end-of-enquiry feedback survey). Both are kept, apart.
REVIEW_VIEWS = ("worker", "person")

#: The ten reporting categories for desired outcomes (domain brief), in order.
OUTCOME_CATEGORIES = (
    "stop_abuse_feel_safer",
    "protect_myself_future",
    "feel_more_confident",
    "harmer_stay_away",
    "be_involved",
    "people_do_what_they_say",
    "police_prosecute",
    "get_support",
    "make_friends",
    "something_else",
)

#: Plain-English labels for staff screens and reports.
OUTCOME_CATEGORY_LABELS = {
    "stop_abuse_feel_safer": "For the abuse to stop and to feel safer",
    "protect_myself_future": "Help to protect myself in future",
    "feel_more_confident": "Help to feel more confident",
    "harmer_stay_away": "For the person harming me to stay away",
    "be_involved": "To be involved in what happens next",
    "people_do_what_they_say": "For people to do what they say they will",
    "police_prosecute": "For the police to prosecute",
    "get_support": "To get whatever support is available",
    "make_friends": "To make more friends",
    "something_else": "Something else",
}

#: The most characters (Unicode code points) one outcome may hold.
MAX_OUTCOME_CHARS = 2000
MAX_NOTE_CHARS = 2000


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_outcome_key() -> str:
    return uuid.uuid4().hex


def _in(column: str, values) -> str:
    quoted = ", ".join("'%s'" % v for v in values)
    return f"{column} IN ({quoted})"


# --- types ------------------------------------------------------------------


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend.

    Naive datetimes are refused when binding: they are almost always a bug
    (local time passed as UTC).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise ValueError("naive datetime given; use an aware datetime (UTC)")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


# --- metadata ---------------------------------------------------------------

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)
Base = declarative_base(metadata=metadata)


class Enquiry(Base):
    """A council's safeguarding enquiry, known here by the council's reference.

    Contact preferences and the assigned worker live here as the current
    position; every change is also appended to ``contact_preference_versions``
    or ``enquiry_assignments`` (the history). ``safe_to_text`` is False until
    someone confirms it is safe.
    """

    __tablename__ = "enquiries"
    __table_args__ = (
        CheckConstraint(_in("status", ENQUIRY_STATUSES), name="status"),
        CheckConstraint(
            "(status = 'open' AND closed_at IS NULL) OR "
            "(status = 'closed' AND closed_at IS NOT NULL)",
            name="closed_at_matches_status",
        ),
        CheckConstraint(
            "preferred_contact IS NULL OR " + _in("preferred_contact", CONTACT_METHODS),
            name="preferred_contact",
        ),
    )

    id = Column(Integer, primary_key=True)
    reference = Column(String(64), nullable=False, unique=True)
    status = Column(String(16), nullable=False, default="open")
    opened_at = Column(UTCDateTime, nullable=False, default=utcnow)
    closed_at = Column(UTCDateTime, nullable=True)
    assigned_worker = Column(String(200), nullable=True)
    safe_to_text = Column(Boolean(create_constraint=False), nullable=False, default=False)
    safe_number = Column(String(32), nullable=True)
    safe_times = Column(String(200), nullable=True)
    preferred_contact = Column(String(32), nullable=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    #: May a text to the safe number name the council? Off unless the person
    #: said so: otherwise a neutral sender name (settings) is used.
    sms_name_allowed = Column(Boolean(create_constraint=False), nullable=False, default=False,
                              server_default=false())

    def __repr__(self) -> str:
        return f"<Enquiry {self.id} {self.reference!r} {self.status}>"


class ContactPreferenceVersion(Base):
    """One version of an enquiry's contact preferences, as they stood after a change. Append-only.

    The enquiry row holds the current position (what the survey sender reads);
    these rows are the history: who set what, when. The first is written when
    the enquiry is created.
    """

    __tablename__ = "contact_preference_versions"
    __append_only__ = True
    __table_args__ = (
        CheckConstraint(
            "preferred_contact IS NULL OR " + _in("preferred_contact", CONTACT_METHODS),
            name="preferred_contact",
        ),
        Index("ix_contact_preference_versions_enquiry_id_id", "enquiry_id", "id"),
    )

    id = Column(Integer, primary_key=True)
    enquiry_id = Column(ForeignKey("enquiries.id"), nullable=False)
    safe_to_text = Column(Boolean(create_constraint=False), nullable=False)
    safe_number = Column(String(32), nullable=True)
    safe_times = Column(String(200), nullable=True)
    preferred_contact = Column(String(32), nullable=True)
    sms_name_allowed = Column(Boolean(create_constraint=False), nullable=False)
    recorded_by = Column(String(200), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)


class EnquiryAssignment(Base):
    """One assignment of an enquiry to a worker (a portal username), or its unassignment. Append-only.

    ``Enquiry.assigned_worker`` is the current worker; these rows are the history.
    """

    __tablename__ = "enquiry_assignments"
    __append_only__ = True
    __table_args__ = (Index("ix_enquiry_assignments_enquiry_id_id", "enquiry_id", "id"),)

    id = Column(Integer, primary_key=True)
    enquiry_id = Column(ForeignKey("enquiries.id"), nullable=False)
    worker = Column(String(200), nullable=True)
    assigned_by = Column(String(200), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)


class Participant(Base):
    """Someone who speaks in an enquiry: the person, a representative or an advocate."""

    __tablename__ = "participants"
    __table_args__ = (CheckConstraint(_in("role", PARTICIPANT_ROLES), name="role"),)

    id = Column(Integer, primary_key=True)
    enquiry_id = Column(ForeignKey("enquiries.id"), nullable=False, index=True)
    role = Column(String(32), nullable=False)
    display_name = Column(String(200), nullable=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)

    enquiry = relationship(Enquiry)

    def __repr__(self) -> str:
        return f"<Participant {self.id} {self.role} enquiry={self.enquiry_id}>"


def validate_outcome_text(text) -> str:
    """Check the words of an outcome can be stored exactly; return them unchanged.

    Nothing is trimmed or cut. Length is counted in Unicode code points, which
    is what both SQLite's and PostgreSQL's ``length()`` count.
    """
    if not isinstance(text, str):
        raise OutcomeTextError("The outcome must be text.")
    if not text.strip():
        raise EmptyOutcomeText("The outcome has no words in it.")
    if len(text) > MAX_OUTCOME_CHARS:
        raise OutcomeTooLong(len(text), MAX_OUTCOME_CHARS)
    if "\x00" in text:
        raise OutcomeTextError("The outcome contains a NUL character, which cannot be stored.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise OutcomeTextError(
            "The outcome contains characters that are not valid Unicode and cannot be stored."
        ) from None
    return text


class DesiredOutcome(Base):
    """One version of one desired outcome, in the person's own words.

    All versions of one outcome share ``outcome_key``; version 1 is the
    original, each later version ``supersedes_id`` the one before it. A
    withdrawal is a version with ``status='withdrawn'`` that repeats the words
    it withdraws. Append-only.
    """

    __tablename__ = "desired_outcomes"
    __append_only__ = True
    __table_args__ = (
        CheckConstraint(_in("status", OUTCOME_STATUSES), name="status"),
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        CheckConstraint(
            "category IS NULL OR " + _in("category", OUTCOME_CATEGORIES), name="category"
        ),
        CheckConstraint(
            f"length(text) >= 1 AND length(text) <= {MAX_OUTCOME_CHARS}", name="text_length"
        ),
        CheckConstraint(
            "(version = 1 AND supersedes_id IS NULL) OR "
            "(version > 1 AND supersedes_id IS NOT NULL)",
            name="version_chain",
        ),
        UniqueConstraint("outcome_key", "version", name="uq_desired_outcomes_key_version"),
        UniqueConstraint("supersedes_id", name="uq_desired_outcomes_supersedes_id"),
        UniqueConstraint("source_ref", name="uq_desired_outcomes_source_ref"),
        Index("ix_desired_outcomes_enquiry_id_id", "enquiry_id", "id"),
    )

    id = Column(Integer, primary_key=True)
    enquiry_id = Column(ForeignKey("enquiries.id"), nullable=False)
    participant_id = Column(ForeignKey("participants.id"), nullable=False, index=True)
    outcome_key = Column(String(32), nullable=False, index=True)
    version = Column(Integer, nullable=False, default=1)
    supersedes_id = Column(ForeignKey("desired_outcomes.id"), nullable=True)
    status = Column(String(16), nullable=False, default="active")
    text = Column(Text, nullable=False)
    category = Column(String(32), nullable=True)
    recorded_by = Column(String(200), nullable=False)
    channel = Column(String(16), nullable=False)
    reason = Column(Text, nullable=True)
    source_ref = Column(String(200), nullable=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)

    enquiry = relationship(Enquiry)
    participant = relationship(Participant)

    @validates("text")
    def _validate_text(self, _key, value):
        return validate_outcome_text(value)

    @property
    def is_withdrawn(self) -> bool:
        return self.status == "withdrawn"

    @property
    def category_label(self) -> Optional[str]:
        return OUTCOME_CATEGORY_LABELS.get(self.category) if self.category else None

    def __repr__(self) -> str:
        return (
            f"<DesiredOutcome {self.id} key={self.outcome_key} v{self.version} {self.status}>"
        )


class OutcomeReview(Base):
    """How far outcomes were achieved, at the end of an enquiry. Append-only.

    ``outcome_key`` NULL: a view of the enquiry's outcomes as a whole (what SAC
    SG4a counts). Otherwise the view of one outcome. The latest row wins.
    """

    __tablename__ = "outcome_reviews"
    __append_only__ = True
    __table_args__ = (
        CheckConstraint(_in("achievement", ACHIEVEMENTS), name="achievement"),
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        Index("ix_outcome_reviews_enquiry_id_id", "enquiry_id", "id"),
    )

    id = Column(Integer, primary_key=True)
    enquiry_id = Column(ForeignKey("enquiries.id"), nullable=False)
    outcome_key = Column(String(32), nullable=True)
    participant_id = Column(ForeignKey("participants.id"), nullable=True, index=True)
    achievement = Column(String(16), nullable=False)
    recorded_by = Column(String(200), nullable=False)
    channel = Column(String(16), nullable=False)
    note = Column(Text, nullable=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    #: ``worker`` (the worker's judgement, what SG4a counts) or ``person``
    #: (the person's own view, from the feedback survey).
    view = Column(String(16), nullable=False, default="worker", server_default="worker")

    @validates("view")
    def _validate_view(self, _key, value):
        if value not in REVIEW_VIEWS:
            raise InvalidValue(f"Unknown review view {value!r}; use one of {', '.join(REVIEW_VIEWS)}.")
        return value


class AskedRecord(Base):
    """Whether the person (or their representative) was asked about desired outcomes.

    Feeds SAC SG4a when no outcome was expressed. Append-only; the latest row
    wins.
    """

    __tablename__ = "asked_records"
    __append_only__ = True
    __table_args__ = (
        CheckConstraint(_in("answer", ASKED_ANSWERS), name="answer"),
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        Index("ix_asked_records_enquiry_id_id", "enquiry_id", "id"),
    )

    id = Column(Integer, primary_key=True)
    enquiry_id = Column(ForeignKey("enquiries.id"), nullable=False)
    participant_id = Column(ForeignKey("participants.id"), nullable=True, index=True)
    answer = Column(String(16), nullable=False)
    recorded_by = Column(String(200), nullable=False)
    channel = Column(String(16), nullable=False)
    note = Column(Text, nullable=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)


class Consent(Base):
    """One decision about one thing (``what``), by one participant. Append-only.

    A withdrawal is a new row with ``decision='withdrawn'`` that supersedes the
    row before it; the latest row for (enquiry, participant, what) is the
    current position.
    """

    __tablename__ = "consents"
    __append_only__ = True
    __table_args__ = (
        CheckConstraint(_in("decision", CONSENT_DECISIONS), name="decision"),
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        UniqueConstraint("supersedes_id", name="uq_consents_supersedes_id"),
        Index("ix_consents_enquiry_id_what", "enquiry_id", "what"),
    )

    id = Column(Integer, primary_key=True)
    enquiry_id = Column(ForeignKey("enquiries.id"), nullable=False)
    participant_id = Column(ForeignKey("participants.id"), nullable=False, index=True)
    what = Column(String(64), nullable=False)
    decision = Column(String(16), nullable=False)
    decided_at = Column(UTCDateTime, nullable=False, default=utcnow)
    supersedes_id = Column(ForeignKey("consents.id"), nullable=True)
    recorded_by = Column(String(200), nullable=False)
    channel = Column(String(16), nullable=False)
    note = Column(Text, nullable=True)

    @property
    def given_at(self) -> Optional[datetime]:
        return self.decided_at if self.decision == "given" else None

    @property
    def withdrawn_at(self) -> Optional[datetime]:
        return self.decided_at if self.decision == "withdrawn" else None


class Invitation(Base):
    """A single-use, expiring invitation to an enquiry's conversation.

    Only hashes are stored: ``token_hash`` for the link, ``code_hash`` for the
    short code. ``used_by_hash`` is a hash of the client that redeemed it.
    ``revoked_at``: withdrawn by staff (a re-issued feedback link), set once;
    it then redeems nothing and the visit it opened is no longer linked.
    """

    __tablename__ = "invitations"
    __table_args__ = (
        UniqueConstraint("token_hash", name="uq_invitations_token_hash"),
        UniqueConstraint("code_hash", name="uq_invitations_code_hash"),
    )

    id = Column(Integer, primary_key=True)
    enquiry_id = Column(ForeignKey("enquiries.id"), nullable=False, index=True)
    token_hash = Column(String(64), nullable=False)
    code_hash = Column(String(64), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    created_by = Column(String(200), nullable=True)
    expires_at = Column(UTCDateTime, nullable=False)
    used_at = Column(UTCDateTime, nullable=True)
    used_by_hash = Column(String(64), nullable=True)
    attempts = Column(Integer, nullable=False, default=0)
    revoked_at = Column(UTCDateTime, nullable=True)

    enquiry = relationship(Enquiry)


class CodeFailure(Base):
    """One failed short-code attempt by one client, for rate limiting across processes."""

    __tablename__ = "invitation_code_failures"
    __table_args__ = (
        Index("ix_invitation_code_failures_client_time", "client_hash", "attempted_at"),
    )

    id = Column(Integer, primary_key=True)
    client_hash = Column(String(64), nullable=False)
    attempted_at = Column(UTCDateTime, nullable=False, index=True)


class InvitationLink(Base):
    """What an invitation opened: one conversation's link to an enquiry, for one visit.

    A row is written when an invitation is redeemed (at most one per invitation:
    a used code never links anything again). The link holds only while the
    conversation's Rasa session that redeemed it lasts (``session_ref``, a hash
    of that session's start) and for at most ``MSP_LINK_MAX_MINUTES``; reading
    back or changing outcomes checks it every time (``bot.records.links``).
    ``conversation_hash`` is a keyed hash of the conversation id, never the id.
    """

    __tablename__ = "invitation_links"
    __table_args__ = (
        UniqueConstraint("invitation_id", name="uq_invitation_links_invitation_id"),
        Index("ix_invitation_links_conversation", "conversation_hash", "session_ref"),
    )

    id = Column(Integer, primary_key=True)
    invitation_id = Column(ForeignKey("invitations.id"), nullable=False)
    enquiry_id = Column(ForeignKey("enquiries.id"), nullable=False, index=True)
    conversation_hash = Column(String(64), nullable=False)
    session_ref = Column(String(64), nullable=False)
    linked_at = Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = Column(UTCDateTime, nullable=False)

    invitation = relationship(Invitation)


class WidgetRevocation(Base):
    """A web widget session ended by the person (quick exit), kept until the token expires.

    ``session_hash`` is a keyed hash of the session's nonce (never the token,
    never the conversation id), so the table opens nothing by itself.
    """

    __tablename__ = "widget_revocations"
    __table_args__ = (UniqueConstraint("session_hash", name="uq_widget_revocations_session_hash"),)

    id = Column(Integer, primary_key=True)
    session_hash = Column(String(64), nullable=False)
    revoked_at = Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = Column(UTCDateTime, nullable=False, index=True)


# --- SMS (bot/sms, bot/channels/sms.py) ---------------------------------------

SMS_OPT_ACTIONS = ("out", "in")
SMS_OUTBOX_STATES = ("queued", "sending", "sent", "failed", "suppressed")


class SmsNumber(Base):
    """A phone number, stored once, in E.164 (``+447700900123``). Everything else points here."""

    __tablename__ = "sms_numbers"
    __table_args__ = (UniqueConstraint("e164", name="uq_sms_numbers_e164"),)

    id = Column(Integer, primary_key=True)
    e164 = Column(String(16), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self) -> str:  # never the number itself
        return f"<SmsNumber {self.id}>"


class SmsInbound(Base):
    """One inbound SMS as Twilio delivered it (signature checked), verbatim. Append-only.

    ``message_sid`` is unique: the same Twilio message delivered twice is handled once.
    """

    __tablename__ = "sms_inbound"
    __append_only__ = True
    __table_args__ = (UniqueConstraint("message_sid", name="uq_sms_inbound_message_sid"),)

    id = Column(Integer, primary_key=True)
    message_sid = Column(String(64), nullable=False)
    number_id = Column(ForeignKey("sms_numbers.id"), nullable=False, index=True)
    body = Column(Text, nullable=False)
    keyword = Column(String(16), nullable=True)
    received_at = Column(UTCDateTime, nullable=False, default=utcnow)


class SmsSurveyTurn(Base):
    """An inbound SMS on its way through the assistant (a survey reply or any other message it reads). Append-only.

    ``routed`` is written with the inbound message (the webhook has answered
    Twilio; the assistant has not read it yet); ``done`` once its replies are
    in the outbox. A routed row with no ``done`` row after a restart is
    finished then (``bot.channels.sms``).
    """

    __tablename__ = "sms_survey_turns"
    __append_only__ = True
    __table_args__ = (
        CheckConstraint(_in("state", ("routed", "done")), name="state"),
        UniqueConstraint("inbound_id", "state", name="uq_sms_survey_turns_inbound_id_state"),
    )

    id = Column(Integer, primary_key=True)
    inbound_id = Column(ForeignKey("sms_inbound.id"), nullable=False)
    # None: a message outside a survey (a request for a person, a live handoff,
    # the call-back questions; migration 0016).
    survey_id = Column(ForeignKey("feedback_surveys.id"), nullable=True)
    state = Column(String(8), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)


class SmsOptEvent(Base):
    """STOP (``out``) or START (``in``) from a number. Append-only; the latest row wins."""

    __tablename__ = "sms_opt_events"
    __append_only__ = True
    __table_args__ = (
        CheckConstraint(_in("action", SMS_OPT_ACTIONS), name="action"),
        Index("ix_sms_opt_events_number_id_id", "number_id", "id"),
    )

    id = Column(Integer, primary_key=True)
    number_id = Column(ForeignKey("sms_numbers.id"), nullable=False)
    action = Column(String(8), nullable=False)
    keyword = Column(String(16), nullable=False)
    source_ref = Column(String(64), nullable=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)


class SmsOutbox(Base):
    """One SMS to send: the durable outbox (``bot.records.sms``, ``bot.sms.sender``).

    ``state`` is the work queue's position, updated as the sender goes
    (queued -> sending -> sent | failed | suppressed); every step is also
    appended to ``sms_outbox_events``, which is the history. ``source_ref``
    is unique, so whatever causes a message (an inbound MessageSid and the
    kind of reply) can enqueue it only once.
    """

    __tablename__ = "sms_outbox"
    __table_args__ = (
        CheckConstraint(_in("state", SMS_OUTBOX_STATES), name="state"),
        UniqueConstraint("source_ref", name="uq_sms_outbox_source_ref"),
        UniqueConstraint("twilio_sid", name="uq_sms_outbox_twilio_sid"),
        Index("ix_sms_outbox_state_next", "state", "next_attempt_at"),
    )

    id = Column(Integer, primary_key=True)
    number_id = Column(ForeignKey("sms_numbers.id"), nullable=False, index=True)
    kind = Column(String(32), nullable=False)
    body = Column(Text, nullable=False)
    source_ref = Column(String(200), nullable=False)
    state = Column(String(16), nullable=False, default="queued")
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(UTCDateTime, nullable=False, default=utcnow)
    lease_until = Column(UTCDateTime, nullable=True)
    first_attempt_at = Column(UTCDateTime, nullable=True)
    twilio_sid = Column(String(64), nullable=True)
    last_error = Column(String(200), nullable=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)

    number = relationship(SmsNumber)


class SmsOutboxEvent(Base):
    """What happened to one outbox message, in order. Append-only.

    ``event``: queued, attempt, sent, reconciled, retry, failed, suppressed,
    status (a Twilio status callback: ``detail`` is Twilio's status).
    ``detail`` never holds the text or the number.
    """

    __tablename__ = "sms_outbox_events"
    __append_only__ = True
    __table_args__ = (Index("ix_sms_outbox_events_outbox_id_id", "outbox_id", "id"),)

    id = Column(Integer, primary_key=True)
    outbox_id = Column(ForeignKey("sms_outbox.id"), nullable=False)
    event = Column(String(16), nullable=False)
    detail = Column(String(200), nullable=True)
    twilio_sid = Column(String(64), nullable=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)


# --- End-of-enquiry feedback (bot/records/feedback.py, bot/surveys) ----------------

#: A survey's position. ``requested``: a web invitation was issued (the worker
#: hands it over); ``sent``: the first SMS is in the outbox; ``in_progress``:
#: the person has started; then one of the ends. ``refused``: the request was
#: refused (not safe to text, too late...), nothing was sent.
SURVEY_STATUSES = ("requested", "sent", "in_progress", "completed", "partial", "expired",
                   "opted_out", "refused")
SURVEY_OPEN_STATUSES = ("requested", "sent", "in_progress")
SURVEY_CHANNELS = ("web", "sms")


class FeedbackSurvey(Base):
    """One end-of-enquiry feedback survey: one participant, one enquiry.

    ``status`` is the current position and changes (the work queue of the
    scheduler); every change is appended to ``feedback_survey_events``, which
    is the history. Answers are ``feedback_answers`` rows (append-only).
    """

    __tablename__ = "feedback_surveys"
    __table_args__ = (
        CheckConstraint(_in("status", SURVEY_STATUSES), name="status"),
        CheckConstraint(_in("channel", SURVEY_CHANNELS), name="channel"),
        UniqueConstraint("enquiry_id", "participant_id", name="uq_feedback_surveys_enquiry_participant"),
        Index("ix_feedback_surveys_status_expires", "status", "expires_at"),
    )

    id = Column(Integer, primary_key=True)
    enquiry_id = Column(ForeignKey("enquiries.id"), nullable=False)
    participant_id = Column(ForeignKey("participants.id"), nullable=False)
    channel = Column(String(8), nullable=False)
    status = Column(String(16), nullable=False)
    number_id = Column(ForeignKey("sms_numbers.id"), nullable=True, index=True)
    invitation_id = Column(ForeignKey("invitations.id"), nullable=True, index=True)
    requested_by = Column(String(200), nullable=False)
    requested_at = Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = Column(UTCDateTime, nullable=False)
    reminders_sent = Column(Integer, nullable=False, default=0)
    last_contact_at = Column(UTCDateTime, nullable=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)

    enquiry = relationship(Enquiry)
    participant = relationship(Participant)

    @property
    def is_open(self) -> bool:
        return self.status in SURVEY_OPEN_STATUSES

    def __repr__(self) -> str:
        return f"<FeedbackSurvey {self.id} enquiry={self.enquiry_id} {self.channel} {self.status}>"


class FeedbackSurveyEvent(Base):
    """One change of a survey's status, with the reason. Append-only."""

    __tablename__ = "feedback_survey_events"
    __append_only__ = True
    __table_args__ = (
        CheckConstraint(_in("status", SURVEY_STATUSES), name="status"),
        Index("ix_feedback_survey_events_survey_id_id", "survey_id", "id"),
    )

    id = Column(Integer, primary_key=True)
    survey_id = Column(ForeignKey("feedback_surveys.id"), nullable=False)
    status = Column(String(16), nullable=False)
    detail = Column(String(300), nullable=True)
    recorded_by = Column(String(200), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)


class FeedbackAnswer(Base):
    """One answer to one survey question: the words as sent, and the coded value. Append-only.

    ``question`` is the question's key (``goals``, ``safe_now``, ``outcome``,
    ``anything_else``...); ``outcome_key`` names the desired outcome read back.
    ``value`` is the coded answer (``yes``, ``partly``, ``skipped``...). A
    later answer to the same question is a new row; the latest counts.
    ``source_ref`` (the message id) is unique: a message delivered twice is
    recorded once.
    """

    __tablename__ = "feedback_answers"
    __append_only__ = True
    __table_args__ = (
        UniqueConstraint("source_ref", name="uq_feedback_answers_source_ref"),
        Index("ix_feedback_answers_survey_id_id", "survey_id", "id"),
    )

    id = Column(Integer, primary_key=True)
    survey_id = Column(ForeignKey("feedback_surveys.id"), nullable=False)
    question = Column(String(32), nullable=False)
    outcome_key = Column(String(32), nullable=True)
    text = Column(Text, nullable=True)
    value = Column(String(32), nullable=False)
    review_id = Column(ForeignKey("outcome_reviews.id"), nullable=True)
    channel = Column(String(16), nullable=False)
    source_ref = Column(String(200), nullable=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)


# --- Staff portal (bot/portal, bot/records/staff.py, bot/records/audit.py) ----

#: practitioner: enquiries assigned to them or their team, and the conversations
#: linked to those; lead: every enquiry and conversation, reports; auditor:
#: read-only, personal details redacted, the audit log; admin: accounts, no
#: case content.
STAFF_ROLES = ("practitioner", "lead", "auditor", "admin")
STAFF_ROLE_LABELS = {
    "practitioner": "Practitioner",
    "lead": "Safeguarding lead",
    "auditor": "Auditor",
    "admin": "Administrator",
}
#: Where a portal session is in signing in: ``anonymous`` (only the sign-in
#: forms), ``password`` (password right, second factor still to give),
#: ``enrol`` (password right, no second factor set up yet: only enrolment),
#: ``full`` (signed in).
SESSION_STAGES = ("anonymous", "password", "enrol", "full")


class StaffUser(Base):
    """A member of staff who signs in to the portal. Never deleted: deactivated.

    ``username`` is kept lower-case. ``password_hash`` is argon2id. The TOTP
    secret is set when enrolment is confirmed, encrypted (``bot.records.totp_keys``:
    ``totp1:<key id>:...``, never the secret itself); ``totp_last_step`` is the
    time step of the last code accepted, so a code is never accepted twice.
    """

    __tablename__ = "staff_users"
    __table_args__ = (
        CheckConstraint(_in("role", STAFF_ROLES), name="role"),
        UniqueConstraint("username", name="uq_staff_users_username"),
    )

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False)
    display_name = Column(String(200), nullable=False)
    role = Column(String(16), nullable=False)
    team = Column(String(64), nullable=True)
    password_hash = Column(String(255), nullable=False)
    password_changed_at = Column(UTCDateTime, nullable=False, default=utcnow)
    totp_secret = Column(String(255), nullable=True)  # encrypted
    totp_enrolled_at = Column(UTCDateTime, nullable=True)
    totp_last_step = Column(Integer, nullable=True)
    active = Column(Boolean(create_constraint=False), nullable=False, default=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    created_by_id = Column(ForeignKey("staff_users.id"), nullable=True)
    deactivated_at = Column(UTCDateTime, nullable=True)

    @property
    def role_label(self) -> str:
        return STAFF_ROLE_LABELS.get(self.role, self.role)

    @property
    def enrolled(self) -> bool:
        return self.totp_secret is not None and self.totp_enrolled_at is not None

    def __repr__(self) -> str:
        return f"<StaffUser {self.id} {self.role}>"


class StaffRecoveryCode(Base):
    """One single-use recovery code (used instead of a TOTP code). Only its hash is kept."""

    __tablename__ = "staff_recovery_codes"
    __table_args__ = (UniqueConstraint("code_hash", name="uq_staff_recovery_codes_code_hash"),)

    id = Column(Integer, primary_key=True)
    user_id = Column(ForeignKey("staff_users.id"), nullable=False, index=True)
    code_hash = Column(String(64), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    used_at = Column(UTCDateTime, nullable=True)


class StaffInvitation(Base):
    """An administrator's invitation to create a staff account: single use, expiring.

    Only the hash of the link's token is kept; the link is shown once.
    """

    __tablename__ = "staff_invitations"
    __table_args__ = (
        CheckConstraint(_in("role", STAFF_ROLES), name="role"),
        UniqueConstraint("token_hash", name="uq_staff_invitations_token_hash"),
    )

    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False)
    role = Column(String(16), nullable=False)
    team = Column(String(64), nullable=True)
    note = Column(String(200), nullable=True)
    created_by_id = Column(ForeignKey("staff_users.id"), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = Column(UTCDateTime, nullable=False)
    used_at = Column(UTCDateTime, nullable=True)
    used_by_id = Column(ForeignKey("staff_users.id"), nullable=True)
    revoked_at = Column(UTCDateTime, nullable=True)


class StaffSession(Base):
    """A portal session, kept here (server side). The cookie holds a random token; only its hash is kept.

    Deleting the row ends the session everywhere: a copied cookie stops working.
    """

    __tablename__ = "staff_sessions"
    __table_args__ = (
        CheckConstraint(_in("stage", SESSION_STAGES), name="stage"),
        UniqueConstraint("token_hash", name="uq_staff_sessions_token_hash"),
    )

    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False)
    user_id = Column(ForeignKey("staff_users.id"), nullable=True, index=True)
    stage = Column(String(16), nullable=False)
    csrf_token = Column(String(64), nullable=False)
    client = Column(String(64), nullable=True)
    pending_totp_secret = Column(String(255), nullable=True)  # encrypted, during enrolment
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    last_seen_at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    expires_at = Column(UTCDateTime, nullable=False)


class StaffLoginFailure(Base):
    """One failed sign-in step (password, code), for back-off per account and per client.

    ``account_key`` is a hash of the name tried (it may be a password typed in
    the wrong box); names that match no account count the same way.
    """

    __tablename__ = "staff_login_failures"
    __table_args__ = (
        Index("ix_staff_login_failures_account_time", "account_key", "attempted_at"),
        Index("ix_staff_login_failures_client_time", "client", "attempted_at"),
    )

    id = Column(Integer, primary_key=True)
    account_key = Column(String(64), nullable=False)
    client = Column(String(64), nullable=False)
    attempted_at = Column(UTCDateTime, nullable=False, default=utcnow)


class AuditEvent(Base):
    """Who looked at or did what, when, from where. Append-only (triggers in 0005 too).

    ``target`` names the records (``conversation:web-…``, ``user:3``);
    ``detail`` holds the search terms and filters, as JSON.
    """

    __tablename__ = "audit_log"
    __append_only__ = True
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_user_id_id", "user_id", "id"),
        Index("ix_audit_log_action_id", "action", "id"),
    )

    id = Column(Integer, primary_key=True)
    at = Column(UTCDateTime, nullable=False, default=utcnow)
    user_id = Column(ForeignKey("staff_users.id"), nullable=True)
    username = Column(String(64), nullable=True)
    role = Column(String(16), nullable=True)
    action = Column(String(64), nullable=False)
    outcome = Column(String(16), nullable=False, default="ok")
    target = Column(Text, nullable=True)
    detail = Column(Text, nullable=True)
    client = Column(String(64), nullable=True)


# --- Retention (bot/records/retention.py) ------------------------------------

RETENTION_KINDS = ("purge", "erasure")


class RetentionLog(Base):
    """What a purge or an erasure removed: one row per conversation. Append-only.

    Never the conversation id or anything typed: ``conversation_hash`` is the
    keyed hash the records already use for it (``InvitationLink``), and the
    rest are counts. Who asked for an erasure, when and why is in the audit log.
    """

    __tablename__ = "retention_log"
    __append_only__ = True
    __table_args__ = (
        CheckConstraint(_in("kind", RETENTION_KINDS), name="kind"),
        Index("ix_retention_log_at", "at"),
    )

    id = Column(Integer, primary_key=True)
    at = Column(UTCDateTime, nullable=False, default=utcnow)
    kind = Column(String(16), nullable=False)
    conversation_hash = Column(String(64), nullable=False)
    events = Column(Integer, nullable=False)
    links = Column(Integer, nullable=False)
    code_failures = Column(Integer, nullable=False)
    #: Handoffs (with their messages), call-back requests and declines, and advocacy referrals made in the
    #: chat (with their answers, consents and deliveries) that went with the conversation.
    handoffs = Column(Integer, nullable=False, default=0, server_default="0")
    callbacks = Column(Integer, nullable=False, default=0, server_default="0")
    referrals = Column(Integer, nullable=False, default=0, server_default="0")
    #: The day (UTC) of the conversation's last event, for "how old was it".
    last_event_day = Column(String(10), nullable=True)
    #: ``scheduler``, ``msp`` or the portal username of the administrator.
    recorded_by = Column(String(200), nullable=False)


class RetentionPending(Base):
    """A conversation a purge or erasure has started to remove and not yet finished.

    Written before anything is deleted and removed, with the log row written,
    once the conversation and the rows tied to it are gone; a run that stops in
    between leaves it here, and the next run finishes it. The only place the
    id itself is kept, and only for that time.
    """

    __tablename__ = "retention_pending"
    __table_args__ = (
        CheckConstraint(_in("kind", RETENTION_KINDS), name="kind"),
        UniqueConstraint("sender_id", name="uq_retention_pending_sender_id"),
    )

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False)
    kind = Column(String(16), nullable=False)
    events_found = Column(Integer, nullable=False, default=0)
    last_event_at = Column(UTCDateTime, nullable=True)
    #: For a purge: the cut-off it was decided with (events newer than this keep the conversation).
    cutoff = Column(UTCDateTime, nullable=True)
    recorded_by = Column(String(200), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    #: The start of the ``source_ref`` of what this conversation's chat made in the advocacy tables
    #: (``bot.records.advocacy.chat_ref``): the database lets those rows be deleted while it is here.
    chat_ref = Column(String(64), nullable=True)


class RetentionLock(Base):
    """At most one purge at a time: the row ``purge`` is held by one run until ``expires_at``.

    A run renews it as it goes; a run that died lets it lapse, and the next one takes it.
    """

    __tablename__ = "retention_locks"

    name = Column(String(32), primary_key=True)
    holder = Column(String(64), nullable=True)
    expires_at = Column(UTCDateTime, nullable=True)


# --- Independent advocacy referrals (bot/records/advocacy.py, bot/advocacy) ---

#: The four difficulties (Care Act s.67(4)), then the other questions, in the order asked.
ADVOCACY_DIFFICULTIES = ("understand", "remember", "weigh_up", "say_what_they_want")
ADVOCACY_QUESTIONS = ADVOCACY_DIFFICULTIES + ("support", "contact", "safe_times")
ADVOCACY_ANSWERERS = ("person", "representative", "staff")
ADVOCACY_SOURCES = ("chat", "staff")
ADVOCACY_DELIVERY_STATES = ("queued", "sending", "sent", "failed", "acknowledged", "withdrawn")
#: What a delivery carries: the referral, or the notice that consent to it was withdrawn.
ADVOCACY_DELIVERY_KINDS = ("referral", "withdrawal")
#: Who a call back or a referral is for: the one asking (a carer for themselves too), or someone else.
FOR_WHOM = ("self", "other")
ADVOCACY_CHANNELS = ("email", "webhook")


class AdvocacyReferral(Base):
    """A referral to the independent advocacy provider, made with consent. Append-only.

    ``reference`` (random, 32 hex) is the idempotency key the provider sees: the
    email's Message-ID and the webhook's ``Idempotency-Key``. ``source_ref`` is
    unique, so whatever makes a referral (a chat turn, a portal form) makes it once.
    What the person said is in ``advocacy_answers``, verbatim; never a judgement of capacity.
    """

    __tablename__ = "advocacy_referrals"
    __append_only__ = True
    __table_args__ = (
        CheckConstraint(_in("source", ADVOCACY_SOURCES), name="source"),
        CheckConstraint(_in("answered_by", ADVOCACY_ANSWERERS), name="answered_by"),
        UniqueConstraint("reference", name="uq_advocacy_referrals_reference"),
        UniqueConstraint("source_ref", name="uq_advocacy_referrals_source_ref"),
    )

    id = Column(Integer, primary_key=True)
    reference = Column(String(32), nullable=False, default=lambda: uuid.uuid4().hex)
    source_ref = Column(String(200), nullable=False)
    enquiry_id = Column(ForeignKey("enquiries.id"), nullable=True, index=True)
    source = Column(String(16), nullable=False)
    answered_by = Column(String(16), nullable=False)
    recorded_by = Column(String(200), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    #: ``self``: the referral is for the one answering (a carer asking for themselves is answered_by
    #: representative, for_whom self); ``other``: for someone else. NULL: made before it was recorded.
    for_whom = Column(String(16), nullable=True)

    enquiry = relationship(Enquiry)


class AdvocacyAnswer(Base):
    """One answer, exactly as given, to one screening question of one referral. Append-only."""

    __tablename__ = "advocacy_answers"
    __append_only__ = True
    __table_args__ = (
        CheckConstraint(_in("question", ADVOCACY_QUESTIONS), name="question"),
        Index("ix_advocacy_answers_referral_id_id", "referral_id", "id"),
    )

    id = Column(Integer, primary_key=True)
    referral_id = Column(ForeignKey("advocacy_referrals.id"), nullable=False)
    question = Column(String(32), nullable=False)
    text = Column(Text, nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)


class AdvocacyConsent(Base):
    """A decision about sending a referral to the provider. Append-only.

    A refusal is recorded with no referral (``referral_id`` NULL) and nothing
    of what was said; consent given is the referral's first consent row.
    ``words`` is what the person (or representative) said, verbatim.
    """

    __tablename__ = "advocacy_consents"
    __append_only__ = True
    __table_args__ = (
        CheckConstraint(_in("decision", CONSENT_DECISIONS), name="decision"),
        CheckConstraint(_in("given_by", ADVOCACY_ANSWERERS), name="given_by"),
    )

    id = Column(Integer, primary_key=True)
    referral_id = Column(ForeignKey("advocacy_referrals.id"), nullable=True, index=True)
    enquiry_id = Column(ForeignKey("enquiries.id"), nullable=True, index=True)
    decision = Column(String(16), nullable=False)
    given_by = Column(String(16), nullable=False)
    words = Column(Text, nullable=True)
    recorded_by = Column(String(200), nullable=False)
    channel = Column(String(16), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    #: The chat turn a refusal or withdrawal came from (``chat:<conversation digest>:<message>``), so it
    #: goes with the conversation; NULL for staff and for rows made before it was recorded.
    source_ref = Column(String(200), nullable=True, index=True)


class AdvocacyDelivery(Base):
    """The durable outbox for one referral: one row per referral, its state the work queue.

    queued -> sending -> sent | failed; sent -> acknowledged (the provider said
    it has it); a resend puts a failed or sent row back to queued; consent
    withdrawn makes any of them ``withdrawn`` (never sent again). Every step is
    appended to ``advocacy_delivery_events``. ``kind`` ``withdrawal``: the
    notice to the provider that consent was withdrawn, a second row of the
    same referral going through the same states.
    """

    __tablename__ = "advocacy_deliveries"
    __table_args__ = (
        CheckConstraint(_in("state", ADVOCACY_DELIVERY_STATES), name="state"),
        CheckConstraint(_in("channel", ADVOCACY_CHANNELS), name="channel"),
        CheckConstraint(_in("kind", ADVOCACY_DELIVERY_KINDS), name="kind"),
        UniqueConstraint("referral_id", "kind", name="uq_advocacy_deliveries_referral_id_kind"),
        Index("ix_advocacy_deliveries_state_next", "state", "next_attempt_at"),
    )

    id = Column(Integer, primary_key=True)
    referral_id = Column(ForeignKey("advocacy_referrals.id"), nullable=False)
    channel = Column(String(16), nullable=False)
    state = Column(String(16), nullable=False, default="queued")
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(UTCDateTime, nullable=False, default=utcnow)
    lease_until = Column(UTCDateTime, nullable=True)
    first_attempt_at = Column(UTCDateTime, nullable=True)
    last_error = Column(String(200), nullable=True)
    alerted = Column(Boolean, nullable=False, default=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    kind = Column(String(16), nullable=False, default="referral", server_default="referral")

    referral = relationship(AdvocacyReferral)


class AdvocacyDeliveryEvent(Base):
    """What happened to one delivery, in order. Append-only. Never what the person said.

    ``event``: queued, attempt, sent, retry, failed, alerted, alert_failed, resend, acknowledged.
    """

    __tablename__ = "advocacy_delivery_events"
    __append_only__ = True
    __table_args__ = (Index("ix_advocacy_delivery_events_delivery_id_id", "delivery_id", "id"),)

    id = Column(Integer, primary_key=True)
    delivery_id = Column(ForeignKey("advocacy_deliveries.id"), nullable=False)
    event = Column(String(16), nullable=False)
    detail = Column(String(200), nullable=True)
    recorded_by = Column(String(200), nullable=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)


HANDOFF_STATUSES = ("waiting", "claimed", "handed_back", "closed", "left", "callback_requested")
#: A handoff in one of these is live: the assistant stays quiet and the console shows it.
HANDOFF_ACTIVE_STATUSES = ("waiting", "claimed")
HANDOFF_AUTHORS = ("person", "worker", "automatic")
#: What an automatic message was: the danger reply (the console's alert) or the "nobody yet" notice.
HANDOFF_AUTOMATIC_KINDS = ("danger", "timeout")
MAX_HANDOFF_TEXT_CHARS = 20000
LIVE_HANDOFF = "status IN ('waiting', 'claimed')"


class Handoff(Base):
    """A conversation handed to a member of staff, from the request to its end.

    ``status`` is the current position: waiting (in the queue) -> claimed (one
    worker is in the chat) -> handed_back (the assistant carries on) or
    closed; left (the person went) and callback_requested end it too. A claim
    is one conditional UPDATE (``WHERE status = 'waiting'``), so of two
    workers claiming at once exactly one wins (``bot.records.handoffs``).
    ``sender_id`` is the tracker's conversation id; at most one handoff of a
    conversation is live at a time (a partial unique index).
    """

    __tablename__ = "handoffs"
    __table_args__ = (
        CheckConstraint(_in("status", HANDOFF_STATUSES), name="status"),
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        Index("ix_handoffs_sender_id", "sender_id"),
        Index("ix_handoffs_status_requested_at", "status", "requested_at"),
        Index("uq_handoffs_live_sender_id", "sender_id", unique=True,
              sqlite_where=sql_text(LIVE_HANDOFF), postgresql_where=sql_text(LIVE_HANDOFF)),
    )

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False)
    channel = Column(String(16), nullable=False)
    status = Column(String(24), nullable=False, default="waiting")
    requested_at = Column(UTCDateTime, nullable=False, default=utcnow)
    claimed_at = Column(UTCDateTime, nullable=True)
    ended_at = Column(UTCDateTime, nullable=True)
    claimed_by_id = Column(ForeignKey("staff_users.id"), nullable=True)
    # When the person was told that nobody has claimed it yet (bot/handoff/timeouts.py); once only.
    timeout_told_at = Column(UTCDateTime, nullable=True)
    # When the duty team was emailed that someone is waiting (bot/handoff/timeouts.py); once only.
    duty_told_at = Column(UTCDateTime, nullable=True)
    # A process took the job of that email until then; if it died before sending, the lease ends and the
    # next round takes it again (bot.records.handoffs.claim_duty_email).
    duty_lease_until = Column(UTCDateTime, nullable=True)

    claimed_by = relationship("StaffUser")


class HandoffMessage(Base):
    """One message of a handoff, exactly as written, and who wrote it. Append-only.

    ``author``: person (what they typed), worker (a member of staff, named by
    ``staff_user_id``) or automatic (what the assistant said by itself during
    the handoff; ``kind`` danger: the 999 reply, which the console shows as an
    alert; timeout: the notice that nobody has claimed it yet).
    """

    __tablename__ = "handoff_messages"
    __append_only__ = True
    __table_args__ = (
        CheckConstraint(_in("author", HANDOFF_AUTHORS), name="author"),
        CheckConstraint("kind IS NULL OR " + _in("kind", HANDOFF_AUTOMATIC_KINDS), name="kind"),
        Index("ix_handoff_messages_handoff_id_id", "handoff_id", "id"),
    )

    id = Column(Integer, primary_key=True)
    handoff_id = Column(ForeignKey("handoffs.id"), nullable=False)
    author = Column(String(16), nullable=False)
    staff_user_id = Column(ForeignKey("staff_users.id"), nullable=True)
    text = Column(Text, nullable=False)
    # The tracker's message id of a person's message: the same message is stored once.
    message_id = Column(String(255), nullable=True)
    kind = Column(String(16), nullable=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)


#: Who asked for a call back: the person, or someone for them (a representative).
CALLBACK_ASKERS = ("person", "representative")
#: What happened to a call-back request, in order (``callback_events``). ``requested`` opens it; the duty
#: team's email is claimed (``duty_claimed``, one ``attempt`` number per try), then ``duty_emailed`` or
#: ``duty_failed``; a worker records ``called`` or ``not_reached`` (as often as they try).
CALLBACK_EVENTS = ("requested", "duty_claimed", "duty_emailed", "duty_failed", "called", "not_reached")
#: The events a worker records; the newest of these (or ``requested``) is the request's status.
CALLBACK_OUTCOMES = ("called", "not_reached")
MAX_CALLBACK_ANSWER_CHARS = 2000


class CallbackRequest(Base):
    """A request to be called back, with every answer exactly as given. Append-only.

    Made in the chat when nobody could chat (nobody claimed in time, out of
    hours, or a channel a worker cannot reach). ``sender_id`` is the
    conversation; ``handoff_id`` the handoff it came from, if any.
    ``source_ref`` is unique, so one chat turn makes one request. ``number``
    is the number to call (E.164, read from ``number_words``); the other
    columns are the person's words. What happened next is in ``callback_events``.
    """

    __tablename__ = "callback_requests"
    __append_only__ = True
    __table_args__ = (
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        CheckConstraint(_in("asked_by", CALLBACK_ASKERS), name="asked_by"),
        UniqueConstraint("source_ref", name="uq_callback_requests_source_ref"),
    )

    id = Column(Integer, primary_key=True)
    source_ref = Column(String(200), nullable=False)
    sender_id = Column(String(255), nullable=False, index=True)
    handoff_id = Column(ForeignKey("handoffs.id"), nullable=True, index=True)
    channel = Column(String(16), nullable=False)
    asked_by = Column(String(16), nullable=False)
    safe_words = Column(Text, nullable=False)
    number_words = Column(Text, nullable=False)
    number = Column(String(16), nullable=False)
    safe_times = Column(Text, nullable=False)
    message_words = Column(Text, nullable=False)
    leave_message = Column(Boolean, nullable=False)
    others_words = Column(Text, nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    #: ``self``: the call is for the one asking (``asked_by`` representative and ``self``: a carer who
    #: wants a call for themselves); ``other``: for someone else. NULL: made before it was recorded.
    for_whom = Column(String(16), nullable=True)

    handoff = relationship(Handoff)


class CallbackEvent(Base):
    """One step in the life of a call-back request. Append-only; never what the person said.

    ``attempt`` numbers the duty email's tries (unique per request with the
    event, so of two processes claiming the same try exactly one row goes in);
    it is empty for the other events, which may repeat.
    """

    __tablename__ = "callback_events"
    __append_only__ = True
    __table_args__ = (
        CheckConstraint(_in("event", CALLBACK_EVENTS), name="event"),
        UniqueConstraint("request_id", "event", "attempt", name="uq_callback_events_request_id"),
        Index("ix_callback_events_request_id_id", "request_id", "id"),
    )

    id = Column(Integer, primary_key=True)
    request_id = Column(ForeignKey("callback_requests.id"), nullable=False)
    event = Column(String(16), nullable=False)
    attempt = Column(Integer, nullable=True)
    staff_user_id = Column(ForeignKey("staff_users.id"), nullable=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)

    staff_user = relationship("StaffUser")


#: How a call back offered ended without a request: not safe to call, or the person stopped the questions.
CALLBACK_DECLINE_OUTCOMES = ("not_safe", "cancelled")


class CallbackDecline(Base):
    """A call back that was not asked for after all: not safe to call, or cancelled. Append-only.

    ``words`` is the person's message that ended it, exactly as typed;
    ``question`` the question they were answering. Listed with the requests
    in the portal; the duty team is not emailed (there is nobody to call).
    """

    __tablename__ = "callback_declines"
    __append_only__ = True
    __table_args__ = (
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        CheckConstraint(_in("asked_by", CALLBACK_ASKERS), name="asked_by"),
        CheckConstraint(_in("outcome", CALLBACK_DECLINE_OUTCOMES), name="outcome"),
        UniqueConstraint("source_ref", name="uq_callback_declines_source_ref"),
    )

    id = Column(Integer, primary_key=True)
    source_ref = Column(String(200), nullable=False)
    sender_id = Column(String(255), nullable=False, index=True)
    handoff_id = Column(ForeignKey("handoffs.id"), nullable=True)
    channel = Column(String(16), nullable=False)
    asked_by = Column(String(16), nullable=False)
    for_whom = Column(String(16), nullable=True)
    outcome = Column(String(16), nullable=False)
    question = Column(String(32), nullable=True)
    words = Column(Text, nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)


APPEND_ONLY_MODELS = (DesiredOutcome, OutcomeReview, AskedRecord, Consent, SmsInbound, SmsOptEvent, SmsSurveyTurn,
                      SmsOutboxEvent, FeedbackSurveyEvent, FeedbackAnswer, AuditEvent, ContactPreferenceVersion,
                      EnquiryAssignment, RetentionLog, AdvocacyReferral, AdvocacyAnswer, AdvocacyConsent,
                      AdvocacyDeliveryEvent, HandoffMessage, CallbackRequest, CallbackEvent, CallbackDecline)
APPEND_ONLY_TABLES = frozenset(m.__tablename__ for m in APPEND_ONLY_MODELS)


# --- append-only guards -----------------------------------------------------


def _refuse_history_changes(session: Session, _flush_context, _instances) -> None:
    for obj in session.deleted:
        if getattr(obj, "__append_only__", False):
            raise AppendOnlyError(
                f"{type(obj).__name__} rows are kept as history and cannot be deleted."
            )
    for obj in session.dirty:
        if not getattr(obj, "__append_only__", False):
            continue
        state = inspect(obj)
        changed = [
            attr.key
            for attr in state.mapper.column_attrs
            if state.attrs[attr.key].history.has_changes()
        ]
        if changed:
            raise AppendOnlyError(
                f"{type(obj).__name__} rows are kept as history and cannot be changed "
                f"(tried to change {', '.join(sorted(changed))}). Record a new row instead."
            )


event.listen(Session, "before_flush", _refuse_history_changes)


#: The execution option of the retention purge's and erasure's DELETEs (``bot.records.retention``): the
#: only statements let past this guard. The database's triggers still refuse them unless a
#: ``retention_pending`` row names the rows' conversation.
RETENTION_DELETE = "msp_retention_delete"


def _refuse_history_statements(conn, clauseelement, multiparams, params, execution_options):
    if isinstance(clauseelement, Delete) and (execution_options or {}).get(RETENTION_DELETE):
        return
    if isinstance(clauseelement, (Update, Delete)):
        table = getattr(clauseelement, "table", None)
        name = getattr(table, "name", None)
        if name in APPEND_ONLY_TABLES:
            verb = "UPDATE" if isinstance(clauseelement, Update) else "DELETE"
            raise AppendOnlyError(f"{verb} on {name} is refused: the table is append-only.")


def install_core_guard(engine: Engine) -> None:
    """Refuse Core and ORM-bulk UPDATE/DELETE on append-only tables for ``engine``."""
    if not event.contains(engine, "before_execute", _refuse_history_statements):
        event.listen(engine, "before_execute", _refuse_history_statements)
