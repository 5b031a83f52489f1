"""The live handoff console: the queue (pushed to the page as it changes), one conversation, claim, write,
hand back, close.

Practitioners and leads on duty see every live handoff: a person waiting for
a member of staff is nobody's case yet. Claim is one conditional UPDATE in
``bot.records.handoffs``: of two workers pressing it at once, one gets the
conversation and the other is told it was taken. A worker's words go into the
conversation through Rasa's HTTP API (``bot.handoff.rasa_api``), which sends
them to the person's channel, and are stored verbatim in ``handoff_messages``
once Rasa has taken them. Every view, stream and change is audited.

By SMS (a texter's chat, shown as "text message") the worker's words, the
"has joined" message and the end go out through the durable outbox instead,
in the same transaction that stores them (``bot.handoff.sms``): never lost,
never sent twice, nothing to a number that has replied STOP (the worker is
told), and none of the words an SMS must not say (the worker is asked to
say it another way). Rasa is given a copy for the conversation and the
``handoff`` slot; if it does not answer, the text still goes (the action
server's relay reads the records and puts the slot right).

Server push: ``/handoff/events`` is a Server-Sent Events stream that says
"changed" whenever the queue or a live handoff's messages change (it checks
``handoffs.state_marker`` twice a second and ends after ``STREAM_SECONDS``;
the browser's EventSource opens it again). ``static/handoff.js`` then fetches
the queue and the open conversation as HTML fragments: no inline script, no
page reload.

Call backs (``/handoff/callbacks``): the requests people made when nobody
could chat (``bot.records.callbacks``), those still to call first, each with
its answers word for word (escaped like everything else); "called" and
"could not reach" each append an event, never change the request. Who may see
them: the same practitioners and leads as the live chats (a person asking for
a call back is nobody's case yet). Every list, view and change is audited
(``handoff.callbacks``, ``handoff.callback_view``, ``handoff.callback_outcome``).
"""
from __future__ import annotations

import re
import secrets
import threading
import time

from flask import Blueprint, Response, abort, current_app, g, redirect, render_template, request, \
    stream_with_context, url_for

from bot.handoff import sms as handoff_sms
from bot.handoff import texts
from bot.handoff.rasa_api import RasaApi, RasaUnavailable
from bot.records import callbacks, handoffs, transcripts
from bot.records.errors import RecordsError
from bot.records.models import CALLBACK_OUTCOMES, MAX_HANDOFF_TEXT_CHARS

from .. import inputs
from ..access import audit, config, reading, roles, writing

bp = Blueprint("handoff", __name__, url_prefix="/handoff")

WHO = ("practitioner", "lead")
HANDOFF = "/<int(max=2147483647):handoff_id>"
STREAM_SECONDS = 15.0
POLL_SECONDS = 0.5
MAX_MESSAGE_CHARS = 4000
# Every page with the message box carries a fresh key; a message is sent once
# per key. A double click or a re-sent form (back, refresh) reaches the person
# once: the key is kept with the stored message (``message_id`` "worker:<key>"),
# and keys being sent right now are held in this process.
SEND_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
_SENDING: set = set()
_SENDING_LOCK = threading.Lock()
DONE = {"claimed": "You have joined the chat. The person has been told.",
        "taken": "Someone else claimed this chat first.",
        "sent": None,
        "handed_back": "You have handed the chat back to the assistant. The person has been told.",
        "closed": "The chat is closed. The person has been told.",
        "untold": "Recorded, but the person could not be told: the assistant's server did not answer.",
        "opted_out": "Recorded, but nothing was sent: this number has replied STOP, so we cannot text it."}
STATUS_LABELS = {"waiting": "Waiting", "claimed": "Claimed", "handed_back": "Handed back", "closed": "Closed",
                 "left": "The person left", "callback_requested": "Call back asked for"}
AUTHOR_LABELS = {"person": "Person", "worker": "Staff", "automatic": "Automatic reply"}
CALLBACK = "/callbacks/<int(max=2147483647):request_id>"
CALLBACK_LABELS = {"requested": "To call", "called": "Called", "not_reached": "Could not reach them: to call again",
                   "not_safe": "Not asked for: not safe to call", "cancelled": "Not asked for: they stopped"}
CALLBACK_EVENTS = {"requested": "Asked for a call back", "duty_claimed": "Emailing the duty team",
                   "duty_emailed": "The duty team was emailed", "duty_failed": "The duty team's email failed",
                   "called": "Called", "not_reached": "Could not reach them"}
#: Who asked, and (after a slash, when recorded) whom the call is for.
ASKERS = {"person": "The person, for themselves", "representative": "Someone else, for the person (a representative)",
          "person/self": "The person, for themselves",
          "representative/other": "Someone else, for the person (a representative)",
          "representative/self": "A representative (a carer, family or friend), for themselves"}
