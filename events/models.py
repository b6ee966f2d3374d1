from datetime import datetime, timedelta
from decimal import Decimal
from functools import cached_property

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from events import markdown, scheduling
from speakers import redirects
from speakers.models import Speaker

# Orders hold at most 100 tickets (tickets.Order's constraint), and a Stripe Checkout Session lasts
# between 30 minutes and 24 hours: an event set outside these would fail at checkout.
PER_ORDER_LIMIT_MAX = 100
HOLD_MINUTES_MIN, HOLD_MINUTES_MAX = 30, 24 * 60
PER_ORDER_LIMIT_MESSAGE = f"Allow between 1 and {PER_ORDER_LIMIT_MAX} tickets per order."
HOLD_MINUTES_MESSAGE = (
    f"Hold seats for between {HOLD_MINUTES_MIN} and {HOLD_MINUTES_MAX} minutes (24 hours): "
    "Stripe Checkout allows no shorter or longer time to pay."
)
# Stripe's smallest charge in GBP is 30p, and its largest £999,999.99: a price in between them (or 0, free tickets
# booked without Stripe) can always be charged, for up to PER_ORDER_LIMIT_MAX tickets in one payment.
STRIPE_MIN_CHARGE_PENCE = 30
STRIPE_MAX_CHARGE_PENCE = 99_999_999
TICKET_PRICE_MAX_PENCE = STRIPE_MAX_CHARGE_PENCE // PER_ORDER_LIMIT_MAX
_PRICE_MAX_POUNDS = f"£{TICKET_PRICE_MAX_PENCE // 100:,}.{TICKET_PRICE_MAX_PENCE % 100:02d}"
TICKET_PRICE_MESSAGE = (
    f"Enter 0 for free tickets, or a price in pence from {STRIPE_MIN_CHARGE_PENCE} ({STRIPE_MIN_CHARGE_PENCE}p, "
    f"Stripe's smallest payment in pounds) to {TICKET_PRICE_MAX_PENCE} ({_PRICE_MAX_POUNDS}, so that "
    f"{PER_ORDER_LIMIT_MAX} tickets stay within Stripe's largest)."
)
CAPACITY_MESSAGE = "An event needs at least 1 seat."
VENUE_LOCATION_MESSAGE = "Give both the latitude and the longitude of the venue, or neither."
OPENSTREETMAP_ZOOM = 18  # streets and building entrances


def validate_ticket_price(pence: int) -> None:
    """Raises ValidationError (TICKET_PRICE_MESSAGE) unless `pence` is 0 (free) or a price Stripe can charge."""
    if pence != 0 and not STRIPE_MIN_CHARGE_PENCE <= pence <= TICKET_PRICE_MAX_PENCE:
        raise ValidationError(TICKET_PRICE_MESSAGE, code="ticket_price")


class EventQuerySet(models.QuerySet["Event"]):
    def current(self) -> "Event | None":
        """The event the site is about: the next one to end, else the latest."""
        upcoming = self.filter(ends_at__gte=timezone.now()).order_by("starts_at").first()
        return upcoming or self.order_by("-starts_at").first()


