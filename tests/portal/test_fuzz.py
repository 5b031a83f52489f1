"""Fuzzing: every route (from app.url_map), with every role, half signed in and not signed in,
with random and hostile path values, query strings and forms. No answer may be a 5xx, and no
page may show a stack trace.

The values are drawn from a seeded generator (``MSP_FUZZ_SEED`` picks another seed; the seed is
in the failure message), so a failure can be repeated.
"""
from __future__ import annotations

import os
import random
import string
from typing import Dict, List
from urllib.parse import quote

import pytest

from tests.portal.helpers import PASSWORD, csrf_of

SEED = int(os.environ.get("MSP_FUZZ_SEED", "20261205"))
ROUNDS = 5  # per route, per role

HOSTILE: List[str] = [
    "", " ", "\x00", "a\x00b", "%00", "\t\r\n", "\r\nSet-Cookie: stolen=1", "\u202egnp.exe", "\u2028",
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "javascript:alert(1)",
    "' OR '1'='1", "\"; DROP TABLE audit_log; --", "%' OR 1=1 --", "_", "%", "\\", "\\x00",
    "../../../../etc/passwd", "..%2f..%2f", "{{7*7}}", "${7*7}", "{% raw %}", "%s%s%s%n",
    "-1", "0", "1", "2147483648", "99999999999999999999999999", "1e309", "NaN", "-0", "0x10", "١٢٣",
    "2026-02-30", "9999-12-31", "0000-00-00", "2026-1-1", "2026-01-01T00:00:00", "2026/01/01",
    "web-danger", "web-" + "a" * 300, "sms-", "rest-x:y", "😀" * 50, "a" * 5000, "é" * 300,
    "practitioner", "lead", "auditor", "admin", "root", "web", "sms", "danger", "person",
    "yes", "no", "open", "closed", "published", "unsuppressed", "fully", "dont_know", "07700 900123", "-",
    "Mon-Fri 10:00-16:00", "daily 0:00-24:00", "25:00-26:00", "sms-1",
]
KEYS = ["q", "channel", "from", "to", "flag", "page", "username", "action", "target", "signed_out", "lapsed",
        "code", "password", "current", "new", "repeat", "display_name", "role", "team", "note", "days",
        "csrf_token", "filename", "next", "__proto__", "x" * 200,
        # the enquiry and report forms
        "status", "reference", "worker", "safe_to_text", "safe_number", "safe_times", "preferred_contact",
        "sms_name_allowed", "asked", "overall", "by", "participant", "figures", "report",
        # the erasure form
        "sender_id", "reason", "confirm",
        # url_for's own keyword names: a query string must never reach url_for as keywords.
        "endpoint", "_scheme", "_external", "_anchor", "_method", "values"]


@pytest.fixture
def app(config):
    """One row a page, so every list has several pages and draws its page links."""
    from dataclasses import replace

    from bot.portal import create_app

    return create_app(replace(config, page_size=1))


def _random_text(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return rng.choice(HOSTILE)
    alphabet = string.printable + "éß€😀\u00a0\u200b"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))


def _path_value(rng: random.Random, converter: str) -> str:
    if converter == "IntegerConverter":
        return str(rng.choice([0, 1, 2, 3, 7, 2147483647, 2147483648, 10 ** 25, rng.randint(1, 10 ** 6)]))
    value = _random_text(rng) or "x"
    return quote(value, safe="")


def _url(rng: random.Random, rule) -> str:
    path = ""
    for is_dynamic, piece in rule._trace:
        if not is_dynamic:
            path += piece
        else:
            converter = type(rule._converters[piece]).__name__
            path += _path_value(rng, converter)
    return path.split("|", 1)[1] if "|" in path else path


def _params(rng: random.Random) -> Dict[str, object]:
    params: Dict[str, object] = {}
    for _ in range(rng.randint(0, 5)):
        key = rng.choice(KEYS)
        if rng.random() < 0.2:
            params[key] = [_random_text(rng) for _ in range(rng.randint(0, 4))]
        else:
            params[key] = _random_text(rng)
    return params


def _client(app, who, auth, make_account):
    client = app.test_client()
    if who == "not signed in":
        return client, csrf_of(client.get("/auth/login"))
    if who == "password only":
        account = make_account("lead")
        auth.password(client, account.username, PASSWORD)
        return client, csrf_of(client.get("/auth/code"))
    account = make_account(who)
    auth.login(client, account)
    return client, auth.csrf(client)


