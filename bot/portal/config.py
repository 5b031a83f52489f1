"""The staff portal's settings, read from the environment once (``PortalConfig.from_env()``).

| variable | default | meaning |
| --- | --- | --- |
| ``PORTAL_PORT`` | 8100 | the portal's port (always on 127.0.0.1 unless ``MSP_PORTAL_HOST``) |
| ``MSP_PORTAL_HOST`` | 127.0.0.1 | the address it listens on |
| ``MSP_PORTAL_PUBLIC_URL`` | ``http://127.0.0.1:<port>`` | the portal's address as staff reach it (invitation links) |
| ``MSP_PORTAL_IDLE_MINUTES`` | 15 | a session unused this long ends |
| ``MSP_PORTAL_SESSION_HOURS`` | 12 | a session ends this long after sign-in, used or not |
| ``MSP_PORTAL_COOKIE_SECURE`` | yes | ``Secure`` on the session cookie (see below) |
| ``MSP_PORTAL_TRUSTED_PROXIES`` | 0 | reverse proxies in front whose ``X-Forwarded-For`` is believed |
| ``MSP_PORTAL_MIN_PASSWORD`` | 12 | shortest password accepted |
| ``MSP_PORTAL_LOCKOUT_AFTER`` | 5 | failed steps for one account in the window before back-off |
| ``MSP_PORTAL_CLIENT_LOCKOUT_AFTER`` | 20 | failed steps from one address in the window before back-off |
| ``MSP_PORTAL_LOCKOUT_WINDOW_MINUTES`` | 15 | how far back failures count |
| ``MSP_PORTAL_INVITATION_DAYS`` | 3 | how long an invitation link to a new account works |
| ``DATABASE_URL`` | ``sqlite:///var/msp.db`` | the MSP records (accounts, sessions and the audit log live there) |
| ``MSP_TRACKER_URL`` / ``MSP_TRACKER_DB`` | ``var/tracker.db`` | Rasa's tracker store, read only |
| ``MSP_TOTP_KEYS`` / ``MSP_TOTP_KEY_FILE`` | ``var/totp_key`` | keys of the TOTP secrets, newest first |

TOTP secrets are stored encrypted (``bot/records/totp_keys.py``); the portal
refuses to start without a key, and says which key is missing when a stored
secret was made with another.

``Secure`` cookies. Browsers keep a ``Secure`` cookie from ``http://127.0.0.1``
and ``http://localhost`` (they count as secure origins), so ``make run`` keeps it
on. ``MSP_PORTAL_COOKIE_SECURE=no`` exists only for tests that speak plain
HTTP to a loopback address with a client that does not make that exception;
the portal refuses to start with it on any other address.
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Mapping, Optional, Tuple

from bot.records.totp_keys import TotpBox, TotpKeyError, load_keys, missing_key_message, new_key

DEFAULT_PORT = 8100


class ConfigError(ValueError):
    """A setting the portal cannot start with (said in one line)."""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Argon2Params:
    """argon2id cost. The default is argon2-cffi's (RFC 9106 low-memory profile)."""

    time_cost: int = 3
    memory_cost: int = 65536  # KiB
    parallelism: int = 4


