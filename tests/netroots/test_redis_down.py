"""With Redis down the site degrades but doesn't break: pages are rendered uncached, reservations and the admin
work, rate limits count in each process, /healthz says "cache" (and no more), and writes made meanwhile show
once Redis is back.

Each test starts its own redis-server (tests/redis_server.py) with the cache settings production builds for
REDIS_URL, then stops it (connections refused) or freezes it with SIGSTOP (a hung Redis that keeps its data).
"""

import time

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_redis import get_redis_connection

from speakers.models import Speaker
from tests.factories import EventFactory, OrderFactory, OrganisationFactory, SessionFactory, SpeakerFactory
from tests.redis_server import RedisServer, SilentServer, needs_redis_server, production_caches
from tests.tickets.helpers import reserve_over_http
from tickets import ratelimit
from tickets.models import Order

pytestmark = [pytest.mark.django_db, needs_redis_server]

PUBLIC_PAGES = ["/", "/programme/", "/programme/?kind=keynote", "/speakers/", "/organisations/"]
ABOUT_A_TIMEOUT = 3.0  # seconds, loosely: one of the cache's 0.5 s timeouts (two at most), rendering, a slow machine
BACK_WITHIN = 10.0  # seconds: the page cache retries Redis every second (pagecache.RETRY_SECONDS)


@pytest.fixture
def redis(settings):
    """A private redis-server, and the site's cache pointed at it as production points it at REDIS_URL."""
    server = RedisServer().start()
    settings.CACHES = production_caches(server.url)
    caches["local"].clear()  # the rate limits' fallback counts, per process
    yield server
    get_redis_connection("default").connection_pool.disconnect()
    server.stop()


@pytest.fixture
def programme():
    """A keynote with a featured speaker from an organisation: something on every public page."""
    organisation = OrganisationFactory(name="Orgname Before")
    speaker = SpeakerFactory(name="Speakername Shown", organisation=organisation, is_featured=True)
    event = EventFactory(capacity=10, per_order_limit=10)
    SessionFactory(event=event, kind="keynote", title="Sessiontitle Shown", with_speakers=[speaker])
    return organisation


def get(client, url: str, **kwargs) -> tuple[str, int, float]:
    """The page's body, the SQL queries it cost (none: served from the page cache) and the seconds it took."""
    started = time.monotonic()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **kwargs)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode(), len(queries), time.monotonic() - started


def cache_all(client) -> None:
    for url in PUBLIC_PAGES:
        get(client, url)
        assert get(client, url)[1] == 0, f"{url} is not cached while Redis is up"


def wait_until_cached(client, url: str) -> list[str]:
    """Every body served from now until `url` is a page cache hit again (the hit last)."""
    deadline, bodies = time.monotonic() + BACK_WITHIN, []
    while time.monotonic() < deadline:
        body, queries, _ = get(client, url)
        bodies.append(body)
        if queries == 0:
            return bodies
        time.sleep(0.05)
    raise AssertionError(f"{url} is not cached again {BACK_WITHIN} s after Redis came back")


def break_redis(redis: RedisServer, how: str) -> None:
    if how == "stopped":
        redis.stop()  # connections refused
    else:
        redis.pause()  # connections hang


@pytest.mark.parametrize("how", ["stopped", "hung"])
def test_every_public_page_is_rendered_uncached_while_redis_is_down(client, redis, programme, how):
    cache_all(client)  # in Redis, and in this process's own copies
    Speaker.objects.update(name="Speakername Changed")  # no signal: only rendering afresh shows it
    break_redis(redis, how)
    started = time.monotonic()
    for url in PUBLIC_PAGES * 2:
        body, queries, _ = get(client, url)
        assert queries > 0, f"{url} served from a copy nothing could say was current"
        assert "Speakername Changed" in body, url
    # A hung Redis costs this process one timeout (0.5 s), not one per page (5 s for these ten): the page cache
    # leaves it alone until it answers again.
    assert time.monotonic() - started < ABOUT_A_TIMEOUT


@pytest.mark.parametrize("how", ["stopped", "hung"])
def test_pages_are_cached_again_once_redis_is_back(client, redis, programme, how):
    break_redis(redis, how)
    assert get(client, "/programme/")[1] > 0
    if how == "stopped":
        redis.start()  # on the same port, empty
    else:
        redis.resume()
    assert "Sessiontitle Shown" in wait_until_cached(client, "/programme/")[-1]


