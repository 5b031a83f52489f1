"""Start and stop the real processes: the action server and the Rasa server,
and (given a ``demo_port``) the demo council page with the web widget.

Used by `make run` (scripts/run.py), by the integration and browser tests and
by the benchmarks, so all of them run the system the same way.

What other local users can see: ``var_dir`` is made 700 and every file in it
600 (existing ones too); every process starts with umask 077, so what it
creates (databases, WAL files, the spool, logs) is 600 from the start. The
servers start through ``scripts/serve.py``: the Rasa API token and the REST
token reach the Rasa process in its environment (readable only by the same
user and root), never on a command line, and no other process gets them,
except that the portal gets the Rasa API token too (the handoff console
sends a worker's words into the conversation through Rasa's HTTP API).
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
UMASK = 0o077
# Secrets that only the Rasa process may have, and only in its environment.
SECRET_ENV = ("RASA_TOKEN", "RASA_TOKEN_FILE", "MSP_REST_TOKEN", "MSP_REST_TOKEN_FILE", "TWILIO_AUTH_TOKEN",
              "MSP_ADVOCACY_SMTP_PASSWORD", "MSP_ADVOCACY_WEBHOOK_SECRET")
#: Only the advocacy sender gets these (bot/advocacy/config.py).
ADVOCACY_SECRET_ENV = ("MSP_ADVOCACY_SMTP_PASSWORD", "MSP_ADVOCACY_WEBHOOK_SECRET")
# The keys of the portal's TOTP secrets: only the portal and the migration may have them.
PORTAL_SECRET_ENV = ("MSP_TOTP_KEYS",)


def secure_dir(path: Path) -> None:
    """Create ``path`` if needed; make it 700, every directory under it 700 and every file 600."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames:
            os.chmod(os.path.join(dirpath, name), 0o700)
        for name in filenames:
            full = os.path.join(dirpath, name)
            if not os.path.islink(full):
                os.chmod(full, 0o600)


