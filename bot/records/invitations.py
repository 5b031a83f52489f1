"""Single-use, expiring invitations that link a conversation to an enquiry.

An invitation has two secrets, either of which redeems it:

* a **token** for the web link: ``secrets.token_urlsafe(32)`` (256 bits);
* a **short code** to type or read over the phone: 8 characters from an
  alphabet without 0/O/1/I, shown as ``XXXX-XXXX`` (40 bits).

Only keyed hashes (HMAC-SHA256) of the secrets are stored. The key comes from
``MSP_INVITATION_SECRET``; set it in production (and keep it the same for every
process), so that someone who can read the database still cannot work out a
short code from its hash. Changing it invalidates unredeemed invitations.

The link carries the token in the URL *fragment* (``…/#invite=TOKEN``): browsers
never send the fragment to a server, so it stays out of access logs and
``Referer`` headers. The widget reads it from ``location.hash``.

Guessing short codes is limited three ways (``RateLimit``), because the client
key is only as good as the channel makes it (the web conversation id is chosen
by the server for the widget, but a REST client chooses its own):

* **per client**: after ``max_failures`` failed tries in ``window`` the client
  gets ``rate_limited`` until the oldest failure ages out;
* **for everyone**: when ``global_max_failures`` wrong codes arrive from all
  clients together inside ``global_window`` (a flood, e.g. one guesser rotating
  sender ids), *every* short code is answered ``rate_limited`` until the flood
  ages out. That caps the guessing rate of the whole system (30 per 5 minutes
  by default: about 8,600 a day against 2**40 codes). People can still use
  their link (256 bits, never throttled) or phone the council;
* **per invitation**: ``attempts`` counts every time an invitation is presented;
  past ``max_attempts_per_invitation`` it is ``locked`` (a code tried again and
  again after it was used has probably leaked; staff issue a new one).

Failures are rows in ``invitation_code_failures`` so the limits hold across
processes.

An invitation is single-use. Redeeming it links *this visit* of one
conversation (``client_key`` and ``session_ref``, the Rasa session) to the
enquiry (``InvitationLink``, see ``bot.records.links``). The same message
arriving twice within that visit gets ``ok`` with ``repeat=True`` (it opens
nothing new); from anyone else, or from the same conversation after its session
has lapsed, the code is ``used``: it never works again.

Staff may withdraw an invitation (:func:`revoke_invitation`, when a feedback
link is re-issued): it is then ``revoked``, used or not, and the visit it
opened is no longer linked (``bot.records.links``).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from .enquiries import require_enquiry
from .errors import InvalidValue
from .models import CodeFailure, Invitation, InvitationLink, utcnow

SECRET_ENV = "MSP_INVITATION_SECRET"
PUBLIC_URL_ENV = "MSP_PUBLIC_URL"
DEFAULT_PUBLIC_URL = "http://localhost:8000"
_DEFAULT_SECRET = b"msp-assistant-invitations-development-key"

DEFAULT_DAYS = 14
MAX_DAYS = 90
TOKEN_BYTES = 32
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0, 1, I, O
CODE_LENGTH = 8
LINK_PARAMETER = "invite"

_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_CODE_SEPARATORS = re.compile(r"[\s\-\u2010\u2011\u2012\u2013\u2014\u2212_.]+")

# Reasons a redemption gives.
OK = "ok"
EXPIRED = "expired"
USED = "used"
UNKNOWN = "unknown"
MALFORMED = "malformed"
RATE_LIMITED = "rate_limited"
LOCKED = "locked"
REVOKED = "revoked"
REASONS = (OK, EXPIRED, USED, UNKNOWN, MALFORMED, RATE_LIMITED, LOCKED, REVOKED)

LINK_MINUTES_ENV = "MSP_LINK_MAX_MINUTES"
DEFAULT_LINK_MINUTES = 120


@dataclass(frozen=True)
class RateLimit:
    #: per client
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    #: all clients together: past this, every short code waits
    global_max_failures: int = 30
    global_window: timedelta = timedelta(minutes=5)
    #: presentations of one invitation (the first, working one included)
    max_attempts_per_invitation: int = 5


DEFAULT_RATE_LIMIT = RateLimit()


@dataclass(frozen=True)
class RedeemResult:
    reason: str
    enquiry_id: Optional[int] = None
    invitation_id: Optional[int] = None
    repeat: bool = False
    retry_after: Optional[int] = None  # seconds, for rate_limited

    @property
    def ok(self) -> bool:
        return self.reason == OK


@dataclass(frozen=True)
class IssuedInvitation:
    """What staff hand to the person. The token and code exist only here, never stored."""

    invitation: Invitation
    token: str
    code: str  # display form, XXXX-XXXX
    expires_at: datetime

    def link(self, base_url: Optional[str] = None) -> str:
        return invitation_link(self.token, base_url)


# --- secrets and their hashes ----------------------------------------------


def _key() -> bytes:
    secret = os.environ.get(SECRET_ENV, "")
    return secret.encode("utf-8") if secret else _DEFAULT_SECRET


def _hash(kind: str, value: str) -> str:
    return hmac.new(_key(), f"{kind}:{value}".encode("utf-8"), hashlib.sha256).hexdigest()


def hash_token(token: str) -> str:
    return _hash("token", token)


def hash_code(code: str) -> str:
    """Hash of a *normalised* code (8 characters, no separator)."""
    return _hash("code", code)


def hash_client(client_key: str) -> str:
    return _hash("client", client_key)


def generate_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def generate_code() -> str:
    """Eight random characters with at least one digit, so that no code is
    ever made of words ("SELF-HARM") and no word is taken for a code."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if any(ch.isdigit() for ch in code):
            return code


