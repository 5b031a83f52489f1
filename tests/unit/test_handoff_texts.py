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


def test_the_timeout_notice_offers_a_call_back_with_buttons_and_the_slot_that_lets_a_yes_start_it():
    from bot.handoff.timeouts import notice
    from bot.text.readability import check

    settings = load_settings({})
    words = notice(settings)
    assert "keep waiting" in words and settings.council_phone in words and "999" in words
    assert words.endswith("Would you like a call back? Please answer yes or no.")
    assert check(words) == []
    message, slot = texts.automatic_callback_offer(words)
    assert message["text"] == words and message["metadata"] == {"handoff": True}
    assert [b["payload"] for b in message["data"]["buttons"]] == ["/affirm", "/deny"]
    assert slot == {"event": "slot", "name": "callback_offered", "value": True}


def test_sms_texts_are_short_and_never_say_what_this_is_about():
    from bot.handoff.timeouts import notice
    from bot.sms.texts import count_segments, revealing_words
    from bot.text.readability import check

    settings = load_settings({})
    name = texts.sms_worker_name("Ann Smith", settings)
    words = [texts.sms_joined(name), texts.sms_ended(settings), texts.sms_timeout(settings),
             texts.sms_unanswered(settings)]
    for text in words:
        assert revealing_words(text) == [], text
        assert "999" in text and count_segments(text).segments <= 2, text
        assert check(text) == [], text
    assert texts.sms_timeout(settings).endswith("Would you like a call back? Reply yes or no.")
    assert settings.council_phone in texts.sms_ended(settings)
    # The same check finds what the web's words say (so the test can fail).
    assert revealing_words(notice(settings)) == ["council"]
    # The role's words name the team on the web; by SMS a neutral name is used instead.
    by_role = load_settings({"MSP_HANDOFF_WORKER_NAME": "role"})
    assert texts.sms_worker_name("Ann Smith", by_role) == "A member of the team"
    plain_role = load_settings({"MSP_HANDOFF_WORKER_NAME": "role", "MSP_HANDOFF_WORKER_ROLE": "Your adviser"})
    assert texts.sms_worker_name("Ann Smith", plain_role) == "Your adviser"
    assert texts.sms_from_worker("Ann", "  Hello  ") == "Ann:   Hello  "


def test_rasa_keeps_a_copy_of_an_sms_with_the_slot_change():
    assert texts.sms_record("hi") == [{"event": "bot", "text": "hi", "metadata": {"handoff": True}}]
    slot, bot = texts.sms_record("bye", None)
    assert slot == {"event": "slot", "name": "handoff", "value": None} and bot["text"] == "bye"


def test_revealing_words_are_found_by_word_start_in_any_case():
    from bot.sms.texts import revealing_words

    assert revealing_words("He ABUSED me; harmful; Safeguarding; social workers; the Council") == [
        "abused", "harmful", "safeguarding", "social workers", "council"]
    assert revealing_words("the pharmacy is charming; see you at 3") == []
