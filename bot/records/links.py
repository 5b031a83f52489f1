"""Which conversation may read back or change an enquiry's outcomes, and until when.

Redeeming an invitation (``bot.records.invitations``) writes an
``InvitationLink``: this conversation (keyed hash of its id), this visit
(``session_ref``, which names the conversation's current Rasa session), this
enquiry, until ``expires_at`` (``MSP_LINK_MAX_MINUTES`` after redeeming). The
link is the proof the outcomes form asks for on every turn: a slot saying
``enquiry_id`` is not enough. When Rasa starts a new session (60 idle minutes,
``domain.yml``), the ``session_ref`` changes and the link no longer holds; the
used invitation cannot make a new one, so coming back needs a new invitation.
A link made by an invitation staff have since withdrawn (``revoked_at``, a
re-issued feedback link) no longer holds either.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, Iterable, Optional, Set

from sqlalchemy import select
from sqlalchemy.orm import Session

from .invitations import hash_client
from .models import Invitation, InvitationLink, utcnow


def live_link(
    session: Session,
    conversation_key: str,
    session_ref: str,
    enquiry_id: Any,
    *,
    now: Optional[datetime] = None,
) -> Optional[InvitationLink]:
    """The link that lets this visit of this conversation see ``enquiry_id``, or None."""
    if not conversation_key or not isinstance(session_ref, str) or enquiry_id is None:
        return None
    try:
        enquiry_id = int(enquiry_id)
    except (TypeError, ValueError):
        return None
    now = now or utcnow()
    return session.execute(
        select(InvitationLink)
        .join(Invitation, Invitation.id == InvitationLink.invitation_id)
        .where(
            InvitationLink.conversation_hash == hash_client(conversation_key),
            InvitationLink.session_ref == session_ref[:64],
            InvitationLink.enquiry_id == enquiry_id,
            InvitationLink.expires_at > now,
            Invitation.revoked_at.is_(None),
        )
        .order_by(InvitationLink.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def is_linked(
    session: Session,
    conversation_key: str,
    session_ref: str,
    enquiry_id: Any,
    *,
    now: Optional[datetime] = None,
) -> bool:
    return live_link(session, conversation_key, session_ref, enquiry_id, now=now) is not None


def linked_conversation_hashes(session: Session, enquiry_ids: Optional[Iterable[int]] = None) -> Dict[str, Set[int]]:
    """Keyed hashes of conversations that an invitation ever linked to an enquiry, with the enquiries.

    Staff access follows these links, not the visit's time limit: a
    practitioner may read a conversation that was linked to their enquiry
    once, after the link itself has lapsed. ``enquiry_ids`` None: every link.
    """
    statement = select(InvitationLink.conversation_hash, InvitationLink.enquiry_id)
    if enquiry_ids is not None:
        ids = sorted({int(i) for i in enquiry_ids})
        if not ids:
            return {}
        statement = statement.where(InvitationLink.enquiry_id.in_(ids))
    found: Dict[str, Set[int]] = {}
    for conversation_hash, enquiry_id in session.execute(statement):
        found.setdefault(conversation_hash, set()).add(enquiry_id)
    return found


def conversation_key_hash(conversation_key: str) -> str:
    """The keyed hash the records keep for a conversation id (``InvitationLink.conversation_hash``)."""
    return hash_client(conversation_key)
