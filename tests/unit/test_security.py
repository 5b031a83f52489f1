"""Issue 10, items 1, 6, 7 and 8: the pieces, without servers (tests/integration has them running)."""
from __future__ import annotations

import io
import json
import logging
import os
import stat

import pytest

from bot import logsafe
from bot.channels import namespaces
from bot.channels.rest import BadRequest, IntegrationRestInput, parse_body, token_from_env
from scripts import serve
from scripts.stack import Stack, private_file, secure_dir


# --- item 1 / 6: the REST body and sender -----------------------------------------------------

def test_a_good_body_is_read():
    body = json.dumps({"sender": "rest-case-12", "message": "hello", "metadata": {"a": 1}}).encode()
    assert parse_body(body) == ("rest-case-12", "hello", {"a": 1})
    assert parse_body(b'{"sender": "rest-x", "message": ""}') == ("rest-x", "", None)


@pytest.mark.parametrize("raw, code", [
    (b"", "empty_body"), (b"[]", "not_an_object"), (b'"hi"', "not_an_object"), (b"{", "not_json"),
    (b'{"message": "hi"}', "no_sender"), (b'{"sender": "web-abc", "message": "hi"}', "bad_sender"),
    (b'{"sender": "rest-a"}', "no_message"), (b'{"sender": "rest-a", "message": 3}', "bad_message"),
    (b'{"sender": "rest-a", "message": "x", "input_channel": "socketio"}', "bad_input_channel"),
])
def test_bad_bodies_say_what_is_wrong(raw, code):
    with pytest.raises(BadRequest) as err:
        parse_body(raw)
    assert err.value.code == code and err.value.message


def test_every_channel_has_its_own_namespace():
    prefixes = list(namespaces.PREFIXES.values())
    assert not any(a != b and a.startswith(b) for a in prefixes for b in prefixes)
    assert namespaces.owner("web-abc") == "socketio" and namespaces.owner("rest-abc") == "rest"
    assert namespaces.is_rest_sender("rest-a1_b.c:d-e")
    for bad in ("web-abc", "rest-", "rest-a b", "REST-a", "default", None, 7, "rest-" + "a" * 101):
        assert not namespaces.is_rest_sender(bad)
    from bot.channels.widget import SessionTokens

    tokens = SessionTokens(b"k" * 32, 60)
    assert namespaces.owner(tokens.sender_for_token(tokens.issue())) == "socketio"


def test_the_rest_token_comes_from_the_environment_or_a_file(tmp_path):
    assert token_from_env({}) is None
    assert token_from_env({"MSP_REST_TOKEN": " abc "}) == "abc"
    path = tmp_path / "rest_token"
    path.write_text("from-a-file-0123456789\n")
    assert token_from_env({"MSP_REST_TOKEN_FILE": str(path)}) == "from-a-file-0123456789"
    with pytest.raises(ValueError):
        IntegrationRestInput(token="short")
    assert IntegrationRestInput(token=None).token is None


# --- item 7: log records ---------------------------------------------------------------------

@pytest.fixture
def captured():
    logsafe.forget_all()
    logsafe.install()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("msp.test.logsafe")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)
    logsafe.uninstall()
    logsafe.forget_all()


def test_a_remembered_text_never_reaches_a_log_whole_or_in_part(captured):
    logger, stream = captured
    typed = '/inform_invite_code{"invite_code": "Bartholomew Quince'
    logsafe.remember(typed)
    logsafe.remember("no")
    logger.warning("Failed to parse arguments in line '%s'. Continuing without %s", typed,
                   '{"invite_code": "Bartholomew Quince.')
    logger.info("found BARTHOLOMEW quince; answer was 'no'; nothing else")
    out = stream.getvalue()
    assert "artholomew" not in out.lower() and "quince" not in out.lower()
    assert "'no'" not in out and "nothing else" in out  # short texts only when quoted


def test_fields_parameters_tokens_phones_and_emails_are_withheld(captured):
    logger, stream = captured
    logger.info("event %s", {"text": "my secret words", "intent": "greet"})
    logger.info('{"event": "rest.message.received.failure", "text": "more secret words"}')
    logger.error("(sqlite3.IntegrityError) refused\n[SQL: INSERT ...]\n[parameters: (1, 'ring 07700 900461')]")
    logger.info("GET /conversations/x/tracker?token=s3cr3t-token&x=1 with Bearer abc.def")
    logger.info("call 07700 900461 or +44 7700 900461 or mail jo@example.org; port 5005, id 2026-11-28")
    out = stream.getvalue()
    for secret in ("secret words", "07700", "7700 900461", "s3cr3t", "abc.def", "jo@example.org"):
        assert secret not in out, out
    for kept in ("'intent': 'greet'", "rest.message.received.failure", "INSERT", "port 5005", "2026-11-28"):
        assert kept in out, out


def test_a_traceback_is_withheld_too(captured):
    logger, stream = captured
    logsafe.remember("please ring Zebedee Quartermaine")
    try:
        raise ValueError("bad input: please ring Zebedee Quartermaine")
    except ValueError:
        logger.exception("could not handle message for %s", "rest-abc")
    out = stream.getvalue()
    assert "rest-abc" in out and "ValueError" in out and "Zebedee" not in out


