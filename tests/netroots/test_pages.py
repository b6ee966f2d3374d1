"""The site as a whole: query budgets of every public page, the home page, security headers, /healthz."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.models import Session
from tests.factories import (
    SessionFactory,
    SpeakerFactory,
    build_programme,
)

pytestmark = pytest.mark.django_db


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
    assert response.json() == {"status": "unavailable", "problems": ["cache"]}  # no host, port or error text