class Event(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    summary = models.CharField(max_length=240)
    description = models.TextField(blank=True)
    venue = models.CharField(max_length=160)
    address = models.CharField(max_length=240)
    venue_latitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(-90)), MaxValueValidator(Decimal(90))],
        help_text="Where the venue's entrance is, for the map link: on openstreetmap.org, right-click the entrance, "
        "choose “Show address”, and copy the first number here (51.52… in London).",
    )
    venue_longitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(-180)), MaxValueValidator(Decimal(180))],
        help_text="The second number (-0.11… in central London).",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    ticket_price_pence = models.PositiveIntegerField(
        default=500,
        validators=[validate_ticket_price],
        help_text=f"In pence: 500 is £5. 0 makes tickets free (booked without payment); else at least "
        f"{STRIPE_MIN_CHARGE_PENCE}, Stripe's minimum.",
    )
    capacity = models.PositiveIntegerField(default=400, validators=[MinValueValidator(1, CAPACITY_MESSAGE)])
    per_order_limit = models.PositiveSmallIntegerField(
        default=10,
        validators=[
            MinValueValidator(1, PER_ORDER_LIMIT_MESSAGE),
            MaxValueValidator(PER_ORDER_LIMIT_MAX, PER_ORDER_LIMIT_MESSAGE),
        ],
        help_text=f"At most {PER_ORDER_LIMIT_MAX}.",
    )
    hold_minutes = models.PositiveSmallIntegerField(
        default=30,
        validators=[
            MinValueValidator(HOLD_MINUTES_MIN, HOLD_MINUTES_MESSAGE),
            MaxValueValidator(HOLD_MINUTES_MAX, HOLD_MINUTES_MESSAGE),
        ],
        help_text="How long unpaid reservations hold their seats. Stripe needs 30 to 1440 (24 hours).",
    )
    sales_open_at = models.DateTimeField()
    sales_close_at = models.DateTimeField()

    objects = EventQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="event_ends_after_start"),
            models.CheckConstraint(
                condition=Q(sales_close_at__gt=F("sales_open_at")), name="event_sales_close_after_open"
            ),
            models.CheckConstraint(
                condition=Q(per_order_limit__gte=1, per_order_limit__lte=PER_ORDER_LIMIT_MAX),
                name="event_per_order_limit_1_to_100",
                violation_error_message=PER_ORDER_LIMIT_MESSAGE,
            ),
            models.CheckConstraint(
                condition=Q(hold_minutes__gte=HOLD_MINUTES_MIN, hold_minutes__lte=HOLD_MINUTES_MAX),
                name="event_hold_30_to_1440_minutes",
                violation_error_message=HOLD_MINUTES_MESSAGE,
            ),
            models.CheckConstraint(
                condition=Q(ticket_price_pence=0)
                | Q(ticket_price_pence__gte=STRIPE_MIN_CHARGE_PENCE, ticket_price_pence__lte=TICKET_PRICE_MAX_PENCE),
                name="event_ticket_price_free_or_chargeable",
                violation_error_message=TICKET_PRICE_MESSAGE,
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=1), name="event_capacity_at_least_1", violation_error_message=CAPACITY_MESSAGE
            ),
            models.CheckConstraint(
                condition=Q(venue_latitude__isnull=True, venue_longitude__isnull=True)
                | Q(venue_latitude__isnull=False, venue_longitude__isnull=False),
                name="event_venue_location_both_or_neither",
                violation_error_message=VENUE_LOCATION_MESSAGE,
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Raises ValidationError if the event ends before it starts, sales close before they open, or the venue's
        location is half given."""
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The event must end after it starts."})
        if self.sales_open_at and self.sales_close_at and self.sales_close_at <= self.sales_open_at:
            raise ValidationError({"sales_close_at": "Sales must close after they open."})
        if (self.venue_latitude is None) != (self.venue_longitude is None):
            missing = "venue_longitude" if self.venue_longitude is None else "venue_latitude"
            raise ValidationError({missing: VENUE_LOCATION_MESSAGE})

    @property
    def map_url(self) -> str:
        """A link to the venue on OpenStreetMap, with a marker on it; "" if its location isn't set.

        A plain link: the site embeds no map, so no third-party script or tracking reaches the page.
        """
        if self.venue_latitude is None or self.venue_longitude is None:
            return ""
        lat, lon = self.venue_latitude, self.venue_longitude
        return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map={OPENSTREETMAP_ZOOM}/{lat}/{lon}"

    @cached_property
    def public_info_pages(self) -> list["InfoPage"]:
        """The event's published information pages, in their order: one query, once per Event instance.

        Every public page's footer lists them, and the home page too: both read this, from the one `event` object.
        """
        return list(self.info_pages.published().defer("body"))  # the footer needs no page's text

    @property
    def info_page_by_kind(self) -> dict[str, "InfoPage"]:
        """public_info_pages by kind ("terms", "privacy", ...), for a template that links to one of them."""
        return {page.kind: page for page in self.public_info_pages}

    @property
    def days(self) -> list:
        """The event's dates (datetime.date) in London, first to last."""
        first, last = timezone.localdate(self.starts_at), timezone.localdate(self.ends_at)
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]


class Room(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80)
    capacity = models.PositiveIntegerField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0, help_text="Rooms are shown left to right by this.")

    class Meta:
        ordering = ["position", "name"]
        constraints = [models.UniqueConstraint(fields=["event", "slug"], name="room_unique_slug_per_event")]

    def __str__(self) -> str:
        return self.name


class Track(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="tracks")
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["event", "slug"], name="track_unique_slug_per_event")]

    def __str__(self) -> str:
        return self.name


class SessionQuerySet(models.QuerySet["Session"]):
    def published(self) -> "SessionQuerySet":
        """Sessions the public may see."""
        return self.filter(is_published=True)

    def for_programme(self) -> "SessionQuerySet":
        """Published sessions in timetable order, with rooms, tracks and speakers in a constant number of queries."""
        return (
            self.published()
            .select_related("room", "track")
            .prefetch_related(
                models.Prefetch(
                    "speaker_roles",
                    queryset=SessionSpeaker.objects.select_related("speaker__organisation").order_by("position"),
                )
            )
            .order_by("starts_at", "room__position", "title")
        )

    def overlapping(self, starts_at: datetime, ends_at: datetime) -> "SessionQuerySet":
        """Sessions that share any moment with [starts_at, ends_at) (timezone-aware)."""
        return self.filter(starts_at__lt=ends_at, ends_at__gt=starts_at)


