"""The advocacy form: screening answers in several forms, verbatim answers, consent given or refused."""
from __future__ import annotations

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.advocacy import (ActionAdvocacySubmit, ActionAdvocacyWithdraw, ActionAdvocacyWithdrawAsk,
                                  ValidateAdvocacyForm, should_offer)
from bot.actions.parsing import difficulty_said, support_is_clear
from bot.records import advocacy, session_scope
from bot.records.db import dispose_engines
from bot.records.schema import upgrade_to_head


@pytest.fixture(autouse=True)
def db(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'msp.db'}")
    upgrade_to_head()
    yield
    dispose_engines()


@pytest.mark.parametrize("text, said", [
    ("yes", True), ("Yes!!", True), ("a bit", True), ("sometimes", True), ("yeah when they talk fast", True),
    ("I don't know", True), ("what do you mean", True), ("not always", True), ("😕", True),
    ("no", False), ("No.", False), ("nope", False), ("not really", False), ("I'm fine", False),
    ("not at all", False),
])
def test_a_difficulty_is_said_unless_the_answer_is_a_clear_no(text, said):
    assert difficulty_said(text) is said


@pytest.mark.parametrize("intent, text, clear", [
    ("affirm", "yes", True), (None, "yes my sister helps me", True), (None, "Yeah, my friend Jo", True),
    (None, "yes but he is the one hurting me", False), (None, "my son, but he lives abroad", False),
    (None, "no one", False), ("deny", "no", False), (None, "nobody really", False), (None, "not sure", False),
    (None, "my daughter", False),  # not a plain yes: offered, the worker and provider decide
    (None, "yes, my husband, he is the one doing it", False),
])
def test_support_counts_only_when_it_is_a_plain_yes(intent, text, clear):
    assert support_is_clear(intent, text) is clear


def test_offer_needs_a_difficulty_and_no_clear_support():
    nothing = {"adv_understand": "no", "adv_remember": "no", "adv_weigh": "nope", "adv_say": "not really"}
    assert not should_offer(dict(nothing, adv_support="no one"), None)
    assert should_offer(dict(nothing, adv_say="sometimes", adv_support="no one"), None)
    assert not should_offer(dict(nothing, adv_say="sometimes", adv_support="yes my sister"), None)


def tracker(requested, text, intent="nlu_fallback", slots=None, before="advocacy_form", sender="conv-a"):
    user = {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}, "input_channel": "rest"}
    events = [{"event": "action", "name": "action_listen"}, {"event": "action", "name": before},
              {"event": "bot", "text": "a question"}, {"event": "action", "name": "action_listen"}, user,
              {"event": "action", "name": "advocacy_form"}]
    return Tracker(sender, {"requested_slot": requested, **(slots or {})},
                   {"text": text, "intent": {"name": intent}, "message_id": "m-1"}, events, False, None,
                   {"name": "advocacy_form"}, "action_listen")


def run(t, action=ValidateAdvocacyForm):
    return asyncio.run(action().run(CollectingDispatcher(), t, {}))


def test_answers_are_taken_word_for_word_one_question_at_a_time():
    events = run(tracker("adv_understand", "  Yes, they use BIG words  "))
    assert events == [SlotSet("adv_understand", "  Yes, they use BIG words  "), SlotSet("requested_slot",
                                                                                         "adv_remember")]
    assert run(tracker("adv_who", "for my mum"))[0] == SlotSet("adv_who", "other")
    assert run(tracker("adv_who", "hmm"))[-1] == SlotSet("requested_slot", "adv_who")  # asked again


def test_danger_is_never_an_answer_and_the_question_comes_again():
    assert run(tracker("adv_remember", "he is hitting me now", intent="danger_now")) == []
    events = run(tracker("adv_remember", "ok", before="utter_danger_now"))
    assert events == [SlotSet("adv_remember", None), SlotSet("requested_slot", "adv_remember")]


def test_a_phone_call_guessed_as_asking_for_a_person_is_still_an_answer():
    events = run(tracker("adv_contact", "a phone call please", intent="ask_talk_to_person"))
    assert events[0] == SlotSet("adv_contact", "a phone call please")
    assert run(tracker("adv_contact", "can I talk to a real person", intent="ask_talk_to_person")) == []


def test_support_decides_whether_to_ask_for_consent():
    slots = {"adv_understand": "yes", "adv_remember": "no", "adv_weigh": "no", "adv_say": "no"}
    events = run(tracker("adv_support", "my son but he takes my money", slots=slots))
    assert SlotSet("adv_offer", "offered") in events and events[-1] == SlotSet("requested_slot", "adv_consent")
    events = run(tracker("adv_support", "yes, my sister", slots=slots))
    assert SlotSet("adv_offer", "not_offered") in events and events[-1] == SlotSet("requested_slot", None)