DECLINE_QUESTIONS = {"who": "Who the call is for", **callbacks.QUESTION_LABELS}
CALLBACK_DONE = {"called": "Recorded: called.",
                 "not_reached": "Recorded: could not reach them. It stays on the list to call again."}


def rasa() -> RasaApi:
    api = current_app.config.get("HANDOFF_RASA_API")
    if api is None:
        api = current_app.config["HANDOFF_RASA_API"] = RasaApi.from_env()
    return api


def _load(handoff_id: int):
    with reading() as db:
        try:
            handoff = handoffs.get_handoff(db, handoff_id)
        except RecordsError:
            abort(404, description="There is no handoff with that number.")
        claimed_by = handoff.claimed_by.display_name if handoff.claimed_by is not None else None
        messages = handoffs.messages(db, handoff_id)
    return handoff, claimed_by, messages


def _queue():
    with reading() as db:
        return handoffs.queue(db)


def _transcript(sender_id: str):
    try:
        with transcripts.connect(config().tracker_url) as connection:
            return transcripts.load_transcript(connection, sender_id)
    except transcripts.TrackerUnavailable:
        return None


def _render_queue(template: str):
    """The queue, audited as one look at every handoff in it."""
    rows = _queue()
    audit("handoff.queue", target=",".join(f"handoff:{r.id}" for r in rows) or None)
    return render_template(template, rows=rows, labels=STATUS_LABELS, channels=CHANNEL_LABELS)


@bp.route("/")
@roles(*WHO)
def index():
    return _render_queue("handoff/index.html")


@bp.route("/queue")
@roles(*WHO)
def queue_fragment():
    return _render_queue("handoff/_queue.html")


@bp.route("/events")
@roles(*WHO)
def events():
    """Server-Sent Events: "changed" whenever the queue or a live handoff's messages change."""
    audit("handoff.watch")
    url = config().database_url
    seconds = 0.0 if config().testing else STREAM_SECONDS

    def stream():
        from bot.records.db import session_scope

        yield "retry: 1000\n\n"
        marker = None
        deadline = time.monotonic() + seconds
        while True:
            with session_scope(url, read_only=True) as db:
                now = handoffs.state_marker(db)
            if now != marker:
                marker = now
                yield "event: changed\ndata: {}\n\n"
            if time.monotonic() >= deadline:
                return
            time.sleep(POLL_SECONDS)

    response = Response(stream_with_context(stream()), mimetype="text/event-stream")
    response.headers["X-Accel-Buffering"] = "no"
    return response


@bp.route(HANDOFF)
@roles(*WHO)
def show(handoff_id: int):
    handoff, claimed_by, messages = _load(handoff_id)
    transcript = _transcript(handoff.sender_id)
    audit("handoff.view", target=f"handoff:{handoff_id}", detail={"conversation": handoff.sender_id})
    return render_template("handoff/show.html", h=handoff, claimed_by=claimed_by, messages=messages,
                           transcript=transcript, labels=STATUS_LABELS, authors=AUTHOR_LABELS, channels=CHANNEL_LABELS,
                           mine=handoff.claimed_by_id == g.user.id, max_chars=MAX_MESSAGE_CHARS,
                           notice=DONE.get(request.args.get("done", "")), error=None,
                           send_key=secrets.token_urlsafe(18))


@bp.route(HANDOFF + "/messages")
@roles(*WHO)
def messages_fragment(handoff_id: int):
    handoff, claimed_by, messages = _load(handoff_id)
    audit("handoff.view", target=f"handoff:{handoff_id}")
    return render_template("handoff/_messages.html", h=handoff, messages=messages, authors=AUTHOR_LABELS,
                           claimed_by=claimed_by, labels=STATUS_LABELS)


def _tell(sender_id: str, make_events) -> bool:
    """Send events to the person's conversation; False (and logged) if Rasa did not take them."""
    try:
        api = rasa()
        channel = api.latest_channel(sender_id)
        api.append(sender_id, make_events(channel))
        return True
    except RasaUnavailable as error:
        current_app.logger.warning("handoff: %s", error)
        return False


def _copy_to_rasa(sender_id: str, events) -> None:
    """Rasa's copy of what went by SMS (and the slot); the text has gone anyway, so a failure is logged only."""
    try:
        rasa().append(sender_id, events, send=False)
    except RasaUnavailable as error:
        current_app.logger.warning("handoff: the conversation's copy of a text message was not kept (%s)", error)


def _text(handoff, words: str, what: str, slot: object = ...) -> str:
    """Send ``words`` by SMS through the outbox: "done" code for the page ("opted_out": nothing sent)."""
    with writing() as db:
        queued = handoff_sms.queue(db, handoff.id, handoff.sender_id, words, what)
    _copy_to_rasa(handoff.sender_id, texts.sms_record(words, slot))
    return "opted_out" if queued is None else "ok"


