"""A feedback survey by SMS, end to end: request -> invitation SMS -> replies through the signed
webhook -> the real Rasa and action servers -> the outbox -> the real sender -> the local Twilio peer."""
from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest

from bot.records import (add_participant, close_enquiry, create_enquiry, record_outcome, session_scope)
from bot.records import feedback
from bot.records.models import OutcomeReview, utcnow
from bot.sms import texts as sms_texts
from bot.sms.texts import count_segments
from bot.surveys import texts as survey_texts
from bot.surveys.request import request_feedback
from scripts.stack import Stack, free_port, new_token
from tests.integration.test_sms import ACCOUNT, OUR_NUMBER, PHONE, PUBLIC, TOKEN, inbound, new_number, wait_for
from tests.sms.twilio_peer import TwilioPeer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def peer():
    p = TwilioPeer(ACCOUNT, TOKEN, PUBLIC).start()
    yield p
    p.stop()


@pytest.fixture(scope="module")
def stack(trained_model, tmp_path_factory, peer):
    var_dir = tmp_path_factory.mktemp("sms-fb-var")
    s = Stack(model=trained_model, rasa_port=free_port(), actions_port=free_port(), var_dir=var_dir,
              token=new_token(), log_dir=var_dir / "logs", twilio_token=TOKEN, sms_sender=True,
              extra_env={"TWILIO_ACCOUNT_SID": ACCOUNT, "MSP_SMS_FROM": OUR_NUMBER,
                         "MSP_SMS_PUBLIC_URL": PUBLIC, "MSP_TWILIO_API_URL": peer.url,
                         "MSP_SMS_RETRY_SECONDS": "0.3", "MSP_SMS_POLL_SECONDS": "0.1"})
    peer.local_url = s.rasa_url
    s.start()
    yield s
    s.stop()


def survey_by_sms(stack, number, outcomes=("For the calls to stop",)):
    with session_scope(stack.env()["DATABASE_URL"]) as session:
        enquiry = create_enquiry(session, f"SG-SMS-{uuid.uuid4().hex[:8]}", safe_to_text=True, safe_number=number,
                                 safe_times="every day 00:00-24:00")
        person = add_participant(session, enquiry.id, "person", display_name="Ada Example")
        keys = [record_outcome(session, enquiry.id, text, participant_id=person.id, recorded_by="assistant",
                               channel="web").outcome_key for text in outcomes]
        close_enquiry(session, enquiry.id, when=utcnow() - timedelta(days=1))
        result = request_feedback(session, enquiry.id, channel="sms", requested_by="Sam Worker")
        assert result.ok, result.reason
        return result.survey_id, keys


def bodies(peer, number):
    return [m["body"] for m in peer.sent_to(number)]


def stop_rasa(stack, how=None):
    """Stop the Rasa server: killed (SIGKILL, the default) or asked to stop (SIGTERM)."""
    import os
    import signal

    rasa = stack.procs["rasa"]
    os.killpg(rasa.pid, how or signal.SIGKILL)
    rasa.wait(30)


def restart_rasa(stack, how=None):
    """Stop the Rasa server (as ``stop_rasa``) if it runs, start it again and wait until it is ready."""
    if stack.procs["rasa"].poll() is None:
        stop_rasa(stack, how)
    stack.respawn("rasa")
    stack.wait_ready(180)


class Phone:
    def __init__(self, stack, peer, number):
        self.stack, self.peer, self.number = stack, peer, number

    def say(self, text, expect=1, sid=None):
        before = len(bodies(self.peer, self.number))
        (status, _), _ = inbound(self.stack, self.number, text, sid=sid or "")
        assert status == 200
        got = wait_for(lambda: len(bodies(self.peer, self.number)) >= before + expect and bodies(self.peer, self.number),
                       what=f"{expect} SMS after {text!r}")
        return "\n".join(got[before:])


def answers(stack, survey_id):
    with session_scope(stack.env()["DATABASE_URL"], read_only=True) as session:
        return [(a.question, a.text, a.value, a.channel) for a in feedback.survey_answers(session, survey_id)]


def status(stack, survey_id):
    with session_scope(stack.env()["DATABASE_URL"], read_only=True) as session:
        return feedback.require_survey(session, survey_id).status


