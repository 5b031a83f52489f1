"""A small Socket.IO v5 client over ``websockets``, for probing the widget channel.

python-socketio's own clients need packages Rasa's pins leave out (its asyncio
client wants aiohttp >= 3.10, its threaded one websocket-client), so this speaks
the few frames the tests need directly (Engine.IO v4 over a WebSocket):
``0`` open, ``2``/``3`` ping/pong, ``40``/``44`` connect/refused, ``42`` event,
``43`` ack. Playwright's sync API runs an event loop in the test thread, so
``run()`` runs each client session with its own loop in a worker thread.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import json
from typing import Any, Awaitable, Callable, Dict, Optional
from urllib.parse import urlsplit

import websockets


def run(coro_fn: Callable[[], Awaitable[Any]], timeout: float = 90) -> Any:
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro_fn()).result(timeout)


class Refused(Exception):
    """The server refused the connection (HTTP status or a Socket.IO connect error)."""


class Client:
    """``async with Client(url, origin) as c: await c.session(); await c.say("hello")``."""

    def __init__(self, url: str, origin: Optional[str], path: str = "/socket.io"):
        parts = urlsplit(url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        self.uri = f"{scheme}://{parts.netloc}{path}/?EIO=4&transport=websocket"
        self.origin = origin
        self.ws = None
        self.bot: asyncio.Queue = asyncio.Queue()
        self.confirm: asyncio.Queue = asyncio.Queue()
        self.acks: Dict[int, asyncio.Future] = {}
        self.ids = itertools.count(1)
        self.reader: Optional[asyncio.Task] = None
        self.closed = asyncio.Event()

    async def __aenter__(self) -> "Client":
        try:
            self.ws = await websockets.connect(self.uri, origin=self.origin, open_timeout=10)
        except websockets.exceptions.InvalidStatusCode as exc:
            raise Refused(f"HTTP {exc.status_code}") from None
        opened = await asyncio.wait_for(self.ws.recv(), 10)
        assert opened.startswith("0"), opened
        await self.ws.send("40")
        reply = await asyncio.wait_for(self._next_non_ping(), 10)
        if reply.startswith("44"):
            await self.ws.close()
            raise Refused(json.loads(reply[2:]).get("message", "refused"))
        assert reply.startswith("40"), reply
        self.reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc) -> None:
        if self.reader:
            self.reader.cancel()
        if self.ws and not self.ws.closed:
            try:
                await self.ws.send("41")
            except websockets.exceptions.ConnectionClosed:
                pass
            await self.ws.close()

    async def _next_non_ping(self) -> str:
        while True:
            frame = await self.ws.recv()
            if frame == "2":
                await self.ws.send("3")
                continue
            return frame

    async def _read(self) -> None:
        try:
            while True:
                frame = await self._next_non_ping()
                if frame.startswith("42"):
                    event, *args = json.loads(frame[2:])
                    data = args[0] if args else None
                    if event == "bot_uttered":
                        self.bot.put_nowait(data)
                    elif event == "session_confirm":
                        self.confirm.put_nowait(data)
                    elif event == "session_refused":  # too many new sessions at once
                        self.confirm.put_nowait({"refused": True, **(data or {})})
                elif frame.startswith("43"):
                    body = frame[2:]
                    start = body.index("[")
                    future = self.acks.pop(int(body[:start]), None)
                    if future and not future.done():
                        result = json.loads(body[start:])
                        future.set_result(result[0] if result else None)
                elif frame.startswith("41"):
                    break
        except websockets.exceptions.ConnectionClosed:
            pass
        finally:
            self.closed.set()

    async def emit(self, event: str, data: Any = None) -> None:
        await self.ws.send("42" + json.dumps([event, data] if data is not None else [event]))

    async def call(self, event: str, data: Any = None, timeout: float = 60) -> Any:
        ack_id = next(self.ids)
        future = asyncio.get_running_loop().create_future()
        self.acks[ack_id] = future
        await self.ws.send(f"42{ack_id}" + json.dumps([event, data]))
        return await asyncio.wait_for(future, timeout)

    async def session(self, **data) -> Dict[str, Any]:
        await self.emit("session_request", data)
        return await asyncio.wait_for(self.confirm.get(), 10)

    async def say(self, text: Any, **extra) -> Dict[str, Any]:
        return await self.call("user_uttered", {"message": text, **extra})

    async def drain(self, quiet: float = 0.5) -> list:
        messages = []
        while True:
            try:
                messages.append(await asyncio.wait_for(self.bot.get(), quiet))
            except asyncio.TimeoutError:
                return messages
