"""The audit log, for auditors: newest first, filtered by person, action, record and dates.

Looking at the log is itself audited (its rows hold search terms, which may
be personal data).
"""
from __future__ import annotations

import json
from typing import Dict, List, Optional

from flask import Blueprint, render_template, request, url_for

from bot.records import audit as audit_records
from bot.text.redact import redactor

from .. import inputs
from ..access import audit, config, reading, roles

bp = Blueprint("audit", __name__, url_prefix="/audit")
MAX_PAGE = 100000


def _strings(value) -> List[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _redact_values(value, shown):
    if isinstance(value, str):
        return shown(value)
    if isinstance(value, dict):
        return {k: _redact_values(v, shown) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_values(v, shown) for v in value]
    return value


def _details(rows) -> Dict[int, Optional[str]]:
    """Row id -> its details as shown: each text value redacted (``bot.text.redact``), the keys as
    stored; a detail cut short when it was written (not JSON any more) is redacted whole."""
    parsed = {}
    for row in rows:
        try:
            parsed[row.id] = json.loads(row.detail) if row.detail else None
        except ValueError:
            parsed[row.id] = row.detail
    shown = redactor(s for value in parsed.values() for s in _strings(value))
    out = {}
    for row_id, value in parsed.items():
        if value is None or isinstance(value, str):
            out[row_id] = shown(value)
        else:
            out[row_id] = json.dumps(_redact_values(value, shown), ensure_ascii=False, sort_keys=True)
    return out


@bp.route("/")
@roles("auditor")
def index():
    filters = {
        "username": inputs.text("username", label="Username", max_chars=64),
        "action": inputs.text("action", label="Action", max_chars=64),
        "target": inputs.text("target", label="Record", max_chars=300),
        "from": inputs.day("from", label="From"),
        "to": inputs.day("to", label="To", end=True),
    }
    page = inputs.integer("page", label="Page", default=1, minimum=1, maximum=MAX_PAGE)
    if filters["from"] and filters["to"] and filters["from"] >= filters["to"]:
        raise inputs.BadInput("'From' must be on or before 'To'.")
    size = config().page_size
    with reading() as db:
        result = audit_records.search(db, username=filters["username"], action=filters["action"],
                                      target=filters["target"], since=filters["from"], until=filters["to"],
                                      limit=size, offset=(page - 1) * size)
    # The filters as typed (checked above), for the audit row and the page links.
    details = _details(result.rows)  # before the view is audited: refused without the redaction model
    typed = {key: request.args.get(key) for key in filters if request.args.get(key)}
    detail = dict(typed, page=page)
    audit("audit.view", target=",".join(f"audit:{r.id}" for r in result.rows) or None, detail=detail)
    pages = max(1, -(-result.total // size))
    return render_template("audit_log/index.html", rows=result.rows, details=details, total=result.total,
                           page=page, pages=pages,
                           form={k: request.args.get(k, "") for k in ("username", "action", "target", "from", "to")},
                           page_url=lambda n: url_for("audit.index", page=n, **typed))
