"""Secrets for staff accounts: passwords, the second factor, recovery codes, tokens, back-off.

No Flask here: the ``msp user create`` command uses it too.

* Passwords are hashed with argon2id (``argon2-cffi``); a hash made with lower
  costs than the current settings is replaced at the next sign-in.
* A password must be at least ``min_password_length`` characters, not be a
  common password (``data/common_passwords.txt``, also with digits or symbols
  added before or after, or letters swapped for look-alike digits), and not
  contain the username.
* The second factor is TOTP (RFC 6238: 6 digits, 30 seconds, SHA-1, what
  every authenticator app reads); a code is accepted one step either side of
  now and never twice. The enrolment QR code is an SVG made here (``segno``).
* Recovery codes: ten, shown once, each used once; only a SHA-256 of
  the normalised code is kept (each holds 60 random bits, and sign-in
  failures are rate limited, so a slow hash adds nothing).
* Tokens (session cookies, invitation links) are 256 random bits; only their
  SHA-256 is stored.
"""
from __future__ import annotations

import hashlib
import math
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .config import Argon2Params, PortalConfig

COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common_passwords.txt"
TOTP_ISSUER = "MSP staff portal"
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0, 1, I, O
RECOVERY_GROUPS = 3
RECOVERY_GROUP_LENGTH = 4


class PasswordRejected(ValueError):
    """Why a new password cannot be used, in words for the member of staff."""


# --- tokens -------------------------------------------------------------------------


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(("msp-portal:" + token).encode("utf-8", "surrogatepass")).hexdigest()


def account_key(username: object) -> str:
    """What sign-in failures are counted under: a hash of the name as typed (normalised)."""
    name = username.strip().lower()[:200] if isinstance(username, str) else ""
    return hashlib.sha256(("msp-portal-account:" + name).encode("utf-8", "surrogatepass")).hexdigest()


# --- passwords ------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _hasher(params: Argon2Params) -> PasswordHasher:
    return PasswordHasher(time_cost=params.time_cost, memory_cost=params.memory_cost,
                          parallelism=params.parallelism)


def hash_password(password: str, params: Argon2Params) -> str:
    return _hasher(params).hash(password)


_DUMMY_HASHES = {}


def verify_password(password_hash: Optional[str], password: object, params: Argon2Params) -> bool:
    """True if ``password`` matches. With no hash (no such account) a dummy hash is checked, so
    an unknown name takes as long as a wrong password."""
    hasher = _hasher(params)
    if not isinstance(password, str):
        password = ""
    if password_hash is None:
        dummy = _DUMMY_HASHES.get(params)
        if dummy is None:
            dummy = _DUMMY_HASHES[params] = hasher.hash(secrets.token_urlsafe(16))
        try:
            hasher.verify(dummy, password)
        except (VerificationError, InvalidHashError):
            pass
        return False
    try:
        return hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str, params: Argon2Params) -> bool:
    try:
        return _hasher(params).check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True


@lru_cache(maxsize=1)
def common_passwords() -> frozenset:
    words = set()
    for line in COMMON_PASSWORDS.read_text("utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.add(line.lower())
    return frozenset(words)


_LOOKALIKE = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s",
                            "!": "i", "|": "l", "+": "t"})
_AFFIX = re.compile(r"^[\W\d_]*(.*?)[\W\d_]*$", re.UNICODE)