FILLED = {"adv_who": "other", "adv_understand": "she gets muddled", "adv_remember": "yes", "adv_weigh": "no",
          "adv_say": "sometimes", "adv_support": "no one", "adv_contact": "ring me, I'm her niece",
          "adv_safe_times": "after 6pm", "adv_offer": "offered"}


def test_consent_given_makes_one_referral_with_the_words():
    events = run(tracker("adv_consent", "yes she agrees", intent="affirm", slots=FILLED))
    assert SlotSet("adv_consent", "given") in events
    done = run(tracker(None, "after 6pm", slots=dict(FILLED, adv_consent="given",
                                                     adv_consent_words="yes she agrees")), ActionAdvocacySubmit)
    assert SlotSet("adv_result", "sent") in done and SlotSet("adv_understand", None) in done
    with session_scope() as session:
        [row] = advocacy.list_referrals(session)
        view = advocacy.referral_view(session, row.id)
        [consent] = advocacy.consents(session)
    assert view.answered_by == "representative" and view.state == "queued"
    assert advocacy.answers_by_question(view) == {
        "understand": "she gets muddled", "remember": "yes", "weigh_up": "no", "say_what_they_want": "sometimes",
        "support": "no one", "contact": "ring me, I'm her niece", "safe_times": "after 6pm"}
    assert consent.words == "yes she agrees" and consent.given_by == "representative"


def test_consent_refused_records_the_refusal_and_sends_nothing():
    events = run(tracker("adv_consent", "no thanks", intent="deny", slots=FILLED))
    assert events[-1] == SlotSet("requested_slot", None) and SlotSet("adv_consent", "refused") in events
    done = run(tracker(None, "no thanks", slots=dict(FILLED, adv_consent="refused", adv_consent_words="no thanks")),
               ActionAdvocacySubmit)
    assert SlotSet("adv_result", "declined") in done
    with session_scope() as session:
        assert advocacy.list_referrals(session) == []
        assert advocacy.claim_next(session, 30) is None
        [consent] = advocacy.consents(session)
    assert consent.decision == "refused" and consent.referral_id is None


def test_not_offered_makes_nothing():
    done = run(tracker(None, "yes", slots=dict(FILLED, adv_offer="not_offered")), ActionAdvocacySubmit)
    assert SlotSet("adv_result", "not_offered") in done
    with session_scope() as session:
        assert advocacy.list_referrals(session) == [] and advocacy.consents(session) == []


@pytest.mark.parametrize("who_words, adv_who, answered_by", [
    ("For myself", "self", "person"),
    ("for myself, I'm his carer", "self", "representative"),  # a carer asking for themselves
    ("It's for me. I care for my husband", "self", "representative"),
    ("For someone else", "other", "representative"),
])
def test_who_answered_is_recorded_apart_from_whom_the_referral_is_for(who_words, adv_who, answered_by):
    assert run(tracker("adv_who", who_words))[0] == SlotSet("adv_who", adv_who)
    submit = tracker(None, "after 6pm", slots=dict(FILLED, adv_who=adv_who, adv_consent="given",
                                                   adv_consent_words="yes"))
    submit.events[:0] = [{"event": "user", "text": who_words}, {"event": "slot", "name": "adv_who", "value": adv_who}]
    run(submit, ActionAdvocacySubmit)
    with session_scope() as session:
        [row] = advocacy.list_referrals(session)
        referral = advocacy.get_referral(session, row.id)
        [consent] = advocacy.consents(session)
        assert (referral.answered_by, referral.for_whom, consent.given_by) == (answered_by, adv_who, answered_by)
        assert referral.source_ref.startswith(advocacy.chat_ref("conv-a"))


def test_a_refusal_in_the_chat_belongs_to_its_conversation():
    run(tracker(None, "no", slots=dict(FILLED, adv_consent="refused", adv_consent_words="no")), ActionAdvocacySubmit)
    with session_scope() as session:
        [consent] = advocacy.consents(session)
    assert consent.source_ref.startswith(advocacy.chat_ref("conv-a"))


