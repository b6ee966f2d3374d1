"""The whole-page cache (netroots.pagecache): a hit costs no query, and every change shows at once.

Changes reach the cache after their transaction commits (transaction.on_commit); the tests' own
transaction never commits, so they run those callbacks with django_capture_on_commit_callbacks.
"""

import gzip
import io
import time
from datetime import timedelta

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.cache import cache, caches
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.models import Event, Session
from netroots import pagecache
from tests.factories import (
    EventFactory,
    OrderFactory,
    OrganisationFactory,
    RoomFactory,
    SessionFactory,
    SpeakerFactory,
    TrackFactory,
    build_programme,
)
from tests.tickets.helpers import pay_at_stripe
from tickets import services

pytestmark = pytest.mark.django_db

GZIP = {"accept-encoding": "gzip, br"}
HOLD_LEFT = timedelta(seconds=1.5)  # long enough for a page to be cached, and hit, before it runs out


def page(client, url: str) -> str:
    """The page as a browser that doesn't ask for gzip sees it."""
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.fixture
def programme():
    """One of each thing a public page shows, each named so that the name is found only where it is shown."""
    event = EventFactory(name="Eventname Before", capacity=10)
    room = RoomFactory(event=event, name="Roomname Before")
    track = TrackFactory(event=event, name="Trackname Before")
    organisation = OrganisationFactory(name="Orgname Before")
    speaker = SpeakerFactory(name="Speakername Before", organisation=organisation, is_featured=True)
    session = SessionFactory(
        event=event, room=room, track=track, kind=Session.Kind.KEYNOTE, title="Sessiontitle Before",
        with_speakers=[speaker],
    )  # fmt: skip
    return {"event": event, "room": room, "track": track, "organisation": organisation, "speaker": speaker,
            "session": session}  # fmt: skip


def cached_urls(programme) -> list[str]:
    session, speaker = programme["session"], programme["speaker"]
    return ["/", "/programme/", "/programme/?kind=keynote", session.get_absolute_url(), "/speakers/",
            speaker.get_absolute_url(), "/organisations/"]  # fmt: skip


def test_a_cached_page_costs_no_query(client, programme):
    for url in cached_urls(programme):
        for headers in (GZIP, {}):
            client.get(url, headers=headers)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url, headers=headers).status_code == 200
            assert len(queries) == 0, (url, headers, [query["sql"] for query in queries])


def test_a_cached_programme_page_costs_no_query_however_large(client):
    build_programme(200)
    client.get("/programme/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/programme/").status_code == 200
    assert len(queries) == 0


# What each edit renames, and the cached pages that show it: the organisation through its speakers'
# affiliations and the home page's list, the event in every page's header.
SHOWN_ON = {
    "organisation": ("name", ["/", "/organisations/", "/speakers/", "speaker", "session"]),
    "speaker": ("name", ["/", "/programme/", "/speakers/", "/organisations/", "speaker", "session"]),
    "session": ("title", ["/", "/programme/", "/programme/?kind=keynote", "speaker", "session"]),
    "room": ("name", ["/programme/", "speaker", "session"]),
    "track": ("name", ["/programme/", "session"]),
    "event": ("name", ["/", "/programme/", "/speakers/", "/organisations/", "speaker", "session"]),
}


@pytest.mark.parametrize("thing", SHOWN_ON)
def test_an_edit_shows_at_once_on_every_cached_page_that_shows_it(
    client, programme, thing, django_capture_on_commit_callbacks
):
    field, shown_on = SHOWN_ON[thing]
    obj = programme[thing]
    before = getattr(obj, field)
    after = before.replace("Before", "After")
    urls = [programme[where].get_absolute_url() if where in programme else where for where in shown_on]
    for url in cached_urls(programme):
        page(client, url)  # every page cached
    for url in urls:
        assert before in page(client, url), url
    setattr(obj, field, after)
    with django_capture_on_commit_callbacks(execute=True):
        obj.save()
    for url in urls:
        body = page(client, url)
        assert after in body, url
        assert before not in body, url


def test_the_cache_is_cleared_after_the_change_commits_not_before(
    client, programme, django_capture_on_commit_callbacks
):
    organisation = programme["organisation"]
    assert "Orgname Before" in page(client, "/organisations/")
    with django_capture_on_commit_callbacks() as callbacks:
        organisation.name = "Orgname After"
        organisation.save()
        # Not committed: a server rendering now may still read the old row, so it must not get a new version.
        assert "Orgname Before" in page(client, "/organisations/")
    assert callbacks
    for callback in callbacks:
        callback()  # the commit
    assert "Orgname After" in page(client, "/organisations/")


