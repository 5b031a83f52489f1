"""Reading a message off the Rasa server's event loop, so both cores work.

Rasa 3.6 runs the NLU pipeline inside ``MessageProcessor.parse_message`` on
the server's event-loop thread: while one message is read, no other
conversation moves (no tracker loads or saves, no replies sent, no action
server answers handled). Most of that time is the sentence encoder (ONNX
Runtime, which releases the GIL while it computes), so on a 2-core machine
the second core sat idle while conversations queued behind the first
(``bench/RESULTS.md``: p95 at 10 concurrent conversations).

Here the pipeline (``_parse_message_with_graph``) runs on one worker thread
instead, and the event loop carries on with the other conversations
meanwhile. Nothing else changes:

* one message at a time is read (a single worker), in the order they come;
  messages of one conversation are still handled one after the other, as
  Rasa's lock store holds the conversation's lock for the whole turn;
* the same graph, components and model; the rest of ``parse_message``
  (retrieval intents, the debug log, the check for unseen features) is Rasa's
  own code, run as before;
* an exception in the pipeline reaches Rasa exactly as it did.

``MSP_PARSE_THREAD=0`` turns it off (Rasa's own method).

As a message arrives its sentence vector is started on one more thread
(``bot/components/encode_ahead.py``), so the worker usually finds it ready.
Measured in session 19 (10 closed-loop conversations, two runs each, same
model): about 50 -> 58 messages a second, p50 194 -> 168 ms, p95 about the
same or lower. ``MSP_PARSE_WORKERS=2`` (two workers reading side by side)
also gave about 58 messages a second, but p95 rose from about 220 to 265 ms:
the two workers share the GIL and messages no longer finish in the order they
came. So the default stays one worker.

Check this when upgrading Rasa: it wraps ``MessageProcessor.parse_message``
(``tests/unit/test_offload.py`` pins the version and compares the result with
Rasa's own method).
"""
from __future__ import annotations

import asyncio
import copy
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Optional, Text

import structlog
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.trackers import DialogueStateTracker

from bot.components import encode_ahead

structlogger = structlog.get_logger()

_ORIGINAL_PARSE = MessageProcessor.parse_message
_POOL: Optional[ThreadPoolExecutor] = None


def enabled() -> bool:
    return os.environ.get("MSP_PARSE_THREAD", "1").strip().lower() not in ("0", "false", "no", "off")


def workers() -> int:
    """Worker threads reading messages (``MSP_PARSE_WORKERS``, default 1)."""
    try:
        return max(1, min(8, int(os.environ.get("MSP_PARSE_WORKERS", "1"))))
    except ValueError:
        return 1


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=workers(), thread_name_prefix="msp-parse")
    return _POOL


async def parse_message(
    self: MessageProcessor,
    message: UserMessage,
    tracker: Optional[DialogueStateTracker] = None,
    only_output_properties: bool = True,
) -> Dict[Text, Any]:
    """Rasa 3.6.21's ``parse_message`` with the graph run on the worker thread."""
    if self.http_interpreter or not enabled():
        return await _ORIGINAL_PARSE(self, message, tracker, only_output_properties)
    if tracker is None:
        tracker = DialogueStateTracker.from_events(message.sender_id, [])
    loop = asyncio.get_running_loop()
    # Its sentence vector, on another thread, while the worker reads the messages before it.
    encode_ahead.start(message.text)
    parse_data = await loop.run_in_executor(
        _pool(), self._parse_message_with_graph, message, tracker, only_output_properties)
    self._update_full_retrieval_intent(parse_data)
    structlogger.debug(
        "processor.message.parse",
        parse_data_text=copy.deepcopy(parse_data["text"]),
        parse_data_intent=parse_data["intent"],
        parse_data_entities=copy.deepcopy(parse_data["entities"]),
    )
    self._check_for_unseen_features(parse_data)
    return parse_data


def install() -> None:
    """Idempotent."""
    if MessageProcessor.parse_message is not parse_message:
        MessageProcessor.parse_message = parse_message