def test_warnings_go_through_the_filter(captured):
    import warnings

    logsafe.remember("/Hortensia Pemberton-Smythe")
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    keep = Keep()
    logging.getLogger("py.warnings").addHandler(keep)
    try:
        with warnings.catch_warnings():  # pytest records warnings itself: as in a server, here
            warnings.simplefilter("always")
            logging.captureWarnings(True)
            warnings.warn("Failed to parse arguments in line '/Hortensia Pemberton-Smythe'.", UserWarning)
    finally:
        logging.getLogger("py.warnings").removeHandler(keep)
    assert records and not any("Hortensia" in r for r in records)


# --- item 8: files and the command line ----------------------------------------------------

def test_secure_dir_tightens_what_was_there(tmp_path):
    var = tmp_path / "var"
    (var / "logs").mkdir(parents=True)
    (var / "msp.db").write_text("x")
    (var / "logs" / "rasa.log").write_text("x")
    os.chmod(var, 0o755)
    os.chmod(var / "msp.db", 0o644)
    secure_dir(var)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in [var, *var.rglob("*")]}
    assert modes == {"var": 0o700, "logs": 0o700, "msp.db": 0o600, "rasa.log": 0o600}
    with private_file(var / "new.log") as fh:
        fh.write(b"x")
    assert stat.S_IMODE((var / "new.log").stat().st_mode) == 0o600


def test_make_run_keeps_its_token_file_private(tmp_path, monkeypatch):
    from scripts.run import _secret

    monkeypatch.delenv("RASA_TOKEN", raising=False)
    os.umask(0o022)
    token = _secret(tmp_path, "RASA_TOKEN", "rasa_token")
    assert len(token) > 30 and stat.S_IMODE((tmp_path / "rasa_token").stat().st_mode) == 0o600
    assert _secret(tmp_path, "RASA_TOKEN", "rasa_token") == token


def test_no_token_on_any_command_line_and_only_rasa_gets_it(tmp_path, monkeypatch):
    monkeypatch.setenv("RASA_TOKEN", "from-the-shell-0123456789")
    monkeypatch.setenv("MSP_REST_TOKEN", "rest-from-the-shell-0123456789")
    stack = Stack(model=tmp_path / "m.tar.gz", rasa_port=1, actions_port=2, var_dir=tmp_path,
                  token="-api-token-0123456789", rest_token="rest-token-0123456789")
    for name in ("RASA_TOKEN", "MSP_REST_TOKEN"):
        assert name not in stack.env()
    assert stack.rasa_env()["RASA_TOKEN"] == "-api-token-0123456789"
    assert stack.rasa_env()["MSP_REST_TOKEN"] == "rest-token-0123456789"
    spawned = {}
    monkeypatch.setattr(Stack, "_spawn", lambda self, name, cmd, env=None: spawned.update({name: (cmd, env)}))
    monkeypatch.setattr(Stack, "migrate", lambda self: None)
    monkeypatch.setattr(Stack, "wait_ready", lambda self, timeout: None)
    stack.start()
    for name, (cmd, env) in spawned.items():
        line = " ".join(cmd)
        assert "api-token" not in line and "rest-token" not in line and "--auth-token" not in line
        assert cmd[1:4] == ["-m", "scripts.serve", "rasa" if name == "rasa" else "actions"]



def test_the_portal_gets_the_rasa_api_token_for_the_handoff_console_and_the_action_server_does_not(
        tmp_path, monkeypatch):
    stack = Stack(model=tmp_path / "m.tar.gz", rasa_port=1, actions_port=2, var_dir=tmp_path,
                  token="-api-token-0123456789", rest_token="rest-token-0123456789", portal_port=3)
    spawned = {}
    monkeypatch.setattr(Stack, "_spawn", lambda self, name, cmd, env=None: spawned.update({name: (cmd, env)}))
    monkeypatch.setattr(Stack, "migrate", lambda self: None)
    monkeypatch.setattr(Stack, "wait_ready", lambda self, timeout: None)
    stack.start()
    portal_env = spawned["portal"][1]
    assert portal_env["RASA_TOKEN"] == "-api-token-0123456789" and portal_env["MSP_RASA_URL"] == stack.rasa_url
    assert "MSP_REST_TOKEN" not in portal_env and "api-token" not in " ".join(spawned["portal"][0])
    assert "RASA_TOKEN" not in (spawned["actions"][1] or stack.env())
    assert "RASA_TOKEN" not in stack.portal_env()  # the migration


def test_the_launcher_takes_the_token_from_the_environment_or_a_file(tmp_path):
    env = {"RASA_TOKEN": "-starts-with-a-dash", "OTHER": "x"}
    assert serve.api_token(env) == "-starts-with-a-dash" and "RASA_TOKEN" not in env
    path = tmp_path / "rasa_token"
    path.write_text("in-a-file\n")
    env = {"RASA_TOKEN_FILE": str(path)}
    assert serve.api_token(env) == "in-a-file" and env == {}
    with pytest.raises(SystemExit):
        serve._refuse_token_on_argv(["--port", "1", "--auth-token=abc"])


def test_the_launcher_hands_the_token_to_rasa_run():
    """scripts/serve.py replaces the function `rasa run` calls; pinned to Rasa 3.6's CLI."""
    import rasa
    import rasa.cli.run

    assert rasa.__version__.startswith("3.6."), "check scripts/serve.py against this Rasa's CLI"
    import argparse

    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers()
    original = rasa.cli.run.run
    marker = object()
    try:
        rasa.cli.run.run = marker
        rasa.cli.run.add_subparser(subparsers, parents=[])
        assert parser.parse_args(["run"]).func is marker
    finally:
        rasa.cli.run.run = original
