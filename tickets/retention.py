"""Keeping attendees' details no longer than the privacy notice says.

Names on tickets (Ticket.attendee_name, Order.attendee_names) and check-in times are kept until
settings.ATTENDEE_DETAILS_KEPT_DAYS after the event ends, then forgotten: the names are deleted, and each check-in
time becomes the event's start, so how many came is still known but not who or when. Bookings and payment records
(the buyer's name and email, amounts, Stripe's ids) are kept for the accounts, as the notice says.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from events.models import Event
from tickets.models import Order, Ticket


def forget_attendee_details(*, now: datetime | None = None) -> int:
    """Forget the attendee names and check-in times of every event that ended ATTENDEE_DETAILS_KEPT_DAYS (settings)
    or more before `now` (default: now; timezone-aware).

    For each such event, in one transaction: its tickets' names become "", their check-in times the event's start
    (checked in or not stays as it was), its orders' attendee_names []. Safe to run again: what is already forgotten
    is left as it is. Returns how many tickets had details to forget. Locks nothing beyond the rows it updates.
    """
    ended_before = (now or timezone.now()) - timedelta(days=settings.ATTENDEE_DETAILS_KEPT_DAYS)
    forgotten = 0
    for event in Event.objects.filter(ends_at__lte=ended_before):
        tickets = Ticket.objects.filter(order__event=event)
        checked_in = Q(checked_in_at__isnull=False)
        with transaction.atomic():
            forgotten += tickets.filter(~Q(attendee_name="") | checked_in & ~Q(checked_in_at=event.starts_at)).count()
            tickets.update(attendee_name="")
            tickets.filter(checked_in).update(checked_in_at=event.starts_at)
            Order.objects.filter(event=event).update(attendee_names=[])
    return forgotten


@task()
def forget_attendee_details_task() -> int:
    """Periodic (manage.py run_scheduler, daily): forget_attendee_details. Returns how many tickets it changed."""
    return forget_attendee_details()
