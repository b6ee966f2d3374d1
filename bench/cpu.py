"""Server CPU time from /proc: the app server's workers and the PostgreSQL processes serving its database;
and the Redis server's, from Redis itself (RedisMeter).

Fields 14-17 of /proc/<pid>/stat are utime, stime, cutime and cstime in clock ticks. A parent's
cutime/cstime hold the CPU time of children it has waited for, so a gunicorn worker recycled during a
measurement is still counted (family_ticks).

PostgreSQL is shared: other people's tests may run on the same cluster at the same time, so only the
backends of the benchmark's own database count, found by their process title ("postgres: 15/main:
postgres netroots_bench 127.0.0.1(41234) idle"), plus the auxiliary processes that work for every
database (WAL writer, checkpointer...). ServerMeter remembers each such process's last reading, so a
backend that exits between two readings keeps what it had used until the last one.
"""

import os
from collections.abc import Sequence
from pathlib import Path

import redis

PROC = Path("/proc")
MS_PER_TICK = 1000 / os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    """The fields after the command name (which may hold spaces), or None if the process is gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text[text.rindex(")") + 2 :].split()


def parent_of(pid: int) -> int:
    fields = _stat(pid)
    if fields is None:
        raise ProcessLookupError(pid)
    return int(fields[1])


def children_of(parent: int) -> list[int]:
    pids = (int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit())
    return [pid for pid in pids if (fields := _stat(pid)) is not None and int(fields[1]) == parent]


def family_ticks(parent: int) -> int:
    """CPU ticks of the parent's children: the live ones plus those it has reaped."""
    fields = _stat(parent)
    if fields is None:
        raise ProcessLookupError(parent)
    reaped = int(fields[13]) + int(fields[14])  # cutime + cstime
    live = 0
    for pid in children_of(parent):
        child = _stat(pid)
        if child is not None:
            live += int(child[11]) + int(child[12])  # utime + stime
    return reaped + live


def process_ticks(pid: int) -> int:
    """CPU ticks of one process (a task worker, say): its own, plus its children's that it has reaped."""
    fields = _stat(pid)
    if fields is None:
        raise ProcessLookupError(pid)
    return sum(int(ticks) for ticks in fields[11:15])  # utime, stime, cutime, cstime


def _title(pid: int) -> str:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def serves(title: str, database: str) -> bool:
    """Whether a postgres process title is an auxiliary process or a backend of `database`."""
    status = title.split(": ")[-1]  # after "postgres: <cluster name>: ", which has no ": " of its own
    words = status.split()
    if status.startswith(AUXILIARY):
        return True
    if status.startswith("autovacuum worker"):
        return database in words[2:3]
    return database in words[1:2]  # "<user> <database> <client address> <activity>"


AUXILIARY = ("checkpointer", "background writer", "walwriter", "autovacuum launcher", "logical replication launcher")


class ServerMeter:
    """Cumulative CPU ticks of the app server's workers (of each app server's, given several masters' pids) and of
    the postgres processes serving `database`.

    Call it before and after a run and subtract. Each postgres process is keyed by pid and start time
    (so a reused pid is a new process) and keeps its last reading once it has gone.
    """

    def __init__(self, *, app_server: int | Sequence[int], postmaster: int, database: str) -> None:
        self.app_servers = (app_server,) if isinstance(app_server, int) else tuple(app_server)
        self.postmaster, self.database = postmaster, database
        self._postgres: dict[tuple[int, int], int] = {}

    def __call__(self) -> int:
        return sum(self.parts())

    def parts(self) -> tuple[int, int]:
        """(app server, postgres) ticks."""
        for pid in children_of(self.postmaster):
            fields = _stat(pid)
            if fields is not None and serves(_title(pid), self.database):
                started = int(fields[19])  # starttime: with the pid, names the process even if the pid is reused
                self._postgres[(pid, started)] = int(fields[11]) + int(fields[12])  # utime + stime
        return sum(map(family_ticks, self.app_servers)), sum(self._postgres.values())


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot, from /proc/stat."""
    user, nice, system, idle, iowait, *rest = (int(value) for value in (PROC / "stat").read_text().split()[1:9])
    total = user + nice + system + idle + iowait + sum(rest)
    return total - idle - iowait, total


def peak_rss_kib(pid: int) -> int | None:
    """The process's peak resident set size (VmHWM), or None if it is gone."""
    try:
        status = (PROC / str(pid) / "status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    line = next((line for line in status.splitlines() if line.startswith("VmHWM:")), None)
    return int(line.split()[1]) if line else None


class RedisMeter:
    """Milliseconds of CPU the Redis server has used (INFO cpu), or always 0 without Redis (url None).

    Redis is one process for all its databases: whatever else uses it meanwhile (others' tests) counts too.
    """

    def __init__(self, url: str | None) -> None:
        self.client = redis.Redis.from_url(url) if url else None

    def __call__(self) -> float:
        if self.client is None:
            return 0.0
        info = self.client.info("cpu")
        return (float(info["used_cpu_user"]) + float(info["used_cpu_sys"])) * 1000
