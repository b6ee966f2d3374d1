"""Read-only figures and lists for organisers: the sales summary and the attendee export."""

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from events.models import Event
from tickets.models import Email, Order, OrderStatus, Refund, Ticket, held_seats_q

LONDON = ZoneInfo("Europe/London")
CSV_HEADER = [
    "Ticket",
    "Attendee",
    "Buyer name",
    "Buyer email",
    "Order",
    "Paid at (London)",
    "Checked in at (London)",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets may run as a formula (OWASP's list)


@dataclass(frozen=True)
class SalesSummary:
    event: Event
    capacity: int
    sold: int
    held: int
    revenue_pence: int
    refunded: int
    refunded_pence: int
    checked_in: int
    failed_emails: int = 0

    @property
    def left(self) -> int:
        return max(self.capacity - self.sold - self.held, 0)


def sales_summary(*, now: datetime | None = None) -> list[SalesSummary]:
    """One summary per event, in one query whatever the number of orders and tickets.

    Sold counts seats of paid orders less those refunds returned to sale (TicketQuerySet.returned_seats, as
    seats_taken does); held counts pending orders that hold seats (held_seats_q); revenue is pence paid for
    paid orders less their refunds (RefundQuerySet.money_back), so net of partial refunds too. Refunded counts
    seats and pence given back: refunded orders in full, and partial refunds of paid ones. Checked in counts
    valid tickets of paid orders. Failed emails counts emails still owed (EmailQuerySet.owed) and not sent that a
    send has already failed (tried, or an error kept): the ones an organiser may need to resend or chase.
    """
    now = now or timezone.now()

    def per_event(queryset, value: Count | Sum, *, event: str = "event") -> Coalesce:
        """`value` over `queryset`'s rows of the outer event, as a correlated subquery. Every figure is one, with
        no join to group: a subquery beside a GROUP BY would be grouped on, and run once per order (quadratic)."""
        rows = queryset.filter(**{event: OuterRef("pk")}).order_by().values(event).annotate(n=value).values("n")
        return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))

    paid = Order.objects.filter(status=OrderStatus.PAID)
    refunded = Order.objects.filter(status=OrderStatus.REFUNDED)
    returned_seats = per_event(Ticket.objects.returned_seats(), Count("pk"), event="order__event")
    partly_refunded_pence = per_event(
        Refund.objects.money_back().filter(order__status=OrderStatus.PAID), Sum("amount_pence"), event="order__event"
    )
    events = Event.objects.order_by("starts_at", "pk").annotate(
        sold=per_event(paid, Sum("quantity")) - returned_seats,
        held=per_event(Order.objects.filter(held_seats_q(now)), Sum("quantity")),
        revenue_pence=per_event(paid, Sum("total_pence")) - partly_refunded_pence,
        refunded=per_event(refunded, Sum("quantity")) + returned_seats,
        refunded_pence=per_event(refunded, Sum("total_pence")) + partly_refunded_pence,
        checked_in=per_event(
            Ticket.objects.valid().filter(order__status=OrderStatus.PAID, checked_in_at__isnull=False),
            Count("pk"),
            event="order__event",
        ),
        failed_emails=per_event(failed_emails(), Count("pk"), event="order__event"),
    )
    return [
        SalesSummary(
            event=event,
            capacity=event.capacity,
            sold=event.sold,
            held=event.held,
            revenue_pence=event.revenue_pence,
            refunded=event.refunded,
            refunded_pence=event.refunded_pence,
            checked_in=event.checked_in,
            failed_emails=event.failed_emails,
        )
        for event in events
    ]


def failed_emails():
    """Emails still owed and not sent whose sending has failed: an error kept, or tried and not being sent right now
    (a send claims the row and counts the attempt before it talks to the mail server)."""
    tried = Q(attempts__gt=0, claimed_at__isnull=True) | ~Q(last_error="")
    return Email.objects.owed().filter(tried, sent_at__isnull=True)


def paid_tickets(orders: Iterable[Order] | None = None):
    """Valid tickets of paid orders (of these orders, if given), by attendee name: the door list."""
    tickets = Ticket.objects.valid().filter(order__status=OrderStatus.PAID)
    if orders is not None:
        tickets = tickets.filter(order__in=orders)
    return tickets.select_related("order").order_by(Lower("attendee_name"), "pk")


def safe_cell(value: str) -> str:
    """Text a spreadsheet shows as text: a leading ' stops "=HYPERLINK(...)" in a buyer's name running."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _london(moment: datetime | None) -> str:
    return moment.astimezone(LONDON).strftime("%Y-%m-%d %H:%M") if moment else ""


def write_attendees_csv(out, tickets: Iterable[Ticket]) -> None:
    """Write one row per ticket to a text stream. Every free-text cell goes through safe_cell."""
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for ticket in tickets:
        order = ticket.order
        writer.writerow(
            [
                ticket.short_reference,
                safe_cell(ticket.attendee_name),
                safe_cell(order.buyer_name),
                safe_cell(order.buyer_email),
                order.reference,
                _london(order.paid_at),
                _london(ticket.checked_in_at),
            ]
        )
