"""Renamed pages: a session's or a speaker's old URLs (the page, and a session's calendar file, which sits in
people's calendars) answer 301 to the new ones, through django.contrib.redirects and with the page cache on."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.contrib.redirects.models import Redirect

from tests.factories import SessionFactory, SpeakerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rename(django_capture_on_commit_callbacks):
    """Save `obj` with a new slug, committing as the admin does (so the page cache's version moves on)."""

    def rename(obj, slug: str):
        with django_capture_on_commit_callbacks(execute=True):
            obj.slug = slug
            obj.save()
        return obj

    return rename


def assert_moved(client, old: str, new: str) -> None:
    response = client.get(old)
    assert response.status_code == 301, old
    assert response["Location"] == new


def test_a_renamed_sessions_page_and_calendar_file_redirect_permanently(client, rename):
    session = SessionFactory(slug="old-title")
    assert client.get("/programme/old-title/").status_code == 200  # now in the page cache
    assert client.get("/programme/old-title/calendar.ics").status_code == 200
    rename(session, "new-title")
    assert_moved(client, "/programme/old-title/", "/programme/new-title/")
    assert_moved(client, "/programme/old-title/calendar.ics", "/programme/new-title/calendar.ics")
    assert client.get("/programme/new-title/").status_code == 200
    assert client.get("/programme/new-title/calendar.ics").status_code == 200


def test_a_renamed_speakers_page_redirects_permanently(client, rename):
    speaker = SpeakerFactory(slug="jo-bloggs")
    SessionFactory(with_speakers=[speaker])
    assert client.get("/speakers/jo-bloggs/").status_code == 200
    rename(speaker, "jo-bloggs-mp")
    assert_moved(client, "/speakers/jo-bloggs/", "/speakers/jo-bloggs-mp/")
    assert client.get("/speakers/jo-bloggs-mp/").status_code == 200


def test_every_old_url_redirects_in_one_hop_after_several_renames(client, rename):
    session = SessionFactory(slug="first")
    rename(session, "second")
    rename(session, "third")
    assert_moved(client, "/programme/first/", "/programme/third/")
    assert_moved(client, "/programme/second/", "/programme/third/")
    assert_moved(client, "/programme/first/calendar.ics", "/programme/third/calendar.ics")


def test_renaming_back_makes_no_loop(client, rename):
    session = SessionFactory(slug="alpha")
    rename(session, "beta")
    rename(session, "alpha")
    assert client.get("/programme/alpha/").status_code == 200
    assert_moved(client, "/programme/beta/", "/programme/alpha/")
    assert not Redirect.objects.filter(old_path="/programme/alpha/").exists()


def test_a_slug_taken_by_a_new_session_shows_that_session_not_the_redirect(client, rename):
    rename(SessionFactory(slug="shared", title="The first one"), "renamed")
    assert_moved(client, "/programme/shared/", "/programme/renamed/")
    SessionFactory(slug="shared", title="The new one")
    response = client.get("/programme/shared/")
    assert response.status_code == 200
    assert "The new one" in response.content.decode()
    assert client.get("/programme/shared/calendar.ics").status_code == 200
    assert not Redirect.objects.filter(old_path__startswith="/programme/shared/").exists()


def test_saving_without_a_new_slug_records_no_redirect(rename):
    session = SessionFactory(slug="same")
    session.title = "A better title"
    session.save()
    rename(SpeakerFactory(slug="speaker-same"), "speaker-same")
    assert not Redirect.objects.exists()


def test_view_on_site_in_the_admin_goes_to_this_site(client, organiser):
    """django.contrib.sites' Site follows SITE_URL (speakers.apps.sync_site), not "example.com"."""
    session = SessionFactory()
    content_type = ContentType.objects.get_for_model(session)
    response = client.get(f"/admin/r/{content_type.pk}/{session.pk}/")
    assert response["Location"] == "http://testserver" + session.get_absolute_url()
