"""Requests take turns (tickets.concurrency_limit): at most REQUESTS_AT_ONCE do their work at once in a process, a
request that can't get a turn in time is told the site is busy with nothing done, cached pages and /healthz never
wait for one, and a wait on Stripe gives the turn back.

The live-server tests run the whole site on its own threads, in this process, so they share its turns."""

import socket
import threading
import time

import pytest
import requests
from django.db import transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import resolve

from netroots import pagecache
from tests.factories import EventFactory
from tests.tickets.helpers import deliver, pay_at_stripe, reserve_over_http
from tickets import concurrency_limit, services
from tickets.concurrency_limit import ConcurrencyLimitMiddleware
from tickets.models import Order, OrderStatus


def _wait_until(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


class _Taken:
    """Every turn of the process taken, as by requests in the middle of their work, until the block ends."""

    def __enter__(self):
        self.turns = concurrency_limit.turns()
        self.held = 0
        while self.turns.take(0):
            self.held += 1
        return self

    def __exit__(self, *exc):
        for _ in range(self.held):
            self.turns.give_back()


def test_at_most_requests_at_once_run_and_the_others_wait_their_turn_in_order(settings):
    settings.REQUESTS_AT_ONCE = 2
    started, lock = [], threading.Lock()
    done = [threading.Event() for _ in range(6)]  # request n ends when done[n] is set

    def view(request):
        number = int(request.GET["n"])
        with lock:
            started.append(number)
        done[number].wait(10)
        return HttpResponse("done")

    middleware = ConcurrencyLimitMiddleware(view)
    statuses = []
    threads = []
    try:
        for number in range(6):  # one after another: each is running, or in the line, before the next comes
            threads.append(
                threading.Thread(target=lambda n=number: statuses.append(middleware(_request(f"/tickets/?n={n}"))))
            )
            threads[-1].start()
            _wait_until(lambda n=number: len(started) == min(n + 1, 2) and _waiting(max(n - 1, 0)))
        time.sleep(0.1)  # the four waiting had time to run too, had they not been made to wait
        assert started == [0, 1]
        for number in range(4):  # one ends: the first in the line starts, and only it
            done[number].set()
            _wait_until(lambda n=number: len(started) == n + 3)
            time.sleep(0.02)
            assert started == list(range(number + 3))  # first come, first served; still two at once
    finally:
        for event in done:
            event.set()
        for thread in threads:
            thread.join(10)
    assert [response.status_code for response in statuses] == [200] * 6  # every waiting request ran in the end


def _waiting(count: int) -> bool:
    line = concurrency_limit.turns()
    return len(line._front) + len(line._back) == count


def test_a_turn_given_back_goes_to_the_first_waiter_and_the_front_line_comes_first():
    turns = concurrency_limit.Turns(1)
    assert turns.take(0)
    got = []

    def wait(name: str, front: bool) -> None:
        if turns.take(10, front=front):
            got.append(name)
            turns.give_back()

    back = threading.Thread(target=wait, args=("posted first", False))
    back.start()
    _wait_until(lambda: len(turns._back) == 1)
    front = threading.Thread(target=wait, args=("page for the cache", True))
    front.start()
    _wait_until(lambda: len(turns._front) == 1)
    turns.give_back()
    assert not turns.take(0)  # handed straight to a waiter: a newcomer can't slip in
    back.join(10)
    front.join(10)
    assert got == ["page for the cache", "posted first"]
    assert turns.take(0)  # and free again once they are done


def test_a_waiter_that_times_out_leaves_the_line():
    turns = concurrency_limit.Turns(1)
    assert turns.take(0)
    assert not turns.take(0.05)
    assert not turns._back
    turns.give_back()
    assert turns.take(0)


@pytest.mark.django_db
def test_a_request_that_gets_no_turn_in_time_is_told_busy_and_nothing_is_reserved(settings, client, stripe_double):
    EventFactory()
    settings.REQUEST_TURN_TIMEOUT_SECONDS = 0.2
    form = {"quantity": 1, "buyer_name": "Ada Activist", "buyer_email": "ada@example.com"}
    with _Taken():
        response = client.post("/tickets/", form)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Cache-Control"] == "private, no-store"
    page = response.content.decode()
    assert "very busy" in page
    assert "this attempt reserved nothing and charged nothing" in page
    assert "Find your booking" in page  # for whoever had already paid
    assert response["Content-Security-Policy"]  # the headers of every page, from the middleware above
    assert response["X-Frame-Options"] == "DENY"
    assert not Order.objects.exists()
    assert client.post("/tickets/", form).status_code == 302  # with a turn free, the same form books


@pytest.mark.django_db
def test_cached_pages_and_the_health_check_need_no_turn(settings, client):
    EventFactory()
    settings.REQUEST_TURN_TIMEOUT_SECONDS = 0.2
    assert client.get("/programme/").status_code == 200  # rendered (with a turn) and cached
    with _Taken():
        assert client.get("/programme/").status_code == 200
        assert client.get("/healthz").status_code == 200
        busy = client.get("/tickets/")  # the form is never cached: it waits for a turn
        assert busy.status_code == 503
        assert "reserved nothing" not in busy.content.decode()  # said only of a form sent


@pytest.mark.django_db
def test_stripe_webhook_needs_no_turn(settings, client, stripe_double):
    """Money arriving is recorded at once, however busy the site."""
    EventFactory()
    settings.REQUEST_TURN_TIMEOUT_SECONDS = 0.2
    order = reserve_over_http(client, quantity=1)
    event = pay_at_stripe(stripe_double, order)
    with _Taken():
        assert deliver(client, stripe_double, event).status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


@pytest.mark.django_db
def test_a_page_missing_from_the_cache_is_looked_for_again_once_its_turn_comes(client, django_assert_num_queries):
    """A request that found the home page missing, then waited while one ahead of it stored the page, serves the
    stored page instead of rendering it again."""
    EventFactory()
    assert client.get("/").status_code == 200  # stored
    request = RequestFactory().get("/")
    request._page_cache_miss = ("page:whatever", {})  # what PageCacheHitMiddleware noted before the wait
    request.session, request.user = {}, None
    with django_assert_num_queries(0):
        response = resolve("/").func(request)
    assert response.status_code == 200
    assert "Netroots" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_reservation_waiting_on_stripe_gives_its_turn_back(settings, live_server, stripe_double):
    """One turn: while a buyer's Checkout Session is being created (Stripe answering slowly), another visitor's
    form is served, not told the site is busy."""
    EventFactory()
    settings.REQUESTS_AT_ONCE = 1
    settings.REQUEST_TURN_TIMEOUT_SECONDS = 1.0
    stripe_double.latency_seconds = 3.0
    buyer = Client()
    answers = []
    reserving = threading.Thread(
        target=lambda: answers.append(
            buyer.post("/tickets/", {"quantity": 1, "buyer_name": "Ada Activist", "buyer_email": "ada@example.com"})
        )
    )
    reserving.start()
    try:
        _wait_until(lambda: stripe_double.waiting_requests == 1)
        other = requests.get(f"{live_server.url}/tickets/", timeout=10)
        assert other.status_code == 200
        assert stripe_double.waiting_requests == 1  # still waiting on Stripe: the turn was given back, not ended
    finally:
        reserving.join(15)
    assert answers[0].status_code == 302  # and the buyer got their Checkout Session once Stripe answered
    assert Order.objects.get().stripe_checkout_session_id


@pytest.mark.django_db(transaction=True)  # no test transaction around it: the view opens the only one
def test_a_wait_on_stripe_inside_a_transaction_keeps_the_turn(settings):
    """A thread holding row locks must not queue for a turn behind threads waiting for those locks."""
    settings.REQUESTS_AT_ONCE = 1
    seen = {}

    def view(request):
        turns = concurrency_limit.turns()
        with concurrency_limit.turn_given_back():
            seen["outside"] = turns.take(0)
            if seen["outside"]:
                turns.give_back()
        with transaction.atomic(), concurrency_limit.turn_given_back():
            seen["inside"] = turns.take(0)
            if seen["inside"]:
                turns.give_back()
        return HttpResponse()

    assert ConcurrencyLimitMiddleware(view)(_request("/tickets/")).status_code == 200
    assert seen == {"outside": True, "inside": False}
    assert concurrency_limit.turns().take(0)  # and the request gave its turn back at the end
    concurrency_limit.turns().give_back()


def _request(path: str):
    return RequestFactory().get(path)


@pytest.mark.django_db(transaction=True)
def test_a_form_sent_slowly_holds_no_turn_while_its_body_arrives(settings, live_server):
    """A client trickling a reservation form's body (a slow connection, or an attacker) must not hold a turn while
    the body is read: the middleware above the turns reads form data first (netroots.middleware)."""
    EventFactory()
    settings.REQUESTS_AT_ONCE = 1
    settings.REQUEST_TURN_TIMEOUT_SECONDS = 1.0
    body = b"quantity=1&buyer_name=Ada+Activist&buyer_email=ada%40example.com"
    host, port = live_server.thread.host, live_server.thread.port
    with socket.create_connection((host, port), timeout=10) as slow:
        slow.sendall(
            b"POST /tickets/ HTTP/1.1\r\nHost: " + host.encode() + b"\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body[:10]
        )
        time.sleep(0.3)  # the slow request is in, reading its body
        other = requests.get(f"{live_server.url}/tickets/", timeout=10)
        assert other.status_code == 200  # not told the site is busy
        slow.sendall(body[10:])
        answer = slow.recv(200)
    assert answer.startswith(b"HTTP/1.1 403")  # the slow form was read to its end (and has no CSRF token)


@pytest.mark.django_db
def test_only_a_page_that_was_cached_and_changed_goes_first(client, django_capture_on_commit_callbacks, monkeypatch):
    """The home page after a sale renders ahead of the rest; a made-up address (a 404, never stored) can't jump the
    line however often it is asked for."""
    monkeypatch.setattr(pagecache, "local_pages", pagecache.LocalPages(pagecache.LOCAL_BYTES))  # no earlier test's
    event = EventFactory()
    assert client.get("/").status_code == 200  # cached
    with django_capture_on_commit_callbacks(execute=True):
        services.reserve_tickets(event=event, buyer_name="Ada", buyer_email="ada@example.com", quantity=1)
    home = client.get("/")  # its seats left changed: rendered again
    assert home.wsgi_request.renders_for_page_cache is True
    for _ in range(2):
        made_up = client.get("/programme/no-such-session/")
        assert made_up.status_code == 404
        assert made_up.wsgi_request.renders_for_page_cache is False
    assert client.get("/speakers/").wsgi_request.renders_for_page_cache is False  # never cached before


def test_the_front_line_goes_first_but_lets_the_back_line_move():
    turns = concurrency_limit.Turns(1)
    assert turns.take(0)
    got, threads = [], []

    def wait(name: str, front: bool) -> None:
        if turns.take(10, front=front):
            got.append(name)
            turns.give_back()

    for name, front in [("back", False)] + [(f"front {n}", True) for n in range(6)]:
        threads.append(threading.Thread(target=wait, args=(name, front)))
        threads[-1].start()
        _wait_until(lambda: len(turns._front) + len(turns._back) == len(threads))
    turns.give_back()
    for thread in threads:
        thread.join(10)
    in_a_row = concurrency_limit.FRONT_IN_A_ROW
    assert got == [f"front {n}" for n in range(in_a_row)] + ["back"] + [f"front {n}" for n in range(in_a_row, 6)]


@pytest.mark.django_db
def test_a_page_with_query_parameters_never_goes_first(client):
    """Anyone can make pages of their own with ?kind=anything (each stored): they must not jump the line."""
    EventFactory()
    for path in ("/programme/", "/programme/?kind=made-up"):
        assert client.get(path).status_code == 200  # stored
    pagecache.bump(pagecache.PROGRAMME)  # an organiser's edit: both stale
    assert client.get("/programme/").wsgi_request.renders_for_page_cache is True
    assert client.get("/programme/?kind=made-up").wsgi_request.renders_for_page_cache is False
