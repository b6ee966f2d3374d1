from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from events.models import Session
from tests.factories import EventFactory, RoomFactory, SessionFactory, SpeakerFactory

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/events/session/add/"


def local(moment) -> dict:
    moment = timezone.localtime(moment)
    return {"date": moment.strftime("%d/%m/%Y"), "time": moment.strftime("%H:%M:%S")}


def session_form(event, room, *, starts_at, minutes=45, speakers=(), title="New session", slug="new-session"):
    start, end = local(starts_at), local(starts_at + timedelta(minutes=minutes))
    data = {
        "event": event.pk,
        "title": title,
        "slug": slug,
        "kind": "talk",
        "abstract": "About it.",
        "starts_at_0": start["date"],
        "starts_at_1": start["time"],
        "ends_at_0": end["date"],
        "ends_at_1": end["time"],
        "room": room.pk,
        "is_published": "on",
        "speaker_roles-TOTAL_FORMS": str(len(speakers)),
        "speaker_roles-INITIAL_FORMS": "0",
        "speaker_roles-MIN_NUM_FORMS": "0",
        "speaker_roles-MAX_NUM_FORMS": "1000",
    }
    for index, speaker in enumerate(speakers):
        data[f"speaker_roles-{index}-speaker"] = speaker.pk
        data[f"speaker_roles-{index}-position"] = index + 1
    return data


def test_admin_adds_a_valid_session_with_ordered_speakers(client, organiser):
    event = EventFactory()
    first, second = SpeakerFactory(name="Alex Smith"), SpeakerFactory(name="Teddy Goff")
    data = session_form(event, RoomFactory(event=event), starts_at=event.starts_at, speakers=[second, first])
    response = client.post(ADD_URL, data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    session = Session.objects.get(slug="new-session")
    assert [s.name for s in session.ordered_speakers] == ["Teddy Goff", "Alex Smith"]


def test_admin_refuses_a_speaker_in_two_places_at_once(client, organiser):
    speaker = SpeakerFactory(name="Tom Watson")
    busy = SessionFactory(title="MPs in the feed", with_speakers=[speaker])
    data = session_form(busy.event, RoomFactory(event=busy.event), starts_at=busy.starts_at, speakers=[speaker])
    response = client.post(ADD_URL, data)
    assert response.status_code == 200
    assert "Tom Watson is already speaking at “MPs in the feed”" in response.content.decode()
    assert not Session.objects.filter(slug="new-session").exists()


def test_admin_refuses_moving_a_session_onto_its_speakers_other_session(client, organiser):
    speaker = SpeakerFactory(name="Mark Ferguson")
    first = SessionFactory(title="Blogs", with_speakers=[speaker])
    second = SessionFactory(event=first.event, slug="later", starts_at=first.ends_at, with_speakers=[speaker])
    data = session_form(first.event, second.room, starts_at=first.starts_at, title=second.title, slug="later")
    data.update({"speaker_roles-TOTAL_FORMS": "1", "speaker_roles-INITIAL_FORMS": "1"})
    role = second.speaker_roles.get()
    data.update({"speaker_roles-0-id": role.pk, "speaker_roles-0-session": second.pk})
    data.update({"speaker_roles-0-speaker": speaker.pk, "speaker_roles-0-position": 1})
    response = client.post(f"/admin/events/session/{second.pk}/change/", data)
    assert "Mark Ferguson is already speaking at “Blogs”" in response.content.decode()
    second.refresh_from_db()
    assert second.starts_at == first.ends_at  # unchanged


def test_admin_refuses_two_sessions_in_one_room(client, organiser):
    busy = SessionFactory(title="Fundraising online")
    data = session_form(busy.event, busy.room, starts_at=busy.starts_at + timedelta(minutes=15))
    response = client.post(ADD_URL, data)
    assert f"{busy.room.name} is already booked for “Fundraising online”" in response.content.decode()
    assert not Session.objects.filter(slug="new-session").exists()


def test_admin_refuses_a_session_outside_the_event_day(client, organiser):
    event = EventFactory()
    data = session_form(event, RoomFactory(event=event), starts_at=event.starts_at + timedelta(days=1))
    response = client.post(ADD_URL, data)
    assert "must take place during Netroots UK" in response.content.decode()
    assert not Session.objects.filter(slug="new-session").exists()


def test_admin_refuses_an_end_before_the_start(client, organiser):
    event = EventFactory()
    data = session_form(event, RoomFactory(event=event), starts_at=event.starts_at + timedelta(hours=2), minutes=-30)
    response = client.post(ADD_URL, data)
    assert "A session must end after it starts." in response.content.decode()
    assert not Session.objects.exists()


def test_admin_session_list_shows_time_room_kind_and_speakers(client, organiser):
    SessionFactory(title="Video for campaigns", with_speakers=[SpeakerFactory(name="Priya Shah")])
    body = client.get("/admin/events/session/").content.decode()
    assert "Video for campaigns" in body
    assert "Priya Shah" in body


def test_admin_search_finds_sessions_by_speaker(client, organiser):
    SessionFactory(title="Found", with_speakers=[SpeakerFactory(name="Stella Creasy")])
    SessionFactory(title="Hidden")
    body = client.get("/admin/events/session/", {"q": "Creasy"}).content.decode()
    assert "Found" in body
    assert "Hidden" not in body


def test_publish_and_unpublish_actions(client, organiser):
    draft = SessionFactory(is_published=False)
    client.post("/admin/events/session/", {"action": "publish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.is_published
    assert client.get(draft.get_absolute_url()).status_code == 200
    client.post("/admin/events/session/", {"action": "unpublish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert not draft.is_published
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_speaker_autocomplete_answers(client, organiser):
    SpeakerFactory(name="Teddy Goff")
    response = client.get(
        "/admin/autocomplete/",
        {"term": "Ted", "app_label": "events", "model_name": "sessionspeaker", "field_name": "speaker"},
    )
    assert [r["text"] for r in response.json()["results"]] == ["Teddy Goff"]


@pytest.fixture
def editor(client):
    user = User.objects.create_user("editor", "editor@example.com", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Programme editors"))
    client.force_login(user)
    return user


def test_programme_editors_can_edit_the_programme(client, editor):
    session = SessionFactory()
    for url in [
        "/admin/events/session/",
        f"/admin/events/session/{session.pk}/change/",
        ADD_URL,
        "/admin/speakers/speaker/add/",
        "/admin/speakers/organisation/add/",
        "/admin/events/room/add/",
        "/admin/events/track/add/",
    ]:
        assert client.get(url).status_code == 200, url


def test_programme_editors_can_do_nothing_else(client, editor):
    event = EventFactory()
    assert client.get(f"/admin/events/event/{event.pk}/change/").status_code == 200  # may look…
    response = client.post(f"/admin/events/event/{event.pk}/change/", {"name": "Hijacked", "capacity": 1})
    assert response.status_code == 403  # …but not change the price or capacity
    for url in ["/admin/auth/user/", "/admin/auth/group/", "/admin/events/event/add/"]:
        assert client.get(url).status_code == 403, url
