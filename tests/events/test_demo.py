import io

import pytest
from django.core.management import call_command

from events import scheduling
from events.models import Room, Session, SessionSpeaker
from speakers.models import Organisation, Speaker

pytestmark = pytest.mark.django_db


def test_demo_programme_is_netroots_uk_on_8_january_2028(demo):
    assert demo.name == "Netroots UK"
    assert demo.ticket_price_pence == 500
    assert demo.starts_at.isoformat() == "2028-01-08T09:00:00+00:00"
    assert "London" in demo.address
    assert 4 <= Room.objects.count() <= 5
    assert Session.objects.published().count() >= 25


def test_demo_has_the_people_from_the_write_up_leading_their_sessions(demo):
    expected = {
        "Tom Watson": "social media",
        "Stella Creasy": None,
        "Paul Dimoldenberg": None,
        "Alex Smith": None,
        "Teddy Goff": None,
        "Mark Ferguson": "blog",
    }
    for name, topic in expected.items():
        speaker = Speaker.objects.get(name=name)
        sessions = list(speaker.sessions.all())
        assert sessions, name
        if topic:
            assert any(topic in (s.title + s.abstract).lower() for s in sessions), name
    workshop = Speaker.objects.get(name="Alex Smith").sessions.get()
    assert workshop.kind == Session.Kind.WORKSHOP
    assert set(workshop.speakers.values_list("name", flat=True)) >= {"Alex Smith", "Teddy Goff"}
    assert {"Compass", "Fabian Society", "LabourYes", "LabourList"} <= set(
        Organisation.objects.values_list("name", flat=True)
    )


def test_demo_programme_obeys_the_scheduling_rules(demo):
    for session in Session.objects.select_related("event", "room"):
        session.full_clean()
        scheduling.check_speakers_free(session, session.speaker_roles.values_list("speaker_id", flat=True))


def test_loading_the_demo_twice_changes_nothing(demo):
    before = Session.objects.count(), SessionSpeaker.objects.count()
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    after = Session.objects.count(), SessionSpeaker.objects.count()
    assert before == after
    assert "0 rows created or changed" in out.getvalue()


def test_demo_prints_an_organiser_login_that_works(db, client):
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    line = next(line for line in out.getvalue().splitlines() if line.startswith("Organiser login"))
    username, password = line.split(": ", 1)[1].split(" / ")
    assert client.login(username=username, password=password)
    assert client.get("/admin/events/session/").status_code == 200
