"""axe-core finds nothing on any page of the portal, for every role that can see it, in real Chromium
against the real portal process; every focusable element shows where the focus is; at 320 CSS px
wide nothing but a table's own box scrolls sideways; no console error.

Which pages: ``PLANS`` says, for each kind of visitor (not signed in, password only, setting up a
second factor, and each role), which pages to open or which forms to send, and which route each
must land on (checked against ``app.url_map`` after the page loads, so a plan cannot claim a page it
did not reach). ``test_every_page_is_planned`` derives what is required from the app itself: every
GET route of ``app.url_map`` must be visited by every visitor that the access matrix
(test_access_matrix.py) lets open it, unless ``NOT_PAGES`` says why it is not a page; every POST
route that answers with a page (200 in the matrix) must be visited at least once; and the error
pages (400, 403, 404, 405) are visited. A new route therefore fails that test until it is planned.

axe runs every rule it runs by default (WCAG 2.0-2.2 A and AA, and best practices); none is
switched off. Fixes belong in the templates and the CSS.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Set, Tuple
from urllib.parse import urlsplit

import pytest
from werkzeug.exceptions import HTTPException

from bot.portal import create_app, credentials
from bot.portal.config import test_config as make_config
from tests.portal.helpers import PASSWORD
from tests.portal.live import Watched, axe, describe, sideways_at_320, sign_in, unfocusable_indicators
from tests.portal.test_access_matrix import ANON, HALF, MATRIX, routes_of

P, L, U, D = "practitioner", "lead", "auditor", "admin"
ENROLLING = "setting up a second factor"

#: GET routes that are not pages, and why. Everything else in app.url_map must be planned.
NOT_PAGES = {
    "static": "the stylesheet and the icon",
    "home.health": "plain text for the process supervisor",
    "auth.enrol_qr": "the QR code image, shown on the set-up page as an <img> with alt text",
    "reports.download": "CSV files (test_browser_reports.py downloads and reads them)",
    "handoff.events": "the console's Server-Sent Events stream (test_browser_handoff.py)",
    "handoff.queue_fragment": "HTML put into the live chats page by its script (checked there)",
    "handoff.messages_fragment": "HTML put into a chat's page by its script (checked there)",
}
ERROR_PAGES = {400, 403, 404, 405}


class Walk:
    """One visitor's browser page, and the records behind the portal."""

    def __init__(self, watched: Watched, live):
        self.watched = watched
        self.page = watched.page
        self.url = live.url
        self.world = live.world
        self.ids = live.world.ids
        self.notes: Dict[str, str] = {}

    def go(self, path: str) -> None:
        self.page.goto(self.url + path)

    def fill(self, label: str, value: str) -> None:
        self.page.get_by_label(label).fill(value)

    def press(self, button: str) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role("button", name=button, exact=True).click()


@dataclass(frozen=True)
class Visit:
    label: str
    endpoint: Optional[str]  # None: an error page (its status says which)
    act: Callable[[Walk], None]
    method: str = "GET"
    status: int = 200


def get(label: str, endpoint: str, path: Callable[[Walk], str]) -> Visit:
    return Visit(label, endpoint, lambda w: w.go(path(w)))


def error(status: int, path: str) -> Visit:
    return Visit(f"error {status} ({path})", None, lambda w: w.go(path), status=status)


# --- what each visitor does -------------------------------------------------------------------------


def _login_wrong(w: Walk) -> None:
    w.go("/auth/login")
    w.fill("Username", "nobody.here")
    w.fill("Password", "not the password at all")
    w.press("Continue")


def _invitation_mismatch(w: Walk) -> None:
    w.go(f"/auth/invite/{w.world.staff_invitation()}")
    w.fill("Username (3 to 64", "new.person")
    w.fill("Your name", "New Person")
    w.fill("Password (three", "violet lantern orbit meadow")
    w.fill("Password again", "something else entirely")
    w.press("Create account")


def _invitation(w: Walk) -> None:
    w.go(f"/auth/invite/{w.world.staff_invitation()}")


def _wrong_code(w: Walk) -> None:
    w.go("/auth/code")
    w.fill("The 6-digit code", "000000")
    w.press("Sign in")


def _enrol_wrong(w: Walk) -> None:
    w.fill("The code from your app", "12")
    w.press("Finish setting up")


