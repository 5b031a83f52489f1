"""What the person is shown when a member of staff joins, writes or hands back, as Rasa events."""
from __future__ import annotations

from bot.handoff import texts
from bot.settings import load_settings


def test_the_worker_is_named_by_first_name_or_by_role():
    assert texts.worker_name("Ann Smith", load_settings({})) == "Ann"
    by_role = load_settings({"MSP_HANDOFF_WORKER_NAME": "role", "MSP_HANDOFF_WORKER_ROLE": "A safeguarding adviser"})
    assert texts.worker_name("Ann Smith", by_role) == "A safeguarding adviser"
    assert texts.worker_name("", load_settings({})) == "A member of the adult safeguarding team"


def test_the_widget_gets_its_own_messages_and_other_channels_plain_text():
    slot, joined = texts.joined("socketio", "Ann")
    assert slot == {"event": "slot", "name": "handoff", "value": "claimed"}
    assert joined["data"] == {"custom": {"handoff": "joined", "name": "Ann"}} and joined["text"] is None
    [plain] = texts.joined("rest", "Ann")[1:]
    assert plain["text"].startswith("Ann, a member of staff, has joined") and "data" not in plain
    [staff] = texts.from_worker("socketio", "Ann", "  Hello  ")
    assert staff["data"]["custom"] == {"from": "staff", "name": "Ann", "text": "  Hello  "}  # verbatim
    assert texts.from_worker(None, "Ann", "Hello")[0]["text"] == "Ann: Hello"
    slot, back = texts.handed_back("socketio")
    assert slot["value"] is None and back["data"]["custom"] == {"handoff": "left"}
    assert "automated helper again" in texts.closed("twilio")[1]["text"]
