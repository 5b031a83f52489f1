"""``msp``: the staff command line for MSP records.

    msp db upgrade                      create or update the MSP tables
    msp db current                      show the schema revision
    msp enquiry create --reference REF [--worker NAME] [--safe-to-text yes|no]
                       [--safe-number NUMBER] [--safe-times TEXT]
                       [--contact phone|sms|email|letter|visit|representative]
    msp enquiry contact REF [--safe-to-text yes|no] [--safe-number N] [--safe-times T]
                        [--contact METHOD] [--sms-council-name yes|no]
                                        change contact preferences (history kept)
    msp enquiry assign REF --worker USERNAME
                                        assign to a worker (history kept)
    msp enquiry invite REF [--days N]   issue a single-use link and short code
    msp enquiry show REF                the enquiry and its outcome history
    msp enquiry close REF               mark the enquiry concluded
    msp enquiry feedback REF --by web|sms [--participant ID]
                                        ask for end-of-enquiry feedback (closed
                                        enquiries; SMS only when safe to text)
    msp enquiry feedback REF --reissue [--participant ID]
                                        a new web feedback link and code for an open
                                        survey (answers kept); the earlier ones stop
    msp user create --role practitioner|lead|auditor|admin --username NAME --name "FULL NAME"
                    [--team TEAM] [--password-file PATH|-]
                                        a staff account for the portal; the password is asked
                                        for twice (or read from the file's first line; "-" is
                                        standard input), never taken from the command line
    msp user list                       staff accounts
    msp totp new-key                    print a new key for the portal's second-factor secrets
    msp totp rotate                     re-encrypt every second-factor secret with the newest
                                        key (MSP_TOTP_KEYS or var/totp_key, newest first)
    msp report sg4a [--from DATE] [--to DATE] [--published]
    msp report feedback [--from DATE] [--to DATE] [--published]
                                        end-of-enquiry feedback: the six questions,
                                        feeling safe, SG4a achieved in their own view
    msp retention purge [--dry-run]     delete conversations past their retention
                                        (--dry-run: only list what would go)
    msp retention erase SENDER_ID --reason TEXT [--yes]
                                        erase one conversation now, on request (audited)

    msp advocacy list [--state queued|sending|sent|failed|acknowledged]
                                        advocacy referrals and where their delivery is
    msp advocacy show ID                one referral: what was said, word for word, and its history
    msp advocacy make --consent WORDS --answered-by person|representative|staff
                      [--enquiry REF] [--understand T] [--remember T] [--weigh-up T]
                      [--say-what-they-want T] [--support T] [--contact T] [--safe-times T]
                                        a referral made by staff, with the person's consent
    msp advocacy resend ID              send it again (same reference: the provider keeps one)
    msp advocacy ack ID                 the provider has said it has the referral
    msp advocacy withdraw ID --by person|representative|staff [--words WORDS]
                                        consent withdrawn: never sent, or the provider is told

The database is ``DATABASE_URL`` (default: var/msp.db in the project root);
links start with ``MSP_PUBLIC_URL`` (default http://localhost:8000).

Bad input or a database problem prints one clear line to stderr and exits
non-zero (1 for a problem with the request or the database, 2 for a usage
error). Set ``MSP_DEBUG=1`` to see tracebacks.
"""
from __future__ import annotations

import argparse
import os
import sys
import unicodedata
from datetime import date, datetime, timezone
from typing import List, Optional, Sequence

from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError, SQLAlchemyError

PROG = "msp"


# --- argument types ---------------------------------------------------------


def _yes_no(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("yes", "y", "true", "1"):
        return True
    if lowered in ("no", "n", "false", "0"):
        return False
    raise argparse.ArgumentTypeError(f"expected yes or no, not {value!r}")


def _days(value: str) -> int:
    from bot.records.invitations import MAX_DAYS

    try:
        days = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of days, not {value!r}")
    if not 1 <= days <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"days must be from 1 to {MAX_DAYS}")
    return days


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, not {value!r}")


# --- output helpers ---------------------------------------------------------

_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def terminal_safe(text: Optional[str]) -> str:
    """Show untrusted text without letting it drive the terminal.

    Control characters (escape sequences, carriage returns, bidi overrides) are
    shown as ``\\xNN``/``\\uNNNN``; everything else, emoji and other scripts
    included, is shown as typed. New lines are kept, indented.
    """
    if text is None:
        return ""
    out = []
    for ch in text:
        if ch == "\n":
            out.append("\n      ")
        elif ch == "\t":
            out.append("\t")
        elif unicodedata.category(ch) == "Cc" or ch in _BIDI_CONTROLS or ch in "\u2028\u2029":
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def _when(value: Optional[datetime]) -> str:
    if value is None:
        return "-"
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


class CommandError(Exception):
    """A problem to report in one line, with exit status 1."""


# --- commands ---------------------------------------------------------------


def cmd_db_upgrade(args) -> int:
    from bot.records.db import safe_url
    from bot.records.schema import upgrade_to_head

    head = upgrade_to_head(args.url)
    print(f"Records database {safe_url(args.url)} is at revision {head}.")
    return 0


