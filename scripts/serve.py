"""Start one server process the safe way: ``python -m scripts.serve rasa|actions ARGS``.

``scripts/stack.py`` starts the Rasa server and the action server through this
module (never ``rasa run`` directly), so that in each of them, before anything
else runs:

* the umask is 077: every database, WAL file, spool and log the process
  creates is readable by its owner only;
* ``bot.logsafe`` makes every log record safe (no text a person typed);
* for Rasa, the HTTP API token comes from the environment (``RASA_TOKEN``)
  or a file (``RASA_TOKEN_FILE``), never from the command line, where any
  local user can read it in the process list. ``rasa run`` only takes it as
  ``--auth-token``, so it is handed to Rasa's own argument handling here,
  inside the process; the variable is then removed from this process's
  environment so nothing it starts inherits it;
* for Rasa, Sanic's limits on request bodies and WebSocket messages are set to
  ``bot.channels.limits.MAX_BODY_BYTES`` (the channels set the request limit
  again at start, so it holds even without this launcher).

``ARGS`` are exactly what ``rasa run`` or ``python -m rasa_sdk`` take.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Dict, List, Optional

TOKEN_ENV = "RASA_TOKEN"
TOKEN_FILE_ENV = "RASA_TOKEN_FILE"
UMASK = 0o077


def api_token(environ: Dict[str, str]) -> Optional[str]:
    """The HTTP API token from ``RASA_TOKEN`` or the file named by ``RASA_TOKEN_FILE``; removed from ``environ``."""
    token = environ.pop(TOKEN_ENV, None)
    path = environ.pop(TOKEN_FILE_ENV, None)
    if not token and path:
        token = Path(path).read_text(encoding="utf-8").strip()
    return token or None


def _refuse_token_on_argv(argv: List[str]) -> None:
    if any(a in ("-t", "--auth-token") or a.startswith("--auth-token=") for a in argv):
        sys.exit(f"Do not pass the API token on the command line (any local user can read it there); "
                 f"set {TOKEN_ENV} or {TOKEN_FILE_ENV} instead.")


def run_rasa(argv: List[str]) -> None:
    from bot.channels.limits import MAX_BODY_BYTES

    _refuse_token_on_argv(argv)
    token = api_token(os.environ)
    # Read by Sanic when Rasa creates its app: bodies and WebSocket messages
    # over the limit are refused before they are read into memory.
    os.environ["SANIC_REQUEST_MAX_SIZE"] = str(MAX_BODY_BYTES)
    os.environ["SANIC_WEBSOCKET_MAX_SIZE"] = str(MAX_BODY_BYTES)

    import rasa.__main__
    import rasa.cli.run

    rasa_run = rasa.cli.run.run

    def run_with_token(args):  # the function `rasa run` calls with its parsed arguments
        if token:
            args.auth_token = token
        return rasa_run(args)

    # `rasa run` looks this name up when it builds its parser (set_defaults(func=run)).
    rasa.cli.run.run = run_with_token
    sys.argv = ["rasa", "run", *argv]
    rasa.__main__.main()


def run_actions(argv: List[str]) -> None:
    import rasa_sdk.__main__

    sys.argv = ["rasa_sdk", *argv]
    rasa_sdk.__main__.main()


def main(argv: Optional[List[str]] = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("rasa", "actions"):
        sys.exit("usage: python -m scripts.serve rasa|actions [arguments of `rasa run` / rasa_sdk]")
    os.umask(UMASK)
    from bot import logsafe

    logsafe.install()
    kind, rest = argv[0], argv[1:]
    if kind == "rasa":
        run_rasa(rest)
    else:
        run_actions(rest)


if __name__ == "__main__":
    main()
