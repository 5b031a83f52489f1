"""Logs carry ids and event kinds, never what a person typed.

``install()`` (called by ``scripts/serve.py`` in the Rasa server and the action
server before anything else runs) replaces the logging module's record factory,
so every record of every logger in the process (ours, Rasa's, rasa_sdk's,
Sanic's, SQLAlchemy's, Rasa's structlog lines, and Python warnings, which are
routed into logging) is made safe once, when it is created, whatever handlers
Rasa installs later. What it removes:

* **Texts seen recently.** Our channels and the first NLU component call
  ``remember(text)`` for every message. Any stretch of a later log line that
  shares 8 characters or more in a row with one of those texts (as typed,
  JSON-escaped or ``repr``-escaped, any case) becomes ``[withheld]``, so a
  part of a message (a name, an entity Rasa picked out) is caught as well as
  the whole. Texts shorter than that ("yes", "no") only when quoted, so
  ordinary words survive. This is what catches Rasa printing a message that
  starts with ``/``, whole or in pieces.
* **Personal fields by name**: ``'text': ...``, ``"message": ...``,
  ``slot_values=...`` and the rest of Rasa's own anonymiser list, in dicts,
  reprs and Rasa's structlog JSON lines.
* **SQL parameters** (``[parameters: ...]``), should an engine ever be made
  without ``hide_parameters=True``; API tokens in query strings.
* **Phone numbers** (UK-shaped, and any in E.164 as SMS numbers are kept,
  URL-encoded too) **and email addresses** in any line, as a last net.

Not a promise: a name typed earlier and later shown in a way none of the
above recognises (say, one word of it inside an exception from a library, in
the action server, which does not see the channels) could pass. At ``--debug``
Rasa logs far more (slot values, parse results); the same filter runs, but the
tests check the default level. Do not run production at ``--debug``.
"""
from __future__ import annotations

import collections
import json
import logging
import re
import threading
from typing import Any, Callable, Deque, Dict, Iterable, List, Optional, Set

WITHHELD = "[withheld]"
MAX_REMEMBERED = 1000
GRAM = 8  # a shared stretch this long (characters) is withheld
# Texts up to this long are remembered whole; a longer one by its start (a log
# line that shows a long text usually shows it from the start).
MAX_REMEMBERED_CHARS = 400
SHORT = 8  # texts shorter than this are only withheld when quoted

# Rasa's own anonymiser keys (rasa/utils/log_utils.py) and ours.
PERSONAL_KEYS = frozenset({
    "text", "response_text", "user_text", "slot_values", "parse_data_text", "parse_data_entities",
    "prediction_events", "tracker_latest_message", "prefilled_slots", "message", "response",
    "slot_candidates", "rasa_event", "rasa_events", "tracker_states", "current_states", "old_states",
    "successes", "current_entity", "next_entity", "states", "entity", "token_text", "user_message",
    "json_message", "value", "entities", "latest_message", "metadata", "outcome_text",
    "outcome_contact", "invite_code", "invitation", "body", "data",
})

_lock = threading.Lock()
_recent: Deque[str] = collections.deque()
_recent_set: Set[str] = set()
# Every GRAM-character stretch of the remembered texts (lower case), counted.
_grams: Dict[str, int] = {}
_installed = False
_previous_factory: Optional[Callable[..., logging.LogRecord]] = None

_KEYS = "|".join(sorted(PERSONAL_KEYS, key=len, reverse=True))
# 'text': 'abc'  "text": "a\"bc"  'text': "it's"  (dict reprs and JSON)
_QUOTED_FIELD = re.compile(
    r"""(?P<key>(?P<kq>['"])(?:%s)(?P=kq)\s*:\s*)(?P<q>['"])(?:\\.|(?!(?P=q)).)*(?P=q)""" % _KEYS, re.S)