def private_file(path: Path, mode: str = "ab"):
    """Open ``path`` for appending, created 600 (and made 600 if it was not)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, mode)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env() -> Dict[str, str]:
    env = dict(os.environ)
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # One thread each for TensorFlow: nothing we run uses it per message, and
    # extra threads only fight the two cores.
    env.setdefault("TF_INTRA_OP_PARALLELISM_THREADS", "1")
    env.setdefault("TF_INTER_OP_PARALLELISM_THREADS", "1")
    # The same for NumPy's BLAS (the learned danger detector's products):
    # OpenBLAS's second thread spun on the other core after every message,
    # about 10 ms of CPU a message for nothing (bench/understanding/RESULTS.md).
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, "1")
    env.setdefault("SANIC_HOST", "127.0.0.1")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _get(url: str, timeout: float = 2.0) -> Optional[int]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


@dataclass
class Stack:
    model: Path
    rasa_port: int
    actions_port: int
    var_dir: Path
    token: str
    # Bearer token for the REST channel (MSP_REST_TOKEN); None: REST is switched off.
    rest_token: Optional[str] = None
    cors: List[str] = field(default_factory=lambda: ["http://localhost", "http://127.0.0.1"])
    endpoints: str = "endpoints.yml"
    log_dir: Optional[Path] = None
    quiet: bool = True
    extra_env: Dict[str, str] = field(default_factory=dict)
    # The demo council page (web_widget/serve.py); None: not started.
    demo_port: Optional[int] = None
    # Origins allowed to open the widget's socket (MSP_WIDGET_ORIGINS). None:
    # the environment's MSP_WIDGET_ORIGINS, else the demo page's own origins.
    widget_origins: Optional[List[str]] = None
    # Where the widget's quick exit goes (default: the widget's own default site).
    demo_exit_url: Optional[str] = None
    # The Rasa server's address as browsers see it, if not rasa_url (a reverse
    # proxy in production; a fault-injecting proxy in the browser tests).
    widget_server_url: Optional[str] = None
    # Twilio's auth token: only the Rasa server (signature checks) and the SMS
    # sender (API calls) get it. Default: TWILIO_AUTH_TOKEN from the environment.
    twilio_token: Optional[str] = None
    # Start the SMS outbox sender (python -m bot.sms.sender).
    sms_sender: bool = False
    # Start the advocacy referral sender (python -m bot.advocacy.sender).
    advocacy_sender: bool = False
    # Start the survey scheduler (python -m bot.surveys.scheduler): reminders, expiry.
    scheduler: bool = False
    # The staff portal (python -m bot.portal) on this port; None: not started.
    portal_port: Optional[int] = None
    # Tell people whose handoff nobody claimed in time (python -m bot.handoff.timeouts).
    handoff_timeouts: bool = False
    procs: Dict[str, subprocess.Popen] = field(default_factory=dict)
    commands: Dict[str, List[str]] = field(default_factory=dict)
    envs: Dict[str, Optional[Dict[str, str]]] = field(default_factory=dict, repr=False)
    started_at: float = 0.0
    ready_seconds: Optional[float] = None

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def db_path(self) -> Path:
        """Rasa's tracker store: every message as typed (SQLite default)."""
        return self.var_dir / "tracker.db"

    @property
    def records_path(self) -> Path:
        """The MSP records (bot/records), migrated by Alembic on start.

        Kept in its own SQLite file so that Rasa's writes and ours never wait
        on one file lock; on PostgreSQL both live in one database.
        """
        return self.var_dir / "msp.db"

    @property
    def portal_url(self) -> Optional[str]:
        """The staff portal, when it is served."""
        return None if self.portal_port is None else f"http://127.0.0.1:{self.portal_port}/"

    @property
    def demo_url(self) -> Optional[str]:
        """The demo council page with the widget, when it is served."""
        return None if self.demo_port is None else f"http://127.0.0.1:{self.demo_port}/"

    def origins(self) -> List[str]:
        if self.widget_origins is not None:
            return list(self.widget_origins)
        if os.environ.get("MSP_WIDGET_ORIGINS", "").strip():
            return os.environ["MSP_WIDGET_ORIGINS"].replace(",", " ").split()
        if self.demo_port is not None:
            return [f"http://127.0.0.1:{self.demo_port}", f"http://localhost:{self.demo_port}"]
        return []

    def env(self) -> Dict[str, str]:
        """The environment of every process (no secrets: see ``rasa_env``)."""
        env = base_env()
        for name in SECRET_ENV + PORTAL_SECRET_ENV:
            env.pop(name, None)
        env.update(
            RASA_PORT=str(self.rasa_port),
            ACTIONS_PORT=str(self.actions_port),
            MSP_TRACKER_DB=str(self.db_path),
            DATABASE_URL=env.get("DATABASE_URL") or f"sqlite:///{self.records_path}",
            MSP_WIDGET_ORIGINS=",".join(self.origins()),
        )
        env.update(self.extra_env)
        return env

    def rasa_env(self) -> Dict[str, str]:
        """The Rasa server's environment: the API token and, if set, the REST token."""
        env = self.env()
        env["RASA_TOKEN"] = self.token
        if self.rest_token:
            env["MSP_REST_TOKEN"] = self.rest_token
        env.update(self.twilio_env())
        return env

    def portal_env(self, rasa_api: bool = False) -> Dict[str, str]:
        """The portal's (and the migration's) environment: the TOTP keys, if given in MSP_TOTP_KEYS.
        ``rasa_api`` (the portal process only): Rasa's API token and address too, since the live handoff
        console relays a worker's words through Rasa's HTTP API (bot/handoff/rasa_api.py)."""
        env = self.env()
        for name in PORTAL_SECRET_ENV:
            if os.environ.get(name, "").strip():
                env[name] = os.environ[name]
        if rasa_api:
            env["RASA_TOKEN"] = self.token
            env["MSP_RASA_URL"] = self.rasa_url
        return env

    def ensure_totp_key(self) -> None:
        """The portal's TOTP key: MSP_TOTP_KEYS or MSP_TOTP_KEY_FILE when set, else ``var_dir/totp_key``,
        made (600) with a new random key when missing."""
        env = self.portal_env()
        if env.get("MSP_TOTP_KEYS", "").strip() or env.get("MSP_TOTP_KEY_FILE", "").strip():
            return
        from bot.records.totp_keys import new_key

        path = self.var_dir / "totp_key"
        if not path.exists() or not path.read_text().strip():
            with private_file(path, "a") as fh:
                fh.write(new_key() + "\n")
        self.extra_env["MSP_TOTP_KEY_FILE"] = str(path)

    def twilio_env(self) -> Dict[str, str]:
        token = self.twilio_token or os.environ.get("TWILIO_AUTH_TOKEN", "").strip()
        return {"TWILIO_AUTH_TOKEN": token} if token else {}

    def sender_env(self) -> Dict[str, str]:
        """The SMS sender's environment: Twilio's token, no Rasa or REST token."""
        env = self.env()
        env.update(self.twilio_env())
        return env

    def start_sms_sender(self) -> None:
        self._spawn("sms", [str(BIN / "python"), "-m", "bot.sms.sender"], env=self.sender_env())

    def start_advocacy_sender(self) -> None:
        """The advocacy sender: the relay password or webhook secret, nothing else secret."""
        env = self.env()
        env.update({name: os.environ[name] for name in ADVOCACY_SECRET_ENV if os.environ.get(name)})
        self._spawn("advocacy", [str(BIN / "python"), "-m", "bot.advocacy.sender"], env=env)

    def _spawn(self, name: str, cmd: List[str], env: Optional[Dict[str, str]] = None) -> None:
        out = None
        if self.log_dir is not None:
            self.log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            out = private_file(self.log_dir / f"{name}.log")
        elif self.quiet:
            out = subprocess.DEVNULL
        self.commands[name] = list(cmd)
        self.envs[name] = env
        self.procs[name] = subprocess.Popen(
            cmd, cwd=ROOT, env=env or self.env(), stdout=out, stderr=subprocess.STDOUT if out else None,
            start_new_session=True, umask=UMASK,
        )
        if out not in (None, subprocess.DEVNULL):
            out.close()  # the child has its own copy

    def respawn(self, name: str) -> subprocess.Popen:
        """Start process ``name`` again with the command it was first started with."""
        old = self.procs.get(name)
        if old is not None and old.poll() is None:
            raise RuntimeError(f"{name} is still running")
        # The same environment too: the Rasa server's holds its API token.
        self._spawn(name, self.commands[name], self.envs.get(name))
        return self.procs[name]

    def start(self, timeout: float = 180.0) -> "Stack":
        secure_dir(self.var_dir)
        if self.log_dir is not None:
            secure_dir(self.log_dir)
        if self.demo_port is not None and not (ROOT / "web_widget" / "dist" / "msp-widget.js").exists():
            raise RuntimeError("the web widget is not built: run `make widget` (needs Node.js and npm)")
        self.started_at = time.monotonic()
        self.ensure_totp_key()
        self.migrate()
        if self.demo_port is not None:
            demo_cmd = [str(BIN / "python"), str(ROOT / "web_widget" / "serve.py"), "--port", str(self.demo_port),
                        "--rasa-url", self.widget_server_url or self.rasa_url]
            if self.demo_exit_url:
                demo_cmd += ["--exit-url", self.demo_exit_url]
            self._spawn("demo", demo_cmd)
        self._spawn("actions", [str(BIN / "python"), "-m", "scripts.serve", "actions", "--actions", "bot.actions",
                                "--port", str(self.actions_port)])
        # No token on this command line: scripts/serve.py takes it from RASA_TOKEN.
        rasa_cmd = [
            str(BIN / "python"), "-m", "scripts.serve", "rasa", "--model", str(self.model),
            "--endpoints", self.endpoints, "--credentials", "credentials.yml",
            "--interface", "127.0.0.1", "--port", str(self.rasa_port), "--enable-api",
        ]
        if self.cors:
            rasa_cmd += ["--cors", *self.cors]
        self._spawn("rasa", rasa_cmd, env=self.rasa_env())
        if self.sms_sender:
            self.start_sms_sender()
        if self.advocacy_sender:
            self.start_advocacy_sender()
        if self.scheduler:
            # No secrets: it only writes to the records (the sender sends).
            self._spawn("scheduler", [str(BIN / "python"), "-m", "bot.surveys.scheduler"])
        if self.handoff_timeouts:
            # Rasa's API token: it sends the "nobody is free yet" notice into the conversation.
            env = self.env()
            env.update(RASA_TOKEN=self.token, MSP_RASA_URL=self.rasa_url)
            # The relay's password, if any: it emails the duty team that someone is waiting.
            env.update({name: os.environ[name] for name in ADVOCACY_SECRET_ENV if os.environ.get(name)})
            if self.portal_port is not None:
                env.setdefault("PORTAL_PORT", str(self.portal_port))
            self._spawn("handoff", [str(BIN / "python"), "-m", "bot.handoff.timeouts"], env=env)
        if self.portal_port is not None:
            # Only the TOTP keys (MSP_TOTP_KEYS, or the key file's path): it reads the tracker store
            # and the records.
            self._spawn("portal", portal_command(self.portal_port), env=self.portal_env(rasa_api=True))
        self.wait_ready(timeout)
        return self

    def migrate(self) -> None:
        """Bring the records database up to the newest Alembic revision."""
        result = subprocess.run([str(BIN / "python"), "-m", "bot.cli", "db", "upgrade"], cwd=ROOT,
                                env=self.portal_env(), capture_output=True, text=True, umask=UMASK)
        if result.returncode != 0:
            raise RuntimeError(f"database migration failed: {(result.stdout + result.stderr).strip()}")

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        actions_ok = rasa_ok = False
        demo_ok = self.demo_port is None
        portal_ok = self.portal_port is None
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} server exited with code {proc.returncode} while starting")
            actions_ok = actions_ok or _get(f"http://127.0.0.1:{self.actions_port}/health") == 200
            rasa_ok = rasa_ok or _get(f"{self.rasa_url}/status?token={self.token}") == 200
            demo_ok = demo_ok or _get(self.demo_url) == 200
            portal_ok = portal_ok or _get(f"{self.portal_url}healthz") == 200
            if actions_ok and rasa_ok and demo_ok and portal_ok:
                self.ready_seconds = time.monotonic() - self.started_at
                return
            time.sleep(0.25)
        self.stop()
        raise TimeoutError(f"servers not ready after {timeout:.0f} s (actions={actions_ok}, rasa={rasa_ok}, "
                           f"demo={demo_ok}, portal={portal_ok})")

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.procs.values())

    def stop(self, grace: float = 15.0) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(5)
        self.procs.clear()

    @property
    def rest_url(self) -> str:
        return f"{self.rasa_url}/webhooks/rest/webhook"

    def rest_headers(self) -> Dict[str, str]:
        """Headers for the REST channel: JSON, and the bearer token when there is one."""
        headers = {"Content-Type": "application/json"}
        if self.rest_token:
            headers["Authorization"] = f"Bearer {self.rest_token}"
        return headers

    def send(self, sender: str, text: str, timeout: float = 30.0) -> List[dict]:
        """One message over the REST channel (sender ``rest-...``); returns the bot's messages."""
        body = json.dumps({"sender": sender, "message": text}).encode()
        req = urllib.request.Request(self.rest_url, data=body, headers=self.rest_headers())
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read() or b"[]")

    def tracker(self, sender: str) -> dict:
        url = f"{self.rasa_url}/conversations/{sender}/tracker?token={self.token}"
        with urllib.request.urlopen(url, timeout=30) as resp:
            return json.loads(resp.read())