def cmd_db_current(args) -> int:
    from bot.records.db import safe_url
    from bot.records.schema import current_revision, head_revision

    current = current_revision(args.url)
    head = head_revision()
    state = "up to date" if current == head else f"needs upgrade to {head} (run: msp db upgrade)"
    print(f"{safe_url(args.url)}: revision {current or 'none'}, {state}.")
    return 0


def cmd_enquiry_create(args) -> int:
    from bot.records import create_enquiry, session_scope

    with session_scope() as session:
        enquiry = create_enquiry(
            session,
            args.reference,
            assigned_worker=args.worker,
            safe_to_text=bool(args.safe_to_text),
            safe_number=args.safe_number,
            safe_times=args.safe_times,
            preferred_contact=args.contact,
            sms_name_allowed=bool(args.sms_council_name),
            recorded_by=_staff_name(),
        )
        reference = enquiry.reference
    print(f"Created enquiry {terminal_safe(reference)}.")
    if not args.safe_to_text:
        print("Not marked safe to text: no text messages will be sent for it.")
    return 0


def cmd_enquiry_invite(args) -> int:
    from bot.records import session_scope
    from bot.records.enquiries import require_enquiry_by_reference
    from bot.records.invitations import create_invitation, invitation_link

    with session_scope() as session:
        enquiry = require_enquiry_by_reference(session, args.reference)
        issued = create_invitation(session, enquiry.id, days=args.days, created_by=_staff_name())
        reference = enquiry.reference
    print(f"Invitation for enquiry {terminal_safe(reference)}")
    print(f"  Link:       {invitation_link(issued.token)}")
    print(f"  Short code: {issued.code}")
    print(f"  Expires:    {_when(issued.expires_at)} ({args.days} days)")
    print("It works once. Give it only to the person or their representative,")
    print("in a way that is safe for them. It cannot be shown again.")
    return 0


def cmd_enquiry_show(args) -> int:
    from bot.records import session_scope
    from bot.records.enquiries import require_enquiry_by_reference
    from bot.records.enquiry_view import enquiry_detail, outcome_action
    from bot.records.models import OUTCOME_CATEGORY_LABELS

    lines: List[str] = []
    with session_scope(read_only=True) as session:
        detail = enquiry_detail(session, require_enquiry_by_reference(session, args.reference).id)
        enquiry, numbers = detail.enquiry, detail.numbers

        def who(participant_id):
            p = detail.who(participant_id)
            if p is None:
                return "-"
            name = f" {terminal_safe(p.display_name)}" if p.display_name else ""
            return f"{p.role}{name}"

        lines.append(f"Enquiry {terminal_safe(enquiry.reference)}")
        lines.append(
            f"  Status:   {enquiry.status} (opened {_when(enquiry.opened_at)}"
            + (f", closed {_when(enquiry.closed_at)})" if enquiry.closed_at else ")")
        )
        lines.append(f"  Worker:   {terminal_safe(enquiry.assigned_worker) or '-'}")
        lines.append(
            f"  Contact:  safe to text: {'yes' if enquiry.safe_to_text else 'no'}; "
            f"safe number: {enquiry.safe_number or '-'}; "
            f"safe times: {terminal_safe(enquiry.safe_times) or '-'}; "
            f"preferred: {enquiry.preferred_contact or '-'}"
        )
        asked = detail.latest_asked
        if asked is not None:
            lines.append(f"  Asked about outcomes: {asked.answer} ({_when(asked.created_at)})")

        lines.append("")
        lines.append(f"Current outcomes ({len(detail.current)}):")
        if not detail.current:
            lines.append("  none")
        for row in detail.current:
            category = OUTCOME_CATEGORY_LABELS.get(row.category) if row.category else None
            lines.append(f"  Outcome {numbers[row.outcome_key]} (version {row.version}):")
            lines.append(f"      {terminal_safe(row.text)}")
            if category:
                lines.append(f"      Category: {category}")

        lines.append("")
        lines.append(f"Outcome history, oldest first ({len(detail.history)} versions):")
        if not detail.history:
            lines.append("  none")
        for row in detail.history:
            lines.append(
                f"  {_when(row.created_at)}  outcome {numbers[row.outcome_key]} "
                f"v{row.version} {outcome_action(row)} by {terminal_safe(row.recorded_by)} "
                f"via {row.channel}, from {who(row.participant_id)}"
            )
            lines.append(f"      {terminal_safe(row.text)}")
            if row.category:
                lines.append(f"      Category: {OUTCOME_CATEGORY_LABELS[row.category]}")
            if row.reason:
                lines.append(f"      Reason: {terminal_safe(row.reason)}")

        if detail.reviews:
            lines.append("")
            lines.append("Reviews, oldest first:")
            for review in detail.reviews:
                target = (
                    f"outcome {numbers.get(review.outcome_key, '?')}"
                    if review.outcome_key else "all outcomes"
                )
                whose = "their own view" if review.view == "person" else "worker's judgement"
                lines.append(
                    f"  {_when(review.created_at)}  {target}: {review.achievement} "
                    f"({whose}, by {terminal_safe(review.recorded_by)})"
                )

        if detail.consents:
            lines.append("")
            lines.append("Consent decisions, oldest first:")
            for consent in detail.consents:
                lines.append(
                    f"  {_when(consent.decided_at)}  {consent.what}: {consent.decision} "
                    f"by {who(consent.participant_id)}"
                )

        for item in detail.surveys:
            survey = item.survey
            lines.append("")
            lines.append(f"Feedback survey {survey.id} ({survey.channel}, asking {who(survey.participant_id)}): "
                         f"{survey.status.replace('_', ' ')}, open until {_when(survey.expires_at)}; "
                         f"reminders sent: {survey.reminders_sent}")
            for event in item.events:
                lines.append(f"  {_when(event.created_at)}  {event.status.replace('_', ' ')}"
                             + (f": {terminal_safe(event.detail)}" if event.detail else ""))
            if item.answers:
                lines.append("  Answers, oldest first (words as sent, then as read):")
            for answer in item.answers:
                about = (f"outcome {numbers.get(answer.outcome_key, '?')}" if answer.outcome_key
                         else answer.question.replace("_", " "))
                lines.append(f"  {_when(answer.created_at)}  {about}: {answer.value.replace('_', ' ')} "
                             f"(via {answer.channel})")
                if answer.text is not None:
                    lines.append(f"      {terminal_safe(answer.text)}")

        if detail.invitations:
            lines.append("")
            lines.append("Invitations:")
            for inv in detail.invitations:
                state = "open until" if inv.state == "open" else inv.state
                lines.append(f"  issued {_when(inv.invitation.created_at)}, {state} {_when(inv.at)}")

        lines.append("")
        lines.append("Contact preferences, oldest first:")
        for version in detail.contacts:
            lines.append(
                f"  {_when(version.created_at)}  safe to text: {'yes' if version.safe_to_text else 'no'}; "
                f"safe number: {version.safe_number or '-'}; safe times: {terminal_safe(version.safe_times) or '-'}; "
                f"preferred: {version.preferred_contact or '-'}; texts may name the council: "
                f"{'yes' if version.sms_name_allowed else 'no'} (by {terminal_safe(version.recorded_by)})")
        if detail.assignments:
            lines.append("")
            lines.append("Assignments, oldest first:")
            for row in detail.assignments:
                lines.append(f"  {_when(row.created_at)}  {terminal_safe(row.worker) or 'unassigned'} "
                             f"(by {terminal_safe(row.assigned_by)})")
    print("\n".join(lines))
    return 0


