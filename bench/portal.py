"""Portal benchmark: the conversation list and a transcript with 1,000,000 stored Rasa events.

    python -m bench.portal [--events N] [--dialects sqlite,postgresql] [--requests N]

For each database: Rasa's own ``SQLTrackerStore`` creates the ``events``
table (so the schema is Rasa's), then N events (25,000 conversations of 40
events: sessions, messages with Rasa's parse data, replies, actions, slots;
some with a danger reply, a request for a person, saved outcomes or
unreadable input; last activity spread over 120 days) go in with bulk
inserts (SQLite ``executemany``; PostgreSQL ``COPY``, then ``VACUUM
ANALYZE`` as autovacuum would have done). PostgreSQL is a throwaway server
on a free loopback port (``tests/records/msp_pgserver.py``, as the tests
start it: fsync off, which does not matter for reads).

The portal is the real Flask app (``create_app``) driven in-process by its
test client, signed in as a safeguarding lead (password and TOTP); each page
is audited as in production (a row written to the records database, on the
same backend). Each page is requested ``--requests`` times after two
warm-ups; the figures are wall-clock milliseconds per request. Measured
without, then with, the index on ``events (sender_id, timestamp)``
(``bot.records.tracker_index``, as migration 0008 and the purge add it).
Results: ``bench/PORTAL.md`` and ``bench/PORTAL.json``.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import random
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, Iterator, List, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PER_CONVERSATION = 40
TARGET_P95_MS = 300.0
PAGES = (
    # label, path (a callable for transcripts), counts toward the target
    ("list, first page", "/conversations/", True),
    ("list, page 200", "/conversations/?page=200", True),
    ("list, SMS only", "/conversations/?channel=sms", True),
    ("list, last 7 days", "/conversations/?from={week_ago}", True),
    ("list, flag 'danger reply given'", "/conversations/?flag=danger", True),
    ("list, flag 'asked for a person'", "/conversations/?flag=person", True),
    ("list, flag 'outcomes recorded'", "/conversations/?flag=outcomes", True),
    ("list, flag 'feedback given'", "/conversations/?flag=feedback", True),
    ("search 'pension' (in half the conversations)", "/conversations/?q=pension", True),
    ("search 'Aisha' (in 1 in 100)", "/conversations/?q=Aisha", True),
    ("search 'zebra' (in none)", "/conversations/?q=zebra", True),
    ("transcript (40 events)", None, True),
)
WORDS = ("my son takes my pension", "he shouts at me", "I am scared to go home", "what is neglect",
         "can I talk to a person", "the carer does not come", "she has my bank card", "hello",
         "I want it to stop", "who can help me", "my neighbour is not eating", "thank you")
RARE, RARE_SHARE = "Aisha next door took my post office card", 1 / 900  # in about 1 conversation in 100
REPLIES = ("utter_greet", "utter_info_financial", "utter_info_neglect", "utter_what_you_can_do",
           "utter_who_can_help", "utter_anything_else")


# --- the data --------------------------------------------------------------------------


def _sender(rng: random.Random, n: int) -> str:
    roll = rng.random()
    if roll < 0.7:
        return f"web-{rng.getrandbits(96):024x}"
    if roll < 0.9:
        return f"sms-{n}"
    return f"rest-{rng.getrandbits(64):016x}"


def _user(text: str, intent: str, ts: float, message_id: str) -> Tuple[str, float, str, None, str]:
    parse = {"intent": {"name": intent, "confidence": 0.93}, "entities": [], "text": text,
             "message_id": message_id, "metadata": {},
             "intent_ranking": [{"name": intent, "confidence": 0.93}, {"name": "greet", "confidence": 0.04},
                                {"name": "deny", "confidence": 0.02}],
             "safety_net": {"danger": None, "check": False, "input": None}}
    data = {"event": "user", "timestamp": ts, "metadata": {}, "text": text, "parse_data": parse,
            "input_channel": "socketio", "message_id": message_id}
    return ("user", ts, intent, None, json.dumps(data))


def _action(name: str, ts: float):
    data = {"event": "action", "timestamp": ts, "metadata": {"model_id": "m"}, "name": name,
            "policy": "RulePolicy", "confidence": 1.0, "action_text": None, "hide_rule_turn": False}
    return ("action", ts, None, name, json.dumps(data))


def _bot(name: str, ts: float):
    data = {"event": "bot", "timestamp": ts, "metadata": {"utter_action": name, "model_id": "m"},
            "text": f"A reply for {name}: plain words, a phone number, what happens next.",
            "data": {"elements": None, "quick_replies": None, "buttons": None, "attachment": None,
                     "image": None, "custom": None}}
    return ("bot", ts, None, None, json.dumps(data))


def _slot(name: str, value, ts: float):
    return ("slot", ts, None, None,
            json.dumps({"event": "slot", "timestamp": ts, "metadata": {}, "name": name, "value": value}))


def conversation(rng: random.Random, sender: str, end: float) -> List[tuple]:
    """40 events in Rasa's shape (41 with a feedback answer), the last at ``end``."""
    t = end - 39 * 20.0
    rows = [_action("action_session_start", t),
            ("session_started", t, None, None, json.dumps({"event": "session_started", "timestamp": t})),
            _action("action_listen", t)]
    danger, person, outcomes, unreadable = (rng.random() < p for p in (0.05, 0.08, 0.1, 0.04))
    for turn in range(9):
        t += 80.0
        text = rng.choice(WORDS) if rng.random() >= RARE_SHARE else RARE
        intent = "ask_talk_to_person" if person and turn == 3 else "inform_harm"
        reply = rng.choice(REPLIES)
        if danger and turn == 2:
            reply = "utter_danger_now"
        elif unreadable and turn == 5:
            reply = "utter_ask_rephrase"
        rows += [_user(text, intent, t, f"{sender}-{turn}"), _action(reply, t + 1), _bot(reply, t + 1),
                 _action("action_listen", t + 2)]
    rows.append(_slot("outcome_confirmed", bool(outcomes), t + 3))
    if rng.random() < 0.05:  # an end-of-enquiry feedback answer (the form's slot, as bot.actions.feedback sets it)
        rows.append(_slot("fb_goals", rng.choice(("yes", "partly", "skipped")), t + 4))
    return [(sender,) + row for row in rows]


