"""Webhook delivery: signed POST to a real HTTP receiver on loopback that checks the signature."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.advocacy import sender, webhook
from bot.advocacy.config import load_advocacy_config
from bot.records import advocacy, session_scope

from .test_advocacy_sender import ANSWERS, _drain, _events, _referral

SECRET = "s" * 40


class Receiver:
    """The provider's endpoint: verify, then keep one referral per Idempotency-Key."""

    def __init__(self, secret: str):
        self.secret = secret
        self.requests = []
        self.kept = {}
        self.fail_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append((dict(self.headers), body))
                if receiver.fail_next > 0:
                    receiver.fail_next -= 1
                    return self._answer(503)
                if not webhook.verify(receiver.secret, self.headers, body):
                    return self._answer(401)
                receiver.kept.setdefault(self.headers["Idempotency-Key"], json.loads(body))
                self._answer(200)

            def _answer(self, code):
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/referrals"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver(SECRET)
    yield r
    r.stop()


@pytest.fixture
def hook_config(receiver, smtp_env):
    return load_advocacy_config(dict(smtp_env, MSP_ADVOCACY_DELIVERY="webhook", MSP_ADVOCACY_WEBHOOK_URL=receiver.url,
                                     MSP_ADVOCACY_WEBHOOK_SECRET=SECRET))


def test_signature_checks():
    body = b'{"reference": "abc"}'
    good = webhook.headers(SECRET, "abc", body, now=1_000_000)
    assert webhook.verify(SECRET, good, body, now=1_000_010)
    assert not webhook.verify(SECRET, good, body + b" ", now=1_000_010)  # body changed
    assert not webhook.verify("t" * 40, good, body, now=1_000_010)  # another secret
    assert not webhook.verify(SECRET, good, body, now=1_000_000 + 301)  # replayed later
    assert not webhook.verify(SECRET, dict(good, **{"X-MSP-Timestamp": "soon"}), body)
    assert not webhook.verify(SECRET, {k: v for k, v in good.items() if k != "X-MSP-Signature"}, body)


def test_webhook_delivers_once_after_a_503_and_counts_as_acknowledged(records_db, receiver, hook_config):
    referral_id, reference = _referral(delivery_channel="webhook")
    receiver.fail_next = 1
    assert _drain(hook_config, referral_id, until=("acknowledged", "failed")) == "acknowledged"
    assert len(receiver.requests) == 2 and list(receiver.kept) == [reference]
    kept = receiver.kept[reference]
    assert {a["question"]: a["words"] for a in kept["answers"]} == ANSWERS
    assert kept["answered_by"] == "person" and "decide" in kept["note"]
    assert _events(referral_id) == ["queued", "attempt", "retry", "attempt", "sent", "acknowledged"]
    # A second delivery (e.g. after a killed sender) carries the same key: the receiver keeps one.
    with session_scope() as session:
        advocacy.resend(session, referral_id, "sam.worker")
    _drain(hook_config, referral_id, until=("acknowledged",))
    assert len(receiver.requests) == 3 and list(receiver.kept) == [reference]


def test_wrong_secret_is_refused_by_the_receiver_and_fails(records_db, receiver, hook_config):
    referral_id = _referral(delivery_channel="webhook")[0]
    config = replace(hook_config, webhook_secret="w" * 40)
    assert _drain(config, referral_id) == "failed"
    assert receiver.kept == {} and _events(referral_id)[-1] == "failed"


def test_settings_refuse_a_plain_http_address_and_a_short_secret():
    with pytest.raises(ValueError, match="https"):
        load_advocacy_config({"MSP_ADVOCACY_DELIVERY": "webhook", "MSP_ADVOCACY_WEBHOOK_URL": "http://x.org/r"})
    with pytest.raises(ValueError, match="32"):
        load_advocacy_config({"MSP_ADVOCACY_DELIVERY": "webhook", "MSP_ADVOCACY_WEBHOOK_SECRET": "short"})
