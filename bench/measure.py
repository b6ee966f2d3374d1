"""Measure one programme: SQL queries in process, then load, server CPU and page weight under gunicorn."""

import gzip
import os
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.db import connection, connections

from bench import cpu, inprocess, loadgen, server

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2
WARMUP = 1.5  # seconds of load before the measurement window opens
ROUND_WARMUP = 0.3  # before each later round: the server is warm, the clients are new
# Like a browser behind the TLS-terminating proxy; SECURE_SSL_REDIRECT stays on.
PAGE_HEADERS = {"Accept-Encoding": "gzip", "X-Forwarded-Proto": "https"}
FIRST_VISIT_HEADERS = {"Accept-Encoding": "br, gzip", "X-Forwarded-Proto": "https"}
ASSET_ATTRIBUTES = {"link": "href", "script": "src", "img": "src"}


@dataclass(frozen=True)
class LoadOptions:
    seconds: float
    connections: int
    max_requests: int
    rounds: int  # the programme page and the static file alternate, each window split in this many


@dataclass(frozen=True)
class Row:
    label: str
    path: str
    load: loadgen.LoadResult
    cpu_ms: float  # server CPU per request completed: gunicorn workers and PostgreSQL
    redis_ms: float  # the Redis server's CPU per request completed (0 without Redis)
    probe: inprocess.Probe | None = None  # None for the static file: no Django view behind it


@dataclass(frozen=True)
class Measurement:
    programme: str
    sessions: int
    cache: str  # the page cache's backend, as configured
    rows: list[Row]
    weight: dict[str, loadgen.Response]  # the programme page first, then each asset it loads
    machine: "MachineShare"

    def row(self, label: str) -> Row:
        return next(row for row in self.rows if row.label == label)

    @property
    def errors(self) -> int:
        probes = sum(row.probe.status != 200 for row in self.rows if row.probe)
        fetches = sum(response.status != 200 for response in self.weight.values())
        return sum(row.load.errors for row in self.rows) + probes + fetches


def measure(programme: str, load_data: Callable[[], object], options: LoadOptions, scratch: Path) -> Measurement:
    load_data()
    pages = {"Home": "/", "Programme": "/programme/", "Session": inprocess.session_path()}
    probes = {label: inprocess.probe(path, PAGE_HEADERS) for label, path in pages.items()}
    static_path = write_static_file(probes["Programme"].body_bytes)
    postmaster = postmaster_pid()
    sessions = inprocess.session_count()
    connections.close_all()  # the load generator forks: leave it no open database connection
    database = settings.DATABASES["default"]["NAME"]
    redis_ms = cpu.RedisMeter(os.environ.get("REDIS_URL"))
    with server.gunicorn(ROOT, dict(os.environ), WORKERS, scratch / f"gunicorn-{programme}.log") as running:
        for path in pages.values():
            prime(running.port, path)
        server_ticks = cpu.ServerMeter(app_server=running.pid, postmaster=postmaster, database=database)
        before = _machine_reading(server_ticks, redis_ms)

        def meter() -> tuple[float, float]:
            return server_ticks() * cpu.MS_PER_TICK, redis_ms()

        def load(path: str, *, share: int = 1, warmup: float = WARMUP) -> loadgen.LoadResult:
            return loadgen.run_load(
                port=running.port,
                path=path,
                headers=PAGE_HEADERS,
                connections=options.connections,
                warmup=warmup,
                seconds=options.seconds / share,
                max_requests=options.max_requests // share,
                meter=meter,
            )

        # The programme page and the static file are compared, so they take turns, in rounds: whatever
        # else runs on the machine then weighs on both alike.
        turns: dict[str, list[loadgen.LoadResult]] = {"Programme": [], "Static file": []}
        for number in range(options.rounds):
            warmup = WARMUP if number == 0 else ROUND_WARMUP
            for label, path in (("Programme", pages["Programme"]), ("Static file", static_path)):
                turns[label].append(load(path, share=options.rounds, warmup=warmup))
        rows = [
            _row("Home", pages["Home"], load(pages["Home"]), probes["Home"]),
            _row("Programme", pages["Programme"], loadgen.combine(turns["Programme"]), probes["Programme"]),
            _row("Session", pages["Session"], load(pages["Session"]), probes["Session"]),
            _row("Static file", static_path, loadgen.combine(turns["Static file"])),
        ]
        machine = MachineShare.between(before, _machine_reading(server_ticks, redis_ms))
        weight = page_weight(running.port, pages["Programme"])
    return Measurement(programme, sessions, cache_description(), rows, weight, machine)