class Session(redirects.RedirectsOldURLs, models.Model):
    class Kind(models.TextChoices):
        KEYNOTE = "keynote", "Keynote"
        TALK = "talk", "Talk"
        PANEL = "panel", "Panel"
        WORKSHOP = "workshop", "Workshop"
        BREAK = "break", "Break"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="sessions")
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TALK)
    abstract = models.TextField(blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="sessions")
    track = models.ForeignKey(Track, on_delete=models.SET_NULL, null=True, blank=True, related_name="sessions")
    speakers = models.ManyToManyField(Speaker, through="SessionSpeaker", related_name="sessions")
    place_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="For workshops with limited places; leave empty for no limit."
    )
    is_published = models.BooleanField("published", default=False)

    objects = SessionQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "room__position"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="session_ends_after_start"),
            models.CheckConstraint(
                condition=Q(place_limit__isnull=True) | Q(place_limit__gte=1), name="session_place_limit_positive"
            ),
        ]
        indexes = [models.Index(fields=["event", "starts_at"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        """The session's public page."""
        return reverse("events:session-detail", args=[self.slug])

    @staticmethod
    def public_paths(slug: str) -> list[str]:
        """Every URL with the slug in it (RedirectsOldURLs): the page, and the calendar file in people's calendars."""
        return [reverse("events:session-detail", args=[slug]), reverse("events:session-ics", args=[slug])]

    def clean(self) -> None:
        """Refuse an impossible slot: backwards, outside the event, or a room used twice."""
        if not (self.starts_at and self.ends_at):
            return
        if self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "A session must end after it starts."})
        if self.event_id:
            scheduling.check_within_event(self)
            if self.room_id:
                scheduling.check_room_free(self)

    @property
    def duration_minutes(self) -> int:
        """Length in whole minutes."""
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def ordered_speakers(self) -> list:
        """Speakers in their chosen order; uses the prefetch from for_programme() when present."""
        return [role.speaker for role in self.speaker_roles.all()]


class SessionSpeaker(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="speaker_roles")
    speaker = models.ForeignKey(Speaker, on_delete=models.CASCADE, related_name="session_roles")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        verbose_name = "speaker"
        constraints = [models.UniqueConstraint(fields=["session", "speaker"], name="session_speaker_once_per_session")]

    def __str__(self) -> str:
        return f"{self.speaker} at {self.session}"


def programme_speakers() -> "models.QuerySet[Speaker]":
    """Speakers who lead at least one published session: the programme's speakers, each once."""
    return Speaker.objects.filter(session_roles__session__is_published=True).distinct()


class InfoPageQuerySet(models.QuerySet["InfoPage"]):
    def published(self) -> "InfoPageQuerySet":
        """Pages the public may see."""
        return self.filter(is_published=True)


class InfoPage(models.Model):
    """One page of what attendees need to know besides the programme (getting there, access, terms...).

    Organisers write it in admin, in Markdown (events.markdown renders and sanitises it). Each event has at most
    one page of each kind, and the kind is its address: /info/<kind>/.
    """

    class Kind(models.TextChoices):
        VENUE = "venue", "Venue and getting there"
        ACCESSIBILITY = "accessibility", "Accessibility"
        FAQ = "faq", "Questions and answers"
        CODE_OF_CONDUCT = "code-of-conduct", "Code of conduct"
        PRIVACY = "privacy", "Privacy notice"
        TERMS = "terms", "Tickets, refunds and cancellation"
        CONTACT = "contact", "Contact"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="info_pages")
    kind = models.CharField(
        max_length=20,
        choices=Kind.choices,
        help_text="Which page this is. It gives the page its address (/info/venue/, /info/terms/ ...); the ticket "
        "form links to the terms and the privacy notice, and the venue page shows the event's address and map link.",
    )
    title = models.CharField(max_length=120, help_text="The page's heading, and its link in the footer.")
    summary = models.CharField(
        max_length=200,
        blank=True,
        help_text="One sentence under the link on the home page, and in previews of the page shared online.",
    )
    body = models.TextField(
        help_text="Markdown: ## Heading, **bold**, *italic*, - lists, 1. numbered lists, [words](https://link), "
        "and [TOC] on a line of its own for a list of the headings. HTML is shown as typed, not run."
    )
    position = models.PositiveSmallIntegerField(default=0, help_text="Pages are listed by this, smallest first.")
    is_published = models.BooleanField("published", default=True, help_text="Untick to keep a draft off the site.")
    updated_at = models.DateTimeField(auto_now=True)

    objects = InfoPageQuerySet.as_manager()

    class Meta:
        ordering = ["position", "kind"]
        verbose_name = "information page"
        constraints = [models.UniqueConstraint(fields=["event", "kind"], name="info_page_one_of_each_kind_per_event")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        """The page's public address (the pages shown are the current event's)."""
        return reverse("events:info-page", args=[self.kind])

    @property
    def body_html(self) -> SafeString:
        """`body` as sanitised HTML (events.markdown.render)."""
        return markdown.render(self.body)