def test_a_whole_survey_by_sms(stack, peer):
    number = new_number()
    survey_id, keys = survey_by_sms(stack, number)
    invite = wait_for(lambda: bodies(peer, number), what="the invitation SMS")
    assert invite == [survey_texts.render("survey_invite")]
    phone = Phone(stack, peer, number)
    opening = phone.say("Yes", expect=2)
    assert "About 10 short questions" in opening and "Did you get what you wanted to happen? Reply 1 yes" in opening
    assert "Could you say what you wanted?" in phone.say("2")
    sid = "SM" + uuid.uuid4().hex
    assert "listened to" in phone.say("yep", sid=sid)
    # The same MessageSid again: recorded once, answered once.
    (status_code, _), _ = inbound(stack, number, "yep", sid=sid)
    assert status_code == 200
    # HELP in the middle: who we are and the number; the survey carries on.
    help_text = phone.say("HELP")
    assert help_text == sms_texts.render("help") and PHONE in help_text
    assert "act on your wishes" in phone.say("not really")
    assert "Sorry, I didn't get that." in phone.say("the bus")
    assert "as safe as you want" in phone.say("dunno")
    assert "happier" in phone.say("skip")
    assert "How safe do you feel now?" in phone.say("kinda")
    assert "better, the same or worse" in phone.say("4")
    assert 'You said: "For the calls to stop" Did that happen? Reply 1 fully' in phone.say("1")
    assert "anything else" in phone.say("3")
    assert "Your answers are saved" in phone.say("Thank you for listening")
    assert status(stack, survey_id) == "completed"
    assert answers(stack, survey_id) == [
        ("goals", "2", "partly", "sms"), ("say", "yep", "yes", "sms"), ("listened", "not really", "no", "sms"),
        ("acted", "dunno", "dont_know", "sms"), ("safe", "skip", "skipped", "sms"),
        ("happier", "kinda", "partly", "sms"), ("safe_now", "4", "4", "sms"), ("safe_change", "1", "better", "sms"),
        ("outcome", "3", "not", "sms"), ("anything_else", "Thank you for listening", "given", "sms")]
    with session_scope(stack.env()["DATABASE_URL"], read_only=True) as session:
        (review,) = session.query(OutcomeReview).filter(OutcomeReview.outcome_key == keys[0]).all()
        assert (review.view, review.achievement, review.channel) == ("person", "not_achieved", "sms")
    sent = bodies(peer, number)
    for body in sent:
        assert "Ada" not in body and "abuse" not in body.lower() and "SG-SMS" not in body
    # One question per SMS, each in one segment (the help text included).
    assert all(count_segments(body).segments == 1 for body in sent), [b for b in sent if count_segments(b).segments > 1]
    # After the survey ends, a message gets the neutral reply.
    assert phone.say("hello?") == sms_texts.render("unknown")
    # The logs never carry the number.
    for log in stack.log_dir.glob("*.log"):
        assert number not in log.read_text(errors="replace"), log.name


def test_stop_ends_the_survey_and_nothing_more_is_sent(stack, peer):
    number = new_number()
    survey_id, _ = survey_by_sms(stack, number)
    wait_for(lambda: bodies(peer, number), what="the invitation SMS")
    phone = Phone(stack, peer, number)
    phone.say("ok", expect=2)
    phone.say("yes")
    count = len(bodies(peer, number))
    (code, _), _ = inbound(stack, number, "STOP")
    assert code == 200
    wait_for(lambda: status(stack, survey_id) == "opted_out", what="opted out")
    (code, _), _ = inbound(stack, number, "3")
    import time
    time.sleep(1.5)
    assert len(bodies(peer, number)) == count
    assert [a[0] for a in answers(stack, survey_id)] == ["goals"]
    # START: texts may come again, but the survey stays ended.
    assert "again" in phone.say("START")
    assert phone.say("yes") == sms_texts.render("unknown")
    assert status(stack, survey_id) == "opted_out"


def test_danger_in_the_middle_comes_first(stack, peer):
    number = new_number()
    survey_id, _ = survey_by_sms(stack, number)
    wait_for(lambda: bodies(peer, number), what="the invitation SMS")
    phone = Phone(stack, peer, number)
    phone.say("yes", expect=2)
    danger = phone.say("he's hitting me right now")
    assert "999" in danger
    assert "Did you get what you wanted to happen?" in phone.say("ok")
    assert answers(stack, survey_id) == []


