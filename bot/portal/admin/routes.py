"""Accounts, for administrators: the list, invitations (a link shown once), deactivating an
account, and resetting a lost second factor; and erasing one conversation on request. No case
content here: the erasure pages show a conversation's id, size and dates, never what was said."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from bot.records import retention, staff
from bot.records.errors import InvalidValue, NotFound
from bot.records.transcripts import TrackerUnavailable
from bot.records.models import STAFF_ROLES, StaffUser, utcnow

from .. import credentials, inputs
from ..access import audit, config, reading, roles, writing

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@roles("admin")
def users():
    with reading() as db:
        accounts = staff.list_users(db)
        invitations = staff.list_staff_invitations(db)
    audit("users.view", target="users")
    return render_template("admin/users.html", accounts=accounts, invitations=invitations, now=utcnow(),
                           notice=_notice())


def _notice():
    return {
        "deactivated": "The account is deactivated and its sessions have ended.",
        "reset": "The second factor is reset: the account sets up a new one at its next sign-in.",
        "revoked": "The invitation is withdrawn.",
    }.get(request.args.get("done", ""))


@bp.route("/invitations/new", methods=["GET", "POST"])
@roles("admin")
def invite():
    cfg = config()
    if request.method == "GET":
        return render_template("admin/invite.html", roles=STAFF_ROLES, error=None, form={},
                               days=cfg.invitation_days, max_days=cfg.max_invitation_days)
    form = {
        "role": inputs.choice("role", STAFF_ROLES, label="Role", form=True),
        "team": inputs.text("team", label="Team", max_chars=64, form=True),
        "note": inputs.text("note", label="Note", max_chars=200, form=True),
    }
    days = inputs.integer("days", label="Days the link works", default=cfg.invitation_days, minimum=1,
                          maximum=cfg.max_invitation_days, form=True)
    if form["role"] is None:
        return render_template("admin/invite.html", roles=STAFF_ROLES, error="Choose a role.", form=form,
                               days=days, max_days=cfg.max_invitation_days)
    token = credentials.new_token()
    expires_at = utcnow() + timedelta(days=days)
    try:
        with writing() as db:
            invitation = staff.create_staff_invitation(
                db, credentials.token_hash(token), role=form["role"], team=form["team"], note=form["note"],
                created_by_id=g.user.id, expires_at=expires_at)
    except InvalidValue as error:
        return render_template("admin/invite.html", roles=STAFF_ROLES, error=str(error), form=form,
                               days=days, max_days=cfg.max_invitation_days)
    audit("invitation.created", target=f"staff_invitation:{invitation.id}",
          detail={"role": invitation.role, "team": invitation.team, "days": days})
    link = cfg.base_url + url_for("auth.accept_invitation", token=token)
    return render_template("admin/invitation_link.html", link=link, invitation=invitation)


@bp.route("/invitations/<int(max=2147483647):invitation_id>/revoke", methods=["POST"])
@roles("admin")
def revoke(invitation_id: int):
    with writing() as db:
        done = staff.revoke_staff_invitation(db, invitation_id)
    if not done:
        abort(404, description="There is no open invitation with that number.")
    audit("invitation.revoked", target=f"staff_invitation:{invitation_id}")
    return redirect(url_for("admin.users", done="revoked"))


def _other_account(user_id: int) -> StaffUser:
    with reading() as db:
        account = staff.get_user(db, user_id)
    if account is None:
        abort(404, description="There is no account with that number.")
    if account.id == g.user.id:
        abort(400, description="You cannot do this to your own account.")
    return account


@bp.route("/users/<int(max=2147483647):user_id>/deactivate", methods=["POST"])
@roles("admin")
def deactivate(user_id: int):
    account = _other_account(user_id)
    with writing() as db:
        live = db.get(StaffUser, account.id)
        if not live.active:
            abort(400, description="That account is already deactivated.")
        staff.deactivate_user(db, live)
    audit("account.deactivated", target=f"user:{account.id}")
    return redirect(url_for("admin.users", done="deactivated"))


@bp.route("/users/<int(max=2147483647):user_id>/reset-second-factor", methods=["POST"])
@roles("admin")
def reset_second_factor(user_id: int):
    account = _other_account(user_id)
    with writing() as db:
        live = db.get(StaffUser, account.id)
        live.totp_secret = None
        live.totp_enrolled_at = None
        live.totp_last_step = None
        staff.replace_recovery_codes(db, live.id, [])
        staff.end_user_sessions(db, live.id)
    audit("account.second_factor_reset", target=f"user:{account.id}")
    return redirect(url_for("admin.users", done="reset"))


# --- erasure of one conversation, on request -----------------------------------------------


def _erase_form(**values):
    return render_template("admin/erase.html", max_reason=retention.MAX_REASON_CHARS, **values)


@bp.route("/erase", methods=["GET", "POST"])
@roles("admin")
def erase():
    """Step 1: the id and the reason. POST: check the conversation exists, then ask to confirm."""
    if request.method == "GET":
        return _erase_form(form={}, error=None, done=request.args.get("done") == "1")
    form = {"sender_id": request.form.get("sender_id", "")[:255], "reason": request.form.get("reason", "")[:500]}
    try:
        sender = inputs.sender_id("sender_id", label="Conversation id", form=True)
        reason = inputs.text("reason", label="Reason", max_chars=retention.MAX_REASON_CHARS, form=True,
                             required=True)
    except inputs.BadInput as error:
        return _erase_form(form=form, error=str(error), done=False)
    try:
        found = retention.facts(sender, records_url=config().database_url, tracker_url=config().tracker_url)
    except TrackerUnavailable:
        found = None
    audit("conversation.erase_checked", target=f"conversation:{sender}", detail={"found": found is not None})
    if found is None:
        return _erase_form(form=form, error="There is no conversation with that id.", done=False)
    return render_template("admin/erase_confirm.html", found=found, reason=reason, error=None)


@bp.route("/erase/confirm", methods=["POST"])
@roles("admin")
def erase_confirm():
    """Step 2: erase, once the administrator has ticked the confirmation."""
    sender = inputs.sender_id("sender_id", label="Conversation id", form=True)
    reason = inputs.text("reason", label="Reason", max_chars=retention.MAX_REASON_CHARS, form=True, required=True)
    if request.form.get("confirm") != "yes":
        try:
            found = retention.facts(sender, records_url=config().database_url, tracker_url=config().tracker_url)
        except TrackerUnavailable:
            found = None
        if found is None:
            abort(404, description="There is no conversation with that id.")
        return render_template("admin/erase_confirm.html", found=found, reason=reason,
                               error="Tick the box to confirm the erasure, or go back.")
    try:
        retention.erase(sender, reason=reason, user=g.user, client=g.client, records_url=config().database_url,
                        tracker_url=config().tracker_url)
    except (NotFound, TrackerUnavailable):
        abort(404, description="There is no conversation with that id.")
    return redirect(url_for("admin.erase", done="1"))
