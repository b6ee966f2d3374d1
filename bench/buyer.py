"""Buyers for the purchase benchmark: HTTP clients that behave as a browser does. Standard library only.

A Browser keeps its cookies and one connection per server (http.client reopens it whenever the server
closes it). The site may be served on several ports (the app servers, each on its own): a browser opens
its pages on one of them and sends its cookies to all of them, as browsers do for one host whatever the
port, so the page Stripe returns a buyer to (SITE_URL, on the first app server) knows the buyer. Requests
to the site carry X-Forwarded-Proto: https, as from behind the TLS-terminating proxy, and Accept-Encoding:
gzip; POSTs also carry the Origin a browser sends, which Django's CSRF check compares with the host.
Requests to the Stripe test double's payment page go straight to it.

The crowds run in forked processes (threads inside them for the rush). They share the 2 cores with the
server, as real buyers would not, but not the interpreter lock of the Stripe test double, which runs in
the benchmark's own process. The visitor reading the programme during a rush is a forked process too.
"""

import gzip
import http.client
import multiprocessing
import re
import statistics
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench import loadgen

HOST = loadgen.HOST
TIMEOUT = 30  # seconds for any one request: a rush queues 200 buyers for the servers' turns
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


class PurchaseError(Exception):
    """The site or the double answered something a working purchase never gets."""


@dataclass(frozen=True)
class Page:
    status: int
    location: str
    body: bytes


class Browser:
    def __init__(self, site_port: int, *, other_site_ports: Sequence[int] = ()) -> None:
        self.site = f"{HOST}:{site_port}"  # where paths (no host) go
        self.sites = {self.site, *(f"{HOST}:{port}" for port in other_site_ports)}
        self.cookies: dict[str, str] = {}
        self.site_requests = 0
        self._connections: dict[str, http.client.HTTPConnection] = {}
        self._reused: dict[str, bool] = {}  # netloc: its connection stays open after a response (keep-alive)

    def get(self, url: str) -> Page:
        return self.request("GET", url)

    def post(self, url: str, form: dict[str, str]) -> Page:
        return self.request("POST", url, form)

    def request(self, method: str, url: str, form: dict[str, str] | None = None) -> Page:
        """GET or POST a path on the site, or an absolute URL on the site or the double; no redirects followed."""
        split = urlsplit(url)
        netloc = split.netloc or self.site
        target = split.path + (f"?{split.query}" if split.query else "")
        headers = {"Host": netloc}
        body = None
        if netloc in self.sites:
            self.site_requests += 1
            headers |= {"X-Forwarded-Proto": "https", "Accept-Encoding": "gzip"}
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
            if form is not None:
                headers["Origin"] = f"https://{netloc}"
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = self._connection(netloc)
        try:
            response, content = _exchange(connection, method, target, body, headers)
        except ConnectionError:
            # A kept-alive connection the server closed meanwhile (its keep-alive timeout ran out while this buyer
            # waited for the others): the request never arrived, and a browser sends it again on a new connection.
            connection.close()
            if not self._reused.get(netloc):
                raise
            response, content = _exchange(connection, method, target, body, headers)
        self._reused[netloc] = not response.will_close
        if netloc in self.sites:
            self._keep_cookies(response.headers.get_all("Set-Cookie") or [])
        if response.getheader("Content-Encoding") == "gzip":
            content = gzip.decompress(content)
        return Page(response.status, response.getheader("Location", ""), content)

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()

    def _connection(self, netloc: str) -> http.client.HTTPConnection:
        if netloc not in self._connections:
            host, _, port = netloc.partition(":")
            if host != HOST:
                raise PurchaseError(f"refusing to leave the loopback interface for {netloc}")
            self._connections[netloc] = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT)
        return self._connections[netloc]

    def _keep_cookies(self, headers: list[str]) -> None:
        for header in headers:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)


def _exchange(
    connection: http.client.HTTPConnection, method: str, target: str, body: str | None, headers: dict[str, str]
) -> tuple[http.client.HTTPResponse, bytes]:
    """One request and its whole answer; the connection is closed on any failure."""
    try:
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        return response, response.read()
    except (OSError, http.client.HTTPException):
        connection.close()
        raise


def rotated(site_ports: Sequence[int], number: int) -> tuple[int, ...]:
    """The ports with buyer `number`'s server first: buyers are shared out among the servers in turn."""
    first = number % len(site_ports)
    return (*site_ports[first:], *site_ports[:first])


def _expect(page: Page, status: int | tuple[int, ...], step: str) -> Page:
    if page.status not in (status if isinstance(status, tuple) else (status,)):
        raise PurchaseError(f"{step}: HTTP {page.status} {page.body[:200]!r}")
    return page


