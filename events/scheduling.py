"""Scheduling rules for the programme: one place per speaker, one session per room, inside the event.

Each check raises ValidationError with a message an organiser can act on; the admin calls them
through Session.clean() and the session form's speaker formset.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils import formats, timezone

from events.models import Session


def _when(session: Session) -> str:
    start, end = timezone.localtime(session.starts_at), timezone.localtime(session.ends_at)
    return f"{formats.date_format(start, 'D j M H:i')}–{end:%H:%M}"


def check_within_event(session: Session) -> None:
    event = session.event
    if session.starts_at < event.starts_at or session.ends_at > event.ends_at:
        raise ValidationError(
            f"“{session.title}” must take place during {event.name} "
            f"({formats.date_format(timezone.localtime(event.starts_at), 'D j M Y H:i')} to "
            f"{formats.date_format(timezone.localtime(event.ends_at), 'D j M Y H:i')})."
        )


def check_room_free(session: Session) -> None:
    clash = (
        Session.objects.filter(room_id=session.room_id)
        .overlapping(session.starts_at, session.ends_at)
        .exclude(pk=session.pk)
        .first()
    )
    if clash:
        message = f"{session.room} is already booked for “{clash.title}” ({_when(clash)}). Choose another room or time."
        raise ValidationError({"room": message})


def check_speakers_free(session: Session, speaker_ids: Iterable[int]) -> None:
    clashes = (
        Session.objects.filter(speaker_roles__speaker_id__in=list(speaker_ids))
        .overlapping(session.starts_at, session.ends_at)
        .exclude(pk=session.pk)
        .values_list("speaker_roles__speaker__name", "title", "starts_at", "ends_at")
        .distinct()
        .order_by("speaker_roles__speaker__name")
    )
    messages = [
        f"{name} is already speaking at “{title}” ({_when(Session(starts_at=starts, ends_at=ends))})."
        for name, title, starts, ends in clashes
    ]
    if messages:
        raise ValidationError(messages)
