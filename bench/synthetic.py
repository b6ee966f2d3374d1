"""A large synthetic programme: by default 3 days, 20 rooms, 600 sessions, 800 speakers, 60 organisations, 6 tracks.

build(sessions=N) makes a programme of N sessions over the same 3 days: the rooms grow (10 sessions
per room per day) and so do the speakers (4 for every 3 sessions); 2,400 sessions are 80 rooms and
3,200 speakers. It deletes every event, session, speaker and organisation and writes the synthetic
ones with bulk_create, which fires no signals, so it bumps the page cache's version itself at the end.
The content is generated from a fixed seed: every run builds the same programme (apart from the
dates, which start a few weeks from today so the event is the current one).
"""

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from events.models import Event, Room, Session, SessionSpeaker, Track
from netroots.pagecache import PROGRAMME, bump
from speakers.models import Organisation, Speaker

LONDON = ZoneInfo("Europe/London")
DAYS = 3
SESSIONS = 600
SESSIONS_PER_ROOM_PER_DAY = 10  # 600 sessions: 3 days x 20 rooms x 10
SPEAKERS_PER_SESSION_SHARE = 4 / 3  # 600 sessions: 800 speakers
ORGANISATIONS = 60
TRACKS = ["Campaigning", "Organising", "Media & blogging", "Data & technology", "Fundraising", "Policy"]
DAY_STARTS = time(9, 0)
DURATIONS = [30, 45, 60]  # minutes
CHANGEOVERS = [0, 15]
KIND_WEIGHTS = {Session.Kind.TALK: 5, Session.Kind.PANEL: 3, Session.Kind.WORKSHOP: 2}
SPEAKERS_PER_SESSION = [1, 1, 2, 2, 3]
SPEAKER_TRIES = 20  # draws per seat before a speaker clash is accepted

VERBS = ["Winning", "Organising", "Funding", "Defending", "Building", "Scaling", "Mobilising", "Measuring"]
OBJECTS = ["local campaigns", "union branches", "email lists", "volunteer teams", "petitions", "community media",
           "phone banks", "tenant groups", "youth networks", "issue coalitions"]  # fmt: skip
CONTEXTS = ["with data", "on a shoestring", "in marginal seats", "after the election", "without burning out",
            "across the four nations", "from the ground up", "in a hostile press climate"]  # fmt: skip
FIRST_NAMES = ["Amina", "Ben", "Chloe", "Dev", "Eilidh", "Femi", "Grace", "Hamza", "Isla", "Jack", "Kiran", "Lola",
               "Marek", "Niamh", "Owen", "Priya", "Rhys", "Sana", "Tom", "Yasmin"]  # fmt: skip
LAST_NAMES = ["Ahmed", "Brown", "Campbell", "Davies", "Evans", "Fraser", "Gill", "Hughes", "Iqbal", "Jones", "Khan",
              "Lewis", "Morgan", "Nowak", "Okafor", "Patel", "Quinn", "Roberts", "Smith", "Taylor"]  # fmt: skip
ROLES = ["Organiser", "Campaign manager", "Branch secretary", "Digital lead", "Councillor", "Editor", "Researcher",
         "Data analyst", "Fundraiser", "Trainer"]  # fmt: skip
ORG_WORDS = ["Digital", "People's", "Northern", "Green", "Open", "Civic", "Workers'", "Future"]
ORG_NOUNS = ["Alliance", "Network", "Forum", "Union", "Collective", "Project", "Trust", "Review"]
ABSTRACT = (
    "A practical session on {topic}. Speakers share what worked, what did not, and what they would do "
    "differently, with time for questions.\n\nBring your own examples: the second half is discussion."
)


@dataclass
class SpeakerDiary:
    """Who is busy when, so a speaker is rarely booked into two rooms at once."""

    busy: dict[int, list[tuple[datetime, datetime]]] = field(default_factory=dict)

    def is_free(self, speaker: int, starts_at: datetime, ends_at: datetime) -> bool:
        return all(ends_at <= start or starts_at >= end for start, end in self.busy.get(speaker, []))

    def book(self, speaker: int, starts_at: datetime, ends_at: datetime) -> None:
        self.busy.setdefault(speaker, []).append((starts_at, ends_at))


def build(sessions: int = SESSIONS, seed: int = 2028) -> Event:
    rng = random.Random(seed)
    first_day = timezone.localdate() + timedelta(weeks=6)
    rooms_count = math.ceil(sessions / (DAYS * SESSIONS_PER_ROOM_PER_DAY))
    with transaction.atomic():
        _delete_programme()
        event = _event(first_day, sessions, rooms_count)
        rooms = Room.objects.bulk_create(_rooms(event, rooms_count))
        tracks = Track.objects.bulk_create(_tracks(event))
        organisations = Organisation.objects.bulk_create(_organisations(rng))
        speakers = Speaker.objects.bulk_create(
            _speakers(rng, organisations, round(sessions * SPEAKERS_PER_SESSION_SHARE))
        )
        made = Session.objects.bulk_create(_sessions(rng, event, first_day, rooms, tracks)[:sessions])
        SessionSpeaker.objects.bulk_create(_speaker_roles(rng, made, speakers))
    bump(PROGRAMME)  # bulk_create sent no signal
    return event


