"""The audit log: who looked at or did what, when, from where. Append-only.

Every view, search and export of personal data in the portal writes a row
here, in its own short transaction, before the data is shown. Rows are never
changed or deleted: the ORM and Core guards of ``bot.records.models`` refuse
it, and so do the database triggers of migration 0005 (SQLite and
PostgreSQL), for anything that goes round them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, List, Mapping, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import AuditEvent, StaffUser, utcnow

MAX_TARGET_CHARS = 4000
MAX_DETAIL_CHARS = 4000
OUTCOMES = ("ok", "refused", "failed")


def _bounded(text: Optional[str], limit: int) -> Optional[str]:
    if text is None:
        return None
    text = text.replace("\x00", "\\x00")  # PostgreSQL text cannot hold NUL
    return text if len(text) <= limit else text[: limit - 1] + "…"


def record(session: Session, action: str, *, user: Optional[StaffUser] = None,
           username: Optional[str] = None, target: Optional[str] = None,
           detail: Optional[Mapping[str, Any]] = None, client: Optional[str] = None,
           outcome: str = "ok", now: Optional[datetime] = None) -> AuditEvent:
    """Append one row. ``detail`` (filters, search terms) is stored as JSON, verbatim."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r}")
    row = AuditEvent(
        at=now or utcnow(),
        user_id=user.id if user is not None else None,
        username=(user.username if user is not None else username),
        role=user.role if user is not None else None,
        action=action[:64],
        outcome=outcome,
        target=_bounded(target, MAX_TARGET_CHARS),
        detail=_bounded(json.dumps(dict(detail), ensure_ascii=False, sort_keys=True), MAX_DETAIL_CHARS)
        if detail else None,
        client=(client or None) and client[:64],
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class AuditPage:
    rows: List[AuditEvent]
    total: int


def search(session: Session, *, username: Optional[str] = None, action: Optional[str] = None,
           target: Optional[str] = None, since: Optional[datetime] = None,
           until: Optional[datetime] = None, limit: int = 100, offset: int = 0) -> AuditPage:
    """Rows newest first, filtered. ``action`` matches a prefix (``conversation.`` finds all of them);
    ``target`` matches anywhere in the target."""
    conditions = []
    if username:
        conditions.append(AuditEvent.username == username.strip().lower())
    if action:
        conditions.append(AuditEvent.action.like(escape_like(action) + "%", escape="\\"))
    if target:
        conditions.append(AuditEvent.target.like("%" + escape_like(target) + "%", escape="\\"))
    if since is not None:
        conditions.append(AuditEvent.at >= since)
    if until is not None:
        conditions.append(AuditEvent.at < until)
    total = session.execute(select(func.count()).select_from(AuditEvent).where(*conditions)).scalar_one()
    rows = list(session.execute(
        select(AuditEvent).where(*conditions).order_by(AuditEvent.id.desc()).limit(limit).offset(offset)
    ).scalars())
    return AuditPage(rows, total)


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
