"""Attendee names and check-in times are forgotten when the privacy notice says: ATTENDEE_DETAILS_KEPT_DAYS after
the event ends, by the daily task; the counts and the booking and payment records stay."""

from datetime import timedelta

import pytest
from django.utils import timezone

from events.models import Event
from tests.factories import EventFactory, OrderFactory
from tests.task_backend import run_due_tasks
from tickets import retention
from tickets.management.commands.run_scheduler import PERIODIC
from tickets.models import Order, Ticket

pytestmark = pytest.mark.django_db

KEPT_DAYS = 92


@pytest.fixture
def event():
    event = EventFactory()
    order = OrderFactory(event=event, paid=True, quantity=3, buyer_name="Ada Activist", attendee_names=["Bo", "Cy"])
    first, second, _ = order.tickets.all()
    Ticket.objects.filter(pk=first.pk).update(checked_in_at=event.starts_at + timedelta(hours=2, minutes=7))
    Ticket.objects.filter(pk=second.pk).update(checked_in_at=event.starts_at + timedelta(minutes=40))
    return event


def test_names_and_check_in_times_are_kept_until_the_day_the_notice_gives(settings, event):
    settings.ATTENDEE_DETAILS_KEPT_DAYS = KEPT_DAYS
    assert retention.forget_attendee_details(now=event.ends_at + timedelta(days=KEPT_DAYS - 1)) == 0
    assert sorted(Ticket.objects.values_list("attendee_name", flat=True)) == ["Ada Activist", "Bo", "Cy"]
    assert Order.objects.get().attendee_names == ["Bo", "Cy"]


def test_after_that_names_and_times_are_forgotten_and_only_the_counts_stay(settings, event):
    settings.ATTENDEE_DETAILS_KEPT_DAYS = KEPT_DAYS
    other_event = EventFactory(
        starts_at=event.starts_at + timedelta(days=400), ends_at=event.ends_at + timedelta(days=400)
    )
    later = OrderFactory(event=other_event, paid=True, attendee_names=["Di"])

    assert retention.forget_attendee_details(now=event.ends_at + timedelta(days=KEPT_DAYS)) == 3

    tickets = Ticket.objects.filter(order__event=event)
    assert set(tickets.values_list("attendee_name", flat=True)) == {""}
    assert list(tickets.order_by("pk").values_list("checked_in_at", flat=True)) == [
        event.starts_at,
        event.starts_at,
        None,
    ]  # two of three came; not when
    order = Order.objects.get(event=event)
    assert order.attendee_names == []
    assert (order.buyer_name, order.buyer_email, order.total_pence) == ("Ada Activist", "ada@example.com", 1500)
    later.refresh_from_db()
    assert later.attendee_names == ["Di"]  # an event still within its time
    assert later.tickets.get().attendee_name == "Di"

    assert retention.forget_attendee_details(now=event.ends_at + timedelta(days=KEPT_DAYS + 1)) == 0  # done once


def test_the_scheduler_runs_it_daily_as_a_task(settings, event):
    settings.ATTENDEE_DETAILS_KEPT_DAYS = KEPT_DAYS
    ended = timezone.now() - timedelta(days=KEPT_DAYS + 1)
    Event.objects.filter(pk=event.pk).update(starts_at=ended - timedelta(hours=9), ends_at=ended)
    assert (retention.forget_attendee_details_task, {"hour": "4", "minute": "37"}) in PERIODIC
    retention.forget_attendee_details_task.enqueue()
    run_due_tasks()
    assert set(Ticket.objects.values_list("attendee_name", flat=True)) == {""}
