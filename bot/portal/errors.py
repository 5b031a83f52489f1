"""Every error gets a plain page that says what happened and what to do; never a stack trace.

The unexpected ones (500) are logged with an id shown on the page, without
request values (they may hold what a person typed, or a password).
"""
from __future__ import annotations

import logging
import secrets
import traceback

from flask import Flask, render_template
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from bot.records.errors import NotFound as RecordNotFound
from bot.records.errors import RecordsError
from bot.records.totp_keys import TotpKeyError
from bot.text.redact_model import ModelMissing

from .inputs import BadInput

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Something in the request was not right", "Please go back, check what you typed and try again."),
    403: ("Not allowed", "Your role does not give access to this page."),
    404: ("Not found", "There is no page here. Check the address, or go back to the start page."),
    405: ("Not allowed like that", "This page cannot be used that way. Use the links and buttons on the pages."),
    413: ("Too much at once", "What was sent is too large. Please send less."),
    414: ("Address too long", "The address is too long. Use the links and forms on the pages."),
    429: ("Too many tries", "Please wait a little and try again."),
    431: ("Request too large", "The request headers are too large."),
    500: ("Something went wrong", "The portal could not finish this. Please try again; if it keeps "
                                  "happening, tell your administrator the error id below."),
    503: ("Not available just now", "The records database cannot be reached. Please try again in a minute."),
}
TOTP_KEY_TITLE = "Your second factor cannot be checked just now"
TOTP_KEY_DETAIL = ("The portal cannot read the second-factor secret of this account: the key it was stored "
                   "with is not the key the portal has. Your code may well be right, and this try does not "
                   "count against you. Please tell your administrator (the portal's log says which key is "
                   "missing).")
REDACTION_MISSING = ("This page is not shown: personal details cannot be hidden on this server just now "
                     "(the redaction model is not installed), and your role sees them hidden. Nothing was shown. "
                     "Please tell your administrator: the fix is to run `make train` on the portal's server.")


def render_error(status: int, detail: str = None, error_id: str = None, title: str = None):
    default_title, default = MESSAGES.get(status, MESSAGES[400 if status < 500 else 500])
    title = title or default_title
    return render_template("errors/error.html", status=status, title=title, detail=detail or default,
                           error_id=error_id), status


def install(app: Flask) -> None:
    @app.errorhandler(BadInput)
    def _bad_input(error: BadInput):
        return render_error(error.status, str(error))

    @app.errorhandler(RecordNotFound)
    def _record_not_found(error):
        return render_error(404, str(error))

    @app.errorhandler(TotpKeyError)
    def _totp_key(error: TotpKeyError):
        # For the administrator: which key, never the secret. For the member of staff: what to do.
        log.error("second factor cannot be checked: %s", error)
        try:
            from .access import audit

            audit("login.refused", detail={"reason": "totp key", "key": getattr(error, "key_id", None)},
                  outcome="failed")
        except Exception as audit_error:  # noqa: BLE001 - the page must still say what happened
            log.error("could not audit the TOTP key error: %s", type(audit_error).__name__)
        return render_error(503, TOTP_KEY_DETAIL, title=TOTP_KEY_TITLE)

    @app.errorhandler(RecordsError)
    def _records_error(error):
        return render_error(400, str(error))

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        status = error.code or 500
        detail = None
        default_description = type(error).description
        if error.description and error.description != default_description:
            detail = error.description  # our own words, raised on purpose
        return render_error(status, detail)

    @app.errorhandler(ModelMissing)
    def _redaction_missing(error: ModelMissing):
        # Fail closed: a page that must be redacted is not shown with rules alone (most names would show).
        log.error("redacted page refused: %s", error)
        return render_error(503, REDACTION_MISSING)

    @app.errorhandler(OperationalError)
    def _database_down(error):
        log.error("database unavailable: %s", type(getattr(error, "orig", error)).__name__)
        return render_error(503)

    @app.errorhandler(SQLAlchemyError)
    def _database_error(error):
        error_id = secrets.token_hex(4)
        log.error("database error %s: %s", error_id, type(getattr(error, "orig", error)).__name__)
        return render_error(500, error_id=error_id)

    @app.errorhandler(Exception)
    def _unexpected(error):
        error_id = secrets.token_hex(4)
        # Where it happened, not the message (it may quote what someone typed).
        where = " < ".join(f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno} {frame.name}"
                           for frame in reversed(traceback.extract_tb(error.__traceback__)[-6:]))
        log.error("unexpected error %s (%s) at %s", error_id, type(error).__name__, where)
        return render_error(500, error_id=error_id)
