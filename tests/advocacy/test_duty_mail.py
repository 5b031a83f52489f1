"""The duty team's email (bot/handoff/duty.py) on real SMTP servers on loopback: its own relay, the shared
relay when it has none, never the two mixed; and a sender killed after taking an email and before sending it
(a real process, SIGKILL) does not lose it: once the lease is over the next round sends it, once."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.handoff import timeouts
from bot.handoff.duty import DutyMail
from bot.records import callbacks, handoffs, session_scope
from bot.records.models import utcnow

from .provider_peer import SmtpProvider

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHARED_FROM = "msp@example.gov.uk"
DUTY = "duty@example.gov.uk"


@pytest.fixture
def duty_relay():
    peer = SmtpProvider().start()
    yield peer
    peer.stop()


def shared(provider) -> dict:
    return {"MSP_ADVOCACY_SMTP_HOST": "127.0.0.1", "MSP_ADVOCACY_SMTP_PORT": str(provider.port),
            "MSP_ADVOCACY_SMTP_STARTTLS": "no", "MSP_ADVOCACY_SMTP_USER": "advocacy-user",
            "MSP_ADVOCACY_SMTP_PASSWORD": "advocacy-secret", "MSP_ADVOCACY_FROM": SHARED_FROM,
            "MSP_HANDOFF_DUTY_EMAIL": DUTY}


def own(peer) -> dict:
    return {"MSP_HANDOFF_DUTY_SMTP_HOST": "127.0.0.1", "MSP_HANDOFF_DUTY_SMTP_PORT": str(peer.port),
            "MSP_HANDOFF_DUTY_SMTP_STARTTLS": "no", "MSP_HANDOFF_DUTY_FROM": "duty-alerts@example.gov.uk"}


def test_the_duty_email_goes_through_its_own_relay_when_set(provider, duty_relay):
    mail = DutyMail.from_env({**shared(provider), **own(duty_relay)})
    assert (mail.relay.smtp_port, mail.relay.smtp_starttls, mail.relay.from_address) == (
        duty_relay.port, False, "duty-alerts@example.gov.uk")
    # Never the shared relay's login on another host.
    assert (mail.relay.smtp_user, mail.relay.smtp_password) == (None, None)
    mail.send(5)
    [got] = duty_relay.to(DUTY)
    assert got["message"]["From"] == "duty-alerts@example.gov.uk" and "chat 5" in got["message"]["Subject"]
    assert provider.to(DUTY) == []


def test_its_own_login_and_tls_settings_are_read(provider):
    mail = DutyMail.from_env({**shared(provider), "MSP_HANDOFF_DUTY_SMTP_HOST": "smtp.duty.example",
                              "MSP_HANDOFF_DUTY_SMTP_USER": "duty-user", "MSP_HANDOFF_DUTY_SMTP_PASSWORD": "pw",
                              "MSP_HANDOFF_DUTY_LEASE_SECONDS": "45"})
    relay = mail.relay
    assert (relay.smtp_host, relay.smtp_port, relay.smtp_starttls, relay.smtp_user, relay.smtp_password) == (
        "smtp.duty.example", 587, True, "duty-user", "pw")
    assert relay.from_address == SHARED_FROM and mail.lease_seconds == 45
    with pytest.raises(ValueError, match="MSP_HANDOFF_DUTY_SMTP_STARTTLS"):
        DutyMail.from_env({**shared(provider), "MSP_HANDOFF_DUTY_SMTP_HOST": "x", "MSP_HANDOFF_DUTY_SMTP_STARTTLS": "?"})


def test_without_its_own_relay_the_shared_relay_is_used_whole(provider):
    mail = DutyMail.from_env({**shared(provider), "MSP_HANDOFF_DUTY_FROM": "duty-alerts@example.gov.uk"})
    assert (mail.relay.smtp_port, mail.relay.smtp_user, mail.relay.smtp_password) == (
        provider.port, "advocacy-user", "advocacy-secret")
    assert mail.relay.from_address == "duty-alerts@example.gov.uk"
    mail_plain = DutyMail.from_env({k: v for k, v in shared(provider).items() if "USER" not in k and "PASS" not in k})
    mail_plain.send_callback(3)
    [got] = provider.to(DUTY)
    assert got["message"]["From"] == SHARED_FROM and "request 3" in got["message"]["Subject"]


def _killed_sender(records_db: str, env: dict, step: str) -> None:
    """A real sender process that takes the job of each duty email and is killed before sending it."""
    script = (
        "import os, signal, sys\n"
        "from bot.handoff import timeouts\n"
        "from bot.handoff.duty import DutyMail\n"
        "class Dying(DutyMail):\n"
        "    def send(self, _id): os.kill(os.getpid(), signal.SIGKILL)\n"
        "    send_callback = send\n"
        "mail = DutyMail.from_env()\n"
        "getattr(timeouts, sys.argv[1])(Dying(mail.relay, mail.to_address, mail.portal_url, mail.lease_seconds))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, step], cwd=PROJECT_ROOT, timeout=120,
                          env={**os.environ, **env, "DATABASE_URL": records_db}, capture_output=True)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]


@pytest.mark.parametrize("step", ["notify_duty", "notify_duty_callbacks"])
def test_a_sender_killed_between_taking_the_email_and_sending_it_does_not_lose_it(records_db, provider, step):
    env = {k: v for k, v in shared(provider).items() if "USER" not in k and "PASS" not in k}
    env["MSP_HANDOFF_DUTY_LEASE_SECONDS"] = "60"
    with session_scope() as db:
        if step == "notify_duty":
            handoffs.request_handoff(db, "web-waiting", "web")
        else:
            callbacks.request_callback(db, {"safe_words": "yes", "number_words": "07700 900123",
                                            "safe_times": "any", "message_words": "no", "others_words": "nobody"},
                                       number="+447700900123", leave_message=False, sender_id="web-cb",
                                       channel="web", asked_by="person", source_ref="cb:1")
    _killed_sender(records_db, env, step)
    mail = DutyMail.from_env(env)
    send = getattr(timeouts, step)
    assert send(mail) == 0  # the dead process's lease still runs: nobody sends it twice meanwhile
    assert provider.to(DUTY) == []
    after_lease = utcnow() + timedelta(seconds=61)
    assert send(mail, now=after_lease) == 1
    assert send(mail, now=after_lease) == 0 and send(mail, now=after_lease + timedelta(hours=1)) == 0
    assert len(provider.to(DUTY)) == 1
