"""Any change to what the public pages show invalidates the page cache (see events.pagecache)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from events.models import Event, Room, Session, SessionSpeaker, Track
from events.pagecache import bump_content_version
from speakers.models import Organisation, Speaker

WATCHED = (Event, Room, Track, Session, SessionSpeaker, Speaker, Organisation)


@receiver([post_save, post_delete])
def programme_changed(sender, update_fields=None, **kwargs) -> None:
    if sender in WATCHED:
        bump_content_version()
