"""One size limit for every request body the Rasa server accepts.

A person's message is at most 2,000 characters (longer ones are answered
kindly and kept); a body of a few KB carries it on any channel. A body over
``MAX_BODY_BYTES`` is refused with 413 and a plain message before it is read,
parsed or stored: one huge message once took 35 s, held up every other
conversation and was stored as 25 MB of events (issue 10, item 5).

``install(app)`` applies the limit to the whole Sanic app (REST, the widget's
socket.io long-polling, Rasa's HTTP API). Our channels call it when the server
starts; Sanic reads the limit for each new connection. WebSocket messages are
limited by Sanic's ``WEBSOCKET_MAX_SIZE`` (set by ``scripts/serve.py``, as Sanic
reads it before the server starts) and again by engine.io
(``max_http_buffer_size`` in ``bot/channels/widget.py``).
"""
from __future__ import annotations

from typing import Any

MAX_BODY_BYTES = 16 * 1024

TOO_LARGE = {
    "error": "too_large",
    "message": ("This request is larger than 16 KB, so it was not read. "
                "Please send a shorter message, or split it into parts."),
    "max_bytes": MAX_BODY_BYTES,
}


def too_large_response() -> Any:
    from sanic import response

    return response.json(TOO_LARGE, status=413, headers={"Connection": "close"})


def install(app: Any) -> None:
    """Refuse bodies over ``MAX_BODY_BYTES`` on every route of ``app``, with a clear 413."""
    from sanic.exceptions import PayloadTooLarge

    if app.config.REQUEST_MAX_SIZE > MAX_BODY_BYTES:
        app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    if getattr(app.ctx, "msp_body_limit", False):
        return

    def handle(request: Any, exception: Exception) -> Any:  # noqa: ARG001
        return too_large_response()

    app.error_handler.add(PayloadTooLarge, handle)
    app.ctx.msp_body_limit = True
