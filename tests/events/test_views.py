import pytest
from django.utils import timezone
from icalendar import Calendar

from events.models import Session
from tests.factories import (
    EventFactory,
    OrganisationFactory,
    SessionFactory,
    SpeakerFactory,
    TrackFactory,
)

pytestmark = pytest.mark.django_db


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


@pytest.mark.parametrize("query", ["?kind=nonsense", "?track=nope", "?kind=%ff%fe", "?kind=" + "x" * 5000])
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


# --- speaker pages ---


def test_speaker_list_shows_name_role_and_organisation(client):
    speaker = SpeakerFactory(name="Mark Ferguson", role="Editor", organisation=OrganisationFactory(name="LabourList"))
    SessionFactory(with_speakers=[speaker])
    body = client.get("/speakers/").content.decode()
    assert "Mark Ferguson" in body
    assert "Editor, LabourList" in body


def test_a_speaker_with_no_published_session_appears_nowhere_public(client):
    """One rule (events.models.programme_speakers) for every public page that shows speakers."""
    shown_org = OrganisationFactory(name="Shown Org", slug="shown-org")
    hidden_org = OrganisationFactory(name="Hidden Org", slug="hidden-org")
    shown = SpeakerFactory(name="Shown Speaker", is_featured=True, organisation=shown_org)
    hidden = SpeakerFactory(name="Hidden Speaker", is_featured=True, organisation=hidden_org)
    SessionFactory(title="Announced", with_speakers=[shown])
    SessionFactory(title="Not yet", is_published=False, with_speakers=[hidden])
    assert client.get(shown.get_absolute_url()).status_code == 200
    assert client.get(hidden.get_absolute_url()).status_code == 404
    home = client.get("/").content.decode()
    featured = home.split('id="speakers-title"')[1]
    assert "Shown Speaker" in featured
    assert "Hidden Speaker" not in home
    assert "#shown-org" in home  # the home page lists organisations with a speaker on the programme...
    assert "#hidden-org" not in home  # ...and not one whose only speaker isn't announced yet
    assert "Hidden Speaker" not in client.get("/speakers/").content.decode()
    organisations = client.get("/organisations/").content.decode()
    assert 'Speaking: <a href="/speakers/' + shown.slug + '/">Shown Speaker</a>' in organisations
    assert "Hidden Org" in organisations  # the organisation still takes part...
    assert "Hidden Speaker" not in organisations  # ...but its unannounced speaker isn't named


def test_speaker_page_lists_their_published_sessions_only(client):
    speaker = SpeakerFactory(name="Stella Creasy", bio="Speaks about participation.", links=["https://example.org/sc"])
    SessionFactory(title="Open up the party", with_speakers=[speaker])
    SessionFactory(title="Not yet announced", is_published=False, with_speakers=[speaker])
    body = client.get(speaker.get_absolute_url()).content.decode()
    assert "<h1>Stella Creasy</h1>" in body
    assert "Speaks about participation." in body
    assert 'href="https://example.org/sc"' in body
    assert "Open up the party" in body
    assert "Not yet announced" not in body


# --- the organisations page ---


def test_organisations_page_groups_by_kind(client):
    OrganisationFactory(name="Compass", kind="campaign", blurb="A pressure group.")
    OrganisationFactory(name="Unite", kind="union")
    body = client.get("/organisations/").content.decode()
    assert body.index("Trade unions") < body.index("Unite")
    assert body.index("Campaign groups") < body.index("Compass")
    assert "A pressure group." in body
