"""The start page (what this role can do) and a health check for the process supervisor."""
from __future__ import annotations

from flask import Blueprint, Response, g, render_template

from ..access import public, roles

bp = Blueprint("home", __name__)


@bp.route("/")
@roles("practitioner", "lead", "auditor", "admin")
def index():
    return render_template("home/index.html", user=g.user)


@bp.route("/healthz")
@public
def health():
    return Response("ok\n", mimetype="text/plain")