def format_code(code: str) -> str:
    half = CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def normalise_code(text) -> Optional[str]:
    """The 8-character code from what someone typed (any case, spaces or dashes), or None."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    compact = _CODE_SEPARATORS.sub("", text).upper()
    if len(compact) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in compact):
        return None
    return compact


def is_well_formed_token(token) -> bool:
    return isinstance(token, str) and bool(_TOKEN_RE.match(token))


def public_base_url(base_url: Optional[str] = None) -> str:
    base = base_url or os.environ.get(PUBLIC_URL_ENV, "").strip() or DEFAULT_PUBLIC_URL
    return base.rstrip("/")


def invitation_link(token: str, base_url: Optional[str] = None) -> str:
    return f"{public_base_url(base_url)}/#{LINK_PARAMETER}={token}"


def token_from_link(text) -> Optional[str]:
    """The token from a pasted link (fragment or query ``invite=``), or None."""
    if not isinstance(text, str) or len(text) > 2000:
        return None
    text = text.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    for piece in (parts.fragment, parts.query):
        values = parse_qs(piece).get(LINK_PARAMETER)
        if values:
            return values[0]
    return None


# --- issuing ----------------------------------------------------------------


def create_invitation(
    session: Session,
    enquiry_id: int,
    *,
    days: int = DEFAULT_DAYS,
    created_by: Optional[str] = None,
    now: Optional[datetime] = None,
    for_feedback: bool = False,
) -> IssuedInvitation:
    """Issue an invitation for an open enquiry, valid for ``days`` days.

    ``for_feedback``: the invitation to a closed enquiry's feedback survey
    (``bot.surveys.request``), which opens the feedback conversation instead."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise InvalidValue(f"An invitation lasts from 1 to {MAX_DAYS} days, not {days!r}.")
    enquiry = require_enquiry(session, enquiry_id)
    if enquiry.status != "open" and not for_feedback:
        raise InvalidValue(f"Enquiry {enquiry.reference!r} is closed; it cannot take invitations.")
    now = now or utcnow()
    for _ in range(10):
        token, code = generate_token(), generate_code()
        token_hash, code_hash = hash_token(token), hash_code(code)
        clash = session.execute(
            select(Invitation.id).where(
                (Invitation.token_hash == token_hash) | (Invitation.code_hash == code_hash)
            )
        ).first()
        if clash is None:
            break
    else:  # pragma: no cover - 10 collisions in a 2**40 space
        raise RuntimeError("could not generate a unique invitation code")
    invitation = Invitation(
        enquiry_id=enquiry.id,
        token_hash=token_hash,
        code_hash=code_hash,
        created_at=now,
        created_by=created_by.strip()[:200] if created_by and created_by.strip() else None,
        expires_at=now + timedelta(days=days),
        attempts=0,
    )
    session.add(invitation)
    session.flush()
    return IssuedInvitation(
        invitation=invitation, token=token, code=format_code(code), expires_at=invitation.expires_at
    )


def revoke_invitation(session: Session, invitation_id: int, *, now: Optional[datetime] = None) -> bool:
    """Withdraw an invitation: it redeems nothing from now on, and the visit it opened is no longer
    linked. Set once (True); an invitation already withdrawn is left as it was (False)."""
    invitation = session.get(Invitation, invitation_id)
    if invitation is None:
        raise InvalidValue(f"There is no invitation {invitation_id}.")
    withdrawn = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    session.refresh(invitation)
    return withdrawn.rowcount == 1