def _enrol_right(w: Walk) -> None:
    secret = w.page.locator("code.secret").inner_text().replace(" ", "")
    w.fill("The code from your app", credentials.totp_now(secret))
    w.press("Finish setting up")
    w.notes["codes"] = w.page.locator(".codes code").all_inner_texts()


def _recovery(w: Walk) -> None:
    w.press("Sign out")
    w.fill("Username", w.notes["username"])
    w.fill("Password", PASSWORD)
    w.press("Continue")
    w.fill("The 6-digit code", w.notes["codes"][0])
    w.press("Sign in")


def _password_changed(w: Walk) -> None:
    w.go("/auth/password")
    w.fill("Current password", PASSWORD)
    w.fill("New password (at least", "amber harbour quiet lantern")
    w.fill("New password again", "amber harbour quiet lantern")
    w.press("Change password")


def _password_wrong(w: Walk) -> None:
    w.go("/auth/password")
    w.fill("Current password", "not my password at all")
    w.fill("New password (at least", "x")
    w.fill("New password again", "y")
    w.press("Change password")


def _open_contact_form(w: Walk) -> None:
    w.go(f"/enquiries/{w.ids['open']}")
    w.page.get_by_text("Change the contact preferences").click()
    assert w.page.get_by_label("Safe number").is_visible()


def _create_wrong(w: Walk) -> None:
    w.go("/enquiries/new")
    w.fill("The council's reference", "SG-OPEN")  # in use already
    w.press("Create the enquiry")


def _invite(w: Walk) -> None:
    w.go(f"/enquiries/{w.world.enquiry()}")
    w.fill("Days the invitation works", "2")
    w.press("Issue an invitation (link and code, shown once)")


def _sg4a_nothing(w: Walk) -> None:
    w.go(f"/enquiries/{w.world.enquiry()}")
    w.press("Record my answers")


def _close(w: Walk) -> None:
    w.go(f"/enquiries/{w.world.enquiry()}")
    w.press("Close the enquiry")


def _feedback_web(w: Walk) -> None:
    w.go(f"/enquiries/{w.world.enquiry(closed=True)}")
    w.press("Ask for feedback")


def _feedback_sms_refused(w: Walk) -> None:
    w.go(f"/enquiries/{w.world.enquiry(closed=True)}")
    w.page.get_by_label("A text message to the safe number").check()
    w.press("Ask for feedback")


def _feedback_reissue(w: Walk) -> None:
    w.go(f"/enquiries/{w.world.enquiry(closed=True, history=True)}")  # a web survey, partly answered
    w.press("Re-issue the feedback link (new link and code, shown once; the earlier ones stop working)")


def _assign(w: Walk) -> None:
    w.go(f"/enquiries/{w.world.enquiry()}")
    w.page.get_by_label("Assign to").select_option("pip.worker")
    w.press("Assign")


def _invite_staff_wrong(w: Walk) -> None:
    w.go("/admin/invitations/new")
    w.press("Make the invitation link")  # no role chosen


def _invite_staff(w: Walk) -> None:
    w.go("/admin/invitations/new")
    w.page.get_by_label("Practitioner", exact=True).check()
    w.fill("Team", "North")
    w.press("Make the invitation link")


def _revoke(w: Walk) -> None:
    w.world.staff_invitation("auditor")
    w.go("/admin/users")
    w.page.get_by_role("button", name=re.compile("^Withdraw")).first.click()
    w.page.wait_for_url("**/admin/users?done=revoked")


def _erase_unknown(w: Walk) -> None:
    w.go("/admin/erase")
    w.fill("Conversation id", "web-nobody-here")
    w.fill("Reason", "Asked by phone")
    w.press("Check the conversation")


def _erase_check(w: Walk) -> None:
    w.go("/admin/erase")
    w.fill("Conversation id", "web-erase-me")
    w.fill("Reason", "Asked by phone")
    w.press("Check the conversation")


def _erase_unticked(w: Walk) -> None:
    _erase_check(w)
    w.press("Erase the conversation")


def _erase(w: Walk) -> None:
    _erase_check(w)
    w.page.get_by_label("I have checked this request").check()
    w.press("Erase the conversation")


def _advocacy_wrong(w: Walk) -> None:
    w.go("/advocacy/new")
    w.fill("The enquiry's reference", "SG-OPEN")
    w.fill("Their consent, in their words", "yes")
    w.press("Make the referral")  # nothing said about the four difficulties


