"""The parts of the benchmark that run inside this process with Django set up (django.setup() first).

SQL queries are counted with the Django test client against the benchmark database, through the
whole middleware stack and the page cache: "cold" with the cache cleared, "warm" straight after.
"""

import io
import time
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
    with CaptureQueriesContext(connection) as cold:
        began = time.perf_counter()
        first = client.get(path)
        cold_ms = (time.perf_counter() - began) * 1000
    with CaptureQueriesContext(connection) as warm:
        second = client.get(path)
    status = first.status_code if first.status_code != 200 else second.status_code
    return Probe(path, status, len(cold), len(warm), cold_ms, len(second.content))


def _as_meta(headers: dict[str, str]) -> dict[str, str]:
    """HTTP headers as the WSGI environ keys the test client takes ("Accept-Encoding": HTTP_ACCEPT_ENCODING)."""
    return {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
