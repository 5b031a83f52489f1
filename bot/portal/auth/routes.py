"""Signing in (password, then the second factor), enrolment, signing out, changing the password,
and accepting an administrator's invitation.

The same words answer an unknown name, a wrong password and a deactivated
account. Failed passwords and codes are counted per account (by a hash of the
name typed, known or not) and per client address; past the limits each try
waits longer (``credentials.Backoff``). Every step is audited.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for

from bot.records import staff
from bot.records.errors import AlreadyExists, InvalidValue
from bot.records.models import StaffUser, utcnow
from bot.records.totp_keys import TotpKeyWrong

from .. import credentials, inputs
from ..access import (audit, config, end_session, ensure_session, public, reading, roles, signing_in,
                      start_session, writing)

bp = Blueprint("auth", __name__, url_prefix="/auth")

ALL_ROLES = ("practitioner", "lead", "auditor", "admin")
WRONG_PASSWORD = "The username or password is not right."
WRONG_CODE = "That code is not right. Check the time on your phone is right, and try the newest code."


def _wait(account_key: str) -> Optional[timedelta]:
    """How long sign-in must wait for this account or this address (None: not at all)."""
    cfg = config()
    per_account, per_client = credentials.backoffs(cfg)
    now = utcnow()
    since = now - max(per_account.window, per_client.window)
    with reading() as db:
        waits = [
            per_account.wait(staff.failures_since(db, since, account_key=account_key), now),
            per_client.wait(staff.failures_since(db, since, client=g.client), now),
        ]
    waits = [w for w in waits if w is not None]
    return max(waits) if waits else None


def _locked_message(wait: timedelta) -> str:
    return ("Signing in is paused after too many failed tries from this account or this address. "
            f"Please wait {credentials.minutes_text(wait)} and try again, or ask an administrator.")


def _failed(account_key: str) -> None:
    with writing() as db:
        staff.record_failure(db, account_key, g.client)


# --- password ------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if g.get("user") is not None:
        return redirect(url_for("home.index"))
    notice = None
    if request.args.get("signed_out") == "1":
        notice = "You have signed out."
    elif g.get("session_lapsed") or request.args.get("lapsed") == "1":
        notice = f"You were signed out after {config().idle_minutes} minutes without activity."
    if request.method == "GET":
        ensure_session()
        return render_template("auth/login.html", notice=notice, error=None)

    username = inputs.text("username", label="Username", max_chars=200, form=True) or ""
    password = inputs.secret("password", label="Password")
    key = credentials.account_key(username)
    wait = _wait(key)
    if wait is not None:
        audit("login.refused", detail={"reason": "back-off"}, outcome="refused", user=None)
        return render_template("auth/login.html", notice=None, error=_locked_message(wait)), 429
    with reading() as db:
        user = staff.get_user_by_username(db, username)
    params = config().argon2
    ok = credentials.verify_password(user.password_hash if user is not None else None, password, params)
    if not ok or user is None or not user.active:
        _failed(key)
        audit("login.failed", target=f"user:{user.id}" if user is not None else None,
              detail={"step": "password"}, outcome="failed", user=user)
        return render_template("auth/login.html", notice=None, error=WRONG_PASSWORD)
    if credentials.needs_rehash(user.password_hash, params):
        with writing() as db:
            staff.rehash_password(db.get(StaffUser, user.id), credentials.hash_password(password, params))
    if user.enrolled:
        start_session("password", user)
        audit("login.password_ok", target=f"user:{user.id}")
        return redirect(url_for("auth.second_factor"))
    start_session("enrol", user)
    audit("login.password_ok", target=f"user:{user.id}", detail={"next": "enrol"})
    return redirect(url_for("auth.enrol"))


# --- second factor --------------------------------------------------------------------------


@bp.route("/code", methods=["GET", "POST"])
@signing_in("password")
def second_factor():
    user = g.pending_user
    if request.method == "GET":
        return render_template("auth/code.html", error=None)
    code = inputs.secret("code", label="Code", max_chars=64).strip()
    key = credentials.account_key(user.username)
    wait = _wait(key)
    if wait is not None:
        audit("login.refused", detail={"reason": "back-off", "step": "code"}, outcome="refused")
        return render_template("auth/code.html", error=_locked_message(wait)), 429
    factor = None
    box = config().totp_box()
    # Decrypted only for what looks like an app's code, so recovery codes work even when the key does
    # not fit. A key that does not fit is the portal's problem, not a wrong code: TotpKeyWrong -> errors.py.
    secret = staff.totp_secret(user, box) if credentials.looks_like_totp_code(code) else None
    step = credentials.totp_step(secret, code) if secret else None
    with writing() as db:
        if step is not None and staff.accept_totp_step(db, user, step):
            factor = "authenticator"
            staff.reseal_totp(db, user.id, box)  # made with an older key: now with the newest
        elif step is None:
            recovery = credentials.recovery_code_hash(code)
            if recovery is not None and staff.use_recovery_code(db, user.id, recovery):
                factor = "recovery code"
    if factor is None:
        _failed(key)
        audit("login.failed", target=f"user:{user.id}", detail={"step": "code"}, outcome="failed")
        return render_template("auth/code.html", error=WRONG_CODE)
    with writing() as db:
        staff.clear_failures(db, key)
        staff.purge_sessions(db, idle=timedelta(minutes=config().idle_minutes))
        remaining = staff.unused_recovery_codes(db, user.id)
    start_session("full", user)
    audit("login.ok", target=f"user:{user.id}", detail={"factor": factor})
    if factor == "recovery code":
        return render_template("auth/recovery_used.html", remaining=remaining)
    return redirect(url_for("home.index"))


@bp.route("/enrol", methods=["GET", "POST"])
@signing_in("enrol")
def enrol():
    user = g.pending_user
    row = g.staff_session
    box = config().totp_box()
    try:
        secret = staff.pending_totp(row, box)
    except TotpKeyWrong:
        secret = None  # made with a key the portal no longer has: set up with a new one
    if not secret:
        secret = credentials.new_totp_secret()
        with writing() as db:
            live = staff.find_session(db, row.token_hash)
            staff.set_pending_totp(live, secret, box)
        row.pending_totp_secret = live.pending_totp_secret
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    if request.method == "GET":
        return render_template("auth/enrol.html", secret=grouped, error=None)
    code = inputs.secret("code", label="Code", max_chars=64).strip()
    key = credentials.account_key(user.username)
    wait = _wait(key)
    if wait is not None:
        return render_template("auth/enrol.html", secret=grouped, error=_locked_message(wait)), 429
    step = credentials.totp_step(secret, code)
    if step is None:
        _failed(key)
        audit("enrol.failed", target=f"user:{user.id}", outcome="failed")
        return render_template("auth/enrol.html", secret=grouped, error=WRONG_CODE)
    codes = credentials.new_recovery_codes()
    with writing() as db:
        live_user = db.get(StaffUser, user.id)
        staff.enrol_totp(db, live_user, secret, step, box=box)
        staff.replace_recovery_codes(db, live_user.id, [credentials.recovery_code_hash(c) for c in codes])
        staff.clear_failures(db, key)
    start_session("full", live_user)
    audit("enrol.ok", target=f"user:{user.id}")
    return render_template("auth/recovery_codes.html", codes=codes)


@bp.route("/enrol/qr.svg")
@signing_in("enrol")
def enrol_qr():
    try:
        secret = staff.pending_totp(g.staff_session, config().totp_box())
    except TotpKeyWrong:
        secret = None
    if not secret:
        abort(404, description="Open the set-up page first.")
    svg = credentials.qr_svg(credentials.provisioning_uri(secret, g.pending_user.username))
    return Response(svg, mimetype="image/svg+xml")


# --- leaving, and the password ------------------------------------------------------------


@bp.route("/logout", methods=["POST"])
@signing_in("password", "enrol", "full")
def logout():
    audit("logout")
    end_session()
    return redirect(url_for("auth.login", signed_out="1"))


@bp.route("/password", methods=["GET", "POST"])
@roles(*ALL_ROLES)
def password():
    user = g.user
    if request.method == "GET":
        return render_template("auth/password.html", error=None)
    current = inputs.secret("current", label="Current password")
    new = inputs.secret("new", label="New password")
    repeat = inputs.secret("repeat", label="New password again")
    key = credentials.account_key(user.username)
    wait = _wait(key)
    if wait is not None:
        return render_template("auth/password.html", error=_locked_message(wait)), 429
    params = config().argon2
    with reading() as db:
        stored = db.get(StaffUser, user.id).password_hash
    if not credentials.verify_password(stored, current, params):
        _failed(key)
        audit("password.failed", target=f"user:{user.id}", outcome="failed")
        return render_template("auth/password.html", error="Your current password is not right.")
    if new != repeat:
        return render_template("auth/password.html", error="The two new passwords are not the same.")
    if new == current:
        return render_template("auth/password.html", error="The new password must be different.")
    try:
        credentials.check_new_password(new, username=user.username, config=config())
    except credentials.PasswordRejected as error:
        return render_template("auth/password.html", error=str(error))
    with writing() as db:
        live = db.get(StaffUser, user.id)
        # Ends every session of the account, this one included...
        staff.set_password_hash(db, live, credentials.hash_password(new, params))
    g.staff_session = None
    # ...and this browser carries on in a new one.
    start_session("full", live)
    audit("password.changed", target=f"user:{user.id}")
    return render_template("auth/password_changed.html")


# --- invitations ----------------------------------------------------------------------------


def _open_invitation(token: str):
    if len(token) > 100:
        return None
    with reading() as db:
        return staff.open_staff_invitation(db, credentials.token_hash(token))


@bp.route("/invite/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str):
    invitation = _open_invitation(token)
    if invitation is None:
        abort(404, description="This invitation link does not work: it may have expired or been used "
                               "already. Ask an administrator for a new one.")
    if request.method == "GET":
        ensure_session()
        return render_template("auth/invitation.html", invitation=invitation, error=None, form={})
    form = {
        "username": inputs.text("username", label="Username", max_chars=64, form=True) or "",
        "display_name": inputs.text("display_name", label="Your name", max_chars=200, form=True) or "",
    }
    new = inputs.secret("password", label="Password")
    repeat = inputs.secret("repeat", label="Password again")

    def again(message: str):
        return render_template("auth/invitation.html", invitation=invitation, error=message, form=form)

    if new != repeat:
        return again("The two passwords are not the same.")
    try:
        username = staff.normalise_username(form["username"])
        staff.normalise_display_name(form["display_name"])
        credentials.check_new_password(new, username=username, config=config())
    except (InvalidValue, credentials.PasswordRejected) as error:
        return again(str(error))
    password_hash = credentials.hash_password(new, config().argon2)
    try:
        with writing() as db:
            live = staff.open_staff_invitation(db, invitation.token_hash)
            if live is None:
                abort(404, description="This invitation link has just been used or has expired.")
            user = staff.create_user(db, username, display_name=form["display_name"], role=live.role,
                                     team=live.team, password_hash=password_hash,
                                     created_by_id=live.created_by_id)
            if not staff.use_staff_invitation(db, live, user.id):
                raise AlreadyExists("This invitation link has just been used.")
    except AlreadyExists as error:
        return again(str(error))
    start_session("enrol", user)
    audit("account.created", target=f"user:{user.id}",
          detail={"invitation": invitation.id, "role": user.role, "team": user.team})
    return redirect(url_for("auth.enrol"))
