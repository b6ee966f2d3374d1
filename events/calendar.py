"""iCalendar (.ics) files for sessions, built with the icalendar library."""

from django.http import HttpRequest
from icalendar import Calendar
from icalendar import Event as CalendarEvent

from events.models import Session


def session_ics(session: Session, *, request: HttpRequest) -> bytes:
    event = session.event
    calendar = Calendar()
    calendar.add("prodid", "-//Netroots//Programme//EN")
    calendar.add("version", "2.0")
    entry = CalendarEvent()
    entry.add("uid", f"session-{session.pk}@netroots")
    entry.add("summary", f"{session.title} ({event.name})")
    entry.add("dtstart", session.starts_at)
    entry.add("dtend", session.ends_at)
    entry.add("dtstamp", session.starts_at)
    entry.add("location", f"{session.room.name}, {event.venue}, {event.address}")
    speakers = ", ".join(speaker.name for speaker in session.ordered_speakers)
    entry.add("description", "\n\n".join(part for part in [speakers, session.abstract] if part))
    entry.add("url", request.build_absolute_uri(session.get_absolute_url()))
    calendar.add_component(entry)
    return calendar.to_ical()