def _advocacy(role: str) -> List[Visit]:
    return [
        get("advocacy referrals", "advocacy.index", lambda w: "/advocacy/"),
        get("an advocacy referral", "advocacy.show", lambda w: f"/advocacy/{w.ids['referral']}"),
        get("make an advocacy referral", "advocacy.create", lambda w: "/advocacy/new"),
    ]


def _handoff() -> List[Visit]:
    return [
        get("live chats", "handoff.index", lambda w: "/handoff/"),
        get("a waiting chat", "handoff.show", lambda w: f"/handoff/{w.ids['handoff']}"),
        get("call backs", "handoff.callbacks_index", lambda w: "/handoff/callbacks"),
        get("a call-back request", "handoff.callback_show", lambda w: f"/handoff/callbacks/{w.ids['callback']}"),
    ]


def _reports(*roles_figures: str) -> List[Visit]:
    visits = []
    for report in ("sg4a", "outcomes", "feedback"):
        for figures in roles_figures:
            visits.append(get(f"report {report} ({figures})", "reports.show",
                              lambda w, r=report, f=figures: f"/reports/{r}?figures={f}"))
    return visits


def _common_signed_in(role: str) -> List[Visit]:
    return [
        get("start page", "home.index", lambda w: "/"),
        get("change password", "auth.password", lambda w: "/auth/password"),
        get("an invitation link, signed in", "auth.accept_invitation",
            lambda w: f"/auth/invite/{w.world.staff_invitation()}"),
        error(404, "/no-such-page"),
    ]


def _case_reader(role: str) -> List[Visit]:
    return [
        get("enquiries", "enquiries.index", lambda w: "/enquiries/"),
        get("open enquiry with its history", "enquiries.show", lambda w: f"/enquiries/{w.ids['open']}"),
        get("closed enquiry with feedback", "enquiries.show", lambda w: f"/enquiries/{w.ids['closed']}"),
        get("conversations", "conversations.index", lambda w: "/conversations/"),
        get("conversations, filtered", "conversations.index",
            lambda w: "/conversations/?flag=danger&channel=web&q=hitting"),
        get("transcript with danger replies", "conversations.show", lambda w: "/conversations/web-danger"),
        error(400, "/conversations/?page=abc"),
    ]


