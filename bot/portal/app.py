"""``create_app(config)``: the staff portal, built in named steps.

    configure                settings, request size limits, proxy handling
    register_request_hooks   session, access rules and CSRF before each view;
                             cookie and security headers after
    register_blueprints      one per area: auth, home, admin, conversations, enquiries, handoff, advocacy, reports, audit
    register_errorhandlers   a clear page for every error, never a stack trace
    register_template_helpers

Nothing connects to a database here; the first request does.
"""
from __future__ import annotations

import logging
from typing import Optional

from flask import Flask, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from . import access
from .config import PortalConfig

log = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def create_app(config: Optional[PortalConfig] = None) -> Flask:
    config = (config or PortalConfig.from_env()).check().require_totp_key()
    app = Flask(__name__, static_folder="static", template_folder="templates")
    configure(app, config)
    register_request_hooks(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    return app


def configure(app: Flask, config: PortalConfig) -> None:
    app.config.update(
        PORTAL=config,
        TESTING=config.testing,
        # Flask's own signed-cookie session is not used (sessions live in the
        # database); no SECRET_KEY is needed or set.
        MAX_CONTENT_LENGTH=64 * 1024,
        MAX_FORM_MEMORY_SIZE=64 * 1024,
        MAX_FORM_PARTS=50,
        TRAP_BAD_REQUEST_ERRORS=False,
        PROPAGATE_EXCEPTIONS=False,
        SEND_FILE_MAX_AGE_DEFAULT=300,
        SESSION_COOKIE_SECURE=config.cookie_secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
    )
    app.jinja_env.autoescape = True
    if config.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.trusted_proxies, x_proto=config.trusted_proxies)


def register_request_hooks(app: Flask) -> None:
    @app.before_request
    def _session_and_access():
        access.load_session()
        return access.enforce()

    @app.after_request
    def _headers(response):
        access.save_cookie(response)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.endpoint == "static":
            response.headers["Cache-Control"] = "no-cache"
        else:
            # Pages hold personal data: never kept by the browser or a proxy.
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response


def register_blueprints(app: Flask) -> None:
    from .admin.routes import bp as admin
    from .advocacy.routes import bp as advocacy
    from .audit_log.routes import bp as audit_log
    from .auth.routes import bp as auth
    from .conversations.routes import bp as conversations
    from .enquiries.routes import bp as enquiries
    from .handoff.routes import bp as handoff
    from .home.routes import bp as home
    from .reports.routes import bp as reports

    for blueprint in (auth, home, admin, conversations, enquiries, handoff, advocacy, reports, audit_log):
        app.register_blueprint(blueprint)


def register_errorhandlers(app: Flask) -> None:
    from .errors import install

    install(app)


def register_template_helpers(app: Flask) -> None:
    from bot.records.models import STAFF_ROLE_LABELS

    @app.context_processor
    def _helpers():
        return {
            "csrf_token": access.csrf_token,
            "current_user": g.get("user"),
            "role_labels": STAFF_ROLE_LABELS,
            "portal": app.config["PORTAL"],
        }

    @app.template_filter("when")
    def _when(value):
        if value is None:
            return "-"
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
