"""PostgreSQL restarting in the middle of a rush: no oversell, and no seats held by a buyer who got an error page.

Everything is real and on loopback: a private PostgreSQL cluster that this test starts and restarts itself
(tests/postgres_server.py; never the machine's shared server), the site under gunicorn with the production
settings, the Stripe test double answering slowly (latency_seconds), and buyers on threads, each a new browser
with an email of its own, who open the form and send it, again and again, until the rush ends.

PostgreSQL is restarted three times (pg_ctl stop -m fast, then start), each time timed from the moment a
reservation has been written and starts waiting for Stripe to create its Checkout Session, as in the incident (a
500, and an order with a Checkout Session holding its seats for 32 minutes):
- "down": stopped at once, and down for longer than Stripe takes: when Stripe answers, that request can write
  nothing, not even its own release. The order's short provisional hold (PROVISIONAL_HOLD_SECONDS) frees its seats.
- "back": stopped at once, and up again before Stripe answers, but the request's connection was cut: the view can
  release the order at once, and must.
- "after Stripe": stopped just after Stripe answered and the Checkout Session was recorded (the hold now as long
  as the event's), while the response is still being written (the buyer's session saved): another client's lock on
  django_session holds that write for the moment it takes, so the restart lands there every time.

Then, with PostgreSQL up: paid plus held seats never exceed capacity; the site answers normally again; and a
buyer whose answer was anything but a redirect to Checkout or "sold out" (a 500, a 503, a 400, no answer) holds no
seats once the provisional hold has passed, and none at once if the request failed after PostgreSQL was back
(answered RELEASE_GRACE after it). Seats are counted by the project's own rule (OrderQuerySet.holding_seats,
seats_taken), read by a `manage.py shell` of the test's own (READER). Run with -s for a summary of every answer.
"""

import contextlib
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from bench.buyer import CSRF_INPUT, Browser
from bench.server import gunicorn
from stripe_double import StripeDouble
from tests import postgres_server

pytestmark = pytest.mark.skipif(bool(postgres_server.missing()), reason=postgres_server.missing() or "-")

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "netroots"
CAPACITY = 40
PAID_BEFORE = 4  # seats already paid for when the rush starts (two orders of two)
PRICE_PENCE = 500
BUYERS = 8  # threads, each buying again and again until the rush ends
WORKERS, THREADS = 2, 4  # gunicorn's: 8 requests at once, REQUESTS_AT_ONCE (2) of each process's working
STRIPE_LATENCY = 1.2  # seconds the double takes to answer each request: longer than a restart takes
# An error page answered this long after PostgreSQL was back came from a request that failed after it was back: one
# that failed while it was down (its release failing too) answers within milliseconds, even on a loaded machine.
RELEASE_GRACE = 0.5  # seconds
PROVISIONAL_HOLD_SECONDS = 10  # a new order's hold until its Checkout Session is recorded (the site's setting)
WARM_UP = 1.0  # seconds of buying before the first restart
BETWEEN = 0.7  # seconds of buying after one restart, before waiting for the next
AFTER = 1.0  # seconds of buying after the last restart, before the first reading; then until sold out, for up to
SELL_OUT_WITHIN = 3.0  # seconds more
TRIGGER_TIMEOUT = 10  # seconds to wait for a reservation to be waiting on Stripe
READ_TIMEOUT = 30  # seconds for the reader to start, or to answer
FORM_TOKEN = re.compile(rb'name="form_token" value="([^"]*)"')

# The production settings (netroots.settings), but static files served from the apps' folders: the manifest
# storage needs collectstatic, which takes longer than this whole test.
SETTINGS_MODULE = "postgres_restart_settings"
SETTINGS = """\
from pathlib import Path

from netroots.settings import *  # noqa: F403

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
STATIC_ROOT = Path(__file__).parent / "static"  # nothing is collected: WhiteNoise serves from the finders
WHITENOISE_USE_FINDERS = True
"""