def _staff_name() -> str:
    return os.environ.get("USER") or "staff (msp)"


def _change_enquiry(reference: str, change) -> str:
    """Run ``change(session, enquiry_id)`` on the enquiry with this reference, in one transaction."""
    from bot.records import session_scope
    from bot.records.enquiries import require_enquiry_by_reference

    with session_scope() as session:
        enquiry = require_enquiry_by_reference(session, reference)
        change(session, enquiry.id)
        return enquiry.reference


def cmd_enquiry_contact(args) -> int:
    from bot.records.enquiries import set_contact_preferences

    changes = {name: getattr(args, name) for name in ("safe_to_text", "safe_number", "safe_times",
                                                       "preferred_contact", "sms_name_allowed")
               if getattr(args, name) is not None}
    if not changes:
        raise CommandError("say what changes (--safe-to-text, --safe-number, --safe-times, --contact, "
                           "--sms-council-name)")
    reference = _change_enquiry(args.reference, lambda session, enquiry_id: set_contact_preferences(
        session, enquiry_id, recorded_by=_staff_name(), **changes))
    print(f"Contact preferences of enquiry {terminal_safe(reference)} changed (the earlier ones are kept).")
    return 0


def cmd_enquiry_assign(args) -> int:
    from bot.records.enquiries import assign_enquiry

    reference = _change_enquiry(args.reference, lambda session, enquiry_id: assign_enquiry(
        session, enquiry_id, args.worker, assigned_by=_staff_name()))
    print(f"Enquiry {terminal_safe(reference)} assigned to {terminal_safe(args.worker) or 'nobody'}.")
    return 0


def cmd_enquiry_close(args) -> int:
    from bot.records.enquiries import close_enquiry

    reference = _change_enquiry(args.reference, close_enquiry)
    print(f"Closed enquiry {terminal_safe(reference)}.")
    return 0


def cmd_enquiry_feedback(args) -> int:
    from bot.records import session_scope
    from bot.records.enquiries import require_enquiry_by_reference
    from bot.surveys.request import request_feedback

    if args.reissue:
        return _reissue_feedback_link(args)
    with session_scope() as session:
        enquiry = require_enquiry_by_reference(session, args.reference)
        result = request_feedback(session, enquiry.id, channel=args.by, participant_id=args.participant,
                                  requested_by=_staff_name())
        reference = enquiry.reference
    if not result.ok:
        # Recorded (status refused, with the reason); nothing was sent.
        raise CommandError(f"feedback not requested for {terminal_safe(reference)}: {result.reason} "
                           "Nothing was sent.")
    print(f"Feedback requested for enquiry {terminal_safe(reference)} (survey {result.survey_id}).")
    if args.by == "web":
        print(f"  Link:       {result.link}")
        print(f"  Short code: {result.code}")
        print(f"  Open until: {_when(result.expires_at)}")
        print("It works once and opens the feedback questions. Give it only to the person or their")
        print("representative, in a way that is safe for them. It cannot be shown again.")
    else:
        print(f"  A text is queued to the safe number (outbox {result.outbox_id}).")
        print(f"  Open until: {_when(result.expires_at)}")
    return 0


