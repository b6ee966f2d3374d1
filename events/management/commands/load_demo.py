"""Load the Netroots UK demo programme (events/demo_data.py) and an organiser login.

Idempotent: every row is matched by its slug (an information page by its event and kind) and updated
in place, so a second run changes nothing. Sessions and speakers that organisers added themselves are
left alone.
"""

import os
import secrets
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from events import demo_data
from events.models import Event, InfoPage, Room, Session, SessionSpeaker, Track
from speakers.models import Organisation, Speaker

LONDON = ZoneInfo("Europe/London")
ORGANISER_USERNAME = "organiser"


def at(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=LONDON)


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def upsert(model, lookup: dict, values: dict) -> tuple[object, bool]:
    """update_or_create that saves only when something differs, so a rerun fires no signals."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        return model.objects.create(**lookup, **values), True
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    if changed:
        touched = [field.name for field in model._meta.concrete_fields if getattr(field, "auto_now", False)]
        obj.save(update_fields=changed + touched)  # an "updated at" field says when, too
    return obj, bool(changed)


class Command(BaseCommand):
    help = "Load the Netroots UK demo programme and create an organiser login (safe to run again)."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            changes = self.load()
        password = self.ensure_organiser()
        self.stdout.write(self.style.SUCCESS(f"Demo programme loaded ({changes} rows created or changed)."))
        if password:
            self.stdout.write(f"Organiser login for /admin/: {ORGANISER_USERNAME} / {password}")
        else:
            self.stdout.write(
                f"Organiser login for /admin/: {ORGANISER_USERNAME}, with the password printed when it was made "
                f"(set a new one with: python manage.py changepassword {ORGANISER_USERNAME})"
            )

    def load(self) -> int:
        data = demo_data.EVENT
        day = date.fromisoformat(data["date"])
        event_fields = {"name", "summary", "description", "venue", "address", "ticket_price_pence", "capacity",
                        "per_order_limit", "hold_minutes"}  # fmt: skip
        event, changed = upsert(
            Event,
            {"slug": data["slug"]},
            {
                **{name: data[name] for name in event_fields},
                "starts_at": at(day, data["starts"]),
                "ends_at": at(day, data["ends"]),
                "sales_open_at": moment(data["sales_open"]),
                "sales_close_at": moment(data["sales_close"]),
                "venue_latitude": Decimal(data["venue_latitude"]),
                "venue_longitude": Decimal(data["venue_longitude"]),
            },
        )
        changes = int(changed)
        for row in demo_data.INFO_PAGES:
            _, changed = upsert(InfoPage, {"event": event, "kind": row["kind"]}, _without(row, "kind"))
            changes += changed
        rooms, tracks, organisations, speakers = {}, {}, {}, {}
        for row in demo_data.ROOMS:
            rooms[row["slug"]], changed = upsert(Room, {"event": event, "slug": row["slug"]}, _without(row, "slug"))
            changes += changed
        for row in demo_data.TRACKS:
            tracks[row["slug"]], changed = upsert(Track, {"event": event, "slug": row["slug"]}, _without(row, "slug"))
            changes += changed
        for row in demo_data.ORGANISATIONS:
            organisations[row["slug"]], changed = upsert(Organisation, {"slug": row["slug"]}, _without(row, "slug"))
            changes += changed
        for row in demo_data.SPEAKERS:
            values = _without(row, "slug")
            values["organisation"] = organisations.get(row["organisation"])
            speakers[row["slug"]], changed = upsert(Speaker, {"slug": row["slug"]}, values)
            changes += changed
        for row in demo_data.SESSIONS:
            session, changed = upsert(
                Session,
                {"slug": row["slug"]},
                {
                    "event": event,
                    "title": row["title"],
                    "kind": row["kind"],
                    "abstract": row["abstract"],
                    "starts_at": at(day, row["starts"]),
                    "ends_at": at(day, row["ends"]),
                    "room": rooms[row["room"]],
                    "track": tracks.get(row["track"]),
                    "place_limit": row["place_limit"],
                    "is_published": True,
                },
            )
            changes += changed
            for position, speaker_slug in enumerate(row["speakers"], start=1):
                _, changed = upsert(
                    SessionSpeaker, {"session": session, "speaker": speakers[speaker_slug]}, {"position": position}
                )
                changes += changed
        return changes

    def ensure_organiser(self) -> str | None:
        """Create the organiser superuser once; returns the new password, or None if it existed."""
        User = get_user_model()
        if User.objects.filter(username=ORGANISER_USERNAME).exists():
            return None
        password = os.environ.get("DEMO_ORGANISER_PASSWORD") or secrets.token_urlsafe(12)
        User.objects.create_superuser(ORGANISER_USERNAME, "organiser@netroots.example", password)
        return password


def _without(row: dict, *keys: str) -> dict:
    return {key: value for key, value in row.items() if key not in keys}
