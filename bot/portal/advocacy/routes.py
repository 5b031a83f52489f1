"""Advocacy referrals: the list with each delivery's state, one referral, make, resend, acknowledged.

Leads see every referral (a referral from the chat may have no enquiry yet:
the duty lead picks it up); practitioners see those linked to an enquiry in
their reach, and make referrals only for such an enquiry. Auditors and
administrators see none. Every list and view is audited before it is shown,
every change after it is committed. The same ``bot.records.advocacy``
functions as ``msp advocacy`` are used; nothing is overwritten.
"""
from __future__ import annotations

import uuid
from typing import Optional

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from bot.advocacy.config import get_advocacy_config
from bot.records import advocacy, enquiries
from bot.records.advocacy import MAX_ANSWER_CHARS, QUESTION_LABELS
from bot.records.errors import RecordsError
from bot.records.models import ADVOCACY_DELIVERY_STATES, ADVOCACY_QUESTIONS

from .. import inputs
from ..access import audit, reading, roles, writing
from ..enquiries.routes import _workers_in_scope

bp = Blueprint("advocacy", __name__, url_prefix="/advocacy")

WHO = ("practitioner", "lead")
REFERRAL = "/<int(max=2147483647):referral_id>"
ANSWERERS = {"person": "The person", "representative": "A representative, for the person",
             "staff": "Me, from what the person said"}
DONE = {"made": "The referral is made and queued for the provider.",
        "resent": "The referral is queued again. It keeps its reference, so the provider keeps one copy.",
        "acknowledged": "Recorded: the provider has the referral.",
        "withdrawn": "Recorded: consent withdrawn. It will not be sent; if it may have reached the provider, "
                     "they are told."}
STATE_LABELS = {"queued": "Queued", "sending": "Sending", "sent": "Sent, not yet acknowledged",
                "failed": "Failed: not delivered", "acknowledged": "Acknowledged by the provider",
                "withdrawn": "Consent withdrawn"}


def _in_reach(enquiry) -> bool:
    workers = _workers_in_scope()
    if workers is None:
        return True
    return enquiry is not None and enquiries.is_assigned_to(enquiry, workers)


def _view(referral_id: int) -> advocacy.ReferralView:
    with reading() as db:
        try:
            referral = advocacy.get_referral(db, referral_id)
            allowed = _in_reach(referral.enquiry)
            view = advocacy.referral_view(db, referral_id) if allowed else None
        except RecordsError:
            view, allowed = None, False
    if view is None:
        if allowed is False:
            audit("advocacy.view", target=f"advocacy:{referral_id}", outcome="refused")
        abort(404, description="There is no referral with that number that you can see.")
    return view


@bp.route("/")
@roles(*WHO)
def index():
    state = inputs.choice("state", ADVOCACY_DELIVERY_STATES, label="State")
    workers = _workers_in_scope()
    with reading() as db:
        rows = advocacy.list_referrals(db, state)
        if workers is not None:
            reach = {row.id for row in rows if _in_reach(advocacy.get_referral(db, row.id).enquiry)}
            rows = [row for row in rows if row.id in reach]
    audit("advocacy.list", target=",".join(f"advocacy:{r.id}" for r in rows) or None,
          detail={"state": state} if state else None)
    return render_template("advocacy/index.html", rows=rows, states=ADVOCACY_DELIVERY_STATES, state=state or "",
                           labels=STATE_LABELS, scoped=workers is not None)


@bp.route(REFERRAL)
@roles(*WHO)
def show(referral_id: int):
    view = _view(referral_id)
    audit("advocacy.view", target=f"advocacy:{referral_id}")
    return render_template("advocacy/show.html", r=view, labels=STATE_LABELS, answerers=ANSWERERS,
                           notice=DONE.get(request.args.get("done", "")))


def _new_page(error: Optional[str] = None, status: int = 200):
    form = {name: request.form.get(name, "") for name in ("enquiry", "answered_by", "consent") + ADVOCACY_QUESTIONS}
    return render_template("advocacy/new.html", error=error, form=form, questions=QUESTION_LABELS,
                           answerers=ANSWERERS, max_chars=MAX_ANSWER_CHARS,
                           enquiry_required=g.user.role != "lead"), status