def generate(events: int, seed: int = 12) -> Iterator[List[tuple]]:
    """Conversations (lists of rows), ``events // 40`` of them, last activity over the last 120 days."""
    rng = random.Random(seed)
    now = time.time()
    for n in range(events // PER_CONVERSATION):
        yield conversation(rng, _sender(rng, n), now - rng.uniform(0, 120 * 86400))


COLUMNS = "sender_id, type_name, timestamp, intent_name, action_name, data"


def create_events_table(url: str) -> None:
    """Rasa's own class makes the table (and Rasa's index on sender_id)."""
    from rasa.core.tracker_store import SQLTrackerStore

    from bot.records.transcripts import store_arguments

    SQLTrackerStore(**store_arguments(url)).engine.dispose()


def load_sqlite(path: Path, events: int) -> float:
    t0 = time.perf_counter()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    batch: List[tuple] = []
    for rows in generate(events):
        batch.extend(rows)
        if len(batch) >= 50_000:
            connection.executemany(f"INSERT INTO events ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", batch)
            batch.clear()
    if batch:
        connection.executemany(f"INSERT INTO events ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", batch)
    connection.commit()
    connection.execute("PRAGMA synchronous=FULL")
    connection.close()
    return time.perf_counter() - t0


def load_postgresql(url: str, events: int) -> float:
    import psycopg2
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    t0 = time.perf_counter()
    connection = psycopg2.connect(host=parsed.host, port=parsed.port, user=parsed.username,
                                  password=parsed.password, dbname=parsed.database)
    with connection, connection.cursor() as cursor:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        count = 0
        for rows in generate(events):
            writer.writerows(rows)
            count += len(rows)
            if count >= 50_000:
                buffer.seek(0)
                cursor.copy_expert(f"COPY events ({COLUMNS}) FROM STDIN WITH (FORMAT csv)", buffer)
                buffer, count = io.StringIO(), 0
                writer = csv.writer(buffer)
        buffer.seek(0)
        cursor.copy_expert(f"COPY events ({COLUMNS}) FROM STDIN WITH (FORMAT csv)", buffer)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE events")
    connection.close()
    return time.perf_counter() - t0


# --- the portal ----------------------------------------------------------------------------


def signed_in_client(app, records_url: str):
    import re

    from bot.portal import credentials
    from bot.records import session_scope, staff

    config = app.config["PORTAL"]
    secret = credentials.new_totp_secret()
    with session_scope(records_url) as db:
        user = staff.create_user(db, "bench.lead", display_name="Bench Lead", role="lead", team=None,
                                 password_hash=credentials.hash_password("violet lantern orbit meadow",
                                                                         config.argon2))
        staff.enrol_totp(db, user, secret, 0, box=config.totp_box())
    client = app.test_client()
    csrf = re.compile(r'name="csrf_token" value="([^"]+)"')
    token = csrf.search(client.get("/auth/login").get_data(as_text=True)).group(1)
    client.post("/auth/login", data={"csrf_token": token, "username": "bench.lead",
                                     "password": "violet lantern orbit meadow"})
    token = csrf.search(client.get("/auth/code").get_data(as_text=True)).group(1)
    answer = client.post("/auth/code", data={"csrf_token": token, "code": credentials.totp_now(secret)})
    assert answer.status_code == 302, answer.status_code
    return client


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def measure(client, senders: List[str], requests: int) -> Dict[str, dict]:
    week_ago = datetime.fromtimestamp(time.time() - 7 * 86400, tz=timezone.utc).date().isoformat()
    results = {}
    for label, path, counts in PAGES:
        times = []
        for i in range(requests + 2):
            url = f"/conversations/{senders[i % len(senders)]}" if path is None else path.format(week_ago=week_ago)
            t0 = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - t0) * 1000
            assert response.status_code == 200, (url, response.status_code)
            if i >= 2:
                times.append(elapsed)
        results[label] = {"p50": round(percentile(times, 50), 1), "p95": round(percentile(times, 95), 1),
                          "max": round(max(times), 1), "n": len(times), "target": counts}
        print(f"    {label:34} p50 {results[label]['p50']:8.1f}  p95 {results[label]['p95']:8.1f} ms", flush=True)
    return results