def _is_sms(handoff) -> bool:
    return handoff.channel == handoff_sms.CHANNEL and handoff_sms.is_sms(handoff.sender_id)


def _page_error(handoff_id: int, message: str, status: int = 400):
    handoff, claimed_by, messages = _load(handoff_id)
    return render_template("handoff/show.html", h=handoff, claimed_by=claimed_by, messages=messages,
                           transcript=_transcript(handoff.sender_id), labels=STATUS_LABELS, authors=AUTHOR_LABELS,
                           channels=CHANNEL_LABELS,
                           mine=handoff.claimed_by_id == g.user.id, max_chars=MAX_MESSAGE_CHARS, notice=None,
                           error=message, send_key=secrets.token_urlsafe(18)), status


@bp.route(HANDOFF + "/claim", methods=["POST"])
@roles(*WHO)
def claim(handoff_id: int):
    handoff, _, _ = _load(handoff_id)
    with writing() as db:
        won = handoffs.claim(db, handoff_id, g.user.id)
    audit("handoff.claim", target=f"handoff:{handoff_id}", outcome="ok" if won else "refused")
    if not won:
        return redirect(url_for("handoff.show", handoff_id=handoff_id, done="taken"))
    if _is_sms(handoff):
        words = texts.sms_joined(texts.sms_worker_name(g.user.display_name))
        done = _text(handoff, words, "joined", slot="claimed")
        return redirect(url_for("handoff.show", handoff_id=handoff_id, done="claimed" if done == "ok" else done))
    told = _tell(handoff.sender_id, lambda channel: texts.joined(channel, texts.worker_name(g.user.display_name)))
    return redirect(url_for("handoff.show", handoff_id=handoff_id, done="claimed" if told else "untold"))


@bp.route(HANDOFF + "/send", methods=["POST"])
@roles(*WHO)
def send(handoff_id: int):
    handoff, _, _ = _load(handoff_id)
    if handoff.status != "claimed" or handoff.claimed_by_id != g.user.id:
        audit("handoff.send", target=f"handoff:{handoff_id}", outcome="refused")
        return _page_error(handoff_id, "Only the member of staff who claimed this chat can write in it.", 409)
    try:
        words = inputs.text("message", label="Your message", max_chars=MAX_MESSAGE_CHARS, form=True,
                            required=True, strip=False, multiline=True)
    except inputs.BadInput as error:
        return _page_error(handoff_id, str(error))
    key = request.form.get("send_key", "")
    message_id = f"worker:{key}" if SEND_KEY.fullmatch(key) else None
    if message_id is not None and not _start_sending(handoff_id, message_id):
        audit("handoff.send", target=f"handoff:{handoff_id}", outcome="refused", detail={"why": "sent already"})
        return redirect(url_for("handoff.show", handoff_id=handoff_id, done="sent"))
    try:
        return _send(handoff, words, message_id)
    finally:
        if message_id is not None:
            with _SENDING_LOCK:
                _SENDING.discard((handoff_id, message_id))


def _start_sending(handoff_id: int, message_id: str) -> bool:
    """False if this form was sent already, or is being sent right now."""
    with _SENDING_LOCK:
        if (handoff_id, message_id) in _SENDING:
            return False
        with reading() as db:
            if handoffs.has_message(db, handoff_id, message_id):
                return False
        _SENDING.add((handoff_id, message_id))
        return True


def _send(handoff, words: str, message_id):
    handoff_id = handoff.id
    if _is_sms(handoff):
        return _send_sms(handoff, words, message_id)
    name = texts.worker_name(g.user.display_name)
    if not _tell(handoff.sender_id, lambda channel: texts.from_worker(channel, name, words)):
        audit("handoff.send", target=f"handoff:{handoff_id}", outcome="failed")
        return _page_error(handoff_id, "The message was not sent: the assistant's server did not answer. "
                                       "Please try again, or phone the person if it is safe.", 503)
    with writing() as db:
        handoffs.add_message(db, handoff_id, "worker", words[:MAX_HANDOFF_TEXT_CHARS], staff_user_id=g.user.id,
                             message_id=message_id)
    audit("handoff.send", target=f"handoff:{handoff_id}")
    return redirect(url_for("handoff.show", handoff_id=handoff_id, done="sent"))


