from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from icalendar import Calendar

from events.models import Session
from tests.factories import (
    EventFactory,
    OrganisationFactory,
    RoomFactory,
    SessionFactory,
    SpeakerFactory,
    TrackFactory,
)

pytestmark = pytest.mark.django_db


def build_programme(sessions: int, event=None):
    """Add `sessions` published sessions over 5 rooms, each with two speakers, to a (new) event."""
    event = event or EventFactory(ends_at=EventFactory.starts_at + timedelta(days=3))
    rooms = list(event.rooms.all()) or [RoomFactory(event=event) for _ in range(5)]
    tracks = list(event.tracks.all()) or [TrackFactory(event=event) for _ in range(3)]
    organisations = [OrganisationFactory() for _ in range(4)]
    already = event.sessions.count()
    for n in range(already, already + sessions):
        start = event.starts_at + timedelta(minutes=30 * (n // 5))
        speakers = [SpeakerFactory(organisation=organisations[n % 4], is_featured=n < 6) for _ in range(2)]
        SessionFactory(
            event=event,
            room=rooms[n % 5],
            track=tracks[n % 3],
            kind=[Session.Kind.TALK, Session.Kind.WORKSHOP, Session.Kind.PANEL][n % 3],
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
            with_speakers=speakers,
        )
    return event


def count_queries(client, url: str) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


PUBLIC_PAGES = ["/", "/programme/", "/programme/?kind=workshop", "/speakers/", "/organisations/"]


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_public_pages_cost_the_same_queries_for_5_or_200_sessions(client, url):
    event = build_programme(5)
    small = count_queries(client, url)
    build_programme(195, event)
    assert Session.objects.published().filter(event=event).count() == 200
    large = count_queries(client, url)
    if url.startswith("/programme/"):  # every session (or every workshop: 67 of 200) is on the page
        assert client.get(url).content.count(b'class="slot ') == (67 if "workshop" in url else 200)
    assert small == large
    assert large <= 8


def test_detail_pages_cost_the_same_queries_whatever_the_speaker_count(client):
    event = build_programme(5)
    session = event.sessions.first()
    speaker = session.ordered_speakers[0]
    few = count_queries(client, session.get_absolute_url()), count_queries(client, speaker.get_absolute_url())
    for _ in range(20):
        other = SessionFactory(event=event, starts_at=event.starts_at + timedelta(days=1), with_speakers=[speaker])
        other.speaker_roles.create(speaker=SpeakerFactory(), position=2)
    session.speaker_roles.create(speaker=SpeakerFactory(), position=9)
    many = count_queries(client, session.get_absolute_url()), count_queries(client, speaker.get_absolute_url())
    assert few == many


def test_a_cached_page_costs_one_query(client):
    build_programme(5)
    client.get("/programme/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/programme/").status_code == 200
    assert len(queries) == 1  # the content version


def test_editing_a_session_shows_on_the_next_request(client):
    session = SessionFactory(title="Old title")
    assert b"Old title" in client.get("/programme/").content
    session.title = "New title"
    session.save()
    body = client.get("/programme/").content
    assert b"New title" in body
    assert b"Old title" not in body


def test_renaming_a_speaker_shows_on_cached_pages(client):
    speaker = SpeakerFactory(name="Before Name")
    SessionFactory(with_speakers=[speaker])
    assert b"Before Name" in client.get("/programme/").content
    speaker.name = "After Name"
    speaker.save()
    assert b"After Name" in client.get("/programme/").content


def test_the_programme_shows_every_published_session_with_its_speakers(client):
    speaker = SpeakerFactory(name="Tom Watson")
    SessionFactory(title="MPs in the feed", with_speakers=[speaker])
    SessionFactory(title="Secret draft", is_published=False)
    body = client.get("/programme/").content.decode()
    assert "MPs in the feed" in body
    assert "Tom Watson" in body
    assert "Secret draft" not in body


def test_unpublished_sessions_appear_nowhere_public(client):
    speaker = SpeakerFactory(name="Only Drafts", is_featured=True)
    draft = SessionFactory(title="Secret draft", kind=Session.Kind.KEYNOTE, is_published=False, with_speakers=[speaker])
    for url in ["/", "/programme/", "/speakers/", speaker.get_absolute_url()]:
        assert "Secret draft" not in client.get(url).content.decode(), url
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get(f"/programme/{draft.slug}/calendar.ics").status_code == 404
    assert "Only Drafts" not in client.get("/speakers/").content.decode()


def test_filter_by_kind_shows_only_that_kind(client):
    event = EventFactory()
    SessionFactory(event=event, title="Build a list", kind=Session.Kind.WORKSHOP)
    SessionFactory(event=event, title="A talk about lists", kind=Session.Kind.TALK)
    body = client.get("/programme/?kind=workshop").content.decode()
    assert "Build a list" in body
    assert "A talk about lists" not in body


def test_filter_by_track_shows_only_that_track(client):
    event = EventFactory()
    organising = TrackFactory(event=event, slug="organising")
    SessionFactory(event=event, title="Door knocking", track=organising)
    SessionFactory(event=event, title="Blogging")
    body = client.get("/programme/?track=organising").content.decode()
    assert "Door knocking" in body
    assert "Blogging" not in body


@pytest.mark.parametrize("query", ["?kind=nonsense", "?track=nope", "?kind=%00%ff", "?kind=" + "x" * 5000])
def test_unknown_filter_values_are_ignored(client, query):
    SessionFactory(title="Still listed")
    response = client.get("/programme/" + query)
    assert response.status_code == 200
    assert b"Still listed" in response.content


def test_unknown_session_or_speaker_is_a_friendly_404(client):
    EventFactory()
    for url in ["/programme/no-such-session/", "/speakers/nobody/", "/nowhere/"]:
        response = client.get(url)
        assert response.status_code == 404
        assert b"We can\xe2\x80\x99t find that page" in response.content


def test_session_page_shows_time_room_speakers_and_place_limit(client):
    speaker = SpeakerFactory(name="Paul Dimoldenberg", role="Leader, Westminster Council Labour Group")
    session = SessionFactory(title="Local parties online", kind=Session.Kind.WORKSHOP, place_limit=30)
    session.speaker_roles.create(speaker=speaker, position=1)
    body = client.get(session.get_absolute_url()).content.decode()
    assert "Local parties online" in body
    assert "Leader, Westminster Council Labour Group" in body
    assert session.room.name in body
    assert "Limited to 30 people" in body
    assert '<time datetime="2028-01-08T10:00:00+00:00">' in body


def test_session_calendar_file_has_the_right_times(client):
    session = SessionFactory(title="Data for campaigners")
    response = client.get(f"/programme/{session.slug}/calendar.ics")
    assert response["Content-Type"].startswith("text/calendar")
    entry = Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert str(entry["summary"]).startswith("Data for campaigners")
    assert entry.decoded("dtstart") == session.starts_at
    assert entry.decoded("dtend") == session.ends_at
    assert str(entry["uid"]) == f"session-{session.pk}@testserver"  # the site's host: unique across calendars
    assert abs((entry.decoded("dtstamp") - timezone.now()).total_seconds()) < 60  # when the file was made


def test_session_page_links_to_tickets_and_gives_the_year(client):
    session = SessionFactory()
    body = client.get(session.get_absolute_url()).content.decode()
    assert 'href="/tickets/"' in body
    assert session.starts_at.strftime("%Y") in body.split("<dt>When</dt>")[1].split("</dd>")[0]


def test_pages_are_gzipped_for_clients_that_ask(client):
    SessionFactory()
    response = client.get("/programme/", headers={"accept-encoding": "gzip, br"})
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]


def test_every_page_sends_a_strict_content_security_policy(client):
    SessionFactory()
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_home_without_an_event_explains_itself(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"No event has been set up yet" in response.content


def test_healthz_is_ok_when_database_and_cache_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_is_503_naming_the_cache_when_it_is_down(client, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "cache" in response.json()["problems"]