def _reissue_feedback_link(args) -> int:
    from bot.records import session_scope
    from bot.records.enquiries import require_enquiry_by_reference
    from bot.surveys.request import reissue_web_invitation

    with session_scope() as session:
        enquiry = require_enquiry_by_reference(session, args.reference)
        result = reissue_web_invitation(session, enquiry.id, participant_id=args.participant,
                                        requested_by=_staff_name())
        reference = enquiry.reference
    if not result.ok:
        raise CommandError(f"feedback link not re-issued for {terminal_safe(reference)}: {result.reason} "
                           "Nothing was changed.")
    kept = result.answers_kept or 0
    print(f"New feedback link for enquiry {terminal_safe(reference)} (survey {result.survey_id}). "
          "The earlier link and code no longer work.")
    print(f"  Link:       {result.link}")
    print(f"  Short code: {result.code}")
    print(f"  Open until: {_when(result.expires_at)}")
    if kept:
        print(f"The person carries on where they left off ({kept} answer{'' if kept == 1 else 's'} kept).")
    else:
        print("Nothing was answered yet: the questions start from the beginning.")
    print("It works once. Give it only to the person or their representative, in a way that is")
    print("safe for them. It cannot be shown again.")
    return 0


def _read_password(args) -> str:
    import getpass

    if args.password_file:
        try:
            if args.password_file == "-":
                line = sys.stdin.readline()
            else:
                with open(args.password_file, encoding="utf-8") as fh:
                    line = fh.readline()
        except OSError as error:
            raise CommandError(f"cannot read the password file: {error.strerror}")
        password = line.rstrip("\r\n")
        if not password:
            raise CommandError("the password file's first line is empty")
        return password
    if not sys.stdin.isatty():
        raise CommandError("no terminal to ask for the password: use --password-file PATH (or - for standard input)")
    first = getpass.getpass("Password: ")
    second = getpass.getpass("Password again: ")
    if first != second:
        raise CommandError("the two passwords are not the same")
    return first


def cmd_user_create(args) -> int:
    from bot.portal import credentials
    from bot.portal.config import PortalConfig
    from bot.records import session_scope, staff
    from bot.records import audit as audit_records

    config = PortalConfig.from_env()
    username = staff.normalise_username(args.username)
    password = _read_password(args)
    try:
        credentials.check_new_password(password, username=username, config=config)
    except credentials.PasswordRejected as error:
        raise CommandError(str(error))
    password_hash = credentials.hash_password(password, config.argon2)
    with session_scope() as session:
        user = staff.create_user(session, username, display_name=args.name, role=args.role, team=args.team,
                                 password_hash=password_hash)
        audit_records.record(session, "account.created", target=f"user:{user.id}",
                             username=os.environ.get("USER") or "msp", detail={"by": "msp user create",
                                                                              "role": user.role})
        created = (user.username, user.role_label)
    print(f"Created {created[1].lower()} account {terminal_safe(created[0])}.")
    print("At the first sign-in to the portal the account sets up its second factor (an authenticator app).")
    return 0


def cmd_user_list(args) -> int:
    from bot.records import session_scope, staff

    with session_scope(read_only=True) as session:
        users = staff.list_users(session)
        lines = [f"{terminal_safe(u.username):24} {u.role:13} {terminal_safe(u.team or '-'):16} "
                 f"{'second factor set' if u.enrolled else 'no second factor yet':22} "
                 f"{'active' if u.active else 'deactivated'}" for u in users]
    print("\n".join(lines) if lines else "No staff accounts yet. Make the first: msp user create --role admin ...")
    return 0


def cmd_totp_new_key(args) -> int:
    from bot.records.totp_keys import new_key

    print(new_key())
    return 0


def cmd_totp_rotate(args) -> int:
    from bot.records import session_scope, staff
    from bot.records.totp_keys import TotpBox

    box = TotpBox.from_env()
    with session_scope() as session:
        before = staff.totp_keys_in_use(session)
        changed, unreadable = staff.rotate_totp_secrets(session, box)
    print(f"Second-factor secrets re-encrypted with key {box.newest}: {changed} "
          f"(already with it: {before.get(box.newest, 0)}).")
    if unreadable:
        raise CommandError(f"{len(unreadable)} account(s) have a secret none of the keys opens (accounts "
                           f"{', '.join(map(str, unreadable))}): add the key that made them, or reset their "
                           "second factor in the portal")
    older = [kid for kid in box.key_ids[1:]]
    if older:
        print(f"No secret needs the older key(s) {', '.join(older)} any more: they can be removed.")
    return 0