def list_invitations(session: Session, enquiry_id: int):
    return list(
        session.execute(
            select(Invitation).where(Invitation.enquiry_id == enquiry_id).order_by(Invitation.id)
        ).scalars()
    )


# --- redeeming --------------------------------------------------------------


def link_minutes() -> int:
    """How long a link may last at most (``MSP_LINK_MAX_MINUTES``, default 120), even
    while the session goes on; the link ends sooner when the session does."""
    raw = os.environ.get(LINK_MINUTES_ENV, "").strip()
    try:
        minutes = int(raw) if raw else DEFAULT_LINK_MINUTES
    except ValueError:
        raise InvalidValue(f"{LINK_MINUTES_ENV} must be a whole number of minutes, not {raw!r}.")
    if minutes < 1:
        raise InvalidValue(f"{LINK_MINUTES_ENV} must be at least 1 minute.")
    return minutes


def _live_link_for(
    session: Session, invitation_id: int, client_hash: Optional[str], session_ref: str, now: datetime
) -> bool:
    if client_hash is None:
        return False
    return session.execute(
        select(InvitationLink.id).where(
            InvitationLink.invitation_id == invitation_id,
            InvitationLink.conversation_hash == client_hash,
            InvitationLink.session_ref == session_ref,
            InvitationLink.expires_at > now,
        )
    ).first() is not None


