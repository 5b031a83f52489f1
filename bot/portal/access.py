"""Who may open what: server-side sessions, roles, CSRF, and the audit helper.

Sessions. The cookie holds a random token; the ``staff_sessions`` row (found
by the token's hash) holds everything else. A session starts ``anonymous``
when a sign-in form is first shown, and is replaced by a new one (new token,
new CSRF token) at each step of signing in: password right (``password``, or
``enrol`` when the account has no second factor yet), then code right
(``full``). Signing out deletes the row; changing the password deletes every
row of the account. A copied cookie then finds nothing. A session unused for
``idle_minutes`` or older than ``session_hours`` is deleted when next seen.

Every view declares who may open it, with one of the decorators below; a view
without a declaration is refused to everyone (``tests/portal`` walks every
route with every role against the access matrix). The checks run in this
order: session, stage, role, then the CSRF token on every POST.

Database use. Reads run in read-only sessions; each write (a session row, an
audit row) is its own short transaction, committed before the page is made:
on SQLite a writing transaction holds the file's write lock, which the
action server needs too.
"""
from __future__ import annotations

import hmac
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

from flask import current_app, g, redirect, request, url_for
from werkzeug.exceptions import Forbidden

from bot.records import audit as audit_records
from bot.records import staff
from bot.records.db import session_scope
from bot.records.models import STAFF_ROLES, StaffSession, StaffUser, utcnow

from . import credentials
from .config import PortalConfig
from .inputs import BadInput

TOUCH_SECONDS = 15  # last activity is written at most this often
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def config() -> PortalConfig:
    return current_app.config["PORTAL"]


@contextmanager
def reading() -> Iterator:
    """A read-only session. What it loaded stays readable after it ends (detached, not expired)."""
    with session_scope(config().database_url, read_only=True) as session:
        yield session
        session.expunge_all()  # before the closing rollback, which would expire them


@contextmanager
def writing() -> Iterator:
    with session_scope(config().database_url) as session:
        yield session


# --- declarations ----------------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    kind: str  # "public", "stage" or "roles"
    values: Sequence[str] = ()


def public(view: Callable) -> Callable:
    """Anyone, signed in or not (sign-in pages, static files, health)."""
    view.access = Access("public")
    return view


def signing_in(*stages: str) -> Callable[[Callable], Callable]:
    """Only a session at one of these sign-in stages (the code page, enrolment)."""
    def decorate(view: Callable) -> Callable:
        view.access = Access("stage", tuple(stages))
        return view
    return decorate


def roles(*names: str) -> Callable[[Callable], Callable]:
    """Only a signed-in member of staff (second factor given) with one of these roles."""
    unknown = set(names) - set(STAFF_ROLES)
    if unknown or not names:
        raise ValueError(f"unknown roles {unknown}")

    def decorate(view: Callable) -> Callable:
        view.access = Access("roles", tuple(names))
        return view
    return decorate


def access_of(endpoint: Optional[str]) -> Optional[Access]:
    if endpoint == "static":
        return Access("public")
    view = current_app.view_functions.get(endpoint) if endpoint else None
    return getattr(view, "access", None)


# --- the session ------------------------------------------------------------------------


def load_session() -> None:
    """Find this request's session (if any), end it if it has lapsed, note the last activity."""
    cfg = config()
    g.client = (request.remote_addr or "-")[:64]
    g.staff_session = None
    g.user = None
    g.pending_user = None
    g.session_lapsed = False
    g.new_cookie = None
    g.clear_cookie = False
    token = request.cookies.get(cfg.cookie_name)
    if not token or len(token) > 128:
        return
    hashed = credentials.token_hash(token)
    now = utcnow()
    with reading() as db:
        row = staff.find_session(db, hashed)
        user = staff.get_user(db, row.user_id) if row is not None and row.user_id is not None else None
    if row is None:
        g.clear_cookie = True
        return
    idle = timedelta(minutes=cfg.idle_minutes)
    lapsed = row.last_seen_at < now - idle or row.expires_at <= now
    inactive = row.user_id is not None and (user is None or not user.active)
    if lapsed or inactive:
        with writing() as db:
            staff.delete_session(db, row.id)
        g.clear_cookie = True
        g.session_lapsed = lapsed and row.stage != "anonymous"
        return
    if (now - row.last_seen_at).total_seconds() >= TOUCH_SECONDS:
        with writing() as db:
            live = db.get(StaffSession, row.id)
            if live is not None:
                live.last_seen_at = now
        row.last_seen_at = now
    g.staff_session = row
    g.user = user if row.stage == "full" else None
    g.pending_user = user


