"""Issue 10, items 7 and 8: what another user of the same machine can read.

Item 8: ``var/`` is 700 and every file in it (databases, WAL, spool, logs,
token) 600, and no command line shows the API or REST token.

Item 7: logs carry ids and event kinds, never what a person typed.
A whole conversation with a known name and phone number runs against the real
servers at their default log level, through the paths that used to print what
people typed: the outcomes form (custom actions and the records database, made
to fail so the failure is logged), messages starting with ``/`` (parsed by
Rasa's own message handler), a tracker database that refuses a save (the
spool), and the widget's socket. Then every log file is searched.
"""
from __future__ import annotations

import os
import re
import sqlite3
import stat
import uuid
from pathlib import Path

import pytest

from bot.records import create_enquiry, create_invitation, session_scope
from scripts.stack import Stack, free_port, new_token
from tests.browser import sio

pytestmark = pytest.mark.integration

NAME = "Bartholomew Quince"
PHONE = "07700 900461"
SECRET = "log-tests-" + uuid.uuid4().hex
ORIGIN = "http://127.0.0.1:9"  # only ever an Origin header here: nothing listens there


@pytest.fixture(scope="module")
def log_stack(trained_model, tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("logs-var")
    # A var/ left world-readable by an older version, with a world-readable file in it.
    os.chmod(var_dir, 0o755)
    (var_dir / "old.log").write_text("from before\n")
    os.chmod(var_dir / "old.log", 0o644)
    s = Stack(model=trained_model, rasa_port=free_port(), actions_port=free_port(),
              var_dir=var_dir, token=new_token(), log_dir=var_dir / "logs", rest_token=new_token(),
              widget_origins=[ORIGIN], extra_env={"MSP_WIDGET_SECRET": SECRET})
    s.start()
    yield s
    s.stop()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _process_tree(pid: int) -> list:
    """``pid`` and every process below it (from /proc)."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def test_no_command_line_shows_a_token(log_stack):
    stack = log_stack
    assert stack.send(f"rest-argv-{uuid.uuid4().hex}", "hello")  # the servers work with the tokens
    pids = [p for proc in stack.procs.values() for p in _process_tree(proc.pid)]
    assert len(pids) >= 2
    for pid in pids:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        assert stack.token not in cmdline and stack.rest_token not in cmdline, cmdline.replace("\0", " ")
    # Nor is the token in the environment of a process that does not need it.
    actions_env = Path(f"/proc/{stack.procs['actions'].pid}/environ").read_bytes().decode("utf-8", "replace")
    assert stack.token not in actions_env and stack.rest_token not in actions_env


def test_var_is_700_and_every_file_in_it_600(log_stack):
    stack = log_stack
    sender = f"rest-files-{uuid.uuid4().hex}"
    assert stack.send(sender, "what is neglect")
    # Make the spool file exist too: the tracker database refuses this conversation once.
    _refuse_inserts(stack.db_path, "events", "refuse_files", f"NEW.sender_id = '{sender}'")
    try:
        assert stack.send(sender, "thank you")
    finally:
        _drop_trigger(stack.db_path, "refuse_files")
    names = {p.name for p in stack.var_dir.rglob("*")}
    for expected in ("tracker.db", "msp.db", "rasa.log", "actions.log", "tracker.db.spool.jsonl"):
        assert expected in names, sorted(names)
    assert any(n.endswith("-wal") for n in names), sorted(names)
    assert _mode(stack.var_dir) == 0o700
    wrong = [f"{p} {oct(_mode(p))}" for p in stack.var_dir.rglob("*")
             if _mode(p) != (0o700 if p.is_dir() else 0o600)]
    assert not wrong, wrong
    assert stack.send(sender, "bye")  # and the spool is moved in again


def joined(messages):
    return "\n".join(m.get("text", "") for m in messages)


def _refuse_inserts(db: Path, table: str, trigger: str, when: str = "1") -> None:
    """A trigger that makes every matching insert fail, as a broken database would."""
    with sqlite3.connect(db) as conn:
        conn.execute(f"CREATE TRIGGER {trigger} BEFORE INSERT ON {table} WHEN {when} "
                     "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")


def _drop_trigger(db: Path, trigger: str) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")


def _all_logs(stack: Stack) -> str:
    files = [p for p in stack.var_dir.rglob("*") if p.is_file() and
             (p.suffix == ".log" or p.parent == stack.log_dir)]
    assert files, "no log files were written"
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in files)


def test_no_log_holds_what_a_person_typed(log_stack):
    stack = log_stack
    words = f"I want {NAME} to stop ringing me on {PHONE}"
    url = stack.env()["DATABASE_URL"]

    # 1. The outcomes form over REST, with the records database refusing the outcome.
    sender = f"rest-logs-{uuid.uuid4().hex}"
    with session_scope(url) as session:
        enquiry_id = create_enquiry(session, f"SG-LOG-{uuid.uuid4().hex[:8]}").id
        code = create_invitation(session, enquiry_id).code
    stack.send(sender, code)
    stack.send(sender, "For myself")
    assert "What would you like to happen?" in joined(stack.send(sender, "yes"))
    assert "Is that right?" in joined(stack.send(sender, words))
    _refuse_inserts(stack.records_path, "desired_outcomes", "refuse_outcomes")
    try:
        refused = joined(stack.send(sender, "yes"))
    finally:
        _drop_trigger(stack.records_path, "refuse_outcomes")
    assert refused.strip() and "Traceback" not in refused

    # 2. Messages starting with "/" (Rasa's own parser) with the words inside.
    for text in (f'/inform_invite_code{{"invite_code": "{NAME} {PHONE}"}}',
                 f'/no_such_intent{{"name": "{NAME}", "phone": "{PHONE}"}}',
                 f'/inform_invite_code{{"invite_code": "{NAME}',
                 f"/{NAME} {PHONE}"):
        stack.send(f"rest-logs-{uuid.uuid4().hex}", text)

    # 3. The tracker database refuses a save: the conversation goes to the spool.
    spooled = f"rest-spool-{uuid.uuid4().hex}"
    _refuse_inserts(stack.db_path, "events", "refuse_events", f"NEW.sender_id = '{spooled}'")
    try:
        assert stack.send(spooled, f"my name is {NAME} and my number is {PHONE}")
    finally:
        _drop_trigger(stack.db_path, "refuse_events")

    # 4. The widget's socket.
    async def widget():
        async with sio.Client(stack.rasa_url, ORIGIN) as client:
            await client.session()
            ack = await client.say(f"hello, I am {NAME}, ring me on {PHONE}")
            assert ack["ok"], ack

    sio.run(widget)

    stack.stop()  # every process has flushed and closed its log
    logs = _all_logs(stack)
    # The paths above were really taken, and the logs say so by id and kind.
    assert f"Could not save conversation {spooled}" in logs
    assert "database error at" in logs
    for secret in (NAME, NAME.split()[0], NAME.split()[1], PHONE, PHONE.replace(" ", ""), stack.token):
        found = [line for line in logs.splitlines() if secret.lower() in line.lower()]
        assert not found, f"{secret!r} is in the logs:\n" + "\n".join(found[:5])
    assert not re.search(r"\[parameters: \(", logs), "SQL parameters are in the logs"
