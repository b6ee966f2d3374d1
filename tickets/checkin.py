"""Checking tickets in at the door: each ticket once, and a second scan says when the first one was."""

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from events.models import Event
from tickets.models import OrderStatus, Ticket

FULL_REFERENCE_LENGTH = 26  # what the QR code encodes
SHORT_REFERENCE_LENGTH = 8  # "ABCD-EFGH", printed under it: the first eight characters
_IGNORED = re.compile(r"[\s-]+")


class Outcome(StrEnum):
    CHECKED_IN = "checked_in"
    ALREADY_CHECKED_IN = "already_checked_in"
    NOT_VALID = "not_valid"
    OTHER_EVENT = "other_event"  # a ticket for another event (last year's, say): never checked in here
    AMBIGUOUS = "ambiguous"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class CheckIn:
    """What happened to one scan. `ticket` is set unless nothing (or more than one ticket) matched."""

    outcome: Outcome
    reference: str
    ticket: Ticket | None = None

    @property
    def checked_in_at(self) -> datetime | None:
        return self.ticket.checked_in_at if self.ticket else None

    @property
    def event(self) -> Event | None:
        """The event the ticket is for (for OTHER_EVENT, not the door's)."""
        return self.ticket.order.event if self.ticket else None

    @property
    def order_status(self) -> str:
        """The order's status, as the door is told why a ticket is not valid; a refunded ticket says so."""
        if self.ticket and self.ticket.is_void and self.ticket.order.is_paid:
            return "paid, but this ticket was refunded"
        return self.ticket.order.status if self.ticket else ""


@dataclass(frozen=True)
class DoorCount:
    """How many of an event's valid tickets (of paid orders, not refunded) have been checked in."""

    checked_in: int
    sold: int

    def as_dict(self) -> dict[str, int | str]:
        return {"checked_in": self.checked_in, "sold": self.sold, "text": str(self)}

    def __str__(self) -> str:
        return f"Checked in {self.checked_in} of {self.sold} sold"


def door_count(*, event: Event) -> DoorCount:
    """The door's count for `event`: its valid tickets of paid orders (the ones that check in), and how many of
    them have. The same rule as the sales summary's "checked in" (tickets.reports). One query; locks nothing."""
    tickets = Ticket.objects.valid().filter(order__event=event, order__status=OrderStatus.PAID)
    counts = tickets.aggregate(sold=Count("pk"), checked_in=Count("pk", filter=Q(checked_in_at__isnull=False)))
    return DoorCount(checked_in=counts["checked_in"], sold=counts["sold"])


def normalise_reference(raw: str) -> str:
    """ " abcd-efgh " -> "ABCDEFGH": door staff type in any case, scanners may add spaces or a newline."""
    return _IGNORED.sub("", raw).upper()


def check_in_ticket(*, reference: str, event: Event) -> CheckIn:
    """Check in the ticket with this full or short reference, if its order is paid, it isn't refunded (void),
    and it isn't in yet. `event` is the door's: a ticket for any other event is OTHER_EVENT and never checked in.

    In one transaction: lock the ticket and its order (the lock a refund takes too), then one
    conditional UPDATE ... WHERE checked_in_at IS NULL. Two scans of one ticket at two doors check it
    in once, and the later one is told when; a refund can't slip in between the check and the write.
    """
    key = normalise_reference(reference)
    if len(key) not in (FULL_REFERENCE_LENGTH, SHORT_REFERENCE_LENGTH):
        return CheckIn(Outcome.NOT_FOUND, key)
    if len(key) == FULL_REFERENCE_LENGTH:
        matches = Ticket.objects.filter(reference=key)
    else:
        matches = Ticket.objects.filter(reference__startswith=key)
    with transaction.atomic():
        found = list(matches.select_related("order__event").select_for_update(of=("self", "order"))[:2])
        if not found:
            return CheckIn(Outcome.NOT_FOUND, key)
        if len(found) > 1:  # 40 bits make this very unlikely; the QR code's full reference never is
            return CheckIn(Outcome.AMBIGUOUS, key)
        [ticket] = found
        if ticket.order.event_id != event.pk:
            return CheckIn(Outcome.OTHER_EVENT, key, ticket)
        if not ticket.order.is_paid or ticket.is_void:  # a refunded ticket is void, though the order stays paid
            return CheckIn(Outcome.NOT_VALID, key, ticket)
        now = timezone.now()
        if Ticket.objects.filter(pk=ticket.pk, checked_in_at__isnull=True).update(checked_in_at=now):
            ticket.checked_in_at = now
            return CheckIn(Outcome.CHECKED_IN, key, ticket)
        ticket.refresh_from_db(fields=["checked_in_at"])
    return CheckIn(Outcome.ALREADY_CHECKED_IN, key, ticket)
