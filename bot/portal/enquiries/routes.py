"""Enquiries: the list, one enquiry with all its history, and what a worker does to it.

Who sees what. Leads see and change every enquiry; practitioners only those
assigned to them or to a member of their team (any other is "not found", as
if it did not exist); auditors read every enquiry with personal details
redacted and change nothing; administrators see no case content.

Every change calls the same ``bot.records`` (and ``bot.surveys``) function
the ``msp`` command calls, and every one of them appends: contact
preferences, assignments, "were they asked", reviews and outcome versions are
history that nothing here overwrites. Every list and view is audited before it
is shown, every change after it is committed.
"""
from __future__ import annotations

from typing import Callable, Dict, Optional, Set

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from bot.records import enquiries, outcomes, staff
from bot.records.enquiry_view import EnquiryDetail, enquiry_detail, outcome_action
from bot.records.errors import RecordsError
from bot.records.invitations import DEFAULT_DAYS, MAX_DAYS, create_invitation, invitation_link
from bot.records.models import (
    ACHIEVEMENTS,
    ASKED_ANSWERS,
    CONTACT_METHODS,
    ENQUIRY_STATUSES,
    MAX_NOTE_CHARS,
    OUTCOME_CATEGORY_LABELS,
    PARTICIPANT_ROLES,
)
from bot.surveys.request import REISSUABLE, reissue_web_invitation, request_feedback
from bot.text.redact import LABELS, redactor

from .. import inputs
from ..access import audit, config, reading, roles, writing

bp = Blueprint("enquiries", __name__, url_prefix="/enquiries")

READERS = ("practitioner", "lead", "auditor")
EDITORS = ("practitioner", "lead")
ENQUIRY = "/<int(max=2147483647):enquiry_id>"
MAX_PAGE = 100000
YES_NO = ("yes", "no")
FEEDBACK_CHANNELS = ("web", "sms")
NAME_REDACTED = "[name]"

DONE = {
    "created": "The enquiry is created.",
    "assigned": "The enquiry is assigned. The earlier assignments are kept below.",
    "contact": "The contact preferences are changed. The earlier ones are kept below.",
    "sg4a": "Your answers are recorded. Earlier answers are kept; the latest counts.",
    "closed": "The enquiry is closed. You can now ask for end-of-enquiry feedback.",
    "feedback-sms": "The feedback text is queued to the safe number.",
}
ASKED_LABELS = {"yes": "Yes, asked", "no": "No, not asked", "dont_know": "Don't know"}
ACHIEVEMENT_LABELS = {"fully": "Fully achieved", "partially": "Partially achieved", "not_achieved": "Not achieved"}
CONTACT_LABELS = {"phone": "Phone call", "sms": "Text message", "email": "Email", "letter": "Letter",
                  "visit": "Visit", "representative": "Through their representative"}


# --- who may see which enquiry ------------------------------------------------------------------


def _redacting() -> bool:
    return g.user.role == "auditor"


def _workers_in_scope() -> Optional[Set[str]]:
    """Usernames whose enquiries this member of staff may see; None: every enquiry."""
    user = g.user
    if user.role in ("lead", "auditor"):
        return None
    with reading() as db:
        return {user.username} | staff.team_usernames(db, user.team)


def _detail(enquiry_id: int) -> EnquiryDetail:
    """The enquiry, if this member of staff may see it; otherwise 404 (and the refusal audited)."""
    with reading() as db:
        try:
            detail = enquiry_detail(db, enquiry_id)
        except RecordsError:
            detail = None
    workers = _workers_in_scope()
    if detail is None or (workers is not None and not enquiries.is_assigned_to(detail.enquiry, workers)):
        if detail is not None:
            audit("enquiry.view", target=f"enquiry:{enquiry_id}", outcome="refused")
        abort(404, description="There is no enquiry with that number that you can see.")
    return detail


def _assignable() -> Dict[str, str]:
    """Username -> "Name (username)" of the active practitioners and leads."""
    with reading() as db:
        return {u.username: f"{u.display_name} ({u.username})" for u in staff.list_users(db)
                if u.active and u.role in EDITORS}


# --- pages ---------------------------------------------------------------------------------