def _claim(
    session: Session,
    invitation: Invitation,
    client_hash: Optional[str],
    now: datetime,
    session_ref: str,
    limit: RateLimit,
) -> RedeemResult:
    session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id)
        .values(attempts=Invitation.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    session.refresh(invitation)

    def result(reason: str, repeat: bool = False) -> RedeemResult:
        if reason == OK:
            return RedeemResult(OK, invitation.enquiry_id, invitation.id, repeat=repeat)
        return RedeemResult(reason, invitation_id=invitation.id)

    for _ in range(2):
        if invitation.revoked_at is not None:
            # Withdrawn by staff (a new link was issued): used or not, it opens nothing.
            return result(REVOKED)
        if invitation.used_at is not None:
            # Only the visit it was redeemed in may see it again (a message sent twice).
            if _live_link_for(session, invitation.id, client_hash, session_ref, now):
                return result(OK, repeat=True)
            if invitation.attempts > limit.max_attempts_per_invitation:
                return result(LOCKED)
            return result(USED)
        if invitation.expires_at <= now:
            return result(EXPIRED)
        if invitation.attempts > limit.max_attempts_per_invitation:
            return result(LOCKED)
        claimed = session.execute(
            update(Invitation)
            .where(Invitation.id == invitation.id, Invitation.used_at.is_(None), Invitation.revoked_at.is_(None))
            .values(used_at=now, used_by_hash=client_hash)
            .execution_options(synchronize_session=False)
        )
        session.refresh(invitation)
        if claimed.rowcount == 1:
            if client_hash is not None:
                session.add(InvitationLink(
                    invitation_id=invitation.id, enquiry_id=invitation.enquiry_id,
                    conversation_hash=client_hash, session_ref=session_ref[:64], linked_at=now,
                    expires_at=now + timedelta(minutes=link_minutes()),
                ))
                session.flush()
            return result(OK)
        # Someone else claimed (or staff withdrew) it between our read and our write: look again.
    return result(USED)


def redeem_token(
    session: Session,
    token: str,
    *,
    client_key: Optional[str] = None,
    session_ref: str = "",
    now: Optional[datetime] = None,
    limit: RateLimit = DEFAULT_RATE_LIMIT,
) -> RedeemResult:
    """Redeem the token from a link, linking this visit of ``client_key`` (see ``session_ref``).

    Tokens (256 bits) are never throttled: a flood of wrong short codes does not
    stop a person using their link."""
    if not is_well_formed_token(token):
        return RedeemResult(MALFORMED)
    now = now or utcnow()
    invitation = session.execute(
        select(Invitation).where(Invitation.token_hash == hash_token(token))
    ).scalar_one_or_none()
    if invitation is None:
        return RedeemResult(UNKNOWN)
    client_hash = hash_client(client_key) if client_key else None
    return _claim(session, invitation, client_hash, now, session_ref, limit)


def _failures_in_window(
    session: Session, client_hash: str, now: datetime, limit: RateLimit
) -> int:
    return session.execute(
        select(func.count(CodeFailure.id)).where(
            CodeFailure.client_hash == client_hash,
            CodeFailure.attempted_at > now - limit.window,
        )
    ).scalar_one()


def _all_failures_in_window(session: Session, now: datetime, limit: RateLimit) -> int:
    return session.execute(
        select(func.count(CodeFailure.id)).where(CodeFailure.attempted_at > now - limit.global_window)
    ).scalar_one()


def _global_retry_after(session: Session, now: datetime, limit: RateLimit) -> int:
    in_window = list(
        session.execute(
            select(CodeFailure.attempted_at)
            .where(CodeFailure.attempted_at > now - limit.global_window)
            .order_by(CodeFailure.attempted_at.desc())
            .limit(limit.global_max_failures)
        ).scalars()
    )
    seconds = (in_window[-1] + limit.global_window - now).total_seconds()
    return max(1, int(seconds + 0.999))


def recent_code_failures(
    session: Session,
    client_key: str,
    *,
    now: Optional[datetime] = None,
    limit: RateLimit = DEFAULT_RATE_LIMIT,
) -> int:
    """How many failed short-code tries this client has inside the window."""
    return _failures_in_window(session, hash_client(client_key), now or utcnow(), limit)


def _retry_after(session: Session, client_hash: str, now: datetime, limit: RateLimit) -> int:
    in_window = list(
        session.execute(
            select(CodeFailure.attempted_at)
            .where(
                CodeFailure.client_hash == client_hash,
                CodeFailure.attempted_at > now - limit.window,
            )
            .order_by(CodeFailure.attempted_at.desc())
            .limit(limit.max_failures)
        ).scalars()
    )
    # Allowed again once fewer than max_failures remain inside the window.
    oldest_that_matters = in_window[-1]
    seconds = (oldest_that_matters + limit.window - now).total_seconds()
    return max(1, int(seconds + 0.999))


def _record_failure(session: Session, client_hash: str, now: datetime, limit: RateLimit) -> None:
    session.add(CodeFailure(client_hash=client_hash, attempted_at=now))
    # Old failures no longer count towards any limit: keep the table small.
    session.execute(
        delete(CodeFailure)
        .where(CodeFailure.attempted_at <= now - 4 * max(limit.window, limit.global_window))
        .execution_options(synchronize_session=False)
    )
    session.flush()


def redeem_code(
    session: Session,
    code: str,
    *,
    client_key: str,
    session_ref: str = "",
    now: Optional[datetime] = None,
    limit: RateLimit = DEFAULT_RATE_LIMIT,
) -> RedeemResult:
    """Redeem a short code typed or read out. Rate-limited per ``client_key`` and for everyone.

    A malformed code is answered at once and not counted as a failure (it
    tells a guesser nothing). Unknown, expired, used and locked codes count.
    """
    if not isinstance(client_key, str) or not client_key:
        raise InvalidValue("A client key is needed to rate-limit short codes.")
    normalised = normalise_code(code)
    if normalised is None:
        return RedeemResult(MALFORMED)
    now = now or utcnow()
    client_hash = hash_client(client_key)
    if _failures_in_window(session, client_hash, now, limit) >= limit.max_failures:
        return RedeemResult(RATE_LIMITED, retry_after=_retry_after(session, client_hash, now, limit))
    if _all_failures_in_window(session, now, limit) >= limit.global_max_failures:
        # A flood of wrong codes from somewhere: everyone waits (links still work).
        return RedeemResult(RATE_LIMITED, retry_after=_global_retry_after(session, now, limit))
    invitation = session.execute(
        select(Invitation).where(Invitation.code_hash == hash_code(normalised))
    ).scalar_one_or_none()
    if invitation is None:
        _record_failure(session, client_hash, now, limit)
        return RedeemResult(UNKNOWN)
    result = _claim(session, invitation, client_hash, now, session_ref, limit)
    if not result.ok:
        _record_failure(session, client_hash, now, limit)
    return result


def redeem(
    session: Session,
    text: str,
    *,
    client_key: str,
    session_ref: str = "",
    now: Optional[datetime] = None,
    limit: RateLimit = DEFAULT_RATE_LIMIT,
) -> RedeemResult:
    """Redeem whatever the person gave: a link, a bare token, or a short code.

    ``session_ref`` names the visit (the conversation's current Rasa session):
    the link it makes lasts only as long as that visit."""
    if not isinstance(text, str):
        return RedeemResult(MALFORMED)
    stripped = text.strip()
    token = token_from_link(stripped)
    if token is not None:
        return redeem_token(session, token, client_key=client_key, session_ref=session_ref,
                            now=now, limit=limit)
    if is_well_formed_token(stripped):
        return redeem_token(session, stripped, client_key=client_key, session_ref=session_ref,
                            now=now, limit=limit)
    return redeem_code(session, stripped, client_key=client_key, session_ref=session_ref,
                       now=now, limit=limit)
