"""A TCP proxy on loopback that can lose the server's bytes and drop connections.

It sits between the browser and the Rasa server in the browser tests, so a test
can make "the server" drop the widget's connection at a chosen moment:

* ``blackhole()``: keep passing the browser's bytes to the server but throw
  away everything the server sends back (a reply lost on the way);
* ``drop()``: close every open connection, and refuse new ones while ``down``;
* ``up()``: accept and forward normally again.
"""
from __future__ import annotations

import selectors
import socket
import threading
from typing import Dict, Optional


class FaultyProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1"):
        self.upstream = (upstream_host, upstream_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.listener, selectors.EVENT_READ, "accept")
        self.peer: Dict[socket.socket, socket.socket] = {}
        self.to_client: Dict[socket.socket, bool] = {}  # upstream sockets -> True
        self.lock = threading.Lock()
        self.losing = False
        self.refusing = False
        self.accepted = 0
        self._stop = False
        self._drop_now = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="faulty-proxy", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- control, from the test thread ---
    def blackhole(self) -> None:
        self.losing = True

    def drop(self, down: bool = True) -> None:
        self.refusing = down
        self._drop_now.set()
        # Wait until the proxy loop has closed everything.
        for _ in range(100):
            if not self._drop_now.is_set():
                break
            threading.Event().wait(0.02)

    def up(self) -> None:
        self.losing = False
        self.refusing = False

    def close(self) -> None:
        self._stop = True
        self.thread.join(5)
        self.listener.close()

    @property
    def open_connections(self) -> int:
        with self.lock:
            return len(self.peer) // 2

    # --- the loop ---
    def _close_pair(self, sock: socket.socket) -> None:
        with self.lock:
            other: Optional[socket.socket] = self.peer.pop(sock, None)
            if other is not None:
                self.peer.pop(other, None)
        for s in (sock, other):
            if s is None:
                continue
            self.to_client.pop(s, None)
            try:
                self.sel.unregister(s)
            except (KeyError, ValueError):
                pass
            try:
                s.close()
            except OSError:
                pass

    def _accept(self) -> None:
        try:
            client, _ = self.listener.accept()
        except BlockingIOError:
            return
        if self.refusing:
            client.close()
            return
        try:
            upstream = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            client.close()
            return
        self.accepted += 1
        for s in (client, upstream):
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.lock:
            self.peer[client] = upstream
            self.peer[upstream] = client
        self.to_client[upstream] = True
        self.sel.register(client, selectors.EVENT_READ, "data")
        self.sel.register(upstream, selectors.EVENT_READ, "data")

    def _pump(self, sock: socket.socket) -> None:
        try:
            data = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close_pair(sock)
            return
        if self.losing and sock in self.to_client:
            return  # the server's bytes are lost
        other = self.peer.get(sock)
        if other is None:
            return
        try:
            other.setblocking(True)
            other.sendall(data)
            other.setblocking(False)
        except OSError:
            self._close_pair(sock)

    def _loop(self) -> None:
        while not self._stop:
            if self._drop_now.is_set():
                for s in list(self.peer):
                    self._close_pair(s)
                self._drop_now.clear()
            for key, _ in self.sel.select(timeout=0.02):
                if key.data == "accept":
                    self._accept()
                else:
                    self._pump(key.fileobj)
        for s in list(self.peer):
            self._close_pair(s)
        self.sel.close()