def test_a_reply_accepted_just_before_the_server_stopped_is_answered_after_the_restart(stack, peer, monkeypatch):
    """The webhook answers Twilio before the assistant reads the reply. If the
    Rasa server stops in between, the reply is not lost: the next start reads
    it and sends the next question (once)."""
    import signal

    from bot.channels.sms import handle_inbound

    number = new_number()
    survey_id, _ = survey_by_sms(stack, number)
    wait_for(lambda: bodies(peer, number), what="the invitation SMS")
    phone = Phone(stack, peer, number)
    assert "Did you get what you wanted to happen?" in phone.say("Yes", expect=2)
    stop_rasa(stack)
    # What the webhook writes for a survey reply, in its one transaction (the
    # production function), with the server gone before it could read it.
    monkeypatch.setenv("DATABASE_URL", stack.env()["DATABASE_URL"])
    sid = "SM" + uuid.uuid4().hex
    routed = handle_inbound(sid, number, "partly")
    assert routed.survey_id == survey_id
    before = len(bodies(peer, number))
    restart_rasa(stack)
    got = wait_for(lambda: len(bodies(peer, number)) > before and bodies(peer, number), what="the next question")
    assert "Could you say what you wanted?" in got[before]
    assert answers(stack, survey_id)[0] == ("goals", "partly", "partly", "sms")
    # Started again, nothing more is read or sent for it.
    restart_rasa(stack, signal.SIGTERM)
    assert "listened to" in phone.say("yes")
    assert [a[0] for a in answers(stack, survey_id)] == ["goals", "say"]
    assert sum("Could you say what you wanted?" in b for b in bodies(peer, number)) == 1


def test_i_want_to_stop_by_sms_ends_the_survey_and_danger_still_gets_999(stack, peer):
    """Over SMS as on the web (tests/integration/test_feedback_e2e.py): a survey stop
    phrase only the learned danger detector reads as danger ends the survey; what
    the danger rules catch, and other danger words, still get the 999 reply."""
    number = new_number()
    survey_id, _ = survey_by_sms(stack, number)
    wait_for(lambda: bodies(peer, number), what="the invitation SMS")
    phone = Phone(stack, peer, number)
    phone.say("yes", expect=2)
    assert "Could you say what you wanted?" in phone.say("yes")
    for danger in ("I want to end it all", "I want to stop living"):
        reply = phone.say(danger)
        assert "999" in reply and "116 123" in reply, danger
        assert "Could you say what you wanted?" in phone.say("ok")
    stopped = phone.say("I want to stop")
    assert "stop here" in stopped and "keep the answers you gave" in stopped and "999" not in stopped
    assert status(stack, survey_id) == "partial"
    assert [(a[0], a[2]) for a in answers(stack, survey_id)] == [("goals", "yes")]


def test_a_message_outside_a_survey_accepted_just_before_the_server_stopped_is_answered_after_the_restart(
        stack, peer, monkeypatch):
    """A message outside a survey (here a request for a person that also says
    someone is being hurt now) has the same turn record as a survey reply: if
    the Rasa server stops between the webhook and the assistant, the next
    start reads it and the 999 reply goes out once."""
    import signal

    from bot.channels.sms import handle_inbound
    from bot.records import sms as sms_records

    number = new_number()
    stop_rasa(stack)
    monkeypatch.setenv("DATABASE_URL", stack.env()["DATABASE_URL"])
    sid = "SM" + uuid.uuid4().hex
    routed = handle_inbound(sid, number, "I need to speak to someone real, he is hitting me right now")
    assert routed.survey_id is None and not routed.duplicate
    with session_scope(stack.env()["DATABASE_URL"]) as session:
        assert [t.message_sid for t in sms_records.pending_turns(session)] == [sid]
    restart_rasa(stack)
    got = wait_for(lambda: bodies(peer, number), what="the reply read after the restart")
    assert any("999" in b for b in got), got
    with session_scope(stack.env()["DATABASE_URL"]) as session:
        assert sid not in [t.message_sid for t in sms_records.pending_turns(session)]
    sent = len(bodies(peer, number))
    # Started again, nothing more is read or sent for it.
    restart_rasa(stack, signal.SIGTERM)
    time.sleep(3)
    assert len(bodies(peer, number)) == sent
