"""The outcomes form's questions are responses the Rasa server sends itself.

validate_outcomes_form (bot/actions/outcomes.py) decides the next question by
setting requested_slot and the slots the wording depends on; Rasa's form then
sends ``utter_ask_outcomes_form_<slot>`` through our NLG
(bot/components/settings_nlg.py), with no second call to the action server.
These tests run Rasa's own FormAction and NLG on the real domain.
"""
from __future__ import annotations

import asyncio

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.actions.forms import FormAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.actions.outcomes import FORM, FORM_SLOTS
from bot.components.settings_nlg import SettingsNLG, button_title, outcome_buttons

YES_NO = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
REVIEW = [{"title": t, "payload": t} for t in
          ("Add something", "Change one", "Take one away", "Keep them as they are")]
GROUP = [{"title": "Yes, that's fine", "payload": "/affirm"}, {"title": "No", "payload": "/deny"},
         {"title": "Skip this", "payload": "Skip this"}]
CHOICES = [{"id": 7, "text": "I want him to stay away from me and my flat"}, {"id": 9, "text": "x"}]
LISTED = '1. "I want him to stay away from me and my flat"\n2. "x"'


def say(domain, response, **slots):
    """What the Rasa server sends for ``response`` with these slots set."""
    events = [SlotSet(name, value) for name, value in slots.items()]
    tracker = DialogueStateTracker.from_events("t", events, slots=domain.slots)
    return asyncio.run(SettingsNLG(domain=domain).generate(response, tracker, "rest"))


def ask(domain, slot, **slots):
    return say(domain, f"utter_ask_{FORM}_{slot}", requested_slot=slot, **slots)


@pytest.mark.parametrize("slot", FORM_SLOTS)
def test_rasas_form_asks_every_slot_with_our_response_not_an_action(domain, slot):
    # FormAction looks for action_ask_<form>_<slot> first: none may exist.
    assert FormAction(FORM, None)._name_of_utterance(domain, slot) == f"utter_ask_{FORM}_{slot}"


# (question, slots the validation action sets, words expected, buttons expected)
QUESTIONS = [
    ("outcome_role", {}, "First, are you answering for yourself, or for someone else?",
     [{"title": "For myself", "payload": "For myself"},
      {"title": "For someone else", "payload": "For someone else"}]),
    ("outcome_consent", {"outcome_role": "self"},
     "Is it OK for me to write down what you tell me? Only the safeguarding team", YES_NO),
    ("outcome_consent", {"outcome_role": "other"}, "Thank you for helping them. Is it OK", YES_NO),
    ("outcome_review", {"outcome_prompt": "first", "outcome_list": LISTED},
     f"Welcome back. This is what you told us before:\n{LISTED}\nWould you like to add", REVIEW),
    ("outcome_review", {"outcome_prompt": "more", "outcome_list": LISTED},
     f"This is what is written down now:\n{LISTED}\nWould you like to add", REVIEW),
    ("outcome_pick", {"outcome_action": "change", "outcome_choices": CHOICES},
     "Which one would you like to change? Please type its number.",
     [{"title": "1: I want him to stay away…", "payload": "1"}, {"title": "2: x", "payload": "2"}]),
    ("outcome_pick", {"outcome_action": "withdraw", "outcome_choices": CHOICES},
     "Which one would you like to take away? Please type its number.",
     [{"title": "1: I want him to stay away…", "payload": "1"}, {"title": "2: x", "payload": "2"}]),
    ("outcome_withdraw_confirmed", {"outcome_text": "to see my friends"},
     'I will mark this one as taken away: "to see my friends" Your worker will still see', YES_NO),
    ("outcome_text", {"outcome_prompt": "first", "outcome_role": "self"},
     "What would you like to happen? Please use your own words.", None),
    ("outcome_text", {"outcome_prompt": "first", "outcome_role": "other"},
     "What would the person you are helping like to happen?", None),
    ("outcome_text", {"outcome_prompt": "again", "outcome_role": "other"},
     "Sorry I got that wrong. Please tell me again", None),
    ("outcome_text", {"outcome_prompt": "more", "outcome_role": "self"},
     "What else would you like to happen?", None),
    ("outcome_text", {"outcome_prompt": "change", "outcome_text": "to see my friends"},
     'At the moment it says: "to see my friends" What would you like it to say instead?', None),
    ("outcome_text", {"outcome_prompt": "too_long"}, "That is more than 2,000 characters", None),
    ("outcome_confirmed", {"outcome_text": "I want it to stop"},
     'This is what I will write down: "I want it to stop" Is that right?',
     [{"title": "Yes, that's right", "payload": "/affirm"},
      {"title": "No, let me change it", "payload": "/deny"}]),
    ("outcome_category_ok", {"outcome_prompt": "group", "outcome_category_label": "To feel safer"},
     'For our yearly figures, we would count it as: "To feel safer". Is that OK?', GROUP),
    ("outcome_category_ok", {"outcome_prompt": "police",
                             "outcome_category_label": "For the police to prosecute"},
     "The police and the courts decide if someone is charged, not us.", GROUP),
    ("outcome_more", {"outcome_prompt": "saved"},
     "Thank you. I have saved that, just as you wrote it. Is there anything else", YES_NO),
    ("outcome_more", {"outcome_prompt": "more"},
     "Is there anything else you would like to happen? Please answer yes or no.", YES_NO),
    ("outcome_more", {"outcome_prompt": "returning"},
     "Is there anything else you would like to add, change or take away?", YES_NO),
    ("outcome_more", {"outcome_prompt": "withdrawn"},
     "Done. I have marked it as taken away. Is there anything else", YES_NO),
    ("outcome_contact", {}, "How would you like us to keep you up to date?",
     [{"title": t, "payload": t} for t in
      ("A phone call", "A letter", "An email", "Through someone I trust")]),
]


