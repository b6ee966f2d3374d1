from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import factory
from django.utils import timezone

from events.models import Event, Room, Session, SessionSpeaker, Track
from speakers.models import Organisation, Speaker
from tickets import services
from tickets.models import Order, OrderStatus, Refund, RefundSource, RefundStatus, Ticket

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


def build_programme(sessions: int, event=None):
    """Add `sessions` published sessions over 5 rooms, each with two speakers, to a (new) event."""
    event = event or EventFactory(ends_at=EventFactory.starts_at + timedelta(days=3))
    rooms = list(event.rooms.all()) or [RoomFactory(event=event) for _ in range(5)]
    tracks = list(event.tracks.all()) or [TrackFactory(event=event) for _ in range(3)]
    organisations = [OrganisationFactory() for _ in range(4)]
    already = event.sessions.count()
    for n in range(already, already + sessions):
        start = event.starts_at + timedelta(minutes=30 * (n // 5))
        speakers = [SpeakerFactory(organisation=organisations[n % 4], is_featured=n < 6) for _ in range(2)]
        SessionFactory(
            event=event,
            room=rooms[n % 5],
            track=tracks[n % 3],
            kind=[Session.Kind.TALK, Session.Kind.WORKSHOP, Session.Kind.PANEL][n % 3],
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
            with_speakers=speakers,
        )
    return event


class OrderFactory(factory.django.DjangoModelFactory):
    """An order of an EventFactory event as the services leave it: by default pending, its hold live (as long
    as services.hold_ends_at makes it, so that its Checkout Session can be opened at Stripe).

    Traits: `paid` (paid_at, a Stripe payment intent and one ticket per seat), `hold_expired` (pending,
    its hold over but not released yet: it holds no seats), `expired` and `cancelled` (released),
    `refunded` (paid, then refunded in full: its tickets stay, dead at the door). `tickets=False` leaves
    a paid order without tickets, `tickets=True` gives any order its tickets. The total is always the unit
    price times the quantity, as the database requires. The payment intent is made up: a test that needs
    Stripe (the double) to know the payment uses `tests.tickets.helpers.paid_order` or `pay_at_stripe`.
    """

    class Meta:
        model = Order
        skip_postgeneration_save = True

    class Params:
        paid = factory.Trait(
            status=OrderStatus.PAID,
            paid_at=factory.LazyFunction(timezone.now),
            stripe_payment_intent_id=factory.Sequence(lambda n: f"pi_test_factory_{n}"),
        )
        hold_expired = factory.Trait(
            hold_expires_at=factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=1)),
        )
        expired = factory.Trait(
            hold_expired=True, status=OrderStatus.EXPIRED, released_at=factory.LazyFunction(timezone.now)
        )
        cancelled = factory.Trait(status=OrderStatus.CANCELLED, released_at=factory.LazyFunction(timezone.now))
        refunded = factory.Trait(
            paid=True,
            status=OrderStatus.REFUNDED,
            refunded_at=factory.LazyFunction(timezone.now),
            stripe_refund_id=factory.Sequence(lambda n: f"re_test_factory_{n}"),
        )

    event = factory.SubFactory(EventFactory)
    buyer_name = "Ada Activist"
    buyer_email = "ada@example.com"
    quantity = 1
    unit_price_pence = factory.SelfAttribute("event.ticket_price_pence")
    total_pence = factory.LazyAttribute(lambda order: order.unit_price_pence * order.quantity)
    status = OrderStatus.PENDING
    hold_expires_at = factory.LazyAttribute(lambda order: services.hold_ends_at(order.event, now=timezone.now()))

    @factory.post_generation
    def tickets(self, create, extracted, **kwargs):
        """One ticket per seat, named as fulfil_checkout names them; by default only for paid and refunded orders."""
        wanted = self.status in (OrderStatus.PAID, OrderStatus.REFUNDED) if extracted is None else extracted
        if create and wanted:
            for name in self.names_for_tickets():
                TicketFactory(order=self, attendee_name=name)

    @factory.post_generation
    def refund(self, create, extracted, **kwargs):
        """A refunded order's refund: the whole total, covering all its tickets (then void)."""
        if create and self.status == OrderStatus.REFUNDED and extracted is not False:
            RefundFactory(
                order=self,
                amount_pence=self.total_pence,
                stripe_refund_id=self.stripe_refund_id,
                tickets=list(self.tickets.all()),
            )


class TicketFactory(factory.django.DjangoModelFactory):
    """A ticket, by default the one ticket of a new paid order."""

    class Meta:
        model = Ticket

    order = factory.SubFactory(OrderFactory, paid=True, tickets=False)
    attendee_name = factory.LazyAttribute(lambda ticket: ticket.order.buyer_name)


class RefundFactory(factory.django.DjangoModelFactory):
    """A refund Stripe made for an organiser: by default one ticket's price of a new paid order, covering the
    `tickets` given (made void); without them it covers none, as a partial refund in Stripe's dashboard does."""

    class Meta:
        model = Refund
        skip_postgeneration_save = True

    order = factory.SubFactory(OrderFactory, paid=True)
    amount_pence = factory.LazyAttribute(lambda refund: refund.order.unit_price_pence)
    status = RefundStatus.SUCCEEDED
    source = RefundSource.ORGANISER
    stripe_refund_id = factory.Sequence(lambda n: f"re_test_refund_{n}")

    @factory.post_generation
    def tickets(self, create, extracted, **kwargs):
        if create and extracted:
            Ticket.objects.filter(pk__in=[t.pk for t in extracted]).update(refund=self, refunded_at=self.created_at)