# text=abc  slot_values='...'  (structlog's console renderer, key=value logs)
_KV_FIELD = re.compile(r"""(?P<key>\b(?:%s)=)(?:(?P<q>['"])(?:\\.|(?!(?P=q)).)*(?P=q)|[^\s,]+)""" % _KEYS, re.S)
# SQLAlchemy errors: "[parameters: (...)]" up to the end of that line.
_SQL_PARAMETERS = re.compile(r"\[parameters: [^\n]*")
# A quoted message that starts with "/" (Rasa's message handler): to the last
# same quote on the line, so a quote inside the text cannot end it early. Not
# a file path ('/work/x.py': a second "/" inside the first word).
_SLASH_MESSAGE = re.compile(r"""(?P<q>['"])/(?![^\s'"{@/]*/)[^\n]*(?P=q)""")
_TOKEN_QUERY = re.compile(r"(?i)([?&](?:token|auth_token|access_token)=)[^&\s'\"]+")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
# UK-shaped phone numbers (0..., +44...), with spaces, dots or dashes between digits.
_PHONE = re.compile(r"(?<![\w+])(?:\+\s?44\s?(?:\(0\)\s?)?|\b0)\d(?:[\s.-]?\d){8,9}(?!\w)")
# Any number in E.164 (+447700900123, +14155550100), as SMS numbers are stored, and
# the same URL-encoded (%2B447700900123) as in a form body.
_E164 = re.compile(r"(?:\+|%2[Bb])[1-9]\d{7,14}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def remember(text: Any) -> None:
    """Note a text a person sent, so that no log line shows it (bounded, most recent kept)."""
    if not isinstance(text, str):
        return
    forms = {text, text.strip()}
    with _lock:
        for form in forms:
            form = form[:MAX_REMEMBERED_CHARS]
            if not form.strip() or form in _recent_set:
                continue
            _recent.append(form)
            _recent_set.add(form)
            for gram in _grams_of(form):
                _grams[gram] = _grams.get(gram, 0) + 1
            while len(_recent) > MAX_REMEMBERED:
                old = _recent.popleft()
                _recent_set.discard(old)
                for gram in _grams_of(old):
                    left = _grams.get(gram, 0) - 1
                    if left > 0:
                        _grams[gram] = left
                    else:
                        _grams.pop(gram, None)


def forget_all() -> None:
    """Tests only."""
    with _lock:
        _recent.clear()
        _recent_set.clear()
        _grams.clear()


def _grams_of(text: str) -> Set[str]:
    grams: Set[str] = set()
    for form in _escaped_forms(text):
        form = form.lower()
        grams.update(form[i:i + GRAM] for i in range(len(form) - GRAM + 1))
    # A stretch of white space or punctuation alone says nothing about a person.
    return {g for g in grams if sum(ch.isalnum() for ch in g) >= GRAM // 2}


def _escaped_forms(text: str) -> Iterable[str]:
    yield text
    as_json = json.dumps(text)[1:-1]
    if as_json != text:
        yield as_json
    as_repr = repr(text)[1:-1]
    if as_repr != text:
        yield as_repr


def _withhold_remembered(line: str) -> str:
    with _lock:
        short = [t for t in _recent_set if len(t.strip()) < SHORT]
        if _grams:
            lowered = line.lower()
            if len(lowered) != len(line):  # a few letters change length in lower case
                lowered = line
            covered: List[bool] = [False] * len(line)
            for i in range(len(line) - GRAM + 1):
                if lowered[i:i + GRAM] in _grams:
                    covered[i:i + GRAM] = [True] * GRAM
            if any(covered):
                line = _collapse(line, covered)
    for text in short:
        for form in _escaped_forms(text):
            for quote in ("'", '"'):
                line = line.replace(f"{quote}{form}{quote}", f"{quote}{WITHHELD}{quote}")
    return line


def _collapse(line: str, covered: List[bool]) -> str:
    out: List[str] = []
    i = 0
    while i < len(line):
        if covered[i]:
            while i < len(line) and covered[i]:
                i += 1
            out.append(WITHHELD)
        else:
            out.append(line[i])
            i += 1
    return "".join(out)


def _withhold_json_fields(line: str) -> str:
    """Rasa's structlog JSON lines: personal fields by name."""
    stripped = line.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return line
    try:
        data = json.loads(stripped)
    except ValueError:
        return line
    if not isinstance(data, dict):
        return line
    return json.dumps({k: (WITHHELD if k in PERSONAL_KEYS else v) for k, v in data.items()},
                      ensure_ascii=False)


def redact(line: str) -> str:
    """``line`` with anything a person typed taken out (see the module docstring)."""
    if not line:
        return line
    line = _withhold_remembered(line)
    line = _withhold_json_fields(line)
    line = _SQL_PARAMETERS.sub("[SQL parameters withheld]", line)
    line = _SLASH_MESSAGE.sub(lambda m: f"{m['q']}{WITHHELD}{m['q']}", line)
    line = _QUOTED_FIELD.sub(lambda m: f"{m['key']}{m['q']}{WITHHELD}{m['q']}", line)
    line = _KV_FIELD.sub(lambda m: f"{m['key']}{WITHHELD}", line)
    line = _TOKEN_QUERY.sub(lambda m: m.group(1) + WITHHELD, line)
    line = _BEARER.sub(lambda m: m.group(1) + WITHHELD, line)
    line = _PHONE.sub("[phone withheld]", line)
    line = _E164.sub("[phone withheld]", line)
    line = _EMAIL.sub("[email withheld]", line)
    return line


def make_safe(record: logging.LogRecord) -> logging.LogRecord:
    """Render the record's message (and traceback) once, made safe; drop the raw arguments."""
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a broken log call must not hide the record
        message = f"{record.msg!r} (arguments withheld)"
    record.msg = redact(str(message))
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    request = getattr(record, "request", None)  # Sanic's access log: "GET /path?token=..."
    if isinstance(request, str):
        record.request = redact(request)
    return record


def install() -> None:
    """Make every log record in this process safe (idempotent); route warnings into logging."""
    global _installed, _previous_factory
    if _installed:
        return
    previous = logging.getLogRecordFactory()
    _previous_factory = previous

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return make_safe(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    # Rasa's warnings (e.g. "Failed to parse arguments in line '/...'") go to
    # stderr through the warnings module unless they are made log records.
    logging.captureWarnings(True)
    _installed = True


def uninstall() -> None:
    """Tests only."""
    global _installed
    if _installed and _previous_factory is not None:
        logging.setLogRecordFactory(_previous_factory)
        logging.captureWarnings(False)
    _installed = False
