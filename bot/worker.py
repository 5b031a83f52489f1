"""How our background processes start and stop (the SMS sender, the advocacy sender).

``run_until_signalled`` sets a private umask, filters every log line
(``bot.logsafe``), logs plainly, and runs ``run(stop)`` until SIGTERM or
SIGINT sets ``stop``.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Callable


def run_until_signalled(name: str, run: Callable[[threading.Event], None], logger: logging.Logger) -> None:
    os.umask(0o077)
    from bot import logsafe

    logsafe.install()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    logger.info("%s started.", name)
    run(stop)
    logger.info("%s stopped.", name)
