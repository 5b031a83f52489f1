"""The start page (what this role can do) and a health check for the process supervisor."""
from __future__ import annotations

from flask import Blueprint, Response, g, render_template

from ..access import public, reading, roles

bp = Blueprint("home", __name__)


@bp.route("/")
@roles("practitioner", "lead", "auditor", "admin")
def index():
    undelivered = 0
    if g.user.role == "lead":  # the duty lead sees every referral; the number only, no content
        from bot.records import advocacy

        with reading() as db:
            undelivered = len(advocacy.list_referrals(db, "failed"))
    return render_template("home/index.html", user=g.user, undelivered=undelivered)


@bp.route("/healthz")
@public
def health():
    return Response("ok\n", mimetype="text/plain")
