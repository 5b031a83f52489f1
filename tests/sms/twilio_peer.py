"""A local Twilio for the tests: the Messages API on a loopback port, and Twilio's signing.

The real ``twilio`` Client is pointed here (``MSP_TWILIO_API_URL``). It checks
HTTP basic auth (account SID and auth token) like Twilio, stores what it is
asked to send, lists messages (``To``/``From`` filters, newest first), and
after each message posts a signed status callback to the ``StatusCallback``
URL, reaching our server through ``public_url -> local_url`` (as a proxy
would). Faults to order: ``fail_next(n)`` answers the next n sends with
Twilio's 500 error body; ``hold()`` stores the next message and then keeps
the sender waiting for its answer until ``release()``.

``sign(token, url, params)`` is Twilio's documented webhook signature
(HMAC-SHA1 over the URL followed by each parameter name and value, sorted by
name, in base64), written here independently of the ``twilio`` library the
server uses to check it.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import urllib.parse
import urllib.request
from email.utils import format_datetime
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Optional

_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-f]{32})/Messages\.json$")


def sign(token: str, url: str, params: Dict[str, str]) -> str:
    data = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode("utf-8"), hashlib.sha1).digest()).decode()


def post_signed(token: str, public_url: str, local_url: str, params: Dict[str, str],
                signature: Optional[str] = None, timeout: float = 30.0):
    """POST ``params`` as Twilio does to ``local_url``, signed for ``public_url``. (status, body)."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature is None:
        signature = sign(token, public_url, params)
    if signature != "":
        headers["X-Twilio-Signature"] = signature
    req = urllib.request.Request(local_url, data=urllib.parse.urlencode(params).encode(), headers=headers,
                                 method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


class TwilioPeer:
    def __init__(self, account_sid: str, auth_token: str, public_url: str, local_url: str = "") -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.public_url = public_url.rstrip("/")
        self.local_url = local_url.rstrip("/")
        self.messages: List[dict] = []
        self.requests: List[tuple] = []  # (method, status) of every API request
        self.callbacks: List[tuple] = []  # (url, params, status answered)
        self.send_callbacks = True
        self._fail = 0
        self._hold = False
        self._held = threading.Event()
        self._release = threading.Event()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "TwilioPeer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, n: int) -> None:
        with self._lock:
            self._fail = n

    def hold(self) -> None:
        self._held.clear()
        self._release.clear()
        self._hold = True

    def wait_held(self, timeout: float) -> bool:
        return self._held.wait(timeout)

    def release(self) -> None:
        self._hold = False
        self._release.set()

    def sent_to(self, to: str) -> List[dict]:
        with self._lock:
            return [m for m in self.messages if m["to"] == to]

    # --- HTTP ---------------------------------------------------------------

    def _resource(self, m: dict) -> dict:
        return {
            "sid": m["sid"], "account_sid": self.account_sid, "to": m["to"], "from": m["from"],
            "body": m["body"], "status": "queued", "num_segments": "1", "direction": "outbound-api",
            "date_created": format_datetime(m["created"], usegmt=True),
            "date_updated": format_datetime(m["created"], usegmt=True), "date_sent": None,
            "api_version": "2010-04-01", "error_code": None, "error_message": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{m['sid']}.json",
        }

    def _callback(self, m: dict) -> None:
        url = m.get("status_callback")
        if not url or not self.send_callbacks:
            return
        for status in ("sent", "delivered"):
            params = {"MessageSid": m["sid"], "MessageStatus": status, "AccountSid": self.account_sid,
                      "To": m["to"], "From": m["from"], "ApiVersion": "2010-04-01"}
            local = self.local_url + url[len(self.public_url):] if url.startswith(self.public_url) else url
            code, _ = post_signed(self.auth_token, url, local, params)
            self.callbacks.append((url, params, code))

    def _handler(self):
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _json(self, status: int, body: dict) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _authorised(self) -> bool:
                expected = base64.b64encode(f"{peer.account_sid}:{peer.auth_token}".encode()).decode()
                return hmac.compare_digest(self.headers.get("Authorization", ""), f"Basic {expected}")

            def _route(self) -> Optional[str]:
                path = urllib.parse.urlsplit(self.path).path
                match = _MESSAGES.match(path)
                return match["account"] if match else None

            def do_GET(self):
                account = self._route()
                if account is None:
                    return self._json(404, {"code": 20404, "message": "Not found", "status": 404})
                if not self._authorised() or account != peer.account_sid:
                    return self._json(401, {"code": 20003, "message": "Authenticate", "status": 401})
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                with peer._lock:
                    peer.requests.append(("GET", 200))
                    found = [m for m in peer.messages
                             if ("To" not in query or m["to"] == query["To"])
                             and ("From" not in query or m["from"] == query["From"])]
                found.sort(key=lambda m: m["created"], reverse=True)
                size = int(query.get("PageSize", "50"))
                self._json(200, {"messages": [peer._resource(m) for m in found[:size]], "page": 0,
                                 "page_size": size, "start": 0, "end": max(0, min(size, len(found)) - 1),
                                 "first_page_uri": self.path, "next_page_uri": None,
                                 "previous_page_uri": None, "uri": self.path})

            def do_POST(self):
                account = self._route()
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
                if account is None:
                    return self._json(404, {"code": 20404, "message": "Not found", "status": 404})
                if not self._authorised() or account != peer.account_sid:
                    return self._json(401, {"code": 20003, "message": "Authenticate", "status": 401})
                with peer._lock:
                    if peer._fail > 0:
                        peer._fail -= 1
                        peer.requests.append(("POST", 500))
                        return self._json(500, {"code": 20500, "message": "Internal Server Error",
                                                "more_info": "https://www.twilio.com/docs/errors/20500",
                                                "status": 500})
                    if not form.get("To") or not (form.get("Body") or "").strip() or not (
                            form.get("From") or form.get("MessagingServiceSid")):
                        peer.requests.append(("POST", 400))
                        return self._json(400, {"code": 21602, "message": "Message body is required.",
                                                "status": 400})
                    m = {"sid": "SM" + secrets.token_hex(16), "to": form["To"], "from": form.get("From", ""),
                         "body": form["Body"], "status_callback": form.get("StatusCallback"),
                         "created": datetime.now(timezone.utc)}
                    peer.messages.append(m)
                    peer.requests.append(("POST", 201))
                if peer._hold:
                    peer._held.set()
                    peer._release.wait(60)
                try:
                    self._json(201, peer._resource(m))
                except OSError:  # the sender is gone
                    return
                threading.Thread(target=peer._callback, args=(m,), daemon=True).start()

        return Handler
