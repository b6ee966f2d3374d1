"""Checking a ticket in (tickets.checkin): the rule behind the door's page."""

from datetime import timedelta

import pytest

from tests.factories import DAY_START, EventFactory
from tests.tickets.helpers import make_order
from tickets.checkin import Outcome, check_in_ticket
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_a_short_reference_shared_by_two_tickets_checks_in_neither():
    event = EventFactory()
    order = make_order(event, "One", "Two")
    one, two = order.tickets.order_by("pk")
    Ticket.objects.filter(pk=one.pk).update(reference="ABCDEFGH" + "2" * 18)
    Ticket.objects.filter(pk=two.pk).update(reference="ABCDEFGH" + "3" * 18)
    assert check_in_ticket(reference="abcd-efgh", event=event).outcome == Outcome.AMBIGUOUS
    full = "ABCDEFGH" + "3" * 18  # the QR code's full reference still works
    assert check_in_ticket(reference=full, event=event).outcome == Outcome.CHECKED_IN
    assert Ticket.objects.get(pk=one.pk).checked_in_at is None


def last_years_event():
    starts = DAY_START - timedelta(days=364)
    return EventFactory(name="Netroots UK 2027", starts_at=starts, ends_at=starts + timedelta(hours=9))


def test_a_paid_ticket_for_another_event_is_refused_names_its_event_and_stays_unused():
    this_year, last_year = EventFactory(name="Netroots UK 2028"), last_years_event()
    ticket = make_order(last_year, "Grace Hopper").tickets.get()
    result = check_in_ticket(reference=ticket.reference, event=this_year)
    assert result.outcome == Outcome.OTHER_EVENT
    assert result.event == last_year
    assert result.ticket.attendee_name == "Grace Hopper"
    ticket.refresh_from_db()
    assert ticket.checked_in_at is None
    # the refusal is about the event, not the ticket: at its own door it checks in
    assert check_in_ticket(reference=ticket.reference, event=last_year).outcome == Outcome.CHECKED_IN


def test_another_events_ticket_is_refused_by_its_short_code_too_even_if_already_used_there():
    this_year, last_year = EventFactory(), last_years_event()
    ticket = make_order(last_year, "Grace Hopper").tickets.get()
    assert check_in_ticket(reference=ticket.reference, event=last_year).outcome == Outcome.CHECKED_IN
    assert check_in_ticket(reference=ticket.short_reference, event=this_year).outcome == Outcome.OTHER_EVENT


def test_every_result_with_a_ticket_names_its_event_and_attendee():
    event = EventFactory()
    ticket = make_order(event, "Alan Turing").tickets.get()
    for expected in (Outcome.CHECKED_IN, Outcome.ALREADY_CHECKED_IN):
        result = check_in_ticket(reference=ticket.reference, event=event)
        assert (result.outcome, result.event, result.ticket.attendee_name) == (expected, event, "Alan Turing")
