"""Web widget sessions ended by the person (quick exit), kept so no restart brings them back.

The widget channel (``bot/channels/widget.py``, in the Rasa server) writes a
row when a person leaves and checks it on every message and every resume. Only
a keyed hash of the session's nonce is stored; a row is kept until the session
token would have expired anyway, then pruned.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import WidgetRevocation, utcnow


def revoke_session(
    session: Session, session_hash: str, expires_at: datetime, *, now: Optional[datetime] = None
) -> None:
    """Record that a widget session has ended (idempotent); prune rows past their expiry."""
    now = now or utcnow()
    session.execute(
        delete(WidgetRevocation)
        .where(WidgetRevocation.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    exists = session.execute(
        select(WidgetRevocation.id).where(WidgetRevocation.session_hash == session_hash)
    ).first()
    if exists is None:
        try:
            with session.begin_nested():
                session.add(WidgetRevocation(session_hash=session_hash, revoked_at=now,
                                             expires_at=expires_at))
        except IntegrityError:  # another process recorded it first
            pass
    session.flush()


def is_revoked(session: Session, session_hash: str) -> bool:
    return session.execute(
        select(WidgetRevocation.id).where(WidgetRevocation.session_hash == session_hash)
    ).first() is not None
