"""iCalendar (.ics) files for sessions and for the whole event, built with the icalendar library."""

from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar
from icalendar import Event as CalendarEvent

from events.models import Event, Session


def _ics(*, uid: str, summary: str, starts_at: datetime, ends_at: datetime, location: str, description: str,
         url: str = "") -> bytes:  # fmt: skip
    calendar = Calendar()
    calendar.add("prodid", "-//Netroots//Netroots UK//EN")
    calendar.add("version", "2.0")
    entry = CalendarEvent()
    entry.add("uid", uid)
    entry.add("summary", summary)
    entry.add("dtstart", starts_at)
    entry.add("dtend", ends_at)
    entry.add("dtstamp", timezone.now())  # when this file was made (RFC 5545, no METHOD)
    entry.add("location", location)
    entry.add("description", description)
    if url:
        entry.add("url", url)
    calendar.add_component(entry)
    return calendar.to_ical()


def _uid(kind: str, pk: int) -> str:
    """Globally unique and stable, so a calendar updates its entry when the file is imported again."""
    return f"{kind}-{pk}@{urlsplit(settings.SITE_URL).hostname or 'netroots'}"


def session_ics(session: Session, *, url: str) -> bytes:
    event = session.event
    speakers = ", ".join(speaker.name for speaker in session.ordered_speakers)
    return _ics(
        uid=_uid("session", session.pk),
        summary=f"{session.title} ({event.name})",
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        location=f"{session.room.name}, {event.venue}, {event.address}",
        description="\n\n".join(part for part in [speakers, session.abstract] if part),
        url=url,
    )


def event_ics(event: Event, *, url: str = "") -> bytes:
    return _ics(
        uid=_uid("event", event.pk),
        summary=event.name,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        location=f"{event.venue}, {event.address}",
        description=event.summary,
        url=url,
    )
