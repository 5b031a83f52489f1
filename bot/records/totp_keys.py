"""The portal's second-factor (TOTP) secrets, encrypted at rest.

A TOTP secret is what an authenticator app holds: whoever reads it can make
every code of that account. It cannot be hashed (the portal must compute the
codes), so it is encrypted before it is stored, with a key kept outside the
database: a copy of the database (a backup, a stolen disk image, a
read-only SQL injection) is then not enough to pass the second factor.

Format of a stored value: ``totp1:<key id>:<base64url(nonce + ciphertext + tag)>``,
AES-256-GCM (``cryptography``) with a 96-bit random nonce. The additional data
binds the value to its account (``user:<id>``), so a value copied into
another account's row does not decrypt. The key id (8 hex characters of a
hash of the key) says which key made it, so a missing or wrong key is named
in the message instead of failing blindly.

Keys. ``MSP_TOTP_KEYS`` (one or more keys separated by commas or spaces),
else the file ``MSP_TOTP_KEY_FILE`` (default ``var/totp_key``; one key a line,
``#`` comments), newest first. A key is 32 random bytes in URL-safe base64
(``msp totp new-key``); ``make run`` makes ``var/totp_key`` (mode 600) when
neither is set. New values are made with the first key; older keys only
decrypt. Rotation: put a new key first, keep the old ones after it, run
``msp totp rotate`` (or let each account's next sign-in re-encrypt its own),
then drop the old key.

Nothing here reads the database; ``bot.records.staff`` and migration
``0010_totp_encrypted`` call it.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import secrets
import stat
from pathlib import Path
from typing import Dict, Mapping, Optional, Sequence, Tuple

from .db import PROJECT_ROOT
from .errors import RecordsError

KEYS_ENV = "MSP_TOTP_KEYS"
KEY_FILE_ENV = "MSP_TOTP_KEY_FILE"
DEFAULT_KEY_FILE = PROJECT_ROOT / "var" / "totp_key"
PREFIX = "totp1"
KEY_BYTES = 32
NONCE_BYTES = 12
_PLAIN = re.compile(r"^[A-Z2-7]{16,128}=*$")  # what pyotp.random_base32 makes (and apps accept)
NEW_KEY_HINT = "`msp totp new-key` prints a new key; `make run` makes var/totp_key itself"


class TotpKeyError(RecordsError):
    """The TOTP secrets' key is missing, malformed or not the one a secret was made with."""


class TotpKeyMissing(TotpKeyError):
    pass


class TotpKeyWrong(TotpKeyError):
    """A stored secret cannot be decrypted with the keys given."""

    def __init__(self, message: str, key_id: Optional[str] = None):
        super().__init__(message)
        self.key_id = key_id


# --- keys --------------------------------------------------------------------------------


def new_key() -> str:
    """A new random key, as it is written in the key file or ``MSP_TOTP_KEYS``."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def _decode_key(text: str, where: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise TotpKeyError(f"{where} is not a key: a key is {KEY_BYTES} random bytes in URL-safe base64 "
                           f"({len(new_key())} characters). {NEW_KEY_HINT}.")
    return raw


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"msp-totp-key-id:" + key).hexdigest()[:8]


def _key_file(env: Mapping[str, str]) -> Tuple[Path, bool]:
    """The key file's path, and whether it was named explicitly."""
    named = (env.get(KEY_FILE_ENV) or "").strip()
    if not named:
        return DEFAULT_KEY_FILE, False
    path = Path(named)
    return (path if path.is_absolute() else PROJECT_ROOT / path), True


def load_keys(environ: Optional[Mapping[str, str]] = None) -> Tuple[str, ...]:
    """The configured keys as written, newest first; ``()`` when none is configured.

    ``MSP_TOTP_KEYS`` wins over the file. A named file that cannot be read, a
    key file others can read, or anything that is not a key is an error
    (``TotpKeyError``, one line for staff); a missing default file is not.
    """
    env = os.environ if environ is None else environ
    inline = (env.get(KEYS_ENV) or "").strip()
    if inline:
        keys = tuple(k for k in re.split(r"[\s,]+", inline) if k)
        for n, key in enumerate(keys, 1):
            _decode_key(key, f"{KEYS_ENV} (key {n})")
        return keys
    path, named = _key_file(env)
    try:
        mode = path.stat().st_mode
        text = path.read_text("utf-8")
    except FileNotFoundError:
        if named:
            raise TotpKeyMissing(f"the TOTP key file {path} ({KEY_FILE_ENV}) does not exist. {NEW_KEY_HINT}.") \
                from None
        return ()
    except (OSError, UnicodeDecodeError) as error:
        raise TotpKeyError(f"cannot read the TOTP key file {path}: {getattr(error, 'strerror', None) or error}") \
            from None
    if mode & (stat.S_IRWXO):
        raise TotpKeyError(f"the TOTP key file {path} can be read by other users: chmod 600 {path}")
    keys = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if line and not line.startswith("#"):
            _decode_key(line, f"line {number} of {path}")
            keys.append(line)
    return tuple(keys)


