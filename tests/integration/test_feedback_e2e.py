"""A whole end-of-enquiry feedback survey over REST, against the real Rasa and action servers."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from bot.records import (add_participant, close_enquiry, create_enquiry, record_outcome, session_scope,
                         withdraw_outcome)
from bot.records import feedback
from bot.records.models import OutcomeReview, utcnow
from bot.records.reporting import sg4a_figures
from bot.settings import get_settings
from bot.surveys.request import request_feedback

pytestmark = pytest.mark.integration
S = get_settings()


def joined(messages):
    return "\n".join(m.get("text", "") for m in messages)


def payloads(messages):
    return [b["payload"] for m in messages for b in m.get("buttons") or []]


@pytest.fixture
def url(stack):
    return stack.env()["DATABASE_URL"]


def new_survey(url, role="person", outcomes=("For him to stop ringing me", "To feel safe at home")):
    with session_scope(url) as session:
        enquiry = create_enquiry(session, f"SG-FB-{uuid.uuid4().hex[:8]}")
        person = add_participant(session, enquiry.id, role, display_name="Ada Example")
        keys = [record_outcome(session, enquiry.id, text, participant_id=person.id,
                               recorded_by="assistant", channel="web").outcome_key for text in outcomes]
        gone = record_outcome(session, enquiry.id, "Move to a new flat", participant_id=person.id,
                              recorded_by="assistant", channel="web")
        withdraw_outcome(session, gone.id, participant_id=person.id, recorded_by="assistant", channel="web")
        close_enquiry(session, enquiry.id, when=utcnow() - timedelta(days=2))
        result = request_feedback(session, enquiry.id, channel="web", requested_by="Sam Worker")
        assert result.ok
        return result.survey_id, result.code, keys


def test_a_whole_survey_over_rest(stack, sender, url):
    survey_id, code, keys = new_survey(url)
    opening = stack.send(sender, f"my code is {code}")
    text = joined(opening)
    assert S.council_name in text and "skip any question" in text and "stop at any time" in text
    assert "Did you get what you wanted to happen?" in text
    assert "outcomes" not in text.lower() and "SG-FB" not in text and "Ada" not in text
    assert payloads(opening)[:5] == ["Yes", "Partly", "No", "Don't know", "Prefer not to say"]

    assert "Did we give you a chance" in joined(stack.send(sender, "kind of"))
    # Unclear: asked again once, with "sorry"; unclear again: skipped to the next question.
    assert "Sorry, I didn't understand" in joined(stack.send(sender, "the bus was late"))
    assert "listened to" in joined(stack.send(sender, "the bus was late"))
    assert "act on your wishes" in joined(stack.send(sender, "yep"))
    assert "as safe as you want" in joined(stack.send(sender, "dunno"))
    assert "happier" in joined(stack.send(sender, "3"))
    assert "How safe do you feel now?" in joined(stack.send(sender, "skip"))
    assert "better, the same or worse" in joined(stack.send(sender, "4"))
    first = joined(stack.send(sender, "Better"))
    assert 'You said: "For him to stop ringing me" Did that happen?' in first
    second = joined(stack.send(sender, "yes it did"))
    assert 'You said: "To feel safe at home"' in second and "Move to a new flat" not in second
    assert "anything else" in joined(stack.send(sender, "partley"))
    words = "The worker was kind 😊 but it took <b>ages</b>"
    done = joined(stack.send(sender, words))
    assert "Your answers are saved" in done and S.council_phone in done

    with session_scope(url, read_only=True) as session:
        survey = feedback.require_survey(session, survey_id)
        assert survey.status == "completed"
        got = [(a.question, a.text, a.value) for a in feedback.survey_answers(session, survey_id)]
        assert got == [
            ("goals", "kind of", "partly"), ("say", "the bus was late", "unclear"), ("listened", "yep", "yes"),
            ("acted", "dunno", "dont_know"), ("safe", "3", "no"), ("happier", "skip", "skipped"),
            ("safe_now", "4", "4"), ("safe_change", "Better", "better"), ("outcome", "yes it did", "fully"),
            ("outcome", "partley", "partly"), ("anything_else", words, "given")]
        reviews = session.query(OutcomeReview).filter(OutcomeReview.view == "person").order_by(OutcomeReview.id)
        assert [(r.outcome_key, r.achievement) for r in reviews] == [(keys[0], "fully"), (keys[1], "partially")]
        # The person's view is not the worker's judgement: SG4a (worker) has no achievement yet.
        assert sg4a_figures(session).enquiry_ids["achievement not recorded"].count(survey.enquiry_id) == 1


def test_representative_wording_stop_and_talk_to_a_person(stack, sender, url):
    survey_id, code, _ = new_survey(url, role="representative")
    text = joined(stack.send(sender, code))
    assert "helping the person you support" in text and "Did they get what they wanted" in text
    assert "Did we give them a chance" in joined(stack.send(sender, "no"))
    person = joined(stack.send(sender, "I want to talk to a person"))
    assert S.council_phone in person and "Did we give them a chance" in person
    danger = joined(stack.send(sender, "he's hitting me right now"))
    assert danger.startswith("If you or anyone else is in danger now, call 999")
    assert "Did we give them a chance" in joined(stack.send(sender, "ok"))
    stopped = joined(stack.send(sender, "stop"))
    assert "stop here" in stopped and "keep the answers you gave" in stopped
    with session_scope(url, read_only=True) as session:
        assert feedback.require_survey(session, survey_id).status == "partial"
        assert [(a.question, a.value) for a in feedback.survey_answers(session, survey_id)] == [("goals", "no")]


def last_user_safety_net(stack, sender):
    users = [e for e in stack.tracker(sender)["events"] if e["event"] == "user"]
    return users[-1]["parse_data"].get("safety_net") or {}


def actions_since_last_user(stack, sender):
    events = stack.tracker(sender)["events"]
    last = max(i for i, e in enumerate(events) if e["event"] == "user")
    return [e["name"] for e in events[last:] if e["event"] == "action"]


def stop_phrase_most_like_danger(stack):
    """Of some survey stop phrases ("I want to stop please": "please" is a filler), the one the
    running Rasa server's learned danger detector reads as most like danger (POST /model/parse),
    and whether it reads it as danger at all."""
    import requests

    from bot.surveys.answers import STOP_WORDS, _strip_fillers
    from bot.surveys.answers import normalise as answer_words

    candidates = ["I want to stop please", "I want to stop", "I want to stop.", "I want to stop x",
                  "um I want to stop please", "stop please", "please stop"]
    best = None
    for text in candidates:
        assert _strip_fillers(answer_words(text)) in STOP_WORDS, text
        parse = requests.post(f"{stack.rasa_url}/model/parse", params={"token": stack.token},
                              json={"text": text}, timeout=30).json()
        net = parse.get("safety_net") or {}
        p = (parse.get("learned_danger") or {}).get("p") or 0.0
        read_as_danger = net.get("source") == "learned" and bool(net.get("danger"))
        key = (read_as_danger, p)
        if best is None or key > best[0]:
            best = (key, text)
    (read_as_danger, _), text = best
    return text, read_as_danger


def test_i_want_to_stop_ends_the_survey_and_danger_still_gets_999(stack, sender, url):
    """'I want to stop' once got the suicide reply from the learned danger detector
    in the survey ('stop' ended it). A survey stop phrase only the learned detector
    reads as danger now ends the survey; danger words still get the 999 reply."""
    survey_id, code, _ = new_survey(url)
    stack.send(sender, code)
    assert "Did we give you a chance" in joined(stack.send(sender, "yes"))
    # Caught by the danger rules ("end it all"): the 999 reply, then the question again.
    rules = joined(stack.send(sender, "I want to end it all"))
    assert "call 999" in rules and S.samaritans_phone in rules
    assert last_user_safety_net(stack, sender)["source"] == "rules"
    assert "Did we give you a chance" in joined(stack.send(sender, "ok"))
    # Not a stop phrase, read as danger by the learned detector: the 999 reply too.
    living = joined(stack.send(sender, "I want to stop living"))
    assert "call 999" in living and S.samaritans_phone in living
    assert "Did we give you a chance" in joined(stack.send(sender, "ok"))
    # A stop phrase also said of a life: the learned detector's reply is kept.
    carry_on = joined(stack.send(sender, "I don't want to carry on"))
    assert "call 999" in carry_on and S.samaritans_phone in carry_on
    assert "Did we give you a chance" in joined(stack.send(sender, "ok"))
    with session_scope(url, read_only=True) as session:
        assert feedback.require_survey(session, survey_id).status == "in_progress"

    # The stop phrase the learned detector reads as most like danger on this
    # model (its reading of each moves with every retraining: session 17's
    # model read "I want to stop please" at 0.67, danger; session 18's second
    # round reads no stop phrase as danger, the nearest at 0.59). Whatever the
    # reading, a stop phrase ends the survey politely with no 999 reply; when the
    # learned detector does read it as danger, that reading is what is set aside
    # (bot.surveys.answers.learned_danger_set_aside; the exception itself is
    # tested whatever the model in tests/unit/test_safeguard_policy.py,
    # test_actions_feedback.py and test_survey_answers.py).
    phrase, read_as_danger = stop_phrase_most_like_danger(stack)
    stopped = joined(stack.send(sender, phrase))
    net = last_user_safety_net(stack, sender)
    if read_as_danger:
        assert net.get("source") == "learned" and net.get("danger"), net
    assert net.get("source") != "rules", net
    assert "stop here" in stopped and "keep the answers you gave" in stopped
    assert "999" not in stopped and S.samaritans_phone not in stopped
    assert "utter_danger_suicide" not in actions_since_last_user(stack, sender)
    with session_scope(url, read_only=True) as session:
        assert feedback.require_survey(session, survey_id).status == "partial"
        assert [(a.question, a.value) for a in feedback.survey_answers(session, survey_id)] == [("goals", "yes")]
    # After the survey, the same words get the learned detector's reply again
    # (when it reads them as danger) and are not taken as a survey answer.
    after = joined(stack.send(sender, phrase))
    if read_as_danger:
        assert "call 999" in after and S.samaritans_phone in after
    assert "stop here" not in after


def test_a_reissued_link_opens_the_survey_where_it_was_left_and_the_old_one_does_not(stack, sender, url):
    """A web link lasts one visit; the worker re-issues it (msp enquiry feedback REF --reissue, or
    the portal). The new link opens the same survey at the first question not answered; the old
    link, the old code and the visit the old link opened no longer work."""
    from bot.channels.widget import invitation_payload
    from bot.surveys.request import reissue_web_invitation

    def token(link):
        return link.split("#invite=", 1)[1]

    with session_scope(url) as session:
        enquiry = create_enquiry(session, f"SG-FB-RE-{uuid.uuid4().hex[:8]}")
        add_participant(session, enquiry.id, "person")
        close_enquiry(session, enquiry.id, when=utcnow() - timedelta(days=2))
        first = request_feedback(session, enquiry.id, channel="web", requested_by="Sam Worker")
        enquiry_id = enquiry.id
    # Opened as the widget opens a link: the channel sends the page's token.
    assert "Did you get what you wanted" in joined(stack.send(sender, invitation_payload(token(first.link))))
    assert "Did we give you a chance" in joined(stack.send(sender, "yes"))
    assert "listened to" in joined(stack.send(sender, "partly"))

    with session_scope(url) as session:
        again = reissue_web_invitation(session, enquiry_id, requested_by="Sam Worker")
    assert again.ok and again.survey_id == first.survey_id and again.answers_kept == 2

    # The visit the old link opened is over: the answer is not taken.
    lapsed = joined(stack.send(sender, "yes"))
    assert "no longer linked to the questions" in lapsed and "new link" in lapsed
    # The old link and the old code open nothing, for anyone.
    for other, old in ((f"rest-test-{uuid.uuid4().hex}", invitation_payload(token(first.link))),
                       (f"rest-test-{uuid.uuid4().hex}", first.link),
                       (f"rest-test-{uuid.uuid4().hex}", first.code)):
        refused = joined(stack.send(other, old))
        assert "run out" in refused and "Your worker can send you a new one" in refused, old
        assert "Did" not in refused and "listened" not in refused
    # The new link, in the same chat, carries on at the first question not answered.
    carried_on = joined(stack.send(sender, invitation_payload(token(again.link))))
    assert "skip any question" in carried_on and "listened to" in carried_on
    assert "Did you get what you wanted" not in carried_on
    assert "act on your wishes" in joined(stack.send(sender, "no"))
    # Opened once: the new code from another chat is refused as used.
    assert "already been used" in joined(stack.send(f"rest-test-{uuid.uuid4().hex}", again.code))
    with session_scope(url, read_only=True) as session:
        survey = feedback.require_survey(session, first.survey_id)
        assert survey.status == "in_progress"
        assert [(a.question, a.value) for a in feedback.survey_answers(session, survey.id)] == [
            ("goals", "yes"), ("say", "partly"), ("listened", "no")]


def test_a_survey_the_person_stopped_carries_on_with_a_reissued_link(stack, sender, url):
    from bot.surveys.request import reissue_web_invitation

    survey_id, code, _ = new_survey(url)
    stack.send(sender, code)
    stack.send(sender, "yes")
    assert "stop here" in joined(stack.send(sender, "I want to stop"))
    with session_scope(url) as session:
        enquiry_id = feedback.require_survey(session, survey_id).enquiry_id
        again = reissue_web_invitation(session, enquiry_id, requested_by="Sam Worker")
    assert again.ok and again.status == "in_progress" and again.answers_kept == 1
    later = f"rest-test-{uuid.uuid4().hex}"  # another day, another device
    assert "run out" in joined(stack.send(later, code))
    assert "Did we give you a chance" in joined(stack.send(later, again.link))
    assert "listened to" in joined(stack.send(later, "yes"))
    with session_scope(url, read_only=True) as session:
        assert feedback.require_survey(session, survey_id).status == "in_progress"
        assert [(a.question, a.value) for a in feedback.survey_answers(session, survey_id)] == [
            ("goals", "yes"), ("say", "yes")]