def cache_description() -> str:
    """The page cache's backend and where it is: "RedisCache at redis://...", or "LocMemCache" (one per worker)."""
    cache = settings.CACHES["default"]
    backend = cache["BACKEND"].rsplit(".", 1)[-1]
    return f"{backend} at {cache['LOCATION']}" if cache.get("LOCATION") else f"{backend} (one per worker)"


@dataclass(frozen=True)
class MachineShare:
    """How busy the machine was while the pages were loaded, and how much of that was someone else's work."""

    busy: float  # share of all cores
    others_cores: float  # cores' worth of CPU used by processes other than the servers, the load generator and us

    @staticmethod
    def between(before: tuple[float, ...], after: tuple[float, ...]) -> "MachineShare":
        busy, total, servers, ours = (later - earlier for later, earlier in zip(after, before, strict=True))
        cores = os.cpu_count() or 1
        return MachineShare(busy / total if total else 0.0, (busy - servers - ours) / total * cores if total else 0.0)


def _machine_reading(server_ticks: cpu.ServerMeter, redis_ms: cpu.RedisMeter) -> tuple[float, float, float, float]:
    """(machine busy, machine total, servers (gunicorn, PostgreSQL, Redis), this process and its reaped children):
    clock ticks."""
    busy, total = cpu.machine_ticks()
    mine = os.times()
    ours = round((mine.user + mine.system + mine.children_user + mine.children_system) / cpu.MS_PER_TICK * 1000)
    return busy, total, server_ticks() + redis_ms() / cpu.MS_PER_TICK, ours


def _row(label: str, path: str, load: loadgen.LoadResult, probe: inprocess.Probe | None = None) -> Row:
    server_ms, redis_ms = load.meter_delta
    per_request = 1 / load.requests if load.requests else 0.0
    return Row(label, path, load, server_ms * per_request, redis_ms * per_request, probe)


def prime(port: int, path: str) -> None:
    """Have every worker serve `path` before it is measured, so no window holds a page's first rendering.

    A large programme takes seconds to render: longer than the warm-up, and each probe above emptied the
    cache. Two rounds of one request per connection a worker can take keep every worker busy at once.
    """
    with ThreadPoolExecutor(2 * WORKERS) as pool:
        for _ in range(2):
            list(pool.map(lambda _: loadgen.get(port, path, PAGE_HEADERS), range(2 * WORKERS)))


def write_static_file(size: int) -> str:
    """Random bytes (so nothing compresses them) in STATIC_ROOT, for WhiteNoise to find as it starts."""
    name = f"bench-{size}-{secrets.token_hex(4)}.bin"
    (Path(settings.STATIC_ROOT) / name).write_bytes(os.urandom(size))
    return f"/{settings.STATIC_URL.strip('/')}/{name}"


def postmaster_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    return cpu.parent_of(backend)


class _AssetLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        url = dict(attrs).get(ASSET_ATTRIBUTES.get(tag, ""))
        if url:
            self.urls.append(url)


def page_weight(port: int, path: str) -> dict[str, loadgen.Response]:
    """What a first visit downloads: the page, then each same-site asset it links to, once."""
    page = loadgen.get(port, path, FIRST_VISIT_HEADERS)
    fetched = {path: page}
    for url in asset_paths(path, page):
        fetched[url] = loadgen.get(port, url, FIRST_VISIT_HEADERS)
    return fetched


def asset_paths(page_path: str, page: loadgen.Response) -> list[str]:
    html = gzip.decompress(page.body) if page.content_encoding == "gzip" else page.body
    parser = _AssetLinks()
    parser.feed(html.decode())
    urls = [urlsplit(urljoin(page_path, url)) for url in parser.urls]
    return list(dict.fromkeys(url.path for url in urls if not url.scheme and not url.netloc))
