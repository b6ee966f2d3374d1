"""A slow or hanging Stripe never stalls a buyer, nor anyone else.

Stripe here is the real test double, slowed down (StripeDouble.latency_seconds), never a mock. A reservation waits
for Stripe a bounded time (tickets/payments.py), then tells the buyer to try again and frees the seats; a merely slow
Stripe still takes the buyer to Checkout. Under gunicorn as configured (gunicorn.conf.py), reservations hanging on
Stripe hold a thread each, and /healthz and the programme keep answering at once.
"""

import html
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.db import connection

from tests.factories import EventFactory
from tickets import services
from tickets.models import Order, OrderStatus

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
HANGING = 60  # seconds: the double's latency for "Stripe hangs", far beyond any timeout of ours
BUYER_WAIT_LIMIT_SECONDS = 8.0  # the longest a buyer may wait for Stripe before hearing "try again"
QUICK_SECONDS = 2.0  # other pages while Stripe hangs (under 20 ms on an idle machine): stuck behind one, 5 s or more
TRY_AGAIN = "We couldn't start the payment just now. Nothing was charged; please try again."
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def event(db):
    return EventFactory(capacity=4, per_order_limit=4)


def post_form(client, *, quantity: int = 2):
    form = {"quantity": quantity, "buyer_name": "Ada Activist", "buyer_email": "ada@example.com", "attendee_names": ""}
    return client.post("/tickets/", form)


def test_a_hanging_stripe_gets_the_buyer_try_again_within_seconds_and_holds_nothing(client, stripe_double, event):
    stripe_double.latency_seconds = HANGING
    began = time.monotonic()
    response = post_form(client, quantity=3)
    waited = time.monotonic() - began

    assert response.status_code == 409
    body = html.unescape(response.content.decode())
    assert TRY_AGAIN in body
    assert waited < BUYER_WAIT_LIMIT_SECONDS
    assert Order.objects.get().status == OrderStatus.CANCELLED
    assert services.seats_left(event) == event.capacity == 4
    assert "4 tickets left" in body


def test_after_a_hang_the_buyer_can_try_again_and_reserve(client, stripe_double, event):
    stripe_double.latency_seconds = HANGING
    assert post_form(client).status_code == 409
    stripe_double.latency_seconds = 0  # Stripe is back
    response = post_form(client)
    assert response.status_code == 302
    order = Order.objects.get(status=OrderStatus.PENDING)
    assert response["Location"].endswith(f"/pay/{order.stripe_checkout_session_id}")
    assert services.seats_left(event) == 2


def test_a_slow_stripe_that_answers_in_time_still_takes_the_buyer_to_checkout(client, stripe_double, event):
    stripe_double.latency_seconds = 1.5
    response = post_form(client)
    assert response.status_code == 302
    assert "/pay/cs_" in response["Location"]
    assert Order.objects.get().status == OrderStatus.PENDING


# --- under gunicorn: reservations hanging on Stripe don't hold up anyone else ---


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url() -> str:
    """The test database, as DATABASE_URL for another process (SQLite: a file; PostgreSQL: test_...)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def get(port: int, path: str) -> tuple[int, float]:
    """GET a path on the site; (status, seconds it took)."""
    began = time.monotonic()
    http_connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        http_connection.request("GET", path)
        status = http_connection.getresponse().status
    finally:
        http_connection.close()
    return status, time.monotonic() - began


def reservation_form(port: int, number: int) -> tuple[str, dict[str, str]]:
    """A buyer opens the form and fills it in for one ticket; (the form's fields, the POST's headers)."""
    http_connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        http_connection.request("GET", "/tickets/")
        form = http_connection.getresponse()
        page, cookies = form.read().decode(), form.headers.get_all("Set-Cookie") or []
    finally:
        http_connection.close()
    token = CSRF_INPUT.search(page)
    assert token, page[:2000]
    fields = {
        "csrfmiddlewaretoken": token.group(1),
        "quantity": "1",
        "buyer_name": f"Buyer {number}",
        "buyer_email": f"buyer{number}@example.com",
    }
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(cookie.split(";", 1)[0] for cookie in cookies),
    }
    return urlencode(fields), headers


def send(port: int, form: tuple[str, dict[str, str]]) -> tuple[int, str, float]:
    """POST a filled-in reservation form; (status, body, seconds it took)."""
    body, headers = form
    http_connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        began = time.monotonic()
        http_connection.request("POST", "/tickets/", body=body, headers=headers)
        answer = http_connection.getresponse()
        return answer.status, html.unescape(answer.read().decode()), time.monotonic() - began
    finally:
        http_connection.close()


@pytest.fixture
def site(transactional_db, stripe_double, tmp_path):
    """The site under gunicorn with gunicorn.conf.py's defaults (workers, threads), over the test database and
    the Stripe double; yields its port, stops it (the whole process group) at the end."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in ("GUNICORN_THREADS", "WEB_CONCURRENCY")}
    env |= {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "STRIPE_API_BASE": stripe_double.base_url,
        "STRIPE_SECRET_KEY": "sk_test_double",
        "STRIPE_WEBHOOK_SECRET": stripe_double.webhook_secret,
        # PostgreSQL: fewer pooled connections per process than reservations hanging on Stripe, which must give
        # theirs back while they wait (tickets.payments.release_database_connection). SQLite has no pool.
        "DB_POOL_SIZE": "2",
    }
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "netroots.wsgi"]
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, f"gunicorn did not start:\n{log_path.read_text()}"
            try:
                if get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(25)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_pages_answer_at_once_while_reservations_hang_on_stripe(site, stripe_double):
    event = EventFactory(capacity=20, per_order_limit=4)
    hanging = 8  # with one thread per process (2 processes), as before, 2 hanging reservations stalled every page
    for path in ("/healthz", "/programme/"):
        assert get(site, path)[0] == 200  # the first time a worker renders a page is not what is measured
    forms = [reservation_form(site, number) for number in range(hanging)]
    stripe_double.latency_seconds = HANGING
    with ThreadPoolExecutor(hanging) as buyers:
        reservations = [buyers.submit(send, site, form) for form in forms]
        deadline = time.monotonic() + 4  # well inside the site's 5 s wait for Stripe's answer
        while stripe_double.waiting_requests < hanging and time.monotonic() < deadline:
            time.sleep(0.02)
        reached_stripe = stripe_double.waiting_requests

        # The ticket form reads the database (the session, the seats left), a cached programme page needn't.
        answers = [get(site, path) for _ in range(5) for path in ("/healthz", "/programme/", "/tickets/")]
        still_waiting = sum(not reservation.done() for reservation in reservations)
        assert [status for status, _ in answers] == [200] * len(answers)
        assert max(seconds for _, seconds in answers) < QUICK_SECONDS
        assert reached_stripe == still_waiting == hanging  # every reservation held a thread all along

        for reservation in reservations:
            status, body, seconds = reservation.result()
            assert (status, TRY_AGAIN in body) == (409, True)
            assert seconds < BUYER_WAIT_LIMIT_SECONDS
    assert services.seats_left(event) == 20
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.CANCELLED}
