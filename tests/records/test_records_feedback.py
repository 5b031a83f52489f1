"""End-of-enquiry feedback records: requests (web, SMS only when safe), answers, history, expiry."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from bot.records import feedback
from bot.records import sms as sms_records
from bot.records.enquiries import add_participant, close_enquiry, create_enquiry, reopen_enquiry
from bot.records.errors import AppendOnlyError, InvalidValue
from bot.records.invitations import REVOKED, redeem
from bot.records.links import is_linked
from bot.records.models import FeedbackAnswer, FeedbackSurveyEvent, Invitation, OutcomeReview, SmsOutbox
from bot.records.outcomes import latest_reviews, record_outcome, record_review, withdraw_outcome
from bot.records.reporting import sg4a_figures
from bot.settings import Settings
from bot.surveys.request import reissue_web_invitation, request_feedback

UTC = timezone.utc
CLOSED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)          # a Monday
INSIDE = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)         # Wednesday 11:00 in London (GMT)
OUTSIDE = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)        # Wednesday 18:00
SUMMER_LATE = datetime(2026, 6, 3, 15, 30, tzinfo=UTC)   # 16:30 BST: outside 10-16
SUMMER_OK = datetime(2026, 6, 3, 14, 30, tzinfo=UTC)     # 15:30 BST: inside
FORBIDDEN = ("abuse", "safeguard", "harm", "neglect", "enquiry", "police", "SG-")


def closed_enquiry(session, reference="SG-FB-1", *, when=CLOSED, **contact):
    enquiry = create_enquiry(session, reference, **contact)
    person = add_participant(session, enquiry.id, "person", display_name="Ada Example")
    close_enquiry(session, enquiry.id, when=when)
    return enquiry, person


def sms_enquiry(session, reference="SG-FB-SMS", **extra):
    contact = dict(safe_to_text=True, safe_number="07700 900123", safe_times="Mon-Fri 10:00-16:00")
    contact.update(extra)
    return closed_enquiry(session, reference, **contact)


def outbox_rows(session):
    return list(session.execute(select(SmsOutbox)).scalars())


def test_web_request_issues_an_invitation_that_works_after_closing(db_session):
    enquiry, person = closed_enquiry(db_session)
    result = request_feedback(db_session, enquiry.id, channel="web", requested_by="Sam Worker", now=INSIDE)
    assert result.ok and result.status == "requested" and result.reason is None
    assert "#invite=" in result.link and len(result.code) == 9
    assert result.expires_at == CLOSED + timedelta(days=56)
    survey = feedback.require_survey(db_session, result.survey_id)
    assert (survey.participant_id, survey.channel, survey.status) == (person.id, "web", "requested")
    redeemed = redeem(db_session, result.code, client_key="rest-someone", now=INSIDE)
    assert redeemed.ok and redeemed.enquiry_id == enquiry.id
    assert feedback.survey_for_invitation(db_session, redeemed.invitation_id).id == survey.id
    assert [e.status for e in feedback.survey_events(db_session, survey.id)] == ["requested"]
    assert outbox_rows(db_session) == []


@pytest.mark.parametrize("channel", ["web", "sms"])
def test_open_enquiry_is_refused_and_nothing_is_issued(db_session, channel):
    enquiry = create_enquiry(db_session, "SG-OPEN", safe_to_text=True, safe_number="07700 900123")
    add_participant(db_session, enquiry.id, "person")
    result = request_feedback(db_session, enquiry.id, channel=channel, requested_by="Sam", now=INSIDE)
    assert not result.ok and result.status == "refused" and "still open" in result.reason
    assert outbox_rows(db_session) == []
    events = feedback.survey_events(db_session, result.survey_id)
    assert [e.status for e in events] == ["refused"] and "still open" in events[0].detail


@pytest.mark.parametrize("channel", ["web", "sms"])
def test_later_than_the_window_is_refused(db_session, channel):
    enquiry, _ = sms_enquiry(db_session)
    late = CLOSED + timedelta(weeks=8, minutes=1)
    late = late.replace(hour=11)  # a weekday inside the safe times
    result = request_feedback(db_session, enquiry.id, channel=channel, requested_by="Sam", now=late)
    assert not result.ok and "8 weeks" in result.reason
    assert outbox_rows(db_session) == []
    shorter = dataclasses.replace(Settings(), feedback_window_days="7")
    enquiry2, _ = sms_enquiry(db_session, "SG-FB-2")
    result = request_feedback(db_session, enquiry2.id, channel=channel, requested_by="Sam",
                              now=CLOSED + timedelta(days=8), settings=shorter)
    assert not result.ok and "1 weeks" in result.reason


def test_sms_inside_safe_times_queues_one_neutral_text(db_session):
    enquiry, _ = sms_enquiry(db_session)
    result = request_feedback(db_session, enquiry.id, channel="sms", requested_by="Sam", now=INSIDE)
    assert result.ok and result.status == "sent" and result.link is None and result.code is None
    rows = outbox_rows(db_session)
    assert len(rows) == 1 and rows[0].id == result.outbox_id and rows[0].kind == "survey_invite"
    assert rows[0].number.e164 == "+447700900123"
    body = rows[0].body
    assert Settings().sms_sender_name in body and Settings().council_name not in body
    assert "Ada" not in body and not any(word.lower() in body.lower() for word in FORBIDDEN)
    survey = feedback.require_survey(db_session, result.survey_id)
    assert survey.number_id == rows[0].number_id
    assert feedback.open_survey_for_number(db_session, survey.number_id, now=INSIDE).id == survey.id


def test_sms_names_the_council_only_when_the_enquiry_allows(db_session):
    enquiry, _ = sms_enquiry(db_session, sms_name_allowed=True)
    assert request_feedback(db_session, enquiry.id, channel="sms", requested_by="Sam", now=INSIDE).ok
    assert Settings().council_name in outbox_rows(db_session)[0].body


@pytest.mark.parametrize("contact,now,words", [
    (dict(safe_to_text=False), INSIDE, "not marked safe to text"),
    (dict(), OUTSIDE, "outside the safe times on record"),
    (dict(), SUMMER_LATE, "outside the safe times on record"),
    (dict(safe_times="weekdays after 6pm"), INSIDE, "cannot be read"),
    (dict(safe_times=None), datetime(2026, 3, 7, 11, 0, tzinfo=UTC), "outside the council's default times"),
])
def test_sms_refused_when_not_safe(db_session, contact, now, words):
    base = dict(safe_to_text=True, safe_number="07700 900123", safe_times="Mon-Fri 10:00-16:00")
    base.update(contact)
    if not base["safe_to_text"]:
        base["safe_number"] = None
    enquiry, _ = closed_enquiry(db_session, when=now - timedelta(days=2), **base)
    result = request_feedback(db_session, enquiry.id, channel="sms", requested_by="Sam", now=now)
    assert not result.ok and words in result.reason, result.reason
    assert outbox_rows(db_session) == []
    assert feedback.require_survey(db_session, result.survey_id).status == "refused"


def test_sms_default_window_and_summer_time(db_session):
    enquiry, _ = sms_enquiry(db_session, safe_times=None, when=SUMMER_OK - timedelta(days=3))
    assert request_feedback(db_session, enquiry.id, channel="sms", requested_by="Sam", now=SUMMER_OK).ok


def test_sms_refused_after_stop_and_with_another_open_survey(db_session):
    enquiry, _ = sms_enquiry(db_session)
    number = sms_records.get_or_create_number(db_session, "+447700900123")
    sms_records.record_opt(db_session, number.id, "out", "stop")
    result = request_feedback(db_session, enquiry.id, channel="sms", requested_by="Sam", now=INSIDE)
    assert not result.ok and "STOP" in result.reason
    sms_records.record_opt(db_session, number.id, "in", "start")
    assert request_feedback(db_session, enquiry.id, channel="sms", requested_by="Sam", now=INSIDE).ok
    other, _ = sms_enquiry(db_session, "SG-FB-OTHER")
    result = request_feedback(db_session, other.id, channel="sms", requested_by="Sam", now=INSIDE)
    assert not result.ok and "Another feedback survey" in result.reason
    assert len(outbox_rows(db_session)) == 1


def test_refused_then_asked_again_keeps_the_history_and_one_row(db_session):
    enquiry, _ = sms_enquiry(db_session)
    first = request_feedback(db_session, enquiry.id, channel="sms", requested_by="Sam", now=OUTSIDE)
    assert not first.ok
    second = request_feedback(db_session, enquiry.id, channel="sms", requested_by="Sam", now=INSIDE)
    assert second.ok and second.survey_id == first.survey_id
    assert [e.status for e in feedback.survey_events(db_session, first.survey_id)] == ["refused", "sent"]
    third = request_feedback(db_session, enquiry.id, channel="web", requested_by="Sam", now=INSIDE)
    assert not third.ok and "already" in third.reason
    assert feedback.require_survey(db_session, first.survey_id).status == "sent"
    assert len(outbox_rows(db_session)) == 1


def test_participant_must_be_named_when_several(db_session):
    enquiry, person = closed_enquiry(db_session)
    rep = add_participant(db_session, enquiry.id, "representative")
    add_participant(db_session, enquiry.id, "person")
    with pytest.raises(InvalidValue):
        request_feedback(db_session, enquiry.id, channel="web", requested_by="Sam", now=INSIDE)
    result = request_feedback(db_session, enquiry.id, channel="web", requested_by="Sam", now=INSIDE,
                              participant_id=rep.id)
    assert feedback.require_survey(db_session, result.survey_id).participant_id == rep.id


def test_answers_are_appended_verbatim_with_codes_and_outcomes_as_the_persons_view(db_session):
    enquiry, person = closed_enquiry(db_session)
    kept = record_outcome(db_session, enquiry.id, "For him to stop ringing me", participant_id=person.id,
                          recorded_by="assistant", channel="web")
    gone = record_outcome(db_session, enquiry.id, "Move house", participant_id=person.id,
                          recorded_by="assistant", channel="web")
    withdraw_outcome(db_session, gone.id, participant_id=person.id, recorded_by="assistant", channel="web")
    assert [o.text for o in feedback.outcomes_to_ask(db_session, enquiry.id)] == ["For him to stop ringing me"]
    record_review(db_session, enquiry.id, "not_achieved", recorded_by="Sam", channel="staff",
                  outcome_key=kept.outcome_key)
    survey_id = request_feedback(db_session, enquiry.id, channel="web", requested_by="Sam",
                                 now=INSIDE).survey_id

    first = feedback.record_answer(db_session, survey_id, "goals", "partly", text="kind of ",
                                   channel="web", source_ref="m1")
    again = feedback.record_answer(db_session, survey_id, "goals", "partly", text="kind of ",
                                   channel="web", source_ref="m1")
    assert again.id == first.id and first.text == "kind of "
    assert feedback.require_survey(db_session, survey_id).status == "in_progress"
    feedback.record_answer(db_session, survey_id, "goals", "yes", text="yep", channel="web", source_ref="m2")
    answer = feedback.record_answer(db_session, survey_id, "outcome", "fully", text="3",
                                    channel="web", outcome_key=kept.outcome_key, source_ref="m3")
    review = db_session.get(OutcomeReview, answer.review_id)
    assert (review.view, review.achievement, review.participant_id) == ("person", "fully", person.id)
    # The worker's judgement is untouched and still what SG4a counts.
    assert latest_reviews(db_session, enquiry.id)[kept.outcome_key].achievement == "not_achieved"
    assert latest_reviews(db_session, enquiry.id, view="person")[kept.outcome_key].achievement == "fully"
    assert sg4a_figures(db_session).achieved["Not achieved"] == 1
    assert sg4a_figures(db_session, view="person").achieved["Fully achieved"] == 1

    latest = feedback.latest_answers(db_session, survey_id)
    assert latest[("goals", None)].value == "yes"
    assert [a.value for a in feedback.survey_answers(db_session, survey_id)] == ["partly", "yes", "fully"]
    with pytest.raises(InvalidValue):
        feedback.record_answer(db_session, survey_id, "goals", "fully", text="x", channel="web")
    with pytest.raises(InvalidValue):
        feedback.record_answer(db_session, survey_id, "outcome", "fully", text="x", channel="web")
    db_session.commit()
    first.value = "no"
    with pytest.raises(AppendOnlyError):
        db_session.flush()
    db_session.rollback()
    with pytest.raises(AppendOnlyError):
        db_session.execute(update(FeedbackAnswer).values(value="no"))


def test_finish_and_expiry(db_session):
    enquiry, _ = closed_enquiry(db_session)
    survey_id = request_feedback(db_session, enquiry.id, channel="web", requested_by="Sam", now=INSIDE).survey_id
    enquiry2, _ = closed_enquiry(db_session, "SG-FB-2")
    other_id = request_feedback(db_session, enquiry2.id, channel="web", requested_by="Sam", now=INSIDE).survey_id
    feedback.finish(db_session, other_id, "partial", detail="stopped")
    assert feedback.expire_due(db_session, now=CLOSED + timedelta(days=55)) == []
    assert feedback.expire_due(db_session, now=CLOSED + timedelta(days=56)) == [survey_id]
    assert feedback.require_survey(db_session, survey_id).status == "expired"
    assert feedback.require_survey(db_session, other_id).status == "partial"
    with pytest.raises(InvalidValue):
        feedback.record_answer(db_session, survey_id, "goals", "yes", text="yes", channel="web")
    # Finishing twice changes nothing.
    feedback.finish(db_session, survey_id, "completed")
    assert [e.status for e in feedback.survey_events(db_session, survey_id)] == ["requested", "expired"]


# --- re-issuing a web link ---------------------------------------------------------------------


def web_survey(session, reference="SG-FB-RE", **kwargs):
    enquiry, person = closed_enquiry(session, reference, **kwargs)
    first = request_feedback(session, enquiry.id, channel="web", requested_by="Sam Worker", now=INSIDE)
    assert first.ok
    return enquiry, person, first


def history(session, survey_id):
    return [(e.status, e.detail, e.recorded_by) for e in feedback.survey_events(session, survey_id)]


def test_a_reissued_link_keeps_the_survey_and_its_answers_and_the_old_one_stops(db_session):
    enquiry, _, first = web_survey(db_session)
    assert redeem(db_session, first.code, client_key="rest-visit-1", session_ref="s1", now=INSIDE).ok
    feedback.record_answer(db_session, first.survey_id, "goals", "yes", text="yes", channel="web",
                           source_ref="m1", now=INSIDE)
    later = INSIDE + timedelta(days=3)
    old_invitation = feedback.require_survey(db_session, first.survey_id).invitation_id
    again = reissue_web_invitation(db_session, enquiry.id, requested_by="Pat Worker", now=later)
    assert again.ok and again.survey_id == first.survey_id and again.status == "in_progress"
    assert again.code != first.code and again.link != first.link and "#invite=" in again.link
    assert again.expires_at == first.expires_at == CLOSED + timedelta(days=56)
    survey = feedback.require_survey(db_session, first.survey_id)
    assert survey.invitation_id != old_invitation and survey.status == "in_progress"
    assert (survey.requested_by, survey.requested_at) == ("Sam Worker", INSIDE)  # the request is not rewritten
    assert db_session.get(Invitation, old_invitation).revoked_at == later
    # The old link and code open nothing, and the visit the old link opened is over.
    assert not is_linked(db_session, "rest-visit-1", "s1", enquiry.id, now=later)
    assert redeem(db_session, first.link, client_key="rest-visit-2", now=later).reason == REVOKED
    assert redeem(db_session, first.code, client_key="rest-visit-2", now=later).reason == REVOKED
    # The new one opens the same survey, with the answer already given.
    opened = redeem(db_session, again.code, client_key="rest-visit-3", session_ref="s3", now=later)
    assert opened.ok and feedback.survey_for_invitation(db_session, opened.invitation_id).id == first.survey_id
    assert [(a.question, a.value) for a in feedback.survey_answers(db_session, first.survey_id)] == [("goals", "yes")]
    assert history(db_session, first.survey_id) == [
        ("requested", "web: invitation issued", "Sam Worker"),
        ("in_progress", "first answer", "assistant"),
        ("in_progress", "web: link re-issued, 1 answer kept; the earlier link and code no longer work", "Pat Worker"),
    ]


def test_reissued_before_anything_was_answered_and_again(db_session):
    enquiry, _, first = web_survey(db_session)
    second = reissue_web_invitation(db_session, enquiry.id, requested_by="Sam", now=INSIDE + timedelta(hours=1))
    third = reissue_web_invitation(db_session, enquiry.id, requested_by="Sam", now=INSIDE + timedelta(hours=2))
    assert second.ok and third.ok and second.status == third.status == "requested"
    for earlier in (first, second):
        assert redeem(db_session, earlier.code, client_key="x", now=INSIDE + timedelta(hours=3)).reason == REVOKED
    assert redeem(db_session, third.code, client_key="x", now=INSIDE + timedelta(hours=3)).ok
    assert [e[0] for e in history(db_session, first.survey_id)] == ["requested"] * 3


@pytest.mark.parametrize("answered, status", [(True, "in_progress"), (False, "requested")])
def test_a_survey_the_person_stopped_opens_again(db_session, answered, status):
    enquiry, _, first = web_survey(db_session)
    if answered:
        feedback.record_answer(db_session, first.survey_id, "goals", "no", text="no", channel="web",
                               source_ref="m1", now=INSIDE)
    feedback.finish(db_session, first.survey_id, "partial", detail="stopped by the person", now=INSIDE)
    again = reissue_web_invitation(db_session, enquiry.id, requested_by="Sam", now=INSIDE + timedelta(days=1))
    assert again.ok and again.status == status
    survey = feedback.require_survey(db_session, first.survey_id)
    assert survey.status == status and survey.is_open
    last = history(db_session, first.survey_id)[-1]
    assert last[0] == status and "after the person stopped; open again" in last[1]
    assert f"{1 if answered else 0} answer" in last[1]


def _refused(db_session, enquiry_id, words, **kwargs):
    before = db_session.execute(select(FeedbackSurveyEvent.id)).scalars().all()
    invitations = db_session.execute(select(Invitation.id, Invitation.revoked_at)).all()
    result = reissue_web_invitation(db_session, enquiry_id, requested_by="Sam", **kwargs)
    assert not result.ok and words in result.reason, result.reason
    assert result.link is None and result.code is None
    # Nothing issued, nothing withdrawn, nothing appended.
    assert db_session.execute(select(Invitation.id, Invitation.revoked_at)).all() == invitations
    assert db_session.execute(select(FeedbackSurveyEvent.id)).scalars().all() == before
    return result


def test_completed_expired_and_late_surveys_are_refused(db_session):
    enquiry, _, first = web_survey(db_session, "SG-FB-DONE")
    feedback.finish(db_session, first.survey_id, "completed", now=INSIDE)
    _refused(db_session, enquiry.id, "The survey is completed", now=INSIDE)

    enquiry, _, first = web_survey(db_session, "SG-FB-EXP")
    assert feedback.expire_due(db_session, now=first.expires_at) == [first.survey_id]
    _refused(db_session, enquiry.id, "The survey has expired", now=first.expires_at)

    # Past the window but not yet expired by the scheduler: refused all the same, the old link stays.
    enquiry, _, first = web_survey(db_session, "SG-FB-LATE")
    result = _refused(db_session, enquiry.id, "The feedback window ended on 2026-04-27", now=first.expires_at)
    assert result.survey_id == first.survey_id and result.status == "requested"
    assert redeem(db_session, first.code, client_key="x", now=first.expires_at - timedelta(minutes=1)).ok


def test_sms_surveys_refused_requests_and_no_survey_are_refused(db_session):
    enquiry, _ = sms_enquiry(db_session)
    assert request_feedback(db_session, enquiry.id, channel="sms", requested_by="Sam", now=INSIDE).ok
    _refused(db_session, enquiry.id, "went by text message", now=INSIDE)

    enquiry = create_enquiry(db_session, "SG-FB-OPEN")
    add_participant(db_session, enquiry.id, "person")
    _refused(db_session, enquiry.id, "No feedback has been asked for yet", now=INSIDE)
    assert not request_feedback(db_session, enquiry.id, channel="web", requested_by="Sam", now=INSIDE).ok
    _refused(db_session, enquiry.id, "the request was refused", now=INSIDE)


def test_a_reopened_enquiry_is_refused(db_session):
    enquiry, _, first = web_survey(db_session)
    reopen_enquiry(db_session, enquiry.id)
    _refused(db_session, enquiry.id, "The enquiry has been reopened", now=INSIDE)


def test_several_participants_must_be_named(db_session):
    enquiry, person, first = web_survey(db_session)
    advocate = add_participant(db_session, enquiry.id, "advocate")
    assert request_feedback(db_session, enquiry.id, channel="web", participant_id=advocate.id,
                            requested_by="Sam", now=INSIDE).ok
    with pytest.raises(InvalidValue, match="more than one participant"):
        reissue_web_invitation(db_session, enquiry.id, requested_by="Sam", now=INSIDE)
    again = reissue_web_invitation(db_session, enquiry.id, requested_by="Sam", participant_id=person.id, now=INSIDE)
    assert again.ok and again.survey_id == first.survey_id
    with pytest.raises(InvalidValue):
        reissue_web_invitation(db_session, enquiry.id, requested_by=" ", now=INSIDE)
