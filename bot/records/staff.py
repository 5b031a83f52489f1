"""Staff accounts, their sessions, invitations and sign-in failures (the portal's tables).

Named query functions that take a session and leave committing to the caller,
as everywhere in ``bot.records``. Hashing and checking secrets (argon2,
TOTP) is ``bot.portal.credentials``: nothing here sees a password or a token,
only their hashes. TOTP secrets are stored encrypted (``bot.records.totp_keys``):
the functions that store or read one take the ``TotpBox`` that holds the keys.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .errors import AlreadyExists, InvalidValue, NotFound
from .totp_keys import TotpBox, TotpKeyWrong, stored_key_id
from .models import (
    SESSION_STAGES,
    STAFF_ROLES,
    StaffInvitation,
    StaffLoginFailure,
    StaffRecoveryCode,
    StaffSession,
    StaffUser,
    utcnow,
)

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
_TEAM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")
MAX_DISPLAY_NAME = 200


# --- values -----------------------------------------------------------------


def normalise_username(value) -> str:
    """A username, lower-cased: 3 to 64 of a-z, 0-9, dot, dash, underscore."""
    if not isinstance(value, str):
        raise InvalidValue("The username must be text.")
    name = value.strip().lower()
    if not _USERNAME.match(name):
        raise InvalidValue("A username is 3 to 64 characters: letters a to z, digits, '.', '-' or '_', "
                           "starting with a letter or digit.")
    return name


def normalise_team(value) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidValue("The team must be text.")
    team = " ".join(value.split())
    if not team:
        return None
    if not _TEAM.match(team):
        raise InvalidValue("A team name is up to 64 characters: letters, digits, spaces, '.', '-' or '_'.")
    return team


def normalise_display_name(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue("The name is empty.")
    name = " ".join(value.split())
    if len(name) > MAX_DISPLAY_NAME:
        raise InvalidValue(f"The name is longer than {MAX_DISPLAY_NAME} characters.")
    if any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in name):
        raise InvalidValue("The name contains control characters.")
    return name


def check_role(role) -> str:
    if role not in STAFF_ROLES:
        raise InvalidValue(f"Unknown role {role!r}; use one of {', '.join(STAFF_ROLES)}.")
    return role


# --- accounts ---------------------------------------------------------------


def create_user(session: Session, username: str, *, display_name: str, role: str, password_hash: str,
                team: Optional[str] = None, created_by_id: Optional[int] = None) -> StaffUser:
    username = normalise_username(username)
    if get_user_by_username(session, username) is not None:
        raise AlreadyExists(f"There is already an account called {username!r}.")
    user = StaffUser(username=username, display_name=normalise_display_name(display_name),
                     role=check_role(role), team=normalise_team(team), password_hash=password_hash,
                     created_by_id=created_by_id, active=True)
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise AlreadyExists(f"There is already an account called {username!r}.") from None
    return user


def get_user(session: Session, user_id) -> Optional[StaffUser]:
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        return None
    return session.get(StaffUser, user_id)


def require_user(session: Session, user_id) -> StaffUser:
    user = get_user(session, user_id)
    if user is None:
        raise NotFound("No such account.")
    return user


def get_user_by_username(session: Session, username) -> Optional[StaffUser]:
    if not isinstance(username, str):
        return None
    name = username.strip().lower()
    if not _USERNAME.match(name):
        return None
    return session.execute(select(StaffUser).where(StaffUser.username == name)).scalar_one_or_none()


def list_users(session: Session) -> List[StaffUser]:
    return list(session.execute(select(StaffUser).order_by(StaffUser.username)).scalars())


def team_usernames(session: Session, team: Optional[str]) -> Set[str]:
    """Usernames of the active members of ``team`` (empty when there is no team)."""
    if not team:
        return set()
    return set(session.execute(
        select(StaffUser.username).where(StaffUser.team == team, StaffUser.active.is_(True))
    ).scalars())


def set_password_hash(session: Session, user: StaffUser, password_hash: str, *,
                      now: Optional[datetime] = None) -> None:
    """Change the password and end every session of the account (a copied cookie stops working)."""
    user.password_hash = password_hash
    user.password_changed_at = now or utcnow()
    end_user_sessions(session, user.id)


def rehash_password(user: StaffUser, password_hash: str) -> None:
    """Store a stronger hash of the same password (argon2 parameters raised). Sessions stay."""
    user.password_hash = password_hash


def enrol_totp(session: Session, user: StaffUser, secret: str, step: int, *, box: TotpBox,
               now: Optional[datetime] = None) -> None:
    """Store the account's second factor (encrypted with the newest key) and the step of the code given."""
    if user.id is None:
        session.flush()  # the account's id is part of what the encryption binds
    user.totp_secret = box.seal(secret, user.id)
    user.totp_last_step = step
    user.totp_enrolled_at = now or utcnow()