def _verbatim(name: str) -> Optional[str]:
    """What was typed, exactly (not stripped); None when the box was left empty."""
    raw = request.form.get(name)
    if raw is None or not raw.strip():
        return None
    return inputs.clean_text(raw, label=QUESTION_LABELS[name], max_chars=MAX_ANSWER_CHARS, multiline=True)


@bp.route("/new", methods=["GET", "POST"])
@roles(*WHO)
def create():
    if request.method == "GET":
        return _new_page()
    try:
        reference = inputs.text("enquiry", label="The enquiry's reference", max_chars=64, form=True,
                                required=g.user.role != "lead")
        answered_by = inputs.choice("answered_by", tuple(ANSWERERS), label="Who answered", form=True)
        if answered_by is None:
            raise inputs.BadInput("Say who answered.")
        consent = inputs.text("consent", label="Their consent, in their words", max_chars=MAX_ANSWER_CHARS,
                              form=True, required=True, multiline=True)
        answers = {q: _verbatim(q) for q in ADVOCACY_QUESTIONS}
        answers = {q: a for q, a in answers.items() if a is not None}
        with writing() as db:
            enquiry_id = None
            if reference:
                enquiry = enquiries.get_enquiry_by_reference(db, reference)
                if enquiry is None or not _in_reach(enquiry):
                    raise inputs.BadInput("There is no enquiry with that reference that you can see.")
                enquiry_id = enquiry.id
            referral = advocacy.make_referral(db, answers, answered_by=answered_by, consent_words=consent,
                                              recorded_by=g.user.username, channel="staff", source="staff",
                                              source_ref=f"portal:{uuid.uuid4().hex}", enquiry_id=enquiry_id,
                                              delivery_channel=get_advocacy_config().delivery)
            referral_id = referral.id
    except (inputs.BadInput, RecordsError) as error:
        return _new_page(str(error), 400)
    audit("advocacy.made", target=f"advocacy:{referral_id}")
    return redirect(url_for("advocacy.show", referral_id=referral_id, done="made"))


def _change(referral_id: int, action: str, change, done: str):
    _view(referral_id)
    try:
        with writing() as db:
            change(db)
    except RecordsError as error:
        return render_template("advocacy/show.html", r=_view(referral_id), labels=STATE_LABELS,
                               answerers=ANSWERERS, error=str(error)), 400
    audit(action, target=f"advocacy:{referral_id}")
    return redirect(url_for("advocacy.show", referral_id=referral_id, done=done))


@bp.route(REFERRAL + "/resend", methods=["POST"])
@roles(*WHO)
def resend(referral_id: int):
    return _change(referral_id, "advocacy.resent",
                   lambda db: advocacy.resend(db, referral_id, g.user.username), "resent")


@bp.route(REFERRAL + "/acknowledged", methods=["POST"])
@roles(*WHO)
def acknowledged(referral_id: int):
    def change(db):
        reference = advocacy.get_referral(db, referral_id).reference
        advocacy.acknowledge(db, reference, g.user.username, "recorded in the portal")
    return _change(referral_id, "advocacy.acknowledged", change, "acknowledged")


@bp.route(REFERRAL + "/withdraw", methods=["POST"])
@roles(*WHO)
def withdraw(referral_id: int):
    """Consent withdrawn, as the person (or their representative) said it to the worker: a consent event."""
    given_by = inputs.choice("given_by", tuple(ANSWERERS), label="Who withdrew consent", form=True) or "person"
    words = (request.form.get("words") or "")[:MAX_ANSWER_CHARS] or None
    return _change(referral_id, "advocacy.withdrawn",
                   lambda db: advocacy.withdraw_consent(db, referral_id, given_by=given_by, words=words,
                                                        recorded_by=g.user.username, channel="staff"),
                   "withdrawn")
