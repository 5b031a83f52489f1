"""The index of people's words behind the portal's search (bot/records/message_search.py), on SQLite
and PostgreSQL.

Conversations are written through the project's real tracker store (Rasa's SQL store). Every search
is compared with the plain answer: the conversations with a message from the person whose words,
case-folded, contain the term. It must be the same with no index, a half-built one, a full one with
newer messages not yet indexed, and after the retention purge or an erasure.
"""
from __future__ import annotations

import asyncio
import random

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from sqlalchemy import select

from bot.records import message_search, retention, transcripts
from tests.records.test_records_retention import NOW, POLICY, chat, store, tracker_url  # noqa: F401 - fixtures

WORDS = ("pension", "Pension", "PENSION", "bank card", "café", "CAFÉ", "Zoë", "hit", "100%", "50_50",
         'he said "stop"', "it's", "son", "grandson", "carer", "my", "the", "at night", "ß")
TERMS = ("pension", "PENSION", "bank", "card", "café", "CAFÉ", "zoë", "hit", "100%", "50_50", '"stop"',
         "it's", "son", "grandson", "carer", "night", "at n", "zz", "hi", "s", "ss", "intent", "parse_data",
         "Thank you", "action_listen")


def conversation(store, sender: str, texts, *, start: float) -> None:
    tracker = asyncio.run(store.retrieve(sender)) or store.init_tracker(sender)
    t = start
    for n, text in enumerate(texts):
        tracker.update(UserUttered(text, {"name": "inform_harm", "confidence": 1.0}, timestamp=t,
                                   message_id=f"{sender}-{t}-{n}"))
        tracker.update(ActionExecuted("utter_thanks", timestamp=t + 1))
        tracker.update(BotUttered("Thank you for telling me, pension card son.", timestamp=t + 1))
        t += 10
    asyncio.run(store.save(tracker))


def random_texts(rng: random.Random):
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 5))) for _ in range(rng.randint(1, 4))]


def plain_answer(url, term):
    """The conversations whose person's words contain ``term``, case-folded: the definition."""
    needle = term.casefold()
    found = set()
    with transcripts.connect(url) as connection:
        rows = connection.execute(select(transcripts.events.c.sender_id, transcripts.events.c.data)
                                  .where(transcripts.events.c.type_name == "user"))
        for sender_id, data in rows:
            text = message_search.text_of(data)
            if text is not None and needle in text.casefold():
                found.add(sender_id)
    return found


def search(url, term, within=None):
    with transcripts.connect(url) as connection:
        return transcripts.matching_senders(connection, term, within=within)


def indexed(url):
    with transcripts.connect(url) as connection:
        if not message_search.exists(connection):
            return None
        return connection.exec_driver_sql(f"SELECT count(*) FROM {message_search.TABLE}").scalar_one()


def listed(url, term):
    """The conversation list's answer to a search (the portal's path)."""
    with transcripts.connect(url) as connection:
        page = transcripts.list_conversations(connection, senders=transcripts.matching_senders(connection, term),
                                              limit=10000)
    assert page.total == len(page.rows)
    return {row.sender_id for row in page.rows}


def check_every_term(url):
    for term in TERMS:
        expected = plain_answer(url, term)
        assert search(url, term) == expected, term
        assert listed(url, term) == expected, term


def write_random(store, rng, first: int, count: int):
    for n in range(first, first + count):
        conversation(store, f"web-{n:04d}", random_texts(rng), start=1_700_000_000.0 + n * 100)


@pytest.fixture(params=[0, message_search.LOOKBACK], ids=["lookback-0", "lookback-default"])
def lookback(request, monkeypatch):
    """With no margin a search trusts the index for every id it holds (the index path is what is
    tested); with the default margin these small tables are read directly as well. (A margin of 0 is
    not a setting: it would miss an id SQLite reuses after a deletion outside the purge, below.)"""
    monkeypatch.setattr(message_search, "LOOKBACK", request.param)
    return request.param


def test_search_is_exact_without_an_index_half_built_built_and_behind(db_url, tracker_url, store, lookback):
    rng = random.Random(7)
    write_random(store, rng, 0, 40)
    assert indexed(tracker_url) is None
    check_every_term(tracker_url)  # no index yet: every event is read

    engine = transcripts.get_tracker_write_engine(tracker_url)
    assert message_search.catch_up(engine, batch=15, max_batches=2) == 30  # half built
    assert indexed(tracker_url) == 30
    check_every_term(tracker_url)

    message_search.catch_up(engine, batch=15)
    users = plain_answer_count(tracker_url)
    assert indexed(tracker_url) == users  # every message from a person, once
    check_every_term(tracker_url)

    write_random(store, rng, 40, 10)  # newer messages, not indexed yet
    for sender in ("web-0003", "web-0011"):  # and conversations that go on
        conversation(store, sender, ["a new pension worry", "Zoë again"], start=1_800_000_000.0)
    assert indexed(tracker_url) == users
    check_every_term(tracker_url)
    assert message_search.catch_up(engine) == plain_answer_count(tracker_url) - users
    check_every_term(tracker_url)
    assert message_search.catch_up(engine) == 0  # nothing new: nothing added


def plain_answer_count(url):
    with transcripts.connect(url) as connection:
        return connection.execute(select(transcripts.sa.func.count()).select_from(transcripts.events)
                                  .where(transcripts.events.c.type_name == "user")).scalar_one()


