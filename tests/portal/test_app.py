"""The factory, security headers and CSP, templates without inline script or style, local assets only,
the read-only tracker connection, and the `msp user` command (redaction: tests/unit/test_redact.py)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.portal import create_app
from bot.portal.app import CONTENT_SECURITY_POLICY
from bot.portal.config import ConfigError, test_config as make_config

PORTAL = Path(__file__).resolve().parents[2] / "bot" / "portal"
TEMPLATES = sorted((PORTAL / "templates").rglob("*.html"))


def test_factory_builds_one_blueprint_per_area(app):
    assert set(app.blueprints) == {"auth", "home", "admin", "conversations", "enquiries", "handoff", "advocacy",
                                   "reports", "audit"}
    assert app.config["PORTAL"].testing is True
    assert not app.secret_key  # Flask's signed-cookie session is not used
    for name in ("auth", "home", "admin", "conversations", "enquiries", "handoff", "advocacy", "reports",
                 "audit_log"):
        assert (PORTAL / "templates" / name).is_dir() and (PORTAL / name / "routes.py").exists()


def test_factory_refuses_bad_settings():
    with pytest.raises(ConfigError):
        create_app(make_config(idle_minutes=0))
    with pytest.raises(ConfigError):
        from bot.portal.config import PortalConfig

        PortalConfig.from_env({"MSP_PORTAL_IDLE_MINUTES": "soon"})


def test_every_view_declares_who_may_open_it(app):
    for endpoint, view in app.view_functions.items():
        if endpoint == "static":
            continue
        assert getattr(view, "access", None) is not None, endpoint


@pytest.mark.parametrize("path", ["/auth/login", "/", "/static/portal.css", "/nowhere", "/healthz"])
def test_security_headers_on_every_answer(client, path):
    response = client.get(path)
    headers = response.headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in CONTENT_SECURITY_POLICY and "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "style-src 'self'" in CONTENT_SECURITY_POLICY
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    if path != "/static/portal.css":
        assert headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(PORTAL / "templates")))
def test_templates_have_no_inline_script_or_style_and_no_outside_assets(template):
    source = template.read_text("utf-8")
    # Scripts only as files from the portal's own static folder (CSP script-src 'self'), never inline.
    source = re.sub(r"""<script src="\{\{ url_for\('static', filename='[a-z_]+\.js'\) \}\}" defer></script>""", "",
                    source)
    assert "<script" not in source.lower()
    assert "<style" not in source.lower()
    assert not re.search(r"\sstyle\s*=", source, re.I)
    assert not re.search(r"\son[a-z]+\s*=", source, re.I), "inline event handler"
    assert not re.search(r"(src|href|action)\s*=\s*\"(https?:)?//", source, re.I), "an asset from elsewhere"
    assert "|safe" not in source.replace(" ", "") and "autoescape false" not in source


def test_no_markup_bypass_in_portal_code():
    for path in PORTAL.rglob("*.py"):
        source = path.read_text("utf-8")
        assert "Markup(" not in source and "|safe" not in source, path


def test_the_tracker_store_is_opened_read_only(tracker, tracker_path):
    from rasa.shared.core.events import UserUttered
    from sqlalchemy import text

    from bot.records import transcripts
    from tests.portal.helpers import write_events

    write_events(tracker, "web-1", [UserUttered("hi", {"name": "greet", "confidence": 1.0}, message_id="1")])
    with transcripts.connect(f"sqlite:///{tracker_path}") as connection:
        assert connection.execute(text("SELECT count(*) FROM events")).scalar_one() == 1
        with pytest.raises(Exception, match="readonly"):
            connection.execute(text("DELETE FROM events"))


# --- msp user ---------------------------------------------------------------------------------


def _msp(args, url, stdin=None):
    import os

    env = dict(os.environ, DATABASE_URL=url)
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=120)


def test_msp_user_create_reads_the_password_from_a_file_or_stdin_never_argv(records_url, tmp_path):
    from bot.portal import credentials
    from bot.portal.config import Argon2Params
    from bot.records import session_scope, staff

    password_file = tmp_path / "pw"
    password_file.write_text("quiet harbour lemon tractor\n")
    result = _msp(["user", "create", "--role", "admin", "--username", "First.Admin", "--name", "Ada Admin",
                   "--password-file", str(password_file)], records_url)
    assert result.returncode == 0, result.stderr
    assert "Created administrator account first.admin" in result.stdout
    with session_scope(records_url, read_only=True) as db:
        user = staff.get_user_by_username(db, "first.admin")
        assert user.role == "admin" and not user.enrolled and user.password_hash.startswith("$argon2id$")
        assert credentials.verify_password(user.password_hash, "quiet harbour lemon tractor", Argon2Params())
    piped = _msp(["user", "create", "--role", "lead", "--username", "lead.one", "--name", "L",
                  "--password-file", "-"], records_url, stdin="another long pass phrase\n")
    assert piped.returncode == 0, piped.stderr
    argv = _msp(["user", "create", "--role", "lead", "--username", "x.y.z", "--name", "X",
                 "--password", "in the command line"], records_url)
    assert argv.returncode == 2 and "unrecognized arguments" in argv.stderr
    no_terminal = _msp(["user", "create", "--role", "lead", "--username", "x.y.z", "--name", "X"], records_url,
                       stdin="")
    assert no_terminal.returncode == 1 and "use --password-file" in no_terminal.stderr
    weak = _msp(["user", "create", "--role", "lead", "--username", "x.y.z", "--name", "X", "--password-file", "-"],
                records_url, stdin="password123456\n")
    assert weak.returncode == 1 and "too common" in weak.stderr
    listing = _msp(["user", "list"], records_url)
    assert "first.admin" in listing.stdout and "lead.one" in listing.stdout and "x.y.z" not in listing.stdout
