"""At most settings.REQUESTS_AT_ONCE requests of a process do their work at once; the others wait their turn.

Why. Gunicorn's threads share one interpreter lock. When a rush sends a process fifty reservations at once, all
fifty threads are runnable and take turns at the lock, and a cached page, which needs a fraction of a millisecond of
CPU, waits for the lock again at each step of its request: hundreds of milliseconds in all (bench/purchase.py
measured a programme page p99 of 0.5-1 s during the rush). With ConcurrencyLimitMiddleware below the page cache
(settings.MIDDLEWARE), a page served from the cache, a static file and /healthz never wait for a turn; the requests
that render or write take turns, first come first served, so at most REQUESTS_AT_ONCE of them compete for the lock,
and the rest sleep. The rush goes no slower (the lock serialised that work anyway), and other visitors' pages stay
fast. Gunicorn needs enough threads for every waiting request and a free one (gunicorn.conf.py, GUNICORN_THREADS):
a request that finds every thread taken waits in gunicorn's queue, cached or not.

Waiting on Stripe gives the turn back (tickets.payments, as it gives back the database connection), so a buyer
whose Checkout Session takes 400 ms to create holds no turn meanwhile. Not inside a transaction: a thread that
holds row locks must not queue for a turn behind threads that wait for those locks.

A request that waits longer than settings.REQUEST_TURN_TIMEOUT_SECONDS for its turn is answered 503 ("busy, try
again", with Retry-After) before its view runs: nothing was done, nothing is half done.
"""

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5  # the busy page's Retry-After

_held = threading.local()  # .turns: the semaphore this thread holds a turn of, while it does


@cache
def _semaphore(size: int) -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(size)


def turns() -> threading.BoundedSemaphore | None:
    """This process's turns (settings.REQUESTS_AT_ONCE of them), or None when that is 0: no limit."""
    return _semaphore(settings.REQUESTS_AT_ONCE) if settings.REQUESTS_AT_ONCE else None


@contextmanager
def turn_given_back() -> Iterator[None]:
    """Around a wait on another service (a call to Stripe): if this thread holds a turn and no transaction is open,
    it gives the turn to the next waiting request, and takes one again, waiting as long as it must, when the block
    ends (the request carries on: what Stripe answered must be recorded). Otherwise nothing happens."""
    semaphore = getattr(_held, "turns", None)
    if semaphore is None or connection.in_atomic_block:
        yield
        return
    _held.turns = None
    semaphore.release()
    try:
        yield
    finally:
        semaphore.acquire()
        _held.turns = semaphore


def busy_response() -> HttpResponse:
    """503 with the "very busy, try again" page (rendered without the request or a query) and Retry-After."""
    response = HttpResponse(render_to_string("busy.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "private, no-store"
    return response


class ConcurrencyLimitMiddleware:
    """Each request past this middleware waits for one of the process's turns (first come, first served) and holds it
    until its response is made; one that waits REQUEST_TURN_TIMEOUT_SECONDS is answered busy_response() instead.
    The paths in settings.PATHS_WITHOUT_TURN take none (/healthz: the probe must answer while every turn is taken,
    and say what it finds)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        semaphore = turns()
        if semaphore is None or request.path_info in settings.PATHS_WITHOUT_TURN:
            return self.get_response(request)
        if not semaphore.acquire(timeout=settings.REQUEST_TURN_TIMEOUT_SECONDS):
            logger.warning(
                "Busy: %s %s waited %s s for a turn (REQUESTS_AT_ONCE %s); answered 503",
                request.method,
                request.path,
                settings.REQUEST_TURN_TIMEOUT_SECONDS,
                settings.REQUESTS_AT_ONCE,
            )
            return busy_response()
        _held.turns = semaphore
        try:
            return self.get_response(request)
        finally:
            _held.turns = None
            semaphore.release()
