"""Invitations: unguessable, hashed, single-use, expiring, rate-limited codes."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from bot.records import close_enquiry, create_enquiry
from bot.records.db import get_sessionmaker
from bot.records.errors import InvalidValue
from bot.records.invitations import (
    CODE_ALPHABET,
    EXPIRED,
    LOCKED,
    MALFORMED,
    OK,
    RATE_LIMITED,
    REVOKED,
    UNKNOWN,
    USED,
    RateLimit,
    create_invitation,
    hash_code,
    hash_token,
    invitation_link,
    normalise_code,
    recent_code_failures,
    redeem,
    redeem_code,
    redeem_token,
    revoke_invitation,
    token_from_link,
)
from bot.records.links import is_linked
from bot.records.models import CodeFailure, Invitation, InvitationLink

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def issued(db_session, enquiry):
    result = create_invitation(db_session, enquiry.id, now=T0)
    db_session.commit()
    return result


def test_token_and_code_shape(issued):
    assert len(issued.token) == 43 and re.fullmatch(r"[A-Za-z0-9_-]{43}", issued.token)
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", issued.code)
    assert not set(issued.code.replace("-", "")) & set("01OI")
    assert issued.expires_at == T0 + timedelta(days=14)
    assert set(CODE_ALPHABET).isdisjoint("01OI") and len(CODE_ALPHABET) == 32


def test_only_hashes_are_stored(db_url, db_session, issued):
    row = db_session.get(Invitation, issued.invitation.id)
    code = issued.code.replace("-", "")
    assert row.token_hash == hash_token(issued.token) != issued.token
    assert row.code_hash == hash_code(code)
    # Nothing in the database contains the raw token or code.
    dump = " ".join(str(v) for v in db_session.execute(select(Invitation.__table__)).one())
    assert issued.token not in dump and code not in dump


def test_hashes_depend_on_the_secret(monkeypatch):
    plain = hash_code("ABCD2345")
    monkeypatch.setenv("MSP_INVITATION_SECRET", "a-production-secret")
    assert hash_code("ABCD2345") != plain


def test_tokens_and_codes_differ_every_time(db_session, enquiry):
    issued = [create_invitation(db_session, enquiry.id) for _ in range(20)]
    assert len({i.token for i in issued}) == 20 and len({i.code for i in issued}) == 20


def test_token_is_single_use(db_session, enquiry, issued):
    first = redeem_token(db_session, issued.token, client_key="conversation-1", now=T0)
    assert first.ok and first.reason == OK and first.enquiry_id == enquiry.id
    assert not first.repeat
    # The same conversation asking again (a repeated message) is fine.
    again = redeem_token(db_session, issued.token, client_key="conversation-1", now=T0)
    assert again.ok and again.repeat and again.enquiry_id == enquiry.id
    # Anyone else: used, and nothing about the enquiry is revealed.
    other = redeem_token(db_session, issued.token, client_key="conversation-2", now=T0)
    assert other.reason == USED and other.enquiry_id is None
    nobody = redeem_token(db_session, issued.token, now=T0)
    assert nobody.reason == USED
    db_session.commit()
    row = db_session.get(Invitation, issued.invitation.id)
    assert row.used_at == T0 and row.attempts == 4 and row.used_by_hash


def test_code_and_token_are_one_invitation(db_session, issued):
    assert redeem_code(db_session, issued.code, client_key="phone-1", now=T0).ok
    assert redeem_token(db_session, issued.token, client_key="web-2", now=T0).reason == USED


def test_expiry(db_session, enquiry):
    issued = create_invitation(db_session, enquiry.id, days=2, now=T0)
    just_before = T0 + timedelta(days=2) - timedelta(seconds=1)
    at_expiry = T0 + timedelta(days=2)
    assert redeem_token(db_session, issued.token, client_key="a", now=at_expiry).reason == EXPIRED
    assert redeem_code(db_session, issued.code, client_key="b", now=at_expiry).reason == EXPIRED
    assert redeem_token(db_session, issued.token, client_key="c", now=just_before).ok


def test_default_expiry_is_fourteen_days(db_session, issued):
    assert redeem_token(db_session, issued.token, client_key="x",
                        now=T0 + timedelta(days=14, seconds=1)).reason == EXPIRED


def test_unknown_and_malformed(db_session, issued):
    assert redeem_token(db_session, "A" * 43, client_key="x").reason == UNKNOWN
    assert redeem_code(db_session, "ABCD-EFGH", client_key="x").reason == UNKNOWN
    for bad in ["", "short", "A" * 44, "A" * 42 + "!", None, 12345]:
        assert redeem_token(db_session, bad, client_key="x").reason == MALFORMED
    for bad in ["", "ABC-DEF", "ABCD-EFGH-J", "ABCD-EF0H", "ABCD-EFIH", "ABCD-EF1H",
                "ABCDOFGH", "ÄBCD-EFGH", None, "x" * 100]:
        assert redeem_code(db_session, bad, client_key="y").reason == MALFORMED


def test_code_input_is_forgiving_about_case_and_separators(db_session, issued):
    code = issued.code.replace("-", "")
    for typed in (code.lower(), f" {code[:4]} {code[4:]} ", f"{code[:4]}–{code[4:]}",
                  " ".join(code)):
        assert normalise_code(typed) == code
    assert redeem_code(db_session, f" {code.lower()[:4]} {code.lower()[4:]} ",
                       client_key="p", now=T0).ok


def test_redeem_accepts_a_pasted_link_a_bare_token_or_a_code(db_session, enquiry):
    a = create_invitation(db_session, enquiry.id, now=T0)
    b = create_invitation(db_session, enquiry.id, now=T0)
    c = create_invitation(db_session, enquiry.id, now=T0)
    assert redeem(db_session, f"here it is {a.link()}".split()[-1], client_key="1", now=T0).ok
    assert redeem(db_session, b.token, client_key="2", now=T0).ok
    assert redeem(db_session, c.code, client_key="3", now=T0).ok
    assert redeem(db_session, "hello there", client_key="4", now=T0).reason == MALFORMED
    assert token_from_link(f"https://council.example/chat?invite={a.token}") == a.token


def test_link_uses_public_url_and_keeps_the_token_out_of_the_query(monkeypatch, issued):
    assert issued.link() == f"http://localhost:8000/#invite={issued.token}"
    monkeypatch.setenv("MSP_PUBLIC_URL", "https://safeguarding.example.gov.uk/chat/")
    assert invitation_link(issued.token) == \
        f"https://safeguarding.example.gov.uk/chat/#invite={issued.token}"
    assert token_from_link(invitation_link(issued.token)) == issued.token


def test_closed_enquiry_and_bad_days_refused(db_session, enquiry):
    for days in (0, 91, -1, "14", True):
        with pytest.raises(InvalidValue):
            create_invitation(db_session, enquiry.id, days=days)
    close_enquiry(db_session, enquiry.id)
    with pytest.raises(InvalidValue, match="closed"):
        create_invitation(db_session, enquiry.id)


def test_code_guessing_is_rate_limited_per_client(db_session, issued):
    limit = RateLimit(max_failures=5, window=timedelta(minutes=15))
    guesses = ["ABCD-EFG2", "ABCD-EFG3", "ABCD-EFG4", "ABCD-EFG5", "ABCD-EFG6"]
    for n, guess in enumerate(guesses):
        now = T0 + timedelta(minutes=n)
        assert redeem_code(db_session, guess, client_key="attacker", now=now, limit=limit).reason \
            == UNKNOWN
    db_session.commit()
    # Sixth try, even with the right code, is refused while the window lasts.
    blocked = redeem_code(db_session, issued.code, client_key="attacker",
                          now=T0 + timedelta(minutes=5), limit=limit)
    assert blocked.reason == RATE_LIMITED and blocked.enquiry_id is None
    assert blocked.retry_after == 10 * 60  # first failure at T0 ages out at T0+15m
    # Malformed input is answered but is not a guess.
    assert redeem_code(db_session, "nonsense", client_key="attacker",
                       now=T0 + timedelta(minutes=5), limit=limit).reason == MALFORMED
    # Another client is not affected.
    assert redeem_code(db_session, "ABCD-EFG7", client_key="someone-else",
                       now=T0 + timedelta(minutes=5), limit=limit).reason == UNKNOWN
    # The limit is shared through the database, so a new session (another process) sees it.
    assert recent_code_failures(db_session, "attacker", now=T0 + timedelta(minutes=5)) == 5
    # After the oldest failure leaves the window, one more try is allowed.
    later = T0 + timedelta(minutes=15, seconds=1)
    assert redeem_code(db_session, issued.code, client_key="attacker", now=later,
                       limit=limit).ok
    # The token route is not limited (256-bit tokens cannot be guessed).
    assert redeem_token(db_session, "B" * 43, client_key="attacker", now=later).reason == UNKNOWN


def test_rate_limit_holds_across_sessions(db_url, db_session, issued):
    for n in range(5):
        other = get_sessionmaker(db_url)()
        try:
            redeem_code(other, f"ZZZZ-ZZZ{n + 2}", client_key="sms:+447700900123", now=T0)
            other.commit()
        finally:
            other.close()
    result = redeem_code(db_session, issued.code, client_key="sms:+447700900123", now=T0)
    assert result.reason == RATE_LIMITED


def test_used_and_expired_codes_count_as_failures(db_session, enquiry):
    used = create_invitation(db_session, enquiry.id, now=T0)
    assert redeem_code(db_session, used.code, client_key="owner", now=T0).ok
    for _ in range(4):
        assert redeem_code(db_session, used.code, client_key="prober", now=T0).reason == USED
    # The sixth time this invitation is presented it is locked (attempts are counted per
    # invitation, whoever presents it), and the prober's fifth failure stops them.
    assert redeem_code(db_session, used.code, client_key="prober", now=T0).reason == LOCKED
    assert redeem_code(db_session, used.code, client_key="prober", now=T0).reason == RATE_LIMITED


def test_client_keys_are_stored_hashed_and_old_failures_pruned(db_session, issued):
    redeem_code(db_session, "ABCD-EFG2", client_key="sms:+447700900123", now=T0)
    stored = db_session.execute(select(CodeFailure.client_hash)).scalars().all()
    assert stored and "+447700900123" not in stored[0]
    redeem_code(db_session, "ABCD-EFG3", client_key="other", now=T0 + timedelta(hours=2))
    count = db_session.execute(select(func.count(CodeFailure.id))).scalar_one()
    assert count == 1


def test_client_key_required_for_codes(db_session, issued):
    with pytest.raises(InvalidValue):
        redeem_code(db_session, issued.code, client_key="")


def test_clients_racing_for_one_invitation_exactly_one_wins(db_url, issued):
    """Several sessions (threads) redeem the same invitation at once."""
    import threading

    barrier = threading.Barrier(4)
    results = []

    def attempt(n):
        session = get_sessionmaker(db_url)()
        try:
            barrier.wait(timeout=10)
            result = redeem_token(session, issued.token, client_key=f"client-{n}", now=T0)
            session.commit()
            results.append(result.reason)
        finally:
            session.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [OK, USED, USED, USED]


def test_create_enquiry_invitation_isolated_per_enquiry(db_session, issued):
    other = create_enquiry(db_session, "SG-0002")
    mine = create_invitation(db_session, other.id, now=T0)
    result = redeem_token(db_session, mine.token, client_key="z", now=T0)
    assert result.ok and result.enquiry_id == other.id


# --- issue 10: single use across visits; guessing across all clients --------------------------


def test_a_used_code_never_links_again_not_even_for_the_same_conversation(db_session, issued, enquiry):
    first = redeem_code(db_session, issued.code, client_key="web-1", session_ref="session:1", now=T0)
    assert first.ok and not first.repeat
    assert is_linked(db_session, "web-1", "session:1", enquiry.id, now=T0)
    # The same message again in the same visit: fine, opens nothing new.
    again = redeem_code(db_session, issued.code, client_key="web-1", session_ref="session:1", now=T0)
    assert again.ok and again.repeat
    # The same conversation on a later visit (a new Rasa session), or anyone else: used.
    later = T0 + timedelta(hours=2)
    assert redeem_code(db_session, issued.code, client_key="web-1", session_ref="session:2",
                       now=later).reason == USED
    assert redeem_token(db_session, issued.token, client_key="web-1", session_ref="session:2",
                        now=later).reason == USED
    assert redeem_code(db_session, issued.code, client_key="web-2", session_ref="session:1",
                       now=T0).reason == USED
    # The link holds for that visit only, and only for that enquiry.
    assert not is_linked(db_session, "web-1", "session:2", enquiry.id, now=later)
    assert not is_linked(db_session, "web-2", "session:1", enquiry.id, now=T0)
    assert not is_linked(db_session, "web-1", "session:1", enquiry.id + 1, now=T0)
    assert db_session.execute(select(func.count(InvitationLink.id))).scalar_one() == 1


def test_a_link_ends_after_the_configured_minutes(db_session, issued, enquiry, monkeypatch):
    monkeypatch.setenv("MSP_LINK_MAX_MINUTES", "45")
    assert redeem(db_session, issued.code, client_key="web-1", session_ref="s", now=T0).ok
    assert is_linked(db_session, "web-1", "s", enquiry.id, now=T0 + timedelta(minutes=44))
    assert not is_linked(db_session, "web-1", "s", enquiry.id, now=T0 + timedelta(minutes=45))
    # ... and then the same message again does not bring it back.
    assert redeem(db_session, issued.code, client_key="web-1", session_ref="s",
                  now=T0 + timedelta(minutes=46)).reason == USED


def test_rotating_the_client_key_does_not_escape_the_limit(db_session, issued):
    """One guesser, a new sender id for every guess: everyone is slowed down."""
    limit = RateLimit(global_max_failures=30, global_window=timedelta(minutes=5))
    reasons = []
    for n in range(40):
        guess = "".join(CODE_ALPHABET[(n * 7 + i) % len(CODE_ALPHABET)] for i in range(8))
        reasons.append(redeem_code(db_session, guess, client_key=f"guesser-{n}",
                                   now=T0 + timedelta(seconds=n), limit=limit).reason)
    assert reasons[:30] == [UNKNOWN] * 30
    assert reasons[30:] == [RATE_LIMITED] * 10
    # While the flood lasts, even the right code from a new client waits (links do not).
    waiting = redeem_code(db_session, issued.code, client_key="person", now=T0 + timedelta(seconds=41),
                          limit=limit)
    assert waiting.reason == RATE_LIMITED and waiting.retry_after == 5 * 60 - 41
    assert redeem_token(db_session, "C" * 43, client_key="person", now=T0 + timedelta(seconds=41),
                        limit=limit).reason == UNKNOWN
    # When the flood has aged out of the window, codes work again.
    assert redeem_code(db_session, issued.code, client_key="person",
                       now=T0 + timedelta(minutes=5, seconds=30), limit=limit).ok


def test_attempts_are_counted_and_checked_per_invitation(db_session, issued):
    limit = RateLimit(max_attempts_per_invitation=3)
    assert redeem_code(db_session, issued.code, client_key="owner", session_ref="s", now=T0,
                       limit=limit).ok
    # Presented again by others (each within their own per-client limit): used, then locked.
    reasons = [redeem_code(db_session, issued.code, client_key=f"other-{n}", now=T0, limit=limit).reason
               for n in range(4)]
    assert reasons == [USED, USED, LOCKED, LOCKED]
    invitation = db_session.execute(select(Invitation)).scalar_one()
    assert invitation.attempts == 5
    # Locked even for the visit that redeemed it? No: that visit is already linked and may
    # repeat its message; nothing new is opened.
    assert redeem_code(db_session, issued.code, client_key="owner", session_ref="s", now=T0,
                       limit=limit).repeat


# --- withdrawn by staff (a re-issued feedback link) ---------------------------------------------


def test_a_withdrawn_invitation_redeems_nothing_and_counts_as_a_failure(db_session, issued):
    assert revoke_invitation(db_session, issued.invitation.id, now=T0)
    assert not revoke_invitation(db_session, issued.invitation.id, now=T0 + timedelta(hours=1))  # set once
    assert db_session.get(Invitation, issued.invitation.id).revoked_at == T0
    assert redeem_token(db_session, issued.token, client_key="web-1", now=T0).reason == REVOKED
    assert redeem_code(db_session, issued.code, client_key="web-1", now=T0).reason == REVOKED
    assert recent_code_failures(db_session, "web-1", now=T0) == 1
    row = db_session.get(Invitation, issued.invitation.id)
    assert row.used_at is None and row.expires_at == T0 + timedelta(days=14)  # nothing else changed
    assert db_session.execute(select(func.count(InvitationLink.id))).scalar_one() == 0


def test_withdrawing_a_used_invitation_ends_the_visit_it_opened(db_session, issued, enquiry):
    assert redeem_code(db_session, issued.code, client_key="web-1", session_ref="s1", now=T0).ok
    assert is_linked(db_session, "web-1", "s1", enquiry.id, now=T0)
    revoke_invitation(db_session, issued.invitation.id, now=T0 + timedelta(minutes=5))
    assert not is_linked(db_session, "web-1", "s1", enquiry.id, now=T0 + timedelta(minutes=5))
    # Not even the same message again in the same visit opens it.
    assert redeem_code(db_session, issued.code, client_key="web-1", session_ref="s1",
                       now=T0 + timedelta(minutes=6)).reason == REVOKED
