"""The access matrix: every route of the app, with every role, half-signed-in (password but no
code yet) and not signed in at all, and the answer each must get.

The routes come from ``app.url_map``. A route without an entry here fails
``test_the_matrix_covers_every_route``, so a new page cannot be added without
deciding who may open it. Each check uses a fresh client and fresh accounts
and records, so a check that changes something (sign out, deactivate) cannot
affect another.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Dict, Set, Tuple
from urllib.parse import urlsplit

import pytest

from bot.portal import credentials
from bot.records import session_scope, staff
from bot.records.models import utcnow
from tests.portal.helpers import PASSWORD, csrf_of, write_events

ANON, HALF = "not signed in", "password only"
P, L, U, D = "practitioner", "lead", "auditor", "admin"
ROLES = (P, L, U, D)
EVERYONE = (ANON, HALF) + ROLES

LOGIN = (302, "/auth/login")
CODE = (302, "/auth/code")
HOME = (302, "/")
SIGNED_OUT = (302, "/auth/login?signed_out=1")


def everyone(answer) -> Dict[str, object]:
    return {who: answer for who in EVERYONE}


def staff_only(answer, allowed=ROLES) -> Dict[str, object]:
    """Signed-in roles in ``allowed`` get ``answer``; other roles 403; the rest are sent to sign in."""
    return {ANON: LOGIN, HALF: CODE, **{r: answer if r in allowed else 403 for r in ROLES}}


SIGN_IN_STAGE_PAGE = {ANON: LOGIN, HALF: CODE, **{r: LOGIN for r in ROLES}}

MATRIX: Dict[Tuple[str, str], Dict[str, object]] = {
    ("static", "GET"): everyone(200),
    ("home.health", "GET"): everyone(200),
    ("home.index", "GET"): staff_only(200),
    ("auth.login", "GET"): {ANON: 200, HALF: 200, **{r: HOME for r in ROLES}},
    ("auth.login", "POST"): {ANON: 200, HALF: 200, **{r: HOME for r in ROLES}},
    ("auth.second_factor", "GET"): {ANON: LOGIN, HALF: 200, **{r: LOGIN for r in ROLES}},
    ("auth.second_factor", "POST"): {ANON: LOGIN, HALF: 200, **{r: LOGIN for r in ROLES}},
    ("auth.enrol", "GET"): SIGN_IN_STAGE_PAGE,
    ("auth.enrol", "POST"): SIGN_IN_STAGE_PAGE,
    ("auth.enrol_qr", "GET"): SIGN_IN_STAGE_PAGE,
    ("auth.logout", "POST"): {ANON: LOGIN, HALF: SIGNED_OUT, **{r: SIGNED_OUT for r in ROLES}},
    ("auth.password", "GET"): staff_only(200),
    ("auth.password", "POST"): staff_only(200),
    ("auth.accept_invitation", "GET"): everyone(200),
    ("auth.accept_invitation", "POST"): everyone(200),
    ("admin.users", "GET"): staff_only(200, (D,)),
    ("admin.invite", "GET"): staff_only(200, (D,)),
    ("admin.invite", "POST"): staff_only(200, (D,)),
    ("admin.revoke", "POST"): staff_only((302, "/admin/users?done=revoked"), (D,)),
    ("admin.deactivate", "POST"): staff_only((302, "/admin/users?done=deactivated"), (D,)),
    ("admin.reset_second_factor", "POST"): staff_only((302, "/admin/users?done=reset"), (D,)),
    ("admin.erase", "GET"): staff_only(200, (D,)),
    ("admin.erase", "POST"): staff_only(200, (D,)),
    ("admin.erase_confirm", "POST"): staff_only((302, "/admin/erase?done=1"), (D,)),
    ("conversations.index", "GET"): staff_only(200, (P, L, U)),
    ("conversations.show", "GET"): staff_only(200, (P, L, U)),
    ("audit.index", "GET"): staff_only(200, (U,)),
    ("enquiries.index", "GET"): staff_only(200, (P, L, U)),
    ("enquiries.create", "GET"): staff_only(200, (P, L)),
    ("enquiries.create", "POST"): staff_only((302, None), (P, L)),  # the new enquiry's number is not known
    ("enquiries.show", "GET"): staff_only(200, (P, L, U)),
    ("enquiries.assign", "POST"): staff_only((302, "/enquiries/{enquiry_id}?done=assigned"), (L,)),
    ("enquiries.contact", "POST"): staff_only((302, "/enquiries/{enquiry_id}?done=contact"), (P, L)),
    ("enquiries.sg4a", "POST"): staff_only((302, "/enquiries/{enquiry_id}?done=sg4a"), (P, L)),
    ("enquiries.close", "POST"): staff_only((302, "/enquiries/{enquiry_id}?done=closed"), (P, L)),
    ("enquiries.invite", "POST"): staff_only(200, (P, L)),  # the link and code, shown once
    ("enquiries.feedback", "POST"): staff_only(200, (P, L)),  # refused (still open), with the reason
    ("enquiries.feedback_reissue", "POST"): staff_only(200, (P, L)),  # refused (nothing asked yet), with the reason
    ("advocacy.index", "GET"): staff_only(200, (P, L)),
    ("advocacy.create", "GET"): staff_only(200, (P, L)),
    ("advocacy.create", "POST"): staff_only((302, None), (P, L)),  # the new referral's number is not known
    ("advocacy.show", "GET"): staff_only(200, (P, L)),
    ("advocacy.resend", "POST"): staff_only((302, "/advocacy/{referral_id}?done=resent"), (P, L)),
    ("advocacy.acknowledged", "POST"): staff_only((302, "/advocacy/{referral_id}?done=acknowledged"), (P, L)),
    ("advocacy.withdraw", "POST"): staff_only((302, "/advocacy/{referral_id}?done=withdrawn"), (P, L)),
    ("handoff.index", "GET"): staff_only(200, (P, L)),
    ("handoff.queue_fragment", "GET"): staff_only(200, (P, L)),
    ("handoff.events", "GET"): staff_only(200, (P, L)),  # the stream ends at once in tests (testing config)
    ("handoff.show", "GET"): staff_only(200, (P, L)),
    ("handoff.messages_fragment", "GET"): staff_only(200, (P, L)),
    # No Rasa server in these tests: claimed or closed, but the person could not be told (?done=untold).
    ("handoff.claim", "POST"): staff_only((302, "/handoff/{handoff_id}?done=untold"), (P, L)),
    ("handoff.close", "POST"): staff_only((302, "/handoff/{handoff_id}?done=untold"), (P, L)),
    ("handoff.send", "POST"): staff_only(409, (P, L)),  # not claimed by this member of staff
    ("handoff.hand_back", "POST"): staff_only(409, (P, L)),  # not claimed by this member of staff
    ("handoff.callbacks_index", "GET"): staff_only(200, (P, L)),
    ("handoff.callback_show", "GET"): staff_only(200, (P, L)),
    ("handoff.callback_outcome", "POST"): staff_only((302, "/handoff/callbacks/{request_id}?done=called"), (P, L)),
    ("reports.index", "GET"): staff_only(200, (L, U)),
    ("reports.show", "GET"): staff_only(200, (L, U)),
    ("reports.download", "GET"): staff_only(200, (L, U)),
}

# What a POST sends besides the CSRF token (enough for the view to answer, not to succeed at
# anything that needs a secret).
FORMS = {
    "auth.login": {"username": "nobody-here", "password": "not it"},
    "auth.second_factor": {"code": "not a code"},
    "auth.enrol": {"code": "000"},
    "auth.password": {"current": "not the password", "new": "x", "repeat": "y"},
    "auth.accept_invitation": {"username": "x", "display_name": "X", "password": "a", "repeat": "b"},
    "admin.invite": {"role": "lead", "days": "2"},
    "enquiries.create": {"reference": "SG-MATRIX-NEW", "safe_to_text": "no"},
    "enquiries.assign": {"worker": "-"},
    "enquiries.contact": {"safe_to_text": "yes", "safe_number": "07700 900123"},
    "enquiries.sg4a": {"asked": "yes"},
    "enquiries.invite": {"days": "2"},
    "enquiries.feedback": {"by": "web"},
    "advocacy.create": {"enquiry": "SG-MATRIX", "answered_by": "person", "consent": "yes",
                        "understand": "the words are too long"},
    "advocacy.withdraw": {"given_by": "person", "words": "I don't want it now"},
    "handoff.send": {"message": "Hello, I'm from the council."},
    "handoff.callback_outcome": {"outcome": "called"},
    "admin.erase": {"sender_id": "web-matrix-erase", "reason": "asked by phone"},
    "admin.erase_confirm": {"sender_id": "web-matrix-erase", "reason": "asked by phone", "confirm": "yes"},
}


def routes_of(app) -> Set[Tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found.add((rule.endpoint, method))
    return found


def test_the_matrix_covers_every_route(app):
    routes = routes_of(app)
    assert routes - set(MATRIX) == set(), "routes with no entry in the access matrix"
    assert set(MATRIX) - routes == set(), "matrix entries for routes that do not exist"
    for key, answers in MATRIX.items():
        assert set(answers) == set(EVERYONE), key


def test_a_new_route_is_noticed_and_closed_to_everyone_until_declared(app, signed_in):
    app.add_url_rule("/new-page", "new_page", lambda: "secret case content")
    assert routes_of(app) - set(MATRIX) == {("new_page", "GET")}
    client, _ = signed_in(D)
    response = client.get("/new-page")
    assert response.status_code == 403 and "secret case content" not in response.get_data(as_text=True)


@pytest.fixture
def world(make_account, enquiry_for, link_conversation, records_url, tracker):
    """Accounts, an enquiry and a conversation linked to it, for the URL parameters."""
    owner = make_account(P, username="matrix.owner", team="Matrix")
    admin = make_account(D, username="matrix.admin")
    link_conversation("web-matrix", enquiry_for(owner.username, "SG-MATRIX"))
    from rasa.shared.core.events import UserUttered

    for sender in ("web-matrix", "web-matrix-erase"):
        write_events(tracker, sender, [UserUttered("hello", {"name": "greet", "confidence": 1.0},
                                                   message_id=f"{sender}-m1")])
    made = iter(range(1, 10 ** 6))
    # A fresh open enquiry of the practitioners' team for each check (a check may close or change it).

    def referral() -> int:  # a fresh referral for an enquiry of the practitioners' team
        from bot.records import advocacy

        enquiry_id = enquiry_for(owner.username, f"SG-MATRIX-A{next(made)}")
        with session_scope(records_url) as db:
            return advocacy.make_referral(db, {"understand": "it is hard"}, answered_by="person", consent_words="yes",
                                          recorded_by="matrix", channel="staff", source="staff",
                                          source_ref=f"matrix:{enquiry_id}", enquiry_id=enquiry_id).id

    def handoff() -> int:  # a fresh waiting handoff (a check may claim or close it)
        from bot.records import handoffs

        with session_scope(records_url) as db:
            return handoffs.request_handoff(db, f"web-matrix-handoff-{next(made)}", "web")[0].id

    def callback() -> int:  # a fresh call-back request (a check may mark it)
        from bot.records import callbacks

        with session_scope(records_url) as db:
            n = next(made)
            return callbacks.request_callback(
                db, {"safe_words": "yes", "number_words": "07700 900123", "safe_times": "mornings",
                     "message_words": "no", "others_words": "nobody"}, number="+447700900123", leave_message=False,
                sender_id=f"web-matrix-callback-{n}", channel="web", asked_by="person",
                source_ref=f"matrix:callback:{n}").id

    return {"admin": admin, "enquiry": lambda: enquiry_for(owner.username, f"SG-MATRIX-{next(made)}"),
            "referral": referral, "handoff": handoff, "callback": callback}


def _invitation(records_url, world) -> Tuple[int, str]:
    token = credentials.new_token()
    with session_scope(records_url) as db:
        invitation = staff.create_staff_invitation(db, credentials.token_hash(token), role=L,
                                                   created_by_id=world["admin"].id,
                                                   expires_at=utcnow() + timedelta(days=1))
        return invitation.id, token


def _url(app, endpoint, records_url, world, make_account):
    from flask import url_for

    values = {}
    if endpoint == "static":
        values["filename"] = "portal.css"
    elif endpoint == "auth.accept_invitation":
        values["token"] = _invitation(records_url, world)[1]
    elif endpoint == "admin.revoke":
        values["invitation_id"] = _invitation(records_url, world)[0]
    elif endpoint in ("admin.deactivate", "admin.reset_second_factor"):
        values["user_id"] = make_account(L).id
    elif endpoint == "conversations.show":
        values["sender_id"] = "web-matrix"
    elif endpoint.startswith("enquiries.") and endpoint not in ("enquiries.index", "enquiries.create"):
        values["enquiry_id"] = world["enquiry"]()
    elif endpoint in ("advocacy.show", "advocacy.resend", "advocacy.acknowledged", "advocacy.withdraw"):
        values["referral_id"] = world["referral"]()
    elif endpoint in ("handoff.callback_show", "handoff.callback_outcome"):
        values["request_id"] = world["callback"]()
    elif endpoint.startswith("handoff.") and endpoint not in ("handoff.index", "handoff.queue_fragment",
                                                               "handoff.events", "handoff.callbacks_index"):
        values["handoff_id"] = world["handoff"]()
    elif endpoint in ("reports.show", "reports.download"):
        values["report"] = "sg4a"
    with app.test_request_context():
        return url_for(endpoint, **values), values


def _client(app, who, auth, make_account):
    """A fresh client in state ``who``, and its CSRF token."""
    client = app.test_client()
    if who == ANON:
        return client, csrf_of(client.get("/auth/login"))
    if who == HALF:
        account = make_account(L)
        assert auth.password(client, account.username, PASSWORD).status_code == 302
        return client, csrf_of(client.get("/auth/code"))
    account = make_account(who, team="Matrix")
    auth.login(client, account)
    return client, auth.csrf(client)


def _expected(answer):
    return answer if isinstance(answer, tuple) else (answer, None)


@pytest.mark.parametrize("who", EVERYONE)
def test_every_route_answers_as_the_matrix_says(app, who, auth, make_account, records_url, world):
    failures = []
    for (endpoint, method), answers in sorted(MATRIX.items()):
        client, token = _client(app, who, auth, make_account)
        url, values = _url(app, endpoint, records_url, world, make_account)
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data=dict(FORMS.get(endpoint, {}), csrf_token=token))
        status, location = _expected(answers[who])
        location = location.format(**values) if location else location
        got_location = None
        if response.status_code in (301, 302, 303, 307, 308):
            parts = urlsplit(response.headers["Location"])
            got_location = parts.path + (f"?{parts.query}" if parts.query else "")
        if response.status_code != status or (location is not None and got_location != location):
            failures.append(f"{method} {url} as {who}: expected {status} {location or ''}, "
                            f"got {response.status_code} {got_location or ''}")
        assert response.status_code < 500
    assert not failures, "\n".join(failures)