def _delete_programme() -> None:
    SessionSpeaker.objects.all().delete()
    Session.objects.all().delete()
    Event.objects.all().delete()
    Speaker.objects.all().delete()
    Organisation.objects.all().delete()


def _event(first_day: date, sessions: int, rooms: int) -> Event:
    starts_at = datetime.combine(first_day, DAY_STARTS, tzinfo=LONDON)
    return Event.objects.create(
        name="Netroots Synthetic",
        slug="netroots-synthetic",
        summary="A three-day synthetic programme for the benchmark.",
        description=f"{rooms} rooms, {sessions} sessions.",
        venue="Benchmark Conference Centre",
        address="1 Loopback Road, London",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(days=DAYS - 1, hours=13),
        sales_open_at=timezone.now() - timedelta(days=30),
        sales_close_at=starts_at - timedelta(days=1),
        capacity=3000,
    )


def _rooms(event: Event, count: int) -> list[Room]:
    names = ["Main Hall"] + [f"Room {number}" for number in range(2, count + 1)]
    return [
        Room(event=event, name=name, slug=f"room-{position}", capacity=400 if position == 1 else 60, position=position)
        for position, name in enumerate(names, start=1)
    ]


def _tracks(event: Event) -> list[Track]:
    return [Track(event=event, name=name, slug=f"track-{number}") for number, name in enumerate(TRACKS, start=1)]


def _organisations(rng: random.Random) -> list[Organisation]:
    names = [f"{word} {noun}" for word in ORG_WORDS for noun in ORG_NOUNS]
    rng.shuffle(names)
    kinds = list(Organisation.Kind)
    return [
        Organisation(name=name, slug=f"org-{number}", kind=kinds[number % len(kinds)], blurb=f"{name} takes part.")
        for number, name in enumerate(names[:ORGANISATIONS], start=1)
    ]


def _speakers(rng: random.Random, organisations: list[Organisation], count: int) -> list[Speaker]:
    speakers = []
    for number in range(1, count + 1):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        speakers.append(
            Speaker(
                name=name,
                slug=f"speaker-{number}",
                role=rng.choice(ROLES),
                organisation=rng.choice([*organisations, None]),
                bio=f"{name} has been campaigning for {rng.randint(2, 30)} years.",
                is_featured=number <= 12,
            )
        )
    return speakers


def _sessions(
    rng: random.Random, event: Event, first_day: date, rooms: list[Room], tracks: list[Track]
) -> list[Session]:
    sessions = []
    for day_number in range(DAYS):
        day_starts = datetime.combine(first_day + timedelta(days=day_number), DAY_STARTS, tzinfo=LONDON)
        for room in rooms:
            starts_at = day_starts
            for slot in range(SESSIONS_PER_ROOM_PER_DAY):
                ends_at = starts_at + timedelta(minutes=rng.choice(DURATIONS))
                is_keynote = room.position == 1 and slot == 0
                sessions.append(_session(rng, event, room, tracks, starts_at, ends_at, is_keynote, len(sessions) + 1))
                starts_at = ends_at + timedelta(minutes=rng.choice(CHANGEOVERS))
    return sessions


def _session(
    rng: random.Random,
    event: Event,
    room: Room,
    tracks: list[Track],
    starts_at: datetime,
    ends_at: datetime,
    is_keynote: bool,
    number: int,
) -> Session:
    kind = Session.Kind.KEYNOTE if is_keynote else rng.choices(list(KIND_WEIGHTS), list(KIND_WEIGHTS.values()))[0]
    topic = f"{rng.choice(OBJECTS)} {rng.choice(CONTEXTS)}"
    return Session(
        event=event,
        title=f"{rng.choice(VERBS)} {topic}",
        slug=f"session-{number}",
        kind=kind,
        abstract=ABSTRACT.format(topic=topic),
        starts_at=starts_at,
        ends_at=ends_at,
        room=room,
        track=rng.choice([*tracks, None]),
        place_limit=rng.randint(20, 40) if kind == Session.Kind.WORKSHOP else None,
        is_published=True,
    )


def _speaker_roles(rng: random.Random, sessions: list[Session], speakers: list[Speaker]) -> list[SessionSpeaker]:
    diary, roles = SpeakerDiary(), []
    for session in sessions:
        chosen: list[int] = []
        for _ in range(rng.choice(SPEAKERS_PER_SESSION)):
            speaker = _pick_speaker(rng, diary, session, len(speakers), exclude=chosen)
            diary.book(speaker, session.starts_at, session.ends_at)
            chosen.append(speaker)
        roles += [
            SessionSpeaker(session=session, speaker=speakers[index], position=position)
            for position, index in enumerate(chosen, start=1)
        ]
    return roles


def _pick_speaker(rng: random.Random, diary: SpeakerDiary, session: Session, count: int, exclude: list[int]) -> int:
    """A random speaker free at the time if one turns up within a few draws, else any other one."""
    candidates = [index for index in range(count) if index not in exclude]
    for _ in range(SPEAKER_TRIES):
        speaker = rng.choice(candidates)
        if diary.is_free(speaker, session.starts_at, session.ends_at):
            return speaker
    return speaker
