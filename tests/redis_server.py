"""A private redis-server for tests that stop, hang and restart Redis: its own process on a free loopback port,
with no persistence (a restart starts empty, as a restarted production Redis without a dump would)."""

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

REDIS_SERVER = shutil.which("redis-server")
needs_redis_server = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed (CI has it)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_caches(redis_url: str) -> dict:
    """settings.CACHES as netroots.settings builds it with REDIS_URL=redis_url (django-redis, timeouts and all):
    the settings module run afresh, so that these tests use what production uses."""
    spec = importlib.util.find_spec("netroots.settings")
    module = importlib.util.module_from_spec(spec)
    old = os.environ.get("REDIS_URL")
    os.environ["REDIS_URL"] = redis_url
    try:
        spec.loader.exec_module(module)
    finally:
        if old is None:
            del os.environ["REDIS_URL"]
        else:
            os.environ["REDIS_URL"] = old
    return module.CACHES


class RedisServer:
    """redis-server on 127.0.0.1:<free port>; start() waits until it answers PING. Stopped, paused and resumed by
    the pid of the process it started, and nothing else."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> "RedisServer":
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop it: connections are refused from now on."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)  # in case it was paused
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def pause(self) -> None:
        """Freeze it (SIGSTOP): it keeps its data and its port, and answers nothing, as a hung Redis."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


class SilentServer:
    """A TCP port that accepts connections and answers nothing: a hung Redis (or a firewall that eats replies).

    Each connection is dropped after `hang_seconds`, so that a client with no timeout of its own fails a test
    (it took that long) rather than hanging it."""

    def __init__(self, *, hang_seconds: float = 10.0) -> None:
        self.hang_seconds = hang_seconds
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._listener.settimeout(0.1)  # so that the accepting thread sees close() soon
        self._closed = threading.Event()
        self._drops: list[threading.Timer] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            drop = threading.Timer(self.hang_seconds, connection.close)
            drop.daemon = True
            drop.start()
            self._drops.append(drop)

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=5)
        self._listener.close()
        for drop in self._drops:
            drop.cancel()
            drop.function()  # close the connection now
