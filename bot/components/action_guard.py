"""When the action server cannot answer, the person gets a kind message, never silence.

Rasa 3.6 calls custom actions over HTTP (``RemoteAction.run``). If the action
server is down, crashed in the action (HTTP 500) or hangs, that call raises and
``MessageProcessor._run_action`` logs "Bot will continue, but the actions
events are lost": the turn carries on without the action's events, and the
person usually gets an empty reply (or, in a form, nothing at all). Two small
wrappers change that:

1. ``RemoteAction.run`` is given a time limit (``MSP_ACTION_TIMEOUT_SECONDS``,
   default 20; Rasa's own is 5 minutes) and notes each failure (not a form's
   rejection, which is normal) in a per-turn list held in a ``ContextVar``.
2. ``MessageProcessor._run_action`` runs Rasa's own code, then, if a custom
   action failed during it, sends ``unavailable_text()`` (the council's number
   and 999, from ``bot.settings``), records it in the conversation, and ends the
   turn listening, so nothing else is predicted on top of a half-done action. A
   form stays active on the same question: the person can send the same answer
   again once the action server is back, and nothing they typed is lost (the
   message is already in the tracker store). One exception: our custom
   ``action_session_start`` (it restores a live handoff) failing starts the
   session the way Rasa's built-in action does, silently, so a first message
   still gets its own answer (the 999 reply first).

Danger replies come from SafeguardPolicy and ``utter_`` responses, which never
need the action server, so they are unaffected.

The text is not a ``domain.yml`` response: no rule or story can name a failure,
and ``rasa data validate --fail-on-warnings`` refuses an unused response. It is
checked by the same readability rules in ``tests/unit/test_action_guard.py``.

Check this when upgrading Rasa: it wraps ``rasa.core.processor.MessageProcessor
._run_action`` and ``rasa.core.actions.action.RemoteAction.run`` (a test pins
the version and both signatures).
"""
from __future__ import annotations

import asyncio
import logging
import os
from contextvars import ContextVar
from typing import Any, List, Optional

from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.actions.action import ActionSessionStart as DefaultSessionStart
from rasa.core.processor import MessageProcessor
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered
from rasa.shared.exceptions import RasaException

from bot.settings import Settings, get_settings

logger = logging.getLogger(__name__)

TIMEOUT_ENV = "MSP_ACTION_TIMEOUT_SECONDS"
DEFAULT_TIMEOUT = 20.0
#: Names this reply in the tracker (``metadata.utter_action``), for staff and tests.
REPLY_NAME = "msp_action_server_down"

_ORIGINAL_REMOTE_RUN = RemoteAction.run
_ORIGINAL_RUN_ACTION = MessageProcessor._run_action
_FAILURES: ContextVar[Optional[List[str]]] = ContextVar("msp_action_failures", default=None)


def unavailable_text(settings: Optional[Settings] = None) -> str:
    s = settings or get_settings()
    return (
        "Sorry, something went wrong on our side, so I can't answer that just now. "
        "Nothing you typed is lost. Please try again in a few minutes. "
        f"Or call {s.council_name} on {s.council_phone}, {s.council_office_hours}. "
        f"If you or anyone else is in danger now, call {s.emergency_number}."
    )


def action_timeout() -> float:
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    try:
        value = float(raw) if raw else DEFAULT_TIMEOUT
    except ValueError:
        logger.warning("%s=%r is not a number; using %s s.", TIMEOUT_ENV, raw, DEFAULT_TIMEOUT)
        return DEFAULT_TIMEOUT
    return value if value > 0 else DEFAULT_TIMEOUT


async def remote_run(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any):
    """Rasa's call to the action server, with a time limit; failures are noted for the turn."""
    timeout = action_timeout()
    try:
        return await asyncio.wait_for(
            _ORIGINAL_REMOTE_RUN(self, output_channel, nlg, tracker, domain), timeout
        )
    except ActionExecutionRejection:
        raise  # a form rejecting a message: part of normal running
    except Exception as exc:
        failures = _FAILURES.get()
        if failures is not None:
            failures.append(self.name())
        if isinstance(exc, asyncio.TimeoutError):
            logger.error("The action server did not answer '%s' within %.0f s.", self.name(), timeout)
            raise RasaException(f"Custom action '{self.name()}' timed out.") from exc
        raise


async def run_action(self: MessageProcessor, action: Any, tracker: Any, output_channel: Any,
                     nlg: Any, prediction: Any) -> bool:
    """Rasa's ``_run_action``; if a custom action failed in it, say so kindly and listen."""
    failures: List[str] = []
    token = _FAILURES.set(failures)
    try:
        predict_more = await _ORIGINAL_RUN_ACTION(self, action, tracker, output_channel, nlg,
                                                  prediction)
    finally:
        _FAILURES.reset(token)
    if not failures:
        return predict_more
    if action.name() == ACTION_SESSION_START_NAME:
        # Our action_session_start (bot/actions/handoff.py) puts a live handoff back; without the
        # action server, start the session as Rasa would by itself and say nothing: the person's
        # message still gets its answer (the danger reply first), from the Rasa server alone.
        logger.error("The action server could not answer action_session_start in conversation %s: "
                     "started the session without it (a live handoff is not restored).", tracker.sender_id)
        for event in await DefaultSessionStart().run(output_channel, nlg, tracker, self.domain):
            tracker.update(event, self.domain)
        return predict_more
    logger.error("The action server could not answer (%s) in conversation %s: sent the "
                 "'action server down' reply and stopped the turn.", ", ".join(failures),
                 tracker.sender_id)
    reply = BotUttered(unavailable_text(), data={}, metadata={"utter_action": REPLY_NAME})
    tracker.update(reply)
    try:
        await self.execute_side_effects([reply], tracker, output_channel)
    except Exception:  # noqa: BLE001 - the channel itself failed; the reply is in the tracker
        logger.exception("Could not send the 'action server down' reply.")
    tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
    return False


def install() -> None:
    """Idempotent."""
    if RemoteAction.run is not remote_run:
        RemoteAction.run = remote_run
    if MessageProcessor._run_action is not run_action:
        MessageProcessor._run_action = run_action