def start_session(stage: str, user: Optional[StaffUser] = None) -> StaffSession:
    """A new session (new token, new CSRF token) in place of the current one, if any."""
    cfg = config()
    token = credentials.new_token()
    now = utcnow()
    with writing() as db:
        if g.get("staff_session") is not None:
            staff.delete_session(db, g.staff_session.id)
        row = staff.create_session(
            db, credentials.token_hash(token), stage=stage, csrf_token=credentials.new_token(),
            client=g.client, user_id=user.id if user is not None else None, now=now,
            expires_at=now + timedelta(hours=cfg.session_hours),
        )
    g.staff_session = row
    g.user = user if stage == "full" else None
    g.pending_user = user
    g.new_cookie = token
    g.clear_cookie = False
    return row


def ensure_session() -> StaffSession:
    """The current session, or a new anonymous one (a sign-in form needs a CSRF token)."""
    if g.get("staff_session") is None:
        return start_session("anonymous")
    return g.staff_session


def end_session() -> None:
    if g.get("staff_session") is not None:
        with writing() as db:
            staff.delete_session(db, g.staff_session.id)
    g.staff_session = None
    g.user = None
    g.pending_user = None
    g.new_cookie = None
    g.clear_cookie = True


def save_cookie(response):
    cfg = config()
    if g.get("new_cookie"):
        response.set_cookie(cfg.cookie_name, g.new_cookie, path="/", secure=cfg.cookie_secure, httponly=True,
                            samesite="Strict")
    elif g.get("clear_cookie"):
        response.delete_cookie(cfg.cookie_name, path="/", secure=cfg.cookie_secure, httponly=True,
                               samesite="Strict")
    return response


def csrf_token() -> str:
    row = g.get("staff_session")
    return row.csrf_token if row is not None else ""


# --- enforcement -------------------------------------------------------------------------


def _stage_home(row: Optional[StaffSession]):
    if row is not None and row.stage == "password":
        return redirect(url_for("auth.second_factor"))
    if row is not None and row.stage == "enrol":
        return redirect(url_for("auth.enrol"))
    if g.get("session_lapsed"):
        return redirect(url_for("auth.login", lapsed="1"))
    return redirect(url_for("auth.login"))


def enforce() -> Optional[Any]:
    """Run before every view: refuse, redirect, or let it through."""
    if request.endpoint is None:
        return None  # no route: Flask answers 404/405 itself
    rule = access_of(request.endpoint)
    if rule is None:
        raise Forbidden("This page has no access rule, so it is closed to everyone.")
    row = g.get("staff_session")
    if rule.kind == "stage":
        if row is None or row.stage not in rule.values:
            return _stage_home(row)
    elif rule.kind == "roles":
        if row is None or row.stage != "full" or g.user is None:
            return _stage_home(row)
        if g.user.role not in rule.values:
            audit("access.refused", target=f"page:{request.endpoint}", outcome="refused")
            raise Forbidden("Your role does not give access to this page.")
    if request.method not in SAFE_METHODS:
        check_csrf()
    return None


def check_csrf() -> None:
    row = g.get("staff_session")
    sent = request.form.get("csrf_token", "")
    if row is None or not isinstance(sent, str) or not hmac.compare_digest(
            sent.encode("utf-8", "surrogatepass"), row.csrf_token.encode()):
        raise BadInput("This form has expired or did not come from this portal. "
                       "Please go back, reload the page and try again.")


# --- audit --------------------------------------------------------------------------------


CURRENT = object()  # audit(): the member of staff this session belongs to


def audit(action: str, *, target: Optional[str] = None, detail: Optional[Mapping[str, Any]] = None,
          outcome: str = "ok", user: Any = CURRENT, username: Optional[str] = None) -> None:
    """Append one audit row now, in its own transaction (before anything is shown).

    ``user``: whose action it was (default: this session's member of staff,
    signed in or half-way; None: nobody known, e.g. a name that matches no account).
    """
    who = (g.get("user") or g.get("pending_user")) if user is CURRENT else user
    with writing() as db:
        audit_records.record(db, action, user=who, username=username, target=target, detail=detail,
                             client=g.get("client"), outcome=outcome)
