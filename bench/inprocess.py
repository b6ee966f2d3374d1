"""The parts of the benchmark that run inside this process with Django set up (django.setup() first).

SQL queries are counted with the Django test client against the benchmark database, through the
whole middleware stack and the page cache: "cold" with the cache cleared, "warm" straight after.
Each request starts as a server starts one (close_if_unusable_or_obsolete), so the connection health
check (CONN_HEALTH_CHECKS: a "SELECT 1" before the request's first query) is counted too: the test
client skips that step, and the check goes to the database without passing through the query log.
"""

import io
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from events.models import Event, Session


@dataclass(frozen=True)
class Probe:
    path: str
    status: int
    cold_queries: int
    warm_queries: int
    cold_checks: int  # connection health checks: a database round trip each, like a query
    warm_checks: int
    cold_ms: float  # wall time of the cold request, rendering included
    body_bytes: int  # of the warm response, gzipped as a browser would receive it


def prepare_database() -> None:
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


def load_demo() -> None:
    call_command("load_demo", stdout=io.StringIO())  # quietly: it prints the organiser's password


def session_count() -> int:
    event = Event.objects.current()
    return Session.objects.published().filter(event=event).count() if event else 0


def session_path() -> str:
    """The first session in the programme that has speakers: a typical session page."""
    event = Event.objects.current()
    session = Session.objects.filter(event=event).for_programme().filter(speaker_roles__isnull=False).first()
    if session is None:
        raise LookupError("the current event has no published session with speakers")
    return session.get_absolute_url()


def probe(path: str, headers: dict[str, str]) -> Probe:
    client = Client(**_as_meta({"Host": "127.0.0.1", **headers}))
    cache.clear()
    connection.ensure_connection()  # as a server's worker that has served a request before
    with CaptureQueriesContext(connection) as cold, _health_checks() as cold_checks:
        began = time.perf_counter()
        first = client.get(path)
        cold_ms = (time.perf_counter() - began) * 1000
    with CaptureQueriesContext(connection) as warm, _health_checks() as warm_checks:
        second = client.get(path)
    status = first.status_code if first.status_code != 200 else second.status_code
    return Probe(path, status, len(cold), len(warm), len(cold_checks), len(warm_checks), cold_ms, len(second.content))


@contextmanager
def _health_checks() -> Iterator[list[bool]]:
    """Start a request as a server does, and list the connection health checks made until the block ends."""
    checks: list[bool] = []
    check = connection.is_usable

    def counted() -> bool:
        checks.append(check())
        return checks[-1]

    connection.close_if_unusable_or_obsolete()  # what request_started does under gunicorn: the next query checks
    connection.is_usable = counted
    try:
        yield checks
    finally:
        del connection.is_usable


def _as_meta(headers: dict[str, str]) -> dict[str, str]:
    """HTTP headers as the WSGI environ keys the test client takes ("Accept-Encoding": HTTP_ACCEPT_ENCODING)."""
    return {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