def cancel_turn(sender, request, answer, slots=None, message_id="m-9"):
    """The person asks to cancel, is asked, and answers: the tracker action_advocacy_withdraw sees."""
    events = [{"event": "action", "name": "action_listen"},
              {"event": "user", "text": request, "parse_data": {"intent": {"name": "cancel_advocacy"}}},
              {"event": "action", "name": "action_advocacy_withdraw_ask"},
              {"event": "action", "name": "utter_advocacy_withdraw_ask"}, {"event": "bot", "text": "Do you want..."},
              {"event": "action", "name": "action_listen"},
              {"event": "user", "text": answer, "parse_data": {"intent": {"name": "affirm"}}}]
    return Tracker(sender, dict(slots or {}), {"text": answer, "intent": {"name": "affirm"}, "message_id": message_id},
                   events, False, None, {}, "action_listen")


def make_chat_referral(sender="conv-a", message_id="m-1"):
    t = tracker(None, "after 6pm", slots=dict(FILLED, adv_consent="given", adv_consent_words="yes"), sender=sender)
    t.latest_message["message_id"] = message_id
    run(t, ActionAdvocacySubmit)


def test_cancelling_asks_first_and_only_finds_this_conversations_referral():
    assert run(cancel_turn("conv-a", "cancel my advocate referral", "yes"), ActionAdvocacyWithdrawAsk) == [
        SlotSet("adv_withdraw", "none")]
    make_chat_referral(sender="conv-b")
    assert run(cancel_turn("conv-a", "cancel it", "yes"), ActionAdvocacyWithdrawAsk) == [SlotSet("adv_withdraw", "none")]
    make_chat_referral(sender="conv-a")
    assert run(cancel_turn("conv-a", "cancel it", "yes"), ActionAdvocacyWithdrawAsk) == [
        SlotSet("adv_withdraw", "asked")]
    with session_scope() as session:
        assert all(r.state == "queued" for r in advocacy.list_referrals(session))  # asking changes nothing


def test_yes_withdraws_the_consent_word_for_word_and_the_referral_is_never_sent():
    make_chat_referral(sender="conv-a")
    make_chat_referral(sender="conv-b")
    done = run(cancel_turn("conv-a", "  I've changed my mind, CANCEL the advocate  ", "yes",
                           slots={"adv_withdraw": "asked"}), ActionAdvocacyWithdraw)
    assert done == [SlotSet("adv_withdraw", "withdrawn")]
    with session_scope() as session:
        states = {advocacy.get_referral(session, r.id).source_ref[:30]: r.state for r in advocacy.list_referrals(session)}
        assert states == {advocacy.chat_ref("conv-a"): "withdrawn", advocacy.chat_ref("conv-b"): "queued"}
        withdrawn = [c for c in advocacy.consents(session) if c.decision == "withdrawn"]
        assert [(c.words, c.given_by, c.channel) for c in withdrawn] == [
            ("  I've changed my mind, CANCEL the advocate  ", "representative", "web")]
        claimed = advocacy.claim_next(session, 30)
        assert claimed is not None and advocacy.get_referral(session, claimed.referral_id).source_ref.startswith(
            advocacy.chat_ref("conv-b"))
    # asked again after that: nothing left to cancel in this conversation
    assert run(cancel_turn("conv-a", "cancel it", "yes"), ActionAdvocacyWithdrawAsk) == [SlotSet("adv_withdraw", "none")]


def test_withdraw_without_the_question_or_with_nothing_to_cancel_changes_nothing():
    make_chat_referral(sender="conv-a")
    assert run(cancel_turn("conv-a", "cancel", "yes"), ActionAdvocacyWithdraw) == [SlotSet("adv_withdraw", "none")]
    assert run(cancel_turn("conv-z", "cancel", "yes", slots={"adv_withdraw": "asked"}), ActionAdvocacyWithdraw) == [
        SlotSet("adv_withdraw", "none")]
    with session_scope() as session:
        assert [r.state for r in advocacy.list_referrals(session)] == ["queued"]
        assert [c.decision for c in advocacy.consents(session)] == ["given"]


def test_a_database_failure_says_so_and_withdraws_nothing(monkeypatch):
    from sqlalchemy.exc import OperationalError

    make_chat_referral(sender="conv-a")

    def broken(*args, **kwargs):
        raise OperationalError("withdraw", {}, Exception("database is down"))

    monkeypatch.setattr(advocacy, "withdraw_consent", broken)
    done = run(cancel_turn("conv-a", "cancel", "yes", slots={"adv_withdraw": "asked"}), ActionAdvocacyWithdraw)
    assert done == [SlotSet("adv_withdraw", "unavailable")]
    with session_scope() as session:
        assert [r.state for r in advocacy.list_referrals(session)] == ["queued"]
