"""At most settings.REQUESTS_AT_ONCE requests of a process do their work at once; the others wait their turn.

Why. Gunicorn's threads share one interpreter lock. When a rush sends a process fifty reservations at once, all
fifty threads are runnable and take turns at the lock, and a cached page, which needs a fraction of a millisecond of
CPU, waits for the lock again at each step of its request: hundreds of milliseconds in all (bench/purchase.py
measured a programme page p99 of 0.5-1 s during the rush). With ConcurrencyLimitMiddleware below the page cache
(settings.MIDDLEWARE), a page served from the cache, a static file and /healthz never wait for a turn; the requests
that render or write take turns, first come first served, so at most REQUESTS_AT_ONCE of them compete for the lock,
and the rest sleep. The rush goes no slower (the lock serialised that work anyway), and other visitors' pages stay
fast. A public page the cache had, and must render again (the home page just after a sale changed the seats left),
waits in the front line, and looks in the cache again once its turn comes, in case one ahead of it stored the
page meanwhile. Gunicorn needs enough threads for every waiting request and a free one (gunicorn.conf.py,
GUNICORN_THREADS): a request that finds every thread taken waits in gunicorn's queue, cached or not.

Waiting on Stripe gives the turn back (tickets.payments, as it gives back the database connection), so a buyer
whose Checkout Session takes 400 ms to create holds no turn meanwhile; the answer back, the request waits in the
front line for a turn to record it. Not inside a transaction: a thread that
holds row locks must not queue for a turn behind threads that wait for those locks.

A form's body is read before the turn is taken (netroots.middleware.RejectUnqueryableInputMiddleware, above this
one, reads form data), so a client that sends its form slowly holds a thread, never a turn; and the turn ends when
the response is made, before gunicorn writes it to a slow reader.

A request that waits longer than settings.REQUEST_TURN_TIMEOUT_SECONDS for its turn is answered 503 ("busy, try
again", with Retry-After) before its view runs: nothing was done, nothing is half done.
"""

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5  # the busy page's Retry-After
FRONT_IN_A_ROW = 4  # then one turn to the back line, if anyone waits there

_held = threading.local()  # .turns: the Turns this thread holds one of, while it does


class Turns:
    """`size` turns, handed out first come, first served, with a line at the front for those who must not wait long.

    A turn given back goes straight to the first waiter (no newcomer can take it in between), from the front line
    before the back one, except that every FRONT_IN_A_ROW + 1-th goes to the back line. Thread-safe; one per process
    and size (turns()).
    """

    def __init__(self, size: int) -> None:
        self._lock = threading.Lock()
        self._free = size
        self._front: deque[threading.Event] = deque()  # back from Stripe mid-request; pages for the page cache
        self._back: deque[threading.Event] = deque()  # everyone else
        self._front_in_a_row = 0  # turns handed to the front line since the back line last had one

    def take(self, timeout: float | None = None, *, front: bool = False) -> bool:
        """Wait for a turn, at most `timeout` seconds (None: as long as it takes), in the front line if `front`.
        True once this thread holds one; False if none came in time (the thread holds none)."""
        with self._lock:
            if self._free and not self._front and not self._back:
                self._free -= 1
                return True
            handed = threading.Event()
            line = self._front if front else self._back
            line.append(handed)
        try:
            if handed.wait(timeout):
                return True
        except BaseException:  # interrupted while waiting (KeyboardInterrupt): leave the line, holding nothing
            with self._lock:
                if handed.is_set():
                    self.give_back_locked()
                else:
                    line.remove(handed)
            raise
        with self._lock:
            if handed.is_set():  # handed over just as the wait ended: it is ours
                return True
            line.remove(handed)
            return False

    def give_back(self) -> None:
        """End this thread's turn: the first waiter gets it, or it is free."""
        with self._lock:
            self.give_back_locked()

    def give_back_locked(self) -> None:
        """give_back(), with self._lock held by the caller. The front line goes first, but no more than FRONT_IN_A_ROW
        times in a row while others wait at the back: however many pages there are to render again, the line moves."""
        if self._front and (not self._back or self._front_in_a_row < FRONT_IN_A_ROW):
            self._front.popleft().set()
            self._front_in_a_row += 1
        elif self._back:
            self._back.popleft().set()
            self._front_in_a_row = 0
        else:
            self._free += 1


@cache
def _turns(size: int) -> Turns:
    return Turns(size)


def turns() -> Turns | None:
    """This process's turns (settings.REQUESTS_AT_ONCE of them), or None when that is 0 or less: no limit."""
    return _turns(settings.REQUESTS_AT_ONCE) if settings.REQUESTS_AT_ONCE > 0 else None


@contextmanager
def turn_given_back() -> Iterator[None]:
    """Around a wait on another service (a call to Stripe): if this thread holds a turn and no transaction is open,
    it gives the turn to the next waiting request, and takes one again when the block ends, in the front line and
    waiting as long as it must (the request carries on: what Stripe answered must be recorded). Otherwise nothing
    happens."""
    held = getattr(_held, "turns", None)
    if held is None or connection.in_atomic_block:
        yield
        return
    _held.turns = None
    held.give_back()
    try:
        yield
    finally:
        held.take(front=True)
        _held.turns = held


def busy_response(request: HttpRequest) -> HttpResponse:
    """503 with the "very busy, try again" page (rendered without a query: the database may be what is slow) and
    Retry-After."""
    context = {"posted": request.method == "POST"}
    response = HttpResponse(render_to_string("busy.html", context), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "private, no-store"
    return response


class ConcurrencyLimitMiddleware:
    """Each request past this middleware waits for one of the process's turns (first come, first served) and holds it
    until its response is made; one that waits REQUEST_TURN_TIMEOUT_SECONDS is answered busy_response() instead.
    A page the page cache will store (request.renders_for_page_cache, set by netroots.pagecache) waits in the front
    line: its render serves every visitor after it. The paths in settings.PATHS_WITHOUT_TURN take none (/healthz:
    the probe must answer while every turn is taken; Stripe's webhook: money arriving, answered at once), nor does a
    request made inside another's turn on the same thread (the test client inside a view)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = turns()
        if limit is None or request.path_info in settings.PATHS_WITHOUT_TURN or getattr(_held, "turns", None):
            return self.get_response(request)
        front = getattr(request, "renders_for_page_cache", False)
        if not limit.take(settings.REQUEST_TURN_TIMEOUT_SECONDS, front=front):
            logger.warning(
                "Busy: %s %s waited %s s for a turn (REQUESTS_AT_ONCE %s); answered 503",
                request.method,
                request.path,
                settings.REQUEST_TURN_TIMEOUT_SECONDS,
                settings.REQUESTS_AT_ONCE,
            )
            return busy_response(request)
        _held.turns = limit
        try:
            return self.get_response(request)
        finally:
            if _held.turns is limit:  # not if a wait on Stripe gave it back and was interrupted before it took one
                limit.give_back()
            _held.turns = None
