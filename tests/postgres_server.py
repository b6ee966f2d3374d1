"""A private PostgreSQL cluster for fault tests, which the test starts, stops and restarts itself.

Never the machine's shared server on 5432: `initdb` makes a new cluster in a temporary folder, and its
`postgres` listens on 127.0.0.1 on a free port, its unix socket in that folder too, with trust auth and no
fsync (a restart here is a clean one: nothing relies on surviving a power cut)::

    with PostgresServer() as server:              # initdb, start, wait until it answers
        server.create_database("netroots")
        url = server.url("netroots")              # postgres://postgres@127.0.0.1:<port>/netroots
        server.stop()                             # pg_ctl stop -m fast: every connection is cut
        server.start()                            # the same data, the same port
    # stopped, and the folder removed

PostgreSQL refuses to run as root: as root, every command runs as the `postgres` user (runuser), who owns
the folder. `missing()` says why the cluster can't be made here (no binaries, no such user), for a skip.
Only the server this object started is ever stopped: pg_ctl stops the postmaster named in its own data
folder's postmaster.pid, and that pid is killed if pg_ctl can't stop it.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

BIN_DIR = Path(os.environ.get("POSTGRES_BIN_DIR", "/usr/lib/postgresql/15/bin"))
HOST = "127.0.0.1"
SUPERUSER = "postgres"
OS_USER = "postgres"  # who runs the server when we are root
COMMAND_TIMEOUT = 60  # seconds for initdb, or pg_ctl to start or stop the server


class PostgresError(RuntimeError):
    """A PostgreSQL command failed; the message ends with its output and the server log's tail."""


def missing() -> str:
    """Why a private cluster can't be made on this machine, as a sentence for a skip; "" if it can."""
    for name in ("initdb", "pg_ctl", "postgres"):
        if not (BIN_DIR / name).is_file():
            return f"PostgreSQL server binaries not found in {BIN_DIR} (set POSTGRES_BIN_DIR): no {name}"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(OS_USER)
        except KeyError:
            return f"running as root, and there is no {OS_USER!r} user to run PostgreSQL as"
        if not shutil.which("runuser"):
            return f"running as root, and there is no runuser to run PostgreSQL as {OS_USER!r}"
    return ""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class PostgresServer:
    """One private cluster: a data folder, a port, a server process. See the module docstring."""

    def __init__(self) -> None:
        self.port = 0
        self.folder: Path | None = None
        self.starts = 0  # how many times the server was started
        self._as_root = os.geteuid() == 0

    # --- life cycle ---

    def __enter__(self) -> PostgresServer:
        try:
            self.create()
            self.start()
        except BaseException:
            self.destroy()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.destroy()

    def create(self) -> None:
        """Make the temporary folder (owned by the server's user) and a new cluster in it: initdb, trust auth."""
        self.folder = Path(tempfile.mkdtemp(prefix="netroots-postgres-"))
        if self._as_root:
            account = pwd.getpwnam(OS_USER)
            os.chown(self.folder, account.pw_uid, account.pw_gid)
        self.port = free_port()
        self._run(
            "initdb",
            "--pgdata",
            str(self.data),
            "--username",
            SUPERUSER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
            "--no-instructions",
        )

    def start(self) -> None:
        """Start the server (pg_ctl start -w) on this cluster's port; returns once it accepts connections."""
        options = " ".join(
            f"-c {setting}"
            for setting in (
                f"listen_addresses={HOST}",
                f"port={self.port}",
                f"unix_socket_directories={self.folder}",
                "fsync=off",
                "full_page_writes=off",
                "synchronous_commit=off",
            )
        )
        self._pg_ctl("start", "--wait", "--log", str(self.log), "--options", options)
        self.starts += 1

    def stop(self, *, mode: str = "fast") -> None:
        """Stop the server (pg_ctl stop -m `mode`: "fast" ends every session at once, rolling back open
        transactions, as a restart in production does). Returns once it has stopped; a no-op if it isn't running."""
        if self.pid() is not None:
            self._pg_ctl("stop", "--wait", "--mode", mode)

    def restart(self, *, down_seconds: float = 0.0) -> None:
        """Stop (fast), stay down for `down_seconds`, start again: every open connection is cut."""
        self.stop()
        time.sleep(down_seconds)
        self.start()

    def destroy(self) -> None:
        """Stop the server (its own postmaster pid if pg_ctl can't) and remove the folder. Safe to call twice."""
        if self.folder is None:
            return
        try:
            self.stop(mode="fast")
        except PostgresError:
            if (pid := self.pid()) is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGQUIT)  # the postmaster's "immediate shutdown"
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None

    # --- for tests ---

    def url(self, database: str = "postgres") -> str:
        """A DATABASE_URL for `database` on this cluster, over TCP on loopback."""
        return f"postgres://{SUPERUSER}@{HOST}:{self.port}/{database}"

    def create_database(self, name: str) -> None:
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def is_ready(self) -> bool:
        """True if the server accepts a connection now."""
        try:
            with psycopg.connect(self.url(), connect_timeout=2) as probe:
                probe.execute("SELECT 1")
        except psycopg.OperationalError:
            return False
        return True

    def pid(self) -> int | None:
        """The postmaster's pid from this cluster's postmaster.pid, or None when it isn't running."""
        try:
            return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    @property
    def data(self) -> Path:
        assert self.folder is not None, "create() first"
        return self.folder / "data"

    @property
    def log(self) -> Path:
        assert self.folder is not None, "create() first"
        return self.folder / "server.log"

    # --- internals ---

    def _pg_ctl(self, action: str, *args: str) -> None:
        self._run("pg_ctl", action, "--pgdata", str(self.data), "--timeout", str(COMMAND_TIMEOUT), "--silent", *args)

    def _run(self, program: str, *args: str) -> None:
        command = [str(BIN_DIR / program), *args]
        if self._as_root:
            command = ["runuser", "-u", OS_USER, "--", *command]
        result = subprocess.run(
            command,
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT + 10,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if result.returncode != 0:
            raise PostgresError(
                f"{program} {' '.join(args[:1])} failed ({result.returncode}):\n{result.stdout}{result.stderr}\n"
                f"server log:\n{self.log_tail()}"
            )
