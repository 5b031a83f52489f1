"""The scheduler: survey reminders and expiry, and the retention purge. ``python -m bot.surveys.scheduler``.

Every ``MSP_RETENTION_PURGE_MINUTES`` (default 60; the first soon after it
starts) the same loop runs the retention purge (``bot.records.retention``:
its own lock, so a second scheduler or ``msp retention purge`` never runs
alongside it; restart-safe through its pending rows). Every tick also adds
the messages stored since the last one to the portal's search index
(``bot.records.message_search``).

Started by ``make run`` (``scripts/stack.py``). Every ``MSP_SURVEY_POLL_SECONDS``
(default 60) it runs :func:`run_once`, which in one short transaction:

1. expires every open survey past the end of its feedback window;
2. queues a reminder SMS for each SMS survey still unanswered (status
   ``sent``) whose last text went out at least ``feedback_reminder_hours``
   ago, at most ``feedback_max_reminders`` (2) in all, only when the number has
   not replied STOP and only inside the safe times on record (or the
   council's default window): the same deterministic check as the first text
   (``bot.surveys.request.sms_refusal``). None after STOP, completion or
   expiry (those surveys are no longer ``sent``).

Restart-safe: everything it knows is in the records. A reminder is queued
with ``source_ref`` ``survey:<id>:reminder:<n>`` (unique in the outbox) in the
same transaction that counts it, so a scheduler killed at any point, or two
running at once, never queue one twice. The clock is a parameter (``now``),
so tests move it; ``MSP_SCHEDULER_NOW`` (ISO time) pins it for a test process.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.records import feedback
from bot.records import sms
from bot.records.models import FeedbackSurvey, utcnow
from bot.settings import Settings, get_settings
from bot.surveys import texts
from bot.surveys.request import _int_setting, sms_refusal

logger = logging.getLogger("bot.surveys.scheduler")


@dataclass(frozen=True)
class Tick:
    expired: List[int]
    reminded: List[int]
    held: List[int]  # due, but not now (outside safe times, opted out...)


def reminder_due(survey: FeedbackSurvey, now: datetime, settings: Settings) -> bool:
    if survey.channel != "sms" or survey.status != "sent":
        return False
    if survey.reminders_sent >= _int_setting(settings, "feedback_max_reminders"):
        return False
    last = survey.last_contact_at or survey.requested_at
    return now - last >= timedelta(hours=_int_setting(settings, "feedback_reminder_hours"))


def run_once(session: Session, *, now: Optional[datetime] = None, settings: Optional[Settings] = None) -> Tick:
    now = now or utcnow()
    settings = settings or get_settings()
    expired = feedback.expire_due(session, now=now)
    reminded, held = [], []
    candidates = session.execute(select(FeedbackSurvey).where(
        FeedbackSurvey.channel == "sms", FeedbackSurvey.status == "sent", FeedbackSurvey.expires_at > now)
        .order_by(FeedbackSurvey.id)).scalars().all()
    for survey in candidates:
        if not reminder_due(survey, now, settings):
            continue
        enquiry = survey.enquiry
        why = sms_refusal(session, enquiry, now, settings, survey.id)
        if why is not None or survey.number_id is None:
            held.append(survey.id)
            continue
        n = survey.reminders_sent + 1
        body = texts.render("survey_reminder", name_allowed=bool(enquiry.sms_name_allowed), settings=settings)
        row = sms.enqueue(session, survey.number_id, "survey_reminder", body, f"survey:{survey.id}:reminder:{n}",
                          now=now)
        if row is None:
            held.append(survey.id)
            continue
        survey.reminders_sent = n
        survey.last_contact_at = now
        feedback.set_status(session, survey, "sent", detail=f"sms: reminder {n} queued", recorded_by="scheduler",
                            now=now)
        reminded.append(survey.id)
    return Tick(expired, reminded, held)


def _now_from_env() -> Optional[datetime]:
    raw = os.environ.get("MSP_SCHEDULER_NOW", "").strip()
    if not raw:
        return None
    value = datetime.fromisoformat(raw)
    if value.tzinfo is None:
        raise ValueError("MSP_SCHEDULER_NOW needs a time zone, e.g. 2026-03-04T11:00:00+00:00")
    return value


def purge_tick(now: Optional[datetime] = None) -> None:
    """One retention purge, logged as counts (never ids or content)."""
    from bot.records import retention
    from bot.records.transcripts import TrackerUnavailable

    try:
        result = retention.purge(now=now, recorded_by="scheduler")
    except TrackerUnavailable as error:
        logger.info("retention purge skipped: %s", error)
        return
    if result.lock_busy:
        logger.info("retention purge skipped: another purge holds the lock")
    elif result.removed or result.came_back:
        logger.info("retention purge: %d conversations (%d events) deleted, %d finished from an earlier run, "
                    "%d kept for enquiries", len(result.removed), result.events_removed, result.resumed,
                    len(result.kept))


def search_tick() -> int:
    """Index the words people typed since the last tick (``bot.records.message_search``); how many."""
    from sqlalchemy.exc import OperationalError

    from bot.records import message_search, transcripts

    try:
        return message_search.catch_up(transcripts.get_tracker_write_engine())
    except transcripts.TrackerUnavailable as error:
        logger.debug("search index not updated: %s", error)
        return 0
    except OperationalError as error:  # the tracker file does not exist yet, or the database is down
        # Every tick: debug only (the purge says so hourly at info, and searches read the events meanwhile).
        logger.debug("search index not updated: %s", transcripts._first_line(error))
        return 0


def main() -> int:
    from bot.records import session_scope

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s  %(message)s")
    poll = float(os.environ.get("MSP_SURVEY_POLL_SECONDS", "60") or 60)
    purge_every = 60 * float(os.environ.get("MSP_RETENTION_PURGE_MINUTES", "60") or 60)
    next_purge = time.monotonic() + min(purge_every, 30.0)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    logger.info("survey scheduler started (every %.1f s)", poll)
    while not stop.is_set():
        try:
            with session_scope() as session:
                tick = run_once(session, now=_now_from_env())
            if tick.expired or tick.reminded:
                logger.info("expired surveys %s; reminders queued for surveys %s", tick.expired, tick.reminded)
        except Exception:  # noqa: BLE001 - keep going; the next tick tries again
            logger.exception("survey scheduler tick failed")
        try:
            indexed = search_tick()
            if indexed:
                logger.info("search index: %d messages added", indexed)
        except Exception:  # noqa: BLE001 - searches stay complete without it (they read newer events)
            logger.exception("search index update failed")
        if time.monotonic() >= next_purge:
            next_purge = time.monotonic() + purge_every
            try:
                purge_tick(_now_from_env())
            except Exception:  # noqa: BLE001 - pending rows let the next run finish the job
                logger.exception("retention purge failed; the next run finishes what it left")
        stop.wait(poll)
    logger.info("survey scheduler stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