def test_a_write_while_redis_hangs_is_kept_and_no_page_from_before_it_is_served_once_redis_is_back(
    client, redis, programme, organiser, django_capture_on_commit_callbacks
):
    """Redis merely unreachable keeps the old version token and the pages stored under it; the write's bump,
    which failed, must be made before this process serves any of them again."""
    visitor = Client()  # the organiser's own pages carry the admin's message, so they are never cached
    cache_all(visitor)
    redis.pause()
    # A visitor's page finds Redis hung first (a hung Redis would run a command it was sent once it wakes, so the
    # write's bump must not be the first), and the page cache stops asking it: the bump can only be owed.
    assert "Orgname Before" in get(visitor, "/organisations/")[0]
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):  # the page cache's bump runs after the commit
        response = client.post(
            f"/admin/speakers/organisation/{programme.pk}/change/",
            {"name": "Orgname After", "slug": programme.slug, "kind": programme.kind, "url": "", "blurb": ""},
        )
    assert response.status_code == 302
    assert time.monotonic() - started < ABOUT_A_TIMEOUT
    programme.refresh_from_db()
    assert programme.name == "Orgname After"  # the write is kept
    assert "Orgname After" in get(visitor, "/organisations/")[0]
    redis.resume()
    for body in wait_until_cached(visitor, "/organisations/"):
        assert "Orgname After" in body
        assert "Orgname Before" not in body


@pytest.mark.parametrize("how", ["stopped", "hung"])
def test_a_reservation_goes_to_stripe_checkout_while_redis_is_down(
    client, redis, stripe_double, programme, how, settings, django_capture_on_commit_callbacks
):
    settings.RESERVATION_RATE_LIMIT = "10/h"  # counted in the cache, as in production
    break_redis(redis, how)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):  # a new order bumps the home page's version
        order = reserve_over_http(client, quantity=2)  # asserts the redirect to the Checkout page
    assert time.monotonic() - started < ABOUT_A_TIMEOUT  # the rate limit's timeout and the bump's: 1 s at most
    assert order.quantity == 2
    assert "8 left" in get(client, "/")[0]


def test_the_rate_limit_counts_in_each_process_while_redis_is_down(client, redis, stripe_double, programme, settings):
    settings.RESERVATION_RATE_LIMIT = "2/h"  # an hour: the window doesn't turn over mid-test
    redis.stop()
    data = {"quantity": 1, "buyer_name": "Ada Activist", "buyer_email": "ada@example.com", "attendee_names": ""}
    statuses = [client.post("/tickets/", data, REMOTE_ADDR="203.0.113.1").status_code for _ in range(3)]
    assert statuses == [302, 302, 429]  # still limited: not "no limit"
    assert client.post("/tickets/", data, REMOTE_ADDR="203.0.113.2").status_code == 302  # not "refuse everyone"
    assert Order.objects.count() == 3


def test_a_hung_redis_costs_the_rate_limit_one_timeout_not_one_per_reservation(
    client, redis, stripe_double, programme, settings, monkeypatch
):
    settings.RESERVATION_RATE_LIMIT = "2/h"
    shared = caches["default"]
    asked = []
    add = shared.add
    monkeypatch.setattr(shared, "add", lambda *args, **kwargs: asked.append(args) or add(*args, **kwargs))
    redis.pause()
    data = {"quantity": 1, "buyer_name": "Ada Activist", "buyer_email": "ada@example.com", "attendee_names": ""}
    statuses = [client.post("/tickets/", data, REMOTE_ADDR="203.0.113.1").status_code for _ in range(3)]
    assert statuses == [302, 302, 429]  # limited all the same, in this process's memory
    assert len(asked) == 1  # the shared cache was asked once, and its timeout waited out once
    monkeypatch.setattr(ratelimit, "_shared_cache_failed_at", -ratelimit.SHARED_CACHE_RETRY_SECONDS)  # time passes
    redis.resume()
    assert client.post("/tickets/", data, REMOTE_ADDR="203.0.113.9").status_code == 302
    assert len(asked) == 2  # asked again once the retry time is up


def test_the_admin_works_while_redis_is_down(client, redis, settings):
    settings.AXES_ENABLED = True  # the login throttle counts in the database, as in production
    User.objects.create_superuser("boss", "boss@example.com", "right-password")
    OrderFactory(buyer_email="ada@example.com")
    redis.stop()
    response = client.post("/admin/login/?next=/admin/", {"username": "boss", "password": "right-password"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    orders = client.get("/admin/tickets/order/")
    assert orders.status_code == 200
    assert "ada@example.com" in orders.content.decode()


def test_healthz_names_the_failing_part_and_keeps_the_detail_for_the_log(client, redis, caplog):
    healthy = client.get("/healthz")
    assert healthy.status_code == 200
    assert healthy.json() == {"status": "ok"}
    redis.stop()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "problems": ["cache"]}  # no host, port or error text
    assert f"127.0.0.1:{redis.port}" in caplog.text  # the log has them
    assert "Health check: the cache failed" in caplog.text


def test_a_redis_that_accepts_and_never_answers_costs_a_page_one_timeout(client, settings, programme):
    """A plain socket that never replies (tests/redis_server.SilentServer drops it after 10 s): the cache's own
    timeouts (settings.CACHES), not that, must end the wait."""
    silent = SilentServer()
    try:
        settings.CACHES = production_caches(silent.url)
        body, _, seconds = get(client, "/programme/")
        assert "Sessiontitle Shown" in body
        assert seconds < ABOUT_A_TIMEOUT
        started = time.monotonic()
        assert client.get("/healthz").status_code == 503
        assert time.monotonic() - started < ABOUT_A_TIMEOUT
    finally:
        get_redis_connection("default").connection_pool.disconnect()
        silent.close()
