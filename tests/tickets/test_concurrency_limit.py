"""Requests take turns (tickets.concurrency_limit): at most REQUESTS_AT_ONCE do their work at once in a process, a
request that can't get a turn in time is told the site is busy with nothing done, cached pages and /healthz never
wait for one, and a wait on Stripe gives the turn back.

The live-server tests run the whole site on its own threads, in this process, so they share its turns."""

import threading
import time

import pytest
import requests
from django.db import transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory

from tests.factories import EventFactory
from tickets import concurrency_limit
from tickets.concurrency_limit import ConcurrencyLimitMiddleware
from tickets.models import Order


def _wait_until(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


class _Taken:
    """Every turn of the process taken, as by requests in the middle of their work, until the block ends."""

    def __enter__(self):
        self.semaphore = concurrency_limit.turns()
        self.held = 0
        while self.semaphore.acquire(blocking=False):
            self.held += 1
        return self

    def __exit__(self, *exc):
        for _ in range(self.held):
            self.semaphore.release()


def test_at_most_requests_at_once_run_and_the_others_wait_their_turn(settings):
    settings.REQUESTS_AT_ONCE = 2
    running, most, lock, release = 0, 0, threading.Lock(), threading.Event()

    def view(request):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        release.wait(10)
        with lock:
            running -= 1
        return HttpResponse("done")

    middleware = ConcurrencyLimitMiddleware(view)
    statuses = []
    threads = [
        threading.Thread(target=lambda: statuses.append(middleware(_request("/tickets/")).status_code))
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    _wait_until(lambda: running == 2)
    time.sleep(0.2)  # the four others had time to start too, had they not been made to wait
    assert running == 2
    release.set()
    for thread in threads:
        thread.join(10)
    assert most == 2
    assert statuses == [200] * 6  # every waiting request ran in the end


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
    assert "nothing was reserved and nothing was charged" in page
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
        assert client.get("/tickets/").status_code == 503  # the form is never cached: it waits for a turn


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
        semaphore = concurrency_limit.turns()
        with concurrency_limit.turn_given_back():
            seen["outside"] = semaphore.acquire(blocking=False)
            if seen["outside"]:
                semaphore.release()
        with transaction.atomic(), concurrency_limit.turn_given_back():
            seen["inside"] = semaphore.acquire(blocking=False)
            if seen["inside"]:
                semaphore.release()
        return HttpResponse()

    assert ConcurrencyLimitMiddleware(view)(_request("/tickets/")).status_code == 200
    assert seen == {"outside": True, "inside": False}
    assert concurrency_limit.turns().acquire(blocking=False)  # and the request gave its turn back at the end
    concurrency_limit.turns().release()


def _request(path: str):
    return RequestFactory().get(path)