def missing_key_message(environ: Optional[Mapping[str, str]] = None) -> str:
    env = os.environ if environ is None else environ
    path, _named = _key_file(env)
    return (f"no key for the second-factor (TOTP) secrets: set {KEYS_ENV}, or put a key in {path} "
            f"({KEY_FILE_ENV}, mode 600). {NEW_KEY_HINT}.")


# --- sealing -----------------------------------------------------------------------------------


def is_sealed(stored: Optional[str]) -> bool:
    return isinstance(stored, str) and stored.startswith(PREFIX + ":")


def is_plain(stored: Optional[str]) -> bool:
    """A secret stored as it is (before migration 0010)."""
    return isinstance(stored, str) and bool(_PLAIN.match(stored))


def stored_key_id(stored: str) -> Optional[str]:
    parts = stored.split(":", 2) if is_sealed(stored) else []
    return parts[1] if len(parts) == 3 else None


class TotpBox:
    """Encrypts and decrypts TOTP secrets with the configured keys (the first makes new values)."""

    def __init__(self, keys: Sequence[str]):
        if not keys:
            raise TotpKeyMissing(missing_key_message())
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._ciphers: Dict[str, object] = {}
        self.key_ids = []
        for n, key in enumerate(keys, 1):
            raw = _decode_key(key, f"TOTP key {n}")
            kid = key_id(raw)
            if kid not in self._ciphers:
                self._ciphers[kid] = AESGCM(raw)
                self.key_ids.append(kid)
        self.newest = self.key_ids[0]

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> "TotpBox":
        keys = load_keys(environ)
        if not keys:
            raise TotpKeyMissing(missing_key_message(environ))
        return cls(keys)

    @staticmethod
    def _context(owner: int) -> bytes:
        return f"msp-totp:user:{int(owner)}".encode("ascii")

    def seal(self, secret: str, owner: int) -> str:
        """The value to store for ``secret`` of account ``owner`` (made with the newest key)."""
        if not isinstance(secret, str) or not is_plain(secret):
            raise ValueError("not a TOTP secret")
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._ciphers[self.newest].encrypt(nonce, secret.encode("ascii"), self._context(owner))
        body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
        return f"{PREFIX}:{self.newest}:{body}"

    def open(self, stored: str, owner: int) -> str:
        """The secret in ``stored`` (of account ``owner``); ``TotpKeyWrong`` saying why when it cannot be read."""
        from cryptography.exceptions import InvalidTag

        kid = stored_key_id(stored)
        if kid is None:
            raise TotpKeyWrong("the stored second-factor secret is not in the encrypted form "
                               "(run `msp db upgrade` to encrypt secrets stored before it)")
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise TotpKeyWrong(f"the second-factor secret was encrypted with key {kid}, which is not among the "
                               f"keys given ({', '.join(self.key_ids)}): set {KEYS_ENV} or the key file "
                               f"({KEY_FILE_ENV}) to the key it was made with (newest first)", kid)
        body = stored.split(":", 2)[2]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            secret = cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], self._context(owner))
        except (InvalidTag, binascii.Error, ValueError):
            raise TotpKeyWrong(f"the second-factor secret does not decrypt with key {kid}: the stored value was "
                               "changed, or it belongs to another account", kid) from None
        return secret.decode("ascii")

    def is_current(self, stored: Optional[str]) -> bool:
        """True when ``stored`` was made with the newest key (nothing to re-encrypt)."""
        return stored_key_id(stored or "") == self.newest

    def reseal(self, stored: str, owner: int) -> str:
        """``stored`` made again with the newest key (a plain secret is encrypted)."""
        secret = stored if is_plain(stored) else self.open(stored, owner)
        return self.seal(secret, owner)
