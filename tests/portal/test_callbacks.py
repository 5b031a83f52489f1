"""Call backs in the portal with the test client: the list (those still to call first), one request with its
answers word for word and escaped, "called" and "could not reach" appended as events, the CSRF token required,
every step audited. Who may open them is in the access matrix (test_access_matrix.py)."""
from __future__ import annotations

import pytest

from bot.records import callbacks, handoffs, session_scope
from tests.portal.helpers import audit_rows, csrf_of

WORDS = {"safe_words": "yes, <b>he's</b> out till 6",
         "number_words": "my mobile 07700 900123",
         "safe_times": "weekdays after 10 <script>alert('x')</script>",
         "message_words": "no, don't leave one",
         "others_words": "my daughter & her boyfriend"}


@pytest.fixture
def requests_made(records_url):
    """Two call-back requests: one from a handoff that timed out, one out of hours (by a representative)."""
    with session_scope(records_url) as db:
        handoff, _ = handoffs.request_handoff(db, "web-waited", "web")
        handoffs.end(db, handoff.id, "callback_requested")
        first = callbacks.request_callback(db, WORDS, number="+447700900123", leave_message=False,
                                           sender_id="web-waited", channel="web", asked_by="person",
                                           source_ref="t:1", handoff_id=handoff.id).id
        second = callbacks.request_callback(db, dict(WORDS, message_words="yes"), number="+441632960111",
                                            leave_message=True, sender_id="sms-late", channel="sms",
                                            asked_by="representative", source_ref="t:2").id
        return first, second, handoff.id


def _post(client, path, **data):
    return client.post(path, data=dict(data, csrf_token=csrf_of(client.get("/"))))


def test_the_list_shows_each_request_and_is_audited(signed_in, requests_made, records_url):
    first, second, handoff_id = requests_made
    client, _ = signed_in("practitioner")
    page = client.get("/handoff/callbacks").get_data(as_text=True)
    assert f"Call back {first}" in page and f"Call back {second}" in page and "To call" in page
    assert f'href="/handoff/{handoff_id}"' in page and "Someone else, for the person" in page
    assert "07700" not in page  # the list shows no personal details; the request's page does
    assert 'href="/handoff/callbacks"' in client.get("/handoff/").get_data(as_text=True)
    assert audit_rows(records_url, "handoff.callbacks")[-1]["target"] == f"callback:{first},callback:{second}"


def test_one_request_shows_every_answer_word_for_word_escaped(signed_in, requests_made, records_url):
    first, _, handoff_id = requests_made
    client, _ = signed_in("lead")
    page = client.get(f"/handoff/callbacks/{first}").get_data(as_text=True)
    assert "+447700900123" in page and "No: do not leave a message" in page
    assert "yes, &lt;b&gt;he&#39;s&lt;/b&gt; out till 6" in page and "<b>he" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "my daughter &amp; her boyfriend" in page and "my mobile 07700 900123" in page
    assert f'href="/handoff/{handoff_id}"' in page and 'href="/conversations/web-waited"' in page
    assert "Mark as called" in page and "Could not reach them" in page
    assert audit_rows(records_url, "handoff.callback_view")[-1]["target"] == f"callback:{first}"


def test_called_and_could_not_reach_are_appended_and_audited(signed_in, requests_made, records_url):
    first, second, _ = requests_made
    client, account = signed_in("practitioner")
    answer = _post(client, f"/handoff/callbacks/{first}/outcome", outcome="not_reached")
    assert answer.status_code == 302 and answer.headers["Location"].endswith(
        f"/handoff/callbacks/{first}?done=not_reached")
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "stays on the list to call again" in page and "Could not reach them: to call again" in page
    answer = _post(client, f"/handoff/callbacks/{first}/outcome", outcome="called")
    assert answer.headers["Location"].endswith("done=called")
    with session_scope(records_url, read_only=True) as db:
        view = callbacks.request_view(db, first)
        rows = callbacks.list_requests(db)
    assert view.status == "called"
    assert [(event, by) for _, event, _, by in view.events] == [
        ("requested", None), ("not_reached", "Practitioner 1"), ("called", "Practitioner 1")]
    assert [r.id for r in rows] == [second, first]  # the one still to call comes first
    assert {key: words for key, _, words in view.answers} == WORDS  # the request itself is unchanged
    assert [(r["target"], r["outcome"]) for r in audit_rows(records_url, "handoff.callback_outcome")] == [
        (f"callback:{first}", "ok"), (f"callback:{first}", "ok")]


def test_an_unknown_outcome_or_a_missing_token_is_refused_and_nothing_is_recorded(signed_in, requests_made,
                                                                                 records_url):
    first, _, _ = requests_made
    client, _ = signed_in("lead")
    assert _post(client, f"/handoff/callbacks/{first}/outcome", outcome="requested").status_code == 400
    assert _post(client, f"/handoff/callbacks/{first}/outcome").status_code == 400
    assert client.post(f"/handoff/callbacks/{first}/outcome", data={"outcome": "called"}).status_code == 400
    assert client.get("/handoff/callbacks/999999").status_code == 404
    with session_scope(records_url, read_only=True) as db:
        assert callbacks.request_view(db, first).status == "requested"
    assert [r["outcome"] for r in audit_rows(records_url, "handoff.callback_outcome")] == ["refused", "refused"]


def test_no_call_backs_yet(signed_in):
    client, _ = signed_in("practitioner")
    assert "Nobody has asked for a call back." in client.get("/handoff/callbacks").get_data(as_text=True)


def test_declines_are_listed_with_their_status_and_words_escaped_and_who_asked_for_whom(signed_in, requests_made,
                                                                                       records_url):
    first, second, _ = requests_made
    with session_scope(records_url) as db:
        callbacks.request_callback(db, WORDS, number="+447700900123", leave_message=True, sender_id="web-carer",
                                   channel="web", asked_by="representative", for_whom="self", source_ref="t:3")
        not_safe = callbacks.record_decline(db, "not_safe", "No <i>he</i> reads my phone", sender_id="web-x",
                                            channel="web", asked_by="person", for_whom="self",
                                            question="safe_words", source_ref="t:4").id
        stopped = callbacks.record_decline(db, "cancelled", "stop", sender_id="sms-y", channel="sms",
                                           asked_by="representative", for_whom="other", question="safe_times",
                                           source_ref="t:5").id
    client, _ = signed_in("practitioner")
    page = client.get("/handoff/callbacks").get_data(as_text=True)
    assert "Not asked for: not safe to call" in page and "Not asked for: they stopped" in page
    assert "No &lt;i&gt;he&lt;/i&gt; reads my phone" in page and "<i>he</i>" not in page
    assert "<q class=\"text\">stop</q>" in page and "When it is safe to call" in page
    assert "A representative (a carer, family or friend), for themselves" in page
    target = audit_rows(records_url, "handoff.callbacks")[-1]["target"]
    assert f"callback-decline:{not_safe}" in target and f"callback-decline:{stopped}" in target
