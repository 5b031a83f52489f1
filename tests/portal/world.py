"""Records and conversations for the browser tests: every kind of thing a portal page can show.

One account of each role (and a second practitioner in the same team),
enquiries open and closed with every kind of history (outcome versions,
withdrawals, SG4a answers, contact preferences, assignments, consents,
invitations, feedback with answers), closed enquiries for the reports, and
conversations written through the real tracker store: one with danger
replies linked to an enquiry, one with hostile markup, one where outcomes and
feedback answers were recorded, one to erase.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Dict, Optional

from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from sqlalchemy import update

from bot.portal import credentials
from bot.portal.config import Argon2Params
from bot.records import add_participant, close_enquiry, create_enquiry, record_outcome, session_scope, staff
from bot.records.consents import give_consent
from bot.records.enquiries import set_contact_preferences
from bot.records.feedback import record_answer
from bot.records.invitations import create_invitation, hash_client
from bot.records.models import InvitationLink, StaffUser, utcnow
from bot.records.outcomes import change_outcome, record_asked, record_review, withdraw_outcome
from bot.records.totp_keys import TotpBox
from bot.surveys.request import request_feedback
from tests.portal.conftest import Account
from tests.portal.helpers import PASSWORD, write_events

HOSTILE = ('<script>window.__pwned = 1; alert("pwned")</script><img src=x onerror="window.__pwned=2">'
           '<style>body{display:none}</style> & more')
T0 = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC
# Cheap hashing: the cost is stored in each hash, so the portal process checks these as made.
FAST = Argon2Params(time_cost=1, memory_cost=1024, parallelism=1)


def _user(text, intent, message_id, ts, **net):
    parse = {"intent": {"name": intent, "confidence": 1.0}, "entities": [], "text": text,
             "safety_net": {"danger": None, "check": False, "input": None, **net}}
    return UserUttered(text, parse["intent"], [], parse, timestamp=ts, input_channel="socketio",
                       message_id=message_id)


def _bot(text, response, ts, buttons=()):
    return [ActionExecuted(response, timestamp=ts),
            BotUttered(text, {"buttons": [{"title": b, "payload": "/x"} for b in buttons]},
                       {"utter_action": response}, timestamp=ts)]


@dataclass
class World:
    records_url: str
    tracker_path: Path
    box: TotpBox
    accounts: Dict[str, Account] = field(default_factory=dict)
    ids: Dict[str, int] = field(default_factory=dict)
    _n: itertools.count = field(default_factory=lambda: itertools.count(1))

    def account(self, role: str, username: Optional[str] = None, team: Optional[str] = None,
                enrolled: bool = True, display_name: Optional[str] = None) -> Account:
        n = next(self._n)
        username = username or f"{role}.{n}"
        secret = credentials.new_totp_secret() if enrolled else None
        with session_scope(self.records_url) as db:
            user = staff.create_user(db, username, display_name=display_name or f"{role.title()} {n}", role=role,
                                     team=team, password_hash=credentials.hash_password(PASSWORD, FAST))
            if enrolled:
                staff.enrol_totp(db, user, secret, 0, box=self.box)
            account = Account(user.id, username, role, PASSWORD, secret, team)
        self.accounts[username] = account
        return account

    def allow_code_again(self, account: Account) -> None:
        """Forget the last TOTP step used, so one account may sign in twice within 30 s."""
        with session_scope(self.records_url) as db:
            db.execute(update(StaffUser).where(StaffUser.id == account.id).values(totp_last_step=None))

    def enquiry(self, reference: Optional[str] = None, worker: Optional[str] = "pat.worker", *,
                closed: bool = False, history: bool = False) -> int:
        """A new enquiry with a person taking part; ``history``: one of everything an enquiry page shows."""
        reference = reference or f"SG-B-{next(self._n)}"
        with session_scope(self.records_url) as db:
            enquiry = create_enquiry(db, reference, assigned_worker=worker, recorded_by="seed")
            person = add_participant(db, enquiry.id, "person", display_name="Pat Person")
            if history:
                rep = add_participant(db, enquiry.id, "representative", display_name="Rita Daughter")
                first = record_outcome(db, enquiry.id, "Call me on 07700 900123 <b>please</b>",
                                       participant_id=rep.id, recorded_by="assistant", channel="web")
                change_outcome(db, first.id, text="I want to feel safe at home", category="stop_abuse_feel_safer",
                               recorded_by="pat.worker", channel="phone", reason="Said on the phone")
                other = record_outcome(db, enquiry.id, "Police to act", participant_id=person.id,
                                       recorded_by="assistant", channel="sms")
                withdraw_outcome(db, other.id, recorded_by="assistant", channel="sms", reason="Changed my mind")
                record_asked(db, enquiry.id, "yes", recorded_by="pat.worker", channel="staff", note="At the visit")
                record_review(db, enquiry.id, "partially", recorded_by="pat.worker", channel="staff",
                              note="Some of it")
                set_contact_preferences(db, enquiry.id, recorded_by="pat.worker", safe_to_text=True,
                                        safe_number="07700 900123", safe_times="Mon-Fri 10:00-16:00",
                                        preferred_contact="phone")
                give_consent(db, enquiry.id, person.id, "share_with_police", recorded_by="pat.worker",
                             channel="staff")
                create_invitation(db, enquiry.id, days=3, created_by="pat.worker")
            if closed:
                close_enquiry(db, enquiry.id)
                if history:
                    request = request_feedback(db, enquiry.id, channel="web", requested_by="pat.worker",
                                               participant_id=person.id, base_url="http://127.0.0.1:8000")
                    for question, value in (("goals", "yes"), ("listened", "partly"), ("safe_now", "4")):
                        record_answer(db, request.survey_id, question, value, text=f"{value} <i>really</i>",
                                      channel="web")
            return enquiry.id

    def staff_invitation(self, role: str = "lead") -> str:
        token = credentials.new_token()
        admin = self.accounts["ada.admin"]
        with session_scope(self.records_url) as db:
            staff.create_staff_invitation(db, credentials.token_hash(token), role=role, team="North",
                                          created_by_id=admin.id, expires_at=utcnow() + timedelta(days=1),
                                          note="For the browser tests")
        return token

    def link(self, sender_id: str, enquiry_id: int) -> None:
        """What redeeming an invitation in that chat records."""
        with session_scope(self.records_url) as db:
            issued = create_invitation(db, enquiry_id, days=1)
            db.add(InvitationLink(invitation_id=issued.invitation.id, enquiry_id=enquiry_id,
                                  conversation_hash=hash_client(sender_id), session_ref="s",
                                  expires_at=utcnow() + timedelta(hours=1)))


def seed(records_url: str, tracker_path: Path, box: TotpBox) -> World:
    from bot.components.tracker_store import WALSQLTrackerStore

    world = World(records_url, tracker_path, box)
    world.account("practitioner", "pat.worker", team="North", display_name="Pat Worker")
    world.account("practitioner", "pip.worker", team="North", display_name="Pip Worker")
    world.account("lead", "lee.lead", display_name="Lee Lead")
    world.account("auditor", "aud.auditor", display_name="Aud Auditor")
    world.account("admin", "ada.admin", display_name="Ada Admin")
    world.ids["open"] = world.enquiry("SG-OPEN", history=True)
    world.ids["closed"] = world.enquiry("SG-CLOSED", closed=True, history=True)
    world.staff_invitation("practitioner")  # the accounts page lists an open invitation

    # The reports: 12 enquiries closed two days ago (as in test_reports.py), and feedback.
    when = utcnow() - timedelta(days=2)
    with session_scope(records_url) as db:
        for n in range(12):
            enquiry = create_enquiry(db, f"R-{n}")
            person = add_participant(db, enquiry.id, "person")
            if n < 8:
                outcome = record_outcome(db, enquiry.id, f"Wish {n}", participant_id=person.id,
                                         recorded_by="assistant", channel="web",
                                         category="stop_abuse_feel_safer" if n < 7 else None)
                record_review(db, enquiry.id, "fully" if n < 6 else "partially", outcome_key=outcome.outcome_key,
                              recorded_by="w", channel="staff")
            elif n < 11:
                record_asked(db, enquiry.id, "yes", recorded_by="w", channel="staff")
            close_enquiry(db, enquiry.id, when=when)

    store = WALSQLTrackerStore(dialect="sqlite", db=str(tracker_path))
    try:
        write_events(store, "web-danger", [
            ActionExecuted("action_session_start", timestamp=T0), SessionStarted(timestamp=T0),
            _user("he is hitting me now", "inform_physical", "m-d1", T0 + 1, danger="now"),
            *_bot("Call 999 now.", "utter_danger_now", T0 + 2),
            _user("can I talk to a real person", "ask_talk_to_person", "m-d2", T0 + 3),
            *_bot("You can talk to someone.", "utter_talk_to_person", T0 + 4, buttons=["Yes", "No"]),
        ])
        write_events(store, "web-hostile", [
            UserUttered(HOSTILE, {"name": "greet", "confidence": 1.0}, message_id="b1", input_channel="socketio"),
            ActionExecuted("utter_greet"),
            BotUttered("Hello <b>there</b>", {}, {"utter_action": "utter_greet"}),
        ])
        write_events(store, "sms-7", [
            _user("my grandson took my bank card, ring me on 07700 900123", "inform_financial", "m-s1", T0 + 86400),
            *_bot("Thank you.", "utter_outcomes_done", T0 + 86401),
        ])
        write_events(store, "web-erase-me", [_user("hello", "greet", "m-e1", T0 + 2 * 86400)])
    finally:
        store.engine.dispose()
    world.link("web-danger", world.ids["open"])
    with session_scope(records_url) as db:
        from bot.records import list_participants

        person = list_participants(db, world.ids["open"])[0]
        record_outcome(db, world.ids["open"], "For him to give my card back", participant_id=person.id,
                       recorded_by="assistant", channel="sms", source_ref="m-s1")
        from bot.records import advocacy

        world.ids["referral"] = advocacy.make_referral(
            db, {"understand": "the letters are too hard <b>to read</b>", "support": "no one, only my son"},
            answered_by="person", consent_words="yes", recorded_by="assistant", channel="web", source="chat",
            source_ref="world:referral", enquiry_id=world.ids["open"]).id
        from bot.records import handoffs

        handoff, _ = handoffs.request_handoff(db, "web-danger", "web")
        handoffs.add_message(db, handoff.id, "person", "can I talk to someone <b>real</b>", message_id="m-h1")
        handoffs.add_message(db, handoff.id, "automatic", "If anyone is in danger now, call 999.", kind="danger")
        world.ids["handoff"] = handoff.id
        from bot.records import callbacks

        world.ids["callback"] = callbacks.request_callback(
            db, {"safe_words": "yes <i>he's out</i>", "number_words": "07700 900123",
                 "safe_times": "weekday mornings <script>alert(1)</script>", "message_words": "no",
                 "others_words": "my daughter might"}, number="+447700900123", leave_message=False,
            sender_id="web-danger", channel="web", asked_by="person", source_ref="world:callback").id
    return world
