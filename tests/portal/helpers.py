"""Helpers shared by the portal tests (the fixtures are in conftest.py)."""
from __future__ import annotations

import asyncio
import re
from typing import Dict, List, Optional

from bot.records import session_scope

PASSWORD = "violet lantern orbit meadow"
ROLES = ("practitioner", "lead", "auditor", "admin")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def write_events(store, sender: str, events: List) -> None:
    """Append Rasa events to one conversation, as the Rasa server does."""
    tracker = asyncio.run(store.retrieve(sender)) or store.init_tracker(sender)
    for event in events:
        tracker.update(event)
    asyncio.run(store.save(tracker))


def csrf_of(response) -> str:
    found = CSRF.search(response.get_data(as_text=True))
    assert found, f"no CSRF token on {response.request.path}"
    return found.group(1)


def audit_rows(records_url: str, action: Optional[str] = None) -> List[Dict]:
    from sqlalchemy import select

    from bot.records.models import AuditEvent

    with session_scope(records_url, read_only=True) as db:
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        return [{c: getattr(r, c) for c in ("id", "username", "role", "action", "outcome", "target", "detail",
                                            "client", "at")} for r in db.execute(query).scalars()]
