"""A small HTTP load generator: standard library only, loopback only, bounded in time and count.

Each connection is a forked process running requests back to back over one http.client connection
(it reconnects by itself when the server closes it: after each response with sync workers, after the keep-alive
timeout with threads).
Requests that finish inside the measurement window, after the warm-up, are counted.
"""

import http.client
import multiprocessing
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

HOST = "127.0.0.1"
TIMEOUT = 10  # seconds for any one request


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_encoding: str
    transferred: int  # status line, headers and body, as they came over the wire


@dataclass(frozen=True)
class Job:
    port: int
    path: str
    headers: dict[str, str]
    start_at: float  # time.time() when the measurement window opens
    stop_at: float
    max_requests: int


@dataclass(frozen=True)
class ClientResult:
    latencies: list[float]  # seconds, one per request counted
    transferred: int
    errors: int  # failed requests and non-200 responses, warm-up included
    last_done_at: float


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    latencies: list[float]
    transferred: int
    errors: int
    meter_delta: tuple[float, ...]  # the change in each reading of the meter() passed to run_load over the window

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def latency_ms(self, percentile: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else 0.0
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[percentile - 1] * 1000


def fetch(connection: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> Response:
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    head = len(f"HTTP/1.1 {response.status} {response.reason}\r\n") + 2
    head += sum(len(name) + len(value) + 4 for name, value in response.getheaders())
    return Response(response.status, body, response.getheader("Content-Encoding", ""), head + len(body))


def get(port: int, path: str, headers: dict[str, str]) -> Response:
    connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
    try:
        return fetch(connection, path, headers)
    finally:
        connection.close()


def _client(job: Job) -> ClientResult:
    connection = http.client.HTTPConnection(HOST, job.port, timeout=TIMEOUT)
    latencies, transferred, errors, last_done_at = [], 0, 0, job.start_at
    while len(latencies) < job.max_requests and (began := time.time()) < job.stop_at:
        try:
            response = fetch(connection, job.path, job.headers)
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            connection.close()
            response, ok = None, False
        done = time.time()
        if not ok:
            errors += 1
        if job.start_at <= done <= job.stop_at:
            latencies.append(done - began)
            transferred += response.transferred if response else 0
            last_done_at = done
    connection.close()
    return ClientResult(latencies, transferred, errors, last_done_at)


def run_load(
    *,
    port: int,
    path: str,
    headers: dict[str, str],
    connections: int,
    warmup: float,
    seconds: float,
    max_requests: int,
    meter: Callable[[], tuple[float, ...]],
) -> LoadResult:
    """Load one path; meter() is read as the window opens and again once every client has stopped."""
    start_at = time.time() + warmup
    job = Job(port, path, headers, start_at, start_at + seconds, max(1, max_requests // connections))
    with multiprocessing.get_context("fork").Pool(connections) as pool:
        pending = pool.map_async(_client, [job] * connections, chunksize=1)
        time.sleep(max(0.0, start_at - time.time()))
        before = meter()
        results = pending.get(timeout=warmup + seconds + 2 * TIMEOUT)
        after = meter()
    latencies = [latency for result in results for latency in result.latencies]
    return LoadResult(
        requests=len(latencies),
        seconds=max(result.last_done_at for result in results) - start_at,
        latencies=latencies,
        transferred=sum(result.transferred for result in results),
        errors=sum(result.errors for result in results),
        meter_delta=tuple(later - earlier for later, earlier in zip(after, before, strict=True)),
    )


def combine(results: list[LoadResult]) -> LoadResult:
    """Several windows on the same path as one: their requests, time and meter readings added up."""
    return LoadResult(
        requests=sum(result.requests for result in results),
        seconds=sum(result.seconds for result in results),
        latencies=[latency for result in results for latency in result.latencies],
        transferred=sum(result.transferred for result in results),
        errors=sum(result.errors for result in results),
        meter_delta=tuple(map(sum, zip(*(result.meter_delta for result in results), strict=True))),
    )