def totp_secret(user: StaffUser, box: TotpBox) -> Optional[str]:
    """The account's TOTP secret, decrypted; None when it has none. ``TotpKeyWrong`` when the keys do not fit."""
    if user.totp_secret is None:
        return None
    return box.open(user.totp_secret, user.id)


def reseal_totp(session: Session, user_id: int, box: TotpBox) -> bool:
    """Encrypt the account's secret again with the newest key, if another key made it. True if changed."""
    user = session.get(StaffUser, user_id)
    if user is None or user.totp_secret is None or box.is_current(user.totp_secret):
        return False
    user.totp_secret = box.reseal(user.totp_secret, user.id)
    return True


def set_pending_totp(row: StaffSession, secret: str, box: TotpBox) -> None:
    """The secret being set up in an enrolment session (shown to the person, not yet confirmed)."""
    row.pending_totp_secret = box.seal(secret, row.user_id)


def pending_totp(row: StaffSession, box: TotpBox) -> Optional[str]:
    if row.pending_totp_secret is None or row.user_id is None:
        return None
    return box.open(row.pending_totp_secret, row.user_id)


def totp_keys_in_use(session: Session) -> Dict[Optional[str], int]:
    """How many enrolled accounts' secrets each key made (``None``: not encrypted)."""
    counts: Dict[Optional[str], int] = {}
    for stored in session.execute(select(StaffUser.totp_secret).where(StaffUser.totp_secret.isnot(None))).scalars():
        kid = stored_key_id(stored)
        counts[kid] = counts.get(kid, 0) + 1
    return counts


def rotate_totp_secrets(session: Session, box: TotpBox) -> Tuple[int, List[int]]:
    """Re-encrypt every stored TOTP secret with the newest key.

    Returns how many were changed, and the ids of accounts whose secret none of
    the keys opens (left as they are). Secrets of enrolments in progress are
    re-encrypted too, or dropped when they cannot be read (the page makes a new one).
    """
    changed, unreadable = 0, []
    for user in session.execute(select(StaffUser).where(StaffUser.totp_secret.isnot(None))).scalars():
        if box.is_current(user.totp_secret):
            continue
        try:
            user.totp_secret = box.reseal(user.totp_secret, user.id)
            changed += 1
        except TotpKeyWrong:
            unreadable.append(user.id)
    for row in session.execute(select(StaffSession).where(StaffSession.pending_totp_secret.isnot(None))).scalars():
        if box.is_current(row.pending_totp_secret):
            continue
        try:
            row.pending_totp_secret = box.reseal(row.pending_totp_secret, row.user_id)
        except (TotpKeyWrong, TypeError):
            row.pending_totp_secret = None
    session.flush()
    return changed, unreadable