@dataclass
class Supervisor:
    """Restarts a stack's processes when they stop, with back-off, and says so.

    A process that stops is started again after ``min_delay`` seconds, doubling
    for each stop in a row up to ``max_delay``; once it has stayed up for
    ``stable_after`` seconds the next stop counts as the first again. ``log`` is
    told every stop and every restart. Call ``check()`` every half second or so.
    """

    stack: Stack
    log: Callable[[str], None]
    min_delay: float = 1.0
    max_delay: float = 60.0
    stable_after: float = 60.0
    clock: Callable[[], float] = time.monotonic
    failures: Dict[str, int] = field(default_factory=dict)
    due: Dict[str, float] = field(default_factory=dict)
    started: Dict[str, float] = field(default_factory=dict)

    def delay(self, failures: int) -> float:
        return min(self.max_delay, self.min_delay * 2 ** max(0, failures - 1))

    def check(self) -> None:
        now = self.clock()
        for name, proc in list(self.stack.procs.items()):
            code = proc.poll()
            if code is None:
                started = self.started.setdefault(name, now)
                if self.failures.get(name) and now - started >= self.stable_after:
                    self.failures[name] = 0
                continue
            if name not in self.due:
                failures = self.failures.get(name, 0) + 1
                self.failures[name] = failures
                wait = self.delay(failures)
                self.due[name] = now + wait
                self.log(f"{name} stopped (exit code {code}, pid {proc.pid}); "
                         f"restarting in {wait:.0f} s (stop {failures} in a row)")
            elif now >= self.due[name]:
                del self.due[name]
                new = self.stack.respawn(name)
                self.started[name] = self.clock()
                self.log(f"{name} restarted (pid {new.pid})")


def portal_command(port: int) -> List[str]:
    """The staff portal on 127.0.0.1:``port`` (settings from the environment: bot/portal/config.py)."""
    return [str(BIN / "python"), "-m", "bot.portal", "--port", str(port)]


def new_token() -> str:
    return secrets.token_urlsafe(32)