def cmd_report_sg4a(args) -> int:
    from bot.records import session_scope
    from bot.records.reporting import publication_rule, sg4a_figures

    if args.date_from and args.date_to and args.date_from >= args.date_to:
        raise CommandError("--from must be before --to")
    with session_scope(read_only=True) as session:
        figures = sg4a_figures(
            session, concluded_from=args.date_from, concluded_to=args.date_to
        )
    rule = publication_rule()
    period = f"{args.date_from or 'start'} to {args.date_to or 'now'}"
    print(f"SG4a, concluded enquiries, {period}"
          + (f" (published: {rule.describe()})" if args.published else ""))

    def show(n: int) -> str:
        return rule.show(n) if args.published else str(n)

    print("Was the person asked about their desired outcomes?")
    for label, n in figures.asked.items():
        print(f"  {label}: {show(n)}")
    print("Where outcomes were expressed, were they achieved?")
    for label, n in figures.achieved.items():
        print(f"  {label}: {show(n)}")
    if not args.published:
        print(f"  (achievement not recorded: {figures.achievement_not_recorded})")
        print(f"Total: {figures.total}")
    return 0


def cmd_report_feedback(args) -> int:
    from bot.records import session_scope
    from bot.records.reporting import FEEDBACK_QUESTION_LABELS, feedback_figures, publication_rule

    if args.date_from and args.date_to and args.date_from >= args.date_to:
        raise CommandError("--from must be before --to")
    with session_scope(read_only=True) as session:
        figures = feedback_figures(session, concluded_from=args.date_from, concluded_to=args.date_to)
    rule = publication_rule()
    period = f"{args.date_from or 'start'} to {args.date_to or 'now'}"
    print(f"End-of-enquiry feedback, concluded enquiries, {period}"
          + (f" (published: {rule.describe()})" if args.published else ""))

    def show(n: int) -> str:
        return rule.show(n) if args.published else str(n)

    print("Surveys:")
    for status, n in figures.statuses.items():
        print(f"  {status.replace('_', ' ')}: {show(n)}")
    for key, counts in figures.questions.items():
        print(f"{FEEDBACK_QUESTION_LABELS[key]}:")
        for label, n in counts.items():
            print(f"  {label}: {show(n)}")
    print("SG4a, where outcomes were expressed: were they achieved, in the person's own view?")
    for label, n in figures.person_sg4a.achieved.items():
        print(f"  {label}: {show(n)}")
    if not args.published:
        print(f"  (not answered in a survey: {figures.person_sg4a.achievement_not_recorded})")
    return 0


# --- parser -----------------------------------------------------------------


def cmd_retention_purge(args) -> int:
    from bot.records import retention

    result = retention.purge(dry_run=args.dry_run, recorded_by="msp")
    if result.lock_busy:
        raise CommandError("another purge is running now (the scheduler?); try again when it has finished")
    print(f"Retention: conversations whose last event is before {retention.day(result.cutoff)} "
          f"({(result.now - result.cutoff).days} days ago).")
    if args.dry_run:
        for c in result.to_delete:
            print(f"  would delete {terminal_safe(c.sender_id)}  last event {retention.day(c.last_event_at)}, "
                  f"{c.events} events")
        if result.resumed:
            print(f"  and first finish {result.resumed} removal(s) that an earlier run or erasure left unfinished")
        print(f"Would delete {len(result.to_delete)} conversation(s), "
              f"{sum(c.events for c in result.to_delete)} event(s). Nothing was deleted.")
    else:
        print(f"Deleted {len(result.removed)} conversation(s), {result.events_removed} event(s); with them "
              f"{sum(r.handoffs for r in result.removed)} live chat(s) with staff, "
              f"{sum(r.callbacks for r in result.removed)} call-back request(s) or decline(s) and "
              f"{sum(r.referrals for r in result.removed)} advocacy referral(s) made in the chat.")
    open_kept = sum(1 for c in result.kept if c.decision == retention.KEEP_OPEN)
    print(f"Kept {open_kept} linked to an open enquiry and {len(result.kept) - open_kept} within a closed "
          "enquiry's retention.")
    if result.came_back:
        print(f"Kept {result.came_back} that had a new message while the purge ran.")
    return 0


def cmd_retention_erase(args) -> int:
    from bot.records import retention

    found = retention.facts(args.sender_id)
    if found is None:
        raise CommandError("there is no conversation with that id")
    print(f"Conversation {terminal_safe(found.sender_id)}: {found.events} events, last "
          f"{retention.day(found.last_event_at)}"
          + ("; linked to an OPEN enquiry" if found.linked_open else "")
          + ("; linked to a closed enquiry" if found.linked_closed else "") + ".")
    if not args.yes:
        if not sys.stdin.isatty():
            raise CommandError("no terminal to confirm on: add --yes")
        if input("Erase it for good? Type yes: ").strip().lower() != "yes":
            print("Nothing erased.")
            return 1
    removed = retention.erase(args.sender_id, reason=args.reason, username=os.environ.get("USER") or "msp")
    print(f"Erased: {removed.events} events and {removed.links + removed.code_failures} tied record(s); "
          f"{removed.handoffs} live chat(s) with staff, {removed.callbacks} call-back request(s) or decline(s), "
          f"{removed.referrals} advocacy referral(s) made in the chat. Outcomes and feedback recorded for an "
          "enquiry, and referrals made by staff, stay with the enquiry. The audit log has the reason.")
    return 0


# --- advocacy referrals -------------------------------------------------------