def accept_totp_step(session: Session, user: StaffUser, step: int) -> bool:
    """Record that the code for ``step`` was used; False if it (or a later one) was used already.

    An UPDATE that only succeeds while the stored step is older, so two
    requests racing with one code cannot both succeed.
    """
    result = session.execute(
        update(StaffUser)
        .where(StaffUser.id == user.id,
               or_(StaffUser.totp_last_step.is_(None), StaffUser.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount == 1


def deactivate_user(session: Session, user: StaffUser, *, now: Optional[datetime] = None) -> None:
    user.active = False
    user.deactivated_at = now or utcnow()
    end_user_sessions(session, user.id)


def count_active_admins(session: Session) -> int:
    return session.execute(
        select(func.count()).select_from(StaffUser)
        .where(StaffUser.role == "admin", StaffUser.active.is_(True))
    ).scalar_one()


# --- recovery codes -----------------------------------------------------------


def replace_recovery_codes(session: Session, user_id: int, code_hashes: Iterable[str]) -> None:
    session.execute(delete(StaffRecoveryCode).where(StaffRecoveryCode.user_id == user_id))
    for code_hash in code_hashes:
        session.add(StaffRecoveryCode(user_id=user_id, code_hash=code_hash))
    session.flush()


def use_recovery_code(session: Session, user_id: int, code_hash: str, *,
                      now: Optional[datetime] = None) -> bool:
    """Mark one unused code of this account used; False if there is none with that hash."""
    result = session.execute(
        update(StaffRecoveryCode)
        .where(StaffRecoveryCode.user_id == user_id, StaffRecoveryCode.code_hash == code_hash,
               StaffRecoveryCode.used_at.is_(None))
        .values(used_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def unused_recovery_codes(session: Session, user_id: int) -> int:
    return session.execute(
        select(func.count()).select_from(StaffRecoveryCode)
        .where(StaffRecoveryCode.user_id == user_id, StaffRecoveryCode.used_at.is_(None))
    ).scalar_one()


# --- invitations ----------------------------------------------------------------


def create_staff_invitation(session: Session, token_hash: str, *, role: str, created_by_id: int,
                            expires_at: datetime, team: Optional[str] = None,
                            note: Optional[str] = None) -> StaffInvitation:
    if note is not None:
        note = " ".join(note.split())[:200] or None
    invitation = StaffInvitation(token_hash=token_hash, role=check_role(role), team=normalise_team(team),
                                 note=note, created_by_id=created_by_id, expires_at=expires_at)
    session.add(invitation)
    session.flush()
    return invitation


def open_staff_invitation(session: Session, token_hash: str, *,
                          now: Optional[datetime] = None) -> Optional[StaffInvitation]:
    """The invitation with this token hash if it is unused, not revoked and not expired."""
    now = now or utcnow()
    return session.execute(
        select(StaffInvitation).where(
            StaffInvitation.token_hash == token_hash,
            StaffInvitation.used_at.is_(None),
            StaffInvitation.revoked_at.is_(None),
            StaffInvitation.expires_at > now,
        )
    ).scalar_one_or_none()


def use_staff_invitation(session: Session, invitation: StaffInvitation, user_id: int, *,
                         now: Optional[datetime] = None) -> bool:
    """Mark it used by ``user_id``; False if someone used it first."""
    result = session.execute(
        update(StaffInvitation)
        .where(StaffInvitation.id == invitation.id, StaffInvitation.used_at.is_(None))
        .values(used_at=now or utcnow(), used_by_id=user_id)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount == 1


def list_staff_invitations(session: Session, limit: int = 50) -> List[StaffInvitation]:
    return list(session.execute(
        select(StaffInvitation).order_by(StaffInvitation.id.desc()).limit(limit)
    ).scalars())


def revoke_staff_invitation(session: Session, invitation_id, *, now: Optional[datetime] = None) -> bool:
    try:
        invitation_id = int(invitation_id)
    except (TypeError, ValueError):
        return False
    result = session.execute(
        update(StaffInvitation)
        .where(StaffInvitation.id == invitation_id, StaffInvitation.used_at.is_(None),
               StaffInvitation.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


# --- sessions ---------------------------------------------------------------------


def create_session(session: Session, token_hash: str, *, stage: str, csrf_token: str,
                   expires_at: datetime, client: Optional[str] = None, user_id: Optional[int] = None,
                   now: Optional[datetime] = None) -> StaffSession:
    if stage not in SESSION_STAGES:
        raise InvalidValue(f"Unknown session stage {stage!r}.")
    now = now or utcnow()
    row = StaffSession(token_hash=token_hash, stage=stage, csrf_token=csrf_token, client=(client or "")[:64],
                       user_id=user_id, created_at=now, last_seen_at=now, expires_at=expires_at)
    session.add(row)
    session.flush()
    return row


def find_session(session: Session, token_hash: str) -> Optional[StaffSession]:
    return session.execute(
        select(StaffSession).where(StaffSession.token_hash == token_hash)
    ).scalar_one_or_none()


def delete_session(session: Session, session_id: int) -> None:
    session.execute(delete(StaffSession).where(StaffSession.id == session_id)
                    .execution_options(synchronize_session=False))


def end_user_sessions(session: Session, user_id: int, *, keep: Sequence[int] = ()) -> int:
    """End every session of one account (all devices, every copy of the cookie)."""
    statement = delete(StaffSession).where(StaffSession.user_id == user_id)
    if keep:
        statement = statement.where(StaffSession.id.notin_(list(keep)))
    return session.execute(statement.execution_options(synchronize_session=False)).rowcount


def purge_sessions(session: Session, *, idle: timedelta, now: Optional[datetime] = None) -> int:
    """Delete sessions idle for longer than ``idle`` or past their absolute end."""
    now = now or utcnow()
    return session.execute(
        delete(StaffSession)
        .where(or_(StaffSession.last_seen_at < now - idle, StaffSession.expires_at <= now))
        .execution_options(synchronize_session=False)
    ).rowcount


# --- sign-in failures -------------------------------------------------------------


def record_failure(session: Session, account_key: str, client: str, *,
                   now: Optional[datetime] = None) -> None:
    session.add(StaffLoginFailure(account_key=account_key, client=(client or "-")[:64],
                                  attempted_at=now or utcnow()))
    session.flush()


def failures_since(session: Session, since: datetime, *, account_key: Optional[str] = None,
                   client: Optional[str] = None) -> List[datetime]:
    """When the failures since ``since`` happened, oldest first, for one account or one client."""
    statement = select(StaffLoginFailure.attempted_at).where(StaffLoginFailure.attempted_at >= since)
    if account_key is not None:
        statement = statement.where(StaffLoginFailure.account_key == account_key)
    if client is not None:
        statement = statement.where(StaffLoginFailure.client == (client or "-")[:64])
    return list(session.execute(statement.order_by(StaffLoginFailure.attempted_at)).scalars())


def clear_failures(session: Session, account_key: str) -> None:
    session.execute(delete(StaffLoginFailure).where(StaffLoginFailure.account_key == account_key)
                    .execution_options(synchronize_session=False))


def purge_failures(session: Session, before: datetime) -> int:
    return session.execute(delete(StaffLoginFailure).where(StaffLoginFailure.attempted_at < before)
                           .execution_options(synchronize_session=False)).rowcount
