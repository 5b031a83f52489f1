"""Issue 10, item 9: a dead process is not an outage.

* With the action server killed in the middle of the outcomes form, the person's
  message gets a kind reply with the council's number and 999 (not an empty one),
  and once the action server is back the same answer carries the form on.
* ``make run`` (``scripts/run.py``) restarts a process that dies, with back-off,
  and logs it; the rest of the system keeps running.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

from bot.records import create_enquiry, create_invitation, session_scope
from bot.settings import get_settings
from scripts.stack import ROOT, Stack, free_port, new_token

pytestmark = pytest.mark.integration
S = get_settings()


@pytest.fixture(scope="module")
def stack(trained_model, tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("var-staying-up")
    s = Stack(model=trained_model, rasa_port=free_port(), actions_port=free_port(), var_dir=var_dir,
              token=new_token(), log_dir=var_dir / "logs", rest_token=new_token())
    s.start()
    yield s
    s.stop()


def joined(messages):
    return "\n".join(m.get("text", "") for m in messages)


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def _wait(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_action_server_killed_mid_conversation_gets_a_kind_reply(stack, sender):
    url = stack.env()["DATABASE_URL"]
    with session_scope(url) as session:
        enquiry_id = create_enquiry(session, f"SG-UP-{uuid.uuid4().hex[:8]}").id
        code = create_invitation(session, enquiry_id).code
    stack.send(sender, code)
    stack.send(sender, "For myself")
    assert "What would you like to happen?" in joined(stack.send(sender, "yes"))

    stack.procs["actions"].send_signal(signal.SIGKILL)
    stack.procs["actions"].wait(15)
    words = "I want to feel safe in my own home"
    reply = stack.send(sender, words)
    assert reply, "an empty reply"
    text = joined(reply)
    assert text.startswith("Sorry, something went wrong on our side")
    assert S.council_phone in text and "call 999" in text and "Nothing you typed is lost" in text
    # Danger still comes first, without the action server.
    assert joined(stack.send(sender, "he is hitting me now")).startswith(
        "If you or anyone else is in danger now, call 999")
    # Nothing typed is lost.
    users = [e["text"] for e in stack.tracker(sender)["events"] if e["event"] == "user"]
    assert users[-2:] == [words, "he is hitting me now"]

    # The action server comes back: the same answer carries the form on.
    stack.respawn("actions")
    _wait(lambda: _healthy(stack.actions_port), 60, "the action server")
    stack.send(sender, "ok")  # after the danger reply the question is asked again
    assert "Is that right?" in joined(stack.send(sender, words))


def test_make_run_restarts_a_process_that_dies(trained_model, tmp_path):
    ports = {name: free_port() for name in ("RASA_PORT", "ACTIONS_PORT", "DEMO_PORT")}
    rest_token = new_token()
    env = dict(os.environ, MSP_VAR_DIR=str(tmp_path / "var"), RASA_TOKEN=new_token(), MSP_REST_TOKEN=rest_token,
               MSP_WIDGET_ORIGINS="", **{k: str(v) for k, v in ports.items()})
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'var' / 'msp.db'}"
    log = open(tmp_path / "run.out", "wb")
    run = subprocess.Popen([sys.executable, "-m", "scripts.run"], cwd=ROOT, env=env, stdout=log,
                           stderr=subprocess.STDOUT, start_new_session=True)
    supervisor_log = tmp_path / "var" / "logs" / "supervisor.log"
    try:
        rasa = f"http://127.0.0.1:{ports['RASA_PORT']}"

        def ready():
            return run.poll() is not None or "MSP Assistant is running" in (tmp_path / "run.out").read_text()

        _wait(ready, 240, "make run to start")
        assert run.poll() is None, (tmp_path / "run.out").read_text()
        # The survey scheduler (reminders, expiry) is one of the processes make run keeps up.
        scheduler_log = tmp_path / "var" / "logs" / "scheduler.log"
        _wait(lambda: scheduler_log.exists() and "survey scheduler started" in scheduler_log.read_text(), 60,
              "the survey scheduler to start")
        found = subprocess.run(["pgrep", "-f", f"scripts.serve actions --actions bot.actions --port {ports['ACTIONS_PORT']}"],
                               capture_output=True, text=True).stdout.split()
        assert len(found) == 1, found
        os.kill(int(found[0]), signal.SIGKILL)

        def say(text):
            body = json.dumps({"sender": f"rest-run-{uuid.uuid4().hex}", "message": text}).encode()
            req = urllib.request.Request(f"{rasa}/webhooks/rest/webhook", data=body,
                                         headers={"Content-Type": "application/json",
                                                  "Authorization": f"Bearer {rest_token}"})
            with urllib.request.urlopen(req, timeout=30) as resp:
                return joined(json.loads(resp.read() or b"[]"))

        _wait(lambda: run.poll() is not None or _healthy(ports["ACTIONS_PORT"]), 60,
              "the action server to be restarted")
        assert run.poll() is None, (tmp_path / "run.out").read_text()
        # Back: an unknown code (which needs the action server) gets its proper answer.
        assert "couldn't find that code" in say("my code is XR5T-9PLW")
        logged = supervisor_log.read_text()
        assert "actions stopped (exit code -9" in logged and "restarting in 1 s" in logged
        assert "actions restarted (pid" in logged
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGINT)
            try:
                run.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(run.pid, signal.SIGKILL)
                run.wait(10)
        log.close()