# Run by `manage.py shell` on the site's database: make the event, then answer each line on stdin with one reading
# of seats and orders, as the project counts them (OrderQuerySet.holding_seats, seats_taken), on a fresh connection
# (PostgreSQL may have restarted since the last one). Started once: a reading then takes milliseconds.
READER = f"""
import json
import sys
from django.db import connection
from django.db.models import Sum
from django.utils import timezone
from tests.factories import EventFactory, OrderFactory
from tickets.models import Order, OrderStatus

event = EventFactory(capacity={CAPACITY}, ticket_price_pence={PRICE_PENCE}, per_order_limit=4)
for n in range({PAID_BEFORE // 2}):
    OrderFactory(event=event, paid=True, quantity=2, buyer_email=f"early{{n}}@example.com")
print("READY", flush=True)
for _ in sys.stdin:
    connection.close()
    now = timezone.now()
    orders = Order.objects.filter(event=event)
    holding = set(orders.holding_seats(now=now).values_list("pk", flat=True))
    print("ORDERS", json.dumps({{
        "capacity": event.capacity,
        "seats_taken": Order.objects.seats_taken(event),
        "paid": orders.filter(status=OrderStatus.PAID).aggregate(n=Sum("quantity", default=0))["n"],
        "orders": [
            {{
                "email": order.buyer_email,
                "status": order.status,
                "quantity": order.quantity,
                "checkout_session": bool(order.stripe_checkout_session_id),
                "holding": order.pk in holding,
                "hold_seconds_left": round((order.hold_expires_at - now).total_seconds()),
            }}
            for order in orders.order_by("pk")
        ],
    }}), flush=True)
"""


@dataclass(frozen=True)
class Answer:
    buyer: int
    step: str  # "form" (GET /tickets/) or "reserve" (its POST)
    status: int  # 0: no answer (the connection failed)
    location: str
    sent_at: float  # time.monotonic()
    answered_at: float

    @property
    def is_checkout(self) -> bool:
        """The reservation holds seats: a redirect to the Checkout page (the double's /pay/cs_...)."""
        return self.status in (302, 303) and "/pay/cs_" in self.location

    @property
    def is_error_page(self) -> bool:
        """A reservation answered with anything but Checkout or "sold out" (409): a 500, a 503, no answer."""
        return self.step == "reserve" and not self.is_checkout and self.status != 409


@dataclass
class Outage:
    name: str
    stopping_at: float = 0.0  # time.monotonic()
    up_at: float = 0.0

    def hit(self, answer: Answer) -> bool:
        """Sent before PostgreSQL stopped and answered after: the request was under way when it stopped."""
        return answer.sent_at < self.stopping_at < answer.answered_at

    def spans(self, answer: Answer) -> bool:
        """Sent before PostgreSQL stopped and answered well after it was back (RELEASE_GRACE): the request failed with
        the database there again (its cut connection, when Stripe answered), so the view could release at once."""
        return answer.sent_at < self.stopping_at and answer.answered_at > self.up_at + RELEASE_GRACE

    def covers(self, answer: Answer) -> bool:
        """Answered while PostgreSQL was stopped or starting."""
        return self.stopping_at <= answer.answered_at <= self.up_at


def email(buyer: int) -> str:
    return f"buyer{buyer}@example.com"


