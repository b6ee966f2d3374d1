from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import factory

from events.models import Event, Room, Session, SessionSpeaker, Track
from speakers.models import Organisation, Speaker

LONDON = ZoneInfo("Europe/London")
DAY_START = datetime(2028, 1, 8, 9, 0, tzinfo=LONDON)


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    name = "Netroots UK"
    slug = factory.Sequence(lambda n: f"netroots-{n}")
    summary = "A day of talks and workshops for digital activists."
    venue = "Test Hall"
    address = "1 Test Street, London"
    starts_at = DAY_START
    ends_at = DAY_START + timedelta(hours=9)
    sales_open_at = datetime(2026, 1, 1, tzinfo=LONDON)
    sales_close_at = datetime(2028, 1, 7, 23, 59, tzinfo=LONDON)


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    event = factory.SubFactory(EventFactory)
    name = factory.Sequence(lambda n: f"Room {n}")
    slug = factory.Sequence(lambda n: f"room-{n}")
    position = factory.Sequence(int)


class TrackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Track

    event = factory.SubFactory(EventFactory)
    name = factory.Sequence(lambda n: f"Track {n}")
    slug = factory.Sequence(lambda n: f"track-{n}")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"organisation-{n}")
    kind = Organisation.Kind.CAMPAIGN


class SpeakerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Speaker

    name = factory.Sequence(lambda n: f"Speaker Number{n}")
    slug = factory.Sequence(lambda n: f"speaker-{n}")
    role = "Campaigner"
    organisation = factory.SubFactory(OrganisationFactory)
    bio = "Organises things online and off."


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session
        skip_postgeneration_save = True

    event = factory.SubFactory(EventFactory)
    title = factory.Sequence(lambda n: f"Session {n}")
    slug = factory.Sequence(lambda n: f"session-{n}")
    kind = Session.Kind.TALK
    abstract = "What this session is about."
    starts_at = factory.LazyAttribute(lambda s: s.event.starts_at + timedelta(hours=1))
    ends_at = factory.LazyAttribute(lambda s: s.starts_at + timedelta(minutes=45))
    room = factory.LazyAttribute(lambda s: RoomFactory(event=s.event))
    is_published = True

    @factory.post_generation
    def with_speakers(self, create, speakers, **kwargs):
        for position, speaker in enumerate(speakers or [], start=1):
            SessionSpeaker.objects.create(session=self, speaker=speaker, position=position)