def cmd_advocacy_list(args) -> int:
    from bot.records import advocacy, session_scope

    with session_scope(read_only=True) as session:
        rows = advocacy.list_referrals(session, args.state)
    if not rows:
        print("No advocacy referrals" + (f" {args.state}." if args.state else "."))
        return 0
    for row in rows:
        print(f"{row.id:>5}  {_when(row.created_at)}  {row.state:<12}  tries {row.attempts}  "
              f"enquiry {terminal_safe(row.enquiry_reference) or '-'}"
              + (f"  last error: {terminal_safe(row.last_error)}" if row.last_error and row.state != "sent" else ""))
    return 0


def cmd_advocacy_show(args) -> int:
    from bot.records import advocacy, session_scope

    with session_scope(read_only=True) as session:
        view = advocacy.referral_view(session, args.id)
    print(f"Advocacy referral {view.id} (reference {view.reference}), made {_when(view.created_at)}")
    print(f"  Enquiry: {terminal_safe(view.enquiry_reference) or 'none linked'}; answered by {view.answered_by}; "
          f"recorded by {terminal_safe(view.recorded_by)}")
    print(f"  Delivery: {view.state} ({view.attempts} tries)"
          + (f"; last error: {terminal_safe(view.last_error)}" if view.last_error else ""))
    for _key, label, words in view.answers:
        print(f"  {label}:\n      {terminal_safe(words)}")
    print("  History:")
    for when, event, detail, by in view.events:
        print(f"    {_when(when)}  {event}" + (f"  {terminal_safe(detail)}" if detail else "")
              + (f"  by {terminal_safe(by)}" if by else ""))
    return 0


def cmd_advocacy_make(args) -> int:
    import uuid

    from bot.advocacy.config import get_advocacy_config
    from bot.records import advocacy, session_scope
    from bot.records.enquiries import require_enquiry_by_reference

    answers = {key: getattr(args, key) for key in ("understand", "remember", "weigh_up", "say_what_they_want",
                                                    "support", "contact", "safe_times") if getattr(args, key)}
    with session_scope() as session:
        enquiry_id = require_enquiry_by_reference(session, args.enquiry).id if args.enquiry else None
        referral = advocacy.make_referral(session, answers, answered_by=args.answered_by, consent_words=args.consent,
                                          recorded_by=_staff_name(), channel="staff", source="staff",
                                          source_ref=f"msp:{uuid.uuid4().hex}", enquiry_id=enquiry_id,
                                          delivery_channel=get_advocacy_config().delivery)
        referral_id, reference = referral.id, referral.reference
    print(f"Advocacy referral {referral_id} made (reference {reference}); it is queued for the provider.")
    return 0


def cmd_advocacy_resend(args) -> int:
    from bot.records import advocacy, session_scope

    with session_scope() as session:
        advocacy.resend(session, args.id, _staff_name())
    print(f"Advocacy referral {args.id} queued again (same reference).")
    return 0


def cmd_advocacy_ack(args) -> int:
    from bot.records import advocacy, session_scope

    with session_scope() as session:
        reference = advocacy.get_referral(session, args.id).reference
        advocacy.acknowledge(session, reference, _staff_name(), "recorded from the command line")
    print(f"Advocacy referral {args.id} marked acknowledged by the provider.")
    return 0


