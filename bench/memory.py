"""The peak memory of gunicorn's workers (of one or several gunicorns), sampled from /proc while a benchmark runs."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from bench import cpu

INTERVAL = 0.25  # seconds between samples


class WorkerMemory:
    """Each worker's peak resident set size (VmHWM, KiB), by pid; a worker recycled meanwhile keeps its entry."""

    def __init__(self, *masters: int) -> None:
        self.masters = masters
        self.peak_kib: dict[int, int] = {}

    def sample(self) -> None:
        for pid in (pid for master in self.masters for pid in cpu.children_of(master)):
            kib = cpu.peak_rss_kib(pid)
            if kib is not None:
                self.peak_kib[pid] = max(kib, self.peak_kib.get(pid, 0))

    @property
    def peak_mib(self) -> float:
        return max(self.peak_kib.values(), default=0) / 1024


@contextmanager
def watching(*masters: int) -> Iterator[WorkerMemory]:
    """Sample the workers' peak memory every INTERVAL until the block ends, and once more at its end."""
    memory, stop = WorkerMemory(*masters), threading.Event()

    def sampler() -> None:
        while not stop.wait(INTERVAL):
            memory.sample()

    memory.sample()
    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    try:
        yield memory
    finally:
        stop.set()
        thread.join()
        memory.sample()
