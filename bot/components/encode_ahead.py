"""Encoding each message on its own thread as soon as it arrives, ahead of the pipeline.

The Rasa server reads messages one at a time on the worker thread
(``bot/components/offload.py``): under load they queue for it, and the
reading is the slowest step of a turn. About a third of a message's reading is
the sentence encoder's forward pass (ONNX Runtime), which does not need the
GIL, and the encoder's input does not depend on anything else in the pipeline
(``TextNormaliser``'s text). So when a message arrives, ``start`` hands its
text to one more thread that normalises and encodes it at once, while the
worker is still reading the messages before it; when the worker reaches the
message, ``SentenceEncoderFeaturizer`` takes the vector instead of computing
it (``take``).

Nothing about the answer changes:

* the vector is computed by the same code on the same text (the text
  ``TextNormaliser`` gives, checked against the message's own when it is
  taken), one message per batch as in the pipeline, so it is the same vector;
* if the vector is not there (never started, evicted, a different text, the
  encoding failed), the featurizer computes it itself, as before;
* messages are still read one at a time and in the order they arrive.

It is only used when the Rasa server has loaded the encoder (a model whose
pipeline has ``SentenceEncoderFeaturizer``). ``MSP_ENCODE_AHEAD=0`` turns it
off. At most ``MAX_AHEAD`` vectors wait to be taken; the oldest go first.
"""
from __future__ import annotations

import collections
import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Optional, Tuple

import numpy as np

from bot.text.encoder import get_encoder
from bot.text.normalise import for_understanding

logger = logging.getLogger(__name__)

MAX_AHEAD = 64

_LOCK = threading.Lock()
_AHEAD: "collections.OrderedDict[str, Future]" = collections.OrderedDict()
_POOL: Optional[ThreadPoolExecutor] = None
# Counters for the tests: encodings started, vectors taken, and messages read
# without one waiting for them.
stats = {"started": 0, "taken": 0, "missed": 0}


def enabled() -> bool:
    return os.environ.get("MSP_ENCODE_AHEAD", "1").strip().lower() not in ("0", "false", "no", "off")


def _encoder_loaded() -> bool:
    return get_encoder.cache_info().currsize > 0


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="msp-encode-ahead")
    return _POOL


def _encode(text: str) -> Tuple[str, np.ndarray]:
    # The pipeline's TextNormaliser normalises the text again (about 0.1 ms):
    # the two are compared in ``take``.
    normalised = for_understanding(text)
    return normalised, get_encoder().encode([normalised])[0]


def start(text: object) -> None:
    """Begin encoding a message just received (nothing if the encoder is not in use)."""
    if not isinstance(text, str) or not text or not enabled() or not _encoder_loaded():
        return
    with _LOCK:
        if text in _AHEAD:
            return
        _AHEAD[text] = _pool().submit(_encode, text)
        stats["started"] += 1
        while len(_AHEAD) > MAX_AHEAD:
            _AHEAD.popitem(last=False)[1].cancel()


def take(original: object, text: object) -> Optional[np.ndarray]:
    """The vector of ``text`` if it was started for the message typed as ``original``."""
    if not isinstance(original, str) or not isinstance(text, str):
        return None
    with _LOCK:
        future = _AHEAD.pop(original, None)
    if future is None:
        stats["missed"] += 1
        return None
    try:
        normalised, vector = future.result()
    except Exception as exc:  # the pipeline encodes it itself
        logger.warning("Encoding ahead failed (%r); encoding in the pipeline instead", exc)
        stats["missed"] += 1
        return None
    if normalised != text:
        stats["missed"] += 1
        return None
    stats["taken"] += 1
    return vector


def clear() -> None:
    with _LOCK:
        for future in _AHEAD.values():
            future.cancel()
        _AHEAD.clear()