def run_dialect(dialect: str, events: int, requests: int, work: Path, server=None) -> dict:
    from bot.portal import create_app
    from bot.portal.config import test_config
    from bot.records import transcripts
    from bot.records.db import dispose_engines
    from bot.records.schema import upgrade_to_head
    from bot.records.message_search import catch_up
    from bot.records.tracker_index import ensure_all

    if dialect == "sqlite":
        tracker_url = f"sqlite:///{work / 'tracker.db'}"
        records_url = f"sqlite:///{work / 'msp.db'}"
    else:
        tracker_url = server.create_database("tracker")
        records_url = server.create_database("records")
    upgrade_to_head(records_url)
    create_events_table(tracker_url)
    print(f"  {dialect}: loading {events:,} events ...", flush=True)
    seconds = load_sqlite(work / "tracker.db", events) if dialect == "sqlite" else load_postgresql(tracker_url,
                                                                                                    events)
    print(f"  {dialect}: loaded in {seconds:.0f} s", flush=True)
    app = create_app(test_config(database_url=records_url, tracker_url=tracker_url, cookie_secure=False))
    client = signed_in_client(app, records_url)
    with transcripts.connect(tracker_url) as connection:
        senders = sorted(transcripts.all_sender_ids(connection))
        count = connection.execute(transcripts.sa.select(transcripts.sa.func.count()).select_from(
            transcripts.events)).scalar_one()
    sample = random.Random(5).sample(senders, 20)
    out = {"events": count, "conversations": len(senders), "load_seconds": round(seconds, 1)}
    print(f"  {dialect}: without the index", flush=True)
    out["without_index"] = measure(client, sample, requests)
    engine = transcripts.get_tracker_write_engine(tracker_url)
    t0 = time.perf_counter()
    with engine.connect() as connection:
        ensure_all(connection)
        if dialect == "postgresql":
            connection.exec_driver_sql("ANALYZE events")
        connection.commit()
    out["index_seconds"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    out["search_indexed"] = catch_up(engine)  # what the scheduler does on its first tick
    out["search_index_seconds"] = round(time.perf_counter() - t0, 1)
    print(f"  {dialect}: with the indexes (built in {out['index_seconds']} s and, "
          f"{out['search_indexed']:,} messages, {out['search_index_seconds']} s)", flush=True)
    out["with_index"] = measure(client, sample, requests)
    transcripts.dispose_tracker_engines()
    dispose_engines()
    return out


# --- the report ------------------------------------------------------------------------------


def write_report(result: dict, path_md: Path, path_json: Path) -> None:
    path_json.write_text(json.dumps(result, indent=2) + "\n")
    m = result["machine"]
    lines = [
        "# Staff portal with 1,000,000 stored events (bench/portal.py)", "",
        f"Run {result['date']} on {m['usable_cpus']} cores ({m['cpu_model']}), {m['memory_gib']} GiB; "
        f"CPU loop {m['cpu_loop_seconds_start']} s at start. `{result['command']}` (also run by `make bench`). "
        "The machine is shared with other work: figures vary from run to run.", "",
        "Rasa's own `SQLTrackerStore` made the `events` table; the events went in by bulk insert. The real "
        "portal app (Flask test client, in-process; no network) signed in as a safeguarding lead; every page "
        "also writes its audit row. Wall-clock ms per request after two warm-ups, "
        f"{result['requests']} requests a page (transcripts: 20 different conversations in turn). "
        f"Target: p95 <= {TARGET_P95_MS:.0f} ms for the list (searches included) and the transcript. "
        "The indexes: ours on `events`, `(sender_id, timestamp)` for the list and `(action_name, sender_id)`, "
        "`(intent_name, sender_id)`, `(type_name, sender_id)` for its flag filters (`bot.records.tracker_index`), and the index of "
        "people's words (`bot.records.message_search`: FTS5 trigram on SQLite, pg_trgm on PostgreSQL), built "
        "as the scheduler's first tick builds it.", "",
    ]
    for dialect, data in result["dialects"].items():
        lines += [f"## {dialect}: {data['events']:,} events, {data['conversations']:,} conversations "
                  f"(loaded in {data['load_seconds']} s; index built in {data['index_seconds']} s; search index of "
                  f"{data.get('search_indexed', 0):,} messages built in {data.get('search_index_seconds', '-')} s)",
                  "",
                  "| page | without the indexes: p50 / p95 / max | with them: p50 / p95 / max | target met |",
                  "| --- | --- | --- | --- |"]
        for label, _, counts in PAGES:
            before, after = data["without_index"][label], data["with_index"][label]
            met = ("yes" if after["p95"] <= TARGET_P95_MS else "**no**") if counts else "(no target)"
            lines.append(f"| {label} | {before['p50']} / {before['p95']} / {before['max']} | "
                         f"{after['p50']} / {after['p95']} / {after['max']} | {met} |")
        lines.append("")
    lines += result.get("notes", [])
    path_md.write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--dialects", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--out", default=str(ROOT / "bench" / "PORTAL"))
    args = parser.parse_args(argv)
    from bench.run import machine

    result = {"date": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
              "command": "python -m bench.portal" + (f" {' '.join(argv or sys.argv[1:])}" if (argv or sys.argv[1:])
                                                     else ""),
              "machine": machine(), "requests": args.requests, "dialects": {}}
    result["machine"]["sqlite"] = sqlite3.sqlite_version
    for dialect in args.dialects.split(","):
        with tempfile.TemporaryDirectory(prefix="msp-bench-portal-") as tmp:
            server = None
            if dialect == "postgresql":
                from tests.records.msp_pgserver import start_postgres

                server = start_postgres()
            try:
                result["dialects"][dialect] = run_dialect(dialect, args.events, args.requests, Path(tmp), server)
                if server is not None:
                    result["machine"]["postgresql"] = _pg_version(server)
            finally:
                if server is not None:
                    server.stop()
    write_report(result, Path(args.out + ".md"), Path(args.out + ".json"))
    print(f"Written {args.out}.md and {args.out}.json")
    return 0


def _pg_version(server) -> str:
    import psycopg2

    connection = psycopg2.connect(host="127.0.0.1", port=server.port, user="msp_test", password=server.password,
                                  dbname="postgres")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return cursor.fetchone()[0]
    finally:
        connection.close()


if __name__ == "__main__":
    raise SystemExit(main())