def _cores(password: str) -> List[str]:
    lowered = password.lower()
    compact = re.sub(r"\s+", "", lowered)
    core = _AFFIX.match(compact).group(1) if compact else ""
    candidates = {lowered, compact, core, core.translate(_LOOKALIKE), compact.translate(_LOOKALIKE)}
    # The same word typed twice or more ("summersummer").
    for text in list(candidates):
        for size in range(1, len(text) // 2 + 1):
            if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
                candidates.add(text[:size])
                break
    return [c for c in candidates if c]


def check_new_password(password: object, *, username: Optional[str], config: PortalConfig) -> str:
    """The password if it may be used; otherwise ``PasswordRejected`` saying why."""
    if not isinstance(password, str) or not password:
        raise PasswordRejected("Please type a password.")
    if len(password) < config.min_password_length:
        raise PasswordRejected(f"The password must be at least {config.min_password_length} characters long.")
    if len(password) > config.max_password_length:
        raise PasswordRejected(f"The password must be at most {config.max_password_length} characters long.")
    if any(unicodedata.category(ch) == "Cc" for ch in password):
        raise PasswordRejected("The password contains control characters.")
    if len(set(password)) < 4:
        raise PasswordRejected("The password repeats too few characters. Try three or four unrelated words.")
    common = common_passwords()
    if any(core in common for core in _cores(password)):
        raise PasswordRejected("That password is too common (it is on a list of often-used passwords). "
                               "Try three or four unrelated words.")
    if _is_sequence(password):
        raise PasswordRejected("That password is a simple sequence. Try three or four unrelated words.")
    if username and len(username) >= 3 and username.lower() in password.lower():
        raise PasswordRejected("The password must not contain your username.")
    return password


def _is_sequence(password: str) -> bool:
    codes = [ord(ch) for ch in password.lower()]
    steps = {b - a for a, b in zip(codes, codes[1:])}
    return len(steps) == 1 and steps <= {1, -1, 0}


# --- TOTP -------------------------------------------------------------------------------


def new_totp_secret() -> str:
    import pyotp

    return pyotp.random_base32(32)  # 160 bits


def provisioning_uri(secret: str, username: str, issuer: str = TOTP_ISSUER) -> str:
    import pyotp

    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def qr_svg(data: str) -> str:
    """An SVG QR code of ``data``, made here (no network, no script, no style attribute)."""
    import io

    import segno

    buffer = io.BytesIO()
    segno.make(data, error="m", micro=False).save(
        buffer, kind="svg", scale=5, border=4, xmldecl=True, svgns=True, title="Second factor set-up code",
        svgclass=None, lineclass=None, dark="#000", light="#fff",
    )
    return buffer.getvalue().decode("utf-8")


_CODE = re.compile(r"^\d{6}$")


def looks_like_totp_code(code: object) -> bool:
    """Six digits (spaces allowed), as an authenticator app shows them."""
    return isinstance(code, str) and bool(_CODE.match(re.sub(r"\s+", "", code)))


def totp_step(secret: str, code: object, *, now: Optional[datetime] = None, window: int = 1) -> Optional[int]:
    """The time step ``code`` belongs to (now, or ``window`` steps either side), or None."""
    import hmac

    import pyotp

    if not isinstance(code, str):
        return None
    code = re.sub(r"\s+", "", code)
    if not _CODE.match(code):
        return None
    totp = pyotp.TOTP(secret)
    moment = now or datetime.now().astimezone()
    step = totp.timecode(moment)
    for offset in range(-window, window + 1):
        if hmac.compare_digest(totp.at(moment, counter_offset=offset), code):
            return step + offset
    return None


def totp_now(secret: str, *, now: Optional[datetime] = None) -> str:
    """The code an authenticator shows now (tests and the enrolment check)."""
    import pyotp

    return pyotp.TOTP(secret).at(now or datetime.now().astimezone())


# --- recovery codes ----------------------------------------------------------------------


def new_recovery_codes(count: int = RECOVERY_CODES) -> List[str]:
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUPS * RECOVERY_GROUP_LENGTH))
        codes.append("-".join(raw[i:i + RECOVERY_GROUP_LENGTH]
                              for i in range(0, len(raw), RECOVERY_GROUP_LENGTH)))
    return codes


def normalise_recovery_code(code: object) -> Optional[str]:
    if not isinstance(code, str) or len(code) > 40:
        return None
    compact = re.sub(r"[\s\-]+", "", code).upper()
    if len(compact) != RECOVERY_GROUPS * RECOVERY_GROUP_LENGTH or any(ch not in RECOVERY_ALPHABET for ch in compact):
        return None
    return compact


def recovery_code_hash(code: str) -> Optional[str]:
    compact = normalise_recovery_code(code)
    if compact is None:
        return None
    return hashlib.sha256(("msp-portal-recovery:" + compact).encode()).hexdigest()


# --- back-off ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Backoff:
    """Failures counted in a window; past ``after`` of them, each further try waits twice as long."""

    after: int
    window: timedelta
    base: timedelta
    maximum: timedelta

    def wait(self, failures: Sequence[datetime], now: datetime) -> Optional[timedelta]:
        """How long until the next try is allowed (None: allowed now)."""
        recent = [f for f in failures if f >= now - self.window]
        if len(recent) < self.after:
            return None
        extra = len(recent) - self.after
        delay = min(self.maximum, self.base * (2 ** min(extra, 20)))
        until = max(recent) + delay
        return until - now if until > now else None


def backoffs(config: PortalConfig) -> Tuple[Backoff, Backoff]:
    """(per account, per client address)."""
    window = timedelta(minutes=config.lockout_window_minutes)
    base = timedelta(seconds=config.lockout_base_seconds)
    maximum = timedelta(seconds=config.lockout_max_seconds)
    return (Backoff(config.lockout_after, window, base, maximum),
            Backoff(config.client_lockout_after, window, base, maximum))


def minutes_text(wait: timedelta) -> str:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"
