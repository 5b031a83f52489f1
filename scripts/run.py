"""`make run`: start the whole system on loopback and keep it running.

Ports come from RASA_PORT, ACTIONS_PORT, DEMO_PORT and PORTAL_PORT (defaults
5005, 5055, 8000 and 8100). The Rasa HTTP API is enabled only with a token: RASA_TOKEN if set,
otherwise a random one kept in var/rasa_token (readable only by you). The web
widget's sessions are signed with MSP_WIDGET_SECRET if set, otherwise with a
random key kept in var/widget_secret, so a restart does not end them. The
staff portal's TOTP secrets are encrypted with MSP_TOTP_KEYS or the key file
MSP_TOTP_KEY_FILE if set, otherwise with a random key kept in var/totp_key
(``Stack.ensure_totp_key``; only the portal and the migration are told where).
The REST channel is switched on only when MSP_REST_TOKEN is set (integrations send
it as a bearer token).

The umask is 077 from the start, var/ is 700 and everything in it 600.

If a process stops (a crash, or killed), it is started again with back-off
(1, 2, 4 ... 60 s; ``scripts.stack.Supervisor``), and the stop and the restart
are logged here and in var/logs/supervisor.log: one crash is not an outage.
While the action server is down, the Rasa server answers with a kind message
with the council's number and 999 (``bot/components/action_guard.py``).
"""
from __future__ import annotations

import logging
import os
import signal
import sys
import time
from pathlib import Path

from scripts.model import ensure_model
from scripts.stack import ROOT, UMASK, Stack, Supervisor, new_token, private_file, secure_dir


def _secret(var_dir: Path, env: str, name: str) -> str:
    if os.environ.get(env):
        return os.environ[env]
    path = var_dir / name
    if not path.exists() or not path.read_text().strip():
        with private_file(path, "a") as fh:
            fh.write(new_token())
    return path.read_text().strip()


def _token(var_dir: Path) -> str:
    return _secret(var_dir, "RASA_TOKEN", "rasa_token")


def _supervisor_log(log_dir: Path) -> logging.Logger:
    logger = logging.getLogger("msp.supervisor")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if not logger.handlers:
        log_dir.mkdir(parents=True, exist_ok=True)
        formatter = logging.Formatter("%(asctime)s %(message)s")
        for handler in (logging.StreamHandler(sys.stderr),
                        logging.FileHandler(log_dir / "supervisor.log")):
            handler.setFormatter(formatter)
            logger.addHandler(handler)
    return logger


def main() -> int:
    os.umask(UMASK)
    from bot.sms.config import load_sms_config

    from bot.advocacy.config import load_advocacy_config

    try:
        load_sms_config()
    except ValueError as exc:
        print(f"SMS settings: {exc}", file=sys.stderr)
        return 2
    try:
        advocacy = load_advocacy_config()
    except ValueError as exc:
        print(f"Advocacy settings: {exc}", file=sys.stderr)
        return 2
    var_dir = Path(os.environ.get("MSP_VAR_DIR", ROOT / "var")).resolve()
    secure_dir(var_dir)
    stack = Stack(
        model=ensure_model(quiet=True),
        rasa_port=int(os.environ.get("RASA_PORT", "5005")),
        actions_port=int(os.environ.get("ACTIONS_PORT", "5055")),
        var_dir=var_dir,
        token=_token(var_dir),
        rest_token=os.environ.get("MSP_REST_TOKEN") or None,
        log_dir=var_dir / "logs",
        quiet=False,
        demo_port=int(os.environ.get("DEMO_PORT", "8000")),
        extra_env={"MSP_WIDGET_SECRET": _secret(var_dir, "MSP_WIDGET_SECRET", "widget_secret")},
        # The SMS outbox sender runs when Twilio is configured (bot/sms/config.py).
        sms_sender=bool(os.environ.get("TWILIO_AUTH_TOKEN", "").strip()),
        scheduler=True,
        # The advocacy referral sender runs when a relay or webhook is configured (bot/advocacy/config.py).
        advocacy_sender=advocacy.sending,
        portal_port=int(os.environ.get("PORTAL_PORT", "8100")),
        handoff_timeouts=True,
    )
    stopping = False

    def _stop(signum, frame):  # noqa: ARG001
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    print("Starting the action server, the Rasa server, the demo council page and the staff portal ...",
          flush=True)
    try:
        stack.start()
    except (RuntimeError, TimeoutError) as exc:
        print(f"Could not start: {exc}. Logs are in {stack.log_dir}.", file=sys.stderr)
        stack.stop()  # whatever did start (a process that died while starting left the rest running)
        return 1
    if stack.rest_token:
        rest = (f"POST {stack.rest_url}  {{\"sender\": \"rest-...\", \"message\": \"...\"}} "
                "(Authorization: Bearer $MSP_REST_TOKEN)")
        try_rest = (f"Try:  curl -s -XPOST {stack.rest_url} -H \"Authorization: Bearer $MSP_REST_TOKEN\" "
                    f"-d '{{\"sender\":\"rest-me\",\"message\":\"hello\"}}'\n")
    else:
        rest, try_rest = "switched off (set MSP_REST_TOKEN to switch it on)", ""
    print(
        f"""
MSP Assistant is running (ready in {stack.ready_seconds:.1f} s).
  Rasa server      {stack.rasa_url}
    REST channel   {rest}
    socket.io      {stack.rasa_url}/socket.io  (web widget; origins: {", ".join(stack.origins())})
    HTTP API       token in {var_dir / 'rasa_token'} (or RASA_TOKEN)
  Action server    http://127.0.0.1:{stack.actions_port}/webhook
  Demo page        {stack.demo_url}  (council page with the chat widget; open it in a browser)
  Staff portal     {stack.portal_url}  (staff sign-in; first administrator: msp user create --role admin)
  Conversations    {stack.db_path}  (Rasa SQL tracker store)
  MSP records      {stack.env()["DATABASE_URL"].split("@")[-1]}  (migrated to the newest revision)
  Model            {stack.model.relative_to(ROOT)}
  Logs             {stack.log_dir}
{try_rest}Press Ctrl-C to stop.""",
        flush=True,
    )
    supervisor = Supervisor(stack, log=_supervisor_log(stack.log_dir).warning)
    try:
        while not stopping:
            supervisor.check()
            time.sleep(0.5)
    finally:
        print("\nStopping ...", flush=True)
        stack.stop()
        print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