def _send_sms(handoff, words: str, message_id=None):
    """A worker's words by SMS: checked, stored and queued in one transaction, then Rasa's copy."""
    problem = handoff_sms.worker_words_problem(words)
    if problem is not None:
        audit("handoff.send", target=f"handoff:{handoff.id}", outcome="refused", detail={"why": "sms rules"})
        return _page_error(handoff.id, problem)
    body = texts.sms_from_worker(texts.sms_worker_name(g.user.display_name), words)
    with writing() as db:
        if handoff_sms.opted_out(db, handoff.sender_id):
            queued = None
        else:
            message = handoffs.add_message(db, handoff.id, "worker", words, staff_user_id=g.user.id,
                                           message_id=message_id)
            if message is None:  # the same form, stored by another process a moment ago
                return redirect(url_for("handoff.show", handoff_id=handoff.id, done="sent"))
            queued = handoff_sms.queue(db, handoff.id, handoff.sender_id, body, f"m{message.id}")
    if queued is None:
        audit("handoff.send", target=f"handoff:{handoff.id}", outcome="refused", detail={"why": "opted out"})
        return _page_error(handoff.id, "Not sent: this number has replied STOP, so we cannot text it. "
                                       "Nothing was stored. Phone the person only if it is safe.", 409)
    _copy_to_rasa(handoff.sender_id, texts.sms_record(body))
    audit("handoff.send", target=f"handoff:{handoff.id}")
    return redirect(url_for("handoff.show", handoff_id=handoff.id, done="sent"))


def _end(handoff_id: int, status: str, action: str, make_events):
    handoff, _, _ = _load(handoff_id)
    with writing() as db:
        ended = handoffs.end(db, handoff_id, status, user_id=g.user.id if status == "handed_back" else None)
    if not ended:
        audit(action, target=f"handoff:{handoff_id}", outcome="refused")
        reason = ("Only the member of staff who claimed this chat can hand it back."
                  if status == "handed_back" else "This chat has already ended.")
        return _page_error(handoff_id, reason, 409)
    audit(action, target=f"handoff:{handoff_id}")
    if _is_sms(handoff):
        done = _text(handoff, texts.sms_ended(), "ended", slot=None)
        return redirect(url_for("handoff.show", handoff_id=handoff_id, done=status if done == "ok" else done))
    told = _tell(handoff.sender_id, make_events)
    return redirect(url_for("handoff.show", handoff_id=handoff_id, done=status if told else "untold"))


@bp.route(HANDOFF + "/hand-back", methods=["POST"])
@roles(*WHO)
def hand_back(handoff_id: int):
    return _end(handoff_id, "handed_back", "handoff.hand_back", texts.handed_back)


@bp.route(HANDOFF + "/close", methods=["POST"])
@roles(*WHO)
def close(handoff_id: int):
    return _end(handoff_id, "closed", "handoff.close", texts.closed)


# --- call backs ---------------------------------------------------------------------------


def _callback(request_id: int) -> callbacks.CallbackView:
    with reading() as db:
        try:
            return callbacks.request_view(db, request_id)
        except RecordsError:
            abort(404, description="There is no call-back request with that number.")


def _callback_page(request_id: int, notice=None, error=None, status: int = 200):
    return render_template("handoff/callback.html", c=_callback(request_id), labels=CALLBACK_LABELS,
                           events=CALLBACK_EVENTS, askers=ASKERS, channels=CHANNEL_LABELS, notice=notice,
                           error=error), status


CHANNEL_LABELS = {"web": "web chat", "sms": "text message", "phone": "phone", "staff": "staff"}


@bp.route("/callbacks")
@roles(*WHO)
def callbacks_index():
    with reading() as db:
        rows = callbacks.list_requests(db)
    audit("handoff.callbacks", target=",".join(f"callback-decline:{r.id}" if r.declined else f"callback:{r.id}"
                                               for r in rows) or None)
    return render_template("handoff/callbacks.html", rows=rows, labels=CALLBACK_LABELS, askers=ASKERS,
                           channels=CHANNEL_LABELS, questions=DECLINE_QUESTIONS)


@bp.route(CALLBACK)
@roles(*WHO)
def callback_show(request_id: int):
    page = _callback_page(request_id, notice=CALLBACK_DONE.get(request.args.get("done", "")))
    audit("handoff.callback_view", target=f"callback:{request_id}")
    return page


@bp.route(CALLBACK + "/outcome", methods=["POST"])
@roles(*WHO)
def callback_outcome(request_id: int):
    _callback(request_id)
    try:
        outcome = inputs.choice("outcome", CALLBACK_OUTCOMES, label="What happened", form=True)
        if outcome is None:
            raise inputs.BadInput("Say what happened: called, or could not reach them.")
        with writing() as db:
            callbacks.record_outcome(db, request_id, outcome, g.user.id)
    except (inputs.BadInput, RecordsError) as error:
        audit("handoff.callback_outcome", target=f"callback:{request_id}", outcome="refused")
        return _callback_page(request_id, error=str(error), status=400)
    audit("handoff.callback_outcome", target=f"callback:{request_id}", detail={"outcome": outcome})
    return redirect(url_for("handoff.callback_show", request_id=request_id, done=outcome))