def cmd_advocacy_withdraw(args) -> int:
    from bot.records import advocacy, session_scope

    with session_scope() as session:
        told = advocacy.withdraw_consent(session, args.id, given_by=args.by, words=args.words,
                                         recorded_by=_staff_name(), channel="staff")
    print(f"Consent to advocacy referral {args.id} recorded as withdrawn; it will not be sent"
          + (" and the provider will be told." if told else "."))
    return 0


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, then usage hint, exit 2
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from bot.records.models import ADVOCACY_DELIVERY_STATES, CONTACT_METHODS

    parser = _Parser(prog=PROG, description="Staff tools for MSP records.")
    areas = parser.add_subparsers(dest="area", metavar="{db,enquiry,user,totp,report,retention,advocacy}", parser_class=_Parser)
    areas.required = True

    db = areas.add_parser("db", help="the records database")
    db_cmds = db.add_subparsers(dest="command", metavar="{upgrade,current}", parser_class=_Parser)
    db_cmds.required = True
    up = db_cmds.add_parser("upgrade", help="create or update the MSP tables")
    up.add_argument("--url", help="database URL (default: DATABASE_URL or var/msp.db)")
    up.set_defaults(func=cmd_db_upgrade)
    cur = db_cmds.add_parser("current", help="show the schema revision")
    cur.add_argument("--url", help="database URL (default: DATABASE_URL or var/msp.db)")
    cur.set_defaults(func=cmd_db_current)

    enquiry = areas.add_parser("enquiry", help="enquiries and invitations")
    enq_cmds = enquiry.add_subparsers(
        dest="command", metavar="{create,contact,assign,invite,show,close,feedback}", parser_class=_Parser
    )
    enq_cmds.required = True

    create = enq_cmds.add_parser("create", help="create an enquiry")
    create.add_argument("--reference", required=True, help="the council's reference")
    create.add_argument("--worker", help="assigned worker")
    create.add_argument(
        "--safe-to-text", type=_yes_no, default=False, metavar="yes|no",
        help="is it safe to send text messages? (default: no)",
    )
    create.add_argument("--safe-number", help="a number that is safe to contact")
    create.add_argument("--safe-times", help="when it is safe to contact, in words")
    create.add_argument("--contact", choices=CONTACT_METHODS, help="preferred way to keep in touch")
    create.add_argument(
        "--sms-council-name", type=_yes_no, default=False, metavar="yes|no",
        help="may texts name the council? (default: no, a neutral sender name)",
    )
    create.set_defaults(func=cmd_enquiry_create)

    contact = enq_cmds.add_parser("contact", help="change contact preferences (the earlier ones are kept)")
    contact.add_argument("reference", help="the council's reference")
    contact.add_argument("--safe-to-text", type=_yes_no, metavar="yes|no")
    contact.add_argument("--safe-number", help="a number that is safe to contact ('' to clear)")
    contact.add_argument("--safe-times", help="when it is safe to contact ('' to clear)")
    contact.add_argument("--contact", dest="preferred_contact", choices=CONTACT_METHODS)
    contact.add_argument("--sms-council-name", dest="sms_name_allowed", type=_yes_no, metavar="yes|no")
    contact.set_defaults(func=cmd_enquiry_contact)

    assign = enq_cmds.add_parser("assign", help="assign an enquiry to a worker (the portal username)")
    assign.add_argument("reference", help="the council's reference")
    assign.add_argument("--worker", required=True, help="the worker's portal username ('' to unassign)")
    assign.set_defaults(func=cmd_enquiry_assign)

    invite = enq_cmds.add_parser("invite", help="issue a single-use link and short code")
    invite.add_argument("reference", help="the council's reference")
    invite.add_argument("--days", type=_days, default=14, help="days before it expires (default 14)")
    invite.set_defaults(func=cmd_enquiry_invite)

    show = enq_cmds.add_parser("show", help="show an enquiry and its outcome history")
    show.add_argument("reference", help="the council's reference")
    show.set_defaults(func=cmd_enquiry_show)

    close = enq_cmds.add_parser("close", help="mark an enquiry concluded")
    close.add_argument("reference", help="the council's reference")
    close.set_defaults(func=cmd_enquiry_close)

    fb = enq_cmds.add_parser("feedback", help="ask for end-of-enquiry feedback (web link or SMS), or re-issue "
                                              "the web link")
    fb.add_argument("reference", help="the council's reference")
    how = fb.add_mutually_exclusive_group(required=True)
    how.add_argument("--by", choices=("web", "sms"), help="web (link and code) or sms")
    how.add_argument("--reissue", action="store_true",
                     help="a new web link and code for the open survey (answers kept; the earlier ones stop)")
    fb.add_argument("--participant", type=int, help="participant id (when there is more than one)")
    fb.set_defaults(func=cmd_enquiry_feedback)

    from bot.records.models import STAFF_ROLES

    user = areas.add_parser("user", help="staff accounts for the portal")
    user_cmds = user.add_subparsers(dest="command", metavar="{create,list}", parser_class=_Parser)
    user_cmds.required = True
    # No abbreviations: "--password SECRET" must not be taken for --password-file (and so put a
    # password on the command line, where other users can read it).
    ucreate = user_cmds.add_parser("create", help="create a staff account (the first administrator)",
                                   allow_abbrev=False)
    ucreate.add_argument("--role", choices=STAFF_ROLES, required=True)
    ucreate.add_argument("--username", required=True, help="3 to 64 of a-z, 0-9, '.', '-', '_'")
    ucreate.add_argument("--name", required=True, help="the person's name, as colleagues know them")
    ucreate.add_argument("--team", help="team (practitioners see their team's enquiries)")
    ucreate.add_argument("--password-file", help="read the password from this file's first line ('-': standard "
                                                  "input) instead of asking")
    ucreate.set_defaults(func=cmd_user_create)
    ulist = user_cmds.add_parser("list", help="list staff accounts")
    ulist.set_defaults(func=cmd_user_list)

    totp = areas.add_parser("totp", help="the key the portal's second-factor secrets are encrypted with")
    totp_cmds = totp.add_subparsers(dest="command", metavar="{new-key,rotate}", parser_class=_Parser)
    totp_cmds.required = True
    tkey = totp_cmds.add_parser("new-key", help="print a new random key (for MSP_TOTP_KEYS or the key file)")
    tkey.set_defaults(func=cmd_totp_new_key)
    trot = totp_cmds.add_parser("rotate", help="re-encrypt every second-factor secret with the newest key "
                                               "(the first in MSP_TOTP_KEYS or the key file)")
    trot.set_defaults(func=cmd_totp_rotate)

    report = areas.add_parser("report", help="figures for national reporting")
    rep_cmds = report.add_subparsers(dest="command", metavar="{sg4a,feedback}", parser_class=_Parser)
    rep_cmds.required = True
    sg4a = rep_cmds.add_parser("sg4a", help="SAC SG4a: asked about outcomes, and achieved")
    sg4a.add_argument("--from", dest="date_from", type=_date, help="concluded on or after (YYYY-MM-DD)")
    sg4a.add_argument("--to", dest="date_to", type=_date, help="concluded before (YYYY-MM-DD)")
    sg4a.add_argument("--published", action="store_true", help="apply the publication rule")
    sg4a.set_defaults(func=cmd_report_sg4a)
    fbr = rep_cmds.add_parser("feedback", help="end-of-enquiry feedback figures")
    fbr.add_argument("--from", dest="date_from", type=_date, help="concluded on or after (YYYY-MM-DD)")
    fbr.add_argument("--to", dest="date_to", type=_date, help="concluded before (YYYY-MM-DD)")
    fbr.add_argument("--published", action="store_true", help="apply the publication rule")
    fbr.set_defaults(func=cmd_report_feedback)

    ret = areas.add_parser("retention", help="deleting conversations past their retention, erasure on request")
    ret_cmds = ret.add_subparsers(dest="command", metavar="{purge,erase}", parser_class=_Parser)
    ret_cmds.required = True
    purge = ret_cmds.add_parser("purge", help="delete conversations past their retention (the scheduler does "
                                              "this every hour)")
    purge.add_argument("--dry-run", action="store_true", help="only list what would be deleted")
    purge.set_defaults(func=cmd_retention_purge)
    erase = ret_cmds.add_parser("erase", help="erase one conversation now, on request (audited)", allow_abbrev=False)
    erase.add_argument("sender_id", help="the conversation id (as the portal shows it)")
    erase.add_argument("--reason", required=True, help="the request it answers (kept in the audit log)")
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    erase.set_defaults(func=cmd_retention_erase)

    adv = areas.add_parser("advocacy", help="independent advocacy referrals")
    adv_cmds = adv.add_subparsers(dest="command", metavar="{list,show,make,resend,ack,withdraw}", parser_class=_Parser)
    adv_cmds.required = True
    alist = adv_cmds.add_parser("list", help="referrals and where their delivery is")
    alist.add_argument("--state", choices=ADVOCACY_DELIVERY_STATES)
    alist.set_defaults(func=cmd_advocacy_list)
    ashow = adv_cmds.add_parser("show", help="one referral, word for word, and its history")
    ashow.add_argument("id", type=int)
    ashow.set_defaults(func=cmd_advocacy_show)
    amake = adv_cmds.add_parser("make", help="a referral made by staff, with the person's consent")
    amake.add_argument("--consent", required=True, help="the person's (or representative's) words of consent")
    amake.add_argument("--answered-by", required=True, choices=("person", "representative", "staff"))
    amake.add_argument("--enquiry", help="the council reference of the enquiry, if any")
    for flag in ("understand", "remember", "weigh-up", "say-what-they-want", "support", "contact", "safe-times"):
        amake.add_argument(f"--{flag}", dest=flag.replace("-", "_"), help="what was said, word for word")
    amake.set_defaults(func=cmd_advocacy_make)
    aresend = adv_cmds.add_parser("resend", help="send again (same reference)")
    aresend.add_argument("id", type=int)
    aresend.set_defaults(func=cmd_advocacy_resend)
    aack = adv_cmds.add_parser("ack", help="the provider has said it has the referral")
    aack.add_argument("id", type=int)
    aack.set_defaults(func=cmd_advocacy_ack)
    awd = adv_cmds.add_parser("withdraw", help="consent withdrawn: never sent, or the provider is told")
    awd.add_argument("id", type=int)
    awd.add_argument("--by", required=True, choices=("person", "representative", "staff"),
                     help="who withdrew consent")
    awd.add_argument("--words", help="their words, as said")
    awd.set_defaults(func=cmd_advocacy_withdraw)
    return parser


