"""Scheduling rules for the programme: one place per speaker, one session per room, inside the event.

Each check raises ValidationError with a message an organiser can act on; Session.clean() and the
admin's speaker formset call them. The rules query other sessions through the session's own model,
so that this module needs nothing from events.models (which calls it) at import time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils import formats, timezone

if TYPE_CHECKING:
    from events.models import Session


def _when(starts_at: datetime, ends_at: datetime) -> str:
    start, end = timezone.localtime(starts_at), timezone.localtime(ends_at)
    return f"{formats.date_format(start, 'D j M H:i')}–{end:%H:%M}"


def _other_sessions(session: Session):
    """Every session but this one (the one being validated may not be saved yet)."""
    return type(session).objects.exclude(pk=session.pk)


def check_within_event(session: Session) -> None:
    """Raises ValidationError if the session starts before or ends after its event."""
    event = session.event
    if session.starts_at < event.starts_at or session.ends_at > event.ends_at:
        raise ValidationError(
            f"“{session.title}” must take place during {event.name} "
            f"({formats.date_format(timezone.localtime(event.starts_at), 'D j M Y H:i')} to "
            f"{formats.date_format(timezone.localtime(event.ends_at), 'D j M Y H:i')})."
        )


def check_room_free(session: Session) -> None:
    """Raises ValidationError (on the room field) if another session uses the room at an overlapping time."""
    clash = (
        _other_sessions(session).filter(room_id=session.room_id).overlapping(session.starts_at, session.ends_at).first()
    )
    if clash:
        when = _when(clash.starts_at, clash.ends_at)
        message = f"{session.room} is already booked for “{clash.title}” ({when}). Choose another room or time."
        raise ValidationError({"room": message})


def check_speakers_free(session: Session, speaker_ids: Iterable[int]) -> None:
    """Raises ValidationError listing each of these speakers who speaks elsewhere at an overlapping time."""
    clashes = (
        _other_sessions(session)
        .filter(speaker_roles__speaker_id__in=list(speaker_ids))
        .overlapping(session.starts_at, session.ends_at)
        .values_list("speaker_roles__speaker__name", "title", "starts_at", "ends_at")
        .distinct()
        .order_by("speaker_roles__speaker__name")
    )
    messages = [
        f"{name} is already speaking at “{title}” ({_when(starts, ends)})." for name, title, starts, ends in clashes
    ]
    if messages:
        raise ValidationError(messages)
