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
from tickets.models import Order, OrderStatus, Ticket, held_seats_q

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

    @property
    def left(self) -> int:
        return max(self.capacity - self.sold - self.held, 0)


def sales_summary(*, now: datetime | None = None) -> list[SalesSummary]:
    """One summary per event, in one query whatever the number of orders and tickets.

    Sold and revenue count paid orders; held counts pending orders that hold seats (as
    seats_taken does); checked in counts tickets of paid orders.
    """
    now = now or timezone.now()
    paid = Q(orders__status=OrderStatus.PAID)
    refunded = Q(orders__status=OrderStatus.REFUNDED)
    live_hold = held_seats_q(now, prefix="orders__")
    checked_in = (
        Ticket.objects.filter(order__event=OuterRef("pk"), order__status=OrderStatus.PAID, checked_in_at__isnull=False)
        .order_by()
        .values("order__event")
        .annotate(n=Count("pk"))
        .values("n")
    )

    def total(field: str, condition: Q) -> Coalesce:
        return Coalesce(Sum(field, filter=condition), Value(0), output_field=IntegerField())

    events = Event.objects.order_by("starts_at", "pk").annotate(
        sold=total("orders__quantity", paid),
        held=total("orders__quantity", live_hold),
        revenue_pence=total("orders__total_pence", paid),
        refunded=total("orders__quantity", refunded),
        refunded_pence=total("orders__total_pence", refunded),
        checked_in=Coalesce(Subquery(checked_in, output_field=IntegerField()), Value(0)),
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
        )
        for event in events
    ]


def paid_tickets(orders: Iterable[Order] | None = None):
    """Tickets of paid orders (of these orders, if given), by attendee name: the door list."""
    tickets = Ticket.objects.filter(order__status=OrderStatus.PAID)
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
