"""``python -m bot.portal [--port N]``: serve the staff portal on loopback with waitress.

Started by ``make run`` (``scripts/stack.py``). Settings: ``bot/portal/config.py``.
"""
from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace
from typing import List

from .config import ConfigError, PortalConfig


def _load_redaction() -> None:
    """Load the redaction model now, once for this process (not at an auditor's first page).

    Without it the portal still starts, for everyone else; the pages that
    must be redacted (an auditor's transcripts, enquiries and audit log) are
    refused with a 503 that says why, and this is logged at start-up.
    """
    from bot.text import redact_model

    log = logging.getLogger("bot.portal")
    try:
        redact_model.get_nlp()
    except redact_model.ModelMissing as error:
        log.error("%s Until then auditors' redacted pages are refused (503); nothing is shown unredacted.", error)
    else:
        log.info("redaction model loaded: %s", redact_model.model_dir().name)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.portal", description="Serve the MSP staff portal.")
    parser.add_argument("--port", type=int, help="port (default: PORTAL_PORT, else 8100)")
    parser.add_argument("--host", help="address (default: MSP_PORTAL_HOST, else 127.0.0.1)")
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        config = PortalConfig.from_env()
        if args.port:
            config = replace(config, port=args.port)
        if args.host:
            config = replace(config, host=args.host)
        config.check().require_totp_key()
    except ConfigError as error:
        print(f"portal: {error}", file=sys.stderr)
        return 2
    for warning in key_warnings(config):
        print(f"portal: warning: {warning}", file=sys.stderr, flush=True)
    from waitress import serve

    from . import create_app

    app = create_app(config)
    _load_redaction()
    print(f"Staff portal on http://{config.host}:{config.port}/", flush=True)
    serve(app, host=config.host, port=config.port, threads=args.threads, ident="msp-portal",
          max_request_body_size=64 * 1024, expose_tracebacks=False, clear_untrusted_proxy_headers=True)
    return 0


def key_warnings(config: PortalConfig) -> List[str]:
    """Stored second-factor secrets the portal's keys cannot open (those accounts cannot sign in)."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.records import session_scope, staff

    try:
        with session_scope(config.database_url, read_only=True) as db:
            in_use = staff.totp_keys_in_use(db)
    except SQLAlchemyError:
        return []  # not migrated yet, or not reachable: the first request says so
    known = set(config.totp_box().key_ids)
    warnings = []
    if in_use.get(None):
        warnings.append(f"{in_use[None]} second-factor secret(s) are stored unencrypted: run `msp db upgrade`")
    unknown = {kid: n for kid, n in in_use.items() if kid is not None and kid not in known}
    if unknown:
        listed = ", ".join(f"{kid} ({n} account{'s' if n > 1 else ''})" for kid, n in sorted(unknown.items()))
        warnings.append(f"second-factor secrets were encrypted with key(s) the portal does not have: {listed}. "
                        f"Those accounts cannot sign in until MSP_TOTP_KEYS or the key file holds that key "
                        f"(the portal's keys: {', '.join(sorted(known))}).")
    return warnings


if __name__ == "__main__":
    sys.exit(main())