def _check(response, what: str, seed: int) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code < 500, f"{what}: {response.status_code} (MSP_FUZZ_SEED={seed})"
    assert "Traceback" not in body and 'File "' not in body, f"{what}: a stack trace (MSP_FUZZ_SEED={seed})"


@pytest.mark.parametrize("who", ["not signed in", "password only", "practitioner", "lead", "auditor", "admin"])
def test_no_route_answers_5xx_to_random_and_hostile_input(app, who, auth, make_account, tracker, records_url):
    from rasa.shared.core.events import UserUttered

    from bot.records import add_participant, close_enquiry, create_enquiry, record_outcome, session_scope
    from tests.portal.helpers import write_events

    # Enquiries 1 to 3 exist (open, closed with an outcome, safe to text), so the fuzzed numbers reach them.
    with session_scope(records_url) as db:
        for n in range(3):
            enquiry = create_enquiry(db, f"SG-FUZZ-{n}", safe_to_text=n == 2, safe_number="07700 900123",
                                     safe_times="daily 0:00-24:00")
            person = add_participant(db, enquiry.id, "person")
            if n:
                record_outcome(db, enquiry.id, "<b>fuzz</b>", participant_id=person.id, recorded_by="t",
                               channel="web")
                close_enquiry(db, enquiry.id)
    for n, sender in enumerate(("web-danger", "sms-1", "rest-x")):
        write_events(tracker, sender, [UserUttered(f"hello {n}", {"name": "greet", "confidence": 1.0},
                                                   message_id=f"f{n}")])
    rng = random.Random(f"{SEED}-{who}")
    rules = sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
    checked = 0
    for rule in rules:
        client, token = _client(app, who, auth, make_account)
        for _ in range(ROUNDS):
            url = _url(rng, rule)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                params = _params(rng)
                if method == "GET":
                    response = client.get(url, query_string=params)
                else:
                    form = _params(rng)
                    if rng.random() < 0.7:
                        form["csrf_token"] = token
                    response = client.post(url, query_string=params, data=form)
                _check(response, f"{method} {url} {params!r} as {who}", SEED)
                checked += 1
    assert checked >= len(rules) * ROUNDS


@pytest.mark.parametrize("who", ["not signed in", "lead"])
def test_malformed_requests(app, who, auth, make_account):
    client, token = _client(app, who, auth, make_account)
    cases = [
        ("GET", "/conversations/%ff%fe", {}),
        ("GET", "/conversations/?q=%ff%fe%00", {}),
        ("GET", "/audit/?from=%E0%80%80", {}),
        ("GET", "/enquiries/?reference=%ff%fe%00", {}),
        ("GET", "/enquiries/99999999999999999999", {}),
        ("POST", "/enquiries/2147483647/close", {"data": {"csrf_token": token}}),
        ("POST", "/enquiries/new", {"data": {"csrf_token": token, "reference": "a" * 100000}}),
        ("GET", "/reports/sg4a.csv?from=%E0%80%80", {}),
        ("GET", "/reports/../reports/sg4a", {}),
        ("GET", "/" + "a" * 10000, {}),
        ("GET", "/admin/users/99999999999999999999/deactivate", {}),
        ("POST", "/admin/users/99999999999999999999/deactivate", {"data": {"csrf_token": token}}),
        ("POST", "/auth/login", {"data": b"\xff\xfe" * 100, "content_type": "application/x-www-form-urlencoded"}),
        ("POST", "/auth/login", {"data": "{\"username\": 1}", "content_type": "application/json"}),
        ("POST", "/auth/login", {"data": b"--x\r\nbroken", "content_type": "multipart/form-data; boundary=x"}),
        ("POST", "/auth/login", {"data": {"csrf_token": token, "username": "a" * 100000}}),
        ("POST", "/auth/password", {"data": {"csrf_token": token, "current": "x" * 70000}}),
        ("PUT", "/auth/login", {}),
        ("DELETE", "/", {}),
        ("GET", "/static/../bot/portal/app.py", {}),
        ("GET", "/static/%2e%2e/app.py", {}),
    ]
    for method, url, kwargs in cases:
        response = client.open(url, method=method, **kwargs)
        _check(response, f"{method} {url[:80]} as {who}", SEED)
        assert "create_app" not in response.get_data(as_text=True)
