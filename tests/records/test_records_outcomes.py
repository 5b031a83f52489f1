"""Desired outcomes: verbatim, bounded, append-only, with history in order."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from bot.records import (
    AppendOnlyError,
    DesiredOutcome,
    EmptyOutcomeText,
    InvalidValue,
    NotFound,
    OutcomeConflict,
    OutcomeTooLong,
    add_participant,
    change_outcome,
    create_enquiry,
    current_outcomes,
    outcome_history,
    record_outcome,
    withdraw_outcome,
)
from bot.records.consents import (
    consent_history,
    consent_status,
    give_consent,
    has_consent,
    refuse_consent,
    withdraw_consent,
)
from bot.records.db import get_sessionmaker
from bot.records.errors import Conflict
from bot.records.models import Consent, OutcomeReview
from bot.records.outcomes import latest_asked, latest_reviews, record_asked, record_review

VERBATIM_SAMPLES = [
    "<script>alert('hi')</script> & <b>bold</b> &amp; \"quotes\"",
    "I want him to stop 😀👩🏽‍🦯🏳️‍🌈 — please",
    "أريد أن أشعر بالأمان في بيتي",
    "我希望他不要再来了",
    "Я хочу, чтобы это прекратилось",
    "मैं सुरक्षित महसूस करना चाहती हूँ",
    "Zwischen\nZeilen\r\nund\tTabs  ",
    "  leading and trailing spaces  ",
    "e\u0301 (combining) vs \u00e9 (precomposed)",
    "Robert'); DROP TABLE desired_outcomes;--",
]


def _record(session, enquiry, words="For him to stay away", **kwargs):
    kwargs.setdefault("participant_id", enquiry.person.id)
    kwargs.setdefault("recorded_by", "assistant")
    kwargs.setdefault("channel", "web")
    return record_outcome(session, enquiry.id, words, **kwargs)


def _fresh_read(db_url, outcome_id):
    session = get_sessionmaker(db_url)()
    try:
        return session.execute(
            select(DesiredOutcome.text).where(DesiredOutcome.id == outcome_id)
        ).scalar_one()
    finally:
        session.close()


# --- verbatim and bounded ----------------------------------------------------


@pytest.mark.parametrize("words", VERBATIM_SAMPLES)
def test_words_round_trip_exactly(db_url, db_session, enquiry, words):
    row = _record(db_session, enquiry, words)
    db_session.commit()
    assert _fresh_read(db_url, row.id) == words


def test_2000_characters_are_kept_whole(db_url, db_session, enquiry):
    words = ("😀" + "a" * 9) * 200
    assert len(words) == 2000
    row = _record(db_session, enquiry, words)
    db_session.commit()
    assert _fresh_read(db_url, row.id) == words


def test_2001_characters_are_refused_not_cut(db_session, enquiry):
    words = "a" * 2001
    with pytest.raises(OutcomeTooLong) as caught:
        _record(db_session, enquiry, words)
    assert caught.value.length == 2001 and caught.value.limit == 2000
    assert "2,001" in str(caught.value) and "2,000" in str(caught.value)
    assert "shorten" in str(caught.value)
    db_session.rollback()
    assert outcome_history(db_session, enquiry.id) == []


def test_2001_characters_refused_even_when_building_the_row_directly(db_session, enquiry):
    with pytest.raises(OutcomeTooLong):
        DesiredOutcome(text="x" * 2001)


def test_database_refuses_over_long_text_that_bypasses_python(db_session, enquiry):
    row = _record(db_session, enquiry)
    db_session.commit()
    with pytest.raises(DBAPIError):
        db_session.execute(
            text(
                "INSERT INTO desired_outcomes (enquiry_id, participant_id, outcome_key, version, "
                "status, text, recorded_by, channel, created_at) VALUES "
                "(:e, :p, 'k', 1, 'active', :t, 'x', 'web', :c)"
            ),
            {"e": enquiry.id, "p": row.participant_id, "t": "y" * 2001,
             "c": datetime(2024, 1, 1)},
        )
    db_session.rollback()


@pytest.mark.parametrize("words", ["", "   ", "\n\t"])
def test_empty_outcome_refused(db_session, enquiry, words):
    with pytest.raises(EmptyOutcomeText):
        _record(db_session, enquiry, words)


@pytest.mark.parametrize("words", ["nul\x00byte", "lone \ud800 surrogate"])
def test_unstorable_characters_refused_clearly(db_session, enquiry, words):
    with pytest.raises(InvalidValue):
        _record(db_session, enquiry, words)


def test_unknown_category_channel_and_participant_refused(db_session, enquiry):
    with pytest.raises(InvalidValue, match="category"):
        _record(db_session, enquiry, category="revenge")
    with pytest.raises(InvalidValue, match="channel"):
        _record(db_session, enquiry, channel="carrier-pigeon")
    other = create_enquiry(db_session, "SG-OTHER")
    stranger = add_participant(db_session, other.id, "person")
    with pytest.raises(NotFound):
        _record(db_session, enquiry, participant_id=stranger.id)
    with pytest.raises(InvalidValue, match="recorded"):
        _record(db_session, enquiry, recorded_by="  ")


# --- history ----------------------------------------------------------------


def test_change_and_withdraw_add_rows_and_history_is_in_order(db_session, enquiry):
    t0 = datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)
    first = _record(db_session, enquiry, "For the abuse to stop", category="stop_abuse_feel_safer",
                    now=t0)
    second = _record(db_session, enquiry, "To see my grandchildren", now=t0 + timedelta(minutes=1))
    rep = add_participant(db_session, enquiry.id, "representative", display_name="Daughter")
    changed = change_outcome(
        db_session, first.id, text="For the abuse to stop and to feel safe at home",
        recorded_by="assistant", channel="web", participant_id=rep.id,
        reason="added 'at home'", now=t0 + timedelta(minutes=2),
    )
    withdrawn = withdraw_outcome(
        db_session, second.id, recorded_by="Sam Worker", channel="staff",
        reason="no longer wanted", now=t0 + timedelta(minutes=3),
    )
    db_session.commit()

    history = outcome_history(db_session, enquiry.id)
    assert [r.id for r in history] == [first.id, second.id, changed.id, withdrawn.id]
    assert [(r.version, r.status) for r in history] == [
        (1, "active"), (1, "active"), (2, "active"), (2, "withdrawn")
    ]
    # The originals are untouched.
    assert history[0].text == "For the abuse to stop"
    assert history[1].text == "To see my grandchildren"
    # The new rows point at what they replace and share the outcome key.
    assert changed.supersedes_id == first.id and changed.outcome_key == first.outcome_key
    assert withdrawn.supersedes_id == second.id and withdrawn.outcome_key == second.outcome_key
    assert changed.category == "stop_abuse_feel_safer"  # kept unless changed
    assert changed.participant_id == rep.id
    assert withdrawn.text == second.text and withdrawn.participant_id == enquiry.person.id
    assert [r.created_at for r in history] == sorted(r.created_at for r in history)
    assert history[0].created_at == t0

    current = current_outcomes(db_session, enquiry.id)
    assert [r.id for r in current] == [changed.id]
    everything = current_outcomes(db_session, enquiry.id, include_withdrawn=True)
    assert [r.id for r in everything] == [changed.id, withdrawn.id]
    assert [r.id for r in outcome_history(db_session, enquiry.id, outcome_key=first.outcome_key)] \
        == [first.id, changed.id]


def test_category_can_be_added_or_cleared_without_touching_the_words(db_session, enquiry):
    first = _record(db_session, enquiry, "Police to arrest him")
    tagged = change_outcome(db_session, first.id, category="police_prosecute",
                            recorded_by="assistant", channel="web")
    cleared = change_outcome(db_session, tagged.id, category=None,
                             recorded_by="assistant", channel="web")
    assert [first.text, tagged.text, cleared.text] == ["Police to arrest him"] * 3
    assert [first.category, tagged.category, cleared.category] == [None, "police_prosecute", None]
    with pytest.raises(InvalidValue, match="Nothing to change"):
        change_outcome(db_session, cleared.id, text="Police to arrest him",
                       recorded_by="assistant", channel="web")


def test_changing_an_old_version_or_a_withdrawn_outcome_is_refused(db_session, enquiry):
    first = _record(db_session, enquiry)
    change_outcome(db_session, first.id, text="v2", recorded_by="a", channel="web")
    with pytest.raises(OutcomeConflict, match="already been replaced"):
        change_outcome(db_session, first.id, text="v2 again", recorded_by="a", channel="web")
    latest = current_outcomes(db_session, enquiry.id)[0]
    gone = withdraw_outcome(db_session, latest.id, recorded_by="a", channel="web")
    with pytest.raises(OutcomeConflict, match="withdrawn"):
        change_outcome(db_session, gone.id, text="back", recorded_by="a", channel="web")
    with pytest.raises(OutcomeConflict):
        withdraw_outcome(db_session, gone.id, recorded_by="a", channel="web")


def test_change_longer_than_limit_refused_and_nothing_written(db_session, enquiry):
    first = _record(db_session, enquiry)
    db_session.commit()
    with pytest.raises(OutcomeTooLong):
        change_outcome(db_session, first.id, text="z" * 2001, recorded_by="a", channel="web")
    db_session.rollback()
    assert len(outcome_history(db_session, enquiry.id)) == 1


def test_same_source_ref_records_once(db_session, enquiry):
    one = _record(db_session, enquiry, "Once only", source_ref="conv-1:msg-7")
    again = _record(db_session, enquiry, "Once only", source_ref="conv-1:msg-7")
    db_session.commit()
    assert one.id == again.id
    assert len(outcome_history(db_session, enquiry.id)) == 1


def test_source_ref_duplicate_from_another_session_returns_first_row(db_url, db_session, enquiry):
    one = _record(db_session, enquiry, "Once only", source_ref="conv-2:msg-1")
    db_session.commit()
    other = get_sessionmaker(db_url)()
    try:
        again = record_outcome(other, enquiry.id, "Once only", participant_id=enquiry.person.id,
                               recorded_by="assistant", channel="web", source_ref="conv-2:msg-1")
        other.commit()
        assert again.id == one.id
    finally:
        other.close()


def test_concurrent_change_of_the_same_version_is_a_conflict(db_url, db_session, enquiry):
    first = _record(db_session, enquiry)
    db_session.commit()
    # A second writer changes it in between; the first writer's stale change must not fork history.
    other = get_sessionmaker(db_url)()
    try:
        change_outcome(other, first.id, text="other writer", recorded_by="b", channel="staff")
        other.commit()
    finally:
        other.close()
    with pytest.raises(OutcomeConflict):
        change_outcome(db_session, first.id, text="stale writer", recorded_by="a", channel="web")


# --- append-only is enforced -------------------------------------------------


def test_orm_update_of_words_is_refused(db_url, db_session, enquiry):
    row = _record(db_session, enquiry, "Original words")
    db_session.commit()
    row_id = row.id
    row.text = "Rewritten words"
    with pytest.raises(AppendOnlyError, match="cannot be changed"):
        db_session.flush()
    db_session.rollback()
    assert _fresh_read(db_url, row_id) == "Original words"


@pytest.mark.parametrize("field,value", [
    ("status", "withdrawn"), ("category", "get_support"), ("recorded_by", "someone else"),
    ("created_at", datetime(2020, 1, 1, tzinfo=timezone.utc)),
])
def test_orm_update_of_any_field_is_refused(db_session, enquiry, field, value):
    row = _record(db_session, enquiry)
    db_session.commit()
    setattr(row, field, value)
    with pytest.raises(AppendOnlyError):
        db_session.commit()
    db_session.rollback()


def test_orm_delete_is_refused(db_session, enquiry):
    row = _record(db_session, enquiry)
    db_session.commit()
    db_session.delete(row)
    with pytest.raises(AppendOnlyError, match="cannot be deleted"):
        db_session.flush()
    db_session.rollback()
    assert len(outcome_history(db_session, enquiry.id)) == 1


def test_bulk_and_core_update_and_delete_are_refused(db_session, enquiry):
    _record(db_session, enquiry)
    db_session.commit()
    with pytest.raises(AppendOnlyError):
        db_session.execute(update(DesiredOutcome).values(text="bulk"))
    with pytest.raises(AppendOnlyError):
        db_session.execute(delete(DesiredOutcome))
    with pytest.raises(AppendOnlyError):
        db_session.execute(DesiredOutcome.__table__.update().values(status="withdrawn"))
    with pytest.raises(AppendOnlyError):
        db_session.execute(delete(Consent))
    with pytest.raises(AppendOnlyError):
        db_session.execute(update(OutcomeReview).values(achievement="fully"))
    db_session.rollback()


@pytest.mark.parametrize("statement", [
    "UPDATE desired_outcomes SET text = 'raw'",
    "DELETE FROM desired_outcomes",
])
def test_raw_sql_is_refused_by_the_database(db_url, db_session, enquiry, statement):
    row = _record(db_session, enquiry, "Kept")
    db_session.commit()
    row_id = row.id
    with pytest.raises(DBAPIError, match="append-only"):
        db_session.execute(text(statement))
    db_session.rollback()
    assert _fresh_read(db_url, row_id) == "Kept"


def test_reading_and_re_saving_unchanged_rows_is_fine(db_session, enquiry):
    row = _record(db_session, enquiry)
    db_session.commit()
    row.text = row.text  # same value: not a change
    db_session.commit()


# --- consents ---------------------------------------------------------------


def test_consent_history_is_appended(db_session, enquiry):
    person = enquiry.person
    t0 = datetime(2024, 6, 1, 9, 0, tzinfo=timezone.utc)
    assert consent_status(db_session, enquiry.id, person.id, "record_outcomes") is None
    given = give_consent(db_session, enquiry.id, person.id, "record_outcomes",
                         recorded_by="assistant", channel="web", now=t0)
    assert has_consent(db_session, enquiry.id, person.id, "record_outcomes")
    withdrawn = withdraw_consent(db_session, enquiry.id, person.id, "record_outcomes",
                                 recorded_by="assistant", channel="web",
                                 now=t0 + timedelta(days=1))
    db_session.commit()
    assert consent_status(db_session, enquiry.id, person.id, "record_outcomes") == "withdrawn"
    assert withdrawn.supersedes_id == given.id
    assert given.given_at == t0 and given.withdrawn_at is None
    assert withdrawn.withdrawn_at == t0 + timedelta(days=1) and withdrawn.given_at is None
    history = consent_history(db_session, enquiry.id)
    assert [c.decision for c in history] == ["given", "withdrawn"]

    given.decision = "refused"
    with pytest.raises(AppendOnlyError):
        db_session.flush()
    db_session.rollback()
    db_session.delete(given)
    with pytest.raises(AppendOnlyError):
        db_session.flush()
    db_session.rollback()


def test_consent_cannot_be_withdrawn_if_never_given(db_session, enquiry):
    with pytest.raises(InvalidValue, match="not given"):
        withdraw_consent(db_session, enquiry.id, enquiry.person.id, "contact_by_sms",
                         recorded_by="a", channel="web")
    refuse_consent(db_session, enquiry.id, enquiry.person.id, "contact_by_sms",
                   recorded_by="a", channel="web")
    assert consent_status(db_session, enquiry.id, enquiry.person.id, "contact_by_sms") == "refused"
    with pytest.raises(InvalidValue):
        give_consent(db_session, enquiry.id, enquiry.person.id, "Bad Key!",
                     recorded_by="a", channel="web")
    assert issubclass(OutcomeConflict, Conflict)


# --- asked and reviews ---------------------------------------------------------


def test_asked_and_reviews_are_appended_and_latest_wins(db_session, enquiry):
    record_asked(db_session, enquiry.id, "no", recorded_by="w", channel="staff")
    record_asked(db_session, enquiry.id, "yes", recorded_by="w", channel="staff")
    assert latest_asked(db_session, enquiry.id).answer == "yes"
    row = _record(db_session, enquiry)
    record_review(db_session, enquiry.id, "partially", recorded_by="w", channel="staff")
    record_review(db_session, enquiry.id, "fully", recorded_by="w", channel="staff")
    record_review(db_session, enquiry.id, "not_achieved", recorded_by="w", channel="phone",
                  outcome_key=row.outcome_key)
    reviews = latest_reviews(db_session, enquiry.id)
    assert reviews[None].achievement == "fully"
    assert reviews[row.outcome_key].achievement == "not_achieved"
    with pytest.raises(InvalidValue):
        record_review(db_session, enquiry.id, "mostly", recorded_by="w", channel="staff")
    with pytest.raises(InvalidValue):
        record_asked(db_session, enquiry.id, "maybe", recorded_by="w", channel="staff")
    with pytest.raises(NotFound):
        record_review(db_session, enquiry.id, "fully", recorded_by="w", channel="staff",
                      outcome_key="no-such-outcome")