def reservation_form(browser: Browser, number: int) -> dict[str, str]:
    """Open the reservation form, as a buyer does, and fill it in for one ticket."""
    form = _expect(browser.get("/tickets/"), 200, "GET /tickets/")
    token = CSRF_INPUT.search(form.body)
    if token is None:
        raise PurchaseError("GET /tickets/: no reservation form on the page (sold out, or sales closed?)")
    return {
        "csrfmiddlewaretoken": token.group(1).decode(),
        "quantity": "1",
        "buyer_name": f"Bench Buyer {number}",
        "buyer_email": f"buyer{number}@example.com",
        "attendee_names": "",
    }


def is_held(page: Page) -> bool:
    """A reservation that holds a seat redirects to the Stripe Checkout page (the double's /pay/...)."""
    return page.status in (302, 303) and "/pay/cs_" in page.location


def is_sold_out(page: Page) -> bool:
    return page.status == 409 and b"sold out" in page.body.lower()


def is_try_again(page: Page) -> bool:
    """Stripe didn't answer in time: the reservation page again, saying nothing was charged and to try again."""
    return page.status == 409 and b"please try again" in page.body


def purchase(browser: Browser, number: int) -> Page:
    """Reserve, pay on the double (it POSTs the signed webhook to the site before answering), then return
    and open the booking page; raises PurchaseError unless the booking page shows the order paid."""
    reserved = browser.post("/tickets/", reservation_form(browser, number))
    if not is_held(reserved):
        raise PurchaseError(f"POST /tickets/: HTTP {reserved.status} {reserved.location or reserved.body[:200]!r}")
    _expect(browser.get(reserved.location), 200, "GET the payment page")
    paid = _expect(browser.post(reserved.location, {"action": "pay"}), 303, "POST pay")
    success = _expect(browser.get(paid.location), 302, "GET the success URL")
    booking = _expect(browser.get(success.location), 200, "GET the booking page")
    if "You’re going to".encode() not in booking.body:
        raise PurchaseError(f"the booking page does not show the order paid: {success.location}")
    return booking


# --- the rush: every buyer opens the form, then all of them send it at the same moment ---

RUSH_BARRIER_TIMEOUT = 60  # seconds for every buyer to have opened the form

_process_barrier = None  # a multiprocessing Barrier shared by the rush's processes (set in each one)


def _set_process_barrier(barrier) -> None:
    global _process_barrier  # the pool's initializer hands each process the shared barrier
    _process_barrier = barrier


@dataclass(frozen=True)
class RushAnswer:
    outcome: str  # "held", "sold out", "try again" (Stripe didn't answer in time) or "error"
    post_seconds: float  # the reservation POST alone
    posted_at: float
    done_at: float
    detail: str = ""


def _answer(page: Page, posted_at: float) -> RushAnswer:
    done = time.time()
    for outcome, test in (("held", is_held), ("sold out", is_sold_out), ("try again", is_try_again)):
        if test(page):
            return RushAnswer(outcome, done - posted_at, posted_at, done)
    detail = f"POST /tickets/: HTTP {page.status} {page.location or page.body[:200]!r}"
    return RushAnswer("error", done - posted_at, posted_at, done, detail)


def reserve(site_port: int, number: int, ready: Callable[[], object] = lambda: None) -> RushAnswer:
    """One buyer opens the form, waits for ready() (every other buyer has it too), then sends it."""
    browser = Browser(site_port)
    try:
        try:
            fields, problem = reservation_form(browser, number), ""
        except (OSError, http.client.HTTPException, PurchaseError) as error:
            fields, problem = None, f"{type(error).__name__}: {error}"
        ready()
        posted_at = time.time()
        if fields is None:
            return RushAnswer("error", 0.0, posted_at, posted_at, problem)
        try:
            page = browser.post("/tickets/", fields)
        except (OSError, http.client.HTTPException) as error:
            return RushAnswer("error", 0.0, posted_at, time.time(), f"{type(error).__name__}: {error}")
    finally:
        browser.close()
    return _answer(page, posted_at)


def _rush_group(site_ports: Sequence[int], numbers: list[int]) -> list[RushAnswer]:
    """This process's buyers, one thread each, buyer n on site_ports[n % len(site_ports)]; the last to have its
    form also waits for the other processes."""
    answers: list[RushAnswer] = []
    lock = threading.Lock()
    ready = threading.Barrier(len(numbers), action=lambda: _process_barrier.wait(RUSH_BARRIER_TIMEOUT))

    def buyer(number: int) -> None:
        answer = reserve(site_ports[number % len(site_ports)], number, lambda: ready.wait(RUSH_BARRIER_TIMEOUT))
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=buyer, args=(number,)) for number in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def rush(*, site_ports: Sequence[int], buyers: int, processes: int) -> list[RushAnswer]:
    """Every buyer opens the form; once all have, all send it. Threads spread over forked processes; the buyers
    are shared out among the servers in turn."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(processes)
    groups = [(tuple(site_ports), list(range(first, buyers, processes))) for first in range(processes)]
    with context.Pool(processes, initializer=_set_process_barrier, initargs=(barrier,)) as pool:
        results = pool.starmap(_rush_group, groups, chunksize=1)
    return [answer for group in results for answer in group]


# --- a visitor reading a page meanwhile ---

VISIT_HEADERS = {"Accept-Encoding": "gzip", "X-Forwarded-Proto": "https"}  # a browser behind the TLS proxy
VISIT_PAUSE = 0.01  # seconds between one page and the next


@dataclass(frozen=True)
class Visit:
    began_at: float  # time.time()
    seconds: float
    status: int  # 0: no answer


def visit(site_port: int, path: str) -> Visit:
    """GET a page on a new connection, as a visitor's browser opening it."""
    began_at, began = time.time(), time.perf_counter()
    try:
        status = loadgen.get(site_port, path, VISIT_HEADERS).status
    except (OSError, http.client.HTTPException):
        status = 0
    return Visit(began_at, time.perf_counter() - began, status)


