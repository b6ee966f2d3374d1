"""Start gunicorn with the project's gunicorn.conf.py on a free loopback port, or another server process (the
task worker), and always stop it."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import loadgen

START_TIMEOUT = 30  # seconds
STOP_TIMEOUT = 25  # gunicorn.conf.py gives workers 20 s to finish


class ServerError(RuntimeError):
    pass


@dataclass(frozen=True)
class Server:
    port: int
    pid: int  # the gunicorn master; its children are the workers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((loadgen.HOST, 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(
    root: Path, env: dict[str, str], workers: int, log_path: Path, port: int | None = None
) -> Iterator[Server]:
    """Run gunicorn in its own process group until the block ends, however it ends (on a free port by default)."""
    port = port or free_port()
    env = {**env, "WEB_CONCURRENCY": str(workers), "GUNICORN_BIND": f"{loadgen.HOST}:{port}"}
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "netroots.wsgi"]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=log, start_new_session=True)
    try:
        _wait_until_healthy(process, port, log_path)
        yield Server(port=port, pid=process.pid)
    finally:
        _stop(process)


@contextmanager
def background(name: str, command: list[str], root: Path, env: dict[str, str], log_path: Path) -> Iterator[int]:
    """Run a command (e.g. the task worker) in its own process group until the block ends; yields its pid.

    Raises ServerError if it has already exited when the block ends (it was meant to run throughout).
    """
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=log, start_new_session=True)
    try:
        yield process.pid
        if process.poll() is not None:
            raise ServerError(f"{name} exited with status {process.returncode}:\n{log_tail(log_path)}")
    finally:
        _stop(process)


def _wait_until_healthy(process: subprocess.Popen, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"gunicorn exited with status {process.returncode}:\n{log_tail(log_path)}")
        try:
            if loadgen.get(port, "/healthz", {}).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise ServerError(f"gunicorn did not answer /healthz within {START_TIMEOUT} s:\n{log_tail(log_path)}")


def log_tail(log_path: Path, lines: int = 20) -> str:
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])


def _stop(process: subprocess.Popen) -> None:
    """Stop the whole process group: the master and any worker it might have left behind."""
    _signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        _signal_group(process.pid, signal.SIGKILL)
        process.wait()


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(pgid, signum)