PLANS: Dict[str, List[Visit]] = {
    ANON: [
        get("sign in", "auth.login", lambda w: "/auth/login"),
        get("signed out", "auth.login", lambda w: "/auth/login?signed_out=1"),
        Visit("sign in refused", "auth.login", _login_wrong, "POST"),
        Visit("an invitation link", "auth.accept_invitation", _invitation),
        Visit("an invitation, passwords differ", "auth.accept_invitation", _invitation_mismatch, "POST"),
        error(404, "/no-such-page"),
        error(405, "/auth/logout"),
    ],
    HALF: [
        get("the code", "auth.second_factor", lambda w: "/auth/code"),
        Visit("a wrong code", "auth.second_factor", _wrong_code, "POST"),
        get("sign in, half way", "auth.login", lambda w: "/auth/login"),
        get("an invitation link, half way", "auth.accept_invitation",
            lambda w: f"/auth/invite/{w.world.staff_invitation()}"),
    ],
    ENROLLING: [
        get("set up the second factor", "auth.enrol", lambda w: "/auth/enrol"),
        Visit("set up, a wrong code", "auth.enrol", _enrol_wrong, "POST"),
        Visit("the recovery codes", "auth.enrol", _enrol_right, "POST"),
        Visit("signed in with a recovery code", "auth.second_factor", _recovery, "POST"),
        Visit("password changed", "auth.password", _password_changed, "POST"),
    ],
    P: _common_signed_in(P) + _case_reader(P) + _advocacy(P) + _handoff() + [
        Visit("advocacy referral, nothing said", "advocacy.create", _advocacy_wrong, "POST", 400),
        Visit("contact preferences form opened", "enquiries.show", _open_contact_form),
        get("create an enquiry", "enquiries.create", lambda w: "/enquiries/new"),
        Visit("create, a reference in use", "enquiries.create", _create_wrong, "POST", 400),
        Visit("an invitation's link and code", "enquiries.invite", _invite, "POST"),
        Visit("SG4a, nothing chosen", "enquiries.sg4a", _sg4a_nothing, "POST", 400),
        Visit("closed", "enquiries.show", _close),
        Visit("a feedback link and code", "enquiries.feedback", _feedback_web, "POST"),
        Visit("feedback by SMS refused", "enquiries.feedback", _feedback_sms_refused, "POST"),
        Visit("a re-issued feedback link", "enquiries.feedback_reissue", _feedback_reissue, "POST"),
        error(403, "/reports/"),
        error(404, "/enquiries/2147483647"),
    ],
    L: _common_signed_in(L) + _case_reader(L) + _advocacy(L) + _handoff() + [
        get("create an enquiry, choosing the worker", "enquiries.create", lambda w: "/enquiries/new"),
        Visit("assigned", "enquiries.show", _assign),
        get("transcript with outcomes recorded", "conversations.show", lambda w: "/conversations/sms-7"),
        get("hostile transcript", "conversations.show", lambda w: "/conversations/web-hostile"),
        get("reports", "reports.index", lambda w: "/reports/"),
        *_reports("unsuppressed", "published"),
        Visit("password, wrong current one", "auth.password", _password_wrong, "POST"),
        error(403, "/admin/users"),
    ],
    U: _common_signed_in(U) + _case_reader(U) + [
        get("reports", "reports.index", lambda w: "/reports/"),
        *_reports("published"),
        get("audit log", "audit.index", lambda w: "/audit/"),
        get("audit log, filtered", "audit.index", lambda w: "/audit/?action=login.&from=2020-01-01"),
        error(403, "/enquiries/new"),
    ],
    D: _common_signed_in(D) + [
        get("accounts", "admin.users", lambda w: "/admin/users"),
        get("invite", "admin.invite", lambda w: "/admin/invitations/new"),
        Visit("invite, no role", "admin.invite", _invite_staff_wrong, "POST"),
        Visit("the invitation link", "admin.invite", _invite_staff, "POST"),
        Visit("invitation withdrawn", "admin.users", _revoke),
        get("erase", "admin.erase", lambda w: "/admin/erase"),
        Visit("erase, unknown conversation", "admin.erase", _erase_unknown, "POST"),
        Visit("erase, confirm", "admin.erase", _erase_check, "POST"),
        Visit("erase, not ticked", "admin.erase_confirm", _erase_unticked, "POST"),
        Visit("erased", "admin.erase", _erase),
        error(403, "/conversations/"),
    ],
}


# --- every page is planned ------------------------------------------------------------------------------


def planned() -> Set[Tuple[str, str, str]]:
    return {(v.endpoint, v.method, who) for who, visits in PLANS.items() for v in visits if v.endpoint}


def unplanned(app) -> List[str]:
    """What the app has and the plans miss (empty: every page is checked)."""
    plan = planned()
    missing = []
    for endpoint, method in sorted(routes_of(app)):
        if endpoint in NOT_PAGES:
            continue
        answers = MATRIX.get((endpoint, method))
        if answers is None:
            missing.append(f"{method} {endpoint}: not in the access matrix either")
            continue
        able = [who for who, answer in answers.items() if answer == 200]
        visited = {who for e, m, who in plan if (e, m) == (endpoint, method)}
        if method == "GET":
            if not able and not visited:
                missing.append(f"GET {endpoint}: no visitor in the plans (a sign-in stage page?)")
            missing += [f"GET {endpoint} as {who}" for who in able if who not in visited]
        elif able and not visited:
            missing.append(f"{method} {endpoint}: answers with a page, never sent in the plans")
    return missing


def test_every_page_is_planned():
    app = create_app(make_config(database_url="sqlite://"))
    assert unplanned(app) == []
    gets = {endpoint for endpoint, method in routes_of(app) if method == "GET"}
    assert set(NOT_PAGES) <= gets, "NOT_PAGES names routes that do not exist"
    assert {v.status for visits in PLANS.values() for v in visits if v.endpoint is None} == ERROR_PAGES


def test_a_new_page_is_noticed():
    app = create_app(make_config(database_url="sqlite://"))
    app.add_url_rule("/new-page", "new_page", lambda: "new")
    assert unplanned(app) == ["GET new_page: not in the access matrix either"]


