from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from events import scheduling
from events.models import Session
from tests.factories import EventFactory, RoomFactory, SessionFactory, SpeakerFactory

pytestmark = pytest.mark.django_db


def test_database_refuses_a_session_that_ends_before_it_starts():
    session = SessionFactory.build(event=EventFactory())
    session.room = RoomFactory(event=session.event)
    session.ends_at = session.starts_at - timedelta(minutes=1)
    with pytest.raises(IntegrityError):
        session.save()


def test_clean_refuses_an_end_before_the_start():
    session = SessionFactory()
    session.ends_at = session.starts_at
    with pytest.raises(ValidationError, match="must end after it starts"):
        session.full_clean()


def test_clean_refuses_a_session_outside_the_event():
    session = SessionFactory()
    session.starts_at = session.event.ends_at
    session.ends_at = session.starts_at + timedelta(hours=1)
    with pytest.raises(ValidationError, match="must take place during Netroots UK"):
        session.full_clean()


def test_clean_refuses_two_sessions_in_one_room_at_once():
    first = SessionFactory(title="Email lists that work")
    second = SessionFactory.build(
        event=first.event, room=first.room, slug="second", starts_at=first.starts_at + timedelta(minutes=30)
    )
    second.ends_at = second.starts_at + timedelta(hours=1)
    with pytest.raises(ValidationError) as excinfo:
        second.full_clean()
    assert "already booked for “Email lists that work”" in str(excinfo.value.message_dict["room"])


def test_back_to_back_sessions_in_one_room_are_fine():
    first = SessionFactory()
    second = SessionFactory.build(event=first.event, room=first.room, slug="next", starts_at=first.ends_at)
    second.ends_at = second.starts_at + timedelta(minutes=30)
    second.full_clean()  # no error


def test_a_speaker_cannot_be_in_two_places_at_once():
    speaker = SpeakerFactory(name="Stella Creasy")
    booked = SessionFactory(title="Opening keynote", with_speakers=[speaker])
    other = SessionFactory(event=booked.event, starts_at=booked.starts_at + timedelta(minutes=10))
    with pytest.raises(ValidationError, match="Stella Creasy is already speaking at “Opening keynote”"):
        scheduling.check_speakers_free(other, [speaker.pk])


def test_a_speaker_may_speak_again_later():
    speaker = SpeakerFactory()
    booked = SessionFactory(with_speakers=[speaker])
    later = SessionFactory(event=booked.event, starts_at=booked.ends_at)
    scheduling.check_speakers_free(later, [speaker.pk])  # no error


def test_published_filter_hides_drafts():
    SessionFactory(is_published=False, slug="draft")
    SessionFactory(slug="public")
    assert [s.slug for s in Session.objects.published()] == ["public"]