def test_adding_a_speaker_to_a_session_shows_at_once(client, programme, django_capture_on_commit_callbacks):
    session = programme["session"]
    newcomer = SpeakerFactory(name="Newcomer Speaker")
    assert "Newcomer Speaker" not in page(client, session.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        session.speakers.add(newcomer, through_defaults={"position": 2})  # m2m_changed, no post_save
    assert "Newcomer Speaker" in page(client, session.get_absolute_url())


def test_a_lost_version_is_a_new_version(client, programme):
    """An evicted version key (or a restarted cache) must not bring back pages from before a change."""
    assert "Orgname Before" in page(client, "/organisations/")
    type(programme["organisation"]).objects.update(name="Orgname After")  # no signal: nothing is bumped
    cache.delete(pagecache.version_key(pagecache.PROGRAMME))
    assert "Orgname After" in page(client, "/organisations/")


def test_a_bump_by_another_server_reaches_the_copies_this_one_keeps(client, programme):
    """Each process keeps the pages it served; the version in the shared cache still decides what is current."""
    assert "Orgname Before" in page(client, "/organisations/")
    assert "Orgname Before" in page(client, "/organisations/")  # served from this process's copy
    type(programme["organisation"]).objects.update(name="Orgname After")  # no signal here...
    pagecache.bump(pagecache.PROGRAMME)  # ...the server that made the change bumped the version
    assert "Orgname After" in page(client, "/organisations/")


def test_each_process_keeps_a_bounded_number_of_bytes():
    pages = pagecache.LocalPages(max_bytes=10)
    for key in "abc":
        pages.put(key, ("tokens", "text/html", b"1234", 0.0))
    assert pages.get("a") is None  # the least recently used went first
    assert pages.get("b") is not None
    assert pages.size == 8
    pages.put("d", ("tokens", "text/html", b"1234", 0.0))
    assert pages.get("c") is None  # "b" was used since
    assert pages.get("b") is not None


def test_loading_the_demo_again_leaves_the_page_cache_warm(demo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as bumps:
        call_command("load_demo", stdout=io.StringIO())  # changes nothing, so saves nothing
    assert bumps == []


def test_reserving_paying_and_refunding_change_tickets_left_at_once(
    client, stripe_double, django_capture_on_commit_callbacks
):
    event = EventFactory(capacity=10)
    assert "10 left" in page(client, "/")
    with django_capture_on_commit_callbacks(execute=True):
        order = services.reserve_tickets(event=event, buyer_name="Ada", buyer_email="ada@example.com", quantity=2)
    assert "8 left" in page(client, "/")
    with django_capture_on_commit_callbacks(execute=True):
        pay_at_stripe(stripe_double, order)  # paid at Stripe, but the webhook is late...
        services.release_if_pending(session_id=order.stripe_checkout_session_id, note="expired")  # ...the hold ended
    assert "10 left" in page(client, "/")
    with django_capture_on_commit_callbacks(execute=True):
        services.fulfil_checkout(session_id=order.stripe_checkout_session_id)  # the payment takes the seats back
    assert "8 left" in page(client, "/")
    with django_capture_on_commit_callbacks(execute=True):
        services.refund_order(order_id=order.pk)
    assert "10 left" in page(client, "/")


def test_a_hold_running_out_frees_its_seats_on_the_home_page_with_no_write(client):
    """Nothing is saved when a hold runs out (release_expired_holds comes later), yet the page must change."""
    order = OrderFactory(event=EventFactory(capacity=10), quantity=3, hold_expires_at=timezone.now() + HOLD_LEFT)
    assert "7 left" in page(client, "/")
    assert "7 left" in page(client, "/")  # a hit
    time.sleep(max(0.0, (order.hold_expires_at - timezone.now()).total_seconds()) + 0.05)
    assert "10 left" in page(client, "/")


def test_sales_opening_shows_on_the_home_page_with_no_write(client):
    EventFactory(capacity=10, sales_open_at=timezone.now() + HOLD_LEFT)
    assert "Tickets go on sale on" in page(client, "/")
    assert "Tickets go on sale on" in page(client, "/")  # a hit
    time.sleep(max(0.0, (Event.objects.get().sales_open_at - timezone.now()).total_seconds()) + 0.05)
    body = page(client, "/")
    assert "10 left" in body
    assert "Reserve tickets" in body


def test_pages_are_stored_gzipped_only(client, programme, monkeypatch):
    stored = []
    backend = caches["default"]
    real_set = backend.set

    def recording_set(key, value, *args, **kwargs):
        stored.append(value)
        return real_set(key, value, *args, **kwargs)

    monkeypatch.setattr(backend, "set", recording_set)
    raw = client.get("/programme/").content
    pages = [value for value in stored if isinstance(value, tuple)]
    assert len(pages) == 1
    assert [part for part in pages[0] if isinstance(part, bytes)] == [gzip.compress(raw, compresslevel=6, mtime=0)]


def test_pages_are_gzipped_for_clients_that_ask(client, programme):
    response = client.get("/programme/", headers=GZIP)
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert b"Sessiontitle Before" in gzip.decompress(response.content)


def test_clients_that_dont_ask_for_gzip_get_the_page_as_it_was_rendered(client, programme):
    client.get("/programme/", headers=GZIP)  # cached, gzipped
    response = client.get("/programme/")
    assert not response.has_header("Content-Encoding")
    assert "Accept-Encoding" in response["Vary"]
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert b"Sessiontitle Before" in response.content


def test_pages_are_served_uncached_while_the_cache_is_down(client, programme, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
    }
    response = client.get("/programme/")
    assert response.status_code == 200
    assert b"Sessiontitle Before" in response.content


def test_a_hit_is_served_before_the_session_middleware_with_every_security_header(client, monkeypatch):
    """PageCacheHitMiddleware answers hits above SessionMiddleware; the headers set above it still apply."""
    SessionFactory()
    first = client.get("/programme/")
    calls = []
    original = SessionMiddleware.process_request
    monkeypatch.setattr(
        SessionMiddleware, "process_request", lambda self, request: calls.append(1) or original(self, request)
    )
    hit = client.get("/programme/", headers={"accept-encoding": "gzip"})
    assert hit.status_code == 200
    assert calls == []
    for header in ["Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"]:
        assert hit[header] == first[header], header
    assert client.get("/tickets/").status_code == 200
    assert calls  # pages that aren't cached still go through the whole stack