# --- the walk -----------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_the_checks_see_what_they_look_for(live, chromium):
    """The harness itself: a picture without words, a field without a label, buttons too small to hit, an
    id used twice, an element that hides its focus and one too wide for 320 px are found (so "nothing found" means something)."""
    context = chromium.new_context(locale="en-GB")
    watched = Watched(context.new_page(), live.url)
    try:
        watched.page.goto(live.url + "/auth/login")
        assert axe(watched.page) == [] and unfocusable_indicators(watched.page) == []
        watched.page.evaluate("""() => {
            const main = document.querySelector('main');
            main.insertAdjacentHTML('beforeend', '<img src="/static/favicon.svg"><input id="bare">' +
                '<p><button id="tiny1">x</button><button id="tiny2">y</button><b id="twice"></b><i id="twice"></i></p>');
            const bare = document.getElementById('bare');  // CSSOM: the CSP allows it
            bare.style.outline = 'none';
            bare.style.boxShadow = 'none';
            for (const id of ['tiny1', 'tiny2']) {
                const b = document.getElementById(id);
                Object.assign(b.style, {width: '10px', height: '10px', padding: '0', margin: '0', border: '0',
                                        fontSize: '6px', display: 'inline-block'});
            }
        }""")
        found = {v["id"] for v in axe(watched.page)}
        assert {"image-alt", "label", "target-size", "duplicate-id"} <= found, found
        assert unfocusable_indicators(watched.page) == ['input#bare ""']
        assert sideways_at_320(watched.page) == []
        watched.page.evaluate("document.getElementById('bare').style.width = '400px'")
        [wide] = sideways_at_320(watched.page)
        assert wide.startswith("input. ends at "), wide
    finally:
        context.close()


def _start(who: str, walk: Walk) -> None:
    world = walk.world
    if who == ANON:
        return
    if who == HALF:
        account = world.account(L)
        walk.go("/auth/login")
        walk.fill("Username", account.username)
        walk.fill("Password", PASSWORD)
        walk.press("Continue")
        return
    if who == ENROLLING:
        account = world.account(L, enrolled=False)
        walk.notes["username"] = account.username
        walk.go("/auth/login")
        walk.fill("Username", account.username)
        walk.fill("Password", PASSWORD)
        walk.press("Continue")
        assert walk.page.url.endswith("/auth/enrol")
        return
    username = {P: "pat.worker", L: "lee.lead", U: "aud.auditor", D: "ada.admin"}[who]
    account = world.accounts[username]
    world.allow_code_again(account)
    sign_in(walk.page, walk.url, account.username, PASSWORD, account.totp_secret)


def _landed_on(adapter, url: str, method: str) -> Optional[str]:
    parts = urlsplit(url)
    try:
        endpoint, _ = adapter.match(parts.path, method=method, query_args=parts.query)
    except HTTPException:
        return None
    return endpoint


@pytest.mark.browser
@pytest.mark.parametrize("who", list(PLANS))
def test_axe_finds_nothing_on_any_page(live, chromium, who):
    adapter = create_app(make_config(database_url="sqlite://")).url_map.bind("127.0.0.1")
    context = chromium.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    walk = Walk(Watched(context.new_page(), live.url), live)
    failures = []
    try:
        _start(who, walk)
        for visit in PLANS[who]:
            walk.watched.clear()
            visit.act(walk)
            walk.page.wait_for_load_state("load")
            where = f"[{who}] {visit.label} ({walk.page.url})"
            got = (walk.watched.status, walk.watched.method)
            if got != (visit.status, visit.method):
                failures.append(f"{where}: expected {visit.method} {visit.status}, got {got}")
                continue
            if visit.endpoint and _landed_on(adapter, walk.page.url, visit.method) != visit.endpoint:
                failures.append(f"{where}: landed on {_landed_on(adapter, walk.page.url, visit.method)}, "
                                f"not {visit.endpoint}")
                continue
            violations = axe(walk.page)
            if violations:
                failures.append(f"{where}: axe found\n{describe(violations)}")
            sideways = sideways_at_320(walk.page)
            if sideways:
                failures.append(f"{where}: at 320 px wide, {sideways}")
            unfocused = unfocusable_indicators(walk.page)
            if unfocused:
                failures.append(f"{where}: no visible focus on {unfocused}")
            errors = walk.watched.errors(visit.status)
            if errors:
                failures.append(f"{where}: {errors}")
    finally:
        context.close()
    assert not failures, "\n".join(failures)