def test_the_index_answers_on_its_own_for_what_it_holds(db_url, tracker_url, store):
    """With every message indexed and far from the newest, the index alone gives the answer."""
    rng = random.Random(11)
    write_random(store, rng, 0, 30)
    message_search.catch_up(transcripts.get_tracker_write_engine(tracker_url))
    with transcripts.connect(tracker_url) as connection:
        for term in TERMS:
            needle = term.casefold()
            if len(needle) < message_search.MIN_INDEXED_CHARS:
                continue
            assert message_search.indexed_matches(connection, needle) == plain_answer(tracker_url, term), term


def test_a_practitioners_scope_still_limits_the_search(db_url, tracker_url, store):
    conversation(store, "web-a", ["my pension"], start=1_700_000_000.0)
    conversation(store, "web-b", ["his pension"], start=1_700_000_100.0)
    assert search(tracker_url, "pension", within={"web-a"}) == {"web-a"}
    message_search.catch_up(transcripts.get_tracker_write_engine(tracker_url))
    assert search(tracker_url, "pension", within={"web-a"}) == {"web-a"}
    assert search(tracker_url, "pension", within=set()) == set()
    assert search(tracker_url, "pension") == {"web-a", "web-b"}


def test_purge_and_erasure_take_the_words_out_of_the_index(db_url, tracker_url, store, lookback):
    chat(store, "web-old", days_ago=100, text_="my son takes my pension")
    chat(store, "web-erase", days_ago=1, text_="please delete my pension words")
    chat(store, "web-new", days_ago=1, text_="my pension is fine")
    message_search.catch_up(transcripts.get_tracker_write_engine(tracker_url))
    assert indexed(tracker_url) == 3
    retention.purge(records_url=db_url, tracker_url=tracker_url, now=NOW, policy=POLICY)
    retention.erase("web-erase", reason="asked", username="ada", records_url=db_url, tracker_url=tracker_url,
                    now=NOW)
    assert indexed(tracker_url) == 1
    assert search(tracker_url, "pension") == {"web-new"}


def test_an_erased_newest_conversation_whose_ids_are_reused_is_indexed_afresh(db_url, tracker_url, store,
                                                                            lookback):
    """SQLite reuses the highest ids after a deletion: the new message must be found, the old never."""
    chat(store, "web-keep", days_ago=1, text_="nothing to see")
    chat(store, "web-last", days_ago=1, text_="secret words from before")
    engine = transcripts.get_tracker_write_engine(tracker_url)
    message_search.catch_up(engine)
    retention.erase("web-last", reason="asked", username="ada", records_url=db_url, tracker_url=tracker_url,
                    now=NOW)
    chat(store, "web-next", days_ago=0.5, text_="fresh words")
    chat(store, "web-last", days_ago=0.4, text_="new words only")
    for step in ("before catching up", "after"):
        assert search(tracker_url, "secret") == set(), step
        assert search(tracker_url, "fresh words") == {"web-next"}, step
        assert search(tracker_url, "new words") == {"web-last"}, step
        message_search.catch_up(engine)


def test_a_stale_row_left_by_anything_else_never_counts(db_url, tracker_url, store, monkeypatch):
    """A row whose event went some other way (not through the purge) lists nothing, and is replaced
    when SQLite gives its id to another conversation's message (caught up within the margin)."""
    monkeypatch.setattr(message_search, "LOOKBACK", 1)
    chat(store, "web-a", days_ago=1, text_="the first words")
    engine = transcripts.get_tracker_write_engine(tracker_url)
    message_search.catch_up(engine)
    with engine.begin() as connection:
        connection.execute(transcripts.events.delete().where(transcripts.events.c.sender_id == "web-a"))
    assert indexed(tracker_url) == 1
    assert listed(tracker_url, "first words") == set()
    chat(store, "web-b", days_ago=0.5, text_="other words")  # on SQLite: web-a's ids again
    chat(store, "web-c", days_ago=0.4, text_="later words")
    message_search.catch_up(engine)
    with transcripts.connect(tracker_url) as connection:  # web-b's message is below the margin now
        assert message_search.usable(connection, "other words") > min(
            connection.execute(select(transcripts.events.c.id)
                               .where(transcripts.events.c.sender_id == "web-b")).scalars())
    assert search(tracker_url, "other words") == {"web-b"}
    assert search(tracker_url, "later words") == {"web-c"}
    assert listed(tracker_url, "first words") == set()


def test_catch_up_waits_for_rasas_table(tmp_path):
    """Before Rasa has made its table (or its file) there is nothing to index, and nothing is made."""
    import sqlite3

    path = tmp_path / "tracker.db"
    sqlite3.connect(path).close()
    engine = transcripts.get_tracker_write_engine(f"sqlite:///{path}")
    assert message_search.catch_up(engine) == 0
    tables = {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")}
    assert tables == set()
    transcripts.dispose_tracker_engines()


def test_the_scheduler_tick_indexes_new_messages(db_url, tracker_url, store, monkeypatch):
    from bot.surveys.scheduler import search_tick

    monkeypatch.setenv("MSP_TRACKER_URL", tracker_url)
    conversation(store, "web-s", ["one pension", "two pension"], start=1_700_000_000.0)
    assert search_tick() == 2
    assert search_tick() == 0
    assert indexed(tracker_url) == 2
    from sqlalchemy import inspect

    from bot.records.tracker_index import FLAG_INDEXES, INDEX_NAME

    with transcripts.connect(tracker_url) as connection:  # and the list's indexes, before any purge
        assert set(FLAG_INDEXES) | {INDEX_NAME} <= {i["name"] for i in inspect(connection).get_indexes("events")}
