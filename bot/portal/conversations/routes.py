"""Conversations: the list (filters, search) and one transcript, read from Rasa's tracker store.

Who sees what. Leads see every conversation; auditors too, with personal
details (names, phone numbers, emails, addresses, postcodes, dates of birth,
NHS numbers, bank details) redacted (``bot.text.redact``);
practitioners only the conversations an invitation linked to an enquiry
assigned to them or to a member of their team (``bot.records.links``). A
conversation outside a practitioner's reach is "not found", as if it did not
exist. Every list, search and transcript is audited before it is shown.
"""
from __future__ import annotations

from typing import Dict, Optional, Set

from flask import Blueprint, abort, g, render_template, request, url_for

from bot.records import enquiries, feedback, links, outcomes, staff, transcripts
from bot.records.models import OUTCOME_CATEGORY_LABELS
from bot.text.redact import redactor

from .. import inputs
from ..access import audit, config, reading, roles

bp = Blueprint("conversations", __name__, url_prefix="/conversations")

READERS = ("practitioner", "lead", "auditor")
CHANNELS = ("web", "sms", "rest", "other")
MAX_PAGE = 100000


def _redacting() -> bool:
    return g.user.role == "auditor"


def _shown(transcript, recorded, answers):
    """What the page calls on each text: as typed, or for auditors redacted (all at once, before
    the view is audited: without the redaction model the page is refused, see ``bot.portal.errors``)."""
    if not _redacting():
        return lambda text: text
    texts = [e.text for e in transcript.entries] + [b for e in transcript.entries for b in e.buttons]
    texts += [o.text for o in recorded] + [a.text for a in answers]
    return redactor(texts)


def _links_in_scope() -> Optional[Dict[str, Set[int]]]:
    """Conversation hash -> enquiry ids this member of staff may see; None: every conversation."""
    user = g.user
    with reading() as db:
        if user.role in ("lead", "auditor"):
            return None
        workers = {user.username} | staff.team_usernames(db, user.team)
        ids = [e.id for e in enquiries.enquiries_assigned_to(db, workers)]
        return links.linked_conversation_hashes(db, ids)


def _visible(connection, scope: Optional[Dict[str, Set[int]]]) -> Optional[Set[str]]:
    if scope is None:
        return None
    return {s for s in transcripts.all_sender_ids(connection) if links.conversation_key_hash(s) in scope}


def _enquiry_refs(sender_ids) -> Dict[str, str]:
    """Sender id -> the references of the enquiries it is linked to ("SG-1, SG-2")."""
    with reading() as db:
        all_links = links.linked_conversation_hashes(db)
        hashes = {s: links.conversation_key_hash(s) for s in sender_ids}
        ids = {i for h in hashes.values() for i in all_links.get(h, ())}
        refs = enquiries.enquiry_references(db, ids)
    return {s: ", ".join(sorted(refs[i] for i in all_links.get(h, ()) if i in refs))
            for s, h in hashes.items() if all_links.get(h)}


@bp.route("/")
@roles(*READERS)
def index():
    filters = {
        "q": inputs.text("q", label="Search", max_chars=200),
        "channel": inputs.choice("channel", CHANNELS, label="Channel"),
        "from": inputs.day("from", label="From"),
        "to": inputs.day("to", label="To", end=True),
        "flag": inputs.choices("flag", transcripts.FLAGS, label="Flags"),
    }
    page = inputs.integer("page", label="Page", default=1, minimum=1, maximum=MAX_PAGE)
    if filters["from"] and filters["to"] and filters["from"] >= filters["to"]:
        raise inputs.BadInput("'From' must be on or before 'To'.")
    size = config().page_size
    scope = _links_in_scope()
    unavailable = None
    result = transcripts.ConversationPage([], 0)
    try:
        with transcripts.connect(config().tracker_url) as connection:
            senders = _visible(connection, scope)
            if filters["q"]:
                senders = transcripts.matching_senders(connection, filters["q"], within=senders)
            result = transcripts.list_conversations(
                connection, senders=senders, channel=filters["channel"], since=filters["from"],
                until=filters["to"], flags=filters["flag"], limit=size, offset=(page - 1) * size)
    except transcripts.TrackerUnavailable as error:
        unavailable = str(error)
    shown = [row.sender_id for row in result.rows]
    # The filters as typed (they were checked above), for the audit row and the page links.
    typed = {key: request.args.get(key) for key in ("q", "channel", "from", "to") if request.args.get(key)}
    if filters["flag"]:
        typed["flag"] = filters["flag"]
    detail = dict(typed, page=page)
    audit("conversation.search" if filters["q"] else "conversation.list",
          target=",".join(f"conversation:{s}" for s in shown) or None, detail=detail)
    refs = _enquiry_refs(shown)
    pages = max(1, -(-result.total // size))
    return render_template(
        "conversations/index.html", rows=result.rows, total=result.total, page=page, pages=pages,
        refs=refs, flags=transcripts.FLAGS, flag_labels=transcripts.FLAG_LABELS, channels=CHANNELS,
        form={"q": request.args.get("q", ""), "channel": request.args.get("channel", ""),
              "from": request.args.get("from", ""), "to": request.args.get("to", ""),
              "flag": filters["flag"]},
        unavailable=unavailable, redacting=_redacting(),
        # Only the known filters: other keys ("endpoint", "_scheme"...) would be url_for's own.
        page_url=lambda n: url_for("conversations.index", page=n, **typed),
    )


@bp.route("/<sender_id>")
@roles(*READERS)
def show(sender_id: str):
    if not inputs.SENDER_ID.match(sender_id):
        abort(404, description="There is no conversation with that id.")
    scope = _links_in_scope()
    if scope is not None and links.conversation_key_hash(sender_id) not in scope:
        audit("conversation.view", target=f"conversation:{sender_id}", outcome="refused")
        abort(404, description="There is no conversation with that id that you can see.")
    try:
        with transcripts.connect(config().tracker_url) as connection:
            transcript = transcripts.load_transcript(connection, sender_id)
    except transcripts.TrackerUnavailable:
        transcript = None
    if transcript is None:
        abort(404, description="There is no conversation with that id.")
    with reading() as db:
        recorded = outcomes.outcomes_from_messages(db, transcript.message_ids)
        answers = feedback.answers_from_messages(db, transcript.message_ids)
        refs = enquiries.enquiry_references(db, {o.enquiry_id for o in recorded})
    linked = _enquiry_refs([sender_id]).get(sender_id)
    shown = _shown(transcript, recorded, answers)
    audit("conversation.view", target=f"conversation:{sender_id}",
          detail={"redacted": _redacting(), "outcomes": [o.id for o in recorded],
                  "answers": [a.id for a in answers]})
    return render_template(
        "conversations/show.html", transcript=transcript, shown=shown, recorded=recorded, answers=answers,
        refs=refs, linked=linked, flag_labels=transcripts.FLAG_LABELS, redacting=_redacting(),
        category_labels=OUTCOME_CATEGORY_LABELS,
    )
