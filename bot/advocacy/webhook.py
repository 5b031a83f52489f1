"""Signing and checking advocacy webhook requests (HMAC-SHA256 over timestamp and body).

The sender adds three headers to its POST:

- ``Idempotency-Key``: the referral's reference (the same on every try);
- ``X-MSP-Timestamp``: seconds since 1970 (UTC) when it was signed;
- ``X-MSP-Signature``: ``sha256=`` + hex HMAC-SHA256 of ``"<timestamp>.<body>"``
  with the shared secret.

A receiver calls :func:`verify` with the raw body before reading it, refuses
a request that fails, and treats a second request with an ``Idempotency-Key``
it has seen as the same referral (answering 200 again).
"""
from __future__ import annotations

import hashlib
import hmac
import time
from typing import Mapping, Optional

TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(int(timestamp)).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def headers(secret: str, reference: str, body: bytes, now: Optional[float] = None) -> dict:
    timestamp = int(now if now is not None else time.time())
    return {"Content-Type": "application/json", "Idempotency-Key": reference,
            "X-MSP-Timestamp": str(timestamp), "X-MSP-Signature": sign(secret, timestamp, body)}


def verify(secret: str, request_headers: Mapping[str, str], body: bytes, *, now: Optional[float] = None,
           tolerance: int = TOLERANCE_SECONDS) -> bool:
    """True only if the signature is ours and the timestamp is recent (a replay later fails)."""
    lowered = {k.lower(): v for k, v in request_headers.items()}
    signature = lowered.get("x-msp-signature") or ""
    try:
        timestamp = int(lowered.get("x-msp-timestamp") or "")
    except ValueError:
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature, sign(secret, timestamp, body))