@bp.route("/")
@roles(*READERS)
def index():
    status = inputs.choice("status", ENQUIRY_STATUSES, label="Status")
    reference = inputs.text("reference", label="Reference", max_chars=64)
    page = inputs.integer("page", label="Page", default=1, minimum=1, maximum=MAX_PAGE)
    size = config().page_size
    workers = _workers_in_scope()
    with reading() as db:
        result = enquiries.list_enquiries(db, workers=workers, status=status, reference=reference, limit=size,
                                          offset=(page - 1) * size)
    typed = {key: request.args.get(key) for key in ("status", "reference") if request.args.get(key)}
    audit("enquiry.list", target=",".join(f"enquiry:{e.id}" for e in result.rows) or None,
          detail=dict(typed, page=page))
    pages = max(1, -(-result.total // size))
    return render_template("enquiries/index.html", rows=result.rows, total=result.total, page=page, pages=pages,
                           statuses=ENQUIRY_STATUSES, form={"status": status or "", "reference": reference or ""},
                           scoped=workers is not None,
                           page_url=lambda n: url_for("enquiries.index", page=n, **typed))


def _contact_form() -> Dict[str, object]:
    """The contact-preference fields of a form, checked (``BadInput`` when one is not right)."""
    return {
        "safe_to_text": inputs.choice("safe_to_text", YES_NO, label="Safe to text", form=True, default="no") == "yes",
        "safe_number": inputs.text("safe_number", label="Safe number", max_chars=32, form=True),
        "safe_times": inputs.text("safe_times", label="Safe times", max_chars=200, form=True),
        "preferred_contact": inputs.choice("preferred_contact", CONTACT_METHODS, label="Preferred contact",
                                           form=True),
        "sms_name_allowed": inputs.choice("sms_name_allowed", YES_NO, label="Texts may name the council",
                                          form=True, default="no") == "yes",
    }


def _form_echo(*names: str) -> Dict[str, str]:
    """What was typed, to put back in a form shown again with an error."""
    return {name: request.form.get(name, "") for name in names}


def _new_page(error: Optional[str] = None, status: int = 200):
    return render_template("enquiries/new.html", error=error, form=_form_echo(
        "reference", "worker", "safe_to_text", "safe_number", "safe_times", "preferred_contact", "sms_name_allowed"),
        assignable=_assignable() if g.user.role == "lead" else None, contact_methods=CONTACT_METHODS,
        contact_labels=CONTACT_LABELS), status


@bp.route("/new", methods=["GET", "POST"])
@roles(*EDITORS)
def create():
    if request.method == "GET":
        return _new_page()
    try:
        reference = inputs.text("reference", label="The council's reference", max_chars=64, form=True,
                                required=True)
        if g.user.role == "lead":
            worker = inputs.choice("worker", tuple(_assignable()), label="Worker", form=True)
        else:
            worker = g.user.username  # a practitioner's new enquiry is theirs
        contact = _contact_form()
        with writing() as db:
            enquiry = enquiries.create_enquiry(db, reference, assigned_worker=worker, recorded_by=g.user.username,
                                               **contact)
            enquiry_id = enquiry.id
    except (inputs.BadInput, RecordsError) as error:
        return _new_page(str(error), 400)
    audit("enquiry.created", target=f"enquiry:{enquiry_id}", detail={"worker": worker})
    return redirect(url_for("enquiries.show", enquiry_id=enquiry_id, done="created"))


def _page_texts(detail: EnquiryDetail):
    """Every free text the enquiry page shows: the person's words, reasons, notes, safe times, survey details."""
    yield from (t for o in detail.history for t in (o.text, o.reason))
    yield from (a.note for a in detail.asked)
    yield from (r.note for r in detail.reviews)
    yield from (c.safe_times for c in detail.contacts)
    for survey in detail.surveys:
        yield from (ev.detail for ev in survey.events)
        yield from (a.text for a in survey.answers)


def _show_page(detail: EnquiryDetail, *, error: Optional[str] = None, status: int = 200, form=None):
    redacting = _redacting()
    # Redacted before the view is audited: without the redaction model the page is refused (bot.portal.errors).
    shown = redactor(_page_texts(detail)) if redacting else (lambda text: text)
    audit("enquiry.view", target=f"enquiry:{detail.enquiry.id}",
          detail={"redacted": redacting, "outcomes": [o.id for o in detail.history]})

    def safe_number(number):
        """A field that holds only a phone number is hidden whole, whatever its layout."""
        return LABELS["phone"] if redacting and number else number

    def person(participant_id) -> str:
        p = detail.who(participant_id)
        if p is None:
            return "-"
        if not p.display_name:
            return p.role
        return f"{p.role} {NAME_REDACTED if redacting else p.display_name}"

    editing = g.user.role in EDITORS
    return render_template(
        "enquiries/show.html", d=detail, e=detail.enquiry, shown=shown, safe_number=safe_number, person=person, error=error,
        form=form or {}, notice=DONE.get(request.args.get("done", "")), redacting=redacting, editing=editing,
        can_assign=g.user.role == "lead", assignable=_assignable() if g.user.role == "lead" else {},
        outcome_action=outcome_action, category_labels=OUTCOME_CATEGORY_LABELS, asked_labels=ASKED_LABELS,
        achievement_labels=ACHIEVEMENT_LABELS, contact_labels=CONTACT_LABELS, contact_methods=CONTACT_METHODS,
        asked_answers=ASKED_ANSWERS, achievements=ACHIEVEMENTS, max_days=MAX_DAYS, default_days=DEFAULT_DAYS,
        max_note=MAX_NOTE_CHARS, roles_of_participants=PARTICIPANT_ROLES, reissuable=REISSUABLE,
    ), status


@bp.route(ENQUIRY)
@roles(*READERS)
def show(enquiry_id: int):
    return _show_page(_detail(enquiry_id))


def _change(enquiry_id: int, action: str, change: Callable, done: str, *echo: str):
    """Check the enquiry is in reach, make one change in one transaction, audit it, and go back to the
    enquiry; a bad value or a refusal from the records shows the enquiry again with the reason."""
    _detail(enquiry_id)
    try:
        with writing() as db:
            audit_detail = change(db)
    except (inputs.BadInput, RecordsError) as error:
        return _show_page(_detail(enquiry_id), error=str(error), status=400, form=_form_echo(*echo))
    audit(action, target=f"enquiry:{enquiry_id}", detail=audit_detail)
    return redirect(url_for("enquiries.show", enquiry_id=enquiry_id, done=done))


@bp.route(ENQUIRY + "/assign", methods=["POST"])
@roles("lead")
def assign(enquiry_id: int):
    def change(db):
        worker = inputs.choice("worker", tuple(_assignable()) + ("-",), label="Worker", form=True)
        if worker is None:
            raise inputs.BadInput("Choose a worker, or 'nobody' to unassign.")
        worker = None if worker == "-" else worker
        enquiries.assign_enquiry(db, enquiry_id, worker, assigned_by=g.user.username)
        return {"worker": worker}
    return _change(enquiry_id, "enquiry.assigned", change, "assigned", "worker")


@bp.route(ENQUIRY + "/contact", methods=["POST"])
@roles(*EDITORS)
def contact(enquiry_id: int):
    def change(db):
        enquiries.set_contact_preferences(db, enquiry_id, recorded_by=g.user.username, **_contact_form())
        return None
    return _change(enquiry_id, "enquiry.contact_changed", change, "contact", "safe_to_text", "safe_number",
                   "safe_times", "preferred_contact", "sms_name_allowed")


@bp.route(ENQUIRY + "/sg4a", methods=["POST"])
@roles(*EDITORS)
def sg4a(enquiry_id: int):
    current = [row.outcome_key for row in _detail(enquiry_id).current]

    def change(db):
        asked = inputs.choice("asked", ASKED_ANSWERS, label="Were they asked", form=True)
        overall = inputs.choice("overall", ACHIEVEMENTS, label="Outcomes as a whole", form=True)
        each = {key: inputs.choice(f"outcome-{key}", ACHIEVEMENTS, label="Outcome", form=True) for key in current}
        note = inputs.text("note", label="Note", max_chars=MAX_NOTE_CHARS, form=True, multiline=True)
        each = {key: value for key, value in each.items() if value}
        if asked is None and overall is None and not each:
            raise inputs.BadInput("Nothing to record: choose at least one answer.")
        by = {"recorded_by": g.user.username, "channel": "staff", "note": note}
        written = []
        if asked is not None:
            written.append(f"asked:{outcomes.record_asked(db, enquiry_id, asked, **by).id}")
        if overall is not None:
            written.append(f"review:{outcomes.record_review(db, enquiry_id, overall, **by).id}")
        for key, value in each.items():
            written.append(f"review:{outcomes.record_review(db, enquiry_id, value, outcome_key=key, **by).id}")
        return {"recorded": written}
    return _change(enquiry_id, "enquiry.sg4a_recorded", change, "sg4a", "asked", "overall", "note")


@bp.route(ENQUIRY + "/close", methods=["POST"])
@roles(*EDITORS)
def close(enquiry_id: int):
    def change(db):
        enquiries.close_enquiry(db, enquiry_id)
        return None
    return _change(enquiry_id, "enquiry.closed", change, "closed")


def _link_page(kind: str, detail: EnquiryDetail, link: str, code: str, expires_at, answers_kept=None):
    return render_template("enquiries/link.html", kind=kind, e=detail.enquiry, link=link, code=code,
                           expires_at=expires_at, answers_kept=answers_kept)


@bp.route(ENQUIRY + "/invite", methods=["POST"])
@roles(*EDITORS)
def invite(enquiry_id: int):
    detail = _detail(enquiry_id)
    try:
        days = inputs.integer("days", label="Days the invitation works", default=DEFAULT_DAYS, minimum=1,
                              maximum=MAX_DAYS, form=True)
        with writing() as db:
            issued = create_invitation(db, enquiry_id, days=days, created_by=g.user.username)
            invitation_id = issued.invitation.id
    except (inputs.BadInput, RecordsError) as error:
        return _show_page(detail, error=str(error), status=400, form=_form_echo("days"))
    audit("enquiry.invitation_issued", target=f"enquiry:{enquiry_id},invitation:{invitation_id}",
          detail={"days": days})
    return _link_page("invitation", detail, invitation_link(issued.token), issued.code, issued.expires_at)


def _participant_chosen(detail: EnquiryDetail) -> Optional[int]:
    """The participant the form names (None: not named), one of this enquiry's (else ``BadInput``)."""
    participant = request.form.get("participant") or None
    if participant is not None and (not participant.isascii() or not participant.isdigit()
                                    or int(participant) not in detail.participants):
        raise inputs.BadInput("Choose who to ask from the list.")
    return int(participant) if participant else None


@bp.route(ENQUIRY + "/feedback", methods=["POST"])
@roles(*EDITORS)
def feedback(enquiry_id: int):
    detail = _detail(enquiry_id)
    echo = _form_echo("by", "participant")
    try:
        by = inputs.choice("by", FEEDBACK_CHANNELS, label="How to ask", form=True)
        if by is None:
            raise inputs.BadInput("Choose how to ask: a web link or a text message.")
        participant = _participant_chosen(detail)
        with writing() as db:
            result = request_feedback(db, enquiry_id, channel=by, requested_by=g.user.username,
                                      participant_id=participant)
    except (inputs.BadInput, RecordsError) as error:
        return _show_page(detail, error=str(error), status=400, form=echo)
    target = f"enquiry:{enquiry_id}" + (f",survey:{result.survey_id}" if result.survey_id else "")
    if not result.ok:
        # Recorded as a refused request (with the reason); nothing was sent.
        audit("enquiry.feedback_requested", target=target, outcome="refused", detail={"by": by})
        return _show_page(_detail(enquiry_id), status=200, form=echo,
                          error=f"Feedback was not requested: {result.reason} Nothing was sent.")
    audit("enquiry.feedback_requested", target=target, detail={"by": by})
    if by == "sms":
        return redirect(url_for("enquiries.show", enquiry_id=enquiry_id, done="feedback-sms"))
    return _link_page("feedback", detail, result.link, result.code, result.expires_at)


@bp.route(ENQUIRY + "/feedback/reissue", methods=["POST"])
@roles(*EDITORS)
def feedback_reissue(enquiry_id: int):
    """A new web link and code for an open feedback survey (``reissue_web_invitation``, as ``msp enquiry
    feedback REF --reissue``): shown once; the earlier link and code stop working; answers kept."""
    detail = _detail(enquiry_id)
    try:
        participant = _participant_chosen(detail)
        with writing() as db:
            result = reissue_web_invitation(db, enquiry_id, requested_by=g.user.username,
                                            participant_id=participant)
    except (inputs.BadInput, RecordsError) as error:
        return _show_page(detail, error=str(error), status=400)
    target = f"enquiry:{enquiry_id}" + (f",survey:{result.survey_id}" if result.survey_id else "")
    if not result.ok:
        audit("enquiry.feedback_reissued", target=target, outcome="refused", detail={"status": result.status})
        return _show_page(_detail(enquiry_id), status=200,
                          error=f"The feedback link was not re-issued: {result.reason} Nothing was changed.")
    audit("enquiry.feedback_reissued", target=target, detail={"answers_kept": result.answers_kept})
    return _link_page("feedback", detail, result.link, result.code, result.expires_at,
                      answers_kept=result.answers_kept)