@dataclass(frozen=True)
class PortalConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    public_url: Optional[str] = None
    database_url: Optional[str] = None  # None: DATABASE_URL, else var/msp.db
    tracker_url: Optional[str] = None  # None: MSP_TRACKER_URL, else MSP_TRACKER_DB, else var/tracker.db
    idle_minutes: int = 15
    session_hours: int = 12
    cookie_secure: bool = True
    trusted_proxies: int = 0
    min_password_length: int = 12
    max_password_length: int = 256
    lockout_after: int = 5
    client_lockout_after: int = 20
    lockout_window_minutes: int = 15
    lockout_base_seconds: int = 30
    lockout_max_seconds: int = 900
    invitation_days: int = 3
    max_invitation_days: int = 14
    page_size: int = 50
    argon2: Argon2Params = field(default_factory=Argon2Params)
    # Keys of the TOTP secrets, newest first (``()``: none configured; the portal will not start).
    totp_keys: Tuple[str, ...] = field(default=(), repr=False)
    testing: bool = False

    def totp_box(self) -> TotpBox:
        """Encrypts and decrypts the TOTP secrets (``TotpKeyMissing`` when there is no key)."""
        return _totp_box(self.totp_keys)

    def require_totp_key(self) -> "PortalConfig":
        """The portal cannot check or set up a second factor without a key: refuse to start."""
        if not self.totp_keys:
            raise ConfigError(missing_key_message())
        return self

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def cookie_name(self) -> str:
        # The __Host- prefix makes browsers refuse the cookie unless it is
        # Secure, has Path=/ and no Domain: no subdomain can plant or widen it.
        return "__Host-msp_portal" if self.cookie_secure else "msp_portal"

    def check(self) -> "PortalConfig":
        if not self.cookie_secure and not _is_loopback(self.host):
            raise ConfigError("MSP_PORTAL_COOKIE_SECURE=no is only allowed on a loopback address "
                              f"(the portal would listen on {self.host})")
        if not 1 <= self.idle_minutes <= 24 * 60:
            raise ConfigError("MSP_PORTAL_IDLE_MINUTES must be from 1 to 1440")
        if not 1 <= self.session_hours <= 24 * 7:
            raise ConfigError("MSP_PORTAL_SESSION_HOURS must be from 1 to 168")
        if not 8 <= self.min_password_length <= 128:
            raise ConfigError("MSP_PORTAL_MIN_PASSWORD must be from 8 to 128")
        if not 1 <= self.port <= 65535:
            raise ConfigError("PORTAL_PORT must be a port number")
        for name in ("lockout_after", "client_lockout_after", "lockout_window_minutes", "invitation_days"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1")
        if self.invitation_days > self.max_invitation_days:
            raise ConfigError(f"MSP_PORTAL_INVITATION_DAYS must be at most {self.max_invitation_days}")
        return self

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> "PortalConfig":
        env = os.environ if environ is None else environ

        def text(name: str) -> Optional[str]:
            value = (env.get(name) or "").strip()
            return value or None

        def integer(name: str, default: int) -> int:
            value = text(name)
            if value is None:
                return default
            try:
                return int(value)
            except ValueError:
                raise ConfigError(f"{name} must be a whole number, not {value!r}") from None

        def yes_no(name: str, default: bool) -> bool:
            value = text(name)
            if value is None:
                return default
            if value.lower() in ("yes", "y", "true", "1", "on"):
                return True
            if value.lower() in ("no", "n", "false", "0", "off"):
                return False
            raise ConfigError(f"{name} must be yes or no, not {value!r}")

        try:
            totp_keys = load_keys(env)
        except TotpKeyError as error:
            raise ConfigError(str(error)) from None
        return cls(
            totp_keys=totp_keys,
            host=text("MSP_PORTAL_HOST") or "127.0.0.1",
            port=integer("PORTAL_PORT", DEFAULT_PORT),
            public_url=text("MSP_PORTAL_PUBLIC_URL"),
            database_url=text("DATABASE_URL"),
            tracker_url=None,
            idle_minutes=integer("MSP_PORTAL_IDLE_MINUTES", 15),
            session_hours=integer("MSP_PORTAL_SESSION_HOURS", 12),
            cookie_secure=yes_no("MSP_PORTAL_COOKIE_SECURE", True),
            trusted_proxies=integer("MSP_PORTAL_TRUSTED_PROXIES", 0),
            min_password_length=integer("MSP_PORTAL_MIN_PASSWORD", 12),
            lockout_after=integer("MSP_PORTAL_LOCKOUT_AFTER", 5),
            client_lockout_after=integer("MSP_PORTAL_CLIENT_LOCKOUT_AFTER", 20),
            lockout_window_minutes=integer("MSP_PORTAL_LOCKOUT_WINDOW_MINUTES", 15),
            invitation_days=integer("MSP_PORTAL_INVITATION_DAYS", 3),
        ).check()


@lru_cache(maxsize=8)
def _totp_box(keys: Tuple[str, ...]) -> TotpBox:
    return TotpBox(keys)


#: The TOTP key of ``test_config()`` (one per test process).
TEST_TOTP_KEY = new_key()


def test_config(**overrides) -> PortalConfig:
    """Settings for tests: cheap password hashing (the cost is stored in each hash), a TOTP key made for
    this test process, otherwise as in production."""
    base = PortalConfig(argon2=Argon2Params(time_cost=1, memory_cost=1024, parallelism=1), testing=True,
                        totp_keys=(TEST_TOTP_KEY,))
    return replace(base, **overrides).check()