class Rush:
    """Buyers on threads, each time a new browser with its own email, until stop() (each finishes its purchase).

    A buyer opens the form and sends it for one ticket; a buyer who finds no form (an error page, sold out) tries
    again a moment later. Every answer is recorded.
    """

    def __init__(self, site_port: int) -> None:
        self.site_port = site_port
        self.answers: list[Answer] = []
        self._lock = threading.Lock()
        self._numbers = iter(range(1, 100_000))
        self._stopping = threading.Event()
        self.sold_out = threading.Event()  # a buyer was told so
        self._threads = [threading.Thread(target=self._buy_again_and_again, daemon=True) for _ in range(BUYERS)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _buy_again_and_again(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                number = next(self._numbers)
            browser = Browser(self.site_port)
            try:
                self._buy(browser, number)
            finally:
                browser.close()

    def _buy(self, browser: Browser, number: int) -> None:
        form, page = self._request(browser, number, "form", "GET", "/tickets/")
        token = CSRF_INPUT.search(page)
        if form.status == 200 and token is None:
            self.sold_out.set()  # the page shows no form
        if form.status != 200 or token is None:
            time.sleep(0.1)
            return
        once = FORM_TOKEN.search(page)
        fields = {
            "csrfmiddlewaretoken": token.group(1).decode(),
            "form_token": once.group(1).decode() if once else "",
            "quantity": "1",
            "buyer_name": f"Buyer {number}",
            "buyer_email": email(number),
            "attendee_names": "",
        }
        reserved, _ = self._request(browser, number, "reserve", "POST", "/tickets/", fields)
        if reserved.status == 409:
            self.sold_out.set()

    def _request(
        self, browser: Browser, number: int, step: str, method: str, url: str, form: dict[str, str] | None = None
    ) -> tuple[Answer, bytes]:
        sent_at = time.monotonic()
        try:
            page = browser.request(method, url, form)
            status, location, body = page.status, page.location, page.body
        except OSError:
            status, location, body = 0, "", b""
        answer = Answer(number, step, status, location, sent_at, time.monotonic())
        with self._lock:
            self.answers.append(answer)
        return answer, body


def manage(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, f"manage.py {args[0]} failed:\n{result.stdout}\n{result.stderr}"


class Reader:
    """The READER script in a `manage.py shell` of its own: the event made, then readings on demand."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        with log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "manage.py", "shell", "--no-startup", "--command", READER],
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        self._log_path = log_path
        try:
            self._answer("READY")
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def read(self) -> dict:
        """Seats and every order now (see READER)."""
        self._process.stdin.write("\n")
        self._process.stdin.flush()
        return json.loads(self._answer("ORDERS"))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._process.stdin.close()
        try:
            self._process.wait(READ_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process.stdout.close()

    def _answer(self, prefix: str) -> str:
        watchdog = threading.Timer(READ_TIMEOUT, self._process.kill)  # never wait forever on it
        watchdog.start()
        try:
            while line := self._process.stdout.readline():
                if line.startswith(f"{prefix} ") or line.strip() == prefix:
                    return line.removeprefix(prefix).strip()
        finally:
            watchdog.cancel()
        raise AssertionError(
            f"the reader stopped before {prefix}:\n{self._log_path.read_text(errors='replace')[-3000:]}"
        )


def site_environment(folder: Path, database_url: str, port: int, double: StripeDouble) -> dict[str, str]:
    """The production environment (DEBUG off, a real secret key), nothing inherited that could point elsewhere."""
    (folder / f"{SETTINGS_MODULE}.py").write_text(SETTINGS)
    (folder / "static").mkdir()
    inherited = ("DJANGO_", "DATABASE_URL", "REDIS_URL", "STRIPE_", "SITE_URL", "GUNICORN_", "WEB_CONCURRENCY")
    return {key: value for key, value in os.environ.items() if not key.startswith(inherited)} | {
        "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT)]),
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "DATABASE_URL": database_url,
        "SITE_URL": f"http://{postgres_server.HOST}:{port}",
        "STRIPE_API_BASE": double.base_url,
        "STRIPE_SECRET_KEY": "sk_test_postgres_restart",
        "STRIPE_WEBHOOK_SECRET": double.webhook_secret,
        "RESERVATION_RATE_LIMIT": "",
        "MAX_UNPAID_BOOKINGS_PER_CLIENT": "0",  # every buyer here comes from loopback
        "MAX_UNPAID_BOOKINGS_PER_EMAIL": "0",
        "PROVISIONAL_HOLD_SECONDS": str(PROVISIONAL_HOLD_SECONDS),
        "GUNICORN_THREADS": str(THREADS),
        "DB_POOL_SIZE": str(THREADS),
    }


def when_a_reservation_waits_on_stripe(double: StripeDouble, outage: Outage) -> None:
    """Return as soon as one more request starts waiting on the double: a reservation that has just been written
    and is creating its Checkout Session (only reservations call Stripe here). Its answer comes STRIPE_LATENCY
    seconds later."""
    deadline = time.monotonic() + TRIGGER_TIMEOUT
    waiting = double.waiting_requests
    while (now_waiting := double.waiting_requests) <= waiting:
        assert time.monotonic() < deadline, f"restart {outage.name!r}: no reservation reached Stripe"
        waiting = now_waiting
        time.sleep(0.002)


def restart(server: postgres_server.PostgresServer, outage: Outage, *, down: float) -> None:
    """Stop PostgreSQL (fast: every connection is cut, open transactions roll back), start it `down` seconds later."""
    outage.stopping_at = time.monotonic()
    server.stop(mode="fast")
    time.sleep(down)
    server.start()
    outage.up_at = time.monotonic()


def restart_after_stripe_answers(server: postgres_server.PostgresServer, outage: Outage) -> None:
    """Restart PostgreSQL just after Stripe answered the reservation that is waiting on it, while its request is
    saving the buyer's session (SessionMiddleware, with the response): another client holds a lock that makes
    writes to django_session wait, as a long statement would, so the request is caught there, deterministically."""
    blocker = psycopg.connect(server.url(DATABASE))
    try:
        blocker.execute("LOCK TABLE django_session IN SHARE ROW EXCLUSIVE MODE")  # reads pass, writes wait
        time.sleep(STRIPE_LATENCY + 0.4)
        restart(server, outage, down=0.0)
    finally:
        with contextlib.suppress(psycopg.Error):
            blocker.close()  # cut by the restart


def summary(answers: list[Answer], outages: list[Outage], at_once: dict, later: dict, start: float) -> str:
    lines = ["", "PostgreSQL restart mid-rush"]
    for outage in outages:
        lines.append(
            f"  restart {outage.name!r}: stopped at {outage.stopping_at - start:.2f}s, "
            f"up again at {outage.up_at - start:.2f}s"
        )
    for step in ("form", "reserve"):
        statuses = Counter("checkout" if a.is_checkout else a.status for a in answers if a.step == step)
        lines.append(f"  {step:7} answers: {dict(sorted(statuses.items(), key=str))}  (0: no answer)")
    for name, reading in (("at once", at_once), (f"after the {PROVISIONAL_HOLD_SECONDS}s provisional hold", later)):
        lines.append(
            f"  seats {name}: capacity {reading['capacity']}, taken (paid + held) {reading['seats_taken']}, "
            f"paid {reading['paid']}, orders {len(reading['orders'])}"
        )
    orders_at_once = {order["email"]: order for order in at_once["orders"]}
    orders_later = {order["email"]: order for order in later["orders"]}
    for answer in (a for a in answers if a.is_error_page):
        when = (
            "answered after PostgreSQL was back"
            if any(outage.spans(answer) for outage in outages)
            else "answered while down"
            if any(outage.covers(answer) for outage in outages)
            else "answered as PostgreSQL came back, or while up"
        )
        first, second = orders_at_once.get(email(answer.buyer)), orders_later.get(email(answer.buyer))
        if first is None or second is None:
            order = "no order"
        else:
            session = "recorded" if first["checkout_session"] else "not recorded"
            order = (
                f"order {first['status']}, Checkout Session {session}, holding at once: {first['holding']} "
                f"({first['hold_seconds_left']}s left), after the provisional hold: {second['holding']} "
                f"({second['status']})"
            )
        lines.append(
            f"  error page: {email(answer.buyer)} sent at {answer.sent_at - start:.2f}s, "
            f"got {answer.status} at {answer.answered_at - start:.2f}s ({when}): {order}"
        )
    return "\n".join(lines)


def seats_held_by(reading: dict, buyer: int) -> int:
    return sum(order["quantity"] for order in reading["orders"] if order["email"] == email(buyer) and order["holding"])


@dataclass(frozen=True)
class Run:
    answers: list[Answer]
    outages: list[Outage]
    started_at: float
    at_once: dict  # the reading taken AFTER seconds after the last restart, the rush still on
    at_once_asked_at: float
    at_once_read_at: float
    sold_out: bool


def rush_through_restarts(server: postgres_server.PostgresServer, double: StripeDouble, reader: Reader, port: int):
    """The rush, with PostgreSQL restarted three times in it (see the module docstring); returns what happened."""
    outages = [Outage("down"), Outage("back"), Outage("after Stripe")]
    rush = Rush(port)
    started_at = time.monotonic()
    rush.start()
    try:
        time.sleep(WARM_UP)
        # Down for longer than Stripe takes: the request waiting on it can't write when Stripe answers.
        when_a_reservation_waits_on_stripe(double, outages[0])
        restart(server, outages[0], down=STRIPE_LATENCY + 0.7)
        time.sleep(BETWEEN)
        # Up again before Stripe answers: that request's connection is gone, but the database is there.
        when_a_reservation_waits_on_stripe(double, outages[1])
        restart(server, outages[1], down=0.0)
        time.sleep(BETWEEN)
        # After Stripe answered and the Checkout Session was recorded: the response's last write fails.
        when_a_reservation_waits_on_stripe(double, outages[2])
        restart_after_stripe_answers(server, outages[2])
        time.sleep(AFTER)
        # The buyers go on buying: an order that the view had to release at once is released by now.
        at_once_asked_at = time.monotonic()
        at_once = reader.read()
        at_once_read_at = time.monotonic()
        rush.sold_out.wait(SELL_OUT_WITHIN)
    finally:
        rush.stop()
    return Run(rush.answers, outages, started_at, at_once, at_once_asked_at, at_once_read_at, rush.sold_out.is_set())


def test_postgres_restarting_mid_rush_oversells_nothing_and_leaves_no_seats_with_buyers_shown_an_error(tmp_path):
    with postgres_server.PostgresServer() as server:
        server.create_database(DATABASE)
        port = postgres_server.free_port()
        with StripeDouble(
            webhook_url=f"http://{postgres_server.HOST}:{port}/stripe/webhook/",
            webhook_secret=f"whsec_postgres_restart_{secrets.token_hex(8)}",
            latency_seconds=STRIPE_LATENCY,
        ) as double:
            env = site_environment(tmp_path, server.url(DATABASE), port, double)
            manage(env, "migrate", "--noinput", "--verbosity", "0")
            with (
                Reader(env, tmp_path / "reader.log") as reader,
                gunicorn(ROOT, env, WORKERS, tmp_path / "gunicorn.log", port=port),
            ):
                run = rush_through_restarts(server, double, reader, port)
                # Every order was made before its request was answered: wait until all their provisional holds end.
                last_answer = max(answer.answered_at for answer in run.answers if answer.step == "reserve")
                time.sleep(max(0.0, last_answer + PROVISIONAL_HOLD_SECONDS + 0.5 - time.monotonic()))
                later = reader.read()
    outages, at_once = run.outages, run.at_once
    print(summary(run.answers, outages, at_once, later, run.started_at))
    print(f"  sold out during the rush: {'yes' if run.sold_out else 'no'}")
    reservations = [answer for answer in run.answers if answer.step == "reserve"]
    errors = [answer for answer in reservations if answer.is_error_page]
    since_back = [answer for answer in run.answers if answer.sent_at > outages[-1].up_at]
    # Under way through a whole restart and answered once PostgreSQL was back: the view could release at once. Those
    # answered before the first reading, and whose provisional hold can't have run out by then, tell whether it did.
    answered_when_back = [
        answer
        for answer in errors
        if any(outage.spans(answer) for outage in outages)
        and answer.answered_at < run.at_once_asked_at
        and run.at_once_read_at < answer.sent_at + PROVISIONAL_HOLD_SECONDS
    ]

    for outage in outages:
        assert any(outage.hit(answer) for answer in reservations), f"restart {outage.name!r} hit no reservation"
    assert at_once["seats_taken"] <= CAPACITY
    assert later["seats_taken"] <= CAPACITY
    assert at_once["paid"] == later["paid"] == PAID_BEFORE
    assert since_back, "no request was sent after the last restart"
    assert all(a.status == 200 or a.is_checkout or a.status == 409 for a in since_back), "the site did not recover"
    still_held = sorted({email(answer.buyer) for answer in errors if seats_held_by(later, answer.buyer)})
    not_released = sorted(
        {email(answer.buyer) for answer in answered_when_back if seats_held_by(at_once, answer.buyer)}
    )
    assert (still_held, not_released) == ([], []), (
        f"buyers shown an error page who still hold seats: after the {PROVISIONAL_HOLD_SECONDS}s provisional hold "
        f"{still_held or 'none'}; at once, though PostgreSQL was back when they were answered, {not_released or 'none'}"
    )
