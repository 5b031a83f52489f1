"""SAC SG4a figures from constructed records, and the publication rule."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from bot.records import (
    add_participant,
    change_outcome,
    close_enquiry,
    create_enquiry,
    record_asked,
    record_outcome,
    record_review,
    sg4a_figures,
    withdraw_outcome,
)
from bot.records.reporting import (
    ACHIEVED_LABELS,
    ASKED_EXPRESSED,
    ASKED_LABELS,
    ASKED_NOT_EXPRESSED,
    DONT_KNOW,
    FULLY,
    NOT_ACHIEVED,
    NOT_ASKED,
    NOT_RECORDED,
    PARTIALLY,
    format_published,
    publish_count,
)

CLOSED_IN_PERIOD = datetime(2024, 6, 30, 12, 0, tzinfo=timezone.utc)


class Builder:
    def __init__(self, session):
        self.session = session
        self.n = 0

    def enquiry(self, *, closed=CLOSED_IN_PERIOD, outcomes=(), asked=None, review=None,
                outcome_reviews=None, withdraw=()):
        self.n += 1
        enquiry = create_enquiry(self.session, f"E{self.n:03d}")
        person = add_participant(self.session, enquiry.id, "person")
        rows = []
        for words in outcomes:
            rows.append(record_outcome(self.session, enquiry.id, words, participant_id=person.id,
                                       recorded_by="assistant", channel="web"))
        for index in withdraw:
            withdraw_outcome(self.session, rows[index].id, recorded_by="w", channel="staff")
        if asked:
            record_asked(self.session, enquiry.id, asked, recorded_by="w", channel="staff")
        if review:
            record_review(self.session, enquiry.id, review, recorded_by="w", channel="staff")
        for index, achievement in (outcome_reviews or {}).items():
            record_review(self.session, enquiry.id, achievement, recorded_by="w",
                          channel="staff", outcome_key=rows[index].outcome_key)
        if closed is not None:
            close_enquiry(self.session, enquiry.id, when=closed)
        return enquiry, rows


def test_empty_database_gives_zeros(db_session):
    figures = sg4a_figures(db_session)
    assert list(figures.asked) == list(ASKED_LABELS)
    assert list(figures.achieved) == list(ACHIEVED_LABELS)
    assert set(figures.asked.values()) == {0} and set(figures.achieved.values()) == {0}
    assert figures.total == 0 and figures.achievement_not_recorded == 0


def test_figures_from_constructed_records(db_session):
    b = Builder(db_session)
    # Expressed, reviewed as a whole.
    b.enquiry(outcomes=["stop"], review="fully")
    b.enquiry(outcomes=["stop", "friends"], review="partially")
    b.enquiry(outcomes=["prosecute"], review="not_achieved")
    # Expressed; the latest whole review wins over an earlier one.
    e, _ = b.enquiry(outcomes=["stop"], review="not_achieved")
    record_review(db_session, e.id, "fully", recorded_by="w", channel="staff")
    # Expressed; no whole review, but every current outcome reviewed.
    b.enquiry(outcomes=["a", "b"], outcome_reviews={0: "fully", 1: "fully"})
    b.enquiry(outcomes=["a", "b"], outcome_reviews={0: "fully", 1: "not_achieved"})
    b.enquiry(outcomes=["a", "b"], outcome_reviews={0: "not_achieved", 1: "not_achieved"})
    # Expressed; withdrawn outcome ignored when combining per-outcome reviews.
    b.enquiry(outcomes=["a", "b"], withdraw=[1], outcome_reviews={0: "fully"})
    # Expressed; one current outcome has no review -> achievement not recorded.
    b.enquiry(outcomes=["a", "b"], outcome_reviews={0: "fully"})
    # Expressed, then every outcome withdrawn: still expressed; no review.
    b.enquiry(outcomes=["a"], withdraw=[0])
    # Expressed even though an "asked: no" was recorded (the words show they were asked).
    b.enquiry(outcomes=["a"], asked="no", review="partially")
    # Not expressed.
    b.enquiry(asked="yes")
    b.enquiry(asked="yes")
    b.enquiry(asked="no")
    e, _ = b.enquiry(asked="yes")  # latest asked answer wins
    record_asked(db_session, e.id, "dont_know", recorded_by="w", channel="staff")
    b.enquiry()  # nothing recorded at all
    # Out of scope: still open, or closed outside the period.
    b.enquiry(closed=None, outcomes=["open one"], review="fully")
    b.enquiry(closed=datetime(2023, 12, 31, 23, 59, tzinfo=timezone.utc), asked="no")
    b.enquiry(closed=datetime(2025, 1, 1, 0, 0, tzinfo=timezone.utc), asked="no")
    db_session.commit()

    figures = sg4a_figures(db_session, concluded_from=date(2024, 1, 1),
                           concluded_to=date(2025, 1, 1))
    assert figures.asked == {
        ASKED_EXPRESSED: 11,
        ASKED_NOT_EXPRESSED: 2,
        NOT_ASKED: 1,
        DONT_KNOW: 1,
        NOT_RECORDED: 1,
    }
    assert figures.achieved == {FULLY: 4, PARTIALLY: 3, NOT_ACHIEVED: 2}
    assert figures.achievement_not_recorded == 2
    assert figures.total == 16 == sum(figures.asked.values())
    assert sum(figures.achieved.values()) + figures.achievement_not_recorded \
        == figures.asked[ASKED_EXPRESSED]

    # Without a period: every closed enquiry (two more "No").
    assert sg4a_figures(db_session).asked[NOT_ASKED] == 3
    # Open ones too when asked for.
    everything = sg4a_figures(db_session, concluded_only=False)
    assert everything.total == 19 and everything.asked[ASKED_EXPRESSED] == 12


def test_changed_outcome_counts_once(db_session):
    b = Builder(db_session)
    e, rows = b.enquiry(outcomes=["first words"], closed=None)
    change_outcome(db_session, rows[0].id, text="second words", recorded_by="a", channel="web")
    record_review(db_session, e.id, "fully", recorded_by="w", channel="staff")
    close_enquiry(db_session, e.id, when=CLOSED_IN_PERIOD)
    figures = sg4a_figures(db_session)
    assert figures.asked[ASKED_EXPRESSED] == 1 and figures.achieved[FULLY] == 1
    assert figures.total == 1


@pytest.mark.parametrize("count,published", [
    (0, None), (1, None), (4, None), (5, 5), (6, 5), (7, 5), (8, 10), (9, 10), (10, 10),
    (12, 10), (13, 15), (99, 100), (102, 100), (103, 105), (1234, 1235),
])
def test_publication_rule(count, published):
    assert publish_count(count) == published


def test_publication_rule_formatting_and_bad_input():
    assert format_published(publish_count(3)) == "*"
    assert format_published(publish_count(13)) == "15"
    for bad in (-1, 2.5, "7", True):
        with pytest.raises(ValueError):
            publish_count(bad)


def test_published_figures(db_session):
    b = Builder(db_session)
    for _ in range(7):
        b.enquiry(outcomes=["x"], review="fully")
    for _ in range(3):
        b.enquiry(asked="no")
    figures = sg4a_figures(db_session)
    published = figures.published()
    assert published["asked"][ASKED_EXPRESSED] == 5
    assert published["asked"][NOT_ASKED] is None
    assert published["achieved"][FULLY] == 5
    rows = figures.rows(published=True)
    assert ("asked", NOT_ASKED, "*") in rows and ("achieved", FULLY, "5") in rows
    assert ("asked", ASKED_EXPRESSED, 7) in figures.rows()