def _visitor(site_ports: Sequence[int], path: str, pause: float, stop, sender) -> None:
    visits, number = [], 0
    while not stop.is_set():
        visits.append(visit(site_ports[number % len(site_ports)], path))
        number += 1
        stop.wait(pause)
    sender.send(visits)
    sender.close()


@contextmanager
def visiting(site_ports: Sequence[int], path: str, pause: float = VISIT_PAUSE) -> Iterator[list[Visit]]:
    """A visitor opens `path` again and again (`pause` seconds apart, on each server in turn) in a forked process of
    its own, until the block ends; the list yielded then holds each visit."""
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    receiver, sender = context.Pipe(duplex=False)
    visitor = context.Process(target=_visitor, args=(tuple(site_ports), path, pause, stop, sender), daemon=True)
    visitor.start()
    sender.close()
    visits: list[Visit] = []
    try:
        yield visits
    finally:
        stop.set()
        if receiver.poll(2 * TIMEOUT):
            visits.extend(receiver.recv())
        visitor.join(TIMEOUT)
        receiver.close()


def percentile_ms(seconds: Sequence[float], percentile: int) -> float:
    """The percentile (1-99) of durations in seconds, in milliseconds; 0 for none."""
    if len(seconds) < 2:
        return seconds[0] * 1000 if seconds else 0.0
    return statistics.quantiles(seconds, n=100, method="inclusive")[percentile - 1] * 1000


# --- the loop: a few buyers buying, one purchase after another, for a while ---


MAX_ERRORS = 20  # per looping buyer: something is broken, stop hammering it


@dataclass(frozen=True)
class LoopJob:
    site_ports: tuple[int, ...]  # the buyer's pages are on the first; the others are the same site
    start_at: float  # the measurement window opens; purchases finishing before it are warm-up
    stop_at: float  # no purchase starts after this
    max_purchases: int
    first_number: int


@dataclass
class LoopResult:
    done_at: list[float] = field(default_factory=list)  # each purchase completed after start_at
    seconds: list[float] = field(default_factory=list)
    site_requests: int = 0  # those counted purchases' requests to the site
    errors: list[str] = field(default_factory=list)
    completed: int = 0  # purchases completed, warm-up included
    cpu_seconds: float = 0.0  # this buyer's own CPU time, warm-up included


def _loop_buyer(job: LoopJob) -> LoopResult:
    result, number, cpu_began = LoopResult(), job.first_number, time.process_time()
    while len(result.done_at) < job.max_purchases and time.time() < job.stop_at:
        browser = Browser(job.site_ports[0], other_site_ports=job.site_ports[1:])  # a new buyer: fresh cookies
        began = time.time()
        try:
            purchase(browser, number)
        except (OSError, http.client.HTTPException, PurchaseError) as error:
            result.errors.append(f"{type(error).__name__}: {error}")
            if len(result.errors) >= MAX_ERRORS:
                break
            continue
        finally:
            browser.close()
            number += 1
        done = time.time()
        result.completed += 1
        if done >= job.start_at:
            result.done_at.append(done)
            result.seconds.append(done - began)
            result.site_requests += browser.site_requests
    result.cpu_seconds = time.process_time() - cpu_began
    return result


def loop(
    *,
    site_ports: Sequence[int],
    buyers: int,
    warmup: float,
    seconds: float,
    max_purchases: int,
    meter: Callable[[], Any],
) -> tuple[float, list[LoopResult], Any]:
    """Buyers (one forked process each, shared out among the servers in turn) buy until the window closes;
    returns (window start, results, meter delta).

    meter() is read as the window opens and again once every buyer has finished its last purchase.
    """
    start_at = time.time() + warmup
    jobs = [
        LoopJob(rotated(site_ports, n), start_at, start_at + seconds, max_purchases, 1_000_000 * (n + 1))
        for n in range(buyers)
    ]
    with multiprocessing.get_context("fork").Pool(buyers) as pool:
        pending = pool.map_async(_loop_buyer, jobs, chunksize=1)
        time.sleep(max(0.0, start_at - time.time()))
        before = meter()
        results = pending.get(timeout=warmup + seconds + 10 * TIMEOUT)
        after = meter()
    return start_at, results, after - before