@pytest.mark.parametrize("slot, slots, words, buttons", QUESTIONS,
                         ids=[f"{q[0]}-{q[1].get('outcome_prompt') or q[1].get('outcome_role') or q[1].get('outcome_action') or ''}"
                              for q in QUESTIONS])
def test_each_question_keeps_its_words_and_buttons(domain, slot, slots, words, buttons):
    message = ask(domain, slot, **slots)
    assert words in message["text"]
    assert "{" not in message["text"]
    assert message.get("buttons") == buttons


def test_one_question_per_state_and_never_the_goodbye(domain):
    """Whatever the other slots say, each question is asked (no variation left unmatched)."""
    prompt_values = [None] + list(next(s for s in domain.slots if s.name == "outcome_prompt").values)
    goodbye = {v["text"] for v in domain.responses["utter_outcomes_done"]}
    for slot in FORM_SLOTS:
        for prompt in prompt_values:
            for role in (None, "self", "other"):
                for action in (None, "add", "change", "withdraw"):
                    message = ask(domain, slot, outcome_prompt=prompt, outcome_role=role,
                                  outcome_action=action, outcome_text="t", outcome_list="1. t",
                                  outcome_category_label="l", outcome_choices=CHOICES)
                    assert message is not None and message["text"] not in goodbye


@pytest.mark.parametrize("slots, words", [
    ({"outcome_review": "keep"}, "They stay just as they are"),
    ({"outcome_prompt": "link_lapsed"}, "I can only show or change them straight after"),
    ({"outcome_consent": "refused"}, "I won't write anything down"),
    ({"outcome_consent": "given", "outcome_prompt": "more"}, "Your words are saved just as you wrote"),
])
def test_the_end_of_the_form(domain, slots, words):
    assert words in say(domain, "utter_outcomes_done", requested_slot=None, **slots)["text"]


def test_pick_buttons_number_every_outcome_and_survive_odd_slots():
    assert outcome_buttons(CHOICES) == [
        {"title": "1: I want him to stay away…", "payload": "1"}, {"title": "2: x", "payload": "2"}]
    assert button_title(3, "a b") == "3: a b"
    assert outcome_buttons(None) == [] and outcome_buttons("x") == []
    # A broken entry keeps the numbers of the others (the person types the number).
    assert outcome_buttons(["?", {"id": 1, "text": "y"}]) == [{"title": "2: y", "payload": "2"}]


# --- one call to the action server per message in the form ----------------------------------

def form_turn(domain, monkeypatch, after, validation_events):
    """Run Rasa's FormAction for outcomes_form once; the action server's calls, and the events."""
    calls = []

    async def action_server(self, output_channel, nlg, tracker, domain):
        calls.append(self.name())
        return list(validation_events) if self.name() == f"validate_{FORM}" else []

    monkeypatch.setattr(RemoteAction, "run", action_server)
    events = [ActionExecuted("action_listen"), UserUttered("ABCD-EFGH"),
              ActionExecuted(FORM), ActiveLoop(FORM), SlotSet("requested_slot", "outcome_role"),
              ActionExecuted("action_listen")] + after
    tracker = DialogueStateTracker.from_events("conv", events, slots=domain.slots)
    out = asyncio.run(FormAction(FORM, None).run(
        CollectingOutputChannel(), SettingsNLG(domain=domain), tracker, domain))
    return calls, out


ANSWERED = [SlotSet("outcome_role", "self"), SlotSet("participant_id", 3),
            SlotSet("outcome_prompt", "first"), SlotSet("requested_slot", "outcome_text")]


@pytest.mark.parametrize("after", [
    # An answer to the question.
    [UserUttered("For myself", {"name": "inform", "confidence": 1.0})],
    # Back from "talk to a person" (a rule answered, then the form carries on).
    [UserUttered("a person please", {"name": "ask_talk_to_person", "confidence": 1.0}),
     ActionExecuted("utter_talk_to_person"), BotUttered("Call us")],
], ids=["answer", "after-a-digression"])
def test_a_form_message_calls_the_action_server_once(domain, monkeypatch, after):
    calls, events = form_turn(domain, monkeypatch, after, ANSWERED)
    assert calls == [f"validate_{FORM}"]  # the check of the link and the answer; no ask action
    [question] = [e for e in events if isinstance(e, BotUttered)]
    assert question.text.startswith("What would you like to happen?")
    assert question.metadata["utter_action"] == "utter_ask_outcomes_form_outcome_text"
    assert SlotSet("requested_slot", "outcome_text") in events


def test_the_which_one_question_gets_its_buttons_without_the_action_server(domain, monkeypatch):
    validation = [SlotSet("outcome_review", "change"), SlotSet("outcome_action", "change"),
                  SlotSet("outcome_choices", CHOICES), SlotSet("requested_slot", "outcome_pick")]
    calls, events = form_turn(domain, monkeypatch, [UserUttered("Change one")], validation)
    assert calls == [f"validate_{FORM}"]
    [question] = [e for e in events if isinstance(e, BotUttered)]
    assert question.text == "Which one would you like to change? Please type its number."
    assert [b["payload"] for b in question.data["buttons"]] == ["1", "2"]


def test_a_lapsed_link_ends_the_form_without_a_question(domain, monkeypatch):
    lapsed = [SlotSet("outcome_prompt", "link_lapsed"), SlotSet("enquiry_id", None),
              SlotSet("requested_slot", None)]
    calls, events = form_turn(domain, monkeypatch, [UserUttered("Keep them")], lapsed)
    assert calls == [f"validate_{FORM}"]
    assert not [e for e in events if isinstance(e, BotUttered)]
    assert ActiveLoop(None) in events
