"""An SMS burst against the running system: 1,000 signed replies in a minute from 200 numbers mid-survey.

    python -m bench.sms_burst [--numbers 200] [--replies 5] [--seconds 60]   # writes bench/SMS.md

What runs: the real Rasa server (our SMS channel), the action server, the
outbox sender and a local Twilio peer (``tests/sms/twilio_peer.py``: the
Messages API the real ``twilio`` Client is pointed at, and the signed status
callbacks), on loopback, on a fresh SQLite records database.

How: 200 enquiries are closed and their feedback surveys requested by SMS
(the production function, ``request_feedback``); once the 200 invitations
have reached the peer, each number sends its replies ("Yes" to start, then
answers to the questions), spread evenly over the minute in round-robin
order (so one number's replies are 12 s apart, as a person reading each
question would be), each POST signed with Twilio's algorithm. Measured:
the webhook's answer time for every POST (p50/p95/max; Twilio gives up at
15 s), the time until every reply has been handed to the peer, and checks
that every reply was recorded once (inbound rows, survey answers) and every
SMS sent exactly once (no outbox ref twice, peer count = outbox count).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import cpu_speed, machine  # noqa: E402
from scripts.model import ensure_model  # noqa: E402
from scripts.stack import Stack, free_port, new_token  # noqa: E402
from tests.sms.twilio_peer import TwilioPeer, post_signed  # noqa: E402

OUT = Path(__file__).resolve().parent / "SMS.md"
PUBLIC = "https://sms.bench.test"
OUR_NUMBER = "+447700900000"
# The first reply starts the survey (opening + first question: 2 SMS); each
# answer after it gets the next question (1 SMS).
REPLIES = ["Yes", "2", "yep", "not really", "dunno", "skip", "kinda", "4"]


def percentile(values, q):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def make_surveys(url: str, numbers) -> list:
    from bot.records import add_participant, close_enquiry, create_enquiry, record_outcome, session_scope
    from bot.records.models import utcnow
    from bot.surveys.request import request_feedback

    ids = []
    with session_scope(url) as session:
        for i, number in enumerate(numbers):
            enquiry = create_enquiry(session, f"SG-BENCH-{i:04d}-{uuid.uuid4().hex[:6]}", safe_to_text=True,
                                     safe_number=number, safe_times="every day 00:00-24:00")
            person = add_participant(session, enquiry.id, "person", display_name="Bench Person")
            record_outcome(session, enquiry.id, "For the calls to stop", participant_id=person.id,
                           recorded_by="assistant", channel="web")
            close_enquiry(session, enquiry.id, when=utcnow() - timedelta(days=1))
            result = request_feedback(session, enquiry.id, channel="sms", requested_by="Bench Worker")
            if not result.ok:
                raise RuntimeError(result.reason)
            ids.append(result.survey_id)
    return ids


def wait(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return time.monotonic()
        time.sleep(0.2)
    raise TimeoutError(what)


def query(path: Path, sql: str, args=()):
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as db:
        return db.execute(sql, args).fetchall()


def run(numbers_n: int, replies_n: int, seconds: float) -> dict:
    account, token = "AC" + secrets.token_hex(16), secrets.token_hex(16)
    peer = TwilioPeer(account, token, PUBLIC).start()
    tmp = Path(tempfile.mkdtemp(prefix="msp-sms-bench-"))
    stack = Stack(model=ensure_model(quiet=True), rasa_port=free_port(), actions_port=free_port(), var_dir=tmp,
                  token=new_token(), log_dir=tmp / "logs", twilio_token=token, sms_sender=True,
                  extra_env={"TWILIO_ACCOUNT_SID": account, "MSP_SMS_FROM": OUR_NUMBER, "MSP_SMS_PUBLIC_URL": PUBLIC,
                             "MSP_TWILIO_API_URL": peer.url, "MSP_SMS_RETRY_SECONDS": "0.5",
                             "MSP_SMS_POLL_SECONDS": "0.1"})
    peer.local_url = stack.rasa_url
    stack.start()
    speed_start = cpu_speed()
    try:
        numbers = [f"+4477009{n:05d}" for n in range(10000, 10000 + numbers_n)]
        url = stack.env()["DATABASE_URL"]
        t0 = time.monotonic()
        surveys = make_surveys(url, numbers)
        wait(lambda: sum(1 for n in numbers if peer.sent_to(n)) == numbers_n, 600, "the invitations")
        invitations_s = time.monotonic() - t0
        base = {n: len(peer.sent_to(n)) for n in numbers}
        plan = [(k, i, numbers[i], REPLIES[k]) for k in range(replies_n) for i in range(numbers_n)]
        gap = seconds / len(plan)
        latencies, statuses, by_reply = [], Counter(), {}
        lock = threading.Lock()

        def post(item, at):
            _, _, number, body = item
            delay = at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": account, "From": number,
                      "To": OUR_NUMBER, "Body": body, "NumMedia": "0", "NumSegments": "1",
                      "ApiVersion": "2010-04-01"}
            start = time.monotonic()
            status, _ = post_signed(token, PUBLIC + "/webhooks/twilio/webhook",
                                    stack.rasa_url + "/webhooks/twilio/webhook", params, timeout=30)
            took = time.monotonic() - start
            with lock:
                latencies.append(took)
                by_reply.setdefault(item[0], []).append(took)
                statuses[status] += 1

        start = time.monotonic() + 0.5
        with ThreadPoolExecutor(max_workers=64) as pool:
            for j, item in enumerate(plan):
                pool.submit(post, item, start + j * gap)
        sent_done = time.monotonic()
        expected = {n: base[n] + 2 + (replies_n - 1) for n in numbers}
        try:
            all_done = wait(lambda: all(len(peer.sent_to(n)) >= expected[n] for n in numbers), 1800,
                            "every reply handed to the peer")
            complete = True
        except TimeoutError:
            all_done, complete = time.monotonic(), False
        time.sleep(3)  # anything extra (a duplicate) would arrive by now
        records = stack.records_path
        inbound = query(records, "SELECT count(*), count(DISTINCT message_sid) FROM sms_inbound WHERE keyword IS NULL")[0]
        answers = query(records, "SELECT survey_id, question, count(*) FROM feedback_answers "
                                 "GROUP BY survey_id, question")
        per_survey = Counter(s for s, _, _ in answers)
        doubled = [a for a in answers if a[2] > 1]
        outbox = query(records, "SELECT count(*), count(DISTINCT source_ref), sum(state = 'sent') FROM sms_outbox")[0]
        peer_total = sum(len(peer.sent_to(n)) for n in numbers)
        extra = {n: len(peer.sent_to(n)) - expected[n] for n in numbers if len(peer.sent_to(n)) != expected[n]}
        rasa_log = (stack.log_dir / "rasa.log") if stack.log_dir else None
        return {
            "numbers": numbers_n, "replies_per_number": replies_n, "posts": len(plan), "seconds": seconds,
            "invitations_seconds": round(invitations_s, 1),
            "webhook_ms": {"p50": round(percentile(latencies, 50) * 1000, 1),
                           "p95": round(percentile(latencies, 95) * 1000, 1),
                           "p99": round(percentile(latencies, 99) * 1000, 1),
                           "max": round(max(latencies) * 1000, 1), "mean": round(statistics.mean(latencies) * 1000, 1)},
            "statuses": dict(statuses),
            "webhook_p95_ms_by_reply": {REPLIES[k]: round(percentile(v, 95) * 1000, 1) for k, v in sorted(by_reply.items())},
            "burst_seconds": round(sent_done - start, 1),
            "all_replies_handed_over_seconds_after_start": round(all_done - start, 1),
            "all_replies_handed_over_seconds_after_last_post": round(all_done - sent_done, 1),
            "complete": complete,
            "inbound_rows": inbound[0], "inbound_distinct_sids": inbound[1],
            "answers_expected_per_survey": replies_n - 1,
            "surveys_with_all_answers": sum(1 for s in surveys if per_survey.get(s, 0) == replies_n - 1),
            "answers_recorded_twice": len(doubled),
            "outbox_rows": outbox[0], "outbox_distinct_refs": outbox[1], "outbox_sent": outbox[2],
            "peer_messages": peer_total, "numbers_with_wrong_count": len(extra),
            "rasa_log_errors": sum(1 for line in rasa_log.read_text(errors="replace").splitlines()
                                   if " ERROR " in line) if rasa_log and rasa_log.exists() else None,
            "cpu_speed_start_s": speed_start, "cpu_speed_end_s": cpu_speed(),
        }
    finally:
        stack.stop()
        peer.stop()


def report(result: dict) -> str:
    m = machine()
    w = result["webhook_ms"]
    ok = (result["complete"] and result["inbound_rows"] == result["posts"] == result["inbound_distinct_sids"]
          and result["answers_recorded_twice"] == 0 and result["numbers_with_wrong_count"] == 0
          and result["outbox_rows"] == result["outbox_distinct_refs"] == result["outbox_sent"] == result["peer_messages"])
    lines = [
        "# SMS burst (bench/sms_burst.py)",
        "",
        f"Run {dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')} on {m.get('usable_cpus')} cores "
        f"({m.get('cpu_model', '')}); CPU loop {result['cpu_speed_start_s']:.2f} s at start, "
        f"{result['cpu_speed_end_s']:.2f} s at the end. `python -m bench.sms_burst` (also run by `make bench`).",
        "",
        f"{result['posts']:,} signed inbound replies from {result['numbers']} numbers mid-survey, spread over "
        f"{result['seconds']:.0f} s (sent in {result['burst_seconds']} s), against the real Rasa server, action "
        "server and outbox sender, with a local Twilio peer on loopback; SQLite records.",
        "",
        "| | target | measured |",
        "| --- | --- | --- |",
        f"| webhook answer, p50 / p95 / p99 / max | p95 <= 500 ms (Twilio gives up at 15 s) | "
        f"{w['p50']:.0f} / {w['p95']:.0f} / {w['p99']:.0f} / {w['max']:.0f} ms |",
        f"| HTTP statuses | all 200 | {result['statuses']} |",
        f"| every reply handed to the Twilio peer, after the first post | | "
        f"{result['all_replies_handed_over_seconds_after_start']} s"
        f"{'' if result['complete'] else ' (NOT all: gave up)'} |",
        f"| ... after the last post | | {result['all_replies_handed_over_seconds_after_last_post']} s |",
        f"| inbound rows / distinct MessageSids | {result['posts']} | {result['inbound_rows']} / "
        f"{result['inbound_distinct_sids']} |",
        f"| surveys with every answer recorded ({result['answers_expected_per_survey']} each) | {result['numbers']} | "
        f"{result['surveys_with_all_answers']} |",
        f"| answers recorded twice | 0 | {result['answers_recorded_twice']} |",
        f"| outbox rows / distinct refs / sent / messages at the peer | all equal | {result['outbox_rows']} / "
        f"{result['outbox_distinct_refs']} / {result['outbox_sent']} / {result['peer_messages']} |",
        f"| numbers that got more or fewer SMS than expected | 0 | {result['numbers_with_wrong_count']} |",
        f"| ERROR lines in the Rasa server's log | 0 | {result['rasa_log_errors']} |",
        "",
        f"Everything recorded once and sent exactly once: **{'yes' if ok else 'NO'}**. "
        f"(The {result['numbers']} invitations took {result['invitations_seconds']} s to request and hand over, "
        "before the burst.)",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--numbers", type=int, default=200)
    p.add_argument("--replies", type=int, default=5, help="replies per number (at most %d)" % len(REPLIES))
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--out", type=Path, default=OUT)
    o = p.parse_args(argv)
    o.replies = max(1, min(o.replies, len(REPLIES)))
    result = run(o.numbers, o.replies, o.seconds)
    o.out.write_text(report(result))
    o.out.with_suffix(".json").write_text(json.dumps(result, indent=1))
    print(report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