def _is_missing_schema(error: DBAPIError) -> bool:
    message = str(getattr(error, "orig", error)).lower()
    return "no such table" in message or ("relation" in message and "does not exist" in message)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = os.environ.get("MSP_DEBUG", "") not in ("", "0")
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # one clear line, never a traceback
        if debug:
            raise
        print(f"{PROG}: error: {_describe(error)}", file=sys.stderr)
        return 1


def _describe(error: Exception) -> str:
    from bot.records.db import safe_url
    from bot.records.errors import RecordsError

    from bot.records.transcripts import TrackerUnavailable

    if isinstance(error, (RecordsError, CommandError)):
        return str(error)
    if isinstance(error, TrackerUnavailable):
        return f"cannot read the conversations (Rasa's tracker store, MSP_TRACKER_DB or MSP_TRACKER_URL): {error}"
    if isinstance(error, (OperationalError, ProgrammingError)) and _is_missing_schema(error):
        return "the records database has no MSP tables yet. Run: msp db upgrade"
    if isinstance(error, OperationalError):
        reason = (str(getattr(error, "orig", error)).strip().splitlines() or ["unknown"])[0]
        try:
            where = safe_url()
        except Exception:
            where = "(DATABASE_URL)"
        return f"cannot use the records database {where}: {reason}"
    if isinstance(error, SQLAlchemyError):
        reason = (str(getattr(error, "orig", error)).strip().splitlines() or ["unknown"])[0]
        return f"database problem: {reason}"
    return f"unexpected {type(error).__name__}: {error} (set MSP_DEBUG=1 for details)"


if __name__ == "__main__":
    sys.exit(main())
