"""A throwaway PostgreSQL server for tests: initdb + pg_ctl on a free loopback port.

``initdb`` refuses to run as root, so when the tests run as root the server
runs as an unprivileged user (``nobody`` by default, or ``MSP_TEST_PG_USER``),
started with ``runuser`` (or ``setpriv``/``su`` where ``runuser`` is missing).
The data directory lives in a fresh temporary directory owned by that user.
Password authentication (scram) on 127.0.0.1 only; the Unix socket sits in the
same temporary directory.
"""
from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

SUPERUSER = "msp_test"


class PostgresUnavailable(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_user(user: Optional[str], argv: List[str]) -> List[str]:
    if user is None:
        return argv
    if shutil.which("runuser"):
        return ["runuser", "-u", user, "--"] + argv
    if shutil.which("setpriv"):
        entry = pwd.getpwnam(user)
        return [
            "setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups",
        ] + argv
    if shutil.which("su"):
        import shlex

        return ["su", "-s", "/bin/sh", user, "-c", " ".join(shlex.quote(a) for a in argv)]
    raise PostgresUnavailable("running as root but neither runuser, setpriv nor su is available")


def _find(binary: str) -> str:
    found = shutil.which(binary)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{binary}"), reverse=True):
        return str(candidate)
    raise PostgresUnavailable(f"{binary} not found on PATH or under /usr/lib/postgresql")


@dataclass
class PostgresServer:
    root: Path
    port: int
    password: str
    user: Optional[str]
    pg_ctl: str
    _databases: int = field(default=0)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return (
            f"postgresql+psycopg2://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{database}"
        )

    def create_database(self, prefix: str = "msp") -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        import psycopg2

        self._databases += 1
        name = f"{prefix}_{self._databases}_{secrets.token_hex(3)}"
        conn = psycopg2.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, password=self.password,
            dbname="postgres", connect_timeout=10,
        )
        try:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0')
        finally:
            conn.close()
        return self.url(name)

    def stop(self) -> None:
        if not self.data_dir.exists():
            return
        for mode in ("fast", "immediate"):
            result = subprocess.run(
                _as_user(self.user, [self.pg_ctl, "-D", str(self.data_dir), "-m", mode, "-w", "stop"]),
                cwd=self.root, capture_output=True, text=True, timeout=60,
            )
            if result.returncode == 0 or not (self.data_dir / "postmaster.pid").exists():
                break
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> PostgresServer:
    initdb, pg_ctl = _find("initdb"), _find("pg_ctl")
    user: Optional[str] = None
    if os.geteuid() == 0:
        user = os.environ.get("MSP_TEST_PG_USER", "nobody")
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            raise PostgresUnavailable(f"user {user!r} does not exist; set MSP_TEST_PG_USER")
    root = Path(tempfile.mkdtemp(prefix="msp-pg-", dir="/tmp" if user else None))
    try:
        password = secrets.token_urlsafe(18)
        (root / "sock").mkdir()
        pwfile = root / "pwfile"
        pwfile.write_text(password + "\n")
        if user is not None:
            for path in (root, root / "sock", pwfile):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        os.chmod(root, 0o700)
        init = subprocess.run(
            _as_user(user, [
                initdb, "-D", str(root / "data"), "-U", SUPERUSER, f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256", "--auth-local=scram-sha-256",
                "-E", "UTF8", "--locale=C", "--no-instructions",
            ]),
            cwd=root, capture_output=True, text=True, timeout=120,
        )
        if init.returncode != 0:
            raise PostgresUnavailable(f"initdb failed:\n{init.stdout}\n{init.stderr}")
        pwfile.unlink()

        last_error = ""
        for _ in range(5):
            port = _free_port()
            options = (
                f"-p {port} -k {root / 'sock'} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            start = subprocess.run(
                _as_user(user, [
                    pg_ctl, "-D", str(root / "data"), "-o", options,
                    "-l", str(root / "server.log"), "-w", "-t", "60", "start",
                ]),
                cwd=root, capture_output=True, text=True, timeout=120,
            )
            if start.returncode == 0:
                server = PostgresServer(root, port, password, user, pg_ctl)
                _wait_ready(server)
                return server
            log = root / "server.log"
            last_error = start.stderr + (log.read_text(errors="replace") if log.exists() else "")
        raise PostgresUnavailable(f"pg_ctl start failed:\n{last_error}")
    except BaseException:
        subprocess.run(
            _as_user(user, [pg_ctl, "-D", str(root / "data"), "-m", "immediate", "-w", "stop"]),
            cwd=root, capture_output=True, timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)
        raise


def _wait_ready(server: PostgresServer, timeout: float = 30.0) -> None:
    import psycopg2

    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg2.connect(
                host="127.0.0.1", port=server.port, user=SUPERUSER, password=server.password,
                dbname="postgres", connect_timeout=5,
            ).close()
            return
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
