"""Serve the demo council page with the widget, under a strict Content-Security-Policy.

    python web_widget/serve.py --port 8000 --rasa-url http://127.0.0.1:5005

Started by ``scripts.stack.Stack`` (``make run``, the browser tests, the widget
benchmark). It stands in for a council's own web server: the page loads the
widget with one script tag and no inline script or style, and the policy only
lets it talk to its own origin and the Rasa server. Loopback only, GET/HEAD only.

Routes: ``/`` the council page, ``/neutral.html`` a neutral page (the quick-exit
target in tests), ``/council.css``, ``/widget/msp-widget.js`` and ``.css``
(built into ``web_widget/dist`` by ``npm run build``).
"""
from __future__ import annotations

import argparse
import gzip
import html
import re
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Optional, Tuple
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
DEMO = HERE / "demo"
DIST = HERE / "dist"
DEFAULT_EXIT_URL = "https://www.bbc.co.uk/weather"

TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".js": "text/javascript; charset=utf-8"}


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(rasa_url: str) -> str:
    """No inline script or style anywhere; connections only to ourselves and the Rasa server."""
    http_origin = origin_of(rasa_url)
    ws_origin = re.sub(r"^http", "ws", http_origin)
    return "; ".join([
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        f"connect-src 'self' {http_origin} {ws_origin}",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    ])


def local_details() -> Tuple[str, str]:
    """Council name and phone from bot/settings.py when it is importable (one source of truth)."""
    try:
        sys.path.insert(0, str(HERE.parent))
        from bot.settings import get_settings

        s = get_settings()
        return s.council_name, s.council_phone
    except Exception:  # noqa: BLE001 - the demo page still works with its own defaults
        return "Exampleshire Council", "01632 960 000"


class Site:
    def __init__(self, rasa_url: str, exit_url: str):
        council, phone = local_details()
        values = {
            "RASA_URL": origin_of(rasa_url),
            "EXIT_URL": exit_url,
            "COUNCIL": council,
            "PHONE": phone,
            "PHONE_TEL": re.sub(r"[^\d+]", "", phone),
        }
        self.csp = content_security_policy(rasa_url)
        self.files: Dict[str, Tuple[bytes, str, bool]] = {}
        page = (DEMO / "index.html").read_text("utf-8")
        for key, value in values.items():
            page = page.replace("{{" + key + "}}", html.escape(value, quote=True))
        self.add("/", page.encode(), ".html", cache=False)
        self.add("/index.html", page.encode(), ".html", cache=False)
        self.add("/neutral.html", (DEMO / "neutral.html").read_bytes(), ".html", cache=False)
        self.add("/council.css", (DEMO / "council.css").read_bytes(), ".css", cache=True)
        for name in ("msp-widget.js", "msp-widget.css"):
            path = DIST / name
            if not path.exists():
                raise SystemExit(f"{path} is missing: build the widget first (cd web_widget && npm ci && npm run build)")
            self.add(f"/widget/{name}", path.read_bytes(), path.suffix, cache=True)

    def add(self, route: str, body: bytes, suffix: str, cache: bool) -> None:
        self.files[route] = (body, TYPES[suffix], cache)
        self.files[route + "\0gz"] = (gzip.compress(body, 9, mtime=0), TYPES[suffix], cache)

    def lookup(self, route: str, gzip_ok: bool) -> Optional[Tuple[bytes, str, bool, bool]]:
        if route not in self.files:
            return None
        if gzip_ok:
            body, ctype, cache = self.files[route + "\0gz"]
            return body, ctype, cache, True
        body, ctype, cache = self.files[route]
        return body, ctype, cache, False


def make_handler(site: Site):
    class Handler(BaseHTTPRequestHandler):
        server_version = "msp-demo"
        sys_version = ""

        def log_message(self, fmt, *args):  # noqa: D102 - quiet: no URLs (they may carry tokens) in logs
            pass

        def _send(self, head_only: bool) -> None:
            route = urlsplit(self.path).path
            gzip_ok = "gzip" in (self.headers.get("Accept-Encoding") or "")
            found = site.lookup(route, gzip_ok)
            if route == "/favicon.ico":
                self.send_response(HTTPStatus.NO_CONTENT)
                self.send_header("Cache-Control", "public, max-age=86400")
                self.end_headers()
                return
            if found is None:
                body, ctype, cache, gzipped = b"Not found\n", "text/plain; charset=utf-8", False, False
                self.send_response(HTTPStatus.NOT_FOUND)
            else:
                body, ctype, cache, gzipped = found
                self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if gzipped:
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Vary", "Accept-Encoding")
            # HTML is never stored (and so never kept in the back/forward cache);
            # the widget's code may be cached, it holds nothing personal.
            self.send_header("Cache-Control", "public, max-age=300" if cache else "no-store")
            self.send_header("Content-Security-Policy", site.csp)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Resource-Policy", "same-origin")
            self.send_header("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
            self.end_headers()
            if not head_only:
                self.wfile.write(body)

        def do_GET(self):  # noqa: N802
            self._send(head_only=False)

        def do_HEAD(self):  # noqa: N802
            self._send(head_only=True)

    return Handler


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--rasa-url", default="http://127.0.0.1:5005")
    parser.add_argument("--exit-url", default=DEFAULT_EXIT_URL)
    args = parser.parse_args(argv)
    site = Site(args.rasa_url, args.exit_url)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(site))
    server.daemon_threads = True
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
