"""The advocacy provider's side, on loopback, speaking the real protocols.

:class:`SmtpProvider` is an ``aiosmtpd`` SMTP server: it can refuse the next
messages with ``451`` (a relay that is down for a while), or ``hold()`` the
next message after storing it (so a test can kill the sender between the
relay having it and our record). ``transport`` is every message it got;
``inbox()`` is what the provider's case system keeps, one per Message-ID.
"""
from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from typing import List

from aiosmtpd.controller import Controller

from scripts.stack import free_port


class _Handler:
    def __init__(self, peer: "SmtpProvider"):
        self.peer = peer

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refuse@"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        peer = self.peer
        with peer.lock:
            if peer.refuse_next > 0:
                peer.refuse_next -= 1
                peer.refused += 1
                return "451 4.3.0 Try again later"
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            peer.transport.append({"to": list(envelope.rcpt_tos), "message": message})
            holding = peer._hold
            peer._hold = False
        if holding:
            peer.held.set()
            while not peer.released.is_set():
                await asyncio.sleep(0.05)
        return "250 2.0.0 Queued"


class SmtpProvider:
    def __init__(self):
        self.port = free_port()
        self.lock = threading.Lock()
        self.refuse_next = 0
        self.refused = 0
        self.transport: List[dict] = []
        self._hold = False
        self.held = threading.Event()
        self.released = threading.Event()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> "SmtpProvider":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.released.set()
        if self.controller._thread is not None:
            self.controller.stop()

    def hold(self) -> None:
        self._hold = True
        self.held.clear()
        self.released.clear()

    def release(self) -> None:
        self.released.set()

    def to(self, address: str) -> List[dict]:
        with self.lock:
            return [m for m in self.transport if address in m["to"]]

    def inbox(self, address: str) -> dict:
        """Message-ID -> message: what a provider that de-duplicates by Message-ID keeps."""
        kept = {}
        for m in self.to(address):
            kept.setdefault(m["message"]["Message-ID"], m["message"])
        return kept


def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
